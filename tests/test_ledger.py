"""The ledger: re-runs never create twice, crashes lose nothing. Real SQLite files, real
subprocesses killed with real signals, against the sandbox on 127.0.0.1."""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import read_csv, submit_command

from importer.cli import main
from importer.ledger import Ledger

ROOT = Path(__file__).resolve().parent.parent


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def submit_args(source, mapping, sandbox, ledger, results, *extra):
    config = sandbox.config
    return submit_command(
        source,
        mapping,
        sandbox.url,
        ledger,
        results,
        *extra,
        integration_id=config.integration_id,
        api_key=config.api_key,
    )


def ledger_rows(path):
    with sqlite3.connect(path) as db:
        return {
            email: (state, candidate)
            for email, state, candidate in db.execute(
                "SELECT email, state, candidate_id FROM applications"
            )
        }


def start_submit(args):
    return subprocess.Popen(
        [sys.executable, "-m", "importer", *map(str, args)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_killed_at_a_random_moment_and_run_again_creates_each_row_exactly_once(
    sandbox, people, tmp_path, seed
):
    sandbox.config.latency = 0.02
    source, mapping = people(200)
    ledger, results = tmp_path / "ledger.sqlite", tmp_path / "results.csv"
    args = submit_args(source, mapping, sandbox, ledger, results, "--concurrency", "10")
    kill_after = random.Random(seed).randint(5, 180)  # POSTs received before the kill
    process = start_submit(args)
    for _ in range(1200):
        if sandbox.state.posts_received >= kill_after or process.poll() is not None:
            break
        time.sleep(random.Random(seed).uniform(0.001, 0.01))
    process.send_signal(signal.SIGKILL)
    process.wait(30)
    before = len(sandbox.state.created)
    assert before < 200, "the run ended before it could be killed"
    again = start_submit(args)
    output, _ = again.communicate(timeout=120)
    assert again.returncode == 0, output
    created = sandbox.state.created
    assert len(created) == 200 and len({c.email for c in created}) == 200
    assert sandbox.state.already_exists_answers == 0  # nothing re-sent blindly after the kill
    rows = read_csv(results)
    assert sorted(int(r["row"]) for r in rows) == list(range(2, 202))
    assert {r["status"] for r in rows} <= {"created", "skipped"}
    assert (
        sum(r["status"] == "skipped" for r in rows) <= before + 10
    )  # skipped: created by the killed run
    held = {c.email: c.candidate_id for c in created}
    assert ledger_rows(ledger) == {
        email: ("created", candidate) for email, candidate in held.items()
    }
    assert {r["candidate_id"] for r in rows} == set(held.values())


def test_ctrl_c_stops_cleanly_and_a_rerun_finishes(sandbox, people, tmp_path):
    sandbox.config.latency = 0.05
    source, mapping = people(300)
    ledger, results = tmp_path / "ledger.sqlite", tmp_path / "results.csv"
    args = submit_args(source, mapping, sandbox, ledger, results, "--concurrency", "5")
    process = start_submit(args)
    for _ in range(200):  # wait until it is sending
        if sandbox.state.posts_received >= 20:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 130, output
    assert "Interrupted: rows in flight were finished and recorded" in output
    assert "Traceback" not in output and "never retrieved" not in output
    rows = read_csv(results)
    assert len(rows) == 300 and {r["status"] for r in rows} == {"created", "not_sent"}
    assert sum(r["status"] == "created" for r in rows) == len(sandbox.state.created)
    assert "sending" not in {state for state, _ in ledger_rows(ledger).values()}
    sandbox.config.latency = 0
    result = cli(*submit_args(source, mapping, sandbox, ledger, results))
    assert result.exit_code == 0, result.output
    assert len(sandbox.state.created) == 300 and sandbox.state.already_exists_answers == 0


def test_a_row_changed_after_it_was_created_is_reported_not_sent(sandbox, people, tmp_path):
    source, mapping = people(3)
    ledger, results = tmp_path / "ledger.sqlite", tmp_path / "results.csv"
    assert cli(*submit_args(source, mapping, sandbox, ledger, results)).exit_code == 0
    source.write_text(source.read_text().replace("Person1,", "Persona1,"))
    result = cli(*submit_args(source, mapping, sandbox, ledger, results))
    assert result.exit_code == 1
    assert "1 rows were created in an earlier run and have changed since" in result.output
    rows = {r["row"]: r for r in read_csv(results)}
    assert (rows["3"]["status"], rows["3"]["code"]) == ("skipped", "changed_since_import")
    assert (rows["2"]["status"], rows["2"]["code"]) == ("skipped", "already_created")
    assert sandbox.state.posts_received == 3


def test_a_permanent_failure_is_not_resent_until_the_row_is_fixed(
    sandbox, write_csv, write_mapping, tmp_path
):
    from conftest import JOB, SUBMIT_MAPPING

    source = write_csv(
        [
            ["First", "Last", "Email", "Job"],
            ["Anna", "Wolf", "anna@example.com", "NoSuchJob"],
            ["Ben", "Koch", "ben@example.com", ""],
        ]
    )
    mapping = write_mapping(SUBMIT_MAPPING)
    ledger, results = tmp_path / "ledger.sqlite", tmp_path / "results.csv"
    args = submit_args(
        source, mapping, sandbox, ledger, results, "--no-check-remote"
    )  # let Kombo refuse the row
    assert cli(*args).exit_code == 1
    assert {r["row"]: r["code"] for r in read_csv(results)}["2"] == "api.REMOTE.INPUT_INVALID"
    result = cli(*args)
    assert result.exit_code == 1 and sandbox.state.posts_received == 2  # not sent again
    failed = next(r for r in read_csv(results) if r["row"] == "2")
    assert failed["status"] == "failed" and failed["message"].startswith(
        "failed in an earlier run and unchanged since"
    )
    status = cli("status", ledger)
    assert "created 1   failed 1" in status.output and "NoSuchJob" in status.output
    source.write_text(source.read_text().replace("NoSuchJob", JOB))
    result = cli(*args)
    assert result.exit_code == 0, result.output
    assert sandbox.state.posts_received == 3 and len(sandbox.state.created) == 2


def test_one_ledger_serves_two_integrations(people, tmp_path):
    from importer.sandbox import Sandbox, SandboxConfig

    source, mapping = people(4)
    ledger = tmp_path / "ledger.sqlite"
    with (
        Sandbox(SandboxConfig(integration_id="acme:greenhouse")) as first,
        Sandbox(SandboxConfig(integration_id="acme:lever")) as second,
    ):
        for running in (first, second, first):
            result = cli(*submit_args(source, mapping, running, ledger, tmp_path / "results.csv"))
            assert result.exit_code == 0, result.output
        assert len(first.state.created) == 4 and len(second.state.created) == 4
        assert first.state.posts_received == 4  # the third run sent nothing
    status = cli("status", ledger)
    assert (
        "acme:greenhouse: created 4" in status.output and "acme:lever: created 4" in status.output
    )


def test_a_ledger_in_use_by_another_run_is_a_clear_error(sandbox, people, tmp_path):
    source, mapping = people(2)
    ledger = tmp_path / "ledger.sqlite"
    with Ledger(ledger):
        for side_file in tmp_path.glob(
            "ledger.sqlite?*"
        ):  # what a user might delete: no lock lives there
            if side_file.suffix == ".lock":
                side_file.unlink()
        result = cli(*submit_args(source, mapping, sandbox, ledger, tmp_path / "results.csv"))
    assert result.exit_code == 2
    assert f"Error: {ledger}: the ledger is in use by another run." in result.output
    assert sandbox.state.posts_received == 0
    assert not list(tmp_path.glob("*.lock"))  # a refused run leaves nothing behind


def test_a_second_process_cannot_take_a_ledger_in_use_even_without_side_files(
    sandbox, people, tmp_path
):
    """The lock is on the ledger file itself: deleting every file beside it does not let a
    second run in."""
    sandbox.config.latency = 0.2  # the first run lasts ~6 s: longer than a loaded machine's start
    source, mapping = people(60)
    ledger, results = tmp_path / "ledger.sqlite", tmp_path / "results.csv"
    first = start_submit(
        submit_args(source, mapping, sandbox, ledger, results, "--concurrency", "2")
    )
    try:
        for _ in range(400):
            if sandbox.state.posts_received >= 3 or first.poll() is not None:
                break
            time.sleep(0.01)
        for side_file in tmp_path.glob("ledger.sqlite?*"):
            side_file.unlink(missing_ok=True)
        second = start_submit(
            submit_args(source, mapping, sandbox, ledger, tmp_path / "second.csv")
        )
        output, _ = second.communicate(timeout=60)
        assert second.returncode == 2, output
        assert "the ledger is in use by another run" in output
    finally:
        first.kill()
        first.wait(30)
    assert len({c.email for c in sandbox.state.created}) == len(sandbox.state.created)


def test_the_ledger_holds_no_file_contents_and_no_key(sandbox, write_csv, write_mapping, tmp_path):
    (tmp_path / "cv.pdf").write_bytes(b"%PDF-1.4 SECRET-CV-CONTENT")
    source = write_csv(
        [["First", "Last", "Email", "CV"], ["Anna", "Wolf", "anna@example.com", "cv.pdf"]]
    )
    mapping = write_mapping(
        "candidate: {first_name: First, last_name: Last, email_address: Email}\n"
        "application: {job_id: {value: BDpgnpZ148nrGh4mYHNxJBgx}}\n"
        "attachments: [{column: CV, type: CV}]\n"
    )
    ledger = tmp_path / "ledger.sqlite"
    assert (
        cli(*submit_args(source, mapping, sandbox, ledger, tmp_path / "results.csv")).exit_code == 0
    )
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("ledger.sqlite*"))
    assert (
        b"SECRET-CV-CONTENT" not in raw
        and b"U0VDUkVU" not in raw
        and sandbox.config.api_key.encode() not in raw
    )
    assert (
        "SECRET-CV-CONTENT"
        in __import__("base64")
        .b64decode(sandbox.state.created[0].body["attachments"][0]["data"])
        .decode()
    )


def test_status_of_a_missing_ledger():
    result = cli("status", "/nonexistent/ledger.sqlite")
    assert result.exit_code == 2 and "no such ledger" in result.output


def test_a_row_that_ran_out_of_retries_is_sent_again_next_run(sandbox, people, tmp_path):
    from importer.runs import DryRunOptions, SubmitOptions, submit_file
    from importer.settings import SubmitSettings

    source, mapping = people(1)
    settings = SubmitSettings(
        server_url=sandbox.url,
        api_key="sandbox-key",
        integration_id="sandbox:demo",
        max_attempts=2,
        backoff_initial=0.01,
    )
    options = SubmitOptions(
        DryRunOptions(source, mapping),
        tmp_path / "results.csv",
        ledger_path=tmp_path / "ledger.sqlite",
        check_remote=False,
    )
    sandbox.config.set_script(["503", "503"])
    submit_file(options, settings)
    (first,) = read_csv(tmp_path / "results.csv")
    assert (first["status"], first["message"].endswith("gave up after 2 attempts")) == (
        "failed",
        True,
    )
    assert ledger_rows(tmp_path / "ledger.sqlite") == {"person0@example.com": ("failed", None)}
    submit_file(options, settings)
    (second,) = read_csv(tmp_path / "results.csv")
    assert second["status"] == "created" and len(sandbox.state.created) == 1
