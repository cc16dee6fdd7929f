"""Commands and paths the other tests do not reach: `jobs`, `sandbox`, a parallel dry run with
--check-remote, and the SDK's own objections in the report."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from conftest import JOB, read_csv

from importer.cli import main

ROOT = Path(__file__).resolve().parent.parent


def test_jobs_lists_ids_stages_questions_and_options(sandbox):
    args = [
        "jobs",
        "--server-url",
        sandbox.url,
        "--integration-id",
        "sandbox:demo",
        "--api-key",
        "sandbox-key",
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(line.startswith(f"{JOB}  ") for line in lines)
    assert any(line.strip().startswith("stage") for line in lines)
    assert any(line.strip().startswith("question") for line in lines)
    assert lines[-1] == "6 jobs."


def test_the_sandbox_command_serves_until_interrupted():
    process = subprocess.Popen(
        [sys.executable, "-m", "importer", "sandbox", "--port", "0", "--latency", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        first = process.stdout.readline()
        assert first.startswith("Kombo sandbox on http://127.0.0.1:"), first
        url = first.split(" on ", 1)[1].strip()
        jobs = CliRunner().invoke(
            main,
            [
                "jobs",
                "--server-url",
                url,
                "--integration-id",
                "sandbox:demo",
                "--api-key",
                "sandbox-key",
            ],
        )
        assert jobs.exit_code == 0 and "6 jobs." in jobs.output
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0 and "Stopped. It had created 0 candidates." in output


def test_a_parallel_dry_run_checks_remote_like_a_serial_one(
    sandbox, write_csv, write_mapping, tmp_path, monkeypatch
):
    rows = [["First", "Last", "Email", "Job"]] + [
        [f"P{i}", "W", f"p{i}@example.com", JOB if i % 7 else "NoSuchJob"] for i in range(3000)
    ]
    source = write_csv(rows)
    mapping = write_mapping(
        "candidate: {first_name: First, last_name: Last, email_address: Email}\n"
        "application: {job_id: Job}\n"
    )
    reports = {}
    for workers in ("0", "2"):
        monkeypatch.setenv("KOMBO_IMPORTER_WORKERS", workers)
        report = tmp_path / f"report-{workers}.csv"
        result = CliRunner().invoke(
            main,
            [
                "validate",
                str(source),
                "-m",
                str(mapping),
                "--check-remote",
                "--server-url",
                sandbox.url,
                "--integration-id",
                "sandbox:demo",
                "--api-key",
                "sandbox-key",
                "--report",
                str(report),
            ],
        )
        assert result.exit_code == 1, result.output
        reports[workers] = read_csv(report)
    assert reports["0"] == reports["2"]
    assert len(reports["2"]) == 429 and {r["code"] for r in reports["2"]} == {"unknown_job"}


def test_what_only_the_sdk_refuses_is_reported_with_its_field_and_column(write_mapping):
    """The SDK's objections, should one pass our own checks, become issues in the report's
    terms: the dotted field, the column that feeds it, a stable code."""
    import pytest
    from kombo.models import PostAtsCandidatesRequestBody
    from pydantic import ValidationError

    from importer.build import _sdk_issues
    from importer.mapping import load_mapping
    from importer.readers import SourceRow

    mapping = load_mapping(
        write_mapping(
            "candidate: {first_name: First, last_name: Last, email_address: Email,"
            " gender: Gender}\n"
            "application: {job_id: {value: J}}\n"
        )
    ).bind(["First", "Last", "Email", "Gender"], "test")
    body = {
        "candidate": {
            "first_name": "A",
            "last_name": "W",
            "email_address": "a@example.com",
            "gender": "ROBOT",
        },
        "application": {},
    }
    with pytest.raises(ValidationError) as refused:
        PostAtsCandidatesRequestBody.model_validate(body)
    found = _sdk_issues(SourceRow(7, ()), refused.value, mapping)
    assert {(i.row, i.column, i.field, i.code) for i in found} == {
        (7, "Gender", "candidate.gender", "unknown_value"),
        (7, "", "application.job_id", "required"),
    }
    assert all(i.message.endswith("(checked by the Kombo SDK).") for i in found)
