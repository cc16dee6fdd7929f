"""Write what a run found for people: the error report, the rejected rows, the summary.

Every CSV written here is UTF-8 with a BOM (so Excel shows umlauts) and neutralises cells that a
spreadsheet program would run as a formula; otherwise CSV cells keep their exact text, control
characters included, so the rejects import again with the same values. The annotated workbook
writes every text as a text cell (never a formula) and escapes what XML cannot hold. Text bound
for a terminal goes through `printable`.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import json
import math
import os
import re
from collections.abc import Iterable, Sequence
from collections.abc import Mapping as MappingOf
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TextIO

from .checks import ValidationSummary
from .errors import ConfigError, redact
from .files import replacing
from .issues import Issue, Severity, errors_in
from .masking import mask_issue
from .readers import Cell, SourceRow
from .transforms import as_text

ERROR_COLUMNS = ("row", "column", "field", "value", "code", "message", "severity")
RESULT_COLUMNS = (
    "row",
    "status",
    "candidate_id",
    "application_id",
    "code",
    "message",
    "attempts",
    "log_url",
    "warnings",
    "actions",  # after the create: `notes 2/2, rejected, tags 3/3`
)
SUCCESS_STATUSES = ("created", "skipped")  # the rest goes to the split error file, to fix
_FORMULA_CHARACTERS = ("=", "+", "-", "@")
# A leading NUL is listed by OWASP ASVS 5.0 (V1.2.10): a spreadsheet that drops it runs the rest.
_FORMULA_START = (*_FORMULA_CHARACTERS, "\t", "\r", "\x00")
_HARMLESS = re.compile(r"^[+-]?[\d\s().,/-]*$")  # phone numbers and signed numbers stay as they are

EXCEL_MAX_COLUMNS = 16_384
EXCEL_MAX_CELL = 32_767  # characters (UTF-16 code units) in one cell or comment
_ADDED_COLUMNS = ("source row", "problems")
# What XML 1.0 cannot hold (openpyxl's ILLEGAL_CHARACTERS_RE, plus lone surrogates and the two
# non-characters, which would make a workbook Excel calls corrupt).
_NOT_IN_XLSX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# What a terminal acts on or reorders, besides C0 controls (ESC, BEL, CR, backspace…): DEL, C1
# controls, bidi marks, embeddings, overrides and isolates, line/paragraph separators, and lone
# surrogates (which cannot even be encoded for output). json.dumps leaves these raw.
_TERMINAL_NON_C0 = r"\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_NOT_FOR_TERMINAL = re.compile(rf"[\x00-\x1f{_TERMINAL_NON_C0}]")
_NOT_FOR_TERMINAL_KEEP_LINES = re.compile(rf"[\x00-\x08\x0b-\x1f{_TERMINAL_NON_C0}]")
_RAW_IN_JSON = re.compile(f"[{_TERMINAL_NON_C0}]")
_SHORT_ESCAPES = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return _SHORT_ESCAPES.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def printable(text: str, *, keep_newlines: bool = False) -> str:
    """`text` safe to print on a terminal: every character a terminal would act on (ESC
    sequences set the title or clear the screen, CR overwrites the line, bidi overrides reorder
    it) becomes a visible escape such as `\\x1b` or `\\u202e`. Newline and tab become `\\n`
    and `\\t` too, so one table row stays one line, unless `keep_newlines` (multi-line
    messages)."""
    pattern = _NOT_FOR_TERMINAL_KEEP_LINES if keep_newlines else _NOT_FOR_TERMINAL
    return pattern.sub(_escape, text)


def terminal_json(data: Any) -> str:
    """`data` as indented JSON that is safe on a terminal and parses to exactly `data`: umlauts
    stay readable, and the characters json.dumps leaves raw (DEL, C1 controls, bidi controls,
    lone surrogates) are written as \\uXXXX escapes, which only occur inside JSON strings."""
    text = json.dumps(data, indent=2, ensure_ascii=False)
    return _RAW_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """`1 row`, `2 rows`, `1,234 rows`: a count with its noun as English wants it."""
    return f"{count:,} {noun if count == 1 else nouns or noun + 's'}"


def neutralize(value: Any) -> str:
    """The cell's text, with a leading ' when a spreadsheet would run it as a formula.

    Only the first character is looked at, as in OWASP's and ASVS's lists of formula starts: a
    leading space or BOM before `=`, or a full-width `＝`, is not a formula when a spreadsheet
    opens a CSV, so such cells stay exact (a ' would change what the rejects import again)."""
    text = "" if value is None else as_text(value)
    if text.startswith(_FORMULA_START) and not _HARMLESS.match(text):
        return "'" + text
    return text


def restore(value: Any) -> Any:
    """What `neutralize` took in: the ' it put before a formula start taken off again, so that
    a rejects file we wrote imports the cells the user had (`- called on Monday`, not `'- …`)."""
    if (
        isinstance(value, str)
        and value.startswith("'")
        and value[1:].startswith(_FORMULA_START)
        and not _HARMLESS.match(value[1:])
    ):
        return value[1:]
    return value


class _CsvOut:
    """A CSV as Excel opens it: UTF-8 with a BOM, the `delimiter` of the user's Excel (`;` where
    the decimal mark is a comma), formulas neutralised, API keys scrubbed."""

    def __init__(self, path: Path, header: Sequence[str], *, delimiter: str = ",") -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh: TextIO = self.path.open("w", encoding="utf-8-sig", newline="")
        self._writer = csv.writer(self._fh, delimiter=delimiter)
        self._writer.writerow([neutralize(h) for h in header])

    def _row(self, cells: Sequence[Any]) -> None:
        self._writer.writerow([redact(neutralize(c)) for c in cells])

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class ErrorReport(_CsvOut):
    """`--report`: one line per problem: row,column,field,value,code,message,severity.
    `masked` (`--redact`): personal values masked, in the value and where messages quote them."""

    def __init__(self, path: Path, *, masked: bool = False, delimiter: str = ",") -> None:
        super().__init__(path, ERROR_COLUMNS, delimiter=delimiter)
        self.masked = masked

    def write(self, found: Sequence[Issue]) -> None:
        for issue in found:
            if self.masked:
                issue = mask_issue(issue)
            self._row(
                (
                    issue.row,
                    issue.column,
                    issue.field,
                    issue.value,
                    issue.code,
                    issue.message,
                    issue.severity,
                )
            )


class RejectedRows(_CsvOut):
    """`--rejects`: the failing rows in their original columns plus `errors`, ready to fix and
    import again with the same mapping."""

    def __init__(self, path: Path, headers: Sequence[str], *, delimiter: str = ",") -> None:
        self.width = len(headers)
        (self.errors_column,) = added_columns(headers, ["errors"])
        super().__init__(path, [*headers, self.errors_column], delimiter=delimiter)

    def write(self, row: SourceRow, found: Sequence[Issue]) -> None:
        explained = "; ".join(
            f"row {i.row}, {i.column or i.field}: {i.message}" for i in errors_in(found)
        )
        self.write_explained(row, explained)

    def write_explained(self, row: SourceRow, explained: str) -> None:
        self._row([_cell_text(v) for v in row.values] + [explained])


def added_columns(headers: Sequence[str], names: Sequence[str]) -> list[str]:
    """The names of the columns a file adds after the input's: one that the input has already
    gets a `_` in front until it has not, so no input column is hidden."""
    taken = set(headers)
    added = []
    for name in names:
        while name in taken:
            name = "_" + name
        taken.add(name)
        added.append(name)
    return added


def working_path(path: Path) -> Path | None:
    """Where the results are written as rows finish: `results.partial.csv` for results.csv;
    None for a path that is not a regular file (a pipe, /dev/stdout), written as rows finish."""
    if path.exists() and not path.is_file():
        return None
    return path.with_name(f"{path.stem}.partial{path.suffix or '.csv'}")


class ResultsFile:
    """`--results`: every row's outcome. While the run goes, each row is written as it finishes
    to a working file beside it (`results.partial.csv`, flushed every `flush_every` rows), so a
    crash keeps what was learnt under a name that says it is partial; `finish` then writes the
    file in input order with the input's columns and puts it in place at once. A path that is
    not a regular file (a pipe, /dev/stdout) gets the rows as they finish, and nothing more.

    Only the outcomes are held, keyed by row, never the rows: `finish` reads the input again."""

    def __init__(self, path: Path, flush_every: int = 100, *, delimiter: str = ",") -> None:
        self.path = Path(path)
        self.delimiter = delimiter
        working = working_path(self.path)
        self.streaming = working is None
        self.working = working or self.path
        self._out = _CsvOut(self.working, RESULT_COLUMNS, delimiter=delimiter)
        self._out._fh.flush()  # killed before the first flush, the file still says what it is
        self._outcomes: dict[int, tuple[Any, ...]] = {}
        self.flush_every = flush_every
        self._unflushed = 0
        self.broken = False  # a write failed: what the file holds is not every result

    def write(self, row: int, outcome: Sequence[Any]) -> None:
        """One row's outcome, in RESULT_COLUMNS' order after `row`."""
        self._outcomes[row] = tuple(outcome)
        try:
            self._out._row((row, *outcome))
            self._unflushed += 1
            if self._unflushed >= self.flush_every:
                self._out._fh.flush()
                self._unflushed = 0
        except OSError:
            self.broken = True
            raise

    def close(self) -> None:
        """Stop writing; the working file stays as it is."""
        try:
            self._out.close()
        except OSError:
            if not self.broken:
                raise
            # else the same failure (a full disk) again, flushing: the first was reported

    def finish(
        self,
        headers: Sequence[str],
        rows: Iterable[SourceRow],
        split: tuple[Path, Path] | None = None,
    ) -> Path:
        """Write the results in the order of `rows` (the input read again), each with the input's
        columns, and the `split` files (success, error) too; then remove the working file.
        Outcomes of rows not met again come last. Returns where the results are."""
        self.close()
        if self.streaming and split is None:
            return self.path
        added = added_columns(headers, RESULT_COLUMNS[1:])
        with contextlib.ExitStack() as stack:
            results = None if self.streaming else self._open(stack, self.path, headers, added)
            success, error = None, None
            if split:
                success = self._open(stack, split[0], headers, added)
                error = stack.enter_context(
                    RejectedRows(
                        stack.enter_context(replacing(split[1])), headers, delimiter=self.delimiter
                    )
                )
            for row in rows:
                outcome = self._outcomes.pop(row.row_number, None)
                if outcome is None:
                    continue  # a row the run never reached: the submitter gives every row one
                values = [_cell_text(v) for v in row.values[: len(headers)]]
                line = [row.row_number, *values, *[""] * (len(headers) - len(values)), *outcome]
                if results is not None:
                    results._row(line)
                if success is not None and outcome[0] in SUCCESS_STATUSES:
                    success._row(line)
                elif error is not None:
                    status, code, message = outcome[0], outcome[3], outcome[4]
                    error.write_explained(
                        row, f"row {row.row_number}: {status} ({code}): {message}"
                    )
            for number in sorted(self._outcomes):  # not in the input read again
                if results is not None:
                    results._row([number, *[""] * len(headers), *self._outcomes[number]])
        if not self.streaming:
            self.working.unlink()
        return self.path

    def _open(
        self,
        stack: contextlib.ExitStack,
        path: Path,
        headers: Sequence[str],
        added: Sequence[str],
    ) -> _CsvOut:
        """A CSV of the results' columns that replaces `path` when the stack closes."""
        temporary = stack.enter_context(replacing(path))
        header = ["row", *headers, *added]
        return stack.enter_context(_CsvOut(temporary, header, delimiter=self.delimiter))


class AnnotatedWorkbook:
    """`--annotated`: every row of the input in a new .xlsx, each cell with a problem filled red
    and commented, and a `problems` column, so a person can fix the file where they read it.
    Written with openpyxl's write-only mode, row by row.

    The workbook is inert: every text (headers, values, comments, problems) is a text cell
    holding the exact text, never a formula, even when it starts with `=`. Text that starts like
    a formula also gets Excel's quote prefix, so editing the cell there keeps it text. What XML
    cannot hold is escaped visibly (`\\x01`) and text over Excel's cell limit is clipped with a
    marker: a workbook Excel calls corrupt helps nobody.
    """

    def __init__(self, path: Path, headers: Sequence[str]) -> None:
        self.path = Path(path)
        if not self.path.name.lower().endswith(".xlsx"):
            raise ConfigError(f"{self.path}: --annotated writes an Excel workbook; name it .xlsx.")
        columns = len(headers) + len(_ADDED_COLUMNS)
        if columns > EXCEL_MAX_COLUMNS:
            raise ConfigError(
                f"{self.path}: the input has {len(headers):,} columns; with 'source row' and "
                f"'problems' that makes {columns:,}, and an .xlsx sheet holds at most "
                f"{EXCEL_MAX_COLUMNS:,}. Use --report and --rejects (CSV) instead of --annotated."
            )
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.comments import Comment
        from openpyxl.styles import Font, PatternFill

        self._cell, self._comment = WriteOnlyCell, Comment
        self._bad = PatternFill("solid", fgColor="FFC7CE")
        self._doubtful = PatternFill("solid", fgColor="FFEB9C")
        self.headers = list(headers)
        self._index = {h: i for i, h in enumerate(self.headers)}
        self._book = Workbook(write_only=True)
        self._sheet = self._book.create_sheet("Annotated")
        self._sheet.freeze_panes = "B2"
        bold = Font(bold=True)
        header = []
        for text in [_ADDED_COLUMNS[0], *self.headers, _ADDED_COLUMNS[1]]:
            cell = self._text(text)
            cell.font = bold
            header.append(cell)
        self._sheet.append(header)

    def write(self, row: SourceRow, found: Sequence[Issue]) -> None:
        """The row, each cell with a problem red (a warning only: yellow) and commented."""
        by_column: dict[int, list[str]] = {}
        stops: set[int] = set()  # columns holding an error, not only warnings
        for issue in found:
            for name in issue.column.split(", "):
                if name in self._index:
                    warning = "" if issue.severity is Severity.ERROR else "(warning) "
                    explained = f"{warning}{issue.code}: {issue.message}"
                    by_column.setdefault(self._index[name], []).append(explained)
                    if issue.severity is Severity.ERROR:
                        stops.add(self._index[name])
        cells = [self._cell(self._sheet, value=row.row_number)]
        for index, value in enumerate(row.values):
            cell = self._value(value)
            if index in by_column:
                cell.fill = self._bad if index in stops else self._doubtful
                note = _excel_text("\n".join(by_column[index]))
                cell.comment = self._comment(note, "kombo-import")
            cells.append(cell)
        problems = "; ".join(f"{i.column or i.field}: {i.message}" for i in found)
        cells.append(self._text(problems) if problems else self._cell(self._sheet))
        self._sheet.append(cells)

    def _text(self, text: str) -> Any:
        """A text cell: openpyxl would make a formula of `=…` and an error value of `#N/A`."""
        cell = self._cell(self._sheet, value=_excel_text(text))
        cell.data_type = "s"
        if text.startswith(_FORMULA_CHARACTERS):
            cell.quotePrefix = True
        return cell

    def _value(self, value: Cell) -> Any:
        """Numbers, dates and booleans typed as they were read; everything else as text."""
        if value is None:
            return self._cell(self._sheet)
        if _excel_can_type(value):
            return self._cell(self._sheet, value=value)
        return self._text(as_text(value))

    def close(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._book.save(self.path)
        except OSError as exc:  # name the file: openpyxl's error says only what went wrong
            raise OSError(exc.errno, exc.strerror or str(exc), str(self.path)) from exc


def _excel_can_type(value: Cell) -> bool:
    """Whether openpyxl writes `value` as a valid typed cell (no inf, no time zone)."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, (dt.datetime, dt.time)):
        return value.tzinfo is None
    return isinstance(value, (int, dt.date, dt.timedelta))  # bool is an int


def _excel_text(text: str) -> str:
    """`text` as an .xlsx cell or comment can hold it: characters XML cannot carry become
    visible escapes (`\\x01`, as `printable` writes them: the reader sees what was there and
    where), and text over Excel's 32,767 characters (counted as Excel counts) is clipped with a
    marker saying so (openpyxl would cut it silently, and not by Excel's count)."""
    escaped = _NOT_IN_XLSX.sub(_escape, text)
    if len(escaped) <= EXCEL_MAX_CELL // 2:
        return escaped
    length = _utf16_length(escaped)
    if length <= EXCEL_MAX_CELL:
        return escaped
    marker = f" … [clipped: {length:,} characters, an Excel cell holds {EXCEL_MAX_CELL:,}]"
    room, kept = EXCEL_MAX_CELL - _utf16_length(marker), 0
    for char in escaped:
        room -= 2 if ord(char) > 0xFFFF else 1
        if room < 0:
            break
        kept += 1
    return escaped[:kept] + marker


def _utf16_length(text: str) -> int:
    """Excel counts a cell's characters in UTF-16 code units: an emoji counts two."""
    return len(text.encode("utf-16-le")) // 2  # called after lone surrogates are escaped


def _cell_text(value: Cell) -> str:
    return "" if value is None else as_text(value)


def summary_lines(
    summary: ValidationSummary,
    source: str,
    report_path: Path | None = None,
    *,
    terminal_width: int | None = None,
) -> list[str]:
    """The terminal summary: counts, problems by code, and the first problems as a table, with
    where the rest are (`report_path`). Text from the file (its description, column names,
    codes, messages quoting cells) goes through `printable`: a cell holding an escape sequence
    must not drive the user's terminal. The table's rows are cut with "…" to fit a terminal's
    width; without one (a file, a pipe) nothing is cut."""
    where = printable(str(report_path)) if report_path else None
    lines = [
        f"Read {printable(source)}",
        f"Rows read: {summary.rows_read:,}   valid: {summary.valid:,}   "
        f"invalid: {summary.invalid:,}   problems: {summary.problems:,}"
        + (f"   warnings: {summary.warnings:,}" if summary.warnings else ""),
    ]
    if summary.problems_by_code:
        lines.append("Problems by code:")
        by_code = summary.problems_by_code.most_common()
        counts = [(printable(code), count) for code, count in by_code]
        width = max(len(code) for code, _ in counts)
        for code, count in counts:
            lines.append(f"  {code:<{width}}  {count:>7,}")
        lines.append(f"First {plural(len(summary.first_problems), 'problem')}:")
        lines.extend(_table(summary.first_problems, terminal_width))
        hidden = summary.problems - len(summary.first_problems)
        if hidden > 0:
            lines.append(
                plural(hidden, "more problem is", "more problems are")
                + " not shown; "
                + (f"all are in {where}" if where else "--report writes them all")
            )
    lines.extend(f"Note: {printable(notice)}" for notice in summary.notices)
    if summary.warnings_by_code:
        lines.append(
            "Warnings by code (sent all the same; each is in the report; --strict refuses them):"
        )
        width = max(len(printable(code)) for code in summary.warnings_by_code)
        for code, count in summary.warnings_by_code.most_common():
            lines.append(f"  {printable(code):<{width}}  {count:>7,}")
    return lines


OUTPUT_NAMES = {
    "report": "the error report",
    "html": "the HTML report",
    "rejects": "the rejected rows",
    "annotated": "the annotated workbook",
    "results": "the results",
    "partial": "the results so far, in the order rows finished",
    "success": "the rows created or already there",
    "error": "the rows to fix and send again",
}
REDACTED_OUTPUTS = ("report", "html")  # for sharing; rejects and results are for fixing


def output_lines(
    written: MappingOf[str, Path], replaced: Iterable[Path] = (), redacted: bool = False
) -> list[str]:
    """Where each file is, the summary's last lines: which replaced an earlier run's, and
    which are redacted."""
    earlier = {os.path.realpath(path) for path in replaced}
    lines = []
    for name, path in written.items():
        notes = []
        if redacted and name in REDACTED_OUTPUTS:
            notes.append("redacted")
        if os.path.realpath(path) in earlier:
            notes.append("replacing the earlier run's")
        lines.append(
            f"Wrote {OUTPUT_NAMES[name]} to {printable(str(path))}"
            + (f" ({', '.join(notes)})" if notes else "")
        )
    if redacted:
        lines.append(
            "Redacted for sharing: names, emails, phones and streets are masked in the error "
            "report and the HTML report; the rejects and results keep every value."
        )
    return lines


def _table(found: Sequence[Issue], width: int | None = None) -> list[str]:
    rows = [("row", "column", "code")]
    for i in found:
        column = printable(i.column)
        rows.append((str(i.row), column if width is None else _clip(column, 24), printable(i.code)))
    widths = [max(len(r[k]) for r in rows) for k in range(3)]
    lines = []
    for r, message in zip(rows, ["message", *(printable(i.message) for i in found)], strict=True):
        start = "  " + "  ".join(r[k].ljust(widths[k]) for k in range(3)) + "  "
        room = None if width is None else max(width - 1 - len(start), 20)
        lines.append(start + (message if room is None else _clip(message, room)))
    return lines


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def summary_json(
    summary: ValidationSummary, source: str, outputs: dict[str, str]
) -> dict[str, Any]:
    """`--json`: the same summary for machines. The values are the file's exact text; print it
    with `terminal_json`, which escapes what json.dumps would leave raw for a terminal."""
    return {
        "input": source,
        "rows_read": summary.rows_read,
        "valid": summary.valid,
        "invalid": summary.invalid,
        "problems": summary.problems,
        "warnings": summary.warnings,
        "problems_by_code": dict(summary.problems_by_code.most_common()),
        "warnings_by_code": dict(summary.warnings_by_code.most_common()),
        "notices": summary.notices,
        "first_problems": [
            {
                "row": i.row,
                "column": i.column,
                "field": i.field,
                "value": i.value,
                "code": i.code,
                "message": i.message,
                "severity": i.severity,
            }
            for i in summary.first_problems
        ],
        # the rest are in outputs["report"], with the warnings
        "problems_not_shown": summary.problems - len(summary.first_problems),
        "outputs": outputs,
    }
