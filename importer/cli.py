"""The `kombo-import` command: parse options, call one library function, print, set the exit code.

Exit codes: 0 every row fine; 1 some rows invalid or failed; 2 usage or config error; 3 the run
was stopped by a fatal API error. This is the only module that prints or imports click.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import click

from . import __version__
from .errors import ImporterError
from .report import summary_json, summary_lines
from .runs import DryRunOptions, dry_run

EXIT_OK, EXIT_ROWS_FAILED, EXIT_CONFIG, EXIT_FATAL = 0, 1, 2, 3


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
            click.echo(f"\r{self.label} {count:,} rows ({rate:,.0f}/s)", nl=False, err=True)

    def done(self) -> None:
        if self.enabled and self.shown_at:
            click.echo("\r" + " " * 60 + "\r", nl=False, err=True)


class _Group(click.Group):
    """Turns the errors that stop a run into `Error: …` and its exit code, in one place."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ImporterError as exc:
            if ctx.obj and ctx.obj.get("verbose"):
                traceback.print_exc()
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            ctx.exit(130)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="kombo-import")
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks for errors.")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """Import candidates from CSV and Excel files into any ATS behind Kombo (POST /ats/candidates).

    Start with a dry run:

    \b
        kombo-import validate example_data/candidates.xlsx -m mappings/example.yaml --report errors.csv
    """
    ctx.ensure_object(dict)
    ctx.obj["verbose"] = verbose


def input_options(command: Any) -> Any:
    """Options shared by every command that reads a spreadsheet."""
    for decorator in reversed(
        [
            click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path, dir_okay=False)),
            click.option("-m", "--mapping", "mapping_path", required=True, type=click.Path(path_type=Path, dir_okay=False), help="The mapping YAML (see mappings/example.yaml)."),
            click.option("--sheet", help="Excel sheet by name, or by position counting from 1. Default: the mapping's, else the first."),
            click.option("--header-row", type=click.IntRange(min=1), help="Row number of the header. Default: found by looking for the mapped columns."),
            click.option("--attachments-dir", type=click.Path(path_type=Path), help="Folder, or .zip archive, that attachment paths are relative to; nothing outside it is read. Default: the input's folder."),
            click.option("--max-attachment-mb", type=click.FloatRange(min=0, min_open=True), default=10.0, show_default=True, help="Largest attachment accepted, in MB."),
        ]
    ):
        command = decorator(command)
    return command


@main.command()
@input_options
@click.option("--report", "report_path", type=click.Path(path_type=Path, dir_okay=False), help="Write every problem to this CSV: row,column,field,value,code,message.")
@click.option("--rejects", "rejects_path", type=click.Path(path_type=Path, dir_okay=False), help="Write the invalid rows, original columns plus 'errors', to this CSV to fix and import again.")
@click.option("--integration-id", help="Kombo integration id the requests are built for (e.g. acme:greenhouse).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON instead of text.")
@click.option("-q", "--quiet", is_flag=True, help="No progress line.")
def validate(input_path: Path, mapping_path: Path, sheet: str | None, header_row: int | None, attachments_dir: Path | None, max_attachment_mb: float, report_path: Path | None, rejects_path: Path | None, integration_id: str | None, as_json: bool, quiet: bool) -> None:
    """Dry run: check every row of INPUT against the mapping; send nothing.

    Reports every problem of every row, prints a summary, and exits 0 when all rows are
    valid, 1 when some are not, 2 when the file or the mapping cannot be used.

    Example:

    \b
        kombo-import validate example_data/candidates.xlsx -m mappings/example.yaml --report errors.csv --rejects rejects.csv
    """
    options = DryRunOptions(input_path, mapping_path, sheet, header_row, attachments_dir, int(max_attachment_mb * 1_000_000), report_path, rejects_path, integration_id)
    progress = _Progress("Validated", enabled=not (quiet or as_json))
    result = dry_run(options, on_progress=progress)
    progress.done()
    summary, source = result.summary, result.table.describe()
    outputs = {k: str(v) for k, v in (("report", report_path), ("rejects", rejects_path)) if v}
    if as_json:
        click.echo(json.dumps(summary_json(summary, source, outputs), indent=2, ensure_ascii=False))
    else:
        for line in summary_lines(summary, source):
            click.echo(line)
        for name, path in outputs.items():
            click.echo(f"Wrote the {'error report' if name == 'report' else 'rejected rows'} to {path}")
    sys.exit(EXIT_OK if summary.invalid == 0 else EXIT_ROWS_FAILED)
