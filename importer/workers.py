"""The dry run on several cores: building and checking a row is pure-Python CPU work (~30 µs),
so large files are cut into chunks that worker processes build while this process reads,
keeps the cross-row checks and writes the reports, in file order.

Only the dry run uses this; sending builds its requests in one process (it waits on Kombo).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from .attachments import open_attachment_source
from .build import RequestBuilder
from .issues import Issue
from .mapping import load_mapping
from .readers import SourceRow
from .validate import DuplicateEmailCheck, JobCatalog, ValidationSummary

CHUNK_ROWS = 2000
PARALLEL_FROM_BYTES = 4_000_000  # smaller files are done before worker processes would start

_builder: RequestBuilder | None = None
_catalog: JobCatalog | None = None

Checked = tuple[list[Issue] | None, str | None, str | None]  # (issues, email, job id)


def worker_count(input_size: int, excel: bool) -> int:
    """How many worker processes a file deserves (0: do it here). An Excel sheet is held whole in
    this process: two workers at most, so memory stays near 300 MB at 100,000 rows."""
    configured = os.environ.get("KOMBO_IMPORTER_WORKERS")
    if configured is not None:
        return max(0, int(configured))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if cores < 2 or input_size < PARALLEL_FROM_BYTES:
        return 0
    return min(cores, 2 if excel else 4)


def start_pool(workers: int, mapping_path: str, attachments_at: str, max_bytes: int, allow_private_urls: bool, integration_id: str | None, catalog: JobCatalog | None) -> ProcessPoolExecutor:
    """Worker processes, started before the input is opened so that they do not inherit it
    (a forked copy of a whole Excel sheet would double the memory)."""
    # fork is quick, but unsafe once threads run (a sandbox, a test runner): then spawn.
    method = "fork" if sys.platform == "linux" and threading.active_count() == 1 else "spawn"  # macOS: fork is unsafe
    rules = (catalog.listed, catalog.attachment_rules) if catalog is not None else None
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method), initializer=_start,
                               initargs=(mapping_path, attachments_at, max_bytes, allow_private_urls, integration_id, rules))
    for waiting in [pool.submit(os.getpid) for _ in range(workers)]:  # start them now, not lazily later
        waiting.result()
    return pool


_settings: tuple[Any, ...] = ()


def _start(mapping_path: str, attachments_at: str, max_bytes: int, allow_private_urls: bool, integration_id: str | None, catalog: tuple[Any, Any] | None) -> None:
    global _settings, _catalog
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _settings = (mapping_path, attachments_at, max_bytes, allow_private_urls, integration_id)
    _catalog = JobCatalog(*catalog) if catalog is not None else None


def _check_chunk(headers: list[str], source: str, chunk: list[tuple[int, tuple[Any, ...]]]) -> list[Checked]:
    global _builder
    if _builder is None:  # the first chunk brings the headers to bind the mapping to
        mapping_path, attachments_at, max_bytes, allow_private_urls, integration_id = _settings
        mapping = load_mapping(mapping_path)
        mapping.bind(headers, source)
        _builder = RequestBuilder(mapping, open_attachment_source(attachments_at, max_bytes, allow_private_urls), integration_id)
    out: list[Checked] = []
    for number, values in chunk:
        built = _builder.build(SourceRow(number, values))
        if _catalog is not None:
            built = _catalog.check(built, _builder.mapping)
        if built.request is None:
            out.append((built.issues, None, None))
        else:
            body = built.request.body
            out.append((None, body.candidate.email_address, body.application.job_id))
    return out


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
    pending: deque[tuple[list[SourceRow], Future[list[Checked]]]] = deque()
    most_pending = workers * 2  # bounded: never more than a few chunks in memory

    def settle() -> Iterator[tuple[SourceRow, list[Issue]]]:
        nonlocal count
        chunk, future = pending.popleft()
        for row, (found, email, job_id) in zip(chunk, future.result(), strict=True):
            if found is None:
                assert email is not None and job_id is not None
                found = duplicates.check_key(row.row_number, email, job_id, email_column)
            summary.add_issues(found)
            count += 1
            if on_progress is not None:
                on_progress(count)
            yield row, found

    for chunk in _chunks(rows, CHUNK_ROWS):
        pending.append((chunk, pool.submit(_check_chunk, headers, source, [(r.row_number, r.values) for r in chunk])))
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
