"""Open a CSV/TSV or Excel file as a stream of rows that remember the row number the user sees.

CSV is read with the stdlib `csv` module (encoding and delimiter detected); XLSX, XLSM, XLS, XLSB
and ODS with python-calamine, which reads cached formula values and real date cells and is about
seven times faster than openpyxl's read-only mode (measured: ~61k vs ~9k rows/s).

Input that is too big is refused with a message, not swallowed: a workbook is checked from its ZIP
directory before calamine inflates it (calamine reads a sheet whole), and a CSV is read one record
at a time with the record's length bounded, so a line without an end never becomes one string.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import re
import zipfile
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any

from .errors import InputFileError, did_you_mean
from .issues import Issue

CSV_SUFFIXES = {".csv", ".tsv", ".txt", ".tab"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"}
DELIMITERS = (",", ";", "\t", "|")
HEADER_SEARCH_ROWS = 30  # how far down an unannounced header row is looked for
_CHUNK = 1 << 20
# Bytes that cp1252 leaves undefined; a file holding them is Latin-1, not Windows-1252.
_CP1252_UNDEFINED = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")
_SEP_HINT = re.compile(r"sep=(.)\r?\n")

# Excel's own limit per cell. Kombo documents no maxLength and no ATS field holds more; readers
# hand longer cells on unchanged and the build step reports them per row and column.
MAX_CELL_CHARS = 32_767

# CSV. A cell longer than MAX_CSV_FIELD_CHARS is not a cell: it is a quote that never closes (the
# rest of the file read as one cell) or a file that is not CSV. 1 Mi is 32 times Excel's cell
# limit, so pasted CVs of any length still reach the build step's per-row check. One record (one
# spreadsheet row, all its physical lines) is read up to MAX_CSV_RECORD_CHARS and refused past it:
# room for 8 cells at the field bound or 256 at Excel's limit, and at most some 32 MB of memory.
MAX_CSV_FIELD_CHARS = 1 << 20
MAX_CSV_RECORD_CHARS = 8 << 20
# Quoted cells may hold whole CVs pasted as text; the stdlib default of 128 KiB is too small.
csv.field_size_limit(MAX_CSV_FIELD_CHARS)

# Workbooks (.xlsx/.xlsm/.xlsb/.ods are ZIP files) are checked from the ZIP directory before
# calamine, which inflates a whole sheet into memory (measured: 1-1.8x its XML). Measured on honest
# files from xlsxwriter and openpyxl: an ATS export's sheet XML is ~850 MB per million rows at 15
# columns (inline strings; shared strings make it smaller), packed 9.6-25x; rows of an id plus one
# text repeated on every row pack 98x at 2,000 characters, 200x at 8,000, 255x at 30,000; beyond
# that only made-up data, up to deflate's 1,032x (spaces). So, refused:
#   a part over 4 GiB: twice the 1-2 GB sheet of a real million-row export (or 70 columns);
#   parts over 8 GiB in all: two such sheets, or one with its shared strings and pictures;
#   a part over 100 MiB packed more than 200x: a zip bomb (the 8 MB file that took 9 minutes and
#     5.2 GB unpacking to 2 GB was 250x); the honest files past 200x are long texts repeated as
#     inline strings on every row, and Excel stores repeated text once when it saves them;
#   more than 100,000 parts: a workbook has a few per sheet, and zipfile builds an object each.
MAX_ZIP_PART_BYTES = 4 << 30
MAX_ZIP_TOTAL_BYTES = 8 << 30
MAX_ZIP_RATIO = 200
ZIP_RATIO_FROM_BYTES = 100 << 20
MAX_ZIP_PARTS = 100_000
# A legacy .xls (OLE2, not compressed) holds at most 65,536 rows x 256 columns, some 250 MB of
# cell records; calamine reads the file whole, so a bigger one is refused.
MAX_XLS_BYTES = 1 << 30
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0"

Cell = Any  # str | int | float | bool | datetime.date | datetime.datetime | datetime.time | None


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One data row: the row number the user sees in their spreadsheet, its cells by column,
    and what the reader found wrong with them (an undecodable byte, an Excel error value, cells
    past the header): problems of the row, which the build reports with its own."""

    row_number: int
    values: tuple[Cell, ...]
    problems: tuple[Issue, ...] = ()


@dataclass(slots=True)
class Table:
    """An opened spreadsheet: its headers and a one-shot iterator over its data rows."""

    path: Path
    headers: list[str]
    rows: Iterator[SourceRow]
    header_row: int
    sheet: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        """Say which part of the file was read, for the summary."""
        bits = [str(self.path)]
        if self.sheet is not None:
            bits.append(f"sheet '{self.sheet}'")
        if self.encoding:
            bits.append(self.encoding)
        if self.delimiter:
            bits.append("delimiter " + {"\t": "tab"}.get(self.delimiter, repr(self.delimiter)))
        bits.append(f"header on row {self.header_row}")
        return ", ".join(bits)


def read_table(
    path: str | Path,
    *,
    sheet: str | int | None = None,
    header_row: int | None = None,
    expected_columns: Collection[str] = (),
    encoding: str | None = None,
    delimiter: str | None = None,
) -> Table:
    """Open `path` and return its headers and a stream of its non-blank data rows.

    Without `header_row`, the header is the first row among the first 30 that holds most of
    `expected_columns` (the columns the mapping names), else the first non-blank row.
    """
    path = Path(path)
    if not path.exists():
        raise InputFileError(f"{path}: no such file. Check the path, or run from its folder.")
    if not path.is_file():
        raise InputFileError(f"{path}: is not a file.")
    if header_row is not None and header_row < 1:
        raise InputFileError(f"{path}: header row must be 1 or more, not {header_row}.")
    kind = file_kind(path)
    if kind == "excel":
        numbered, sheet_name = _excel_rows(path, sheet, expected_columns)
        enc = delim = None
    else:
        if sheet is not None:
            raise InputFileError(f"{path}: is a CSV file, which has no sheets; leave out --sheet.")
        enc = encoding or detect_encoding(path)
        numbered, delim = _csv_rows(path, enc, delimiter)
        sheet_name = None
    header_number, headers, rest = _split_header(path, numbered, header_row, expected_columns)
    width = len(headers)
    rows = _data_rows(rest, width)
    return Table(path, headers, rows, header_number, sheet_name, enc, delim)


# --- file kinds ------------------------------------------------------------------------------


def file_kind(path: Path) -> str:
    """'excel' or 'csv', by the file's first bytes, then its extension: old ATSs write
    tab-separated text and call it .xls."""
    with path.open("rb") as fh:
        magic = fh.read(512)
    if magic.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        return "excel"
    if path.suffix.lower() in EXCEL_SUFFIXES and magic:
        if magic.lstrip(b"\xef\xbb\xbf \t\r\n").lower().startswith((b"<html", b"<!doctype", b"<table", b"<?xml")):
            raise InputFileError(f"{path}: is a web page or XML saved under an Excel name, not a workbook. Open it in Excel and save it as .xlsx or CSV.")
        return "csv"
    return "excel" if path.suffix.lower() in EXCEL_SUFFIXES else "csv"


# --- CSV -------------------------------------------------------------------------------------


def detect_encoding(path: Path) -> str:
    """Name the encoding of a text file: a BOM if there is one, else UTF-8 if every byte of the
    file decodes as UTF-8, else Windows-1252 (what Excel writes), else Latin-1."""
    with path.open("rb") as fh:
        head = fh.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
            return "utf-32"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        fh.seek(0)
        sample = fh.read(4096)
        if sample and sample.count(b"\x00") > len(sample) // 4:
            # UTF-16 without a BOM: ASCII text leaves every other byte zero.
            return "utf-16-le" if sample[1:2] == b"\x00" else "utf-16-be"
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        utf8 = True
        undefined_in_cp1252 = False
        while chunk := fh.read(_CHUNK):
            if utf8:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    utf8 = False
            if not utf8 and _CP1252_UNDEFINED.search(chunk):
                undefined_in_cp1252 = True
                break
        if utf8:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                utf8 = False
    if utf8:
        return "utf-8"
    return "latin-1" if undefined_in_cp1252 else "cp1252"


def detect_delimiter(sample: str) -> str:
    """Pick the delimiter among , ; tab | that splits the sample's records most consistently."""
    best, best_score = ",", (-1, -1)
    lines = sample.splitlines(keepends=True)
    if len(lines) > 1 and not sample.endswith(("\n", "\r")):
        lines = lines[:-1]  # the sample may end mid-record
    for candidate in DELIMITERS:
        try:
            records = [r for r in csv.reader(lines, delimiter=candidate) if r]
        except csv.Error:
            continue
        if not records:
            continue
        widths = [len(r) for r in records]
        header_width = widths[0]
        if header_width < 2:
            continue
        consistent = sum(1 for w in widths if w == header_width)
        score = (consistent, header_width)
        if score > best_score:
            best, best_score = candidate, score
    return best


def _csv_rows(path: Path, encoding: str, delimiter: str | None) -> tuple[Iterator[tuple[int, list[Cell]]], str]:
    try:
        with path.open("r", encoding=encoding, newline="") as fh:
            sample = fh.read(64 * 1024)
    except (UnicodeDecodeError, LookupError) as exc:
        raise InputFileError(f"{path}: cannot be read as {encoding}: {exc}. Give the encoding with `input: {{encoding: ...}}` in the mapping.") from exc
    # Excel's "sep=;" first line names the delimiter; Excel hides that line, so rows count after it.
    hint = _SEP_HINT.match(sample.lstrip("\ufeff"))
    if hint and delimiter is None:
        delimiter = hint.group(1)
    if delimiter is None:
        delimiter = "\t" if path.suffix.lower() in {".tsv", ".tab"} else detect_delimiter(sample)

    def numbered() -> Iterator[tuple[int, list[Cell]]]:
        limit = MAX_CSV_RECORD_CHARS
        csv.field_size_limit(MAX_CSV_FIELD_CHARS)
        used = 0  # characters read for the record being parsed

        def lines() -> Iterator[str]:
            # readline(n) stops after n characters, so no line is ever longer than the record's
            # budget: a 500 MB line without a newline is refused after `limit` characters.
            nonlocal used
            readline = fh.readline
            while line := readline(limit - used + 1):
                used += len(line)
                if used > limit:
                    raise _RecordTooLong
                yield line

        with path.open("r", encoding=encoding, newline="") as fh:
            first_line = 1
            if hint:
                fh.readline(64)
                first_line = 2
            reader = csv.reader(lines(), delimiter=delimiter)
            number = 0
            ended_on = 0  # physical lines read by the last whole record
            try:
                for record in reader:
                    used = 0
                    ended_on = reader.line_num
                    number += 1  # one record is one spreadsheet row, even with line breaks inside
                    yield number, record
            except (_RecordTooLong, csv.Error, UnicodeDecodeError) as exc:
                message = _unparsable(path, number + 1, ended_on + first_line, exc)
                raise InputFileError(message) from exc

    return numbered(), delimiter


class _RecordTooLong(Exception):
    """A CSV record ran past MAX_CSV_RECORD_CHARS; raised by the line feeder, caught around it."""


def _unparsable(path: Path, row: int, line: int, exc: Exception) -> str:
    """Say which row cannot be read and why; for a row or cell too long, what causes that and
    what to do about it."""
    if isinstance(exc, _RecordTooLong):
        what, limit = "row", MAX_CSV_RECORD_CHARS
    elif isinstance(exc, csv.Error) and str(exc).startswith("field larger than field limit"):
        what, limit = "cell", MAX_CSV_FIELD_CHARS
    else:
        return f"{path}, row {row}: cannot be parsed as CSV: {exc}"
    where = f"row {row}" if line == row else f"row {row} (line {line} of the file)"
    return (
        f"{path}, {where}: a {what} longer than {limit:,} characters; a spreadsheet cell holds at"
        f" most {MAX_CELL_CHARS:,}. Either the file is not a CSV, or a quote (\") opens a cell on"
        " that row and never closes, so everything after it reads as one cell. Look at that row in"
        " a text editor and close or remove the quote, or export the file again as CSV."
    )


# --- Excel -----------------------------------------------------------------------------------


def _check_workbook_size(path: Path) -> None:
    """Refuse a workbook that would unpack to more than calamine should hold in memory, from the
    ZIP directory alone (nothing is inflated), or a legacy .xls over MAX_XLS_BYTES.

    The sizes the directory announces bind calamine too: a part that inflates past its announced
    size stops with an error ("larger than its declared uncompressed size"), so a lie cannot pass.
    """
    with path.open("rb") as fh:
        magic = fh.read(4)
    if magic == _OLE2_MAGIC:
        size = path.stat().st_size
        if size > MAX_XLS_BYTES:
            raise InputFileError(
                f"{path}: is a {_size(size)} legacy .xls file, over the {_size(MAX_XLS_BYTES)} this"
                " importer reads (an .xls sheet holds at most 65,536 rows, some 250 MB). Save the"
                " candidates sheet as .xlsx or CSV and import that."
            )
        return
    if magic != b"PK\x03\x04":
        return  # not a ZIP: calamine says what it is not
    parts = _zip_part_count(path)
    if parts is not None and parts > MAX_ZIP_PARTS:
        raise InputFileError(
            f"{path}: the workbook's ZIP directory lists {parts:,} parts, over the"
            f" {MAX_ZIP_PARTS:,} a workbook has; it is damaged or not a workbook. Open it in"
            " Excel and save it again, or export the candidates as CSV."
        )
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except Exception as exc:  # BadZipFile, NotImplementedError, UnicodeDecodeError: all damage
        raise InputFileError(f"{path}: cannot be opened as a spreadsheet: {exc}") from exc
    total = 0
    for info in members:
        size, packed = info.file_size, info.compress_size
        total += size
        if size > MAX_ZIP_PART_BYTES:
            raise InputFileError(
                f"{path}: part '{info.filename}' of the workbook unpacks to {_size(size)}, over"
                f" the {_size(MAX_ZIP_PART_BYTES)} this importer reads from one part (a sheet"
                " of a million rows is 1-2 GB). Split the rows into several files, or save the"
                " candidates sheet as CSV, and import those."
            )
        if size > ZIP_RATIO_FROM_BYTES and size > MAX_ZIP_RATIO * max(packed, 1):
            raise InputFileError(
                f"{path}: part '{info.filename}' of the workbook unpacks from {_size(packed)} to"
                f" {_size(size)}, {size // max(packed, 1):,} times; real workbooks pack 10-25"
                f" times and this importer refuses more than {MAX_ZIP_RATIO} on a part over"
                f" {_size(ZIP_RATIO_FROM_BYTES)}: this looks like a zip bomb. If the file is"
                " genuine, open it in Excel and save it again (Excel stores repeated text once),"
                " or save the candidates sheet as CSV."
            )
    if total > MAX_ZIP_TOTAL_BYTES:
        raise InputFileError(
            f"{path}: the workbook unpacks to {_size(total)} in all, over the"
            f" {_size(MAX_ZIP_TOTAL_BYTES)} this importer reads. Save the candidates sheet"
            " alone as .xlsx or CSV (without other sheets and pictures) and import that."
        )


def _zip_part_count(path: Path) -> int | None:
    """The number of parts the ZIP's end record announces, read from the file's last 64 KiB;
    zipfile would build an object for each before we could count them. None if not found."""
    end = b"PK\x05\x06"
    with path.open("rb") as fh:
        size = fh.seek(0, 2)
        tail_at = max(0, size - (22 + 0xFFFF))
        fh.seek(tail_at)
        tail = fh.read()
        at = tail.rfind(end)
        if at < 0 or at + 22 > len(tail):
            return None
        count = int.from_bytes(tail[at + 10 : at + 12], "little")
        locator = at - 20  # a ZIP64 file puts a locator of its own end record before this one
        if count != 0xFFFF or locator < 0 or tail[locator : locator + 4] != b"PK\x06\x07":
            return count
        fh.seek(int.from_bytes(tail[locator + 8 : locator + 16], "little"))
        record = fh.read(56)
        if record[:4] != b"PK\x06\x06":
            return None
        return int.from_bytes(record[32:40], "little")


def _size(count: int) -> str:
    """Bytes as people read them: 512 KB, 3.2 MB, 4.0 GB (binary units, as Windows shows them)."""
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{max(1, round(count / 1024))} KB"


def _excel_rows(path: Path, sheet: str | int | None, expected_columns: Collection[str]) -> tuple[Iterator[tuple[int, list[Cell]]], str]:
    from python_calamine import CalamineWorkbook

    _check_workbook_size(path)
    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types for every broken file
        reason = _calamine_says(exc)
        raise InputFileError(f"{path}: cannot be opened as a spreadsheet: {reason}") from exc
    names = list(workbook.sheet_names)

    def load(name: str) -> Any:
        try:
            return workbook.get_sheet_by_name(name)
        except Exception as exc:
            reason = _calamine_says(exc)
            raise InputFileError(f"{path}, sheet '{name}': cannot be read: {reason}") from exc

    name = _choose_sheet(path, names, sheet)
    data = load(name)
    if sheet is None and expected_columns and len(names) > 1 and not _holds_columns(data, expected_columns):
        # No sheet named: the first one without the mapped columns is a cover or notes sheet;
        # take the first sheet that has them.
        for other in names[1:]:
            candidate = load(other)
            if _holds_columns(candidate, expected_columns):
                name, data = other, candidate
                break

    def numbered() -> Iterator[tuple[int, list[Cell]]]:
        # iter_rows starts at the sheet's first row, so blank rows keep their numbers.
        for index, cells in enumerate(data.iter_rows()):
            # Inlined for speed: "" is an empty cell; a whole float is an id or phone number
            # stored as a number, so keep its digits (4915112345678, not 4915112345678.0).
            yield index + 1, [
                None if c == "" else int(c) if type(c) is float and c.is_integer() and -1e16 < c < 1e16 else c
                for c in cells
            ]

    return numbered(), name


def _calamine_says(exc: Exception) -> str:
    """calamine's reason, with what it means when a ZIP part inflates past its announced size."""
    text = str(exc)
    if "larger than its declared" in text:
        return (f"{text} (a part of it unpacks to more than the ZIP directory announces: it is"
                " damaged or made to mislead; open it in Excel and save it again, or export CSV)")
    return text


def _holds_columns(data: Any, expected_columns: Collection[str]) -> bool:
    wanted = {" ".join(c.split()).casefold() for c in expected_columns}
    for index, cells in enumerate(data.iter_rows()):
        if any(_is_name(c) and " ".join(c.split()).casefold() in wanted for c in cells):
            return True
        if index > HEADER_SEARCH_ROWS + 20:
            break
    return False


def _choose_sheet(path: Path, names: list[str], sheet: str | int | None) -> str:
    if not names:
        raise InputFileError(f"{path}: the workbook has no sheets.")
    if sheet is None or sheet == "":
        return names[0]
    text = str(sheet)
    if text in names:
        return text
    if text.isdigit():
        position = int(text)
        if 1 <= position <= len(names):
            return names[position - 1]
        raise InputFileError(f"{path}: has {len(names)} sheet(s); sheet number {position} does not exist (sheets count from 1).")
    listed = ", ".join(f"'{n}'" for n in names)
    raise InputFileError(f"{path}: has no sheet '{text}'.{did_you_mean(text, names)} Sheets: {listed}.")


# --- rows ------------------------------------------------------------------------------------


def _is_name(cell: Cell) -> bool:
    """A text cell that could be a column name: one over MAX_CELL_CHARS never is, and comparing
    it would copy it (a 200 MB cell split into words takes gigabytes)."""
    return isinstance(cell, str) and len(cell) <= MAX_CELL_CHARS


def _is_blank(cells: list[Cell]) -> bool:
    for c in cells:
        if c is not None and c != "" and not (isinstance(c, str) and c.isspace()):
            return False
    return True


def _split_header(
    path: Path,
    numbered: Iterator[tuple[int, list[Cell]]],
    header_row: int | None,
    expected_columns: Collection[str],
) -> tuple[int, list[str], Iterator[tuple[int, list[Cell]]]]:
    if header_row is not None:
        for number, cells in numbered:
            if number == header_row:
                if _is_blank(cells):
                    raise InputFileError(f"{path}: row {header_row} is empty; it cannot be the header row.")
                return number, _header_names(cells), numbered
        raise InputFileError(f"{path}: has fewer than {header_row} rows; there is no header on row {header_row}.")

    looked_at: list[tuple[int, list[Cell]]] = []
    for number, cells in numbered:
        if _is_blank(cells):
            continue
        looked_at.append((number, cells))
        if len(looked_at) >= HEADER_SEARCH_ROWS or not expected_columns:
            break
    if not looked_at:
        raise InputFileError(f"{path}: holds no rows at all; a header row is expected.")
    chosen = 0
    if expected_columns:
        wanted = {c.strip().casefold() for c in expected_columns}
        hits = [sum(1 for c in cells if _is_name(c) and c.strip().casefold() in wanted)
                for _, cells in looked_at]
        if max(hits) > 0:
            chosen = hits.index(max(hits))
    number, cells = looked_at[chosen]
    rest = chain(looked_at[chosen + 1 :], numbered)
    return number, _header_names(cells), rest


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA: how spreadsheet programs name a column."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _header_names(cells: list[Cell]) -> list[str]:
    names = [_header_text(c) for c in cells]
    while names and not names[-1]:
        names.pop()  # trailing empty columns are formatting, not data
    seen: dict[str, int] = {}
    headers = []
    for index, name in enumerate(names):
        name = name or f"Column {column_letter(index)}"
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"  # pandas' convention for repeated headers
        else:
            seen[name] = 0
        headers.append(name)
    return headers


def _header_text(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, (dt.date, dt.datetime)):
        return cell.isoformat()
    return " ".join(str(cell)[:MAX_CELL_CHARS].split())  # a longer "name" is no name; bound it


def _data_rows(numbered: Iterator[tuple[int, list[Cell]]], width: int) -> Iterator[SourceRow]:
    for number, cells in numbered:
        if _is_blank(cells):
            continue
        if len(cells) < width:
            cells = list(cells) + [None] * (width - len(cells))
        yield SourceRow(number, tuple(cells[:width]))
