"""Submission against the sandbox on 127.0.0.1 over real sockets, faults included."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest
from click.testing import CliRunner
from conftest import JOB, read_csv
from kombo import Kombo

from importer.cli import main
from importer.client import KomboClient, classify, request_body
from importer.errors import FatalApiError
from importer.runs import DryRunOptions, SubmitOptions, submit_file
from importer.settings import SubmitSettings


def settings_for(sandbox, **overrides) -> SubmitSettings:
    values = {
        "server_url": sandbox.url,
        "api_key": sandbox.config.api_key,
        "integration_id": sandbox.config.integration_id,
        "backoff_initial": 0.05,
        "backoff_max": 0.5,
        "lookup_window": 0.3,  # one lookup, soon: the sandbox's reads do not lag unless asked
    }
    values.update(overrides)
    return SubmitSettings(**values)


def submit(source, mapping, settings, tmp_path):
    results = tmp_path / "results.csv"
    outcome = submit_file(
        SubmitOptions(DryRunOptions(source, mapping), results, check_remote=False), settings
    )
    return outcome, read_csv(results)


def held(sandbox) -> set[str]:
    return {c.email for c in sandbox.state.created}


def test_every_valid_row_is_created_once_and_invalid_rows_never_sent(sandbox, people, tmp_path):
    source, mapping = people(40, bad=3)
    _, results = submit(source, mapping, settings_for(sandbox), tmp_path)
    assert sandbox.state.posts_received == 40
    assert held(sandbox) == {f"person{i}@example.com" for i in range(40)}
    assert sorted(int(r["row"]) for r in results) == list(range(2, 45))  # every row exactly once
    created = {r["row"]: r for r in results if r["status"] == "created"}
    assert len(created) == 40
    assert {r["candidate_id"] for r in created.values()} == {
        c.candidate_id for c in sandbox.state.created
    }
    assert {(r["status"], r["code"]) for r in results if int(r["row"]) > 41} == {
        ("not_sent", "invalid_email")
    }
    assert "Last: 'Last' is empty" in next(r for r in results if r["row"] == "44")["message"]


def test_the_sdk_would_send_the_same_body_apart_from_what_it_drops(
    tmp_path, write_mapping, write_csv
):
    from importer.attachments import FolderSource
    from importer.build import RequestBuilder
    from importer.mapping import load_mapping
    from importer.readers import read_table

    (tmp_path / "cv.pdf").write_bytes(b"%PDF-1.4 cv")
    mapping = load_mapping(
        write_mapping(f"""
        candidate:
          first_name: F
          last_name: L
          email_address: E
          availability_date: D
          salary_expectations: {{amount: S, period: {{value: YEAR}}}}
          location: {{city: {{value: Berlin}}, country: {{value: DE}}}}
        application: {{job_id: {{value: {JOB}}}}}
        attachments: [{{column: CV, type: CV}}]
        gdpr_consent: {{given: {{value: true}}, expires_at: D}}
        remote_fields:
          greenhouse:
            post_headers: {{On-Behalf-Of: {{value: "42"}}}}
            candidate: {{custom_fields: [{{id: {{value: 7}}, value: {{value: x}}}}]}}
        """)
    )
    table = read_table(
        write_csv(
            [
                ["F", "L", "E", "D", "S", "CV"],
                ["Anna", "Wolf", "a@example.com", "2026-03-31", "65000", "cv.pdf"],
            ]
        )
    )
    mapping = mapping.bind(table.headers, "input")
    (row,) = table.rows
    request = RequestBuilder(mapping, FolderSource(tmp_path)).build(row).request
    captured = {}

    def capture(http_request: httpx.Request) -> httpx.Response:
        captured["body"] = json.loads(http_request.content)
        return httpx.Response(200, json={"status": "success", "data": {}})

    sdk = Kombo(
        api_key="k",
        integration_id="i",
        server_url="http://127.0.0.1:9/v1",
        client=httpx.Client(transport=httpx.MockTransport(capture)),
    )
    from kombo.errors import ResponseValidationError

    with pytest.raises(
        ResponseValidationError
    ):  # the mock's answer is no candidate; the request is what we compare
        sdk.ats.create_candidate(
            **{
                k: getattr(request.body, k)
                for k in type(request.body).model_fields
                if k != "source" and getattr(request.body, k) is not None
            }
        )
    ours = request_body(request)
    assert ours["candidate"]["availability_date"] == "2026-03-31T00:00:00Z"
    assert ours["gdpr_consent"]["expires_at"] == "2026-03-31T00:00:00Z"
    assert ours["remote_fields"]["greenhouse"]["candidate"] == {
        "custom_fields": [{"id": 7, "value": "x"}]
    }
    sdk_body = captured["body"]
    assert sdk_body["remote_fields"] == {
        "greenhouse": {"post_headers": {"On-Behalf-Of": "42"}}
    }  # SDK 1.4 drops candidate
    ours_without_dropped = json.loads(json.dumps(ours))
    ours_without_dropped["remote_fields"]["greenhouse"].pop("candidate")
    assert ours_without_dropped == sdk_body


def test_429_with_retry_after_is_honoured(sandbox, people, tmp_path):
    sandbox.config.retry_after = 0.6
    sandbox.config.set_script(["429"])
    source, mapping = people(1)
    outcome, results = submit(source, mapping, settings_for(sandbox), tmp_path)
    first, second = sandbox.state.post_times
    assert second - first >= 0.6
    assert results[0]["status"] == "created" and outcome.stats.retries == 1


@pytest.mark.parametrize(
    ("fault", "first_run", "posts"),
    [
        ("502", "created", 5),  # a load balancer's page: not written, retried
        ("503", "created", 5),
        ("drop_after_create", "created", 3),  # written: the lookup finds it, nothing resent
        ("task_timeout", "created", 3),  # the sandbox's task went through: found too
        ("500", "needs_review", 3),  # may have been written: never sent again blindly
        ("drop", "needs_review", 3),
    ],
)
def test_server_errors_and_dropped_connections_end_in_exactly_one_candidate(
    sandbox, people, tmp_path, fault, first_run, posts
):
    sandbox.config.set_script([fault, fault])
    source, mapping = people(3)
    ledger = tmp_path / "ledger.sqlite"

    def run() -> list[dict[str, str]]:
        results = tmp_path / "results.csv"
        options = SubmitOptions(
            DryRunOptions(source, mapping), results, ledger_path=ledger, check_remote=False
        )
        submit_file(options, settings_for(sandbox, concurrency=1))
        return read_csv(results)

    results = run()
    assert [r["status"] for r in results] == [first_run, first_run, "created"]
    assert sandbox.state.posts_received == posts
    if first_run == "needs_review":
        assert "Check the ATS for person0@example.com" in results[0]["message"]
        results = run()  # the next run looks them up, finds nothing, sends them once
        assert [(r["status"], r["code"]) for r in results][:2] == [("created", "")] * 2
    assert len(sandbox.state.created) == 3
    created = {r["candidate_id"] for r in results if r["status"] == "created"}
    assert created <= {c.candidate_id for c in sandbox.state.created}


def test_an_application_that_exists_already_is_skipped(sandbox, people, tmp_path):
    source, mapping = people(2)
    submit(source, mapping, settings_for(sandbox), tmp_path)
    _, results = submit(source, mapping, settings_for(sandbox), tmp_path)
    assert [(r["status"], r["code"]) for r in results] == [
        ("skipped", "api.ATS.APPLICATION_ALREADY_EXISTS")
    ] * 2
    assert len(sandbox.state.created) == 2


def test_the_concurrency_limit_is_never_exceeded(sandbox, people, tmp_path):
    sandbox.config.latency = 0.05
    sandbox.config.concurrency_limit = 4
    source, mapping = people(60)
    outcome, results = submit(source, mapping, settings_for(sandbox, concurrency=20), tmp_path)
    assert sandbox.state.max_in_flight <= 4  # the first answer announced the limit; never above it
    assert outcome.stats.retries == 0 and sandbox.state.posts_received == 60
    assert {r["status"] for r in results} == {"created"} and len(sandbox.state.created) == 60


def test_the_rate_limit_is_kept(sandbox, people, tmp_path):
    source, mapping = people(30)
    started = time.monotonic()
    submit(source, mapping, settings_for(sandbox, rate_limit=20, concurrency=10), tmp_path)
    assert time.monotonic() - started >= 29 / 20 * 0.95
    times = sandbox.state.post_times
    windows = [sum(1 for t in times if start <= t < start + 1) for start in times]
    assert max(windows) <= 21


def test_a_fatal_401_stops_the_run_after_at_most_concurrency_requests(sandbox, people, tmp_path):
    source, mapping = people(50)
    settings = settings_for(sandbox, api_key="wrong-key", concurrency=5)
    with pytest.raises(FatalApiError, match="PLATFORM.AUTHENTICATION_INVALID"):
        submit_file(
            SubmitOptions(
                DryRunOptions(source, mapping), tmp_path / "results.csv", check_remote=False
            ),
            settings,
        )
    assert sandbox.state.posts_received == 0  # the sandbox counts POSTs it let through auth
    results = read_csv(tmp_path / "results.csv")
    assert len(results) == 50
    failed = [r for r in results if r["status"] == "failed"]
    assert 1 <= len(failed) <= 5
    assert all(r["status"] == "not_sent" for r in results if r not in failed)


def test_a_closed_job_stops_its_later_rows(sandbox, people, tmp_path):
    source, mapping = people(6, job="Kq8ClosedJobZ7pXw2mRtY4n")
    _, results = submit(source, mapping, settings_for(sandbox, concurrency=1), tmp_path)
    assert results[0]["code"] == "api.ATS.JOB_CLOSED" and results[0]["status"] == "failed"
    assert {(r["status"], r["code"]) for r in results[1:]} == {("not_sent", "api.ATS.JOB_CLOSED")}
    assert sandbox.state.posts_received == 1


def test_unknown_error_codes_and_load_balancer_pages_are_classified():
    def answer(status, body=None, text=None, headers=None):
        kwargs = {"json": body} if body is not None else {"text": text or ""}
        return classify(httpx.Response(status, headers=headers or {}, **kwargs))

    new = answer(
        409,
        {
            "status": "error",
            "error": {
                "code": "PLATFORM.SOMETHING_NEW",
                "title": None,
                "message": "new",
                "log_url": None,
            },
        },
    )
    assert type(new).__name__ == "Rejected" and new.code == "PLATFORM.SOMETHING_NEW"
    assert (
        type(answer(503, text="<html>503</html>", headers={"content-type": "text/html"})).__name__
        == "Transient"
    )
    assert (
        type(
            answer(
                500,
                {
                    "status": "error",
                    "error": {
                        "code": "PLATFORM.UNKNOWN_ERROR",
                        "title": None,
                        "message": "x",
                        "log_url": None,
                    },
                },
            )
        ).__name__
        == "Uncertain"
    )
    assert (
        type(
            answer(
                503,
                {
                    "status": "error",
                    "error": {
                        "code": "INTEGRATION.SETUP_SYNC_PENDING",
                        "title": None,
                        "message": "x",
                        "log_url": None,
                    },
                },
            )
        ).__name__
        == "Fatal"
    )
    limited = answer(
        429,
        {
            "status": "error",
            "error": {
                "code": "PLATFORM.RATE_LIMIT_EXCEEDED",
                "title": None,
                "message": "x",
                "log_url": None,
            },
        },
        headers={"retry-after": "2.5", "ratelimit-remaining": "0", "ratelimit-reset": "3"},
    )
    assert (
        type(limited).__name__ == "Transient"
        and limited.limits.retry_after == 2.5
        and limited.limits.rate_reset == 3
    )


def test_cli_submit_to_the_sandbox_never_shows_the_key(people, tmp_path, monkeypatch):
    source, mapping = people(5, bad=1)
    result = CliRunner().invoke(
        main,
        [
            "submit",
            str(source),
            "-m",
            str(mapping),
            "--sandbox",
            "--yes",
            "--results",
            str(tmp_path / "r.csv"),
        ],
    )
    assert result.exit_code == 1, result.output  # one row invalid
    assert "Created 5   already there 0   failed 0   needs review 0   not sent 1" in result.output
    assert "sandbox-key" not in result.output
    monkeypatch.setenv("KOMBO_API_KEY", "sk_live_very_secret")
    result = CliRunner().invoke(
        main,
        [
            "submit",
            str(source),
            "-m",
            str(mapping),
            "--integration-id",
            "acme:gh",
            "--server-url",
            "http://127.0.0.1:9/v1",
            "--dry-run",
            "--no-check-remote",
        ],
    )
    assert result.exit_code == 1 and "Dry run: 5 rows would be sent; nothing was." in result.output
    assert "sk_live_very_secret" not in result.output


def test_cli_fatal_error_exits_3_with_advice(sandbox, people, tmp_path):
    source, mapping = people(3)
    result = CliRunner().invoke(
        main,
        [
            "submit",
            str(source),
            "-m",
            str(mapping),
            "--server-url",
            sandbox.url,
            "--integration-id",
            "sandbox:demo",
            "--api-key",
            "not-the-key",
            "--yes",
            "--results",
            str(tmp_path / "r.csv"),
        ],
    )
    assert result.exit_code == 3
    assert "Error: Kombo refused the run (PLATFORM.AUTHENTICATION_INVALID)" in result.output
    assert "Check the API key" in result.output and "not-the-key" not in result.output


def test_lookups_and_jobs_follow_pagination(sandbox):
    template = next(iter(sandbox.state.jobs.values()))
    for number in range(600):  # three pages of 250
        sandbox.state.jobs[f"extra{number}"] = dict(
            template, id=f"extra{number}", name=f"Extra {number}"
        )

    async def jobs_and_lookup():
        async with KomboClient(settings_for(sandbox)) as client:
            return await client.list_jobs(), await client.find_application(
                "nobody@example.com", JOB
            )

    jobs, found = asyncio.run(jobs_and_lookup())
    assert found is None
    assert len(jobs) == 606 and len({j["id"] for j in jobs}) == 606
    assert {s["name"] for s in jobs[0]["stages"]} == {"Applied", "Screening", "Interview"}
