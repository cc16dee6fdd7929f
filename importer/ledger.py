"""The SQLite ledger: a re-run never creates a candidate twice, and a crash loses nothing.

A record per (integration, email, job), because that is what Kombo itself treats as one
application (`ATS.APPLICATION_ALREADY_EXISTS`): sorting the file, inserting rows or importing a
fixed rejects file keeps each person's record. The source file and row are kept for people.

    pending ──> sending ──> created
                   │  ├───> failed (retryable: sent again next run; permanent: only if changed
                   │  │             or --retry-failed, after a lookup)
                   │  └───> needs_review (an uncertain answer no lookup settled)
                   └──> (crash) still `sending`
    sending and needs_review rows are looked up in Kombo before anything is sent again: found
    -> created; not found -> sent; the lookup fails -> needs_review again (or sent without
    looking, with --resend-needs-review, once a person has checked the ATS).

Each action after the create (a note, the rejection, a tag: `actions.Action.key`) has a record
of its own in `actions`, committed `sending` before its request leaves: `done`; `failed` (sent
again next run); `needs_review`, or left `sending` by a crash (its answer was lost: a tag or a
rejection is looked up on the candidate by the next run; a note, which Kombo does not read back,
is never sent again without --resend-needs-review, since Kombo deduplicates no action).

Every state change is its own transaction, committed before the request leaves (WAL mode, so
a killed process keeps every committed change). One run at a time: the run holds an exclusive
lock on the ledger file itself (deleting a side file cannot break it), released when the process
ends however it ends. The ledger never holds attachment contents or the API key. A read or write
that fails (disk full, a damaged file) is an `OutputError`: the run stops sending at once.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sqlite3
import stat
import sys
import time
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

from .actions import Action
from .build import PostAtsCandidatesRequest
from .client import REFUSED_UNWRITTEN, request_body
from .errors import InputFileError, OutputError, redact
from .files import recorded_origin
from .sending import (
    ACTION_FAILED,
    ACTION_NEEDS_REVIEW,
    Journal,
    Prior,
    RowResult,
    Settled,
    SettledAction,
    Status,
)


class State(StrEnum):
    """A record's state in the ledger (see the module's docstring)."""

    PENDING = "pending"
    SENDING = "sending"
    CREATED = "created"
    FAILED = "failed"
    NEEDS_REVIEW = "needs_review"


SCHEMA_VERSION = 2
TABLE = """
CREATE TABLE IF NOT EXISTS applications (
    integration_id TEXT NOT NULL,
    email          TEXT NOT NULL,   -- casefolded
    job_id         TEXT NOT NULL,
    source         TEXT NOT NULL,   -- the input file the row was last read from
    row_number     INTEGER NOT NULL,
    fingerprint    TEXT NOT NULL,   -- sha256 of the body, attachment contents included
    state          TEXT NOT NULL
                   CHECK (state IN ('pending', 'sending', 'created', 'failed', 'needs_review')),
    retryable      INTEGER NOT NULL DEFAULT 0,
    attempts       INTEGER NOT NULL DEFAULT 0,
    candidate_id   TEXT,
    application_id TEXT,
    error_code     TEXT,
    error_message  TEXT,
    created_at     REAL NOT NULL,
    updated_at     REAL NOT NULL,
    log_url        TEXT,            -- Kombo's link to its log of the last failed request
    sent_at        REAL,            -- when its last request left: how late a lookup still is
    PRIMARY KEY (integration_id, email, job_id)
);
CREATE INDEX IF NOT EXISTS applications_state ON applications (integration_id, state);
CREATE TABLE IF NOT EXISTS actions (
    integration_id TEXT NOT NULL,
    email          TEXT NOT NULL,
    job_id         TEXT NOT NULL,
    action         TEXT NOT NULL,   -- note:<sha256 of its text>, reject, tag:<name>
    state          TEXT NOT NULL CHECK (state IN ('sending', 'done', 'failed', 'needs_review')),
    error_code     TEXT,
    error_message  TEXT,
    updated_at     REAL NOT NULL,
    PRIMARY KEY (integration_id, email, job_id, action)
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
# Version 1 lacked needs_review, log_url and the actions: SQLite cannot widen a CHECK in place,
# so the table is copied, in one transaction.
MIGRATE_FROM_1 = f"""
BEGIN IMMEDIATE;
ALTER TABLE applications RENAME TO applications_v1;
DROP INDEX IF EXISTS applications_state;
{TABLE}
INSERT INTO applications (integration_id, email, job_id, source, row_number, fingerprint, state,
    retryable, attempts, candidate_id, application_id, error_code, error_message, created_at,
    updated_at, sent_at)
SELECT integration_id, email, job_id, source, row_number, fingerprint, state, retryable, attempts,
    candidate_id, application_id, error_code, error_message, created_at, updated_at, updated_at
FROM applications_v1;
DROP TABLE applications_v1;
UPDATE meta SET value = '2' WHERE key = 'schema_version';
COMMIT;
"""


@dataclass(frozen=True)
class Record:
    """One application as the ledger knows it."""

    integration_id: str
    email: str
    job_id: str
    source: str
    row_number: int
    fingerprint: str
    state: str
    retryable: bool
    attempts: int
    candidate_id: str | None
    application_id: str | None
    error_code: str | None
    error_message: str | None
    log_url: str | None = None
    sent_at: float | None = None


_SELECT = (
    "SELECT integration_id, email, job_id, source, row_number, fingerprint, state, retryable, "
    "attempts, candidate_id, application_id, error_code, error_message, log_url, sent_at "
    "FROM applications"
)
# What `status` reads from a version-1 ledger, which it may not migrate (it only reads).
_SELECT_V1 = _SELECT.replace("log_url, sent_at ", "NULL, updated_at ")


def _record(row: tuple[Any, ...]) -> Record:
    """A row of `_SELECT` (its columns in Record's order; SQLite keeps booleans as 0/1)."""
    values = list(row)
    values[7] = bool(values[7])  # retryable
    return Record(*values)


def fingerprint(body: dict[str, Any], attachment_digests: list[str]) -> str:
    """A canonical hash of what would be sent: sorted keys, fixed separators."""
    canonical = json.dumps(
        {"body": body, "files": attachment_digests},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def default_path(input_path: Path) -> Path:
    """Beside the input. For a file a run wrote to be imported again (its rejects, its
    error.csv), the ledger of that run's input: its rows are known there, and a row that may
    have been created is looked up, never sent again blindly under a new ledger."""
    origin = recorded_origin(input_path) or input_path
    return origin.with_name(origin.name + ".kombo-ledger.sqlite")


def sidecar_paths(path: Path) -> dict[str, Path]:
    """The files SQLite keeps beside a ledger, which no output may be either: beside the real
    file, where SQLite puts them when the ledger is given through a symlink."""
    real = Path(os.path.realpath(path))
    kinds = (("write-ahead log", "-wal"), ("shared memory", "-shm"), ("journal", "-journal"))
    return {kind: real.with_name(real.name + suffix) for kind, suffix in kinds}


def _refuse_special_file(path: Path) -> None:
    """A ledger that exists must be a regular file: opening a FIFO or a device would block
    in C code that no signal interrupts."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise InputFileError(f"{path}: the ledger cannot be read ({exc.strerror}).") from exc
    if not stat.S_ISREG(info.st_mode):
        raise InputFileError(
            f"{path}: is not a ledger file (a folder, a pipe or a device);"
            " pass --ledger with a file path."
        )


class Ledger:
    """Open (and lock) a ledger file; use as a context manager."""

    def __init__(self, path: str | Path, read_only: bool = False) -> None:
        self.path = Path(path)
        self._lock_handle: IO[bytes] | None = None
        _refuse_special_file(self.path)
        if read_only:  # `status` may look while a run writes
            try:
                self._db = sqlite3.connect(
                    f"{self.path.resolve().as_uri()}?mode=ro", uri=True, timeout=30
                )
                version = self._version()
                self._refuse_newer(version)
                self._db.execute("SELECT 1 FROM applications LIMIT 1")
            except sqlite3.DatabaseError as exc:
                raise InputFileError(f"{self.path}: is not a ledger ({exc}).") from exc
            self._select = _SELECT_V1 if version == 1 else _SELECT
            return
        self._lock_handle = _lock(self.path)
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            version = self._version()
            self._refuse_newer(version)  # before anything is written into a newer ledger
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")  # a killed process keeps every commit
            self._db.executescript(TABLE)
            self._db.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)",
                (str(SCHEMA_VERSION),),
            )
            if version == 1:
                self._db.executescript(MIGRATE_FROM_1)
        except sqlite3.DatabaseError as exc:
            self._unlock()
            raise InputFileError(
                f"{self.path}: is not a usable ledger ({exc}). Pass another --ledger, or move this "
                "file away."
            ) from exc
        except InputFileError:
            self._unlock()
            raise
        self._select = _SELECT

    def _version(self) -> int | None:
        """The file's ledger version; None for a new (empty) file."""
        tables = {
            name
            for (name,) in self._db.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        if "meta" not in tables:
            return 1 if "applications" in tables else None
        row = self._db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        try:
            return int(row[0]) if row else 1
        except ValueError:
            return SCHEMA_VERSION + 1  # not a version we wrote

    def _refuse_newer(self, version: int | None) -> None:
        if version is not None and version > SCHEMA_VERSION:
            raise InputFileError(
                f"{self.path}: was written by a newer kombo-import (ledger version {version}); "
                "upgrade kombo-import to use it."
            )

    def _execute(self, sql: str, parameters: tuple[Any, ...] = ()) -> list[Any]:
        """Every statement of a run, its rows fetched; a failure (a damaged page can surface
        while fetching) is one clear error that stops the run."""
        # A key a server echoed into an id or a message is not kept.
        parameters = tuple(redact(p) if type(p) is str else p for p in parameters)
        try:
            return self._db.execute(sql, parameters).fetchall()
        except sqlite3.Error as exc:
            raise OutputError(
                f"{self.path}: the ledger cannot be read or written ({exc}); nothing more was sent."
                " Free disk space or restore the file, then run again: rows it holds as sending"
                " are looked up in Kombo before anything is sent again."
            ) from exc

    def _unlock(self) -> None:
        if self._lock_handle is not None:
            self._lock_handle.close()  # closing the handle releases the lock
            self._lock_handle = None

    def close(self) -> None:
        self._db.close()
        self._unlock()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- reading --------------------------------------------------------------------------

    def get(self, integration_id: str, email: str, job_id: str) -> Record | None:
        rows = self._execute(
            f"{self._select} WHERE integration_id = ? AND email = ? AND job_id = ?",
            (integration_id, email.casefold(), job_id),
        )
        return _record(rows[0]) if rows else None

    def counts(self) -> dict[str, Counter[str]]:
        """State counts per integration."""
        found: dict[str, Counter[str]] = {}
        for integration, state, count in self._execute(
            "SELECT integration_id, state, COUNT(*) FROM applications GROUP BY integration_id, "
            "state ORDER BY integration_id"
        ):
            found.setdefault(integration, Counter())[state] = count
        return found

    def action_counts(self) -> dict[str, Counter[str]]:
        """The actions after the create by kind (note, reject, tag), then state."""
        if self._select is _SELECT_V1:
            return {}  # a version-1 ledger, read as it is, had none
        found: dict[str, Counter[str]] = {}
        for action, state in self._execute("SELECT action, state FROM actions"):
            found.setdefault(action.partition(":")[0], Counter())[state] += 1
        return found

    def to_do(self, limit: int = 20) -> list[Record]:
        """Records a run would still send or settle: pending, sending, failed-but-retryable."""
        rows = self._execute(
            f"{self._select} WHERE state IN ('pending', 'sending', 'needs_review') "
            "OR (state = 'failed' AND retryable = 1) ORDER BY integration_id, source, row_number "
            "LIMIT ?",
            (limit,),
        )
        return [_record(row) for row in rows]

    def permanent_failures(self, limit: int = 20) -> list[Record]:
        rows = self._execute(
            f"{self._select} WHERE state = 'failed' AND retryable = 0 "
            "ORDER BY integration_id, source, row_number LIMIT ?",
            (limit,),
        )
        return [_record(row) for row in rows]

    # --- writing: one transaction per change ----------------------------------------------

    def register(
        self,
        integration_id: str,
        email: str,
        job_id: str,
        source: str,
        row_number: int,
        digest: str,
    ) -> None:
        """Make sure a record exists (pending when new); keep where the row was last read."""
        now = time.time()
        self._execute(
            "INSERT INTO applications (integration_id, email, job_id, source, row_number, "
            "fingerprint, state, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?) "
            "ON CONFLICT (integration_id, email, job_id) DO UPDATE SET source = excluded.source, "
            "row_number = excluded.row_number, updated_at = excluded.updated_at",
            (integration_id, email.casefold(), job_id, source, row_number, digest, now, now),
        )

    def mark_sending(self, integration_id: str, email: str, job_id: str, digest: str) -> None:
        """Committed before the request leaves: a crash from here on leaves it `sending`."""
        self._execute(
            "UPDATE applications SET state = 'sending', fingerprint = ?, attempts = attempts + 1, "
            "updated_at = ?, sent_at = ? WHERE integration_id = ? AND email = ? AND job_id = ?",
            (digest, time.time(), time.time(), integration_id, email.casefold(), job_id),
        )

    def mark_created(
        self,
        integration_id: str,
        email: str,
        job_id: str,
        digest: str,
        candidate_id: str | None,
        application_id: str | None,
        note: str | None = None,
        existed: str | None = None,
    ) -> None:
        """In the ATS. `existed`: Kombo's code when it was there before this import (it is not
        this import's to act on after the create), kept in `error_code`."""
        self._execute(
            "UPDATE applications SET state = 'created', fingerprint = ?, candidate_id = ?, "
            "application_id = ?, error_code = ?, error_message = ?, log_url = NULL, "
            "retryable = 0, "
            "updated_at = ? "
            "WHERE integration_id = ? AND email = ? AND job_id = ?",
            (
                digest,
                candidate_id,
                application_id,
                existed,
                note,
                time.time(),
                integration_id,
                email.casefold(),
                job_id,
            ),
        )

    def mark_failed(
        self,
        integration_id: str,
        email: str,
        job_id: str,
        digest: str,
        code: str | None,
        message: str,
        retryable: bool,
        log_url: str | None = None,
    ) -> None:
        self._execute(
            "UPDATE applications SET state = 'failed', fingerprint = ?, error_code = ?, "
            "error_message = ?, retryable = ?, log_url = ?, updated_at = ? "
            "WHERE integration_id = ? AND email = ? AND job_id = ?",
            (
                digest,
                code,
                message,
                int(retryable),
                log_url,
                time.time(),
                integration_id,
                email.casefold(),
                job_id,
            ),
        )

    def mark_needs_review(
        self,
        integration_id: str,
        email: str,
        job_id: str,
        digest: str,
        code: str | None,
        message: str,
        log_url: str | None,
    ) -> None:
        """An uncertain write no lookup settled: looked up again before anything is re-sent."""
        self._execute(
            "UPDATE applications SET state = 'needs_review', fingerprint = ?, error_code = ?, "
            "error_message = ?, log_url = ?, retryable = 1, updated_at = ? "
            "WHERE integration_id = ? AND email = ? AND job_id = ?",
            (
                digest,
                code,
                message,
                log_url,
                time.time(),
                integration_id,
                email.casefold(),
                job_id,
            ),
        )

    def actions_of(
        self, integration_id: str, email: str, job_id: str
    ) -> dict[str, tuple[str, float]]:
        """The application's actions after the create: key -> (state, when it last changed)."""
        rows = self._execute(
            "SELECT action, state, updated_at FROM actions WHERE integration_id = ? AND email = ? "
            "AND job_id = ?",
            (integration_id, email.casefold(), job_id),
        )
        return {action: (state, updated_at) for action, state, updated_at in rows}

    def mark_action(
        self,
        integration_id: str,
        email: str,
        job_id: str,
        action: str,
        state: str,
        code: str | None = None,
        message: str = "",
    ) -> None:
        self._execute(
            "INSERT INTO actions (integration_id, email, job_id, action, state, error_code, "
            "error_message, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (integration_id, email, job_id, action) DO UPDATE SET "
            "state = excluded.state, error_code = excluded.error_code, "
            "error_message = excluded.error_message, updated_at = excluded.updated_at",
            (integration_id, email.casefold(), job_id, action, state, code, message, time.time()),
        )

    def mark_pending(self, integration_id: str, email: str, job_id: str) -> None:
        """Back to pending: the run stopped before this row's request left."""
        self._execute(
            "UPDATE applications SET state = 'pending', updated_at = ? WHERE integration_id = ? "
            "AND email = ? AND job_id = ? AND state = 'sending'",
            (time.time(), integration_id, email.casefold(), job_id),
        )


def _lock(path: Path) -> IO[bytes]:
    """An exclusive lock on the ledger file itself, held while the handle is open (and dropped
    by the system when the process dies). Opened for appending: the lock never harms the data."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "ab")  # noqa: SIM115 - held for the ledger's lifetime
    try:
        _lock_file(handle)
    except OSError:
        handle.close()
        raise InputFileError(
            f"{path}: the ledger is in use by another run. Wait for it to end, or pass another "
            "--ledger."
        ) from None
    return handle


if sys.platform == "win32":  # pragma: no cover - Windows only
    import msvcrt

    def _lock_file(handle: IO[bytes]) -> None:
        handle.seek(
            0x7FFF0000
        )  # a byte far past the database, which SQLite's own locks never touch
        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)

else:
    import fcntl

    def _lock_file(handle: IO[bytes]) -> None:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)  # independent of SQLite's POSIX locks


@dataclass(frozen=True)
class LedgerSummary:
    """What `kombo-import status` shows."""

    counts: dict[str, Counter[str]]  # integration -> state -> applications
    actions: dict[str, Counter[str]]  # kind of action after the create -> state -> actions
    to_do: list[Record]
    failures: list[Record]


def ledger_summary(path: Path) -> LedgerSummary:
    """For `kombo-import status`: counts by state, rows still to do, permanent failures."""
    if not path.exists():
        raise InputFileError(
            f"{path}: no such ledger. A ledger is written by `kombo-import submit` (default: "
            "beside the input file)."
        )
    with Ledger(path, read_only=True) as ledger:
        return LedgerSummary(
            ledger.counts(), ledger.action_counts(), ledger.to_do(), ledger.permanent_failures()
        )


class LedgerJournal(Journal):
    """The submitter's memory across runs, kept in a `Ledger`.

    Before a row is sent: created earlier -> skipped (or `changed_since_import` when its content
    differs); left `sending` by a crash, or `needs_review` -> looked up first (sent without a
    lookup only with `resend_needs_review`); failed for good -> not sent again unless the row
    changed or `retry_failed` (looked up first: a refused write may have partly happened).
    """

    def __init__(
        self,
        ledger: Ledger,
        integration_id: str,
        source: str,
        retry_failed: bool = False,
        resend_needs_review: bool = False,
    ) -> None:
        self.ledger = ledger
        self.integration_id = integration_id
        self.source = source
        self.retry_failed = retry_failed
        self.resend_needs_review = resend_needs_review
        self._prints: dict[int, str] = {}
        self._sent_at: dict[int, float | None] = {}  # when an earlier run last sent each row

    def _key(self, request: PostAtsCandidatesRequest) -> tuple[str, str, str]:
        return (
            self.integration_id,
            request.email_address,
            request.job_id,
        )

    async def before(self, row: int, request: PostAtsCandidatesRequest) -> RowResult | Prior:
        key = self._key(request)
        earlier = self.ledger.get(*key)
        if earlier is None or earlier.state == State.PENDING:
            # New: its fingerprint comes with the bytes read to send it (`sending`), not twice.
            self.ledger.register(*key, self.source, row, "")
            return Prior.NEW
        digest = (
            await asyncio.to_thread(request_fingerprint, request)
            if request.files
            else request_fingerprint(request)
        )
        self._prints[row] = digest
        self._sent_at[row] = earlier.sent_at
        self.ledger.register(*key, self.source, row, digest)
        if earlier.state == State.CREATED:
            self._prints.pop(row, None)
            if earlier.error_code:  # there before the import: Kombo said so (ALREADY_EXISTS)
                return RowResult(
                    row,
                    Status.SKIPPED,
                    earlier.candidate_id,
                    earlier.application_id,
                    code=earlier.error_code,
                    message=earlier.error_message or "already in the ATS before this import",
                )
            if earlier.fingerprint == digest:
                return RowResult(
                    row,
                    Status.SKIPPED,
                    earlier.candidate_id,
                    earlier.application_id,
                    code="already_created",
                    message="created in an earlier run",
                )
            return RowResult(
                row,
                Status.SKIPPED,
                earlier.candidate_id,
                earlier.application_id,
                code="changed_since_import",
                message=(
                    "created in an earlier run, and the row has changed since; not sent again. "
                    "Update the candidate in the ATS by hand."
                ),
            )
        if earlier.state == State.NEEDS_REVIEW and self.resend_needs_review:
            return Prior.NEW  # a person checked the ATS
        if earlier.state in (State.SENDING, State.NEEDS_REVIEW):
            return Prior.MAY_EXIST  # an earlier request may have created it
        if earlier.retryable or earlier.attempts == 0:
            return Prior.NEW  # answered "not written" (a transient failure), or never sent
        if earlier.fingerprint != digest or self.retry_failed:
            # Sent again: unless Kombo or the ATS refused it before writing, a failed write may
            # have partly happened, so it is looked up first.
            refused = (earlier.error_code or "").removeprefix("api.") in REFUSED_UNWRITTEN
            return Prior.NEW if refused else Prior.MAY_EXIST
        self._prints.pop(row, None)
        return RowResult(
            row,
            Status.FAILED,
            code=earlier.error_code,
            message=(
                f"failed in an earlier run and unchanged since: {earlier.error_message} Fix the "
                "row to send it again, or pass --retry-failed."
            ),
        )

    def sending(
        self, row: int, request: PostAtsCandidatesRequest, attachment_digests: list[str]
    ) -> None:
        digest = self._prints[row] = fingerprint(request_body(request), attachment_digests)
        self.ledger.mark_sending(*self._key(request), digest)

    def settled(self, row: int, request: PostAtsCandidatesRequest, settled: Settled) -> None:
        digest = self._prints.pop(row, None)
        if digest is None:
            return  # settled from the ledger itself in `before`
        key, result = self._key(request), settled.result
        if result.status in (Status.CREATED, Status.SKIPPED):
            note = None if result.status == Status.CREATED else result.message
            existed = result.code if result.status == Status.SKIPPED else None
            self.ledger.mark_created(
                *key, digest, result.candidate_id, result.application_id, note, existed
            )
        elif result.status == Status.NEEDS_REVIEW:
            self.ledger.mark_needs_review(*key, digest, result.code, result.message, result.log_url)
        elif settled.uncertain:
            pass  # stays `sending`: the next run looks it up before sending
        elif result.status == Status.NOT_SENT or result.attempts == 0:
            self.ledger.mark_pending(*key)
        else:
            self.ledger.mark_failed(
                *key, digest, result.code, result.message, settled.retryable, result.log_url
            )

    def sent_ago(self, row: int) -> float | None:
        sent_at = self._sent_at.pop(row, None)
        return None if sent_at is None else max(0.0, time.time() - sent_at)

    def actions_settled(
        self, row: int, request: PostAtsCandidatesRequest
    ) -> dict[str, SettledAction]:
        found = self.ledger.actions_of(*self._key(request))
        in_doubt = ACTION_FAILED if self.resend_needs_review else ACTION_NEEDS_REVIEW
        return {
            key: SettledAction(
                in_doubt if state in ("sending", ACTION_NEEDS_REVIEW) else state,
                max(0.0, time.time() - changed),
            )
            for key, (state, changed) in found.items()
        }

    def action_sending(self, row: int, request: PostAtsCandidatesRequest, action: Action) -> None:
        self.ledger.mark_action(*self._key(request), action.key, "sending")

    def action_settled(
        self,
        row: int,
        request: PostAtsCandidatesRequest,
        action: Action,
        state: str,
        code: str | None = None,
        message: str = "",
    ) -> None:
        self.ledger.mark_action(*self._key(request), action.key, state, code, message)


def request_fingerprint(request: PostAtsCandidatesRequest) -> str:
    """The body as sent, with each local file's content hash in place of its bytes."""
    digests = [
        ref.url if ref.url is not None else hashlib.sha256(ref.read()).hexdigest()
        for ref in request.files
    ]
    return fingerprint(request_body(request), digests)
