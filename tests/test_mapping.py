"""Every way a mapping can be wrong gives a ConfigError naming the file, the line and the key."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from bounded import bounded

from importer.attachments import FolderSource
from importer.build import RequestBuilder
from importer.errors import ConfigError
from importer.mapping import MAX_NODES, Leaf, ListNode, ObjectNode, load_mapping
from importer.readers import SourceRow


def error_of(write_mapping, text: str) -> str:
    path = write_mapping(text)
    with pytest.raises(ConfigError) as error:
        load_mapping(path)
    message = str(error.value)
    assert message.startswith(str(path))
    return message.removeprefix(str(path))


def test_the_example_mapping_loads_and_names_its_columns():
    mapping = load_mapping(Path(__file__).resolve().parent.parent / "mappings" / "example.yaml")
    assert "E-Mail" in mapping.columns()
    assert mapping.input.sheet == "Candidates"


def test_a_typo_in_a_field_is_an_error_with_a_suggestion(write_mapping):
    message = error_of(
        write_mapping,
        """
        candidate:
          first_name: First
          last_name: Last
          emial: Email
        application:
          job_id: {value: J}
        """,
    )
    assert message.startswith(
        ", line 4, at candidate.emial: 'emial' is not a field of candidate. Did you mean"
        " 'email_address'?"
    )


def test_a_typo_at_the_top_and_deep_inside(write_mapping):
    assert "at candidat: 'candidat' is not a field of" in error_of(
        write_mapping, "candidat: {}\ncandidate: {}\napplication: {}\n"
    )
    message = error_of(
        write_mapping,
        """
        candidate:
          location: {country: Country, cty: City}
        application: {job_id: J}
        """,
    )
    assert "line 2, at candidate.location.cty" in message and "Did you mean 'city'?" in message


def test_missing_sections_version_and_non_mapping_documents(write_mapping):
    assert "has no `application:` section" in error_of(
        write_mapping, "candidate: {first_name: A}\n"
    )
    assert "version 2 is not supported" in error_of(
        write_mapping, "version: 2\ncandidate: {}\napplication: {}\n"
    )
    assert "a mapping is a YAML document" in error_of(write_mapping, "- just\n- a list\n")


def test_invalid_yaml_names_the_line(write_mapping):
    message = error_of(
        write_mapping, "candidate:\n  first_name: First\n   last_name: Last\napplication: {}\n"
    )
    assert message.startswith(", line 3: is not valid YAML")


def test_a_key_given_twice_is_an_error(write_mapping):
    message = error_of(
        write_mapping, "candidate:\n  first_name: A\n  first_name: B\napplication: {job_id: J}\n"
    )
    assert message == ", line 3, at candidate.first_name: 'first_name' is given twice; keep one."


def test_field_options_are_checked(write_mapping):
    message = error_of(
        write_mapping,
        "candidate:\n  first_name: {column: First, trasnform: [strip]}\napplication: {job_id: J}\n",
    )
    assert "'trasnform' is not an option of a field. Did you mean 'transform'?" in message
    message = error_of(
        write_mapping,
        "candidate:\n  first_name: {column: First, value: Anna}\napplication: {job_id: J}\n",
    )
    assert "give exactly one of column, value or template (found column, value)" in message
    message = error_of(
        write_mapping, "candidate:\n  first_name: {colum: First}\napplication: {job_id: J}\n"
    )
    assert "line 2, at candidate.first_name" in message and "Did you mean 'column'?" in message


def test_transforms_and_their_options_are_checked(write_mapping):
    base = (
        "candidate:\n  email_address: {{column: Email, transform: [{t}]}}\n"
        "application: {{job_id: J}}\n"
    )
    assert "'lowercase' is not a transform. Did you mean 'lower'?" in error_of(
        write_mapping, base.format(t="lowercase")
    )
    assert "'format' is not an option of 'date'. Did you mean 'formats'?" in error_of(
        write_mapping, base.format(t="{date: {format: '%d'}}")
    )
    assert "the options of 'regex' are not usable" in error_of(
        write_mapping, base.format(t="{regex: {pattern: '(['}}")
    )
    assert "unknown phone region 'XX'" in error_of(
        write_mapping, base.format(t="{phone: {region: XX}}")
    )
    assert "decimal must be '.' or ','" in error_of(
        write_mapping, base.format(t="{number: {decimal: x}}")
    )


def test_groups_and_lists_are_checked(write_mapping):
    message = error_of(write_mapping, "candidate:\n  location: City\napplication: {job_id: J}\n")
    assert (
        "expected the fields of candidate.location (country, city, state, street_1, zip_code)"
        in message
    )
    message = error_of(
        write_mapping,
        "candidate:\n  salary_expectations: {column: Salary}\napplication: {job_id: J}\n",
    )
    assert "is a group of fields (period, amount)" in message
    message = error_of(
        write_mapping,
        "candidate: {}\napplication: {job_id: J}\nattachments:\n  - {column: CV, kind: CV}\n",
    )
    assert "line 4, at attachments[0].kind: 'kind' is not an option of an attachment" in message
    message = error_of(
        write_mapping,
        "candidate: {}\napplication: {job_id: J}\nattachments:\n  - {column: CV, type: RESUME}\n",
    )
    assert "at attachments[0].type" in message and "'CV', 'COVER_LETTER' or 'OTHER'" in message
    message = error_of(
        write_mapping,
        "candidate: {}\napplication: {job_id: J}\nscreening_question_answers: [Skills]\n",
    )
    assert "expected question ids with the column of each answer" in message


def test_input_options_are_checked(write_mapping):
    message = error_of(
        write_mapping, "input: {sheeet: Candidates}\ncandidate: {}\napplication: {job_id: J}\n"
    )
    assert "at input.sheeet" in message and "Did you mean 'sheet'?" in message


def test_remote_fields_the_sdk_would_drop_are_kept_and_unknown_ats_are_errors(write_mapping):
    mapping = load_mapping(
        write_mapping("""
        candidate: {first_name: F, last_name: L, email_address: E}
        application: {job_id: J}
        remote_fields:
          greenhouse:
            candidate: {custom_fields: [{id: {value: 123}, value: {column: Shoe size}}]}
          workday:
            Candidate_Data: {Name_Detail_Data: {Middle_Name: Middle}}
        """)
    )
    greenhouse = mapping.remote_fields.children["greenhouse"]
    assert isinstance(greenhouse.children["candidate"], ObjectNode)
    assert "Shoe size" in mapping.columns() and "Middle" in mapping.columns()
    message = error_of(
        write_mapping, "candidate: {}\napplication: {job_id: J}\nremote_fields:\n  greenhose: {}\n"
    )
    assert "'greenhose' is not a field of remote_fields. Did you mean 'greenhouse'?" in message


def test_shorthand_list_items_and_constants(write_mapping):
    mapping = load_mapping(
        write_mapping("""
        candidate:
          first_name: F
          last_name: L
          email_address: E
          social_links: [LinkedIn, {column: Links, split: ";"}]
          additional_email_addresses:
            - {type: {value: WORK}, email_address: Work email}
        application: {job_id: {value: J}}
        sourced_by: {user_id: {value: "remote:42"}}
        gdpr_consent: {given: true}
        """)
    )
    links = mapping.body.children["candidate"].children["social_links"]
    assert isinstance(links, ListNode) and [type(i) for i in links.items] == [
        ObjectNode,
        ObjectNode,
    ]
    given = mapping.body.children["gdpr_consent"].children["given"]
    assert isinstance(given, Leaf) and given.spec.value is True
    assert mapping.columns() == ["F", "L", "E", "LinkedIn", "Links", "Work email"]


def test_no_and_yes_are_text_not_booleans(write_mapping):
    mapping = load_mapping(
        write_mapping("""
        candidate:
          first_name: F
          last_name: L
          email_address: E
          location: {country: {value: NO}}
          gender: {column: G, map: {yes: MALE, no: FEMALE}}
        application: {job_id: J}
        """)
    )
    assert (
        mapping.body.children["candidate"].children["location"].children["country"].spec.value
        == "NO"
    )
    assert set(mapping.body.children["candidate"].children["gender"].value_map) == {"yes", "no"}


def test_missing_mapping_file(tmp_path):
    with pytest.raises(ConfigError, match="mapping file not found"):
        load_mapping(tmp_path / "nope.yaml")


def test_a_constant_that_kombo_would_refuse_is_a_config_error(write_mapping, write_csv):
    from importer.runs import DryRunOptions, dry_run

    mapping = write_mapping(
        "candidate:\n  first_name: F\n  gender: {value: man}\n  last_name: L\n  email_address: E\n"
        "application: {job_id: {value: J}}\n"
    )
    with pytest.raises(ConfigError) as error:
        dry_run(
            DryRunOptions(write_csv([["F", "L", "E"], ["Anna", "Wolf", "a@example.com"]]), mapping)
        )
    assert (
        str(error.value)
        == f"{mapping}, line 3, at candidate.gender: the constant 'man' is not one of MALE, FEMALE,"
        " OTHER; map the file's values with `map:`."
    )


# --- hostile mappings: a clear config error, never a hang, a memory blow-up or a traceback ------


def refusal(path: Path) -> str:
    """The ConfigError that loading `path` ends in, within the guard's time, without its path."""
    outcome = bounded(lambda: load_mapping(path))
    assert outcome.raised == "ConfigError", outcome
    assert outcome.message.startswith(f"{path}"), outcome.message
    return outcome.message.removeprefix(str(path))


def test_an_alias_bomb_is_refused_at_once(tmp_path):
    # "Billion laughs": 9 aliases of 9 aliases, nine times over; it ran for minutes at 3 GB.
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    message = refusal(path)
    assert message.startswith(", line 6: refused: with the alias *e expanded")
    assert f"more than {MAX_NODES:,} values" in message


def test_an_alias_inside_its_own_anchor_is_refused(write_mapping):
    # PyYAML builds a list that contains itself; walking it overflowed the stack.
    path = write_mapping(
        "candidate: {first_name: F, last_name: L, email_address: E}\n"
        "application: {job_id: J}\nremote_fields: &r {x: [*r]}\n"
    )
    assert refusal(path).startswith(", line 3: the alias *r is inside its own anchor &r")


@pytest.mark.parametrize("nested", ["[" * 5000 + "]" * 5000, "{a: " * 5000 + "1" + "}" * 5000])
def test_deep_nesting_is_refused_with_its_line(write_mapping, nested):
    path = write_mapping(
        "candidate: {first_name: F, last_name: L, email_address: E}\n"
        f"application: {{job_id: J}}\nremote_fields: {nested}\n"
    )
    assert refusal(path) == (
        ", line 3: nests more than 50 levels deep; a mapping needs about "
        "ten. Check for brackets that are never closed."
    )


def test_aliases_cannot_nest_past_the_limit(write_mapping):
    # Each anchor is 40 levels deep and holds the one before: 1,200 levels once expanded.
    text = "".join(
        f"a{i}: &a{i} " + "[" * 40 + (f"*a{i - 1}" if i else "x") + "]" * 40 + "\n"
        for i in range(30)
    )
    message = refusal(write_mapping(text))
    assert message.startswith(", line 2: the alias *a0 nests the mapping more than 50 levels")


def test_a_file_too_large_for_a_mapping_is_refused_before_parsing(write_mapping):
    path = write_mapping("remote_fields:\n  x:\n" + "    - a\n" * 800_000)  # 5.6 MB
    assert refusal(path) == (
        ": is over 5,000,000 characters long; a mapping is a few kilobytes "
        "of YAML. Check that this is the mapping file and not the input."
    )


def test_numbers_too_long_to_read_are_refused(write_mapping):
    # 1:1:1:… is a YAML 1.1 base-60 integer, quadratic to read; 5,000 digits exceed Python's
    # limit for int() (a ValueError traceback).
    sexagesimal = refusal(write_mapping("candidate:\n  first_name: 1" + ":1" * 200_000 + "\n"))
    assert sexagesimal.startswith(", line 2: holds a number 400,001 characters long ('1:1:1:")
    digits = refusal(write_mapping("candidate: {first_name: " + "9" * 5000 + "}\n"))
    assert digits.startswith(", line 1: holds a number 5,000 characters long")
    assert digits.endswith("Quote it if it is text.")


def test_a_value_yaml_cannot_build_is_a_config_error(write_mapping):
    message = refusal(write_mapping("candidate:\n  first_name: {value: 2024-02-30}\n"))
    assert message.startswith(", line 2: is not valid YAML: cannot read '2024-02-30': day is out")


def test_anchors_and_merge_keys_still_work(write_mapping):
    mapping = load_mapping(
        write_mapping("""
        candidate:
          first_name: &text {column: First, transform: [strip, collapse_spaces]}
          last_name: {<<: *text, column: Last}
          email_address: Email
        application: {job_id: J}
        """)
    )
    assert mapping.columns() == ["First", "Last", "Email", "J"]
    assert [leaf.line for leaf in mapping.leaves()] == [2, 3, 4, 5]


REGEX_MAPPING = """
candidate:
  first_name: First
  last_name: Last
  email_address: Email
  company: {{column: Ref, transform: [{{regex: {{pattern: '{pattern}'}}}}]}}
application: {{job_id: {{value: J}}}}
"""


def row_issues(path: Path, cell: str) -> list[tuple[str, str]]:
    """The (code, message) of each issue of one row whose `Ref` cell is `cell`."""
    mapping = load_mapping(path)
    mapping = mapping.bind(["First", "Last", "Email", "Ref"], "input.csv")
    builder = RequestBuilder(mapping, FolderSource(path.parent))
    built = builder.build(SourceRow(2, ("Anna", "Wolf", "anna@example.com", cell)))
    return [(issue.code, issue.message) for issue in built.issues]


def test_a_catastrophic_regex_is_a_problem_on_its_row_not_a_hang(write_mapping):
    # `re` backtracked for minutes on these cells; `regex` finds ^(a+)+$ out at once and stops
    # ^(a|aa)+$ at its timeout.
    nested = write_mapping(REGEX_MAPPING.format(pattern="^(a+)+$"), name="nested.yaml")
    outcome = bounded(lambda: row_issues(nested, "a" * 34 + "!"))
    assert outcome.value == [
        (
            "invalid_value",
            "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!' does not match the pattern '^(a+)+$'.",
        )
    ]
    branches = write_mapping(REGEX_MAPPING.format(pattern="^(a|aa)+$"), name="branches.yaml")
    outcome = bounded(lambda: row_issues(branches, "a" * 40 + "!"))
    assert outcome.raised is None, outcome
    [(code, message)] = outcome.value
    assert code == "invalid_value"
    assert message.startswith("the pattern '^(a|aa)+$' took longer than 0.1 s on this cell")
    assert "simplify the pattern" in message


def test_a_regex_that_would_compile_to_gigabytes_is_refused(write_mapping):
    # The regex module writes x{n} out n times when it compiles: this took 3.8 GB and failed.
    message = refusal(write_mapping(REGEX_MAPPING.format(pattern="((a{1000}){1000}){1000}")))
    assert message.startswith(
        ", line 5, at candidate.company.transform[0]: the options of "
        "'regex' are not usable: the pattern is too large to compile"
    )
    mapping = load_mapping(write_mapping(REGEX_MAPPING.format(pattern="a{0,100000}|\\d{4}")))
    assert mapping.columns()[-1] == "Ref"  # an upper bound alone costs nothing


def test_regex_syntax_of_re_keeps_working_and_groups_are_checked(write_mapping):
    base = (
        "candidate:\n  first_name: {{column: First, transform: [{{regex: {options}}}]}}\n"
        "  last_name: Last\n  email_address: Email\napplication: {{job_id: J}}\n"
    )
    zip_code = "{pattern: '(?P<zip>\\d{5})', group: zip}"
    named = load_mapping(write_mapping(base.format(options=zip_code)))
    (leaf,) = [leaf for leaf in named.leaves() if leaf.path == "candidate.first_name"]
    assert leaf.transforms[0][1]("zip 10115 Berlin") == "10115"
    message = error_of(write_mapping, base.format(options="{pattern: '(a)(b)', group: 3}"))
    assert message.endswith("group 3 is not in the pattern, which has 2.")
    message = error_of(write_mapping, base.format(options="{pattern: '(?P<zip>x)', group: zipp}"))
    assert "the pattern has no group named 'zipp' (named groups: zip)" in message


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("{First:>1000000000}", "'{First:>1000000000}' asks for formatting (':' or '!')"),
        ("{First!r}", "'{First!r}' asks for formatting"),
        ("{First.__class__}", "'{First.__class__}': a column name in a template cannot hold"),
        ("{First[0]}", "'{First[0]}': a column name in a template cannot hold '.' or '['"),
        ("{0} {Last}", "'{0}' names no column"),
        ("{First}" * 51, "the template places 51 columns; at most 50 are allowed"),
    ],
)
def test_templates_only_place_columns(write_mapping, template, problem):
    # str.format_map runs all of these on every row: {First:>1000000000} builds a gigabyte.
    message = error_of(
        write_mapping,
        f"candidate:\n  first_name: {{template: '{template}'}}\napplication: {{job_id: J}}\n",
    )
    assert message.startswith(f", line 2, at candidate.first_name.template: {problem}")


@pytest.mark.parametrize(
    ("option", "problem"),
    [
        ("transform: [{date: {formats: ['%d %d']}}]", "the format '%d %d' gives a directive twice"),
        ("transform: [{date: {formats: ['%Q']}}]", "'Q' is a bad directive in format '%Q'"),
        ("transform: [{date: {formats: [2024]}}]", "a date format is text such as '%d.%m.%Y'"),
        ("split: ''", "split needs a separator such as ',' or ';', not an empty text."),
    ],
)
def test_options_that_would_fail_on_every_row_fail_at_load(write_mapping, option, problem):
    message = error_of(
        write_mapping,
        f"candidate:\n  first_name: {{column: First, {option}}}\napplication: {{job_id: J}}\n",
    )
    assert message.startswith(", line 2, at candidate.first_name") and problem in message


def test_bind_gives_a_bound_copy_and_leaves_the_loaded_mapping_as_it_was(write_mapping):
    mapping = load_mapping(
        write_mapping("""
        candidate:
          first_name: First
          last_name: Last
          email_address: Email
          company: {template: '{Ref} ({First})'}
        application: {job_id: {value: J}}
        """)
    )
    first = mapping.bind(["First", "Last", "Email", "Ref"], "a.csv")
    second = mapping.bind(["ref", "Email", "Last", "First", "Unused"], "b.csv")

    def indexes(bound):
        return [(leaf.index, leaf.template_indexes) for leaf in bound.leaves()]

    assert indexes(mapping) == [(None, {})] * 5 and mapping.bound_headers() == []
    assert indexes(first) == [(0, {}), (1, {}), (2, {}), (None, {"Ref": 3, "First": 0}), (None, {})]
    assert indexes(second) == [
        (3, {}),
        (2, {}),
        (1, {}),
        (None, {"Ref": 0, "First": 3}),
        (None, {}),
    ]
    assert second.bound_headers() == ["ref", "Email", "Last", "First"]  # in the file's order
    assert (
        first.label_for("candidate.company")
        == "Ref, First"
        == mapping.label_for("candidate.company")
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.leaves()[0].index = 1
    with pytest.raises(ConfigError, match="column 'Ref' is not in c.csv"):
        mapping.bind(["First", "Last", "Email"], "c.csv")


def test_bind_reports_the_first_missing_column_of_the_body_before_the_attachments(write_mapping):
    mapping = load_mapping(
        write_mapping("""
        attachments: [{column: CV, type: CV}]
        candidate: {first_name: First, last_name: Last, email_address: Email}
        application: {job_id: {value: J}}
        """)
    )
    with pytest.raises(ConfigError, match="at candidate.first_name: column 'First' is not in"):
        mapping.bind(["Last", "Email"], "input.csv")


BASIC = """
candidate: {first_name: First, last_name: Last, email_address: Email}
application: {job_id: {value: JOB1}}
"""


def test_the_sourcing_user_may_be_named_by_email(write_mapping):
    by_email = load_mapping(
        write_mapping(BASIC + "sourced_by: {user_email: {column: Recruiter, transform: [lower]}}\n")
    )
    assert by_email.resolves_users() and by_email.label_for("sourced_by.user_email") == "Recruiter"
    assert "Recruiter" in by_email.columns() and by_email.deprecated_fields() == []
    assert not load_mapping(
        write_mapping(BASIC + "sourced_by: {user_id: {value: 'remote:42'}}\n")
    ).resolves_users()


@pytest.mark.parametrize(
    "sourced_by,problem",
    [
        (
            "{user_id: Id, user_email: Recruiter}",
            "give user_id or user_email, not both: user_email is looked up to give user_id.",
        ),
        (
            "{user_mail: Recruiter}",
            "'user_mail' is not a field of sourced_by. Did you mean 'user_email'?",
        ),
        ("{}", "sourced_by.user_id is required by Kombo but the mapping does not set it"),
    ],
)
def test_a_sourcing_user_named_both_ways_or_misspelt_is_a_config_error(
    write_mapping, sourced_by, problem
):
    with pytest.raises(ConfigError) as raised:
        load_mapping(write_mapping(BASIC + f"sourced_by: {sourced_by}\n"))
    assert problem in str(raised.value)


def test_the_deprecated_source_field_is_named_by_the_mapping():
    """The summary's note about `source` (see test_dates) comes from here."""
    from importer.mapping import compile_mapping

    data = {
        "candidate": {"first_name": "First", "last_name": "Last", "email_address": "Email"},
        "application": {"job_id": {"value": "J"}},
        "source": {"name": {"value": "Job fair"}},
        "sourced_by": {"user_email": "Recruiter"},
    }
    assert compile_mapping(data, Path("m.yaml")).deprecated_fields() == ["source"]


def test_a_file_question_is_answered_with_type_file(write_mapping):
    mapping = load_mapping(
        write_mapping(
            BASIC
            + "screening_question_answers:\n"
            + "  Q1: {column: Portfolio, type: file, name: {value: Portfolio.pdf}}\n"
            + "  Q2: {template: 'work/{Email}.pdf', type: FILE, content_type: application/pdf}\n"
            + "  Q3: Permit\n"
        )
    )
    assert mapping.label_for("screening_question_answers.Q1") == "Portfolio"
    assert mapping.label_for("screening_question_answers.Q2") == "Email"
    assert {"Portfolio", "Permit"} <= set(mapping.columns())


@pytest.mark.parametrize(
    "answer,problem",
    [
        (
            "{column: Permit, type: BOOLEAN}",
            "an answer's type can only be FILE (a file to upload), not 'BOOLEAN'",
        ),
        ("{column: Work, type: FILE, split: ';'}", "a FILE question takes one file; drop `split:`"),
        (
            "{column: Work, type: FILE, nmae: x.pdf}",
            "'nmae' is not an option of a FILE answer. Did you mean 'name'?",
        ),
        (
            "{column: Work, type: FILE, content_type: pdf}",
            "'pdf' is not a content type Kombo accepts",
        ),
    ],
)
def test_a_file_answer_is_checked_when_the_mapping_loads(write_mapping, answer, problem):
    with pytest.raises(ConfigError) as raised:
        load_mapping(write_mapping(BASIC + f"screening_question_answers:\n  Q1: {answer}\n"))
    assert problem in str(raised.value)
