"""Workbooks as Excel, LibreOffice and ATS exports write them, made with openpyxl, xlsxwriter or
by hand (ODS): what the user sees in their spreadsheet is what the importer reads."""

from __future__ import annotations

import datetime as dt
import struct
import unicodedata
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from importer.attachments import FolderSource
from importer.build import RequestBuilder
from importer.errors import InputFileError
from importer.issues import CELL_ERROR, Severity
from importer.mapping import load_mapping
from importer.readers import fold_header, read_table


def rows_of(table) -> list[tuple[int, tuple]]:
    return [(r.row_number, r.values) for r in table.rows]


def test_alt_enter_headers_below_a_title_are_found_and_mapped(tmp_path: Path) -> None:
    """Headers typed with Alt-Enter ('First\\nName'), a non-breaking space or decomposed
    accents (a Mac's 'Pre\\u0301nom') are the mapping's 'First Name' and 'Prénom': the header
    row below the title is found, and the mapping binds."""
    path = tmp_path / "export.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Candidates exported on 2026-11-20 by HireFlow (First Name, E-Mail, Prénom)"])
    ws.append(
        [
            "First\nName",
            "Last\u00a0Name",
            "E-Mail\n(private)",
            unicodedata.normalize("NFD", "Prénom"),
        ]
    )
    ws.append(["Anna", "Wolf", "a@example.com", "Anne"])
    wb.save(path)
    table = read_table(
        path, expected_columns=["First Name", "Last Name", "E-Mail (private)", "Prénom"]
    )
    assert table.header_row == 2
    assert rows_of(table) == [(3, ("Anna", "Wolf", "a@example.com", "Anne"))]
    mapping_path = tmp_path / "mapping.yaml"
    mapping_path.write_text(
        "candidate:\n  first_name: First Name\n  last_name: last name\n"
        "  email_address: E-Mail (private)\n  title: Prénom\n"
        "application:\n  job_id: {value: JOB1}\n",
        encoding="utf-8",
    )
    mapping = load_mapping(mapping_path)
    mapping = mapping.bind(table.headers, table.describe())
    assert len(mapping.bound_headers()) == 4


def test_fold_header_is_one_rule_for_every_comparison() -> None:
    """Whitespace of any kind collapses, accents compose, case folds."""
    assert fold_header(" First\n\u00a0NAME\t") == "first name"
    assert fold_header(unicodedata.normalize("NFD", "PRÉNOM")) == fold_header("prénom")
    assert fold_header("Straße") == fold_header("STRASSE")


def _with_errors(path: Path, rows: list[list[object]]) -> Path:
    """An xlsx written by openpyxl where every cell text starting with '#' is an error value,
    as Excel stores a formula's error result (t="e")."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Candidates"
    for row in rows:
        ws.append(row)
    for line in ws.iter_rows():
        for cell in line:
            if isinstance(cell.value, str) and cell.value.startswith("#"):
                cell.data_type = "e"
    wb.save(path)
    return path


def test_excel_error_values_are_read_as_errors_and_reported(tmp_path: Path) -> None:
    """#N/A in a phone cell is a problem on its row, never an empty phone; a row of only errors
    is not lost; a header #NAME? is the header '#NAME?', not 'Column C'."""
    path = _with_errors(
        tmp_path / "errors.xlsx",
        [
            ["First", "Phone", "#NAME?"],
            ["Anna", "#N/A", 1],
            ["#DIV/0!", "#VALUE!", "#REF!"],
            ["Ben", "+49 30 1234", 2],
        ],
    )
    table = read_table(path)
    assert table.headers == ["First", "Phone", "#NAME?"]
    rows = list(table.rows)
    assert [(r.row_number, r.values) for r in rows] == [
        (2, ("Anna", "#N/A", 1)),
        (3, ("#DIV/0!", "#VALUE!", "#REF!")),
        (4, ("Ben", "+49 30 1234", 2)),
    ]
    (problem,) = rows[0].problems
    assert (problem.row, problem.column, problem.code, problem.value) == (
        2,
        "Phone",
        CELL_ERROR,
        "#N/A",
    )
    assert problem.message.startswith("column 'Phone': holds the Excel error #N/A (cell B2)")
    assert "Fix the formula or the cell" in problem.message
    assert [p.column for p in rows[1].problems] == ["First", "Phone", "#NAME?"]
    assert not rows[2].problems


def test_formula_errors_cached_by_xlsxwriter_are_found_and_the_build_stops_the_row(
    tmp_path: Path,
) -> None:
    """A formula whose cached result is #DIV/0! (as Excel saves it) in a mapped column stops the
    row with cell_error; in a column the mapping does not use it is only a warning."""
    path = tmp_path / "formulas.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Candidates")
    ws.write_row(0, 0, ["First", "Last", "Email", "Score"])
    ws.write_row(1, 0, ["Anna", "Wolf", "anna@example.com"])
    ws.write_formula(1, 3, "=1/0", None, "#DIV/0!")
    ws.write_row(2, 0, ["Ben"])
    ws.write_formula(2, 1, "=VLOOKUP(A3,Z:Z,1,0)", None, "#N/A")
    ws.write(2, 2, "ben@example.com")
    wb.close()
    mapping_path = tmp_path / "mapping.yaml"
    mapping_path.write_text(
        "candidate:\n  first_name: First\n  last_name: Last\n"
        "  email_address: Email\napplication:\n  job_id: {value: JOB1}\n",
        encoding="utf-8",
    )
    mapping = load_mapping(mapping_path)
    table = read_table(path, expected_columns=mapping.columns())
    mapping = mapping.bind(table.headers, table.describe())
    builder = RequestBuilder(mapping, FolderSource(tmp_path))
    anna, ben = (builder.build(row) for row in table.rows)
    assert anna.request is not None
    assert [(i.code, i.column, i.severity) for i in anna.issues] == [
        (CELL_ERROR, "Score", Severity.WARNING)
    ]
    assert ben.request is None
    assert [(i.code, i.column, i.value) for i in ben.issues if i.code == CELL_ERROR] == [
        (CELL_ERROR, "Last", "#N/A")
    ]


def test_a_sheet_of_only_errors_still_has_rows(tmp_path: Path) -> None:
    """Errors are values the user sees: a sheet holding only errors is not 'no rows at all'."""
    path = _with_errors(tmp_path / "all.xlsx", [["#REF!", "#REF!"], ["#N/A", "#NUM!"]])
    table = read_table(path)
    assert table.headers == ["#REF!", "#REF!.1"]
    assert [r.values for r in table.rows] == [("#N/A", "#NUM!")]


def _ods(path: Path, rows_xml: str, sheet: str = "Candidates") -> Path:
    """A minimal ODS spreadsheet written by hand, as LibreOffice lays it out."""
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
        ' xmlns:calcext="urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0"'
        ' office:version="1.3"><office:body><office:spreadsheet>'
        f'<table:table table:name="{sheet}">{rows_xml}</table:table>'
        "</office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest='
        '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type='
        '"application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry'
        ' manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>'
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(
            "mimetype",
            "application/vnd.oasis.opendocument.spreadsheet",
            compress_type=zipfile.ZIP_STORED,
        )
        archive.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
    return path


def _text(value: str, repeat: int = 1) -> str:
    repeated = f' table:number-columns-repeated="{repeat}"' if repeat > 1 else ""
    return (
        f'<table:table-cell office:value-type="string" calcext:value-type="string"{repeated}>'
        f"<text:p>{value}</text:p></table:table-cell>"
    )


def test_ods_error_cells_are_reported_where_they_are(tmp_path: Path) -> None:
    """LibreOffice writes a formula's error as calcext:value-type="error" with the error shown
    as the cell's text; repeated cells and rows are counted to place it."""
    error = (
        '<table:table-cell table:formula="of:=1/0" office:value-type="string"'
        ' office:string-value="" calcext:value-type="error"><text:p>#DIV/0!</text:p>'
        "</table:table-cell>"
    )
    rows = (
        f"<table:table-row>{_text('First')}{_text('Phone')}{_text('City')}</table:table-row>"
        '<table:table-row table:number-rows-repeated="2"><table:table-cell'
        ' table:number-columns-repeated="3"/></table:table-row>'
        f"<table:table-row>{_text('x', 2)}{error}</table:table-row>"
    )
    table = read_table(_ods(tmp_path / "errors.ods", rows))
    (row,) = list(table.rows)
    assert (row.row_number, row.values) == (4, ("x", "x", "#DIV/0!"))
    assert [(p.column, p.code, p.value) for p in row.problems] == [("City", CELL_ERROR, "#DIV/0!")]
    assert "(cell C4)" in row.problems[0].message


def test_empty_header_is_named_by_its_real_column_letter(tmp_path: Path) -> None:
    """Data starting in column C: the empty header in column D is 'Column D', as Excel shows."""
    path = tmp_path / "offset.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["C1"], ws["E1"] = "First", "Email"
    ws["C2"], ws["D2"], ws["E2"] = "Anna", "note", "a@example.com"
    wb.save(path)
    table = read_table(path)
    assert table.headers == ["First", "Column D", "Email"]


def _ole2(path: Path, stream: str, data: bytes) -> Path:
    """A minimal OLE2 compound file (512-byte sectors) holding one stream: sector 0 is the FAT,
    1 the directory, 2 on the stream, as Excel's container lays them out."""
    end, free, fat_sector = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD
    data = data.ljust(4096, b"\x00")  # a workbook stream is never below the 4,096-byte cutoff
    count = len(data) // 512
    fat = [fat_sector, end] + [3 + i for i in range(count - 1)] + [end]
    fat += [free] * (128 - len(fat))
    header = bytearray(512)
    header[:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIIII", header, 40, 0, 1, 1, 0, 4096, end, 0, end, 0)
    struct.pack_into("<I", header, 76, 0)
    header[80:512] = b"\xff" * 432

    def entry(name: str, kind: int, child: int, start: int, size: int) -> bytes:
        raw = bytearray(128)
        encoded = (name + "\x00").encode("utf-16-le")
        raw[: len(encoded)] = encoded
        struct.pack_into("<HBB", raw, 64, len(encoded), kind, 1)
        struct.pack_into("<III", raw, 68, free, free, child)
        struct.pack_into("<II", raw, 116, start, size)
        return bytes(raw)

    directory = entry("Root Entry", 5, 1, end, 0) + entry(stream, 2, free, 2, len(data))
    directory += bytes(128) * 2
    path.write_bytes(bytes(header) + struct.pack("<128I", *fat) + directory + data)
    return path


def test_excel_95_and_older_files_are_refused_with_advice(tmp_path: Path) -> None:
    """Excel 2-4 files are one BIFF stream; Excel 5/95 files an OLE2 'Book' stream: both are
    refused (calamine reads them wrong), naming the version and how to save them."""
    biff4 = tmp_path / "excel4.xls"
    biff4.write_bytes(struct.pack("<HHHH", 0x0409, 6, 0, 0x0010) + b"\x00\x00" + bytes(64))
    with pytest.raises(
        InputFileError,
        match=r"excel4\.xls: is an Excel 4 \(BIFF4\) file, from"
        r" before Excel 97; .* save it as \.xlsx",
    ):
        read_table(biff4)
    bof5 = struct.pack("<HHHH", 0x0809, 8, 0x0500, 0x0005) + bytes(4)
    with pytest.raises(InputFileError, match=r"is an Excel 5/95 \(BIFF5\) file"):
        read_table(_ole2(tmp_path / "excel95.xls", "Book", bof5))
    with pytest.raises(InputFileError, match=r"is an Excel 5/95 \(BIFF5\) file"):
        read_table(_ole2(tmp_path / "excel95b.xls", "Workbook", bof5))


def test_an_excel_97_container_is_not_taken_for_an_old_one(tmp_path: Path) -> None:
    """A 'Workbook' stream with a BIFF8 BOF passes the check (calamine then reads, or says
    what is wrong with, the file)."""
    bof8 = struct.pack("<HHHH", 0x0809, 16, 0x0600, 0x0005) + bytes(12)
    path = _ole2(tmp_path / "excel97.xls", "Workbook", bof8)
    with pytest.raises(InputFileError) as error:
        read_table(path)
    assert "before Excel 97" not in str(error.value)


def test_numbers_files_and_bundles_are_refused_with_advice(tmp_path: Path) -> None:
    """A Numbers file (a ZIP with Index/ parts, or a folder bundle) is named for what it is."""
    packed = tmp_path / "candidates.numbers"
    with zipfile.ZipFile(packed, "w") as archive:
        archive.writestr("Index/Document.iwa", b"\x00")
        archive.writestr("Metadata/Properties.plist", b"")
    renamed = tmp_path / "candidates.xlsx"
    renamed.write_bytes(packed.read_bytes())
    bundle = tmp_path / "bundle.numbers"
    bundle.mkdir()
    (bundle / "Index.zip").write_bytes(b"PK")
    for path in (packed, renamed, bundle):
        with pytest.raises(
            InputFileError,
            match=r"is an Apple Numbers file, .* File > Export To"
            r" > Excel \(or CSV\)",
        ):
            read_table(path)


def _time_cell(iso: str) -> str:
    return (
        f'<table:table-cell office:value-type="time" office:time-value="{iso}"'
        ' calcext:value-type="time"><text:p>shown</text:p></table:table-cell>'
    )


def test_ods_durations_are_read_as_times_not_iso_text(tmp_path: Path) -> None:
    """A duration under a day is the time of day it shows (dt.time); 24 hours or more, or a
    negative one, is the dt.timedelta it is, never the text 'PT24H0M0S'. Text that only
    starts like one ('PTA meeting') stays text."""
    rows = (
        f"<table:table-row>{_text('Start')}{_text('Notice')}{_text('Late')}{_text('Note')}"
        f"</table:table-row><table:table-row>{_time_cell('PT09H30M00S')}"
        f"{_time_cell('PT36H15M10.5S')}{_time_cell('-PT1H0M0S')}{_text('PTA meeting')}"
        "</table:table-row>"
    )
    (row,) = read_table(_ods(tmp_path / "times.ods", rows)).rows
    assert row.values == (
        dt.time(9, 30),
        dt.timedelta(hours=36, minutes=15, seconds=10.5),
        -dt.timedelta(hours=1),
        "PTA meeting",
    )


def test_numbers_formatted_with_leading_zeros_are_read_as_the_digits_shown(tmp_path: Path) -> None:
    """A postal code typed as 1067 and formatted 00000 shows 01067 in Excel: a text column
    gets '01067' (no numeric_text warning, nothing lost); a column not read as text, or a
    number without such a format, keeps the number."""
    path = tmp_path / "zips.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Candidates")
    zip_format = wb.add_format({"num_format": "00000"})
    zip4 = wb.add_format({"num_format": "00000-0000"})
    ws.write_row(0, 0, ["First", "Zip", "Zip+4", "Id", "Count"])
    ws.write_row(1, 0, ["Anna"])
    ws.write_number(1, 1, 1067, zip_format)
    ws.write_number(1, 2, 12345678, zip4)
    ws.write_number(1, 3, 42, zip_format)
    ws.write_number(1, 4, 7)
    ws.write_row(2, 0, ["Ben", 10115])
    wb.close()
    table = read_table(path, text_columns=["zip", "Zip+4", "Count"])
    assert [r.values for r in table.rows] == [
        ("Anna", "01067", "01234-5678", 42, 7),
        ("Ben", 10115, None, None, None),
    ]
    assert [r.values[1] for r in read_table(path).rows] == [1067, 10115]  # not asked: numbers


def test_a_zero_padded_postal_code_is_sent_with_its_zero_and_no_warning(tmp_path, write_mapping):
    """End to end: the mapping's text columns reach the reader, which honours the `00000` format."""
    import openpyxl
    from click.testing import CliRunner
    from conftest import read_csv

    from importer.cli import main

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["First", "Last", "Email", "Zip", "Phone"])
    sheet.append(["Anna", "Wolf", "anna@example.com", 1067, 4915112345678])
    sheet["D2"].number_format = "00000"
    path = tmp_path / "padded.xlsx"
    book.save(path)
    mapping = write_mapping(
        "candidate: {first_name: First, last_name: Last, email_address: Email, phone_number: Phone,"
        " location: {zip_code: Zip, country: {value: DE}}}\n"
        "application: {job_id: {value: J}}\n"
    )
    result = CliRunner().invoke(
        main,
        [
            "validate",
            str(path),
            "-m",
            str(mapping),
            "--report",
            str(tmp_path / "r.csv"),
            "--annotated",
            str(tmp_path / "a.xlsx"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert [(r["column"], r["code"]) for r in read_csv(tmp_path / "r.csv")] == [
        ("Phone", "numeric_text")
    ]  # no format: a warning
    assert openpyxl.load_workbook(tmp_path / "a.xlsx").active["E2"].value == "01067"
