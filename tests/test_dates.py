"""Dates are read by column, not by cell: one order per column, decided from all its values."""

from __future__ import annotations

from click.testing import CliRunner
from conftest import JOB, read_csv, submit_command

from importer.cli import main

MAPPING = """
candidate:
  first_name: First
  last_name: Last
  email_address: Email
  availability_date: {{column: Available{transform}}}
application: {{job_id: {{value: J}}}}
{input}"""


def validate(write_csv, write_mapping, tmp_path, dates, transform="", input_section=""):
    rows = [["First", "Last", "Email", "Available"]] + [
        [f"P{i}", "Wolf", f"p{i}@example.com", d] for i, d in enumerate(dates)
    ]
    source = write_csv(rows)
    mapping = write_mapping(MAPPING.format(transform=transform, input=input_section))
    report, annotated = tmp_path / "report.csv", tmp_path / "annotated.xlsx"
    result = CliRunner().invoke(
        main,
        [
            "validate",
            str(source),
            "-m",
            str(mapping),
            "--report",
            str(report),
            "--annotated",
            str(annotated),
        ],
    )
    found = [(int(r["row"]), r["code"], r["severity"]) for r in read_csv(report)]
    return result, found, annotated


def sent_dates(annotated):
    import openpyxl

    return [row[4].value for row in openpyxl.load_workbook(annotated).active.iter_rows(min_row=2)]


def test_a_us_column_is_read_month_first_throughout(write_csv, write_mapping, tmp_path):
    """03/05/2025 and 05/13/2025 in one column: the second proves month first, so the first is
    read as 5 March, with a warning saying why (a cell alone would have been read day first)."""
    result, found, _ = validate(
        write_csv,
        write_mapping,
        tmp_path,
        ["03/05/2025", "05/13/2025", "12/31/2025"],
        ", transform: [date]",
    )
    assert result.exit_code == 0, result.output
    assert found == [(2, "date_order", "warning")]
    report = read_csv(tmp_path / "report.csv")[0]
    assert (
        report["message"]
        == "'03/05/2025' read as 05 March 2025: 2 dates in the column are month first."
    )


def test_a_day_first_column_reads_ambiguous_dates_day_first_and_refuses_the_contradiction(
    write_csv, write_mapping, tmp_path
):
    result, found, _ = validate(
        write_csv, write_mapping, tmp_path, ["31/03/2025", "25/12/2025", "03/05/2025", "05/13/2025"]
    )
    assert result.exit_code == 1
    assert found == [(4, "date_order", "warning"), (5, "invalid_date", "error")]
    assert (
        "is month first, but its column is day first (2 dates in the column are day first)"
        in read_csv(tmp_path / "report.csv")[1]["message"]
    )


def test_when_nothing_settles_the_order_ambiguous_dates_are_problems_naming_the_fix(
    write_csv, write_mapping, tmp_path
):
    result, found, _ = validate(
        write_csv, write_mapping, tmp_path, ["03/05/2025", "2025-06-01", "07/07/2025"]
    )
    assert result.exit_code == 1
    assert found == [(2, "ambiguous_date", "error")]  # ISO and 07/07 are the same either way
    assert "input: {date_order: day_first}" in read_csv(tmp_path / "report.csv")[0]["message"]


def test_the_mapping_settles_a_column_that_proves_nothing(write_csv, write_mapping, tmp_path):
    result, found, _ = validate(
        write_csv,
        write_mapping,
        tmp_path,
        ["03/05/2025", "04/06/2025"],
        input_section="input: {date_order: month_first}\n",
    )
    assert result.exit_code == 0 and found == [], result.output
    result, found, _ = validate(
        write_csv,
        write_mapping,
        tmp_path,
        ["03/05/2025"],
        ", transform: [{date: {dayfirst: true}}]",
    )
    assert result.exit_code == 0 and found == [], result.output


def test_submit_sends_the_order_the_column_proved(sandbox, write_csv, write_mapping, tmp_path):
    rows = [
        ["First", "Last", "Email", "Available"],
        ["A", "W", "a@example.com", "03/05/2025"],
        ["B", "W", "b@example.com", "05/13/2025"],
    ]
    source = write_csv(rows)
    mapping = write_mapping(
        MAPPING.format(transform=", transform: [date]", input="").replace(
            "{value: J}", f"{{value: {JOB}}}"
        )
    )
    args = submit_command(source, mapping, sandbox.url, tmp_path / "l.sqlite", tmp_path / "r.csv")
    result = CliRunner().invoke(main, [str(a) for a in args] + ["--no-check-remote"])
    assert result.exit_code == 0, result.output
    sent = {c.email: c.body["candidate"]["availability_date"] for c in sandbox.state.created}
    assert sent == {
        "a@example.com": "2025-03-05T00:00:00Z",
        "b@example.com": "2025-05-13T00:00:00Z",
    }


def test_a_deprecated_field_is_noted_once_in_the_summary(write_csv, write_mapping):
    source = write_csv(
        [["First", "Last", "Email", "Where"], ["A", "W", "a@example.com", "Job fair"]]
    )
    mapping = write_mapping(
        "candidate: {first_name: First, last_name: Last, email_address: Email}\n"
        "application: {job_id: {value: J}}\nsource: {name: Where}\n"
    )
    result = CliRunner().invoke(main, ["validate", str(source), "-m", str(mapping)])
    assert result.exit_code == 0, result.output
    assert result.output.count("Note: the mapping sets source, which Kombo has deprecated") == 1
