"""`report.html` and `--redact`'s masks: the page is read back the way a browser reads it
(`html.parser`), from error reports the CLI wrote: it loads nothing, shows hostile cells as text,
its numbers are the CSV's, and a masked report shares no name, address or phone of the input."""

from __future__ import annotations

import base64
import csv
import hashlib
import json
import re
import shutil
import subprocess
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import read_csv

from importer import html_report
from importer.checks import ValidationSummary
from importer.cli import main
from importer.html_report import write_html_report
from importer.issues import Issue, Severity
from importer.masking import mask
from importer.report import ErrorReport

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_XLSX = ROOT / "example_data" / "candidates.xlsx"
EXAMPLE_MAPPING = ROOT / "mappings" / "example.yaml"
CHROMIUM = Path("/usr/bin/chromium")


class Page(HTMLParser):
    """The parsed page: every tag with its attributes, the text of each element by id, the
    style and script texts, the cells of each table."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self.tables: dict[str, list[list[str]]] = {}
        self.texts: dict[str, str] = {}
        self._open: list[tuple[str, str | None]] = []  # (tag, id) of the elements open
        self._ids_text: dict[str, list[str]] = {}
        self._table: str | None = None
        self._cell: list[str] | None = None
        self._raw: list[str] | None = None
        self.feed(text)
        self.close()
        self.texts = {key: "".join(parts) for key, parts in self._ids_text.items()}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        self.tags.append((tag, attributes))
        if tag in ("script", "style"):
            self._raw = []
        if tag == "table":
            self._table = attributes.get("id", "")
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = []
        if tag not in ("meta", "input", "br"):  # void elements never close
            self._open.append((tag, attributes.get("id")))
            if attributes.get("id"):
                self._ids_text.setdefault(attributes["id"], [])

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._raw is not None:
            (self.scripts if tag == "script" else self.styles).append("".join(self._raw))
            self._raw = None
        if tag in ("td", "th") and self._cell is not None and self._table is not None:
            self.tables[self._table][-1].append("".join(self._cell))
            self._cell = None
        if tag == "table":
            self._table = None
        while self._open:
            if self._open.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._raw is not None:
            self._raw.append(data)
            return
        if self._cell is not None:
            self._cell.append(data)
        for _, element_id in self._open:
            if element_id:
                self._ids_text[element_id].append(data)

    def body_rows(self, table: str) -> list[list[str]]:
        """The rows of a table after its heading row."""
        return self.tables[table][1:]


def validate(source: Path, mapping: Path, report: Path) -> ValidationSummary:
    """`kombo-import validate SOURCE -m MAPPING --report REPORT --json`, its summary as the
    library's value (what the CLI hands `write_html_report`)."""
    result = CliRunner().invoke(
        main,
        ["validate", str(source), "-m", str(mapping), "--report", str(report), "--json"],
        catch_exceptions=False,
    )
    assert result.exit_code in (0, 1), result.output
    data = json.loads(result.output)
    return ValidationSummary(
        rows_read=data["rows_read"],
        valid=data["valid"],
        invalid=data["invalid"],
        problems=data["problems"],
        warnings=data["warnings"],
        problems_by_code=Counter(data["problems_by_code"]),
        warnings_by_code=Counter(data["warnings_by_code"]),
        notices=data["notices"],
    )


def html_of(report: Path, summary: ValidationSummary, **options: object) -> tuple[Path, Page]:
    page = report.with_suffix(".html")
    write_html_report(page, report_csv=report, summary=summary, **options)
    return page, Page(page.read_text(encoding="utf-8"))


def test_the_page_references_nothing_outside_itself(tmp_path):
    """No script, stylesheet, font, image or frame from anywhere, and a policy that forbids
    them: the page works offline and tells nobody it was opened."""
    report = tmp_path / "report.csv"
    summary = validate(EXAMPLE_XLSX, EXAMPLE_MAPPING, report)
    path, page = html_of(report, summary, source="candidates.xlsx, sheet 'Candidates'")
    text = path.read_text(encoding="utf-8")

    for tag, attributes in page.tags:
        assert tag not in ("link", "img", "iframe", "object", "embed", "base", "source"), tag
        for name, value in attributes.items():
            if name in ("src", "href", "action", "srcset", "poster", "data"):
                assert not re.match(r"\s*(https?:|//|file:|data:)", value, re.I), (tag, name, value)
        assert "src" not in attributes, f"<{tag}> loads {attributes['src']}"
    for style in page.styles + [a.get("style", "") for _, a in page.tags]:
        assert "@import" not in style and "url(" not in style.replace(" ", "")
    assert "@font-face" not in text
    assert [tag for tag, _ in page.tags].count("script") == 1

    policy = next(
        a["content"] for t, a in page.tags if a.get("http-equiv") == "Content-Security-Policy"
    )
    assert "default-src 'none'" in policy
    digest = base64.b64encode(hashlib.sha256(page.scripts[0].encode("utf-8")).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in policy  # only the page's own script may run


HOSTILE_HEADER = '<b onmouseover="alert(0)">Email</b>'
SCRIPT_CELL = "<script>alert(1)</script>"
IMG_CELL = '"><img src=x onerror=alert(2)>'
COMMENT_CELL = "</script><!--<script>alert(3)</script>"


def test_a_cell_holding_markup_stays_text(tmp_path, write_csv, write_mapping):
    """Cells, a column name and messages quoting them show as the exact text the file holds,
    in the table, the chart and the chart's attributes: no element, attribute or script of
    theirs reaches the page."""
    source = write_csv(
        [
            ["First", "Last", HOSTILE_HEADER, "Job"],
            ["Ada", "Lovelace", SCRIPT_CELL, "Engineer"],
            ["Alan", "Turing", "alan@example.com", IMG_CELL],
            ["Grace", "Hopper", COMMENT_CELL, "Engineer"],
        ]
    )
    mapping = write_mapping(
        f"""
        version: 1
        candidate:
          first_name: First
          last_name: Last
          email_address: {json.dumps(HOSTILE_HEADER)}
        application:
          job_id: {{column: Job, map: {{Engineer: JOB1}}}}
        """
    )
    report = tmp_path / "report.csv"
    summary = validate(source, mapping, report)
    path, page = html_of(report, summary, source=f"{SCRIPT_CELL}.csv")

    assert [tag for tag, _ in page.tags].count("script") == 1
    assert "img" not in [tag for tag, _ in page.tags] and "b" not in [tag for tag, _ in page.tags]
    assert not [name for _, a in page.tags for name in a if name.startswith("on")]
    rows = page.body_rows("problems")
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        ("2", HOSTILE_HEADER, SCRIPT_CELL, "invalid_email"),
        ("3", "Job", IMG_CELL, "unknown_value"),
        ("4", HOSTILE_HEADER, COMMENT_CELL, "invalid_email"),
    ]
    assert rows[0][5] == f"'{SCRIPT_CELL}' is not an email address; expected name@example.com."
    filters = [a["data-filter"] for t, a in page.tags if "data-filter" in a]
    assert HOSTILE_HEADER in filters  # an attribute holding quotes and markup, read back exact
    assert page.texts["source"] == f"{SCRIPT_CELL}.csv"
    raw = path.read_text(encoding="utf-8")
    assert SCRIPT_CELL not in raw and "<img" not in raw and "<!--" not in raw


def test_the_numbers_on_the_page_are_the_reports(tmp_path):
    """The summary, both charts and the table say what the CSV says, problem for problem."""
    report = tmp_path / "report.csv"
    summary = validate(EXAMPLE_XLSX, EXAMPLE_MAPPING, report)
    lines = read_csv(report)
    _, page = html_of(
        report,
        summary,
        source="candidates.xlsx",
        outcome={"created": 48, "skipped": 2, "failed": 0, "not_sent": 10},
    )

    errors = Counter(line["code"] for line in lines if line["severity"] == "error")
    warnings = Counter(line["code"] for line in lines if line["severity"] == "warning")
    assert errors and warnings  # the example has both: 10 problems, 6 warnings
    by_code = {row[0]: (int(row[1]), int(row[2])) for row in page.body_rows("by-code")}
    assert by_code == {code: (errors[code], warnings[code]) for code in errors | warnings}
    columns = Counter((line["column"], line["severity"]) for line in lines)
    by_column = {row[0]: (int(row[1]), int(row[2])) for row in page.body_rows("by-column")}
    assert by_column == {
        column: (columns[column, "error"], columns[column, "warning"]) for column, _ in columns
    }
    assert [(r[0], r[3], r[4]) for r in page.body_rows("problems")] == [
        (line["row"], line["code"], line["severity"]) for line in lines
    ]
    counts = {a["data-count"]: t for t, a in page.tags if "data-count" in a}
    assert set(counts) >= {"rows_read", "valid", "invalid", "problems", "warnings", "created"}
    summary_text = page.texts["summary"]
    for label, number in [
        ("Rows read", 60),
        ("Valid", 50),
        ("Invalid", 10),
        ("Problems", sum(errors.values())),
        ("Warnings", sum(warnings.values())),
        ("Created", 48),
        ("Skipped (already there)", 2),
        ("Not sent", 10),
    ]:
        assert f"{label}{number:,}" in summary_text, label
    assert "Every problem" in page.texts["every-problem"]
    assert "10 problems and 6 warnings, in the order of the file." in page.texts["every-problem"]


def test_a_large_report_embeds_a_bounded_table_and_points_to_the_rest(
    tmp_path, people, monkeypatch
):
    """Past MAX_PROBLEMS_SHOWN the table stops, the charts still count every problem, and the
    page says how many more are in the CSV and which file."""
    monkeypatch.setattr(html_report, "MAX_PROBLEMS_SHOWN", 5)
    source, mapping = people(3, bad=12)  # each bad row: no last name and a bad email
    report = tmp_path / "report.csv"
    summary = validate(source, mapping, report)
    _, page = html_of(report, summary, source="people.csv")

    assert len(read_csv(report)) == 24
    assert len(page.body_rows("problems")) == 5
    assert sum(int(row[1]) for row in page.body_rows("by-code")) == 24
    assert page.texts["not-shown"] == (
        "24 problems and 0 warnings: the first 5 are listed here, in the order of the file; "
        "the other 19 are in report.csv."
    )


def test_a_report_written_with_semicolons_reads_the_same(tmp_path, people):
    """A `;` report (for a `;` input) gives the page the same numbers; read with the wrong
    delimiter, it is refused by name rather than charted wrong."""
    source, mapping = people(2, bad=3)
    report = tmp_path / "report.csv"
    summary = validate(source, mapping, report)
    semicolons = tmp_path / "report-semicolons.csv"
    with report.open(encoding="utf-8-sig", newline="") as fh:
        lines = list(csv.reader(fh))
    with semicolons.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh, delimiter=";").writerows(lines)

    _, plain = html_of(report, summary, source="people.csv")
    _, other = html_of(semicolons, summary, source="people.csv", delimiter=";")
    assert other.tables["by-code"] == plain.tables["by-code"]
    assert other.tables["problems"] == plain.tables["problems"]
    with pytest.raises(ValueError, match="report-semicolons.csv: not an error report"):
        write_html_report(
            tmp_path / "wrong.html", report_csv=semicolons, summary=summary, source="people.csv"
        )


LONG_NAME = "MÃ¼ller-O'Brien-Lüdenscheidt-Wolkenstein-Hohenzollern-Sigmaringen"
# Rows whose personal cells each cause a problem that quotes them (or a warning).
PERSONAL_ROWS = [
    ["First", "Last", "Email", "Phone", "Street", "LinkedIn", "CV"],
    ["Jonas", "Weber", "jonas.weber@gmx", "+49 171 3636167", "Hauptstraße 12", "", ""],
    ["Zoltan", "Kovacs", "zoltan.kovacs@example.com", "0151 1234-ABC", "", "", ""],
    ["Mirela", "MÃ¼ller", "mirela.popescu@example.org", "", "Gartenweg 7", "", ""],
    ["Ingrid", "Larsen", "mirela.popescu@example.org", "", "", "", ""],
    ["Ragnar", "Olsen", "ragnar@example.net", "", "", "linkedin profile of ragnar olsen", ""],
    ["Sigrid", "Nyberg", "sigrid@example.net", "", "", "", "cvs/sigrid_nyberg_cv.pdf"],
    ["Bjorn", "", "bjorn.haugen@example.net", "", "Fjordveien 3\x07", "", ""],
    # The message quotes only the first 60 characters, and the name holds a quote.
    ["Kunigunde", LONG_NAME, "kunigunde@example.net", "", "", "", ""],
]
PERSONAL_MAPPING = """
version: 1
candidate:
  first_name: First
  last_name: Last
  email_address: {column: Email, transform: [lower]}
  phone_number: {column: Phone, transform: [{phone: {region: DE}}]}
  location:
    street_1: Street
    country: {value: DE}
  social_links:
    - LinkedIn
application:
  job_id: {value: JOB1}
attachments:
  - {column: CV, type: CV}
"""


def personal_values() -> set[str]:
    """Each name, address, phone (and its digits), street, link and file of the input, and each
    word of them that could identify a person."""
    found: set[str] = set()
    for row in PERSONAL_ROWS[1:]:
        for cell in row:
            cell = cell.replace("\x07", "")
            if not cell:
                continue
            found.add(cell)
            found.update(w for w in re.split(r"[\s@./_-]+", cell) if len(w) >= 4)
            digits = re.sub(r"\D", "", cell)
            if len(digits) >= 6:
                found.add(digits[:-2])
    return found - {"linkedin", "profile", "example", "https"}


def test_a_masked_report_shares_no_personal_value_in_the_csv_or_the_page(
    tmp_path, write_csv, write_mapping
):
    """The problems the CLI found, written with `ErrorReport(masked=True)`: no name, email,
    phone, street, link or file name of the input is left in the report or the page, not even
    in messages that quote them; rows, columns, fields, codes and severities are unchanged."""
    source = write_csv(PERSONAL_ROWS, name="people.csv")
    mapping = write_mapping(PERSONAL_MAPPING)
    plain = tmp_path / "plain.csv"
    summary = validate(source, mapping, plain)
    lines = read_csv(plain)
    assert {line["code"] for line in lines} >= {
        "invalid_email",
        "invalid_phone",
        "mojibake",
        "duplicate_in_file",
        "invalid_url",
        "file_not_found",
        "required",
        "control_character",
    }
    masked = tmp_path / "report.csv"
    with ErrorReport(masked, masked=True) as report:
        report.write(
            [
                Issue(
                    int(line["row"]),
                    line["column"],
                    line["field"],
                    line["value"],
                    line["code"],
                    line["message"],
                    Severity(line["severity"]),
                )
                for line in lines
            ]
        )
    page, parsed = html_of(masked, summary, source="people.csv", masked=True)

    shared = (masked.read_text(encoding="utf-8-sig") + page.read_text(encoding="utf-8")).lower()
    leaked = sorted(value for value in personal_values() if value.lower() in shared)
    assert leaked == []
    kept = [(r["row"], r["column"], r["field"], r["code"], r["severity"]) for r in lines]
    assert [
        (r["row"], r["column"], r["field"], r["code"], r["severity"]) for r in read_csv(masked)
    ] == kept
    by_code = {(r["code"], r["value"], r["message"]) for r in read_csv(masked)}
    assert ("invalid_email", "j***@g***", "'j***@g***' is not an email address; expected "
            "name@example.com.") in by_code  # fmt: skip
    assert ("invalid_phone", "*** ***34", "'*** ***34' is not a phone number; expected digits, "
            "spaces and an optional leading +.") in by_code  # fmt: skip
    assert any(code == "file_not_found" and value == "s***.pdf" for code, value, _ in by_code)
    assert "Personal values" in parsed.texts["masked"]


@pytest.mark.parametrize(
    ("field", "column", "value", "shared"),
    [
        ("candidate.email_address", "E-Mail", "jonas.weber@gmail.com", "j***@g***.com"),
        ("candidate.phone_number", "Mobile", "+49 171 3636167", "+49 *** ***67"),
        ("candidate.additional_phone_numbers[0].phone_number", "", "0171 3636167", "*** ***67"),
        ("candidate.first_name", "First Name", "Jonas", "J***"),
        ("candidate.location.street_1", "Street", "Hauptstraße 12", "H***"),
        ("candidate.social_links[0]", "LinkedIn", "linkedin.com/in/anna-wolf", "l***.com/***"),
        ("attachments[0]", "CV", "cvs/anna_wolf_cv.pdf", "a***.pdf"),
        ("candidate.location.city", "City", "Leipzig", "Leipzig"),
        ("application.job_id", "Job", "Office Manager", "Office Manager"),
        ("", "E-Mail", "jonas@gmx.de", "j***@g***.de"),  # a reader's problem: by column name
        ("", "Notes", "call after 5", "call after 5"),
    ],
)
def test_each_kind_of_personal_value_keeps_only_what_recognises_it(field, column, value, shared):
    assert mask(field, column, value) == shared


def test_the_inline_script_is_valid_javascript(tmp_path):
    """A syntax error would leave the table unfiltered and unsorted without a word."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the inline script's syntax is not checked")
    report = tmp_path / "report.csv"
    summary = validate(EXAMPLE_XLSX, EXAMPLE_MAPPING, report)
    _, page = html_of(report, summary, source="candidates.xlsx")
    script = tmp_path / "page.js"
    script.write_text(page.scripts[0], encoding="utf-8")
    checked = subprocess.run(
        [node, "--check", str(script)], capture_output=True, text=True, timeout=60
    )
    assert checked.returncode == 0, checked.stderr


@pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Debian's chromium is not installed (/usr/bin/chromium): the page is checked by "
    "parsing only; `apt-get install chromium` runs it in a real headless browser",
)
def test_a_headless_browser_runs_the_page_offline(tmp_path):
    """Chromium opens the file: the table is there and the page's own script ran (the filter
    box is shown), so the policy lets it run and the page needs no network."""
    report = tmp_path / "report.csv"
    summary = validate(EXAMPLE_XLSX, EXAMPLE_MAPPING, report)
    path, _ = html_of(report, summary, source="candidates.xlsx")
    rendered = subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",  # root has no user namespace sandbox
            "--disable-gpu",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--dump-dom",
            path.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert rendered.returncode == 0, rendered.stderr[-2000:]
    dom = Page(rendered.stdout)
    assert len(dom.body_rows("problems")) == len(read_csv(report))
    tools = next(a for t, a in dom.tags if a.get("id") == "tools")
    assert "hidden" not in tools  # the script ran and showed the filter
    html_tag = next(a for t, a in dom.tags if t == "html")
    assert "has-script" in html_tag.get("class", "")
    assert dom.tables["problems"][0][0] == "Row"  # the heading became a sort button


def test_a_cell_that_grows_when_shown_keeps_the_page_within_its_bound(tmp_path, write_csv):
    """A value of 2,000 bidi controls (each shown as a six-character escape) is clipped as it
    is shown: the page grows with the number of problems, never with what a cell holds."""
    report = tmp_path / "report.csv"
    with ErrorReport(report) as out:
        out.write(
            [
                Issue(
                    row,
                    "E-Mail",
                    "candidate.email_address",
                    "\u202e" * 2000,
                    "invalid_email",
                    "'" + "\u202e" * 2000 + "' is not an email address",
                    Severity.ERROR,
                )
                for row in range(2, 202)
            ]  # fmt: skip
        )
    summary = ValidationSummary()
    path, page = html_of(report, summary, source="\u202e" * 5000)
    assert path.stat().st_size < 200 * 3_000  # each row's cells at most a few KB
    assert len(page.body_rows("problems")) == 200
