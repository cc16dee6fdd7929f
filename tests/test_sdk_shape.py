"""The dry run checks each body with a TypeAdapter over the SDK's TypedDict, and builds the SDK's
model only for what is sent (`build.sdk_shape`, `PostAtsCandidatesRequest.body`). These tests
hold the two to the same verdict, so that a row the dry run passes is never one the model refuses
when it is sent: an SDK upgrade that parts them fails here."""

from __future__ import annotations

import copy
import datetime as dt
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from kombo.models import PostAtsCandidatesRequestBody
from pydantic import ValidationError

from importer.build import sdk_shape

UTC = dt.UTC

# Every part of the body the mapping can reach, filled as a mapping fills it.
FULL: dict[str, Any] = {
    "candidate": {
        "first_name": "Anna",
        "last_name": "Wolf",
        "email_address": "anna@example.com",
        "phone_number": "+491511234567",
        "gender": "FEMALE",
        "availability_date": dt.datetime(2026, 1, 1, tzinfo=UTC),
        "salary_expectations": {"amount": 65000.0, "period": "YEAR"},
        "company": "Acme",
        "title": "Engineer",
        "location": {"city": "Berlin", "country": "DE", "zip_code": "10115", "state": "BE"},
        "social_links": [{"url": "https://www.linkedin.com/in/anna"}],
    },
    "application": {"job_id": "J1", "stage_id": "S1"},
    "screening_question_answers": [
        {"question_id": "permit", "answer": True},
        {"question_id": "skills", "answer": ["Go", "SQL"]},
        {"question_id": "note", "answer": "text"},
        {"question_id": "start", "answer": dt.datetime(2026, 2, 1, tzinfo=UTC)},
        {"question_id": "years", "answer": 3.0},
        {
            "question_id": "cv",
            "answer": {
                "name": "cv.pdf",
                "content_type": "application/pdf",
                "data_url": "https://x/cv",
            },
        },
    ],
    "attachments": [
        {
            "name": "cv.pdf",
            "type": "CV",
            "content_type": "application/pdf",
            "data_url": "https://x/cv",
        }
    ],
    "sourced_by": {"user_id": "U1"},
    "gdpr_consent": {"expires_at": dt.datetime(2027, 1, 1, tzinfo=UTC), "given": True},
    "remote_fields": {"greenhouse": {"custom_fields": [{"id": 1}]}, "lever": {"x": 1}},
}
# Values a wrong mapping or a hostile cell could put anywhere (never None: see sdk_shape).
WRONG = ["", "x", 1, 1.5, True, [], {}, ["x"], {"a": 1}, "2026-13-01", dt.date(2026, 1, 1), b"x"]


def _places(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if path:
        yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _places(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _places(item, (*path, index))


def _verdict(check: Any, body: dict[str, Any]) -> list[tuple[str, str]] | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            check(body)
    except ValidationError as exc:
        # The model says "model_type" where the TypedDict says "dict_type", and names a union's
        # member by its class: the same problem (the report takes its words from the model).
        return sorted(
            (_path(e["loc"]), "dict_type" if e["type"] == "model_type" else e["type"])
            for e in exc.errors()
        )
    return None


def _path(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part).removesuffix("TypedDict") for part in loc)


def _changed(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    body = copy.deepcopy(FULL)
    parent = body
    for key in path[:-1]:
        parent = parent[key]
    if value is _GONE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return body


_GONE = object()


@pytest.mark.parametrize("path", list(_places(FULL)), ids=lambda p: ".".join(map(str, p)))
def test_the_dry_runs_check_and_the_sdk_model_agree_on_every_field(path: tuple[Any, ...]) -> None:
    check = sdk_shape()
    for value in [*WRONG, _GONE]:
        body = _changed(path, value)
        shape, model = (
            _verdict(check, body),
            _verdict(PostAtsCandidatesRequestBody.model_validate, body),
        )
        assert (shape is None) == (model is None), (path, value, shape, model)
        if model is not None:  # the same fields named, with the same kind of problem
            assert shape == model, (path, value)


def test_a_full_body_passes_both() -> None:
    assert _verdict(sdk_shape(), FULL) is None
    assert _verdict(PostAtsCandidatesRequestBody.model_validate, FULL) is None


def test_a_field_named_otherwise_on_the_wire_is_the_models_to_check() -> None:
    """The TypedDict knows `On-Behalf-Of` only as `on_behalf_of`, and lets the wire name
    through unchecked: why `RequestBuilder` checks a mapping that uses such names with the
    model (`build._wire_names_differ`)."""
    body = copy.deepcopy(FULL)
    body["remote_fields"] = {"greenhouse": {"post_headers": {"On-Behalf-Of": 4080}}}
    assert _verdict(sdk_shape(), body) is None
    assert _verdict(PostAtsCandidatesRequestBody.model_validate, body) is not None


def test_a_request_made_from_the_sdk_model_is_the_request_made_from_its_body() -> None:
    """`PostAtsCandidatesRequest` holds the body as built; code that made one from the SDK's
    model (as 0.1's did) gets the same request, compared by value."""
    from importer.build import PostAtsCandidatesRequest

    payload = {
        "candidate": {"first_name": "A", "last_name": "W", "email_address": "a@example.com"},
        "application": {"job_id": "J1"},
    }
    model = PostAtsCandidatesRequestBody.model_validate(payload)
    made = PostAtsCandidatesRequest(None, model, None, ())
    assert made == PostAtsCandidatesRequest(None, payload, None, ())
    assert (made.email_address, made.job_id, made.body) == ("a@example.com", "J1", model)
    assert made != PostAtsCandidatesRequest("other:integration", payload, None, ())


_SAME = object()
WITHOUT_REMOTE = {key: value for key, value in FULL.items() if key != "remote_fields"}


@pytest.mark.parametrize("path", list(_places(WITHOUT_REMOTE)), ids=lambda p: ".".join(map(str, p)))
def test_a_body_goes_out_as_the_sdk_model_would_serialise_it(path: tuple[Any, ...]) -> None:
    """What is sent is the TypedDict's reading of the body made JSON, not the model's dump
    (`client.request_body`): the same JSON for every value both accept, coerced ones included
    (an int where a float goes, a date where a datetime goes)."""
    from importer.build import PostAtsCandidatesRequest
    from importer.client import request_body

    for value in [_SAME, *WRONG, _GONE]:
        body = copy.deepcopy(WITHOUT_REMOTE) if value is _SAME else _changed(path, value)
        body.pop("remote_fields", None)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                model = PostAtsCandidatesRequestBody.model_validate(body)
        except ValidationError:
            continue
        sent = request_body(PostAtsCandidatesRequest(None, body, None, ()))
        assert sent == model.model_dump(
            mode="json", by_alias=True, exclude_none=True, warnings=False
        ), (path, value)
