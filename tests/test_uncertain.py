"""Kombo's semantics for writes whose outcome is uncertain, and what follows a create: rows are
looked up late (reads lag writes), never sent twice blindly, and left `needs_review` when
nothing can tell; `--retry-failed` looks first; ids of existing applications, Kombo's log
links, the batch tag and the canary."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import threading
import time
from urllib.parse import quote

import httpx
import pytest
from click.testing import CliRunner
from conftest import JOB, read_csv, submit_command
from hostile import HostileServer, Request, send

from importer.cli import main
from importer.errors import FatalApiError
from importer.runs import DryRunOptions, SubmitOptions, submit_file
from importer.settings import SubmitSettings


def settings_for(url: str, **overrides) -> SubmitSettings:
    values = {
        "server_url": url,
        "api_key": "sandbox-key",
        "integration_id": "sandbox:demo",
        "backoff_initial": 0.01,
        "backoff_max": 0.05,
        "lookup_window": 0.3,
    }
    return SubmitSettings(**(values | overrides))


def run(source, mapping, tmp_path, settings, **options):
    results = tmp_path / "results.csv"
    outcome = submit_file(
        SubmitOptions(
            DryRunOptions(source, mapping),
            results,
            ledger_path=tmp_path / "ledger.sqlite",
            check_remote=False,
            **options,
        ),
        settings,
    )
    return outcome, read_csv(results)


def ledger_rows(path) -> dict[str, dict]:
    with sqlite3.connect(path) as db:
        db.row_factory = sqlite3.Row
        return {row["email"]: dict(row) for row in db.execute("SELECT * FROM applications")}


def created_emails(sandbox) -> list[str]:
    return [c.email for c in sandbox.state.created]


def test_a_lookup_the_integration_refuses_leaves_that_row_for_review_and_the_run_goes_on(
    sandbox, people, tmp_path
):
    sandbox.config.disabled_models = {"candidates"}  # the read model is off in the scope config
    sandbox.config.set_script(["drop_after_create", "ok", "drop_after_create"])
    source, mapping = people(6)
    outcome, results = run(source, mapping, tmp_path, settings_for(sandbox.url, concurrency=1))
    assert [r["status"] for r in results] == [
        "needs_review",
        "created",
        "needs_review",
        "created",
        "created",
        "created",
    ]
    assert results[0]["code"] == "lookup_failed"
    assert "INTEGRATION.MODEL_DISABLED" in results[0]["message"]
    assert "Check the ATS for person0@example.com" in results[0]["message"]
    assert outcome.stats.lookups == 1  # refused for every row: not asked again
    assert sorted(created_emails(sandbox)) == [f"person{i}@example.com" for i in range(6)]
    assert ledger_rows(tmp_path / "ledger.sqlite")["person0@example.com"]["state"] == (
        "needs_review"
    )


def test_a_lookup_refused_for_the_whole_integration_stops_the_run(people, tmp_path):
    def respond(request: Request, sock) -> None:
        if request.method == "POST":
            sock.shutdown(socket.SHUT_RDWR)  # dropped: uncertain, it has to be looked up
        else:
            send(
                sock,
                401,
                {"status": "error", "error": {"code": "PLATFORM.AUTHENTICATION_INVALID",
                                              "title": "Bad key", "message": "Wrong key."}},
            )  # fmt: skip

    source, mapping = people(1)
    with HostileServer(respond) as server:
        result = CliRunner().invoke(
            main,
            [str(a) for a in submit_command(
                source, mapping, server.url, tmp_path / "l.sqlite", tmp_path / "r.csv",
                "--no-check-remote",
            )],
        )  # fmt: skip
    assert result.exit_code == 3, result.output
    assert "PLATFORM.AUTHENTICATION_INVALID" in result.output
    [row] = read_csv(tmp_path / "r.csv")
    assert row["status"] == "needs_review"


def test_reads_that_lag_writes_end_every_row_created_once_or_for_review_never_twice(
    sandbox, people, tmp_path
):
    sandbox.config.read_lag = 0.6  # a new candidate shows in lookups only after 0.6 s
    sandbox.config.fault_rates = {"drop_after_create": 0.4}
    sandbox.config.seed = 7
    source, mapping = people(30)
    settings = settings_for(sandbox.url, concurrency=5, lookup_window=1.0)
    _, results = run(source, mapping, tmp_path, settings)
    statuses = {r["status"] for r in results}
    assert statuses <= {"created", "needs_review"} and "created" in statuses
    confirmed = [r for r in results if "confirmed by a lookup" in r["message"]]
    assert confirmed  # dropped after the create, found by the lookup 1 s later
    emails = created_emails(sandbox)
    assert len(emails) == len(set(emails)) == 30  # each exactly once


def test_rows_no_lookup_found_in_time_are_found_by_the_next_run_and_never_sent_twice(
    sandbox, people, tmp_path
):
    sandbox.config.fault_rates = {"drop_after_create": 1.0}
    sandbox.config.read_lag = 2.0  # longer than the window: no lookup of this run finds them
    source, mapping = people(10)
    _, results = run(source, mapping, tmp_path, settings_for(sandbox.url, lookup_window=0.2))
    assert {r["status"] for r in results} == {"needs_review"}
    posts = sandbox.state.posts_received
    time.sleep(2.1)
    sandbox.config.fault_rates = {}
    _, results = run(source, mapping, tmp_path, settings_for(sandbox.url))
    assert {r["status"] for r in results} == {"created"}
    assert sandbox.state.posts_received == posts  # found by lookups: nothing sent twice
    assert len(created_emails(sandbox)) == 10


def test_a_row_is_looked_up_late_while_the_others_keep_flowing(sandbox, people, tmp_path):
    sandbox.config.read_lag = 0.8
    sandbox.config.set_script(["drop_after_create"])
    source, mapping = people(20)
    started = time.monotonic()
    _, results = run(
        source, mapping, tmp_path, settings_for(sandbox.url, concurrency=1, lookup_window=1.0)
    )
    assert results[0]["status"] == "created" and "confirmed by a lookup" in results[0]["message"]
    assert [r["status"] for r in results[1:]] == ["created"] * 19
    # The other 19 were sent while the first waited for its lookup, not after it.
    assert sandbox.state.post_times[-1] - started < 1.0
    assert len(created_emails(sandbox)) == 20


def test_retry_failed_looks_a_row_up_before_sending_it_again(sandbox, people, tmp_path):
    sandbox.config.set_script(["REMOTE.UNKNOWN_HTTP_ERROR"])
    source, mapping = people(2)
    _, results = run(source, mapping, tmp_path, settings_for(sandbox.url, concurrency=1))
    assert (
        results[0]["status"] == "failed" and results[0]["code"] == "api.REMOTE.UNKNOWN_HTTP_ERROR"
    )
    # The write partly happened in the ATS after all: the candidate is there.
    created = httpx.post(
        f"{sandbox.url}/ats/candidates",
        headers={"Authorization": "Bearer sandbox-key", "X-Integration-Id": "sandbox:demo"},
        json={
            "candidate": {
                "first_name": "Person0",
                "last_name": "Wolf",
                "email_address": "person0@example.com",
            },
            "application": {"job_id": JOB},
        },
        timeout=5,
    ).json()["data"]
    posts = sandbox.state.posts_received
    _, results = run(source, mapping, tmp_path, settings_for(sandbox.url), retry_failed=True)
    assert results[0]["status"] == "created" and results[0]["candidate_id"] == created["id"]
    assert "confirmed by a lookup" in results[0]["message"]
    assert sandbox.state.posts_received == posts  # found: not sent again
    assert created_emails(sandbox).count("person0@example.com") == 1


def test_an_application_that_exists_already_is_skipped_with_its_ids(sandbox, people, tmp_path):
    source, mapping = people(2)
    _, first = run(source, mapping, tmp_path, settings_for(sandbox.url))
    (tmp_path / "ledger.sqlite").unlink()  # a new ledger: only Kombo knows they exist
    _, second = run(source, mapping, tmp_path, settings_for(sandbox.url))
    assert [r["code"] for r in second] == ["api.ATS.APPLICATION_ALREADY_EXISTS"] * 2
    assert [(r["candidate_id"], r["application_id"]) for r in second] == [
        (r["candidate_id"], r["application_id"]) for r in first
    ]
    assert all(r["candidate_id"] and r["application_id"] for r in second)


def test_kombos_log_link_and_title_are_kept_in_results_and_ledger(sandbox, people, tmp_path):
    sandbox.config.set_script(["job_closed"])
    source, mapping = people(1)
    _, [row] = run(source, mapping, tmp_path, settings_for(sandbox.url))
    assert row["status"] == "failed" and row["log_url"].startswith(sandbox.url.split("/v1")[0])
    logged = httpx.get(row["log_url"], timeout=5)
    assert logged.status_code == 200  # the link answers, as Kombo's does for its support
    record = ledger_rows(tmp_path / "ledger.sqlite")["person0@example.com"]
    assert record["log_url"] == row["log_url"] and record["error_code"] == "api.ATS.JOB_CLOSED"


def test_too_many_in_flight_waits_about_a_second_as_kombos_guide_says(people, tmp_path):
    posts: list[float] = []

    def respond(request: Request, sock) -> None:
        if request.method != "POST":
            send(sock, 200, {"status": "success", "data": {"next": None, "results": []}})
            return
        posts.append(time.monotonic())
        if len(posts) == 1:
            send(sock, 429, {"status": "error", "error": {
                "code": "PLATFORM.CONCURRENCY_LIMIT_EXCEEDED", "title": None,
                "message": "Too many concurrent requests.", "log_url": None}})  # fmt: skip
        else:
            created = {"id": "c1", "applications": [{"id": "a1"}]}
            send(sock, 200, {"status": "success", "data": created, "warnings": []})

    source, mapping = people(1)
    with HostileServer(respond) as server:
        submit_file(
            SubmitOptions(DryRunOptions(source, mapping), tmp_path / "r.csv", check_remote=False),
            settings_for(server.url),
        )
    assert len(posts) == 2 and posts[1] - posts[0] >= 1.0
    assert read_csv(tmp_path / "r.csv")[0]["status"] == "created"


def test_every_created_candidate_is_tagged_once_and_a_failed_tag_is_added_next_run(
    sandbox, people, tmp_path
):
    sandbox.config.set_script(["403"], "add_candidate_tag")  # refused: sent again next run
    source, mapping = people(4)
    args = [
        str(a)
        for a in submit_command(
            source, mapping, sandbox.url, tmp_path / "l.sqlite", tmp_path / "r.csv",
            "--tag", "import-2026-11-29", "--concurrency", "1",
        )
    ]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output  # every row is in; one thing asked is not done
    assert "After the create: 3 tags (1 not: see the rows' warnings)." in result.output
    rows = read_csv(tmp_path / "r.csv")
    assert {r["status"] for r in rows} == {"created"}  # a tag never fails the row
    [untagged] = [r for r in rows if "not done" in r["warnings"]]
    tags = sandbox.state.tags_received
    assert sorted(len(names) for names in tags.values()) == [1, 1, 1]

    result = CliRunner().invoke(main, args)  # the next run adds the missing tag only
    assert result.exit_code == 0, result.output
    assert "After the create: 1 tag." in result.output
    assert len(tags) == 4 and all(names == ["import-2026-11-29"] for names in tags.values())
    assert tags[untagged["candidate_id"]] == ["import-2026-11-29"]


def test_an_integration_without_tags_is_named_before_sending_and_rows_are_created(
    sandbox, people, tmp_path
):
    sandbox.config.disabled_models = {"tags"}
    sandbox.config.disabled_actions = {"ats_add_candidate_tag"}
    source, mapping = people(2)
    args = submit_command(
        source, mapping, sandbox.url, tmp_path / "l.sqlite", tmp_path / "r.csv", "--tag", "batch-1"
    )
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    before_sending = result.output.split("Sending")[0]
    assert "--tag: candidates are created without the tag 'batch-1'" in before_sending
    assert "INTEGRATION.MODEL_DISABLED" in before_sending
    assert "After the create: no tags: this integration does not offer them." in result.output
    assert sandbox.state.tags_received == {} and len(sandbox.state.created) == 2


def test_a_canary_sends_n_rows_shows_kombos_warnings_and_stops_without_a_terminal(
    sandbox, people, tmp_path
):
    source, mapping = people(5)
    args = submit_command(
        source, mapping, sandbox.url, tmp_path / "l.sqlite", tmp_path / "r.csv", "--canary", "2"
    )
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 1, result.output
    assert "Canary: 2 rows created, 0 failed, 0 need review." in result.output
    assert "stopping after the canary" in result.output
    rows = read_csv(tmp_path / "r.csv")
    assert [r["status"] for r in rows] == ["created"] * 2 + ["not_sent"] * 3
    assert "not confirmed after the canary" in rows[4]["message"]
    assert len(sandbox.state.created) == 2

    result = CliRunner().invoke(main, [str(a) for a in args[:-2]])  # the rest, without --canary
    assert result.exit_code == 0, result.output
    assert len(sandbox.state.created) == 5


def test_the_ledger_of_an_earlier_version_is_upgraded_in_place(sandbox, people, tmp_path):
    ledger = tmp_path / "ledger.sqlite"
    with sqlite3.connect(ledger) as db:  # version 1, as the previous release wrote it
        db.executescript(
            """
            CREATE TABLE applications (integration_id TEXT NOT NULL, email TEXT NOT NULL,
              job_id TEXT NOT NULL, source TEXT NOT NULL, row_number INTEGER NOT NULL,
              fingerprint TEXT NOT NULL, state TEXT NOT NULL CHECK (state IN ('pending',
              'sending', 'created', 'failed')), retryable INTEGER NOT NULL DEFAULT 0,
              attempts INTEGER NOT NULL DEFAULT 0, candidate_id TEXT, application_id TEXT,
              error_code TEXT, error_message TEXT, created_at REAL NOT NULL,
              updated_at REAL NOT NULL, PRIMARY KEY (integration_id, email, job_id));
            CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            INSERT INTO meta VALUES ('schema_version', '1');
            """
        )
        db.execute(
            "INSERT INTO applications VALUES ('sandbox:demo', 'person0@example.com', ?, 'x', 2,"
            " 'f', 'sending', 0, 1, NULL, NULL, NULL, NULL, 0, 0)",
            (JOB,),
        )
    sandbox.config.disabled_models = {"candidates"}
    source, mapping = people(2)
    _, results = run(source, mapping, tmp_path, settings_for(sandbox.url))
    assert [r["status"] for r in results] == ["needs_review", "created"]
    assert ledger_rows(ledger)["person0@example.com"]["state"] == "needs_review"
    with sqlite3.connect(ledger) as db:
        assert db.execute("SELECT value FROM meta").fetchone() == ("2",)
    assert json.dumps(results)  # every field made it through


def test_a_row_an_earlier_run_left_in_doubt_is_looked_up_until_reads_catch_up(
    sandbox, people, tmp_path
):
    sandbox.config.read_lag = 1.5
    sandbox.config.set_script(["drop_after_create"])
    source, mapping = people(2)
    _, results = run(source, mapping, tmp_path, settings_for(sandbox.url, lookup_window=0.1))
    assert results[0]["status"] == "needs_review"  # no lookup of its run saw it yet
    posts = sandbox.state.posts_received
    # At once, with a window longer than the lag: the row waits for its lookups, never resent.
    _, results = run(source, mapping, tmp_path, settings_for(sandbox.url, lookup_window=3.0))
    assert results[0]["status"] == "created" and "confirmed by a lookup" in results[0]["message"]
    assert sandbox.state.posts_received == posts
    assert created_emails(sandbox).count("person0@example.com") == 1


def test_a_lookup_answer_about_someone_else_is_not_taken_for_the_row(people, tmp_path):
    def respond(request: Request, sock) -> None:
        if request.method == "POST":
            sock.shutdown(socket.SHUT_RDWR)  # dropped: uncertain
            return
        other = {
            "id": "SOMEONE-ELSE",
            "email_addresses": [{"email_address": "other@example.com", "type": None}],
            "applications": [{"id": "a9", "job": {"id": JOB, "remote_id": None}}],
        }  # a server that ignores ?email= answers with other people
        send(sock, 200, {"status": "success", "data": {"next": None, "results": [other]}})

    source, mapping = people(1)
    with HostileServer(respond) as server:
        run(source, mapping, tmp_path, settings_for(server.url))
    [row] = read_csv(tmp_path / "results.csv")
    assert row["status"] == "needs_review" and row["candidate_id"] == ""


def test_a_fatal_answer_during_the_canary_still_gives_every_row_a_status(sandbox, people, tmp_path):
    sandbox.config.set_script(["ok", "PLATFORM.IP_NOT_WHITELISTED"])
    source, mapping = people(6)
    args = submit_command(
        source, mapping, sandbox.url, tmp_path / "l.sqlite", tmp_path / "r.csv",
        "--canary", "3", "--concurrency", "1",
    )  # fmt: skip
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 3, result.output
    rows = read_csv(tmp_path / "r.csv")
    assert [r["status"] for r in rows] == ["created", "failed"] + ["not_sent"] * 4


def test_a_key_in_a_cut_title_or_encoded_in_a_log_link_is_never_kept(people, tmp_path):
    key = "sk_live+abcDEF/0123456789XYZ"

    def respond(request: Request, sock) -> None:
        if request.method != "POST":
            send(sock, 200, {"status": "success", "data": {"next": None, "results": []}})
            return
        error = {
            "code": "PLATFORM.INPUT_INVALID",
            "title": "t" * 190 + key,
            "message": f"Invalid: {key.upper()} / {key[:14]}",  # echoed in another case, cut
            "log_url": "https://app.kombo.dev/logs?key=" + quote(key, safe=""),
        }
        send(sock, 400, {"status": "error", "error": error})

    source, mapping = people(1)
    with HostileServer(respond) as server:
        run(source, mapping, tmp_path, settings_for(server.url, api_key=key))
    written = (tmp_path / "results.csv").read_text(encoding="utf-8-sig")
    with sqlite3.connect(tmp_path / "ledger.sqlite") as db:
        written += repr(db.execute("SELECT * FROM applications").fetchall())
    assert "sk_live" not in written.lower() and "abcdef" not in written.lower()
    assert "[redacted]" in written


def test_a_run_into_an_outage_stops_instead_of_sending_the_whole_file(sandbox, people, tmp_path):
    sandbox.config.fault_rates = {"500": 1.0}  # every create: 500 PLATFORM.UNKNOWN_ERROR
    source, mapping = people(60)
    with pytest.raises(FatalApiError, match="looks like an outage"):
        run(source, mapping, tmp_path, settings_for(sandbox.url, concurrency=2, lookup_window=0))
    rows = read_csv(tmp_path / "results.csv")
    assert len(rows) == 60 and sandbox.state.posts_received < 60
    assert {r["status"] for r in rows} == {"needs_review", "not_sent"}


def test_a_ledger_of_a_newer_version_is_refused_and_left_as_it_was(people, tmp_path):
    ledger = tmp_path / "ledger.sqlite"
    with sqlite3.connect(ledger) as db:
        db.executescript(
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
            "INSERT INTO meta VALUES ('schema_version', '9');"
            "CREATE TABLE applications_v9 (x TEXT);"
        )
    before = ledger.read_bytes()
    source, mapping = people(1)
    for args in (["status", str(ledger)], [str(a) for a in submit_command(
        source, mapping, "http://127.0.0.1:9/v1", ledger, tmp_path / "r.csv", "--no-check-remote"
    )]):  # fmt: skip
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2, result.output
        assert "written by a newer kombo-import (ledger version 9)" in result.output
    assert ledger.read_bytes() == before


def test_rejects_sent_again_use_the_ledger_of_their_input(sandbox, people, tmp_path):
    sandbox.config.read_lag = 2  # no lookup of the first run sees the row it left in doubt
    sandbox.config.set_script(["drop_after_create"])
    source, mapping = people(2)
    args = [
        "submit", str(source), "-m", str(mapping), "--server-url", sandbox.url,
        "--integration-id", "sandbox:demo", "--api-key", "sandbox-key", "--yes", "-q",
        "--lookup-window", "0", "--results-split",
    ]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    error_file = tmp_path / "people.kombo" / "error.csv"
    assert [r["Email"] for r in read_csv(error_file)] == ["person0@example.com"]
    posts = sandbox.state.posts_received
    again = [*args[:1], str(error_file), *args[2:]]
    again[again.index("--lookup-window") + 1] = "4"  # long enough for reads to catch up
    result = CliRunner().invoke(main, [*again[:-1], "--out", str(tmp_path / "again")])
    assert result.exit_code == 0, result.output
    assert f"The ledger is {source}.kombo-ledger.sqlite" in " ".join(result.output.split())
    assert sandbox.state.posts_received == posts  # in doubt: looked up, never sent again blindly
    assert "Created 1" in result.output


def test_ctrl_c_cuts_a_lookup_that_never_answers(people, tmp_path):
    def respond(request: Request, sock) -> None:
        if request.method == "POST":
            sock.shutdown(socket.SHUT_RDWR)  # dropped: uncertain, looked up
        else:
            time.sleep(20)  # the lookup never answers in time

    source, mapping = people(1)
    interrupt = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT))
    started = time.monotonic()
    with HostileServer(respond) as server:
        interrupt.start()
        try:
            run(source, mapping, tmp_path, settings_for(server.url, request_timeout=15))
        finally:
            interrupt.cancel()
        ended = time.monotonic()
    assert ended - started < 12  # not the lookup's timeout and retries (60 s)
    [row] = read_csv(tmp_path / "results.csv")
    assert row["status"] == "needs_review" and "the run stopped" in row["message"]
