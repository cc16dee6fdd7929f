"""`report.html`: the error report as a page a recruiter can open, from the report CSV just
written (so its numbers are the CSV's): the summary, problems by code and by column as bars, and
every problem in a table that a small inline script filters and sorts.

The page is one file that loads nothing: no external script, stylesheet, font or image, and a
Content-Security-Policy that forbids them and lets only its own script run. Every text from the
file is escaped (`html.escape`) and shown with its control characters visible, so a cell holding
`<script>` or a bidi override stays text. The data is in the HTML table itself, never in the
script, so the page reads the same with scripts off. At most MAX_PROBLEMS_SHOWN problems are
embedded; the page says how many more the CSV holds.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from .__version__ import __version__
from .masking import DESCRIPTION as MASKED_VALUES
from .report import ERROR_COLUMNS, neutralize, printable

if TYPE_CHECKING:
    from .checks import ValidationSummary

MAX_PROBLEMS_SHOWN = 20_000
MAX_VALUE_SHOWN = 300  # characters of a value or column name in the table; the CSV has all
MAX_MESSAGE_SHOWN = 1_000
MAX_BARS = 30  # codes or columns charted; the rest are summed in one bar
OUTCOME_LABELS = {
    "created": "Created",
    "skipped": "Skipped (already there)",
    "failed": "Failed",
    "needs_review": "Needs review",
    "not_sent": "Not sent",
}
WHOLE_ROW = "(whole row)"


@dataclass
class _Problems:
    """What the report CSV holds: counts over every line, and the first lines to show."""

    errors_by_code: Counter[str] = field(default_factory=Counter)
    warnings_by_code: Counter[str] = field(default_factory=Counter)
    errors_by_column: Counter[str] = field(default_factory=Counter)
    warnings_by_column: Counter[str] = field(default_factory=Counter)
    shown: list[dict[str, str]] = field(default_factory=list)
    total: int = 0

    @property
    def errors(self) -> int:
        return sum(self.errors_by_code.values())

    @property
    def warnings(self) -> int:
        return sum(self.warnings_by_code.values())


def write_html_report(
    path: Path,
    *,
    report_csv: Path,
    delimiter: str = ",",
    summary: ValidationSummary,
    source: str,
    outcome: Mapping[str, int] | None = None,
    masked: bool = False,
) -> None:
    """Write `report.html` at `path` from the error report `report_csv` (read back with
    `delimiter`): rows read, valid and invalid from `summary`, problems from the CSV; for submit,
    the rows by status in `outcome`; `masked` says on the page that personal values are masked
    (the CSV is already)."""
    problems = _read_problems(Path(report_csv), delimiter)
    page = _page(problems, Path(report_csv).name, summary, source, outcome, masked)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")


def _read_problems(report_csv: Path, delimiter: str) -> _Problems:
    problems = _Problems()
    for line in _report_lines(report_csv, delimiter):
        column = line["column"] or line["field"] or WHOLE_ROW
        if line["severity"] == "warning":
            problems.warnings_by_code[line["code"]] += 1
            problems.warnings_by_column[column] += 1
        else:
            problems.errors_by_code[line["code"]] += 1
            problems.errors_by_column[column] += 1
        problems.total += 1
        if len(problems.shown) < MAX_PROBLEMS_SHOWN:
            problems.shown.append(line)
    return problems


def _report_lines(report_csv: Path, delimiter: str) -> Iterator[dict[str, str]]:
    """The report's lines by column name, each text as it was before the CSV neutralised it."""
    with report_csv.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle, delimiter=delimiter)
        header = [_as_written(name) for name in reader.fieldnames or []]
        missing = [name for name in ERROR_COLUMNS if name not in header]
        if missing:
            raise ValueError(
                f"{report_csv}: not an error report read with delimiter {delimiter!r}; it has "
                f"no column {', '.join(missing)}."
            )
        reader.fieldnames = header
        for line in reader:
            yield {name: _as_written(line.get(name) or "") for name in ERROR_COLUMNS}


def _as_written(text: str) -> str:
    """A CSV cell without the ' that `neutralize` put before a formula: a page runs nothing."""
    return text[1:] if text.startswith("'") and neutralize(text[1:]) == text else text


def _text(text: str, limit: int = MAX_MESSAGE_SHOWN) -> str:
    """`text` as HTML text or an attribute value: control and bidi characters shown as
    escapes (\\x1b, \\u202e), clipped to `limit` characters as shown (an escape is six),
    then escaped: no cell makes the page bigger than its bound."""
    shown = printable(text[: limit * 2], keep_newlines=True)
    if len(shown) > limit or len(text) > limit * 2:
        shown = shown[: limit - 1] + "…"
    return escape(shown, quote=True)


# --- the page --------------------------------------------------------------------------------


def _page(
    problems: _Problems,
    csv_name: str,
    summary: ValidationSummary,
    source: str,
    outcome: Mapping[str, int] | None,
    masked: bool,
) -> str:
    written = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    script_hash = base64.b64encode(hashlib.sha256(_SCRIPT.encode("utf-8")).digest()).decode()
    policy = (
        "default-src 'none'; style-src 'unsafe-inline'; "
        f"script-src 'sha256-{script_hash}'; base-uri 'none'; form-action 'none'"
    )
    title = "Submit report" if outcome is not None else "Validation report"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{escape(policy)}">',
        '<meta name="referrer" content="no-referrer">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{title}: {_text(source, MAX_VALUE_SHOWN)}</title>",
        f"<style>{_STYLE}</style>",
        "</head>",
        "<body>",
        "<header>",
        f"<h1>{title}</h1>",
        f'<p class="source" id="source">{_text(source)}</p>',
    ]
    if masked:
        parts.append(
            f'<p class="masked" id="masked">Personal values ({MASKED_VALUES}) are masked in this '
            "report, as in <code>j***@g***.com</code> or <code>+49 *** ***67</code>; the row "
            "number finds each in the input.</p>"
        )
    parts += ["</header>", "<main>"]
    parts += _summary_section(problems, summary, outcome)
    parts += _charts_section(problems)
    parts += _table_section(problems, csv_name)
    parts += [
        "</main>",
        f"<footer>Written by kombo-import {escape(__version__)} on {escape(written)}. "
        f"Every problem is in <code>{_text(csv_name)}</code>.</footer>",
        f"<script>{_SCRIPT}</script>",
        "</body>",
        "</html>",
        "",
    ]
    return "\n".join(parts)


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _count(label: str, value: int, key: str, kind: str = "") -> str:
    css = f' class="{kind}"' if kind else ""
    return f'<div{css} data-count="{key}"><dt>{label}</dt><dd>{value:,}</dd></div>'


def _summary_section(
    problems: _Problems, summary: ValidationSummary, outcome: Mapping[str, int] | None
) -> list[str]:
    parts = [
        '<section id="summary" aria-labelledby="summary-title">',
        '<h2 id="summary-title">Summary</h2>',
        '<dl class="counts">',
        _count("Rows read", summary.rows_read, "rows_read"),
        _count("Valid", summary.valid, "valid", "good" if summary.valid else ""),
        _count("Invalid", summary.invalid, "invalid", "bad" if summary.invalid else ""),
        _count("Problems", problems.errors, "problems", "bad" if problems.errors else ""),
        _count("Warnings", problems.warnings, "warnings", "doubt" if problems.warnings else ""),
        "</dl>",
    ]
    if outcome is not None:
        kinds = {"created": "good", "skipped": "good", "failed": "bad", "needs_review": "doubt"}
        keys = [k for k in OUTCOME_LABELS if k in outcome] + [
            k for k in outcome if k not in OUTCOME_LABELS
        ]
        parts += ["<h3>Sent to the ATS</h3>", '<dl class="counts" id="outcome">']
        for key in keys:
            label = OUTCOME_LABELS.get(key) or key.replace("_", " ").capitalize()
            kind = kinds.get(key, "") if outcome[key] else ""
            parts.append(_count(_text(label), outcome[key], _text(key), kind))
        parts.append("</dl>")
    if summary.notices:
        parts.append('<ul class="notices">')
        parts += [f"<li>{_text(notice)}</li>" for notice in summary.notices]
        parts.append("</ul>")
    parts.append("</section>")
    return parts


def _charts_section(problems: _Problems) -> list[str]:
    parts = ['<section id="charts" aria-labelledby="charts-title">']
    parts.append('<h2 id="charts-title">Where the problems are</h2>')
    if not problems.total:
        parts += ["<p>No problems: every row can be sent.</p>", "</section>"]
        return parts
    parts.append(
        '<p class="hint">Red: problems, which stop their row. Amber: warnings, sent all the '
        'same. <span class="scripted">Click a bar to list its problems.</span></p>'
    )
    parts += _chart("by-code", "Code", problems.errors_by_code, problems.warnings_by_code)
    parts += _chart("by-column", "Column", problems.errors_by_column, problems.warnings_by_column)
    parts.append("</section>")
    return parts


def _chart(chart_id: str, heading: str, errors: Counter[str], warnings: Counter[str]) -> list[str]:
    """A table with a bar per code or column, most problems first, then most warnings: its
    numbers read without CSS or script. Past MAX_BARS, the rest share one bar."""
    ranked = sorted(errors.keys() | warnings.keys(), key=lambda k: (-errors[k], -warnings[k], k))
    bars = [(label, errors[label], warnings[label], True) for label in ranked[:MAX_BARS]]
    rest = ranked[MAX_BARS:]
    if rest:
        others = f"{len(rest):,} others"
        bars.append((others, sum(errors[k] for k in rest), sum(warnings[k] for k in rest), False))
    largest = max(e + w for _, e, w, _ in bars)
    parts = [
        f'<table class="chart" id="{chart_id}">',
        f"<caption>By {heading.lower()}</caption>",
        f'<thead><tr><th scope="col">{heading}</th><th scope="col">Problems</th>'
        '<th scope="col">Warnings</th>'
        '<th scope="col"><span class="visually-hidden">Bar</span></th></tr></thead>',
        "<tbody>",
    ]
    for label, error_count, warning_count, filterable in bars:
        shown = _text(label, MAX_VALUE_SHOWN)
        attribute = f' data-filter="{_text(label, MAX_VALUE_SHOWN)}"' if filterable else ""
        error_width = 100 * error_count / largest
        warning_width = 100 * warning_count / largest
        parts.append(
            f"<tr{attribute}>"
            f'<th scope="row">{shown}</th>'
            f'<td class="number">{error_count:,}</td>'
            f'<td class="number">{warning_count:,}</td>'
            '<td class="bar" aria-hidden="true">'
            f'<span class="error" style="width:{error_width:.2f}%"></span>'
            f'<span class="warning" style="width:{warning_width:.2f}%"></span>'
            "</td></tr>"
        )
    parts += ["</tbody>", "</table>"]
    return parts


_HEADINGS = (
    ("row", "Row"),
    ("column", "Column"),
    ("value", "Value"),
    ("code", "Code"),
    ("severity", "Severity"),
    ("message", "Message"),
)


def _table_section(problems: _Problems, csv_name: str) -> list[str]:
    parts = [
        '<section id="every-problem" aria-labelledby="table-title">',
        '<h2 id="table-title">Every problem</h2>',
    ]
    hidden = problems.total - len(problems.shown)
    found = f"{_plural(problems.errors, 'problem')} and {_plural(problems.warnings, 'warning')}"
    if hidden:
        parts.append(
            f'<p class="note" id="not-shown">{found}: the first {len(problems.shown):,} are '
            f"listed here, in the order of the file; the other {hidden:,} are in "
            f"<code>{_text(csv_name)}</code>.</p>"
        )
    else:
        parts.append(f'<p class="note">{found}, in the order of the file.</p>')
    parts += [
        '<div class="tools" id="tools" hidden>',
        '<label for="filter">Filter</label> ',
        '<input id="filter" type="search" placeholder="a row, column, code or any word" '
        'autocomplete="off">',
        ' <output id="shown" for="filter"></output>',
        " <span>Click a heading to sort.</span>",
        "</div>",
        '<table id="problems">',
        "<thead><tr>"
        + "".join(f'<th scope="col" data-key="{key}">{label}</th>' for key, label in _HEADINGS)
        + "</tr></thead>",
        "<tbody>",
    ]
    for line in problems.shown:
        severity = "warning" if line["severity"] == "warning" else "error"
        column = line["column"] or line["field"] or WHOLE_ROW
        parts.append(
            f'<tr class="{severity}">'
            f'<td class="number">{_text(line["row"], MAX_VALUE_SHOWN)}</td>'
            f"<td>{_text(column, MAX_VALUE_SHOWN)}</td>"
            f'<td class="value">{_text(line["value"], MAX_VALUE_SHOWN)}</td>'
            f"<td><code>{_text(line['code'], MAX_VALUE_SHOWN)}</code></td>"
            f"<td>{severity}</td>"
            f"<td>{_text(line['message'], MAX_MESSAGE_SHOWN)}</td>"
            "</tr>"
        )
    if not problems.shown:
        parts.append('<tr class="empty"><td colspan="6">No problems.</td></tr>')
    parts += ["</tbody>", "</table>", "</section>"]
    return parts


_STYLE = """
:root { color-scheme: light dark; --bad: #c62828; --doubt: #e09b00; --good: #2e7d32;
  --line: #d0d4da; --muted: #5f6670; --stripe: rgba(127,127,127,.07); }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto;
  padding: 1.5rem; max-width: 90rem; }
h1 { margin: 0 0 .25rem; font-size: 1.6rem; } h2 { margin-top: 2rem; font-size: 1.25rem; }
.source, .hint, .note, footer { color: var(--muted); }
.masked { border-left: 4px solid var(--doubt); padding: .4rem .8rem; background: var(--stripe); }
.counts { display: flex; flex-wrap: wrap; gap: .75rem; margin: 0; }
.counts div { border: 1px solid var(--line); border-radius: 6px; padding: .5rem 1rem;
  min-width: 8rem; }
.counts dt { color: var(--muted); font-size: .85rem; }
.counts dd { margin: 0; font-size: 1.6rem; font-variant-numeric: tabular-nums; }
.counts .bad dd { color: var(--bad); } .counts .doubt dd { color: var(--doubt); }
.counts .good dd { color: var(--good); }
.notices { color: var(--muted); }
table { border-collapse: collapse; width: 100%; }
caption { text-align: left; font-weight: 600; padding: .5rem 0; }
th, td { text-align: left; vertical-align: top; padding: .3rem .5rem;
  border-bottom: 1px solid var(--line); }
.number { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.chart { max-width: 60rem; margin-bottom: 1.5rem; }
.chart th[scope=row] { font-weight: normal; overflow-wrap: anywhere; width: 16rem; }
.chart .bar { width: 55%; white-space: nowrap; font-size: 0; }
.chart .bar span { display: inline-block; height: .9rem; }
.bar .error { background: var(--bad); } .bar .warning { background: var(--doubt); }
.chart tr[data-filter].scripted-row { cursor: pointer; }
.chart tr[data-filter].scripted-row:hover th { text-decoration: underline; }
#problems tbody tr:nth-child(even) { background: var(--stripe); }
#problems td { overflow-wrap: anywhere; white-space: pre-wrap; }
#problems td:first-child { width: 4.5rem; }
#problems tr.error td:nth-child(5) { color: var(--bad); }
#problems tr.warning td:nth-child(5) { color: var(--doubt); }
#problems th button { font: inherit; font-weight: 600; border: 0; background: none; padding: 0;
  cursor: pointer; color: inherit; }
#problems th[aria-sort=ascending] button::after { content: " \\25B2"; }
#problems th[aria-sort=descending] button::after { content: " \\25BC"; }
#problems thead th { position: sticky; top: 0; background: Canvas; }
.tools { margin: .5rem 0 1rem; } .tools input { font: inherit; padding: .3rem .5rem;
  width: min(28rem, 100%); }
.scripted { display: none; } .has-script .scripted { display: inline; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden;
  clip-path: inset(50%); }
footer { margin-top: 2rem; font-size: .85rem; }
@media print { .tools { display: none; } #problems thead th { position: static; } }
"""

# Filters and sorts the rows already in the table; it reads no data of its own.
_SCRIPT = """
"use strict";
(() => {
  document.documentElement.classList.add("has-script");
  const table = document.getElementById("problems");
  const body = table.tBodies[0];
  const rows = Array.from(body.rows).filter((row) => !row.classList.contains("empty"));
  const cells = rows.map((row) => Array.from(row.cells, (cell) => cell.textContent));
  const texts = cells.map((values) => values.join("\\n").toLowerCase());
  const box = document.getElementById("filter");
  const shown = document.getElementById("shown");
  const tools = document.getElementById("tools");
  tools.hidden = false;
  const apply = () => {
    const needle = box.value.trim().toLowerCase();
    let count = 0;
    rows.forEach((row, index) => {
      const hit = !needle || texts[index].includes(needle);
      row.hidden = !hit;
      if (hit) count += 1;
    });
    shown.textContent = needle
      ? `${count.toLocaleString("en")} of ${rows.length.toLocaleString("en")} shown`
      : "";
  };
  box.addEventListener("input", apply);
  const order = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });
  const heads = Array.from(table.tHead.rows[0].cells);
  heads.forEach((head, column) => {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = head.textContent;
    head.textContent = "";
    head.appendChild(button);
    button.addEventListener("click", () => {
      const ascending = head.getAttribute("aria-sort") !== "ascending";
      heads.forEach((other) => other.removeAttribute("aria-sort"));
      head.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      const sign = ascending ? 1 : -1;
      const indices = rows.map((_, index) => index);
      indices.sort(
        (a, b) => sign * order.compare(cells[a][column], cells[b][column]) || a - b
      );
      const fragment = document.createDocumentFragment();
      indices.forEach((index) => fragment.appendChild(rows[index]));
      body.appendChild(fragment);
    });
  });
  document.querySelectorAll("tr[data-filter]").forEach((bar) => {
    bar.classList.add("scripted-row");
    bar.tabIndex = 0;
    const choose = () => {
      box.value = bar.dataset.filter;
      apply();
      tools.scrollIntoView({ block: "start" });
    };
    bar.addEventListener("click", choose);
    bar.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        choose();
      }
    });
  });
})();
"""
