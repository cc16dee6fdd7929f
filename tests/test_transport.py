"""The client, the submitter, the concurrency gate and the pacer tested through
`httpx.MockTransport`, as httpx tests its own client: fast, and exact about what was sent."""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import gzip
import itertools
import json
import math
import time

import httpx
import pytest
from conftest import JOB

from importer import sending
from importer.build import PostAtsCandidatesRequest
from importer.checks import answer_for
from importer.client import KomboClient, Limits, LookupFailed, Rejected, classify
from importer.errors import FatalApiError
from importer.issues import RowProblem
from importer.sending import ConcurrencyGate, Pacer, RowResult, Submitter
from importer.settings import SubmitSettings


def settings(**overrides) -> SubmitSettings:
    values = {
        "server_url": "https://kombo.test/v1",
        "api_key": "key-1234",
        "integration_id": "acme:gh",
        "backoff_initial": 0.001,
        "backoff_max": 0.01,
        "lookup_window": 0.01,
    }
    return SubmitSettings(**(values | overrides))


def answer(status: int, body: dict | None = None, headers: dict | None = None) -> httpx.Response:
    return (
        httpx.Response(status, json=body, headers=headers)
        if body is not None
        else httpx.Response(status, headers=headers)
    )


def request_for(email: str):
    from importer.build import PostAtsCandidatesRequest

    payload = {
        "candidate": {"first_name": "A", "last_name": "W", "email_address": email},
        "application": {"job_id": JOB},
    }
    return PostAtsCandidatesRequest(None, payload, None, ())


def send_all(handler, count: int = 1, **overrides) -> tuple[list[RowResult], Submitter]:
    results: list[RowResult] = []

    async def run() -> Submitter:
        async with KomboClient(settings(**overrides), httpx.MockTransport(handler)) as client:
            submitter = Submitter(client, settings(**overrides), on_result=results.append)
            await submitter.run(
                (row, request_for(f"p{row}@example.com")) for row in range(2, 2 + count)
            )
            return submitter

    return results, asyncio.run(run())


CREATED = {
    "status": "success",
    "data": {"id": "C1", "applications": [{"id": "A1"}]},
    "warnings": [{"message": "gender ignored"}],
}


def test_a_created_answer_and_its_warnings_reach_the_result_and_the_counts():
    results, submitter = send_all(lambda request: answer(200, CREATED), count=3)
    assert [(r.status, r.candidate_id, r.application_id) for r in results] == [
        ("created", "C1", "A1")
    ] * 3
    assert submitter.stats.kombo_warnings == {"gender ignored": 3}
    assert results[0].message == "warning: gender ignored"


def test_retry_after_as_an_http_date_and_in_milliseconds_is_honoured():
    later = email.utils.format_datetime(email.utils.localtime().replace(microsecond=0)).replace(
        "+0000", "GMT"
    )
    assert Limits.from_headers(httpx.Headers({"retry-after": later})).retry_after is not None
    assert Limits.from_headers(httpx.Headers({"retry-after-ms": "250"})).retry_after == 0.25
    assert (
        Limits.from_headers(httpx.Headers({"retry-after": "inf"})).retry_after is None
    )  # a hostile value is ignored
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(time.monotonic())
        if len(calls) == 1:
            return answer(
                429,
                {
                    "status": "error",
                    "error": {"code": "PLATFORM.RATE_LIMIT_EXCEEDED", "message": "slow"},
                },
                {"retry-after-ms": "200"},
            )
        return answer(200, CREATED)

    results, submitter = send_all(handler)
    assert results[0].status == "created" and submitter.stats.retries == 1
    assert calls[1] - calls[0] >= 0.19


def test_the_gate_never_lets_more_through_than_kombo_announces():
    in_flight = peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.005)
        in_flight -= 1
        return answer(200, CREATED, {"concurrency-limit": "3", "concurrency-remaining": "0"})

    results, _ = send_all(handler, count=40, concurrency=20)
    assert len(results) == 40 and peak == 3


def test_the_gate_halves_on_concurrency_exceeded_and_creeps_back():
    async def learn() -> list[int]:
        gate = ConcurrencyGate(10)
        seen = []
        await gate.learn(Limits(concurrency_limit=8), too_many=False)
        seen.append(gate.limit)
        await gate.learn(Limits(concurrency_limit=8), too_many=True)
        seen.append(gate.limit)
        await gate.learn(Limits(concurrency_limit=8, concurrency_remaining=2), too_many=False)
        seen.append(gate.limit)
        await gate.learn(Limits(concurrency_limit=8, concurrency_remaining=0), too_many=False)
        seen.append(gate.limit)
        return seen

    assert asyncio.run(learn()) == [8, 4, 5, 5]


def test_the_pacer_spaces_starts_and_caps_a_pause_at_max_wait():
    now = [100.0]
    pacer = Pacer(rate=10, max_wait=5, clock=lambda: now[0])
    pacer.pause(99999)
    assert pacer._paused_until == 105.0
    pacer.learn(Limits(rate_remaining=0, rate_reset=3))
    assert pacer._paused_until == 105.0  # a shorter reset does not shorten the pause

    async def starts() -> float:
        spaced = Pacer(rate=50, max_wait=5)
        started = time.monotonic()
        for _ in range(6):
            await spaced.wait_turn(asyncio.Event())
        return time.monotonic() - started

    assert asyncio.run(starts()) >= 5 * (1 / 50) * 0.9


def test_lookups_retry_what_is_transient_then_fail_clearly():
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return answer(503)

    async def lookup() -> None:
        async with KomboClient(settings(), httpx.MockTransport(handler)) as client:
            await client.find_application("a@example.com", JOB)

    # This row's lookup failed, not the run: the row needs review, the others go on.
    with pytest.raises(LookupFailed, match="^GET /ats/candidates failed: HTTP 503"):
        asyncio.run(lookup())
    assert len(calls) == 4  # the first try and three retries


def test_an_unknown_error_code_is_read_not_crashed_on():
    outcome = classify(
        httpx.Response(
            400, json={"status": "error", "error": {"code": "ATS.SOMETHING_NEW", "message": "new"}}
        )
    )
    assert (type(outcome).__name__, outcome.code, outcome.message) == (
        "Rejected",
        "ATS.SOMETHING_NEW",
        "new",
    )


@pytest.mark.parametrize(
    "question,answer_given,expected",
    [
        ({"type": "NUMBER"}, "1.500,5", 1500.5),
        ({"type": "DATE"}, "31.03.2026", "2026-03-31T00:00:00Z"),
        (
            {
                "type": "MULTI_SELECT",
                "options": [{"id": "o1", "name": "Python"}, {"id": "o2", "name": "SQL"}],
            },
            ["python", " SQL "],
            ["o1", "o2"],
        ),
        ({"type": "TEXT", "max_length": 5}, "short", "short"),
    ],
)
def test_answers_become_what_each_question_type_needs(question, answer_given, expected):
    assert answer_for(question, answer_given) == expected


def test_an_answer_too_long_for_a_text_question_is_a_problem():
    with pytest.raises(RowProblem) as problem:
        answer_for({"type": "TEXT", "max_length": 5}, "far too long")
    assert problem.value.code == "invalid_value" and "at most 5" in problem.value.message


def test_the_body_sent_is_the_encoded_request():
    bodies = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        assert (
            request.headers["authorization"] == "Bearer key-1234"
            and request.headers["x-integration-id"] == "acme:gh"
        )
        return answer(200, CREATED)

    send_all(handler)
    assert bodies == [
        {
            "candidate": {"first_name": "A", "last_name": "W", "email_address": "p2@example.com"},
            "application": {"job_id": JOB},
        }
    ]


def error(code: str | None) -> dict:
    return {"status": "error", "error": {"code": code, "message": "m"}}


@pytest.mark.parametrize(
    "status,body,expected",
    [
        (409, error("ATS.APPLICATION_ALREADY_EXISTS"), "AlreadyExists"),
        (400, error("ATS.JOB_CLOSED"), "Rejected job_closed"),
        (429, error("PLATFORM.CONCURRENCY_LIMIT_EXCEEDED"), "Transient slow_down"),
        (429, error("PLATFORM.RATE_LIMIT_EXCEEDED"), "Transient"),
        (429, error("REMOTE.RATE_LIMIT_EXCEEDED"), "Transient"),
        (503, error("REMOTE.SERVICE_UNAVAILABLE"), "Transient"),
        (500, error("PLATFORM.TASK_TIMED_OUT"), "Uncertain"),
        (500, error("PLATFORM.UNKNOWN_ERROR"), "Uncertain"),
        (400, error("PLATFORM.UNKNOWN_ERROR"), "Rejected"),  # a code, and not a 5xx
        (401, error("PLATFORM.AUTHENTICATION_INVALID"), "Fatal"),
        (404, error("PLATFORM.INTEGRATION_NOT_FOUND"), "Fatal"),
        (403, error("PLATFORM.IP_NOT_WHITELISTED"), "Fatal"),
        (400, error("INTEGRATION.ANYTHING"), "Fatal"),
        (401, None, "Fatal"),
        (401, error("ATS.SOMETHING"), "Fatal"),  # 401 before "a code with a 4xx"
        (400, error("PLATFORM.INPUT_INVALID"), "Rejected"),
        (500, error("REMOTE.INPUT_INVALID"), "Rejected"),  # a known code wins over the 5xx
        (502, error("REMOTE.UNKNOWN_HTTP_ERROR"), "Rejected"),
        (422, error("ATS.SOMETHING_NEW"), "Rejected"),
        (500, error("ATS.SOMETHING_NEW"), "Uncertain"),  # an unknown code with a 5xx
        (429, None, "Transient"),
        (429, error(None), "Transient"),
        (502, None, "Transient"),
        (504, None, "Transient"),
        (503, error(None), "Uncertain"),  # JSON from Kombo, not a load balancer's page
        (500, None, "Uncertain"),
        (505, None, "Uncertain"),
        (404, None, "Rejected"),
        (302, None, "Rejected"),
    ],
)
def test_each_error_answer_is_classified_as_the_readme_lists_it(status, body, expected):
    outcome = classify(answer(status, body))
    flags = [name for name in ("job_closed", "slow_down") if getattr(outcome, name, False)]
    assert " ".join([type(outcome).__name__, *flags]) == expected
    assert outcome.code == (body["error"]["code"] if body else None)


@pytest.mark.parametrize(
    "body,expected",
    [
        ({"data": {"id": "C1"}}, ("Created", "C1", None, ())),
        (
            {"data": {"id": "C1", "applications": None}, "warnings": None},
            ("Created", "C1", None, ()),
        ),
        (
            {"data": {"id": "C1", "applications": [{"id": None}, {"id": "A2"}]}},
            ("Created", "C1", None, ()),
        ),
        ({"data": {"id": "C1", "applications": [{}]}}, ("Created", "C1", None, ())),
        (
            {"data": {"id": "C1", "applications": [{"id": "A1"}]}, "warnings": []},
            ("Created", "C1", "A1", ()),
        ),
        (
            {"data": {"id": "C1"}, "warnings": [{"message": "a"}, {"message": "b"}]},
            ("Created", "C1", None, ("a", "b")),
        ),
        ({"status": "success"}, ("Uncertain", "HTTP 200 without a candidate id in the answer")),
        ([1, 2], ("Uncertain", "HTTP 200 without a candidate id in the answer")),
        ({"data": {"id": ""}}, ("Uncertain", "HTTP 200 without a candidate id in the answer")),
        ({"data": {"id": 7}}, ("Uncertain", "HTTP 200 without a candidate id in the answer")),
        ({"data": "C1"}, ("Uncertain", "HTTP 200 without a candidate id in the answer")),
        *(
            (
                shape,
                (
                    "Uncertain",
                    "HTTP 200, but the answer's applications or warnings are not in Kombo's shape",
                ),
            )
            for shape in (
                {"data": {"id": "C1", "applications": {}}},
                {"data": {"id": "C1", "applications": ""}},
                {"data": {"id": "C1", "applications": ["A1"]}},
                {"data": {"id": "C1", "applications": [{"id": 1}]}},
                {"data": {"id": "C1"}, "warnings": "careful"},
                {"data": {"id": "C1"}, "warnings": [{"message": None}]},
                {"data": {"id": "C1"}, "warnings": [{}]},
            )
        ),
    ],
)
def test_a_success_is_created_only_in_kombos_shape(body, expected):
    outcome = classify(answer(200, body))
    if expected[0] == "Created":
        assert (
            type(outcome).__name__,
            outcome.candidate_id,
            outcome.application_id,
            outcome.warnings,
        ) == expected
    else:
        assert (type(outcome).__name__, outcome.message) == expected
        assert outcome.code is None


def test_a_success_without_json_is_uncertain():
    outcome = classify(httpx.Response(201, text="created", headers={"content-type": "text/plain"}))
    assert (type(outcome).__name__, outcome.message) == (
        "Uncertain",
        "HTTP 201 without a candidate id in the answer",
    )


OPTIONS = [{"id": "o1", "name": "Python"}, {"id": "o2", "name": "SQL"}]


@pytest.mark.parametrize(
    "question,answer_given,expected",
    [
        ({"type": "BOOLEAN"}, "ja", True),
        ({"type": "BOOLEAN"}, ["no"], False),  # a list of one answer counts as that answer
        ({"type": "SINGLE_SELECT", "options": OPTIONS}, " sql ", "o2"),
        ({"type": "SINGLE_SELECT", "options": OPTIONS}, "O1", "o1"),  # by its id
        ({"type": "TEXT"}, ["a", "b"], "a, b"),
        ({"type": "TEXT", "max_length": 0}, 12, "12"),  # 0: no limit
        ({}, "as it is", "as it is"),
        ({"type": "FILE"}, ["x"], ["x"]),
        ({"type": "FILE"}, dt.datetime(2026, 3, 31, 9, tzinfo=dt.UTC), "2026-03-31T09:00:00Z"),
        ({"type": ["not", "a", "type"]}, dt.date(2026, 3, 31), "2026-03-31"),
    ],
)
def test_answers_of_every_question_type_and_of_none(question, answer_given, expected):
    assert answer_for(question, answer_given) == expected


@pytest.mark.parametrize(
    "question,answer_given,code,message",
    [
        (
            {"type": "SINGLE_SELECT", "options": OPTIONS},
            ["Python", "SQL"],
            "unknown_value",
            "this question takes one option, not 2.",
        ),
        (
            {"type": "SINGLE_SELECT", "options": OPTIONS},
            [],
            "unknown_value",
            "this question takes one option, not 0.",
        ),
        (
            {"type": "MULTI_SELECT", "options": OPTIONS},
            ["Python", "Rust"],
            "unknown_value",
            "'Rust' is not an option of this question; expected one of: Python, SQL.",
        ),
        (
            {"type": "SINGLE_SELECT"},
            "Python",
            "unknown_value",
            "'Python' is not an option of this question; expected one of: .",
        ),
    ],
)
def test_an_answer_that_names_no_option_or_too_many_is_a_problem(
    question, answer_given, code, message
):
    with pytest.raises(RowProblem) as problem:
        answer_for(question, answer_given)
    assert (problem.value.code, problem.value.message) == (code, message)


def test_a_rate_limit_pause_holds_the_rows_already_waiting_at_the_gate():
    """Rows that took their turn before Kombo said the window is spent still wait for its reset
    (a rate limit is everyone's, not just the row that heard it)."""
    started: list[float] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        started.append(time.monotonic())
        await asyncio.sleep(0.01)
        headers = (
            {"ratelimit-remaining": "0", "ratelimit-reset": "0.3"} if len(started) == 1 else {}
        )
        return answer(200, CREATED, headers | {"concurrency-limit": "1"})

    results, _ = send_all(handler, count=4, concurrency=3)
    assert len(results) == 4
    assert min(started[1:]) - started[0] >= 0.28


def test_the_pacer_keeps_a_whole_interval_after_an_idle_gap_and_after_a_pause(monkeypatch):
    """Requests start at least an interval apart, whatever came before: a long idle gap, a
    pause Kombo asked for, a wake-up that came late. (A pacer that made up lost time let two
    requests go half an interval apart: two in one second at --rate-limit 1.)"""
    now = [0.0]

    async def late_sleep(stopping: asyncio.Event, seconds: float) -> None:
        if seconds > 0:
            now[0] += seconds + 0.3  # every wake-up late

    monkeypatch.setattr(sending, "_sleep_unless", late_sleep)
    pacer, starts = Pacer(1, max_wait=10, clock=lambda: now[0]), []

    async def run() -> None:
        for turn in range(8):
            if turn == 3:
                now[0] += 5.0  # nothing to send for a while
            if turn == 5:
                pacer.pause(2.0)
            await pacer.wait_turn(asyncio.Event())
            starts.append(now[0])

    asyncio.run(run())
    gaps = [later - earlier for earlier, later in zip(starts, starts[1:], strict=False)]
    assert min(gaps) >= 1 / (1 * Pacer.MARGIN) - 1e-9, gaps


def test_a_row_cancelled_as_the_gate_wakes_it_passes_the_free_slot_on():
    """The gate wakes one waiting row per freed slot; a row cancelled between its wake-up and
    its turn must not take the slot with it, or the rows behind it would wait forever."""
    entered: list[str] = []
    rows: dict[str, asyncio.Task[None]] = {}

    async def run() -> None:
        gate = ConcurrencyGate(1)

        async def holder() -> None:
            async with gate:
                await asyncio.sleep(0.02)
            rows["a"].cancel()  # woken for the slot just freed, cancelled before taking it

        async def waiter(name: str) -> None:
            async with gate:
                entered.append(name)

        first = asyncio.create_task(holder())
        await asyncio.sleep(0.005)
        rows["a"] = asyncio.create_task(waiter("a"))
        await asyncio.sleep(0.005)
        rows["b"] = asyncio.create_task(waiter("b"))
        await asyncio.wait_for(
            asyncio.gather(first, rows["a"], rows["b"], return_exceptions=True), 2
        )

    asyncio.run(run())
    assert entered == ["b"]


def test_a_listing_whose_cursor_repeats_is_refused_rather_than_paged_forever():
    pages = []

    def handler(request: httpx.Request) -> httpx.Response:
        pages.append(request.url.params.get("cursor"))
        return answer(200, {"status": "success", "data": {"next": "same", "results": []}})

    async def jobs() -> None:
        async with KomboClient(settings(), httpx.MockTransport(handler)) as client:
            await client.list_jobs()

    with pytest.raises(FatalApiError, match="a page's next cursor repeats"):
        asyncio.run(jobs())
    assert pages == [None, "same"]


def test_a_freed_slot_goes_to_the_row_that_waited_longest():
    """A sender that leaves the gate and comes straight back with its next row queues behind
    the rows already waiting: rows go in the order they came, and none waits forever."""
    order: list[str] = []

    async def run() -> None:
        gate = ConcurrencyGate(1)

        async def sender() -> None:
            async with gate:
                order.append("first row")
                await asyncio.sleep(0.02)
            async with gate:
                order.append("its next row")

        async def waiting(name: str) -> None:
            async with gate:
                order.append(name)

        first = asyncio.create_task(sender())
        await asyncio.sleep(0.005)
        second = asyncio.create_task(waiting("a row that waited"))
        await asyncio.wait_for(asyncio.gather(first, second), 2)

    asyncio.run(run())
    assert order == ["first row", "a row that waited", "its next row"]


@pytest.mark.parametrize("rate", [200, 20, 3, 2.5, 2, 1.5, 1, 0.5])
def test_the_pacer_makes_up_late_wake_ups_and_keeps_every_second_within_the_limit(
    monkeypatch, rate
):
    """A busy event loop wakes every sleeper late (here by a fifth of an interval). Starts
    still average the limit (less the 2 % margin) where a second holds several, yet no second
    ever holds more than the limit allows, and no two starts come in a burst."""
    now = [0.0]
    late = 0.2 / rate

    async def late_sleep(stopping: asyncio.Event, seconds: float) -> None:
        if seconds > 0:
            now[0] += seconds + late

    monkeypatch.setattr(sending, "_sleep_unless", late_sleep)
    pacer, starts = Pacer(rate, max_wait=10, clock=lambda: now[0]), []

    async def run() -> None:
        for turn in range(max(100, int(rate * 20))):
            if turn == 50:
                now[0] += 5.0  # idle for a while: no credit is saved up
            await pacer.wait_turn(asyncio.Event())
            starts.append(now[0])

    asyncio.run(run())
    most = min(int(rate), round(rate * Pacer.MARGIN)) if rate >= 2 else math.ceil(rate)
    per_second = [sum(1 for t in starts if s <= t < s + 1) for s in starts]
    assert max(per_second) <= most
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
    if rate < 2:  # one start per 1/(0.98 rate) seconds
        assert min(gaps) >= 1 / (rate * Pacer.MARGIN) - 1e-9
    assert min(gaps) >= Pacer.MIN_GAP / (rate * Pacer.MARGIN) - 1e-9
    if rate >= 2:  # where a second holds several starts, lateness is made up
        busy = [t for t in starts if t < starts[49]] + [t for t in starts if t > starts[50]]
        achieved = (len(busy) - 2) / ((starts[49] - starts[0]) + (starts[-1] - starts[50]))
        aim = min(most, rate * Pacer.MARGIN)
        assert achieved >= (0.97 if rate >= 20 else 0.9) * aim, achieved  # 0.95 of N at 20/s


@pytest.mark.parametrize(
    "headers",
    [
        [(b"content-type", b"text/html"), (b"content-encoding", b"gzip")],
        [(b"content-type", b"text/html; charset=latin-1"), (b"x-served-by", "caché".encode())],
    ],
    ids=["gzip", "non-ascii-header"],
)
def test_an_error_page_is_read_whatever_its_encoding_and_headers(headers):
    """A load balancer's HTML error page, gzip'd or with a header byte outside ASCII: the row
    gets the page's words, never an internal error, on a create, an action and a lookup."""
    page = "<html>Bad gateway: café</html>".encode("latin-1")
    content = gzip.compress(page) if (b"content-encoding", b"gzip") in headers else page

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, headers=headers, content=content)

    request = PostAtsCandidatesRequest(
        None,
        {"candidate": {"first_name": "A", "last_name": "W", "email_address": "a@example.com"}}
        | {"application": {"job_id": JOB}},
        None,
        (),
    )

    async def run() -> tuple[object, object, str]:
        async with KomboClient(settings(), httpx.MockTransport(handler)) as client:
            created = await client.create_candidate(request, b"{}")
            acted = await client.act("/ats/candidates/c1/tags", {"tag": {"name": "x"}})
            try:
                await client.find_application("a@example.com", JOB)
            except LookupFailed as exc:
                return created, acted, str(exc)
        return created, acted, ""

    created, acted, looked = asyncio.run(run())
    for outcome in (created, acted):
        assert isinstance(outcome, Rejected), outcome
        assert "HTTP 400 Bad Request: <html>Bad gateway: caf" in outcome.message
    assert "<html>Bad gateway: caf" in looked


def test_a_created_rows_action_goes_before_the_rows_waiting_to_be_created():
    """A tag or note waits for the next free slot only, not behind every create already
    queued (4 x --concurrency of them), so that a run stopped early leaves few candidates
    without their actions."""
    order: list[str] = []

    async def run() -> None:
        gate = ConcurrencyGate(1)

        async def create(name: str) -> None:
            async with gate:
                order.append(name)
                await asyncio.sleep(0.01)

        async def action() -> None:
            async with gate.ahead():
                order.append("tag of the first")

        first = asyncio.create_task(create("first"))
        await asyncio.sleep(0.002)
        waiting = [asyncio.create_task(create(f"row {n}")) for n in (2, 3)]
        await asyncio.sleep(0.002)
        tag = asyncio.create_task(action())
        await asyncio.wait_for(asyncio.gather(first, *waiting, tag), 2)

    asyncio.run(run())
    assert order == ["first", "tag of the first", "row 2", "row 3"]
