"""Dry run with attachments: N rows, each naming its own 1 MB file (default 10,000 rows).

    python benchmarks/attachments_bench.py               # sparse 1 MB files (little disk used)
    python benchmarks/attachments_bench.py --dense       # real 1 MB of bytes per file (10 GB!)

Prints rows/s and peak memory of `validate`, next to the file-system floor: the same files
stat'ed, opened and their first 8 KB read by a bare loop. Target (issue 3): peak memory under
300 MB (nothing is encoded in a dry run) and a time dominated by the file system.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

MAPPING = """
candidate: {first_name: First, last_name: Last, email_address: Email}
application: {job_id: {value: JOB1}}
attachments:
  - {column: CV, type: CV}
"""

CHILD = """
import json, resource, sys, time
from pathlib import Path
from importer.runs import DryRunOptions, dry_run
started = time.perf_counter()
result = dry_run(DryRunOptions(Path(sys.argv[1]), Path(sys.argv[2])))
seconds = time.perf_counter() - started
print(json.dumps({"rows": result.summary.rows_read, "invalid": result.summary.invalid,
                  "seconds": seconds,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

FLOOR = """
import os, sys, time
from pathlib import Path
started = time.perf_counter()
for path in sorted(Path(sys.argv[1]).iterdir()):
    os.stat(path)
    with open(path, "rb") as fh:
        fh.read(8192)
print(time.perf_counter() - started)
"""


def generate(rows: int, folder: Path, dense: bool) -> tuple[Path, Path]:
    cvs = folder / "cvs"
    cvs.mkdir()
    block = os.urandom(1024 * 1024 - 9)
    for i in range(rows):
        with (cvs / f"cv_{i:06d}.pdf").open("wb") as fh:
            fh.write(b"%PDF-1.7\n")
            if dense:
                fh.write(block)
            else:
                fh.seek(1024 * 1024 - 2)
                fh.write(b"\n")
    table = folder / "people.csv"
    with table.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["First", "Last", "Email", "CV"])
        writer.writerows(
            [f"Anna{i}", "Wolf", f"anna{i}@example.com", f"cvs/cv_{i:06d}.pdf"] for i in range(rows)
        )
    mapping = folder / "mapping.yaml"
    mapping.write_text(textwrap.dedent(MAPPING), encoding="utf-8")
    return table, mapping


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--dense", action="store_true", help="write real bytes instead of sparse files"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        table, mapping = generate(args.rows, folder, args.dense)
        print(
            f"generated {args.rows:,} files of 1 MB ({'dense' if args.dense else 'sparse'}) in "
            f"{time.perf_counter() - started:.1f}s; median of {args.repeat} runs\n"
        )
        runs, floors = [], []
        for _ in range(args.repeat):
            out = subprocess.run(
                [sys.executable, "-c", CHILD, str(table), str(mapping)],
                capture_output=True,
                text=True,
                check=True,
            )
            runs.append(json.loads(out.stdout))
            floors.append(
                float(
                    subprocess.run(
                        [sys.executable, "-c", FLOOR, str(folder / "cvs")],
                        capture_output=True,
                        text=True,
                        check=True,
                    ).stdout
                )
            )
        seconds = statistics.median(r["seconds"] for r in runs)
        floor = statistics.median(floors)
        print(
            f"{'rows':>8}{'invalid':>9}{'seconds':>9}{'rows/s':>9}{'fs floor s':>12}"
            f"{'fs share':>10}{'peak MB':>9}"
        )
        print(
            f"{runs[0]['rows']:>8,}{runs[0]['invalid']:>9,}{seconds:>9.2f}"
            f"{runs[0]['rows'] / seconds:>9,.0f}{floor:>12.2f}{floor / seconds:>10.0%}"
            f"{max(r['peak_mb'] for r in runs):>9.0f}"
        )


if __name__ == "__main__":
    main()
