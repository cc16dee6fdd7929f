"""Open a CSV/TSV or Excel file as a stream of rows that remember the row number the user sees.

CSV is read with the stdlib `csv` module (encoding and delimiter detected). XLSX and XLSM sheets
are streamed row by row by python-calamine-plus (memory flat at any number of rows); XLS, XLSB and
ODS, which it cannot stream, are read whole by python-calamine. Both are calamine: cached formula
values, real date cells, the 1904 system, read alike, some seven times faster than openpyxl's
read-only mode (measured: ~61k vs ~9k rows/s).

Input that is too big is refused with a message, not swallowed: a workbook is checked from its ZIP
directory before calamine inflates it, and a CSV is read one record at a time with the record's
length bounded, so a line without an end never becomes one string.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import re
import unicodedata
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any, Literal, NamedTuple

from .errors import InputFileError, did_you_mean
from .issues import CELL_ERROR, ENCODING_ERROR, EXTRA_CELLS, Issue, Severity

EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"}
DELIMITERS = (",", ";", "\t", "|")
HEADER_SEARCH_ROWS = 30  # how far down an unannounced header row is looked for
_CHUNK = 1 << 20
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
# calamine holds a sheet as a dense grid from its first to its last cell with a value: a stray
# value in XFD10000 of a five-row table costs 16,384 x 10,000 cells (5 GB), in XFD1048576 it
# aborts the process. A million rows of 40 columns is 42 million cells; over 60 million is refused.
# The sheet's <dimension> is only a trigger (formatting alone can stretch it): when it is that
# large, the cells that hold a value are scanned for their real extent.
MAX_SHEET_CELLS = 60_000_000
# A legacy .xls (OLE2, not compressed) holds at most 65,536 rows x 256 columns, some 250 MB of
# cell records; calamine reads the file whole, so a bigger one is refused.
MAX_XLS_BYTES = 1 << 30
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0"

Cell = Any  # str | int | float | bool | datetime.date | datetime.datetime | datetime.time | None


class _Mark(NamedTuple):
    """What a reader found wrong in one cell (column index) or the whole row (-1): an issue
    code, what it is (the message without the column) and the value shown in the report."""

    column: int
    code: str
    text: str
    value: Any = None
    severity: Severity = Severity.ERROR


# A sheet's or a CSV's rows: the row number the user sees, the cells, and what was wrong.
Numbered = Iterator[tuple[int, list[Cell], tuple[_Mark, ...]]]


# Not frozen: that costs 0.5 us an instance, and there is one a row; hashable all the same.
@dataclass(slots=True, unsafe_hash=True)
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
    # How sure the encoding is (1.0: a BOM, given, or UTF-8; else a detection's score) and how
    # it was decided ("given", "UTF-8 with a BOM", "detected"); None and "" for workbooks.
    encoding_confidence: float | None = None
    encoding_note: str = ""
    encoding_rivals: tuple[str, ...] = ()
    # How far `rows` has read, for a progress display (see `expected_rows`): the rows read so
    # far, header and blank rows included, and the share of the file they took (0 to 1).
    read_so_far: Callable[[], tuple[int, float]] | None = field(default=None, repr=False)

    def expected_rows(self) -> int | None:
        """About how many data rows the table holds, for a progress display: a sheet's last
        row says it; a CSV's is estimated from the bytes its rows took so far. None before
        anything has been read."""
        if self.read_so_far is None:
            return None
        rows, share = self.read_so_far()
        if rows <= 0 or share <= 0:
            return None
        return max(round(rows / min(share, 1.0)) - self.header_row, 0)

    @property
    def encoding_uncertain(self) -> bool:
        """A detection too unsure to trust: describe() says so and how to give the encoding."""
        return self.encoding_confidence is not None and self.encoding_confidence < SURE_ENOUGH

    def describe(self) -> str:
        """Say which part of the file was read, for the summary."""
        bits = [str(self.path)]
        if self.sheet is not None:
            bits.append(f"sheet '{self.sheet}'")
        if self.encoding:
            bits.append(_encoding_text(self.encoding, self.encoding_confidence, self.encoding_note))
        if self.delimiter:
            bits.append("delimiter " + {"\t": "tab"}.get(self.delimiter, repr(self.delimiter)))
        bits.append(f"header on row {self.header_row}")
        for skipped in self.details.get("skipped_sheets", ()):
            bits.append(f"skipped sheet {skipped}")
        text = ", ".join(bits)
        if self.encoding_uncertain:
            text += "; " + _uncertain_text(self.encoding_rivals)
        return text


def read_table(
    path: str | Path,
    *,
    sheet: str | int | None = None,
    header_row: int | None = None,
    expected_columns: Collection[str] = (),
    encoding: str | None = None,
    delimiter: str | None = None,
    text_columns: Collection[str] = (),
) -> Table:
    """Open `path` and return its headers and a stream of its non-blank data rows.

    Without `header_row`, the header is the first row among the first 30 that holds most of
    `expected_columns` (the columns the mapping names), else the first non-blank row.
    `text_columns` are the headers of columns mapped to text fields: in an xlsx/xlsm, a number
    there whose cell format pads it with zeros (postal code 01067 as 1067 in format 00000) is
    read as the text the cell shows.
    """
    path = Path(path)
    if not path.exists():
        raise InputFileError(f"{path}: no such file. Check the path, or run from its folder.")
    _refuse_unreadable_formats(path)
    if not path.is_file():
        raise InputFileError(f"{path}: is not a file.")
    if header_row is not None and header_row < 1:
        raise InputFileError(f"{path}: header row must be 1 or more, not {header_row}.")
    kind = file_kind(path)
    if kind == "excel":
        padded: dict[int, dict[int, str]] | None = {} if text_columns else None
        numbered, sheet_name, first_column, details, last_row = _excel_rows(
            path, sheet, expected_columns, padded
        )
        enc = delim = None
    else:
        if sheet is not None:
            raise InputFileError(f"{path}: is a CSV file, which has no sheets; leave out --sheet.")
        if encoding:
            try:
                choice = EncodingChoice(_codec_name(encoding), 1.0, "given")
            except LookupError:
                raise InputFileError(
                    f"{path}: '{encoding}' is not an encoding Python knows; try utf-8, cp1252,"
                    " cp1250, mac-roman or shift_jis."
                ) from None
        else:
            choice = guess_encoding(path)
        enc = choice.name
        numbered, delim, position = _csv_rows(path, choice, delimiter)
        sheet_name, first_column, details = None, 0, {}
    header_number, headers, rest = _split_header(
        path, numbered, header_row, expected_columns, first_column
    )
    if kind == "excel" and padded is not None:  # filled as the rows are read
        wanted = {fold_header(c) for c in text_columns}
        columns = {i for i, h in enumerate(headers) if fold_header(h) in wanted}
        if columns:
            rest = _shown_as_text(rest, padded, columns)
    rows = _data_rows(rest, headers, excel=kind == "excel")
    table = Table(path, headers, rows, header_number, sheet_name, enc, delim, details)
    if kind == "excel":
        table.read_so_far = lambda: (last_row, 1.0)  # calamine holds the sheet whole
    else:
        table.read_so_far = position.read_so_far
        table.encoding_confidence, table.encoding_note = choice.confidence, choice.note
        table.encoding_rivals = choice.rivals
    return table


# --- file kinds ------------------------------------------------------------------------------


FileKind = Literal["excel", "csv"]


def file_kind(path: Path) -> FileKind:
    """'excel' or 'csv', by the file's first bytes, then its extension: old ATSs write
    tab-separated text and call it .xls."""
    with path.open("rb") as fh:
        magic = fh.read(512)
    if magic.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        return "excel"
    if path.suffix.lower() in EXCEL_SUFFIXES and magic:
        if (
            magic.lstrip(b"\xef\xbb\xbf \t\r\n")
            .lower()
            .startswith((b"<html", b"<!doctype", b"<table", b"<?xml"))
        ):
            raise InputFileError(
                f"{path}: is a web page or XML saved under an Excel name, not a workbook. Open it"
                " in Excel and save it as .xlsx or CSV."
            )
        return "csv"
    return "excel" if path.suffix.lower() in EXCEL_SUFFIXES else "csv"


# --- encodings -------------------------------------------------------------------------------

# A file that is UTF-8 but for a few bytes (a cell pasted from an old system) is read as UTF-8 and
# the rows holding those bytes are reported; re-reading the whole file in a code page would turn
# every other accent into mojibake. "A few": at most 1 in 10,000 bytes (at least 10 allowed), and
# at most a tenth of the file's valid UTF-8 sequences, so a code-page file whose accents happen to
# be few (one "é" in 40,000 rows) is never mistaken for UTF-8: it has no valid sequence at all.
UTF8_STRAY_PER_BYTES = 10_000
UTF8_STRAY_MIN = 10
UTF8_STRAY_SHARE = 10
# The code pages spreadsheet programs and old ATSs really write, most common first: among
# candidates that read a file identically the first is named.
LEGACY_ENCODINGS = (
    "cp1252",
    "cp1250",
    "cp1251",
    "cp1254",
    "cp1253",
    "cp1257",
    "cp1255",
    "cp1256",
    "cp1258",
    "mac_roman",
    "cp932",
    "gb18030",
    "cp950",
    "cp949",
    "koi8_r",
    "koi8_u",
    "latin_1",
    "iso8859_2",
    "iso8859_15",
    "iso8859_5",
    "iso8859_7",
    "iso8859_9",
    "iso8859_13",
    "shift_jis",
    "euc_jp",
    "big5",
    "euc_kr",
    "mac_latin2",
    "mac_cyrillic",
    "mac_greek",
    "mac_turkish",
)
_ENCODING_LABELS = {
    "cp1250": "Central European",
    "cp1251": "Cyrillic",
    "cp1252": "Western European",
    "cp1253": "Greek",
    "cp1254": "Turkish",
    "cp1255": "Hebrew",
    "cp1256": "Arabic",
    "cp1257": "Baltic",
    "cp1258": "Vietnamese",
    "mac-roman": "Mac Western",
    "cp932": "Japanese",
    "shift_jis": "Japanese",
    "euc_jp": "Japanese",
    "gb18030": "Chinese",
    "cp950": "Traditional Chinese",
    "big5": "Traditional Chinese",
    "cp949": "Korean",
    "euc_kr": "Korean",
    "koi8-r": "Cyrillic",
    "koi8-u": "Cyrillic",
}
# Lines that hold non-ASCII bytes are what tells code pages apart: the detector reads up to this
# much of them, most from the file's first MiB and some from every later MiB.
_SAMPLE_BYTES = 96 << 10
_SAMPLE_FIRST_CHUNK = 32 << 10
_SAMPLE_PER_CHUNK = 2 << 10
# A detection is "uncertain" below this: the describe() line then says so and how to fix it.
SURE_ENOUGH = 0.8
_NON_ASCII = re.compile(rb"[\x80-\xff]")
_WORD = re.compile(r"[^\s!-/:-@\[-`{-~]+")  # a run of characters without ASCII punctuation
# The non-ASCII letters of languages written in these code pages (lowercase). A decoding whose
# accented letters no one language (or only several together) uses is likely the wrong one:
# cp1250's "Dvořák" read as cp1252 is "Dvoøák", ø being Danish and á Spanish.
_ALPHABETS = tuple(
    set(letters)
    for letters in (
        "äöüß",
        "àâæçéèêëîïôœùûüÿ",
        "áéíñóúü",
        "áâãàçéêíóôõú",
        "àèéìíîòóùú",
        "áéíóúëïöü",
        "æøåé",
        "åäöé",
        "äöåšž",
        "áðéíóúýþæö",
        "ąćęłńóśźż",
        "áčďéěíňóřšťúůýž",
        "áäčďéíĺľňóôŕšťúýž",
        "áéíóöőúüű",
        "ăâîșțşţ",
        "čćđšž",
        "çğıöşü",
        "äöõüšž",
        "āčēģīķļņšūž",
        "ąčęėįšųūž",
        "àçèéíïòóúü",
        "çë",
    )
)
_KNOWN_ACCENTS = set().union(*_ALPHABETS)
_MESSY = 0.5  # charset-normalizer's mess ratio for a reading it left out
_SCRIPTS = ("LATIN", "CYRILLIC", "GREEK", "ARABIC", "HEBREW", "THAI", "HANGUL")


@dataclass(frozen=True, slots=True)
class EncodingChoice:
    """How a text file is decoded, and how sure that is.

    `confidence` is 1.0 for a BOM, a given encoding or valid UTF-8, else a detection's score in
    0..1 (below SURE_ENOUGH it is uncertain); `rivals` are the encodings that would read the
    file differently and came close; `stray_bytes` counts the bytes of a UTF-8 file that are not
    UTF-8 (their rows are reported)."""

    name: str
    confidence: float | None
    note: str
    rivals: tuple[str, ...] = ()
    stray_bytes: int = 0


def detect_encoding(path: Path) -> str:
    """The name of the encoding of a text file (see `guess_encoding`)."""
    return guess_encoding(path).name


def guess_encoding(path: Path) -> EncodingChoice:
    """Name the encoding of a text file: a BOM if there is one; UTF-16 by its zero bytes; UTF-8
    if the file is UTF-8 (but for a few stray bytes, which are reported on their rows); else the
    code page charset-normalizer and a check of the accented words find most plausible among
    those spreadsheet programs write, confirmed on the whole file."""
    with path.open("rb") as fh:
        head = fh.read(4096)
    if head.startswith(codecs.BOM_UTF8):
        return EncodingChoice("utf-8-sig", 1.0, "UTF-8 with a BOM")
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return EncodingChoice("utf-32", 1.0, "UTF-32 with a BOM")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return EncodingChoice("utf-16", 1.0, "UTF-16 with a BOM")
    if head and head.count(b"\x00") > len(head) // 4:
        # UTF-16 without a BOM: ASCII text leaves every other byte zero.
        name = "utf-16-le" if head[1:2] == b"\x00" else "utf-16-be"
        return EncodingChoice(name, 1.0, "UTF-16 by its zero bytes")
    utf8, stray, sample = _scan(path)
    if utf8:
        note = "UTF-8" if not stray else f"UTF-8, {stray:,} stray byte(s) reported on their rows"
        return EncodingChoice("utf-8", 1.0, note, stray_bytes=stray)
    for choice in _detect(sample):
        if _decodes_whole(path, choice.name):
            return choice
    undefined = _decodes_whole(path, "cp1252") is False
    name = "latin-1" if undefined else "cp1252"
    return EncodingChoice(
        name, 0.3, "a guess: no code page reads the file plausibly", rivals=("cp1250", "utf-8")
    )


class _StrayCounter:
    """A decode error handler that counts the bytes it replaces (one decode at a time)."""

    count = 0

    @classmethod
    def handle(cls, exc: UnicodeError) -> tuple[str, int]:
        assert isinstance(exc, UnicodeDecodeError)
        cls.count += exc.end - exc.start
        return "\ufffd", exc.end


codecs.register_error("kombo-count-stray", _StrayCounter.handle)


def _scan(path: Path) -> tuple[bool, int, bytes]:
    """One pass over the file: is it UTF-8 (with how many stray bytes), and the lines holding
    non-ASCII bytes for the detector (up to _SAMPLE_BYTES, from across the file)."""
    size = path.stat().st_size
    allowed = max(UTF8_STRAY_MIN, size // UTF8_STRAY_PER_BYTES)
    decoder: Any = codecs.getincrementaldecoder("utf-8")("kombo-count-stray")
    _StrayCounter.count = 0
    utf8, multibyte = True, 0
    sample: list[bytes] = []
    room = _SAMPLE_BYTES
    with path.open("rb") as fh:
        first = True
        while chunk := fh.read(_CHUNK):
            if chunk.isascii():
                first = False
                continue
            if utf8:
                multibyte += len(chunk) - len(decoder.decode(chunk))
                if _StrayCounter.count > allowed:
                    utf8 = False
            if room > 0:
                budget = min(room, _SAMPLE_FIRST_CHUNK if first else _SAMPLE_PER_CHUNK)
                taken = _non_ascii_lines(chunk, budget, first, len(chunk) < _CHUNK)
                sample += taken
                room -= sum(len(line) for line in taken)
            elif not utf8:
                break
            first = False
        if utf8:
            decoder.decode(b"", final=True)
    stray = _StrayCounter.count
    if utf8 and stray and (stray > allowed or multibyte < UTF8_STRAY_SHARE * stray):
        utf8 = False
    return utf8, stray, b"".join(sample)


def _non_ascii_lines(chunk: bytes, budget: int, whole_start: bool, whole_end: bool) -> list[bytes]:
    """Whole lines (ended by LF, CRLF or an old Mac's CR) of `chunk` that hold a non-ASCII byte,
    up to `budget` bytes; a line cut by the chunk's ends is skipped (a multi-byte character may
    be cut with it) unless the chunk starts or ends the file there."""
    found: list[bytes] = []
    at = 0
    while budget > 0 and (hit := _NON_ASCII.search(chunk, at)):
        start = max(chunk.rfind(b"\n", 0, hit.start()), chunk.rfind(b"\r", 0, hit.start())) + 1
        ends = [i for i in (chunk.find(b"\n", hit.end()), chunk.find(b"\r", hit.end())) if i >= 0]
        end = min(ends) if ends else len(chunk) - 1 if whole_end else -1
        if end < 0:
            break
        if start > 0 or whole_start:
            line = chunk[start : end + 1]
            found.append(line)
            budget -= len(line)
        at = end + 1
    return found


def _decodes_whole(path: Path, encoding: str) -> bool:
    """Whether every byte of the file decodes in `encoding`, read in chunks."""
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


@dataclass(slots=True)
class _Reading:
    """One candidate's reading of the sample, scored: lower `key` is more plausible."""

    name: str
    text: str
    odd: float  # share of accented words that look broken (£ukasz, JŸrgen, Ð˜Ð²Ð°Ð½)
    broken: int  # how many
    languages: int  # how many languages (and other scripts) it takes to spell its letters
    chaos: float  # charset-normalizer's mess ratio
    coherence: float  # charset-normalizer's language coherence
    rank: int  # place in LEGACY_ENCODINGS: the more common wins a tie

    @property
    def key(self) -> tuple[float, int, float, float, int]:
        return (
            round(self.odd, 2),
            self.languages,
            round(self.chaos, 2),
            -round(self.coherence, 2),
            self.rank,
        )


def _detect(sample: bytes) -> list[EncodingChoice]:
    """The code pages that could have written `sample`, most plausible first, each with how
    sure it is: charset-normalizer proposes, then words that no code page's user would write
    (symbols inside names, letters of two scripts in a word, accents no language combines)
    decide, then charset-normalizer's mess and language scores, then how common the code page
    is. The confidence is the margin over the best reading that differs."""
    ordered = _readings(sample) if sample else []
    choices = []
    for index, reading in enumerate(ordered):
        others = ordered[:index] + ordered[index + 1 :]
        confidence = _confidence(reading, others)
        rivals = tuple(r.name for r in others if _confidence(reading, [r]) < SURE_ENOUGH)
        choices.append(EncodingChoice(reading.name, confidence, "detected", rivals[:3]))
    return choices


def _readings(sample: bytes) -> list[_Reading]:
    """The distinct readings of `sample` that charset-normalizer does not find too messy,
    most plausible first."""
    from charset_normalizer import from_bytes

    matches: Any = from_bytes(sample, cp_isolation=list(LEGACY_ENCODINGS)) if sample else []
    scores = {_codec_name(m.encoding): (m.chaos, m.coherence) for m in matches}
    groups: dict[str, list[tuple[int, str]]] = {}  # decoded text -> (rank, codec) reading it
    for rank, name in enumerate(LEGACY_ENCODINGS):
        try:
            text = sample.decode(name)
        except UnicodeDecodeError:
            continue
        groups.setdefault(text, []).append((rank, _codec_name(name)))
    ordered: list[_Reading] = []
    for text, group in groups.items():
        # charset-normalizer leaves out what it finds too messy, or (on a few lines) what it
        # cannot judge: those get its worst scores, and still count if their words read well
        scored = [scores[codec] for _, codec in group if codec in scores] or [(_MESSY, 0.0)]
        # Codecs that read the sample alike are one reading, named by the most common of them:
        # "mac-roman", not "mac-iceland".
        rank, codec = min(group)
        odd, broken, languages = _plausibility(text)
        chaos, coherence = min(s[0] for s in scored), max(s[1] for s in scored)
        ordered.append(_Reading(codec, text, odd, broken, languages, chaos, coherence, rank))
    ordered.sort(key=lambda r: r.key)
    return ordered


def _confidence(best: _Reading, others: list[_Reading]) -> float:
    """How sure `best` is against the other readings: 0.5 plus its margin over the closest
    (broken words count most, then languages needed, charset-normalizer's scores, and how
    common the code page is), less the share of broken words it still has."""
    if not others:
        return round(0.99 * (1 - best.odd), 2)
    margins = []
    for other in others:
        margin = 2 * (other.odd - best.odd) + 0.05 * max(-10, min(10, other.broken - best.broken))
        margin += 0.25 * (other.languages - best.languages)
        margin += 3 * (other.chaos - best.chaos) + best.coherence - other.coherence
        margin += 0.15 * (_tier(other.rank) - _tier(best.rank))
        margins.append(margin)
    return round(max(0.0, min(0.99, 0.5 + min(margins)) * (1 - best.odd)), 2)


def _tier(rank: int) -> float:
    """0 for Excel's default code page (cp1252), 1 for the other Windows and Mac code pages
    spreadsheets write, 2 for the rest."""
    return 0 if rank == 0 else 1 if rank < LEGACY_ENCODINGS.index("latin_1") else 2.5


def _plausibility(text: str) -> tuple[float, int, int]:
    """The share and number of words with non-ASCII characters that look broken, and how many
    languages (and scripts other than Latin) it takes to spell the letters used."""
    broken = words = latin = accented = 0
    letters: set[str] = set()
    others: set[str] = set()  # scripts other than Latin
    for word in _WORD.findall(text):
        if word.isascii():
            continue
        words += 1
        scripts: set[str] = set()
        accents: set[str] = set()
        odd, previous = False, ""
        for char in word:
            category = unicodedata.category(char)
            if category[0] == "L":
                script = _script(char) if char > "\x7f" else "LATIN"
                scripts.add(script)
                if script == "LATIN":
                    latin += 1
                    if char > "\x7f":
                        accented += 1
                        lower = char.lower()
                        if len(lower) == 1:
                            accents.add(lower)
                if char > "\x7f" and char.isupper() and previous.islower():
                    odd = True  # JŸrgen, a capital inside a word
            elif char > "\x7f" and category[0] in "SNC" and category != "Nd":
                odd = odd or any(c.isalpha() for c in word)  # £ukasz, ¯ó³æ, a control
            previous = char
        if len(accents) > 1 and accents <= _KNOWN_ACCENTS:
            # Accents no one language combines in a word: Kýlýç (cp1254's Kılıç in cp1252)
            odd = odd or not any(accents <= alphabet for alphabet in _ALPHABETS)
        letters |= accents
        broken += odd or len(scripts) > 1
        others |= scripts - {"LATIN"}
    share = broken / words if words else 0.0
    if latin and accented / latin > 0.6:
        share = max(share, accented / latin)  # Cyrillic or Greek read as accented Latin
    return share, broken, _languages_needed(letters) + len(others)


def _script(char: str) -> str:
    name = unicodedata.name(char, "")
    for script in _SCRIPTS:
        if name.startswith(script):
            return script
    return "CJK" if name.startswith(("CJK", "HIRAGANA", "KATAKANA", "HALFWIDTH")) else "OTHER"


def _languages_needed(letters: set[str]) -> int:
    """Greedily, how many alphabets of _ALPHABETS it takes to cover `letters`; a letter none
    holds counts as one more."""
    left, needed = set(letters), 0
    while left:
        best = max(_ALPHABETS, key=lambda alphabet: len(alphabet & left))
        if not best & left:
            return needed + len(left)
        left -= best
        needed += 1
    return needed


def _codec_name(name: str) -> str:
    """Python's name of a codec ("iso8859-1" is said "latin-1", as it always was here)."""
    canonical = codecs.lookup(name).name
    return "latin-1" if canonical == "iso8859-1" else canonical


def _encoding_text(name: str, confidence: float | None, note: str) -> str:
    """The encoding as describe() says it: 'cp1250 (Central European, detected, 97 % sure)'."""
    label = _ENCODING_LABELS.get(name)
    bits = [label] if label else []
    if note == "detected" and confidence is not None:
        sure = f"{confidence:.0%}".replace("%", " % sure")
        bits.append(f"detected, {'only ' if confidence < SURE_ENOUGH else ''}{sure}")
    elif note:
        bits.append(note)
    return f"{name} ({', '.join(bits)})" if bits else name


def _uncertain_text(rivals: tuple[str, ...]) -> str:
    """What describe() adds when the encoding is uncertain: which encodings would read the
    file differently, and the options that settle it."""
    other = rivals[0] if rivals else "utf-8"
    read_as = f": {', '.join(rivals)} would read it differently" if rivals else ""
    return (
        f"the encoding is uncertain{read_as}. If names look wrong, give the file's"
        f" encoding: --encoding {other}, or `input: {{encoding: {other}}}` in the mapping"
    )


# --- formats refused -------------------------------------------------------------------------

_BIFF_VERSIONS = {
    0x0009: "Excel 2 (BIFF2)",
    0x0209: "Excel 3 (BIFF3)",
    0x0409: "Excel 4 (BIFF4)",
    0x0809: "Excel 5 or later saved without its container",
}
_OLE_END = 0xFFFFFFFE


def _refuse_unreadable_formats(path: Path) -> None:
    """Refuse what would be read wrong without a word: Apple Numbers files (a bundle or a ZIP
    with Index/ parts), and Excel files older than Excel 97 (BIFF2-5), which calamine reads
    with numbers as dates, text as NUL-separated letters, or as text."""
    numbers = path.suffix.lower() == ".numbers" or path.is_dir() and (path / "Index.zip").exists()
    if not numbers and path.is_file():
        with path.open("rb") as fh:
            head = fh.read(8)
        if head.startswith(b"PK\x03\x04"):
            try:
                with zipfile.ZipFile(path) as archive:
                    numbers = any(
                        n.startswith("Index/") or n == "Index.zip" for n in archive.namelist()[:200]
                    )
            except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError):
                numbers = False  # damaged: the workbook check says so
        else:
            old = _old_excel(path, head)
            if old:
                raise InputFileError(
                    f"{path}: is an {old} file, from before Excel 97; this importer reads it"
                    " wrong (numbers as dates, text with gaps), so it does not read it. Open it"
                    " in Excel or LibreOffice and save it as .xlsx (or CSV), then import that."
                )
    if numbers:
        raise InputFileError(
            f"{path}: is an Apple Numbers file, which this importer cannot read. In Numbers,"
            " choose File > Export To > Excel (or CSV) and import the exported file."
        )


def _old_excel(path: Path, head: bytes) -> str | None:
    """Name the Excel version of a pre-97 workbook, None for anything else. Decided from the
    first record: BIFF2-4 files are that record alone (BOF 0x0009/0x0209/0x0409, and 0x0809 for
    a bare BIFF5+ stream); Excel 5/95 files are OLE2 containers whose workbook stream is named
    'Book' (Excel 97 and later: 'Workbook'), or a 'Workbook' whose BOF says version 0x0500.
    Only the OLE2 header, directory sectors and the stream's first sector are read."""
    if len(head) >= 4:
        record, length = int.from_bytes(head[:2], "little"), int.from_bytes(head[2:4], "little")
        if record in _BIFF_VERSIONS and length in (4, 6, 8, 16):
            return _BIFF_VERSIONS[record]
    if head != b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return None
    try:
        streams = _ole_streams(path)
    except (OSError, ValueError):
        return None  # damaged: calamine says what is wrong
    if "Workbook" not in streams and "Book" in streams:
        return "Excel 5/95 (BIFF5)"
    bof = streams.get("Workbook", b"")
    if bof[:2] == b"\x09\x08" and int.from_bytes(bof[4:6], "little") == 0x0500:
        return "Excel 5/95 (BIFF5)"
    return None


def _ole_streams(path: Path) -> dict[str, bytes]:
    """The streams an OLE2 file's directory lists, each with its first 16 bytes (if the stream
    is in regular sectors; b"" for small ones). Follows at most 64 directory sectors."""
    with path.open("rb") as fh:
        header = fh.read(512)
        shift = int.from_bytes(header[30:32], "little")
        if not 9 <= shift <= 12:
            raise ValueError("not an OLE2 sector size")
        size = 1 << shift
        fat_sectors = [int.from_bytes(header[at : at + 4], "little") for at in range(76, 512, 4)]
        cutoff = int.from_bytes(header[56:60], "little")

        def read_sector(sector: int, length: int = size) -> bytes:
            fh.seek(size * (sector + 1))  # the header fills sector -1
            return fh.read(length)

        def next_sector(sector: int) -> int:
            per = size // 4
            index = sector // per
            if index >= len(fat_sectors) or fat_sectors[index] >= _OLE_END:
                return _OLE_END
            fat = read_sector(fat_sectors[index])
            return int.from_bytes(fat[4 * (sector % per) : 4 * (sector % per) + 4], "little")

        streams: dict[str, bytes] = {}
        sector = int.from_bytes(header[48:52], "little")
        for _ in range(64):
            if sector >= _OLE_END:
                break
            block = read_sector(sector)
            for at in range(0, len(block) - 127, 128):
                entry = block[at : at + 128]
                length = int.from_bytes(entry[64:66], "little")
                if entry[66] != 2 or not 2 <= length <= 64:
                    continue  # not a stream
                name = entry[: length - 2].decode("utf-16-le", "replace")
                start = int.from_bytes(entry[116:120], "little")
                stream_size = int.from_bytes(entry[120:124], "little")
                streams[name] = read_sector(start, 16) if stream_size >= cutoff else b""
            sector = next_sector(sector)
    return streams


# --- CSV -------------------------------------------------------------------------------------


def detect_delimiter(sample: str) -> str:
    """Pick the delimiter among , ; tab | that splits most of the sample's records into one same
    width of two or more cells: the width most records agree on, not the first line's, so a
    title or comment line above the header ("Export of 2026-11-20") does not decide it."""
    best, best_score = ",", (0, 0)
    lines = sample.splitlines(keepends=True)
    if len(lines) > 1 and not sample.endswith(("\n", "\r")):
        lines = lines[:-1]  # the sample may end mid-record
    for candidate in DELIMITERS:
        try:
            widths = Counter(len(r) for r in csv.reader(lines, delimiter=candidate) if r)
        except csv.Error:
            continue
        agreeing = [(count, width) for width, count in widths.items() if width >= 2]
        if not agreeing:
            continue
        score = max(agreeing)  # how many records share a width, then the wider
        if score > best_score:
            best, best_score = candidate, score
    return best


class _CsvPosition:
    """How far a CSV has been read (records, and bytes of its size), for `Table.expected_rows`."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.records = 0
        self.file: Any = None  # the open text file, once reading has begun

    def read_so_far(self) -> tuple[int, float]:
        if self.file is None or self.size <= 0:
            return self.records, 0.0
        try:
            at = self.file.buffer.tell()  # up to one buffer (8 KB) ahead of the rows: near enough
        except ValueError:  # closed: read to its end
            return self.records, 1.0
        return self.records, at / self.size


def _csv_rows(
    path: Path, choice: EncodingChoice, delimiter: str | None
) -> tuple[Numbered, str, _CsvPosition]:
    encoding = choice.name
    # Undecodable bytes become lone surrogates (\udc80-\udcff), found per line and reported on
    # their row; only where they can be: a detected code page was confirmed on the whole file.
    check = choice.stray_bytes > 0 or choice.note not in ("UTF-8", "detected")
    try:
        with path.open("r", encoding=encoding, errors="surrogateescape", newline="") as fh:
            sample = fh.read(64 * 1024)
    except (UnicodeDecodeError, LookupError) as exc:
        raise InputFileError(
            f"{path}: cannot be read as {encoding}: {exc}. Give the encoding with"
            " `input: {encoding: ...}` in the mapping."
        ) from exc
    # Excel's "sep=;" first line names the delimiter; Excel hides that line, so rows count after it.
    hint = _SEP_HINT.match(sample.lstrip("\ufeff"))
    if hint and delimiter is None:
        delimiter = hint.group(1)
    if delimiter is None:
        delimiter = "\t" if path.suffix.lower() in {".tsv", ".tab"} else detect_delimiter(sample)

    position = _CsvPosition(path.stat().st_size)

    def numbered() -> Numbered:
        limit = MAX_CSV_RECORD_CHARS
        csv.field_size_limit(MAX_CSV_FIELD_CHARS)
        used = 0  # characters read for the record being parsed
        dirty = False  # the record holds an undecodable byte

        def lines() -> Iterator[str]:
            # readline(n) stops after n characters, so no line is ever longer than the record's
            # budget: a 500 MB line without a newline is refused after `limit` characters.
            nonlocal used, dirty
            readline = fh.readline
            while line := readline(limit - used + 1):
                used += len(line)
                if used > limit:
                    raise _RecordTooLong
                if check and _STRAY.search(line):
                    dirty = True
                yield line

        with path.open("r", encoding=encoding, errors="surrogateescape", newline="") as fh:
            position.file = fh
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
                    position.records = number
                    if dirty:
                        dirty = False
                        yield number, *_mend_stray_bytes(record, encoding)
                    else:
                        yield number, record, ()
            except (_RecordTooLong, csv.Error, UnicodeDecodeError) as exc:
                message = _unparsable(path, number + 1, ended_on + first_line, exc)
                raise InputFileError(message) from exc

    return numbered(), delimiter, position


_STRAY = re.compile("[\udc80-\udcff]")


def _mend_stray_bytes(record: list[str], encoding: str) -> tuple[list[Cell], tuple[_Mark, ...]]:
    """Put U+FFFD where a cell holds a byte that is not `encoding`, and say which bytes."""
    marks = []
    cells: list[Cell] = list(record)
    for index, cell in enumerate(record):
        stray = _STRAY.findall(cell)
        if stray:
            mended = _STRAY.sub("\ufffd", cell)
            cells[index] = mended
            shown = " ".join(f"0x{ord(s) - 0xDC00:02X}" for s in stray[:5])
            shown += " ..." if len(stray) > 5 else ""
            what = "a byte" if len(stray) == 1 else f"{len(stray)} bytes"
            text = (
                f"{what} ({shown}) that {encoding} cannot decode (the rest of the file is"
                f" {encoding}), read as \ufffd. Retype the cell in the file, or export the"
                " file again as UTF-8"
            )
            marks.append(_Mark(index, ENCODING_ERROR, text, mended))
    return cells, tuple(marks)


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
        f' most {MAX_CELL_CHARS:,}. Either the file is not a CSV, or a quote (") opens a cell on'
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
    _check_sheet_extents(path, [m.filename for m in members])


_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref=[\"']([A-Z]+)?(\d+)?(?::([A-Z]+)(\d+))?")
_VALUE_CELL = re.compile(rb"<(?:\w+:)?c\s[^>]*?\br=[\"']([A-Z]{1,3})(\d{1,7})[\"'][^>]*?(?<!/)>")


def _check_sheet_extents(path: Path, names: list[str]) -> None:
    """Refuse a worksheet whose cells with a value span more than MAX_SHEET_CELLS (see there);
    only sheets whose <dimension> announces that much are scanned."""
    with zipfile.ZipFile(path) as archive:
        for name in names:
            if not (name.startswith("xl/worksheets/") and name.endswith(".xml")):
                continue
            try:
                with archive.open(name) as fh:
                    head = fh.read(4096)
            except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError):
                continue  # a damaged part: calamine says so, with the advice that goes with it
            found = _DIMENSION.search(head)
            if found is None or not found.group(3):
                continue
            if _column_index(found.group(3).decode()) * int(found.group(4)) <= MAX_SHEET_CELLS:
                continue
            try:
                columns, rows, last = _value_extent(archive, name)
            except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError):
                continue
            if columns * rows > MAX_SHEET_CELLS:
                raise InputFileError(
                    f"{path}: a value in cell {last} of part '{name}' stretches its sheet to"
                    f" {columns:,} columns x {rows:,} rows, over the {MAX_SHEET_CELLS:,} cells"
                    " this importer holds in memory. Delete the stray cells far from the table"
                    " (Ctrl+End in Excel shows the last one), or export the candidates as CSV."
                )


def _value_extent(archive: zipfile.ZipFile, name: str) -> tuple[int, int, str]:
    """(columns, rows, reference of the farthest cell) of the cells in a sheet part that hold
    something (an element with content, not an empty `<c .../>` left by formatting)."""
    columns = rows = 0
    last, carry = "A1", b""
    with archive.open(name) as fh:
        while chunk := fh.read(_CHUNK):
            buffer = carry + chunk
            cut = buffer.rfind(b"<")
            for match in _VALUE_CELL.finditer(buffer, 0, cut if cut > 0 else len(buffer)):
                column, row = _column_index(match.group(1).decode()) + 1, int(match.group(2))
                if column > columns or row > rows:
                    columns, rows = max(columns, column), max(rows, row)
                    last = (match.group(1) + match.group(2)).decode()
            carry = buffer[cut:] if cut > 0 else b""
    return columns, rows, last


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


def _excel_rows(
    path: Path,
    sheet: str | int | None,
    expected_columns: Collection[str],
    padded: dict[int, dict[int, str]] | None = None,
) -> tuple[Numbered, str, int, dict[str, Any], int]:
    """The chosen sheet's rows, its name, the index of its first column (rows start at the
    sheet's first used column), notes for the summary (sheets skipped) and its last row's
    number (0: not known). Error cells and, given `padded`, zero-padded numbers are read from
    the sheet's XML (see `_error_cells`); `padded` is filled as the rows are read."""
    _check_workbook_size(path)
    streamed = _streams(path)
    workbook: Any
    try:
        if streamed:
            from python_calamine_plus import CalamineWorkbook as StreamedWorkbook

            workbook = StreamedWorkbook.from_path(str(path))
        else:
            from python_calamine import CalamineWorkbook

            workbook = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types for every broken file
        reason = _calamine_says(exc)
        raise InputFileError(f"{path}: cannot be opened as a spreadsheet: {reason}") from exc
    names = list(workbook.sheet_names)
    kinds = _sheet_kinds(workbook)
    # Chart, dialog and macro sheets hold no rows (and some cannot be read as cells at all):
    # the automatic choice looks at worksheets only; a named one is refused with its kind.
    worksheets = [n for n in names if kinds.get(n, "worksheet") == "worksheet"]
    details: dict[str, Any] = {}

    def load(name: str) -> Any:
        try:
            if streamed:
                return _StreamedSheet(path, workbook, name)
            return workbook.get_sheet_by_name(name)
        except Exception as exc:
            reason = _calamine_says(exc)
            raise InputFileError(f"{path}, sheet '{name}': cannot be read: {reason}") from exc

    name = _choose_sheet(path, names, sheet)
    if sheet is not None and sheet != "" and name not in worksheets:
        listed = ", ".join(f"'{n}'" for n in worksheets) or "none"
        raise InputFileError(
            f"{path}: sheet '{name}' is a {kinds[name]}, which holds no rows."
            f" Name the sheet with the candidates; the worksheets: {listed}."
        )
    if sheet is None or sheet == "":
        if not worksheets:
            raise InputFileError(
                f"{path}: the workbook has no worksheet (only charts or macros);"
                " save the candidates as a worksheet, or export them as CSV."
            )
        name = worksheets[0]
    skipped: list[InputFileError] = []
    data = None
    for other in [name] + ([n for n in worksheets if n != name] if sheet in (None, "") else []):
        try:
            candidate = load(other)
        except InputFileError as exc:
            if sheet not in (None, ""):
                raise
            skipped.append(exc)
            continue
        if data is None:
            name, data = other, candidate
        if not expected_columns or len(worksheets) < 2 or sheet not in (None, ""):
            break
        # No sheet named: the first one without the mapped columns is a cover or notes sheet;
        # take the first sheet that has them.
        if _holds_columns(path, other, candidate, expected_columns):
            name, data = other, candidate
            break
    if data is None:
        raise skipped[0]
    if skipped:  # while searching: said in the summary, not fatal
        details["skipped_sheets"] = [str(e).split(", sheet ", 1)[-1] for e in skipped]
    if streamed:
        rows, first_column, last_row = _streamed_rows(path, data, padded)
        return rows, name, first_column, details, last_row

    # iter_rows starts at the sheet's first row (blank rows keep their numbers) but at its first
    # used column: the cells' real columns are `first_column` on.
    first_column = data.start[1] if data.start else 0
    errors = _error_cells(path, name, first_column)
    with path.open("rb") as fh:
        ods = b"opendocument.spreadsheet" in fh.read(128)  # ODS stores its mimetype first

    def numbered() -> Numbered:
        for index, cells in enumerate(data.iter_rows()):
            row = _cell_values(cells)
            if ods:
                row = [
                    _ods_duration(c) if type(c) is str and c[:2] in _DURATION_STARTS else c
                    for c in row
                ]
            if index in errors:
                yield index + 1, *_put_errors(row, errors[index], index + 1, first_column)
            else:
                yield index + 1, row, ()

    last_row = data.end[0] + 1 if data.end else 0
    return numbered(), name, first_column, details, last_row


def _cell_values(cells: list[Cell]) -> list[Cell]:
    """calamine's cells as rows hold them: "" is an empty cell (None); a whole float is an id or
    phone number stored as a number, so its digits are kept (4915112345678, not
    4915112345678.0)."""
    return [
        None
        if c == ""
        else int(c)
        if type(c) is float and c.is_integer() and -1e16 < c < 1e16
        else c
        for c in cells
    ]


def _streams(path: Path) -> bool:
    """Whether the workbook is an xlsx/xlsm (its workbook part is XML), which is streamed;
    .xlsb, .ods and .xls are read whole."""
    try:
        with zipfile.ZipFile(path) as archive:
            return "xl/workbook.xml" in set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError):
        return False  # not a ZIP (.xls) or damaged: calamine says what it is


# A streamed sheet part announced smaller than this is inflated once before its rows are read
# (at most this much, some 20 ms), so that one that lies about its size (1 KB announced for
# 210 KB) is refused before anything is read, as when calamine read it whole. A larger part
# that lies stops the reading where calamine finds it: its memory stays flat either way.
VERIFIED_PART_BYTES = 16 << 20


class _StreamedSheet:
    """A worksheet of an xlsx/xlsm read as a stream: no more than a row of it is held. Its
    rows start at column A (calamine's whole sheet starts at its first used column)."""

    def __init__(self, path: Path, workbook: Any, name: str) -> None:
        self.workbook = workbook
        self.name = name
        list(workbook.stream_sheet_by_name(name, max_row=0))  # a sheet that cannot be read says so
        with zipfile.ZipFile(path) as archive:
            part = _xlsx_sheet_part(archive, name)
            info = archive.getinfo(part) if part in set(archive.namelist()) else None
        small = info is not None and info.file_size < VERIFIED_PART_BYTES
        if small and info is not None and _inflates_past(path, info):
            raise ValueError(
                f"part '{part}' is larger than its declared uncompressed size"
                f" ({info.file_size:,} bytes)"
            )

    def iter_rows(self) -> Iterator[list[Cell]]:
        rows: Iterator[list[Cell]] = iter(self.workbook.stream_sheet_by_name(self.name))
        return rows


def _inflates_past(path: Path, info: zipfile.ZipInfo) -> bool:
    """Whether a deflated ZIP part unpacks to more than its directory entry announces (zipfile
    stops at the announced size; this reads on, at most one byte past it)."""
    if info.compress_type != zipfile.ZIP_DEFLATED:
        return False
    with path.open("rb") as fh:
        fh.seek(info.header_offset)
        header = fh.read(30)
        if header[:4] != b"PK\x03\x04":
            return False
        fh.seek(
            int.from_bytes(header[26:28], "little") + int.from_bytes(header[28:30], "little"), 1
        )
        inflate = zlib.decompressobj(-15)
        left, out = info.compress_size, 0
        while left > 0 and not inflate.eof:
            data = fh.read(min(_CHUNK, left))
            if not data:
                break
            left -= len(data)
            while data and not inflate.eof:
                try:
                    out += len(inflate.decompress(data, _CHUNK))
                except zlib.error:
                    return False  # damaged otherwise: calamine says how
                if out > info.file_size:
                    return True
                data = inflate.unconsumed_tail
    return False


# Rows read ahead to find a streamed sheet's first used column before its header is looked for.
_FIRST_COLUMN_ROWS = 1000


def _streamed_rows(
    path: Path, data: _StreamedSheet, padded: dict[int, dict[int, str]] | None
) -> tuple[Numbered, int, int]:
    """A streamed sheet's rows from its first used column, as calamine reads a whole sheet; that
    column; and its last row as its <dimension> says (0: not said). Error cells and zero-padded
    numbers are read from the sheet's XML alongside, one row at a time."""
    with zipfile.ZipFile(path) as archive:
        part = _xlsx_sheet_part(archive, data.name)
        formats = _zero_padded_styles(archive) if padded is not None else {}
        try:
            with archive.open(part) as fh:
                head = fh.read(4096)
        except (KeyError, zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError):
            head = b""
    dimension = _DIMENSION.search(head)
    last_row = int(dimension.group(4) or dimension.group(2) or 0) if dimension else 0

    rows = _reading(path, data)
    ahead: list[list[Cell]] = []
    first_column = _MAX_COLUMNS
    for cells in rows:
        ahead.append(cells)
        used = next((i for i, c in enumerate(cells) if c != ""), None)
        if used is not None:
            first_column = min(first_column, used)
        if first_column == 0 or len(ahead) >= _FIRST_COLUMN_ROWS:
            break
    if first_column > 0:  # rarely: the table does not start in column A
        elsewhere = _first_value_column(path, part, first_column)
        first_column = min(first_column, _MAX_COLUMNS if elsewhere is None else elsewhere)
        if first_column == _MAX_COLUMNS:
            first_column = 0  # no value at all

    def numbered() -> Numbered:
        marks = _xlsx_marks(path, part, formats)
        pending = next(marks, None)
        shown = padded if padded is not None else {}
        for index, cells in enumerate(chain(ahead, rows)):
            if index == len(ahead):
                ahead.clear()
            row = _cell_values(cells[first_column:] if first_column else cells)
            if pending is None or pending[0] > index:  # nearly every row: nothing marked
                yield index + 1, row, ()
                continue
            errors: dict[int, str] = {}
            while pending is not None and pending[0] <= index:
                at, column, text, error = pending
                if at == index and column >= first_column:
                    if error:
                        errors[column - first_column] = text
                    else:
                        shown.setdefault(index + 1, {})[column - first_column] = text
                pending = next(marks, None)
            if errors:
                yield index + 1, *_put_errors(row, errors, index + 1, first_column)
            else:
                yield index + 1, row, ()

    return numbered(), first_column, last_row


def _reading(path: Path, data: _StreamedSheet) -> Iterator[list[Cell]]:
    """The sheet's rows; what calamine cannot read on the way is said with the file's name."""
    try:
        yield from data.iter_rows()
    except Exception as exc:  # calamine's own error types, raised by the row that is damaged
        raise InputFileError(
            f"{path}, sheet '{data.name}': cannot be read: {_calamine_says(exc)}"
        ) from exc


_MAX_COLUMNS = 16_384  # Excel's, XFD


def _first_value_column(path: Path, part: str, before: int) -> int | None:
    """The leftmost column before `before` (0-based) in which a cell of the sheet part holds
    something, or None; read from the XML (only when the first rows do not start in column A)."""
    letters = "".join(chr(65 + i) for i in range(min(before, 26)))
    if before <= 26:
        pattern = re.compile(
            rb"<(?:\w+:)?c\s[^>]*?\br=[\"']([" + letters.encode() + rb"])\d{1,7}[\"'][^>]*?(?<!/)>"
        )
    else:
        pattern = _VALUE_CELL
    found: int | None = None
    carry = b""
    try:
        with zipfile.ZipFile(path) as archive, archive.open(part) as fh:
            while chunk := fh.read(_CHUNK):
                buffer = carry + chunk
                cut = buffer.rfind(b"<")
                for match in pattern.finditer(buffer, 0, cut if cut > 0 else len(buffer)):
                    column = _column_index(match.group(1).decode())
                    if column < before and (found is None or column < found):
                        found = column
                        if found == 0:
                            return 0
                carry = buffer[cut:] if cut > 0 else b""
    except (KeyError, zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError):
        return found  # calamine reads the sheet and says what is wrong with it
    return found


# --- Excel error values (#N/A, #DIV/0!, ...) -------------------------------------------------
# python-calamine reads an error cell as "" (its issue #105), so a row of errors would vanish and
# a #N/A phone number would be sent empty; python-calamine-plus streams it as its text, which a
# text cell may hold too. They are found in the sheet's own XML instead: xlsx/xlsm cells with
# t="e" (a search for that marker, alongside the rows: `_xlsx_marks`), ODS cells with
# calcext:value-type="error" (parsed only when content.xml holds one). .xls and .xlsb are binary:
# their error cells still read as empty.

_ERROR_TEXTS = (
    "#NULL!",
    "#DIV/0!",
    "#VALUE!",
    "#REF!",
    "#NAME?",
    "#NUM!",
    "#N/A",
    "#GETTING_DATA",
    "#SPILL!",
    "#CALC!",
    "#FIELD!",
    "#BLOCKED!",
    "#CONNECT!",
    "#BUSY!",
    "#UNKNOWN!",
    "Err:502",
    "Err:504",
    "Err:508",
    "Err:511",
    "Err:522",
)
_SheetMark = tuple[
    int, int, str, bool
]  # row, column, text, whether an error (else a padded number)
_CELL_REF = re.compile(rb"""\br=["']([A-Z]{1,3})(\d{1,7})["']""")
_CELL_VALUE = re.compile(rb"<(?:\w+:)?v>([^<]{1,40})</(?:\w+:)?v>")
_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"


def _error_cells(path: Path, sheet: str, first_column: int) -> dict[int, dict[int, str]]:
    """Row index (0-based) -> {column index in the row's cells: error text} of an ODS sheet's
    cells holding an error value; {} for other formats read whole (.xls and .xlsb are binary:
    their error cells still read as empty; xlsx/xlsm are streamed, see `_xlsx_marks`)."""
    found: dict[int, dict[int, str]] = {}
    try:
        with zipfile.ZipFile(path) as archive:
            if "content.xml" not in set(archive.namelist()):
                return found
            cells = _ods_error_cells(archive, sheet)
    except (zipfile.BadZipFile, KeyError, OSError, SyntaxError):
        return found  # not a ZIP (.xls) or a part calamine read and we cannot: nothing to add
    for row, column, text in cells:
        found.setdefault(row, {})[column - first_column] = text
    return found


def _xlsx_marks(path: Path, part: str, formats: dict[int, str]) -> Iterator[_SheetMark]:
    """The error cells and zero-padded numbers of an xlsx/xlsm sheet part, in the sheet's order
    (see `_xlsx_scan`), read as they are asked for; nothing more once the part cannot be read."""
    try:
        with zipfile.ZipFile(path) as archive:
            if part in set(archive.namelist()):
                yield from _xlsx_scan(archive, part, formats)
    except (zipfile.BadZipFile, KeyError, OSError, EOFError, RuntimeError, NotImplementedError):
        return  # calamine reads the part and says what is wrong with it


def _xlsx_sheet_part(archive: zipfile.ZipFile, sheet: str) -> str:
    """The ZIP part of sheet `sheet`, from workbook.xml and its relationships."""
    from xml.etree import ElementTree

    workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    rid = next(
        (
            s.get(f"{_REL_NS}id")
            for s in workbook.iter(f"{_MAIN_NS}sheet")
            if s.get("name") == sheet
        ),
        None,
    )
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    for rel in rels:
        if rel.get("Id") == rid:
            target = rel.get("Target", "")
            return target.lstrip("/") if target.startswith("/") else "xl/" + target
    return ""


def _xlsx_scan(
    archive: zipfile.ZipFile, part: str, formats: dict[int, str]
) -> Iterator[_SheetMark]:
    """One search of a sheet's XML, in its order: (row, column, error text, True) for each t="e"
    cell, and (row, column, shown text, False) for each number cell whose style `formats` names
    (a zero-padded format). Rows and columns count from 0. An error cell inflates the sheet
    once more, alongside calamine (measured: ~2 % of a dry run)."""
    markers = [b' t="e"'] + [f' s="{s}"'.encode() for s in formats]
    carry = b""
    with archive.open(part) as fh:
        chunk = fh.read(_CHUNK)
        if b"='" in chunk[:4096]:  # a writer that quotes attributes with '
            markers += [m.replace(b'"', b"'") for m in markers]
        while chunk:
            buffer = carry + chunk
            chunk = fh.read(_CHUNK)
            at = 0
            ahead = {m: buffer.find(m) for m in markers}  # each marker's next place, kept so
            while True:  # that a frequent marker does not make a rare one be searched again
                for m, i in ahead.items():
                    if 0 <= i < at:
                        ahead[m] = buffer.find(m, at)
                hits = [(i, m) for m, i in ahead.items() if i >= 0]
                if not hits:
                    carry = buffer[max(at, len(buffer) - 16) :]
                    break
                hit, marker = min(hits)
                start = buffer.rfind(b"<", 0, hit)
                end = buffer.find(b"/c>", hit)  # </c> or </x:c>
                if start < 0:
                    at = hit + 1
                    continue
                if end < 0:
                    carry = buffer[start:] if len(buffer) - start < _CHUNK else b""
                    break
                cell = buffer[start:end]
                ref, value = _CELL_REF.search(cell), _CELL_VALUE.search(cell)
                if ref and value:
                    row, column = int(ref.group(2)) - 1, _column_index(ref.group(1).decode())
                    text = value.group(1).decode("utf-8", "replace")
                    if b"'e'" in marker or b'"e"' in marker:
                        yield row, column, text, True
                    elif _is_number_cell(cell[: cell.find(b">")]) and (
                        fmt := formats.get(int(marker[4:-1]))
                    ):
                        padded = _pad(text, fmt)
                        if padded is not None:
                            yield row, column, padded, False
                at = end


def _is_number_cell(tag: bytes) -> bool:
    """A `<c …>` tag of a number: no type (the default), or t="n" as openpyxl writes it."""
    return b" t=" not in tag or b' t="n"' in tag or b" t='n'" in tag


_ZERO_PADDED = re.compile(r'(?:0|[ \-/]|\\.|"[^"]*")+')


def _zero_padded_styles(archive: zipfile.ZipFile) -> dict[int, str]:
    """Cell style index -> number format, for the styles whose format pads a whole number with
    zeros (00000, 00000-0000, "ID "000000): what ids, postal codes and phone numbers typed as
    numbers are formatted with to show their digits. Read from styles.xml, which is small."""
    from xml.etree import ElementTree

    try:
        styles = ElementTree.fromstring(archive.read("xl/styles.xml"))
    except KeyError:
        return {}
    codes: dict[str | None, str] = {}
    for fmt in styles.iter(f"{_MAIN_NS}numFmt"):
        code = fmt.get("formatCode", "")
        if code.count("0") >= 2 and _ZERO_PADDED.fullmatch(code):
            codes[fmt.get("numFmtId")] = code
    found: dict[int, str] = {}
    cell_styles = styles.find(f"{_MAIN_NS}cellXfs")
    for index, xf in enumerate(cell_styles if cell_styles is not None else ()):
        padding = codes.get(xf.get("numFmtId"))
        if padding is not None:
            found[index] = padding
    return found


def _pad(value: str, code: str) -> str | None:
    """A whole, non-negative number as a zero-padded format shows it: 1067 in 00000 is 01067,
    123456789 in 00000-0000 is 12345-6789; None for a number the format would not show so."""
    try:
        number = float(value)
    except ValueError:
        return None
    if not number.is_integer() or number < 0 or number >= 1e15:
        return None
    slots = code.count("0") - code.count('"0') - code.count("\\0")
    digits = str(int(number)).zfill(slots)
    extra, digits = digits[: len(digits) - slots], digits[len(digits) - slots :]
    out, taken = [extra], 0
    for piece in re.findall(r'"[^"]*"|\\.|.', code):
        if piece == "0":
            out.append(digits[taken])
            taken += 1
        else:
            out.append(piece.strip('"') if piece.startswith('"') else piece[-1])
    return "".join(out)


def _column_index(letters: str) -> int:
    """A -> 0, Z -> 25, AA -> 26: the inverse of column_letter."""
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index - 1


def _ods_error_cells(archive: zipfile.ZipFile, sheet: str) -> list[tuple[int, int, str]]:
    """(row, column, error text) of each error cell of an ODS sheet. LibreOffice marks them
    calcext:value-type="error" and shows the error in the cell's text; content.xml is parsed
    (row and column repeats counted) only when it holds one."""
    from xml.etree import ElementTree

    with archive.open("content.xml") as fh:
        holds = False
        carry = b""
        while chunk := fh.read(_CHUNK):
            if b'value-type="error"' in carry + chunk:
                holds = True
                break
            carry = chunk[-32:]
    if not holds:
        return []
    table_ns = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
    calc_ns = "urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0"
    found: list[tuple[int, int, str]] = []
    row = column = -1
    inside = False
    with archive.open("content.xml") as fh:
        for event, element in ElementTree.iterparse(fh, events=("start", "end")):
            tag = element.tag
            if tag == f"{{{table_ns}}}table":
                if event == "start":
                    inside, row = element.get(f"{{{table_ns}}}name") == sheet, 0
                elif inside:
                    break
            elif not inside:
                if event == "end":
                    element.clear()
            elif tag == f"{{{table_ns}}}table-row":
                if event == "start":
                    column = 0
                else:
                    row += int(element.get(f"{{{table_ns}}}number-rows-repeated", "1"))
                    element.clear()
            elif event == "end" and tag in (
                f"{{{table_ns}}}table-cell",
                f"{{{table_ns}}}covered-table-cell",
            ):
                if element.get(f"{{{calc_ns}}}value-type") == "error":
                    text = "".join(element.itertext()).strip() or "#VALUE!"
                    found.append((row, column, text[:40]))
                column += int(element.get(f"{{{table_ns}}}number-columns-repeated", "1"))
                element.clear()
    return found


def _put_errors(
    row: list[Cell], errors: dict[int, str], number: int, first_column: int
) -> tuple[list[Cell], tuple[_Mark, ...]]:
    """The row with each error cell holding its error text, and a mark for each."""
    marks = []
    for index, text in errors.items():
        if index < 0:
            continue
        if index >= len(row):
            row = row + [None] * (index + 1 - len(row))
        row[index] = text
        cell = f"{column_letter(index + first_column)}{number}"
        marks.append(
            _Mark(
                index,
                CELL_ERROR,
                (
                    f"holds the Excel error {text} (cell {cell}), not a value: the export wrote the"
                    " error its formula gave. Fix the formula or the cell in the workbook and"
                    " export again"
                ),
                text,
            )
        )
    return row, tuple(marks)


# ODS time cells: calamine gives a duration under 24 hours as dt.time (a time of day, what a
# "time" column wants) and a longer or negative one as its ISO text (PT36H15M10S); that one is
# read as the dt.timedelta it is.
_DURATION_STARTS = {"PT", "-P", *(f"P{d}" for d in range(10))}
_ISO_DURATION = re.compile(r"(-)?P(?:(\d+)D)?T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?")


def _ods_duration(text: str) -> Cell:
    """An ODS duration's ISO text as a dt.timedelta; any other text unchanged."""
    match = _ISO_DURATION.fullmatch(text)
    if not match or not any(match.groups()[1:]):
        return text
    sign, days, hours, minutes, seconds = match.groups()
    value = dt.timedelta(
        days=int(days or 0),
        hours=int(hours or 0),
        minutes=int(minutes or 0),
        seconds=float(seconds or 0),
    )
    return -value if sign else value


def _shown_as_text(
    numbered: Numbered, padded: dict[int, dict[int, str]], columns: set[int]
) -> Numbered:
    """The rows, with each number in `columns` that its format pads with zeros replaced by the
    text the cell shows ('01067', not 1067)."""
    for number, cells, marks in numbered:
        shown = padded.pop(number, None)  # filled as the rows are read; emptied as they go
        if shown:
            for index, text in shown.items():
                if index in columns and index < len(cells) and type(cells[index]) in (int, float):
                    cells[index] = text
        yield number, cells, marks


def _sheet_kinds(workbook: Any) -> dict[str, str]:
    """Each sheet's kind: 'worksheet', 'chart sheet', 'dialog sheet', 'macro sheet' or 'VBA
    module' (calamine knows them for Excel files; ODS sheets are all worksheets)."""
    labels = {
        "WorkSheet": "worksheet",
        "ChartSheet": "chart sheet",
        "DialogSheet": "dialog sheet",
        "MacroSheet": "macro sheet",
        "Vba": "VBA module",
    }
    try:
        metadata = workbook.sheets_metadata
    except (AttributeError, ValueError, RuntimeError):  # an older calamine: all are worksheets
        return {}
    return {m.name: labels.get(str(m.typ).rsplit(".", 1)[-1], "worksheet") for m in metadata}


def _calamine_says(exc: Exception) -> str:
    """calamine's reason, with what it means when a ZIP part inflates past its announced size."""
    text = str(exc)
    if "larger than its declared" in text:
        return (
            f"{text} (a part of it unpacks to more than the ZIP directory announces: it is"
            " damaged or made to mislead; open it in Excel and save it again, or export CSV)"
        )
    return text


def _holds_columns(path: Path, name: str, data: Any, expected_columns: Collection[str]) -> bool:
    """Whether a sheet's first rows hold one of the columns the mapping names."""
    wanted = {fold_header(c) for c in expected_columns}
    try:
        for index, cells in enumerate(data.iter_rows()):
            if any(_is_name(c) and fold_header(c) in wanted for c in cells):
                return True
            if index > HEADER_SEARCH_ROWS + 20:
                break
    except Exception as exc:  # a streamed sheet is read here first: calamine's own errors
        reason = _calamine_says(exc)
        raise InputFileError(f"{path}, sheet '{name}': cannot be read: {reason}") from exc
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
        raise InputFileError(
            f"{path}: has {len(names)} sheet(s); sheet number {position} does not exist (sheets"
            " count from 1)."
        )
    listed = ", ".join(f"'{n}'" for n in names)
    raise InputFileError(
        f"{path}: has no sheet '{text}'.{did_you_mean(text, names)} Sheets: {listed}."
    )


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
    numbered: Numbered,
    header_row: int | None,
    expected_columns: Collection[str],
    first_column: int = 0,
) -> tuple[int, list[str], Numbered]:
    if header_row is not None:
        for number, cells, _ in numbered:
            if number == header_row:
                if _is_blank(cells):
                    raise InputFileError(
                        f"{path}: row {header_row} is empty; it cannot be the header row."
                    )
                return number, _header_names(cells, first_column), numbered
        raise InputFileError(
            f"{path}: has fewer than {header_row} rows; there is no header on row {header_row}."
        )

    looked_at: list[tuple[int, list[Cell], tuple[_Mark, ...]]] = []
    for number, cells, marks in numbered:
        if _is_blank(cells):
            continue
        looked_at.append((number, cells, marks))
        if len(looked_at) >= HEADER_SEARCH_ROWS or not expected_columns:
            break
    if not looked_at:
        raise InputFileError(f"{path}: holds no rows at all; a header row is expected.")
    chosen = 0
    if expected_columns:
        wanted = {fold_header(c) for c in expected_columns}
        hits = [
            sum(1 for c in cells if _is_name(c) and fold_header(c) in wanted)
            for _, cells, _ in looked_at
        ]
        if max(hits) > 0:
            chosen = hits.index(max(hits))
    number, cells, _ = looked_at[chosen]
    rest = chain(looked_at[chosen + 1 :], numbered)
    return number, _header_names(cells, first_column), rest


def fold_header(text: str) -> str:
    """A header as it is compared everywhere (header search, mapping columns, drafts): every run
    of whitespace (NBSP, Alt-Enter's line break, tabs) one space, trimmed, NFC, casefolded. So
    'First\nName', 'First\u00a0name ' and 'FIRST NAME' are one header."""
    return unicodedata.normalize("NFC", " ".join(text.split())).casefold()


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA: how spreadsheet programs name a column."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _header_names(cells: list[Cell], first_column: int = 0) -> list[str]:
    """The header row's names: an empty one is named by its column's letter as the spreadsheet
    shows it ("Column E", counting from A even when the sheet's data starts further right)."""
    names = [_header_text(c) for c in cells]
    while names and not names[-1]:
        names.pop()  # trailing empty columns are formatting, not data
    seen: dict[str, int] = {}
    headers = []
    for index, name in enumerate(names):
        name = name or f"Column {column_letter(index + first_column)}"
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


def _data_rows(numbered: Numbered, headers: list[str], excel: bool = False) -> Iterator[SourceRow]:
    width = len(headers)
    for number, cells, marks in numbered:
        if _is_blank(cells):
            continue
        if len(cells) < width:
            cells = list(cells) + [None] * (width - len(cells))
        elif len(cells) > width and not _is_blank(cells[width:]):
            marks = (*marks, _extra_cells(cells, width, excel))
        values = tuple(cells) if len(cells) == width else tuple(cells[:width])
        if marks:
            yield SourceRow(number, values, _issues(number, headers, marks))
        else:
            yield SourceRow(number, values)


def _extra_cells(cells: list[Cell], width: int, excel: bool) -> _Mark:
    """A row with cells past the last header. In a CSV that is a delimiter inside a cell that is
    not quoted, or a dialect that escapes with backslashes: the columns may be shifted, an
    error. In a workbook, a note beside the table: a warning."""
    extra = [c for c in cells[width:] if not _is_blank([c])]
    shown = ", ".join(repr(as_shown) for as_shown in (str(c)[:30] for c in extra[:3]))
    shown += ", ..." if len(extra) > 3 else ""
    if excel:
        text = (
            f"{len(extra)} cell(s) right of the last header ({shown}), which are not read;"
            " give their column a header if they belong to the table"
        )
        return _Mark(-1, EXTRA_CELLS, text, shown, Severity.WARNING)
    text = (
        f"{len(cells)} cells where the header has {width}: the cells past it ({shown}) are"
        " not read, and the others may be shifted. A delimiter inside a cell without quotes,"
        " or a file that escapes with backslashes, does this; quote that cell, or export the"
        " file again as CSV"
    )
    return _Mark(-1, EXTRA_CELLS, text, shown)


def _issues(number: int, headers: list[str], marks: tuple[_Mark, ...]) -> tuple[Issue, ...]:
    """The reader's marks on a row as issues, each naming its column ("" for the whole row)."""
    found = []
    for mark in marks:
        if mark.column < 0:
            column, message = "", f"The row has {mark.text}."
        elif mark.column < len(headers):
            column = headers[mark.column]
            message = f"column '{column}': {mark.text}."
        else:
            continue  # past the header: reported as extra cells, if not empty
        found.append(Issue(number, column, "", mark.value, mark.code, message, mark.severity))
    return tuple(found)
