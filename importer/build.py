"""One row + the mapping -> a `PostAtsCandidatesRequest`, or every problem of that row at once.

The mapping's tree is compiled once into nested closures (one per node), so a row costs a few
function calls per field rather than a walk that re-decides everything per cell: this is what
keeps the dry run above 40,000 rows/s.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import math
import re
import typing
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kombo.models import PostAtsCandidatesRequestBody
from pydantic import ValidationError

from . import issues, transforms
from .actions import Action, actions_of
from .attachments import AttachmentRef, AttachmentSource
from .errors import ConfigError
from .issues import Issue, RowProblem, Severity, errors_in
from .mapping import (
    AFTER_CREATE,
    AnswersNode,
    AttachmentNode,
    FileAnswerNode,
    Leaf,
    ListNode,
    Mapping,
    Node,
    ObjectNode,
    template_columns,
)
from .readers import MAX_CELL_CHARS, SourceRow
from .transforms import as_text

_INVALID = object()  # a value was given but is wrong; its issue is already recorded
MEMO_SIZE = 4096  # distinct cells remembered per field
# C0 controls but tab, line feed and carriage return; DEL; C1 controls (a sign of a wrong decoding).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

# Our checks beyond the SDK's, and the transform that already makes each one unnecessary.
_CHECKS: dict[str, tuple[Callable[[Any], str], str]] = {
    "email": (transforms.check_email, "email"),
    "phone": (transforms.check_phone, "phone"),
    "country": (transforms.to_country_code, "country"),
    "url": (transforms.check_url, "url"),
}


class PostAtsCandidatesRequest:
    """The unit of work: one `POST /ats/candidates` for one integration.

    `payload` is the body as the mapping built it, which the SDK's schema accepted (`sdk_shape`);
    `body` is the SDK's model of it, made on first use: a dry run checks every row but sends
    none, and building the model cost it 8.9 us a row, a quarter of its time. `remote_fields` is the
    mapping's output as built: `client.request_body` adds back from it only what SDK 1.4 drops.
    `attachments` are the files behind `body.attachments`, encoded only when sent; `answer_files`
    the same for FILE answers: (question id, file) for each answer in
    `body.screening_question_answers` that is a local file or a URL.
    `sourced_by_email` is the sourcing user's email when the mapping names them so: the body has
    no `sourced_by` until `checks.JobCatalog` has looked their id up.
    """

    __slots__ = (
        "_body",
        "actions",
        "answer_files",
        "attachments",
        "integration_id",
        "payload",
        "remote_fields",
        "sourced_by_email",
    )

    def __init__(
        self,
        integration_id: str | None,
        payload: dict[str, Any],
        remote_fields: dict[str, Any] | None,
        attachments: tuple[AttachmentRef, ...],
        answer_files: tuple[tuple[str, AttachmentRef], ...] = (),
        sourced_by_email: str | None = None,
        actions: tuple[Action, ...] = (),  # after the create: the mapping's notes, rejection, tags
    ) -> None:
        self.integration_id = integration_id
        self.payload = payload
        self.remote_fields = remote_fields
        self.attachments = attachments
        self.answer_files = answer_files
        self.sourced_by_email = sourced_by_email
        self.actions = actions
        self._body: PostAtsCandidatesRequestBody | None = None

    def replace(self, **changes: Any) -> PostAtsCandidatesRequest:
        """A copy with `changes` (the constructor's names); its model is made again."""
        fields = {name: getattr(self, name) for name in self.__slots__ if name != "_body"}
        return PostAtsCandidatesRequest(**{**fields, **changes})

    @property
    def body(self) -> PostAtsCandidatesRequestBody:
        """The SDK's model of the payload, as `client.request_body` serialises it."""
        if self._body is None:
            self._body = sdk_model(self.payload)
        return self._body

    @property
    def email_address(self) -> str:
        email: str = self.payload["candidate"]["email_address"]
        return email

    @property
    def job_id(self) -> str:
        job_id: str = self.payload["application"]["job_id"]
        return job_id

    @property
    def stage_id(self) -> str | None:
        stage_id: str | None = self.payload["application"].get("stage_id")
        return stage_id

    @property
    def files(self) -> tuple[AttachmentRef, ...]:
        """Every file the request sends: the attachments, then the FILE answers."""
        return self.attachments + tuple(ref for _, ref in self.answer_files)


def sdk_model(payload: dict[str, Any]) -> PostAtsCandidatesRequestBody:
    """The SDK's model of a body its schema accepted; a deprecated field's warning is the
    summary's to give, once."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return PostAtsCandidatesRequestBody.model_validate(payload)


@functools.cache
def sdk_shape() -> Callable[[Any], Any]:
    """The SDK's own check of a body, as a TypeAdapter over its TypedDict of the body: the same
    schema as the model (fields, types, required keys, literals), without building eight model
    instances per row: 5.9 us a row against 8.9 us (20,000 bodies of the benchmark). The two
    differ only on a None, which the model takes as absent and the TypedDict refuses; a built
    body never holds one (an absent value is left out), and tests/test_sdk_shape.py checks that
    they agree on every other value."""
    from kombo.models import PostAtsCandidatesRequestBodyTypedDict
    from pydantic import TypeAdapter

    return TypeAdapter(PostAtsCandidatesRequestBodyTypedDict).validate_python


@dataclass(frozen=True, slots=True)
class BuiltRow:
    """What became of one source row: a request (and its warnings), or the problems that stop
    it (`request` is None exactly when `issues` holds an error)."""

    source: SourceRow
    request: PostAtsCandidatesRequest | None
    issues: list[Issue]

    @property
    def row_number(self) -> int:
        return self.source.row_number


class _Row:
    """The state of one row's evaluation: its cells, the issues found, the files referenced."""

    __slots__ = ("answer_files", "issues", "number", "refs", "values")

    def __init__(self, row: SourceRow) -> None:
        self.number = row.row_number
        self.values = row.values
        self.issues: list[Issue] = []
        self.refs: list[AttachmentRef] = []
        self.answer_files: list[tuple[str, AttachmentRef]] = []

    def add(
        self,
        leaf: Leaf,
        value: Any,
        code: str,
        message: str,
        field: str | None = None,
        severity: Severity = Severity.ERROR,
    ) -> None:
        shown = None if value is None else as_text(value)
        self.issues.append(
            Issue(self.number, leaf.label, field or leaf.path, shown, code, message, severity)
        )


Evaluator = Callable[[_Row, bool], Any]  # (row, force) -> value | None (absent) | _INVALID


@dataclass(frozen=True)
class _Context:
    """What compiling needs besides the tree: where files are, the mapping's path for errors,
    and the date order each date column was found to have."""

    attachments: AttachmentSource
    mapping_path: Path
    date_orders: dict[int, DateOrder]


@dataclass(frozen=True)
class DateOrder:
    """How the numeric dates of one column are read, decided once from all of its values."""

    order: str | None  # transforms.DAY_FIRST / MONTH_FIRST; None: nothing settles it
    settled_by: str  # for messages: "312 dates in the column are day first"
    inferred: bool = False  # proven by the column's values: each ambiguous one gets a warning


def guessed_date_leaves(mapping: Mapping) -> list[tuple[Leaf, bool | None]]:
    """The leaves whose column's dates are read by guessing the order (a `date` transform
    without `formats`, or a date field without one), each with its transform's explicit
    `dayfirst`; known before the mapping is bound, so a file is read for them only if needed."""
    found: list[tuple[Leaf, bool | None]] = []
    for leaf in mapping.leaves():
        if leaf.spec.column is None:
            continue
        steps = [function for name, function in leaf.transforms if name == "date"]
        keywords = [getattr(step, "keywords", {}) for step in steps]
        if any(not k.get("formats") for k in keywords) or (not steps and leaf.kind == "datetime"):
            explicit = [k["dayfirst"] for k in keywords if "dayfirst" in k]
            found.append((leaf, explicit[0] if explicit else None))
    return found


def date_order_columns(mapping: Mapping) -> dict[int, bool | None]:
    """Column index -> explicit dayfirst, for a bound mapping's guessed date columns."""
    found: dict[int, bool | None] = {}
    for leaf, explicit in guessed_date_leaves(mapping):
        if leaf.index is not None:
            found[leaf.index] = explicit if explicit is not None else found.get(leaf.index)
    return found


class RequestBuilder:
    """Builds requests from rows with a bound mapping; holds no state between rows."""

    def __init__(
        self,
        mapping: Mapping,
        attachments: AttachmentSource,
        integration_id: str | None = None,
        date_orders: dict[int, DateOrder] | None = None,
    ) -> None:
        self.mapping = mapping
        self.attachments = attachments
        self.integration_id = integration_id
        self._evaluate = _compile(
            mapping.body, _Context(attachments, mapping.path, date_orders or {})
        )
        self._mapped_columns = frozenset(mapping.bound_headers())
        self._check_shape = sdk_shape()

    def build(self, row: SourceRow) -> BuiltRow:
        """The row's request with its warnings, or every problem of the row (no request)."""
        state = _Row(row)
        if row.problems:
            state.issues.extend(self._reader_problems(row.problems))
        body = self._evaluate(state, True)
        after = body.pop(AFTER_CREATE, None) if type(body) is dict else None
        actions, problems = actions_of(
            after, self.mapping.after_create, row.row_number, self.mapping
        )
        state.issues.extend(problems)
        if errors_in(state.issues) or not isinstance(body, dict):
            return BuiltRow(row, None, state.issues)
        user_email = _take_user_email(body)
        try:
            self._check_shape(body)
        except ValidationError as exc:
            return BuiltRow(row, None, state.issues + _sdk_issues(row, exc, self.mapping))
        request = PostAtsCandidatesRequest(
            self.integration_id,
            body,
            body.get("remote_fields"),
            tuple(state.refs),
            tuple(state.answer_files),
            user_email,
            actions,
        )
        return BuiltRow(row, request, state.issues)

    def _reader_problems(self, found: tuple[Issue, ...]) -> list[Issue]:
        """What the reader found: as it says in a column the mapping uses (or the whole row),
        a warning only in a column nobody sends."""
        return [
            issue
            if issue.severity is Severity.WARNING
            or not issue.column
            or issue.column in self._mapped_columns
            else dataclasses.replace(
                issue,
                severity=Severity.WARNING,
                message=f"{issue.message} (the mapping does not use this column)",
            )
            for issue in found
        ]


def _take_user_email(body: dict[str, Any]) -> str | None:
    """`sourced_by: {user_email: …}` as built: the email, taken out of the body, which gets
    `sourced_by: {user_id: …}` once the integration's users are known (`JobCatalog`)."""
    sourced = body.get("sourced_by")
    if type(sourced) is not dict or "user_email" not in sourced:
        return None
    del body["sourced_by"]
    email: str = sourced["user_email"]
    return email


# --- compiling the tree ----------------------------------------------------------------------


def _compile(node: Node, ctx: _Context) -> Evaluator:
    if isinstance(node, Leaf):
        return _compile_leaf(node, ctx)
    if isinstance(node, ObjectNode):
        return _compile_object(node, ctx)
    if isinstance(node, ListNode):
        return _compile_list(node, ctx)
    if isinstance(node, AnswersNode):
        return _compile_answers(node, ctx)
    if isinstance(node, FileAnswerNode):
        raise TypeError("a FILE answer is compiled with its question id (_compile_answers)")
    return _compile_attachment(node, ctx)


def _compile_object(node: ObjectNode, ctx: _Context) -> Evaluator:
    children = [
        (key, _compile(child, ctx), isinstance(child, Leaf) and child.spec.value is not None)
        for key, child in node.children.items()
    ]
    by_key = {key: evaluate for key, evaluate, _ in children}
    required = [(key, node.children.get(key)) for key in sorted(node.required)]
    required_keys = frozenset(node.required)
    constant = node.constant
    path = node.path

    def evaluate(row: _Row, force: bool) -> Any:
        out: dict[str, Any] = {}
        present = False
        invalid: list[str] = []
        issues_before = len(row.issues)
        for key, child, is_constant in children:
            value = child(row, False)
            if value is None:
                continue
            if value is _INVALID:
                present = True
                invalid.append(key)
                continue
            out[key] = value
            if not is_constant:  # a constant alone (period: YEAR) does not make a salary
                present = True
        if constant:
            present = bool(out) or bool(invalid)  # an invalid child is reported once
        if not present and not force:
            return None
        if not invalid and required_keys <= out.keys():
            return out
        for key, child_node in required:
            if key in out or key in invalid:
                continue
            if isinstance(child_node, Leaf):
                _report_missing(row, child_node)
            elif child_node is None:
                where = f"{path}.{key}" if path else key
                row.issues.append(
                    Issue(
                        row.number,
                        "",
                        where,
                        None,
                        issues.REQUIRED,
                        f"{where} is required but the mapping does not set it; add it to the "
                        "mapping.",
                    )
                )
            else:
                by_key[key](row, True)  # a required group left empty: name its fields
        if out:
            return out
        return _INVALID if present or len(row.issues) > issues_before else None

    return evaluate


def _report_missing(row: _Row, leaf: Leaf) -> None:
    raw = _raw(row, leaf)
    if _empty(raw):
        what = f"'{leaf.label}' is empty" if leaf.label else "no value"
        row.add(leaf, None, issues.REQUIRED, f"{what}; {leaf.path} is required.")
    else:
        row.add(
            leaf,
            raw,
            issues.REQUIRED,
            f"'{as_text(raw)}' leaves nothing for {leaf.path} after its transforms; it is "
            "required.",
        )


def _compile_list(node: ListNode, ctx: _Context) -> Evaluator:
    items = [_compile(item, ctx) for item in node.items]
    expand = node.expand

    def evaluate(row: _Row, force: bool) -> Any:
        out: list[Any] = []
        invalid = False
        for item in items:
            value = item(row, False)
            if value is None:
                continue
            if value is _INVALID:
                invalid = True
            elif expand and type(value) is dict:
                out.extend(_expand(value))
            elif type(value) is list:
                out.extend(value)
            else:
                out.append(value)
        if out:
            return out
        return _INVALID if invalid else None

    return evaluate


def _compile_answers(node: AnswersNode, ctx: _Context) -> Evaluator:
    answers = [
        (
            question_id,
            _compile_leaf(answer, ctx)
            if isinstance(answer, Leaf)
            else _compile_file_answer(question_id, answer, ctx),
        )
        for question_id, answer in node.answers.items()
    ]

    def evaluate(row: _Row, force: bool) -> Any:
        out = []
        invalid = False
        for question_id, answer in answers:
            value = answer(row, False)
            if value is _INVALID:
                invalid = True
            elif value is not None:
                out.append({"question_id": question_id, "answer": value})
        return out or (_INVALID if invalid else None)

    return evaluate


def _compile_attachment(node: AttachmentNode, ctx: _Context) -> Evaluator:
    file_of = _compile_leaf(node.file, ctx)
    name_of = _compile_leaf(node.name, ctx) if node.name else None
    spec = node.spec

    def evaluate(row: _Row, force: bool) -> Any:
        value = file_of(row, False)
        if value is None or value is _INVALID:
            return value
        name = name_of(row, False) if name_of else None
        out = []
        for text in value if type(value) is list else [value]:
            found = _file(ctx, row, node, text)
            if found is None:
                continue
            ref, content_type = found
            row.refs.append(ref)
            item: dict[str, Any] = {
                "name": name if isinstance(name, str) else ref.name,
                "type": spec.type,
            }
            out.append(_file_body(item, ref, content_type))
        return out or _INVALID

    return evaluate


def _compile_file_answer(question_id: str, node: FileAnswerNode, ctx: _Context) -> Evaluator:
    """A FILE question's answer, `{name, content_type, data_url}` as Kombo's spec has it: the
    file the cell names, resolved and checked exactly as an attachment is; its bytes are read
    and encoded only when sent (`answer_files`)."""
    file_of = _compile_leaf(node.file, ctx)
    name_of = _compile_leaf(node.name, ctx) if node.name else None

    def evaluate(row: _Row, force: bool) -> Any:
        value = file_of(row, False)
        if value is None or value is _INVALID:
            return value
        if type(value) is list:  # made by a transform such as json_list
            if len(value) != 1:
                message = f"a FILE question takes one file; the cell names {len(value)}."
                row.add(node.file, value, issues.INVALID_VALUE, message, field=node.path)
                return _INVALID
            value = value[0]
        found = _file(ctx, row, node, value)
        if found is None:
            return _INVALID
        ref, content_type = found
        row.answer_files.append((question_id, ref))
        name = name_of(row, False) if name_of else None
        return _file_body({"name": name if isinstance(name, str) else ref.name}, ref, content_type)

    return evaluate


def _file(
    ctx: _Context, row: _Row, node: AttachmentNode | FileAnswerNode, text: str
) -> tuple[AttachmentRef, str | None] | None:
    """The file a cell names, resolved and checked in the attachments' folder, with the content
    type to send; None when it cannot be sent (the problem is noted on the row)."""
    try:
        ref = dataclasses.replace(ctx.attachments.resolve(text), cell=text, column=node.file.label)
    except RowProblem as problem:
        row.add(node.file, text, problem.code, problem.message, field=node.path)
        return None
    return ref, node.spec.content_type or ref.content_type


def _file_body(
    item: dict[str, Any], ref: AttachmentRef, content_type: str | None
) -> dict[str, Any]:
    """A file as the body carries it before it is sent: its bytes are added then
    (`client.encode_request`), a URL is Kombo's to download."""
    if content_type:
        item["content_type"] = content_type
    if ref.url:
        item["data_url"] = ref.url
    return item


# --- leaves ----------------------------------------------------------------------------------
#
# Every value of a leaf goes the same way, whatever feeds it: the cell, stripped (an empty one is
# absent, or the default, or a `required` problem), then `_converter`: the transforms, the value
# map, the coercion to the SDK's type and the warnings on what is sent. "Empty" is `_empty`
# throughout, and a value a transform or the map leaves empty is not sent. A cell that becomes a
# list (`split`, the `json_list` transform, a list given as value or default) sends each of its
# items that way (`_each`). Plain column cells, most leaves, are memoised (`_memoised`).

Warnings = tuple[tuple[str, str], ...]  # (code, message) of each warning on a value
Converter = Callable[[Any, Any], tuple[Any, Warnings]]
"""(the cell, as the report shows it and the warnings judge it; the value to convert) -> (what is
sent, None when nothing is left; its warnings). A value that cannot be sent raises RowProblem."""
_NOTHING: tuple[Any, Warnings] = (None, ())


def _compile_leaf(leaf: Leaf, ctx: _Context) -> Evaluator:
    """The hot path: one cell -> the value Kombo expects there, or an issue."""
    # A date column's order, decided once from all of its values, reads its dates, not a guess
    # per cell.
    dated = ctx.date_orders.get(leaf.index) if leaf.index is not None else None
    steps = _steps(leaf, dated)
    coerce = _coercer(leaf, dated)
    if leaf.spec.value is not None and not steps and leaf.value_map is None:
        constant = _constant(leaf, coerce, ctx.mapping_path)
        return lambda row, force: constant
    convert = _converter(leaf, steps, coerce, dated)
    if _memoisable(leaf):
        return _memoised(leaf, convert)
    return _evaluator(leaf, convert, _cell_converter(leaf, steps, coerce, dated, convert))


def _steps(leaf: Leaf, dated: DateOrder | None) -> list[Callable[[Any], Any]]:
    """The leaf's transforms; in a column whose date order is known, `date` reads in that order."""
    return [
        _in_order(function, dated) if dated is not None and name == "date" else function
        for name, function in leaf.transforms
    ]


def _constant(leaf: Leaf, coerce: Callable[[Any], Any], mapping_path: Path) -> Any:
    """A `value:` with no transform or map is the same in every row: checked once, here."""
    try:
        return coerce(leaf.spec.value)
    except RowProblem as error:
        raise ConfigError.at(
            mapping_path, leaf.line, leaf.path, f"the constant {error.message}"
        ) from None


def _converter(
    leaf: Leaf,
    steps: list[Callable[[Any], Any]],
    coerce: Callable[[Any], Any],
    dated: DateOrder | None,
) -> Converter:
    """The one way a single value becomes what is sent: `steps` (the leaf's transforms), the
    value map, the coercion, the warnings. A value a transform or the map leaves empty is not
    sent, and no later transform sees it."""
    value_map = leaf.value_map
    texts = leaf.kind == "str"

    if not steps and value_map is None:  # a plain column: the coercion alone

        def coerce_only(raw: Any, value: Any) -> tuple[Any, Warnings]:
            value = coerce(value)
            if dated is None and type(raw) is str and (type(value) is not str or value.isascii()):
                return value, ()
            return value, _warnings(raw, value, texts, dated)

        return coerce_only

    def convert(raw: Any, value: Any) -> tuple[Any, Warnings]:
        # `_empty` written out, and the warnings skipped when none can fire: this runs once for
        # every distinct cell of every column.
        for step in steps:
            value = step(value)
            if value is None or (type(value) is str and not value.strip()):
                return _NOTHING
        if value_map is not None:
            value = _mapped(leaf, value)
            if value is None or (type(value) is str and not value.strip()):
                return _NOTHING
        value = coerce(value)
        if dated is None and type(raw) is str and (type(value) is not str or value.isascii()):
            return value, ()
        return value, _warnings(raw, value, texts, dated)

    return convert


def _memoisable(leaf: Leaf) -> bool:
    """A plain column cell: one value in, at most one out, nothing else of the row needed."""
    return (
        leaf.index is not None
        and leaf.spec.split is None
        and leaf.spec.default is None
        and not leaf.required
        and all(name != "json_list" for name, _ in leaf.transforms)
    )


def _memoised(leaf: Leaf, convert: Converter) -> Evaluator:
    """Spreadsheets repeat themselves (countries, jobs, stages, dates, yes/no): each distinct cell
    is converted once and remembered, up to MEMO_SIZE of them, problems and warnings included."""
    index = leaf.index if leaf.index is not None else -1
    memo: dict[Any, tuple[Any, Warnings] | RowProblem] = {}

    def evaluate_cell(row: _Row, force: bool) -> Any:
        raw = row.values[index]
        # `_empty`, written out: this runs for every cell, and the stripped text is the key.
        if raw is None:
            return None
        key: Any
        if type(raw) is str:
            # Issues here show the cell stripped (the memo's key), `_evaluator`'s the cell as it
            # is: no test pins either, and it was so before.
            raw = key = raw.strip()
            if not raw:
                return None
        else:
            key = (type(raw), raw)  # True == 1 == 1.0, but they are different cells
        found = memo.get(key)
        if found is None:
            try:
                found = convert(raw, raw)
            except RowProblem as problem:
                found = problem
            if len(memo) < MEMO_SIZE:
                memo[key] = found
        if type(found) is tuple and not found[1]:  # most cells: a value, nothing to note
            return found[0]
        return _settle(row, leaf, raw, found)

    return evaluate_cell


def _evaluator(leaf: Leaf, convert: Converter, convert_cell: Converter) -> Evaluator:
    """Any other leaf (a template, a value with transforms, a default, `required`, a list): the
    cell, or its default, through `convert_cell`; a list given as value or default, each of its
    items through `convert`."""
    default = leaf.spec.default

    def evaluate(row: _Row, force: bool) -> Any:
        raw = _raw(row, leaf)
        if _empty(raw):
            raw = default
            if _empty(raw):
                if leaf.required:
                    row.add(
                        leaf,
                        None,
                        issues.REQUIRED,
                        f"'{leaf.label}' is empty; the mapping marks {leaf.path} as required.",
                    )
                    return _INVALID
                return None
        value = raw.strip() if type(raw) is str else raw
        found: tuple[Any, Warnings] | RowProblem
        try:  # a value or default given as a list goes item by item
            found = _each(raw, value, convert) if type(value) is list else convert_cell(raw, value)
        except RowProblem as problem:
            found = problem
        return _settle(row, leaf, raw, found)

    return evaluate


def _cell_converter(
    leaf: Leaf,
    steps: list[Callable[[Any], Any]],
    coerce: Callable[[Any], Any],
    dated: DateOrder | None,
    convert: Converter,
) -> Converter:
    """What a cell becomes: its parts (`split`) each through `convert`; with `json_list`, the
    items of the list it makes each through the transforms after it; otherwise one value."""
    split = leaf.spec.split
    if split is not None:

        def convert_parts(raw: Any, value: Any) -> tuple[Any, Warnings]:
            return _each(raw, [part.strip() for part in as_text(value).split(split)], convert)

        return convert_parts
    names = [name for name, _ in leaf.transforms]
    if "json_list" not in names:
        return convert
    made = names.index("json_list") + 1
    make_list = steps[:made]
    convert_item = _converter(leaf, steps[made:], coerce, dated)

    def convert_list(raw: Any, value: Any) -> tuple[Any, Warnings]:
        for step in make_list:
            value = step(value)
            if _empty(value):
                return _NOTHING
        return _each(raw, value, convert_item)

    return convert_list


def _each(raw: Any, items: list[Any], convert: Converter) -> tuple[Any, Warnings]:
    """A list: each item that is not empty through `convert`; None when nothing is left. The
    first problem stops it; the warnings are those of every item sent."""
    sent: list[Any] = []
    warned: list[tuple[str, str]] = []
    for item in items:
        if not _empty(item):
            value, found = convert(raw, item)
            if value is not None:
                sent.append(value)
                warned.extend(found)
    return (sent, tuple(warned)) if sent else _NOTHING


def _settle(row: _Row, leaf: Leaf, raw: Any, found: tuple[Any, Warnings] | RowProblem) -> Any:
    """A converted cell on its row: the value to send, its warnings noted; or, its problem
    noted, _INVALID."""
    if isinstance(found, RowProblem):
        row.add(leaf, raw, found.code, found.message)
        return _INVALID
    value, warned = found
    for code, message in warned:
        row.add(leaf, raw, code, message, severity=Severity.WARNING)
    return value


# Text that UTF-8 became when read as Windows-1252 or Latin-1: Ã¼ for ü, â€™ for ’, Â  for a
# no-break space.
_MOJIBAKE = re.compile(
    "Ã[\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]|â€|Â[\u00a0-\u00bf]"
)


def _in_order(step: Callable[[Any], Any], dated: DateOrder) -> Callable[[Any], Any]:
    """A `date` step that reads numeric dates in the column's order."""
    formats = getattr(step, "keywords", {}).get("formats") or ()
    return functools.partial(
        transforms.parse_date_in_order,
        order=dated.order,
        settled_by=dated.settled_by,
        formats=tuple(formats),
    )


def _warnings(
    raw: Any, value: Any, texts: bool, dated: DateOrder | None = None
) -> tuple[tuple[str, str], ...]:
    """What a person should see about a value that is sent all the same."""
    if dated is None and type(raw) is str and (type(value) is not str or value.isascii()):
        return ()  # nearly every value: none of the checks below can fire
    found: list[tuple[str, str]] = []
    if (
        dated is not None
        and dated.inferred
        and transforms.date_order_evidence(raw) == "ambiguous"
        and isinstance(value, dt.date)
    ):
        found.append(
            (issues.DATE_ORDER, f"'{as_text(raw)}' read as {value:%d %B %Y}: {dated.settled_by}.")
        )
    if texts and type(raw) in (int, float):
        found.append(
            (
                issues.NUMERIC_TEXT,
                f"the cell is a number, sent as '{as_text(value)}'; if the spreadsheet stored a "
                "phone number, postal code or id as a number, a leading 0 or + was lost there. "
                "Format the column as text in the export.",
            )
        )
    if type(value) is str and _mojibake(value):
        found.append(
            (
                issues.MOJIBAKE,
                f"'{value[:60]}' looks like text decoded with the wrong encoding (Ã¼ for ü); check "
                "the file's encoding (--encoding).",
            )
        )
    return tuple(found)


def _mojibake(text: str) -> bool:
    # Every pattern starts with one of these: looking for them first is faster than the search.
    return ("Ã" in text or "â€" in text or "Â" in text) and _MOJIBAKE.search(text) is not None


def _raw(row: _Row, leaf: Leaf) -> Any:
    if leaf.index is not None:
        return row.values[leaf.index]
    if leaf.spec.template is not None:
        return _render(row, leaf)
    return leaf.spec.value


def _render(row: _Row, leaf: Leaf) -> str | None:
    template = leaf.spec.template or ""
    parts = {}
    for column in template_columns(template):
        cell = row.values[leaf.template_indexes[column]]
        parts[column] = "" if _empty(cell) else as_text(cell).strip()
    if not any(parts.values()):
        return None
    return " ".join(template.format_map(parts).split())


def _mapped(leaf: Leaf, value: Any) -> Any:
    key = " ".join(as_text(value).split()).casefold()
    table = leaf.value_map or {}
    if key in table:
        if table[key] is None:
            raise RowProblem(
                issues.UNKNOWN_VALUE,
                f"'{as_text(value)}' has no value yet in the map of {leaf.path}; fill it in under "
                "`map:`.",
            )
        return table[key]
    if leaf.kind == "enum" and _enum_member(leaf.enum, value) is not None:
        return value
    shown = ", ".join(str(k) for k in list(table)[:12])
    raise RowProblem(
        issues.UNKNOWN_VALUE,
        f"'{as_text(value)}' is not in the value map of {leaf.path}; expected one of: {shown}. Add "
        "it under `map:`.",
    )


def _coercer(leaf: Leaf, dated: DateOrder | None) -> Callable[[Any], Any]:
    """The function that turns a transformed value into the type the SDK expects at this leaf,
    running our format check unless a transform has done that already."""
    kind = leaf.kind
    if kind == "str":
        if leaf.check:
            check, made_by = _CHECKS[leaf.check]
            if made_by not in {name for name, _ in leaf.transforms}:
                return _checked_text(check)
        return _text
    if kind == "enum":
        members = leaf.enum

        def member(value: Any) -> str:
            found = _enum_member(members, value)
            if found is None:
                raise RowProblem(
                    issues.UNKNOWN_VALUE,
                    f"'{as_text(value)}' is not one of {', '.join(members)}; map the file's values "
                    "with `map:`.",
                )
            return found

        return member
    if kind == "datetime":
        return _moment_of(leaf, dated)
    if kind == "int" or (kind == "float" and _integer_field(leaf.path)):
        return _integer_of(leaf)
    if kind == "float":
        return transforms.parse_number
    if kind == "bool":
        return transforms.parse_bool
    if kind == "answer":
        return _answer
    return _json_value


def _checked_text(check: Callable[[Any], str]) -> Callable[[Any], str]:
    """`check` (email, phone, URL...) on text that `_text` allows, in one call per value."""

    def checked(value: Any) -> str:
        text = value if type(value) is str else as_text(value)
        if len(text) > MAX_CELL_CHARS or not text.isprintable():
            text = _text(text)
        return check(text)

    return checked


def _text(value: Any) -> str:
    """Text as it may be sent: no control characters (a NUL, an escape sequence) and no more
    than any field holds; otherwise a problem on the row, never sent as it is."""
    text = value if type(value) is str else as_text(value)
    if len(text) <= MAX_CELL_CHARS and text.isprintable():  # nearly every cell: no regex needed
        return text
    if len(text) > MAX_CELL_CHARS:
        raise RowProblem(
            issues.CELL_TOO_LONG,
            f"the value has {len(text):,} characters; no ATS field holds more than "
            f"{MAX_CELL_CHARS:,}. Check that the column is the right one.",
        )
    found = _CONTROL.search(text)
    if found:
        raise RowProblem(
            issues.CONTROL_CHARACTER,
            f"holds the control character {found.group()!r} at position {found.start() + 1}, which "
            "no ATS shows; remove it from the cell.",
        )
    return text


def _moment_of(leaf: Leaf, dated: DateOrder | None) -> Callable[[Any], dt.datetime]:
    """A date field's coercion; with no `date` transform, in its column's order if known."""
    if dated is None or "date" in {name for name, _ in leaf.transforms}:
        return _moment

    def moment_in_order(value: Any) -> dt.datetime:
        return _moment(transforms.parse_date_in_order(value, dated.order, dated.settled_by))

    return moment_in_order


def _moment(value: Any) -> dt.datetime:
    return transforms.to_utc_datetime(
        value if isinstance(value, dt.date) else transforms.parse_date(value)
    )


def _answer(value: Any) -> Any:
    """Screening answers go as the cell gives them: text, yes/no cells as booleans, dates as
    dates."""
    if isinstance(value, bool):
        return value
    if isinstance(value, dt.date):
        return transforms.to_utc_datetime(value)
    return _text(value)


def _json_value(value: Any) -> Any:
    """A free-form (remote) field's value as JSON can carry it, decided in the dry run: text
    checked, a date as the moment `_moment` makes (sent as YYYY-MM-DDT00:00:00Z like every
    other date), no NaN or infinity; a time of day or a duration as the cell shows it."""
    kind = type(value)
    if kind is str:
        return _text(value)
    if value is None or kind is bool or kind is int:
        return value  # None only inside a list or object, from the json_list transform
    if kind is float:
        if math.isfinite(value):
            return value
        message = (
            f"'{as_text(value)}' is not a finite number, which JSON cannot carry; give "
            "a number or leave the cell empty."
        )
        raise RowProblem(issues.INVALID_NUMBER, message)
    if isinstance(value, dt.date):
        return _moment(value)
    if kind is list:
        return [_json_value(item) for item in value]
    if kind is dict:
        return {str(key): _json_value(item) for key, item in value.items()}
    return _text(as_text(value))


def _empty(value: Any) -> bool:
    return value is None or (type(value) is str and not value.strip())


def _enum_member(members: tuple[str, ...], value: Any) -> str | None:
    text = as_text(value).strip()
    if text in members:
        return text
    folded = text.upper().replace(" ", "_").replace("-", "_")
    return folded if folded in members else None


def _expand(item: dict[str, Any]) -> list[dict[str, Any]]:
    """One list item whose fields were split -> one item per part (other fields repeated)."""
    sizes = [len(v) for v in item.values() if type(v) is list]
    if not sizes:
        return [item]
    return [
        {
            k: v[i] if type(v) is list else v
            for k, v in item.items()
            if type(v) is not list or i < len(v)
        }
        for i in range(max(sizes))
    ]


def _sdk_issues(row: SourceRow, error: ValidationError, mapping: Mapping) -> list[Issue]:
    """The SDK's objections, in the report's terms; our own checks usually catch these first."""
    codes = {
        "missing": issues.REQUIRED,
        "literal_error": issues.UNKNOWN_VALUE,
        "float_parsing": issues.INVALID_NUMBER,
        "float_type": issues.INVALID_NUMBER,
        "datetime_parsing": issues.INVALID_DATE,
        "datetime_from_date_parsing": issues.INVALID_DATE,
    }
    found = []
    for detail in error.errors():
        path = ""
        for part in detail["loc"]:
            if isinstance(part, str):  # a union's member, named as the SDK's model is named
                part = part.removesuffix("TypedDict")
            path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
        value = detail.get("input")
        shown = None if isinstance(value, (dict, list)) else value
        found.append(
            Issue(
                row.row_number,
                mapping.label_for(path),
                path,
                shown,
                codes.get(detail["type"], issues.INVALID_VALUE),
                f"{detail['msg']} (checked by the Kombo SDK).",
            )
        )
    return found


# --- integer fields --------------------------------------------------------------------------

_PATH_PARTS = re.compile(r"[^.\[\]]+")
_WHOLE = re.compile(r"^[+-]?\d{1,15}$")  # exact as an int; longer digits go through a float


def _integer_field(path: str) -> bool:
    """Whether the SDK types the field at `path` (keys by name or alias, list positions
    skipped) as an integer (avature's step id, covetorest's status): mapping.py gives such
    fields the kind "float", and 42.0 is not what an integer field should receive."""
    model: Any = PostAtsCandidatesRequestBody
    types: list[Any] = []
    for part in _PATH_PARTS.findall(path):
        if part.isdigit():
            continue
        fields = getattr(model, "model_fields", None)
        if fields is None:
            return False
        info = fields.get(part) or next((f for f in fields.values() if f.alias == part), None)
        if info is None:
            return False
        types = _types_in(info.annotation)
        models = [t for t in types if isinstance(t, type) and hasattr(t, "model_fields")]
        model = models[0] if len(models) == 1 else None
    return int in types and float not in types


def _types_in(annotation: Any) -> list[Any]:
    """The types an annotation admits: Optional, list, Annotated and the SDK's Nullable
    aliases taken apart."""
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is None or not args:
        return [annotation]
    return [found for arg in args for found in _types_in(arg)]


def _integer_of(leaf: Leaf) -> Callable[[Any], int]:
    """The coercion of an integer field: 42 from 42, 42.0 (a spreadsheet's numbers are all
    floats) or "42"; a fraction is a problem on the row, never rounded away."""
    path = leaf.path

    def integer(value: Any) -> int:
        if type(value) is int:
            return value
        if type(value) is str and _WHOLE.match(value.strip()):
            return int(value)
        number = transforms.parse_number(value)
        if not number.is_integer():
            message = (
                f"'{as_text(value)}' is not a whole number, and {path} takes only "
                "whole numbers such as 42; correct the cell."
            )
            raise RowProblem(issues.INVALID_NUMBER, message)
        return int(number)

    return integer
