"""Every way a mapping can be wrong gives a ConfigError naming the file, the line and the key."""

from __future__ import annotations

import pytest

from importer.errors import ConfigError
from importer.mapping import Leaf, ListNode, ObjectNode, load_mapping


def error_of(write_mapping, text: str) -> str:
    path = write_mapping(text)
    with pytest.raises(ConfigError) as error:
        load_mapping(path)
    message = str(error.value)
    assert message.startswith(str(path))
    return message.removeprefix(str(path))


def test_the_example_mapping_loads_and_names_its_columns():
    mapping = load_mapping("mappings/example.yaml")
    assert "E-Mail" in mapping.columns()
    assert mapping.input.sheet == "Candidates"


def test_a_typo_in_a_field_is_an_error_with_a_suggestion(write_mapping):
    message = error_of(write_mapping, """
        candidate:
          first_name: First
          last_name: Last
          emial: Email
        application:
          job_id: {value: J}
        """)
    assert message.startswith(", line 4, at candidate.emial: 'emial' is not a field of candidate. Did you mean 'email_address'?")


def test_a_typo_at_the_top_and_deep_inside(write_mapping):
    assert "at candidat: 'candidat' is not a field of" in error_of(write_mapping, "candidat: {}\ncandidate: {}\napplication: {}\n")
    message = error_of(write_mapping, """
        candidate:
          location: {country: Country, cty: City}
        application: {job_id: J}
        """)
    assert "line 2, at candidate.location.cty" in message and "Did you mean 'city'?" in message


def test_missing_sections_version_and_non_mapping_documents(write_mapping):
    assert "has no `application:` section" in error_of(write_mapping, "candidate: {first_name: A}\n")
    assert "version 2 is not supported" in error_of(write_mapping, "version: 2\ncandidate: {}\napplication: {}\n")
    assert "a mapping is a YAML document" in error_of(write_mapping, "- just\n- a list\n")


def test_invalid_yaml_names_the_line(write_mapping):
    message = error_of(write_mapping, "candidate:\n  first_name: First\n   last_name: Last\napplication: {}\n")
    assert message.startswith(", line 3: is not valid YAML")


def test_a_key_given_twice_is_an_error(write_mapping):
    message = error_of(write_mapping, "candidate:\n  first_name: A\n  first_name: B\napplication: {job_id: J}\n")
    assert message == ", line 3, at candidate.first_name: 'first_name' is given twice; keep one."


def test_field_options_are_checked(write_mapping):
    message = error_of(write_mapping, "candidate:\n  first_name: {column: First, trasnform: [strip]}\napplication: {job_id: J}\n")
    assert "'trasnform' is not an option of a field. Did you mean 'transform'?" in message
    message = error_of(write_mapping, "candidate:\n  first_name: {column: First, value: Anna}\napplication: {job_id: J}\n")
    assert "give exactly one of column, value or template (found column, value)" in message
    message = error_of(write_mapping, "candidate:\n  first_name: {colum: First}\napplication: {job_id: J}\n")
    assert "line 2, at candidate.first_name" in message and "Did you mean 'column'?" in message


def test_transforms_and_their_options_are_checked(write_mapping):
    base = "candidate:\n  email_address: {{column: Email, transform: [{t}]}}\napplication: {{job_id: J}}\n"
    assert "'lowercase' is not a transform. Did you mean 'lower'?" in error_of(write_mapping, base.format(t="lowercase"))
    assert "'format' is not an option of 'date'. Did you mean 'formats'?" in error_of(write_mapping, base.format(t="{date: {format: '%d'}}"))
    assert "the options of 'regex' are not usable" in error_of(write_mapping, base.format(t="{regex: {pattern: '(['}}"))
    assert "unknown phone region 'XX'" in error_of(write_mapping, base.format(t="{phone: {region: XX}}"))
    assert "decimal must be '.' or ','" in error_of(write_mapping, base.format(t="{number: {decimal: x}}"))


def test_groups_and_lists_are_checked(write_mapping):
    message = error_of(write_mapping, "candidate:\n  location: City\napplication: {job_id: J}\n")
    assert "expected the fields of candidate.location (country, city, state, street_1, zip_code)" in message
    message = error_of(write_mapping, "candidate:\n  salary_expectations: {column: Salary}\napplication: {job_id: J}\n")
    assert "is a group of fields (period, amount)" in message
    message = error_of(write_mapping, "candidate: {}\napplication: {job_id: J}\nattachments:\n  - {column: CV, kind: CV}\n")
    assert "line 4, at attachments[0].kind: 'kind' is not an option of an attachment" in message
    message = error_of(write_mapping, "candidate: {}\napplication: {job_id: J}\nattachments:\n  - {column: CV, type: RESUME}\n")
    assert "at attachments[0].type" in message and "'CV', 'COVER_LETTER' or 'OTHER'" in message
    message = error_of(write_mapping, "candidate: {}\napplication: {job_id: J}\nscreening_question_answers: [Skills]\n")
    assert "expected question ids with the column of each answer" in message


def test_input_options_are_checked(write_mapping):
    message = error_of(write_mapping, "input: {sheeet: Candidates}\ncandidate: {}\napplication: {job_id: J}\n")
    assert "at input.sheeet" in message and "Did you mean 'sheet'?" in message


def test_remote_fields_the_sdk_would_drop_are_kept_and_unknown_ats_are_errors(write_mapping):
    mapping = load_mapping(write_mapping("""
        candidate: {first_name: F, last_name: L, email_address: E}
        application: {job_id: J}
        remote_fields:
          greenhouse:
            candidate: {custom_fields: [{id: {value: 123}, value: {column: Shoe size}}]}
          workday:
            Candidate_Data: {Name_Detail_Data: {Middle_Name: Middle}}
        """))
    greenhouse = mapping.remote_fields.children["greenhouse"]
    assert isinstance(greenhouse.children["candidate"], ObjectNode)
    assert "Shoe size" in mapping.columns() and "Middle" in mapping.columns()
    message = error_of(write_mapping, "candidate: {}\napplication: {job_id: J}\nremote_fields:\n  greenhose: {}\n")
    assert "'greenhose' is not a field of remote_fields. Did you mean 'greenhouse'?" in message


def test_shorthand_list_items_and_constants(write_mapping):
    mapping = load_mapping(write_mapping("""
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
        """))
    links = mapping.body.children["candidate"].children["social_links"]
    assert isinstance(links, ListNode) and [type(i) for i in links.items] == [ObjectNode, ObjectNode]
    given = mapping.body.children["gdpr_consent"].children["given"]
    assert isinstance(given, Leaf) and given.spec.value is True
    assert mapping.columns() == ["F", "L", "E", "LinkedIn", "Links", "Work email"]


def test_no_and_yes_are_text_not_booleans(write_mapping):
    mapping = load_mapping(write_mapping("""
        candidate:
          first_name: F
          last_name: L
          email_address: E
          location: {country: {value: NO}}
          gender: {column: G, map: {yes: MALE, no: FEMALE}}
        application: {job_id: J}
        """))
    assert mapping.body.children["candidate"].children["location"].children["country"].spec.value == "NO"
    assert set(mapping.body.children["candidate"].children["gender"].value_map) == {"yes", "no"}


def test_missing_mapping_file(tmp_path):
    with pytest.raises(ConfigError, match="mapping file not found"):
        load_mapping(tmp_path / "nope.yaml")


def test_a_constant_that_kombo_would_refuse_is_a_config_error(write_mapping, write_csv):
    from importer.runs import DryRunOptions, dry_run

    mapping = write_mapping("candidate:\n  first_name: F\n  gender: {value: man}\n  last_name: L\n  email_address: E\napplication: {job_id: {value: J}}\n")
    with pytest.raises(ConfigError) as error:
        dry_run(DryRunOptions(write_csv([["F", "L", "E"], ["Anna", "Wolf", "a@example.com"]]), mapping))
    assert str(error.value) == f"{mapping}, line 3, at candidate.gender: the constant 'man' is not one of MALE, FEMALE, OTHER; map the file's values with `map:`."
