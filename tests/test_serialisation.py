"""Typed fields go out as the API wants them: what the dry run accepts is exactly what is sent.

The JSON of a body is made once, by the SDK model's own serialisation; the remote fields SDK 1.4
drops are put back beside it. Typed remote fields are coerced in the dry run, emails and URLs
are written in ASCII (IDNA, percent-encoding) as the spec's `email` and `uri` formats demand.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import typing
from pathlib import Path
from typing import Any, Literal

import openpyxl
import pytest
import yaml
from conftest import read_csv
from kombo.models import PostAtsCandidatesRequestBody
from kombo.models.postatscandidatesrequestbody import PostAtsCandidatesRequestBodyRemoteFields
from pydantic import BaseModel

from importer import transforms
from importer.attachments import FolderSource
from importer.build import BuiltRow, RequestBuilder
from importer.client import encode_request
from importer.errors import ConfigError
from importer.issues import RowProblem
from importer.mapping import load_mapping
from importer.readers import SourceRow
from importer.runs import DryRunOptions, SubmitOptions, submit_file
from importer.sandbox import Sandbox
from importer.sandbox.fixtures import SKILL_OPTIONS
from importer.settings import SubmitSettings

ROOT = Path(__file__).resolve().parent.parent
PERSON = {
    "first_name": {"value": "Anna"},
    "last_name": {"value": "Wolf"},
    "email_address": {"value": "anna@example.com"},
}
JOB = {"job_id": {"value": "J"}}


# --- the SDK's typed remote fields, found by walking its models ------------------------------

Path_ = tuple[str | int, ...]


def _options(annotation: Any) -> list[Any]:
    """What an annotation admits: Optional, Annotated and the SDK's Nullable aliases taken
    apart; a list stays a list (`list[X]`)."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is None or origin is Literal or origin is list or origin is dict:
        return [annotation]
    found = []
    for arg in args:
        if arg is type(None) or type(arg).__name__ in ("FieldInfo", "UnsetType"):
            continue
        found += _options(arg)
    return [a for a in found if getattr(a, "__name__", "") != "Unset"]


def _single(annotation: Any) -> Any:
    (only,) = _options(annotation)
    return only


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _is_typed(annotation: Any) -> bool:
    return annotation in (int, float, bool, dt.datetime) or typing.get_origin(annotation) is Literal


def typed_remote_fields() -> list[tuple[Path_, Any]]:
    """Every remote field the SDK types (int, float, bool, datetime, enum), with its type."""
    found: list[tuple[Path_, Any]] = []

    def walk(model: type[BaseModel], at: Path_) -> None:
        for name, info in model.model_fields.items():
            key, kind = info.alias or name, _single(info.annotation)
            if typing.get_origin(kind) is list and _is_model(typing.get_args(kind)[0]):
                walk(typing.get_args(kind)[0], at + (key, 0))
            elif _is_model(kind):
                walk(kind, at + (key,))
            elif _is_typed(kind):
                found.append((at + (key,), kind))

    walk(PostAtsCandidatesRequestBodyRemoteFields, ("remote_fields",))
    return found


def _filler(annotation: Any) -> Any:
    """A constant the mapping can give a required field that is not under test."""
    kind = _single(annotation)
    if typing.get_origin(kind) is list:
        return [_filler(typing.get_args(kind)[0])]
    if _is_model(kind):  # its required fields, or its first one: an empty group is left out
        fields = [(name, info) for name, info in kind.model_fields.items() if info.is_required()]
        fields = fields or list(kind.model_fields.items())[:1]
        return {info.alias or name: _filler(info.annotation) for name, info in fields}
    if typing.get_origin(kind) is Literal:
        return {"value": typing.get_args(kind)[0]}
    constants = {int: 1, float: 1.5, bool: True, dt.datetime: "2024-01-01", dict: {"k": "x"}}
    return {"value": constants.get(kind, "x")}


def _remote_mapping(path: Path_) -> dict[str, Any]:
    """The `remote_fields:` of a mapping that sets `path` from the column V, with whatever
    the SDK requires beside it on the way."""
    model: Any = PostAtsCandidatesRequestBody
    root: dict[str, Any] = {}
    node: Any = root
    for depth, key in enumerate(path):
        if isinstance(key, int):
            continue
        info = next(i for n, i in model.model_fields.items() if (i.alias or n) == key)
        if depth == len(path) - 1:
            node[key] = {"column": "V"}
            break
        kind = _single(info.annotation)
        model = typing.get_args(kind)[0] if typing.get_origin(kind) is list else kind
        child = {
            i.alias or n: _filler(i.annotation)
            for n, i in model.model_fields.items()
            if i.is_required()
        }
        node[key] = [child] if typing.get_origin(kind) is list else child
        node = child
    return root["remote_fields"]


def build_one(
    tmp_path: Path, mapping: dict[str, Any], headers: list[str], cells: tuple[Any, ...]
) -> BuiltRow:
    """One row, with the cells exactly as a reader hands them over, through a mapping file."""
    path = tmp_path / "mapping.yaml"
    path.write_text(yaml.safe_dump(mapping, sort_keys=False, allow_unicode=True), encoding="utf-8")
    loaded = load_mapping(path)
    loaded = loaded.bind(headers, "the test's row")
    return RequestBuilder(loaded, FolderSource(tmp_path)).build(SourceRow(2, cells))


def _at(body: Any, path: Path_) -> Any:
    for key in path:
        body = body[key]
    return body


def _good(kind: Any) -> tuple[Any, Any]:
    """(a cell as a spreadsheet gives it, the JSON value Kombo should receive)."""
    if typing.get_origin(kind) is Literal:
        return typing.get_args(kind)[0], typing.get_args(kind)[0]
    return {
        int: (42.0, 42),
        float: (7, 7.0),
        bool: ("ja", True),
        dt.datetime: ("2024-05-01", "2024-05-01T00:00:00Z"),
    }[kind]


def _bad(kind: Any) -> tuple[Any, str]:
    """(a cell that cannot be this type, the problem code the row should carry)."""
    if typing.get_origin(kind) is Literal:
        return "Maybe", "unknown_value"
    return {
        int: (42.5, "invalid_number"),
        float: ("lots", "invalid_number"),
        bool: ("vielleicht", "unknown_value"),
        dt.datetime: ("31.02.2024", "invalid_date"),
    }[kind]


def _name(path: Path_) -> str:
    """The path as a report names it: remote_fields.recruitcrm.custom_fields[0].field_id."""
    return ".".join(str(p) for p in path).replace(".0.", "[0].")


def test_every_typed_remote_field_goes_out_as_the_sdk_types_it(tmp_path):
    """Each typed remote field is coerced in the dry run (42.0 -> 42, a date text -> a moment)
    and sent as the model serialises it: the body is valid JSON and the SDK reads it back
    unchanged. Today's datetimes crashed json.dumps at send time; integers went out as 42.0."""
    fields = {_name(path): kind for path, kind in typed_remote_fields()}
    assert fields["remote_fields.piloga.candidate.geburtsdatum"] is dt.datetime  # the walk works
    assert fields["remote_fields.recruitcrm.custom_fields[0].field_id"] is int
    assert fields["remote_fields.covetorest.candidate.aktiv"] == Literal["Ja", "Nein"]
    assert {int, float, bool, dt.datetime} <= set(fields.values())
    wrong = []
    for path, kind in typed_remote_fields():
        cell, expected = _good(kind)
        mapping = {"candidate": PERSON, "application": JOB, "remote_fields": _remote_mapping(path)}
        try:
            built = build_one(tmp_path, mapping, ["V"], (cell,))
            assert built.request is not None, built.issues
            sent = json.loads(encode_request(built.request)[0])
            got = _at(sent, path)
            echoed = PostAtsCandidatesRequestBody.model_validate(sent).model_dump(
                mode="json", by_alias=True, exclude_none=True
            )
        except Exception as exc:  # noqa: BLE001 - every field's failure is listed at the end
            wrong.append(f"{_name(path)}: {type(exc).__name__}: {exc}")
            continue
        if got != expected or type(got) is not type(expected):
            wrong.append(f"{_name(path)}: sent {got!r}, expected {expected!r}")
        elif echoed != sent:
            wrong.append(f"{_name(path)}: the SDK reads {sent} back as {echoed}")
    assert not wrong, "\n".join(wrong)


def test_a_wrong_value_in_a_typed_remote_field_is_a_problem_on_its_row(tmp_path):
    """The dry run says what is wrong with the cell, with the code of its type; 42.5 for an
    integer is never rounded away (today it surfaced as the SDK's `invalid_value`)."""
    wrong = []
    for path, kind in typed_remote_fields():
        cell, code = _bad(kind)
        mapping = {"candidate": PERSON, "application": JOB, "remote_fields": _remote_mapping(path)}
        built = build_one(tmp_path, mapping, ["V"], (cell,))
        found = [(issue.field, issue.code) for issue in built.issues]
        if built.request is not None or found != [(_name(path), code)]:
            wrong.append(f"{_name(path)} with {cell!r}: {found or 'accepted'}, expected {code}")
    assert not wrong, "\n".join(wrong)


def test_integer_fields_take_whole_numbers_in_any_spelling(tmp_path):
    """A spreadsheet stores 42 as 42.0 and a CSV as "42": both are the integer 42."""
    mapping = {
        "candidate": PERSON,
        "application": JOB,
        "remote_fields": {"covetorest": {"candidate": {"status": "V", "mandant": "M"}}},
    }
    for cell in (42.0, 42, "42", " 42 ", "42,0"):
        built = build_one(tmp_path, mapping, ["V", "M"], (cell, 3))
        sent = json.loads(encode_request(built.request)[0])["remote_fields"]["covetorest"]
        assert sent == {"candidate": {"status": 42, "mandant": 3.0}}, cell
        assert type(sent["candidate"]["status"]) is int
        assert type(sent["candidate"]["mandant"]) is float
    built = build_one(tmp_path, mapping, ["V", "M"], ("42.5", 3))
    (issue,) = built.issues
    assert issue.code == "invalid_number"
    assert "remote_fields.covetorest.candidate.status takes only whole numbers" in issue.message


def test_the_remote_fields_the_sdk_drops_are_put_back_as_json_beside_its_own(tmp_path):
    """Only keys missing from the model's JSON come from the built dict, converted as the model
    converts: a date cell in greenhouse.candidate goes out as 2024-05-01T00:00:00Z like every
    other date (it went out as 2024-05-01T00:00:00, which Kombo's date-time validator refuses),
    and a value the model typed is never replaced by the raw one."""
    mapping = {
        "candidate": PERSON,
        "application": JOB,
        "remote_fields": {
            "greenhouse": {
                "post_headers": {"On-Behalf-Of": {"value": "4080"}},
                "candidate": {
                    "custom_fields": [{"id": {"value": 11}, "value": "D"}],
                    "nickname": "N",
                },
            },
            "workable": {"candidate": {"born": "D"}},
            "piloga": {"candidate": {"geburtsdatum": "D"}},
        },
    }
    built = build_one(tmp_path, mapping, ["D", "N"], (dt.datetime(2024, 5, 1), "Ann"))
    sent = json.loads(encode_request(built.request)[0])
    assert sent["remote_fields"] == {
        "greenhouse": {
            "post_headers": {"On-Behalf-Of": "4080"},
            "candidate": {
                "custom_fields": [{"id": 11, "value": "2024-05-01T00:00:00Z"}],
                "nickname": "Ann",
            },
        },
        "workable": {"candidate": {"born": "2024-05-01T00:00:00Z"}},
        "piloga": {"candidate": {"geburtsdatum": "2024-05-01T00:00:00Z"}},
    }


def test_a_value_json_cannot_carry_is_refused_before_anything_is_sent(tmp_path):
    """NaN is not JSON: a mapping constant .nan in a free-form field used to reach json.dumps,
    which wrote the invalid token NaN into the body."""
    mapping = {
        "candidate": PERSON,
        "application": JOB,
        "remote_fields": {"lever": {"candidate": {"score": {"value": float("nan")}}}},
    }
    with pytest.raises(
        ConfigError,
        match=r"remote_fields\.lever\.candidate\.score: the constant "
        r"'nan' is not a finite number",
    ):
        build_one(tmp_path, mapping, [], ())


# --- attachments' content_type ---------------------------------------------------------------


def test_a_content_type_that_is_not_type_slash_subtype_is_a_config_error(tmp_path, write_mapping):
    """Kombo's pattern is ^[\\w.-]+/[\\w.-]+$; "pdf" used to be sent as it was. The error comes
    when the mapping is loaded, once, not on every row."""
    path = write_mapping("""
        candidate: {first_name: F, last_name: L, email_address: E}
        application: {job_id: {value: J}}
        attachments:
          - {column: CV, type: CV}
          - column: Letter
            type: COVER_LETTER
            content_type: pdf
        """)
    with pytest.raises(ConfigError) as caught:
        load_mapping(path)
    message = str(caught.value)
    assert message.startswith(
        f"{path}, line 7, at attachments[1].content_type: 'pdf' is not a content type Kombo accepts"
    )
    assert "Did you mean 'application/pdf'?" in message
    for bad in ("application/pdf; charset=binary", "image/svg+xml", "application/", "/pdf"):
        text = (
            "candidate: {}\napplication: {}\n"
            f"attachments: [{{column: CV, content_type: '{bad}'}}]\n"
        )
        with pytest.raises(ConfigError, match="line 3, at attachments\\[0\\].content_type"):
            load_mapping(write_mapping(text, name="bad.yaml"))
    (tmp_path / "cv.bin").write_bytes(b"%PDF-1.4 cv")
    mapping = {
        "candidate": PERSON,
        "application": JOB,
        "attachments": [{"column": "CV", "type": "CV", "content_type": "application/pdf"}],
    }
    built = build_one(tmp_path, mapping, ["CV"], ("cv.bin",))
    (attachment,) = json.loads(encode_request(built.request)[0])["attachments"]
    assert attachment["content_type"] == "application/pdf"  # a valid one is sent as given


# --- emails and URLs in ASCII ----------------------------------------------------------------


def fails(check: Any, value: str, code: str) -> str:
    with pytest.raises(RowProblem) as caught:
        check(value)
    assert caught.value.code == code
    return caught.value.message


def test_an_email_domain_in_another_script_is_sent_in_its_idna_form():
    """The spec's `email` format is ASCII (RFC 5321): the domain has a lossless ASCII form."""
    assert transforms.check_email("anna@münchen.de") == "anna@xn--mnchen-3ya.de"
    assert transforms.check_email("anna@MÜNCHEN.de") == "anna@xn--mnchen-3ya.de"
    assert transforms.check_email("anna@пример.рф") == "anna@xn--e1afmkfd.xn--p1ai"
    assert transforms.check_email("anna@xn--mnchen-3ya.de") == "anna@xn--mnchen-3ya.de"
    assert transforms.check_email("anna@example.com") == "anna@example.com"  # the fast path


def test_an_email_without_an_ascii_form_is_a_problem_that_says_why():
    """Letters beyond ASCII before the @ (RFC 6531) have no ASCII form and Kombo's `email`
    format refuses them; a domain IDNA cannot encode is no domain."""
    message = fails(transforms.check_email, "jürgen@example.com", "invalid_email")
    assert message.startswith(
        "'jürgen@example.com' has 'ü' (U+00FC) before the @; Kombo takes only ASCII"
    )
    assert "(U+200B)" in fails(transforms.check_email, "anna\u200b@example.com", "invalid_email")
    message = fails(transforms.check_email, "anna@☕.com", "invalid_email")
    assert message.startswith("'anna@☕.com': the domain '☕.com' has no valid ASCII form (IDNA:")
    assert fails(transforms.check_email, "anna@bü..de", "invalid_email") == (
        "'anna@bü..de' is not an email address; expected name@example.com."
    )


def test_a_url_in_another_script_is_sent_as_a_uri():
    """The host in IDNA form, the rest percent-encoded as UTF-8 (an IRI's URI, RFC 3987)."""
    check = transforms.check_url
    assert check("https://münchen.de/straße?q=ä#ü") == (
        "https://xn--mnchen-3ya.de/stra%C3%9Fe?q=%C3%A4#%C3%BC"
    )
    assert check("münchen.de/jobs") == "https://xn--mnchen-3ya.de/jobs"
    assert check("https://пример.рф:8080/") == "https://xn--e1afmkfd.xn--p1ai:8080/"
    assert check("https://www.linkedin.com/in/jürgen") == (
        "https://www.linkedin.com/in/j%C3%BCrgen"
    )
    assert check("https://anna_wolf.dev") == "https://anna_wolf.dev"  # ASCII stays as it was
    message = fails(check, "https://☕.example", "invalid_url")
    assert message.startswith("'https://☕.example': the domain '☕.example' has no valid ASCII")
    fails(check, "https://example.com/a\u00a0b", "invalid_url")  # a space is never encoded away
    fails(check, "Profil auf Anfrage, ü", "invalid_url")


def test_the_body_carries_the_ascii_forms(tmp_path):
    mapping = {
        "candidate": {**PERSON, "email_address": "E", "social_links": ["L"]},
        "application": JOB,
    }
    built = build_one(tmp_path, mapping, ["E", "L"], ("Anna@Bücher.de", "bücher.de/anna"))
    assert built.request is not None, built.issues
    candidate = json.loads(encode_request(built.request)[0])["candidate"]
    assert candidate["email_address"] == "Anna@xn--bcher-kva.de"
    assert candidate["social_links"] == [{"url": "https://xn--bcher-kva.de/anna"}]


# --- the bundled example, end to end ---------------------------------------------------------


def _moment(cell: Any) -> str:
    day = cell.date() if isinstance(cell, dt.datetime) else dt.datetime.strptime(cell, "%d.%m.%Y")
    return f"{day:%Y-%m-%d}T00:00:00Z"


def _phone(cell: Any) -> str:
    digits = re.sub(r"\D", "", str(cell))
    if isinstance(cell, int) or str(cell).startswith("+"):
        return "+" + digits  # a number cell already holds its country code
    return "+49" + digits.removeprefix("0")


def _amount(cell: Any) -> float:
    if isinstance(cell, (int, float)):
        return float(cell)
    text = cell.replace("€", "").strip()
    if text.endswith("k"):
        return float(text[:-1]) * 1000
    return float(text.replace(".", "").replace(",", "."))


COUNTRIES = {
    "Germany": "DE",
    "Deutschland": "DE",
    "DEU": "DE",
    "DE": "DE",
    "Netherlands": "NL",
    "France": "FR",
    "Poland": "PL",
    "Schweiz": "CH",
    "Österreich": "AT",
    "United Kingdom": "GB",
}
YES_NO = {"yes": True, "ja": True, "no": False, "nein": False}
CONTENT_TYPES = {
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


# The ATS's ids of the Skills question's options (MULTI_SELECT): answers go by id, not by name.
SKILL_IDS = {option["name"]: option["id"] for option in SKILL_OPTIONS}


def expected_body(row: dict[str, Any], mapping: dict[str, Any], folder: Path) -> dict[str, Any]:
    """What example.yaml says the row becomes, worked out here without the importer."""

    def present(*pairs: tuple[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in pairs if value is not None}

    def mapped(column: str, table: dict[str, str]) -> str | None:
        cell = row[column]
        folded = {key.casefold(): value for key, value in table.items()}
        return None if cell is None else folded[cell.casefold()]

    candidate = mapping["candidate"]
    links = [row["LinkedIn"]] if row["LinkedIn"] else []
    links += [part.strip() for part in (row["Other links"] or "").split(";") if part.strip()]
    links = [link if link.startswith("https://") else "https://" + link for link in links]
    attachments = []
    for column, kind in (("CV", "CV"), ("Cover letter", "COVER_LETTER")):
        if row[column]:
            file = folder / row[column]
            attachments.append(
                {
                    "name": file.name,
                    "type": kind,
                    "content_type": CONTENT_TYPES[file.suffix],
                    "data": base64.b64encode(file.read_bytes()).decode(),
                }
            )
    questions = list(mapping["screening_question_answers"])
    answers = []
    if row["Work permit"] is not None:
        answers.append({"question_id": questions[0], "answer": YES_NO[row["Work permit"]]})
    if row["Skills"]:
        answers.append(
            {
                "question_id": questions[1],
                "answer": [SKILL_IDS[s.strip()] for s in row["Skills"].split(",")],
            }
        )
    amount = _amount(row["Salary expectation"]) if row["Salary expectation"] else None
    application = mapping["application"]
    body = present(
        (
            "candidate",
            present(
                ("first_name", row["First Name"]),
                ("last_name", row["Last Name"]),
                ("email_address", row["E-Mail"].lower()),
                ("phone_number", _phone(row["Mobile"]) if row["Mobile"] else None),
                ("gender", mapped("Gender", candidate["gender"]["map"])),
                (
                    "availability_date",
                    _moment(row["Available from"]) if row["Available from"] else None,
                ),
                ("salary_expectations", {"period": "YEAR", "amount": amount} if amount else None),
                ("company", row["Current company"]),
                ("title", row["Current title"]),
                ("location", {"city": row["City"], "country": COUNTRIES[row["Country"]]}),
                ("social_links", [{"url": link} for link in links] or None),
            ),
        ),
        (
            "application",
            present(
                ("job_id", mapped("Job", application["job_id"]["map"])),
                ("stage_id", mapped("Stage", application["stage_id"]["map"])),
            ),
        ),
        ("attachments", attachments or None),
        ("screening_question_answers", answers or None),
        (
            "gdpr_consent",
            present(
                ("given", YES_NO[row["GDPR consent"]] if row["GDPR consent"] else None),
                ("expires_at", _moment(row["Consent until"]) if row["Consent until"] else None),
            )
            or None,
        ),
        ("remote_fields", {"greenhouse": {"post_headers": {"On-Behalf-Of": "4080"}}}),
    )
    return body


def test_the_example_arrives_at_the_sandbox_exactly_as_the_file_says(tmp_path):
    """A guard over the whole path (read, map, check, serialise, send): for every valid row of
    the bundled example, what the sandbox received is what the spreadsheet and example.yaml
    say, field by field; Skills named by option name arrive as the option ids the job lists."""
    source = ROOT / "example_data" / "candidates.xlsx"
    mapping_path = ROOT / "mappings" / "example.yaml"
    mapping = yaml.safe_load(mapping_path.read_text(encoding="utf-8"))
    sheet = openpyxl.load_workbook(source, read_only=True)["Candidates"]
    rows = list(sheet.iter_rows(values_only=True))
    header_at = next(i for i, cells in enumerate(rows) if "E-Mail" in cells)
    headers = rows[header_at]
    by_row = {
        header_at + 2 + i: dict(zip(headers, cells, strict=True))
        for i, cells in enumerate(rows[header_at + 1 :])
    }

    results = tmp_path / "results.csv"
    with Sandbox() as sandbox:
        settings = SubmitSettings(
            server_url=sandbox.url,
            api_key=sandbox.config.api_key,
            integration_id=sandbox.config.integration_id,
        )
        options = SubmitOptions(DryRunOptions(source, mapping_path), results, check_remote=True)
        outcome = submit_file(options, settings)
        received = {created.candidate_id: created.body for created in sandbox.state.created}

    created = [r for r in read_csv(results) if r["status"] == "created"]
    assert len(created) == outcome.dry.summary.valid == len(received) > 40
    for result in created:
        number = int(result["row"])
        got, expected = (
            received[result["candidate_id"]],
            expected_body(by_row[number], mapping, source.parent),
        )
        for part in sorted(expected.keys() | got.keys()):
            mine, theirs = expected.get(part), got.get(part)
            if isinstance(mine, dict) and isinstance(theirs, dict):
                for key in sorted(mine.keys() | theirs.keys()):
                    assert theirs.get(key) == mine.get(key), f"row {number}, {part}.{key}"
            assert theirs == mine, f"row {number}, {part}"
