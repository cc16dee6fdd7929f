"""The dry run on several cores: building and checking a row is pure-Python CPU work (~30 µs),
so large files are cut into chunks that worker processes build while this process reads,
keeps the cross-row checks and writes the reports, in file order.

Only the dry run uses this; sending builds its requests in one process (it waits on Kombo).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass

from .attachments import open_attachment_source
from .build import DateOrder, RequestBuilder
from .checks import DuplicateEmailCheck, JobCatalog, RowChecker, ValidationSummary
from .issues import Issue
from .mapping import load_mapping
from .readers import SourceRow

CHUNK_ROWS = 2000
PARALLEL_FROM_BYTES = 4_000_000  # smaller files are done before worker processes would start

_checker: RowChecker | None = None

Checked = tuple[list[Issue], str | None, str | None]  # (issues, email, job id); email: valid


def worker_count(input_size: int) -> int:
    """How many worker processes a file deserves (0: do it here): up to four, one per core.
    A CSV and an xlsx/xlsm are streamed, so a workbook deserves as many as a CSV (only the rare
    .xls, .xlsb and .ods are still read whole, and an .xls holds at most 65,536 rows)."""
    configured = os.environ.get("KOMBO_IMPORTER_WORKERS")
    if configured is not None:
        return max(0, int(configured))
    cores = (
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    )
    if cores < 2 or input_size < PARALLEL_FROM_BYTES:
        return 0
    return min(cores, 4)


@dataclass(frozen=True)
class WorkerSetup:
    """What each worker process needs to build its own `RowChecker` (sent once, at start)."""

    mapping_path: str
    attachments_at: str
    max_bytes: int
    allow_private_urls: bool
    integration_id: str | None
    strict: bool
    catalog: JobCatalog | None  # plain data: each worker checks against its own copy
    date_orders: dict[int, DateOrder]


def start_pool(workers: int, setup: WorkerSetup) -> ProcessPoolExecutor:
    """Worker processes, started before the input is opened so that they do not inherit it
    (a forked copy of a whole Excel sheet would double the memory)."""
    # fork is quick, but unsafe once threads run (a sandbox, a test runner): then spawn.
    method = (
        "fork" if sys.platform == "linux" and threading.active_count() == 1 else "spawn"
    )  # macOS: fork is unsafe
    pool = ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context(method),
        initializer=_start,
        initargs=(setup,),
    )
    # Forked workers share the parent's pages until they write to them, and the garbage
    # collector writes to every object it tracks: frozen, the parent's objects are left alone
    # by the workers' collections, and stay shared.
    gc.freeze()
    try:
        for waiting in [
            pool.submit(os.getpid) for _ in range(workers)
        ]:  # start them now, not lazily later
            waiting.result()
    finally:
        gc.unfreeze()
    return pool


_setup: WorkerSetup | None = None


def _start(setup: WorkerSetup) -> None:
    global _setup
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _setup = setup


def _check_chunk(
    headers: list[str], source: str, chunk: list[SourceRow]
) -> tuple[list[str], list[Checked]]:
    """The chunk's rows checked, with what the checker notes about the whole run."""
    global _checker
    if _checker is None:  # the first chunk brings the headers to bind the mapping to
        assert _setup is not None
        mapping = load_mapping(_setup.mapping_path)
        mapping = mapping.bind(headers, source)
        attachments = open_attachment_source(
            _setup.attachments_at, _setup.max_bytes, _setup.allow_private_urls
        )
        builder = RequestBuilder(mapping, attachments, _setup.integration_id, _setup.date_orders)
        _checker = RowChecker(builder, _setup.catalog, _setup.strict)
    out: list[Checked] = []
    for row in chunk:
        built = _checker.check(row)
        if built.request is None:
            out.append((built.issues, None, None))
        else:
            request = built.request
            out.append((built.issues, request.email_address, request.job_id))
    return _checker.notices(), out


def validate_in_parallel(
    rows: Iterable[SourceRow],
    pool: ProcessPoolExecutor,
    workers: int,
    headers: list[str],
    source: str,
    summary: ValidationSummary,
    email_column: str,
    on_progress: Callable[[int], None] | None = None,
) -> Iterator[tuple[SourceRow, list[Issue]]]:
    """Every row with its problems, in file order, as `validate_rows` would find them."""
    duplicates = DuplicateEmailCheck()
    count = 0
    pending: deque[tuple[list[SourceRow], Future[tuple[list[str], list[Checked]]]]] = deque()
    most_pending = workers * 2  # bounded: never more than a few chunks in memory

    def settle() -> Iterator[tuple[SourceRow, list[Issue]]]:
        nonlocal count
        chunk, future = pending.popleft()
        notices, checked = future.result()
        for notice in notices:
            summary.note(notice)
        for row, (found, email, job_id) in zip(chunk, checked, strict=True):
            if email is not None and job_id is not None:
                found = found + duplicates.check_key(row.row_number, email, job_id, email_column)
            summary.add_issues(found)
            count += 1
            if on_progress is not None:
                on_progress(count)
            yield row, found

    for chunk in _chunks(rows, CHUNK_ROWS):
        pending.append((chunk, pool.submit(_check_chunk, headers, source, chunk)))
        if len(pending) > most_pending:
            yield from settle()
    while pending:
        yield from settle()


def _chunks(rows: Iterable[SourceRow], size: int) -> Iterator[list[SourceRow]]:
    chunk: list[SourceRow] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
