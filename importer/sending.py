"""Send requests to Kombo: fast, inside its limits, retrying what is transient, looking before
re-sending what may have been written, and stopping at once on what is fatal.

One concurrency gate and one pacer govern every request. The gate starts at `--concurrency` and
follows Kombo's `Concurrency-Limit`/`Concurrency-Remaining`; the pacer spaces requests to
`--rate-limit` per second and pauses everyone when Kombo says the window is spent.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import time
from collections import Counter, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from enum import Enum, StrEnum
from typing import Any, NamedTuple, TypeVar

from .actions import NOTE, REJECT, TAG, Action, seen_in, tag
from .build import PostAtsCandidatesRequest
from .client import (
    AlreadyExists,
    Created,
    Done,
    Fatal,
    KomboClient,
    Limits,
    LookupFailed,
    Outcome,
    Rejected,
    Transient,
    Uncertain,
    encode_request,
)
from .errors import FatalApiError, ImporterError, InternalError, OutputError, describe
from .issues import RowProblem
from .settings import SubmitSettings


class Status(StrEnum):
    """What became of a row in this run (the results file's `status`)."""

    CREATED = "created"
    SKIPPED = "skipped"  # already in the ATS: created by an earlier run, or Kombo says it exists
    FAILED = "failed"
    NEEDS_REVIEW = "needs_review"  # may have been written, and no lookup could tell: never resent
    NOT_SENT = "not_sent"  # invalid, or never reached because the run stopped


# What became of an action after the create (the ledger's `actions.state`).
ACTION_DONE, ACTION_FAILED, ACTION_NEEDS_REVIEW = "done", "failed", "needs_review"


class Prior(Enum):
    """What the record of earlier runs says about a row that it does not settle itself."""

    NEW = "new"  # send it
    MAY_EXIST = "may_exist"  # an earlier request may have created it: look it up first


_T = TypeVar("_T")

# Seconds after an uncertain answer at which the row is looked up. Kombo's reads are synced
# data and the write may still be running at Kombo, so the first look comes late and the later
# ones later still; `--lookup-window` cuts the schedule short (and is its last look).
LOOKUP_DELAYS = (5.0, 30.0, 120.0, 300.0)
CONCURRENCY_PAUSE = (1.0, 1.5)  # Kombo's guide: wait about a second when too many are in flight
ACTION_ATTEMPTS = 3  # of one action after the create, when its answers are transient
OUTAGE_AFTER = 20  # uncertain answers in a row (no other answer between) that stop the run


def lookup_delays(window: float) -> list[float]:
    """The schedule's steps shorter than `window`, then `window` itself."""
    return [delay for delay in LOOKUP_DELAYS if delay < window] + [window]


@dataclass(frozen=True)
class RowResult:
    """What became of one source row; every row of the input gets exactly one."""

    row: int
    status: Status
    candidate_id: str | None = None
    application_id: str | None = None
    code: str | None = None
    message: str = ""
    attempts: int = 0
    log_url: str | None = None  # Kombo's link to its log of the failed request, for its support
    warnings: tuple[str, ...] = ()  # what Kombo said it dropped or changed on a created row
    actions: str = ""  # what became of the actions after the create: `notes 2/2, rejected`


class SettledAction(NamedTuple):
    """What an earlier run left of an action after the create."""

    state: str  # ACTION_DONE | ACTION_NEEDS_REVIEW
    ago: float  # seconds since its state last changed (its request left, for one in doubt)


class Settled(NamedTuple):
    """A row's end in this run, and what the record of runs must know about it."""

    result: RowResult
    retryable: bool  # send it again next run
    uncertain: bool  # a request may have written it: look it up before sending again


@dataclass
class SubmitStats:
    """Counters for the progress line and the summary."""

    sent: int = 0  # HTTP requests made, retries included
    retries: int = 0
    lookups: int = 0
    awaiting_lookup: int = 0  # rows set aside after an uncertain answer, waiting to be looked up
    actions_done: Counter[str] = field(default_factory=Counter)  # by kind: note, reject, tag
    actions_failed: Counter[str] = field(default_factory=Counter)  # failed or needs review
    actions_unoffered: Counter[str] = field(default_factory=Counter)  # the integration has none
    by_status: Counter[str] = field(default_factory=Counter)
    changed: int = 0  # created in an earlier run, different now: not sent again
    kombo_warnings: Counter[str] = field(default_factory=Counter)  # by message, one per row
    stopped_by: str | None = None  # "fatal" | "interrupt" | "abandoned" | "error"
    fatal: ImporterError | None = None  # what stopped the run, raised when it ends


class Journal:
    """What the submitter tells, and asks, the record of earlier runs (the ledger). This base
    remembers nothing: every row is new."""

    async def before(self, row: int, request: PostAtsCandidatesRequest) -> RowResult | Prior:
        """A result to settle the row without sending it, or what is known of it."""
        return Prior.NEW

    def sending(
        self, row: int, request: PostAtsCandidatesRequest, attachment_digests: list[str]
    ) -> None:
        """Called, and committed, before each request for the row leaves; the digests are those
        of the attachment bytes about to be sent."""

    def sent_ago(self, row: int) -> float | None:
        """Seconds since an earlier run last sent the row (`before` said MAY_EXIST), or None
        when unknown."""
        return None

    def settled(self, row: int, request: PostAtsCandidatesRequest, settled: Settled) -> None:
        """The row's final result in this run."""

    def actions_settled(
        self, row: int, request: PostAtsCandidatesRequest
    ) -> dict[str, SettledAction]:
        """The actions after the create not to send again, by key: `done` ones, and those whose
        answer was lost (`needs_review`)."""
        return {}

    def action_sending(self, row: int, request: PostAtsCandidatesRequest, action: Action) -> None:
        """Called, and committed, before the action's request leaves."""

    def action_settled(
        self,
        row: int,
        request: PostAtsCandidatesRequest,
        action: Action,
        state: str,
        code: str | None = None,
        message: str = "",
    ) -> None:
        """How the action ended: `done`, `failed` (sent again next run) or `needs_review`."""


class ConcurrencyGate:
    """At most `limit` requests in flight; the limit follows what Kombo announces.

    Requests take their turn in the order they came: a freed slot is handed to the request
    that waited longest, never taken by a sender that comes back for its next row at that
    moment. A created row's actions (`ahead()`) go before the rows still waiting to be
    created: otherwise each tag or note would wait behind 4 x --concurrency creates."""

    def __init__(self, ceiling: int) -> None:
        self.ceiling = ceiling
        self.limit = 1  # one request first: its answer announces Kombo's limit, then open up
        self.learned = False
        self.in_flight = 0
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._waiting_ahead: deque[asyncio.Future[None]] = deque()

    async def __aenter__(self) -> None:
        await self._enter(self._waiting)

    async def __aexit__(self, *exc_info: object) -> None:
        self._leave()

    @contextlib.asynccontextmanager
    async def ahead(self) -> AsyncIterator[None]:
        """A slot before every request waiting at `async with gate`."""
        await self._enter(self._waiting_ahead)
        try:
            yield
        finally:
            self._leave()

    async def _enter(self, queue: deque[asyncio.Future[None]]) -> None:
        free = self.in_flight < self.limit and not self._waiting_ahead
        if free and (queue is self._waiting_ahead or not self._waiting):
            self.in_flight += 1
            return
        turn = asyncio.get_running_loop().create_future()
        queue.append(turn)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():  # handed a slot, cancelled before it ran
                self._leave()
            else:
                with contextlib.suppress(ValueError):
                    queue.remove(turn)
            raise

    def _leave(self) -> None:
        self.in_flight -= 1
        self._hand_on()

    def _hand_on(self) -> None:
        """Free slots to the requests that waited longest, actions first: one wake-up per
        slot, none for rows that must wait on (waking every row on every answer cost 1.5-2x
        bare httpx's CPU)."""
        for queue in (self._waiting_ahead, self._waiting):
            while queue and self.in_flight < self.limit:
                turn = queue.popleft()
                if not turn.done():
                    self.in_flight += 1
                    turn.set_result(None)

    async def learn(self, limits: Limits, too_many: bool) -> None:
        """Never above Kombo's `Concurrency-Limit`; halve on CONCURRENCY_LIMIT_EXCEEDED, then
        creep back up one request at a time while Kombo has room."""
        cap = (
            self.ceiling
            if limits.concurrency_limit is None
            else max(1, min(self.ceiling, limits.concurrency_limit))
        )
        if too_many:
            self.limit = max(1, self.limit // 2)
        elif not self.learned:
            self.limit = cap
        elif limits.concurrency_remaining is None or limits.concurrency_remaining > 0:
            self.limit += 1
        self.learned = True
        self.limit = min(self.limit, cap)
        self._hand_on()


class Pacer:
    """Keeps request starts to `rate` per second and holds everyone while Kombo says to wait.

    What `--rate-limit N` promises: 98 % of N starts a second on average; for N of two or
    more, in any second at most 98 % of N rounded and never more than N rounded down (the 2 %
    leave room for a few other requests and for the network's jitter); below two a second, one
    start per 1/(0.98 N) seconds; no two starts closer than `MIN_GAP` of the interval. Within that,
    starts follow a schedule: a start a busy event loop woke late is made up by the next ones.
    Spacing each start a whole interval from the last real one lost the loop's lateness every
    time: 0.83 of the limit at 200/s."""

    MARGIN = 0.98  # aim just under the limit: the server's clock and ours never agree exactly
    MIN_GAP = 0.8  # of an interval: late starts are made up, never in a burst

    def __init__(
        self, rate: float | None, max_wait: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        aim = rate * self.MARGIN if rate else 0.0
        self.interval = 1.0 / aim if rate else 0.0  # of the schedule
        # at most `per_window` starts in any `window` seconds: whole requests in a second,
        # 2 % of N left free where that is one or more; below two a second, one start at a time
        if rate and rate >= 2:
            self.per_window, self.window = min(math.floor(rate), round(aim)), 1.0
        else:
            self.per_window, self.window = 1, self.interval
        self.max_wait = max_wait
        self.clock = clock
        self._due = 0.0  # when the next start is due on the schedule
        self._starts: deque[float] = deque(maxlen=max(1, self.per_window))  # the latest
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    async def wait_turn(self, stopping: asyncio.Event) -> None:
        """Wait for this request's turn; a stopping run does not wait."""
        async with self._lock:
            while not stopping.is_set():
                wait = self._earliest() - self.clock()
                if wait <= 0:
                    break
                await _sleep_unless(stopping, wait)
            if self.interval:
                now = self.clock()
                self._starts.append(now)
                # up to one interval late: made up; later (after an idle spell): the schedule
                # starts again from now
                on_schedule = self._due if now - self._due <= self.interval else now
                self._due = on_schedule + self.interval

    def _earliest(self) -> float:
        earliest = self._paused_until
        if self.interval and self._starts:
            earliest = max(earliest, self._due, self._starts[-1] + self.MIN_GAP * self.interval)
            if len(self._starts) == self.per_window:
                earliest = max(earliest, self._starts[0] + self.window)
        return earliest

    async def hold(self, stopping: asyncio.Event) -> None:
        """Wait out a pause that began after this request took its turn."""
        await _sleep_unless(stopping, self._paused_until - self.clock())

    def pause(self, seconds: float) -> None:
        """Hold every request for `seconds`, never longer than `--max-wait`."""
        self._paused_until = max(self._paused_until, self.clock() + min(seconds, self.max_wait))

    def learn(self, limits: Limits) -> None:
        """Out of requests in this window: wait for its reset rather than run into 429s."""
        if limits.rate_remaining is not None and limits.rate_remaining <= 0 and limits.rate_reset:
            self.pause(limits.rate_reset)


class Submitter:
    """Sends (row, request) pairs; reports each row's result through `on_result` as it ends."""

    def __init__(
        self,
        client: KomboClient,
        settings: SubmitSettings,
        on_result: Callable[[RowResult], None],
        on_progress: Callable[[SubmitStats], None] | None = None,
        journal: Journal | None = None,
    ) -> None:
        self.client = client
        self.settings = settings
        self.on_result = on_result
        self.on_progress = on_progress or (lambda stats: None)
        self.journal = journal or Journal()
        self.stats = SubmitStats()
        self.gate = ConcurrencyGate(settings.concurrency)
        self.pacer = Pacer(settings.rate_limit, settings.max_wait)
        self.stopping = asyncio.Event()
        self.closed_jobs: set[str] = set()
        self.lookups_refused: LookupFailed | None = None  # refused for every row: ask no more
        self.refused: dict[str, str] = {}  # action kind -> why this integration does not do it
        self._uncertain_in_a_row = 0
        self._outage_after = max(OUTAGE_AFTER, 2 * settings.concurrency)
        self._lookups = asyncio.Semaphore(settings.concurrency)  # GETs in flight at most
        self._random = random.Random()
        self._tasks: set[asyncio.Task[None]] = set()

    def stop(self, reason: str = "interrupt") -> None:
        """Send nothing new; requests in flight finish and are recorded."""
        if not self.stopping.is_set():
            self.stats.stopped_by = self.stats.stopped_by or reason
            self.stopping.set()

    def abandon(self) -> None:
        """Stop at once: requests in flight are cut off and their rows recorded as unsettled
        (the ledger keeps them `sending`, so the next run looks them up before sending)."""
        self.stop("abandoned")
        self.stats.stopped_by = "abandoned"
        for task in self._tasks:
            task.cancel()

    def _fail(self, error: ImporterError) -> None:
        """Something the whole run depends on failed: keep the first such error, stop sending."""
        if self.stats.fatal is None:
            self.stats.fatal = error
        self.stop("fatal" if isinstance(error, FatalApiError) else "error")

    async def run(self, items: Iterable[tuple[int, PostAtsCandidatesRequest]]) -> SubmitStats:
        """Send every item; returns when each has a result. Raises what stopped the run (after
        every row in flight has ended and every row has a result). May be called again with
        more items (a canary, then the rest): the limits learnt so far carry over.

        4 x --concurrency senders take the items in turn, each one row at a time, so that
        rows waiting to retry do not hold the others back. A row set aside to be looked up
        later hands its sender's place to a new sender. Long-lived senders rather than a task
        per row: the task, its wake-ups and its slot cost a request ~5 % of its CPU."""
        rows = _Rows(iter(items))
        for _ in range(self.settings.concurrency * 4):
            self._start_sender(rows)
        while self._tasks:  # tasks leave the set as they end; every one ends (bounded waits)
            await asyncio.wait(set(self._tasks))
        for row, _ in rows.rest():  # never reached because the run stopped
            self._record(
                RowResult(row, Status.NOT_SENT, code="stopped", message=self._stop_message())
            )
        if rows.error is not None:  # the input or an output failed while rows were read
            raise rows.error
        if self.stats.fatal is not None:
            raise self.stats.fatal
        return self.stats

    def _start_sender(self, rows: _Rows) -> None:
        task = asyncio.create_task(self._send_rows(rows))
        self._tasks.add(task)
        task.add_done_callback(self._sender_ended)

    async def _send_rows(self, rows: _Rows) -> None:
        """One sender: the next row, until there is none, the run stops or the row it sent
        stepped aside (a new sender then took its place)."""
        while not self.stopping.is_set():
            item = rows.next()
            if item is None:
                if isinstance(rows.error, ImporterError):  # rows already taken are not sent
                    self._fail(rows.error)
                return
            row, request = item
            progress = _RowProgress(lambda: self._start_sender(rows))
            await self._row(row, request, progress)
            if progress.stepped_aside:
                return

    def _sender_ended(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:  # a bug in _row itself
            self._fail(InternalError(f"a row's task failed: {describe(error)}"))

    def _stop_message(self) -> str:
        return {
            "fatal": "not sent: the run stopped on a fatal error",
            "error": "not sent: the run stopped because a file could not be written",
            "canary": "not sent: the rest was not confirmed after the canary; run again to send it",
        }.get(self.stats.stopped_by or "", "not sent: the run was interrupted")

    def record(self, result: RowResult) -> None:
        """Count a row settled without a request (invalid, already done): it is in the results
        too."""
        self._record(result)

    def _record(self, result: RowResult) -> None:
        self.stats.by_status[result.status] += 1
        if result.code == "changed_since_import":
            self.stats.changed += 1
        self.on_result(result)
        self.on_progress(self.stats)

    async def _row(
        self, row: int, request: PostAtsCandidatesRequest, progress: _RowProgress
    ) -> None:
        """Send one row (then tag it) and record its result. Whatever happens, the row ends
        with a result: an error here becomes this row's failure, never a lost row."""
        try:
            settled = await self._send_until_settled(row, request, progress)
        except asyncio.CancelledError:  # abandoned (a second Ctrl-C)
            settled = _abandoned(row, progress)
        except RowProblem as problem:  # its file changed or vanished since the dry run
            settled = Settled(
                RowResult(
                    row,
                    Status.FAILED,
                    code=problem.code,
                    message=problem.message,
                    attempts=progress.attempts,
                ),
                True,
                progress.may_exist,
            )
        except FatalApiError as exc:  # a lookup was refused for the whole integration
            self._fail(exc)
            settled = (
                _needs_review(
                    row, request, progress, "lookup_failed", f"the lookup was refused: {exc}"
                )
                if progress.may_exist
                else Settled(
                    RowResult(row, Status.NOT_SENT, code="stopped", message=self._stop_message()),
                    True,
                    False,
                )
            )
        except OutputError as exc:  # the ledger cannot be written: nothing more may be sent
            self._fail(exc)
            settled = Settled(
                RowResult(
                    row,
                    Status.FAILED,
                    code="ledger_error",
                    message=str(exc),
                    attempts=progress.attempts,
                ),
                True,
                progress.may_exist,
            )
        except Exception as exc:  # a bug of ours: this row fails, the others go on
            message = f"{describe(exc)} (an error in kombo-import; please report it)"
            settled = Settled(
                RowResult(
                    row,
                    Status.FAILED,
                    code="internal_error",
                    message=message,
                    attempts=progress.attempts,
                ),
                True,
                progress.may_exist,
            )
        result = settled.result
        try:
            # Recorded before any action is asked for: a crash in between leaves it created,
            # its actions still to do.
            self.journal.settled(row, request, settled)
            if _acted_on(result):
                result = await self._after_create(row, request, result)
        except OutputError as exc:  # the ledger failed: the row still gets its result below
            self._fail(exc)
        try:
            self._record(result)
        except OutputError as exc:
            self._fail(exc)

    async def _send_until_settled(
        self, row: int, request: PostAtsCandidatesRequest, progress: _RowProgress
    ) -> Settled:
        """(result, retryable next run, may have been written)."""
        job_id = request.job_id
        earlier = await self.journal.before(row, request)
        if isinstance(earlier, RowResult):
            return Settled(earlier, False, False)
        # An earlier run's request may have created it: sent again only if no lookup finds it,
        # the last of them at least --lookup-window after that request (reads lag writes).
        looked = earlier is Prior.MAY_EXIST
        if looked:
            progress.may_exist = True
            ago = self.journal.sent_ago(row)
            since = time.monotonic() - (self.settings.lookup_window if ago is None else ago)
            why = "an earlier run's request may have created it"
            settled = await self._look_until(row, request, progress, since, why)
            if settled is not None:
                return settled
            progress.may_exist = False
        last: Outcome | None = None
        for attempt in range(1, self.settings.max_attempts + 1):
            if self.stopping.is_set():
                # Not sent again: a row that may exist keeps its record, looked up next run.
                return Settled(_unfinished(row, last, attempt - 1), True, looked and last is None)
            await self.pacer.wait_turn(self.stopping)
            async with self.gate:
                # Kombo may have said "wait" while this row queued at the gate: everyone waits.
                await self.pacer.hold(self.stopping)
                if self.stopping.is_set():
                    return Settled(
                        _unfinished(row, last, attempt - 1), True, looked and last is None
                    )
                if job_id in self.closed_jobs:
                    return Settled(
                        RowResult(
                            row,
                            Status.NOT_SENT,
                            code="api.ATS.JOB_CLOSED",
                            message=(
                                f"not sent: job {job_id} is closed (an earlier row was refused for "
                                "it)"
                            ),
                            attempts=attempt - 1,
                        ),
                        True,
                        False,
                    )
                # Encoded here, in the gate: at most --concurrency bodies with files in memory.
                content, digests = (
                    await asyncio.to_thread(encode_request, request)
                    if request.files
                    else encode_request(request)
                )
                self.journal.sending(row, request, digests)
                progress.attempts = attempt
                progress.may_exist = True  # from here until an answer says otherwise
                self.stats.sent += 1
                if attempt > 1:
                    self.stats.retries += 1
                self.on_progress(self.stats)
                outcome = await self.client.create_candidate(request, content)
                del content
            last = outcome
            progress.may_exist = isinstance(outcome, (Uncertain, Created))
            self.pacer.learn(outcome.limits)
            await self.gate.learn(
                outcome.limits, isinstance(outcome, Transient) and outcome.slow_down
            )
            if isinstance(outcome, Created):
                self.stats.kombo_warnings.update(set(outcome.warnings))
                message = "; ".join(f"warning: {w}" for w in outcome.warnings)
                return Settled(
                    RowResult(
                        row,
                        Status.CREATED,
                        outcome.candidate_id,
                        outcome.application_id,
                        message=message,
                        attempts=attempt,
                        warnings=outcome.warnings,
                    ),
                    False,
                    False,
                )
            self._count_uncertain(outcome)
            if isinstance(outcome, Uncertain):
                # Never sent again in this run: set aside and looked up later.
                why = f"{outcome.message}; Kombo's answer left it uncertain"
                code = _api(outcome.code) if outcome.code else "uncertain"
                settled = await self._look_until(
                    row, request, progress, time.monotonic(), why, outcome.log_url, code
                )
                return settled or _needs_review(
                    row, request, progress, code, f"{why}, and no lookup found it", outcome.log_url
                )
            if isinstance(outcome, AlreadyExists):
                candidate_id, application_id = await self._ids_of_existing(request) or (None, None)
                return Settled(
                    RowResult(
                        row,
                        Status.SKIPPED,
                        candidate_id,
                        application_id,
                        code=_api(outcome.code),
                        message=f"already in the ATS: {outcome.message}",
                        attempts=attempt,
                    ),
                    False,
                    False,
                )
            if isinstance(outcome, Fatal):
                self._fail(FatalApiError.from_outcome(outcome.code, outcome.message))
                return _refused(row, outcome, attempt, retryable=True)
            if isinstance(outcome, Rejected):
                if outcome.job_closed:
                    self.closed_jobs.add(job_id)
                return _refused(row, outcome, attempt, retryable=False)
            if attempt < self.settings.max_attempts:
                asked = _asked_wait(outcome)
                if asked is not None and asked > self.settings.max_wait:
                    message = (
                        f"Kombo asked to wait {asked:,.0f} s before a retry, more than --max-wait "
                        f"{self.settings.max_wait:g} s;"
                        " not retried in this run. Run again later: it is sent again then."
                    )
                    return Settled(
                        RowResult(
                            row,
                            Status.FAILED,
                            code=_api(outcome.code) if outcome.code else "transient",
                            message=message,
                            attempts=attempt,
                            log_url=outcome.log_url,
                        ),
                        True,
                        False,
                    )
                await self._back_off(attempt, asked, _too_many(outcome))
        assert last is not None
        return Settled(
            _unfinished(row, last, self.settings.max_attempts, gave_up=True), True, False
        )

    async def _look_until(
        self,
        row: int,
        request: PostAtsCandidatesRequest,
        progress: _RowProgress,
        since: float,
        why: str,
        log_url: str | None = None,
        code: str = "uncertain",
    ) -> Settled | None:
        """A write that may have happened at `since` (monotonic): the row steps aside (its slot
        goes to the rows behind it) and is looked up on the `lookup_delays` schedule from then.
        Found -> created; a lookup that fails, or the run stopping first -> needs_review; None
        when the look at the end of the window did not find it (the caller decides)."""
        progress.release_slot()
        self.stats.awaiting_lookup += 1
        self.on_progress(self.stats)
        delays = lookup_delays(self.settings.lookup_window)
        due = [since + d for d in delays if since + d > time.monotonic()] or [time.monotonic()]
        try:
            for moment in due:
                await _sleep_unless(self.stopping, moment - time.monotonic())
                if self.stopping.is_set():
                    break
                try:
                    found = await self._look_up(request)
                except LookupFailed as exc:
                    return _needs_review(
                        row,
                        request,
                        progress,
                        "lookup_failed",
                        f"{why}; the lookup that would tell failed: {exc}",
                        log_url,
                    )
                if found is not None:
                    return _confirmed(row, found, progress.attempts, why)
            else:
                return None
        finally:
            self.stats.awaiting_lookup -= 1
        return _needs_review(
            row, request, progress, code, f"{why}; the run stopped before a lookup told", log_url
        )

    def _count_uncertain(self, outcome: Outcome) -> None:
        """Stop a run whose every answer leaves the write uncertain (an outage at Kombo or the
        ATS): going on would send the whole file into it, each row then needing a person."""
        if not isinstance(outcome, (Uncertain, Transient)):
            self._uncertain_in_a_row = 0
            return
        if isinstance(outcome, Uncertain):
            self._uncertain_in_a_row += 1
        if self._uncertain_in_a_row >= self._outage_after:
            self._fail(
                FatalApiError(
                    f"Kombo's last {self._uncertain_in_a_row} answers all left the write "
                    f"uncertain ({outcome.message}); stopping rather than sending the rest into "
                    "what looks like an outage. Run again later: rows in doubt are looked up "
                    "first."
                )
            )

    async def _look_up(self, request: PostAtsCandidatesRequest) -> tuple[str, str | None] | None:
        """Kombo's (candidate id, application id) for the row, or None."""
        return await self._ask(request, self.client.find_application)

    async def _look_up_candidate(
        self, request: PostAtsCandidatesRequest
    ) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """The row's candidate and application as Kombo lists them, or None."""
        return await self._ask(request, self.client.find_candidate)

    async def _ask(
        self, request: PostAtsCandidatesRequest, find: Callable[[str, str], Awaitable[_T]]
    ) -> _T:
        """One lookup of the row, paced, at most --concurrency at once, cut short when the run
        stops; raises LookupFailed, and once lookups are refused for every row, asks no more."""
        if self.lookups_refused is not None:
            raise self.lookups_refused
        await self.pacer.wait_turn(self.stopping)
        try:
            async with self._lookups:
                if self.lookups_refused is not None:  # refused while this one waited its turn
                    raise self.lookups_refused
                self.stats.lookups += 1
                return await _unless_stopped(
                    self.stopping,
                    lambda: find(request.email_address, request.job_id),
                )
        except LookupFailed as exc:
            if exc.for_every_row:
                self.lookups_refused = exc
            raise

    async def _ids_of_existing(
        self, request: PostAtsCandidatesRequest
    ) -> tuple[str, str | None] | None:
        """The ids of an application Kombo says exists already, for the results; None when the
        lookup cannot tell (the row is skipped all the same)."""
        try:
            return await self._look_up(request)
        except LookupFailed:
            return None
        except FatalApiError as exc:
            self._fail(exc)
            return None

    async def _after_create(
        self, row: int, request: PostAtsCandidatesRequest, result: RowResult
    ) -> RowResult:
        """The mapping's actions, then the run's `--tag`, each once, in order. One that fails
        is a warning on the row, never its failure: the candidate stays created, and the next
        run sends what is not done (but never, blindly, one whose answer was lost)."""
        batch = [tag(self.settings.tag)] if self.settings.tag else []
        actions = list({a.key: a for a in [*request.actions, *batch]}.values())  # each once
        if not actions:
            return result
        settled = await self._settle_in_doubt(
            row, request, actions, self.journal.actions_settled(row, request)
        )
        ended: list[tuple[Action, str, str]] = []  # (action, state, why)
        for action in actions:
            earlier = settled.get(action.key)
            if earlier is not None:
                why = "" if earlier == ACTION_DONE else "its answer was lost in an earlier run"
                ended.append((action, earlier, why))
                self.stats.actions_failed[action.kind] += earlier != ACTION_DONE
                continue
            if action.kind in self.refused:  # not offered: a warning, not a failure to fix
                ended.append((action, ACTION_FAILED, self.refused[action.kind]))
                self.stats.actions_unoffered[action.kind] += 1
                continue
            try:
                state, why = await self._act(row, request, result, action)
            except asyncio.CancelledError:  # abandoned: the rest waits for the next run
                ended.append((action, ACTION_FAILED, "the run was interrupted"))
                break
            ended.append((action, state, why))
            self.stats.actions_done[action.kind] += state == ACTION_DONE
            self.stats.actions_failed[action.kind] += state != ACTION_DONE
        return _with_actions(result, ended)

    async def _settle_in_doubt(
        self,
        row: int,
        request: PostAtsCandidatesRequest,
        actions: list[Action],
        settled: dict[str, SettledAction],
    ) -> dict[str, str]:
        """What earlier runs left that is not to be sent (now), by key. A tag or a rejection an
        earlier run sent (its answer lost, or refused) is looked up on the candidate first (its
        tags, the application's outcome): seen -> done. Not seen on the candidate: a failed one
        is sent again, one in doubt too once a window has passed since its request. The
        candidate not found at all (reads lag), or the lookup failing: one in doubt stays so.
        A note, which no read shows, in doubt stays so; failed, it is sent again."""
        states: dict[str, str] = {}
        to_check: list[Action] = []
        for action in actions:
            earlier = settled.get(action.key)
            if earlier is None or earlier.state not in (
                ACTION_DONE,
                ACTION_NEEDS_REVIEW,
                ACTION_FAILED,
            ):
                continue  # new: send it
            if earlier.state == ACTION_DONE:
                states[action.key] = ACTION_DONE
                continue
            if earlier.state == ACTION_NEEDS_REVIEW:
                states[action.key] = ACTION_NEEDS_REVIEW
            if action.readable:
                to_check.append(action)
        if not to_check:
            return states
        try:
            found = await self._look_up_candidate(request)
        except LookupFailed:
            return states
        except FatalApiError as exc:  # the integration as a whole was refused
            self._fail(exc)
            return states
        if found is None:
            return states  # the candidate we created is not in Kombo's reads yet
        candidate, application = found
        for action in to_check:
            if seen_in(action, candidate, application):
                self.journal.action_settled(row, request, action, ACTION_DONE)
                states[action.key] = ACTION_DONE
            elif settled[action.key].ago >= self.settings.lookup_window:
                states.pop(action.key, None)  # not there, long after its request: send again
        return states

    async def _act(
        self, row: int, request: PostAtsCandidatesRequest, result: RowResult, action: Action
    ) -> tuple[str, str]:
        """Send one action: (its state, why it is not done)."""
        assert result.candidate_id is not None
        path = action.path(result.candidate_id, result.application_id)
        if path is None:
            return ACTION_FAILED, "the ATS filed no application to act on"
        for attempt in range(1, ACTION_ATTEMPTS + 1):
            await self.pacer.wait_turn(self.stopping)
            async with self.gate.ahead():  # an action counts against Kombo's concurrency limit
                await self.pacer.hold(self.stopping)
                if self.stopping.is_set():
                    return ACTION_FAILED, "the run stopped first; the next run sends it"
                self.journal.action_sending(row, request, action)
                self.stats.sent += 1
                outcome = await self.client.act(path, action.body)
            self.pacer.learn(outcome.limits)
            await self.gate.learn(outcome.limits, _too_many(outcome))
            code = f" ({outcome.code})" if outcome.code else ""
            state, why = ACTION_FAILED, f"{outcome.message}{code}"
            if isinstance(outcome, Done):
                state, why = ACTION_DONE, ""
            elif isinstance(outcome, Uncertain):
                state = ACTION_NEEDS_REVIEW  # may be done: Kombo deduplicates none of these
            elif isinstance(outcome, Fatal):
                if (outcome.code or "").startswith(_NOT_OFFERED):
                    self.refused[action.kind] = f"this integration does not offer it{code}"
                    why = self.refused[action.kind]
                else:
                    self._fail(FatalApiError.from_outcome(outcome.code, outcome.message))
            elif isinstance(outcome, Transient) and attempt < ACTION_ATTEMPTS:
                await self._back_off(attempt, _asked_wait(outcome), _too_many(outcome))
                continue
            self.journal.action_settled(row, request, action, state, outcome.code, why)
            return state, why
        raise AssertionError("unreachable")  # pragma: no cover

    async def _back_off(self, attempt: int, asked: float | None, too_many: bool = False) -> None:
        """Exponential backoff with full jitter, never sooner than Kombo asked, and about a
        second when Kombo counted too many requests in flight (its guide's advice)."""
        ceiling = min(self.settings.backoff_max, self.settings.backoff_initial * 2 ** (attempt - 1))
        delay = self._random.uniform(ceiling / 2, ceiling)
        if too_many:
            delay = max(delay, self._random.uniform(*CONCURRENCY_PAUSE))
        if asked is not None:
            delay = max(delay, asked)
            self.pacer.pause(asked)  # a rate limit is everyone's: hold all requests
        await _sleep_unless(self.stopping, delay)


# Codes with which Kombo says an action is not offered by this integration (not that it failed).
_NOT_OFFERED = ("INTEGRATION.ACTION_", "INTEGRATION.MODEL_", "INTEGRATION.PERMISSION_")


def _too_many(outcome: Outcome) -> bool:
    return isinstance(outcome, Transient) and outcome.slow_down


def _acted_on(result: RowResult) -> bool:
    """Created by this import (in this run or an earlier one), with a candidate to act on: an
    application that existed before is not this import's to annotate."""
    return result.candidate_id is not None and (
        result.status == Status.CREATED
        or result.code in ("already_created", "changed_since_import")
    )


def _with_actions(result: RowResult, ended: list[tuple[Action, str, str]]) -> RowResult:
    """The row's result with what became of its actions: `notes 2/2, rejected, tags 1/3` in
    `actions`, each one not done as a warning."""
    parts = []
    for kind, many in ((NOTE, "notes"), (REJECT, ""), (TAG, "tags")):
        states = [state for action, state, _ in ended if action.kind == kind]
        if not states:
            continue
        done = states.count(ACTION_DONE)
        if kind == REJECT:
            parts.append("rejected" if done else "not rejected")
        else:
            parts.append(f"{many} {done}/{len(states)}")
    missed = [
        f"{action.label} {'needs review' if state == ACTION_NEEDS_REVIEW else 'not done'}: {why}"
        for action, state, why in ended
        if state != ACTION_DONE
    ]
    if not missed:
        return replace(result, actions=", ".join(parts))
    return replace(
        result,
        code="actions_failed",
        actions=", ".join(parts),
        warnings=(*result.warnings, *missed),
        message="; ".join(part for part in (result.message, *missed) if part),
    )


def _confirmed(row: int, found: tuple[str, str | None], attempts: int, after: str) -> Settled:
    return Settled(
        RowResult(
            row,
            Status.CREATED,
            found[0],
            found[1],
            message=f"created (confirmed by a lookup after {after})",
            attempts=attempts,
        ),
        False,
        False,
    )


def _needs_review(
    row: int,
    request: PostAtsCandidatesRequest,
    progress: _RowProgress,
    code: str,
    why: str,
    log_url: str | None = None,
) -> Settled:
    """The write may have happened and nothing could tell: a person checks. Never sent again
    without a lookup that finds nothing (or --resend-needs-review)."""
    email = request.email_address
    job_id = request.job_id
    message = (
        f"may or may not have been created ({why}). Check the ATS for {email} on job {job_id}: "
        "the next run with this ledger looks it up again before sending it."
    )
    result = RowResult(
        row,
        Status.NEEDS_REVIEW,
        code=code,
        message=message,
        attempts=progress.attempts,
        log_url=log_url,
    )
    return Settled(result, True, True)


def _abandoned(row: int, progress: _RowProgress) -> Settled:
    """A second Ctrl-C cut the row off: it needs review if a request of it left."""
    if progress.may_exist:
        result = RowResult(
            row,
            Status.NEEDS_REVIEW,
            code="interrupted",
            message="abandoned while in flight; run again with the same ledger to settle it",
            attempts=progress.attempts,
        )
    else:
        result = RowResult(
            row,
            Status.NOT_SENT,
            code="interrupted",
            message="not sent: the run was interrupted",
            attempts=progress.attempts,
        )
    return Settled(result, True, progress.may_exist)


class _Rows:
    """The items the senders take in turn; the first error reading them ends them."""

    def __init__(self, items: Iterator[tuple[int, PostAtsCandidatesRequest]]) -> None:
        self._items = items
        self.error: Exception | None = None

    def next(self) -> tuple[int, PostAtsCandidatesRequest] | None:
        if self.error is not None:
            return None
        try:
            return next(self._items)
        except StopIteration:
            return None
        except Exception as exc:  # raised by run() once every row in flight has ended
            self.error = exc
            return None

    def rest(self) -> Iterator[tuple[int, PostAtsCandidatesRequest]]:
        """The items no sender took."""
        if self.error is None:
            yield from self._items


class _RowProgress:
    """How far one row got, for when its handling is cut short (an error, a second Ctrl-C), and
    whether it stepped aside from its sender."""

    def __init__(self, step_aside: Callable[[], None]) -> None:
        self.attempts = 0
        self.may_exist = False  # a request left and no answer has said it was not written
        self.stepped_aside = False
        self._step_aside = step_aside

    def release_slot(self) -> None:
        """Give the row's sender to the rows behind it (once): a new sender takes its place."""
        if not self.stepped_aside:
            self.stepped_aside = True
            self._step_aside()


def _asked_wait(outcome: Outcome) -> float | None:
    """Seconds the server asked us to wait (Retry-After, or the rate window's reset)."""
    asked = outcome.limits.retry_after
    if asked is None and outcome.limits.rate_remaining == 0:
        asked = outcome.limits.rate_reset
    return asked


async def _unless_stopped(stopping: asyncio.Event, lookup: Callable[[], Awaitable[_T]]) -> _T:
    """A lookup, cut short when the run stops: it would wait out its retries and timeouts."""
    if stopping.is_set():
        raise LookupFailed("the run stopped before the lookup was made")
    asked = asyncio.ensure_future(lookup())
    stopped = asyncio.ensure_future(stopping.wait())
    try:
        await asyncio.wait({asked, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
        if not asked.done():
            asked.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asked
    if asked.cancelled():
        raise LookupFailed("the run stopped before the lookup answered")
    return asked.result()


async def _sleep_unless(stopping: asyncio.Event, seconds: float) -> None:
    """Sleep, but wake as soon as the run stops."""
    if seconds <= 0:
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), timeout=seconds)


def _refused(row: int, outcome: Outcome, attempts: int, *, retryable: bool) -> Settled:
    """The row failed with Kombo's own code, message and log link."""
    result = RowResult(
        row,
        Status.FAILED,
        code=_api(outcome.code),
        message=outcome.message,
        attempts=attempts,
        log_url=outcome.log_url,
    )
    return Settled(result, retryable, False)


def _api(code: str | None) -> str:
    return f"api.{code}" if code else "api.error"


def _unfinished(row: int, last: Outcome | None, attempts: int, gave_up: bool = False) -> RowResult:
    """A row whose requests were all answered "not written" (or never left)."""
    if last is None:
        return RowResult(
            row,
            Status.NOT_SENT,
            code="stopped",
            message="not sent: the run stopped",
            attempts=attempts,
        )
    why = f"gave up after {attempts} attempts" if gave_up else "the run stopped before a retry"
    return RowResult(
        row,
        Status.FAILED,
        code=_api(last.code) if last.code else "transient",
        message=f"{last.message}; {why}",
        attempts=attempts,
        log_url=last.log_url,
    )
