"""Submission speed against the sandbox, run in its own process on 127.0.0.1.

    python benchmarks/submit_bench.py                 # the full table (about 3 minutes)
    python benchmarks/submit_bench.py --rows 1000     # quicker

1. Rate-limited: N rows (default 5,000), sandbox latency 100 ms and a limit of 200 requests/s,
   the client told --rate-limit 200: achieved requests/s as a ratio of the limit (target >= 0.95)
   and the client's CPU per request (target <= 2 ms; the SDK's own call costs 7-12 ms).
2. Unlimited: latency 100 ms, concurrency 1, 10, 30: requests/s next to the ideal
   concurrency / latency (target >= 0.9 of ideal at 30).
   Each line has the ratio of our CPU per request to that of bare httpx (`x httpx`): an
   AsyncClient that POSTs the same rows' bodies as JSON at the same concurrency to the same
   sandbox and reads each answer, nothing else (issue 14: <= 1.1x at 10 and 30 in flight).
   Ours and bare run in turn, and the ratio is the median of each pair's: the machine's load
   changes from minute to minute.
3. The ledger's cost: no latency, no limit, concurrency 10, with and without the ledger
   (target: the ledger costs under 10 %).
Each line is the median of --repeat runs; CPU is the client process's user+system time for
the sending phase: what a submit does before it sends (the dry run, with its checks against
the integration) is measured apart, as a submit that sends nothing, and left out.
"""

from __future__ import annotations

import argparse
import csv
import re
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

JOB = "BDpgnpZ148nrGh4mYHNxJBgx"
MAPPING = f"""
candidate:
  first_name: First
  last_name: Last
  email_address: Email
  phone_number: Phone
  location: {{city: City, country: {{value: DE}}}}
application:
  job_id: {{value: {JOB}}}
"""


def generate(rows: int, folder: Path, tag: str) -> tuple[Path, Path]:
    table = folder / f"people-{tag}.csv"
    with table.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["First", "Last", "Email", "Phone", "City"])
        writer.writerows(
            [f"Anna{i}", "Wolf", f"{tag}-{i}@example.com", f"+49 151 {1000000 + i}", "Berlin"]
            for i in range(rows)
        )
    mapping = folder / "mapping.yaml"
    mapping.write_text(textwrap.dedent(MAPPING), encoding="utf-8")
    return table, mapping


class SandboxProcess:
    def __init__(self, latency: float, rate_limit: int | None) -> None:
        args = [
            sys.executable,
            "-m",
            "importer",
            "sandbox",
            "--port",
            "0",
            "--latency",
            str(latency),
            "--concurrency-limit",
            "100",
        ]
        if rate_limit:
            args += ["--rate-limit", str(rate_limit)]
        self.process = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        line = self.process.stdout.readline()
        match = re.search(r"(http://\S+)", line)
        if not match:
            self.process.kill()
            raise RuntimeError(f"the sandbox did not start: {line}")
        self.url = match.group(1)

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def send(
    table: Path,
    mapping: Path,
    url: str,
    concurrency: int,
    rate_limit: float | None,
    ledger: Path | None = None,
) -> tuple[float, float, int]:
    """(seconds, client CPU seconds, requests) of the sending phase."""
    import resource

    from importer.runs import DryRunOptions, SubmitOptions, submit_file
    from importer.settings import SubmitSettings

    def cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    options = DryRunOptions(table, mapping)
    settings = SubmitSettings(
        server_url=url,
        api_key="sandbox-key",
        integration_id="sandbox:demo",
        concurrency=concurrency,
        rate_limit=rate_limit,
        batch_size=500,
    )
    # What a submit does before it sends: the dry run with its checks against the integration.
    cpu0, wall0 = cpu(), time.perf_counter()
    submit_file(SubmitOptions(options, None, send=False), settings)
    dry_cpu, dry_wall = cpu() - cpu0, time.perf_counter() - wall0
    cpu0, wall0 = cpu(), time.perf_counter()
    outcome = submit_file(SubmitOptions(options, None, ledger_path=ledger), settings)
    seconds = time.perf_counter() - wall0 - dry_wall
    return seconds, cpu() - cpu0 - dry_cpu, outcome.stats.sent


def send_bare(table: Path, url: str, concurrency: int) -> tuple[float, float, int]:
    """(seconds, CPU seconds, requests) of bare httpx sending the table's rows: the least any
    client does for the same requests, to compare our CPU per request with."""
    import asyncio
    import json
    import resource

    import httpx

    def cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    with table.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    bodies = [
        {
            "candidate": {
                "first_name": row["First"],
                "last_name": row["Last"],
                "email_address": row["Email"],
                "phone_number": row["Phone"],
                "location": {"city": row["City"], "country": "DE"},
            },
            "application": {"job_id": JOB},
        }
        for row in rows
    ]

    async def run() -> int:
        headers = {"Authorization": "Bearer sandbox-key", "X-Integration-Id": "sandbox:demo"}
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        todo = iter(bodies)
        sent = 0
        async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits) as client:

            async def worker() -> None:
                nonlocal sent
                for body in todo:
                    response = await client.post("/ats/candidates", content=json.dumps(body))
                    response.json()
                    sent += 1

            await asyncio.gather(*(worker() for _ in range(concurrency)))
        return sent

    cpu0, wall0 = cpu(), time.perf_counter()
    sent = asyncio.run(run())
    return time.perf_counter() - wall0, cpu() - cpu0, sent


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    latency = 0.1
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print(
            f"{'case':<34}{'requests':>9}{'seconds':>9}{'req/s':>8}{'target':>8}{'ratio':>7}"
            f"{'CPU ms/req':>11}{'x httpx':>9}"
        )
        runs = []
        for attempt in range(args.repeat):
            sandbox = SandboxProcess(latency, 200)
            try:
                table, mapping = generate(args.rows, folder, f"rate{attempt}")
                runs.append(send(table, mapping, sandbox.url, concurrency=30, rate_limit=200))
            finally:
                sandbox.close()
        seconds = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[1] / r[2] for r in runs)
        requests = runs[0][2]
        print(
            f"{'limit 200/s, latency 100 ms, c=30':<34}{requests:>9,}{seconds:>9.2f}"
            f"{requests / seconds:>8.1f}{200:>8}{requests / seconds / 200:>7.2f}{cpu * 1000:>11.2f}"
        )
        for concurrency in (1, 10, 30):
            rows = min(args.rows, max(100, int(concurrency / latency * 10)))  # about 10 s each
            runs, bare = [], []
            for attempt in range(args.repeat):  # ours then bare, in turn: the same minutes
                sandbox = SandboxProcess(latency, None)
                try:
                    table, mapping = generate(rows, folder, f"c{concurrency}-{attempt}")
                    runs.append(
                        send(table, mapping, sandbox.url, concurrency=concurrency, rate_limit=None)
                    )
                finally:
                    sandbox.close()
                sandbox = SandboxProcess(latency, None)
                try:
                    table, _ = generate(rows, folder, f"bare{concurrency}-{attempt}")
                    bare.append(send_bare(table, sandbox.url, concurrency))
                finally:
                    sandbox.close()
            seconds = statistics.median(r[0] for r in runs)
            cpu = statistics.median(r[1] / r[2] for r in runs)
            ratio = statistics.median(
                (ours[1] / ours[2]) / (theirs[1] / theirs[2])
                for ours, theirs in zip(runs, bare, strict=True)
            )
            ideal = concurrency / latency
            rate = runs[0][2] / seconds
            print(
                f"{f'no limit, latency 100 ms, c={concurrency}':<34}{runs[0][2]:>9,}{seconds:>9.2f}"
                f"{rate:>8.1f}{ideal:>8.0f}{rate / ideal:>7.2f}{cpu * 1000:>11.2f}"
                f"{ratio:>9.2f}"
            )
        rates = {}
        for with_ledger in (False, True):
            runs = []
            for attempt in range(args.repeat):
                sandbox = SandboxProcess(0.0, None)
                try:
                    table, mapping = generate(args.rows, folder, f"ledger{with_ledger}-{attempt}")
                    runs.append(
                        send(
                            table,
                            mapping,
                            sandbox.url,
                            concurrency=10,
                            rate_limit=None,
                            ledger=folder / f"l{attempt}.sqlite" if with_ledger else None,
                        )
                    )
                finally:
                    sandbox.close()
            seconds = statistics.median(r[0] for r in runs)
            cpu = statistics.median(r[1] / r[2] for r in runs)
            rates[with_ledger] = runs[0][2] / seconds
            name = "with ledger" if with_ledger else "without ledger"
            cost = f"{1 - rates[True] / rates[False]:>7.1%}" if with_ledger else f"{'':>7}"
            print(
                f"{f'no latency, c=10, {name}':<34}{runs[0][2]:>9,}{seconds:>9.2f}"
                f"{rates[with_ledger]:>8.1f}{'':>8}{cost}{cpu * 1000:>11.2f}"
            )
        print("(ratio column of the last line: the ledger's cost in requests/s)")


if __name__ == "__main__":
    main()
