"""Open a CSV/TSV or Excel file as a stream of rows that remember the row number the user sees.

CSV is read with the stdlib `csv` module (encoding and delimiter detected); XLSX, XLSM, XLS, XLSB
and ODS with python-calamine, which reads cached formula values and real date cells and is about
seven times faster than openpyxl's read-only mode (measured: ~61k vs ~9k rows/s).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import re
import sys
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any

from .errors import InputFileError, did_you_mean

CSV_SUFFIXES = {".csv", ".tsv", ".txt", ".tab"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"}
DELIMITERS = (",", ";", "\t", "|")
HEADER_SEARCH_ROWS = 30  # how far down an unannounced header row is looked for
_CHUNK = 1 << 20
# Bytes that cp1252 leaves undefined; a file holding them is Latin-1, not Windows-1252.
_CP1252_UNDEFINED = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")
_SEP_HINT = re.compile(r"sep=(.)\r?\n")

# Quoted cells may hold whole CVs pasted as text; the stdlib default of 128 KiB is too small.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))

Cell = Any  # str | int | float | bool | datetime.date | datetime.datetime | datetime.time | None


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One data row: the row number the user sees in their spreadsheet, and its cells by column."""

    row_number: int
    values: tuple[Cell, ...]


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
        with path.open("r", encoding=encoding, newline="") as fh:
            if hint:
                fh.readline()
            reader = csv.reader(fh, delimiter=delimiter)
            number = 0
            try:
                for record in reader:
                    number += 1  # one record is one spreadsheet row, even with line breaks inside
                    yield number, record
            except (csv.Error, UnicodeDecodeError) as exc:
                raise InputFileError(f"{path}, row {number + 1}: cannot be parsed as CSV: {exc}") from exc

    return numbered(), delimiter


# --- Excel -----------------------------------------------------------------------------------


def _excel_rows(path: Path, sheet: str | int | None, expected_columns: Collection[str]) -> tuple[Iterator[tuple[int, list[Cell]]], str]:
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types for every broken file
        raise InputFileError(f"{path}: cannot be opened as a spreadsheet: {exc}") from exc
    names = list(workbook.sheet_names)

    def load(name: str) -> Any:
        try:
            return workbook.get_sheet_by_name(name)
        except Exception as exc:
            raise InputFileError(f"{path}, sheet '{name}': cannot be read: {exc}") from exc

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


def _holds_columns(data: Any, expected_columns: Collection[str]) -> bool:
    wanted = {" ".join(c.split()).casefold() for c in expected_columns}
    for index, cells in enumerate(data.iter_rows()):
        if any(isinstance(c, str) and " ".join(c.split()).casefold() in wanted for c in cells):
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
        hits = [sum(1 for c in cells if isinstance(c, str) and c.strip().casefold() in wanted) for _, cells in looked_at]
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
    return " ".join(str(cell).split())


def _data_rows(numbered: Iterator[tuple[int, list[Cell]]], width: int) -> Iterator[SourceRow]:
    for number, cells in numbered:
        if _is_blank(cells):
            continue
        if len(cells) < width:
            cells = list(cells) + [None] * (width - len(cells))
        yield SourceRow(number, tuple(cells[:width]))
