"""A local Kombo-compatible ATS API for the demo and the tests, with faults on demand.

Plain asyncio + h11 (the HTTP/1.1 parser httpx itself is built on), so that a fault can do what a
real network does: drop the connection before answering, or after the candidate was created.
The official SDK pointed at it (`Kombo(api_key=…, integration_id=…, server_url=URL)`) works
unchanged: answers use Kombo's shapes, validated against the SDK's models in the tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import random
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import h11
from kombo.models import PostAtsCandidatesRequestBody
from pydantic import ValidationError

from . import fixtures

DEFAULT_PORT = 8787
DEFAULT_API_KEY = "sandbox-key"
DEFAULT_INTEGRATION_ID = "sandbox:demo"
PREFIX = "/v1"
FAULTS = (
    "429",
    "500",
    "502",
    "503",
    "drop",
    "drop_after_create",
    "task_timeout",
    "job_closed",
    "ok",
)


@dataclass
class SandboxConfig:
    """What the sandbox accepts and which faults it injects; changeable while it runs."""

    api_key: str = DEFAULT_API_KEY
    integration_id: str = DEFAULT_INTEGRATION_ID
    latency: float = 0.0  # seconds added to every POST
    rate_limit: int | None = None  # requests per second, all endpoints; over it: 429
    concurrency_limit: int = 30  # POSTs in flight; over it: 429 PLATFORM.CONCURRENCY_LIMIT_EXCEEDED
    retry_after: float = 1.0  # seconds announced with an injected 429
    fault_rates: dict[str, float] = field(
        default_factory=dict
    )  # fault name -> probability per POST
    script: deque[str] = field(default_factory=deque)  # faults for the next POSTs, in order
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

    def set_script(self, faults: Iterable[str]) -> None:
        faults = list(faults)
        unknown = [f for f in faults if f not in FAULTS]
        if unknown:
            raise ValueError(f"unknown fault {unknown[0]!r}; known: {', '.join(FAULTS)}")
        self.script = deque(faults)


@dataclass
class Created:
    candidate_id: str
    application_id: str
    email: str
    job_id: str
    body: dict[str, Any]


class SandboxState:
    """What the sandbox holds and counts: created candidates, in-flight POSTs, request times."""

    def __init__(self) -> None:
        self.jobs = {j["id"]: j for j in fixtures.all_jobs()}
        self.created: list[Created] = []
        self.by_email_job: dict[tuple[str, str], Created] = {}
        self.posts_received = 0
        self.already_exists_answers = (
            0  # duplicates refused: a client that re-sends blindly shows here
        )
        self.in_flight = 0
        self.max_in_flight = 0
        self.window = 0
        self.window_count = 0
        self.post_times: list[float] = []
        self._ids = itertools.count(1)

    def new_id(self, kind: str) -> str:
        return f"{kind}{next(self._ids):020d}"


class Sandbox:
    """The server: `start()` in a background thread (tests, `submit --sandbox`) or `serve()`."""

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
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}{PREFIX}"

    # --- running --------------------------------------------------------------------------

    async def serve(self, ready: threading.Event | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        self._server = await asyncio.start_server(
            self._connection, self.host, self.port, backlog=1024
        )
        self.port = self._server.sockets[0].getsockname()[1]
        if ready is not None:
            ready.set()
        async with self._server:
            await self._server.serve_forever()

    def start(self) -> Sandbox:
        """Serve in a daemon thread; returns once the port is bound."""
        ready = threading.Event()

        def run() -> None:
            with contextlib.suppress(asyncio.CancelledError):
                asyncio.run(self.serve(ready))

        self._thread = threading.Thread(target=run, name="kombo-sandbox", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the sandbox did not start within 10 s")
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
                answer = await self._answer(request, body)
                if answer is None:  # an injected dropped connection
                    writer.transport.abort()
                    return
                status, headers, payload = answer
                raw_headers = [(k.encode(), v.encode()) for k, v in headers] + [
                    (b"content-length", str(len(payload)).encode())
                ]
                writer.write(conn.send(h11.Response(status_code=status, headers=raw_headers)))
                writer.write(conn.send(h11.Data(data=payload)))
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

    async def _answer(
        self, request: h11.Request, body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes] | None:
        config = self.config
        target = urlsplit(request.target.decode())
        headers = {k.decode().lower(): v.decode() for k, v in request.headers}
        method = request.method.decode()
        over, limit_headers = self._rate_headers(time.time())
        if over:
            return _error(
                429,
                "PLATFORM.RATE_LIMIT_EXCEEDED",
                "Rate limit exceeded.",
                limit_headers + [("retry-after", dict(limit_headers)["ratelimit-reset"])],
            )
        if headers.get("authorization") != f"Bearer {config.api_key}":
            return _error(
                401, "PLATFORM.AUTHENTICATION_INVALID", "The API key is invalid.", limit_headers
            )
        if headers.get("x-integration-id") != config.integration_id:
            return _error(
                404, "PLATFORM.INTEGRATION_NOT_FOUND", "No integration with this id.", limit_headers
            )
        path = target.path.removeprefix(PREFIX)
        query = parse_qs(target.query)
        if method == "GET" and path == "/ats/jobs":
            return self._jobs(query, limit_headers)
        if method == "GET" and path == "/ats/candidates":
            return self._candidates(query, limit_headers)
        if method == "GET" and path == "/ats/actions/ats_create_candidate":
            return _ok({"attachment_restrictions": config.attachment_rules}, limit_headers)
        if method == "POST" and path == "/ats/candidates":
            return await self._create(body, limit_headers)
        return _error(
            404, None, f"{method} {target.path} is not served by the sandbox.", limit_headers
        )

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

    def _next_fault(self) -> str:
        config = self.config
        with self._lock:
            if config.script:
                return config.script.popleft()
            for name, rate in config.fault_rates.items():
                if self._random.random() < rate:
                    return name
        return "ok"

    async def _create(
        self, body: bytes, limit_headers: list[tuple[str, str]]
    ) -> tuple[int, list[tuple[str, str]], bytes] | None:
        config, state = self.config, self.state
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
                return _error(
                    429,
                    "PLATFORM.CONCURRENCY_LIMIT_EXCEEDED",
                    "Too many actions in flight for this integration.",
                    headers,
                )
            fault = self._next_fault()
            if config.latency:
                await asyncio.sleep(config.latency)
            if fault == "drop":
                return None
            if fault == "429":
                return _error(
                    429,
                    "PLATFORM.RATE_LIMIT_EXCEEDED",
                    "Rate limit exceeded.",
                    headers + [("retry-after", f"{config.retry_after:g}")],
                )
            if fault in ("502", "503"):
                return (
                    int(fault),
                    [("content-type", "text/html")] + headers,
                    f"<html><body><h1>{fault} Bad Gateway</h1></body></html>".encode(),
                )
            if fault == "500":
                return _error(500, "PLATFORM.UNKNOWN_ERROR", "Something went wrong.", headers)
            if fault == "job_closed":
                return _error(400, "ATS.JOB_CLOSED", "The job is closed.", headers)
            answer = self._create_candidate(body, headers)
            if fault == "drop_after_create":
                return None
            if fault == "task_timeout" and answer[0] == 200:
                return _error(500, "PLATFORM.TASK_TIMED_OUT", "The task timed out.", headers)
            return answer
        finally:
            state.in_flight -= 1

    def _create_candidate(
        self, raw: bytes, headers: list[tuple[str, str]]
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        try:
            data = json.loads(raw)
            body = PostAtsCandidatesRequestBody.model_validate(data)
        except (json.JSONDecodeError, ValidationError) as exc:
            return _error(
                400, "PLATFORM.INPUT_INVALID", f"The request body is invalid: {exc}", headers
            )
        candidate, job_id = body.candidate, body.application.job_id
        job = self.state.jobs.get(job_id) or next(
            (j for j in self.state.jobs.values() if f"remote:{j['remote_id']}" == job_id), None
        )
        if job is None:
            return _error(400, "REMOTE.INPUT_INVALID", f"Job {job_id} does not exist.", headers)
        if job["status"] != "OPEN":
            return _error(400, "ATS.JOB_CLOSED", f"Job {job_id} is closed.", headers)
        job_id = job["id"]
        stages = {s["id"]: s for s in job["stages"]}
        stage_id = body.application.stage_id or job["stages"][0]["id"]
        if stage_id not in stages:
            return _error(
                400,
                "REMOTE.INPUT_INVALID",
                f"Stage {stage_id} is not a stage of job {job_id}.",
                headers,
            )
        for attachment in body.attachments or []:
            if attachment.data is None and attachment.data_url is None:
                return _error(
                    400,
                    "PLATFORM.INPUT_INVALID",
                    f"Attachment {attachment.name} has neither data nor data_url.",
                    headers,
                )
        key = (candidate.email_address.casefold(), job_id)
        with self._lock:
            if key in self.state.by_email_job:
                self.state.already_exists_answers += 1
                return _error(
                    409,
                    "ATS.APPLICATION_ALREADY_EXISTS",
                    f"{candidate.email_address} has already applied to job {job_id}.",
                    headers,
                )
            created = Created(
                self.state.new_id("cand"),
                self.state.new_id("appl"),
                candidate.email_address,
                job_id,
                data,
            )
            self.state.by_email_job[key] = created
            self.state.created.append(created)
        known = {q["id"] for q in job["screening_questions"]}
        warnings = [
            {
                "message": (
                    f"Screening question {a.question_id} does not exist on this job; its answer "
                    "was not submitted."
                )
            }
            for a in body.screening_question_answers or []
            if a.question_id not in known
        ]
        return (
            200,
            [("content-type", "application/json")] + headers,
            json.dumps(
                {
                    "status": "success",
                    "data": self._candidate_json(created, stages[stage_id], job),
                    "warnings": warnings,
                }
            ).encode(),
        )

    def _candidate_json(
        self, created: Created, stage: dict[str, Any], job: dict[str, Any]
    ) -> dict[str, Any]:
        candidate = created.body["candidate"]
        ts = fixtures.TIMESTAMP
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
            "changed_at": ts,
            "remote_deleted_at": None,
            "applications": [
                {
                    "id": created.application_id,
                    "remote_id": created.application_id[-6:],
                    "outcome": "PENDING",
                    "rejection_reason_name": None,
                    "rejected_at": None,
                    "remote_url": None,
                    "changed_at": ts,
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
            "tags": [],
        }

    def _candidates(
        self, query: dict[str, list[str]], headers: list[tuple[str, str]]
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        email = (query.get("email") or [""])[0].casefold()
        results = []
        by_candidate: dict[str, dict[str, Any]] = {}
        for created in self.state.created:
            if email and created.email.casefold() != email:
                continue
            job = self.state.jobs[created.job_id]
            stage = job["stages"][0]
            entry = self._candidate_json(created, stage, job)
            if created.email.casefold() in by_candidate:  # one person, several applications
                by_candidate[created.email.casefold()]["applications"] += entry["applications"]
                continue
            by_candidate[created.email.casefold()] = entry
            results.append(entry)
        return _ok({"next": None, "results": results}, headers)

    def _jobs(
        self, query: dict[str, list[str]], headers: list[tuple[str, str]]
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        jobs = list(self.state.jobs.values())
        size = min(int((query.get("page_size") or ["100"])[0]), 250)
        start = int((query.get("cursor") or ["0"])[0])
        page = jobs[start : start + size]
        following = str(start + size) if start + size < len(jobs) else None
        return _ok({"next": following, "results": page}, headers)


def _ok(data: Any, headers: list[tuple[str, str]]) -> tuple[int, list[tuple[str, str]], bytes]:
    return (
        200,
        [("content-type", "application/json")] + headers,
        json.dumps({"status": "success", "data": data}).encode(),
    )


def _error(
    status: int, code: str | None, message: str, headers: list[tuple[str, str]]
) -> tuple[int, list[tuple[str, str]], bytes]:
    body = {
        "status": "error",
        "error": {
            "code": code,
            "title": code.split(".")[-1].replace("_", " ").title() if code else None,
            "message": message,
            "log_url": None,
        },
    }
    return status, [("content-type", "application/json")] + headers, json.dumps(body).encode()
