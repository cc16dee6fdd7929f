"""Each reader quirk, on files written by real writers: Python's csv, openpyxl and xlsxwriter."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from importer.errors import InputFileError
from importer.readers import detect_delimiter, read_table

ROWS = [["First", "Last", "Email"], ["Jürgen", "Müller", "j@example.com"], ["Zoë", "Łukasiewicz", "z@example.com"]]


def rows_of(table):
    return [(r.row_number, r.values) for r in table.rows]


@pytest.mark.parametrize(
    ("encoding", "detected"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("utf-16", "utf-16"), ("cp1252", "cp1252")],
)
def test_csv_encodings_are_detected(write_csv, encoding, detected):
    rows = [["First", "Last", "Email"], ["Jürgen", "Müller", "j@example.com"], ["Zoë", "Ça va – “quoted”", "z@example.com"]]
    table = read_table(write_csv(rows, encoding=encoding))
    assert table.encoding == detected
    assert table.headers == ["First", "Last", "Email"]
    assert rows_of(table) == [(2, ("Jürgen", "Müller", "j@example.com")), (3, ("Zoë", "Ça va – “quoted”", "z@example.com"))]


def test_latin1_file_with_bytes_cp1252_leaves_undefined(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("Name,Note\nJürgen,x\x81y\n".encode("latin-1"))
    table = read_table(path)
    assert table.encoding == "latin-1"
    assert rows_of(table) == [(2, ("Jürgen", "x\x81y"))]


def test_utf8_that_fails_late_in_a_large_file_is_not_mistaken_for_utf8(tmp_path):
    path = tmp_path / "late.csv"
    body = "Name,City\n" + "Anna,Berlin\n" * 200_000 + "Jürgen,Köln\n"
    path.write_bytes(body.encode("cp1252"))
    table = read_table(path)
    assert table.encoding == "cp1252"
    assert list(table.rows)[-1].values == ("Jürgen", "Köln")


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_csv_delimiters_are_detected(write_csv, delimiter):
    rows = [["First", "Last", "Salary"], ["Anna", "Wolf", "65.000,50"], ["Ben", "Koch", "1,5"]]
    table = read_table(write_csv(rows, delimiter=delimiter))
    assert table.delimiter == delimiter
    assert rows_of(table)[0] == (2, ("Anna", "Wolf", "65.000,50"))


def test_delimiter_is_not_fooled_by_commas_in_semicolon_data():
    sample = "Name;Notes;City\nAnna;likes a, b, c, d;Berlin\nBen;x, y;Köln\n"
    assert detect_delimiter(sample) == ";"


def test_quoted_newlines_keep_one_row_per_record(write_csv):
    rows = [["First", "Notes"], ["Anna", "line one\nline two\nline three"], ["Ben", "short"]]
    table = read_table(write_csv(rows))
    assert rows_of(table) == [(2, ("Anna", "line one\nline two\nline three")), (3, ("Ben", "short"))]


def test_blank_csv_lines_are_skipped_but_counted(tmp_path):
    path = tmp_path / "blank.csv"
    path.write_text("First,Last\nAnna,Wolf\n\n,\nBen,Koch\n", encoding="utf-8")
    assert rows_of(read_table(path)) == [(2, ("Anna", "Wolf")), (5, ("Ben", "Koch"))]


def test_short_and_long_csv_rows_are_fitted_to_the_header(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("A,B,C\n1\n1,2,3,4\n", encoding="utf-8")
    assert rows_of(read_table(path)) == [(2, ("1", None, None)), (3, ("1", "2", "3"))]


def _workbook(path: Path, sheets: dict[str, list[list]]) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def test_xlsx_sheet_by_name_and_by_position(tmp_path):
    path = _workbook(tmp_path / "two.xlsx", {"Notes": [["nothing"]], "Candidates": [["First", "Last"], ["Anna", "Wolf"]]})
    assert read_table(path, sheet="Candidates").headers == ["First", "Last"]
    assert read_table(path, sheet=2).sheet == "Candidates"
    assert read_table(path).sheet == "Notes"


def test_unknown_sheet_names_the_sheets_and_suggests(tmp_path):
    path = _workbook(tmp_path / "two.xlsx", {"Notes": [["x"]], "Candidates": [["First"]]})
    with pytest.raises(InputFileError) as error:
        read_table(path, sheet="Candidate")
    assert "has no sheet 'Candidate'. Did you mean 'Candidates'? Sheets: 'Notes', 'Candidates'." in str(error.value)
    with pytest.raises(InputFileError, match="sheet number 3 does not exist"):
        read_table(path, sheet="3")


def test_xlsx_header_below_a_title_is_found_from_the_mapped_columns(tmp_path):
    path = _workbook(tmp_path / "title.xlsx", {"S": [["Export from HireFlow", None, "2026-11-20"], [], ["First", "Last", "Email"], ["Anna", "Wolf", "a@x.de"]]})
    table = read_table(path, expected_columns=["First", "Email"])
    assert table.header_row == 3
    assert rows_of(table) == [(4, ("Anna", "Wolf", "a@x.de"))]
    explicit = read_table(path, header_row=3)
    assert explicit.headers == ["First", "Last", "Email"]


def test_xlsx_cells_keep_their_meaning(tmp_path):
    path = tmp_path / "types.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Phone", "Zip", "Born", "Salary", "Hired", "Flag"])
    ws.append([4915112345678, 10115, dt.date(1990, 5, 17), 65000.5, dt.datetime(2026, 1, 2, 9, 30), True])
    wb.save(path)
    (row,) = list(read_table(path).rows)
    assert row.values == (4915112345678, 10115, dt.date(1990, 5, 17), 65000.5, dt.datetime(2026, 1, 2, 9, 30), True)


def test_formula_cells_are_read_as_their_cached_values(tmp_path):
    path = tmp_path / "formulas.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Candidates")
    ws.write_row(0, 0, ["First", "Last", "Full"])
    ws.write_row(1, 0, ["Anna", "Wolf"])
    ws.write_formula(1, 2, '=A2&" "&B2', None, "Anna Wolf")
    wb.close()
    (row,) = list(read_table(path).rows)
    assert row.values == ("Anna", "Wolf", "Anna Wolf")


def test_xlsx_blank_rows_keep_numbers_and_trailing_empty_columns_are_ignored(tmp_path):
    path = tmp_path / "blank.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"], ws["B1"] = "First", "Last"
    ws["A2"], ws["B2"] = "Anna", "Wolf"
    ws["A5"], ws["B5"] = "Ben", "Koch"
    ws["F1"] = "   "  # a stray space in a far header cell
    ws["F9"].number_format = "0.00"  # formatting only
    wb.save(path)
    table = read_table(path)
    assert table.headers == ["First", "Last"]
    assert rows_of(table) == [(2, ("Anna", "Wolf")), (5, ("Ben", "Koch"))]


def test_repeated_and_empty_headers_get_usable_names(write_csv):
    table = read_table(write_csv([["Phone", "", "Phone"], ["1", "2", "3"]]))
    assert table.headers == ["Phone", "Column B", "Phone.1"]


def test_missing_empty_and_headerless_files_are_clear_errors(tmp_path):
    with pytest.raises(InputFileError, match="no such file"):
        read_table(tmp_path / "missing.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(InputFileError, match="holds no rows at all"):
        read_table(empty)
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(InputFileError, match="cannot be opened as a spreadsheet"):
        read_table(broken)
    with pytest.raises(InputFileError, match="has fewer than 9 rows"):
        read_table(_workbook(tmp_path / "short.xlsx", {"S": [["A"], ["1"]]}), header_row=9)


def test_csv_with_sheet_option_is_a_clear_error(write_csv):
    with pytest.raises(InputFileError, match="CSV file, which has no sheets"):
        read_table(write_csv(ROWS), sheet="Candidates")


def test_excel_sep_hint_line_names_the_delimiter_and_is_not_a_row(tmp_path):
    path = tmp_path / "hint.csv"
    path.write_text("sep=;\nFirst;Notes\nAnna;a, b, c\n", encoding="utf-8")
    table = read_table(path)
    assert (table.delimiter, table.headers) == (";", ["First", "Notes"])
    assert rows_of(table) == [(2, ("Anna", "a, b, c"))]


def test_text_saved_as_xls_is_read_as_csv_and_html_is_refused(tmp_path):
    fake = tmp_path / "export.xls"
    fake.write_text("First\tLast\nAnna\tWolf\n", encoding="utf-16")
    table = read_table(fake)
    assert (table.delimiter, rows_of(table)) == ("\t", [(2, ("Anna", "Wolf"))])
    page = tmp_path / "report.xls"
    page.write_text("<html><body><table><tr><td>First</td></tr></table></body></html>", encoding="utf-8")
    with pytest.raises(InputFileError, match="is a web page or XML saved under an Excel name"):
        read_table(page)


def test_without_a_sheet_named_the_sheet_with_the_mapped_columns_is_read(tmp_path):
    path = _workbook(tmp_path / "export.xlsx", {"Read me": [["This export was made on 2026-11-20"], ["by HireFlow"]], "Candidates": [["First", "Email"], ["Anna", "a@x.de"]]})
    table = read_table(path, expected_columns=["First", "Email"])
    assert (table.sheet, rows_of(table)) == ("Candidates", [(2, ("Anna", "a@x.de"))])
    assert read_table(path, sheet="Read me", expected_columns=["First"]).sheet == "Read me"  # a named sheet is kept
