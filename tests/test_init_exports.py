"""`init` on exports shaped like those of the ATSs people leave (header sets as their exports and
help pages name them), each drafted mapping checked field by field against a hand-written one;
and against the sandbox: jobs, stages and questions matched to live ids, and the example's dry
run with the drafted mapping finding the problems `mappings/example.yaml` finds."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import read_csv

from importer.cli import main
from importer.mapping import load_mapping

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "example_data" / "candidates.xlsx"

# Each export: its header row, a few rows, and the fields a person would map, as
# {body path: (column, transforms)}; a field the file cannot give is "TODO".
GREENHOUSE = (
    ["Candidate ID", "First Name", "Last Name", "Current Company", "Current Title", "Email"]
    + ["Phone", "Social Media", "Website", "Job", "Job ID", "Stage", "Status", "Source"]
    + ["Recruiter", "Coordinator", "Applied On", "Last Activity", "Tags"],
    [
        ["4011", "Ann", "Lee", "Acme", "SRE", "ann@example.com", "+1 415 555 0100"]
        + ["https://linkedin.com/in/ann", "https://ann.dev", "Backend Engineer", "880"]
        + ["Application Review", "Active", "LinkedIn", "Sam Roe", "Kim Poe", "2025-03-01"]
        + ["2025-03-04", "referral"],
        ["4012", "Bo", "Chan", "Initech", "Dev", "bo@example.com", "+1 212 555 0101"]
        + ["https://linkedin.com/in/bo", "", "Data Analyst", "881", "Phone Screen", "Active"]
        + ["Referral", "Sam Roe", "", "2025-03-02", "2025-03-05", ""],
    ],
    {
        "candidate.first_name": ("First Name", []),
        "candidate.last_name": ("Last Name", []),
        "candidate.email_address": ("Email", ["lower"]),
        "candidate.phone_number": ("Phone", []),
        "candidate.company": ("Current Company", []),
        "candidate.title": ("Current Title", []),
        "candidate.social_links[0]": ("Social Media", []),
        "candidate.social_links[1]": ("Website", []),
        "application.job_id": ("Job", ["placeholder"]),
        "application.stage_id": ("Stage", ["placeholder"]),
    },
)
LEVER = (
    ["Opportunity ID", "Contact ID", "Name", "Email", "Phone", "Location", "Current Company"]
    + ["Headline", "Posting", "Posting ID", "Stage", "Origin", "Sources", "Links", "Tags"]
    + ["Resume", "Created At", "Owner"],
    [
        ["a1-b2", "c-1", "Ana Maria Lopez", "ana@example.com", "(415) 555-0101"]
        + ["San Francisco, CA", "Acme", "Staff Engineer", "Backend Engineer", "p-1"]
        + ["New applicant", "applied", "Careers page"]
        + ["https://linkedin.com/in/ana, https://github.com/ana", "", "cv/ana.pdf"]
        + ["2025-01-02", "Sam Roe"],
        ["a1-b3", "c-2", "Ben Ode", "ben@example.com", "(212) 555-0102", "New York, NY"]
        + ["Initech", "Analyst", "Data Analyst", "p-2", "Phone screen", "sourced", "LinkedIn"]
        + ["https://linkedin.com/in/ben", "", "cv/ben.pdf", "2025-01-03", "Sam Roe"],
    ],
    {
        "candidate.first_name": ("Name", ["first_name"]),
        "candidate.last_name": ("Name", ["last_name"]),
        "candidate.email_address": ("Email", ["lower"]),
        "candidate.phone_number": ("Phone", []),
        "candidate.company": ("Current Company", []),
        "candidate.title": ("Headline", []),
        "candidate.location.city": ("Location", ["regex"]),
        "candidate.location.country": ("TODO", ["placeholder"]),  # CA is a state, not Canada
        "candidate.social_links[0]": ("Links", []),
        "application.job_id": ("Posting", ["placeholder"]),
        "application.stage_id": ("Stage", ["placeholder"]),
        "attachments[0]": ("Resume", []),
    },
)
WORKABLE = (
    ["Candidate ID", "Name", "Email", "Phone", "Headline", "Address", "Job", "Department"]
    + ["Stage", "Source", "Created at", "Disqualified", "Resume", "Cover letter", "Summary"],
    [
        ["9f1", "Jo Smith", "jo@example.com", "+44 20 7946 0000", "Designer", "1 High St"]
        + ["Product Designer", "Design", "Applied", "Indeed", "2025-02-01", "false"]
        + ["files/jo.pdf", "Dear team, I would love to join.", "UX generalist"],
        ["9f2", "Al Reed", "al@example.com", "020 7946 0001", "Engineer", "2 Low Rd"]
        + ["Backend Engineer", "Tech", "Interview", "Referral", "2025-02-02", "true"]
        + ["files/al.pdf", "Hello, please find my CV.", ""],
    ],
    {
        "candidate.first_name": ("Name", ["first_name"]),
        "candidate.last_name": ("Name", ["last_name"]),
        "candidate.email_address": ("Email", ["lower"]),
        "candidate.phone_number": ("Phone", ["phone"]),  # region GB from +44
        "candidate.title": ("Headline", []),
        "candidate.location.street_1": ("Address", []),
        "candidate.location.country": ("TODO", ["placeholder"]),
        "application.job_id": ("Job", ["placeholder"]),
        "application.stage_id": ("Stage", ["placeholder"]),
        "attachments[0]": ("Resume", []),  # the cover letter is text, not a file
    },
)
PERSONIO = (
    ["ID", "Vorname", "Nachname", "E-Mail", "Telefon", "Stelle", "Status", "Quelle"]
    + ["Bewerbungsdatum", "Gehaltsvorstellung", "Verfügbar ab", "Geschlecht", "Wohnort"]
    + ["Land", "Lebenslauf", "Anschreiben", "Zeugnisse", "Datenschutzeinwilligung"],
    [
        ["1", "Jürgen", "Groß", "j@example.de", "0171 2345678", "Backend Engineer", "Neu"]
        + ["Website", "01.03.2025", "65.000 €", "01.04.2026", "männlich", "Köln"]
        + ["Deutschland", "cv/j.pdf", "cv/j_letter.pdf", "cv/j_zeugnis.pdf", "ja"],
        ["2", "Zoë", "Brandt", "z@example.de", "+49 160 7654321", "Data Analyst", "Interview"]
        + ["LinkedIn", "02.03.2025", "58.500,50 €", "15.05.2026", "weiblich", "Berlin"]
        + ["DE", "cv/z.pdf", "", "", "nein"],
        ["3", "Kim", "Yilmaz", "k@example.de", "0151 1111111", "Data Analyst", "Neu"]
        + ["Xing", "03.03.2025", "", "", "divers", "Hamburg", "Deutschland", "cv/k.pdf"]
        + ["", "", "ja"],
    ],
    {
        "candidate.first_name": ("Vorname", []),
        "candidate.last_name": ("Nachname", []),
        "candidate.email_address": ("E-Mail", ["lower"]),
        "candidate.phone_number": ("Telefon", ["phone"]),
        "candidate.gender": ("Geschlecht", []),
        "candidate.availability_date": ("Verfügbar ab", ["date"]),
        "candidate.salary_expectations.amount": ("Gehaltsvorstellung", ["number"]),
        "candidate.salary_expectations.period": ("TODO", ["placeholder"]),
        "candidate.location.city": ("Wohnort", []),
        "candidate.location.country": ("Land", ["country"]),
        "application.job_id": ("Stelle", ["placeholder"]),
        "application.stage_id": ("Status", ["placeholder"]),
        "attachments[0]": ("Lebenslauf", []),
        "attachments[1]": ("Anschreiben", []),
        "attachments[2]": ("Zeugnisse", []),
        "gdpr_consent.given": ("Datenschutzeinwilligung", ["bool"]),
    },
)
SMARTRECRUITERS = (
    ["Candidate Id", "First Name", "Last Name", "Email", "Phone Number", "Location"]
    + ["Current Job Title", "Current Employer", "Job Title", "Job Ad Id", "Status"]
    + ["Sub-Status", "Source", "Applied Date", "Resume Link", "LinkedIn"],
    [
        ["x1", "Eva", "Ng", "eva@example.com", "+1 512 555 0199", "Austin, TX", "PM", "Dell"]
        + ["Product Designer", "ad-1", "In Review", "New", "Indeed", "2025-04-01"]
        + ["https://files.example.com/eva.pdf", "https://www.linkedin.com/in/eva"],
        ["x2", "Raj", "Iyer", "raj@example.com", "+1 512 555 0198", "Dallas, TX", "Dev"]
        + ["Oracle", "Backend Engineer", "ad-2", "Interview", "Scheduled", "Referral"]
        + ["2025-04-02", "https://files.example.com/raj.pdf", ""],
    ],
    {
        "candidate.first_name": ("First Name", []),
        "candidate.last_name": ("Last Name", []),
        "candidate.email_address": ("Email", ["lower"]),
        "candidate.phone_number": ("Phone Number", []),
        "candidate.company": ("Current Employer", []),
        "candidate.title": ("Current Job Title", []),
        "candidate.location.city": ("Location", ["regex"]),
        "candidate.location.country": ("TODO", ["placeholder"]),  # TX is a state
        "candidate.social_links[0]": ("LinkedIn", []),
        "application.job_id": ("Job Title", ["placeholder"]),
        "application.stage_id": ("Status", ["placeholder"]),
        "attachments[0]": ("Resume Link", []),
    },
)
BAMBOOHR = (
    ["Applicant ID", "First Name", "Last Name", "Email", "Phone", "Address", "City", "State"]
    + ["Zip", "Country", "Job Opening", "Status", "Source", "Desired Salary"]
    + ["Available Start Date", "LinkedIn URL", "Website, Blog, or Portfolio", "Resume"]
    + ["Cover Letter", "Rating", "Date Applied", "Referred By"],
    [
        ["101", "Liz", "Park", "liz@example.com", "(415) 555-0134", "1 Main St", "Oakland"]
        + ["CA", "94607", "United States", "Data Analyst", "New", "Indeed", "$85,000"]
        + ["05/13/2026", "linkedin.com/in/liz", "https://liz.io", "r/liz.pdf", "r/liz.docx"]
        + ["4", "04/01/2025", ""],
        ["102", "Tom", "Hill", "tom@example.com", "(415) 555-0135", "2 Oak Ave", "Fresno", "CA"]
        + ["93650", "USA", "Backend Engineer", "Reviewed", "Referral", "$92,500"]
        + ["03/05/2026", "", "", "r/tom.pdf", "", "3", "04/02/2025", "Liz Park"],
    ],
    {
        "candidate.first_name": ("First Name", []),
        "candidate.last_name": ("Last Name", []),
        "candidate.email_address": ("Email", ["lower"]),
        "candidate.phone_number": ("Phone", []),
        "candidate.availability_date": ("Available Start Date", ["date"]),
        "candidate.salary_expectations.amount": ("Desired Salary", ["number"]),
        "candidate.salary_expectations.period": ("TODO", ["placeholder"]),
        "candidate.location.street_1": ("Address", []),
        "candidate.location.city": ("City", []),
        "candidate.location.state": ("State", []),
        "candidate.location.zip_code": ("Zip", []),
        "candidate.location.country": ("Country", ["country"]),
        "candidate.social_links[0]": ("LinkedIn URL", []),
        "candidate.social_links[1]": ("Website, Blog, or Portfolio", []),
        "application.job_id": ("Job Opening", ["placeholder"]),
        "application.stage_id": ("Status", ["placeholder"]),
        "attachments[0]": ("Resume", []),
        "attachments[1]": ("Cover Letter", []),
    },
)
JOB_FAIR = (
    ["Nr.", "Kontakt", "Telefon", "Interesse an", "Studiengang", "Verfügbar ab"]
    + ["Lebenslauf", "Notizen"],
    [
        ["1", "Anna Wolf <anna@example.de>", "0176 1234567", "Backend Engineer", "Informatik"]
        + ["01.10.2026", "cv/anna.pdf", "sehr gut"],
        ["2", '"Ben Yilmaz" <ben@example.de>', "0151 7654321", "Data Analyst", "BWL"]
        + ["15.09.2026", "", ""],
    ],
    {
        "candidate.first_name": ("Kontakt", ["regex", "first_name"]),
        "candidate.last_name": ("Kontakt", ["regex", "last_name"]),
        "candidate.email_address": ("Kontakt", ["regex", "lower"]),
        "candidate.phone_number": ("Telefon", []),  # national numbers, no +CC to tell the country
        "candidate.availability_date": ("Verfügbar ab", ["date"]),
        "application.job_id": ("Interesse an", ["placeholder"]),
        "attachments[0]": ("Lebenslauf", []),
    },
)
EXPORTS = {
    "greenhouse.csv": GREENHOUSE,
    "lever.csv": LEVER,
    "workable.xlsx": WORKABLE,
    "personio.csv": PERSONIO,
    "smartrecruiters.csv": SMARTRECRUITERS,
    "bamboohr.csv": BAMBOOHR,
    "job_fair.xlsx": JOB_FAIR,
}


def _write(path: Path, headers: list[str], rows: list[list[str]]) -> Path:
    if path.suffix == ".xlsx":
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        sheet.append(["Exported 2026-01-05"])  # a title row above the header, as fairs do
        for row in [headers, *rows]:
            sheet.append(row)
        workbook.save(path)
    else:
        with path.open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows([headers, *rows])
    return path


def _drafted(mapping_path: Path) -> dict[str, tuple[str, list[str]]]:
    """Each field the draft sets: its column (TODO for a placeholder) and its transforms."""
    mapping = load_mapping(mapping_path)
    found = {}
    for leaf in mapping.leaves():
        column = ", ".join(leaf.columns) or str(leaf.spec.value)
        found[leaf.path] = (column, [name for name, _ in leaf.transforms])
    for i, node in enumerate(mapping.attachments):
        found[f"attachments[{i}]"] = (", ".join(node.file.columns), [])
    return found


def _init(source: Path, target: Path, *more: str) -> str:
    result = CliRunner().invoke(main, ["init", str(source), "-o", str(target), *more])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_an_export_is_drafted_field_by_field_as_a_person_would_map_it(tmp_path, name):
    headers, rows, expected = EXPORTS[name]
    source = _write(tmp_path / name, headers, rows)
    output = _init(source, tmp_path / "m.yaml")
    drafted = _drafted(tmp_path / "m.yaml")
    wanted = {path: (column, transforms) for path, (column, transforms) in expected.items()}
    got = {path: drafted.get(path) for path in wanted}
    for path, (column, transforms) in wanted.items():
        assert got[path] is not None, f"{name}: {path} is not drafted"
        assert got[path][0] == column, f"{name}: {path} from {got[path][0]!r}, not {column!r}"
        assert all(t in got[path][1] for t in transforms), f"{name}: {path}: {got[path][1]}"
    gender = [p for p in drafted if p == "candidate.gender"]
    assert sorted(set(drafted) - set(wanted) - set(gender)) == [], name  # nothing else mapped
    text = (tmp_path / "m.yaml").read_text(encoding="utf-8")
    for header in headers:  # every column accounted for, once
        assert sum(line.startswith(f"#   {header}   ") for line in text.splitlines()) == 1
    assert f"(of {len(headers)}; each listed at its end)" in output


def test_the_share_of_fields_placed_right_over_all_exports(tmp_path):
    right = total = 0
    for name, (headers, rows, expected) in EXPORTS.items():
        source = _write(tmp_path / name, headers, rows)
        _init(source, tmp_path / f"{name}.yaml")
        drafted = _drafted(tmp_path / f"{name}.yaml")
        for path, (column, _) in expected.items():
            total += 1
            right += drafted.get(path, ("",))[0] == column
    assert right / total == 1.0, f"{right} of {total} fields placed right"


def test_no_drafted_mapping_validates_a_value_the_file_does_not_show(tmp_path):
    """Lever's "San Francisco, CA" names no country: every row with a city is refused, naming the
    line of the mapping to edit, instead of being sent with a guessed one."""
    headers, rows, _ = LEVER
    source = _write(tmp_path / "lever.csv", headers, rows)
    target = tmp_path / "lever.yaml"
    _init(source, target)
    report = tmp_path / "report.csv"
    CliRunner().invoke(
        main, ["validate", str(source), "-m", str(target), "--report", str(report), "-q"]
    )
    refused = [r for r in read_csv(report) if r["code"] == "unmapped_required"]
    country = [r for r in refused if r["field"] == "candidate.location.country"]
    assert [r["row"] for r in country] == ["2", "3"]
    line = next(
        n
        for n, text in enumerate(target.read_text(encoding="utf-8").splitlines(), 1)
        if text.lstrip().startswith("country:")
    )
    assert f"lever.yaml, line {line}:" in country[0]["message"]


def test_month_first_dates_are_read_in_the_order_their_column_proves(tmp_path):
    source = _write(
        tmp_path / "us.csv",
        ["First Name", "Last Name", "Email", "Job", "Available from"],
        [
            ["A", "B", "a@example.com", "Dev", "03/05/2025"],
            ["C", "D", "c@example.com", "Dev", "05/13/2025"],
        ],
    )
    _init(source, tmp_path / "m.yaml")
    text = (tmp_path / "m.yaml").read_text(encoding="utf-8")
    assert (
        "availability_date: {column: Available from, transform: [date]}"
        "  # 1 date in the column is month first"
    ) in text
    assert "%d/%m/%Y" not in text


def test_without_a_job_column_every_row_is_refused_until_the_job_is_filled_in(tmp_path):
    source = _write(
        tmp_path / "people.csv", ["Full name", "E-mail"], [["Anna Wolf", "a@example.com"]]
    )
    target = tmp_path / "m.yaml"
    output = _init(source, target)
    text = target.read_text(encoding="utf-8")
    line = next(n for n, t in enumerate(text.splitlines(), 1) if "job_id: TODO" in t)
    assert f"Edit the TODO on line {line}." in output
    result = CliRunner().invoke(main, ["validate", str(source), "-m", str(target), "--json"])
    assert result.exit_code == 1
    target.write_text(text.replace("job_id: TODO", "job_id: {value: JOB1}"), encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(source), "-m", str(target), "-q"])
    assert result.exit_code == 0, result.output


def test_init_with_the_sandbox_drafts_live_ids_and_finds_the_examples_problems(tmp_path):
    target = tmp_path / "example.yaml"
    output = _init(EXAMPLE, target, "--sandbox")
    text = target.read_text(encoding="utf-8")
    mapping = load_mapping(target)
    application = mapping.body.children["application"].children
    assert application["job_id"].value_map == {
        "backend engineer": "BDpgnpZ148nrGh4mYHNxJBgx",
        "product designer": "5Y1zeMUqTBf4QNPAqTBH2Rsm",
        "sales manager dach": "9cDq3oHNyR2c7VWCkYbDRVZh",
        "data analyst": "Ew6B7dUHpg5RkxYHWt8wfBdq",
        "office manager": "TODO",  # only a closed job is like it
    }
    assert "Office Manager: TODO  # TODO: no open job matches; closest: Office Manager" in text
    assert application["stage_id"].value_map == {
        "applied": "8x3YKRDcuRnwShdh96ShBNn1",
        "screening": "2R1cQwBq3iKbdMR7bm5xNvcP",
        "interview": "6pYTGdQ6zyv9vHJ1WaWd5Cyo",
    }
    answers = mapping.body.children["screening_question_answers"].answers
    assert answers["3phFBNXRweGnDmsU9o2vdPuQ"].spec.column == "Work permit"
    skills = answers["EYJjhMQT3LtVKXnTbnRT8s6U"]
    assert (skills.spec.column, skills.spec.split) == ("Skills", ",")
    assert skills.value_map is not None and skills.value_map["python"] == "bqzpxsTcRGv9cQSboSDaoqzS"
    assert "# The integration's attachment rules:" in text and "sandbox-key" not in text
    # The TODO lines the draft names, edited as example.yaml has them: a yearly salary, and no
    # job for "Office Manager" (its rows are refused as not in the map).
    todo = [int(n) for n in output.split("Edit the TODO on lines ")[1].split(".")[0].split(", ")]
    lines = text.splitlines()
    assert [lines[n - 1].split(":")[0].strip() for n in todo] == ["period", "Office Manager"]
    lines[todo[0] - 1] = "    period: {value: YEAR}"
    del lines[todo[1] - 1]
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def errors(mapping_path: Path, out: Path) -> dict[str, set[str]]:
        args = ["validate", str(EXAMPLE), "-m", str(mapping_path), "--out", str(out), "-q"]
        CliRunner().invoke(main, args)
        found: dict[str, set[str]] = {}
        for row in read_csv(out / "report.csv"):
            if row["severity"] == "error":
                found.setdefault(row["row"], set()).add(row["code"])
        return found

    drafted = errors(target, tmp_path / "drafted")
    assert drafted == errors(ROOT / "mappings" / "example.yaml", tmp_path / "example")
    assert len(drafted) == 10


def test_jobs_filters_by_status_and_search_and_fits_80_columns(sandbox):
    args = ["jobs", "--server-url", sandbox.url, "--integration-id", "sandbox:demo"]
    args += ["--api-key", "sandbox-key"]
    result = CliRunner().invoke(main, args + ["--status", "closed"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[1].startswith("Kq8ClosedJobZ7pXw2mRtY4n  CLOSED    Office Manager (filled)")
    assert lines[-1] == "1 job."
    result = CliRunner().invoke(main, args + ["nurse", "--status", "OPEN"])
    lines = result.output.splitlines()
    assert lines[-1] == "1 job." and "Night Nurse" in lines[1]
    assert max(len(line) for line in lines) <= 80
    assert any(line.endswith("…") for line in lines)  # a long question title, cut
    result = CliRunner().invoke(main, args + ["engineer", "--json"])
    assert [job["name"] for job in __import__("json").loads(result.stdout)] == ["Backend Engineer"]
