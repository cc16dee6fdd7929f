"""Whole runs, wired from the stages: read -> map -> validate -> report. The CLI calls these."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .attachments import DEFAULT_MAX_BYTES, open_attachment_source
from .build import RequestBuilder
from .errors import ConfigError
from .mapping import Mapping, load_mapping
from .readers import Table, file_kind, read_table
from .report import ErrorReport, RejectedRows
from .validate import ValidationSummary, validate_rows


@dataclass(frozen=True)
class DryRunOptions:
    """Everything `validate` needs; command-line options win over the mapping's `input:`."""

    input_path: Path
    mapping_path: Path
    sheet: str | None = None
    header_row: int | None = None
    attachments_dir: Path | None = None
    max_attachment_bytes: int = DEFAULT_MAX_BYTES
    report_path: Path | None = None
    rejects_path: Path | None = None
    integration_id: str | None = None


@dataclass
class DryRunResult:
    table: Table
    mapping: Mapping
    summary: ValidationSummary


def open_input(options: DryRunOptions) -> tuple[Mapping, Table]:
    """Load the mapping, open the file where the mapping's columns are, and bind the two."""
    mapping = load_mapping(options.mapping_path)
    sheet = options.sheet
    if sheet is None and options.input_path.is_file() and file_kind(options.input_path) == "excel":
        sheet = mapping.input.sheet  # the mapping's sheet does not stop it reading a CSV export
    table = read_table(
        options.input_path,
        sheet=sheet,
        header_row=options.header_row or mapping.input.header_row,
        expected_columns=mapping.columns(),
        encoding=mapping.input.encoding,
        delimiter=mapping.input.delimiter,
    )
    mapping.bind(table.headers, table.describe())
    return mapping, table


def dry_run(options: DryRunOptions, on_progress: Callable[[int], None] | None = None) -> DryRunResult:
    """Check every row of the input against the mapping and write the reports asked for."""
    _refuse_overwriting_input(options)
    mapping, table = open_input(options)
    attachments = open_attachment_source(options.attachments_dir or options.input_path.parent, options.max_attachment_bytes)
    builder = RequestBuilder(mapping, attachments, options.integration_id)
    summary = ValidationSummary()
    report = ErrorReport(options.report_path) if options.report_path else None
    rejects = RejectedRows(options.rejects_path, table.headers) if options.rejects_path else None
    try:
        for built in validate_rows(table.rows, builder, summary, on_progress):
            if built.issues:
                if report:
                    report.write(built.issues)
                if rejects:
                    rejects.write(built.source, built.issues)
    finally:
        for out in (report, rejects):
            if out:
                out.close()
    return DryRunResult(table, mapping, summary)


def _refuse_overwriting_input(options: DryRunOptions) -> None:
    given = {options.input_path.resolve(), options.mapping_path.resolve()}
    for flag, path in (("--report", options.report_path), ("--rejects", options.rejects_path)):
        if path is not None and path.resolve() in given:
            raise ConfigError(f"{flag} {path} would overwrite your input; choose another file name.")
