"""Each reader quirk, on files written by real writers: Python's csv, openpyxl and xlsxwriter."""

from __future__ import annotations

import datetime as dt
import re
import struct
import time
import tracemalloc
import zipfile
from collections.abc import Iterable
from itertools import chain
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from importer import readers
from importer.errors import InputFileError
from importer.issues import Severity
from importer.readers import detect_delimiter, read_table

ROWS = [
    ["First", "Last", "Email"],
    ["Jürgen", "Müller", "j@example.com"],
    ["Zoë", "Łukasiewicz", "z@example.com"],
]


def rows_of(table):
    return [(r.row_number, r.values) for r in table.rows]


@pytest.mark.parametrize(
    ("encoding", "detected"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("utf-16", "utf-16"), ("cp1252", "cp1252")],
)
def test_csv_encodings_are_detected(write_csv, encoding, detected):
    rows = [
        ["First", "Last", "Email"],
        ["Jürgen", "Müller", "j@example.com"],
        ["Zoë", "Ça va – “quoted”", "z@example.com"],
    ]
    table = read_table(write_csv(rows, encoding=encoding))
    assert table.encoding == detected
    assert table.headers == ["First", "Last", "Email"]
    assert rows_of(table) == [
        (2, ("Jürgen", "Müller", "j@example.com")),
        (3, ("Zoë", "Ça va – “quoted”", "z@example.com")),
    ]


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
    assert rows_of(table) == [
        (2, ("Anna", "line one\nline two\nline three")),
        (3, ("Ben", "short")),
    ]


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
    path = _workbook(
        tmp_path / "two.xlsx",
        {"Notes": [["nothing"]], "Candidates": [["First", "Last"], ["Anna", "Wolf"]]},
    )
    assert read_table(path, sheet="Candidates").headers == ["First", "Last"]
    assert read_table(path, sheet=2).sheet == "Candidates"
    assert read_table(path).sheet == "Notes"


def test_unknown_sheet_names_the_sheets_and_suggests(tmp_path):
    path = _workbook(tmp_path / "two.xlsx", {"Notes": [["x"]], "Candidates": [["First"]]})
    with pytest.raises(InputFileError) as error:
        read_table(path, sheet="Candidate")
    assert (
        "has no sheet 'Candidate'. Did you mean 'Candidates'? Sheets: 'Notes', 'Candidates'."
        in str(error.value)
    )
    with pytest.raises(InputFileError, match="sheet number 3 does not exist"):
        read_table(path, sheet="3")


def test_xlsx_header_below_a_title_is_found_from_the_mapped_columns(tmp_path):
    path = _workbook(
        tmp_path / "title.xlsx",
        {
            "S": [
                ["Export from HireFlow", None, "2026-11-20"],
                [],
                ["First", "Last", "Email"],
                ["Anna", "Wolf", "a@x.de"],
            ]
        },
    )
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
    ws.append(
        [4915112345678, 10115, dt.date(1990, 5, 17), 65000.5, dt.datetime(2026, 1, 2, 9, 30), True]
    )
    wb.save(path)
    (row,) = list(read_table(path).rows)
    assert row.values == (
        4915112345678,
        10115,
        dt.date(1990, 5, 17),
        65000.5,
        dt.datetime(2026, 1, 2, 9, 30),
        True,
    )


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
    page.write_text(
        "<html><body><table><tr><td>First</td></tr></table></body></html>", encoding="utf-8"
    )
    with pytest.raises(InputFileError, match="is a web page or XML saved under an Excel name"):
        read_table(page)


def test_without_a_sheet_named_the_sheet_with_the_mapped_columns_is_read(tmp_path):
    path = _workbook(
        tmp_path / "export.xlsx",
        {
            "Read me": [["This export was made on 2026-11-20"], ["by HireFlow"]],
            "Candidates": [["First", "Email"], ["Anna", "a@x.de"]],
        },
    )
    table = read_table(path, expected_columns=["First", "Email"])
    assert (table.sheet, rows_of(table)) == ("Candidates", [(2, ("Anna", "a@x.de"))])
    assert (
        read_table(path, sheet="Read me", expected_columns=["First"]).sheet == "Read me"
    )  # a named sheet is kept


# --- input too big: refused, not swallowed ---------------------------------------------------

_MAIN = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_PKG = "http://schemas.openxmlformats.org/package/2006"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml"


def _xlsx_by_hand(path: Path, sheets: dict[str, Iterable[bytes]]) -> Path:
    """A workbook written part by part with zipfile, each sheet's <sheetData> from the chunks
    given, streamed: so a test writes what no writer would (a zip bomb, a 3 MB cell) cheaply."""
    xml = '<?xml version="1.0" encoding="UTF-8"?>'
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{_TYPE}.worksheet+xml"/>'
        for i in range(1, len(sheets) + 1)
    )
    listed = "".join(
        f'<sheet name="{name}" sheetId="{i}" r:id="rId{i}"/>' for i, name in enumerate(sheets, 1)
    )
    targets = "".join(
        f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, len(sheets) + 1)
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            (
                f'{xml}<Types xmlns="{_PKG}/content-types"><Default Extension="rels" ContentType='
                '"application/vnd.openxmlformats-package.relationships+xml"/>'
                '<Default Extension="xml"'
                ' ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType='
                f'"{_TYPE}.sheet.main+xml"/>{overrides}</Types>'
            ),
        )
        archive.writestr(
            "_rels/.rels",
            (
                f'{xml}<Relationships xmlns="{_PKG}/relationships"><Relationship Id="rId1" Type='
                f'"{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
            ),
        )
        archive.writestr(
            "xl/workbook.xml",
            (f'{xml}<workbook {_MAIN} xmlns:r="{_REL}"><sheets>{listed}</sheets></workbook>'),
        )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            (f'{xml}<Relationships xmlns="{_PKG}/relationships">{targets}</Relationships>'),
        )
        for i, chunks in enumerate(sheets.values(), 1):
            with archive.open(f"xl/worksheets/sheet{i}.xml", "w", force_zip64=True) as sheet:
                sheet.write(f"{xml}<worksheet {_MAIN}><sheetData>".encode())
                for chunk in chunks:
                    sheet.write(chunk)
                sheet.write(b"</sheetData></worksheet>")
    return path


def _row(number: int, *texts: str) -> bytes:
    """One <row> of inline-string cells."""
    cells = "".join(
        f'<c r="{readers.column_letter(i)}{number}" t="inlineStr"><is><t>{text}</t></is></c>'
        for i, text in enumerate(texts)
    )
    return f'<row r="{number}">{cells}</row>'.encode()


def _announce(path: Path, part: str, size: int) -> None:
    """Rewrite the uncompressed size the ZIP's central directory gives for `part`."""
    data = bytearray(path.read_bytes())
    at = data.find(b"PK\x01\x02")
    while at != -1:
        name_length = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46 : at + 46 + name_length] == part.encode():
            struct.pack_into("<I", data, at + 24, size)
        at = data.find(b"PK\x01\x02", at + 4)
    path.write_bytes(data)


def _honest_workbook(path: Path, rows: int) -> Path:
    """An honest workbook: distinct names and emails, as an export has them."""
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("Candidates")
    sheet.write_row(0, 0, ["First", "Last", "Email"])
    for r in range(1, rows + 1):
        sheet.write_row(r, 0, [f"Anna{r}", f"Wolf{r * 7}", f"anna{r}@example.com"])
    workbook.close()
    return path


def test_zip_bomb_is_refused_from_the_zip_directory_without_inflating_it(tmp_path):
    # 110 MiB of spaces packs into ~110 KB (1,028x); calamine would parse all of it.
    spaces = (b" " * (1 << 20) for _ in range(110))
    bomb = _xlsx_by_hand(tmp_path / "bomb.xlsx", {"Candidates": chain([_row(1, "First")], spaces)})
    assert bomb.stat().st_size < 200_000
    started = time.perf_counter()
    with pytest.raises(InputFileError) as error:
        read_table(bomb)
    assert time.perf_counter() - started < 0.5
    message = str(error.value)
    assert message.startswith(f"{bomb}: part 'xl/worksheets/sheet1.xml'")
    assert re.search(r"to 110\.0 MB, 1,0\d\d times", message) and "zip bomb" in message
    assert "save it again" in message  # says what to do


def test_a_part_or_a_workbook_over_the_caps_is_refused(tmp_path, monkeypatch):
    path = _honest_workbook(tmp_path / "export.xlsx", 3000)
    assert len(rows_of(read_table(path))) == 3000  # honest, and under the real caps
    monkeypatch.setattr(readers, "MAX_ZIP_PART_BYTES", 64 << 10)
    with pytest.raises(
        InputFileError,
        match=r"part 'xl/worksheets/sheet1\.xml' of the workbook"
        r" unpacks to .* over the 64 KB .* Split the rows",
    ):
        read_table(path)
    monkeypatch.setattr(readers, "MAX_ZIP_PART_BYTES", 1 << 30)
    monkeypatch.setattr(readers, "MAX_ZIP_TOTAL_BYTES", 64 << 10)
    with pytest.raises(InputFileError, match=r"export\.xlsx: the workbook unpacks to .* in all"):
        read_table(path)
    monkeypatch.setattr(readers, "MAX_ZIP_TOTAL_BYTES", 1 << 30)
    monkeypatch.setattr(readers, "MAX_ZIP_PARTS", 3)
    with pytest.raises(InputFileError, match=r"lists \d+ parts, over the 3 a workbook has"):
        read_table(path)


def test_a_part_that_inflates_past_its_announced_size_cannot_get_past(tmp_path):
    # The directory announces 1 KB for a 210 KB sheet; the check trusts the directory, and
    # calamine stops at the announced size instead of inflating on.
    rows = [_row(n, "First" if n == 1 else "Anna") for n in range(1, 3000)]
    path = _xlsx_by_hand(tmp_path / "liar.xlsx", {"Candidates": rows})
    _announce(path, "xl/worksheets/sheet1.xml", 1024)
    with pytest.raises(InputFileError) as error:
        read_table(path)
    assert str(error.value).startswith(f"{path}")
    assert "unpacks to more than the ZIP directory announces" in str(error.value)


def test_a_legacy_xls_over_its_cap_is_refused_by_its_size(tmp_path, monkeypatch):
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(8192))
    monkeypatch.setattr(readers, "MAX_XLS_BYTES", 4096)
    with pytest.raises(
        InputFileError,
        match=r"old\.xls: is a 8 KB legacy \.xls file, over the"
        r" 4 KB .* Save the candidates sheet as \.xlsx or CSV",
    ):
        read_table(path)


def test_csv_line_without_an_end_is_refused_at_its_row_not_read_whole(tmp_path, monkeypatch):
    path = tmp_path / "binary.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write("First,Last,Email\nAnna,Wolf,a@x.de\n")
        fh.write("Anna,Wolf," * 500_000)  # 5 MB, no newline
    monkeypatch.setattr(readers, "MAX_CSV_RECORD_CHARS", 1 << 20)
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(InputFileError) as error:
            list(read_table(path).rows)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - started < 1
    assert peak < 4 << 20  # the 5 MB line never became one string
    message = str(error.value)
    assert message.startswith(f"{path}, row 3: a row longer than 1,048,576 characters")
    assert "not a CSV" in message and "never closes" in message


def test_csv_quote_that_never_closes_is_refused_at_the_row_where_it_opens(tmp_path):
    path = tmp_path / "unclosed.csv"
    body = 'sep=,\nFirst,Notes\nAnna,"two\nlines"\nBen,"oops\n' + "Carl,fine\n" * 110_000
    path.write_text(body, encoding="utf-8")  # 1.1 MB after the quote that opens on Ben's row
    with pytest.raises(InputFileError) as error:
        list(read_table(path).rows)
    # Ben is the third row the user sees (the sep= line is hidden), on line 5 of the file.
    assert str(error.value).startswith(
        f"{path}, row 3 (line 5 of the file): a cell longer than 1,048,576 characters"
    )


def test_long_cells_reach_the_build_step_unchanged_and_are_not_taken_for_headers(tmp_path):
    assert readers.MAX_CELL_CHARS == 32_767  # Excel's own limit; the build step checks it
    # 3 MB of words, worst case for a header comparison; openpyxl would cut it to 32,767.
    text = "lorem ipsum " * 250_000 + "end"
    path = _xlsx_by_hand(
        tmp_path / "long.xlsx",
        {
            "Read me": [_row(1, text)],
            "Candidates": [_row(1, "First", "Email", "Notes"), _row(2, "Anna", "a@x.de", text)],
        },
    )
    tracemalloc.start()
    try:
        table = read_table(path, expected_columns=["First", "Email"])
        rows = rows_of(table)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert table.sheet == "Candidates" and rows == [(2, ("Anna", "a@x.de", text))]
    assert peak < 20 << 20  # splitting the 3 MB cell into words took 37 MB
    csv_path = tmp_path / "long.csv"
    csv_path.write_text(f"First,Notes\nAnna,{'x' * 40_000}\n", encoding="utf-8")
    assert [len(v) for v in next(read_table(csv_path).rows).values] == [4, 40_000]


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_a_title_line_above_the_header_does_not_decide_the_delimiter(tmp_path, delimiter):
    """An export with a title and a comment line above its header is still split into columns,
    and the header below them is found from the mapping's columns."""
    path = tmp_path / "titled.csv"
    rows = [["First", "Last", "Email", "Notes"]] + [
        [f"Anna{i}", "Wolf", f"anna{i}@example.com", "likes a, b, c"] for i in range(5)
    ]
    text = "Candidates exported from HireFlow, 2026-11-20\n# all open jobs, all stages\n"
    text += "".join(delimiter.join(row) + "\n" for row in rows)
    path.write_text(text, encoding="utf-8")
    table = read_table(path, expected_columns=["First", "Email"])
    assert (table.delimiter, table.header_row, table.headers) == (delimiter, 3, rows[0])
    assert rows_of(table)[0] == (4, ("Anna0", "Wolf", "anna0@example.com", "likes a, b, c"))


def test_cells_past_the_header_are_a_problem_of_their_row(tmp_path):
    """A comma inside an unquoted cell shifts the row: the cells past the header are reported
    (extra_cells, an error of the whole row), not dropped without a word; empty ones are not."""
    path = tmp_path / "shifted.csv"
    text = "First,Last,Email\nAnna,Wolf,a@x.de\nBen,Koch, Jr.,b@x.de\nCarl,Berg,c@x.de,,\n"
    path.write_text(text, encoding="utf-8")
    anna, ben, carl = read_table(path).rows
    assert not anna.problems and not carl.problems
    assert ben.values == ("Ben", "Koch", " Jr.")
    (problem,) = ben.problems
    assert (problem.row, problem.column, problem.code, problem.severity) == (
        3,
        "",
        "extra_cells",
        Severity.ERROR,
    )
    assert problem.message.startswith(
        "The row has 4 cells where the header has 3: the cells past it ('b@x.de') are not read"
    )


def test_a_note_beside_a_workbook_table_is_a_warning(tmp_path):
    """In a workbook a cell right of the last header is a note beside the table: a warning."""
    path = tmp_path / "note.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["First", "Email"])
    ws.append(["Anna", "a@x.de", None, "call back Monday"])
    wb.save(path)
    (row,) = read_table(path).rows
    assert [(p.code, p.column, p.severity) for p in row.problems] == [
        ("extra_cells", "", Severity.WARNING)
    ]


def test_chart_sheets_are_skipped_and_a_named_one_is_a_clear_error(tmp_path):
    """A chart sheet in front holds no rows: the first worksheet is read. Naming it says what
    it is and which sheets hold rows."""
    path = tmp_path / "chart.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    chartsheet = workbook.add_chartsheet("Chart")
    sheet = workbook.add_worksheet("Candidates")
    sheet.write_row(0, 0, ["First", "Score"])
    sheet.write_row(1, 0, ["Anna", 3])
    chart = workbook.add_chart({"type": "column"})
    chart.add_series({"values": "=Candidates!$B$2:$B$2"})
    chartsheet.set_chart(chart)
    workbook.close()
    table = read_table(path)
    assert (table.sheet, rows_of(table)) == ("Candidates", [(2, ("Anna", 3))])
    with pytest.raises(
        InputFileError,
        match=r"sheet 'Chart' is a chart sheet, which holds no"
        r" rows\. Name the sheet with the candidates; the worksheets: 'Candidates'",
    ):
        read_table(path, sheet="Chart")


def test_a_sheet_that_cannot_be_read_is_skipped_while_searching_but_not_when_named(tmp_path):
    """A damaged notes sheet in front does not stop the search for the mapped columns; the
    summary says it was skipped. Named, it is the error it is."""
    notes = [_row(n, "note") for n in range(1, 3000)]
    path = _xlsx_by_hand(
        tmp_path / "damaged.xlsx",
        {"Notes": notes, "Candidates": [_row(1, "First", "Email"), _row(2, "Anna", "a@x.de")]},
    )
    _announce(path, "xl/worksheets/sheet1.xml", 1024)
    table = read_table(path, expected_columns=["First", "Email"])
    assert (table.sheet, rows_of(table)) == ("Candidates", [(2, ("Anna", "a@x.de"))])
    assert "skipped sheet 'Notes': cannot be read" in table.describe()
    with pytest.raises(InputFileError, match="sheet 'Notes': cannot be read"):
        read_table(path, sheet="Notes")


def test_a_stray_value_far_from_the_table_is_refused_before_calamine_builds_its_grid(
    tmp_path, monkeypatch
):
    """calamine holds a sheet as a dense grid up to its farthest value: one stray value in
    XFD10000 cost 5 GB. Formatting alone (an empty styled cell far away) is not refused."""
    import openpyxl
    from openpyxl.styles import PatternFill

    from importer import readers

    monkeypatch.setattr(readers, "MAX_SHEET_CELLS", 1_000)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["First", "Last", "Email"])
    sheet.append(["Anna", "Wolf", "anna@example.com"])
    sheet["AX999"].fill = PatternFill("solid", fgColor="FFFF00")  # formatting only
    formatted = tmp_path / "formatted.xlsx"
    book.save(formatted)
    assert [r.values for r in read_table(formatted).rows] == [("Anna", "Wolf", "anna@example.com")]
    sheet["AX999"] = "stray"
    stray = tmp_path / "stray.xlsx"
    book.save(stray)
    with pytest.raises(InputFileError) as refused:
        read_table(stray)
    assert "a value in cell AX999" in str(refused.value) and "50 columns x 999 rows" in str(
        refused.value
    )
