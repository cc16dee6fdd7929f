"""Talk to Kombo over one `httpx.AsyncClient`, and say what every answer means for the row.

We send with our own client rather than the SDK's `create_candidate_async`: the SDK spends 7-12 ms
of CPU per call against ~1 ms for a plain POST, and SDK 1.4 drops some `remote_fields`. Bodies are
what the SDK's schema validated, serialised here; error bodies are read with the SDK's error
model where it fits, and by hand where Kombo sends a code the SDK does not know yet.

Every request goes straight to the transport and its answer is read into an `Answer` rather
than a second `httpx.Response` (`KomboClient`). The POST of a candidate, made once per row, also
has its URL and headers merged once per integration (`httpx.AsyncClient.build_request` costs ~45
us a call); the rarer requests are built by the client's `build_request`.
"""

from __future__ import annotations

import asyncio
import base64
import codecs
import datetime as dt
import email.utils
import hashlib
import json
import math
import time
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from functools import cache, partial
from typing import Any, Protocol

import httpx
from kombo.errors.komboatserror import KomboAtsErrorData
from pydantic import ValidationError
from pydantic_core import to_jsonable_python

from .__version__ import __version__
from .attachments import AttachmentRef
from .build import PostAtsCandidatesRequest, sdk_shape
from .errors import FatalApiError, describe, redact
from .settings import MAX_PAGE_BYTES, MAX_RESPONSE_BYTES, SubmitSettings
from .transforms import to_utc_datetime

TRANSIENT_CODES = {
    "PLATFORM.RATE_LIMIT_EXCEEDED",
    "PLATFORM.CONCURRENCY_LIMIT_EXCEEDED",
    "REMOTE.RATE_LIMIT_EXCEEDED",
    "REMOTE.SERVICE_UNAVAILABLE",
}
UNCERTAIN_CODES = {"PLATFORM.TASK_TIMED_OUT"}
PERMANENT_CODES = {"PLATFORM.INPUT_INVALID", "REMOTE.INPUT_INVALID", "REMOTE.UNKNOWN_HTTP_ERROR"}
# Refused before anything was written (Kombo's or the ATS's validation, a closed job): a row
# failed so is sent again without a lookup. Any other failure may have partly written it.
REFUSED_UNWRITTEN = {"PLATFORM.INPUT_INVALID", "REMOTE.INPUT_INVALID", "ATS.JOB_CLOSED"}
FATAL_CODES = {
    "PLATFORM.AUTHENTICATION_INVALID",
    "PLATFORM.INTEGRATION_NOT_FOUND",
    "PLATFORM.IP_NOT_WHITELISTED",
}
# A lookup refused with one of these is about reading candidates alone (the read model is
# disabled, a read scope is missing): that row needs a person, the run goes on, and no further
# lookup is asked for. Any other refusal that `ERROR_RULES` calls fatal stops the run.
READ_MODEL_CODES = {
    "INTEGRATION.MODEL_DISABLED",
    "INTEGRATION.MODEL_NOT_AVAILABLE",
    "INTEGRATION.PERMISSION_MISSING",
}
MAX_MESSAGE_CHARS = 2000  # of an error answer's message, as kept in results and the ledger
MAX_PAGES = 10_000  # of a listing: 2.5 million jobs or users
MAX_LOOKUP_PAGES = 4  # of candidates with one email: more is a server ignoring the filter
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
    def from_headers(cls, headers: Mapping[str, str]) -> Limits:
        """From `Answer.headers` (names lower-cased) or an `httpx.Headers`."""
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
    log_url: str | None = None  # Kombo's link to its log of this request, for its support


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


@dataclass(frozen=True)
class Done(Outcome):
    """An action after the create (a tag) was carried out."""

    warnings: tuple[str, ...] = ()


# --- the client ------------------------------------------------------------------------------


class LookupFailed(Exception):
    """A lookup of one candidate could not tell whether it exists (the read model is disabled,
    the answer was malformed, the server kept failing); `code` is Kombo's, when it gave one."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code

    @property
    def for_every_row(self) -> bool:
        """Every further lookup would be refused the same way."""
        return self.code in READ_MODEL_CODES


class AnswerTooLarge(Exception):
    """Raised when an answer is bigger than any answer of Kombo's: it is not read further."""


class KomboClient:
    """One pool of connections for a run; the transport is injectable for tests.

    Requests are built by an `httpx.AsyncClient` (its base URL, headers and timeouts) and sent
    straight to its transport: the client's own sending (auth and redirect flows, a cookie jar
    fed every answer) costs ~0.1 ms of CPU a request, 10 % of a request, for nothing we use.
    The transport goes through the proxy the environment names, as httpx's client would.

    Every request has an overall deadline (`request_timeout`, connect to last byte) and every
    answer a size cap, so that a server that drips or floods cannot hold a run or its memory.
    """

    def __init__(
        self, settings: SubmitSettings, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.settings = settings
        self._transport = transport or httpx.AsyncHTTPTransport(
            verify=_tls_context(),
            limits=httpx.Limits(
                max_connections=settings.concurrency, max_keepalive_connections=settings.concurrency
            ),
            proxy=environment_proxy(settings.server_url),
        )
        self._http = httpx.AsyncClient(
            base_url=settings.server_url,
            headers={
                "Authorization": f"Bearer {settings.api_key.get_secret_value()}",
                "X-Integration-Id": settings.integration_id,
                "User-Agent": f"kombo-importer/{__version__}",
                "Accept": "application/json",
            },
            timeout=httpx.Timeout(
                connect=settings.connect_timeout,
                read=settings.request_timeout,
                write=settings.request_timeout,
                pool=settings.request_timeout,
            ),
            transport=self._transport,
        )
        # integration id -> (URL, headers, extensions) of its POST /ats/candidates
        self._create_templates: dict[str | None, tuple[httpx.URL, Any, dict[str, Any]]] = {}

    async def __aenter__(self) -> KomboClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _exchange(self, request: httpx.Request, max_bytes: int) -> Answer:
        """One request, read whole within the deadline and the size cap."""
        async with asyncio.timeout(self.settings.request_timeout):
            streamed = await self._transport.handle_async_request(request)
            try:
                headers = _header_dict(streamed.headers)
                announced = _int(headers.get("content-length"))
                if announced is not None and announced > max_bytes:
                    raise AnswerTooLarge(f"the answer announces {announced:,} bytes")
                body = bytearray()
                async for chunk in streamed.aiter_bytes():
                    body += chunk
                    if len(body) > max_bytes:
                        raise AnswerTooLarge(f"the answer is over {max_bytes:,} bytes")
            finally:
                await streamed.aclose()
        status = streamed.status_code
        return Answer(status, headers, bytes(body), httpx.codes.get_reason_phrase(status))

    def _create_request(self, integration_id: str | None, content: bytes) -> httpx.Request:
        """POST /ats/candidates with `content`, from the integration's merged URL and headers
        (the client's own, then Content-Type and X-Integration-Id), merged once."""
        template = self._create_templates.get(integration_id)
        if template is None:
            headers = {"Content-Type": "application/json"}
            if integration_id:
                headers["X-Integration-Id"] = integration_id
            merged = self._http.build_request("POST", "/ats/candidates", headers=headers)
            raw = [(k, v) for k, v in merged.headers.raw if k.lower() != b"content-length"]
            template = self._create_templates[integration_id] = (
                merged.url,
                raw,
                merged.extensions,
            )
        url, raw, extensions = template
        return httpx.Request("POST", url, headers=raw, content=content, extensions=dict(extensions))

    async def create_candidate(self, request: PostAtsCandidatesRequest, content: bytes) -> Outcome:
        """POST /ats/candidates once (`content`: the body as `encode_request` made it); never
        raises for an answer, only classifies it."""
        maybe = "; the candidate may have been created"
        try:
            response = await self._exchange(
                self._create_request(request.integration_id, content), MAX_RESPONSE_BYTES
            )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            return Transient(
                None, f"could not connect to {self.settings.server_url}: {describe(exc)}"
            )
        except (TimeoutError, httpx.TimeoutException) as exc:
            return Uncertain(
                None,
                f"no whole answer within {self.settings.request_timeout:g} s "
                f"({describe(exc)}){maybe}",
            )
        except AnswerTooLarge as exc:
            return Uncertain(None, f"{exc}, more than any answer of Kombo's{maybe}")
        except httpx.HTTPError as exc:
            return Uncertain(
                None, f"the connection broke after the request was sent ({describe(exc)}){maybe}"
            )
        return classify(response)

    async def find_application(self, email: str, job_id: str) -> tuple[str, str | None] | None:
        """(candidate id, application id) of `email`'s application to `job_id`, if Kombo has it.

        Raises FatalApiError when Kombo refuses the integration as a whole, LookupFailed when
        only this lookup could not tell."""
        found = await self.find_candidate(email, job_id)
        if found is None:
            return None
        candidate, application = found
        application_id = application.get("id")
        return candidate["id"], application_id if isinstance(application_id, str) else None

    async def find_candidate(
        self, email: str, job_id: str
    ) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """The candidate holding `email` and its application to `job_id`, as Kombo lists them
        (with the candidate's tags and the application's outcome), if Kombo has them: only a
        candidate holding that email counts (a server that ignores the filter answers others),
        on every page of the answer. Raises as `find_application` does."""
        path = "/ats/candidates"
        wanted = email.casefold()
        try:
            async for candidate in self._every(path, {"email": email}, MAX_LOOKUP_PAGES):
                if wanted in _emails_of(candidate, f"GET {path}"):
                    application = _application_to(candidate, job_id, f"GET {path}")
                    if application is not None:
                        return candidate, application
            return None
        except FatalApiError as exc:
            if exc.refuses_integration and exc.code not in READ_MODEL_CODES:
                raise
            told = f"{exc.detail} ({exc.code})" if exc.detail and exc.code else exc.detail
            raise LookupFailed(told or str(exc), exc.code) from exc

    async def act(self, path: str, body: dict[str, Any]) -> Outcome:
        """POST one action after the create (a note, a rejection, a tag) once; never raises
        for an answer, only classifies it (a success is `Done`)."""
        try:
            response = await self._exchange(
                self._http.build_request("POST", path, json=body), MAX_RESPONSE_BYTES
            )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            return Transient(
                None, f"could not connect to {self.settings.server_url}: {describe(exc)}"
            )
        except (httpx.HTTPError, TimeoutError, AnswerTooLarge) as exc:
            return Uncertain(None, f"no whole answer ({describe(exc)}); it may have been done")
        if 200 <= response.status_code < 300:
            payload = _json(response)
            warnings = _list_of(
                payload.get("warnings") if isinstance(payload, dict) else None, _is_warning
            )
            return Done(
                limits=Limits.from_headers(response.headers),
                warnings=tuple(redact(w["message"]) for w in warnings or []),
            )
        return classify(response)

    async def list_rejection_reasons(self) -> list[dict[str, Any]]:
        """Every rejection reason of the integration, to check rejections and find a reason's
        id by its name."""
        path = "/ats/rejection-reasons"
        return [reason async for reason in self._every(path)]

    async def tags_unavailable(self) -> str | None:
        """Why tags cannot be added in this integration (Kombo's refusal of GET /ats/tags), or
        None when they can. Refusals of the whole integration are raised."""
        try:
            await self._get("/ats/tags", {"page_size": 1})
        except FatalApiError as exc:
            if exc.refuses_integration and not (exc.code or "").startswith(
                ("INTEGRATION.MODEL_", "INTEGRATION.ACTION_", "INTEGRATION.PERMISSION_")
            ):
                raise
            return f"{exc.detail} ({exc.code})" if exc.detail and exc.code else str(exc)
        return None

    async def list_jobs(self) -> list[dict[str, Any]]:
        """Every job with its stages and screening questions, following the cursor."""
        path = "/ats/jobs"
        jobs = [job async for job in self._every(path)]
        for job in jobs:
            _check_job(job, f"GET {path}")
        return jobs

    async def attachment_rules(self) -> dict[str, Any] | None:
        """The integration's attachment limits (not wrapped by SDK 1.4); None when it has none."""
        try:
            data = await self._get("/ats/actions/ats_create_candidate", {})
        except FatalApiError:  # INTEGRATION.ACTION_NOT_AVAILABLE and the like: no rules to keep
            return None
        rules = data.get("attachment_restrictions")
        if rules is None:
            return None
        _check_attachment_rules(rules, "GET /ats/actions/ats_create_candidate")
        return dict(rules)

    async def list_users(self) -> list[dict[str, Any]]:
        """Every user of the integration (to find `sourced_by`'s user by email), following the
        cursor; each has a string id, and an email that is text or null."""
        path = "/ats/users"
        users = [user async for user in self._every(path)]
        for user in users:
            if not isinstance(user.get("email"), (str, type(None))):
                raise FatalApiError.malformed(
                    f"GET {path}", f"user {user['id']} has an email that is not text"
                )
        return users

    async def _every(
        self, path: str, query: dict[str, Any] | None = None, max_pages: int = MAX_PAGES
    ) -> AsyncIterator[dict[str, Any]]:
        """Every record of a listing, page by page; a cursor that comes back again is a server
        that would have us page forever, and is refused."""
        seen: set[str] = set()
        cursor: str | None = None
        for _ in range(max_pages):
            params: dict[str, Any] = {**(query or {}), "page_size": 250}
            if cursor:
                params["cursor"] = cursor
            page = await self._get(path, params)
            for record in _records(page, f"GET {path}"):
                yield record
            cursor = page.get("next")
            if cursor is not None and not isinstance(cursor, str):
                raise FatalApiError.malformed(f"GET {path}", "next is not a cursor")
            if not cursor:
                return
            if cursor in seen:
                raise FatalApiError.malformed(f"GET {path}", "a page's next cursor repeats")
            seen.add(cursor)
        raise FatalApiError.malformed(f"GET {path}", f"more than {max_pages:,} pages")

    async def _get(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        """GET Kombo's `data` object, retrying what is transient a few times."""
        attempts = min(
            self.settings.max_attempts, 4
        )  # a lookup that keeps failing should say so soon
        for attempt in range(1, attempts + 1):
            unreachable = False
            try:
                response = await self._exchange(
                    self._http.build_request("GET", path, params=params), MAX_PAGE_BYTES
                )
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                outcome: Outcome = Transient(None, describe(exc))
                unreachable = True
            except (httpx.HTTPError, TimeoutError, AnswerTooLarge) as exc:
                outcome = Transient(None, f"GET {path}: {describe(exc)}")
            else:
                if response.status_code == 200:
                    payload = _json(response)
                    data = payload.get("data") if isinstance(payload, dict) else None
                    if isinstance(data, dict):
                        return data
                    raise FatalApiError.malformed(f"GET {path}", "no data object")
                outcome = classify(response)
            if isinstance(outcome, Fatal):
                refused = FatalApiError.from_outcome(outcome.code, outcome.message)
                refused.refuses_integration = True
                raise refused
            if not isinstance(outcome, (Transient, Uncertain)) or attempt == attempts:
                if unreachable:
                    raise FatalApiError.unreachable(self.settings.server_url, outcome.message)
                raise FatalApiError.from_outcome(
                    outcome.code, f"GET {path} failed: {outcome.message}"
                )
            asked = outcome.limits.retry_after
            backoff = self.settings.backoff_initial * 2 ** (attempt - 1)
            await asyncio.sleep(
                min(self.settings.backoff_max, self.settings.max_wait, asked or backoff)
            )
        raise AssertionError("unreachable")  # pragma: no cover


def _emails_of(candidate: dict[str, Any], what: str) -> set[str]:
    """A candidate's email addresses, folded; an answer without them is not Kombo's."""
    listed = candidate.get("email_addresses")
    if not isinstance(listed, list) or not all(
        isinstance(item, dict) and isinstance(item.get("email_address"), (str, type(None)))
        for item in listed
    ):
        raise FatalApiError.malformed(what, f"candidate {candidate['id']} has no email_addresses")
    return {item["email_address"].casefold() for item in listed if item["email_address"]}


def _application_to(candidate: dict[str, Any], job_id: str, what: str) -> dict[str, Any] | None:
    applications = candidate.get("applications") or []
    if not isinstance(applications, list):
        raise FatalApiError.malformed(what, "applications is not a list")
    for application in applications:
        job = application.get("job") if isinstance(application, dict) else None
        if not isinstance(job, dict):
            continue
        if job_id in (job.get("id"), f"remote:{job.get('remote_id')}"):  # a mapping names either
            return dict(application)
    return None


def _check_job(job: dict[str, Any], what: str) -> None:
    """The parts of a job that checks read: stages and questions with ids, each question's
    format an object whose options have ids."""
    for part in ("stages", "screening_questions"):
        _records({"results": job.get(part) or []}, f"{what} ({part} of job {job['id']})")
    for question in job.get("screening_questions") or []:
        form = question.get("format")
        if form is None:
            continue
        if not isinstance(form, dict):
            raise FatalApiError.malformed(
                what, f"question {question['id']} has a format that is not an object"
            )
        _records(
            {"results": form.get("options") or []}, f"{what} (options of question {question['id']})"
        )
        if not isinstance(form.get("max_length"), (int, type(None))):
            raise FatalApiError.malformed(
                what, f"question {question['id']} has a max_length that is not a number"
            )


_RULE_NUMBERS = ("min_amount", "max_amount", "max_file_size_bytes")


def _check_attachment_rules(rules: Any, what: str) -> None:
    """attachment_restrictions as the checks read them, or a clear error."""
    types = rules.get("types") if isinstance(rules, dict) else None
    fine = (
        isinstance(rules, dict)
        and isinstance(rules.get("total_size_bytes"), (int, type(None)))
        and isinstance(types, (dict, type(None)))
        and all(
            rule is None
            or (
                isinstance(rule, dict)
                and all(isinstance(rule.get(k), (int, type(None))) for k in _RULE_NUMBERS)
                and isinstance(rule.get("accepted_mime_types"), (list, type(None)))
                and all(isinstance(t, str) for t in rule.get("accepted_mime_types") or [])
            )
            for rule in (types or {}).values()
        )
    )
    if not fine:
        raise FatalApiError.malformed(what, "attachment_restrictions are not in Kombo's shape")


def _records(data: dict[str, Any], what: str) -> list[dict[str, Any]]:
    """`data.results` as a list of objects that each have a string id, or a clear error."""
    results = data.get("results", [])
    if not isinstance(results, list):
        raise FatalApiError.malformed(what, "results is not a list")
    for item in results:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
            raise FatalApiError.malformed(what, "an entry without a string id")
    return results


def encode_request(request: PostAtsCandidatesRequest) -> tuple[bytes, list[str]]:
    """The JSON to send, and for each attachment the sha256 of its bytes (or its URL): each file
    is read once, for both. NaN never goes out: it is not JSON, and the dry run refuses it."""
    body = request_body(request)
    digests = [
        _embedded(item, ref)
        for item, ref in zip(body.get("attachments", []), request.attachments, strict=True)
    ]
    answers = {a["question_id"]: a["answer"] for a in body.get("screening_question_answers", [])}
    digests += [_embedded(answers[question_id], ref) for question_id, ref in request.answer_files]
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.encode(), digests


def _embedded(item: dict[str, Any], ref: AttachmentRef) -> str:
    """A file (an attachment, a FILE answer) into its place in the body as `data`, read now;
    its sha256, or the URL Kombo downloads instead."""
    if ref.url is not None:
        return ref.url
    content = ref.read()
    item["data"] = base64.b64encode(content).decode("ascii")
    return hashlib.sha256(content).hexdigest()


def request_body(request: PostAtsCandidatesRequest) -> dict[str, Any]:
    """The body without attachment contents (what the ledger fingerprints and tests compare).

    The one place a body becomes JSON: typed values go out as the SDK's schema read them. A
    body without remote fields is the SDK TypedDict's reading of it, made JSON (~12 us); one
    with remote fields, whose names on the wire may differ from the TypedDict's, is the SDK
    model's own serialisation (~45 us), with the remote fields SDK 1.4 drops
    (greenhouse.candidate, workable.candidate, ...) put back from what the mapping built.
    tests/test_sdk_shape.py holds the two to the same JSON on every field."""
    if not request.remote_fields:
        try:
            checked = sdk_shape()(request.payload)
        except ValidationError:  # a body no dry run checked: the model's verdict (and words)
            pass
        else:
            body: dict[str, Any] = to_jsonable_python(checked, exclude_none=True)
            return body
    body = request.body.model_dump(mode="json", by_alias=True, exclude_none=True, warnings=False)
    if request.remote_fields:
        body["remote_fields"] = _with_dropped(
            body.get("remote_fields") or {}, request.remote_fields
        )
    return body


def _with_dropped(dumped: dict[str, Any], built: dict[str, Any]) -> dict[str, Any]:
    """`dumped` (the model's JSON) with every key of `built` it lacks, converted as the model
    converts: only keys the SDK left out are taken from `built`, never a value it checked."""
    out = dict(dumped)
    for key, value in built.items():
        if key not in out:
            out[key] = _json_ready(value)
        elif type(value) is dict and type(out[key]) is dict:
            out[key] = _with_dropped(out[key], value)
    return out


def _json_ready(value: Any) -> Any:
    """A free-form value as JSON carries it: a date as the moment Kombo expects everywhere
    (`YYYY-MM-DDT00:00:00Z`), the rest as pydantic serialises it inside the model."""
    if type(value) is dict:
        return {str(key): _json_ready(item) for key, item in value.items()}
    if type(value) is list:
        return [_json_ready(item) for item in value]
    if isinstance(value, dt.date):
        value = to_utc_datetime(value)
    return to_jsonable_python(value)


class AnswerLike(Protocol):
    """What `classify` reads of an answer: an `Answer`, or an `httpx.Response` read whole."""

    @property
    def status_code(self) -> int: ...
    @property
    def headers(self) -> Mapping[str, str]: ...
    @property
    def content(self) -> bytes: ...
    @property
    def text(self) -> str: ...
    @property
    def reason_phrase(self) -> str: ...
    def json(self) -> Any: ...


class Answer:
    """An answer read whole within the size cap: its status, its headers once as a dict (names
    lower-cased; an httpx.Headers lookup walks and decodes every header, ~1.5 us each) and
    its bytes."""

    __slots__ = ("status_code", "headers", "content", "reason_phrase")

    def __init__(
        self, status_code: int, headers: dict[str, str], content: bytes, reason_phrase: str
    ) -> None:
        self.status_code = status_code
        self.headers = headers
        self.content = content
        self.reason_phrase = reason_phrase

    @property
    def text(self) -> str:
        """In the charset the answer names, else UTF-8, a byte that does not decode replaced:
        only read for an error answer that is not JSON (a load balancer's page)."""
        return self.content.decode(_charset(self.headers.get("content-type", "")), "replace")

    def json(self) -> Any:
        return json.loads(self.content)


def _charset(content_type: str) -> str:
    """The charset a Content-Type names, if Python knows it, else UTF-8."""
    for parameter in content_type.split(";")[1:]:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            try:
                return codecs.lookup(value.strip().strip("\"'")).name
            except LookupError:
                break
    return "utf-8"


def _header_dict(headers: httpx.Headers) -> dict[str, str]:
    """Lower-cased names; a repeated header's values joined as httpx joins them."""
    joined: dict[str, str] = {}
    for name, value in headers.multi_items():
        joined[name] = f"{joined[name]}, {value}" if name in joined else value
    return joined


def environment_proxy(url: str) -> str | None:
    """The proxy the environment names for `url`: HTTPS_PROXY or HTTP_PROXY by its scheme,
    else ALL_PROXY (`http://` when it names none); none when NO_PROXY is `*` or names its host
    or a domain above it (as httpx's client and curl read them)."""
    proxies = urllib.request.getproxies_environment()
    parts = urllib.parse.urlsplit(url)
    host = (parts.hostname or "").lower()
    for entry in proxies.get("no", "").split(","):
        bypassed = _host_of(entry)
        if bypassed == "*" or (bypassed and (host == bypassed or host.endswith(f".{bypassed}"))):
            return None
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if not proxy:
        return None
    return proxy if "://" in proxy else f"http://{proxy}"


def _host_of(entry: str) -> str:
    """A NO_PROXY entry's host: `https://api.kombo.dev:443`, `.kombo.dev` -> `kombo.dev`."""
    entry = entry.strip().lower()
    if "://" in entry:
        entry = urllib.parse.urlsplit(entry).hostname or ""
    elif entry.count(":") == 1:  # host:port (an IPv6 address has more colons)
        entry = entry.partition(":")[0]
    return entry.lstrip(".")


@cache
def _tls_context() -> Any:
    """One TLS context for every client of the process: loading the CA bundle costs ~10 ms
    of CPU, and a run makes two or three clients."""
    return httpx.create_ssl_context()


def classify(response: AnswerLike) -> Outcome:
    """Kombo's answer -> what it means for the row: `_created` for a success, else the first of
    `ERROR_RULES` that fits the error."""
    limits = Limits.from_headers(response.headers)
    payload = _json(response)
    if 200 <= response.status_code < 300:
        return _created(payload, response.status_code, limits)
    code, message, log_url = _error_of(payload, response)
    error = ErrorAnswer(code, response.status_code, without_json=payload is None)
    outcome = next(outcome for fits, outcome in ERROR_RULES if fits(error))
    return outcome(code, message, limits, log_url)


@dataclass(frozen=True)
class ErrorAnswer:
    """What the rules look at in an error answer."""

    code: str | None  # Kombo's `error.code`
    status: int
    without_json: bool  # no JSON body: a load balancer's page, say


CONCURRENCY_EXCEEDED = "PLATFORM.CONCURRENCY_LIMIT_EXCEEDED"  # transient, and too many in flight
UNKNOWN_ERROR = "PLATFORM.UNKNOWN_ERROR"  # with a 5xx: uncertain

# Builds the outcome from (code, message, limits, log_url).
OutcomeOf = Callable[[str | None, str, Limits, str | None], Outcome]

# What an error answer means: the first rule that fits decides, so the order matters. Branch on
# `error.code`, never on the message; the HTTP status decides only when there is no code we know
# (Kombo's own advice). The outcomes are the README's ("What happens to each answer").
ERROR_RULES: tuple[tuple[Callable[[ErrorAnswer], bool], OutcomeOf], ...] = (
    # skipped: the person already applied to the job
    (lambda e: e.code == ALREADY_EXISTS, AlreadyExists),
    # failed, and every later row for the job not sent
    (lambda e: e.code == JOB_CLOSED, partial(Rejected, job_closed=True)),
    # retried: too many requests in flight (also lowers the concurrency), too many requests
    (lambda e: e.code == CONCURRENCY_EXCEEDED, partial(Transient, slow_down=True)),
    (lambda e: e.code in TRANSIENT_CODES, Transient),
    # looked up before anything is sent again: the write may have happened
    (lambda e: e.code in UNCERTAIN_CODES, Uncertain),
    (lambda e: e.code == UNKNOWN_ERROR and e.status >= 500, Uncertain),
    # fatal: every further request would fail the same way
    (lambda e: e.code in FATAL_CODES, Fatal),
    (lambda e: (e.code or "").startswith("INTEGRATION."), Fatal),
    (lambda e: e.status == 401, Fatal),
    # failed: fix the row
    (lambda e: e.code in PERMANENT_CODES, Rejected),
    (lambda e: bool(e.code) and e.status < 500, Rejected),
    # no code we know: the status decides
    (lambda e: e.status == 429, Transient),
    (lambda e: e.without_json and e.status in (502, 503, 504), Transient),
    (lambda e: e.status >= 500, Uncertain),
    (lambda e: True, Rejected),
)


def _created(payload: Any, status: int, limits: Limits) -> Outcome:
    """A success answer in Kombo's shape is `Created`; any other shape leaves the write
    uncertain (looked up before anything is sent again), never a crash."""
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, dict) or not isinstance(data.get("id"), str) or not data["id"]:
        return Uncertain(None, f"HTTP {status} without a candidate id in the answer", limits)
    applications = _list_of(data.get("applications"), _is_application)
    warnings = _list_of(payload.get("warnings"), _is_warning)
    if applications is None or warnings is None:
        return Uncertain(
            None,
            f"HTTP {status}, but the answer's applications or warnings are not in Kombo's shape",
            limits,
        )
    application_id = applications[0].get("id") if applications else None
    messages = tuple(redact(warning["message"]) for warning in warnings)
    # A server echoing the key into ids would have it written to the results and the ledger.
    ids = redact(data["id"]), redact(application_id) if application_id else None
    return Created(limits=limits, candidate_id=ids[0], application_id=ids[1], warnings=messages)


def _list_of(value: Any, fits: Callable[[Any], bool]) -> list[dict[str, Any]] | None:
    """`value` if it is a list whose every item fits (absent or null: an empty list), else
    None."""
    items = [] if value is None else value
    return items if isinstance(items, list) and all(fits(item) for item in items) else None


def _is_application(item: Any) -> bool:
    """`{"id": "…"}` or `{"id": null}` (an ATS that files no application)."""
    return isinstance(item, dict) and isinstance(item.get("id"), (str, type(None)))


def _is_warning(item: Any) -> bool:
    return isinstance(item, dict) and isinstance(item.get("message"), str)


def _error_of(payload: Any, response: AnswerLike) -> tuple[str | None, str, str | None]:
    """(code, message, log_url) of an error answer, scrubbed of secrets a server echoed (before
    the message is cut, so that no part of a key is left). Kombo's `title` leads the message
    when it says more than the message does."""
    code, title, message, log_url = _read_error(payload, response)
    if title and title.casefold() not in message.casefold():
        joint = " " if title.endswith((".", "!", "?", ":")) else ": "
        message = f"{title}{joint}{message}" if message else title
    return (
        (redact(code) if code else None),
        redact(message)[:MAX_MESSAGE_CHARS],
        _log_url(log_url),
    )


def _read_error(
    payload: Any, response: AnswerLike
) -> tuple[str | None, str | None, str, str | None]:
    """(code, title, message, log_url) as the answer gives them."""
    if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
        raw = payload["error"]
        try:
            error = KomboAtsErrorData.model_validate(payload).error
            code: str | None = error.code
            message = str(error.message)
        except ValidationError:  # a code newer than the SDK: read it ourselves
            code = str(raw["code"]) if raw.get("code") else None
            message = str(raw.get("message") or "")
        title = raw.get("title")
        log_url = raw.get("log_url")
        return (
            code,
            # scrubbed before it is cut, so that no part of a key is left
            " ".join(redact(title).split())[:200] if isinstance(title, str) else None,
            message,
            log_url if isinstance(log_url, str) else None,
        )
    text = " ".join(redact(response.text).split())[:200] if response.content else ""
    return (
        None,
        None,
        f"HTTP {response.status_code} {response.reason_phrase}" + (f": {text}" if text else ""),
        None,
    )


def _log_url(value: str | None) -> str | None:
    """Kombo's log link when it is one (an http(s) URL of sane length, printable), else None:
    it is written to results a person clicks."""
    if value is None:
        return None
    value = redact(value.strip())
    if len(value) > 2000 or not value.startswith(("https://", "http://")):
        return None
    if any(not char.isprintable() or char.isspace() for char in value):
        return None
    return value


def _json(response: AnswerLike) -> Any:
    if "json" not in response.headers.get("content-type", ""):
        return None
    try:
        return response.json()
    except (ValueError, RecursionError):  # not JSON, or nested deeper than any answer of Kombo's
        return None


def _int(value: str | None) -> int | None:
    number = _float(value)
    return int(number) if number is not None else None


def _float(value: str | None) -> float | None:
    """A header's number; None for text, NaN and infinities (a hostile `Retry-After: inf`)."""
    try:
        number = float(value) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) else None


def _retry_after(headers: Mapping[str, str]) -> float | None:
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
