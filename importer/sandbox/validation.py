"""Requests checked as Kombo checks them: bodies and query parameters against Kombo's published
OpenAPI schema, plus the rules Kombo documents that the schema does not encode.

The schemas of the operations the sandbox serves are kept in `kombo_spec.json`, taken from the
spec (`kombo-openapi.json`, OpenAPI 3.1, sha256 e3a46e35293a7f67…) by `extract_spec`:

    python -m importer.sandbox.validation ../shared/kombo/kombo-openapi.json

A walker of the JSON-schema keywords those schemas use (about a dozen) rather than a validator
library: the messages name the field as a user reads it (`attachments[0].content_type`) and say
what Kombo expects, and the formats (`email`, `uri`, `date-time`) are checked, as Kombo does,
where a generic validator would only annotate them.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SPEC_FILE = Path(__file__).with_name("kombo_spec.json")
# the sandbox's name of an operation -> (method, path) in Kombo's spec
OPERATIONS = {
    "create_candidate": ("post", "/ats/candidates"),
    "add_candidate_tag": ("post", "/ats/candidates/{candidate_id}/tags"),
    "add_application_note": ("post", "/ats/applications/{application_id}/notes"),
    "reject_application": ("post", "/ats/applications/{application_id}/reject"),
    "get_candidates": ("get", "/ats/candidates"),
    "get_jobs": ("get", "/ats/jobs"),
    "get_users": ("get", "/ats/users"),
    "get_tags": ("get", "/ats/tags"),
    "get_rejection_reasons": ("get", "/ats/rejection-reasons"),
    "get_create_candidate_action": ("get", "/ats/actions/ats_create_candidate"),
}
# Query parameters SDK 1.4 sends that the 2025-11 spec lacks.
SDK_PARAMETERS = {"ignore_unsupported_filters": {"type": "string", "enum": ["true", "false"]}}
# Comma-separated lists whose allowed values the spec gives only in words.
LIST_VALUES = {
    ("get_jobs", "statuses"): ("OPEN", "CLOSED", "DRAFT", "ARCHIVED"),
    ("get_jobs", "employment_types"): (
        "FULL_TIME",
        "PART_TIME",
        "CONTRACT",
        "SEASONAL",
        "INTERNSHIP",
    ),
    ("get_jobs", "visibilities"): ("PUBLIC", "INTERNAL", "UNLISTED", "CONFIDENTIAL"),
}
_DROPPED_KEYWORDS = {"description", "examples", "example", "externalDocs", "default", "deprecated"}


@dataclass(frozen=True)
class Invalid:
    """One problem of a request: where (`candidate.email_address`, `page_size`) and what."""

    where: str
    problem: str

    def __str__(self) -> str:
        return f"{self.where}: {self.problem}"


# --- the spec --------------------------------------------------------------------------------


def extract_spec(openapi: dict[str, Any]) -> dict[str, Any]:
    """Per operation the sandbox serves: its body schema (or None) and its query parameters'
    schemas, references resolved and prose dropped."""

    def resolve(node: Any) -> Any:
        while isinstance(node, dict) and "$ref" in node:
            target: Any = openapi
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            node = target
        return node

    def bare(schema: Any) -> Any:
        schema = resolve(schema)
        if isinstance(schema, list):
            return [bare(s) for s in schema]
        if not isinstance(schema, dict):
            return schema
        out: dict[str, Any] = {}
        for key, value in schema.items():
            if key in _DROPPED_KEYWORDS:
                continue
            if key == "properties":
                out[key] = {name: bare(sub) for name, sub in value.items()}
            else:
                out[key] = bare(value)
        return out

    spec: dict[str, Any] = {}
    for name, (method, path) in OPERATIONS.items():
        operation = openapi["paths"][path][method]
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        parameters = {}
        for parameter in map(resolve, operation.get("parameters", [])):
            if parameter["in"] == "query":
                parameters[parameter["name"]] = bare(parameter["schema"])
        spec[name] = {"body": bare(body["schema"]) if body else None, "parameters": parameters}
    return spec


@functools.cache
def operations() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SPEC_FILE.read_text(encoding="utf-8"))
    return loaded


def parameter_schemas(operation: str) -> dict[str, Any]:
    return {**SDK_PARAMETERS, **operations()[operation]["parameters"]}


# --- the walker ------------------------------------------------------------------------------


def check(schema: dict[str, Any], value: Any, where: str) -> list[Invalid]:
    """Every problem of `value` against `schema` (the keywords Kombo's request schemas use)."""
    types = schema.get("type")
    if types is not None:
        allowed = [types] if isinstance(types, str) else list(types)
        if not any(_is_type(value, t) for t in allowed):
            return [Invalid(where, f"{_shown(value)} is not {' or '.join(map(_a_type, allowed))}.")]
    problems: list[Invalid] = []
    if "enum" in schema and value not in schema["enum"]:
        expected = ", ".join(str(v) for v in schema["enum"] if v is not None)
        problems.append(Invalid(where, f"{_shown(value)} is not one of {expected}."))
    if "anyOf" in schema:
        problems += _any_of(schema["anyOf"], value, where)
    for sub in schema.get("allOf", []):
        problems += check(sub, value, where)
    if isinstance(value, str):
        problems += _string(schema, value, where)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        problems += _number(schema, value, where)
    elif isinstance(value, dict):
        problems += _object(schema, value, where)
    elif isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            problems += check(schema["items"], item, f"{where}[{i}]")
    return problems


def _is_type(value: Any, kind: str) -> bool:
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    python = {"string": str, "boolean": bool, "object": dict, "array": list, "null": type(None)}
    return isinstance(value, python[kind])


def _a_type(kind: str) -> str:
    return {
        "string": "a string",
        "integer": "an integer",
        "number": "a number",
        "boolean": "true or false",
        "object": "an object",
        "array": "a list",
        "null": "null",
    }.get(kind, kind)


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."


def _any_of(branches: list[dict[str, Any]], value: Any, where: str) -> list[Invalid]:
    """Fine when one branch fits; else the problems of the one branch of the value's type, if
    only one has it (an object missing its `name`), or a list of the shapes allowed."""
    found = [check(branch, value, where) for branch in branches]
    if any(not problems for problems in found):
        return []
    typed = [
        problems
        for branch, problems in zip(branches, found, strict=True)
        if "type" not in branch or _is_type(value, branch["type"])
    ]
    if len(typed) == 1:
        return typed[0]
    kinds = sorted({_a_type(b["type"]) for b in branches if isinstance(b.get("type"), str)})
    return [Invalid(where, f"{_shown(value)} is none of the shapes allowed: {', '.join(kinds)}.")]


def _string(schema: dict[str, Any], value: str, where: str) -> list[Invalid]:
    problems = []
    if len(value) < schema.get("minLength", 0):
        problems.append(Invalid(where, "must not be empty."))
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        problems.append(Invalid(where, f"is longer than {schema['maxLength']} characters."))
    checker = FORMATS.get(schema.get("format", ""))
    if checker is not None and not checker(value):
        problems.append(Invalid(where, f"{_shown(value)} is {FORMAT_WORDS[schema['format']]}."))
    elif "pattern" in schema and not _pattern(schema["pattern"]).search(value):
        words = PATTERN_WORDS.get(schema["pattern"], f"the pattern {schema['pattern']}")
        problems.append(Invalid(where, f"{_shown(value)} is not in the form {words}."))
    return problems


@functools.cache
def _pattern(pattern: str) -> re.Pattern[str]:
    """A pattern of the spec (ECMAScript) in Python: \\d and \\w ASCII only, and `$` the very
    end (Python's `$` also matches before a final line break)."""
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern, re.ASCII)


def _number(schema: dict[str, Any], value: float, where: str) -> list[Invalid]:
    if "minimum" in schema and value < schema["minimum"]:
        return [Invalid(where, f"{value} is less than {schema['minimum']:g}.")]
    if "maximum" in schema and value > schema["maximum"]:
        return [Invalid(where, f"{value} is more than {schema['maximum']:g}.")]
    return []


def _object(schema: dict[str, Any], value: dict[str, Any], where: str) -> list[Invalid]:
    problems = []
    prefix = f"{where}." if where else ""
    for name in schema.get("required", []):
        if name not in value:
            problems.append(Invalid(f"{prefix}{name}", "is required."))
    properties = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    for name, item in value.items():
        if name in properties:
            problems += check(properties[name], item, f"{prefix}{name}")
        elif extra is False:
            problems.append(Invalid(f"{prefix}{name}", "is not a field here."))
        elif isinstance(extra, dict):
            problems += check(extra, item, f"{prefix}{name}")
    return problems


# --- formats ---------------------------------------------------------------------------------

# RFC 5321's Mailbox in ASCII: a dot-atom before the @, a host name with a dot after it
_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*\Z")
_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\Z")
# RFC 3986: a scheme, then only the characters a URI may hold (percent-escapes well formed)
_URI = re.compile(
    r"[A-Za-z][A-Za-z0-9+.-]*:([A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})+\Z"
)
_MOMENT = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?\Z"
)


def is_email(text: str) -> bool:
    local, at, domain = text.rpartition("@")
    if not at or len(local) > 64 or len(text) > 254 or not _LOCAL.match(local):
        return False
    labels = domain.split(".")
    return len(labels) >= 2 and all(_LABEL.match(label) for label in labels)


def is_uri(text: str) -> bool:
    return bool(_URI.match(text))


def is_moment(text: str) -> bool:
    """A real date (and time): `2026-02-30` and `T25:00:00` are not."""
    found = _MOMENT.match(text)
    if found is None:
        return False
    year, month, day, hour, minute, second = (int(g) if g else 0 for g in found.groups())
    try:
        dt.datetime(year, month, day, hour, minute, second)
    except ValueError:
        return False
    return True


def is_kombo_moment(text: str) -> bool:
    """A real date (and time) in the form Kombo's schema takes."""
    return is_moment(text) and bool(_pattern(KOMBO_MOMENT).search(text))


FORMATS: dict[str, Callable[[str], bool]] = {
    "email": is_email,
    "uri": is_uri,
    "date-time": is_moment,
}
FORMAT_WORDS = {
    "email": "not an email address",
    "uri": "not a URL (an absolute URI such as https://example.com/path)",
    "date-time": "not a real date (and time) in the form YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS(.sss)Z",
}
# The spec's pattern of every date and date-time: UTC, no offset (`+02:00` is refused).
KOMBO_MOMENT = r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?)?Z?$"
PATTERN_WORDS = {
    KOMBO_MOMENT: "YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS(.sss)Z, in UTC without an offset",
    "^[A-Z]{2}$": "of a country code: two capital letters (ISO 3166-1 alpha-2, such as DE)",
    r"^[\w.-]+\/[\w.-]+$": "of a MIME type such as application/pdf",
}


# --- query parameters ------------------------------------------------------------------------


def check_query(
    operation: str, query: dict[str, list[str]]
) -> tuple[dict[str, Any], list[Invalid]]:
    """The query parameters the operation knows, typed as its schema says, and their problems.
    A blank value counts as absent (the spec: "leave this blank to get results matching all
    values"); a parameter the operation does not know is ignored."""
    schemas = parameter_schemas(operation)
    values: dict[str, Any] = {}
    problems: list[Invalid] = []
    for name, given in query.items():
        schema = schemas.get(name)
        if schema is None or given == [""]:
            continue
        if len(given) > 1:
            problems.append(Invalid(name, "is given more than once; give a comma-separated list."))
            continue
        value: Any = given[0]
        if schema.get("type") == "integer" and re.fullmatch(r"[+-]?\d{1,18}", value):
            value = int(value)
        found = check(schema, value, name)
        allowed = LIST_VALUES.get((operation, name))
        if allowed and not found:
            found = [
                Invalid(name, f"{_shown(item)} is not one of {', '.join(allowed)}.")
                for item in value.split(",")
                if item.strip() not in allowed
            ]
        problems += found
        if not found:
            values[name] = value
    return values, problems


# --- what the schema does not say ------------------------------------------------------------


def check_files(body: dict[str, Any]) -> list[Invalid]:
    """Kombo's rules for attachments and FILE answers beyond the schema: exactly one of `data`
    and `data_url`, `data` in base64, and a `content_type` with `data`."""
    problems = []
    files: list[tuple[str, Any]] = [
        (f"attachments[{i}]", item) for i, item in enumerate(body.get("attachments") or [])
    ]
    files += [
        (f"screening_question_answers[{i}].answer", answer.get("answer"))
        for i, answer in enumerate(body.get("screening_question_answers") or [])
        if isinstance(answer, dict)
    ]
    for where, item in files:
        if isinstance(item, dict):
            problems += _file(item, where)
    return problems


def _file(item: dict[str, Any], where: str) -> list[Invalid]:
    has_data, has_url = "data" in item, "data_url" in item
    if has_data and has_url:
        return [Invalid(where, "has both data and data_url; send one of them.")]
    if not has_data and not has_url:
        return [Invalid(where, "has neither data nor data_url; send one of them.")]
    problems = []
    data = item.get("data")
    if isinstance(data, str) and not _is_base64(data):
        problems.append(Invalid(f"{where}.data", "is not base64."))
    if has_data and "content_type" not in item:
        problems.append(Invalid(f"{where}.content_type", "is required with data."))
    return problems


def _is_base64(text: str) -> bool:
    try:
        base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


if __name__ == "__main__":  # regenerate kombo_spec.json from Kombo's OpenAPI file
    source = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    SPEC_FILE.write_text(json.dumps(extract_spec(source), indent=1) + "\n", encoding="utf-8")
