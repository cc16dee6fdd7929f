"""The CLI end to end on real files: exit codes, exact report lines, and the files written."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from conftest import read_csv

from importer.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_XLSX = ROOT / "example_data" / "candidates.xlsx"
EXAMPLE_CSV = ROOT / "example_data" / "candidates.csv"
EXAMPLE_MAPPING = ROOT / "mappings" / "example.yaml"


def run(*args: str | Path):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_the_bundled_example_reports_its_mistakes_exactly(tmp_path):
    report, rejects = tmp_path / "errors.csv", tmp_path / "rejects.csv"
    result = run(
        "validate", EXAMPLE_XLSX, "-m", EXAMPLE_MAPPING, "--report", report, "--rejects", rejects,
        "--out", tmp_path / "out",
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert "Rows read: 60   valid: 50   invalid: 10   problems: 10   warnings: 6" in result.output
    warnings = [
        (r["row"], r["column"], r["code"]) for r in read_csv(report) if r["severity"] == "warning"
    ]
    assert {code for _, _, code in warnings} == {"numeric_text"} and len(
        warnings
    ) == 6  # phone numbers stored as numbers
    lines = [
        (r["row"], r["column"], r["field"], r["value"], r["code"])
        for r in read_csv(report)
        if r["severity"] == "error"
    ]
    assert lines == [
        ("8", "E-Mail", "candidate.email_address", "jonas.weber@gmx", "invalid_email"),
        ("13", "Available from", "candidate.availability_date", "31.02.2026", "invalid_date"),
        ("17", "CV", "attachments[0]", "cvs/lena_koch_cv.pdf", "file_not_found"),
        (
            "21",
            "Salary expectation",
            "candidate.salary_expectations.amount",
            "negotiable",
            "invalid_number",
        ),
        ("26", "Country", "candidate.location.country", "Bavaria", "unknown_country"),
        ("31", "Last Name", "candidate.last_name", "", "required"),
        ("35", "Job", "application.job_id", "Office Manager", "unknown_value"),
        ("40", "Mobile", "candidate.phone_number", "n/a", "invalid_phone"),
        (
            "45",
            "LinkedIn",
            "candidate.social_links[0]",
            "linkedin profile on request",
            "invalid_url",
        ),
        ("52", "E-Mail", "candidate.email_address", "emma_hoffmann3@gmx.de", "duplicate_in_file"),
    ]
    first = next(r for r in read_csv(report) if r["severity"] == "error")
    assert (
        first["message"] == "'jonas.weber@gmx' is not an email address; expected name@example.com."
    )
    rejected = read_csv(rejects)
    assert len(rejected) == 10
    assert rejected[0]["E-Mail"] == "jonas.weber@gmx"
    assert rejected[0]["errors"].startswith(
        "row 8, E-Mail: 'jonas.weber@gmx' is not an email address"
    )


def test_csv_and_xlsx_of_the_same_export_give_the_same_problems(tmp_path):
    for source in (EXAMPLE_XLSX, EXAMPLE_CSV):
        report, out = tmp_path / f"{source.suffix}.csv", tmp_path / source.suffix[1:]
        run("validate", source, "-m", EXAMPLE_MAPPING, "--report", report, "--out", out)
    # The xlsx stores some phone numbers as numbers (a warning each); the CSV holds text.
    from_xlsx = [
        (r["field"], r["code"], r["value"])
        for r in read_csv(tmp_path / ".xlsx.csv")
        if r["severity"] == "error"
    ]
    from_csv = [
        (r["field"], r["code"], r["value"])
        for r in read_csv(tmp_path / ".csv.csv")
        if r["severity"] == "error"
    ]
    assert from_xlsx == from_csv


def test_rejected_rows_can_be_fixed_and_imported_again_with_the_same_mapping(tmp_path):
    shutil.copytree(ROOT / "example_data", tmp_path / "data", ignore=shutil.ignore_patterns("*.py"))
    rejects = tmp_path / "data" / "rejects.csv"
    run(
        "validate",
        tmp_path / "data" / "candidates.xlsx",
        "-m",
        EXAMPLE_MAPPING,
        "--rejects",
        rejects,
    )
    again = run("validate", rejects, "-m", EXAMPLE_MAPPING, "--json")
    summary = json.loads(again.output)
    assert (summary["rows_read"], summary["invalid"]) == (
        10,
        9,
    )  # the duplicate's first row is not in the file
    fixed = (
        rejects.read_text(encoding="utf-8-sig")
        .replace("jonas.weber@gmx;", "jonas.weber@gmx.de;")
        .replace("jonas.weber@gmx,", "jonas.weber@gmx.de,")
    )
    rejects.write_text(fixed, encoding="utf-8-sig")
    summary = json.loads(run("validate", rejects, "-m", EXAMPLE_MAPPING, "--json").output)
    assert summary["invalid"] == 8
    assert "invalid_email" not in summary["problems_by_code"]


def test_json_summary(tmp_path):
    result = run("validate", EXAMPLE_CSV, "-m", EXAMPLE_MAPPING, "--json", "--out", tmp_path)
    summary = json.loads(result.output)
    assert summary["rows_read"] == 60 and summary["valid"] == 50
    assert summary["problems_by_code"]["duplicate_in_file"] == 1
    assert summary["first_problems"][0] == {
        "row": 6,
        "column": "E-Mail",
        "field": "candidate.email_address",
        "value": "jonas.weber@gmx",
        "code": "invalid_email",
        "message": "'jonas.weber@gmx' is not an email address; expected name@example.com.",
        "severity": "error",
    }


def test_all_valid_exits_0(write_csv, write_mapping):
    from conftest import BASIC_MAPPING

    result = run(
        "validate",
        write_csv([["First", "Last", "Email"], ["Anna", "Wolf", "a@example.com"]]),
        "-m",
        write_mapping(BASIC_MAPPING),
    )
    assert result.exit_code == 0
    assert "Rows read: 1   valid: 1   invalid: 0   problems: 0" in result.output


def test_a_column_the_file_lacks_is_a_config_error_with_a_suggestion(write_csv, write_mapping):
    mapping = write_mapping(
        "candidate:\n  first_name: First\n  last_name: Last\n  email_address: E-mail\n"
        "application: {job_id: {value: J}}\n"
    )
    result = CliRunner().invoke(
        main,
        [
            "validate",
            str(write_csv([["First", "Last", "Email Address"], ["A", "B", "a@b.de"]])),
            "-m",
            str(mapping),
        ],
    )
    assert result.exit_code == 2
    assert (
        f"Error: {mapping}, line 4, at candidate.email_address: column 'E-mail' is not in "
        in result.output
    )
    assert "Did you mean 'Email Address'?" in result.output
    assert "Traceback" not in result.output


def test_a_bad_mapping_and_a_missing_input_exit_2(tmp_path, write_mapping, write_csv):
    bad = write_mapping("candidate:\n  emial: Email\napplication: {}\n")
    result = CliRunner().invoke(main, ["validate", str(write_csv([["Email"]])), "-m", str(bad)])
    assert result.exit_code == 2 and "Did you mean 'email_address'?" in result.output
    result = CliRunner().invoke(
        main, ["validate", str(tmp_path / "nope.xlsx"), "-m", str(EXAMPLE_MAPPING)]
    )
    assert result.exit_code == 2 and "nope.xlsx: no such file" in result.output


def test_reports_never_overwrite_the_input(write_csv, write_mapping):
    from conftest import BASIC_MAPPING

    source = write_csv([["First", "Last", "Email"], ["Anna", "Wolf", "bad"]])
    before = source.read_bytes()
    result = CliRunner().invoke(
        main,
        ["validate", str(source), "-m", str(write_mapping(BASIC_MAPPING)), "--report", str(source)],
    )
    assert result.exit_code == 2 and "would overwrite your input" in result.output
    assert source.read_bytes() == before


def test_formulas_in_cells_are_neutralised_in_every_csv_written(write_csv, write_mapping, tmp_path):
    from conftest import BASIC_MAPPING

    source = write_csv(
        [
            ["First", "Last", "Email"],
            ['=HYPERLINK("http://evil.example","x")', "+49 151 1234567", "@SUM(A1)"],
        ]
    )
    report, rejects = tmp_path / "errors.csv", tmp_path / "rejects.csv"
    run(
        "validate",
        source,
        "-m",
        write_mapping(BASIC_MAPPING),
        "--report",
        report,
        "--rejects",
        rejects,
    )
    (problem,) = read_csv(report)
    assert problem["value"] == "'@SUM(A1)"
    (row,) = read_csv(rejects)
    assert row["First"] == '\'=HYPERLINK("http://evil.example","x")'
    assert row["Last"] == "+49 151 1234567"  # a phone number is no formula


def test_every_command_explains_itself_with_an_example():
    for name, command in main.commands.items():
        result = CliRunner().invoke(main, [name, "--help"])
        assert result.exit_code == 0
        assert command.help and "kombo-import " + name in command.help, name


def test_python_dash_m_importer_runs():
    result = subprocess.run(
        [sys.executable, "-m", "importer", "--version"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 0 and "kombo-import, version" in result.stdout


def test_an_unwritable_report_and_a_bad_server_url_are_clear_errors(tmp_path):
    deep = tmp_path / "missing" / "dir" / "file.csv" / "x"
    result = CliRunner().invoke(
        main,
        ["validate", str(EXAMPLE_CSV), "-m", str(EXAMPLE_MAPPING), "--report", str(deep)]
        + ["--out", str(tmp_path / "out")],
    )
    assert result.exit_code == 1 and deep.is_file()  # missing folders are made
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder")
    result = CliRunner().invoke(
        main,
        [
            "validate",
            str(EXAMPLE_CSV),
            "-m",
            str(EXAMPLE_MAPPING),
            "--report",
            str(blocker / "errors.csv"),
            "--out",
            str(tmp_path / "out"),
        ],
    )
    assert result.exit_code == 2 and "Error: " in result.output and "Traceback" not in result.output
    result = CliRunner().invoke(
        main,
        ["jobs", "--integration-id", "x", "--api-key", "k", "--server-url", "ftp://example.com"],
    )
    assert (
        result.exit_code == 2
        and "Error: --server-url: 'ftp://example.com' is not an http(s) URL." in result.output
    )


def test_the_annotated_workbook_marks_the_cells_with_problems(tmp_path):
    import openpyxl

    target = tmp_path / "annotated.xlsx"
    result = run(
        "validate", EXAMPLE_XLSX, "-m", EXAMPLE_MAPPING, "--annotated", target, "--out", tmp_path
    )
    assert result.exit_code == 1 and f"Wrote the annotated workbook to {target}" in result.output
    sheet = openpyxl.load_workbook(target).active
    header = [c.value for c in sheet[1]]
    assert header[0] == "source row" and header[-1] == "problems" and sheet.max_row == 61
    marked = {
        (row[0].value, header[c.column - 1])
        for row in sheet.iter_rows(min_row=2)
        for c in row
        if c.comment
    }
    red = {
        cell
        for cell in marked
        if next(r for r in sheet.iter_rows(min_row=2) if r[0].value == cell[0])[
            header.index(cell[1])
        ].fill.fgColor.rgb.endswith("FFC7CE")
    }
    assert (8, "E-Mail") in red and (31, "Last Name") in red and len(red) == 10
    assert len(marked - red) == 6  # warnings: yellow
    email = next(row for row in sheet.iter_rows(min_row=2) if row[0].value == 8)[
        header.index("E-Mail")
    ]
    assert email.fill.fgColor.rgb.endswith("FFC7CE") and "invalid_email" in email.comment.text


def test_rejects_of_a_file_whose_header_is_not_on_row_1_import_again_with_the_same_mapping(
    tmp_path, write_mapping
):
    import openpyxl

    source = tmp_path / "export.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["Export of 2026-11-20"])
    wb.active.append(["First", "Last", "Email"])
    wb.active.append(["Anna", "Wolf", "anna@example"])
    wb.save(source)
    mapping = write_mapping(
        "input: {header_row: 2}\n"
        "candidate: {first_name: First, last_name: Last, email_address: Email}\n"
        "application: {job_id: {value: J}}\n"
    )
    rejects = tmp_path / "rejects.csv"
    assert run("validate", source, "-m", mapping, "--rejects", rejects).exit_code == 1
    again = run("validate", rejects, "-m", mapping, "--json")
    summary = json.loads(again.output)
    assert (summary["rows_read"], summary["problems_by_code"]) == (1, {"invalid_email": 1})


def test_python_dash_m_importer_with_worker_processes(tmp_path):
    env = dict(__import__("os").environ, KOMBO_IMPORTER_WORKERS="2")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "importer",
            "validate",
            str(EXAMPLE_CSV),
            "-m",
            str(EXAMPLE_MAPPING),
            "--json",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env=env,
    )
    assert result.returncode == 1, result.stderr
    assert json.loads(result.stdout)["invalid"] == 10


def test_encoding_and_delimiter_options_override_detection(tmp_path, write_mapping):
    source = tmp_path / "polish.csv"
    source.write_bytes("Imię;Nazwisko;E-mail\nŁukasz;Żółć;lukasz@example.com\n".encode("cp1250"))
    mapping = write_mapping(
        "candidate: {first_name: Imię, last_name: Nazwisko, email_address: E-mail}\n"
        "application: {job_id: {value: J}}\n"
    )
    report = tmp_path / "report.csv"
    result = run(
        "validate",
        source,
        "-m",
        mapping,
        "--encoding",
        "cp1250",
        "--delimiter",
        ";",
        "--report",
        report,
        "--annotated",
        tmp_path / "a.xlsx",
    )
    assert result.exit_code == 0, result.output
    assert "cp1250" in result.output.splitlines()[0]
    import openpyxl

    row = [c.value for c in openpyxl.load_workbook(tmp_path / "a.xlsx").active[2]]
    assert row[1:3] == ["Łukasz", "Żółć"]
    wrong = run("validate", source, "-m", mapping, "--encoding", "klingon")
    assert wrong.exit_code == 2 and "'klingon' is not an encoding" in wrong.output
