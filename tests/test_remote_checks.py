"""`--check-remote`: rows checked against the integration's jobs, stages and questions."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from conftest import read_csv

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
        {"question_id": "EYJjhMQT3LtVKXnTbnRT8s6U", "answer": "Python"},
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
    from importer.runs import DryRunOptions, dry_run
    from importer.validate import JobCatalog

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
