"""`--check-remote`: rows checked against the integration's jobs, stages and questions."""

from __future__ import annotations

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
