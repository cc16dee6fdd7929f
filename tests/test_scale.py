"""Large files in flat memory, with nothing changed in what a run finds: the example's reports
as they were before the sheet was streamed, the streamed workbook read as calamine read it whole,
and duplicate emails found once their index has moved to disk."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import xlsxwriter
from conftest import read_csv

from importer import checks
from importer.readers import read_table
from importer.runs import DryRunOptions, dry_run

ROOT = Path(__file__).resolve().parent.parent
EXPECTED = Path(__file__).resolve().parent / "expected"


def _text(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8-sig").splitlines()


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
@pytest.mark.parametrize("workers", ["0", "2"])
def test_the_example_reports_what_it_reported_before_in_one_process_and_on_workers(
    tmp_path, monkeypatch, kind, workers
):
    """The dry run of example_data with mappings/example.yaml writes, line for line, the error
    report and rejects written before the workbook was streamed (tests/expected), whether one
    process does it or worker processes do."""
    monkeypatch.setenv("KOMBO_IMPORTER_WORKERS", workers)
    report, rejects = tmp_path / "report.csv", tmp_path / "rejects.csv"
    dry_run(
        DryRunOptions(
            ROOT / "example_data" / f"candidates.{kind}",
            ROOT / "mappings" / "example.yaml",
            report_path=report,
            rejects_path=rejects,
        )
    )
    folder = str(ROOT / "example_data")
    for written, expected in ((report, "report"), (rejects, "rejects")):
        lines = [line.replace(folder, "{example_data}") for line in _text(written)]
        assert lines == _text(EXPECTED / f"example_{expected}_{kind}.csv"), expected


def test_a_streamed_workbook_reads_every_kind_of_cell_as_a_whole_sheet_did(tmp_path):
    """A 1904 workbook whose table starts in column B under a title: real dates and times,
    cached formula results, an error value (a problem on its row), a text that only looks like
    one, whole numbers kept as their digits; the rows keep the numbers Excel shows."""
    path = tmp_path / "export.xlsx"
    book = xlsxwriter.Workbook(str(path), {"date_1904": True})
    sheet = book.add_worksheet("Candidates")
    day = book.add_format({"num_format": "dd.mm.yyyy"})
    moment = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    clock = book.add_format({"num_format": "hh:mm"})
    sheet.write("B1", "Export of 2026-11-20")
    sheet.write_row("B3", ["Id", "Name", "Available", "Interview", "Call at", "Score", "Note"])
    sheet.write_row("B4", [4915112345678.0, "Anna"])
    sheet.write_datetime("D4", dt.datetime(2026, 3, 31), day)
    sheet.write_datetime("E4", dt.datetime(2026, 4, 2, 9, 30), moment)
    sheet.write_datetime("F4", dt.datetime(1904, 1, 1, 14, 15), clock)
    sheet.write_formula("G4", "=1+1", None, 2)
    sheet.write_formula("H4", '="ok"&"!"', None, "ok!")
    sheet.write_row("B6", [2, "Ben", None, None, None, 1.5, "#N/A"])
    sheet.write_formula("C7", "=NA()", None, "#N/A")
    sheet.write("B7", 3)
    book.close()

    table = read_table(path, expected_columns=["Id", "Name"])
    assert (table.sheet, table.header_row) == ("Candidates", 3)
    assert table.headers == ["Id", "Name", "Available", "Interview", "Call at", "Score", "Note"]
    rows = list(table.rows)
    assert [(r.row_number, r.values) for r in rows] == [
        (
            4,
            (
                4915112345678,
                "Anna",
                dt.date(2026, 3, 31),
                dt.datetime(2026, 4, 2, 9, 30),
                dt.time(14, 15),
                2,
                "ok!",
            ),
        ),
        (6, (2, "Ben", None, None, None, 1.5, "#N/A")),
        (7, (3, "#N/A", None, None, None, None, None)),
    ]
    assert [p.code for r in rows for p in r.problems] == ["cell_error"]
    assert [(p.row, p.column) for p in rows[2].problems] == [(7, "Name")]
    assert "cell C7" in rows[2].problems[0].message


def test_a_value_far_below_left_of_the_table_widens_it_as_a_whole_sheet_did(tmp_path):
    """calamine read a sheet from its leftmost value: a note in column A on row 3,000 gives the
    table a column A (an empty header, named by its letter), though no row near the header
    starts there."""
    path = tmp_path / "export.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Candidates")
    sheet.write_row("C1", ["First", "Email"])
    for row in range(1, 3000):
        sheet.write_row(row, 2, [f"P{row}", f"p{row}@example.com"])
    sheet.write("A3001", "checked by Tim")
    book.close()
    table = read_table(path)
    assert table.headers == ["Column A", "Column B", "First", "Email"]
    rows = list(table.rows)
    assert (rows[0].row_number, rows[0].values) == (2, (None, None, "P1", "p1@example.com"))
    assert (rows[-1].row_number, rows[-1].values) == (3001, ("checked by Tim", None, None, None))


def test_duplicate_emails_are_found_alike_once_their_index_is_on_disk(
    write_csv, write_mapping, tmp_path, monkeypatch
):
    """Past KEYS_IN_MEMORY the (job, email) pairs seen go to a file on disk: a repeat is found
    and cites its first row the same, whether that row came before the move, in the batch not
    yet written, or after."""
    rows = [["First", "Email", "Job"]]
    for i in range(600):
        email = f"Person{i % 230}@Example.com" if i % 3 else f"person{i}@example.com"
        rows.append([f"P{i}", email.lower() if i % 7 else email, "J1" if i % 5 else "J2"])
    rows += [["Late", "late@example.com", "J1"], ["Later", "LATE@example.com", "J1"]]
    source = write_csv(rows)
    mapping = write_mapping(
        "candidate: {first_name: First, last_name: {value: X}, email_address: Email}\n"
        "application: {job_id: Job}\n"
    )

    def report(name: str) -> list[dict[str, str]]:
        path = tmp_path / f"{name}.csv"
        dry_run(DryRunOptions(source, mapping, report_path=path))
        return read_csv(path)

    in_memory = report("in-memory")
    monkeypatch.setattr(checks.DuplicateEmailCheck, "KEYS_IN_MEMORY", 40)
    monkeypatch.setattr(checks._KeysOnDisk, "BATCH", 7)
    on_disk = report("on-disk")
    assert on_disk == in_memory
    duplicates = [line for line in in_memory if line["code"] == "duplicate_in_file"]
    assert len(duplicates) > 200
    cited = [
        (int(line["row"]), int(line["message"].split(" in row ")[1].split(";")[0]))
        for line in duplicates
    ]
    assert any(first < 40 and row > 400 for row, first in cited)  # seen before the move to disk
    assert any(row - first < 7 and first > 41 for row, first in cited)  # still in the batch
