"""`--check-remote`: rows checked against the integration's jobs, stages and questions."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from conftest import read_csv
from hostile import HostileServer, send

from importer.cli import main

JOB = "BDpgnpZ148nrGh4mYHNxJBgx"
MAPPING = """
candidate: {{first_name: First, last_name: Last, email_address: Email}}
application: {{job_id: Job, stage_id: Stage}}
screening_question_answers:
  3phFBNXRweGnDmsU9o2vdPuQ: Permit
  Mn4kXJcWgHq2VsLp8RdTzYb3: Work model
  {question}: Skills
"""
HEADER = ["First", "Last", "Email", "Job", "Stage", "Permit", "Work model", "Skills"]


def test_jobs_stages_questions_and_answers_are_checked(write_csv, write_mapping, tmp_path):
    rows = [
        HEADER,
        [
            "Anna",
            "Wolf",
            "anna@example.com",
            JOB,
            "8x3YKRDcuRnwShdh96ShBNn1",
            "ja",
            "hybrid",
            "Python",
        ],
        ["Ben", "Koch", "ben@example.com", "NoSuchJob", "", "", "", ""],
        ["Cem", "Ak", "cem@example.com", "Kq8ClosedJobZ7pXw2mRtY4n", "", "", "", ""],
        ["Dana", "Roth", "dana@example.com", JOB, "NoSuchStage", "vielleicht", "Mars", ""],
        ["Eva", "Lang", "eva@example.com", "remote:1000", "", "no", "Office", ""],
    ]
    mapping = write_mapping(MAPPING.format(question="EYJjhMQT3LtVKXnTbnRT8s6U"))
    report = tmp_path / "errors.csv"
    result = CliRunner().invoke(
        main,
        [
            "validate",
            str(write_csv(rows)),
            "-m",
            str(mapping),
            "--sandbox",
            "--report",
            str(report),
        ],
    )
    assert result.exit_code == 1, result.output
    assert [(r["row"], r["column"], r["code"]) for r in read_csv(report)] == [
        ("3", "Job", "unknown_job"),
        ("4", "Job", "job_not_open"),
        ("5", "Stage", "unknown_stage"),
        ("5", "Permit", "unknown_value"),
        ("5", "Work model", "unknown_value"),
    ]
    assert "Rows read: 5   valid: 2   invalid: 3" in result.output


def test_an_unknown_question_is_reported(write_csv, write_mapping, tmp_path):
    mapping = write_mapping(MAPPING.format(question="NoSuchQuestion"))
    report = tmp_path / "errors.csv"
    result = CliRunner().invoke(
        main,
        [
            "validate",
            str(
                write_csv([HEADER, ["Anna", "Wolf", "anna@example.com", JOB, "", "", "", "Python"]])
            ),
            "-m",
            str(mapping),
            "--sandbox",
            "--report",
            str(report),
        ],
    )
    assert result.exit_code == 1
    assert [(r["column"], r["field"], r["code"]) for r in read_csv(report)] == [
        ("Skills", "screening_question_answers.NoSuchQuestion", "unknown_question")
    ]


def test_submit_sends_answers_in_the_question_type(sandbox, write_csv, write_mapping, tmp_path):
    mapping = write_mapping(MAPPING.format(question="EYJjhMQT3LtVKXnTbnRT8s6U"))
    source = write_csv(
        [HEADER, ["Anna", "Wolf", "anna@example.com", JOB, "", "Ja", "remote", "Python"]]
    )
    result = CliRunner().invoke(
        main,
        [
            "submit",
            str(source),
            "-m",
            str(mapping),
            "--server-url",
            sandbox.url,
            "--integration-id",
            "sandbox:demo",
            "--api-key",
            "sandbox-key",
            "--yes",
            "--ledger",
            str(tmp_path / "l.sqlite"),
            "--results",
            str(tmp_path / "r.csv"),
        ],
    )
    assert result.exit_code == 0, result.output
    (created,) = sandbox.state.created
    assert created.body["screening_question_answers"] == [
        {"question_id": "3phFBNXRweGnDmsU9o2vdPuQ", "answer": True},
        {"question_id": "Mn4kXJcWgHq2VsLp8RdTzYb3", "answer": "Rm7oTe2WoRkQ9xLp3NbVcZa1"},
        {"question_id": "EYJjhMQT3LtVKXnTbnRT8s6U", "answer": ["bqzpxsTcRGv9cQSboSDaoqzS"]},
    ]


def test_attachments_are_checked_against_the_integrations_rules(
    sandbox, write_csv, write_mapping, tmp_path
):
    from importer.runs import DryRunOptions, dry_run, fetch_catalog
    from importer.settings import SubmitSettings

    sandbox.config.attachment_rules = {
        "total_size_bytes": 3000,
        "types": {
            "CV": {
                "is_supported": True,
                "min_amount": 1,
                "max_amount": 1,
                "max_file_size_bytes": 2000,
                "accepted_mime_types": ["application/pdf"],
            },
            "COVER_LETTER": {"is_supported": False},
        },
    }
    (tmp_path / "ok.pdf").write_bytes(b"%PDF-1.4" + b"x" * 100)
    (tmp_path / "big.pdf").write_bytes(b"%PDF-1.4" + b"x" * 2500)
    (tmp_path / "cv.rtf").write_bytes(b"{\\rtf1 cv}")
    mapping = write_mapping(f"""
        candidate: {{first_name: First, last_name: Last, email_address: Email}}
        application: {{job_id: {{value: {JOB}}}}}
        attachments:
          - {{column: CV, type: CV}}
          - {{column: Letter, type: COVER_LETTER}}
        """)
    source = write_csv(
        [
            ["First", "Last", "Email", "CV", "Letter"],
            ["Anna", "Wolf", "a@example.com", "ok.pdf", ""],
            ["Ben", "Koch", "b@example.com", "big.pdf", ""],
            ["Cem", "Ak", "c@example.com", "cv.rtf", "ok.pdf"],
            ["Dana", "Roth", "d@example.com", "", ""],
        ]
    )
    settings = SubmitSettings(
        server_url=sandbox.url, api_key="sandbox-key", integration_id="sandbox:demo"
    )
    report = tmp_path / "errors.csv"
    result = dry_run(
        DryRunOptions(source, mapping, report_path=report), catalog=fetch_catalog(settings)
    )
    assert result.summary.valid == 1
    assert [(r["row"], r["column"], r["field"], r["code"]) for r in read_csv(report)] == [
        ("3", "CV", "attachments[0]", "file_too_large"),
        ("4", "CV, Letter", "attachments", "unsupported_file"),
        ("4", "CV", "attachments[0]", "unsupported_file"),
        ("5", "CV, Letter", "attachments", "required"),
    ]


ATTACHMENTS_MAPPING = f"""
    candidate: {{first_name: First, last_name: Last, email_address: Email}}
    application: {{job_id: {{value: {JOB}}}}}
    attachments:
      - {{column: CV, type: CV}}
      - {{column: CV2, type: CV}}
      - {{column: Letter, type: COVER_LETTER}}
    """
ALL_FILES = "CV, CV2, Letter"  # how a problem of the row's files together names its column


@pytest.mark.parametrize(
    "rules,cells,expected",
    [
        pytest.param(
            {"types": {"COVER_LETTER": {"is_supported": False}}},
            ("ok.pdf", "", "ok.pdf"),
            [
                (
                    ALL_FILES,
                    "attachments",
                    "unsupported_file",
                    "this ATS takes no COVER_LETTER attachments; leave them out of the mapping.",
                )
            ],
            id="unsupported type",
        ),
        pytest.param(
            {"types": {"COVER_LETTER": {"is_supported": False}}},
            ("ok.pdf", "", ""),
            [],
            id="unsupported type, none in the row",
        ),
        pytest.param(
            {"types": {"CV": {"max_amount": 1}}},
            ("ok.pdf", "ok.pdf", ""),
            [
                (
                    ALL_FILES,
                    "attachments",
                    "unsupported_file",
                    "2 CV attachments; this ATS takes at most 1.",
                )
            ],
            id="max_amount",
        ),
        pytest.param(
            {"types": {"CV": {"min_amount": 1}}},
            ("", "", "ok.pdf"),
            [
                (
                    ALL_FILES,
                    "attachments",
                    "required",
                    "this ATS needs at least 1 CV attachment(s); the row has 0.",
                )
            ],
            id="min_amount",
        ),
        pytest.param(
            {"types": {"CV": {"is_supported": False, "max_amount": 0, "min_amount": 3}}},
            ("ok.pdf", "", ""),
            [
                (
                    ALL_FILES,
                    "attachments",
                    "unsupported_file",
                    "this ATS takes no CV attachments; leave them out of the mapping.",
                )
            ],
            id="one problem per type: the first",
        ),
        pytest.param(
            {"types": {"CV": {"max_file_size_bytes": 2000}}},
            ("ok.pdf", "big.pdf", ""),
            [
                (
                    "CV2",
                    "attachments[1]",
                    "file_too_large",
                    "'big.pdf' has 2,508 bytes; this ATS takes CV files of at most 2,000.",
                )
            ],
            id="max_file_size_bytes",
        ),
        pytest.param(
            {"types": {"CV": {"accepted_mime_types": ["application/pdf", "text/plain"]}}},
            ("cv.rtf", "ok.pdf", ""),
            [
                (
                    "CV",
                    "attachments[0]",
                    "unsupported_file",
                    "'cv.rtf' is application/rtf; this ATS takes CV files of type "
                    "application/pdf, text/plain.",
                )
            ],
            id="accepted_mime_types",
        ),
        pytest.param(
            {"types": {"CV": {"max_file_size_bytes": 5, "accepted_mime_types": ["text/plain"]}}},
            ("cv.rtf", "", ""),
            [
                (
                    "CV",
                    "attachments[0]",
                    "file_too_large",
                    "'cv.rtf' has 10 bytes; this ATS takes CV files of at most 5.",
                ),
                (
                    "CV",
                    "attachments[0]",
                    "unsupported_file",
                    "'cv.rtf' is application/rtf; this ATS takes CV files of type text/plain.",
                ),
            ],
            id="every problem of a file",
        ),
        pytest.param(
            {"total_size_bytes": 3000},
            ("big.pdf", "ok.pdf", "big.pdf"),
            [
                (
                    ALL_FILES,
                    "attachments",
                    "file_too_large",
                    "the attachments have 5,124 bytes together; this ATS takes at most 3,000.",
                )
            ],
            id="total_size_bytes",
        ),
        pytest.param(
            {"total_size_bytes": 3000, "types": {"CV": {"min_amount": 1}}},
            ("big.pdf", "", ""),
            [],
            id="within every limit",
        ),
    ],
)
def test_each_attachment_rule_of_the_integration(
    rules, cells, expected, write_csv, write_mapping, tmp_path
):
    from importer.checks import JobCatalog
    from importer.runs import DryRunOptions, dry_run

    (tmp_path / "ok.pdf").write_bytes(b"%PDF-1.4" + b"x" * 100)
    (tmp_path / "big.pdf").write_bytes(b"%PDF-1.4" + b"x" * 2500)
    (tmp_path / "cv.rtf").write_bytes(b"{\\rtf1 cv}")
    source = write_csv(
        [
            ["First", "Last", "Email", "CV", "CV2", "Letter"],
            ["Anna", "Wolf", "a@example.com", *cells],
        ]
    )
    report = tmp_path / "errors.csv"
    catalog = JobCatalog([{"id": JOB, "name": "Backend", "status": "OPEN"}], rules)
    result = dry_run(
        DryRunOptions(source, write_mapping(ATTACHMENTS_MAPPING), report_path=report),
        catalog=catalog,
    )
    found = [(r["column"], r["field"], r["code"], r["message"]) for r in read_csv(report)]
    assert found == expected
    assert result.summary.valid == (0 if expected else 1)


# --- required and conditional questions, FILE answers, sourced_by by email (issue #12) ------


def question(qid, title, kind, required=False, precondition=None, **format_fields):
    """A screening question as GET /ats/jobs lists it (SDK 1.4's ScreeningQuestion)."""
    condition, options = precondition or (None, None)
    return {
        "id": qid,
        "remote_id": None,
        "title": title,
        "description": None,
        "category": None,
        "format": {"type": kind, **format_fields},
        "index": None,
        "required": required,
        "precondition_question_id": condition,
        "precondition_options": options,
    }


REGISTRATIONS = [
    {"id": "RN", "remote_id": "1", "name": "Registered nurse"},
    {"id": "NA", "remote_id": "2", "name": "Nursing assistant"},
    {"id": "NO", "remote_id": "3", "name": "None yet"},
]
NURSE_QUESTIONS = [
    question("NIGHT", "Can you work night shifts?", "BOOLEAN", required=True),
    question("SHIFTS", "How many night shifts a month?", "NUMBER", True, ("NIGHT", [True])),
    question(
        "REG", "Which registration do you hold?", "SINGLE_SELECT", True, options=REGISTRATIONS
    ),
    question("REGNO", "Your registration number", "TEXT", True, ("REG", ["RN", "NA"])),
    question("WARD", "Preferred ward (once registered)", "TEXT", False, ("REGNO", ["x"])),
    question("NOTE", "Please read our policy", "INFORMATION", required=True),
    question(
        "CV2",
        "A second CV",
        "FILE",
        max_file_size_bytes=50,
        accepted_mime_types=["application/pdf"],
    ),
]
NURSE_JOB = {
    "id": "NURSE",
    "name": "Night Nurse",
    "status": "OPEN",
    "screening_questions": NURSE_QUESTIONS,
}
USERS = [
    {"id": "U-SABINE", "email": "Sabine.Roth@example.com", "status": "ACTIVE"},
    {"id": "U-AYLIN", "email": "aylin.demir@example.com", "status": "INACTIVE"},
    {"id": "U-TWIN1", "email": "twin@example.com", "status": "ACTIVE"},
    {"id": "U-TWIN2", "email": "twin@example.com", "status": "ACTIVE"},
    {"id": "U-NOMAIL", "email": None, "status": "ACTIVE"},
]
NURSE_MAPPING = """
candidate: {first_name: First, last_name: Last, email_address: Email}
application: {job_id: {value: NURSE}}
screening_question_answers:
  NIGHT: {column: Night, transform: [bool]}
  SHIFTS: Shifts
  REG: Registration
  REGNO: Number
"""
NURSE_HEADER = ["First", "Last", "Email", "Night", "Shifts", "Registration", "Number"]


def checked_rows(mapping_path, input_path, catalog, base_dir=None):
    """Every row built and checked against `catalog` as the dry run and submit check them."""
    from importer.attachments import FolderSource
    from importer.build import RequestBuilder
    from importer.checks import RowChecker, ValidationSummary, validate_rows
    from importer.mapping import load_mapping
    from importer.readers import read_table

    mapping = load_mapping(mapping_path)
    table = read_table(input_path, expected_columns=mapping.columns())
    mapping = mapping.bind(table.headers, str(input_path))
    builder = RequestBuilder(mapping, FolderSource(base_dir or input_path.parent), "acme:gh")
    summary = ValidationSummary()
    built = list(validate_rows(table.rows, RowChecker(builder, catalog), summary))
    return built, summary


def sent(built):
    from importer.client import request_body

    assert built.request is not None, built.issues
    return request_body(built.request)


def test_required_questions_are_required_only_where_their_conditions_ask_them(
    write_csv, write_mapping
):
    from importer.checks import JobCatalog

    rows = [
        NURSE_HEADER,
        ["Anna", "Wolf", "a@example.com", "ja", "4", "Registered nurse", "R-1"],  # all asked
        ["Ben", "Koch", "b@example.com", "nein", "", "None yet", ""],  # none conditional asked
        ["Cem", "Ak", "c@example.com", "ja", "", "Nursing assistant", ""],  # two asked, empty
        ["Dana", "Roth", "d@example.com", "", "", "", ""],  # the required ones left empty
        ["Eva", "Lang", "e@example.com", "nein", "6", "None yet", "R-9"],  # answers not asked
        ["Fay", "Orr", "f@example.com", "ja", "2", "Midwife", ""],  # a condition's answer refused
    ]
    catalog = JobCatalog([NURSE_JOB])
    built, summary = checked_rows(write_mapping(NURSE_MAPPING), write_csv(rows), catalog)
    found = [(i.row, i.column, i.code, i.severity.value) for b in built for i in b.issues]
    assert found == [
        (4, "Shifts", "missing_required_answer", "error"),
        (4, "Number", "missing_required_answer", "error"),
        (5, "Night", "missing_required_answer", "error"),
        (5, "Registration", "missing_required_answer", "error"),
        (6, "Shifts", "answer_not_asked", "warning"),
        (6, "Number", "answer_not_asked", "warning"),
        (7, "Registration", "unknown_value", "error"),
    ]
    messages = {(i.row, i.column): i.message for b in built for i in b.issues}
    assert messages[(4, "Shifts")] == (
        "'Shifts' is empty, and job 'Night Nurse' requires an answer to 'How many night shifts a "
        "month?' (asked for this row's answer to 'Can you work night shifts?')."
    )
    assert messages[(6, "Number")] == (
        "job 'Night Nurse' asks 'Your registration number' only for some answers to 'Which "
        "registration do you hold?', and the row's answer to it, 'None yet', is not one of "
        "them: this answer is left out."
    )
    assert summary.valid == 3 and summary.warnings_by_code == {"answer_not_asked": 2}
    assert sent(built[0])["screening_question_answers"] == [
        {"question_id": "NIGHT", "answer": True},
        {"question_id": "SHIFTS", "answer": 4.0},
        {"question_id": "REG", "answer": "RN"},
        {"question_id": "REGNO", "answer": "R-1"},
    ]
    # not asked, not sent: an ATS that enforces its conditions would refuse the whole row
    assert sent(built[4])["screening_question_answers"] == [
        {"question_id": "NIGHT", "answer": False},
        {"question_id": "REG", "answer": "NO"},
    ]


def test_a_required_question_the_mapping_does_not_answer_names_the_fix(write_csv, write_mapping):
    from importer.checks import JobCatalog

    mapping = write_mapping("""
        candidate: {first_name: First, last_name: Last, email_address: Email}
        application: {job_id: {value: NURSE}}
        """)
    rows = [["First", "Last", "Email"], ["Anna", "Wolf", "a@example.com"]]
    (built,), _ = checked_rows(mapping, write_csv(rows), JobCatalog([NURSE_JOB]))
    assert [(i.column, i.field, i.code, i.message) for i in built.issues] == [
        (
            "",
            f"screening_question_answers.{qid}",
            "missing_required_answer",
            f"job 'Night Nurse' requires an answer to '{title}', which the mapping does not "
            f"answer: add `{qid}: <column>` under screening_question_answers.",
        )
        for qid, title in [
            ("NIGHT", "Can you work night shifts?"),
            ("REG", "Which registration do you hold?"),
        ]
    ]


def test_a_loop_of_conditions_or_a_condition_on_no_question_reports_nothing(
    write_csv, write_mapping
):
    """Whether such a question is asked cannot be told: the ATS decides, not a guess."""
    from importer.checks import JobCatalog

    job = {
        "id": "NURSE",
        "name": "Odd",
        "status": "OPEN",
        "screening_questions": [
            question("A", "A", "BOOLEAN", True, ("B", [True])),
            question("B", "B", "BOOLEAN", True, ("A", [True])),
            question("C", "C", "TEXT", True, ("GONE", ["x"])),
        ],
    }
    mapping = write_mapping("""
        candidate: {first_name: First, last_name: Last, email_address: Email}
        application: {job_id: {value: NURSE}}
        screening_question_answers: {C: Answer}
        """)
    rows = [["First", "Last", "Email", "Answer"], ["Anna", "Wolf", "a@example.com", "text"]]
    (built,), _ = checked_rows(mapping, write_csv(rows), JobCatalog([job]))
    assert built.issues == [] and sent(built)["screening_question_answers"] == [
        {"question_id": "C", "answer": "text"}
    ]


PDF = b"%PDF-1.4 a small pdf"
FILE_JOB = {
    "id": "NURSE",
    "name": "Night Nurse",
    "status": "OPEN",
    "screening_questions": [NURSE_QUESTIONS[-1], question("REGNO", "Your number", "TEXT")],
}
FILE_MAPPING = """
candidate: {first_name: First, last_name: Last, email_address: Email}
application: {job_id: {value: NURSE}}
screening_question_answers:
  CV2: {column: Second CV, type: FILE}
"""


def test_a_file_question_is_answered_with_the_file_its_cell_names(
    write_csv, write_mapping, tmp_path
):
    from importer.checks import JobCatalog

    (tmp_path / "cvs").mkdir()
    (tmp_path / "cvs" / "anna.pdf").write_bytes(PDF)
    (tmp_path / "cvs" / "big.pdf").write_bytes(PDF + b"x" * 100)
    (tmp_path / "cvs" / "ben.rtf").write_bytes(b"{\\rtf1 cv}")
    rows = [
        ["First", "Last", "Email", "Second CV"],
        ["Anna", "Wolf", "a@example.com", "cvs\\Anna.PDF"],  # as recruiters write paths
        ["Ben", "Koch", "b@example.com", "cvs/ben.rtf"],
        ["Cem", "Ak", "c@example.com", "cvs/big.pdf"],
        ["Dana", "Roth", "d@example.com", "../outside.pdf"],
        ["Eva", "Lang", "e@example.com", "https://files.example.com/eva.pdf"],
    ]
    built, _ = checked_rows(write_mapping(FILE_MAPPING), write_csv(rows), JobCatalog([FILE_JOB]))
    found = [(i.row, i.column, i.field, i.code) for b in built for i in b.issues]
    assert found == [
        (3, "Second CV", "screening_question_answers.CV2", "unsupported_file"),
        (4, "Second CV", "screening_question_answers.CV2", "file_too_large"),
        (5, "Second CV", "screening_question_answers.CV2", "outside_base_dir"),
    ]
    assert [i.message for i in built[2].issues] == [
        "'big.pdf' has 120 bytes; it takes files of at most 50. (question: A second CV)"
    ]
    anna, eva = built[0].request, built[4].request
    # the bytes are read only when the request is sent, as an attachment's are
    assert sent(built[0])["screening_question_answers"] == [
        {"question_id": "CV2", "answer": {"name": "anna.pdf", "content_type": "application/pdf"}}
    ]
    ((question_id, ref),) = anna.answer_files
    assert (question_id, ref.size, ref.read()) == ("CV2", len(PDF), PDF)
    assert anna.files == (ref,) and anna.attachments == ()
    assert sent(built[4])["screening_question_answers"] == [
        {
            "question_id": "CV2",
            "answer": {
                "name": "eva.pdf",
                "content_type": "application/pdf",
                "data_url": "https://files.example.com/eva.pdf",
            },
        }
    ]
    assert eva.answer_files[0][1].url == "https://files.example.com/eva.pdf"


def test_a_file_question_needs_a_file_and_a_file_needs_a_file_question(
    write_csv, write_mapping, tmp_path
):
    from importer.checks import JobCatalog

    (tmp_path / "anna.pdf").write_bytes(PDF)
    mapping = write_mapping("""
        candidate: {first_name: First, last_name: Last, email_address: Email}
        application: {job_id: {value: NURSE}}
        screening_question_answers:
          CV2: Second CV
          REGNO: {column: Number, type: FILE}
        """)
    rows = [["First", "Last", "Email", "Second CV", "Number"]]
    rows += [["Anna", "Wolf", "a@example.com", "anna.pdf", "anna.pdf"]]
    (built,), _ = checked_rows(mapping, write_csv(rows), JobCatalog([FILE_JOB]))
    assert [(i.column, i.code, i.message) for i in built.issues] == [
        (
            "Second CV",
            "invalid_value",
            "this question takes a file; answer it in the mapping with `{column: …, type: FILE}`, "
            "the column holding each file's path. (question: A second CV)",
        ),
        (
            "Number",
            "invalid_value",
            "this question is TEXT, not FILE; drop `type: FILE` from its answer in the mapping. "
            "(question: Your number)",
        ),
    ]


SOURCED_MAPPING = """
candidate: {first_name: First, last_name: Last, email_address: Email}
application: {job_id: {value: NURSE}}
sourced_by: {user_email: Recruiter}
"""


def test_the_sourcing_user_is_found_by_email_among_the_integrations_users(write_csv, write_mapping):
    from importer.checks import JobCatalog

    rows = [
        ["First", "Last", "Email", "Recruiter"],
        ["Anna", "Wolf", "a@example.com", "sabine.roth@EXAMPLE.com"],
        ["Ben", "Koch", "b@example.com", "nobody@example.com"],
        ["Cem", "Ak", "c@example.com", "aylin.demir@example.com"],
        ["Dana", "Roth", "d@example.com", "twin@example.com"],
        ["Eva", "Lang", "e@example.com", ""],
    ]
    job = {"id": "NURSE", "name": "Night Nurse", "status": "OPEN"}
    built, summary = checked_rows(
        write_mapping(SOURCED_MAPPING), write_csv(rows), JobCatalog([job], None, USERS)
    )
    found = [(i.row, i.column, i.field, i.code, i.severity.value) for b in built for i in b.issues]
    assert found == [
        (3, "Recruiter", "sourced_by.user_email", "unknown_user", "error"),
        (4, "Recruiter", "sourced_by.user_email", "inactive_user", "warning"),
        (5, "Recruiter", "sourced_by.user_email", "unknown_user", "error"),
    ]
    assert built[1].issues[0].message == (
        "'nobody@example.com' is the email of no user of this integration; sourced_by names a "
        "user of the ATS (the recruiter who sourced the candidate)."
    )
    assert "2 users of this integration have the email 'twin@example.com'" in (
        built[3].issues[0].message
    )
    assert sent(built[0])["sourced_by"] == {"user_id": "U-SABINE"}
    assert sent(built[2])["sourced_by"] == {"user_id": "U-AYLIN"}
    assert "sourced_by" not in sent(built[4])  # an empty cell: nobody to credit
    assert summary.notices == []


def test_users_that_could_not_be_listed_make_each_row_that_needs_them_say_why(
    write_csv, write_mapping
):
    from importer.checks import JobCatalog

    job = {"id": "NURSE", "name": "Night Nurse", "status": "OPEN"}
    catalog = JobCatalog([job], None, None, "INTEGRATION.MODEL_DISABLED: users are not synced")
    rows = [["First", "Last", "Email", "Recruiter"], ["Anna", "Wolf", "a@example.com", "s@x.de"]]
    (built,), _ = checked_rows(write_mapping(SOURCED_MAPPING), write_csv(rows), catalog)
    assert [(i.code, i.message) for i in built.issues] == [
        (
            "unknown_user",
            "'s@x.de' cannot be looked up: the integration's users could not be listed "
            "(INTEGRATION.MODEL_DISABLED: users are not synced). Map sourced_by.user_id instead, "
            "or leave sourced_by out.",
        )
    ]


def jobs_and_users(jobs, users, pages_of=250):
    """A HostileServer responder: Kombo's answers to GET /ats/jobs and GET /ats/users (paged
    `pages_of` at a time), no attachment rules."""

    def respond(request, sock):
        path, _, query = request.path.partition("?")
        if path.endswith("/ats/jobs"):
            send(sock, 200, {"status": "success", "data": {"next": None, "results": jobs}})
        elif path.endswith("/ats/users"):
            start = int(query.split("cursor=")[1].split("&")[0]) if "cursor=" in query else 0
            more = start + pages_of < len(users)
            page = {"next": str(start + pages_of) if more else None}
            page["results"] = users[start : start + pages_of]
            send(sock, 200, {"status": "success", "data": page})
        else:
            send(sock, 200, {"status": "success", "data": {}})

    return respond


def test_validate_check_remote_reports_required_answers_and_unknown_users(
    write_csv, write_mapping, tmp_path
):
    mapping = write_mapping(NURSE_MAPPING + "sourced_by: {user_email: Recruiter}\n")
    rows = [
        [*NURSE_HEADER, "Recruiter"],
        [
            "Anna",
            "Wolf",
            "a@example.com",
            "yes",
            "4",
            "Registered nurse",
            "R-1",
            "twin@example.com",
        ],
        ["Ben", "Koch", "b@example.com", "no", "", "None yet", "", "sabine.roth@example.com"],
        ["Cem", "Ak", "c@example.com", "yes", "", "None yet", "", "nobody@example.com"],
    ]
    users = [USERS[0], USERS[2]]  # one per page: the cursor is followed
    report = tmp_path / "errors.csv"
    with HostileServer(jobs_and_users([NURSE_JOB], users, pages_of=1)) as server:
        result = CliRunner().invoke(
            main,
            [
                "validate", str(write_csv(rows)), "-m", str(mapping), "--check-remote",
                "--server-url", server.url, "--integration-id", "acme:gh", "--api-key", "key-1234",
                "--report", str(report),
            ],
        )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert [(r["row"], r["column"], r["code"]) for r in read_csv(report)] == [
        ("4", "Shifts", "missing_required_answer"),
        ("4", "Recruiter", "unknown_user"),
    ]
    assert "Rows read: 3   valid: 2   invalid: 1" in result.output
    assert "Note:" not in result.output
    assert [r.path for r in server.received if "/ats/users" in r.path] == [
        "/v1/ats/users?page_size=250",
        "/v1/ats/users?page_size=250&cursor=1",
    ]


def test_without_the_integration_the_dry_run_notes_once_that_users_are_not_checked(
    write_csv, write_mapping, monkeypatch
):
    rows = [["First", "Last", "Email", "Recruiter"]]
    rows += [[f"P{i}", "Wolf", f"p{i}@example.com", "nobody@example.com"] for i in range(3)]
    for workers in ("0", "2"):
        monkeypatch.setenv("KOMBO_IMPORTER_WORKERS", workers)
        result = CliRunner().invoke(
            main, ["validate", str(write_csv(rows)), "-m", str(write_mapping(SOURCED_MAPPING))]
        )
        assert result.exit_code == 0, result.output
        assert result.output.count("Note: the emails in 'Recruiter' (sourced_by.user_email)") == 1


def test_worker_processes_check_against_the_catalog_as_this_process_does(
    write_csv, write_mapping, tmp_path, monkeypatch
):
    from importer.checks import JobCatalog
    from importer.runs import DryRunOptions, dry_run

    (tmp_path / "cv.pdf").write_bytes(PDF)
    (tmp_path / "big.pdf").write_bytes(PDF + b"x" * 100)
    mapping = write_mapping(
        NURSE_MAPPING
        + "  CV2: {column: Second CV, type: FILE}\n"
        + "sourced_by: {user_email: Recruiter}\n"
    )
    rows = [[*NURSE_HEADER, "Second CV", "Recruiter"]]
    for i in range(300):
        night, registration = ("ja", "None yet") if i % 2 else ("nein", "Registered nurse")
        rows.append(
            [
                f"P{i}", "Wolf", f"p{i}@example.com", night, "" if i % 3 else "3", registration,
                "" if i % 5 else "R-5", "big.pdf" if i % 7 == 0 else "cv.pdf",
                USERS[i % 4]["email"],
            ]
        )  # fmt: skip
    source = write_csv(rows)
    catalog = JobCatalog([NURSE_JOB], None, USERS)
    results = {}
    for workers in ("0", "2"):
        monkeypatch.setenv("KOMBO_IMPORTER_WORKERS", workers)
        report = tmp_path / f"errors-{workers}.csv"
        summary = dry_run(
            DryRunOptions(source, mapping, report_path=report), catalog=catalog
        ).summary
        results[workers] = (summary.valid, summary.notices, read_csv(report))
    assert results["0"] == results["2"]
    codes = {r["code"] for r in results["2"][2]}
    assert codes == {
        "missing_required_answer",
        "answer_not_asked",
        "file_too_large",
        "unknown_user",
        "inactive_user",
    }


def test_users_are_listed_only_when_the_mapping_names_a_user_by_email(write_mapping, tmp_path):
    from importer.runs import DryRunOptions, catalog_for
    from importer.settings import SubmitSettings

    def users_asked(mapping):
        with HostileServer(jobs_and_users([NURSE_JOB], USERS)) as server:
            settings = SubmitSettings(
                server_url=server.url, api_key="key-1234", integration_id="a:b"
            )
            catalog = catalog_for(DryRunOptions(tmp_path / "in.csv", mapping), settings)
        return catalog.users, [r.path for r in server.received if "/ats/users" in r.path]

    assert users_asked(write_mapping(NURSE_MAPPING)) == (None, [])
    users, asked = users_asked(write_mapping(SOURCED_MAPPING))
    assert users == USERS and len(asked) == 1


def test_a_user_email_mapping_is_not_sent_without_the_integrations_users(
    write_csv, write_mapping, tmp_path
):
    source = write_csv([["First", "Last", "Email", "Recruiter"], ["A", "B", "a@b.de", "r@x.de"]])
    mapping = write_mapping(SOURCED_MAPPING)
    result = CliRunner().invoke(
        main,
        ["submit", str(source), "-m", str(mapping), "--sandbox", "--yes", "--no-check-remote"],
    )
    assert result.exit_code == 2, result.output
    assert "drop --no-check-remote" in result.output


def test_users_that_cannot_be_listed_stop_nothing_but_the_rows_that_need_them(write_mapping):
    from importer.runs import fetch_catalog
    from importer.settings import SubmitSettings

    def respond(request, sock):
        if "/ats/users" in request.path:
            error = {"code": "INTEGRATION.MODEL_DISABLED", "message": "Users are not synced."}
            send(sock, 409, {"status": "error", "error": error})
        else:
            jobs_and_users([NURSE_JOB], [])(request, sock)

    with HostileServer(respond) as server:
        settings = SubmitSettings(server_url=server.url, api_key="key-1234", integration_id="a:b")
        catalog = fetch_catalog(settings, users=True)
    assert catalog.users is None and catalog.jobs["NURSE"] == NURSE_JOB
    assert "INTEGRATION.MODEL_DISABLED" in (catalog.users_unlisted or "")


@pytest.mark.parametrize(
    "user,problem",
    [
        ({"id": "U1", "email": 42}, "user U1 has an email that is not text"),
        ({"email": "a@b.de"}, "an entry without a string id"),
    ],
)
def test_a_users_listing_not_in_kombos_shape_is_a_clear_error(user, problem):
    import asyncio

    from importer.client import KomboClient
    from importer.errors import FatalApiError
    from importer.settings import SubmitSettings

    async def list_users(url):
        settings = SubmitSettings(server_url=url, api_key="key-1234", integration_id="a:b")
        async with KomboClient(settings) as client:
            return await client.list_users()

    server = HostileServer(jobs_and_users([], [user]))
    with server, pytest.raises(FatalApiError) as raised:
        asyncio.run(list_users(server.url))
    assert problem in str(raised.value)


def test_submit_credits_the_user_and_sends_only_rows_that_answer_what_the_job_requires(
    write_csv, write_mapping, tmp_path
):
    import json

    listing = jobs_and_users([NURSE_JOB], USERS)
    created = []

    def respond(request, sock):
        if request.method == "POST":
            created.append(json.loads(request.body))
            data = {"id": f"C{len(created)}", "applications": [{"id": f"A{len(created)}"}]}
            send(sock, 200, {"status": "success", "data": data, "warnings": []})
        else:
            listing(request, sock)

    mapping = write_mapping(NURSE_MAPPING + "sourced_by: {user_email: Recruiter}\n")
    rows = [
        [*NURSE_HEADER, "Recruiter"],
        ["Anna", "Wolf", "a@example.com", "yes", "4", "None yet", "R-1", "SABINE.ROTH@example.com"],
        ["Ben", "Koch", "b@example.com", "yes", "", "None yet", "", "sabine.roth@example.com"],
    ]
    results = tmp_path / "results.csv"
    with HostileServer(respond) as server:
        result = CliRunner().invoke(
            main,
            [
                "submit", str(write_csv(rows)), "-m", str(mapping), "--server-url", server.url,
                "--integration-id", "acme:gh", "--api-key", "key-1234", "--yes", "-q",
                "--ledger", str(tmp_path / "ledger.sqlite"), "--results", str(results),
            ],
        )  # fmt: skip
    assert result.exit_code == 1, result.output
    (body,) = created
    assert body["sourced_by"] == {"user_id": "U-SABINE"}
    assert body["screening_question_answers"] == [  # REGNO: not asked after "None yet"
        {"question_id": "NIGHT", "answer": True},
        {"question_id": "SHIFTS", "answer": 4.0},
        {"question_id": "REG", "answer": "NO"},
    ]
    assert [(r["status"], r["code"]) for r in read_csv(results)] == [
        ("created", ""),
        ("not_sent", "missing_required_answer"),
    ]


def test_submit_sends_a_file_answer_with_its_bytes_read_only_then(
    write_csv, write_mapping, tmp_path
):
    import base64
    import json

    listing = jobs_and_users([FILE_JOB], [])
    created = []

    def respond(request, sock):
        if request.method == "POST":
            created.append(json.loads(request.body))
            data = {"id": f"C{len(created)}", "applications": [{"id": f"A{len(created)}"}]}
            send(sock, 200, {"status": "success", "data": data, "warnings": []})
        else:
            listing(request, sock)

    (tmp_path / "cv.pdf").write_bytes(PDF)
    rows = [
        ["First", "Last", "Email", "Second CV"],
        ["Anna", "Wolf", "a@example.com", "cv.pdf"],
        ["Ben", "Koch", "b@example.com", "https://files.example.com/ben.pdf"],
    ]
    with HostileServer(respond) as server:
        result = CliRunner().invoke(
            main,
            [
                "submit", str(write_csv(rows)), "-m", str(write_mapping(FILE_MAPPING)),
                "--server-url", server.url, "--integration-id", "acme:gh", "--api-key", "key-1234",
                "--yes", "-q", "--ledger", str(tmp_path / "ledger.sqlite"),
                "--results", str(tmp_path / "results.csv"),
            ],
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert [body["screening_question_answers"] for body in created] == [
        [
            {
                "question_id": "CV2",
                "answer": {
                    "name": "cv.pdf",
                    "content_type": "application/pdf",
                    "data": base64.b64encode(PDF).decode(),
                },
            }
        ],
        [
            {
                "question_id": "CV2",
                "answer": {
                    "name": "ben.pdf",
                    "content_type": "application/pdf",
                    "data_url": "https://files.example.com/ben.pdf",
                },
            }
        ],
    ]
