"""`init` drafts a mapping that loads, places English and German headers, and leaves what only
the user knows as TODO, which the dry run refuses row by row."""

from __future__ import annotations

import openpyxl
from click.testing import CliRunner
from conftest import read_csv

from importer.cli import main
from importer.mapping import load_mapping


def test_a_german_export_is_drafted_into_a_mapping_that_loads(tmp_path):
    path = tmp_path / "bewerber.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Bewerber"
    ws.append(
        [
            "Vorname",
            "Nachname",
            "E-Mail-Adresse",
            "Handy",
            "Geschlecht",
            "Verfügbar ab",
            "Gehaltsvorstellung",
            "Wohnort",
            "Land",
            "Xing",
            "Stelle",
            "Lebenslauf",
            "Hobbys",
        ]
    )
    ws.append(
        [
            "Jürgen",
            "Müller",
            "j@example.de",
            "0151 1234567",
            "Herr",
            "01.04.2026",
            "65.000 €",
            "Köln",
            "Deutschland",
            "xing.com/profile/J",
            "Backend Engineer",
            "cv/j.pdf",
            "Segeln",
        ]
    )
    ws.append(
        [
            "Zoë",
            "Nowak",
            "z@example.de",
            "+49 160 7654321",
            "Frau",
            "15.05.2026",
            "70.000 €",
            "Berlin",
            "DE",
            "",
            "Data Analyst",
            "cv/z.pdf",
            "",
        ]
    )
    wb.save(path)
    mapping_path = tmp_path / "mappings" / "bewerber.yaml"
    result = CliRunner().invoke(main, ["init", str(path), "-o", str(mapping_path)])
    assert result.exit_code == 0, result.output
    text = mapping_path.read_text(encoding="utf-8")
    mapping = load_mapping(mapping_path)
    assert mapping.input.sheet == "Bewerber"
    candidate = mapping.body.children["candidate"].children
    assert (
        candidate["first_name"].spec.column == "Vorname"
        and candidate["email_address"].spec.column == "E-Mail-Adresse"
    )
    assert candidate["phone_number"].spec.column == "Handy" and "region: DE" in text
    assert candidate["gender"].value_map == {"herr": "MALE", "frau": "FEMALE"}
    assert "{column: Verfügbar ab, transform: [date]}  # 1 date in the column is day first" in text
    assert 'decimal: ","' in text
    assert "#   Hobbys   not placed; e.g. 'Segeln'" in text
    assert "      Backend Engineer: TODO" in text
    report = tmp_path / "errors.csv"
    CliRunner().invoke(
        main, ["validate", str(path), "-m", str(mapping_path), "--report", str(report)]
    )
    codes = {(r["column"], r["code"]) for r in read_csv(report)}
    assert ("Stelle", "unmapped_required") in codes  # job ids stay TODO until filled in


def test_a_full_name_column_is_split_and_existing_mappings_are_kept(write_csv, tmp_path):
    source = write_csv(
        [
            ["Candidate name", "Email", "Position applied"],
            ["Anna Wolf", "a@example.com", "Designer"],
        ]
    )
    target = tmp_path / "m.yaml"
    assert CliRunner().invoke(main, ["init", str(source), "-o", str(target)]).exit_code == 0
    mapping = load_mapping(target)
    first = mapping.body.children["candidate"].children["first_name"]
    assert (first.spec.column, [name for name, _ in first.transforms]) == (
        "Candidate name",
        ["first_name"],
    )
    before = target.read_bytes()
    result = CliRunner().invoke(main, ["init", str(source), "-o", str(target)])
    assert result.exit_code == 2 and "exists already" in result.output
    assert target.read_bytes() == before


HOSTILE_HEADERS = [
    'Name: "x"',
    "- E-Mail",
    "@Mobil",
    "Stelle #1",
    "Geschlecht, m/w",
    "Firma\\",
    "Ort'",
    "Land: DE",
    "#tag",
    "yes",
    "NO",
    "Hobbys: [a, {b",
]
HOSTILE_VALUES = [
    "yes",
    "NO",
    "- item",
    "@x",
    'Name: "x"',
    "#tag",
    "null",
    "~",
    "1.5",
    "'q'",
    "a: b",
]


def test_headers_and_values_that_read_as_yaml_syntax_are_quoted_in_the_draft(write_csv, tmp_path):
    rows = [HOSTILE_HEADERS] + [
        [f"Anna Wolf{i}", f"a{i}@example.com", "0151 1", value, value, "", "", "", "", "", "", ""]
        for i, value in enumerate(HOSTILE_VALUES)
    ]
    source = write_csv(rows)
    target = tmp_path / "m.yaml"
    result = CliRunner().invoke(main, ["init", str(source), "-o", str(target)])
    assert result.exit_code == 0, result.output
    text = target.read_text(encoding="utf-8")
    mapping = load_mapping(target)
    candidate = mapping.body.children["candidate"].children
    assert candidate["first_name"].spec.column == 'Name: "x"'
    assert candidate["email_address"].spec.column == "- E-Mail"
    assert candidate["phone_number"].spec.column == "@Mobil"
    assert candidate["company"].spec.column == "Firma\\"
    location = candidate["location"].children
    assert (location["city"].spec.column, location["country"].spec.column) == ("Ort'", "Land: DE")
    assert sorted(mapping.columns()) == sorted(HOSTILE_HEADERS[:8])
    expected = {" ".join(v.split()).casefold() for v in HOSTILE_VALUES}
    job = mapping.body.children["application"].children["job_id"]
    assert job.spec.column == "Stelle #1" and set(job.value_map or {}) == expected
    assert set(candidate["gender"].value_map or {}) == expected
    for header in ("#tag", "yes", "NO", "Hobbys: [a, {b"):
        assert f"\n#   {header}   " in text  # listed, in the comment, as it is
    report = tmp_path / "errors.csv"
    CliRunner().invoke(main, ["validate", str(source), "-m", str(target), "--report", str(report)])
    assert {(r["column"], r["code"]) for r in read_csv(report)} >= {
        ("Stelle #1", "unmapped_required")
    }


def test_headers_no_reader_would_give_still_make_a_draft_that_loads_as_they_are(tmp_path):
    """Line breaks, tabs, control characters, a BOM, a trailing space, emoji: in a header, a
    value, the sheet's or the file's name; none may end a comment or a scalar early."""
    import yaml

    from importer.draft import place_columns, render_mapping
    from importer.readers import SourceRow, Table

    headers = [
        "E-Mail\n#   injected: 1",
        "Vorname ",
        "\tNachname",
        "Stelle\u2028x",
        "Status\x00",
        "Firma\ufeff",
        "Land\x85",
        "📧 Ort",
        "Notiz\ninjected: 2",
    ]
    long_job = "Senior " * 200  # a key longer than YAML's 1,024 characters for a plain `key:`
    values = [
        ["a@example.com", "A", "B", long_job, "x\x07y", "", "", "", "n"],
        ["b@example.com", "C", "D", "Dev\x7f", "😀", "", "", "", ""],
    ]
    rows = (SourceRow(n, tuple(v)) for n, v in enumerate(values, 2))
    table = Table(tmp_path / "bad\nname.csv", headers, rows, 1, sheet="Q1 'final' #2")
    draft = place_columns(table)
    text = render_mapping(draft, table)
    assert set(yaml.safe_load(text)) == {"version", "input", "candidate", "application"}
    assert (
        "\n#   \"Notiz\\ninjected: 2\"   left out: no field of Kombo's candidate; e.g. 'n'\n"
        in text
    )
    target = tmp_path / "m.yaml"
    target.write_text(text, encoding="utf-8")
    mapping = load_mapping(target)
    assert mapping.input.sheet == "Q1 'final' #2"
    assert sorted(mapping.columns()) == sorted(headers[:-1]) == sorted(draft.placed.values())
    application = mapping.body.children["application"].children
    assert set(application["job_id"].value_map or {}) == {
        " ".join(long_job.split()).casefold(),
        "dev\x7f",
    }
    assert set(application["stage_id"].value_map or {}) == {"x\x07y", "😀"}


def test_a_todo_left_in_a_map_refuses_its_rows_and_an_empty_target_sends_nothing(
    write_csv, tmp_path
):
    source = write_csv(
        [
            ["First", "Last", "Email", "Gender", "Job"],
            ["A", "B", "a@example.com", "x", "Dev"],
            ["C", "D", "c@example.com", "n/a", "Dev"],
        ]
    )
    target = tmp_path / "m.yaml"
    target.write_text(
        "candidate:\n  first_name: First\n  last_name: Last\n  email_address: Email\n"
        '  gender: {column: Gender, map: {x: TODO, n/a: ""}}\n'
        "application:\n  job_id: {column: Job, map: {Dev: JOB1}}\n",
        encoding="utf-8",
    )
    report = tmp_path / "report.csv"
    args = ["validate", str(source), "-m", str(target), "--report", str(report), "-q"]
    assert CliRunner().invoke(main, args).exit_code == 1
    (problem,) = read_csv(report)
    assert (problem["row"], problem["code"]) == ("2", "unmapped_required")
    assert "m.yaml, line 5" in problem["message"]


def test_the_synonym_table_covers_eight_languages_without_a_header_meaning_two_fields():
    from importer.draft import synonym_table

    headers, genders = synonym_table()  # raises on a header that means two fields
    languages = {synonym.language for synonym in headers.values()}
    assert {"en", "de", "fr", "es", "nl", "it", "pl", "cs"} <= languages
    assert (genders["mme"], genders["pan"], genders["divers"]) == ("FEMALE", "MALE", "OTHER")
