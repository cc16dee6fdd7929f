"""The Python API (`importer.validate`, `importer.submit`): files, DataFrames and dicts in;
problems, requests, files and results out; against the sandbox on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import inspect
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import JOB, SUBMIT_MAPPING, read_csv

import importer
from importer.cli import main
from importer.errors import ConfigError, FatalApiError, InputFileError
from importer.report import ERROR_COLUMNS
from importer.sandbox import Sandbox, SandboxConfig

ROOT = Path(__file__).resolve().parent.parent

PROBLEM_ROWS = [
    ["First", "Last", "Email", "Phone", "Job"],
    ["Anna", "Wolf", "anna@example.com", "+49 151 1234567", ""],
    ["Ben", "", "ben@example", "n/a", ""],  # no last name, a broken email, no phone
    ["Cleo", "Berg", "ANNA@example.com", "", ""],  # Anna's email again, another case
    ["", "", "", "", ""],  # blank: not a row
    ["Dora", "Hahn", "dora@example.com", "call me", ""],
]
PROBLEM_MAPPING = f"""
candidate:
  first_name: First
  last_name: Last
  email_address: Email
  phone_number: {{column: Phone, transform: [{{phone: {{region: DE}}}}]}}
application:
  job_id: {{column: Job, default: {JOB}}}
"""


PEOPLE_MAPPING = f"""
candidate:
  first_name: First
  last_name: Last
  email_address: Email
application:
  job_id: {{value: {JOB}}}
"""


def _where(sandbox) -> dict[str, str]:
    return {"server_url": sandbox.url, "api_key": "sandbox-key", "integration_id": "sandbox:demo"}


def _records(problems):
    return [(p.row, p.column, p.field, p.code, p.message, str(p.severity)) for p in problems]


def test_a_file_through_the_cli_the_path_and_a_dataframe_gives_the_same_problems(
    write_csv, write_mapping, tmp_path
):
    source = write_csv(PROBLEM_ROWS)
    mapping = write_mapping(PROBLEM_MAPPING)
    report = tmp_path / "report.csv"
    ran = CliRunner().invoke(main, ["validate", str(source), "-m", str(mapping), "-q"] + [
        "--report", str(report)])  # fmt: skip
    assert ran.exit_code == 1, ran.output
    by_cli = [
        (int(r["row"]), r["column"], r["field"], r["code"], r["message"], r["severity"])
        for r in read_csv(report)
    ]

    by_path = importer.validate(source, mapping)
    frame = pd.read_csv(source, dtype=str, keep_default_na=False)
    by_frame = importer.validate(frame, mapping)
    frame.index = frame.index + 2  # the CSV's header is row 1: its first data row is row 2
    by_frame_numbered_as_the_file = importer.validate(frame, mapping)

    assert _records(by_path.problems) == by_cli
    assert _records(by_frame_numbered_as_the_file.problems) == by_cli
    assert [p.code for p in by_frame.problems] == [code for _, _, _, code, _, _ in by_cli]
    assert [p.row for p in by_frame.problems] == [row - 2 for row, *_ in by_cli]  # index labels
    duplicate = next(p for p in by_frame.problems if p.code == "duplicate_in_file")
    assert "in row 0;" in duplicate.message  # the earlier row, by its label
    assert by_path.counts == by_frame.counts == {
        "rows_read": 4, "valid": 1, "invalid": 3, "problems": 5, "warnings": 0}  # fmt: skip
    assert {p.code for p in by_path.problems} == {
        "required", "invalid_email", "invalid_phone", "duplicate_in_file"}  # fmt: skip


def test_a_dataframe_of_floats_nans_and_timestamps_gives_the_values_a_user_expects(write_mapping):
    mapping = write_mapping("""
        candidate:
          first_name: First
          last_name: Last
          email_address: Email
          phone_number: Phone
          availability_date: Available
          salary_expectations: {amount: Salary, period: {value: YEAR}}
        application:
          job_id: {value: JOB1}
        """)
    frame = pd.DataFrame(
        {
            "First": ["Anna", "Ben", None, "Dora"],
            "Last": ["Wolf", "Berg", "Hahn", pd.NA],
            "Email": ["anna@example.com", "ben@example.com", "c@example.com", "d@example.com"],
            "Phone": [4915112345678.0, float("nan"), 4915187654321.0, 4915100000000.0],
            "Available": pd.to_datetime(
                ["2026-03-31", None, "2026-04-01", "2026-05-02 14:30"], format="ISO8601"
            ),
            "Salary": [65000, "65k", 70000.0, None],  # an object column of mixed types
        },
        index=[10, 11, 12, 13],
    )
    assert frame["Phone"].dtype == "float64" and frame["Salary"].dtype == object

    dry = importer.validate(frame, mapping)

    assert [(p.row, p.column, p.code, p.value) for p in dry.problems if p.severity == "error"] == [
        (12, "First", "required", None),
        (13, "Last", "required", None),
    ]
    bodies = [request.body for request in dry.valid_requests()]
    assert [b.candidate.phone_number for b in bodies] == ["4915112345678", None]
    assert [b.candidate.availability_date for b in bodies] == [
        dt.datetime(2026, 3, 31, tzinfo=dt.UTC),
        None,
    ]
    assert [b.candidate.salary_expectations.amount for b in bodies] == [65000, 65000]
    warned = [(p.row, p.column, p.code) for p in dry.problems if p.severity == "warning"]
    assert warned == [(row, "Phone", "numeric_text") for row in (10, 12, 13)]  # as from Excel
    annotated = dry.annotated_frame()
    assert list(annotated.index) == [10, 11, 12, 13]
    assert annotated.loc[11, "problems"] == ""
    required = "First: 'First' is empty; candidate.first_name is required."
    assert annotated.loc[12, "problems"].startswith(required + "; warning, Phone: ")  # errors first
    assert annotated.loc[10, "problems"].startswith("warning, Phone: the cell is a number")
    problems = dry.problems_frame()
    assert list(problems.columns) == list(ERROR_COLUMNS)  # the report's
    assert sorted(zip(problems["row"], problems["code"], strict=True)) == [
        (10, "numeric_text"), (12, "numeric_text"), (12, "required"), (13, "numeric_text"),
        (13, "required")]  # fmt: skip


def test_rows_named_by_text_labels_a_column_or_dicts(write_mapping):
    mapping = write_mapping(PEOPLE_MAPPING)
    people = [
        {"id": "c-1", "First": "Anna", "Last": "Wolf", "Email": "anna@example.com"},
        {"id": "c-2", "First": "Ben", "Last": "Berg", "Email": "ANNA@example.com"},
    ]
    by_index = importer.validate(pd.DataFrame(people).set_index("id"), mapping)
    by_column = importer.validate(pd.DataFrame(people), mapping, row_numbers="id")
    by_dicts = importer.validate(people, mapping)
    by_dict_key = importer.validate(iter(people), mapping, row_numbers="id")

    for dry in (by_index, by_column, by_dict_key):
        (duplicate,) = dry.problems
        assert (duplicate.row, duplicate.code) == ("c-2", "duplicate_in_file")
        assert "in row c-1;" in duplicate.message
    assert [p.row for p in by_dicts.problems] == [1]  # dicts: positions, as people[1] counts

    twice = pd.DataFrame(people, index=[5, 5])
    with pytest.raises(InputFileError, match=r"repeats 5; .* frame.reset_index\(drop=True\)"):
        importer.validate(twice, mapping)
    with pytest.raises(InputFileError, match="not a dict"):
        importer.validate([["Anna", "Wolf"]], mapping)
    with pytest.raises(ConfigError, match="sheet= is for reading a file"):
        importer.validate(people, mapping, sheet="Candidates")


def test_a_mapping_from_a_dict_checks_as_a_file_does(write_csv):
    source = write_csv([["First", "Last", "Email"], ["Anna", "Wolf", "anna@example.com"]])
    mapping = {
        "candidate": {"first_name": "First", "last_name": "Last", "email_address": "Email"},
        "application": {"job_id": {"value": JOB}},
    }
    assert importer.validate(source, mapping).counts["valid"] == 1
    assert importer.validate(source, importer.load_mapping(mapping)).counts["valid"] == 1

    mapping["candidate"]["emial"] = mapping["candidate"].pop("email_address")
    with pytest.raises(ConfigError) as raised:
        importer.load_mapping(mapping)
    assert str(raised.value).startswith("<mapping dict>, at candidate.emial:")
    assert "Did you mean 'email_address'?" in str(raised.value)


def test_the_dry_run_writes_what_the_cli_writes(write_csv, write_mapping, tmp_path):
    source = write_csv(PROBLEM_ROWS)
    mapping = write_mapping(PROBLEM_MAPPING)
    CliRunner().invoke(main, ["validate", str(source), "-m", str(mapping), "-q"] + [
        "--out", str(tmp_path / "cli")])  # fmt: skip
    dry = importer.validate(source, mapping)

    written = dry.write_outputs(tmp_path / "api", annotated=True)

    assert sorted(written) == ["annotated", "html", "rejects", "report"]
    for name in ("report.csv", "rejects.csv"):
        assert (tmp_path / "api" / name).read_bytes() == (tmp_path / "cli" / name).read_bytes()
    assert "invalid_email" in written["html"].read_text(encoding="utf-8")
    assert written["annotated"].stat().st_size > 0
    alone = dry.write_html(tmp_path / "alone.html", redact=True)
    assert "ben@example" not in alone.read_text(encoding="utf-8")
    (tmp_path / "mine.csv").write_text("my own file\n")
    with pytest.raises(ConfigError, match="no earlier run"):
        dry.write_report(tmp_path / "mine.csv")

    frame_dry = importer.validate(pd.read_csv(source, dtype=str, keep_default_na=False), mapping)
    rejects = read_csv(frame_dry.write_rejects(tmp_path / "frame-rejects.csv"))
    assert [r["First"] for r in rejects] == ["Ben", "Cleo", "Dora"]
    with pytest.raises(ConfigError, match="no folder"):
        frame_dry.write_outputs()


def test_submit_creates_every_valid_row_once_and_a_second_call_nothing(
    sandbox, write_mapping, tmp_path
):
    frame = pd.DataFrame(
        {
            "First": [f"Person{i}" for i in range(12)] + ["Bad", "Worse"],
            "Last": ["Wolf"] * 12 + ["", "Berg"],
            "Email": [f"person{i}@example.com" for i in range(12)] + ["bad@x.com", "worse@x"],
        },
        index=range(100, 114),
    )
    dry = importer.validate(frame, write_mapping(PEOPLE_MAPPING))
    where = _where(sandbox)
    ledger = tmp_path / "ledger.sqlite"

    first = importer.submit(
        dry, **where, ledger=ledger, results=tmp_path / "results.csv", results_split=True
    )

    assert first.counts == {
        "created": 12, "skipped": 0, "failed": 0, "needs_review": 0, "not_sent": 2}  # fmt: skip
    assert len(sandbox.state.created) == sandbox.state.posts_received == 12
    results = first.frame()
    assert list(results.index) == list(range(100, 114))  # the frame's own labels, in its order
    assert set(results.loc[100:111, "candidate_id"]) == {
        c.candidate_id for c in sandbox.state.created
    }
    assert list(results.loc[112:, "code"]) == ["required", "invalid_email"]
    in_file = [int(r["row"]) for r in read_csv(tmp_path / "results.csv")]
    assert in_file == list(range(100, 114))
    assert len(read_csv(tmp_path / "success.csv")) == 12
    assert [r["Email"] for r in read_csv(tmp_path / "error.csv")] == ["bad@x.com", "worse@x"]
    assert first.ledger == ledger

    second = importer.submit(dry, **where, ledger=ledger)

    assert second.counts["created"] == 0 and second.counts["skipped"] == 12
    assert sandbox.state.posts_received == 12  # the ledger knew: nothing was even asked
    assert "sandbox-key" not in repr(second) + second._repr_html_() + second.frame().to_csv()


def test_cancelling_submit_async_stops_as_ctrl_c_and_leaves_every_row_with_a_status(
    write_mapping, tmp_path
):
    rows = [{"First": f"P{i}", "Last": "Wolf", "Email": f"p{i}@example.com"} for i in range(30)]
    dry = importer.validate(rows, write_mapping(PEOPLE_MAPPING))
    ledger, results = tmp_path / "ledger.sqlite", tmp_path / "results.csv"

    async def cancel_after_three_created(where: dict[str, str]) -> str:
        loop = asyncio.get_running_loop()

        def progress(stats) -> None:  # called from the thread that sends
            if stats.by_status["created"] >= 3 and not cancelled:
                cancelled.append(True)  # once: a second cancel abandons what is in flight
                loop.call_soon_threadsafe(task.cancel)

        cancelled: list[bool] = []

        task = asyncio.ensure_future(
            importer.submit_async(
                dry, **where, ledger=ledger, results=results, concurrency=2, on_progress=progress
            )
        )
        with pytest.raises(asyncio.CancelledError) as stopped:
            await asyncio.wait_for(task, 30)  # bounded
        return str(stopped.value)

    with Sandbox(SandboxConfig(latency=0.1)) as sandbox:
        where = _where(sandbox)
        said = asyncio.run(cancel_after_three_created(where))
        statuses = [r["status"] for r in read_csv(results)]
        created = len(sandbox.state.created)
        assert len(statuses) == 30  # every row has its status
        assert statuses.count("created") == created and 3 <= created < 30
        assert set(statuses) == {"created", "not_sent"}  # rows in flight finished, none lost
        assert f"created {created}" in said and "not_sent" in said
        with sqlite3.connect(ledger) as db:
            states = dict(db.execute("SELECT state, count(*) FROM applications GROUP BY state"))
        assert states["created"] == created and "sending" not in states  # none left in doubt

        rest = importer.submit(dry, **where, ledger=ledger)

        assert rest.counts["created"] == 30 - created and rest.counts["skipped"] == created
        assert len(sandbox.state.created) == 30


def test_submit_and_remote_checks_work_inside_a_running_loop_as_in_a_notebook(write_mapping):
    anna = {"First": "Anna", "Last": "Wolf", "Email": "anna@example.com", "Job": "no-such-job"}
    mapping = write_mapping(SUBMIT_MAPPING)

    async def notebook_cell() -> tuple[importer.DryRun, importer.SubmitResult]:
        dry = importer.validate([anna], mapping, sandbox=True)  # a sandbox's jobs: no such job
        sent = importer.submit(importer.validate([anna | {"Job": ""}], mapping), sandbox=True)
        return dry, sent

    dry, sent = asyncio.run(notebook_cell())
    assert [p.code for p in dry.problems] == ["unknown_job"]
    assert sent.counts["created"] == 1 and sent.ledger is None  # the sandbox's ledger is temporary


def test_an_api_key_the_server_refuses_stops_validate_without_showing_it(
    sandbox, write_csv, write_mapping
):
    source = write_csv([["First", "Last", "Email"], ["Anna", "Wolf", "anna@example.com"]])
    with pytest.raises(FatalApiError) as refused:
        importer.validate(
            source,
            write_mapping(PEOPLE_MAPPING),
            integration_id="sandbox:demo",
            api_key="not-the-key-0123456789",
            server_url=sandbox.url,
        )
    assert "not-the-key-0123456789" not in str(refused.value)
    with pytest.raises(ConfigError, match="No API key"), _without_key():
        importer.validate(source, write_mapping(PEOPLE_MAPPING), integration_id="acme:x")


@contextlib.contextmanager
def _without_key():
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("KOMBO_API_KEY", raising=False)
        yield


def test_the_api_names_are_importer_s_whatever_was_imported_first():
    import importer.runs  # imports the stages checks.py and sending.py  # noqa: F401
    from importer.checks import ValidationSummary

    assert callable(importer.validate) and callable(importer.submit)
    assert ValidationSummary().rows_read == 0
    assert list(inspect.signature(importer.validate).parameters)[:2] == ["source", "mapping"]
    assert list(inspect.signature(importer.submit).parameters)[0] == "dry_run"
    assert set(importer.__all__) >= {"validate", "submit", "submit_async", "load_mapping"}


def test_validating_a_file_or_dicts_does_not_import_pandas(write_csv, write_mapping):
    source = write_csv([["First", "Last", "Email"], ["Anna", "Wolf", "anna@example.com"]])
    mapping = write_mapping(PEOPLE_MAPPING)
    code = (
        "import sys, importer\n"
        f"dry = importer.validate({str(source)!r}, {str(mapping)!r})\n"
        "row = {'First': 'A', 'Last': 'B', 'Email': 'a@b.de'}\n"
        f"dicts = importer.validate([row], {str(mapping)!r})\n"
        "print(dry.counts['valid'], dicts.counts['valid'], 'pandas' in sys.modules)\n"
    )
    ran = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert ran.stdout.split() == ["1", "1", "False"], ran.stderr


def test_the_readme_python_example_runs_as_written(tmp_path, monkeypatch, capsys):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Use it from Python", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert blocks, "README.md has no ```python block under 'Use it from Python'"
    shutil.copytree(ROOT / "example_data", tmp_path / "example_data",
                    ignore=shutil.ignore_patterns("*.kombo"))  # fmt: skip
    shutil.copytree(ROOT / "mappings", tmp_path / "mappings")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KOMBO_API_KEY", raising=False)
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(textwrap.dedent(block), "README.md", "exec"), namespace)  # noqa: S102
    printed = capsys.readouterr().out.splitlines()
    # the output the README shows is the comment after each print(...)
    shown = []
    for block in blocks:
        lines = block.splitlines()
        for line, after in zip(lines, lines[1:], strict=False):
            if line.startswith("print(") and after.startswith("# "):
                shown.append(after[2:])
    assert printed == shown


def test_ctrl_c_during_submit_stops_as_in_the_command_line_then_raises(write_mapping, tmp_path):
    rows = [{"First": f"P{i}", "Last": "Wolf", "Email": f"p{i}@example.com"} for i in range(30)]
    dry = importer.validate(rows, write_mapping(PEOPLE_MAPPING))
    results = tmp_path / "results.csv"
    pressed: list[bool] = []

    def press_ctrl_c_after_three(stats) -> None:  # called from the thread that sends
        if stats.by_status["created"] >= 3 and not pressed:
            pressed.append(True)
            os.kill(os.getpid(), signal.SIGINT)

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with Sandbox(SandboxConfig(latency=0.1)) as sandbox:
            with pytest.raises(KeyboardInterrupt) as interrupted:
                importer.submit(dry, **_where(sandbox), ledger=tmp_path / "ledger.sqlite",
                                results=results, concurrency=2,
                                on_progress=press_ctrl_c_after_three)  # fmt: skip
            created = len(sandbox.state.created)
    finally:
        signal.signal(signal.SIGINT, previous)
    statuses = [r["status"] for r in read_csv(results)]
    assert len(statuses) == 30 and set(statuses) == {"created", "not_sent"}
    assert statuses.count("created") == created < 30
    assert any("every row has its status" in note for note in interrupted.value.__notes__)


def test_a_file_submitted_from_python_keeps_its_ledger_beside_it(sandbox, write_csv, write_mapping):
    source = write_csv([["First", "Last", "Email"], ["Anna", "Wolf", "anna@example.com"]])
    dry = importer.validate(source, write_mapping(PEOPLE_MAPPING))

    first = importer.submit(dry, **_where(sandbox))
    again = importer.submit(importer.validate(source, dry.options.mapping_path), **_where(sandbox))

    assert first.ledger == source.with_name("input.csv.kombo-ledger.sqlite") == again.ledger
    assert first.ledger.is_file()
    assert (first.counts["created"], again.counts["skipped"]) == (1, 1)
    assert list(first.frame().index) == [2]  # the file's row numbers


def test_cells_that_are_equal_but_not_the_same_each_send_their_own_value():
    """A converted cell is remembered for the rows after it, but 1 == 1.0 == True, two
    aware datetimes of the same instant, and Decimal("1.0") == Decimal("1.00"): each row
    sends what its own cell says."""
    import decimal

    import pandas as pd

    from importer.client import request_body

    mapping = {
        "version": 1,
        "candidate": {
            "first_name": "First",
            "last_name": "Last",
            "email_address": "Email",
            "title": {"column": "Seen", "required": True},
            "company": "Company",
        },
        "application": {"job_id": {"value": "JOB1"}},
    }
    frame = pd.DataFrame(
        {
            "First": ["A", "A", "A"],
            "Last": ["B", "B", "B"],
            "Email": ["a@example.com", "b@example.com", "c@example.com"],
            "Seen": [
                pd.Timestamp("2025-01-01 00:00", tz="UTC"),
                pd.Timestamp("2025-01-01 01:00", tz="Europe/Berlin"),
                pd.Timestamp("2025-01-01 00:00", tz="UTC"),
            ],
            "Company": [decimal.Decimal("1.0"), decimal.Decimal("1.00"), decimal.Decimal("1.0")],
        }
    )
    sent = [
        request_body(r)["candidate"] for r in importer.validate(frame, mapping).valid_requests()
    ]
    assert [c["title"] for c in sent] == ["2025-01-01", "2025-01-01T01:00:00+01:00", "2025-01-01"]
    assert [c["company"] for c in sent] == ["1.0", "1.00", "1.0"]
