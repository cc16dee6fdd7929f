"""A local Kombo-compatible ATS API for the demo and the tests, as strict as Kombo, with faults
on demand.

Plain asyncio + h11 (the HTTP/1.1 parser httpx itself is built on), so that a fault can do what a
real network does: drop the connection before answering, or after the candidate was created.
The official SDK pointed at it (`Kombo(api_key=…, integration_id=…, server_url=URL)`) works
unchanged: answers use Kombo's shapes, validated against the SDK's models in the tests. Requests
are validated against Kombo's published schema (see `validation.py`) and refused as Kombo refuses
them: 400 PLATFORM.INPUT_INVALID, naming the field.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import datetime as dt
import itertools
import json
import logging
import math
import random
import re
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import h11
from kombo.models import PostAtsCandidatesRequestBody
from pydantic import ValidationError

from . import fixtures, questions, validation
from .faults import FAULTS, TITLES, Fault, check_fault, check_rate

DEFAULT_PORT = 8787
DEFAULT_API_KEY = "sandbox-key"
DEFAULT_INTEGRATION_ID = "sandbox:demo"
PREFIX = "/v1"
MODELS = ("candidates", "jobs", "users", "tags", "rejection_reasons")
# Kombo's scope-config names of the actions served (the one-word form of each endpoint)
ACTIONS = (
    "ats_create_candidate",
    "ats_add_candidate_tag",
    "ats_add_application_note",
    "ats_reject_application",
)
KEPT_INTERACTIONS = 10_000  # error answers whose log_url still answers
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Route:
    """One operation the sandbox serves: its name (as `validation.OPERATIONS` and the fault
    scripts call it), and the scope item Kombo checks first: a read model or an action."""

    method: str
    path: re.Pattern[str]
    operation: str
    model: str | None = None
    action: str | None = None


ROUTES = [
    Route("GET", re.compile(r"/ats/jobs"), "get_jobs", model="jobs"),
    Route("GET", re.compile(r"/ats/candidates"), "get_candidates", model="candidates"),
    Route("GET", re.compile(r"/ats/users"), "get_users", model="users"),
    Route("GET", re.compile(r"/ats/tags"), "get_tags", model="tags"),
    Route(
        "GET",
        re.compile(r"/ats/rejection-reasons"),
        "get_rejection_reasons",
        model="rejection_reasons",
    ),
    Route(
        "GET",
        re.compile(r"/ats/actions/ats_create_candidate"),
        "get_create_candidate_action",
        action="ats_create_candidate",
    ),
    Route(
        "POST", re.compile(r"/ats/candidates"), "create_candidate", action="ats_create_candidate"
    ),
    Route(
        "POST",
        re.compile(r"/ats/candidates/(?P<candidate_id>[^/]+)/tags"),
        "add_candidate_tag",
        action="ats_add_candidate_tag",
    ),
    Route(
        "POST",
        re.compile(r"/ats/applications/(?P<application_id>[^/]+)/notes"),
        "add_application_note",
        action="ats_add_application_note",
    ),
    Route(
        "POST",
        re.compile(r"/ats/applications/(?P<application_id>[^/]+)/reject"),
        "reject_application",
        action="ats_reject_application",
    ),
]
OPERATIONS = tuple(route.operation for route in ROUTES)


@dataclass
class SandboxConfig:
    """What the sandbox accepts and which faults it injects; changeable while it runs.

    Faults (names in `FAULTS`: `429`, `500`, `502`, `503`, `403`, `drop`, `drop_after_create`,
    `task_timeout`, `job_closed`, `unknown_code`, and Kombo's codes `INTEGRATION.*`, `REMOTE.*`,
    `PLATFORM.IP_NOT_WHITELISTED`, each with Kombo's HTTP status):
    - `fault_rates`: fault name -> share (0 to 1) of `POST /ats/candidates` that get it;
    - `set_script(faults, operation)`: the answers of the operation's next requests, in order,
      before any dice: `create_candidate` (the default), `add_candidate_tag`,
      `add_application_note`, `reject_application`, `get_candidates`, `get_jobs`, `get_users`,
      `get_tags`, `get_rejection_reasons`, `get_create_candidate_action`.
      `set_script(["INTEGRATION.MODEL_DISABLED"], "get_candidates")` makes the next lookup by
      email fail, and only it. `drop_after_create` and `task_timeout` are after-the-action on
      every action: the tag, note or rejection is recorded, then the answer is lost.

    Scope, as an integration's scope config sets it (409, as Kombo answers):
    - `disabled_models`: read models (`candidates`, `jobs`, `users`, `tags`,
      `rejection_reasons`) whose GET answers INTEGRATION.MODEL_DISABLED;
    - `disabled_actions`: actions (`ats_create_candidate`, `ats_add_candidate_tag`,
      `ats_add_application_note`, `ats_reject_application`) that answer
      INTEGRATION.ACTION_DISABLED. Tags unavailable as Kombo shows it: disable the action
      `ats_add_candidate_tag` (the POST) and the model `tags` (the GET); rejections likewise:
      `ats_reject_application` and `rejection_reasons`.

    `read_lag`: seconds before a new candidate shows in `GET /ats/candidates` (Kombo's reads are
    synced data); a duplicate is refused at once all the same, as the ATS refuses it.
    """

    api_key: str = DEFAULT_API_KEY
    integration_id: str = DEFAULT_INTEGRATION_ID
    latency: float = 0.0  # seconds added to every POST
    rate_limit: int | None = None  # requests per second, all endpoints; over it: 429
    concurrency_limit: int = 30  # POSTs in flight; over it: 429 PLATFORM.CONCURRENCY_LIMIT_EXCEEDED
    retry_after: float = 1.0  # seconds announced with an injected 429
    read_lag: float = 0.0  # seconds before a new candidate is visible to GET /ats/candidates
    fault_rates: dict[str, float] = field(default_factory=dict)
    scripts: dict[str, deque[str]] = field(default_factory=dict)
    disabled_models: set[str] = field(default_factory=set)
    disabled_actions: set[str] = field(default_factory=set)
    seed: int = 0
    attachment_rules: dict[str, Any] = field(
        default_factory=lambda: {
            "total_size_bytes": 20_000_000,
            "types": {
                t: {
                    "is_supported": True,
                    "min_amount": 0,
                    "max_amount": None,
                    "max_file_size_bytes": 10_000_000,
                    "accepted_mime_types": None,
                }
                for t in ("CV", "COVER_LETTER", "OTHER")
            },
        }
    )

    def __post_init__(self) -> None:
        for name, rate in self.fault_rates.items():
            check_rate(name, rate)
        _check_names("model", self.disabled_models, MODELS)
        _check_names("action", self.disabled_actions, ACTIONS)
        if self.read_lag < 0:
            raise ValueError(f"read_lag is {self.read_lag:g}; it is seconds, 0 or more")

    def set_script(self, faults: Iterable[str], operation: str = "create_candidate") -> None:
        """The answers of `operation`'s next requests, in order ("ok": the real one)."""
        faults = list(faults)
        for name in faults:
            check_fault(name)
        _check_names("operation", {operation}, OPERATIONS)
        self.scripts[operation] = deque(faults)


def _check_names(kind: str, names: Iterable[str], known: tuple[str, ...]) -> None:
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise ValueError(f"unknown {kind} {unknown[0]!r}; known: {', '.join(known)}")


@dataclass
class Created:
    candidate_id: str
    application_id: str
    email: str
    job_id: str
    body: dict[str, Any]
    created_at: float = field(default_factory=time.monotonic)  # for the read lag
    changed_at: str = field(default_factory=lambda: _now())
    rejection_reason_name: str | None = None  # set by a rejection, as GET /ats/candidates shows
    rejected_at: str | None = None


@dataclass(frozen=True)
class Answer:
    """What the sandbox sends back: a status, headers and a body; None is a dropped connection."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


class SandboxState:
    """What the sandbox holds and counts: created candidates, tags, notes and rejections
    received, in-flight POSTs (every action), times."""

    def __init__(self) -> None:
        self.jobs = {j["id"]: j for j in fixtures.all_jobs()}
        self.users = fixtures.all_users()
        self.tags = [
            fixtures.named(tag_id, name, str(700 + i))
            for i, (tag_id, name) in enumerate(fixtures.TAGS)
        ]
        self.rejection_reasons = [
            fixtures.named(reason_id, name, str(900 + i))
            for i, (reason_id, name) in enumerate(fixtures.REJECTION_REASONS)
        ]
        self.created: list[Created] = []
        self.by_email_job: dict[tuple[str, str], Created] = {}
        self.tags_received: dict[str, list[str]] = {}  # candidate id -> tag names, as sent
        self.notes_received: dict[str, list[str]] = {}  # application id -> contents, in order
        # application id -> (rejection reason id, note or None) per rejection accepted
        self.rejections_received: dict[str, list[tuple[str, str | None]]] = {}
        self.already_rejected_answers = 0  # rejections refused: a blind re-send shows here
        self.posts_received = 0  # POST /ats/candidates let through auth
        self.already_exists_answers = (
            0  # duplicates refused: a client that re-sends blindly shows here
        )
        self.in_flight = 0  # actions (POSTs) being answered
        self.max_in_flight = 0
        self.window = 0
        self.window_count = 0
        self.post_times: list[float] = []  # of POST /ats/candidates
        self.interactions: OrderedDict[str, dict[str, Any]] = OrderedDict()  # log_url -> what
        self._ids = itertools.count(1)

    def new_id(self, kind: str) -> str:
        return f"{kind}{next(self._ids):020d}"

    def created_by_id(self, candidate_id: str) -> Created | None:
        """A candidate by its Kombo id or `remote:<remote id>`."""
        for created in self.created:
            if candidate_id in (created.candidate_id, f"remote:{created.candidate_id[-6:]}"):
                return created
        return None

    def created_by_application(self, application_id: str) -> Created | None:
        """An application by its Kombo id or `remote:<remote id>`."""
        for created in self.created:
            ids = (created.application_id, f"remote:{created.application_id[-6:]}")
            if application_id in ids:
                return created
        return None

    def rejection_reason(self, reason_id: str) -> dict[str, Any] | None:
        """A rejection reason by its Kombo id or `remote:<remote id>`."""
        for reason in self.rejection_reasons:
            if reason_id in (reason["id"], f"remote:{reason['remote_id']}"):
                return reason
        return None


class Sandbox:
    """The server: `start()` in a background thread (tests, `submit --sandbox`) or `open()` then
    `serve()` in a loop of one's own (the `sandbox` command)."""

    def __init__(
        self, config: SandboxConfig | None = None, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.config = config or SandboxConfig()
        self.state = SandboxState()
        self.host = host
        self.port = port
        self._random = random.Random(self.config.seed)
        self._server: asyncio.base_events.Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._failed: BaseException | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}{PREFIX}"

    # --- running --------------------------------------------------------------------------

    async def open(self) -> None:
        """Bind the port: OSError (EADDRINUSE) when it is taken, before anything is printed."""
        self._loop = asyncio.get_running_loop()
        self._server = await asyncio.start_server(
            self._connection, self.host, self.port, backlog=1024
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def serve(self, ready: threading.Event | None = None) -> None:
        if self._server is None:
            await self.open()
        assert self._server is not None
        if ready is not None:
            ready.set()
        async with self._server:
            await self._server.serve_forever()

    def start(self) -> Sandbox:
        """Serve in a daemon thread; returns once the port is bound (or raises why not)."""
        ready = threading.Event()

        def run() -> None:
            try:
                asyncio.run(self.serve(ready))
            except asyncio.CancelledError:
                pass
            except BaseException as exc:  # handed to start(), which raises it
                self._failed = exc
                ready.set()

        self._thread = threading.Thread(target=run, name="kombo-sandbox", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the sandbox did not start within 10 s")
        if self._failed is not None:
            raise self._failed
        return self

    def stop(self) -> None:
        if self._loop is not None and self._server is not None:
            loop, server = self._loop, self._server

            def shut_down() -> None:
                server.close()
                for task in asyncio.all_tasks(loop):
                    task.cancel()

            with contextlib.suppress(RuntimeError):  # the loop has ended already
                loop.call_soon_threadsafe(shut_down)
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --- HTTP -----------------------------------------------------------------------------

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = h11.Connection(h11.SERVER)
        try:
            while True:
                request, body = await self._read_request(conn, reader)
                if request is None:
                    break
                answer = await self._answer_safely(request, body)
                if answer is None:  # an injected dropped connection
                    writer.transport.abort()
                    return
                raw_headers = [(k.encode(), v.encode()) for k, v in answer.headers] + [
                    (b"content-length", str(len(answer.body)).encode())
                ]
                writer.write(
                    conn.send(h11.Response(status_code=answer.status, headers=raw_headers))
                )
                writer.write(conn.send(h11.Data(data=answer.body)))
                writer.write(conn.send(h11.EndOfMessage()))
                await writer.drain()
                if conn.our_state is h11.MUST_CLOSE or conn.their_state is h11.MUST_CLOSE:
                    break
                conn.start_next_cycle()
        except (ConnectionError, h11.RemoteProtocolError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:  # the sandbox is stopping
            pass
        finally:
            if not writer.is_closing():
                writer.close()

    async def _read_request(
        self, conn: h11.Connection, reader: asyncio.StreamReader
    ) -> tuple[h11.Request | None, bytes]:
        request = None
        chunks: list[bytes] = []
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                data = await reader.read(65536)
                conn.receive_data(data)
                if not data and conn.their_state is h11.IDLE:
                    return None, b""
                continue
            if isinstance(event, h11.Request):
                request = event
            elif isinstance(event, h11.Data):
                chunks.append(event.data)
            elif isinstance(event, h11.EndOfMessage):
                return request, b"".join(chunks)
            elif isinstance(event, h11.ConnectionClosed):
                return None, b""

    async def _answer_safely(self, request: h11.Request, body: bytes) -> Answer | None:
        """A bug of the sandbox is answered as Kombo answers its own: 500
        PLATFORM.UNKNOWN_ERROR, naming the exception (and logged), never a cut connection."""
        try:
            return await self._answer(request, body)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("the sandbox failed on %s", request.target.decode(errors="replace"))
            return self._error(
                500, "PLATFORM.UNKNOWN_ERROR", f"The sandbox failed: {type(exc).__name__}: {exc}"
            )

    async def _answer(self, request: h11.Request, body: bytes) -> Answer | None:
        config = self.config
        target = urlsplit(request.target.decode("ascii", errors="replace"))
        headers = {k.decode().lower(): v.decode(errors="replace") for k, v in request.headers}
        method = request.method.decode()
        if method == "GET" and target.path == "/logs":
            return self._interaction(parse_qs(target.query))
        over, limit_headers = self._rate_headers(time.time())
        if over:
            return self._error(
                429,
                "PLATFORM.RATE_LIMIT_EXCEEDED",
                "Rate limit exceeded.",
                limit_headers + [("retry-after", dict(limit_headers)["ratelimit-reset"])],
            )
        if headers.get("authorization") != f"Bearer {config.api_key}":
            return self._error(
                401,
                "PLATFORM.AUTHENTICATION_INVALID",
                "The API key is invalid.",
                limit_headers,
                logged=False,
            )
        if headers.get("x-integration-id") != config.integration_id:
            return self._error(
                404,
                "PLATFORM.INTEGRATION_NOT_FOUND",
                "No integration with this id.",
                limit_headers,
                logged=False,
            )
        matched = _route(method, unquote(target.path.removeprefix(PREFIX)))
        if matched is None:
            return self._error(
                404, None, f"{method} {target.path} is not served by the sandbox.", limit_headers
            )
        route, params = matched
        refused = self._out_of_scope(route, limit_headers)
        if refused is not None:
            return refused
        query = parse_qs(target.query, keep_blank_values=True)
        if method == "POST":
            return await self._action(route, params, body, limit_headers)
        values, problems = validation.check_query(route.operation, query)
        if problems:
            return self._invalid(problems, limit_headers)
        fault = self._next_fault(route.operation)
        if fault is not None and not fault.after_action:
            return self._fault_answer(fault, limit_headers)
        return self._after(fault, self._read(route.operation, values, limit_headers), limit_headers)

    def _out_of_scope(self, route: Route, headers: list[tuple[str, str]]) -> Answer | None:
        if route.model in self.config.disabled_models:
            return self._error(
                409,
                "INTEGRATION.MODEL_DISABLED",
                f'The "{route.model}" model is disabled in the scope config of this integration.',
                headers,
            )
        if route.action in self.config.disabled_actions:
            return self._error(
                409,
                "INTEGRATION.ACTION_DISABLED",
                f'The "{route.action}" action is disabled in the scope config of this integration.',
                headers,
            )
        return None

    def _rate_headers(self, now: float) -> tuple[bool, list[tuple[str, str]]]:
        """Fixed one-second windows, as Kombo's `ratelimit-reset` describes: (over the limit?,
        headers). A refused request does not use up the window."""
        state = self.state
        window = math.floor(now)
        if state.window != window:
            state.window, state.window_count = window, 0
        limit = self.config.rate_limit or 300
        over = self.config.rate_limit is not None and state.window_count >= limit
        if not over:
            state.window_count += 1
        reset = window + 1 - now
        return over, [
            ("ratelimit-limit", str(limit)),
            ("ratelimit-remaining", str(max(0, limit - state.window_count))),
            ("ratelimit-reset", f"{reset:.3f}"),
        ]

    def _next_fault(self, operation: str) -> Fault | None:
        """The scripted fault of this operation, else (creates only) the dice's."""
        config = self.config
        with self._lock:
            script = config.scripts.get(operation)
            if script:
                return FAULTS[script.popleft()]
            if operation == "create_candidate":
                for name, rate in config.fault_rates.items():
                    if self._random.random() < rate:
                        return FAULTS[name]
        return None

    def _fault_answer(self, fault: Fault, headers: list[tuple[str, str]]) -> Answer | None:
        if fault.drop:
            return None
        if fault.html:
            return Answer(
                fault.status,
                [("content-type", "text/html")] + headers,
                f"<html><body><h1>{fault.status} Bad Gateway</h1></body></html>".encode(),
            )
        if fault.retry_after:
            headers = headers + [("retry-after", f"{self.config.retry_after:g}")]
        return self._error(fault.status, fault.code, fault.message, headers)

    def _after(
        self, fault: Fault | None, answer: Answer, headers: list[tuple[str, str]]
    ) -> Answer | None:
        """The answer, or what an after-the-action fault makes of it: a drop cuts the connection
        whatever the answer; an error replaces only a success (the write happened)."""
        if fault is None or (not fault.drop and answer.status != 200):
            return answer
        return self._fault_answer(fault, headers)

    # --- actions (POST) -------------------------------------------------------------------

    async def _action(
        self,
        route: Route,
        params: dict[str, str],
        body: bytes,
        limit_headers: list[tuple[str, str]],
    ) -> Answer | None:
        """An action as Kombo runs it: counted against the concurrency limit while it runs,
        delayed by the latency, and the fault asked for, before or after the write."""
        config, state = self.config, self.state
        if route.operation == "create_candidate":
            state.posts_received += 1
            state.post_times.append(time.monotonic())
        state.in_flight += 1
        state.max_in_flight = max(state.max_in_flight, state.in_flight)
        try:
            remaining = config.concurrency_limit - state.in_flight
            headers = limit_headers + [
                ("concurrency-limit", str(config.concurrency_limit)),
                ("concurrency-remaining", str(max(0, remaining))),
            ]
            if remaining < 0:
                return self._error(
                    429,
                    "PLATFORM.CONCURRENCY_LIMIT_EXCEEDED",
                    "Too many actions in flight for this integration.",
                    headers,
                )
            fault = self._next_fault(route.operation)
            if config.latency:
                await asyncio.sleep(config.latency)
            if fault is not None and not fault.after_action:
                return self._fault_answer(fault, headers)
            parsed, problem = _json_object(body)
            if problem is not None:
                return self._invalid([problem], headers)
            if route.operation == "create_candidate":
                answer = self._create_candidate(parsed, headers)
            elif route.operation == "add_candidate_tag":
                answer = self._add_tag(params["candidate_id"], parsed, headers)
            elif route.operation == "add_application_note":
                answer = self._add_note(params["application_id"], parsed, headers)
            else:
                answer = self._reject(params["application_id"], parsed, headers)
            return self._after(fault, answer, headers)
        finally:
            state.in_flight -= 1

    def _create_candidate(self, data: dict[str, Any], headers: list[tuple[str, str]]) -> Answer:
        problems = _body_problems("create_candidate", data)
        if problems:
            return self._invalid(problems, headers)
        job_id = data["application"]["job_id"]
        job = self.state.jobs.get(job_id) or next(
            (j for j in self.state.jobs.values() if f"remote:{j['remote_id']}" == job_id), None
        )
        if job is None:
            return self._error(
                400, "REMOTE.INPUT_INVALID", f"Job {job_id} does not exist.", headers
            )
        if job["status"] != "OPEN":
            return self._error(400, "ATS.JOB_CLOSED", f"Job {job_id} is closed.", headers)
        job_id = job["id"]
        stages = {s["id"]: s for s in job["stages"]}
        stage_id = data["application"].get("stage_id") or job["stages"][0]["id"]
        if stage_id not in stages:
            return self._error(
                400,
                "REMOTE.INPUT_INVALID",
                f"Stage {stage_id} is not a stage of job {job_id}.",
                headers,
            )
        answers = data.get("screening_question_answers") or []
        problems = questions.answer_problems(job, answers)
        if problems:
            return self._invalid(problems, headers)
        missing = questions.missing_required(job, answers)
        if missing:
            return self._error(
                400,
                "REMOTE.INPUT_INVALID",
                "The ATS refused the application: "
                + "; ".join(f"question '{q['title']}' ({q['id']}) is required" for q in missing)
                + ".",
                headers,
            )
        email = data["candidate"]["email_address"]
        key = (email.casefold(), job_id)
        with self._lock:
            if key in self.state.by_email_job:
                self.state.already_exists_answers += 1
                return self._error(
                    409,
                    "ATS.APPLICATION_ALREADY_EXISTS",
                    f"{email} has already applied to job {job_id}.",
                    headers,
                )
            created = Created(
                self.state.new_id("cand"), self.state.new_id("appl"), email, job_id, data
            )
            self.state.by_email_job[key] = created
            self.state.created.append(created)
        return _ok(
            self._candidate_json(created, stages[stage_id], job),
            headers,
            warnings=questions.answer_warnings(job, answers),
        )

    def _add_tag(
        self, candidate_id: str, data: dict[str, Any], headers: list[tuple[str, str]]
    ) -> Answer:
        """Kombo's add-tag action: the tag is created if the ATS does not have it yet, then
        appended to the candidate's tags; every name received is kept, in order, per candidate."""
        problems = _body_problems("add_candidate_tag", data)
        if problems:
            return self._invalid(problems, headers)
        created = self.state.created_by_id(candidate_id)
        if created is None:
            return self._error(
                404, "PLATFORM.INPUT_INVALID", f"No candidate with the id {candidate_id}.", headers
            )
        name = data["tag"]["name"]
        if not any((tag["name"] or "").casefold() == name.casefold() for tag in self.state.tags):
            self.state.tags.append(
                fixtures.named(self.state.new_id("tag"), name, str(700 + len(self.state.tags)))
            )
        self.state.tags_received.setdefault(created.candidate_id, []).append(name)
        created.changed_at = _now()
        return _ok({}, headers, warnings=[])

    def _application(
        self,
        operation: str,
        application_id: str,
        data: dict[str, Any],
        headers: list[tuple[str, str]],
    ) -> Created | Answer:
        """The application an action names, once its body passes Kombo's schema; else the
        answer: 400 naming the field, or 404 for an application Kombo does not know."""
        problems = _body_problems(operation, data)
        if problems:
            return self._invalid(problems, headers)
        created = self.state.created_by_application(application_id)
        if created is None:
            return self._error(
                404,
                "PLATFORM.INPUT_INVALID",
                f"No application with the id {application_id}.",
                headers,
            )
        return created

    def _add_note(
        self, application_id: str, data: dict[str, Any], headers: list[tuple[str, str]]
    ) -> Answer:
        """Kombo's add-note action: every note is kept, in order, per application (Kombo
        deduplicates none, so a re-sent note shows twice). A blank note passes the schema but
        the ATS refuses it (REMOTE.INPUT_INVALID), as ATSs refuse an empty note."""
        found = self._application("add_application_note", application_id, data, headers)
        if isinstance(found, Answer):
            return found
        if not data["content"].strip():
            return self._error(
                400, "REMOTE.INPUT_INVALID", "The ATS refused the note: it is empty.", headers
            )
        with self._lock:
            self.state.notes_received.setdefault(found.application_id, []).append(data["content"])
            found.changed_at = _now()
        return _ok({}, headers, warnings=[])

    def _reject(
        self, application_id: str, data: dict[str, Any], headers: list[tuple[str, str]]
    ) -> Answer:
        """Kombo's reject action: the application's outcome becomes DECLINED with the reason's
        name (its stage stays). An unknown reason is 400 PLATFORM.INPUT_INVALID naming
        `rejection_reason_id` (Kombo resolves its ids before calling the ATS). An application
        already rejected is refused with 400 REMOTE.INPUT_INVALID, as ATSs refuse to reject it
        again (Kombo passes their refusal on), not answered as an idempotent success: a blind
        re-send shows in `already_rejected_answers`, and the first rejection stands."""
        found = self._application("reject_application", application_id, data, headers)
        if isinstance(found, Answer):
            return found
        reason = self.state.rejection_reason(data["rejection_reason_id"])
        if reason is None:
            return self._invalid(
                [
                    validation.Invalid(
                        "rejection_reason_id",
                        f"{data['rejection_reason_id']!r} is not a rejection reason of this "
                        "integration (GET /ats/rejection-reasons lists them).",
                    )
                ],
                headers,
            )
        with self._lock:
            if found.rejected_at is not None:
                self.state.already_rejected_answers += 1
                return self._error(
                    400,
                    "REMOTE.INPUT_INVALID",
                    f"The ATS refused the rejection: application {found.application_id} is "
                    f"already rejected ({found.rejection_reason_name}).",
                    headers,
                )
            found.rejection_reason_name = reason["name"]
            found.rejected_at = found.changed_at = _now()
            self.state.rejections_received.setdefault(found.application_id, []).append(
                (reason["id"], data.get("note"))
            )
        return _ok({}, headers, warnings=[])

    # --- reads (GET) ----------------------------------------------------------------------

    def _read(
        self, operation: str, query: dict[str, Any], headers: list[tuple[str, str]]
    ) -> Answer:
        if operation == "get_create_candidate_action":
            return _ok({"attachment_restrictions": self.config.attachment_rules}, headers)
        listings: dict[str, Callable[[dict[str, Any]], list[dict[str, Any]]]] = {
            "get_jobs": self._jobs,
            "get_candidates": self._candidates,
            "get_users": self._users,
            "get_tags": lambda q: _by_ids(self.state.tags, q),
            "get_rejection_reasons": lambda q: _by_ids(self.state.rejection_reasons, q),
        }
        found = _updated_after(listings[operation](query), query)
        start: int | None = 0
        if "cursor" in query:
            start = _offset(query["cursor"])
        if start is None:
            problem = validation.Invalid(
                "cursor",
                f"{query['cursor']!r} is not a cursor this API gave; pass the `next` of the "
                "page before, unchanged.",
            )
            return self._invalid([problem], headers)
        size = query.get("page_size", 100)
        following = _cursor(start + size) if start + size < len(found) else None
        return _ok({"next": following, "results": found[start : start + size]}, headers)

    def _jobs(self, query: dict[str, Any]) -> list[dict[str, Any]]:
        jobs = _by_ids(list(self.state.jobs.values()), query)
        filters: list[tuple[str, str]] = [
            ("job_codes", "job_code"),
            ("statuses", "status"),
            ("status", "status"),
            ("employment_types", "employment_type"),
            ("visibilities", "visibility"),
        ]
        for parameter, key in filters:
            if parameter in query:
                wanted = _listed(query[parameter])
                jobs = [j for j in jobs if j[key] in wanted]
        if "name_contains" in query:
            jobs = [j for j in jobs if query["name_contains"].casefold() in j["name"].casefold()]
        if "post_url" in query:
            jobs = [j for j in jobs if j["post_url"] == query["post_url"]]
        return jobs

    def _candidates(self, query: dict[str, Any]) -> list[dict[str, Any]]:
        """Candidates created at least `read_lag` seconds ago, one per email address (its
        applications together), filtered as Kombo filters them (exact, case-insensitive)."""
        seen_before = time.monotonic() - self.config.read_lag
        by_email: dict[str, dict[str, Any]] = {}
        for created in self.state.created:
            if created.created_at > seen_before:
                continue
            job = self.state.jobs[created.job_id]
            stages = {s["id"]: s for s in job["stages"]}
            stage = stages.get(created.body["application"].get("stage_id"), job["stages"][0])
            entry = self._candidate_json(created, stage, job)
            person = by_email.get(created.email.casefold())
            if person is None:
                by_email[created.email.casefold()] = entry
                continue
            person["applications"] += entry["applications"]
            person["tags"] += [t for t in entry["tags"] if t not in person["tags"]]
            person["changed_at"] = max(person["changed_at"], entry["changed_at"])
        people = _by_ids(list(by_email.values()), query)
        if "email" in query:
            people = [p for p in people if query["email"].casefold() in _emails_of(p)]
        if "job_ids" in query:
            wanted = _listed(query["job_ids"])
            people = [p for p in people if any(a["job"]["id"] in wanted for a in p["applications"])]
        for name in ("first_name", "last_name"):
            if name in query:
                people = [p for p in people if (p[name] or "").casefold() == query[name].casefold()]
        return people

    def _users(self, query: dict[str, Any]) -> list[dict[str, Any]]:
        users = _by_ids(self.state.users, query)
        if "emails" in query:
            wanted = {e.casefold() for e in _listed(query["emails"])}
            users = [u for u in users if (u["email"] or "").casefold() in wanted]
        return users

    def _candidate_json(
        self, created: Created, stage: dict[str, Any], job: dict[str, Any]
    ) -> dict[str, Any]:
        candidate = created.body["candidate"]
        ts = fixtures.TIMESTAMP
        names = dict.fromkeys(self.state.tags_received.get(created.candidate_id, []))
        tags = [
            {"id": t["id"], "name": t["name"], "remote_id": t["remote_id"]}
            for t in self.state.tags
            if t["name"] in names
        ]
        return {
            "id": created.candidate_id,
            "remote_id": created.candidate_id[-6:],
            "first_name": candidate.get("first_name"),
            "last_name": candidate.get("last_name"),
            "company": candidate.get("company"),
            "title": candidate.get("title"),
            "confidential": False,
            "source": None,
            "phone_numbers": [{"phone_number": candidate["phone_number"], "type": None}]
            if candidate.get("phone_number")
            else [],
            "email_addresses": [{"email_address": created.email, "type": None}],
            "social_media": [
                {"link": s["url"], "type": None, "username": None}
                for s in candidate.get("social_links", [])
            ],
            "location": None,
            "custom_fields": {},
            "integration_fields": [],
            "remote_url": None,
            "remote_created_at": ts,
            "remote_updated_at": ts,
            "remote_data": None,
            "changed_at": created.changed_at,
            "remote_deleted_at": None,
            "applications": [
                {
                    "id": created.application_id,
                    "remote_id": created.application_id[-6:],
                    "outcome": "DECLINED" if created.rejected_at else "PENDING",
                    "rejection_reason_name": created.rejection_reason_name,
                    "rejected_at": created.rejected_at,
                    "remote_url": None,
                    "changed_at": created.changed_at,
                    "remote_created_at": ts,
                    "remote_updated_at": ts,
                    "current_stage": {
                        "id": stage["id"],
                        "name": stage["name"],
                        "remote_id": stage["remote_id"],
                        "index": stage["index"],
                    },
                    "job": {"id": job["id"], "name": job["name"], "remote_id": job["remote_id"]},
                }
            ],
            "tags": tags,
        }

    # --- error answers --------------------------------------------------------------------

    def _error(
        self,
        status: int,
        code: str | None,
        message: str,
        headers: list[tuple[str, str]] | None = None,
        logged: bool = True,
    ) -> Answer:
        """An error in Kombo's shape; `logged`: with a `log_url` that answers what happened
        (as Kombo's dashboard does), which an unauthenticated request does not get."""
        log_url = None
        if logged:
            interaction = self.state.new_id("log")
            log_url = f"http://{self.host}:{self.port}/logs?interactionId={interaction}"
            self.state.interactions[interaction] = {
                "id": interaction,
                "status": status,
                "code": code,
                "message": message,
            }
            while len(self.state.interactions) > KEPT_INTERACTIONS:
                self.state.interactions.popitem(last=False)
        body = {
            "status": "error",
            "error": {
                "code": code,
                "title": TITLES.get(code or ""),
                "message": message,
                "log_url": log_url,
            },
        }
        return Answer(
            status,
            [("content-type", "application/json")] + (headers or []),
            json.dumps(body).encode(),
        )

    def _invalid(
        self, problems: list[validation.Invalid], headers: list[tuple[str, str]]
    ) -> Answer:
        """400 PLATFORM.INPUT_INVALID naming each field (the first ten)."""
        shown = "; ".join(str(problem).rstrip(".") for problem in problems[:10])
        more = f"; and {len(problems) - 10} more" if len(problems) > 10 else ""
        return self._error(
            400, "PLATFORM.INPUT_INVALID", f"The request is invalid: {shown}{more}.", headers
        )

    def _interaction(self, query: dict[str, list[str]]) -> Answer:
        """What a `log_url` points at: the error answered, as far as it is still kept."""
        found = self.state.interactions.get((query.get("interactionId") or [""])[0])
        if found is None:
            return Answer(404, [("content-type", "text/plain")], b"No such interaction.\n")
        return Answer(200, [("content-type", "application/json")], json.dumps(found).encode())


# --- helpers ---------------------------------------------------------------------------------


def _route(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    for route in ROUTES:
        found = route.path.fullmatch(path)
        if route.method == method and found:
            return route, found.groupdict()
    return None


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _ok(
    data: Any, headers: list[tuple[str, str]], warnings: list[dict[str, str]] | None = None
) -> Answer:
    body: dict[str, Any] = {"status": "success", "data": data}
    if warnings is not None:
        body["warnings"] = warnings
    return Answer(200, [("content-type", "application/json")] + headers, json.dumps(body).encode())


def _json_object(body: bytes) -> tuple[dict[str, Any], validation.Invalid | None]:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return {}, validation.Invalid("body", f"is not JSON ({exc}).")
    if not isinstance(data, dict):
        return {}, validation.Invalid("body", "is not a JSON object.")
    return data, None


def _body_problems(operation: str, data: dict[str, Any]) -> list[validation.Invalid]:
    """The body against Kombo's schema, its rules for files, then the SDK's model (which knows
    fields the spec of 2025-11 lacks)."""
    schema = validation.operations()[operation]["body"]
    problems = validation.check(schema, data, "")
    if operation == "create_candidate":
        problems += validation.check_files(data)
        if not problems:
            try:
                PostAtsCandidatesRequestBody.model_validate(data)
            except ValidationError as exc:
                problems = [
                    validation.Invalid(_dotted(error["loc"]), error["msg"] + ".")
                    for error in exc.errors()
                ]
    return problems


def _dotted(loc: tuple[int | str, ...]) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")


def _listed(text: str) -> set[str]:
    return {part.strip() for part in text.split(",") if part.strip()}


def _by_ids(items: list[dict[str, Any]], query: dict[str, Any]) -> list[dict[str, Any]]:
    """Kombo's `ids` and `remote_ids` filters (AND between them, OR within each)."""
    if "ids" in query:
        items = [i for i in items if i["id"] in _listed(query["ids"])]
    if "remote_ids" in query:
        items = [i for i in items if i["remote_id"] in _listed(query["remote_ids"])]
    return items


def _updated_after(items: list[dict[str, Any]], query: dict[str, Any]) -> list[dict[str, Any]]:
    if "updated_after" not in query:
        return items
    since = _moment(query["updated_after"])
    return [i for i in items if _moment(i["changed_at"]) >= since]


def _moment(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _emails_of(person: dict[str, Any]) -> set[str]:
    return {e["email_address"].casefold() for e in person["email_addresses"]}


def _cursor(offset: int) -> str:
    """An opaque cursor, as Kombo's are (base64 of JSON)."""
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def _offset(cursor: str) -> int | None:
    """The offset a cursor of ours holds; None for anything else."""
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError):
        return None
    offset = data.get("offset") if isinstance(data, dict) else None
    return (
        offset if isinstance(offset, int) and not isinstance(offset, bool) and offset >= 0 else None
    )
