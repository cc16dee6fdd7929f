"""Dry-run speed and memory (read + map + validate + error CSV) against a bare pipeline.

    python benchmarks/validate_bench.py                       # 100k and 1M rows, 3 runs each
    python benchmarks/validate_bench.py --rows 20000 --repeat 1
    PYTHONPATH=/path/to/old/tree python benchmarks/validate_bench.py   # measure another version

For each size it generates one export (15 mapped columns, most with transforms, ~3 % of rows with
a mistake) as CSV and XLSX, cached under the temporary folder (a 1M-row XLSX takes minutes to
write; never in the repository), then times, each in a fresh process:

- `bare`: the least a dry run must do, written by hand: read the rows (the csv module; the XLSX
  streamed by python-calamine-plus), give the SDK model each row's body with every mapped column
  in its field, converted only as far as the SDK's types require (the date parsed with its one
  format, the salary with float(), yes/no to a bool, the skills split, gender to its enum), and
  write the rows it refuses to an error CSV. No checks of ours, no phone or country rules, no
  value maps but the gender's.
- `slim bare`: the bare pipeline of the first version of this benchmark, which gave the SDK 8 of
  the 15 columns, as raw text: kept to compare with earlier tables (`x slim`).
- `validate` in one process (KOMBO_IMPORTER_WORKERS=0) and with its default workers.

It prints the median rows/s of the timed part (the import of the code is not timed), its ratio to
the bare pipeline measured in the same run, and the peak memory of the whole process tree: the
largest sum over the process and its workers of their resident memory (RSS, sampled every 20 ms;
pages a forked worker shares with its parent count once per process) and of their proportional
memory (PSS, every 100 ms; a shared page counts once in all: what the run takes from the machine).
Targets (issue 14): one process >= 0.6x bare; peak < 200 MB at any size with the default workers.
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
import threading
import time
from collections.abc import Iterator
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

SYLLABLES = "an be chri da el fe gu hen is jo ka lu ma ni o pe ra si to ul ve wi xa yo ze mül schä"


def _words(rng: random.Random, count: int, syllables: int) -> list[str]:
    parts = SYLLABLES.split()
    return sorted(
        {"".join(rng.choice(parts) for _ in range(syllables)).title() for _ in range(count)}
    )


def _rows(count: int) -> Iterator[list[str]]:
    """Rows shaped like a real export: names, emails, phones and links mostly distinct;
    countries, cities, jobs, stages, dates and salaries repeating as they do in practice."""
    rng = random.Random(7)
    countries = ["Germany", "DE", "Deutschland", "Austria", "Österreich", "CH", "Schweiz"]
    countries += ["France", "Poland", "NL", "United Kingdom", "Spain"]
    first_names, last_names = _words(rng, 300, 2), _words(rng, 5000, 3)
    cities, companies = _words(rng, 400, 2), _words(rng, 2000, 3) + [""] * 200
    skills = ["Python", "SQL", "Go", "Figma", "Excel", "React", "Kubernetes", "Salesforce", "Java"]
    for i in range(count):
        day = dt.date(2026, 1, 1) + dt.timedelta(days=rng.randint(0, 730))
        row = [
            rng.choice(first_names),
            rng.choice(last_names),
            f"person{i}@example.com" if i % 33 else f"person{i}@example",  # a mistake
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
            rng.choice(companies),
        ]
        yield row


def generate(rows: int, folder: Path) -> tuple[Path, Path, Path]:
    """The CSV, XLSX and mapping of `rows` rows, written once into `folder` and reused."""
    folder.mkdir(parents=True, exist_ok=True)
    csv_path, xlsx_path = folder / "bench.csv", folder / "bench.xlsx"
    mapping_path = folder / "bench.yaml"
    mapping_path.write_text(textwrap.dedent(MAPPING), encoding="utf-8")
    if not csv_path.exists():
        partial = csv_path.with_suffix(".partial")
        with partial.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(HEADERS)
            writer.writerows(_rows(rows))
        partial.replace(csv_path)
    if not xlsx_path.exists():
        import xlsxwriter

        partial = xlsx_path.with_suffix(".partial")
        workbook = xlsxwriter.Workbook(
            str(partial),
            {"constant_memory": True, "strings_to_urls": False, "strings_to_numbers": False},
        )
        sheet = workbook.add_worksheet("Candidates")
        sheet.write_row(0, 0, HEADERS)
        for r, row in enumerate(_rows(rows), 1):
            sheet.write_row(r, 0, row)
        workbook.close()
        partial.replace(xlsx_path)
    return csv_path, xlsx_path, mapping_path


# Each runs in a fresh interpreter: argv = input, mapping, error CSV. Prints rows and seconds.
DRY_RUN = """
import json, sys, time
from pathlib import Path
from importer.runs import DryRunOptions, dry_run
options = DryRunOptions(Path(sys.argv[1]), Path(sys.argv[2]), report_path=Path(sys.argv[3]))
started = time.perf_counter()
result = dry_run(options)
print(json.dumps({"rows": result.summary.rows_read, "invalid": result.summary.invalid,
                  "seconds": time.perf_counter() - started}))
"""

# The bare pipelines' common part: the rows of a CSV (the csv module) or an XLSX (streamed),
# each one's body (`body_of`, each pipeline's own) given to the SDK model, the refused rows
# written to an error CSV.
BARE_RUN = """
import csv, datetime as dt, json, sys, time
from pathlib import Path
from kombo.models import PostAtsCandidatesRequestBody
from pydantic import ValidationError

def rows(path):
    if path.suffix == ".csv":
        with path.open(encoding="utf-8", newline="") as fh:
            yield from csv.reader(fh)
    else:
        from python_calamine_plus import CalamineWorkbook
        workbook = CalamineWorkbook.from_path(str(path))
        yield from workbook.stream_sheet_by_index(0)

def run(body_of):
    started = time.perf_counter()
    count = invalid = 0
    with open(sys.argv[3], "w", encoding="utf-8", newline="") as out:
        errors = csv.writer(out)
        cells = rows(Path(sys.argv[1]))
        next(cells)
        for row in cells:
            count += 1
            try:
                PostAtsCandidatesRequestBody.model_validate(body_of(row))
            except (ValidationError, ValueError, KeyError) as exc:
                invalid += 1
                errors.writerow([count + 1, str(exc)])
    seconds = time.perf_counter() - started
    print(json.dumps({"rows": count, "invalid": invalid, "seconds": seconds}))
"""

# Every mapped column in its field, converted only as far as the SDK's types require.
BARE = (
    BARE_RUN
    + """
GENDERS = {"m": "MALE", "f": "FEMALE", "d": "OTHER"}

def body_of(row):
    salary = str(row[6]).replace(".", "").replace("€", "").strip()
    candidate = {
        "first_name": row[0], "last_name": row[1], "email_address": str(row[2]).lower(),
        "phone_number": str(row[3]),
        "availability_date": dt.datetime.strptime(str(row[5]), "%d.%m.%Y"),
        "location": {"city": row[7], "country": row[8]},
        "social_links": [{"url": row[9]}],
    }
    if row[4]:
        candidate["gender"] = GENDERS[row[4]]
    if salary:
        candidate["salary_expectations"] = {"amount": float(salary), "period": "YEAR"}
    if row[14]:
        candidate["company"] = row[14]
    answers = [{"question_id": "q_skills", "answer": str(row[13]).split(",")}]
    if row[12]:
        answers.append({"question_id": "q_permit", "answer": row[12] in ("yes", "ja")})
    return {
        "candidate": candidate,
        "application": {"job_id": row[10], "stage_id": row[11]},
        "screening_question_answers": answers,
    }

run(body_of)
"""
)

# The first version's: 8 of the 15 columns, as raw text.
SLIM_BARE = (
    BARE_RUN
    + """
def body_of(row):
    return {
        "candidate": {
            "first_name": row[0], "last_name": row[1], "email_address": row[2],
            "phone_number": str(row[3]), "company": row[14] or None,
            "location": {"city": row[7], "country": "DE"}, "social_links": [{"url": row[9]}],
        },
        "application": {"job_id": row[10], "stage_id": row[11]},
        "screening_question_answers": [{"question_id": "q_skills", "answer": row[13]}],
    }

run(body_of)
"""
)


def _tree_memory_kb(pid: int, proportional: bool) -> int:
    """The memory of a process and all its descendants, from /proc (Linux): resident (RSS:
    pages a forked worker shares with its parent count in each) or proportional (PSS: a shared
    page counts once, split among the processes that share it)."""
    total, todo = 0, [pid]
    field, part = ("Pss:", "smaps_rollup") if proportional else ("VmRSS:", "status")
    while todo:
        current = todo.pop()
        try:
            status = Path(f"/proc/{current}/{part}").read_text()
            total += next(
                int(line.split()[1]) for line in status.splitlines() if line.startswith(field)
            )
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, StopIteration, ValueError):
            continue  # ended meanwhile
    return total


def run_once(code: str, args: list[str], env: dict[str, str]) -> dict[str, float]:
    """One fresh process: what it prints, with the peak memory of its process tree."""
    process = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    peak = [0, 0]  # RSS, PSS
    tracing = Path("/proc").is_dir()

    def sample() -> None:
        samples = 0
        while process.poll() is None:
            peak[0] = max(peak[0], _tree_memory_kb(process.pid, proportional=False))
            if samples % 5 == 0:  # PSS costs the kernel a walk of the page tables: every 100 ms
                peak[1] = max(peak[1], _tree_memory_kb(process.pid, proportional=True))
            samples += 1
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    if tracing:
        sampler.start()
    out, err = process.communicate(timeout=3600)
    if tracing:
        sampler.join(timeout=5)
    if process.returncode != 0:
        raise SystemExit(f"benchmark run failed:\n{err}")
    found: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    found["peak_mb"] = peak[0] / 1024 if tracing else float("nan")
    found["peak_pss_mb"] = peak[1] / 1024 if tracing else float("nan")
    return found


def measure(code: str, args: list[str], repeat: int, workers: str | None) -> dict[str, float]:
    """Medians of `repeat` runs (the peak memory: the largest)."""
    env = dict(os.environ)
    env.pop("KOMBO_IMPORTER_WORKERS", None)
    if workers is not None:
        env["KOMBO_IMPORTER_WORKERS"] = workers
    runs = []
    for _ in range(repeat):
        Path(args[2]).unlink(missing_ok=True)  # the error CSV of the previous run
        runs.append(run_once(code, args, env))
    return {
        "rows": runs[0]["rows"],
        "invalid": runs[0]["invalid"],
        "seconds": statistics.median(r["seconds"] for r in runs),
        "peak_mb": max(r["peak_mb"] for r in runs),
        "peak_pss_mb": max(r["peak_pss_mb"] for r in runs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--kinds", nargs="+", default=["csv", "xlsx"], choices=["csv", "xlsx"])
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "kombo-validate-bench"
    )
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"{dt.date.today()}, {cores} cores, load {load:.1f} at start, median of {args.repeat}"
        " (peak: the largest)\n"
    )
    print(
        f"{'rows':>10} {'file':<5}{'run':<13}{'invalid':>9}{'seconds':>9}{'rows/s':>9}"
        f"{'x bare':>8}{'x slim':>8}{'RSS MB':>8}{'PSS MB':>8}"
    )
    for rows in args.rows:
        started = time.perf_counter()
        paths = generate(rows, args.cache / str(rows))
        made = time.perf_counter() - started
        if made > 1:
            print(f"(generated {rows:,} rows in {made:.0f} s, cached in {args.cache})")
        by_kind = {"csv": paths[0], "xlsx": paths[1]}
        for kind in args.kinds:
            source = by_kind[kind]
            out = str(args.cache / f"{rows}-{kind}.errors.csv")
            bare_out = str(args.cache / f"{rows}-{kind}.bare-errors.csv")
            bare = measure(BARE, [str(source), str(paths[2]), bare_out], args.repeat, None)
            slim = measure(SLIM_BARE, [str(source), str(paths[2]), bare_out], args.repeat, None)
            lines = [("bare", bare), ("slim bare", slim)]
            for label, workers in (("one process", "0"), ("default", None)):
                found = measure(DRY_RUN, [str(source), str(paths[2]), out], args.repeat, workers)
                lines.append((label, found))
            for label, m in lines:
                rate = m["rows"] / m["seconds"]
                ratio = rate / (bare["rows"] / bare["seconds"])
                to_slim = rate / (slim["rows"] / slim["seconds"])
                print(
                    f"{rows:>10,} {kind:<5}{label:<13}{m['invalid']:>9,.0f}{m['seconds']:>9.2f}"
                    f"{rate:>9,.0f}{ratio:>8.2f}{to_slim:>8.2f}{m['peak_mb']:>8.0f}"
                    f"{m['peak_pss_mb']:>8.0f}",
                    flush=True,
                )
    if hasattr(os, "getloadavg"):
        print(f"\nload {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
