"""The sandbox as strict as Kombo, over real HTTP on 127.0.0.1: bodies and query parameters
refused as Kombo refuses them, reads that lag writes, every fault a client must handle (reads
too), users, tags, notes and rejections, required and conditional questions, the `sandbox`
command, and the official SDK working against it unchanged."""

from __future__ import annotations

import base64
import copy
import csv
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from kombo import Kombo
from kombo.errors import KomboAtsError, ResponseValidationError
from kombo.models import (
    GetAtsCandidatesPositiveResponse,
    GetAtsJobsPositiveResponse,
    GetAtsRejectionReasonsPositiveResponse,
    GetAtsTagsPositiveResponse,
    GetAtsUsersPositiveResponse,
    PostAtsApplicationsApplicationIDNotesPositiveResponse,
    PostAtsApplicationsApplicationIDRejectPositiveResponse,
    PostAtsCandidatesCandidateIDTagsPositiveResponse,
    PostAtsCandidatesPositiveResponse,
)

from importer.cli import main
from importer.sandbox import FAULT_NAMES, Sandbox, SandboxConfig
from importer.sandbox import fixtures as data
from importer.sandbox.validation import SPEC_FILE, extract_spec

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT.parent / "shared" / "kombo" / "kombo-openapi.json"
JOB = "BDpgnpZ148nrGh4mYHNxJBgx"
PDF = base64.b64encode(b"%PDF-1.4 a CV").decode()
BODY: dict[str, Any] = {
    "candidate": {
        "first_name": "Anna",
        "last_name": "Wolf",
        "email_address": "anna@example.com",
        "phone_number": "+491511234567",
        "location": {"city": "Berlin", "country": "DE"},
        "availability_date": "2026-03-31T00:00:00Z",
        "salary_expectations": {"period": "YEAR", "amount": 65000},
        "social_links": [{"url": "https://www.linkedin.com/in/anna-wolf"}],
    },
    "application": {"job_id": JOB},
    "attachments": [
        {"name": "cv.pdf", "type": "CV", "content_type": "application/pdf", "data": PDF}
    ],
    "gdpr_consent": {"given": True, "expires_at": "2028-06-30"},
}


@pytest.fixture
def api(sandbox):
    with httpx.Client(
        base_url=sandbox.url,
        headers={"Authorization": "Bearer sandbox-key", "X-Integration-Id": "sandbox:demo"},
        timeout=10,
    ) as client:
        yield client


def sdk_for(sandbox: Sandbox) -> Kombo:
    return Kombo(api_key="sandbox-key", integration_id="sandbox:demo", server_url=sandbox.url)


def body(**changes: Any) -> dict[str, Any]:
    """BODY with `changes` at dotted paths (`candidate.location.country`); None deletes."""
    out = copy.deepcopy(BODY)
    for path, value in changes.items():
        *parents, last = path.split("__")
        node = out
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if value is None:
            del node[last]
        else:
            node[last] = value
    return out


def error_of(response: httpx.Response) -> dict[str, Any]:
    payload = response.json()
    assert payload["status"] == "error" and set(payload["error"]) == {
        "code",
        "title",
        "message",
        "log_url",
    }
    return payload["error"]


# --- 1. bodies refused as Kombo refuses them ------------------------------------------------


@pytest.mark.parametrize(
    "changes, field, said",
    [
        ({"candidate__email_address": "not-an-email"}, "candidate.email_address", "not an email"),
        ({"candidate__email_address": "anna@localhost"}, "candidate.email_address", "email"),
        ({"candidate__location__country": "usa"}, "candidate.location.country", "country code"),
        ({"candidate__location__country": "de"}, "candidate.location.country", "two capital"),
        (
            {"candidate__availability_date": "2026-03-31T00:00:00+02:00"},
            "candidate.availability_date",
            "in UTC without an offset",
        ),
        ({"candidate__availability_date": "2026-02-30"}, "candidate.availability_date", "date"),
        ({"gdpr_consent__expires_at": "31.03.2026"}, "gdpr_consent.expires_at", "YYYY-MM-DD"),
        (
            {"candidate__social_links": [{"url": "not a url"}]},
            "candidate.social_links[0].url",
            "URL",
        ),
        (
            {"candidate__social_links": [{"url": "linkedin.com/in/anna"}]},
            "candidate.social_links[0].url",
            "URL",
        ),
        ({"attachments__0__content_type": "pdf"}, "attachments[0].content_type", "MIME type"),
        (
            {"attachments__0__data_url": "https://files.example.com/cv.pdf"},
            "attachments[0]",
            "both data and data_url",
        ),
        ({"attachments__0__data": None}, "attachments[0]", "neither data nor data_url"),
        ({"attachments__0__data": "not base64!"}, "attachments[0].data", "not base64"),
        ({"attachments__0__content_type": None}, "attachments[0].content_type", "with data"),
        ({"attachments__0__type": "RESUME"}, "attachments[0].type", "CV, COVER_LETTER, OTHER"),
        ({"candidate__first_name": None}, "candidate.first_name", "is required"),
        ({"candidate__gender": "male"}, "candidate.gender", "MALE, FEMALE, OTHER"),
        ({"candidate__salary_expectations__amount": "65k"}, "salary_expectations.amount", "number"),
        ({"application": {}}, "application.job_id", "is required"),
        ({"sourced_by": {}}, "sourced_by.user_id", "is required"),
    ],
)
def test_a_body_kombo_refuses_is_refused_naming_the_field(sandbox, api, changes, field, said):
    response = api.post("/ats/candidates", json=body(**changes))
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "PLATFORM.INPUT_INVALID" and error["title"]
    assert field in error["message"] and said in error["message"], error["message"]
    assert sandbox.state.created == []


def test_every_problem_of_a_body_is_named_and_its_log_url_answers(sandbox, api):
    bad = body(
        candidate__email_address="not-an-email",
        candidate__location__country="usa",
        candidate__availability_date="2026-03-31T00:00:00+02:00",
    )
    error = error_of(api.post("/ats/candidates", json=bad))
    for field in ("email_address", "location.country", "availability_date"):
        assert f"candidate.{field}:" in error["message"]
    logged = httpx.get(error["log_url"], timeout=10)
    assert logged.status_code == 200 and logged.json()["code"] == "PLATFORM.INPUT_INVALID"


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b"\xff\xfe"])
def test_a_body_that_is_not_a_json_object_is_refused(api, raw):
    response = api.post("/ats/candidates", content=raw)
    assert response.status_code == 400 and "body" in error_of(response)["message"]


@pytest.mark.parametrize(
    "changes",
    [
        {"candidate__availability_date": "2026-03-31"},
        {"candidate__availability_date": "2026-03-31T08:30:00.250Z"},
        {"candidate__availability_date": "2026-03-31T08:30:00"},
        {
            "attachments": [
                {"name": "cv.pdf", "type": "CV", "data_url": "https://files.example.com/cv.pdf"}
            ]
        },
        {"candidate__email_address": "o'connor+jobs@sub.example.co.uk"},
        {"remote_fields": {"greenhouse": {"post_headers": {"On-Behalf-Of": "4080"}}}},
        {"candidate__unknown_key": "Kombo ignores keys it does not know"},
    ],
)
def test_what_kombo_takes_is_created(sandbox, api, changes):
    response = api.post("/ats/candidates", json=body(**changes))
    assert response.status_code == 200, response.text
    PostAtsCandidatesPositiveResponse.model_validate(response.json())
    assert len(sandbox.state.created) == 1


def test_a_tag_body_is_checked_too(sandbox, api):
    candidate_id = api.post("/ats/candidates", json=BODY).json()["data"]["id"]
    response = api.post(f"/ats/candidates/{candidate_id}/tags", json={"tag": {"name": ""}})
    assert response.status_code == 400 and "tag.name: must not be empty" in response.text
    response = api.post(f"/ats/candidates/{candidate_id}/tags", json={"name": "x"})
    assert response.status_code == 400 and "tag: is required" in response.text


def test_the_schemas_are_kombos_published_ones():
    """kombo_spec.json is what `extract_spec` takes from Kombo's OpenAPI file, unedited."""
    if not SPEC.exists():
        pytest.skip(f"Kombo's OpenAPI file is not at {SPEC}")
    import json

    expected = extract_spec(json.loads(SPEC.read_text(encoding="utf-8")))
    assert json.loads(SPEC_FILE.read_text(encoding="utf-8")) == expected


# --- 2. query parameters as Kombo answers them ----------------------------------------------


@pytest.mark.parametrize(
    "path, query, named",
    [
        ("/ats/jobs", "page_size=abc", 'page_size: "abc" is not an integer'),
        ("/ats/jobs", "page_size=0", "page_size: 0 is less than 1"),
        ("/ats/jobs", "page_size=251", "page_size: 251 is more than 250"),
        ("/ats/jobs", "cursor=zzz", "cursor: 'zzz' is not a cursor"),
        ("/ats/jobs", "statuses=OPEN,SOON", 'statuses: "SOON" is not one of'),
        ("/ats/jobs", "include_deleted=maybe", "include_deleted"),
        ("/ats/candidates", "email=not-an-email", 'email: "not-an-email" is not an email'),
        ("/ats/candidates", "cursor=eyJvZmZzZXQiOiAtMX0=", "cursor"),
        ("/ats/candidates", "updated_after=yesterday", "updated_after"),
        ("/ats/users", "page_size=1&page_size=2", "page_size: is given more than once"),
    ],
)
def test_a_bad_query_parameter_is_answered_400(api, path, query, named):
    response = api.get(f"{path}?{query}")
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "PLATFORM.INPUT_INVALID" and named in error["message"]


def test_pages_follow_the_cursor_to_the_end(api):
    names, cursor, pages = [], None, 0
    while pages < 10:
        params: dict[str, Any] = {"page_size": 4} | ({"cursor": cursor} if cursor else {})
        page = api.get("/ats/jobs", params=params).json()["data"]
        names += [job["name"] for job in page["results"]]
        pages, cursor = pages + 1, page["next"]
        if cursor is None:
            break
    assert pages == 2 and names == [name for _, name, _, _ in data.JOBS]


def test_job_filters_are_applied(api):
    def names(**params: str) -> list[str]:
        return [j["name"] for j in api.get("/ats/jobs", params=params).json()["data"]["results"]]

    assert names(statuses="CLOSED") == ["Office Manager (filled)"]
    assert len(names(statuses="OPEN,CLOSED")) == len(data.JOBS)
    assert names(ids=f"{JOB},{data.NIGHT_NURSE_JOB}") == ["Backend Engineer", "Night Nurse"]
    assert names(ids="nosuchjob") == []
    assert names(name_contains="nurse") == ["Night Nurse"]
    assert names(statuses="") == names()  # blank: all values


def test_candidate_filters_are_applied(api):
    ids = {}
    for email, job in [
        ("anna@example.com", JOB),
        ("ben@example.com", JOB),
        ("cem@example.com", data.JOBS[1][0]),
    ]:
        created = api.post(
            "/ats/candidates", json=body(candidate__email_address=email, application__job_id=job)
        )
        ids[email] = created.json()["data"]["id"]

    def emails(**params: str) -> list[str]:
        found = api.get("/ats/candidates", params=params).json()["data"]["results"]
        return [c["email_addresses"][0]["email_address"] for c in found]

    assert emails(email="BEN@example.com") == ["ben@example.com"]
    assert emails(job_ids=data.JOBS[1][0]) == ["cem@example.com"]
    assert emails(ids=f"{ids['anna@example.com']},{ids['cem@example.com']}") == [
        "anna@example.com",
        "cem@example.com",
    ]
    assert emails(email="nobody@example.com") == []
    assert emails(first_name="ANNA") == ["anna@example.com", "ben@example.com", "cem@example.com"]
    page = api.get("/ats/candidates", params={"page_size": 2}).json()
    GetAtsCandidatesPositiveResponse.model_validate(page)
    assert len(page["data"]["results"]) == 2 and page["data"]["next"]


# --- 3. reads lag writes ----------------------------------------------------------------------


def test_a_new_candidate_shows_in_reads_only_after_the_read_lag(sandbox, api):
    sandbox.config.read_lag = 0.6
    started = time.monotonic()
    assert api.post("/ats/candidates", json=BODY).status_code == 200
    assert (
        api.get("/ats/candidates", params={"email": "anna@example.com"}).json()["data"]["results"]
        == []
    )
    again = api.post("/ats/candidates", json=BODY)  # the ATS knows at once: refused all the same
    assert error_of(again)["code"] == "ATS.APPLICATION_ALREADY_EXISTS"
    found: list[Any] = []
    while not found and time.monotonic() - started < 10:
        time.sleep(0.1)
        found = api.get("/ats/candidates", params={"email": "anna@example.com"}).json()["data"][
            "results"
        ]
    assert len(found) == 1 and time.monotonic() - started >= 0.6


# --- 4. faults --------------------------------------------------------------------------------

INTEGRATION_CODES = [name for name in FAULT_NAMES if name.startswith("INTEGRATION.")]


@pytest.mark.parametrize(
    "fault, status, code",
    [(code, 409, code) for code in INTEGRATION_CODES]
    + [
        ("REMOTE.SERVICE_UNAVAILABLE", 503, "REMOTE.SERVICE_UNAVAILABLE"),
        ("REMOTE.RATE_LIMIT_EXCEEDED", 429, "REMOTE.RATE_LIMIT_EXCEEDED"),
        ("REMOTE.UNKNOWN_HTTP_ERROR", 502, "REMOTE.UNKNOWN_HTTP_ERROR"),
        ("PLATFORM.IP_NOT_WHITELISTED", 403, "PLATFORM.IP_NOT_WHITELISTED"),
        ("403", 403, None),
        ("unknown_code", 400, "PLATFORM.SOMETHING_NEW"),
        ("job_closed", 400, "ATS.JOB_CLOSED"),
    ],
)
def test_a_scripted_fault_answers_as_kombo(sandbox, api, fault, status, code):
    sandbox.config.set_script([fault])
    response = api.post("/ats/candidates", json=BODY)
    assert response.status_code == status and error_of(response)["code"] == code
    assert sandbox.state.created == []
    assert api.post("/ats/candidates", json=BODY).status_code == 200  # the script is used up


def test_a_fault_rate_of_one_hits_every_post(sandbox, api):
    sandbox.config.fault_rates = {"REMOTE.SERVICE_UNAVAILABLE": 1.0}
    answers = [api.post("/ats/candidates", json=BODY).status_code for _ in range(3)]
    assert answers == [503, 503, 503] and sandbox.state.posts_received == 3


def test_the_old_faults_still_work(sandbox, api):
    sandbox.config.set_script(["503", "drop_after_create", "task_timeout"])
    first = api.post("/ats/candidates", json=BODY)
    assert first.status_code == 503 and first.headers["content-type"] == "text/html"
    with pytest.raises(httpx.RemoteProtocolError):
        api.post("/ats/candidates", json=BODY)
    assert len(sandbox.state.created) == 1  # created, then the answer was lost
    other = body(candidate__email_address="ben@example.com")
    assert error_of(api.post("/ats/candidates", json=other))["code"] == "PLATFORM.TASK_TIMED_OUT"
    assert len(sandbox.state.created) == 2


def test_bad_fault_settings_are_refused():
    with pytest.raises(ValueError, match="between 0 and 1"):
        SandboxConfig(fault_rates={"429": 5})
    with pytest.raises(ValueError, match="unknown fault 'nope'"):
        SandboxConfig().set_script(["nope"])
    with pytest.raises(ValueError, match="unknown model 'candidate'"):
        SandboxConfig(disabled_models={"candidate"})
    with pytest.raises(ValueError, match="unknown operation"):
        SandboxConfig().set_script(["ok"], "get_candidate")
    with pytest.raises(ValueError, match="unknown action 'ats_add_note'"):
        SandboxConfig(disabled_actions={"ats_add_note"})


def test_a_disabled_read_model_answers_model_disabled(sandbox, api):
    assert api.post("/ats/candidates", json=BODY).status_code == 200
    sandbox.config.disabled_models = {"candidates"}
    response = api.get("/ats/candidates", params={"email": "anna@example.com"})
    assert response.status_code == 409
    assert error_of(response)["code"] == "INTEGRATION.MODEL_DISABLED"
    assert api.get("/ats/jobs").status_code == 200  # other models are on
    assert (
        api.post("/ats/candidates", json=body(candidate__email_address="b@example.com")).status_code
        == 200
    )


def test_a_read_script_fails_only_the_next_lookups(sandbox, api):
    sandbox.config.set_script(["INTEGRATION.MODEL_DISABLED", "503"], "get_candidates")
    answers = [api.get("/ats/candidates").status_code for _ in range(3)]
    assert answers == [409, 503, 200]


def test_a_disabled_action_answers_action_disabled(sandbox, api):
    candidate_id = api.post("/ats/candidates", json=BODY).json()["data"]["id"]
    sandbox.config.disabled_actions = {"ats_add_candidate_tag"}
    sandbox.config.disabled_models = {"tags"}
    response = api.post(f"/ats/candidates/{candidate_id}/tags", json={"tag": {"name": "x"}})
    assert response.status_code == 409
    assert error_of(response)["code"] == "INTEGRATION.ACTION_DISABLED"
    assert error_of(api.get("/ats/tags"))["code"] == "INTEGRATION.MODEL_DISABLED"
    assert sandbox.state.tags_received == {}


# --- 5. users, tags, rejection reasons, required and conditional questions --------------------


def test_users_tags_and_rejection_reasons_are_served_in_kombos_shape(api):
    users = api.get("/ats/users").json()
    GetAtsUsersPositiveResponse.model_validate(users)
    assert [u["email"] for u in users["data"]["results"]] == [u[3] for u in data.USERS]
    found = api.get("/ats/users", params={"emails": "TIM.BERGER@example.com,x@example.com"})
    assert [u["last_name"] for u in found.json()["data"]["results"]] == ["Berger"]
    GetAtsTagsPositiveResponse.model_validate(api.get("/ats/tags").json())
    reasons = api.get("/ats/rejection-reasons").json()
    GetAtsRejectionReasonsPositiveResponse.model_validate(reasons)
    assert [r["name"] for r in reasons["data"]["results"]] == [r[1] for r in data.REJECTION_REASONS]


def test_tags_received_are_kept_per_candidate(sandbox, api):
    candidate_id = api.post("/ats/candidates", json=BODY).json()["data"]["id"]
    for name in ("import-2026-11-29", "import-2026-11-29", "Referral"):
        answer = api.post(f"/ats/candidates/{candidate_id}/tags", json={"tag": {"name": name}})
        assert answer.status_code == 200
        PostAtsCandidatesCandidateIDTagsPositiveResponse.model_validate(answer.json())
    assert sandbox.state.tags_received == {
        candidate_id: ["import-2026-11-29", "import-2026-11-29", "Referral"]
    }
    (person,) = api.get("/ats/candidates").json()["data"]["results"]
    assert [t["name"] for t in person["tags"]] == ["Referral", "import-2026-11-29"]
    tags = [t["name"] for t in api.get("/ats/tags").json()["data"]["results"]]
    assert tags == ["Top talent", "Referral", "import-2026-11-29"]  # Kombo created the new one
    unknown = api.post("/ats/candidates/nosuchcandidate/tags", json={"tag": {"name": "x"}})
    assert unknown.status_code == 404 and "nosuchcandidate" in error_of(unknown)["message"]


def test_a_fault_after_a_tag_action_keeps_the_tag(sandbox, api):
    candidate_id = api.post("/ats/candidates", json=BODY).json()["data"]["id"]
    sandbox.config.set_script(["drop_after_create"], "add_candidate_tag")
    with pytest.raises(httpx.RemoteProtocolError):
        api.post(f"/ats/candidates/{candidate_id}/tags", json={"tag": {"name": "batch-1"}})
    assert sandbox.state.tags_received == {candidate_id: ["batch-1"]}


def application_of(api: httpx.Client, changes: dict[str, Any] | None = None) -> str:
    """A new candidate's application id, as POST /ats/candidates answers it."""
    created = api.post("/ats/candidates", json=body(**(changes or {})))
    assert created.status_code == 200, created.text
    return str(created.json()["data"]["applications"][0]["id"])


NOT_A_FIT, WITHDREW = data.REJECTION_REASONS[0][0], data.REJECTION_REASONS[1][0]


def test_notes_are_kept_per_application_in_order(sandbox, api):
    application_id = application_of(api)
    other = application_of(api, {"candidate__email_address": "ben@example.com"})
    for application, content in [
        (application_id, "Strong in SQL (by Tim, 2025-03-02)"),
        (other, "Call back in May"),
        (application_id, "Strong in SQL (by Tim, 2025-03-02)"),  # Kombo deduplicates none
        (f"remote:{application_id[-6:]}", "Äußerst gut\n---\nzweite Zeile"),
    ]:
        note = {"content": content, "content_type": "PLAIN_TEXT"}
        answer = api.post(f"/ats/applications/{application}/notes", json=note)
        assert answer.status_code == 200, answer.text
        PostAtsApplicationsApplicationIDNotesPositiveResponse.model_validate(answer.json())
        assert answer.json() == {"status": "success", "data": {}, "warnings": []}
    assert sandbox.state.notes_received == {
        application_id: [
            "Strong in SQL (by Tim, 2025-03-02)",
            "Strong in SQL (by Tim, 2025-03-02)",
            "Äußerst gut\n---\nzweite Zeile",
        ],
        other: ["Call back in May"],
    }
    unknown = api.post(
        "/ats/applications/nosuchapplication/notes",
        json={"content": "x", "content_type": "PLAIN_TEXT"},
    )
    assert unknown.status_code == 404
    assert error_of(unknown)["code"] == "PLATFORM.INPUT_INVALID"
    assert "nosuchapplication" in error_of(unknown)["message"]


@pytest.mark.parametrize(
    "note, status, code, said",
    [
        ({"content": "x"}, 400, "PLATFORM.INPUT_INVALID", "content_type: is required"),
        (
            {"content": "x", "content_type": "HTML"},
            400,
            "PLATFORM.INPUT_INVALID",
            'content_type: "HTML" is not one of PLAIN_TEXT',
        ),
        ({"content_type": "PLAIN_TEXT"}, 400, "PLATFORM.INPUT_INVALID", "content: is required"),
        (
            {"content": 42, "content_type": "PLAIN_TEXT"},
            400,
            "PLATFORM.INPUT_INVALID",
            "content: 42 is not a string",
        ),
        (
            {
                "content": "x",
                "content_type": "PLAIN_TEXT",
                "remote_fields": {"greenhouse": {"visibility": "everyone"}},
            },
            400,
            "PLATFORM.INPUT_INVALID",
            "remote_fields.greenhouse.visibility",
        ),
        (
            {"content": "  \n", "content_type": "PLAIN_TEXT"},
            400,
            "REMOTE.INPUT_INVALID",
            "the note: it is empty",
        ),
    ],
)
def test_a_note_kombo_or_the_ats_refuses_is_refused(sandbox, api, note, status, code, said):
    application_id = application_of(api)
    response = api.post(f"/ats/applications/{application_id}/notes", json=note)
    assert response.status_code == status
    error = error_of(response)
    assert error["code"] == code and said in error["message"], error["message"]
    assert sandbox.state.notes_received == {}


def test_a_note_with_remote_fields_is_taken(sandbox, api):
    application_id = application_of(api)
    note = {
        "content": "Met at the fair",
        "content_type": "PLAIN_TEXT",
        "remote_fields": {"greenhouse": {"visibility": "private", "post_headers": {}}},
    }
    assert api.post(f"/ats/applications/{application_id}/notes", json=note).status_code == 200
    assert sandbox.state.notes_received == {application_id: ["Met at the fair"]}


def test_a_rejection_declines_the_application_with_its_reason(sandbox, api):
    screening = data.STAGES[1][0]
    application_id = application_of(api, {"application__stage_id": screening})
    before = api.get("/ats/candidates").json()["data"]["results"][0]["applications"][0]
    assert before["outcome"] == "PENDING" and before["current_stage"]["id"] == screening
    answer = api.post(
        f"/ats/applications/{application_id}/reject",
        json={"rejection_reason_id": NOT_A_FIT, "note": "Salary too high"},
    )
    assert answer.status_code == 200, answer.text
    PostAtsApplicationsApplicationIDRejectPositiveResponse.model_validate(answer.json())
    assert sandbox.state.rejections_received == {application_id: [(NOT_A_FIT, "Salary too high")]}
    page = api.get("/ats/candidates").json()
    GetAtsCandidatesPositiveResponse.model_validate(page)
    (after,) = page["data"]["results"][0]["applications"]
    assert after["outcome"] == "DECLINED" and after["rejection_reason_name"] == "Not a fit"
    assert after["rejected_at"] and after["changed_at"] >= before["changed_at"]
    assert after["current_stage"]["id"] == screening  # rejected where it stood
    by_remote_id = application_of(api, {"candidate__email_address": "ben@example.com"})
    answer = api.post(
        f"/ats/applications/remote:{by_remote_id[-6:]}/reject",
        json={"rejection_reason_id": "remote:901"},  # Withdrew, by its id in the ATS
    )
    assert answer.status_code == 200, answer.text
    assert sandbox.state.rejections_received[by_remote_id] == [(WITHDREW, None)]


@pytest.mark.parametrize(
    "rejection, said",
    [
        ({"note": "no reason given"}, "rejection_reason_id: is required"),
        ({"rejection_reason_id": "nosuchreason"}, "rejection_reason_id: 'nosuchreason' is not a"),
        ({"rejection_reason_id": NOT_A_FIT, "note": None}, "note: null is not a string"),
    ],
)
def test_a_rejection_needs_a_known_reason(sandbox, api, rejection, said):
    application_id = application_of(api)
    response = api.post(f"/ats/applications/{application_id}/reject", json=rejection)
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "PLATFORM.INPUT_INVALID" and said in error["message"], error["message"]
    assert sandbox.state.rejections_received == {}
    person = api.get("/ats/candidates").json()["data"]["results"][0]
    assert person["applications"][0]["outcome"] == "PENDING"


def test_rejecting_twice_is_refused_and_the_first_rejection_stands(sandbox, api):
    application_id = application_of(api)
    url = f"/ats/applications/{application_id}/reject"
    assert api.post(url, json={"rejection_reason_id": NOT_A_FIT}).status_code == 200
    again = api.post(url, json={"rejection_reason_id": WITHDREW, "note": "later"})
    assert again.status_code == 400
    error = error_of(again)
    assert error["code"] == "REMOTE.INPUT_INVALID" and "already rejected" in error["message"]
    assert sandbox.state.rejections_received == {application_id: [(NOT_A_FIT, None)]}
    assert sandbox.state.already_rejected_answers == 1
    person = api.get("/ats/candidates").json()["data"]["results"][0]
    assert person["applications"][0]["rejection_reason_name"] == "Not a fit"
    unknown = api.post(
        "/ats/applications/nosuchapplication/reject", json={"rejection_reason_id": NOT_A_FIT}
    )
    assert unknown.status_code == 404 and "nosuchapplication" in error_of(unknown)["message"]
    note = {"content": "Rejected, but keep in mind", "content_type": "PLAIN_TEXT"}
    assert api.post(f"/ats/applications/{application_id}/notes", json=note).status_code == 200


def test_a_fault_after_a_note_or_a_rejection_keeps_it(sandbox, api):
    application_id = application_of(api)
    sandbox.config.set_script(["drop_after_create", "503", "ok"], "add_application_note")
    sandbox.config.set_script(["task_timeout"], "reject_application")
    note = {"content": "Good call", "content_type": "PLAIN_TEXT"}
    with pytest.raises(httpx.RemoteProtocolError):
        api.post(f"/ats/applications/{application_id}/notes", json=note)
    assert sandbox.state.notes_received == {application_id: ["Good call"]}
    lost = api.post(f"/ats/applications/{application_id}/notes", json=note)
    assert lost.status_code == 503  # before the action: nothing written
    assert sandbox.state.notes_received == {application_id: ["Good call"]}
    assert api.post(f"/ats/applications/{application_id}/notes", json=note).status_code == 200
    timed_out = api.post(
        f"/ats/applications/{application_id}/reject", json={"rejection_reason_id": NOT_A_FIT}
    )
    assert error_of(timed_out)["code"] == "PLATFORM.TASK_TIMED_OUT"
    assert sandbox.state.rejections_received == {application_id: [(NOT_A_FIT, None)]}
    assert sandbox.state.notes_received == {application_id: ["Good call", "Good call"]}
    assert api.post(
        "/ats/candidates", json=body(candidate__email_address="b@example.com")
    ).is_success


@pytest.mark.parametrize(
    "action, path, payload",
    [
        ("ats_add_application_note", "notes", {"content": "x", "content_type": "PLAIN_TEXT"}),
        ("ats_reject_application", "reject", {"rejection_reason_id": NOT_A_FIT}),
    ],
)
def test_a_disabled_note_or_reject_action_answers_action_disabled(
    sandbox, api, action, path, payload
):
    application_id = application_of(api)
    sandbox.config.disabled_actions = {action}
    response = api.post(f"/ats/applications/{application_id}/{path}", json=payload)
    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "INTEGRATION.ACTION_DISABLED" and action in error["message"]
    assert sandbox.state.notes_received == {} and sandbox.state.rejections_received == {}
    other = "reject" if path == "notes" else "notes"
    other_payload = (
        {"rejection_reason_id": NOT_A_FIT}
        if other == "reject"
        else {"content": "x", "content_type": "PLAIN_TEXT"}
    )
    assert api.post(f"/ats/applications/{application_id}/{other}", json=other_payload).is_success


def test_notes_and_rejections_count_against_the_concurrency_limit(sandbox, api):
    application_id = application_of(api)
    sandbox.config.concurrency_limit, sandbox.config.latency = 1, 0.5
    answers: dict[str, httpx.Response] = {}

    def send(path: str, payload: dict[str, Any]) -> None:
        answers[path] = api.post(f"/ats/applications/{application_id}/{path}", json=payload)

    threads = [
        threading.Thread(target=send, args=("reject", {"rejection_reason_id": NOT_A_FIT})),
        threading.Thread(
            target=send, args=("notes", {"content": "x", "content_type": "PLAIN_TEXT"})
        ),
    ]
    threads[0].start()
    deadline = time.monotonic() + 5
    while sandbox.state.in_flight == 0 and time.monotonic() < deadline:
        time.sleep(0.01)  # until the rejection is in flight (for 0.5 s of latency)
    threads[1].start()
    for thread in threads:
        thread.join(10)
    assert answers["reject"].status_code == 200
    assert answers["notes"].status_code == 429
    assert error_of(answers["notes"])["code"] == "PLATFORM.CONCURRENCY_LIMIT_EXCEEDED"
    assert answers["notes"].headers["concurrency-remaining"] == "0"
    assert sandbox.state.notes_received == {} and sandbox.state.max_in_flight == 2


def nurse(*answers: tuple[str, Any]) -> dict[str, Any]:
    return body(
        application__job_id=data.NIGHT_NURSE_JOB,
        screening_question_answers=[{"question_id": q, "answer": a} for q, a in answers],
    )


def test_the_nurse_job_has_required_and_conditional_questions(api):
    jobs = api.get("/ats/jobs", params={"ids": data.NIGHT_NURSE_JOB}).json()
    GetAtsJobsPositiveResponse.model_validate(jobs)
    questions = {q["id"]: q for q in jobs["data"]["results"][0]["screening_questions"]}
    assert questions[data.NIGHT_SHIFTS]["required"] is True
    assert questions[data.SHIFTS_A_MONTH]["precondition_question_id"] == data.NIGHT_SHIFTS
    assert questions[data.SHIFTS_A_MONTH]["precondition_options"] == [True]
    assert questions[data.REGISTRATION_NUMBER]["precondition_options"] == [
        data.REGISTERED_NURSE,
        data.NURSING_ASSISTANT,
    ]


@pytest.mark.parametrize(
    "answers, missing",
    [
        ((), ["Can you work night shifts?", "Which nursing registration do you hold?"]),
        (
            ((data.NIGHT_SHIFTS, True), (data.REGISTRATION, data.REGISTERED_NURSE)),
            ["How many night shifts a month can you take?", "Your registration number"],
        ),
        (((data.NIGHT_SHIFTS, False), (data.REGISTRATION, data.NOT_REGISTERED)), []),
        (
            (
                (data.NIGHT_SHIFTS, True),
                (data.SHIFTS_A_MONTH, 8),
                (data.REGISTRATION, data.NURSING_ASSISTANT),
                (data.REGISTRATION_NUMBER, "NA-12345"),
                (data.START_DATE, "2026-03-31"),
            ),
            [],
        ),
    ],
)
def test_required_questions_are_required_when_asked(api, answers, missing):
    response = api.post("/ats/candidates", json=nurse(*answers))
    if not missing:
        assert response.status_code == 200, response.text
        return
    error = error_of(response)
    assert response.status_code == 400 and error["code"] == "REMOTE.INPUT_INVALID"
    assert [title in error["message"] for title in missing] == [True] * len(missing)
    assert error["message"].count("is required") == len(missing)


def test_an_answer_to_a_question_not_asked_is_a_warning(api):
    answers = (
        (data.NIGHT_SHIFTS, False),
        (data.SHIFTS_A_MONTH, 8),
        (data.REGISTRATION, data.NOT_REGISTERED),
    )
    response = api.post("/ats/candidates", json=nurse(*answers))
    assert response.status_code == 200
    (warning,) = response.json()["warnings"]
    assert data.SHIFTS_A_MONTH in warning["message"] and "precondition" in warning["message"]


@pytest.mark.parametrize(
    "question, answer, takes",
    [
        (data.NIGHT_SHIFTS, "yes", "true or false"),
        (data.SHIFTS_A_MONTH, 40, "a number from 1 to 20"),
        (data.REGISTRATION, "Registered nurse", "the id of one of its options"),
        (data.REGISTRATION_NUMBER, "X" * 21, "at most 20 characters"),
        (data.START_DATE, "2026-03-31T00:00:00+02:00", "a date (YYYY-MM-DD"),
        (data.START_DATE, "31.03.2026", "a date (YYYY-MM-DD"),
    ],
)
def test_an_answer_must_fit_its_question(api, question, answer, takes):
    response = api.post("/ats/candidates", json=nurse((question, answer)))
    error = error_of(response)
    assert response.status_code == 400 and error["code"] == "PLATFORM.INPUT_INVALID"
    assert "screening_question_answers[0].answer" in error["message"] and takes in error["message"]


# --- 6. the example's MULTI_SELECT question ---------------------------------------------------


def test_the_skills_question_is_multi_select_with_the_examples_skills(api):
    with (ROOT / "example_data" / "candidates.csv").open(encoding="utf-8-sig", newline="") as fh:
        cells = [row["Skills"] for row in csv.DictReader(fh, delimiter=";")]
    skills = {s.strip() for cell in cells for s in cell.split(",") if s.strip()}
    job = api.get("/ats/jobs", params={"ids": JOB}).json()["data"]["results"][0]
    (question,) = [q for q in job["screening_questions"] if q["id"] == data.SKILLS]
    assert question["format"]["type"] == "MULTI_SELECT"
    by_name = {o["name"]: o["id"] for o in question["format"]["options"]}
    assert skills <= by_name.keys()
    by_names = body(screening_question_answers=[{"question_id": data.SKILLS, "answer": ["Python"]}])
    assert error_of(api.post("/ats/candidates", json=by_names))["code"] == "PLATFORM.INPUT_INVALID"
    by_ids = body(
        screening_question_answers=[
            {"question_id": data.SKILLS, "answer": [by_name["Python"], by_name["Go"]]}
        ]
    )
    assert api.post("/ats/candidates", json=by_ids).status_code == 200


# --- 7. the `sandbox` command -----------------------------------------------------------------


def test_sandbox_help_shows_its_examples_as_written():
    result = CliRunner().invoke(main, ["sandbox", "--help"], terminal_width=80)
    assert result.exit_code == 0 and "\\b" not in result.output and "\b" not in result.output
    example = "kombo-import sandbox --latency 0.1 --fault 429=0.05 --fault drop_after_create=0.01"
    assert example in [line.strip() for line in result.output.splitlines()]  # not rewrapped
    assert "--read-lag SECONDS" in result.output and "--disable-model MODEL" in result.output


def test_a_taken_port_is_said_before_any_banner():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(main, ["sandbox", "--port", str(port)])
    assert result.exit_code == 2
    assert f"Error: port {port} on 127.0.0.1 is taken" in result.output
    assert "--port 0" in result.output and "Kombo sandbox on" not in result.output


@pytest.mark.parametrize(
    "args, said",
    [
        (["--fault", "429=5"], "'429=5': the rate of 429 is 5; a rate is the share"),
        (["--fault", "429=-0.1"], "between 0 and 1"),
        (["--fault", "429=often"], "'429=often': the rate must be a number between 0 and 1"),
        (["--fault", "teapot=0.1"], "expected NAME=RATE with NAME one of"),
        (["--fault", "429"], "expected NAME=RATE"),
        (["--disable-model", "candidate"], "unknown model 'candidate'; known: candidates"),
        (["--disable-action", "tag"], "unknown action 'tag'; known: ats_create_candidate"),
    ],
)
def test_bad_sandbox_options_are_refused(args, said):
    result = CliRunner().invoke(main, ["sandbox", "--port", "0", *args])
    assert result.exit_code == 2 and said in result.output, result.output
    assert "Kombo sandbox on" not in result.output


def test_the_fault_help_names_every_fault():
    text = " ".join(CliRunner().invoke(main, ["sandbox", "--help"]).output.split())
    for name in FAULT_NAMES:
        if name != "ok" and not name.startswith("INTEGRATION."):
            assert name in text, name
    assert "INTEGRATION.* (409)" in text


def test_the_sandbox_command_lags_reads_and_disables_what_it_is_told():
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "importer",
            "sandbox",
            "--port",
            "0",
            "--read-lag",
            "30",
            "--disable-model",
            "users",
            "--disable-action",
            "ats_add_candidate_tag",
        ],  # fmt: skip
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        first = process.stdout.readline()
        assert first.startswith("Kombo sandbox on http://127.0.0.1:"), first
        url = first.split(" on ", 1)[1].strip()
        headers = {"Authorization": "Bearer sandbox-key", "X-Integration-Id": "sandbox:demo"}
        with httpx.Client(base_url=url, headers=headers, timeout=10) as client:
            candidate_id = client.post("/ats/candidates", json=BODY).json()["data"]["id"]
            assert client.get("/ats/candidates").json()["data"]["results"] == []
            assert error_of(client.get("/ats/users"))["code"] == "INTEGRATION.MODEL_DISABLED"
            tagged = client.post(
                f"/ats/candidates/{candidate_id}/tags", json={"tag": {"name": "x"}}
            )
            assert error_of(tagged)["code"] == "INTEGRATION.ACTION_DISABLED"
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    assert "Stopped. It had created 1 candidates." in output


# --- 8. the official SDK, unchanged -----------------------------------------------------------


def test_the_sdk_creates_lists_and_gets_kombos_errors(sandbox):
    with sdk_for(sandbox) as sdk:
        jobs = sdk.ats.get_jobs(page_size=250)
        assert [j.name for j in jobs.result.data.results] == [name for _, name, _, _ in data.JOBS]
        created = sdk.ats.create_candidate(
            candidate={"first_name": "Anna", "last_name": "Wolf", "email_address": "a@example.com"},
            application={"job_id": JOB},
            attachments=[
                {"name": "cv.pdf", "type": "CV", "content_type": "application/pdf", "data": PDF}
            ],
            screening_question_answers=[
                {"question_id": data.SKILLS, "answer": [data.SKILL_OPTIONS[0]["id"]]}
            ],
        )
        candidate_id = created.data.id
        assert created.data.applications[0].job.id == JOB
        sdk.ats.add_candidate_tag(candidate_id=candidate_id, tag={"name": "import-1"})
        found = sdk.ats.get_candidates(email="A@example.com")
        assert [t.name for t in found.result.data.results[0].tags] == ["import-1"]
        with pytest.raises(KomboAtsError) as duplicate:
            sdk.ats.create_candidate(
                candidate={"first_name": "A", "last_name": "W", "email_address": "a@example.com"},
                application={"job_id": JOB},
            )
        assert duplicate.value.data.error.code == "ATS.APPLICATION_ALREADY_EXISTS"
        assert duplicate.value.status_code == 409 and duplicate.value.data.error.log_url
        with pytest.raises(KomboAtsError) as invalid:
            sdk.ats.create_candidate(
                candidate={"first_name": "B", "last_name": "W", "email_address": "not-an-email"},
                application={"job_id": JOB},
            )
        assert invalid.value.data.error.code == "PLATFORM.INPUT_INVALID"
        assert "candidate.email_address" in invalid.value.data.error.message
        sandbox.config.disabled_models = {"candidates"}
        with pytest.raises(KomboAtsError) as disabled:
            sdk.ats.get_candidates(email="a@example.com")
        assert disabled.value.data.error.code == "INTEGRATION.MODEL_DISABLED"
        sandbox.config.set_script(["unknown_code"])
        with pytest.raises(ResponseValidationError):  # SDK 1.4 cannot parse a newer code
            sdk.ats.create_candidate(
                candidate={"first_name": "C", "last_name": "W", "email_address": "c@example.com"},
                application={"job_id": JOB},
            )
        users = sdk.ats.get_users(emails=["sabine.roth@example.com"])
        assert [u.last_name for u in users.result.data.results] == ["Roth"]


def test_the_sdk_adds_notes_and_rejects(sandbox):
    with sdk_for(sandbox) as sdk:
        created = sdk.ats.create_candidate(
            candidate={"first_name": "Anna", "last_name": "Wolf", "email_address": "a@example.com"},
            application={"job_id": JOB},
        )
        application_id = created.data.applications[0].id
        noted = sdk.ats.add_application_note(
            application_id=application_id,
            content="Strong in SQL",
            content_type="PLAIN_TEXT",
            remote_fields={"greenhouse": {"visibility": "private"}},
        )
        assert noted.STATUS == "success" and noted.warnings == []
        reasons = sdk.ats.get_rejection_reasons().result.data.results
        withdrew = next(r.id for r in reasons if r.name == "Withdrew")
        with pytest.raises(KomboAtsError) as unknown:
            sdk.ats.reject_application(application_id=application_id, rejection_reason_id="nope")
        assert unknown.value.status_code == 400
        assert unknown.value.data.error.code == "PLATFORM.INPUT_INVALID"
        assert "rejection_reason_id" in unknown.value.data.error.message
        rejected = sdk.ats.reject_application(
            application_id=application_id, rejection_reason_id=withdrew, note="Took another offer"
        )
        assert rejected.STATUS == "success"
        with pytest.raises(KomboAtsError) as twice:
            sdk.ats.reject_application(application_id=application_id, rejection_reason_id=withdrew)
        assert twice.value.data.error.code == "REMOTE.INPUT_INVALID"
        (person,) = sdk.ats.get_candidates(email="a@example.com").result.data.results
        assert person.applications[0].outcome == "DECLINED"
        assert person.applications[0].rejection_reason_name == "Withdrew"
        sandbox.config.disabled_actions = {"ats_add_application_note"}
        with pytest.raises(KomboAtsError) as disabled:
            sdk.ats.add_application_note(
                application_id=application_id, content="x", content_type="PLAIN_TEXT"
            )
        assert disabled.value.data.error.code == "INTEGRATION.ACTION_DISABLED"
    assert sandbox.state.notes_received == {application_id: ["Strong in SQL"]}
    assert sandbox.state.rejections_received == {application_id: [(withdrew, "Took another offer")]}
