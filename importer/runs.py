"""Whole runs, wired from the stages: read -> map -> validate -> report -> submit. The CLI calls
these; each is one function that takes options and returns what the CLI shows."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from .attachments import DEFAULT_MAX_BYTES, open_attachment_source
from .build import (
    DateOrder,
    PostAtsCandidatesRequest,
    RequestBuilder,
    date_order_columns,
    guessed_date_leaves,
)
from .client import KomboClient
from .draft import SYNONYMS, Draft, place_columns, render_mapping
from .errors import ConfigError, OutputError
from .files import FileSnapshot, refuse_overwrites
from .issues import Issue, errors_in
from .ledger import Ledger, LedgerJournal, sidecar_paths
from .mapping import Mapping, load_mapping
from .readers import SourceRow, Table, file_kind, fold_header, read_table
from .report import AnnotatedWorkbook, ErrorReport, RejectedRows, ResultsFile
from .settings import SubmitSettings
from .submit import Journal, RowResult, Status, SubmitStats, Submitter
from .validate import DateOrderProfile, JobCatalog, RowChecker, ValidationSummary, validate_rows
from .workers import WorkerSetup, start_pool, validate_in_parallel, worker_count

KNOWN_HEADERS = [name for names in SYNONYMS.values() for name in names]


@dataclass(frozen=True)
class DryRunOptions:
    """Everything `validate` needs; command-line options win over the mapping's `input:`."""

    input_path: Path
    mapping_path: Path
    sheet: str | None = None
    header_row: int | None = None
    attachments_dir: Path | None = None
    max_attachment_bytes: int = DEFAULT_MAX_BYTES
    allow_private_urls: bool = False  # attachment URLs to loopback or private addresses
    strict: bool = False  # warnings stop rows too
    encoding: str | None = None  # of a CSV: given, not detected (wins over the mapping's input:)
    delimiter: str | None = None
    report_path: Path | None = None
    rejects_path: Path | None = None
    integration_id: str | None = None
    annotated_path: Path | None = None


@dataclass
class DryRunResult:
    table: Table
    mapping: Mapping
    summary: ValidationSummary
    date_orders: dict[int, DateOrder] = field(
        default_factory=dict
    )  # sending reads dates the same way


def open_input(options: DryRunOptions) -> tuple[Mapping, Table]:
    """Load the mapping, open the file where the mapping's columns are, and bind the two."""
    mapping = load_mapping(options.mapping_path)
    sheet: str | int | None = options.sheet
    if sheet is None and options.input_path.is_file() and file_kind(options.input_path) == "excel":
        sheet = mapping.input.sheet  # the mapping's sheet does not stop it reading a CSV export

    def read(header_row: int | None) -> Table:
        return read_table(
            options.input_path,
            sheet=sheet,
            header_row=header_row,
            expected_columns=mapping.columns(),
            encoding=options.encoding or mapping.input.encoding,
            delimiter=options.delimiter or mapping.input.delimiter,
            text_columns=mapping.text_columns(),
        )

    table = read(options.header_row or mapping.input.header_row)
    if (
        options.header_row is None
        and mapping.input.header_row
        and not _loosely_holds(table.headers, mapping.columns())
    ):
        # The mapping's header row belongs to the original export; its rejects file (or another
        # export) has the header elsewhere: find it as if the mapping had not said.
        table = read(None)
    mapping = mapping.bind(table.headers, table.describe())
    return mapping, table


def _loosely_holds(headers: list[str], columns: list[str]) -> bool:
    found = {fold_header(h) for h in headers}
    return any(fold_header(c) in found for c in columns)


def fetch_catalog(
    settings: SubmitSettings, transport: httpx.AsyncBaseTransport | None = None
) -> JobCatalog:
    """The integration's jobs, stages, questions and attachment rules, for `--check-remote`."""

    async def fetch() -> JobCatalog:
        async with KomboClient(settings, transport) as client:
            jobs = await client.list_jobs()
            return JobCatalog(jobs, await client.attachment_rules())

    return asyncio.run(fetch())


def dry_run(
    options: DryRunOptions,
    on_progress: Callable[[int], None] | None = None,
    catalog: JobCatalog | None = None,
) -> DryRunResult:
    """Check every row of the input against the mapping (and the integration's jobs, given a
    catalog) and write the reports asked for."""
    refuse_overwrites(_reads(options), _report_writes(options))
    date_orders = column_date_orders(options)
    with contextlib.ExitStack() as stack:
        workers = 0
        if options.input_path.is_file():
            workers = worker_count(
                options.input_path.stat().st_size, excel=file_kind(options.input_path) == "excel"
            )
        if workers:  # started before the input is opened: see start_pool
            rules = (catalog.listed, catalog.attachment_rules) if catalog is not None else None
            setup = WorkerSetup(
                str(options.mapping_path),
                str(attachments_folder(options)),
                options.max_attachment_bytes,
                options.allow_private_urls,
                options.integration_id,
                options.strict,
                rules,
                date_orders,
            )
            pool = stack.enter_context(start_pool(workers, setup))
        mapping, table = open_input(options)
        summary = ValidationSummary(notices=_notices(mapping))
        if workers:
            email_column = mapping.label_for("candidate.email_address")
            checked = validate_in_parallel(
                table.rows,
                pool,
                workers,
                table.headers,
                table.describe(),
                summary,
                email_column,
                on_progress,
            )
        else:
            checker = row_checker(mapping, options, catalog, options.integration_id, date_orders)
            checked = (
                (built.source, built.issues)
                for built in validate_rows(table.rows, checker, summary, on_progress)
            )
        _write_reports(options, table, checked)
    return DryRunResult(table, mapping, summary, date_orders)


def column_date_orders(options: DryRunOptions) -> dict[int, DateOrder]:
    """The order of each date column read by guessing, from all of its values: one more read
    of the file, only when the mapping has such a column."""
    if not guessed_date_leaves(load_mapping(options.mapping_path)):
        return {}  # the file is not read again
    mapping, table = open_input(options)
    columns = date_order_columns(mapping)
    if not columns:
        return {}
    profile = DateOrderProfile(columns, mapping.input.date_order)
    for row in table.rows:
        profile.observe(row)
    return profile.decide()


def _notices(mapping: Mapping) -> list[str]:
    return [
        f"the mapping sets {name}, which Kombo has deprecated and will remove; move its value to a "
        "field that is not deprecated."
        for name in mapping.deprecated_fields()
    ]


def attachments_folder(options: DryRunOptions) -> Path:
    """Where attachment paths are relative to: `--attachments-dir`, else the input's folder."""
    return options.attachments_dir or options.input_path.parent


def row_checker(
    mapping: Mapping,
    options: DryRunOptions,
    catalog: JobCatalog | None,
    integration_id: str | None,
    date_orders: dict[int, DateOrder],
) -> RowChecker:
    """The per-row pipeline for this run, as the dry run and the sending both use it."""
    attachments = open_attachment_source(
        attachments_folder(options), options.max_attachment_bytes, options.allow_private_urls
    )
    return RowChecker(
        RequestBuilder(mapping, attachments, integration_id, date_orders), catalog, options.strict
    )


def _write_reports(
    options: DryRunOptions, table: Table, checked: Iterable[tuple[SourceRow, list[Issue]]]
) -> None:
    """Every row into the workbook, every problem and warning into the report, every invalid
    row into the rejects."""
    # The workbook first: it may refuse the file (too wide) before any other output is opened.
    annotated = (
        AnnotatedWorkbook(options.annotated_path, table.headers) if options.annotated_path else None
    )
    report = ErrorReport(options.report_path) if options.report_path else None
    rejects = RejectedRows(options.rejects_path, table.headers) if options.rejects_path else None
    try:
        for source, found in checked:
            if annotated:
                annotated.write(source, found)
            if found and report:
                report.write(found)
            if rejects and errors_in(found):
                rejects.write(source, found)
    finally:
        for out in (report, rejects, annotated):
            if out:
                out.close()


def _reads(options: DryRunOptions) -> dict[str, Path | None]:
    attachments = options.attachments_dir
    return {
        "your input": options.input_path,
        "the mapping": options.mapping_path,
        "the attachments": attachments
        if attachments is not None and attachments.is_file()
        else None,
    }


def _report_writes(options: DryRunOptions) -> dict[str, Path | None]:
    return {
        "--report": options.report_path,
        "--rejects": options.rejects_path,
        "--annotated": options.annotated_path,
    }


@dataclass(frozen=True)
class SubmitOptions:
    """`submit` = the dry run's options + where results go + whether to send at all."""

    dry: DryRunOptions
    results_path: Path | None = None
    send: bool = True  # False with --dry-run
    ledger_path: Path | None = None  # None: remember nothing between runs (benchmarks, library use)
    retry_failed: bool = False
    check_remote: bool = True  # check jobs, stages and questions against the integration first


@dataclass
class SubmitRunResult:
    dry: DryRunResult
    stats: SubmitStats | None = None  # None when nothing was sent (dry run, declined)


def submit_file(
    options: SubmitOptions,
    settings: SubmitSettings,
    confirm: Callable[[DryRunResult], bool] = lambda dry: True,
    on_progress: Callable[[SubmitStats], None] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    on_validate_progress: Callable[[int], None] | None = None,
) -> SubmitRunResult:
    """Validate the whole file (same report as `validate`), then send its valid rows.

    The file is read twice rather than held: the requests of 100,000 rows would cost ~400 MB.
    """
    writes = _report_writes(options.dry) | {"--results": options.results_path}
    if options.send and options.ledger_path:
        writes |= {"--ledger": options.ledger_path} | {
            f"--ledger's {kind}": path for kind, path in sidecar_paths(options.ledger_path).items()
        }
    refuse_overwrites(_reads(options.dry), writes)
    with contextlib.ExitStack() as stack:
        # The ledger is locked before the long dry run, so that a second run fails at once.
        ledger = (
            stack.enter_context(Ledger(options.ledger_path))
            if options.send and options.ledger_path
            else None
        )
        catalog = fetch_catalog(settings, transport) if options.check_remote else None
        validated = (
            [FileSnapshot.take(path) for path in (options.dry.input_path, options.dry.mapping_path)]
            if options.send and options.dry.input_path.is_file()
            else []
        )
        if options.results_path is not None and options.results_path.is_file():
            options.results_path.unlink()  # an earlier run's results never stand beside this run
        dry = dry_run(options.dry, on_validate_progress, catalog)
        if not options.send or not confirm(dry):
            _write_unsent_results(options, settings, catalog, dry)
            return SubmitRunResult(dry)
        for snapshot in validated:
            snapshot.check()
        journal = (
            LedgerJournal(
                ledger,
                settings.integration_id,
                str(options.dry.input_path.resolve()),
                options.retry_failed,
            )
            if ledger
            else None
        )
        stats = asyncio.run(
            _send_file(options, settings, on_progress, transport, journal, catalog, dry.date_orders)
        )
    return SubmitRunResult(dry, stats)


async def _send_file(
    options: SubmitOptions,
    settings: SubmitSettings,
    on_progress: Callable[[SubmitStats], None] | None,
    transport: httpx.AsyncBaseTransport | None,
    journal: Journal | None,
    catalog: JobCatalog | None,
    date_orders: dict[int, DateOrder],
) -> SubmitStats:
    mapping, table = open_input(options.dry)
    checker = row_checker(mapping, options.dry, catalog, settings.integration_id, date_orders)
    results = (
        ResultsFile(options.results_path, settings.batch_size) if options.results_path else None
    )
    broken: list[OSError] = []

    def write(result: RowResult) -> None:
        """Each result as it comes; the first write that fails stops the run (nothing more is
        sent that could not be recorded)."""
        if results is None or broken:
            return
        try:
            results.write(
                result.row,
                result.status,
                result.candidate_id,
                result.application_id,
                result.code,
                result.message,
            )
        except OSError as exc:
            broken.append(exc)
            raise _unwritable(options.results_path, exc) from exc

    async with KomboClient(settings, transport) as client:
        submitter = Submitter(
            client, settings, on_result=write, on_progress=on_progress, journal=journal
        )

        def requests() -> Iterator[tuple[int, PostAtsCandidatesRequest]]:
            for built in validate_rows(table.rows, checker, ValidationSummary()):
                if built.request is None:
                    errors = errors_in(built.issues)
                    explained = _explained(errors)
                    submitter.record(
                        RowResult(
                            built.row_number,
                            Status.NOT_SENT,
                            code=errors[0].code,
                            message="invalid: " + explained,
                        )
                    )
                else:
                    yield built.row_number, built.request

        with _stop_on_signals(submitter):
            try:
                return await submitter.run(requests())
            finally:
                if results is not None:
                    try:
                        results.close()
                    except OSError as exc:
                        if not broken:
                            raise _unwritable(options.results_path, exc) from exc


def _write_unsent_results(
    options: SubmitOptions, settings: SubmitSettings, catalog: JobCatalog | None, dry: DryRunResult
) -> None:
    """Nothing is sent (a dry run, no valid row, declined): the results still list every row."""
    if options.results_path is None:
        return
    why = "not sent: --dry-run" if not options.send else "not sent: the run was not confirmed"
    mapping, table = open_input(options.dry)
    checker = row_checker(mapping, options.dry, catalog, settings.integration_id, dry.date_orders)
    results = ResultsFile(options.results_path, settings.batch_size)
    try:
        for built in validate_rows(table.rows, checker, ValidationSummary()):
            errors = errors_in(built.issues)
            code = errors[0].code if errors else "not_sent"
            message = "invalid: " + _explained(errors) if errors else why
            results.write(built.row_number, Status.NOT_SENT, None, None, code, message)
    finally:
        results.close()


def _explained(errors: list[Issue]) -> str:
    return "; ".join(f"{i.column or i.field}: {i.message}" for i in errors)


def _unwritable(path: Path | None, exc: OSError) -> OutputError:
    return OutputError(
        f"{path}: the results cannot be written ({exc.strerror or exc}); sending stopped at once. "
        "The ledger holds what was created: free some space and run the same command again."
    )


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def _stop_on_signals(submitter: Submitter) -> Iterator[None]:
    """First Ctrl-C (or SIGTERM): send nothing new, let requests in flight finish and record
    them. A second one abandons the requests in flight; their rows stay `sending` in the ledger
    and are looked up in Kombo by the next run."""
    loop = asyncio.get_running_loop()
    installed = []

    def on_signal() -> None:
        if submitter.stopping.is_set():
            submitter.abandon()
        else:
            submitter.stop("interrupt")

    for signum in STOP_SIGNALS:
        try:
            loop.add_signal_handler(signum, on_signal)
            installed.append(signum)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or Windows
            pass
    try:
        yield
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)


def draft_mapping_file(
    input_path: Path,
    output_path: Path,
    sheet: str | None = None,
    header_row: int | None = None,
    overwrite: bool = False,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> tuple[str, Draft]:
    """`init`: write a commented mapping drafted from the file; never overwrites unless asked."""
    if output_path.exists() and not overwrite:
        raise ConfigError(f"{output_path} exists already; choose another name or pass --force.")
    refuse_overwrites({"your input": input_path}, {"-o": output_path})
    table = read_table(
        input_path,
        sheet=sheet,
        header_row=header_row,
        expected_columns=KNOWN_HEADERS,
        encoding=encoding,
        delimiter=delimiter,
    )
    draft = place_columns(table)
    text = render_mapping(draft, table)
    output_path.parent.mkdir(parents=True, exist_ok=True)
    output_path.write_text(text, encoding="utf-8")
    return text, draft
