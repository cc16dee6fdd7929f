"""One row + mapping -> a request body the SDK accepts, or every problem of the row at once."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import openpyxl
import pytest

from importer.attachments import FolderSource
from importer.build import RequestBuilder
from importer.checks import RowChecker, ValidationSummary, validate_rows
from importer.issues import errors_in
from importer.mapping import load_mapping
from importer.readers import read_table


def build_all(mapping_path: Path, input_path: Path, base_dir: Path | None = None):
    mapping = load_mapping(mapping_path)
    table = read_table(input_path, expected_columns=mapping.columns())
    mapping = mapping.bind(table.headers, str(input_path))
    builder = RequestBuilder(
        mapping, FolderSource(base_dir or input_path.parent), "acme:greenhouse"
    )
    return list(validate_rows(table.rows, RowChecker(builder), ValidationSummary()))


def body(built):
    assert built.request is not None and not errors_in(built.issues), built.issues
    return built.request.body.model_dump(mode="json", by_alias=True, exclude_none=True)


def codes(built):
    return [(i.row, i.column, i.field, i.code) for i in built.issues]


FULL = """
candidate:
  first_name: First
  last_name: Last
  email_address: {column: Email, transform: [lower]}
  phone_number: Phone
  gender: Gender
  location: {city: City, country: Country}
  salary_expectations: {amount: Salary, period: {value: YEAR}}
application:
  job_id: {column: Job, map: {Backend: JOB-B, Design: JOB-D}}
"""


def test_every_problem_of_a_row_is_reported_at_once(write_mapping, write_csv):
    rows = [
        ["First", "Last", "Email", "Phone", "Gender", "City", "Country", "Salary", "Job"],
        ["", "Wolf", "anna@", "n/a", "X", "Berlin", "Bavaria", "lots", "Sales"],
    ]
    (built,) = build_all(write_mapping(FULL), write_csv(rows))
    assert built.request is None
    assert codes(built) == [
        (2, "Email", "candidate.email_address", "invalid_email"),
        (2, "Phone", "candidate.phone_number", "invalid_phone"),
        (2, "Gender", "candidate.gender", "unknown_value"),
        (2, "Country", "candidate.location.country", "unknown_country"),
        (2, "Salary", "candidate.salary_expectations.amount", "invalid_number"),
        (2, "First", "candidate.first_name", "required"),
        (2, "Job", "application.job_id", "unknown_value"),
    ]


def test_empty_optional_cells_are_left_out_and_constants_alone_make_nothing(
    write_mapping, write_csv
):
    rows = [
        ["First", "Last", "Email", "Phone", "Gender", "City", "Country", "Salary", "Job"],
        ["Anna", "Wolf", "Anna@Example.com", "", "female", "", "", "", "backend"],
    ]
    (built,) = build_all(write_mapping(FULL), write_csv(rows))
    assert body(built) == {
        "candidate": {
            "first_name": "Anna",
            "last_name": "Wolf",
            "email_address": "anna@example.com",
            "gender": "FEMALE",
        },
        "application": {"job_id": "JOB-B"},
    }


def test_a_group_with_some_cells_needs_its_required_fields(write_mapping, write_csv):
    rows = [
        ["First", "Last", "Email", "Phone", "Gender", "City", "Country", "Salary", "Job"],
        ["Anna", "Wolf", "a@example.com", "", "", "Berlin", "", "", "Design"],
    ]
    (built,) = build_all(write_mapping(FULL), write_csv(rows))
    assert codes(built) == [(2, "Country", "candidate.location.country", "required")]
    assert built.issues[0].message == "'Country' is empty; candidate.location.country is required."


def test_a_required_field_the_mapping_forgets_is_a_config_error(write_mapping):
    from importer.errors import ConfigError

    mapping = write_mapping(
        "candidate: {first_name: First, last_name: Last}\napplication: {job_id: {value: J}}\n"
    )
    with pytest.raises(
        ConfigError,
        match=(
            r"line 1, at candidate: candidate.email_address is required by Kombo"
            r" but the mapping does not set it"
        ),
    ):
        load_mapping(mapping)
    mapping = write_mapping(
        "candidate: {first_name: F, last_name: L, email_address: E,"
        " additional_email_addresses: [{email_address: X}]}\n"
        "application: {job_id: J}\n"
    )
    with pytest.raises(
        ConfigError,
        match=(
            r"at candidate.additional_email_addresses\[0\]:"
            r" candidate.additional_email_addresses\[0\].type is required"
        ),
    ):
        load_mapping(mapping)


def test_templates_defaults_splits_and_expanded_lists(write_mapping, write_csv):
    mapping = write_mapping("""
        candidate:
          first_name: {column: Name, transform: [first_name]}
          last_name: {column: Name, transform: [last_name]}
          email_address: Email
          title: {template: "{Role} ({Level})"}
          company: {column: Company, default: Unknown}
          additional_email_addresses:
            - {type: {value: WORK}, email_address: {column: Other emails, split: ";"}}
          additional_phone_numbers:
            - {type: {value: PERSONAL}, phone_number: Home}
          social_links: [{column: Links, split: " "}]
        application: {job_id: {value: J}}
        """)
    rows = [
        ["Name", "Email", "Role", "Level", "Company", "Other emails", "Home", "Links"],
        [
            "Wolf, Anna",
            "a@example.com",
            "Engineer",
            "Senior",
            "",
            "a@work.com; anna@corp.com",
            "",
            "github.com/anna https://anna.dev",
        ],
    ]
    (built,) = build_all(mapping, write_csv(rows))
    candidate = body(built)["candidate"]
    assert candidate["first_name"] == "Anna" and candidate["last_name"] == "Wolf"
    assert candidate["title"] == "Engineer (Senior)"
    assert candidate["company"] == "Unknown"
    assert candidate["additional_email_addresses"] == [
        {"type": "WORK", "email_address": "a@work.com"},
        {"type": "WORK", "email_address": "anna@corp.com"},
    ]
    assert "additional_phone_numbers" not in candidate
    assert candidate["social_links"] == [
        {"url": "https://github.com/anna"},
        {"url": "https://anna.dev"},
    ]


def test_excel_cells_become_what_kombo_expects(write_mapping, tmp_path):
    mapping = write_mapping("""
        candidate:
          first_name: First
          last_name: Last
          email_address: Email
          phone_number: {column: Phone, transform: [{phone: {region: DE}}]}
          availability_date: Available
          location: {zip_code: Zip, country: {value: DE}}
        application: {job_id: {value: J}}
        gdpr_consent: {given: Consent, expires_at: Until}
        screening_question_answers:
          q_permit: Permit
          q_skills: {column: Skills, split: ","}
          q_years: Years
        """)
    path = tmp_path / "people.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(
        [
            "First",
            "Last",
            "Email",
            "Phone",
            "Available",
            "Zip",
            "Consent",
            "Until",
            "Permit",
            "Skills",
            "Years",
        ]
    )
    wb.active.append(
        [
            "Anna",
            "Wolf",
            "a@example.com",
            4915112345678,
            dt.datetime(2026, 3, 31),
            10115,
            True,
            dt.date(2028, 6, 30),
            True,
            "Python, SQL",
            7,
        ]
    )
    wb.save(path)
    (built,) = build_all(mapping, path)
    sent = body(built)
    assert sent["candidate"]["phone_number"] == "+4915112345678"
    # Number cells in text fields are sent, with a warning that Excel may have dropped a 0 or +.
    assert [(i.column, i.code, i.severity) for i in built.issues] == [
        ("Phone", "numeric_text", "warning"),
        ("Zip", "numeric_text", "warning"),
    ]
    assert sent["candidate"]["availability_date"] == "2026-03-31T00:00:00Z"
    assert sent["candidate"]["location"] == {"country": "DE", "zip_code": "10115"}
    assert sent["gdpr_consent"] == {"expires_at": "2028-06-30T00:00:00Z", "given": True}
    assert sent["screening_question_answers"] == [
        {"question_id": "q_permit", "answer": True},
        {"question_id": "q_skills", "answer": ["Python", "SQL"]},
        {"question_id": "q_years", "answer": "7"},
    ]


def test_remote_fields_travel_as_mapped_even_where_the_sdk_drops_them(write_mapping, write_csv):
    mapping = write_mapping("""
        candidate: {first_name: First, last_name: Last, email_address: Email}
        application: {job_id: {value: J}}
        sourced_by: {user_id: {value: "remote:42"}}
        remote_fields:
          greenhouse:
            post_headers: {On-Behalf-Of: {value: "4080"}}
            candidate: {custom_fields: [{id: {value: 11}, value: {column: Shoe size}}]}
        """)
    (built,) = build_all(
        mapping,
        write_csv(
            [["First", "Last", "Email", "Shoe size"], ["Anna", "Wolf", "a@example.com", "38"]]
        ),
    )
    assert built.request.remote_fields == {
        "greenhouse": {
            "post_headers": {"On-Behalf-Of": "4080"},
            "candidate": {"custom_fields": [{"id": 11, "value": "38"}]},
        }
    }
    sdk_copy = body(built)["remote_fields"]
    assert sdk_copy == {
        "greenhouse": {"post_headers": {"On-Behalf-Of": "4080"}}
    }  # what SDK 1.4 would have sent
    assert body(built)["sourced_by"] == {"user_id": "remote:42"}
    assert built.request.integration_id == "acme:greenhouse"


def test_keys_and_question_ids_that_look_like_code_are_sent_as_written(write_mapping, write_csv):
    """The body is evaluated by Python code made from the mapping (`build._Code`): a key or a
    question id with quotes, a newline or code in it is data there, never code."""
    mapping = write_mapping("""
        candidate: {first_name: First, last_name: Last, email_address: Email}
        application: {job_id: {value: J}}
        screening_question_answers:
          "q'); import os; os._exit(3) #": Answer
          "line\\none \\"two\\"": {value: "yes"}
        remote_fields:
          lever:
            candidate:
              "}} + __import__('os').getcwd() + {{": {column: Answer}
              "# not a comment\\n": {value: "x"}
        """)
    (built,) = build_all(
        mapping,
        write_csv([["First", "Last", "Email", "Answer"], ["A", "W", "a@example.com", "42"]]),
    )
    sent = body(built)["screening_question_answers"]
    assert sent == [
        {"question_id": "q'); import os; os._exit(3) #", "answer": "42"},
        {"question_id": 'line\none "two"', "answer": "yes"},
    ]
    assert built.request.remote_fields == {
        "lever": {
            "candidate": {"}} + __import__('os').getcwd() + {{": "42", "# not a comment\n": "x"}
        }
    }


def test_remote_fields_named_as_the_ats_names_them_are_checked_by_the_sdk_model(
    write_mapping, write_csv
):
    """Workday's and Greenhouse's remote fields go by their own names on the wire (`WID`,
    `On-Behalf-Of`), which the SDK's TypedDict knows only by their Python names and would let
    through unchecked: such a mapping is checked by the SDK's model, and sent as mapped."""
    mapping = write_mapping("""
        candidate: {first_name: First, last_name: Last, email_address: Email}
        application: {job_id: {value: J}}
        remote_fields:
          greenhouse:
            post_headers: {On-Behalf-Of: {value: "4080"}}
          workday:
            Candidate_Data:
              Language_Reference: {WID: {column: Language}}
        """)
    rows = [["First", "Last", "Email", "Language"], ["Anna", "Wolf", "a@example.com", "de-wid"]]
    (built,) = build_all(mapping, write_csv(rows))
    assert not built.issues
    assert built.request.remote_fields["workday"] == {
        "Candidate_Data": {"Language_Reference": {"WID": "de-wid"}}
    }
    assert body(built)["remote_fields"]["greenhouse"] == {"post_headers": {"On-Behalf-Of": "4080"}}


def test_an_answer_the_sdk_refuses_is_reported_in_the_sdk_models_words(write_mapping, write_csv):
    mapping = write_mapping("""
        candidate: {first_name: First, last_name: Last, email_address: Email}
        application: {job_id: {value: JOB1}}
        screening_question_answers:
          Q1: {column: Permits, split: ";", transform: [bool]}
        """)
    rows = [["First", "Last", "Email", "Permits"], ["Anna", "Wolf", "anna@example.com", "yes;no"]]
    (built,) = build_all(mapping, write_csv(rows))
    assert built.request is None
    messages = {
        i.message for i in built.issues if i.field.endswith("PostAtsCandidatesRequestBodyAnswer")
    }
    assert messages == {
        "Input should be a valid dictionary or instance of PostAtsCandidatesRequestBodyAnswer "
        "(checked by the Kombo SDK)."
    }


def test_duplicate_emails_for_the_same_job_are_flagged_on_later_rows(write_mapping, write_csv):
    mapping = write_mapping(
        "candidate: {first_name: First, last_name: Last, email_address: Email}\n"
        "application: {job_id: Job}\n"
    )
    rows = [
        ["First", "Last", "Email", "Job"],
        ["Anna", "Wolf", "anna@example.com", "J1"],
        ["Anna", "Wolf", "anna@example.com", "J2"],
        ["Anna", "Wolf", "ANNA@example.com", "J1"],
    ]
    built = build_all(mapping, write_csv(rows))
    assert [b.issues for b in built[:2]] == [[], []]
    assert codes(built[2]) == [(4, "Email", "candidate.email_address", "duplicate_in_file")]
    assert "in row 2" in built[2].issues[0].message


ATTACH = """
candidate: {first_name: First, last_name: Last, email_address: Email}
application: {job_id: {value: J}}
attachments:
  - {column: CV, type: CV}
  - {column: Other, type: other, split: "|"}
"""


def test_attachments_are_resolved_and_checked_without_reading_them(
    write_mapping, write_csv, tmp_path
):
    (tmp_path / "cvs").mkdir()
    (tmp_path / "cvs" / "anna.pdf").write_bytes(b"%PDF-1.4 anna")
    (tmp_path / "cvs" / "empty.pdf").write_bytes(b"")
    (tmp_path / "cvs" / "a folder").mkdir()
    outside = tmp_path.parent / f"{tmp_path.name}-secret.txt"
    outside.write_text("secret")
    (tmp_path / "cvs" / "link.pdf").symlink_to(outside)
    rows = [
        ["First", "Last", "Email", "CV", "Other"],
        [
            "Anna",
            "Wolf",
            "a@example.com",
            "cvs\\anna.pdf",
            "https://files.example.com/portfolio.pdf",
        ],
        ["Ben", "Koch", "b@example.com", "cvs/missing.pdf", "cvs/empty.pdf|cvs/a folder"],
        ["Cem", "Yıldız", "c@example.com", "../" + outside.name, "cvs/link.pdf"],
        [
            "Dana",
            "Roth",
            "d@example.com",
            f"file://{tmp_path}/cvs/anna.pdf",
            str(tmp_path / "cvs" / "anna.pdf"),
        ],
    ]
    built = build_all(write_mapping(ATTACH), write_csv(rows))
    assert body(built[0])["attachments"] == [
        {"name": "anna.pdf", "type": "CV", "content_type": "application/pdf"},
        {
            "name": "portfolio.pdf",
            "type": "OTHER",
            "content_type": "application/pdf",
            "data_url": "https://files.example.com/portfolio.pdf",
        },
    ]
    assert built[0].request.attachments[0].location == str(
        (tmp_path / "cvs" / "anna.pdf").resolve()
    )
    assert [(i.field, i.code) for i in built[1].issues] == [
        ("attachments[0]", "file_not_found"),
        ("attachments[1]", "empty_file"),
        ("attachments[1]", "not_a_file"),
    ]
    assert [(i.field, i.code) for i in built[2].issues] == [
        ("attachments[0]", "outside_base_dir"),
        ("attachments[1]", "outside_base_dir"),
    ]
    assert [a["name"] for a in body(built[3])["attachments"]] == ["anna.pdf", "anna.pdf"]
    os.remove(outside)


def test_too_large_attachments(write_mapping, write_csv, tmp_path):
    (tmp_path / "big.pdf").write_bytes(b"x" * 2048)
    mapping = load_mapping(write_mapping(ATTACH))
    table = read_table(
        write_csv(
            [["First", "Last", "Email", "CV", "Other"], ["A", "B", "a@example.com", "big.pdf", ""]]
        )
    )
    mapping = mapping.bind(table.headers, "input")
    builder = RequestBuilder(mapping, FolderSource(tmp_path, max_bytes=1000))
    (row,) = table.rows
    built = builder.build(row)
    assert [(i.code, i.message) for i in built.issues] == [
        ("file_too_large", "'big.pdf' has 2,048 bytes; the limit is 1,000 (--max-attachment-mb).")
    ]


@pytest.mark.parametrize(("cell", "code"), [("", "required"), ("anna.pdf", None)])
def test_required_attachment(write_mapping, write_csv, tmp_path, cell, code):
    (tmp_path / "anna.pdf").write_bytes(b"%PDF")
    mapping = write_mapping(
        "candidate: {first_name: F, last_name: L, email_address: E}\n"
        "application: {job_id: {value: J}}\nattachments: [{column: CV, type: CV, required: true}]\n"
    )
    (built,) = build_all(
        mapping, write_csv([["F", "L", "E", "CV"], ["A", "B", "a@example.com", cell]])
    )
    assert [i.code for i in built.issues] == ([code] if code else [])


# Every leaf converts a value the same way (transforms, value map, coercion, warnings), whether
# it is a plain column (each distinct cell remembered) or has `required` or a default; a list
# (split, json_list, a default given as a list) sends each of its items that way.
PLAIN_AND_OTHERS = ["", ", required: true", ", default: '-'"]


def with_title(title: str) -> str:
    return (
        "candidate: {first_name: F, last_name: L, email_address: E, title: " + title + "}\n"
        "application: {job_id: {value: J}}\n"
    )


@pytest.mark.parametrize("more", PLAIN_AND_OTHERS)
def test_a_value_a_transform_leaves_empty_goes_no_further(write_mapping, write_csv, more):
    # It used to reach the next transform as None, and `upper` sent "NONE".
    mapping = write_mapping(
        with_title("{column: T, transform: [{regex: {pattern: '^(\\d*)'}}, upper]" + more + "}")
    )
    rows = [["F", "L", "E", "T"], ["A", "B", "a@example.com", "abc"], ["A", "B", "a@b.de", "42 x"]]
    nothing, number = build_all(mapping, write_csv(rows))
    assert "title" not in body(nothing)["candidate"] and nothing.issues == []
    assert body(number)["candidate"]["title"] == "42"


@pytest.mark.parametrize("more", PLAIN_AND_OTHERS)
def test_a_value_mapped_to_blank_text_is_not_sent(write_mapping, write_csv, more):
    # A plain column used to send the blank text; the others left it out.
    mapping = write_mapping(with_title("{column: T, map: {none: ' ', ceo: CEO}" + more + "}"))
    rows = [["F", "L", "E", "T"], ["A", "B", "a@example.com", "None"], ["A", "B", "a@b.de", "ceo"]]
    blank, ceo = build_all(mapping, write_csv(rows))
    assert "title" not in body(blank)["candidate"] and blank.issues == []
    assert body(ceo)["candidate"]["title"] == "CEO"


@pytest.mark.parametrize("more", PLAIN_AND_OTHERS)
def test_no_numeric_text_warning_when_nothing_is_sent(write_mapping, tmp_path, more):
    # The warning used to say "sent as 'None'".
    mapping = write_mapping(with_title("{column: T, transform: [last_name]" + more + "}"))
    path = tmp_path / "people.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["F", "L", "E", "T"])
    wb.active.append(["A", "B", "a@example.com", 12345])
    wb.active.append(["A", "B", "b@example.com", "Wolf"])
    wb.save(path)
    number, text = build_all(mapping, path)
    assert "title" not in body(number)["candidate"] and number.issues == []
    assert "title" not in body(text)["candidate"] and text.issues == []


LISTS = """
candidate:
  first_name: F
  last_name: L
  email_address: E
  social_links: [{column: Links, split: " ", default: [https://a.example, https://b.example]}]
application: {job_id: {value: J}}
screening_question_answers:
  q_langs: {column: Langs, transform: [json_list], map: {de: German, en: English}}
  q_where: {column: Where, split: ",", transform: [country], map: {de: Germany}}
"""


def build_lists(write_mapping, write_csv, links="", langs="", where=""):
    rows = [["F", "L", "E", "Links", "Langs", "Where"], ["A", "B", "a@b.de", links, langs, where]]
    (built,) = build_all(write_mapping(LISTS), write_csv(rows))
    return built


def test_a_default_given_as_a_list_is_sent_item_by_item(write_mapping, write_csv):
    # With `split`, it used to be split as its Python text, "['https://a.example', ...]".
    built = build_lists(write_mapping, write_csv)
    assert body(built)["candidate"]["social_links"] == [
        {"url": "https://a.example"},
        {"url": "https://b.example"},
    ]


def test_a_blank_item_of_a_json_list_is_left_out(write_mapping, write_csv):
    # Like an empty one; it used to be looked up in the value map.
    built = build_lists(write_mapping, write_csv, langs='["de", " ", "en"]', where="Deutschland")
    assert body(built)["screening_question_answers"] == [
        {"question_id": "q_langs", "answer": ["German", "English"]},
        {"question_id": "q_where", "answer": ["Germany"]},
    ]


def test_of_several_bad_parts_the_first_is_reported(write_mapping, write_csv):
    # Each part goes all the way before the next ('FR' is not in the map, 'Narnia' is no
    # country); it used to be the first problem of the first transform that any part failed.
    built = build_lists(write_mapping, write_csv, where="France, Narnia")
    assert [(i.field, i.code, i.message[:24]) for i in built.issues] == [
        ("screening_question_answers.q_where", "unknown_value", "'FR' is not in the value")
    ]


def test_a_file_answer_is_resolved_as_attachments_are_and_carried_unread(
    write_mapping, write_csv, tmp_path
):
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "anna.pdf").write_bytes(b"%PDF-1.4 portfolio")
    mapping = write_mapping("""
        candidate: {first_name: First, last_name: Last, email_address: Email}
        application: {job_id: {value: J1}}
        attachments: [{column: CV, type: CV}]
        screening_question_answers:
          PERMIT: Permit
          PORTFOLIO: {column: Portfolio, type: FILE, name: {value: Portfolio.pdf}}
        """)
    rows = [
        ["First", "Last", "Email", "CV", "Permit", "Portfolio"],
        ["Anna", "Wolf", "a@example.com", "work/anna.pdf", "yes", "work\\Anna.PDF"],
        ["Ben", "Koch", "b@example.com", "", "no", "work/ben.pdf"],
        ["Cem", "Ak", "c@example.com", "", "", ""],
    ]
    anna, ben, cem = build_all(mapping, write_csv(rows))
    assert body(anna)["screening_question_answers"] == [
        {"question_id": "PERMIT", "answer": "yes"},
        {
            "question_id": "PORTFOLIO",
            "answer": {"name": "Portfolio.pdf", "content_type": "application/pdf"},
        },
    ]
    (cv,) = anna.request.attachments
    ((question_id, portfolio),) = anna.request.answer_files
    assert question_id == "PORTFOLIO" and portfolio.location == cv.location
    assert anna.request.files == (cv, portfolio)
    assert [(i.column, i.field, i.code) for i in ben.issues] == [
        ("Portfolio", "screening_question_answers.PORTFOLIO", "file_not_found")
    ]
    assert "screening_question_answers" not in body(cem) and cem.request.answer_files == ()


def test_a_sourcing_user_named_by_email_waits_for_the_integration(write_mapping, write_csv):
    mapping = write_mapping("""
        candidate: {first_name: First, last_name: Last, email_address: Email}
        application: {job_id: {value: J1}}
        sourced_by: {user_email: Recruiter}
        """)
    rows = [
        ["First", "Last", "Email", "Recruiter"],
        ["Anna", "Wolf", "a@example.com", " Sabine.Roth@müller.de "],
        ["Ben", "Koch", "b@example.com", "sabine"],
    ]
    anna, ben = build_all(mapping, write_csv(rows))
    # no sourced_by until JobCatalog has looked the user's id up (--check-remote)
    assert "sourced_by" not in body(anna)
    assert anna.request.sourced_by_email == "Sabine.Roth@xn--mller-kva.de"
    assert codes(ben) == [(3, "Recruiter", "sourced_by.user_email", "invalid_email")]
