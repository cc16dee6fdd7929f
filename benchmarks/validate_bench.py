"""Dry-run speed and memory: read + map + validate + error CSV, on CSV and XLSX.

    python benchmarks/validate_bench.py              # 100,000 rows, 3 runs each
    python benchmarks/validate_bench.py --rows 20000 --repeat 5

Generates one export of N rows (15 mapped columns, most with transforms, ~3 % of rows with a
mistake) as CSV and XLSX, then runs `kombo-import validate` on each in a fresh process per run
and prints the median rows/s and the peak memory (max RSS) of those processes, once in one process
and once with worker processes (what `validate` does by itself for files over 4 MB).
Targets (issue 2): CSV >= 40,000 rows/s, XLSX >= 25,000 rows/s, peak memory < 300 MB at 100k rows.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

HEADERS = [
    "First Name",
    "Last Name",
    "E-Mail",
    "Phone",
    "Gender",
    "Available",
    "Salary",
    "City",
    "Country",
    "LinkedIn",
    "Job",
    "Stage",
    "Work permit",
    "Skills",
    "Company",
]

MAPPING = """
version: 1
candidate:
  first_name: {column: First Name, transform: [collapse_spaces]}
  last_name: Last Name
  email_address: {column: E-Mail, transform: [lower]}
  phone_number: {column: Phone, transform: [{phone: {region: DE}}]}
  gender: {column: Gender, map: {m: MALE, f: FEMALE, d: OTHER}}
  availability_date: {column: Available, transform: [{date: {formats: ["%d.%m.%Y"]}}]}
  salary_expectations:
    amount: {column: Salary, transform: [{number: {decimal: ","}}]}
    period: {value: YEAR}
  company: Company
  location: {city: City, country: {column: Country, transform: [country]}}
  social_links: [LinkedIn]
application:
  job_id: {column: Job, map: {Backend: JOB1, Design: JOB2, Sales: JOB3}}
  stage_id: {column: Stage, map: {Applied: ST1, Interview: ST2}}
screening_question_answers:
  q_permit: {column: Work permit, transform: [bool]}
  q_skills: {column: Skills, split: ","}
"""


def _words(rng: random.Random, count: int, syllables: int) -> list[str]:
    parts = [
        "an",
        "be",
        "chri",
        "da",
        "el",
        "fe",
        "gu",
        "hen",
        "is",
        "jo",
        "ka",
        "lu",
        "ma",
        "ni",
        "o",
        "pe",
        "ra",
        "si",
        "to",
        "ul",
        "ve",
        "wi",
        "xa",
        "yo",
        "ze",
        "mül",
        "schä",
        "kö",
    ]
    return list(
        {"".join(rng.choice(parts) for _ in range(syllables)).title() for _ in range(count)}
    )


def generate(rows: int, folder: Path) -> tuple[Path, Path, Path]:
    """Data shaped like a real export: names, emails, phones and links mostly distinct;
    countries, cities, jobs, stages, dates and salaries repeating as they do in practice."""
    rng = random.Random(7)
    countries = [
        "Germany",
        "DE",
        "Deutschland",
        "Austria",
        "Österreich",
        "CH",
        "Schweiz",
        "France",
        "Poland",
        "NL",
        "United Kingdom",
        "Spain",
    ]
    first_names, last_names = _words(rng, 300, 2), _words(rng, 5000, 3)
    cities, companies = _words(rng, 400, 2), _words(rng, 2000, 3)
    skills = [
        "Python",
        "SQL",
        "Go",
        "Figma",
        "Excel",
        "React",
        "Kubernetes",
        "Salesforce",
        "Tableau",
        "Java",
    ]
    data = []
    for i in range(rows):
        day = dt.date(2026, 1, 1) + dt.timedelta(days=rng.randint(0, 730))
        row = [
            rng.choice(first_names),
            rng.choice(last_names),
            f"person{i}@example.com",
            f"0{rng.choice(['151', '160', '171', '176', '30', '89'])} "
            f"{rng.randint(1000000, 9999999)}",
            rng.choice(["m", "f", "d", ""]),
            day.strftime("%d.%m.%Y"),
            rng.choice([f"{rng.randint(40, 120)}.{rng.choice(['000', '500'])} €", ""]),
            rng.choice(cities),
            rng.choice(countries),
            f"https://www.linkedin.com/in/person-{i}",
            rng.choice(["Backend", "Design", "Sales"]),
            rng.choice(["Applied", "Interview"]),
            rng.choice(["yes", "no", "ja", "nein", ""]),
            ", ".join(rng.sample(skills, rng.randint(1, 4))),
            rng.choice(companies + [""] * 200),
        ]
        if i % 33 == 0:
            row[2] = f"person{i}@example"  # a mistake every 33 rows
        data.append(row)
    csv_path, xlsx_path, mapping_path = (
        folder / "bench.csv",
        folder / "bench.xlsx",
        folder / "bench.yaml",
    )
    with csv_path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADERS)
        writer.writerows(data)
    import xlsxwriter

    workbook = xlsxwriter.Workbook(
        str(xlsx_path),
        {"constant_memory": True, "strings_to_urls": False, "strings_to_numbers": False},
    )
    sheet = workbook.add_worksheet("Candidates")
    sheet.write_row(0, 0, HEADERS)
    for r, row in enumerate(data, 1):
        sheet.write_row(r, 0, row)
    workbook.close()
    mapping_path.write_text(textwrap.dedent(MAPPING), encoding="utf-8")
    return csv_path, xlsx_path, mapping_path


# Runs in a fresh interpreter so each run's peak memory is its own.
CHILD = """
import json, resource, sys, time
from pathlib import Path
from importer.runs import DryRunOptions, dry_run
started = time.perf_counter()
result = dry_run(DryRunOptions(Path(sys.argv[1]), Path(sys.argv[2]), report_path=Path(sys.argv[3])))
seconds = time.perf_counter() - started
peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
worker_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the largest worker process
workers = int(sys.argv[4])
print(json.dumps({"rows": result.summary.rows_read, "invalid": result.summary.invalid,
                  "seconds": seconds,
                  "peak_mb": (peak_kb + workers * worker_kb) / 1024}))
"""


def measure(input_path: Path, mapping_path: Path, repeat: int, workers: int) -> dict[str, float]:
    runs = []
    env = dict(os.environ, KOMBO_IMPORTER_WORKERS=str(workers))
    for _ in range(repeat):
        out = subprocess.run(
            [
                sys.executable,
                "-c",
                CHILD,
                str(input_path),
                str(mapping_path),
                str(input_path.with_suffix(".errors.csv")),
                str(workers),
            ],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
        runs.append(json.loads(out.stdout))
    return {
        "rows": runs[0]["rows"],
        "invalid": runs[0]["invalid"],
        "seconds": statistics.median(r["seconds"] for r in runs),
        "peak_mb": max(r["peak_mb"] for r in runs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        help=(
            "worker processes for the parallel lines"
            " (validate picks min(cores, 4) for CSV, min(cores, 2) for Excel)"
        ),
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        csv_path, xlsx_path, mapping_path = generate(args.rows, Path(folder))
        print(
            f"generated {args.rows:,} rows in {time.perf_counter() - started:.1f}s ("
            f"{dt.date.today()}, median of {args.repeat} runs)\n"
        )
        targets = {"csv": 40_000, "xlsx": 25_000}
        print(
            f"{'file':<6}{'workers':>8}{'rows':>10}{'invalid':>9}{'seconds':>9}{'rows/s':>10}"
            f"{'target':>9}{'ratio':>7}{'peak MB':>9}"
        )
        for name, path in (("csv", csv_path), ("xlsx", xlsx_path)):
            for workers in (0, args.workers):
                m = measure(path, mapping_path, args.repeat, workers)
                rate = m["rows"] / m["seconds"]
                print(
                    f"{name:<6}{workers:>8}{m['rows']:>10,}{m['invalid']:>9,}{m['seconds']:>9.2f}"
                    f"{rate:>10,.0f}{targets[name]:>9,}{rate / targets[name]:>7.2f}"
                    f"{m['peak_mb']:>9.0f}"
                )
        print(
            "(workers 0: one process; peak MB adds the largest worker's peak once per worker, an"
            " upper bound)"
        )


if __name__ == "__main__":
    main()
