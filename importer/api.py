"""The Python API: what the command line does, as functions with keyword arguments that return
values (sqlite-utils' shape: the command line is a thin layer over its library).

    mapping = importer.load_mapping("mapping.yaml")      # or a dict of the same shape
    dry = importer.validate(frame_or_path, mapping)       # -> DryRun: counts, problems, files
    result = importer.submit(dry, integration_id="acme:greenhouse")  # -> SubmitResult

Nothing here prints or exits. What stops a run is an `importer.errors.ImporterError`:
`ConfigError` (an argument or the mapping), `InputFileError` (the input), `FatalApiError` (Kombo
refused the run), `OutputError` (a file written while sending). Row problems are data
(`DryRun.problems`), never raised. pandas is imported only when a DataFrame is given or asked for.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from .attachments import DEFAULT_MAX_BYTES
from .build import PostAtsCandidatesRequest
from .checks import JobCatalog, ValidationSummary, validate_rows
from .defaults import DEFAULT_LOOKUP_WINDOW, DEFAULT_MAX_WAIT, DEFAULT_REQUEST_TIMEOUT
from .errors import ConfigError
from .errors import redact as scrubbed
from .files import run_folder
from .frames import FrameSource, RowLabel, open_source
from .issues import Issue, errors_in
from .mapping import Mapping, load_mapping
from .readers import SourceRow
from .report import ERROR_COLUMNS, RESULT_COLUMNS, added_columns
from .runs import (
    SENDING_WATCHER,
    DryRunOptions,
    DryRunResult,
    SubmitOptions,
    SubmitRunResult,
    catalog_for,
    connection,
    dry_run,
    open_input,
    row_checker,
    submit_file,
    write_outputs,
)
from .sending import RowResult, Status, SubmitStats, Submitter
from .settings import DEFAULT_CONCURRENCY, SubmitSettings

if TYPE_CHECKING:
    import pandas

__all__ = ["DryRun", "SubmitResult", "load_mapping", "submit", "submit_async", "validate"]

T = TypeVar("T")
Source = Any  # a path (str or os.PathLike), a pandas DataFrame, or an iterable of dicts
MappingSource = str | os.PathLike[str] | dict[str, Any] | Mapping
FRAME_LEDGER = "kombo-ledger.sqlite"  # in the current folder: a DataFrame has no folder of its own


# --- validate -------------------------------------------------------------------------------


def validate(
    source: Source,
    mapping: MappingSource,
    *,
    row_numbers: str | None = None,
    sheet: str | None = None,
    header_row: int | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    attachments_dir: str | os.PathLike[str] | None = None,
    max_attachment_bytes: int = DEFAULT_MAX_BYTES,
    allow_private_urls: bool = False,
    strict: bool = False,
    check_remote: bool | None = None,
    integration_id: str | None = None,
    api_key: str | None = None,
    server_url: str | None = None,
    region: str = "eu",
    sandbox: bool = False,
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
    on_progress: Callable[[int], None] | None = None,
) -> DryRun:
    """Check every row of `source` against `mapping`, as `kombo-import validate` does, and
    write nothing: the returned `DryRun` holds the counts and every problem, and writes the
    files on request.

    `source`: a CSV or Excel file's path (`sheet`, `header_row`, `encoding`, `delimiter` as the
    command line's options), a pandas DataFrame, or an iterable of dicts (column -> cell); rows
    are numbered by the frame's index labels, or by the column `row_numbers` names. `mapping`: a
    path, a dict of the mapping's shape, or a loaded `Mapping`. Attachment paths are relative
    to `attachments_dir` (default: the file's folder; for a DataFrame, the current folder).
    `check_remote`: check jobs, stages and questions against the integration (default: when
    `integration_id` is given, or `sandbox`, which starts a local sandbox for the check);
    `api_key` defaults to the environment's KOMBO_API_KEY.

    Raises ConfigError (an argument, the mapping, a column it names that the input lacks),
    InputFileError (the input cannot be read) or FatalApiError (the remote check was refused).
    """
    options = _dry_options(
        source,
        mapping,
        row_numbers=row_numbers,
        sheet=sheet,
        header_row=header_row,
        encoding=encoding,
        delimiter=delimiter,
        attachments_dir=attachments_dir,
        max_attachment_bytes=max_attachment_bytes,
        allow_private_urls=allow_private_urls,
        strict=strict,
    )
    catalog = None
    if check_remote is None:
        check_remote = bool(integration_id) or sandbox
    if check_remote:
        with _connection(
            integration_id, api_key, server_url, region, sandbox, request_timeout=request_timeout
        ) as settings:
            integration_id = settings.integration_id
            catalog = _outside_loop(lambda: catalog_for(options, settings))
    options = dataclasses.replace(options, integration_id=integration_id)
    kept = _Kept()
    result = dry_run(options, on_progress, catalog, replaced=[], on_checked=kept)
    return DryRun(options, result, kept.problems, kept.rows, catalog)


def _dry_options(
    source: Source,
    mapping: MappingSource,
    *,
    row_numbers: str | None,
    sheet: str | None,
    header_row: int | None,
    encoding: str | None,
    delimiter: str | None,
    attachments_dir: str | os.PathLike[str] | None,
    max_attachment_bytes: int,
    allow_private_urls: bool,
    strict: bool,
) -> DryRunOptions:
    """The dry run's options for this source and mapping; a source held in memory is opened
    (and a DataFrame copied) here."""
    loaded: Mapping | None
    if isinstance(mapping, Mapping):
        loaded, mapping_path = mapping, mapping.path
    elif isinstance(mapping, dict):
        loaded = load_mapping(mapping)
        mapping_path = loaded.path
    elif isinstance(mapping, (str, os.PathLike)):
        loaded, mapping_path = None, Path(mapping)
    else:
        raise ConfigError(
            f"mapping= is a path to a mapping file, a dict of the same shape or a Mapping, not "
            f"{type(mapping).__name__}."
        )
    attachments = Path(attachments_dir) if attachments_dir is not None else None
    if isinstance(source, (str, os.PathLike)):
        if row_numbers is not None:
            raise ConfigError("row_numbers= is for a DataFrame or dicts; a file numbers its rows.")
        return DryRunOptions(
            Path(source),
            mapping_path,
            sheet=sheet,
            header_row=header_row,
            encoding=encoding,
            delimiter=delimiter,
            attachments_dir=attachments,
            max_attachment_bytes=max_attachment_bytes,
            allow_private_urls=allow_private_urls,
            strict=strict,
            mapping=loaded,
        )
    for name, given in (
        ("sheet", sheet),
        ("header_row", header_row),
        ("encoding", encoding),
        ("delimiter", delimiter),
    ):
        if given is not None:
            raise ConfigError(f"{name}= is for reading a file; the rows given are read already.")
    opened = open_source(source, row_numbers)
    return DryRunOptions(
        opened.path,
        mapping_path,
        attachments_dir=attachments or Path.cwd(),
        max_attachment_bytes=max_attachment_bytes,
        allow_private_urls=allow_private_urls,
        strict=strict,
        mapping=loaded,
        source=opened,
    )


class _Kept:
    """What the dry run found, kept: every problem, and every row's number in input order."""

    def __init__(self) -> None:
        self.problems: list[Issue] = []
        self.rows: list[RowLabel] = []

    def __call__(self, row: SourceRow, found: list[Issue]) -> None:
        self.rows.append(row.row_number)
        self.problems.extend(found)


class DryRun:
    """What `validate` found: `counts`, `problems` (the error report's records), `notices`,
    `rows` (every row's number, in input order); the valid rows' requests; DataFrames of the
    problems and of the input with them; and the files the command line writes. `options` are
    the run's, as `runs.dry_run` takes them. Displays as a summary table in a notebook."""

    def __init__(
        self,
        options: DryRunOptions,
        result: DryRunResult,
        problems: list[Issue],
        rows: list[RowLabel],
        catalog: JobCatalog | None,
    ) -> None:
        self.options = options
        self.source = result.table.describe()
        self.summary: ValidationSummary = result.summary
        self.problems = problems
        self.rows = rows  # the number of every row read, in input order
        self._result = result
        self._catalog = catalog
        self._by_row: dict[RowLabel, list[Issue]] | None = None

    @property
    def counts(self) -> dict[str, int]:
        """Rows read, valid and invalid; problems (errors, which stop their row) and warnings."""
        s = self.summary
        return {
            "rows_read": s.rows_read,
            "valid": s.valid,
            "invalid": s.invalid,
            "problems": s.problems,
            "warnings": s.warnings,
        }

    @property
    def notices(self) -> list[str]:
        """What concerns the whole run (a deprecated field, where attachments are read from)."""
        return list(self.summary.notices)

    def problems_of(self, row: RowLabel) -> list[Issue]:
        """The problems and warnings of one row (by its number), in the report's order."""
        if self._by_row is None:
            self._by_row = {}
            for issue in self.problems:
                self._by_row.setdefault(issue.row, []).append(issue)
        return self._by_row.get(row, [])

    def valid_requests(self) -> Iterator[PostAtsCandidatesRequest]:
        """The request of every valid row, in input order, as `submit` would send it: the input
        is read and built again (holding 100,000 requests would take some 400 MB)."""
        mapping, table = open_input(self.options)
        checker = row_checker(
            mapping,
            self.options,
            self._catalog,
            self.options.integration_id,
            self._result.date_orders,
        )
        for built in validate_rows(table.rows, checker, ValidationSummary()):
            if built.request is not None:
                yield built.request

    # DataFrames

    def problems_frame(self) -> pandas.DataFrame:
        """The error report as a DataFrame: row, column, field, value, code, message, severity
        (every problem and warning)."""
        import pandas

        records = [
            (
                i.row,
                i.column,
                i.field,
                _shown(i.value),
                i.code,
                scrubbed(i.message),
                str(i.severity),
            )
            for i in self.problems
        ]
        return pandas.DataFrame.from_records(records, columns=list(ERROR_COLUMNS))

    def annotated_frame(self) -> pandas.DataFrame:
        """The input with a `problems` column (`_problems` when the input has one): each row's
        problems as `column: message`, warnings marked; empty for a row without any. A
        DataFrame comes back with its own index; a file's rows are indexed by row number."""
        import pandas

        opened = self.options.source
        frame: pandas.DataFrame
        if isinstance(opened, FrameSource) and opened.frame is not None:
            frame = opened.frame.copy()
            labels = opened.labels
        else:
            _, table = open_input(self.options)
            rows = list(table.rows)
            labels = [row.row_number for row in rows]
            frame = pandas.DataFrame(
                [row.values for row in rows],
                columns=table.headers,
                index=pandas.Index(labels, name="row"),
            )
        (column,) = added_columns([str(c) for c in frame.columns], ["problems"])
        frame[column] = [_explained(self.problems_of(label)) for label in labels]
        return frame

    # files, as the command line writes them

    def write_report(
        self,
        path: str | os.PathLike[str],
        *,
        redact: bool = False,
        delimiter: str | None = None,
        force: bool = False,
    ) -> Path:
        """The error report CSV (`--report`): every problem and warning. `redact` masks
        personal values. Returns its path; raises ConfigError for a file no run of this input
        wrote (unless `force`)."""
        return self._write(report=path, redact=redact, delimiter=delimiter, force=force)["report"]

    def write_rejects(
        self, path: str | os.PathLike[str], *, delimiter: str | None = None, force: bool = False
    ) -> Path:
        """The invalid rows in their columns plus `errors` (`--rejects`), to fix and validate
        again. Returns its path."""
        return self._write(rejects=path, delimiter=delimiter, force=force)["rejects"]

    def write_annotated(self, path: str | os.PathLike[str], *, force: bool = False) -> Path:
        """Every row in an .xlsx, the cells with problems filled and commented (`--annotated`).
        Returns its path."""
        return self._write(annotated=path, force=force)["annotated"]

    def write_html(
        self, path: str | os.PathLike[str], *, redact: bool = False, force: bool = False
    ) -> Path:
        """report.html: the counts and every problem on one page. Returns its path."""
        return self._write(html=path, redact=redact, force=force)["html"]

    def write_outputs(
        self,
        folder: str | os.PathLike[str] | None = None,
        *,
        annotated: bool = False,
        redact: bool = False,
        delimiter: str | None = None,
        force: bool = False,
    ) -> dict[str, Path]:
        """What `kombo-import validate` writes, into `folder` (default: for a file, its run
        folder `<name>.kombo/` beside it; rows held in memory need one): report.csv,
        report.html, rejects.csv, and annotated.xlsx when asked. Returns the paths by kind."""
        if folder is None:
            if self.options.source is not None:
                raise ConfigError("write_outputs(folder): rows held in memory have no folder.")
            folder = run_folder(self.options.input_path)
        where = Path(folder)
        return self._write(
            report=where / "report.csv",
            rejects=where / "rejects.csv",
            html=where / "report.html",
            annotated=where / "annotated.xlsx" if annotated else None,
            redact=redact,
            delimiter=delimiter,
            force=force,
            folder=where,
        )

    def _write(
        self,
        *,
        report: str | os.PathLike[str] | None = None,
        rejects: str | os.PathLike[str] | None = None,
        annotated: str | os.PathLike[str] | None = None,
        html: str | os.PathLike[str] | None = None,
        redact: bool = False,
        delimiter: str | None = None,
        force: bool = False,
        folder: Path | None = None,
    ) -> dict[str, Path]:
        paths = {
            name: Path(path)
            for name, path in (
                ("report", report),
                ("html", html),
                ("rejects", rejects),
                ("annotated", annotated),
            )
            if path is not None
        }
        with tempfile.TemporaryDirectory(prefix="kombo-report-") as scratch:
            options = dataclasses.replace(
                self.options,
                # report.html is drawn from the report: a scratch one when none is asked for
                report_path=paths.get("report") or (Path(scratch, "report.csv") if html else None),
                rejects_path=paths.get("rejects"),
                annotated_path=paths.get("annotated"),
                html_path=paths.get("html"),
                output_delimiter=delimiter,
                redact=redact,
                force=force,
                run_folder=folder,
            )
            write_outputs(options, self._result, lambda row: self.problems_of(row.row_number))
        return paths

    # display

    def __repr__(self) -> str:
        counts = ", ".join(f"{name} {count:,}" for name, count in self.counts.items())
        return scrubbed(f"<DryRun of {self.source}: {counts}>")

    def _repr_html_(self) -> str:
        rows = [(name.replace("_", " "), f"{count:,}") for name, count in self.counts.items()]
        rows += [
            (f"problem: {code}", f"{count:,}")
            for code, count in self.summary.problems_by_code.most_common()
        ]
        rows += [
            (f"warning: {code}", f"{count:,}")
            for code, count in self.summary.warnings_by_code.most_common()
        ]
        notes = "".join(f"<p>Note: {_html(n)}</p>" for n in self.summary.notices)
        return _html_table(f"Dry run of {self.source}", rows) + notes


def _shown(value: Any) -> Any:
    return scrubbed(value) if isinstance(value, str) else value


def _explained(found: list[Issue]) -> str:
    """A row's problems as one cell, as the rejects' `errors` column says them: the errors
    first, then the warnings, marked."""
    errors = errors_in(found)
    warnings = [i for i in found if i not in errors]
    return "; ".join(
        [f"{i.column or i.field}: {scrubbed(i.message)}" for i in errors]
        + [f"warning, {i.column or i.field}: {scrubbed(i.message)}" for i in warnings]
    )


# --- submit ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Plan:
    """A sending, as `submit` was asked for it."""

    dry: DryRun
    integration_id: str | None
    api_key: str | None
    server_url: str | None
    region: str
    sandbox: bool
    ledger: str | os.PathLike[str] | Literal[False] | None
    results: str | os.PathLike[str] | None
    results_split: bool
    check_remote: bool
    retry_failed: bool
    resend_needs_review: bool
    force: bool
    on_progress: Callable[[SubmitStats], None] | None
    tuning: dict[str, Any]


class SubmitResult:
    """What became of every row: `counts` by status, `rows` (a `RowResult` each, in input
    order), `stats` (requests, retries, lookups, Kombo's warnings, what stopped it); the check
    made just before sending in `summary`. Displays as a summary table in a notebook."""

    def __init__(
        self,
        rows: list[RowResult],
        outcome: SubmitRunResult,
        ledger: Path | None,
    ) -> None:
        self.rows = rows
        self.stats: SubmitStats = outcome.stats or SubmitStats()
        self.summary: ValidationSummary = outcome.dry.summary
        self.source = outcome.dry.table.describe()
        self.ledger = ledger  # None: a temporary one (the sandbox's), or none asked for
        self.results_path = outcome.results_path

    @property
    def counts(self) -> dict[str, int]:
        """Rows by status: created, skipped (already in the ATS), failed, needs_review,
        not_sent (invalid, or the run stopped first)."""
        return {status.value: self.stats.by_status[status] for status in Status}

    @property
    def stopped_by(self) -> str | None:
        """Why sending stopped early: "interrupt", "abandoned", "fatal", "error"; or None."""
        return self.stats.stopped_by

    def frame(self) -> pandas.DataFrame:
        """The results as a DataFrame indexed by row number (a DataFrame's own labels): status,
        candidate_id, application_id, code, message, attempts, log_url, warnings, actions."""
        import pandas

        columns = list(RESULT_COLUMNS[1:])
        records = [[_result_cell(result, name) for name in columns] for result in self.rows]
        index = pandas.Index([result.row for result in self.rows], name="row")
        return pandas.DataFrame(records, columns=columns, index=index)

    def __repr__(self) -> str:
        counts = ", ".join(f"{name} {count:,}" for name, count in self.counts.items())
        stopped = f", stopped by {self.stopped_by}" if self.stopped_by else ""
        return scrubbed(f"<SubmitResult of {self.source}: {counts}{stopped}>")

    def _repr_html_(self) -> str:
        rows = [(name.replace("_", " "), f"{count:,}") for name, count in self.counts.items()]
        rows += [
            ("requests", f"{self.stats.sent:,}"),
            ("retries", f"{self.stats.retries:,}"),
            ("lookups", f"{self.stats.lookups:,}"),
        ]
        rows += [
            (f"Kombo's warning: {message}", f"{count:,}")
            for message, count in self.stats.kombo_warnings.most_common()
        ]
        if self.stopped_by:
            rows.append(("stopped by", self.stopped_by))
        return _html_table(f"Sent {self.source}", rows)


def _result_cell(result: RowResult, name: str) -> Any:
    value = getattr(result, name)
    if isinstance(value, tuple):
        value = "; ".join(value)
    if isinstance(value, Status):
        return value.value
    return scrubbed(value) if isinstance(value, str) else value


def submit(
    dry_run: DryRun,
    *,
    integration_id: str | None = None,
    api_key: str | None = None,
    server_url: str | None = None,
    region: str = "eu",
    sandbox: bool = False,
    ledger: str | os.PathLike[str] | Literal[False] | None = None,
    results: str | os.PathLike[str] | None = None,
    results_split: bool = False,
    check_remote: bool = True,
    retry_failed: bool = False,
    resend_needs_review: bool = False,
    tag: str | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    rate_limit: float | None = None,
    batch_size: int = 100,
    max_wait: float = DEFAULT_MAX_WAIT,
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
    lookup_window: float = DEFAULT_LOOKUP_WINDOW,
    force: bool = False,
    on_progress: Callable[[SubmitStats], None] | None = None,
) -> SubmitResult:
    """Send the valid rows of `dry_run`'s input, as `kombo-import submit --yes` does: the rows
    are checked again first (against the integration's jobs, unless `check_remote=False`), and
    each valid one is created once. Returns what became of every row.

    `integration_id` defaults to the one `validate` was given; `api_key` to the environment's
    KOMBO_API_KEY; `server_url` to `region`'s. `sandbox=True` sends to a local sandbox started
    for the call. `ledger`: the SQLite file that makes a second call skip what was created
    (default: beside the input file, as the command line's; `kombo-ledger.sqlite` in the
    current folder for rows held in memory; a temporary one with `sandbox`; `False`: none).
    `results`: also write the results CSV there (`results_split`: and success.csv, error.csv
    beside it, as `--results-split` does). `on_progress` is called, from the thread that
    sends, with the counts so far.

    An interrupt (Ctrl-C, a notebook's stop) acts as in the command line: nothing new is sent,
    requests in flight finish and every row gets its status (in the ledger and `results`);
    then KeyboardInterrupt is raised. A second one abandons the requests in flight (their rows
    are looked up in Kombo by the next run). Raises ConfigError, InputFileError, FatalApiError
    (Kombo refused the run: rows not reached are not_sent) or OutputError.
    """
    plan = _plan(dry_run, locals())
    with _connection(*_where(plan), **plan.tuning) as settings, _ledger_for(plan) as ledger_path:
        watcher = _Watcher()
        with concurrent.futures.ThreadPoolExecutor(1, "kombo-import-submit") as pool:
            future = pool.submit(_send, plan, settings, ledger_path, watcher)
            interrupted: KeyboardInterrupt | None = None
            while not future.done():
                try:
                    concurrent.futures.wait([future])
                except KeyboardInterrupt as interrupt:
                    interrupted = interrupted or interrupt
                    watcher.interrupt()
        result = _finished(plan, future.result(), watcher, ledger_path)
    if interrupted is not None:
        interrupted.add_note(_interrupted_note(result))
        raise interrupted
    return result


async def submit_async(
    dry_run: DryRun,
    *,
    integration_id: str | None = None,
    api_key: str | None = None,
    server_url: str | None = None,
    region: str = "eu",
    sandbox: bool = False,
    ledger: str | os.PathLike[str] | Literal[False] | None = None,
    results: str | os.PathLike[str] | None = None,
    results_split: bool = False,
    check_remote: bool = True,
    retry_failed: bool = False,
    resend_needs_review: bool = False,
    tag: str | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    rate_limit: float | None = None,
    batch_size: int = 100,
    max_wait: float = DEFAULT_MAX_WAIT,
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
    lookup_window: float = DEFAULT_LOOKUP_WINDOW,
    force: bool = False,
    on_progress: Callable[[SubmitStats], None] | None = None,
) -> SubmitResult:
    """`submit`, awaitable: the sending runs in a thread of its own, the caller's loop stays
    free. Cancelling the task acts as Ctrl-C does in the command line: nothing new is sent,
    requests in flight finish and every row gets its status; then CancelledError is raised. A
    second cancel abandons the requests in flight (the next run looks their rows up)."""
    plan = _plan(dry_run, locals())
    with _connection(*_where(plan), **plan.tuning) as settings, _ledger_for(plan) as ledger_path:
        watcher = _Watcher()
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(None, _send, plan, settings, ledger_path, watcher)
        cancelled = False
        while not future.done():
            try:
                await asyncio.shield(future)
            except asyncio.CancelledError:
                if future.done():
                    break
                cancelled = True
                watcher.interrupt()
        result = _finished(plan, future.result(), watcher, ledger_path)
    if cancelled:
        raise asyncio.CancelledError(_interrupted_note(result))
    return result


def _plan(dry_run: DryRun, given: dict[str, Any]) -> _Plan:
    if given["results_split"] and given["results"] is None:
        raise ConfigError("results_split=True writes beside results=: name the results file.")
    if not isinstance(dry_run, DryRun):
        raise ConfigError(
            f"submit() sends what validate() returned (a DryRun), not {type(dry_run).__name__}."
        )
    tuning = {
        name: given[name]
        for name in (
            "tag",
            "concurrency",
            "rate_limit",
            "batch_size",
            "max_wait",
            "request_timeout",
            "lookup_window",
        )
    }
    return _Plan(
        dry_run,
        given["integration_id"] or dry_run.options.integration_id,
        given["api_key"],
        given["server_url"],
        given["region"],
        given["sandbox"],
        given["ledger"],
        given["results"],
        given["results_split"],
        given["check_remote"],
        given["retry_failed"],
        given["resend_needs_review"],
        given["force"],
        given["on_progress"],
        tuning,
    )


def _where(plan: _Plan) -> tuple[str | None, str | None, str | None, str, bool]:
    return plan.integration_id, plan.api_key, plan.server_url, plan.region, plan.sandbox


@contextlib.contextmanager
def _ledger_for(plan: _Plan) -> Iterator[Path | None]:
    """The ledger's path (see `submit`), a temporary one removed afterwards, or None."""
    if plan.ledger is False:
        yield None
    elif plan.ledger is not None:
        yield Path(plan.ledger)
    elif plan.sandbox:  # each sandbox starts empty: so does its ledger, as with --sandbox
        with tempfile.TemporaryDirectory(prefix="kombo-sandbox-") as folder:
            yield Path(folder, "ledger.sqlite")
    elif plan.dry.options.source is not None:
        yield Path.cwd() / FRAME_LEDGER
    else:
        from .ledger import default_path

        yield default_path(plan.dry.options.input_path)


def _send(
    plan: _Plan, settings: SubmitSettings, ledger: Path | None, watcher: _Watcher
) -> SubmitRunResult:
    """The sending, in a thread of its own: submit_file's asyncio.run cannot run in a thread
    whose loop is running (a notebook's, an async caller's)."""
    token = SENDING_WATCHER.set(watcher)
    try:
        results = Path(plan.results) if plan.results is not None else None
        success = error = None
        if results is not None and plan.results_split:
            success, error = results.with_name("success.csv"), results.with_name("error.csv")
        options = SubmitOptions(
            dataclasses.replace(
                plan.dry.options, integration_id=settings.integration_id, force=plan.force
            ),
            results,
            send=True,
            ledger_path=ledger,
            retry_failed=plan.retry_failed,
            check_remote=plan.check_remote,
            success_path=success,
            error_path=error,
            resend_needs_review=plan.resend_needs_review,
        )
        return submit_file(options, settings, on_progress=plan.on_progress)
    finally:
        SENDING_WATCHER.reset(token)


def _finished(
    plan: _Plan, outcome: SubmitRunResult, watcher: _Watcher, ledger: Path | None
) -> SubmitResult:
    order = {row: index for index, row in enumerate(plan.dry.rows)}
    rows = sorted(watcher.results, key=lambda result: order.get(result.row, len(order)))
    kept = ledger if plan.ledger is not None or not plan.sandbox else None
    return SubmitResult(rows, outcome, kept)


def _interrupted_note(result: SubmitResult) -> str:
    counts = ", ".join(f"{name} {count:,}" for name, count in result.counts.items() if count)
    where = f"; the ledger {result.ledger} has them" if result.ledger else ""
    return (
        f"importer.submit stopped as Ctrl-C stops it: every row has its status ({counts})"
        f"{where}. Call it again to send the rest."
    )


class _Watcher:
    """Our hold on a sending that runs in another thread: every row's result as it ends, and a
    way to stop it as Ctrl-C does (runs.SENDING_WATCHER); thread-safe."""

    def __init__(self) -> None:
        self.results: list[RowResult] = []
        self._lock = threading.Lock()
        self._presses = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._press: Callable[[], None] | None = None
        self._tapped: set[int] = set()

    def __call__(self, submitter: Submitter, press: Callable[[], None]) -> None:
        """In the sending's loop, as it starts: tap the results, and act on presses so far."""
        if id(submitter) not in self._tapped:
            self._tapped.add(id(submitter))
            told = submitter.on_result

            def tell(result: RowResult) -> None:
                self.results.append(result)
                told(result)

            submitter.on_result = tell
        with self._lock:
            first = self._loop is None
            self._loop, self._press = asyncio.get_running_loop(), press
            pending = self._presses if first else 0
        for _ in range(pending):  # pressed before sending began
            press()

    def interrupt(self) -> None:
        """From any thread: what one Ctrl-C does (the first stops, the second abandons)."""
        with self._lock:
            self._presses += 1
            loop, press = self._loop, self._press
        if loop is not None and press is not None:
            with contextlib.suppress(RuntimeError):  # the sending's loop has ended
                loop.call_soon_threadsafe(press)


# --- shared ---------------------------------------------------------------------------------


def _connection(
    integration_id: str | None,
    api_key: str | None,
    server_url: str | None,
    region: str,
    sandbox: bool,
    **tuning: Any,
) -> contextlib.AbstractContextManager[SubmitSettings]:
    """Settings for Kombo (or a local sandbox), arguments named as Python spells them; the
    key defaults to KOMBO_API_KEY."""
    key = api_key or os.environ.get("KOMBO_API_KEY")
    return connection(integration_id, key, server_url, region, sandbox, _spelled, **tuning)


def _spelled(name: str) -> str:
    return "sandbox=True" if name == "sandbox" else f"{name}="


def _outside_loop(function: Callable[[], T]) -> T:
    """`function()`, in a thread of its own when this thread runs an event loop (a notebook's),
    where the asyncio.run inside it could not run."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return function()
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(function).result()


def _html(text: str) -> str:
    return escape(scrubbed(text))


def _html_table(title: str, rows: list[tuple[str, str]]) -> str:
    body = "".join(
        f'<tr><th style="text-align:left">{_html(name)}</th>'
        f'<td style="text-align:right">{_html(value)}</td></tr>'
        for name, value in rows
    )
    return f"<table><caption>{_html(title)}</caption>{body}</table>"
