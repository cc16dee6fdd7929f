"""Whole runs, wired from the stages: read -> map -> validate -> report -> submit. The CLI calls
these; each is one function that takes options and returns what the CLI shows."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import dataclasses
import itertools
import signal
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from .actions import TAG, RejectionReasons, needs_reasons
from .attachments import DEFAULT_MAX_BYTES, open_attachment_source
from .build import (
    DateOrder,
    PostAtsCandidatesRequest,
    RequestBuilder,
    date_order_columns,
    guessed_date_leaves,
)
from .checks import DateOrderProfile, JobCatalog, RowChecker, ValidationSummary, validate_rows
from .client import KomboClient
from .defaults import REGIONS
from .draft import SYNONYMS, Draft, place_columns, render_mapping
from .errors import (
    ConfigError,
    FatalApiError,
    ImporterError,
    InputFileError,
    OutputError,
    redact,
)
from .files import (
    FileSnapshot,
    claim_outputs,
    recorded_attachments,
    recorded_origin,
    refuse_overwrites,
    run_folder,
)
from .issues import Issue, errors_in
from .ledger import Ledger, LedgerJournal, sidecar_paths
from .mapping import Mapping, load_mapping
from .readers import SourceRow, Table, file_kind, fold_header, read_table
from .report import (
    AnnotatedWorkbook,
    ErrorReport,
    RejectedRows,
    ResultsFile,
    restore,
    working_path,
)
from .sending import Journal, RowResult, Status, SubmitStats, Submitter
from .settings import SubmitSettings
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
    html_path: Path | None = None  # report.html, drawn from the error report
    output_delimiter: str | None = None  # of the CSVs written; None: as the input's (see below)
    redact: bool = False  # personal values masked in the error report and report.html
    run_folder: Path | None = None  # the folder that is this input's: no other input's outputs
    force: bool = False  # replace files that no earlier run of this input wrote
    input_name: Path | None = None  # what outputs belong to, when not input_path (a temporary copy)
    # The Python API's (api.py): a mapping given as an object (from a dict), and an input already
    # open (a DataFrame: frames.py) that gives its rows afresh at each call; the two paths above
    # then only name them in messages.
    mapping: Mapping | None = None
    source: Callable[[], Table] | None = None


@dataclass
class DryRunResult:
    table: Table
    mapping: Mapping
    summary: ValidationSummary
    date_orders: dict[int, DateOrder] = field(
        default_factory=dict
    )  # sending reads dates the same way
    delimiter: str = ","  # of the CSVs written
    replaced: list[Path] = field(default_factory=list)  # outputs an earlier run of it wrote


@dataclass(frozen=True)
class OutputOptions:
    """Where a run's files go, as the command line asks; what it does not name goes into the
    run folder (`--out DIR`, by default `<input name>.kombo/` beside the input)."""

    out_dir: Path | None = None
    report_path: Path | None = None
    rejects_path: Path | None = None
    annotated_path: Path | None = None
    annotated: bool = False  # --annotated without a name: annotated.xlsx in the run folder
    results_path: Path | None = None
    results_split: bool = False  # success.csv and error.csv too, as Data Loader writes them
    delimiter: str | None = None  # --output-delimiter
    redact: bool = False
    force: bool = False


@dataclass(frozen=True)
class PlacedOutputs:
    """Every file of a run with its path: the dry run's in `dry`, then the sending's."""

    dry: DryRunOptions
    results_path: Path
    success_path: Path | None = None
    error_path: Path | None = None


def place_outputs(dry: DryRunOptions, asked: OutputOptions) -> PlacedOutputs:
    """Each file where the command line names it, else in the run folder under its own name.
    The error report and report.html are always written; the annotated workbook when asked."""
    folder = asked.out_dir or run_folder(dry.input_name or dry.input_path)
    annotated = asked.annotated_path or (folder / "annotated.xlsx" if asked.annotated else None)
    placed = dataclasses.replace(
        dry,
        report_path=asked.report_path or folder / "report.csv",
        rejects_path=asked.rejects_path or folder / "rejects.csv",
        annotated_path=annotated,
        html_path=folder / "report.html",
        output_delimiter=asked.delimiter,
        redact=asked.redact,
        run_folder=folder,
        force=asked.force,
    )
    split = asked.results_split
    return PlacedOutputs(
        placed,
        asked.results_path or folder / "results.csv",
        folder / "success.csv" if split else None,
        folder / "error.csv" if split else None,
    )


def output_delimiter(options: DryRunOptions, table: Table) -> str:
    """`--output-delimiter`, else the input's when it is one Excel splits a .csv by (`,`, or `;`
    where the decimal mark is a comma), else `,` (Excel never splits a .csv by tab or `|`)."""
    if options.output_delimiter:
        return options.output_delimiter
    return table.delimiter if table.delimiter in (",", ";") else ","


def mapping_of(options: DryRunOptions) -> Mapping:
    """The run's mapping: the one given as an object, else loaded from its file."""
    return options.mapping if options.mapping is not None else load_mapping(options.mapping_path)


def open_input(options: DryRunOptions) -> tuple[Mapping, Table]:
    """Load the mapping, open the file where the mapping's columns are, and bind the two."""
    mapping = mapping_of(options)
    if options.source is not None:  # already open: a DataFrame's columns are its headers
        table = options.source()
        return mapping.bind(table.headers, table.describe()), table
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
    if recorded_origin(options.input_path) is not None:
        table = _as_written_before(table)
    mapping = mapping.bind(table.headers, table.describe())
    return mapping, table


def _as_written_before(table: Table) -> Table:
    """A rejects file (or error.csv) a run wrote, with the cells and headers it had before the
    formula guard: imported again, it sends what the user's export held."""
    rows = table.rows

    def restored_rows() -> Iterator[SourceRow]:
        for row in rows:
            yield dataclasses.replace(row, values=tuple(restore(v) for v in row.values))

    return dataclasses.replace(
        table, headers=[restore(h) for h in table.headers], rows=restored_rows()
    )


def _loosely_holds(headers: list[str], columns: list[str]) -> bool:
    found = {fold_header(h) for h in headers}
    return any(fold_header(c) in found for c in columns)


@contextlib.contextmanager
def connection(
    integration_id: str | None,
    api_key: str | None,
    server_url: str | None,
    region: str,
    sandbox: bool,
    spelled: Callable[[str], str],
    **tuning: Any,
) -> Iterator[SubmitSettings]:
    """Settings for Kombo, or for a local sandbox started here and stopped afterwards: the one
    home of this rule for the command line and the Python API, which name their options
    differently (`spelled("integration_id")`: `--integration-id`, `integration_id=`)."""
    import pydantic

    running = None
    if sandbox:
        from .sandbox import DEFAULT_API_KEY, DEFAULT_INTEGRATION_ID, Sandbox

        running = Sandbox().start()
        server_url, api_key = running.url, DEFAULT_API_KEY
        integration_id = integration_id or DEFAULT_INTEGRATION_ID
    try:
        if not integration_id:
            raise ConfigError(
                f"{spelled('integration_id')} is required to reach Kombo (e.g. "
                f"'acme:greenhouse'), or {spelled('sandbox')}."
            )
        if not api_key:
            raise ConfigError(
                f"No API key: pass {spelled('api_key')} or set KOMBO_API_KEY (or "
                f"{spelled('sandbox')})."
            )
        if region not in REGIONS:
            raise ConfigError(
                f"'{region}' is not one of Kombo's regions: {spelled('region')} takes "
                f"{', '.join(sorted(REGIONS))}."
            )
        try:
            settings = SubmitSettings(
                server_url=server_url or REGIONS[region],
                api_key=pydantic.SecretStr(api_key),
                integration_id=integration_id,
                **tuning,
            )
        except pydantic.ValidationError as exc:
            error = exc.errors()[0]
            message = str(error["msg"]).removeprefix("Value error, ")
            raise ConfigError(redact(f"{spelled(str(error['loc'][0]))}: {message}.")) from None
        yield settings
    finally:
        if running is not None:
            running.stop()


def fetch_catalog(
    settings: SubmitSettings,
    transport: httpx.AsyncBaseTransport | None = None,
    *,
    users: bool = False,
    reasons: bool = False,
) -> JobCatalog:
    """The integration's jobs, stages, questions and attachment rules, for `--check-remote`; and
    its users when asked (a mapping that names the sourcing user by email: see
    `catalog_for`). Users that cannot be listed (a users model the integration does not sync)
    stop nothing: the rows that need them say why."""

    async def fetch() -> JobCatalog:
        async with KomboClient(settings, transport) as client:
            jobs = await client.list_jobs()
            rules = await client.attachment_rules()
            listed, unlisted = await _listed(client.list_users()) if users else (None, None)
            rejection = (
                RejectionReasons(*await _listed(client.list_rejection_reasons()))
                if reasons
                else None
            )
            return JobCatalog(jobs, rules, listed, unlisted, rejection)

    return asyncio.run(fetch())


async def _listed(
    listing: Awaitable[list[dict[str, Any]]],
) -> tuple[list[dict[str, Any]] | None, str | None]:
    """A listing, or why it could not be had: a model the integration does not sync stops
    nothing but the rows that need it (the jobs, listed first, stop the run when the
    integration as a whole is refused)."""
    try:
        return await listing, None
    except FatalApiError as exc:
        return None, str(exc)


def catalog_for(
    options: DryRunOptions,
    settings: SubmitSettings,
    transport: httpx.AsyncBaseTransport | None = None,
) -> JobCatalog:
    """What the integration holds that this mapping's rows are checked against."""
    mapping = mapping_of(options)
    return fetch_catalog(
        settings, transport, users=mapping.resolves_users(), reasons=needs_reasons(mapping)
    )


def dry_run(
    options: DryRunOptions,
    on_progress: Callable[[int], None] | None = None,
    catalog: JobCatalog | None = None,
    *,
    replaced: list[Path] | None = None,
    on_open: Callable[[Table], None] | None = None,
    on_checked: Callable[[SourceRow, list[Issue]], None] | None = None,
) -> DryRunResult:
    """Check every row of the input against the mapping (and the integration's jobs, given a
    catalog) and write the reports asked for. `replaced`: the outputs were claimed already (by
    `submit_file`), and these files of an earlier run are replaced. `on_checked` is told each
    row with its problems, in input order (the Python API keeps them)."""
    if replaced is None:
        replaced = _claim(options, _report_writes(options), [options.rejects_path])
    date_orders = column_date_orders(options)
    with contextlib.ExitStack() as stack:
        workers = 0
        if options.input_path.is_file() and options.mapping is None:  # workers load the file
            workers = worker_count(options.input_path.stat().st_size)
        if workers:  # started before the input is opened: see start_pool
            setup = WorkerSetup(
                str(options.mapping_path),
                str(attachments_folder(options)),
                options.max_attachment_bytes,
                options.allow_private_urls,
                options.integration_id,
                options.strict,
                catalog,
                date_orders,
            )
            pool = stack.enter_context(start_pool(workers, setup))
        mapping, table = open_input(options)
        if on_open is not None:  # a progress display learns the file's size
            on_open(table)
        summary = ValidationSummary(notices=_notices(mapping, options))
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
        if on_checked is not None:
            checked = _told(checked, on_checked)
        delimiter = _write_reports(options, table, checked)
    result = DryRunResult(table, mapping, summary, date_orders, delimiter, replaced)
    _write_html(options, result)
    return result


def _told(
    checked: Iterable[tuple[SourceRow, list[Issue]]],
    on_checked: Callable[[SourceRow, list[Issue]], None],
) -> Iterator[tuple[SourceRow, list[Issue]]]:
    for row, found in checked:
        on_checked(row, found)
        yield row, found


def column_date_orders(options: DryRunOptions) -> dict[int, DateOrder]:
    """The order of each date column read by guessing, from all of its values: one more read
    of the file, only when the mapping has such a column."""
    if not guessed_date_leaves(mapping_of(options)):
        return {}  # the file is not read again
    mapping, table = open_input(options)
    columns = date_order_columns(mapping)
    if not columns:
        return {}
    profile = DateOrderProfile(columns, mapping.input.date_order)
    for row in table.rows:
        profile.observe(row)
    return profile.decide()


def _notices(mapping: Mapping, options: DryRunOptions) -> list[str]:
    notices = [
        f"the mapping sets {name}, which Kombo has deprecated and will remove; move its value to a "
        "field that is not deprecated."
        for name in mapping.deprecated_fields()
    ]
    recorded = None if options.attachments_dir else recorded_attachments(options.input_path)
    if recorded is not None and mapping.attachments:
        notices.append(
            f"attachment paths are read relative to {recorded}, where the run that wrote this "
            "file read them (--attachments-dir chooses another folder)."
        )
    return notices


def attachments_folder(options: DryRunOptions) -> Path:
    """Where attachment paths are relative to: `--attachments-dir`; else, for rejects we wrote,
    the folder the run that wrote them read attachments from (so that they find the same files
    wherever they were written); else the input's folder."""
    return (
        options.attachments_dir
        or recorded_attachments(options.input_path)
        or options.input_path.parent
    )


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
) -> str:
    """Every row into the workbook, every problem and warning into the report, every invalid
    row into the rejects. Returns the CSVs' delimiter."""
    # The workbook first: it may refuse the file (too wide) before any other output is opened.
    annotated = (
        AnnotatedWorkbook(options.annotated_path, table.headers) if options.annotated_path else None
    )
    delimiter = output_delimiter(options, table)
    report = (
        ErrorReport(options.report_path, masked=options.redact, delimiter=delimiter)
        if options.report_path
        else None
    )
    rejects = (
        RejectedRows(options.rejects_path, table.headers, delimiter=delimiter)
        if options.rejects_path
        else None
    )
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
    return delimiter


def _write_html(
    options: DryRunOptions, dry: DryRunResult, outcome: dict[str, int] | None = None
) -> None:
    """report.html, drawn from the error report (so it is redacted when the report is)."""
    if options.html_path is None or options.report_path is None:
        return
    if not options.report_path.is_file():  # a pipe (--report /dev/stdout): nothing to read back
        return
    from .html_report import write_html_report

    write_html_report(
        options.html_path,
        report_csv=options.report_path,
        delimiter=dry.delimiter,
        summary=dry.summary,
        source=dry.table.describe(),
        outcome=outcome,
        masked=options.redact,
    )


def write_outputs(
    options: DryRunOptions, dry: DryRunResult, found: Callable[[SourceRow], list[Issue]]
) -> list[Path]:
    """The files `dry_run` writes where `options` names them, for a dry run already done (the
    Python API's `DryRun.write_*`): the input is read again and each row written with the
    problems `found` gives it; nothing is checked again. Returns the files of an earlier run of
    this input that were replaced."""
    replaced = _claim(options, _report_writes(options), [options.rejects_path])
    _, table = open_input(options)
    delimiter = _write_reports(options, table, ((row, found(row)) for row in table.rows))
    _write_html(options, dataclasses.replace(dry, delimiter=delimiter))
    return replaced


def _claim(
    options: DryRunOptions,
    outputs: dict[str, Path | None],
    reimportable: Iterable[Path | None],
    also_written: dict[str, Path | None] | None = None,
) -> list[Path]:
    """Before anything is read or sent: no output is an input or another output, none replaces
    a file that is not this input's (see files.claim_outputs). The re-importable `outputs`
    record the attachments folder their paths are relative to. Returns the files of an earlier
    run of this input that this run replaces."""
    refuse_overwrites(_reads(options), outputs | (also_written or {}))
    base = attachments_folder(options)
    return claim_outputs(
        options.input_name or options.input_path,
        [path for path in outputs.values() if path is not None],
        folder=options.run_folder,
        force=options.force,
        attachments={path: base for path in reimportable if path is not None},
    )


def _files_read(options: DryRunOptions) -> list[Path]:
    """The input and the mapping, to prove at send time that they are what was validated (a
    mapping given as an object has no file)."""
    return [options.input_path] + ([options.mapping_path] if options.mapping is None else [])


def _reads(options: DryRunOptions) -> dict[str, Path | None]:
    attachments = attachments_folder(options)
    return {
        "your input": options.input_path,
        "the mapping": options.mapping_path,
        "the attachments": attachments if attachments.is_file() else None,
    }


def _report_writes(options: DryRunOptions) -> dict[str, Path | None]:
    return {
        "--report": options.report_path,
        "--rejects": options.rejects_path,
        "--annotated": options.annotated_path,
        "report.html": options.html_path,
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
    success_path: Path | None = None  # --results-split: the rows created or already there
    error_path: Path | None = None  # --results-split: the others, to fix and import again
    resend_needs_review: bool = False  # send rows left needs_review without a lookup
    canary: int | None = None  # send this many rows, then ask `confirm_canary` about the rest


@dataclass
class SubmitRunResult:
    dry: DryRunResult
    stats: SubmitStats | None = None  # None when nothing was sent (dry run, declined)
    results_path: Path | None = None  # where the results are: in input order, or as rows finished


def submit_file(
    options: SubmitOptions,
    settings: SubmitSettings,
    confirm: Callable[[DryRunResult], bool] = lambda dry: True,
    on_progress: Callable[[SubmitStats], None] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    on_validate_progress: Callable[[int], None] | None = None,
    on_validate_open: Callable[[Table], None] | None = None,
    confirm_canary: Callable[[SubmitStats], bool] = lambda stats: True,
) -> SubmitRunResult:
    """Validate the whole file (same report as `validate`), then send its valid rows (the
    first `options.canary` of them alone, then the rest if `confirm_canary` says so).

    The file is read twice rather than held: the requests of 100,000 rows would cost ~400 MB.
    """
    ledger_files: dict[str, Path | None] = {}
    if options.send and options.ledger_path:
        ledger_files["--ledger"] = options.ledger_path
        for kind, path in sidecar_paths(options.ledger_path).items():
            ledger_files[f"--ledger's {kind}"] = path
    outputs = _report_writes(options.dry) | _result_writes(options)
    reimportable = [options.dry.rejects_path, options.error_path]
    replaced = _claim(options.dry, outputs, reimportable, ledger_files)
    with contextlib.ExitStack() as stack:
        # The ledger is locked before the long dry run, so that a second run fails at once.
        ledger = (
            stack.enter_context(Ledger(options.ledger_path))
            if options.send and options.ledger_path
            else None
        )
        if options.check_remote:
            catalog = catalog_for(options.dry, settings, transport)
        elif options.send and _looks_up(mapping_of(options.dry)):
            raise ConfigError(
                f"{options.dry.mapping_path}: {_looks_up(mapping_of(options.dry))}"
                ", which only the integration can turn into the id Kombo needs: drop "
                "--no-check-remote."
            )
        else:
            catalog = None
        untaggable = _tags_refused(settings, transport) if options.send and settings.tag else None
        validated = (
            [FileSnapshot.take(path) for path in _files_read(options.dry)]
            if options.send and options.dry.input_path.is_file()
            else []
        )
        dry = dry_run(
            options.dry, on_validate_progress, catalog, replaced=replaced, on_open=on_validate_open
        )
        if untaggable:
            dry.summary.notices.append(
                f"--tag: candidates are created without the tag '{settings.tag}': {untaggable}"
            )
        if not options.send or not confirm(dry):
            unsent = _write_unsent_results(options, settings, catalog, dry)
            return SubmitRunResult(dry, results_path=unsent)
        # Only now: a run stopped before it sends anything leaves the earlier run's results.
        for stale in _result_writes(options).values():
            if stale is not None and stale.is_file():
                stale.unlink()  # an earlier run's results never stand beside this run's
        for snapshot in validated:
            snapshot.check()
        journal = (
            LedgerJournal(
                ledger,
                settings.integration_id,
                str(options.dry.input_path.resolve()),
                options.retry_failed,
                options.resend_needs_review,
            )
            if ledger
            else None
        )
        results = (
            _open_results(options.results_path, settings, dry) if options.results_path else None
        )
        stats = _settle_results(
            options,
            results,
            validated,
            lambda: asyncio.run(
                _send_file(
                    options,
                    settings,
                    on_progress,
                    transport,
                    journal,
                    catalog,
                    dry.date_orders,
                    results,
                    untaggable,
                    confirm_canary,
                )
            ),
        )
    location = _end_results(options, results, validated[0] if validated else None)
    _write_html(options.dry, dry, dict(stats.by_status))
    return SubmitRunResult(dry, stats, location)


def _looks_up(mapping: Mapping) -> str:
    """What of the mapping only the integration can turn into ids ("" when nothing)."""
    if mapping.resolves_users():
        return "sourced_by names the user by email"
    if mapping.names_rejection_reasons():
        return "after_create names the rejection reason"
    return ""


def _tags_refused(
    settings: SubmitSettings, transport: httpx.AsyncBaseTransport | None
) -> str | None:
    """Why this integration cannot tag candidates (asked before the dry run, so that it says
    so), or None."""

    async def ask() -> str | None:
        async with KomboClient(settings, transport) as client:
            return await client.tags_unavailable()

    return asyncio.run(ask())


def _open_results(path: Path, settings: SubmitSettings, dry: DryRunResult) -> ResultsFile:
    """The results file, opened before the first row is sent: one that cannot be written stops
    the run before anything is sent."""
    try:
        return ResultsFile(path, settings.batch_size, delimiter=dry.delimiter)
    except OSError as exc:
        raise _unwritable(path, exc) from exc


def _result_writes(options: SubmitOptions) -> dict[str, Path | None]:
    results = options.results_path
    return {
        "--results": results,
        "--results' working file": working_path(results) if results else None,
        "--results-split's success file": options.success_path,
        "--results-split's error file": options.error_path,
    }


async def _send_file(
    options: SubmitOptions,
    settings: SubmitSettings,
    on_progress: Callable[[SubmitStats], None] | None,
    transport: httpx.AsyncBaseTransport | None,
    journal: Journal | None,
    catalog: JobCatalog | None,
    date_orders: dict[int, DateOrder],
    results: ResultsFile | None,
    untaggable: str | None = None,
    confirm_canary: Callable[[SubmitStats], bool] = lambda stats: True,
) -> SubmitStats:
    mapping, table = open_input(options.dry)
    checker = row_checker(mapping, options.dry, catalog, settings.integration_id, date_orders)
    broken: list[OSError] = []

    def write(result: RowResult) -> None:
        """Each result as it comes; the first write that fails stops the run (nothing more is
        sent that could not be recorded)."""
        if results is None or broken:
            return
        try:
            results.write(result.row, _outcome(result))
        except OSError as exc:
            broken.append(exc)
            raise _unwritable(options.results_path, exc) from exc

    async with KomboClient(settings, transport) as client:
        submitter = Submitter(
            client, settings, on_result=write, on_progress=on_progress, journal=journal
        )
        if untaggable:
            submitter.refused[TAG] = untaggable

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

        rows = requests()
        if options.canary:
            try:
                with _stop_on_signals(submitter):
                    await submitter.run(itertools.islice(rows, options.canary))
            except ImporterError:  # the rest is recorded as not sent, then the error stands
                with contextlib.suppress(ImporterError):
                    await submitter.run(rows)
                raise
            if not submitter.stopping.is_set():
                try:  # asked with the usual signal handling
                    go_on = confirm_canary(submitter.stats)
                except KeyboardInterrupt:
                    submitter.stop("interrupt")
                else:
                    if not go_on:
                        submitter.stop("canary")
        with _stop_on_signals(submitter):
            return await submitter.run(rows)


def _outcome(result: RowResult) -> tuple[object, ...]:
    """A row's result as the results file's columns after `row`."""
    return (
        result.status,
        result.candidate_id,
        result.application_id,
        result.code,
        result.message,
        result.attempts,
        result.log_url,
        "; ".join(result.warnings),
        result.actions,
    )


def _settle_results(
    options: SubmitOptions,
    results: ResultsFile | None,
    validated: list[FileSnapshot],
    sent: Callable[[], SubmitStats],
) -> SubmitStats:
    """The sending's stats. When an error stopped it (a fatal answer, a ledger that failed), every
    row has its result all the same, and the results are put in input order before the error
    goes on; not when the input could not be read to its end or the results could not be
    written: then the working file keeps what was learnt, and its name says it is partial."""
    try:
        return sent()
    except ImporterError as error:
        if results is None:
            raise
        if results.broken or isinstance(error, InputFileError):
            results.close()
            raise
        # The error that stopped the run is what must be shown; when the results cannot be put
        # in order as well, they stay in the working file.
        with contextlib.suppress(ImporterError, OSError):
            _end_results(options, results, validated[0] if validated else None)
        raise
    except BaseException:
        if results is not None:
            results.close()
        raise


def _end_results(
    options: SubmitOptions, results: ResultsFile | None, validated: FileSnapshot | None
) -> Path | None:
    """The results in input order with the input's columns, read again, only while the input
    is what was sent; else they stay in the working file, as rows finished."""
    if results is None:
        return None
    if validated is not None:
        try:
            validated.check()
        except InputFileError:  # changed while it was sent: its rows no longer line up
            results.close()
            return results.working
    split = None
    if options.success_path is not None and options.error_path is not None:
        split = (options.success_path, options.error_path)
    _, table = open_input(options.dry)
    try:
        return results.finish(table.headers, table.rows, split)
    except OSError as exc:
        raise _unwritable(options.results_path, exc) from exc


def _write_unsent_results(
    options: SubmitOptions, settings: SubmitSettings, catalog: JobCatalog | None, dry: DryRunResult
) -> Path | None:
    """Nothing is sent (a dry run, no valid row, declined): the results still list every row."""
    if options.results_path is None:
        return None
    why = "not sent: --dry-run" if not options.send else "not sent: the run was not confirmed"
    mapping, table = open_input(options.dry)
    checker = row_checker(mapping, options.dry, catalog, settings.integration_id, dry.date_orders)
    results = _open_results(options.results_path, settings, dry)
    try:
        for built in validate_rows(table.rows, checker, ValidationSummary()):
            errors = errors_in(built.issues)
            code = errors[0].code if errors else "not_sent"
            message = "invalid: " + _explained(errors) if errors else why
            result = RowResult(built.row_number, Status.NOT_SENT, code=code, message=message)
            results.write(built.row_number, _outcome(result))
    except BaseException:
        results.close()
        raise
    return _end_results(options, results, None)


def _explained(errors: list[Issue]) -> str:
    return "; ".join(f"{i.column or i.field}: {i.message}" for i in errors)


def _unwritable(path: Path | None, exc: OSError) -> OutputError:
    return OutputError(
        f"{path}: the results cannot be written ({exc.strerror or exc}); sending stopped at once. "
        "The ledger holds what was created: free some space and run the same command again."
    )


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# The Python API's hold on a sending that runs in a thread of its own (api.submit): called, in
# the sending's loop, with the submitter and what Ctrl-C does to it, so that cancelling the call
# stops the sending as Ctrl-C stops the command. The command line sets none.
SENDING_WATCHER: contextvars.ContextVar[Callable[[Submitter, Callable[[], None]], None] | None] = (
    contextvars.ContextVar("kombo_import_sending_watcher", default=None)
)


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

    watcher = SENDING_WATCHER.get()
    if watcher is not None:
        watcher(submitter, on_signal)
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
    settings: SubmitSettings | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> tuple[str, Draft]:
    """`init`: write a commented mapping drafted from the file, with the ids of the
    integration's jobs, stages and questions when `settings` name one; never overwrites unless
    asked. The integration is asked before the file is read whole (a bad key stops at once)."""
    if output_path.exists() and not overwrite:
        raise ConfigError(f"{output_path} exists already; choose another name or pass --force.")
    refuse_overwrites({"your input": input_path}, {"-o": output_path})
    catalog = None if settings is None else fetch_catalog(settings, transport)
    table = read_table(
        input_path,
        sheet=sheet,
        header_row=header_row,
        expected_columns=KNOWN_HEADERS,
        encoding=encoding,
        delimiter=delimiter,
    )
    draft = place_columns(table, catalog)
    integration = None if settings is None else settings.integration_id
    text = render_mapping(draft, table, catalog, integration)
    output_path.parent.mkdir(parents=True, exist_ok=True)
    output_path.write_text(text, encoding="utf-8")
    return text, draft
