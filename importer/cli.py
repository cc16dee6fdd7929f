"""The `kombo-import` command: parse options, call one library function, print, set the exit code.

Exit codes: 0 every row fine; 1 some rows invalid or failed; 2 usage, config or input error
(nothing sent); 3 the run was stopped by a fatal API error; 4 a file the run writes failed while
sending (the run stopped at once); 70 an error of ours (a bug); 130 interrupted. This module
and `progress.py` (the progress line) are the only ones that print or import click.

With `--json`, standard output holds one JSON document, the result or `{"error": {...}}`, and
whatever is for people goes to standard error. The stages (the SDK's models, httpx, SQLite) are
imported inside the commands that use them, so that `--help` and tab completion answer at once.
"""

from __future__ import annotations

import codecs
import contextlib
import dataclasses
import functools
import os
import shutil
import signal
import sys
import tempfile
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NoReturn

import click

from .__version__ import __version__
from .defaults import (
    DEFAULT_LOOKUP_WINDOW,
    DEFAULT_MAX_WAIT,
    DEFAULT_REQUEST_TIMEOUT,
    REGIONS,
)
from .errors import (
    EXIT_INTERNAL,
    ConfigError,
    FatalApiError,
    ImporterError,
    InputFileError,
    InternalError,
    OutputError,
    describe,
    redact,
)
from .progress import SendingProgress, ValidationProgress, colours_on, is_terminal

if TYPE_CHECKING:
    from .runs import DryRunOptions, DryRunResult, OutputOptions, PlacedOutputs, SubmitRunResult
    from .sending import SubmitStats
    from .settings import SubmitSettings

EXIT_OK, EXIT_ROWS_FAILED, EXIT_CONFIG, EXIT_INTERRUPTED = 0, 1, 2, 130


MAX_STDIN_BYTES = 1 << 30  # `-` as INPUT: standard input is copied to a temporary file, this big
STDIN_NAME = "<stdin>"  # how messages name that copy
# What the whole invocation shares, in click's `ctx.meta` (the keys namespaced, as click asks).
_JSON_ASKED = "kombo_import.json"  # --json was given: standard output is for JSON alone
_VERBOSE = "kombo_import.verbose"  # -v/--verbose, before or after the subcommand
_STDIN_COPY = "kombo_import.stdin"  # the path of standard input's temporary copy
_ERROR_KINDS = (  # `kind` in `{"error": ...}`, by the exception that stopped the run
    (ConfigError, "config"),
    (InputFileError, "input"),
    (FatalApiError, "api"),
    (OutputError, "output"),
    (InternalError, "internal"),
)


class _Group(click.Group):
    """Turns the errors that stop a run into `Error: …` (with --json, `{"error": …}` on standard
    output) and its exit code, in one place; gives every subcommand `-v/--verbose`."""

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        cmd.params.append(_verbose_option())
        super().add_command(cmd, name)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # A usage error in the subcommand's options comes before --json is parsed: whether JSON
        # was asked for is read from the words themselves (up to a `--`).
        words = args[: args.index("--")] if "--" in args else args
        ctx.meta[_JSON_ASKED] = "--json" in words
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ImporterError as exc:
            kind = next((k for cls, k in _ERROR_KINDS if isinstance(exc, cls)), "error")
            _fail(ctx, str(exc), exc.exit_code, kind)
        except BrokenPipeError:  # a prompt or a line printed past _echo, to a reader gone away
            _silence(sys.stdout)
            _silence(sys.stderr)
            ctx.exit(EXIT_ROWS_FAILED)  # as click itself ends on a closed pipe
        except OSError as exc:  # a report or ledger that cannot be written, a full disk
            where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
            _fail(
                ctx,
                f"{where}{exc.strerror or exc}. Check the path and its permissions.",
                EXIT_CONFIG,
                "file",
            )
        except KeyboardInterrupt:
            if ctx.meta.get(_JSON_ASKED):
                _fail(ctx, "Interrupted.", EXIT_INTERRUPTED, "interrupted")
            _echo("Interrupted.", err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except click.ClickException as exc:  # a usage error: click prints it, unless --json
            if not ctx.meta.get(_JSON_ASKED):
                raise
            _fail(ctx, exc.format_message(), exc.exit_code, "usage")
        except (click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:  # a bug of ours: its own exit code, never 1 ("some rows")
            _fail(
                ctx,
                f"internal error, a bug in kombo-import: {describe(exc)}. Run again with --verbose "
                "for the details, and report it.",
                EXIT_INTERNAL,
                "internal",
            )


def _remember_verbose(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        ctx.meta[_VERBOSE] = True


def _verbose_option() -> click.Option:
    """`-v/--verbose`, the same before the subcommand and after it."""
    return click.Option(
        ["-v", "--verbose"],
        is_flag=True,
        expose_value=False,
        callback=_remember_verbose,
        help="Show tracebacks for errors.",
    )


def _confirmed(question: str) -> bool:
    """y/N on the terminal; Ctrl-C, SIGTERM or end of input there is an interruption (130),
    not the "some rows failed" that click's Abort would exit with."""
    try:
        return click.confirm(question, default=False, err=_json_asked())
    except click.Abort:
        raise KeyboardInterrupt from None


def _json_asked() -> bool:
    ctx = click.get_current_context(silent=True)
    return bool(ctx is not None and ctx.meta.get(_JSON_ASKED))


def _width() -> int | None:
    """The width a table is cut to fit: the terminal's, or None (nothing cut) when standard
    output is a file or a pipe, or the text goes to standard error beside --json."""
    if _json_asked() or not is_terminal(sys.stdout):
        return None
    return shutil.get_terminal_size().columns


def _echo(message: str = "", *, err: bool = False, nl: bool = True) -> None:
    """Every line this command prints for people: any API key scrubbed (a server may echo it),
    standard input's temporary copy named `<stdin>`; with --json, on standard error (standard
    output holds the JSON alone)."""
    _write(message, err=err or _json_asked(), nl=nl)


def _echo_json(data: Any) -> None:
    """The one JSON document of a --json run, on standard output."""
    from .report import terminal_json

    _write(terminal_json(data), err=False)


def _write(message: str, *, err: bool, nl: bool = True) -> None:
    """Print, or, when the reader went away (`| head -1`), print nothing more: the run goes on to
    its usual exit code without a traceback."""
    text = redact(message)
    ctx = click.get_current_context(silent=True)
    copy = ctx.meta.get(_STDIN_COPY) if ctx is not None else None
    if copy:
        text = text.replace(copy, STDIN_NAME)
    try:
        click.echo(text, err=err, nl=nl)
    except BrokenPipeError:
        _silence(sys.stderr if err else sys.stdout)


def _silence(stream: IO[str]) -> None:
    """Point a stream whose reader went away at /dev/null, so that neither the rest of the run
    nor Python's last flush at exit complains ("Exception ignored ... BrokenPipeError")."""
    try:
        fd = stream.fileno()
    except (AttributeError, ValueError, OSError):  # not a real file (a test runner's buffer)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def _fail(ctx: click.Context, message: str, code: int, kind: str = "error") -> NoReturn:
    """`Error: …` on stderr (red on a terminal), secrets scrubbed and control characters made
    visible; with --json, `{"error": {"exit_code", "kind", "message"}}` on standard output
    instead. The traceback too (on stderr) with --verbose."""
    if ctx.meta.get(_VERBOSE):
        _echo(traceback.format_exc(), err=True)
    if ctx.meta.get(_JSON_ASKED):
        _echo_json({"error": {"exit_code": code, "kind": kind, "message": redact(message)}})
    else:
        from .report import printable

        label = "Error:"
        if colours_on(sys.stderr):
            label = click.style(label, fg="red", bold=True)
        _echo(f"{label} {printable(redact(message))}", err=True)
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
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    expose_value=False,
    callback=_remember_verbose,
    help="Show tracebacks for errors (also accepted after the command).",
)
def main() -> None:
    """Import candidates from CSV and Excel files into any ATS behind Kombo (POST /ats/candidates).

    Start with a dry run:

    \b
        kombo-import validate example_data/candidates.xlsx -m mappings/example.yaml --report errors.csv
    """  # noqa: E501 (a command to copy whole, unbroken in --help)
    with contextlib.suppress(ValueError):  # not the main thread (a test runner, a notebook)
        signal.signal(signal.SIGTERM, _stop_like_ctrl_c)


text_file_options = [
    click.option(
        "--encoding",
        callback=lambda ctx, param, value: _known_encoding(value),
        help=(
            "Encoding of a CSV file (utf-8, cp1252, cp1250, mac-roman, shift_jis, ...). Default: "
            "the mapping's input: (validate, submit), else detected."
        ),
    ),
    click.option(
        "--delimiter",
        type=click.Choice([",", ";", "tab", "|"]),
        help="Delimiter of a CSV file. Default: the mapping's input: (validate, submit), else "
        "detected.",
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


STDIN_ARGUMENT = Path("-")


def _copy_standard_input() -> Path:
    """`-` as INPUT: standard input, a CSV, copied to a temporary file (removed when the command
    ends; at most MAX_STDIN_BYTES), since a file is read more than once. Messages name it
    `<stdin>`."""
    if sys.stdin is None or sys.stdin.isatty():
        raise click.UsageError(
            "INPUT is '-' (standard input), but that is a terminal: pipe a CSV into it, as in "
            "kombo-import validate - -m MAPPING < export.csv, or name the file."
        )
    ctx = click.get_current_context()
    folder = ctx.with_resource(tempfile.TemporaryDirectory(prefix="kombo-import-stdin-"))
    copy = Path(folder) / "stdin.csv"
    copied = 0
    with copy.open("wb") as out:
        while chunk := sys.stdin.buffer.read(1 << 20):
            copied += len(chunk)
            if copied > MAX_STDIN_BYTES:
                raise InputFileError(
                    f"{STDIN_NAME}: standard input holds more than {MAX_STDIN_BYTES:,} bytes; "
                    "save it to a file and give that file as INPUT."
                )
            out.write(chunk)
    ctx.meta[_STDIN_COPY] = str(copy)
    return copy


def _named_input(path: Path) -> Path:
    """The path that outputs kept beside the input are named after: the input's, or for
    standard input `stdin.csv` in the current folder (its copy is temporary)."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None and ctx.meta.get(_STDIN_COPY) == str(path):
        return Path("stdin.csv")
    return path


def input_options(command: Any) -> Any:
    """Options shared by every command that reads a spreadsheet, handed to the command as one
    `dry: DryRunOptions` (with the reports and integration still to be filled in)."""

    inner = command

    @functools.wraps(inner)
    def gathered(**options: Any) -> Any:
        from .runs import DryRunOptions

        given = {name: options.pop(name) for name in _INPUT_PARAMETERS}
        input_path, attachments_dir = given["input_path"], given["attachments_dir"]
        if input_path == STDIN_ARGUMENT:
            input_path = _copy_standard_input()
            attachments_dir = attachments_dir or Path.cwd()  # not the temporary copy's folder
        options["dry"] = DryRunOptions(
            input_path,
            given["mapping_path"],
            sheet=given["sheet"],
            header_row=given["header_row"],
            encoding=given["encoding"],
            delimiter=_delimiter(given["delimiter"]),
            attachments_dir=attachments_dir,
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


_OUTPUT_PARAMETERS = (
    "out_dir",
    "report_path",
    "rejects_path",
    "annotated_path",
    "output_delimiter",
    "redact",
    "force",
)
_RESULT_PARAMETERS = ("results_path", "results_split")  # submit's own, gathered here too


def report_options(command: Any) -> Any:
    """Where the run's files go, the same for `validate` and `submit`, handed to the command as
    one `outputs: OutputOptions` (with submit's --results and --results-split)."""

    inner = command

    @functools.wraps(inner)
    def gathered(**options: Any) -> Any:
        from .runs import OutputOptions

        given = {name: options.pop(name) for name in _OUTPUT_PARAMETERS}
        results = {name: options.pop(name) for name in _RESULT_PARAMETERS if name in options}
        annotated = given["annotated_path"]  # "" when --annotated names no file
        options["outputs"] = OutputOptions(
            out_dir=given["out_dir"],
            report_path=given["report_path"],
            rejects_path=given["rejects_path"],
            annotated_path=Path(annotated) if annotated else None,
            annotated=annotated == "",
            delimiter=_delimiter(given["output_delimiter"]),
            redact=given["redact"],
            force=given["force"],
            **results,
        )
        return inner(**options)

    command = gathered
    for decorator in reversed(
        [
            click.option(
                "--out",
                "out_dir",
                type=click.Path(path_type=Path, file_okay=False),
                help=(
                    "Folder for this run's files. Default: INPUT's name + .kombo beside it "
                    "(candidates.kombo/ for candidates.xlsx)."
                ),
            ),
            click.option(
                "--report",
                "report_path",
                type=click.Path(path_type=Path, dir_okay=False),
                help=(
                    "Every problem in this CSV: row,column,field,value,code,message,severity. "
                    "Default: report.csv in the run's folder."
                ),
            ),
            click.option(
                "--rejects",
                "rejects_path",
                type=click.Path(path_type=Path, dir_okay=False),
                help=(
                    "The invalid rows, original columns plus 'errors', in this CSV to fix and "
                    "import again. Default: rejects.csv in the run's folder."
                ),
            ),
            click.option(
                "--annotated",
                "annotated_path",
                is_flag=False,
                flag_value="",
                metavar="[FILE.xlsx]",
                help=(
                    "Also write every row to an .xlsx with the cells that have problems filled "
                    "red and commented (alone: annotated.xlsx in the run's folder)."
                ),
            ),
            click.option(
                "--output-delimiter",
                type=click.Choice([",", ";", "tab", "|"]),
                help="Delimiter of the CSVs written. Default: the input's , or ; (else ,).",
            ),
            click.option(
                "--redact",
                is_flag=True,
                help=(
                    "Mask names, emails, phones and streets in the error report and report.html, "
                    "to share them (the rejects and results keep every value)."
                ),
            ),
            click.option(
                "--force",
                is_flag=True,
                help=(
                    "Replace files that no earlier run of INPUT wrote (another input's run "
                    "folder, a file of yours)."
                ),
            ),
        ]
    ):
        command = decorator(command)
    return command


def _placed(dry: DryRunOptions, outputs: OutputOptions) -> PlacedOutputs:
    """Each file where the options name it, else in the run folder named after INPUT (for
    standard input, after `stdin.csv` here: its copy is temporary)."""
    from .runs import place_outputs

    named = _named_input(dry.input_path)
    input_name = None if named == dry.input_path else named
    return place_outputs(dataclasses.replace(dry, input_name=input_name), outputs)


def _written(dry: DryRunOptions, **more: Path | None) -> dict[str, Path]:
    """The files a run wrote, by name, in the order the summary lists them."""
    files = {
        "report": dry.report_path,
        "html": dry.html_path,
        "rejects": dry.rejects_path,
        "annotated": dry.annotated_path,
    }
    return {name: path for name, path in (files | more).items() if path is not None}


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


def _connection(
    integration_id: str | None,
    api_key: str | None,
    server_url: str | None,
    region: str,
    use_sandbox: bool,
    **tuning: Any,
) -> contextlib.AbstractContextManager[SubmitSettings]:
    """Settings for Kombo (or a sandbox started for the command), options named as typed."""
    from .runs import connection

    def spelled(name: str) -> str:
        return "--" + name.replace("_", "-")

    return connection(integration_id, api_key, server_url, region, use_sandbox, spelled, **tuning)


@main.command()
@input_options
@report_options
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
    outputs: OutputOptions,
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
    valid, 1 when some are not, 2 when the file or the mapping cannot be used. The report,
    report.html and the rejects go into INPUT's run folder (--out to choose another).

    Example:

    \b
        kombo-import validate example_data/candidates.xlsx -m mappings/example.yaml --annotated
    """
    from .report import output_lines, summary_json, summary_lines
    from .runs import catalog_for, dry_run

    options = dataclasses.replace(_placed(dry, outputs).dry, integration_id=integration_id)
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
            catalog = catalog_for(options, settings)
    with ValidationProgress(quiet) as progress:
        result = dry_run(options, on_progress=progress, catalog=catalog, on_open=progress.opened)
    summary, source = result.summary, result.table.describe()
    written = _written(options)
    if as_json:
        _echo_json(summary_json(summary, source, {k: str(v) for k, v in written.items()}))
    else:
        for line in summary_lines(summary, source, options.report_path, terminal_width=_width()):
            _echo(line)
        for line in output_lines(written, result.replaced, options.redact):
            _echo(line)
    sys.exit(EXIT_OK if summary.invalid == 0 else EXIT_ROWS_FAILED)


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
    help=(
        "Requests per second at most, all requests together (98 percent of it on average, "
        "never more in any second)."
    ),
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
        "Every input row in input order: row, its columns, then status,candidate_id,"
        "application_id,code,message,attempts,log_url,warnings,actions. Default: results.csv "
        "in the run's folder."
    ),
)
@click.option(
    "--results-split",
    is_flag=True,
    help=(
        "Also write success.csv (rows created or already there) and error.csv (the others, in "
        "their original columns plus 'errors', to fix and import again) in the run's folder."
    ),
)
@click.option(
    "--ledger",
    "ledger_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help=(
        "The SQLite ledger that makes a re-run skip what was created. Default: "
        "INPUT.kombo-ledger.sqlite (for rejects or error.csv a run wrote: its input's)."
    ),
)
@click.option(
    "--retry-failed",
    is_flag=True,
    help=(
        "Send again rows that failed for good in an earlier run, even if unchanged (each is "
        "looked up first: a refused write may have partly happened)."
    ),
)
@click.option(
    "--lookup-window",
    type=click.FloatRange(0, 3600),
    default=DEFAULT_LOOKUP_WINDOW,
    show_default=True,
    help=(
        "Seconds to keep looking up a row whose write Kombo left uncertain (at 5 s, 30 s, 2 min, "
        "5 min, cut at this window); not found by then, it is needs_review."
    ),
)
@click.option(
    "--resend-needs-review",
    is_flag=True,
    help=(
        "Send rows an earlier run left needs_review without looking them up first: only after "
        "checking in the ATS that they are not there."
    ),
)
@click.option(
    "--tag",
    metavar="NAME",
    help=(
        "Add this tag to every candidate created (e.g. import-2026-11-29), so the batch can be "
        "found in the ATS; a tag that fails is a warning, added by the next run."
    ),
)
@click.option(
    "--canary",
    type=click.IntRange(min=1),
    metavar="N",
    help=(
        "Send N rows first, show Kombo's warnings for them, and ask before sending the rest "
        "(without a terminal, stop after the N)."
    ),
)
@click.option("--dry-run", is_flag=True, help="Validate and show what would be sent; send nothing.")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation before sending.")
@click.option("-q", "--quiet", is_flag=True, help="No progress output.")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the result as JSON: the dry run's summary, what became of the rows, the files.",
)
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
    outputs: OutputOptions,
    ledger_path: Path | None,
    retry_failed: bool,
    lookup_window: float,
    resend_needs_review: bool,
    tag: str | None,
    canary: int | None,
    dry_run: bool,
    yes: bool,
    quiet: bool,
    as_json: bool,
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
    from .ledger import default_path as default_ledger_path
    from .report import output_lines, plural, printable, summary_lines
    from .runs import SubmitOptions, submit_file
    from .sending import Status

    if not (dry_run or yes or sys.stdin.isatty()):
        raise click.UsageError(
            "standard input is not a terminal, so nobody can confirm the sending: pass --yes to "
            "send without asking (or --dry-run)."
        )
    input_path = _named_input(dry.input_path)
    placed = _placed(dry, outputs)
    scratch = None
    if ledger_path is None and use_sandbox:  # each --sandbox run starts empty: so does its ledger
        scratch = tempfile.TemporaryDirectory(prefix="kombo-sandbox-")
        ledger_path = Path(scratch.name) / "ledger.sqlite"
    ledger_path = ledger_path or default_ledger_path(input_path)
    progress = SendingProgress(quiet)
    validating = ValidationProgress(quiet)

    def confirm(result: DryRunResult) -> bool:
        validating.done()
        for line in summary_lines(
            result.summary, result.table.describe(), dry.report_path, terminal_width=_width()
        ):
            _echo(line)
        target = (
            f"{plural(result.summary.valid, 'valid row')} to integration "
            f"{settings.integration_id}\n  at {settings.server_url}"
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

    def confirm_canary(stats: SubmitStats) -> bool:
        """After the canary: what Kombo said about its rows, then whether to send the rest."""
        progress.done()
        counts = stats.by_status
        _echo(
            f"Canary: {plural(counts[Status.CREATED], 'row')} created, "
            f"{counts[Status.FAILED]:,} failed, {counts[Status.NEEDS_REVIEW]:,} need review."
        )
        if not stats.kombo_warnings:
            _echo("Kombo gave no warnings for them.")
        for message, count in stats.kombo_warnings.most_common():
            _echo(f"Kombo's warning: {printable(message)}: {plural(count, 'row')}")
        if not sys.stdin.isatty():
            _echo("Not a terminal, so nobody can confirm the rest: stopping after the canary.")
            return False
        return _confirmed("Send the rest?")

    dry = placed.dry
    tuning = {
        "batch_size": batch_size,
        "concurrency": concurrency,
        "rate_limit": rate_limit,
        "max_wait": max_wait,
        "request_timeout": request_timeout,
        "lookup_window": lookup_window,
        "tag": tag,
    }
    with _connection(
        integration_id, api_key, server_url, region, use_sandbox, **tuning
    ) as settings:
        dry = dataclasses.replace(dry, integration_id=settings.integration_id)
        try:
            outcome = submit_file(
                SubmitOptions(
                    dry,
                    placed.results_path,
                    not dry_run,
                    ledger_path,
                    retry_failed,
                    check_remote,
                    success_path=placed.success_path,
                    error_path=placed.error_path,
                    resend_needs_review=resend_needs_review,
                    canary=canary,
                ),
                settings,
                confirm,
                on_progress=progress,
                on_validate_progress=validating,
                on_validate_open=validating.opened,
                confirm_canary=confirm_canary,
            )
        finally:
            validating.done()
            progress.done()
    in_order = outcome.results_path == placed.results_path  # else: the input changed meanwhile
    written = _written(
        dry,
        results=outcome.results_path if in_order else None,
        partial=None if in_order else outcome.results_path,
        success=placed.success_path if in_order else None,
        error=placed.error_path if in_order else None,
    )
    files = output_lines(written, outcome.dry.replaced, dry.redact)
    if as_json:
        _echo_json(_submit_json(outcome, written, None if scratch else ledger_path))
        sys.exit(_submit_exit_code(outcome))
    if outcome.stats is None:
        if dry_run:
            for line in summary_lines(
                outcome.dry.summary,
                outcome.dry.table.describe(),
                dry.report_path,
                terminal_width=_width(),
            ):
                _echo(line)
            _echo(f"Dry run: {outcome.dry.summary.valid:,} rows would be sent; nothing was.")
        for line in files:
            _echo(line)
        sys.exit(_submit_exit_code(outcome))
    counts = outcome.stats.by_status
    _echo(
        f"Created {counts[Status.CREATED]:,}   already there {counts[Status.SKIPPED]:,}   "
        f"failed {counts[Status.FAILED]:,}   needs review {counts[Status.NEEDS_REVIEW]:,}   "
        f"not sent {counts[Status.NOT_SENT]:,}"
    )
    _echo(
        f"  ({plural(outcome.stats.sent, 'request')}, "
        f"{plural(outcome.stats.retries, 'retry', 'retries')}, "
        f"{plural(outcome.stats.lookups, 'lookup')})"
    )
    for message, count in outcome.stats.kombo_warnings.most_common():
        _echo(f"Kombo's warning: {printable(message)}: {plural(count, 'row')}")
    if counts[Status.NEEDS_REVIEW]:
        _echo(
            f"{plural(counts[Status.NEEDS_REVIEW], 'row')} may or may not have been created: "
            "Kombo's answer was uncertain and no lookup found them (or lookups are not "
            "available). Check them in the ATS (their message names the email and job); the "
            "next run looks them up again and sends only what is not there."
        )
    done, missed = outcome.stats.actions_done, outcome.stats.actions_failed
    added = [
        plural(done[kind], noun)
        + (f" ({missed[kind]:,} not: see the rows' warnings)" if missed[kind] else "")
        for kind, noun in (("note", "note"), ("reject", "rejection"), ("tag", "tag"))
        if done[kind] or missed[kind]
    ]
    added += [
        f"no {noun}s: this integration does not offer them"
        for kind, noun in (("note", "note"), ("reject", "rejection"), ("tag", "tag"))
        if outcome.stats.actions_unoffered[kind] and not (done[kind] or missed[kind])
    ]
    if added:
        _echo(f"After the create: {'; '.join(added)}.")
    if sum(missed.values()):
        _echo(
            "Actions not done are sent by the next run, except those whose answer was lost "
            "(needs review: check them in the ATS)."
        )
    if outcome.stats.changed:
        _echo(
            f"{outcome.stats.changed:,} rows were created in an earlier run and have changed "
            "since; they were not sent again (code changed_since_import)."
        )
    for line in files:
        _echo(line)
    _echo(
        "The ledger was temporary, like the sandbox."
        if scratch
        else f"The ledger is {ledger_path} (the next run finds it there)."
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
    sys.exit(_submit_exit_code(outcome))


def _submit_exit_code(outcome: SubmitRunResult) -> int:
    """0 when every row is in the ATS (sending nothing: when every row is valid), 130 when
    interrupted, else 1."""
    from .sending import Status

    stats = outcome.stats
    if stats is None:
        return EXIT_OK if outcome.dry.summary.invalid == 0 else EXIT_ROWS_FAILED
    if stats.stopped_by in ("interrupt", "abandoned"):
        return EXIT_INTERRUPTED
    counts = stats.by_status
    fine = (
        counts[Status.FAILED] == 0
        and counts[Status.NOT_SENT] == 0
        and counts[Status.NEEDS_REVIEW] == 0
        and stats.changed == 0
        and not sum(stats.actions_failed.values())  # a note, rejection or tag not done
    )
    return EXIT_OK if fine else EXIT_ROWS_FAILED


def _submit_json(
    outcome: SubmitRunResult, written: dict[str, Path], ledger_path: Path | None
) -> dict[str, Any]:
    """`submit --json`: the dry run's summary as `validate --json` gives it, then `sending`
    (null when nothing was sent) and the ledger (null when it was temporary)."""
    from .report import summary_json

    dry, stats = outcome.dry, outcome.stats
    files = {name: str(path) for name, path in written.items()}
    result = summary_json(dry.summary, dry.table.describe(), files)
    result["sending"] = None
    if stats is not None:
        result["sending"] = {
            "by_status": dict(stats.by_status.most_common()),
            "requests": stats.sent,
            "retries": stats.retries,
            "lookups": stats.lookups,
            "changed_since_import": stats.changed,
            "kombo_warnings": dict(stats.kombo_warnings.most_common()),
            "stopped_by": stats.stopped_by,
        }
    result["ledger"] = None if ledger_path is None else str(ledger_path)
    return result


@main.command()
@click.argument("ledger_path", metavar="LEDGER", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print what the ledger holds as JSON.")
def status(ledger_path: Path, as_json: bool) -> None:
    """Show what a ledger holds: applications by state per integration, the rows a run would
    still send or settle, and those that failed for good. Safe while a run is going.

    \b
        kombo-import status example_data/candidates.xlsx.kombo-ledger.sqlite
    """
    from .ledger import ledger_summary
    from .report import printable

    summary = ledger_summary(ledger_path)
    counts, to_do, failures = summary.counts, summary.to_do, summary.failures
    if as_json:
        _echo_json(
            {
                "ledger": str(ledger_path),
                "integrations": {
                    integration: dict(_in_state_order(by_state))
                    for integration, by_state in counts.items()
                },
                "actions": {kind: dict(states) for kind, states in summary.actions.items()},
                "to_do": [_record_json(r) for r in to_do],
                "failed": [_record_json(r) for r in failures],
            }
        )
        return
    if not counts:
        _echo(f"{printable(str(ledger_path))}: empty.")
        return
    for integration, by_state in counts.items():
        states = "   ".join(f"{state} {count:,}" for state, count in _in_state_order(by_state))
        _echo(f"{printable(integration)}: {states}")
    for kind, by_state in summary.actions.items():
        states = "   ".join(f"{state} {count:,}" for state, count in sorted(by_state.items()))
        _echo(f"  after the create, {kind}s: {states}")
    if summary.actions and any(s.get("needs_review") for s in summary.actions.values()):
        _echo(
            "  Actions that need review were sent and their answer lost: the next run looks tags "
            "and rejections up on the candidate; notes, which Kombo does not read back, need a "
            "look in the ATS, then --resend-needs-review for those that are missing."
        )
    for title, records in (
        ("Still to do (a run sends or settles these)", to_do),
        ("Failed for good (fix the row, or --retry-failed)", failures),
    ):
        if records:
            _echo(f"{title}:")
            for r in records:
                detail = f" {r.error_code}: {r.error_message}" if r.error_code else ""
                _echo(
                    printable(
                        f"  {Path(r.source).name} row {r.row_number}  {r.email}  job {r.job_id}  "
                        f"[{r.state}]{detail}"
                    )
                )


_STATE_ORDER = ("created", "pending", "sending", "needs_review", "failed")


def _in_state_order(by_state: Any) -> list[tuple[str, int]]:
    """A ledger's counts by state, in the order of a row's life, states with none left out."""
    order = {state: index for index, state in enumerate(_STATE_ORDER)}
    states = sorted(by_state, key=lambda state: (order.get(state, len(order)), state))
    return [(state, by_state[state]) for state in states if by_state[state]]


def _record_json(record: Any) -> dict[str, Any]:
    """One ledger record in `status --json`: where the row was, and what became of it."""
    return {
        "source": record.source,
        "row": record.row_number,
        "email": record.email,
        "job_id": record.job_id,
        "state": record.state,
        "attempts": record.attempts,
        "candidate_id": record.candidate_id,
        "application_id": record.application_id,
        "code": record.error_code,
        "message": record.error_message,
    }


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
    "--read-lag",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    metavar="SECONDS",
    help="Seconds before a new candidate shows in GET /ats/candidates (Kombo's reads are synced).",
)
@click.option(
    "--fault",
    "faults",
    multiple=True,
    metavar="NAME=RATE",
    help=(
        "Answer that share (0 to 1) of POST /ats/candidates with a fault: 429, 500, 502, 503, "
        "403, drop, drop_after_create, task_timeout, job_closed, unknown_code (a code newer "
        "than the SDK), or a Kombo code: INTEGRATION.* (409), REMOTE.SERVICE_UNAVAILABLE, "
        "REMOTE.RATE_LIMIT_EXCEEDED, REMOTE.UNKNOWN_HTTP_ERROR, REMOTE.INPUT_INVALID, "
        "PLATFORM.IP_NOT_WHITELISTED. Repeatable."
    ),
)
@click.option(
    "--disable-model",
    "disabled_models",
    multiple=True,
    metavar="MODEL",
    help=(
        "A read model off in the integration's scope: its GET answers 409 "
        "INTEGRATION.MODEL_DISABLED. candidates, jobs, users, tags, rejection_reasons. Repeatable."
    ),
)
@click.option(
    "--disable-action",
    "disabled_actions",
    multiple=True,
    metavar="ACTION",
    help=(
        "An action off in the integration's scope: it answers 409 INTEGRATION.ACTION_DISABLED. "
        "ats_create_candidate, ats_add_candidate_tag, ats_add_application_note, "
        "ats_reject_application. Repeatable."
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
    read_lag: float,
    faults: tuple[str, ...],
    disabled_models: tuple[str, ...],
    disabled_actions: tuple[str, ...],
    seed: int,
) -> None:
    """Run a local Kombo-compatible API until Ctrl-C, for demos and tests.

    It checks the key and the integration id, validates requests against Kombo's published
    schema (400 PLATFORM.INPUT_INVALID naming the field, as Kombo answers), remembers what it
    created (a duplicate answers ATS.APPLICATION_ALREADY_EXISTS), serves jobs, candidates,
    users, tags (and adding one to a candidate), rejection reasons, notes and rejections of
    applications, sends Kombo's Concurrency-* and ratelimit-* headers, and injects the faults
    asked for. Lookups refused as when the integration's scope has the candidates model off:
    --disable-model candidates. Tags unavailable: --disable-model tags --disable-action
    ats_add_candidate_tag.

    Examples:

    \b
        kombo-import sandbox --latency 0.1 --fault 429=0.05 --fault drop_after_create=0.01
        kombo-import sandbox --read-lag 5 --fault drop_after_create=0.1
    """
    import asyncio
    import errno

    from .sandbox import FAULT_NAMES, Sandbox, SandboxConfig
    from .sandbox.faults import check_rate

    rates = {}
    for fault in faults:
        name, sep, rate = fault.partition("=")
        if name not in FAULT_NAMES or not sep:
            raise click.BadParameter(
                f"'{fault}': expected NAME=RATE with NAME one of {', '.join(FAULT_NAMES)}.",
                param_hint="--fault",
            )
        try:
            rates[name] = float(rate)
            check_rate(name, rates[name])
        except ValueError as exc:
            reason = "the rate must be a number between 0 and 1" if "could not" in str(exc) else exc
            raise click.BadParameter(f"'{fault}': {reason}.", param_hint="--fault") from None
    try:
        config = SandboxConfig(
            api_key=sandbox_key,
            integration_id=integration_id,
            latency=latency,
            rate_limit=rate_limit,
            concurrency_limit=concurrency_limit,
            read_lag=read_lag,
            fault_rates=rates,
            disabled_models=set(disabled_models),
            disabled_actions=set(disabled_actions),
            seed=seed,
        )
    except ValueError as exc:  # a model or action it does not know
        raise click.UsageError(f"{exc}.") from None
    server = Sandbox(config, host, port)

    async def serve() -> None:
        try:
            await server.open()  # bind first: a taken port is said before any banner
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ConfigError(
                    f"port {port} on {host} is taken: another program (perhaps another sandbox) "
                    "listens there. Choose another with --port N, or --port 0 for a free one."
                ) from None
            raise ConfigError(
                f"cannot listen on {host}:{port}: {exc.strerror or exc}. Check --host and --port."
            ) from None
        _echo(
            f"Kombo sandbox on {server.url}\n  API key:        {sandbox_key}\n  Integration id: "
            f"{integration_id}\nCtrl-C to stop."
        )
        await server.serve()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        _echo(f"\nStopped. It had created {len(server.state.created):,} candidates.")


@main.command()
@click.argument("search", required=False)
@click.option(
    "--status",
    help="Only jobs with this status (OPEN, CLOSED, DRAFT, ARCHIVED; any case).",
)
@api_options
@click.option("--json", "as_json", is_flag=True, help="Print the jobs as JSON.")
def jobs(
    search: str | None,
    status: str | None,
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
    SEARCH keeps the jobs whose title or id holds it.

    \b
        kombo-import jobs --integration-id acme:greenhouse --status OPEN engineer
    """
    from .report import plural, printable

    with _connection(
        integration_id, api_key, server_url, region, use_sandbox, request_timeout=request_timeout
    ) as settings:
        from .runs import fetch_catalog

        found = _chosen_jobs(fetch_catalog(settings).listed, search, status)
    if as_json:
        _echo_json(found)
        return
    for line in _job_lines(found):  # the server's text, made safe for a terminal
        _echo(_clipped(printable(line), JOBS_WIDTH))
    _echo(f"{plural(len(found), 'job')}.")


JOBS_WIDTH = 80  # the jobs table fits a terminal of 80 columns; only titles are cut


def _chosen_jobs(
    found: list[dict[str, Any]], search: str | None, status: str | None
) -> list[dict[str, Any]]:
    """The jobs of that status whose title, id, remote id or code holds SEARCH (any case)."""
    term = " ".join((search or "").split()).casefold()
    chosen = []
    for job in found:
        if status and str(job.get("status") or "").casefold() != status.strip().casefold():
            continue
        names = [str(job.get(k) or "") for k in ("name", "id", "remote_id", "job_code")]
        if term and not any(term in " ".join(n.split()).casefold() for n in names):
            continue
        chosen.append(job)
    return chosen


def _clipped(line: str, width: int) -> str:
    return line if len(line) <= width else line[: width - 1] + "…"


def _job_lines(found: list[dict[str, Any]]) -> Iterator[str]:
    """A table: each job (id, status, title), then its stages, questions and their options."""
    yield f"{'id':<24}  {'status':<8}  title"
    for job in found:
        yield f"{job['id']}  {str(job.get('status') or '?'):<8}  {job.get('name') or ''}"
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
@api_options
def init(
    input_path: Path,
    output_path: Path,
    sheet: str | None,
    header_row: int | None,
    encoding: str | None,
    delimiter: str | None,
    force: bool,
    integration_id: str | None,
    api_key: str | None,
    server_url: str | None,
    region: str,
    use_sandbox: bool,
    request_timeout: float,
) -> None:
    """Draft a mapping from INPUT's headers (in English, German, French, Spanish, Dutch,
    Italian, Polish and Czech) and values, with a comment on every column.

    With --integration-id (or --sandbox), job, stage and screening question ids come from the
    integration, matched to the file's values. What only you know is left as TODO, which the
    dry run refuses row by row until you edit it.

    \b
        kombo-import init export.xlsx -o mappings/acme.yaml --integration-id acme:greenhouse
    """
    from .report import plural
    from .runs import draft_mapping_file

    source = _copy_standard_input() if input_path == STDIN_ARGUMENT else input_path
    arguments = (source, output_path, sheet, header_row, force, encoding, _delimiter(delimiter))
    if integration_id or use_sandbox:
        with _connection(
            integration_id,
            api_key,
            server_url,
            region,
            use_sandbox,
            request_timeout=request_timeout,
        ) as settings:
            _, draft = draft_mapping_file(*arguments, settings=settings)
    else:
        _, draft = draft_mapping_file(*arguments)
    placed = len(draft.placements) + len(draft.questions)
    _echo(
        f"Wrote {output_path}: {plural(placed, 'column')} placed, {len(draft.unplaced):,} not "
        f"placed, {len(draft.ignored):,} left out on purpose (of {len(draft.columns):,}; each "
        "listed at its end)."
    )
    if draft.todo_lines:
        lines = ", ".join(str(n) for n in draft.todo_lines[:20])
        more = " …" if len(draft.todo_lines) > 20 else ""
        _echo(f"Edit the TODO on line{'s' if len(draft.todo_lines) > 1 else ''} {lines}{more}.")
    _echo(f"Next: kombo-import validate {input_path} -m {output_path}")
