"""`init` against headers that hold a field's synonym but are about someone or something else
("Manager Email", "Country of birth", "Applicant Number"): never placed on the candidate's own
field by a word they hold, so that the dry run refuses the rows instead of sending a wrong
value; and a wide file drafted at a cost that grows with its columns, not with the table."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from bounded import bounded
from click.testing import CliRunner
from conftest import read_csv

from importer.cli import main
from importer.mapping import load_mapping

JOB = "JOB1"

# header, a value of its column, the field it must not be taken for
HOSTILE = [
    ("Applicant Number", "10023", "first_name"),
    ("Country of birth", "Poland", "country"),
    ("Current salary per year", "55000", "salary_expectations"),
    ("Manager Email", "boss@corp.example", "email_address"),
    ("Emergency contact name", "Eva Wolf", "first_name"),
    ("User Name", "Eva Wolf", "first_name"),
    ("Name of school", "TU Berlin", "first_name"),
    ("Job Location", "Munich", "location"),
    ("E-Mail Vorgesetzter", "boss@corp.example", "email_address"),  # de
    ("Pays de naissance", "Pologne", "country"),  # fr
    ("Nombre de usuario", "Eva Wolf", "first_name"),  # es
    ("Noodcontact naam", "Eva Wolf", "first_name"),  # nl
    ("Email del responsabile", "boss@corp.example", "email_address"),  # it
    ("E-mail rekrutera", "r@corp.example", "email_address"),  # pl
    ("E-mail vedoucího", "boss@corp.example", "email_address"),  # cs
    ("Aktuelles Gehalt", "55.000", "salary_expectations"),  # de
]


def _write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return path


def _draft(source: Path, target: Path) -> str:
    result = CliRunner().invoke(main, ["init", str(source), "-o", str(target)])
    assert result.exit_code == 0, result.output
    return target.read_text(encoding="utf-8")


def _dry_run(source: Path, target: Path, tmp_path: Path) -> list[dict[str, str]]:
    """The dry run of the draft with the job filled in: the problems it reports."""
    text = target.read_text(encoding="utf-8")
    target.write_text(re.sub(r"job_id: TODO .*", f"job_id: {{value: {JOB}}}", text), "utf-8")
    report = tmp_path / "report.csv"
    args = ["validate", str(source), "-m", str(target), "--report", str(report), "-q"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output  # rows refused
    return read_csv(report)


def _accounted(text: str, header: str) -> str:
    (line,) = [line for line in text.splitlines() if line.startswith(f"#   {header}   ")]
    return line


@pytest.mark.parametrize(("header", "value", "field"), HOSTILE)
def test_a_header_about_someone_or_something_else_is_not_placed(tmp_path, header, value, field):
    """Alone with the file's other columns, nothing better for the field: still not placed,
    named with the field it came near and why, and every row refused by the dry run."""
    rows = [["Job", header], *[["Dev", value] for _ in range(3)]]
    source = _write(tmp_path / "in.csv", rows)
    target = tmp_path / "m.yaml"
    text = _draft(source, target)
    assert header not in load_mapping(target).columns()
    line = _accounted(text, header)
    assert "not placed (closest: " in line and (", but " in line or " in its header" in line)
    problems = _dry_run(source, target, tmp_path)
    assert {p["row"] for p in problems if p["code"] == "unmapped_required"} == {"2", "3", "4"}
    assert all(p["column"] != header for p in problems if p["code"] != "unmapped_required")


def test_the_reviews_file_drafts_no_id_as_a_name_no_birth_country_and_no_current_salary(
    tmp_path,
):
    rows = [["Applicant Number", "Email", "Country of birth", "City", "Current salary per year"]]
    rows += [[f"{10023 + i}", f"a{i}@example.com", "Poland", "Berlin", "55000"] for i in range(4)]
    source = _write(tmp_path / "in.csv", rows)
    target = tmp_path / "m.yaml"
    text = _draft(source, target)
    mapping = load_mapping(target)
    assert sorted(mapping.columns()) == ["City", "Email"]
    assert "period: {value: YEAR}" not in text
    assert "about something else ('number')" in _accounted(text, "Applicant Number")
    assert "about something else ('birth')" in _accounted(text, "Country of birth")
    assert "'current' in its header" in _accounted(text, "Current salary per year")
    problems = _dry_run(source, target, tmp_path)
    refused = {(p["row"], p["field"]) for p in problems if p["code"] == "unmapped_required"}
    for row in ("2", "3", "4", "5"):  # the names and the country stay to be filled in
        assert {(row, "candidate.first_name"), (row, "candidate.location.country")} <= refused


def test_other_peoples_email_addresses_are_not_placed_by_their_values_either(tmp_path):
    rows = [["Job", "Manager Email", "Owner Email", "Emergency contact name", "User Name"]]
    rows += [["Dev", f"m{i}@corp.example", f"o{i}@corp.example", "Eva Wolf", "ewolf"] for i in "12"]
    source = _write(tmp_path / "in.csv", rows)
    target = tmp_path / "m.yaml"
    text = _draft(source, target)
    candidate = load_mapping(target).body.children["candidate"].children
    assert candidate["email_address"].spec.value == "TODO"
    assert candidate["first_name"].spec.value == "TODO"
    assert "names someone else ('manager')" in _accounted(text, "Manager Email")
    # "Owner" is the table's synonym of the recruiter: the sourcing user, to check, never the
    # candidate's address
    assert "sourced_by.user_email (holds 'owner')" in _accounted(text, "Owner Email")
    assert "# CHECK: 'Owner Email' is placed on sourced_by.user_email only because" in text
    problems = _dry_run(source, target, tmp_path)
    assert {p["row"] for p in problems if p["field"] == "candidate.email_address"} == {"2", "3"}


def test_exact_headers_and_synonyms_still_win_and_a_weak_match_is_marked_check(tmp_path):
    headers = [
        "First Name",
        "Last Name",
        "Candidate phone",
        "Hiring Manager Email",
        "Company Name",
        "Salary per year",
        "Email",
        "Job",
    ]
    values = ["Anna", "Wolf", "+49 151 1234567", "hm@corp.example", "ACME", "55000", "a@x.de"]
    source = _write(tmp_path / "in.csv", [headers, [*values, "Dev"]])
    target = tmp_path / "m.yaml"
    text = _draft(source, target)
    mapping = load_mapping(target)
    candidate = mapping.body.children["candidate"].children
    assert candidate["phone_number"].spec.column == "Candidate phone"  # not a name
    assert candidate["company"].spec.column == "Company Name"
    assert mapping.body.children["sourced_by"].children["user_email"].spec.column == (
        "Hiring Manager Email"
    )
    assert "  # CHECK: 'Candidate phone' is placed on candidate.phone_number only because" in text
    assert "  # CHECK: 'Salary per year' is placed on candidate.salary_expectations" in text
    assert "period: {value: YEAR}  # from the header" in text
    assert "CHECK: 'Company Name'" not in text and "CHECK: 'Email'" not in text


def test_phone_numbers_keep_their_number_words(tmp_path):
    """A word the field's own synonyms hold ("number", "Nr") keeps nothing from it."""
    from importer.draft import place_columns
    from importer.readers import read_table

    for header in ("Phone No", "Telefon Nr.", "Mobile phone number (private)"):
        source = _write(tmp_path / "in.csv", [[header, "Email"], ["+49 151 1234567", "a@x.de"]])
        draft = place_columns(read_table(source))
        assert draft.placed.get("phone_number") == header, header


def _wide_file(path: Path, columns: int, rows: int = 20) -> Path:
    words = ["Score", "answer", "Field", "custom", "Question", "level", "team", "skill", "tool"]
    headers = ["First Name", "Last Name", "Email", "Job"] + [
        f"{words[i % 9]} {words[(i * 7) % 9].lower()} {i}" for i in range(columns - 4)
    ]
    body = [
        [f"A{r}", f"B{r}", f"a{r}@x.de", "Dev"] + [f"v{r}"] * (columns - 4) for r in range(rows)
    ]
    return _write(path, [headers, *body])


def _draft_in_process(source: Path) -> int:
    from importer.draft import place_columns, render_mapping
    from importer.readers import read_table

    table = read_table(source)
    draft = place_columns(table)
    render_mapping(draft, table)
    return len(draft.columns)


def test_a_wide_file_is_drafted_in_bounded_time(tmp_path):
    """2,000 columns x 20 rows (about a second; 30 s allowed for a loaded machine). Before, one
    regular expression per header and synonym was compiled: 2,000 columns took over a minute."""
    source = _wide_file(tmp_path / "wide.csv", 2_000)
    outcome = bounded(lambda: _draft_in_process(source), seconds=30)
    assert outcome.raised is None, outcome.message
    assert outcome.value == 2_000


def test_the_patterns_compiled_do_not_grow_with_the_columns(tmp_path, monkeypatch):
    """A draft compiles the same few regular expressions for 400 columns as for 20: none is
    made per header and synonym (1,000 synonyms overflowed `re`'s cache of 512, so each
    header compiled them all again)."""
    narrow = _wide_file(tmp_path / "narrow.csv", 20, rows=3)
    wide = _wide_file(tmp_path / "wide.csv", 400, rows=3)
    compiled: list[object] = []
    compile_pattern = re._compiler.compile  # type: ignore[attr-defined]  # on a cache miss only

    def counting(pattern: object, flags: int) -> object:
        compiled.append(pattern)
        return compile_pattern(pattern, flags)

    monkeypatch.setattr(re._compiler, "compile", counting)  # type: ignore[attr-defined]
    _draft_in_process(narrow)  # the table's and the modules' own patterns, once
    compiled.clear()
    _draft_in_process(narrow)
    few = len(compiled)
    compiled.clear()
    _draft_in_process(wide)
    assert len(compiled) <= few + 5, compiled[:20]
