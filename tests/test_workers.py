"""The dry run on worker processes finds exactly what the one-process dry run finds."""

from __future__ import annotations

from conftest import read_csv

from importer.runs import DryRunOptions, dry_run


def test_parallel_and_serial_dry_runs_agree(write_csv, write_mapping, tmp_path, monkeypatch):
    rows = [["First", "Last", "Email", "Job"]]
    for i in range(5000):
        email = (
            f"person{i}@example" if i % 97 == 0 else f"person{i % 4000}@example.com"
        )  # bad emails and duplicates
        rows.append([f"P{i}", "" if i % 311 == 0 else "Wolf", email, "J1"])
    source = write_csv(rows)
    mapping = write_mapping(
        "candidate: {first_name: First, last_name: Last, email_address: Email}\n"
        "application: {job_id: Job}\n"
    )
    results = {}
    for workers in ("0", "2"):
        monkeypatch.setenv("KOMBO_IMPORTER_WORKERS", workers)
        report = tmp_path / f"errors-{workers}.csv"
        summary = dry_run(
            DryRunOptions(
                source,
                mapping,
                report_path=report,
                rejects_path=tmp_path / f"rejects-{workers}.csv",
            )
        ).summary
        results[workers] = (
            summary.rows_read,
            summary.valid,
            dict(summary.problems_by_code),
            read_csv(report),
            read_csv(tmp_path / f"rejects-{workers}.csv"),
        )
    assert results["0"] == results["2"]
    rows_read, valid, codes, report_rows, _ = results["2"]
    assert (
        rows_read == 5000
        and codes["duplicate_in_file"] > 900
        and codes["invalid_email"] > 40
        and codes["required"] > 10
    )
    assert [int(r["row"]) for r in report_rows] == sorted(
        int(r["row"]) for r in report_rows
    )  # file order
