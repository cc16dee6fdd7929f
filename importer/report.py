"""Write what a run found for people: the error report, the rejected rows, the summary.

Every CSV written here is UTF-8 with a BOM (so Excel shows umlauts) and neutralises cells that a
spreadsheet program would run as a formula.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

from .issues import Issue
from .readers import Cell, SourceRow
from .transforms import as_text
from .validate import ValidationSummary

ERROR_COLUMNS = ("row", "column", "field", "value", "code", "message")
RESULT_COLUMNS = ("row", "status", "candidate_id", "application_id", "code", "message")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_HARMLESS = re.compile(r"^[+-]?[\d\s().,/-]*$")  # phone numbers and signed numbers stay as they are


def neutralize(value: Any) -> str:
    """The cell's text, with a leading ' when a spreadsheet would run it as a formula."""
    text = "" if value is None else as_text(value)
    if text.startswith(_FORMULA_START) and not _HARMLESS.match(text):
        return "'" + text
    return text


class _CsvOut:
    def __init__(self, path: Path, header: Sequence[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh: TextIO = self.path.open("w", encoding="utf-8-sig", newline="")
        self._writer = csv.writer(self._fh)
        self._writer.writerow([neutralize(h) for h in header])

    def _row(self, cells: Sequence[Any]) -> None:
        self._writer.writerow([neutralize(c) for c in cells])

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> _CsvOut:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


class ErrorReport(_CsvOut):
    """`--report`: one line per problem: row,column,field,value,code,message."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, ERROR_COLUMNS)

    def write(self, found: Sequence[Issue]) -> None:
        for issue in found:
            self._row((issue.row, issue.column, issue.field, issue.value, issue.code, issue.message))


class RejectedRows(_CsvOut):
    """`--rejects`: the failing rows in their original columns plus `errors`, ready to fix and
    import again with the same mapping."""

    def __init__(self, path: Path, headers: Sequence[str]) -> None:
        self.errors_column = "errors"
        while self.errors_column in headers:
            self.errors_column = "_" + self.errors_column
        super().__init__(path, list(headers) + [self.errors_column])

    def write(self, row: SourceRow, found: Sequence[Issue]) -> None:
        explained = "; ".join(f"row {i.row}, {i.column or i.field}: {i.message}" for i in found)
        self._row([_cell_text(v) for v in row.values] + [explained])


class ResultsFile(_CsvOut):
    """`--results`: row,status,candidate_id,application_id,code,message, written as rows finish
    and flushed every `flush_every` rows, so a crash keeps what was learnt."""

    def __init__(self, path: Path, flush_every: int = 100) -> None:
        super().__init__(path, RESULT_COLUMNS)
        self.flush_every = flush_every
        self._unflushed = 0

    def write(self, row: int, status: str, candidate_id: str | None, application_id: str | None, code: str | None, message: str) -> None:
        self._row((row, status, candidate_id, application_id, code, message))
        self._unflushed += 1
        if self._unflushed >= self.flush_every:
            self._fh.flush()
            self._unflushed = 0


class AnnotatedWorkbook:
    """`--annotated`: every row of the input in a new .xlsx, each cell with a problem filled red
    and commented, and a `problems` column, so a person can fix the file where they read it.
    Written with openpyxl's write-only mode, row by row."""

    def __init__(self, path: Path, headers: Sequence[str]) -> None:
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.comments import Comment
        from openpyxl.styles import Font, PatternFill

        self._cell, self._comment = WriteOnlyCell, Comment
        self._bad = PatternFill("solid", fgColor="FFC7CE")
        self.path = Path(path)
        self.headers = list(headers)
        self._index = {h: i for i, h in enumerate(self.headers)}
        self._book = Workbook(write_only=True)
        self._sheet = self._book.create_sheet("Annotated")
        self._sheet.freeze_panes = "B2"
        bold = Font(bold=True)
        header = []
        for text in ["source row", *self.headers, "problems"]:
            cell = WriteOnlyCell(self._sheet, value=text)
            cell.font = bold
            header.append(cell)
        self._sheet.append(header)

    def write(self, row: SourceRow, found: Sequence[Issue]) -> None:
        by_column: dict[int, list[str]] = {}
        for issue in found:
            for name in issue.column.split(", "):
                if name in self._index:
                    by_column.setdefault(self._index[name], []).append(f"{issue.code}: {issue.message}")
        cells = [self._cell(self._sheet, value=row.row_number)]
        for index, value in enumerate(row.values):
            cell = self._cell(self._sheet, value=_excel_value(value))
            if index in by_column:
                cell.fill = self._bad
                cell.comment = self._comment("\n".join(by_column[index]), "kombo-import")
            cells.append(cell)
        cells.append(self._cell(self._sheet, value="; ".join(f"{i.column or i.field}: {i.message}" for i in found) or None))
        self._sheet.append(cells)

    def close(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._book.save(self.path)


def _excel_value(value: Cell) -> Cell:
    """Cells as Excel can hold them; text that would run as a formula stays text."""
    if isinstance(value, str):
        return neutralize(value) if value.startswith("=") else value
    return value


def _cell_text(value: Cell) -> str:
    return "" if value is None else as_text(value)


def summary_lines(summary: ValidationSummary, source: str) -> list[str]:
    """The terminal summary: counts, problems by code, and the first problems as a table."""
    lines = [
        f"Read {source}",
        f"Rows read: {summary.rows_read:,}   valid: {summary.valid:,}   invalid: {summary.invalid:,}   problems: {summary.problems:,}",
    ]
    if summary.problems_by_code:
        lines.append("Problems by code:")
        width = max(len(code) for code in summary.problems_by_code)
        for code, count in summary.problems_by_code.most_common():
            lines.append(f"  {code:<{width}}  {count:>7,}")
        lines.append(f"First {len(summary.first_problems)} problems:")
        lines.extend(_table(summary.first_problems))
    return lines


def _table(found: Sequence[Issue]) -> list[str]:
    rows = [("row", "column", "code", "message")] + [(str(i.row), _clip(i.column, 24), i.code, _clip(i.message, 90)) for i in found]
    widths = [max(len(r[k]) for r in rows) for k in range(3)]
    return ["  " + "  ".join(r[k].ljust(widths[k]) for k in range(3)) + "  " + r[3] for r in rows]


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def summary_json(summary: ValidationSummary, source: str, outputs: dict[str, str]) -> dict[str, Any]:
    """`--json`: the same summary for machines."""
    return {
        "input": source,
        "rows_read": summary.rows_read,
        "valid": summary.valid,
        "invalid": summary.invalid,
        "problems": summary.problems,
        "problems_by_code": dict(summary.problems_by_code.most_common()),
        "first_problems": [
            {"row": i.row, "column": i.column, "field": i.field, "value": i.value, "code": i.code, "message": i.message}
            for i in summary.first_problems
        ],
        "outputs": outputs,
    }
