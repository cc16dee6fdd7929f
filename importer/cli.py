"""The `kombo-import` command: parse options, call one library function, print, set the exit code.

Exit codes: 0 every row fine; 1 some rows invalid or failed; 2 usage, config or input error
(nothing sent); 3 the run was stopped by a fatal API error; 4 a file the run writes failed while
sending (the run stopped at once); 70 an error of ours (a bug); 130 interrupted. This is the only
module that prints or imports click.
"""

from __future__ import annotations

import codecs
import contextlib
import dataclasses
import functools
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pydantic

from .__version__ import __version__
from .errors import EXIT_INTERNAL, ConfigError, ImporterError, describe, redact
from .ledger import default_path as default_ledger_path
from .ledger import ledger_summary
from .report import printable, summary_json, summary_lines, terminal_json
from .runs import (
    DryRunOptions,
    DryRunResult,
    SubmitOptions,
    draft_mapping_file,
    dry_run,
    fetch_catalog,
    submit_file,
)
from .settings import DEFAULT_MAX_WAIT, DEFAULT_REQUEST_TIMEOUT, REGIONS, SubmitSettings
from .submit import Status, SubmitStats

EXIT_OK, EXIT_ROWS_FAILED, EXIT_CONFIG, EXIT_INTERRUPTED = 0, 1, 2, 130
OUTPUT_NAMES = {
    "report": "error report",
    "rejects": "rejected rows",
    "annotated": "annotated workbook",
}


class _Progress:
    """A one-line row counter on stderr when it is a terminal; silent otherwise."""

    def __init__(self, label: str, enabled: bool) -> None:
        self.label = label
        self.enabled = enabled and sys.stderr.isatty()
        self.started = time.monotonic()
        self.shown_at = 0.0
        self.count = 0

    def __call__(self, count: int) -> None:
        self.count = count
        now = time.monotonic()
        if self.enabled and now - self.shown_at > 0.1:
            self.shown_at = now
            rate = count / max(now - self.started, 1e-9)
            _echo(f"\r{self.label} {count:,} rows ({rate:,.0f}/s)", nl=False, err=True)

    def done(self) -> None:
        if self.enabled and self.shown_at:
            _echo("\r" + " " * 60 + "\r", nl=False, err=True)


class _Group(click.Group):
    """Turns the errors that stop a run into `Error: …` and its exit code, in one place."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ImporterError as exc:
            _fail(ctx, str(exc), exc.exit_code)
        except OSError as exc:  # a report or ledger that cannot be written, a full disk
            where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
            _fail(
                ctx,
                f"{where}{exc.strerror or exc}. Check the path and its permissions.",
                EXIT_CONFIG,
            )
        except KeyboardInterrupt:
            _echo("Interrupted.", err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort):
            raise
        except Exception as exc:  # a bug of ours: its own exit code, never 1 ("some rows")
            _fail(
                ctx,
                f"internal error, a bug in kombo-import: {describe(exc)}. Run again with --verbose "
                "for the details, and report it.",
                EXIT_INTERNAL,
            )


def _confirmed(question: str) -> bool:
    """y/N on the terminal; Ctrl-C, SIGTERM or end of input there is an interruption (130),
    not the "some rows failed" that click's Abort would exit with."""
    try:
        return click.confirm(question, default=False)
    except click.Abort:
        raise KeyboardInterrupt from None


def _echo(message: str = "", **options: Any) -> None:
    """Every line this command prints, with any API key scrubbed (a server may echo it)."""
    click.echo(redact(message), **options)


def _fail(ctx: click.Context, message: str, code: int) -> None:
    """`Error: …` on stderr, secrets scrubbed and control characters made visible; the
    traceback too with --verbose."""
    if ctx.obj and ctx.obj.get("verbose"):
        _echo(redact(traceback.format_exc()), err=True)
    _echo(f"Error: {printable(redact(message))}", err=True)
    ctx.exit(code)


def _known_encoding(name: str | None) -> str | None:
    if name is not None:
        try:
            codecs.lookup(name)
        except LookupError:
            raise click.BadParameter(
                f"'{name}' is not an encoding Python knows; try utf-8, cp1252, cp1250, mac-roman "
                "or shift_jis.",
                param_hint="--encoding",
            ) from None
    return name


def _delimiter(option: str | None) -> str | None:
    return "\t" if option == "tab" else option


def _stop_like_ctrl_c(signum: int, frame: object) -> None:
    """SIGTERM (a scheduler stopping the job) is handled as Ctrl-C: files are closed, rows kept."""
    raise KeyboardInterrupt


@click.group(
    cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}
)
@click.version_option(__version__, prog_name="kombo-import")
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks for errors.")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """Import candidates from CSV and Excel files into any ATS behind Kombo (POST /ats/candidates).

    Start with a dry run:

    \b
        kombo-import validate example_data/candidates.xlsx -m mappings/example.yaml --report errors.csv
    """  # noqa: E501 (a command to copy whole, unbroken in --help)
    ctx.ensure_object(dict)
    ctx.obj["verbose"] = verbose
    with contextlib.suppress(ValueError):  # not the main thread (a test runner, a notebook)
        signal.signal(signal.SIGTERM, _stop_like_ctrl_c)


text_file_options = [
    click.option(
        "--encoding",
        callback=lambda ctx, param, value: _known_encoding(value),
        help=(
            "Encoding of a CSV file (utf-8, cp1252, cp1250, mac-roman, shift_jis, ...). Default: "
            "the mapping's, else detected."
        ),
    ),
    click.option(
        "--delimiter",
        type=click.Choice([",", ";", "tab", "|"]),
        help="Delimiter of a CSV file. Default: the mapping's, else detected.",
    ),
]


_INPUT_PARAMETERS = (
    "input_path",
    "mapping_path",
    "sheet",
    "header_row",
    "encoding",
    "delimiter",
    "attachments_dir",
    "max_attachment_mb",
    "strict",
    "allow_private_urls",
)


def input_options(command: Any) -> Any:
    """Options shared by every command that reads a spreadsheet, handed to the command as one
    `dry: DryRunOptions` (with the reports and integration still to be filled in)."""

    inner = command

    @functools.wraps(inner)
    def gathered(**options: Any) -> Any:
        given = {name: options.pop(name) for name in _INPUT_PARAMETERS}
        options["dry"] = DryRunOptions(
            given["input_path"],
            given["mapping_path"],
            sheet=given["sheet"],
            header_row=given["header_row"],
            encoding=given["encoding"],
            delimiter=_delimiter(given["delimiter"]),
            attachments_dir=given["attachments_dir"],
            max_attachment_bytes=int(given["max_attachment_mb"] * 1_000_000),
            strict=given["strict"],
            allow_private_urls=given["allow_private_urls"],
        )
        return inner(**options)

    command = gathered
    for decorator in reversed(
        [
            click.argument(
                "input_path", metavar="INPUT", type=click.Path(path_type=Path, dir_okay=False)
            ),
            click.option(
                "-m",
                "--mapping",
                "mapping_path",
                required=True,
                type=click.Path(path_type=Path, dir_okay=False),
                help="The mapping YAML (see mappings/example.yaml).",
            ),
            click.option(
                "--sheet",
                help=(
                    "Excel sheet by name, or by position counting from 1. Default: the mapping's, "
                    "else the first."
                ),
            ),
            click.option(
                "--header-row",
                type=click.IntRange(min=1),
                help="Row number of the header. Default: found by looking for the mapped columns.",
            ),
            *text_file_options,
            click.option(
                "--attachments-dir",
                type=click.Path(path_type=Path),
                help=(
                    "Folder, or .zip archive, that attachment paths are relative to; nothing "
                    "outside it is read. Default: the input's folder."
                ),
            ),
            click.option(
                "--max-attachment-mb",
                type=click.FloatRange(min=0, min_open=True),
                default=10.0,
                show_default=True,
                help="Largest attachment accepted, in MB.",
            ),
            click.option(
                "--strict",
                is_flag=True,
                help=(
                    "Treat warnings (numbers in text fields, text that looks wrongly decoded, "
                    "dates read by their column's order) as problems that stop the row."
                ),
            ),
            click.option(
                "--allow-private-urls",
                is_flag=True,
                help=(
                    "Let attachment cells name http(s) URLs on loopback, link-local or private "
                    "addresses (refused by default: Kombo would fetch them)."
                ),
            ),
        ]
    ):
        command = decorator(command)
    return command


def report_options(command: Any) -> Any:
    """The dry run's reports, the same for `validate` and `submit`."""
    report = click.option(
        "--report",
        "report_path",
        type=click.Path(path_type=Path, dir_okay=False),
        help="Write every problem to this CSV: row,column,field,value,code,message,severity.",
    )
    rejects = click.option(
        "--rejects",
        "rejects_path",
        type=click.Path(path_type=Path, dir_okay=False),
        help=(
            "Write the invalid rows, original columns plus 'errors', to this CSV to fix and "
            "import again."
        ),
    )
    return report(rejects(command))


def api_options(command: Any) -> Any:
    """Options shared by every command that talks to Kombo (or to the local sandbox)."""
    for decorator in reversed(
        [
            click.option(
                "--integration-id",
                help=(
                    "Kombo integration id (e.g. acme:greenhouse). Default with --sandbox: "
                    "sandbox:demo."
                ),
            ),
            click.option(
                "--api-key",
                envvar="KOMBO_API_KEY",
                show_envvar=True,
                help="Kombo API key. Better: set KOMBO_API_KEY. Never printed.",
            ),
            click.option("--server-url", help="Kombo API base URL. Default: the --region's."),
            click.option(
                "--region",
                type=click.Choice(sorted(REGIONS)),
                default="eu",
                show_default=True,
                help="Kombo region.",
            ),
            click.option(
                "--sandbox",
                "use_sandbox",
                is_flag=True,
                help="Talk to a local sandbox API started for this run (127.0.0.1, a free port).",
            ),
            click.option(
                "--request-timeout",
                type=click.FloatRange(min=0, min_open=True),
                default=DEFAULT_REQUEST_TIMEOUT,
                show_default=True,
                help=(
                    "Seconds one request may take, from connecting to the last byte of the "
                    "answer; a write is then uncertain and looked up before any resend."
                ),
            ),
        ]
    ):
        command = decorator(command)
    return command


@contextlib.contextmanager
def _connection(
    integration_id: str | None,
    api_key: str | None,
    server_url: str | None,
    region: str,
    use_sandbox: bool,
    **tuning: Any,
) -> Iterator[SubmitSettings]:
    """Settings for Kombo, or for a sandbox started here and stopped afterwards."""
    running = None
    if use_sandbox:
        from .sandbox import DEFAULT_API_KEY, DEFAULT_INTEGRATION_ID, Sandbox

        running = Sandbox().start()
        server_url, api_key, integration_id = (
            running.url,
            DEFAULT_API_KEY,
            integration_id or DEFAULT_INTEGRATION_ID,
        )
    try:
        if not integration_id:
            raise click.UsageError("--integration-id is required (or --sandbox).")
        if not api_key:
            raise ConfigError("No API key: pass --api-key or set KOMBO_API_KEY (or use --sandbox).")
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
            raise ConfigError(f"--{str(error['loc'][0]).replace('_', '-')}: {message}.") from None
        yield settings
    finally:
        if running is not None:
            running.stop()


@main.command()
@input_options
@report_options
@click.option(
    "--annotated",
    "annotated_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help=(
        "Write every row to this .xlsx with the cells that have problems filled red and commented."
    ),
)
@click.option(
    "--check-remote",
    is_flag=True,
    help=(
        "Also check jobs, stages and screening questions against the integration (needs "
        "--integration-id and a key), and convert answers to each question's type."
    ),
)
@api_options
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON instead of text.")
@click.option("-q", "--quiet", is_flag=True, help="No progress line.")
def validate(
    dry: DryRunOptions,
    report_path: Path | None,
    rejects_path: Path | None,
    annotated_path: Path | None,
    check_remote: bool,
    integration_id: str | None,
    api_key: str | None,
    server_url: str | None,
    region: str,
    use_sandbox: bool,
    request_timeout: float,
    as_json: bool,
    quiet: bool,
) -> None:
    """Dry run: check every row of INPUT against the mapping; send nothing.

    Reports every problem of every row, prints a summary, and exits 0 when all rows are
    valid, 1 when some are not, 2 when the file or the mapping cannot be used.

    Example:

    \b
        kombo-import validate example_data/candidates.xlsx -m mappings/example.yaml --report errors.csv --rejects rejects.csv
    """  # noqa: E501 (a command to copy whole, unbroken in --help)
    options = dataclasses.replace(
        dry,
        report_path=report_path,
        rejects_path=rejects_path,
        annotated_path=annotated_path,
        integration_id=integration_id,
    )
    catalog = None
    if check_remote or use_sandbox:
        with _connection(
            integration_id,
            api_key,
            server_url,
            region,
            use_sandbox,
            request_timeout=request_timeout,
        ) as settings:
            catalog = fetch_catalog(settings)
    progress = _Progress("Validated", enabled=not (quiet or as_json))
    result = dry_run(options, on_progress=progress, catalog=catalog)
    progress.done()
    summary, source = result.summary, result.table.describe()
    outputs = {
        k: str(v)
        for k, v in (
            ("report", report_path),
            ("rejects", rejects_path),
            ("annotated", annotated_path),
        )
        if v
    }
    if as_json:
        _echo(terminal_json(summary_json(summary, source, outputs)))
    else:
        for line in summary_lines(summary, source):
            _echo(line)
        for name, path in outputs.items():
            _echo(f"Wrote the {OUTPUT_NAMES[name]} to {path}")
    sys.exit(EXIT_OK if summary.invalid == 0 else EXIT_ROWS_FAILED)


class _SubmitProgress:
    """Rows settled / created / failed / retrying, rate and ETA: a bar on a terminal, a log line
    per batch otherwise."""

    def __init__(self, batch_size: int, quiet: bool) -> None:
        self.total = 1
        self.batch_size = batch_size
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self.started = time.monotonic()
        self.shown_at = 0.0
        self.logged = 0
        self.running = False

    def start(self, total: int) -> None:
        self.total, self.started, self.running = max(total, 1), time.monotonic(), True

    def __call__(self, stats: SubmitStats) -> None:
        if self.quiet or not self.running:
            return
        done = (
            sum(stats.by_status[s] for s in (Status.CREATED, Status.SKIPPED, Status.FAILED))
            + stats.by_status[Status.NOT_SENT]
        )
        now = time.monotonic()
        if self.tty:
            if now - self.shown_at < 0.1 and done < self.total:
                return
            self.shown_at = now
            _echo("\r" + self.line(stats, done, now), nl=False, err=True)
        elif done - self.logged >= self.batch_size:
            self.logged = done
            _echo(time.strftime("%H:%M:%S ") + self.line(stats, done, now), err=True)

    def line(self, stats: SubmitStats, done: int, now: float) -> str:
        elapsed = max(now - self.started, 1e-9)
        rate = stats.sent / elapsed
        settled = sum(stats.by_status[s] for s in (Status.CREATED, Status.SKIPPED, Status.FAILED))
        eta = (self.total - done) / (settled / elapsed) if settled else 0
        width = 24
        filled = int(width * min(done / self.total, 1))
        bar = "#" * filled + "-" * (width - filled)
        return (
            f"[{bar}] {done:,}/{self.total:,} rows  "
            f"created {stats.by_status[Status.CREATED]:,}  "
            f"skipped {stats.by_status[Status.SKIPPED]:,}  "
            f"failed {stats.by_status[Status.FAILED]:,}  "
            f"retries {stats.retries:,}  {rate:,.1f} req/s  ETA {eta:,.0f}s"
        )

    def done(self) -> None:
        if self.tty and not self.quiet and self.running:
            _echo("", err=True)


@main.command()
@input_options
@api_options
@click.option(
    "--batch-size",
    type=click.IntRange(1, 10_000),
    default=100,
    show_default=True,
    help="Rows per progress step and results flush.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 100),
    default=10,
    show_default=True,
    help="Requests in flight at most; lowered to Kombo's Concurrency-Limit.",
)
@click.option(
    "--rate-limit",
    type=click.FloatRange(min=0, min_open=True),
    help="Requests per second at most, all requests together.",
)
@click.option(
    "--max-wait",
    type=click.FloatRange(min=0, min_open=True),
    default=DEFAULT_MAX_WAIT,
    show_default=True,
    help=(
        "Longest wait in seconds that Kombo may ask for (Retry-After, rate-limit reset); a row "
        "asked to wait longer fails for this run and is sent again next run."
    ),
)
@click.option(
    "--check-remote/--no-check-remote",
    default=True,
    show_default=True,
    help="Check jobs, stages and screening questions against the integration before sending.",
)
@report_options
@click.option(
    "--results",
    "results_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help=(
        "Write one line per row: row,status,candidate_id,application_id,code,message. Default: "
        "INPUT.results.csv."
    ),
)
@click.option(
    "--ledger",
    "ledger_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help=(
        "The SQLite ledger that makes a re-run skip what was created. Default: "
        "INPUT.kombo-ledger.sqlite."
    ),
)
@click.option(
    "--retry-failed",
    is_flag=True,
    help="Send again rows that failed for good in an earlier run, even if unchanged.",
)
@click.option("--dry-run", is_flag=True, help="Validate and show what would be sent; send nothing.")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation before sending.")
@click.option("-q", "--quiet", is_flag=True, help="No progress output.")
def submit(
    dry: DryRunOptions,
    integration_id: str | None,
    api_key: str | None,
    server_url: str | None,
    region: str,
    use_sandbox: bool,
    batch_size: int,
    concurrency: int,
    rate_limit: float | None,
    max_wait: float,
    request_timeout: float,
    check_remote: bool,
    report_path: Path | None,
    rejects_path: Path | None,
    results_path: Path | None,
    ledger_path: Path | None,
    retry_failed: bool,
    dry_run: bool,
    yes: bool,
    quiet: bool,
) -> None:
    """Validate INPUT, then create a candidate with an application for every valid row.

    Rows that the dry run rejects are never sent; they are reported as `validate` reports them.
    Transient errors are retried with backoff, a fatal one (bad key, unknown integration) stops
    the run at once with exit code 3. Every row ends in the results CSV exactly once. The ledger
    remembers what was created: run the same command again after a crash, a Ctrl-C or a fix,
    and only what is not yet in the ATS is sent.

    Example, against the local sandbox:

    \b
        kombo-import submit example_data/candidates.xlsx -m mappings/example.yaml --sandbox --yes
    """
    if not (dry_run or yes or sys.stdin.isatty()):
        raise click.UsageError(
            "standard input is not a terminal, so nobody can confirm the sending: pass --yes to "
            "send without asking (or --dry-run)."
        )
    input_path = dry.input_path
    results_path = results_path or input_path.with_name(input_path.name + ".results.csv")
    scratch = None
    if ledger_path is None and use_sandbox:  # each --sandbox run starts empty: so does its ledger
        scratch = tempfile.TemporaryDirectory(prefix="kombo-sandbox-")
        ledger_path = Path(scratch.name) / "ledger.sqlite"
    ledger_path = ledger_path or default_ledger_path(input_path)
    progress = _SubmitProgress(batch_size, quiet)
    validating = _Progress("Validated", enabled=not quiet)

    def confirm(result: DryRunResult) -> bool:
        validating.done()
        for line in summary_lines(result.summary, result.table.describe()):
            _echo(line)
        target = (
            f"{result.summary.valid:,} valid rows to integration {settings.integration_id} at "
            f"{settings.server_url}"
        )
        if result.summary.valid == 0:
            _echo("Nothing to send: no row is valid.")
            return False
        if not yes and not _confirmed(f"Send {target}?"):
            _echo("Nothing sent.")
            return False
        _echo(
            f"Sending {target} (concurrency {settings.concurrency}"
            f"{f', at most {settings.rate_limit:g}/s' if settings.rate_limit else ''})."
        )
        progress.start(result.summary.rows_read)
        return True

    dry = dataclasses.replace(dry, report_path=report_path, rejects_path=rejects_path)
    tuning = {
        "batch_size": batch_size,
        "concurrency": concurrency,
        "rate_limit": rate_limit,
        "max_wait": max_wait,
        "request_timeout": request_timeout,
    }
    with _connection(
        integration_id, api_key, server_url, region, use_sandbox, **tuning
    ) as settings:
        dry = dataclasses.replace(dry, integration_id=settings.integration_id)
        try:
            outcome = submit_file(
                SubmitOptions(
                    dry, results_path, not dry_run, ledger_path, retry_failed, check_remote
                ),
                settings,
                confirm,
                on_progress=progress,
                on_validate_progress=validating,
            )
        finally:
            validating.done()
            progress.done()
    if outcome.stats is None:
        if dry_run:
            for line in summary_lines(outcome.dry.summary, outcome.dry.table.describe()):
                _echo(line)
            _echo(f"Dry run: {outcome.dry.summary.valid:,} rows would be sent; nothing was.")
        sys.exit(EXIT_OK if outcome.dry.summary.invalid == 0 else EXIT_ROWS_FAILED)
    counts = outcome.stats.by_status
    _echo(
        f"Created {counts[Status.CREATED]:,}   "
        f"skipped (already there) {counts[Status.SKIPPED]:,}   "
        f"failed {counts[Status.FAILED]:,}   not sent {counts[Status.NOT_SENT]:,}   "
        f"({outcome.stats.sent:,} requests, {outcome.stats.retries:,} retries)"
    )
    for message, count in outcome.stats.kombo_warnings.most_common():
        _echo(f"Kombo's warning: {printable(message)}: {count:,} rows")
    if outcome.stats.changed:
        _echo(
            f"{outcome.stats.changed:,} rows were created in an earlier run and have changed "
            "since; they were not sent again (code changed_since_import)."
        )
    _echo(
        f"Wrote the results to {results_path}; "
        + (
            "the ledger was temporary, like the sandbox."
            if scratch
            else f"the ledger is {ledger_path}"
        )
    )
    if outcome.stats.stopped_by == "interrupt":
        _echo(
            "Interrupted: rows in flight were finished and recorded; run the same command again to "
            "go on.",
            err=True,
        )
    elif outcome.stats.stopped_by == "abandoned":
        _echo(
            "Interrupted twice: rows in flight were abandoned; the ledger keeps them as sending, "
            "and the next run looks them up in Kombo before sending anything.",
            err=True,
        )
    if outcome.stats.stopped_by in ("interrupt", "abandoned"):
        sys.exit(EXIT_INTERRUPTED)
    fine = (
        counts[Status.FAILED] == 0 and counts[Status.NOT_SENT] == 0 and outcome.stats.changed == 0
    )
    sys.exit(EXIT_OK if fine else EXIT_ROWS_FAILED)


@main.command()
@click.argument("ledger_path", metavar="LEDGER", type=click.Path(path_type=Path, dir_okay=False))
def status(ledger_path: Path) -> None:
    """Show what a ledger holds: applications by state per integration, the rows a run would
    still send or settle, and those that failed for good. Safe while a run is going.

    \b
        kombo-import status example_data/candidates.xlsx.kombo-ledger.sqlite
    """
    counts, to_do, failures = ledger_summary(ledger_path)
    if not counts:
        _echo(f"{ledger_path}: empty.")
        return
    for integration, by_state in counts.items():
        states = "   ".join(
            f"{state} {by_state[state]:,}"
            for state in ("created", "pending", "sending", "failed")
            if by_state[state]
        )
        _echo(f"{integration}: {states}")
    for title, records in (
        ("Still to do (a run sends or settles these)", to_do),
        ("Failed for good (fix the row, or --retry-failed)", failures),
    ):
        if records:
            _echo(f"{title}:")
            for r in records:
                detail = f" {r.error_code}: {r.error_message}" if r.error_code else ""
                _echo(
                    f"  {Path(r.source).name} row {r.row_number}  {r.email}  job {r.job_id}  "
                    f"[{r.state}]{detail}"
                )


@main.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (keep it on loopback).",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8787,
    show_default=True,
    help="Port; 0 picks a free one.",
)
@click.option(
    "--api-key",
    "sandbox_key",
    default="sandbox-key",
    show_default=True,
    help="The bearer token it accepts.",
)
@click.option(
    "--integration-id",
    default="sandbox:demo",
    show_default=True,
    help="The X-Integration-Id it accepts.",
)
@click.option(
    "--latency",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="Seconds added to every POST.",
)
@click.option(
    "--rate-limit", type=click.IntRange(min=1), help="Requests per second it allows; more get 429."
)
@click.option(
    "--concurrency-limit",
    type=click.IntRange(min=1),
    default=30,
    show_default=True,
    help="POSTs in flight it allows; more get 429 CONCURRENCY_LIMIT_EXCEEDED.",
)
@click.option(
    "--fault",
    "faults",
    multiple=True,
    metavar="NAME=RATE",
    help=(
        "Inject a fault into that share of POSTs: 429, 500, 502, 503, drop, drop_after_create, "
        "task_timeout, job_closed. Repeatable."
    ),
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the fault dice.")
def sandbox(
    host: str,
    port: int,
    sandbox_key: str,
    integration_id: str,
    latency: float,
    rate_limit: int | None,
    concurrency_limit: int,
    faults: tuple[str, ...],
    seed: int,
) -> None:
    """Run a local Kombo-compatible API until Ctrl-C, for demos and tests.

    It checks the key and the integration id, validates bodies with the SDK's models, remembers
    what it created (a duplicate answers ATS.APPLICATION_ALREADY_EXISTS), sends Kombo's
    Concurrency-* and ratelimit-* headers, and injects the faults asked for.

    \\b
        kombo-import sandbox --latency 0.1 --fault 429=0.05 --fault drop_after_create=0.01
    """
    import asyncio

    from .sandbox import FAULTS, Sandbox, SandboxConfig

    rates = {}
    for fault in faults:
        name, _, rate = fault.partition("=")
        if name not in FAULTS or not rate:
            raise click.BadParameter(
                f"'{fault}': expected NAME=RATE with NAME one of {', '.join(FAULTS)}.",
                param_hint="--fault",
            )
        try:
            rates[name] = float(rate)
        except ValueError:
            raise click.BadParameter(
                f"'{fault}': the rate must be a number between 0 and 1.", param_hint="--fault"
            ) from None
    config = SandboxConfig(
        api_key=sandbox_key,
        integration_id=integration_id,
        latency=latency,
        rate_limit=rate_limit,
        concurrency_limit=concurrency_limit,
        fault_rates=rates,
        seed=seed,
    )
    server = Sandbox(config, host, port)

    async def serve() -> None:
        ready = threading.Event()
        task = asyncio.create_task(server.serve(ready))
        while not ready.is_set() and not task.done():
            await asyncio.sleep(0.01)
        _echo(
            f"Kombo sandbox on {server.url}\n  API key:        {sandbox_key}\n  Integration id: "
            f"{integration_id}\nCtrl-C to stop."
        )
        await task

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        _echo(f"\nStopped. It had created {len(server.state.created):,} candidates.")


@main.command()
@api_options
@click.option("--json", "as_json", is_flag=True, help="Print the jobs as JSON.")
def jobs(
    integration_id: str | None,
    api_key: str | None,
    server_url: str | None,
    region: str,
    use_sandbox: bool,
    request_timeout: float,
    as_json: bool,
) -> None:
    """List the integration's jobs with their stages and screening questions, with the ids a
    mapping needs (application.job_id, application.stage_id, screening_question_answers).

    \b
        kombo-import jobs --integration-id acme:greenhouse
    """
    with _connection(
        integration_id, api_key, server_url, region, use_sandbox, request_timeout=request_timeout
    ) as settings:
        found = list(fetch_catalog(settings).listed)
    if as_json:
        _echo(terminal_json(found))
        return
    for line in _job_lines(found):  # the server's text, made safe for a terminal
        _echo(printable(line))
    _echo(f"{len(found)} jobs.")


def _job_lines(found: list[dict[str, Any]]) -> Iterator[str]:
    for job in found:
        yield f"{job['id']}  {job.get('name') or ''}  [{job.get('status') or '?'}]"
        for stage in job.get("stages") or []:
            yield f"    stage     {stage['id']}  {stage.get('name') or ''}"
        for question in job.get("screening_questions") or []:
            form = question.get("format") or {}
            kind = form.get("type", "?")
            yield f"    question  {question['id']}  {kind:<13} {question.get('title') or ''}"
            for option in form.get("options") or []:
                yield f"        option {option['id']}  {option.get('name') or ''}"


@main.command()
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "-o",
    "--output",
    "output_path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Where to write the mapping (e.g. mappings/acme.yaml).",
)
@click.option("--sheet", help="Excel sheet by name, or by position counting from 1.")
@click.option(
    "--header-row",
    type=click.IntRange(min=1),
    help="Row number of the header. Default: found by looking for known column names.",
)
@text_file_options[0]
@text_file_options[1]
@click.option("--force", is_flag=True, help="Overwrite the output file if it exists.")
def init(
    input_path: Path,
    output_path: Path,
    sheet: str | None,
    header_row: int | None,
    encoding: str | None,
    delimiter: str | None,
    force: bool,
) -> None:
    """Draft a mapping from INPUT's headers (English and German names: "E-Mail", "Vorname",
    "Mobile", "LinkedIn"…) and a sample of its rows, with comments on what it could not place.

    Job and stage ids are left empty for you to fill in (`kombo-import jobs` lists them), so the
    dry run refuses every row until they are.

    \b
        kombo-import init export.xlsx -o mappings/acme.yaml
    """
    _, draft = draft_mapping_file(
        input_path, output_path, sheet, header_row, force, encoding, _delimiter(delimiter)
    )
    _echo(
        f"Wrote {output_path}: {len(draft.placed)} columns placed, {len(draft.unplaced)} not "
        "placed (listed at its end)."
    )
    _echo(f"Next: fill in its TODOs, then  kombo-import validate {input_path} -m {output_path}")
