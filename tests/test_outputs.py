"""Outputs people can work with: results that line up with the input, one run folder per input,
CSVs that open in columns in the user's Excel, rejects that find their attachments wherever they
are written. Through the CLI, on real files, against the real sandbox on 127.0.0.1."""

from __future__ import annotations

import csv
import json
import signal
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import SUBMIT_MAPPING, read_csv, start, submit_command, wait_for_posts

from importer.cli import main

ROOT = Path(__file__).resolve().parent.parent
RESULT_COLUMNS = [
    "status",
    "candidate_id",
    "application_id",
    "code",
    "message",
    "attempts",
    "log_url",
    "warnings",
    "actions",
]


def cli(*args, **kwargs):
    return CliRunner().invoke(main, [str(a) for a in args], **kwargs)


def header_of(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return next(csv.reader(fh, delimiter=delimiter_of(path)))


def delimiter_of(path: Path) -> str:
    """The delimiter Excel would split by: the one the header line holds."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        line = fh.readline()
    return max(",;\t|", key=line.count)


def people_rows(n: int, bad: int = 0) -> list[list[str]]:
    rows = [["First", "Last", "Email", "Job", "Note"]]
    rows += [[f"Person{i}", "Wolf", f"person{i}@example.com", "", f"note {i}"] for i in range(n)]
    rows += [[f"Bad{i}", "", f"bad{i}@example.com", "", f"bad note {i}"] for i in range(bad)]
    return rows


def submit_args(source, mapping, url, tmp_path, *extra):
    """Submit with the ledger in tmp_path and every output in the run folder (no --results)."""
    args = submit_command(source, mapping, url, tmp_path / "ledger.sqlite", None, *extra)
    at = args.index("--results")
    return [*args[:at], *args[at + 2 :], "--no-check-remote"]


# --- 1. results that line up with the input ---------------------------------------------------


def test_results_list_every_row_in_input_order_with_its_columns_though_rows_finish_out_of_order(
    sandbox, write_csv, write_mapping, tmp_path
):
    source = write_csv(people_rows(40, bad=2), name="people.csv")
    mapping = write_mapping(SUBMIT_MAPPING)
    sandbox.config.latency = 0.01
    # Rows 3 and 4 meet an ATS that is down for a moment: retried after a backoff, they end
    # after rows sent later. Row 6 is refused for good, with Kombo's log link.
    sandbox.config.set_script(
        ["ok", "REMOTE.SERVICE_UNAVAILABLE", "REMOTE.SERVICE_UNAVAILABLE", "ok", "ok"]
        + ["REMOTE.INPUT_INVALID"]
    )
    result = cli(*submit_args(source, mapping, sandbox.url, tmp_path, "--concurrency", "4"))
    assert result.exit_code == 1, result.output
    created_order = [c.body["candidate"]["email_address"] for c in sandbox.state.created]
    assert created_order != sorted(created_order, key=lambda e: int(e[6:].split("@")[0]))

    results = tmp_path / "people.kombo" / "results.csv"
    assert header_of(results) == ["row", "First", "Last", "Email", "Job", "Note", *RESULT_COLUMNS]
    rows = read_csv(results)
    assert [int(r["row"]) for r in rows] == list(range(2, 44))
    assert [r["Note"] for r in rows] == [f"note {i}" for i in range(40)] + [
        "bad note 0",
        "bad note 1",
    ]
    assert all(r["Email"] == f"person{i}@example.com" for i, r in enumerate(rows[:40]))
    refused = next(r for r in rows if r["status"] == "failed")
    assert refused["code"] == "api.REMOTE.INPUT_INVALID"
    assert refused["log_url"].startswith(sandbox.url.split("/v1")[0] + "/logs?interactionId=")
    retried = [r for r in rows if r["attempts"] not in ("", "0", "1")]
    assert len(retried) == 2 and {r["status"] for r in retried} == {"created"}
    assert [r["status"] for r in rows[-2:]] == ["not_sent", "not_sent"]
    assert rows[-1]["code"] == "required" and rows[-1]["attempts"] == "0"
    assert not (tmp_path / "people.kombo" / "results.partial.csv").exists()
    assert f"Wrote the results to {results}" in result.output


def test_an_interrupted_run_still_ends_with_every_row_in_input_order(
    sandbox, write_csv, write_mapping, tmp_path
):
    source = write_csv(people_rows(120), name="people.csv")
    mapping = write_mapping(SUBMIT_MAPPING)
    sandbox.config.latency = 0.05
    process = start(submit_args(source, mapping, sandbox.url, tmp_path, "--concurrency", "4"))
    wait_for_posts(sandbox, 10, process)
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 130, output
    rows = read_csv(tmp_path / "people.kombo" / "results.csv")
    assert [int(r["row"]) for r in rows] == list(range(2, 122))
    assert [r["Email"] for r in rows] == [f"person{i}@example.com" for i in range(120)]
    statuses = [r["status"] for r in rows]
    assert statuses.count("created") == len(sandbox.state.created) > 0
    assert statuses[-1] == "not_sent" and rows[-1]["code"] == "stopped"
    assert not (tmp_path / "people.kombo" / "results.partial.csv").exists()


def test_a_killed_run_leaves_its_partial_results_under_a_name_that_says_so(
    sandbox, write_csv, write_mapping, tmp_path
):
    source = write_csv(people_rows(200), name="people.csv")
    mapping = write_mapping(SUBMIT_MAPPING)
    sandbox.config.latency = 0.05
    args = submit_args(source, mapping, sandbox.url, tmp_path, "--concurrency", "2")
    process = start([*args, "--batch-size", "1"])
    wait_for_posts(sandbox, 8, process)
    time.sleep(0.2)
    process.kill()
    process.communicate(timeout=30)
    folder = tmp_path / "people.kombo"
    assert not (folder / "results.csv").exists()
    partial = read_csv(folder / "results.partial.csv")
    assert header_of(folder / "results.partial.csv") == ["row", *RESULT_COLUMNS]
    assert 0 < len(partial) < 200 and {r["status"] for r in partial} == {"created"}
    # The next run of the same command picks up: the ledger skips what was created, and the
    # results line up again.
    sandbox.config.latency = 0
    again = cli(*args)
    assert again.exit_code == 0, again.output
    rows = read_csv(folder / "results.csv")
    assert [int(r["row"]) for r in rows] == list(range(2, 202))
    assert not (folder / "results.partial.csv").exists()
    assert len(sandbox.state.created) == 200 and sandbox.state.already_exists_answers == 0


def test_a_run_stopped_by_a_fatal_error_has_its_results_in_input_order(
    sandbox, write_csv, write_mapping, tmp_path
):
    source = write_csv(people_rows(30), name="people.csv")
    mapping = write_mapping(SUBMIT_MAPPING)
    sandbox.config.set_script(["ok", "ok", "ok", "INTEGRATION.INACTIVE"])
    result = cli(*submit_args(source, mapping, sandbox.url, tmp_path, "--concurrency", "1"))
    assert result.exit_code == 3, result.output
    rows = read_csv(tmp_path / "people.kombo" / "results.csv")
    assert [int(r["row"]) for r in rows] == list(range(2, 32))
    assert [r["status"] for r in rows[:3]] == ["created"] * 3
    assert {r["status"] for r in rows[4:]} == {"not_sent"}


def test_results_split_writes_data_loader_style_success_and_error_files(
    sandbox, write_csv, write_mapping, tmp_path
):
    source = write_csv(people_rows(6, bad=2), name="people.csv")
    mapping = write_mapping(SUBMIT_MAPPING)
    sandbox.config.set_script(["ok", "REMOTE.INPUT_INVALID"])
    args = submit_args(source, mapping, sandbox.url, tmp_path, "--concurrency", "1")
    result = cli(*args, "--results-split")
    assert result.exit_code == 1, result.output
    folder = tmp_path / "people.kombo"
    success = read_csv(folder / "success.csv")
    assert [r["row"] for r in success] == ["2", "4", "5", "6", "7"]
    assert {r["status"] for r in success} == {"created"} and success[0]["candidate_id"]
    assert header_of(folder / "error.csv") == ["First", "Last", "Email", "Job", "Note", "errors"]
    errors = read_csv(folder / "error.csv")
    assert [r["First"] for r in errors] == ["Person1", "Bad0", "Bad1"]
    assert errors[0]["errors"].startswith("row 3: failed (api.REMOTE.INPUT_INVALID): ")
    assert errors[1]["errors"].startswith("row 8: not_sent (required): ")
    assert f"Wrote the rows to fix and send again to {folder / 'error.csv'}" in result.output
    again = cli("validate", folder / "error.csv", "-m", mapping, "--json")
    summary = json.loads(again.output)
    assert (summary["rows_read"], summary["valid"], summary["invalid"]) == (3, 1, 2)


# --- 2. one run folder ---------------------------------------------------------------------


def test_a_run_writes_into_one_folder_named_after_its_input_and_says_where_each_file_is(
    write_csv, write_mapping, tmp_path
):
    source = write_csv(people_rows(2, bad=1), name="candidates.csv")
    mapping = write_mapping(SUBMIT_MAPPING)
    result = cli("validate", source, "-m", mapping)
    assert result.exit_code == 1, result.output
    folder = tmp_path / "candidates.kombo"
    assert sorted(p.name for p in folder.iterdir()) == [
        ".kombo-run.json",
        "rejects.csv",
        "report.csv",
        "report.html",
    ]
    assert result.output.splitlines()[-3:] == [
        f"Wrote the error report to {folder / 'report.csv'}",
        f"Wrote the HTML report to {folder / 'report.html'}",
        f"Wrote the rejected rows to {folder / 'rejects.csv'}",
    ]
    again = cli("validate", source, "-m", mapping, "--annotated")
    assert again.exit_code == 1, again.output
    assert (folder / "annotated.xlsx").is_file()
    assert f"Wrote the error report to {folder / 'report.csv'} (replacing the earlier run's)" in (
        again.output
    )
    assert again.output.splitlines()[-1] == (
        f"Wrote the annotated workbook to {folder / 'annotated.xlsx'}"
    )


def test_out_chooses_the_folder_and_explicit_paths_still_win(write_csv, write_mapping, tmp_path):
    source = write_csv(people_rows(1, bad=1))
    mapping = write_mapping(SUBMIT_MAPPING)
    own = tmp_path / "mine" / "problems.csv"
    result = cli("validate", source, "-m", mapping, "--out", tmp_path / "runs", "--report", own)
    assert result.exit_code == 1, result.output
    assert read_csv(own)[0]["code"] == "required"
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == [
        ".kombo-run.json",
        "rejects.csv",
        "report.html",
    ]
    assert not (tmp_path / "input.kombo").exists()
    assert "all are in" not in result.output  # one problem: all shown


def test_another_inputs_run_folder_is_never_replaced_without_force(
    write_csv, write_mapping, tmp_path
):
    mapping = write_mapping(SUBMIT_MAPPING)
    first = write_csv(people_rows(1, bad=1), name="candidates.csv")
    assert cli("validate", first, "-m", mapping).exit_code == 1
    folder = tmp_path / "candidates.kombo"
    report = (folder / "report.csv").read_bytes()
    second = tmp_path / "candidates.tsv"
    second.write_text("First\tLast\tEmail\tJob\nAnna\tWolf\tanna@example.com\t\n", "utf-8")
    refused = cli("validate", second, "-m", mapping)
    assert refused.exit_code == 2
    assert refused.output == (
        f"Error: {folder} holds the outputs of another input, {first}; choose another folder "
        "with --out DIR, or pass --force to write over them.\n"
    )
    assert (folder / "report.csv").read_bytes() == report
    forced = cli("validate", second, "-m", mapping, "--force")
    assert forced.exit_code == 0, forced.output
    assert read_csv(folder / "report.csv") == []
    assert cli("validate", first, "-m", mapping).exit_code == 2  # now the folder is the other's


def test_a_file_no_run_of_this_input_wrote_is_not_replaced_without_force(
    write_csv, write_mapping, tmp_path
):
    source = write_csv(people_rows(1, bad=1))
    mapping = write_mapping(SUBMIT_MAPPING)
    mine = tmp_path / "notes.csv"
    mine.write_text("my own notes\n", encoding="utf-8")
    refused = cli("validate", source, "-m", mapping, "--report", mine)
    assert refused.exit_code == 2
    assert f"Error: {mine} exists, and no earlier run of {source} wrote it" in refused.output
    assert mine.read_text(encoding="utf-8") == "my own notes\n"
    assert not (tmp_path / "input.kombo").exists()  # refused before anything was written
    assert cli("validate", source, "-m", mapping, "--report", mine, "--force").exit_code == 1
    assert read_csv(mine)[0]["code"] == "required"
    again = cli("validate", source, "-m", mapping, "--report", mine)  # now it is this input's
    assert again.exit_code == 1 and "(replacing the earlier run's)" in again.output


def test_moving_a_folder_with_its_run_folder_keeps_them_together(
    write_csv, write_mapping, tmp_path
):
    mapping = write_mapping(SUBMIT_MAPPING)
    project = tmp_path / "project"
    project.mkdir()
    source = project / "candidates.csv"
    source.write_text("First,Last,Email,Job\nAnna,,anna@example.com,\n", encoding="utf-8")
    assert cli("validate", source, "-m", mapping).exit_code == 1
    moved = tmp_path / "moved"
    project.rename(moved)
    again = cli("validate", moved / "candidates.csv", "-m", mapping)
    assert again.exit_code == 1, again.output
    assert "(replacing the earlier run's)" in again.output


# --- 3. CSV that opens right in Excel -------------------------------------------------------


def test_a_semicolon_input_gets_semicolon_outputs_and_an_option_overrides(
    sandbox, write_csv, write_mapping, tmp_path
):
    source = write_csv(people_rows(2, bad=1), name="people.csv", delimiter=";")
    mapping = write_mapping(SUBMIT_MAPPING)
    result = cli(*submit_args(source, mapping, sandbox.url, tmp_path), "--results-split")
    assert result.exit_code == 1, result.output
    folder = tmp_path / "people.kombo"
    for name in ("report.csv", "rejects.csv", "results.csv", "success.csv", "error.csv"):
        assert delimiter_of(folder / name) == ";", name
        assert (folder / name).read_bytes().startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM
    assert read_csv(folder / "results.csv")[0]["Email"] == "person0@example.com"
    tabbed = tmp_path / "tabbed"
    tab = cli("validate", source, "-m", mapping, "--output-delimiter", "tab", "--out", tabbed)
    assert tab.exit_code == 1, tab.output
    assert delimiter_of(tabbed / "report.csv") == "\t"


def test_an_excel_input_gets_comma_outputs(write_mapping, tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    for row in people_rows(1, bad=1):
        book.active.append(row)
    source = tmp_path / "people.xlsx"
    book.save(source)
    result = cli("validate", source, "-m", write_mapping(SUBMIT_MAPPING))
    assert result.exit_code == 1, result.output
    assert delimiter_of(tmp_path / "people.kombo" / "report.csv") == ","
    assert delimiter_of(tmp_path / "people.kombo" / "rejects.csv") == ","


ATTACHMENT_MAPPING = SUBMIT_MAPPING.replace(
    "application:", "attachments: [{column: CV, type: CV}]\napplication:"
)


@pytest.mark.parametrize("where", ["--out", "--rejects"])
def test_rejects_written_elsewhere_find_the_same_attachments_from_any_folder(
    where, write_csv, write_mapping, tmp_path, monkeypatch
):
    (tmp_path / "cvs").mkdir()
    for name in ("anna.pdf", "ben.pdf"):
        (tmp_path / "cvs" / name).write_bytes(b"%PDF-1.4 a CV")
    source = write_csv(
        [
            ["First", "Last", "Email", "Job", "CV"],
            ["Anna", "", "anna@example.com", "", "cvs/anna.pdf"],  # no last name, CV there
            ["Ben", "Wolf", "ben@example", "", "cvs/ben.pdf"],  # a bad email, CV there
            ["Cleo", "Wolf", "cleo@example.com", "", "cvs/cleo.pdf"],  # CV missing
            ["Dana", "Wolf", "dana@example.com", "", "cvs/anna.pdf"],  # valid
        ]
    )
    mapping = write_mapping(ATTACHMENT_MAPPING)
    elsewhere = tmp_path / "shared" / "for review"
    target = ["--out", elsewhere] if where == "--out" else ["--rejects", elsewhere / "fix.csv"]
    first = cli("validate", source, "-m", mapping, *target)
    assert first.exit_code == 1, first.output
    rejects = elsewhere / ("rejects.csv" if where == "--out" else "fix.csv")
    assert [r["First"] for r in read_csv(rejects)] == ["Anna", "Ben", "Cleo"]
    monkeypatch.chdir(tmp_path / "shared")  # another folder than the input's or the rejects'
    again = cli("validate", rejects, "-m", mapping, "--json")
    summary = json.loads(again.output)
    assert summary["problems_by_code"] == {"required": 1, "invalid_email": 1, "file_not_found": 1}
    missing = next(p for p in summary["first_problems"] if p["code"] == "file_not_found")
    assert missing["value"] == "cvs/cleo.pdf"
    assert any(str(tmp_path) in notice for notice in summary["notices"])


# --- 4. the summary's pointers ----------------------------------------------------------------


@pytest.mark.parametrize("bad,line", [(11, "1 more problem is"), (13, "3 more problems are")])
def test_the_summary_says_how_many_problems_are_not_shown_and_where_they_are(
    bad, line, write_csv, write_mapping, tmp_path
):
    source = write_csv(people_rows(0, bad=bad))
    result = cli("validate", source, "-m", write_mapping(SUBMIT_MAPPING))
    assert result.exit_code == 1
    report = tmp_path / "input.kombo" / "report.csv"
    assert f"{line} not shown; all are in {report}" in result.output
    assert len(read_csv(report)) == bad


# --- 5. --redact ----------------------------------------------------------------------------


def test_redact_masks_the_report_and_the_html_never_the_rejects_or_results(
    sandbox, write_csv, write_mapping, tmp_path
):
    source = write_csv(
        [
            ["First", "Last", "Email", "Job"],
            ["Jonas", "Weber", "jonas.weber@gmail", ""],
            ["Anna", "Wolf", "anna.wolf@example.com", ""],
        ],
        name="people.csv",
    )
    mapping = write_mapping(SUBMIT_MAPPING)
    result = cli(*submit_args(source, mapping, sandbox.url, tmp_path), "--redact")
    assert result.exit_code == 1, result.output
    folder = tmp_path / "people.kombo"
    for name in ("report.csv", "report.html"):
        text = (folder / name).read_text(encoding="utf-8-sig")
        assert "jonas.weber" not in text, name
    assert read_csv(folder / "report.csv")[0]["code"] == "invalid_email"
    assert read_csv(folder / "rejects.csv")[0]["Email"] == "jonas.weber@gmail"
    assert read_csv(folder / "results.csv")[0]["Email"] == "jonas.weber@gmail"
    assert f"Wrote the error report to {folder / 'report.csv'} (redacted)" in result.output
    assert f"Wrote the HTML report to {folder / 'report.html'} (redacted)" in result.output
    assert f"Wrote the results to {folder / 'results.csv'}\n" in result.output
    assert "the rejects and results keep every value" in result.output
