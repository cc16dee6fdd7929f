"""Shared helpers: real files written by real writers in tmp_path."""

from __future__ import annotations

import csv
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

BASIC_MAPPING = """
version: 1
candidate:
  first_name: First
  last_name: Last
  email_address: Email
application:
  job_id: {value: JOB1}
"""


@pytest.fixture
def write_mapping(tmp_path: Path) -> Callable[[str], Path]:
    def write(text: str, name: str = "mapping.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return write


@pytest.fixture
def write_csv(tmp_path: Path) -> Callable[..., Path]:
    def write(
        rows: Sequence[Sequence[Any]],
        name: str = "input.csv",
        encoding: str = "utf-8",
        delimiter: str = ",",
    ) -> Path:
        path = tmp_path / name
        with path.open("w", encoding=encoding, newline="") as fh:
            csv.writer(fh, delimiter=delimiter).writerows(rows)
        return path

    return write


def read_csv(path: Path) -> list[dict[str, str]]:
    """A CSV the tool wrote, split by its delimiter: the input's `,` or `;`, as Excel would."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        header = fh.readline()
    delimiter = ";" if header.count(";") > header.count(",") else ","
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh, delimiter=delimiter))


JOB = "BDpgnpZ148nrGh4mYHNxJBgx"  # an open job of the sandbox
SUBMIT_MAPPING = f"""
candidate:
  first_name: First
  last_name: Last
  email_address: Email
application:
  job_id: {{column: Job, default: {JOB}}}
"""


@pytest.fixture
def sandbox():
    from importer.sandbox import Sandbox

    with Sandbox() as running:
        yield running


@pytest.fixture
def people(write_csv, write_mapping):
    """A CSV of `n` valid people (and `bad` invalid ones after them) with its mapping."""

    def make(n: int, bad: int = 0, job: str = "") -> tuple[Path, Path]:
        rows = [["First", "Last", "Email", "Job"]]
        rows += [[f"Person{i}", "Wolf", f"person{i}@example.com", job] for i in range(n)]
        rows += [[f"Bad{i}", "", f"bad{i}@example", job] for i in range(bad)]
        return write_csv(rows, name="people.csv"), write_mapping(SUBMIT_MAPPING)

    return make


def submit_command(
    source,
    mapping,
    url,
    ledger,
    results,
    *extra,
    integration_id="sandbox:demo",
    api_key="sandbox-key",
):
    """`kombo-import submit` against a server on loopback (the sandbox's ids), unattended; an
    uncertain write is looked up once, soon (the sandbox's reads do not lag unless asked)."""
    return [
        "submit", source, "-m", mapping, "--server-url", url, "--integration-id", integration_id,
        "--api-key", api_key, "--yes", "-q", "--ledger", ledger, "--results", results,
        "--lookup-window", "0.3", *extra,
    ]  # fmt: skip


def start(args) -> subprocess.Popen[str]:
    """`kombo-import ARGS` as a real process, its output read as text."""
    return subprocess.Popen(
        [sys.executable, "-m", "importer", *map(str, args)],
        cwd=Path(__file__).resolve().parent.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for_posts(sandbox, count: int, process) -> None:
    """Until the sandbox has `count` creates or the process ended (at most 30 s: a loaded
    machine may take seconds to start Python)."""
    for _ in range(3000):
        if sandbox.state.posts_received >= count or process.poll() is not None:
            return
        time.sleep(0.01)
