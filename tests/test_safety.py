"""Nothing lost, nothing leaked, nothing hung: every row accounted for under hostile input and
hostile servers. Real files, real SQLite, a real hostile HTTP server on 127.0.0.1, real signals."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import JOB, SUBMIT_MAPPING, read_csv, start, submit_command, wait_for_posts
from hostile import HostileServer, Request, drip, jobs_page, send

from importer.cli import main
from importer.errors import InputFileError
from importer.runs import DryRunOptions, SubmitOptions, submit_file
from importer.settings import SubmitSettings

ROOT = Path(__file__).resolve().parent.parent


def settings(url: str, **overrides) -> SubmitSettings:
    values = {
        "server_url": url,
        "api_key": "sandbox-key",
        "integration_id": "sandbox:demo",
        "backoff_initial": 0.01,
        "backoff_max": 0.05,
        "lookup_window": 0.1,
    }
    return SubmitSettings(**(values | overrides))


def options(source, mapping, tmp_path, **extra) -> SubmitOptions:
    return SubmitOptions(
        DryRunOptions(source, mapping), tmp_path / "results.csv", check_remote=False, **extra
    )


def cli(*args, **kwargs):
    return CliRunner().invoke(main, [str(a) for a in args], **kwargs)


def submit_args(source, mapping, url, tmp_path, *extra):
    ledger, results = tmp_path / "ledger.sqlite", tmp_path / "results.csv"
    return submit_command(source, mapping, url, ledger, results, "--no-check-remote", *extra)


def ledger_states(path: Path) -> dict[str, str]:
    with sqlite3.connect(path) as db:
        return dict(db.execute("SELECT email, state FROM applications"))


# --- 1. every row ends with a status; the exit code tells the truth -------------------------


def test_an_attachment_that_changes_while_rows_are_sent_fails_those_rows_and_loses_none(
    sandbox, write_csv, write_mapping, tmp_path
):
    import threading

    cv = tmp_path / "cv.pdf"
    cv.write_bytes(b"%PDF-1.4 the CV as checked")
    (tmp_path / "other.pdf").write_bytes(b"%PDF-1.4 another CV")
    rows = [["First", "Last", "Email", "CV", "Job"]] + [
        [f"P{i}", "Wolf", f"p{i}@example.com", "cv.pdf" if i < 30 else "other.pdf", ""]
        for i in range(40)
    ]
    source = write_csv(rows)
    mapping = write_mapping(
        SUBMIT_MAPPING.replace(
            "application:", "attachments: [{column: CV, type: CV}]\napplication:"
        )
    )
    sandbox.config.latency = 0.02
    done = threading.Event()

    def grow() -> None:  # a byte every 5 ms, as a sync client still writing the file would
        while not done.wait(0.005):
            with cv.open("ab") as fh:
                fh.write(b"x")

    grower = threading.Thread(target=grow, daemon=True)
    grower.start()
    try:
        outcome = submit_file(
            options(source, mapping, tmp_path, ledger_path=tmp_path / "ledger.sqlite"),
            settings(sandbox.url, concurrency=2),
        )
    finally:
        done.set()
        grower.join(5)
    results = read_csv(tmp_path / "results.csv")
    assert sorted(int(r["row"]) for r in results) == list(range(2, 42))  # every row, once
    failed = [r for r in results if r["status"] == "failed"]
    assert failed and all(
        r["code"] == "file_changed" and "changed since it was checked" in r["message"]
        for r in failed
    ), failed
    assert outcome.stats.by_status["created"] + len(failed) == 40
    assert outcome.stats.by_status["created"] == len(sandbox.state.created)
    states = ledger_states(tmp_path / "ledger.sqlite")
    assert sum(state == "created" for state in states.values()) == len(sandbox.state.created)
    assert "sending" not in states.values()  # a file that changed is known not to have been sent


def test_a_ledger_that_fails_mid_run_stops_the_run_with_exit_4_and_every_row_has_a_result(
    sandbox, people, tmp_path
):
    source, mapping = people(40)
    ledger = tmp_path / "ledger.sqlite"
    args = submit_args(source, mapping, sandbox.url, tmp_path, "--concurrency", "2")

    def break_the_ledger(*_args) -> None:
        with sqlite3.connect(
            ledger
        ) as db:  # another process's schema change the run cannot write through
            db.execute("DROP TABLE applications")

    sandbox.config.latency = 0.02
    result = None
    import threading

    timer = threading.Timer(0.3, break_the_ledger)
    timer.start()
    try:
        result = cli(*args)
    finally:
        timer.cancel()
    assert result.exit_code == 4, result.output
    assert (
        "the ledger cannot be read or written" in result.output and "Traceback" not in result.output
    )
    rows = read_csv(tmp_path / "results.csv")
    assert sorted(int(r["row"]) for r in rows) == list(range(2, 42))
    assert {r["status"] for r in rows} <= {"created", "failed", "not_sent"}
    assert sum(r["status"] == "not_sent" for r in rows) > 0  # it stopped sending


@pytest.mark.parametrize(
    "answer",
    [
        {"status": "success", "data": {"id": "c1", "applications": "zzz"}},
        {"status": "success", "data": {"id": "c1", "applications": {}}},
        {"status": "success", "data": {"id": "c1", "applications": []}, "warnings": ["x"]},
        {"status": "success", "data": {"id": {"nested": 1}}},
    ],
)
def test_a_wrongly_shaped_success_is_uncertain_and_looked_up_never_a_traceback(
    answer, people, tmp_path
):
    def respond(request: Request, sock) -> None:
        if request.method == "POST":
            send(sock, 200, answer)
        else:  # the lookup finds the candidate the odd answer created
            send(
                sock,
                200,
                {
                    "status": "success",
                    "data": {
                        "next": None,
                        "results": [
                            {
                                "id": "c1",
                                "email_addresses": [
                                    {"email_address": "person0@example.com", "type": None}
                                ],
                                "applications": [
                                    {"id": "a1", "job": {"id": JOB, "remote_id": None}}
                                ],
                            }
                        ],
                    },
                },
            )

    source, mapping = people(1)
    with HostileServer(respond) as server:
        outcome = submit_file(options(source, mapping, tmp_path), settings(server.url))
    [row] = read_csv(tmp_path / "results.csv")
    assert (row["status"], row["candidate_id"], row["application_id"]) == ("created", "c1", "a1")
    assert "confirmed by a lookup" in row["message"]
    assert [r.method for r in server.received] == ["POST", "GET"]  # looked up, not sent twice
    assert outcome.stats.sent == 1


@pytest.mark.parametrize(
    "page",
    [
        {"status": "success", "data": {"results": "nope"}},
        {"status": "success", "data": {"results": [{"name": "no id"}]}},
        {"status": "success", "data": None},
        {"status": "success", "data": {"results": [{"id": "J", "stages": "x"}]}},
    ],
)
def test_a_wrongly_shaped_jobs_listing_is_a_clear_error(page):
    with HostileServer(lambda request, sock: send(sock, 200, page)) as server:
        result = cli(
            "jobs", "--server-url", server.url, "--integration-id", "x:y", "--api-key", "key-1234"
        )
    assert result.exit_code == 3, result.output
    assert (
        "the answer is not in Kombo's shape" in result.output and "Traceback" not in result.output
    )


def test_a_connection_error_says_it_could_not_connect(tmp_path):
    from importer.errors import FatalApiError
    from importer.runs import fetch_catalog

    with socket_that_refuses() as url, pytest.raises(FatalApiError) as raised:
        fetch_catalog(settings(url))
    assert str(raised.value).startswith(f"Could not connect to {url}: ConnectError")
    assert "refused the run" not in str(raised.value)


class socket_that_refuses:
    """A loopback port nobody listens on."""

    def __enter__(self) -> str:
        import socket

        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        return f"http://127.0.0.1:{port}/v1"

    def __exit__(self, *exc_info: object) -> None:
        pass


def test_a_full_disk_stops_the_sending_at_the_first_failed_write(sandbox, people, tmp_path):
    if not Path("/dev/full").exists():
        pytest.skip("needs /dev/full")
    source, mapping = people(200)
    result = cli(
        *[
            a if a != tmp_path / "results.csv" else "/dev/full"
            for a in submit_args(
                source, mapping, sandbox.url, tmp_path, "--batch-size", "1", "--concurrency", "2"
            )
        ]
    )
    assert result.exit_code == 4, result.output
    assert (
        "/dev/full: the results cannot be written" in result.output
        and "Traceback" not in result.output
    )
    assert sandbox.state.posts_received <= 10  # stopped at once, not after 200 rows
    assert set(ledger_states(tmp_path / "ledger.sqlite").values()) <= {
        "created",
        "pending",
        "sending",
    }


# --- signals ---------------------------------------------------------------------------------


def test_sigterm_is_handled_like_ctrl_c_and_every_row_has_a_result(sandbox, people, tmp_path):
    sandbox.config.latency = 0.05
    source, mapping = people(150)
    process = start(submit_args(source, mapping, sandbox.url, tmp_path, "--concurrency", "4"))
    wait_for_posts(sandbox, 10, process)
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 130, output
    rows = read_csv(tmp_path / "results.csv")
    assert sorted(int(r["row"]) for r in rows) == list(range(2, 152))
    assert sum(r["status"] == "created" for r in rows) == len(sandbox.state.created)


def test_a_second_ctrl_c_abandons_rows_in_flight_and_the_next_run_settles_them(
    sandbox, people, tmp_path
):
    sandbox.config.latency = 1.0  # every request is still in flight when the second Ctrl-C comes
    source, mapping = people(30)
    args = submit_args(source, mapping, sandbox.url, tmp_path, "--concurrency", "3")
    process = start(args)
    wait_for_posts(sandbox, 3, process)
    process.send_signal(signal.SIGINT)
    time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 130, output
    assert "Traceback" not in output and "never retrieved" not in output
    assert "rows in flight were abandoned" in output
    rows = read_csv(tmp_path / "results.csv")
    assert sorted(int(r["row"]) for r in rows) == list(range(2, 32))
    assert "needs_review" in set(ledger_states(tmp_path / "ledger.sqlite").values())
    time.sleep(1.1)  # the abandoned requests land at the sandbox
    sandbox.config.latency = 0
    again = cli(*args)
    assert again.exit_code == 0, again.output
    assert len(sandbox.state.created) == 30 and sandbox.state.already_exists_answers == 0


# --- 2. the API key never appears ------------------------------------------------------------


def test_a_key_with_a_windows_line_end_works_and_never_appears(sandbox, people, tmp_path):
    source, mapping = people(3)
    args = [
        a
        for a in submit_args(source, mapping, sandbox.url, tmp_path)
        if a not in ("--api-key", "sandbox-key")
    ]
    result = cli(*args, env={"KOMBO_API_KEY": "sandbox-key\r\n"})
    assert result.exit_code == 0, result.output
    assert len(sandbox.state.created) == 3


@pytest.mark.parametrize("key", ["sk_live_\u00e9t\u00e9", "sk live key", "sk_live_\x1b[2J"])
def test_a_key_no_header_can_carry_is_refused_before_any_request(key, people, tmp_path):
    source, mapping = people(1)
    with HostileServer(lambda request, sock: send(sock, 500, b"")) as server:
        result = cli(
            *[
                a if a != "sandbox-key" else key
                for a in submit_args(source, mapping, server.url, tmp_path)
            ]
        )
    assert result.exit_code == 2, result.output
    assert "--api-key: the API key holds spaces, control or non-ASCII characters" in result.output
    assert key not in result.output and "Traceback" not in result.output and not server.received


def test_a_key_echoed_by_the_server_is_scrubbed_from_every_output(people, tmp_path):
    def echo(request: Request, sock) -> None:
        if request.method == "GET":
            send(sock, 200, jobs_page(JOB))
        else:
            send(
                sock,
                400,
                {
                    "status": "error",
                    "error": {
                        "code": "PLATFORM.INPUT_INVALID",
                        "message": f"bad request with {request.headers['authorization']}",
                    },
                },
            )

    source, mapping = people(2)
    with HostileServer(echo) as server:
        result = cli(
            *[
                a
                for a in submit_args(source, mapping, server.url, tmp_path)
                if a != "--no-check-remote"
            ],
            "--api-key",
            "sk_live_SECRET123",
        )
    assert result.exit_code == 1, result.output
    everything = (
        result.output
        + (tmp_path / "results.csv").read_text()
        + (tmp_path / "ledger.sqlite").read_bytes().decode("latin-1")
    )
    assert (
        "sk_live_SECRET123" not in everything
        and "[redacted]" in (tmp_path / "results.csv").read_text()
    )


# --- 3. nothing the user gave us is overwritten ----------------------------------------------


@pytest.mark.parametrize(
    "flag,target",
    [
        ("--results", "input"),
        ("--results", "mapping"),
        ("--report", "ledger"),
        ("--results", "ledger"),
        ("--rejects", "report"),
        ("--report", "hardlink"),
        ("--results", "symlink"),
        ("--report", "ledger-wal"),
    ],
)
def test_no_output_may_be_an_input_or_another_output(flag, target, people, tmp_path):
    source, mapping = people(3)
    ledger = tmp_path / "ledger.sqlite"
    ledger.write_bytes(b"")
    os.link(source, tmp_path / "hardlink.csv")
    os.symlink(source, tmp_path / "symlink.csv")
    paths = {
        "input": source,
        "mapping": mapping,
        "ledger": ledger,
        "report": tmp_path / "report.csv",
        "hardlink": tmp_path / "hardlink.csv",
        "symlink": tmp_path / "symlink.csv",
        "ledger-wal": tmp_path / "ledger.sqlite-wal",
    }
    before = {p: p.read_bytes() for p in (source, mapping, ledger)}
    args = [
        "submit",
        source,
        "-m",
        mapping,
        "--sandbox",
        "--yes",
        "--ledger",
        ledger,
        "--report",
        tmp_path / "report.csv",
        "--rejects",
        tmp_path / "rejects.csv",
        "--results",
        tmp_path / "results.csv",
    ]
    args[args.index(flag) + 1] = paths[target]
    result = cli(*args)
    assert result.exit_code == 2, result.output
    assert "would overwrite" in result.output and f"{flag} {paths[target]}" in result.output
    assert {p: p.read_bytes() for p in before} == before


def test_an_annotated_workbook_needs_an_xlsx_name(people, tmp_path):
    source, mapping = people(1, bad=1)
    result = cli("validate", source, "-m", mapping, "--annotated", tmp_path / "out.csv")
    assert result.exit_code == 2 and "--annotated" in result.output and ".xlsx" in result.output
    assert not (tmp_path / "out.csv").exists()


# --- 5. every wait and every body is bounded -------------------------------------------------


def test_a_retry_after_longer_than_max_wait_fails_the_row_for_this_run(sandbox, people, tmp_path):
    sandbox.config.retry_after = 99999
    sandbox.config.set_script(["429"])
    source, mapping = people(1)
    process = subprocess.run(
        [
            sys.executable,
            "-m",
            "importer",
            *map(str, submit_args(source, mapping, sandbox.url, tmp_path, "--max-wait", "5")),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert process.returncode == 1, process.stdout + process.stderr
    [row] = read_csv(tmp_path / "results.csv")
    assert row["status"] == "failed" and "more than --max-wait 5 s" in row["message"]
    assert ledger_states(tmp_path / "ledger.sqlite") == {"person0@example.com": "failed"}
    sandbox.config.retry_after = 1.0
    assert (
        cli(*submit_args(source, mapping, sandbox.url, tmp_path)).exit_code == 0
    )  # sent again next run
    assert len(sandbox.state.created) == 1


def test_an_answer_that_drips_is_cut_at_the_request_deadline(people, tmp_path):
    def respond(request: Request, sock) -> None:
        if request.method == "POST":
            drip(sock, every=0.2, count=50)  # would take 10 s
        else:
            send(sock, 200, {"status": "success", "data": {"next": None, "results": []}})

    source, mapping = people(1)
    started = time.monotonic()
    with HostileServer(respond) as server:
        submit_file(
            options(source, mapping, tmp_path),
            settings(server.url, request_timeout=0.5, max_attempts=1),
        )
    [row] = read_csv(tmp_path / "results.csv")
    # It may have been written: looked up (nothing found), then left for a person.
    assert row["status"] == "needs_review" and "no whole answer within 0.5 s" in row["message"]
    assert time.monotonic() - started < 8


def test_an_answer_bigger_than_any_of_kombos_is_not_read(people, tmp_path):
    def respond(request: Request, sock) -> None:
        if request.method == "POST":
            sock.sendall(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                b"content-length: 10000000000\r\n\r\n" + b" " * 2_000_000
            )
        else:
            send(sock, 200, {"status": "success", "data": {"next": None, "results": []}})

    source, mapping = people(1)
    with HostileServer(respond) as server:
        submit_file(options(source, mapping, tmp_path), settings(server.url, max_attempts=1))
    [row] = read_csv(tmp_path / "results.csv")
    assert (
        row["status"] == "needs_review"
        and "the answer announces 10,000,000,000 bytes" in row["message"]
    )


# --- 7. what the user confirmed is what is sent ----------------------------------------------


def test_an_input_rewritten_after_the_confirmation_is_not_sent(sandbox, people, tmp_path):
    source, mapping = people(2)

    def rewrite(dry) -> bool:
        source.write_text(
            "First,Last,Email,Job\n" + "".join(f"X{i},Y,x{i}@example.com,\n" for i in range(50))
        )
        return True

    with pytest.raises(InputFileError, match="changed after it was validated"):
        submit_file(
            options(source, mapping, tmp_path, ledger_path=tmp_path / "l.sqlite"),
            settings(sandbox.url),
            rewrite,
        )
    assert sandbox.state.posts_received == 0


def test_submit_without_a_terminal_needs_yes(sandbox, people, tmp_path):
    source, mapping = people(2)
    args = [a for a in submit_args(source, mapping, sandbox.url, tmp_path) if a != "--yes"]
    result = cli(*args, input="y\n")
    assert result.exit_code == 2 and "pass --yes" in result.output
    assert sandbox.state.posts_received == 0


# --- 6. input that is too big or hostile is refused, not swallowed ---------------------------


def test_control_characters_and_overlong_cells_are_problems_on_their_row(
    write_csv, write_mapping, tmp_path
):
    from conftest import BASIC_MAPPING

    source = write_csv(
        [
            ["First", "Last", "Email"],
            ["Anna", "Wo\x00lf", "anna@example.com"],
            ["\x1b]0;pwned\x07", "Wolf", "b@example.com"],
            ["Anna", "W" * 40_000, "c@example.com"],
            ["Zoë", "Łukasz\tWolf", "d@example.com"],
        ]
    )
    result = cli(
        "validate", source, "-m", write_mapping(BASIC_MAPPING), "--report", tmp_path / "report.csv"
    )
    assert result.exit_code == 1, result.output
    problems = {(r["row"], r["column"], r["code"]) for r in read_csv(tmp_path / "report.csv")}
    assert problems == {
        ("2", "Last", "control_character"),
        ("3", "First", "control_character"),
        ("4", "Last", "cell_too_long"),
    }
    assert (
        "\x1b" not in result.output and "\x07" not in result.output
    )  # nothing hostile reaches the terminal


# --- found by a hostile review -----------------------------------------------------------------


def test_an_output_onto_the_real_wal_of_a_ledger_given_through_a_symlink_is_refused(
    people, tmp_path
):
    source, mapping = people(2)
    (tmp_path / "real").mkdir()
    os.symlink(tmp_path / "real" / "db.sqlite", tmp_path / "link.sqlite")
    result = cli(
        "submit",
        source,
        "-m",
        mapping,
        "--sandbox",
        "--yes",
        "--ledger",
        tmp_path / "link.sqlite",
        "--results",
        tmp_path / "r.csv",
        "--report",
        tmp_path / "real" / "db.sqlite-wal",
        "--no-check-remote",
    )
    assert result.exit_code == 2 and "would overwrite" in result.output, result.output


def test_a_key_echoed_into_a_success_answer_is_scrubbed_from_results_ledger_and_output(
    people, tmp_path
):
    def echo(request: Request, sock) -> None:
        auth = request.headers["authorization"]
        body = {
            "status": "success",
            "data": {"id": "cand-" + auth, "applications": [{"id": auth}]},
            "warnings": [{"message": "echo " + auth}],
        }
        send(sock, 200, body)

    source, mapping = people(1)
    with HostileServer(echo) as server:
        result = cli(
            *submit_args(source, mapping, server.url, tmp_path), "--api-key", "sk_live_SECRET123"
        )
    everything = (
        result.output
        + (tmp_path / "results.csv").read_text()
        + (tmp_path / "ledger.sqlite").read_bytes().decode("latin-1")
    )
    assert result.exit_code == 0, result.output
    assert "sk_live_SECRET123" not in everything and "[redacted]" in result.output


def test_a_key_echoed_into_an_error_code_or_a_long_body_leaves_no_part_of_it(people, tmp_path):
    def echo(request: Request, sock) -> None:
        auth = request.headers["authorization"]
        if "p0@" in request.body.decode() or "person0" in request.body.decode():
            send(
                sock,
                400,
                {
                    "status": "error",
                    "error": {"code": "X." + auth.replace(" ", "_"), "message": "m"},
                },
            )
        else:
            send(sock, 400, ("x" * 188 + " " + auth).encode(), {"content-type": "text/plain"})

    source, mapping = people(2)
    with HostileServer(echo) as server:
        result = cli(
            *submit_args(source, mapping, server.url, tmp_path), "--api-key", "sk_live_SECRET123"
        )
    results = (tmp_path / "results.csv").read_text()
    assert result.exit_code == 1, result.output
    assert "SECRET" not in results and "sk_l" not in results


def test_a_ledger_that_is_a_pipe_is_refused_without_blocking(people, tmp_path):
    os.mkfifo(tmp_path / "ledger.sqlite")
    source, mapping = people(1)
    result = subprocess.run(
        [sys.executable, "-m", "importer", "status", str(tmp_path / "ledger.sqlite")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2 and "is not a ledger file" in result.stderr
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "importer",
            *map(str, submit_args(source, mapping, "http://127.0.0.1:9/v1", tmp_path)),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2 and "is not a ledger file" in result.stderr


@pytest.mark.parametrize(
    "job",
    [
        {"id": "J", "screening_questions": [{"id": "Q", "format": "text"}]},
        {
            "id": "J",
            "screening_questions": [
                {"id": "Q", "format": {"type": "SINGLE_SELECT", "options": ["a"]}}
            ],
        },
    ],
)
def test_jobs_with_questions_in_the_wrong_shape_are_a_clear_error_not_a_bug(job):
    page = {"status": "success", "data": {"next": None, "results": [job]}}
    with HostileServer(lambda request, sock: send(sock, 200, page)) as server:
        result = cli(
            "jobs",
            "--server-url",
            server.url,
            "--integration-id",
            "x:y",
            "--api-key",
            "key-12345678",
        )
    assert result.exit_code == 3, result.output
    assert "not in Kombo's shape" in result.output


def test_server_text_printed_by_jobs_cannot_drive_the_terminal():
    page = {
        "status": "success",
        "data": {
            "next": None,
            "results": [{"id": "J\x1b]0;pwned\x07", "name": "N\x1b[2J", "status": "OPEN"}],
        },
    }
    with HostileServer(lambda request, sock: send(sock, 200, page)) as server:
        result = cli(
            "jobs",
            "--server-url",
            server.url,
            "--integration-id",
            "x:y",
            "--api-key",
            "key-12345678",
        )
    assert (
        result.exit_code == 0 and "\x1b" not in result.output and "\\x1b]0;pwned" in result.output
    )


def test_when_nothing_is_sent_the_results_still_list_every_row_and_no_stale_file_remains(
    sandbox, people, tmp_path
):
    source, mapping = people(2, bad=1)
    assert cli(*submit_args(source, mapping, sandbox.url, tmp_path)).exit_code == 1
    assert {r["status"] for r in read_csv(tmp_path / "results.csv")} == {"created", "not_sent"}
    result = cli(*submit_args(source, mapping, sandbox.url, tmp_path), "--dry-run")
    rows = read_csv(tmp_path / "results.csv")
    assert result.exit_code == 1 and [r["row"] for r in rows] == ["2", "3", "4"]
    assert {(r["status"], r["code"]) for r in rows} == {
        ("not_sent", "not_sent"),
        ("not_sent", "invalid_email"),
    }


def test_ctrl_c_or_end_of_input_at_the_confirmation_is_an_interruption_not_a_failure(monkeypatch):
    """click turns Ctrl-C, SIGTERM and end of input at a prompt into Abort, which would exit 1
    ("some rows failed"); the prompt makes it an interruption (130) instead."""
    import click

    from importer import cli as command_line

    def aborted(*args, **kwargs):
        raise click.Abort

    monkeypatch.setattr(click, "confirm", aborted)
    with pytest.raises(KeyboardInterrupt):
        command_line._confirmed("Send 3 rows?")
