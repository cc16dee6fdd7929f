"""`init` drafts a mapping that loads, places English and German headers, and leaves ids empty."""

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
    assert "formats: ['%d.%m.%Y']" in text and 'decimal: ","' in text
    assert "#   Hobbys   e.g. 'Segeln'" in text
    assert "      Backend Engineer: ~" in text
    report = tmp_path / "errors.csv"
    CliRunner().invoke(
        main, ["validate", str(path), "-m", str(mapping_path), "--report", str(report)]
    )
    codes = {(r["column"], r["code"]) for r in read_csv(report)}
    assert ("Stelle", "unknown_value") in codes  # job ids stay empty until filled in


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
