"""The terminal: progress that fits an 80-column terminal (a real pseudo-terminal), plain lines
elsewhere, colours only where they belong, --json for machines (errors too), -v after the
command, `-` for standard input, a closed pipe, plurals, and a fast start."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import shutil
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import read_csv

from importer import cli, progress
from importer.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_XLSX = ROOT / "example_data" / "candidates.xlsx"
EXAMPLE_CSV = ROOT / "example_data" / "candidates.csv"
EXAMPLE_MAPPING = ROOT / "mappings" / "example.yaml"
COMMAND = shutil.which("kombo-import") or ""  # the installed script, as a user runs it
PROGRESS_COUNT = re.compile(r"\d[\d,]*/~?[\d,]+ rows")  # `12/401 rows`: only progress says it


def command(*args: str | Path) -> list[str]:
    prefix = [COMMAND] if COMMAND else [sys.executable, "-m", "importer"]
    return [*prefix, *map(str, args)]


def run_in_terminal(
    args: list[str], cwd: Path, columns: int = 80, env: dict[str, str] | None = None
) -> tuple[int, str]:
    """Run `args` with standard input, output and error on a pseudo-terminal `columns` wide
    (TIOCSWINSZ and COLUMNS, as a terminal emulator sets them); return the exit code and every
    byte it wrote there, decoded."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    environment = {**os.environ, "COLUMNS": str(columns), "TERM": "xterm-256color"}
    environment.pop("NO_COLOR", None)
    environment.update(env or {})
    process = subprocess.Popen(
        args,
        stdin=follower,
        stdout=follower,
        stderr=follower,
        cwd=cwd,
        env=environment,
        start_new_session=True,
    )
    os.close(follower)
    written = bytearray()
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(leader, 65536)
                except OSError:  # EIO: every process holding the terminal has ended
                    break
                if not chunk:
                    break
                written += chunk
            elif process.poll() is not None:
                break
        else:
            pytest.fail(f"{args} did not end within 120 s")
    finally:
        os.close(leader)
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)
    return process.returncode, written.decode("utf-8", errors="replace")


_CONTROL = re.compile(r"\x1b\[([0-9;?]*)([A-Za-z])|\x1b.")


def play(output: str, columns: int) -> tuple[list[str], int]:
    """What a terminal `columns` wide shows after `output` (scrolled-off lines included), and the
    longest line the live progress display wrote: past `columns` the terminal wraps it, and
    each redraw would then leave a piece behind."""
    screen, row, column, unwrapped, longest, live = [""], 0, 0, 0, 0, False
    index = 0
    while index < len(output):
        control = _CONTROL.match(output, index)
        if control:
            parameters, action = control.groups()
            if parameters == "?25" and action in "lh":  # rich hides the cursor while it draws
                live = action == "l"
            elif action == "A":
                row = max(row - int(parameters or 1), 0)
            elif action == "K":
                screen[row] = "" if parameters == "2" else screen[row][:column]
            index = control.end()
            continue
        char = output[index]
        index += 1
        if char == "\r":
            column = unwrapped = 0
        elif char == "\n":
            row, column, unwrapped = row + 1, 0, 0
        elif char >= " ":
            if column >= columns:  # the terminal wraps
                row, column = row + 1, 0
            unwrapped += 1
            if live:
                longest = max(longest, unwrapped)
            if row == len(screen):
                screen.append("")
            line = screen[row].ljust(column)
            screen[row] = line[:column] + char + line[column + 1 :]
            column += 1
        if row == len(screen):
            screen.append("")
    return screen, longest


def colours_in(output: str) -> list[str]:
    """The SGR sequences that set a colour (bold and resets are not colours)."""
    found = []
    for parameters in re.findall(r"\x1b\[([0-9;]*)m", output):
        codes = [int(p) for p in parameters.split(";") if p]
        if any(30 <= c <= 49 or 90 <= c <= 107 for c in codes):
            found.append(parameters)
    return found


@pytest.fixture
def many_people(tmp_path: Path) -> tuple[Path, Path]:
    """A CSV of 400 valid people and its mapping: enough rows for several redraws."""
    lines = ["First,Last,Email"] + [f"Person{i},Wolf,person{i}@example.com" for i in range(400)]
    source = tmp_path / "people.csv"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        "candidate:\n  first_name: First\n  last_name: Last\n  email_address: Email\n"
        "application:\n  job_id: {value: BDpgnpZ148nrGh4mYHNxJBgx}\n",
        encoding="utf-8",
    )
    return source, mapping


# --- 1. progress ---------------------------------------------------------------------------


@pytest.mark.parametrize("columns", [80, 50])
def test_submit_in_a_narrow_terminal_redraws_its_progress_in_place(tmp_path, many_people, columns):
    source, mapping = many_people
    code, output = run_in_terminal(
        command("submit", source, "-m", mapping, "--sandbox", "--yes"), tmp_path, columns
    )
    assert code == 0, output
    screen, longest = play(output, columns)
    assert "Created 400" in output
    drawn = PROGRESS_COUNT.findall(output)
    assert len([d for d in drawn if d.endswith("/400 rows")]) >= 2, output  # redrawn, not once
    assert re.search(r"sent \d+ +created \d+ +failed 0", output), output
    assert 0 < longest < columns, f"a progress line of {longest} columns wraps at {columns}"
    left_behind = [line for line in screen if PROGRESS_COUNT.search(line)]
    assert left_behind == [], "the progress display left copies of itself:\n" + "\n".join(screen)


def test_validate_shows_rows_of_the_sheet_and_colours_only_without_no_color(tmp_path):
    code, output = run_in_terminal(
        command("validate", EXAMPLE_XLSX, "-m", EXAMPLE_MAPPING, "--out", tmp_path / "a"), tmp_path
    )
    assert code == 1
    assert re.search(r"Validating\S*  \S+  1/60 rows", output), output  # the sheet says 60
    assert colours_in(output), "a terminal gets colours"
    code, output = run_in_terminal(
        command("validate", EXAMPLE_XLSX, "-m", EXAMPLE_MAPPING, "--out", tmp_path / "b"),
        tmp_path,
        env={"NO_COLOR": "1"},
    )
    assert code == 1 and "1/60 rows" in output
    assert colours_in(output) == [], "NO_COLOR set: no colour at all"


def test_a_csv_total_is_estimated_and_quiet_shows_no_progress(tmp_path):
    code, output = run_in_terminal(
        command("validate", EXAMPLE_CSV, "-m", EXAMPLE_MAPPING, "--out", tmp_path / "a"), tmp_path
    )
    assert code == 1 and re.search(r"1/~[\d,]+ rows", output), output
    code, output = run_in_terminal(
        command("validate", EXAMPLE_CSV, "-m", EXAMPLE_MAPPING, "--out", tmp_path / "b", "-q"),
        tmp_path,
    )
    assert code == 1 and "Rows read: 60" in output
    assert not PROGRESS_COUNT.search(output) and "\x1b[?25l" not in output


def test_errors_are_red_on_a_terminal_only_without_no_color(tmp_path):
    missing = tmp_path / "missing.yaml"
    code, output = run_in_terminal(command("validate", EXAMPLE_CSV, "-m", missing), tmp_path)
    assert code == 2 and colours_in(output) and "Error:" in output
    code, output = run_in_terminal(
        command("validate", EXAMPLE_CSV, "-m", missing), tmp_path, env={"NO_COLOR": "x"}
    )
    assert code == 2 and colours_in(output) == [] and "Error: " in output


def test_without_a_terminal_progress_is_a_plain_line_every_few_seconds(
    tmp_path, many_people, sandbox, monkeypatch
):
    monkeypatch.setattr(progress, "LOG_EVERY", 0.0)  # every report is due: no waiting in a test
    source, mapping = many_people
    args = [
        "submit", source, "-m", mapping, "--server-url", sandbox.url, "--integration-id",
        "sandbox:demo", "--api-key", "sandbox-key", "--yes", "--ledger", tmp_path / "l.sqlite",
    ]  # fmt: skip
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    logged = result.stderr.splitlines()
    assert logged and all("\r" not in line and "\x1b" not in line for line in logged)
    assert any(re.fullmatch(r"\d\d:\d\d:\d\d Validating, \d+/~\d+ rows", line) for line in logged)
    sending = [line for line in logged if " Sending, " in line]
    assert sending and all(
        re.fullmatch(r"\d\d:\d\d:\d\d Sending, \d+/400 rows(, ETA \d+s)?, sent \d+, "
                     r"created \d+, failed 0(, \d+ rows/s)?", line)
        for line in sending
    ), sending  # fmt: skip
    assert ", 400/400 rows, " in sending[-1] and ", created 400, failed 0" in sending[-1]
    quiet = CliRunner().invoke(main, [str(a) for a in args] + ["-q", "--force"])
    assert quiet.exit_code == 0 and quiet.stderr == ""


# --- 2. --json -----------------------------------------------------------------------------


def test_validate_json_holds_the_counts_the_first_problems_and_where_the_rest_are(tmp_path):
    args = ["validate", EXAMPLE_CSV, "-m", EXAMPLE_MAPPING, "--out", tmp_path, "--json"]
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 1 and result.stderr == ""
    summary = json.loads(result.stdout)
    assert summary["problems"] == 10 and sum(summary["problems_by_code"].values()) == 10
    assert len(summary["first_problems"]) == 10 and summary["problems_not_shown"] == 0
    report = Path(summary["outputs"]["report"])
    assert report == tmp_path / "report.csv"
    errors = [r for r in read_csv(report) if r["severity"] == "error"]
    assert [int(r["row"]) for r in errors] == [p["row"] for p in summary["first_problems"]]


def test_submit_json_is_the_whole_result_and_the_words_for_people_go_to_stderr(
    tmp_path, many_people
):
    source, mapping = many_people
    result = subprocess.run(
        command("submit", source, "-m", mapping, "--sandbox", "--yes", "--json"),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert outcome["rows_read"] == 400 and outcome["valid"] == 400
    assert outcome["sending"]["by_status"] == {"created": 400}
    assert outcome["sending"]["requests"] == 400 and outcome["sending"]["stopped_by"] is None
    assert outcome["ledger"] is None  # a --sandbox run's ledger is temporary
    results = Path(tmp_path, outcome["outputs"]["results"])
    assert [r["status"] for r in read_csv(results)] == ["created"] * 400
    assert "Sending 400 valid rows" in result.stderr


def test_status_json_counts_what_the_ledger_holds(tmp_path, many_people, sandbox):
    source, mapping = many_people
    ledger = tmp_path / "ledger.sqlite"
    args = [
        "submit", source, "-m", mapping, "--server-url", sandbox.url, "--integration-id",
        "sandbox:demo", "--api-key", "sandbox-key", "--yes", "-q", "--ledger", ledger,
    ]  # fmt: skip
    assert CliRunner().invoke(main, [str(a) for a in args]).exit_code == 0
    result = CliRunner().invoke(main, ["status", str(ledger), "--json"])
    assert result.exit_code == 0, result.output
    held = json.loads(result.stdout)
    assert held["integrations"] == {"sandbox:demo": {"created": 400}}
    assert held["to_do"] == [] and held["failed"] == []
    text = CliRunner().invoke(main, ["status", str(ledger)])
    assert text.stdout.splitlines() == ["sandbox:demo: created 400"]


@pytest.mark.parametrize(
    "args,exit_code,kind,says",
    [
        (["validate", str(EXAMPLE_CSV), "--json"], 2, "usage", "Missing option '-m'"),
        (["validate", str(EXAMPLE_CSV), "-m", "nowhere.yaml", "--json"], 2, "config", "nowhere"),
        (["status", "nowhere.sqlite", "--json"], 2, "input", "no such ledger"),
        (["validate", str(EXAMPLE_CSV), "-m", str(EXAMPLE_MAPPING), "--json", "--sheet", "2"],
         2, "input", "no sheets"),
    ],
)  # fmt: skip
def test_errors_are_json_on_stdout_with_json(tmp_path, args, exit_code, kind, says):
    result = CliRunner().invoke(main, args + ["--out", str(tmp_path)] if "-m" in args else args)
    assert result.exit_code == exit_code, result.output
    error = json.loads(result.stdout)["error"]
    assert error["exit_code"] == exit_code and error["kind"] == kind, error
    assert says in error["message"]


def test_a_fatal_api_error_is_json_with_exit_3_and_the_key_never_shows(tmp_path, sandbox):
    key = "wrong-key-0123456789"
    result = CliRunner().invoke(
        main,
        ["jobs", "--server-url", sandbox.url, "--integration-id", "sandbox:demo"]
        + ["--api-key", key, "--json"],
    )
    assert result.exit_code == 3
    error = json.loads(result.stdout)["error"]
    assert error["exit_code"] == 3 and error["kind"] == "api"
    assert "PLATFORM.AUTHENTICATION_INVALID" in error["message"] and key not in result.output


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
def test_a_results_file_that_cannot_be_written_is_json_with_exit_4(tmp_path, many_people):
    source, mapping = many_people
    args = ["submit", source, "-m", mapping, "--sandbox", "--yes", "-q", "--json"]
    args += ["--results", "/dev/full", "--batch-size", "10"]  # every write: no space left
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 4
    error = json.loads(result.stdout)["error"]
    assert error["exit_code"] == 4 and error["kind"] == "output"
    assert error["message"].startswith("/dev/full: the results cannot be written")


# --- 3. -v after the command, standard input, a closed pipe, plurals -----------------------


def test_verbose_is_accepted_after_the_command_too(tmp_path):
    for place in (["-v", "validate"], ["validate", "-v"]):
        args = [*place, str(EXAMPLE_CSV), "-m", str(tmp_path / "missing.yaml")]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2 and "Traceback (most recent call last)" in result.stderr
    assert "Traceback" not in CliRunner().invoke(main, args[1:]).stderr


def test_dash_reads_the_csv_from_standard_input(tmp_path):
    attachments = EXAMPLE_CSV.parent  # attachment paths are relative to the current folder else
    with EXAMPLE_CSV.open("rb") as piped:
        result = subprocess.run(
            command("validate", "-", "-m", EXAMPLE_MAPPING, "--attachments-dir", attachments),
            stdin=piped,
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=120,
        )
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Read <stdin>, ")
    assert "Rows read: 60   valid: 50   invalid: 10   problems: 10" in lines[1]
    assert "kombo-import-stdin" not in result.stdout  # the temporary copy is never named
    assert (tmp_path / "stdin.kombo" / "report.csv").is_file()  # outputs stay here


def test_standard_input_over_the_bound_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(cli, "MAX_STDIN_BYTES", 100)
    result = CliRunner().invoke(
        main,
        ["validate", "-", "-m", str(EXAMPLE_MAPPING), "--out", str(tmp_path)],
        input=EXAMPLE_CSV.read_bytes(),
    )
    assert result.exit_code == 2
    assert "Error: <stdin>: standard input holds more than 100 bytes" in result.stderr


@pytest.mark.parametrize("as_json", [False, True])
def test_a_closed_pipe_ends_quietly_with_the_usual_exit_code(tmp_path, as_json):
    process = subprocess.Popen(
        command("validate", EXAMPLE_CSV, "-m", EXAMPLE_MAPPING, "--out", tmp_path)
        + (["--json"] if as_json else []),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # the reader is gone before the first line, as `| head -0` would be
    stderr = process.stderr.read()
    assert process.wait(timeout=120) == 1  # some rows are invalid: 1, as when it is read
    assert stderr == b""  # no BrokenPipeError, no "Exception ignored"
    assert (tmp_path / "report.csv").is_file()  # the run itself went on


def test_messages_are_not_cut_when_not_on_a_terminal(tmp_path, write_csv, write_mapping):
    surname = "Last name of the candidate exactly as it is written in their passport or ID card"
    source = write_csv([["First", surname, "Email"], ["Anna", "", "anna@example.com"]])
    mapping = write_mapping(
        f"candidate:\n  first_name: First\n  last_name: {surname}\n  email_address: Email\n"
        "application:\n  job_id: {value: JOB1}\n"
    )
    args = ["validate", str(source), "-m", str(mapping), "--out", str(tmp_path / "out")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    assert "First 1 problem:" in result.stdout
    row = next(line for line in result.stdout.splitlines() if line.startswith("  2 "))
    assert row.split(maxsplit=1)[1].startswith(surname + "  required  ")
    assert row.endswith(f"'{surname}' is empty; candidate.last_name is required.")
    code, output = run_in_terminal(command(*args, "--force"), tmp_path)  # 80 columns: cut there
    row = next(line for line in output.splitlines() if line.startswith("  2 "))
    assert code == 1 and row.endswith("…") and len(row) < 80


def test_counts_have_their_plural(tmp_path, write_csv):
    source = write_csv([["E-Mail", "Remarks"], ["anna@example.com", "x"]])
    result = CliRunner().invoke(main, ["init", str(source), "-o", str(tmp_path / "m.yaml")])
    assert result.exit_code == 0, result.output
    assert "1 column placed, 1 not placed" in result.stdout


# --- 4. a fast start -------------------------------------------------------------------------


HEAVY = ("kombo", "pandas", "httpx", "pydantic", "rich", "openpyxl", "python_calamine", "sqlite3")


@pytest.mark.parametrize(
    "args,env",
    [
        (["--help"], {}),
        (["validate", "--help"], {}),
        ([], {"_KOMBO_IMPORT_COMPLETE": "bash_complete", "COMP_WORDS": "kombo-import va",
              "COMP_CWORD": "1"}),
    ],
)  # fmt: skip
def test_help_and_completion_import_nothing_heavy(args, env):
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "importer", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    imported = {
        line.rsplit("|", 1)[1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    assert "importer.cli" in imported
    heavy = sorted(m for m in imported if m.split(".")[0] in HEAVY)
    assert heavy == [], f"`kombo-import {' '.join(args)}` imports {heavy}"
    if env:
        assert result.stdout.splitlines() == ["plain,validate"]
