"""A pandas DataFrame, or rows as dicts, opened as a `readers.Table`: the Python API's input.

Cells become what the readers give for a spreadsheet's cells, so that a row is checked the same
whichever way it came: NaN, None, pd.NA and NaT are empty cells; numpy numbers are Python
numbers, and a float that is a whole number is an int (a phone number that pandas made
4.915e+12, because its column holds a NaN, is 4915112345678 again); Timestamp and datetime64 are
datetimes; any other cell is what it is, each on its own (an object column of mixed types).

A row's number, the one every message gives, is its label in the frame's index (or in the column
named by `row_numbers`; for dicts, its position from 0, as `rows[i]` counts): integer labels are
those integers, and when any label is not an integer, every label is its text ("cand-7", "2024-
05-01 00:00:00"), so that a row of a frame indexed by id is that id in the report. The labels
must be unique: a repeated one is refused, since results and cross-row checks are keyed by it.

pandas is not imported here: a DataFrame is recognised once pandas is loaded (it must be, for
one to exist).
"""

from __future__ import annotations

import datetime as dt
import math
import sys
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from collections.abc import Mapping as MappingOf
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from .errors import InputFileError
from .readers import Cell, SourceRow, Table, column_letter

RowLabel = int | str  # what a row is called: see the module's docstring
CHUNK_ROWS = 10_000  # a frame's rows are turned into cells this many at a time


@dataclass(slots=True)
class FrameTable(Table):
    """A `Table` of rows held in memory; it describes itself as what it is, not as a file."""

    shown: str = "a DataFrame"

    def describe(self) -> str:
        return self.shown


class FrameSource:
    """Rows held in memory, opened as a new `Table` at each call (a run reads its input more
    than once). Made by `open_source`."""

    def __init__(
        self,
        headers: list[str],
        labels: list[RowLabel],
        cells: Callable[[], Iterator[Sequence[Cell]]],
        shown: str,
        frame: Any = None,
    ) -> None:
        self.headers = headers
        self.labels = labels  # every row's, blank rows too, in order
        self._cells = cells
        self.shown = shown  # what the summary and messages call it
        self.frame = frame  # the DataFrame's copy that is read, or None for dicts
        # What it is called where a path is expected (the files a run writes record it, the
        # ledger keeps it): the same for every DataFrame, whatever its size.
        self.path = Path("<DataFrame>" if frame is not None else "<dicts>")

    def __call__(self) -> Table:
        return FrameTable(self.path, list(self.headers), self._rows(), 0, shown=self.shown)

    def _rows(self) -> Iterator[SourceRow]:
        for label, cells in zip(self.labels, self._cells(), strict=True):
            if any(cell is not None and cell != "" for cell in cells):
                # SourceRow.row_number is typed as a file's row; a text label goes through the
                # pipeline unchanged (compared, hashed, written), never computed with.
                yield SourceRow(cast(int, label), tuple(cells))


def is_frame(source: object) -> bool:
    """Whether `source` is a pandas DataFrame (without importing pandas)."""
    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(source, pandas.DataFrame)


def open_source(source: Any, row_numbers: str | None = None) -> FrameSource:
    """A DataFrame or an iterable of dicts as rows to validate. The DataFrame is copied: what
    is validated is what is sent, whatever the caller changes afterwards. Raises
    InputFileError for rows that are not dicts or row numbers that repeat."""
    if is_frame(source):
        return _frame_source(source, row_numbers)
    return _records_source(source, row_numbers)


def _frame_source(frame: Any, row_numbers: str | None) -> FrameSource:
    frame = frame.copy()
    shown = f"a DataFrame of {len(frame):,} rows and {len(frame.columns):,} columns"
    if row_numbers is None:
        labels = row_labels(frame.index.tolist(), "the DataFrame's index")
    else:
        if row_numbers not in frame.columns:
            raise InputFileError(
                f"row_numbers='{row_numbers}' is not a column of the DataFrame; its columns: "
                + ", ".join(f"'{c}'" for c in list(frame.columns)[:40])
                + "."
            )
        labels = row_labels(
            [cell(v) for v in frame[row_numbers].tolist()], f"column '{row_numbers}'"
        )
    headers = header_names(list(frame.columns))

    def cells() -> Iterator[Sequence[Cell]]:
        for start in range(0, len(frame), CHUNK_ROWS):
            part = frame.iloc[start : start + CHUNK_ROWS]
            columns = [column_cells(part.iloc[:, i]) for i in range(len(headers))]
            if not columns:
                yield from ([] for _ in range(len(part)))
                continue
            yield from zip(*columns, strict=True)

    return FrameSource(headers, labels, cells, shown, frame)


def _records_source(records: Any, row_numbers: str | None) -> FrameSource:
    if isinstance(records, (str, bytes, MappingOf)) or not isinstance(records, Iterable):
        kind = "a dict (one row?)" if isinstance(records, MappingOf) else type(records).__name__
        raise InputFileError(
            f"the rows to validate are a path (CSV or Excel), a pandas DataFrame or an iterable "
            f"of dicts, not {kind}."
        )
    rows = list(records)
    keys: dict[Any, None] = {}
    for index, row in enumerate(rows):
        if not isinstance(row, MappingOf):
            raise InputFileError(
                f"row {index} is {type(row).__name__}, not a dict of column name to cell."
            )
        keys.update(dict.fromkeys(row))
    order = list(keys)
    if row_numbers is None:
        labels: list[RowLabel] = list(range(len(rows)))
    elif row_numbers not in keys:
        raise InputFileError(f"row_numbers='{row_numbers}' is not a key of the rows.")
    else:
        labels = row_labels([cell(row.get(row_numbers)) for row in rows], f"key '{row_numbers}'")

    def cells() -> Iterator[Sequence[Cell]]:
        for row in rows:
            yield [cell(row.get(key)) for key in order]

    shown = f"{len(rows):,} rows given as dicts"
    return FrameSource(header_names(order), labels, cells, shown)


def row_labels(raw: list[Any], where: str) -> list[RowLabel]:
    """The rows' labels as row numbers: integers when all are integers (numpy's and whole
    floats too), else each one's text. Raises InputFileError when one is empty or repeats."""
    numbers = [_whole(v) for v in raw]
    labels: list[RowLabel]
    if all(isinstance(n, int) for n in numbers):
        labels = cast(list[RowLabel], numbers)
    else:
        labels = [_label_text(v) for v in raw]
    if any(label == "" for label in labels) or any(v is None for v in numbers):
        raise InputFileError(
            f"{where} has an empty label, which cannot name a row: fill it, or number the rows "
            "with frame.reset_index(drop=True)."
        )
    repeated = [label for label, count in Counter(labels).items() if count > 1]
    if repeated:
        shown = ", ".join(repr(label) for label in repeated[:5])
        raise InputFileError(
            f"{where} repeats {shown}; each row's label names it in the report and the results, "
            "so it must be unique: number the rows with frame.reset_index(drop=True), or name a "
            "column of unique values with row_numbers=."
        )
    return labels


def _whole(value: Any) -> Any:
    """An integer label as int (numpy's, or a whole float); anything else as it is."""
    value = cell(value)
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    return value


def _label_text(value: Any) -> str:
    value = cell(value)
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, tuple):  # a MultiIndex's label
        return ", ".join(_label_text(v) for v in value)
    return str(value)


def header_names(columns: list[Any]) -> list[str]:
    """The column names as headers: their text (a MultiIndex's parts joined by spaces), an
    empty one named by its column's letter as the readers name it ("Column C"), a repeated one
    with pandas' suffix (`Email.1`)."""
    headers: list[str] = []
    seen: dict[str, int] = {}
    for index, name in enumerate(columns):
        if isinstance(name, tuple):
            text = " ".join(str(part) for part in name if _label_text(part))
        else:
            text = "" if cell(name) is None else str(name)
        text = " ".join(text.split()) or f"Column {column_letter(index)}"
        if text in seen:
            seen[text] += 1
            text = f"{text}.{seen[text]}"
        else:
            seen[text] = 0
        headers.append(text)
    return headers


def column_cells(column: Any) -> list[Cell]:
    """One column's cells (a pandas Series): numbers of numpy's int and bool columns are taken
    as they come; every other column cell by cell (see `cell`)."""
    dtype = column.dtype
    values: list[Any] = column.tolist()
    if type(dtype).__module__ == "numpy" and dtype.kind in "iub":
        return values
    if type(dtype).__module__ == "numpy" and dtype.kind == "f":
        return [_float(v) for v in values]
    return [cell(v) for v in values]


def cell(value: Any) -> Cell:
    """A value of a frame or a dict as a spreadsheet cell: see the module's docstring."""
    kind = type(value)
    if kind is str or value is None:
        return value
    if kind is float:
        return _float(value)
    if kind in (int, bool, dt.date, dt.time):
        return value
    module = kind.__module__
    if module == "numpy":
        return _numpy(value)
    if module.startswith("pandas"):
        return _pandas(value)
    if isinstance(value, float):
        return _float(float(value))
    if isinstance(value, dt.datetime):
        return value
    return value


def _float(value: float) -> Cell:
    if math.isnan(value):
        return None
    return int(value) if value.is_integer() else value


def _numpy(value: Any) -> Cell:
    kind = value.dtype.kind
    if kind == "M":  # datetime64
        if value != value:  # NaT
            return None
        return value.astype("datetime64[us]").item()
    if kind == "m":  # timedelta64: its text, as a duration cell of a CSV would be
        return None if value != value else str(value)
    if kind == "f":
        return _float(float(value))
    if kind in "iub":
        return value.item()
    return cell(value.item())


def _pandas(value: Any) -> Cell:
    name = type(value).__name__
    if name in ("NAType", "NaTType"):
        return None
    if name == "Timestamp":
        with warnings.catch_warnings():  # nanoseconds, which no date field holds
            warnings.simplefilter("ignore", UserWarning)
            moment: dt.datetime = value.to_pydatetime()
        return moment
    if name == "Timedelta":
        return str(value)
    return value
