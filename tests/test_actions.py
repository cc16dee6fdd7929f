"""The history a migration carries over: `after_create` notes, rejections and tags, checked in
the dry run like the body and sent after the create, each exactly once across runs and
crashes."""

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
from conftest import JOB, read_csv, submit_command

from importer.cli import main
from importer.errors import ConfigError
from importer.mapping import load_mapping

ROOT = Path(__file__).resolve().parent.parent
HISTORY_MAPPING = f"""
candidate: {{first_name: First, last_name: Last, email_address: Email}}
application: {{job_id: {{value: {JOB}}}}}
after_create:
  notes:
    - Note
    - {{column: Feedback, split: "---"}}
  reject:
    when: {{column: Status, in: [Rejected, abgesagt]}}
    rejection_reason: Reason
    note: Why
  tags: {{column: Tags, split: ","}}
"""
HEADER = ["First", "Last", "Email", "Note", "Feedback", "Status", "Reason", "Why", "Tags"]


def history(write_csv, count: int) -> Path:
    rows = [HEADER]
    for i in range(count):
        rejected = i % 3 == 0
        rows.append(
            [
                f"P{i}",
                "Wolf",
                f"p{i}@example.com",
                f"First call with P{i}" if i % 2 == 0 else "",
                f"Strong---Hire P{i}" if i % 4 == 0 else "",
                "Abgesagt" if rejected else "Active",
                "Not a fit" if rejected else "",
                "Too junior" if rejected else "",
                f"fair, batch{i % 2}" if i % 5 else "",
            ]
        )
    return write_csv(rows, name="history.csv")


def history_run(source, mapping, sandbox, tmp_path, *extra) -> list[str]:
    """`submit` of the history file to the sandbox, with its ledger and results in tmp_path."""
    ledger, results = tmp_path / "l.sqlite", tmp_path / "r.csv"
    return [str(a) for a in submit_command(source, mapping, sandbox.url, ledger, results, *extra)]


def expected(count: int) -> tuple[dict[str, list[str]], dict[str, int], dict[str, list[str]]]:
    """Per email: the notes, whether rejected, the tags the rows ask for."""
    notes, rejected, tags = {}, {}, {}
    for i in range(count):
        email = f"p{i}@example.com"
        notes[email] = ([f"First call with P{i}"] if i % 2 == 0 else []) + (
            ["Strong", f"Hire P{i}"] if i % 4 == 0 else []
        )
        rejected[email] = 1 if i % 3 == 0 else 0
        tags[email] = ["fair", f"batch{i % 2}"] if i % 5 else []
    return notes, rejected, tags


def received(sandbox) -> tuple[dict[str, list[str]], dict[str, int], dict[str, list[str]]]:
    """What the sandbox was sent, per email."""
    by_application = {c.application_id: c.email for c in sandbox.state.created}
    by_candidate = {c.candidate_id: c.email for c in sandbox.state.created}
    notes = {email: [] for email in by_candidate.values()}
    rejected = dict.fromkeys(by_candidate.values(), 0)
    tags = {email: [] for email in by_candidate.values()}
    for application, contents in sandbox.state.notes_received.items():
        notes[by_application[application]] += contents
    for application, rejections in sandbox.state.rejections_received.items():
        rejected[by_application[application]] += len(rejections)
    for candidate, names in sandbox.state.tags_received.items():
        tags[by_candidate[candidate]] += names
    return notes, rejected, tags


def test_after_create_is_checked_like_the_body(write_mapping):
    for text, message in [
        ("after_create: {notse: Note}", "'notse' is not an action after the create. Did you mean"),
        ("after_create: {reject: {when: Status}}", "rejection_reason_id"),
        (
            "after_create: {reject: {rejection_reason: R, when: Status}}",
            "expected when: {column: Status, in: [Rejected, …]}",
        ),
        ("after_create: {reject: {rejection_reason: R, becuase: X}}", "not a field of the reject"),
    ]:
        path = write_mapping(
            f"candidate: {{first_name: F, last_name: L, email_address: E}}\n"
            f"application: {{job_id: {{value: J}}}}\n{text}\n"
        )
        with pytest.raises(ConfigError) as raised:
            load_mapping(path)
        assert message in str(raised.value) and "line 3" in str(raised.value)


def test_the_dry_run_finds_rejections_without_a_known_reason(sandbox, write_csv, write_mapping):
    rows = [
        HEADER,
        ["A", "Wolf", "a@example.com", "", "", "Rejected", "", "", ""],  # no reason
        ["B", "Wolf", "b@example.com", "", "", "Rejected", "Bad vibes", "", ""],  # not a reason
        ["C", "Wolf", "c@example.com", "  ", "", "Active", "", "", ""],  # empty note: skipped
        ["D", "Wolf", "d@example.com", "", "", "REJECTED", "not A FIT", "", ""],
    ]
    source = write_csv(rows, name="history.csv")
    mapping = write_mapping(HISTORY_MAPPING)
    report = source.with_name("report.csv")
    result = CliRunner().invoke(
        main,
        ["validate", str(source), "-m", str(mapping), "--sandbox", "--check-remote",
         "--report", str(report)],
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    problems = {(r["row"], r["code"]) for r in read_csv(report)}
    assert problems == {("2", "missing_rejection_reason"), ("3", "unknown_rejection_reason")}
    [unknown] = [r for r in read_csv(report) if r["row"] == "3"]
    assert "'Not a fit'" in unknown["message"] and unknown["column"] == "Reason"


def test_every_note_rejection_and_tag_is_sent_once_and_a_rerun_sends_nothing(
    sandbox, write_csv, write_mapping, tmp_path
):
    source, mapping = history(write_csv, 12), write_mapping(HISTORY_MAPPING)
    args = history_run(source, mapping, sandbox, tmp_path)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert received(sandbox) == expected(12)
    [first] = [r for r in read_csv(tmp_path / "r.csv") if r["Email"] == "p0@example.com"]
    assert first["actions"] == "notes 3/3, rejected"
    reasons = {reason for (reason, _) in sum(sandbox.state.rejections_received.values(), [])}
    assert reasons == {"hR4kWq8ZpN2vXm6TcL9bYs3D"}  # "Not a fit", by its name
    posts = sandbox.state.posts_received
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert received(sandbox) == expected(12) and sandbox.state.posts_received == posts


def test_a_failed_action_leaves_the_row_created_and_the_next_run_sends_it(
    sandbox, write_csv, write_mapping, tmp_path
):
    sandbox.config.set_script(["403"], "add_application_note")  # refused: not written
    source, mapping = history(write_csv, 3), write_mapping(HISTORY_MAPPING)
    args = history_run(source, mapping, sandbox, tmp_path, "--concurrency", "1")
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    [first] = [r for r in read_csv(tmp_path / "r.csv") if r["Email"] == "p0@example.com"]
    assert (first["status"], first["code"]) == ("created", "actions_failed")
    assert first["actions"] == "notes 2/3, rejected" and "a note not done" in first["warnings"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    notes, rejected, tags = received(sandbox)
    assert notes["p0@example.com"][-1] == "First call with P0"  # sent again, after the others
    assert (rejected, tags) == expected(3)[1:]
    assert {k: sorted(v) for k, v in notes.items()} == {
        k: sorted(v) for k, v in expected(3)[0].items()
    }


def test_a_tag_in_doubt_is_settled_by_the_next_runs_lookup_never_sent_twice(
    sandbox, write_csv, write_mapping, tmp_path
):
    sandbox.config.set_script(["drop_after_create"], "add_candidate_tag")  # done, answer lost
    source, mapping = history(write_csv, 2), write_mapping(HISTORY_MAPPING)
    args = history_run(source, mapping, sandbox, tmp_path, "--concurrency", "1")
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    [second] = [r for r in read_csv(tmp_path / "r.csv") if r["Email"] == "p1@example.com"]
    assert "tag 'fair' needs review" in second["warnings"]
    status = CliRunner().invoke(main, ["status", str(tmp_path / "l.sqlite")])
    assert "after the create, tags: done 1   needs_review 1" in status.output
    assert "--resend-needs-review" in status.output
    result = CliRunner().invoke(main, args)  # the candidate's tags show it: done
    assert result.exit_code == 0, result.output
    [second] = [r for r in read_csv(tmp_path / "r.csv") if r["Email"] == "p1@example.com"]
    assert second["actions"] == "tags 2/2" and second["warnings"] == ""
    assert received(sandbox) == expected(2)  # sent once: present once, never twice


def test_a_note_in_doubt_is_never_sent_again_without_a_persons_say(
    sandbox, write_csv, write_mapping, tmp_path
):
    sandbox.config.set_script(["drop_after_create"], "add_application_note")  # answer lost
    source, mapping = history(write_csv, 2), write_mapping(HISTORY_MAPPING)
    args = history_run(source, mapping, sandbox, tmp_path, "--concurrency", "1")
    for _ in range(2):  # Kombo reads no notes: nothing can tell, so nothing is resent
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 1, result.output
        [first] = [r for r in read_csv(tmp_path / "r.csv") if r["Email"] == "p0@example.com"]
        assert "a note needs review" in first["warnings"]
    assert received(sandbox) == expected(2)
    CliRunner().invoke(main, [*args, "--resend-needs-review"])
    assert received(sandbox)[0]["p0@example.com"].count("First call with P0") == 2  # asked for


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_killed_at_a_random_moment_and_run_again_every_action_is_there_at_most_once(
    sandbox, write_csv, write_mapping, tmp_path, seed
):
    """SIGKILL anywhere: a re-run completes every action not in doubt, and none is ever sent
    twice; an action whose request was in flight at the kill is reported needs_review."""
    sandbox.config.latency = 0.02
    source, mapping = history(write_csv, 24), write_mapping(HISTORY_MAPPING)
    args = submit_command(
        source, mapping, sandbox.url, tmp_path / "l.sqlite", tmp_path / "r.csv",
        "--concurrency", "3", "--lookup-window", "0.2",
    )  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "importer", *map(str, args)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(random.Random(seed).uniform(1.0, 2.5))
    process.send_signal(signal.SIGKILL)
    process.wait(30)
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code in (0, 1), result.output
    want, got = expected(24), received(sandbox)
    in_doubt = set()
    with sqlite3.connect(tmp_path / "l.sqlite") as db:
        in_doubt = {row[0] for row in db.execute("SELECT email FROM actions WHERE state != 'done'")}
    for email in want[0]:
        for wanted, sent in zip(want, got, strict=True):
            if isinstance(wanted[email], int):
                assert sent.get(email, 0) <= wanted[email]
            else:
                assert len(sent.get(email, [])) == len(set(sent.get(email, [])))  # never twice
                if email not in in_doubt:
                    assert sorted(sent.get(email, [])) == sorted(wanted[email])
    assert len({c.email for c in sandbox.state.created}) == len(sandbox.state.created) == 24


def test_a_rejects_file_sends_the_cells_the_export_had_not_their_formula_guard(
    sandbox, write_csv, write_mapping, tmp_path
):
    rows = [
        ["First", "Last", "Email", "-Note"],
        ["A", "Wolf", "a@example", "- called on Monday"],  # a bad email: rejected
        ["B", "Wolf", "b@example", "=HYPERLINK(1)"],
    ]
    source = write_csv(rows, name="people.csv")
    mapping = write_mapping(
        f"candidate: {{first_name: First, last_name: Last, email_address: Email}}\n"
        f"application: {{job_id: {{value: {JOB}}}}}\nafter_create: {{notes: [-Note]}}\n"
    )
    result = CliRunner().invoke(main, ["validate", str(source), "-m", str(mapping)])
    assert result.exit_code == 1, result.output
    rejects = tmp_path / "people.kombo" / "rejects.csv"
    text = rejects.read_text(encoding="utf-8-sig")
    assert "'- called on Monday" in text and "'=HYPERLINK(1)" in text  # safe to open in Excel
    fixed = text.replace("a@example,", "a@example.com,").replace("b@example,", "b@example.com,")
    rejects.write_text(fixed, encoding="utf-8-sig")
    args = submit_command(rejects, mapping, sandbox.url, tmp_path / "l.sqlite", tmp_path / "r.csv")
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    notes = sorted(sum(sandbox.state.notes_received.values(), []))
    assert notes == ["- called on Monday", "=HYPERLINK(1)"]


def test_a_rejection_in_doubt_is_settled_by_the_applications_outcome(
    sandbox, write_csv, write_mapping, tmp_path
):
    sandbox.config.set_script(["drop_after_create"], "reject_application")  # answer lost
    source, mapping = history(write_csv, 1), write_mapping(HISTORY_MAPPING)
    args = history_run(source, mapping, sandbox, tmp_path)
    assert CliRunner().invoke(main, args).exit_code == 1  # in doubt
    result = CliRunner().invoke(main, args)  # GET /ats/candidates: the application is DECLINED
    assert result.exit_code == 0, result.output
    [row] = read_csv(tmp_path / "r.csv")
    assert row["actions"] == "notes 3/3, rejected"
    assert received(sandbox) == expected(1)  # rejected once


@pytest.mark.parametrize("operation", ["add_candidate_tag", "reject_application"])
def test_an_action_in_doubt_is_not_sent_again_while_reads_lag(
    sandbox, write_csv, write_mapping, tmp_path, operation
):
    """The candidate not yet in Kombo's reads says nothing about its tag or rejection: the
    action stays in doubt, even a window after its request, and is never sent twice."""
    sandbox.config.set_script(["drop_after_create"], operation)  # done, answer lost
    source, mapping = history(write_csv, 2), write_mapping(HISTORY_MAPPING)
    args = history_run(source, mapping, sandbox, tmp_path, "--concurrency", "1")
    assert CliRunner().invoke(main, args).exit_code == 1
    sandbox.config.read_lag = 600  # the candidates are not in the reads yet
    again = [
        *args[: args.index("--lookup-window") + 1],
        "0",
        *args[args.index("--lookup-window") + 2 :],
    ]
    for _ in range(2):
        result = CliRunner().invoke(main, again)
        assert result.exit_code == 1, result.output
    assert received(sandbox) == expected(2)  # once each
    sandbox.config.read_lag = 0  # reads catch up: settled by the lookup, nothing resent
    result = CliRunner().invoke(main, again)
    assert result.exit_code == 0, result.output
    assert received(sandbox) == expected(2)
