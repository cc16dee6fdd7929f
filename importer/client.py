"""Talk to Kombo over one `httpx.AsyncClient`, and say what every answer means for the row.

We send with our own client rather than the SDK's `create_candidate_async`: the SDK spends 7-12 ms
of CPU per call against ~1 ms for a plain POST, and SDK 1.4 drops some `remote_fields`. Bodies are
still the SDK's validated models, serialised here; error bodies are read with the SDK's error
model where it fits, and by hand where Kombo sends a code the SDK does not know yet.
"""

from __future__ import annotations

import asyncio
import base64
import email.utils
import hashlib
import json
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from kombo.errors.komboatserror import KomboAtsErrorData
from pydantic import ValidationError

from . import __version__
from .build import PostAtsCandidatesRequest
from .errors import FatalApiError
from .settings import SubmitSettings

TRANSIENT_CODES = {"PLATFORM.RATE_LIMIT_EXCEEDED", "PLATFORM.CONCURRENCY_LIMIT_EXCEEDED", "REMOTE.RATE_LIMIT_EXCEEDED", "REMOTE.SERVICE_UNAVAILABLE"}
UNCERTAIN_CODES = {"PLATFORM.TASK_TIMED_OUT"}
PERMANENT_CODES = {"PLATFORM.INPUT_INVALID", "REMOTE.INPUT_INVALID", "REMOTE.UNKNOWN_HTTP_ERROR"}
FATAL_CODES = {"PLATFORM.AUTHENTICATION_INVALID", "PLATFORM.INTEGRATION_NOT_FOUND", "PLATFORM.IP_NOT_WHITELISTED"}
ALREADY_EXISTS = "ATS.APPLICATION_ALREADY_EXISTS"
JOB_CLOSED = "ATS.JOB_CLOSED"


# --- what an answer means --------------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    """What Kombo announced in the answer's headers about its limits."""

    concurrency_limit: int | None = None
    concurrency_remaining: int | None = None
    rate_limit: int | None = None
    rate_remaining: int | None = None
    rate_reset: float | None = None  # seconds until the rate window resets
    retry_after: float | None = None  # seconds

    @classmethod
    def from_headers(cls, headers: httpx.Headers) -> Limits:
        return cls(
            _int(headers.get("concurrency-limit")),
            _int(headers.get("concurrency-remaining")),
            _int(headers.get("ratelimit-limit")),
            _int(headers.get("ratelimit-remaining")),
            _float(headers.get("ratelimit-reset")),
            _retry_after(headers),
        )


@dataclass(frozen=True)
class Outcome:
    """Base of what one request came to; `code` is Kombo's error code when there was one."""

    code: str | None = None
    message: str = ""
    limits: Limits = field(default_factory=Limits)


@dataclass(frozen=True)
class Created(Outcome):
    candidate_id: str = ""
    application_id: str | None = None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class AlreadyExists(Outcome):
    """Kombo says this person already applied to this job: the row is done, not failed."""


@dataclass(frozen=True)
class Rejected(Outcome):
    """Permanent for this row: fix the data and send again."""

    job_closed: bool = False


@dataclass(frozen=True)
class Transient(Outcome):
    """Not written; safe to send again after a pause."""

    slow_down: bool = False  # Kombo counted too many requests in flight


@dataclass(frozen=True)
class Uncertain(Outcome):
    """The write may have happened: look before sending again."""


@dataclass(frozen=True)
class Fatal(Outcome):
    """Every further request would fail the same way: stop the run."""


# --- the client ------------------------------------------------------------------------------


class KomboClient:
    """One pooled `httpx.AsyncClient` for a run; the transport is injectable for tests."""

    def __init__(self, settings: SubmitSettings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self._http = httpx.AsyncClient(
            base_url=settings.server_url,
            headers={
                "Authorization": f"Bearer {settings.api_key.get_secret_value()}",
                "X-Integration-Id": settings.integration_id,
                "User-Agent": f"kombo-importer/{__version__}",
                "Accept": "application/json",
            },
            timeout=httpx.Timeout(connect=settings.connect_timeout, read=settings.write_timeout, write=settings.write_timeout, pool=None),
            limits=httpx.Limits(max_connections=settings.concurrency, max_keepalive_connections=settings.concurrency),
            transport=transport,
        )

    async def __aenter__(self) -> KomboClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def create_candidate(self, request: PostAtsCandidatesRequest, content: bytes | None = None) -> Outcome:
        """POST /ats/candidates once (`content`: the body already encoded); never raises for an
        answer, only classifies it."""
        if content is None:
            content = await asyncio.to_thread(request_json, request) if request.attachments else request_json(request)
        headers = {"Content-Type": "application/json"}
        if request.integration_id:
            headers["X-Integration-Id"] = request.integration_id
        try:
            response = await self._http.post("/ats/candidates", content=content, headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            return Transient(None, f"could not connect: {_describe(exc)}")
        except (httpx.ReadTimeout, httpx.WriteTimeout) as exc:
            return Uncertain(None, f"no answer within {self.settings.write_timeout:g} s ({_describe(exc)}); the candidate may have been created")
        except httpx.TransportError as exc:
            return Uncertain(None, f"the connection broke after the request was sent ({_describe(exc)}); the candidate may have been created")
        return classify(response)

    async def find_application(self, email: str, job_id: str) -> tuple[str, str | None] | None:
        """(candidate id, application id) of `email`'s application to `job_id`, if Kombo has it.

        Raises FatalApiError when the lookup itself is refused for the whole run."""
        response = await self._get("/ats/candidates", {"email": email, "page_size": 100})
        for candidate in response.get("results", []):
            for application in candidate.get("applications") or []:
                job = application.get("job") or {}
                if job_id in (job.get("id"), f"remote:{job.get('remote_id')}"):  # a mapping may name jobs either way
                    return candidate["id"], application.get("id")
        return None

    async def list_jobs(self) -> list[dict[str, Any]]:
        """Every job with its stages and screening questions, following the cursor."""
        jobs: list[dict[str, Any]] = []
        cursor: str | None = None
        for _ in range(10_000):  # bounded: 2.5 million jobs
            params: dict[str, Any] = {"page_size": 250}
            if cursor:
                params["cursor"] = cursor
            page = await self._get("/ats/jobs", params)
            jobs.extend(page.get("results", []))
            cursor = page.get("next")
            if not cursor:
                break
        return jobs

    async def attachment_rules(self) -> dict[str, Any] | None:
        """The integration's attachment limits (not wrapped by SDK 1.4); None when it has none."""
        try:
            data = await self._get("/ats/actions/ats_create_candidate", {})
        except FatalApiError:  # INTEGRATION.ACTION_NOT_AVAILABLE and the like: no rules to keep
            return None
        return data.get("attachment_restrictions") if isinstance(data, dict) else None

    async def _get(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        attempts = min(self.settings.max_attempts, 4)  # a lookup that keeps failing should say so soon
        for attempt in range(1, attempts + 1):
            try:
                response = await self._http.get(path, params=params)
            except httpx.TransportError as exc:
                outcome: Outcome = Transient(None, _describe(exc))
            else:
                if response.status_code == 200:
                    try:
                        return response.json()["data"]
                    except (ValueError, KeyError, TypeError):
                        outcome = Transient(None, f"GET {path}: the answer is not Kombo's JSON")
                else:
                    outcome = classify(response)
            if isinstance(outcome, Fatal):
                raise FatalApiError.from_outcome(outcome.code, outcome.message)
            if not isinstance(outcome, (Transient, Uncertain)) or attempt == attempts:
                raise FatalApiError.from_outcome(outcome.code, f"GET {path} failed: {outcome.message}")
            await asyncio.sleep(min(self.settings.backoff_max, outcome.limits.retry_after or self.settings.backoff_initial * 2 ** (attempt - 1)))
        raise AssertionError("unreachable")  # pragma: no cover


def request_json(request: PostAtsCandidatesRequest) -> bytes:
    """The body as Kombo receives it: the SDK model by alias without unset fields, the
    remote fields exactly as mapped, and each local file read and base64-encoded now."""
    return encode_request(request)[0]


def encode_request(request: PostAtsCandidatesRequest) -> tuple[bytes, list[str]]:
    """The JSON to send, and for each attachment the sha256 of its bytes (or its URL): each file
    is read once, for both."""
    body = request_body(request)
    digests = []
    for item, ref in zip(body.get("attachments", []), request.attachments, strict=True):
        if ref.url is None:
            content = ref.read()
            item["data"] = base64.b64encode(content).decode("ascii")
            digests.append(hashlib.sha256(content).hexdigest())
        else:
            digests.append(ref.url)
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode(), digests


def request_body(request: PostAtsCandidatesRequest) -> dict[str, Any]:
    """The body without attachment contents (what the ledger fingerprints and tests compare)."""
    body = request.body.model_dump(mode="json", by_alias=True, exclude_none=True, warnings=False)
    if request.remote_fields is not None:
        body["remote_fields"] = request.remote_fields
    return body


def classify(response: httpx.Response) -> Outcome:
    """Kombo's answer -> what it means for the row. Branch on `error.code`, never on the message;
    fall back to the HTTP status only when there is no code (Kombo's own advice)."""
    limits = Limits.from_headers(response.headers)
    status = response.status_code
    payload = _json(response)
    if 200 <= status < 300:
        data = (payload or {}).get("data") if isinstance(payload, dict) else None
        if not isinstance(data, dict) or not data.get("id"):
            return Uncertain(None, f"HTTP {status} without a candidate in the answer", limits)
        applications = data.get("applications") or [{}]
        warnings = tuple(str(w.get("message", w)) for w in (payload.get("warnings") or []) if w)
        return Created(None, "", limits, data["id"], applications[0].get("id"), warnings)
    code, message = _error_of(payload, response)
    if code == ALREADY_EXISTS:
        return AlreadyExists(code, message, limits)
    if code == JOB_CLOSED:
        return Rejected(code, message, limits, job_closed=True)
    if code in TRANSIENT_CODES:
        return Transient(code, message, limits, slow_down=code == "PLATFORM.CONCURRENCY_LIMIT_EXCEEDED")
    if code in UNCERTAIN_CODES or (code == "PLATFORM.UNKNOWN_ERROR" and status >= 500):
        return Uncertain(code, message, limits)
    if code in FATAL_CODES or (code or "").startswith("INTEGRATION.") or status == 401:
        return Fatal(code, message, limits)
    if code in PERMANENT_CODES or (code and status < 500):
        return Rejected(code, message, limits)
    # No code we know: the status decides.
    if status == 429 or (payload is None and status in (502, 503, 504)):
        return Transient(code, message, limits)
    if status >= 500:
        return Uncertain(code, message, limits)
    return Rejected(code, message, limits)


def _error_of(payload: Any, response: httpx.Response) -> tuple[str | None, str]:
    if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
        try:
            error = KomboAtsErrorData.model_validate(payload).error
            return error.code, str(error.message)
        except ValidationError:  # a code newer than the SDK: read it ourselves
            raw = payload["error"]
            return (str(raw["code"]) if raw.get("code") else None), str(raw.get("message") or raw.get("title") or "")
    text = " ".join(response.text.split())[:200] if response.content else ""
    return None, f"HTTP {response.status_code} {response.reason_phrase}" + (f": {text}" if text else "")


def _json(response: httpx.Response) -> Any:
    if "json" not in response.headers.get("content-type", ""):
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _int(value: str | None) -> int | None:
    try:
        return int(float(value)) if value is not None else None
    except ValueError:
        return None


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _retry_after(headers: httpx.Headers) -> float | None:
    """Seconds to wait from `retry-after-ms`, `Retry-After` (seconds or an HTTP date)."""
    if "retry-after-ms" in headers:
        milliseconds = _float(headers["retry-after-ms"])
        if milliseconds is not None:
            return max(0.0, milliseconds / 1000)
    value = headers.get("retry-after")
    if value is None:
        return None
    seconds = _float(value)
    if seconds is not None:
        return max(0.0, seconds)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
