"""One row + the mapping -> a `PostAtsCandidatesRequest`, or every problem of that row at once.

The mapping's tree is compiled once into one Python function for the body (`_Code`): its fields
one after another, each plain column's memo of settled cells looked up in line, so a row costs
a few dictionary lookups per field rather than a walk that re-decides everything per cell. The
SDK's schema checks the body (`sdk_shape`); its model is built only for what is sent.
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
    none, and building the model cost it 8.9 us a row, a quarter of its time. `remote_fields`
    is the mapping's output as built: `client.request_body` adds back from it only what SDK 1.4
    drops.
    `attachments` are the files behind `body.attachments`, encoded only when sent; `answer_files`
    the same for FILE answers: (question id, file) for each answer in
    `body.screening_question_answers` that is a local file or a URL.
    `sourced_by_email` is the sourcing user's email when the mapping names them so: the body has
    no `sourced_by` until `checks.JobCatalog` has looked their id up.
    """

    FIELDS = (  # the constructor's arguments, in its order
        "integration_id",
        "payload",
        "remote_fields",
        "attachments",
        "answer_files",
        "sourced_by_email",
        "actions",
    )
    __slots__ = (*FIELDS, "_body")

    def __init__(
        self,
        integration_id: str | None,
        payload: dict[str, Any] | PostAtsCandidatesRequestBody,
        remote_fields: dict[str, Any] | None,
        attachments: tuple[AttachmentRef, ...],
        answer_files: tuple[tuple[str, AttachmentRef], ...] = (),
        sourced_by_email: str | None = None,
        actions: tuple[Action, ...] = (),  # after the create: the mapping's notes, rejection, tags
    ) -> None:
        self.integration_id = integration_id
        self._body: PostAtsCandidatesRequestBody | None = None
        if isinstance(payload, PostAtsCandidatesRequestBody):  # as callers of 0.1 gave it
            self._body = payload
            payload = payload.model_dump(by_alias=True, exclude_none=True, warnings=False)
        self.payload = payload
        self.remote_fields = remote_fields
        self.attachments = attachments
        self.answer_files = answer_files
        self.sourced_by_email = sourced_by_email
        self.actions = actions

    def _fields(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.FIELDS}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PostAtsCandidatesRequest):
            return NotImplemented
        return self._fields() == other._fields()

    __hash__ = None  # type: ignore[assignment]  # equal by value, and it holds dicts

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={value!r}" for name, value in self._fields().items())
        return f"PostAtsCandidatesRequest({shown})"

    def replace(self, **changes: Any) -> PostAtsCandidatesRequest:
        """A copy with `changes` (the constructor's names); its model is made again."""
        return PostAtsCandidatesRequest(**{**self._fields(), **changes})

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
    they agree on every other value. A body it refuses is checked again by the model, whose
    verdict and words the report gives (`RequestBuilder.build`)."""
    from kombo.models import PostAtsCandidatesRequestBodyTypedDict
    from pydantic import TypeAdapter

    return TypeAdapter(PostAtsCandidatesRequestBodyTypedDict).validate_python


def _wire_names_differ(node: Node) -> bool:
    """Whether the mapping sets a field whose name on the wire is not its Python name
    (`On-Behalf-Of`, Workday's `WID`: remote fields): the SDK's TypedDict knows such a field
    only by its Python name, so `sdk_shape` would let it and all under it through unchecked;
    the SDK's model checks the body instead (3.7 us a row more)."""
    if isinstance(node, ObjectNode):
        fields = node.model.model_fields if node.model is not None else {}
        renamed = {info.alias for name, info in fields.items() if info.alias not in (None, name)}
        return bool(renamed & node.children.keys()) or any(
            _wire_names_differ(child) for child in node.children.values()
        )
    if isinstance(node, ListNode):
        return any(_wire_names_differ(item) for item in node.items)
    return False


@dataclass(slots=True)  # not frozen: that costs 0.5 us an instance, and there is one a row
class BuiltRow:
    """What became of one source row: a request (and its warnings), or the problems that stop
    it (`request` is None exactly when `issues` holds an error). Treated as immutable."""

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
        self._check_shape = sdk_model if _wire_names_differ(mapping.body) else sdk_shape()

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
        except ValidationError:
            try:  # rare: the model's own words for the problems, as the report always gave them
                sdk_model(body)
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
    return _Code.compiled(node, ctx)


def _emit_object(
    code: _Code, node: ObjectNode, ctx: _Context, depth: int, force: str, handle: _Handle
) -> None:
    """An object's fields in the mapping's order; the common case, every field valid and each
    required one there, is decided in line, anything else is `_object_problems`' to report."""
    out, invalid, present, before = code.locals("out", "invalid", "present", "issues_before")
    code.line(depth, f"{out} = {{}}")
    code.line(depth, f"{invalid} = ()")
    code.line(depth, f"{present} = False")
    if force == "False":  # `_object_problems` is then called only when present: no count needed
        before = "0"
    else:
        code.line(depth, f"{before} = len(row.issues)")
    for key, child in node.children.items():
        name = code.literal(key)
        # a constant alone (period: YEAR) does not make a salary
        fed = not (isinstance(child, Leaf) and child.spec.value is not None)

        def field(depth: int, holds: str, name: str = name, fed: bool = fed) -> None:
            def send(depth: int) -> None:
                code.line(depth, f"{out}[{name}] = value")
                if fed:
                    code.line(depth, f"{present} = True")

            code.dispatch(depth, holds, [f"{present} = True", f"{invalid} += ({name},)"], send)

        code.value_of(child, ctx, depth, field)
    if node.constant:  # an invalid child is reported once
        code.line(depth, f"{present} = bool({out}) or bool({invalid})")
    complete = "".join(f" and {code.literal(key)} in {out}" for key in sorted(node.required))
    code.line(depth, f"if not {present}{'' if force == 'False' else f' and not {force}'}:")
    handle(depth + 1, "none")
    code.line(depth, f"elif not {invalid}{complete}:")
    code.line(depth + 1, f"value = {out}")
    handle(depth + 1, "sent")
    code.line(depth, "else:")
    problems = code.name("problems", _object_problems(node, ctx))
    code.line(depth + 1, f"value = {problems}(row, {force}, {out}, {invalid}, {present}, {before})")
    handle(depth + 1, "any")


def _object_problems(
    node: ObjectNode, ctx: _Context
) -> Callable[[_Row, bool, dict[str, Any], tuple[str, ...], bool, int], Any]:
    """The end of an object's evaluation when a field is invalid or a required one missing:
    each required field neither given nor invalid reported, in the order of their keys."""
    required = [(key, node.children.get(key)) for key in sorted(node.required)]
    path = node.path
    groups: dict[str, Evaluator] = {}  # compiled on first use: most mappings' rows never need it

    def problems(
        row: _Row,
        force: bool,
        out: dict[str, Any],
        invalid: tuple[str, ...],
        present: bool,
        issues_before: int,
    ) -> Any:
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
            else:  # a required group left empty: name its fields
                if key not in groups:
                    groups[key] = _compile(child_node, ctx)
                groups[key](row, True)
        if out:
            return out
        return _INVALID if present or len(row.issues) > issues_before else None

    return problems


_MISS = object()  # not in a memo


_Handle = Callable[[int, str], None]
"""Writes, at the depth given, what a parent does with `value`, told what it holds: "none"
(None: absent), "invalid" (_INVALID: its issue is recorded), "sent" (a value to send), "settled"
(sent or none: a memo's) or "any"."""


class _Code:
    """The Python source of one node's evaluator, and the objects it names; `compiled` makes it.

    Why: a generic evaluator per node loops over its children, with a call, a tuple unpacking
    and a few tests per child and row, and a plain column's memo (`_memoised`) costs a call per
    cell. The code made here does only what this mapping needs: the fields one after another,
    the objects, lists and answers in them written out in line (`_emit_object`, `_emit_list`,
    `_emit_answers`), each plain column's memo of settled cells looked up in line, and only the
    tests that what a field can hold calls for (`_Handle`). It halves what the tree costs a row
    besides the transforms.
    How to read it: `print(evaluator.__doc__)` shows the code made for a node. Each part starts
    with a comment naming its path and leaves that value in `value` for its parent to use; an
    object's, list's or answers' own variables end in its number.
    """

    def __init__(self) -> None:
        self.lines = ["def evaluate(row, force):", "    values = row.values"]
        self.names: dict[str, Any] = {"_INVALID": _INVALID, "_MISS": _MISS, "_expand": _expand}
        self.count = 0

    @classmethod
    def compiled(cls, node: ObjectNode | ListNode | AnswersNode, ctx: _Context) -> Evaluator:
        """The evaluator of a node, as one function."""
        code = cls()

        def give(depth: int, holds: str) -> None:
            code.line(depth, "return None" if holds == "none" else "return value")

        code.value_of(node, ctx, 1, give, "force")
        source = "\n".join(code.lines) + "\n"
        exec(compile(source, f"<evaluator of {node.path or 'the body'!r}>", "exec"), code.names)
        evaluate: Evaluator = code.names["evaluate"]
        evaluate.__doc__ = source
        return evaluate

    def name(self, prefix: str, value: Any) -> str:
        """A name the code can use for `value`."""
        name = f"{prefix}_{len(self.names)}"
        self.names[name] = value
        return name

    def literal(self, value: Any) -> str:
        """`value` in the code: its literal for a string (a key, a question id), or a name."""
        return repr(value) if type(value) is str else self.name("key", value)

    def locals(self, *names: str) -> list[str]:
        """Variables of their own for one object, list or answers."""
        self.count += 1
        return [f"{name}_{self.count}" for name in names]

    def line(self, depth: int, text: str) -> None:
        self.lines.append("    " * depth + text)

    def dispatch(
        self, depth: int, holds: str, if_invalid: list[str], send: Callable[[int], None]
    ) -> None:
        """A parent's use of `value` (`_Handle`): `if_invalid`'s lines, or `send`'s."""
        if holds == "none":
            self.line(depth, "pass")
        elif holds == "invalid":
            for text in if_invalid:
                self.line(depth, text)
        elif holds == "sent":
            send(depth)
        elif holds == "settled":
            self.line(depth, "if value is not None:")
            send(depth + 1)
        else:
            self.line(depth, "if value is _INVALID:")
            for text in if_invalid:
                self.line(depth + 1, text)
            self.line(depth, "elif value is not None:")
            send(depth + 1)

    def value_of(
        self, node: Node, ctx: _Context, depth: int, handle: _Handle, force: str = "False"
    ) -> None:
        """Lines that put `node`'s value in `value`, each time followed by `handle`'s."""
        self.line(depth, f"# {node.path!r}")
        if isinstance(node, ObjectNode):
            _emit_object(self, node, ctx, depth, force, handle)
        elif isinstance(node, ListNode):
            _emit_list(self, node, ctx, depth, handle)
        elif isinstance(node, AnswersNode):
            _emit_answers(self, node, ctx, depth, handle)
        elif isinstance(node, Leaf):
            self.leaf(node, ctx, depth, handle)
        else:
            self.call(_compile(node, ctx), depth, handle)

    def leaf(self, leaf: Leaf, ctx: _Context, depth: int, handle: _Handle) -> None:
        """A plain column's cell already seen and settled from its memo, else the evaluator."""
        evaluate, settled = _compile_cell(leaf, ctx)
        if settled is None:
            self.call(evaluate, depth, handle)
            return
        memo = self.name("settled", settled)
        self.line(depth, f"cell = values[{leaf.index}]")
        hit = f"(value := {memo}.get(cell, _MISS)) is not _MISS"
        self.line(depth, f"if type(cell) is str and {hit}:")
        handle(depth + 1, "settled")
        self.line(depth, "else:")
        self.call(evaluate, depth + 1, handle)

    def call(self, evaluate: Evaluator, depth: int, handle: _Handle) -> None:
        self.line(depth, f"value = {self.name('evaluate', evaluate)}(row, False)")
        handle(depth, "any")


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
    return _Code.compiled(node, ctx)


def _emit_list(code: _Code, node: ListNode, ctx: _Context, depth: int, handle: _Handle) -> None:
    """A list's items in the mapping's order, a list item's parts each one item."""
    out, invalid = code.locals("out", "invalid")
    code.line(depth, f"{out} = []")
    code.line(depth, f"{invalid} = False")

    def send(depth: int) -> None:
        if node.expand:
            code.line(depth, "if type(value) is dict:")
            code.line(depth + 1, f"{out}.extend(_expand(value))")
            code.line(depth, "elif type(value) is list:")
        else:
            code.line(depth, "if type(value) is list:")
        code.line(depth + 1, f"{out}.extend(value)")
        code.line(depth, "else:")
        code.line(depth + 1, f"{out}.append(value)")

    def add(depth: int, holds: str) -> None:
        code.dispatch(depth, holds, [f"{invalid} = True"], send)

    for item in node.items:
        code.value_of(item, ctx, depth, add)
    _emit_end(code, out, invalid, depth, handle)


def _emit_end(code: _Code, out: str, invalid: str, depth: int, handle: _Handle) -> None:
    """A list's or the answers' value: the items, else _INVALID if one was, else None."""
    code.line(depth, f"if {out}:")
    code.line(depth + 1, f"value = {out}")
    handle(depth + 1, "sent")
    code.line(depth, f"elif {invalid}:")
    code.line(depth + 1, "value = _INVALID")
    handle(depth + 1, "invalid")
    code.line(depth, "else:")
    handle(depth + 1, "none")


def _compile_answers(node: AnswersNode, ctx: _Context) -> Evaluator:
    return _Code.compiled(node, ctx)


def _emit_answers(
    code: _Code, node: AnswersNode, ctx: _Context, depth: int, handle: _Handle
) -> None:
    """The screening answers in the mapping's order, each with its question's id."""
    out, invalid = code.locals("out", "invalid")
    code.line(depth, f"{out} = []")
    code.line(depth, f"{invalid} = False")
    for question_id, answer in node.answers.items():
        question = code.literal(question_id)

        def send(depth: int, question: str = question) -> None:
            code.line(depth, f"{out}.append({{'question_id': {question}, 'answer': value}})")

        def add(depth: int, holds: str, send: Callable[[int], None] = send) -> None:
            code.dispatch(depth, holds, [f"{invalid} = True"], send)

        if isinstance(answer, Leaf):
            code.value_of(answer, ctx, depth, add)
        else:
            code.line(depth, f"# {answer.path!r}")
            code.call(_compile_file_answer(question_id, answer, ctx), depth, add)
    _emit_end(code, out, invalid, depth, handle)


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
    return _compile_cell(leaf, ctx)[0]


def _compile_cell(leaf: Leaf, ctx: _Context) -> tuple[Evaluator, dict[str, Any] | None]:
    """A leaf's evaluator; for a plain column cell also its memo of settled cells, which the
    code made for its parent (`_Code`) looks up itself."""
    # A date column's order, decided once from all of its values, reads its dates, not a guess
    # per cell.
    dated = ctx.date_orders.get(leaf.index) if leaf.index is not None else None
    steps = _steps(leaf, dated)
    coerce = _coercer(leaf, dated)
    if leaf.spec.value is not None and not steps and leaf.value_map is None:
        constant = _constant(leaf, coerce, ctx.mapping_path)
        return (lambda row, force: constant), None
    convert = _converter(leaf, steps, coerce, dated)
    if _memoisable(leaf):
        return _memoised(leaf, convert)
    return _evaluator(leaf, convert, _cell_converter(leaf, steps, coerce, dated, convert)), None


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


def _memoised(leaf: Leaf, convert: Converter) -> tuple[Evaluator, dict[str, Any]]:
    """Spreadsheets repeat themselves (countries, jobs, stages, dates, yes/no): each distinct cell
    is converted once and remembered, up to MEMO_SIZE of them, problems and warnings included.
    With the evaluator comes its memo of settled cells: a text cell as read -> what is sent (None:
    nothing), for the cells that leave nothing to note on the row (nearly all), which the code
    made for the leaf's parent looks up before it calls the evaluator (`_Code.leaf`)."""
    index = leaf.index if leaf.index is not None else -1
    memo: dict[Any, tuple[Any, Warnings] | RowProblem] = {}
    settled: dict[str, Any] = {}

    def evaluate_cell(row: _Row, force: bool) -> Any:
        cell = raw = row.values[index]
        # `_empty`, written out: this runs for every cell, and the stripped text is the key.
        if raw is None:
            return None
        key: Any
        if type(raw) is str:
            # Issues here show the cell stripped (the memo's key), `_evaluator`'s the cell as it
            # is: no test pins either, and it was so before.
            raw = key = raw.strip()
            if not raw:
                if len(settled) < MEMO_SIZE:
                    settled[cell] = None
                return None
        else:
            key = _cell_key(raw)
        found = memo.get(key) if key is not None else None
        if found is None:
            try:
                found = convert(raw, raw)
            except RowProblem as problem:
                found = problem
            if key is not None and len(memo) < MEMO_SIZE:
                memo[key] = found
        if type(found) is tuple and not found[1]:  # most cells: a value, nothing to note
            if type(cell) is str and len(settled) < MEMO_SIZE:
                settled[cell] = found[0]
            return found[0]
        return _settle(row, leaf, raw, found)

    return evaluate_cell, settled


def _evaluator(leaf: Leaf, convert: Converter, convert_cell: Converter) -> Evaluator:
    """Any other leaf (a template, a value with transforms, a default, `required`, a list): the
    cell, or its default, through `convert_cell`; a list given as value or default, each of its
    items through `convert`."""
    default = leaf.spec.default

    def found_of(raw: Any) -> tuple[Any, Warnings] | RowProblem:
        value = raw.strip() if type(raw) is str else raw
        try:  # a value or default given as a list goes item by item
            return _each(raw, value, convert) if type(value) is list else convert_cell(raw, value)
        except RowProblem as problem:
            return problem

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
        return _settle(row, leaf, raw, found_of(raw))

    if leaf.index is None or any(name == "json_list" for name, _ in leaf.transforms):
        return evaluate
    # A column's cell that is split, required or has a default is, like `_memoised`'s, converted
    # once and remembered (the cell as it is the key, as the issues show it), when what it
    # becomes holds nothing a row could change under the others (`_shareable`).
    index = leaf.index
    memo: dict[Any, tuple[Any, Warnings] | RowProblem] = {}

    def evaluate_column(row: _Row, force: bool) -> Any:
        raw = row.values[index]
        key = raw if type(raw) is str else _cell_key(raw)
        if key is None:  # a cell not remembered
            return evaluate(row, force)
        found = memo.get(key)
        if found is None:
            if _empty(raw):
                return evaluate(row, force)  # its default, or nothing
            found = found_of(raw)
            if len(memo) < MEMO_SIZE and _shareable(found):
                memo[key] = found
        if type(found) is tuple and not found[1]:
            value = found[0]
        else:
            value = _settle(row, leaf, raw, found)
        return value.copy() if type(value) is list else value  # each row its own list

    return evaluate_column


def _cell_key(cell: Any) -> Any:
    """What a cell that is not text is remembered by, or None: not remembered. Equal cells are
    not always the same cell (1 == 1.0 == True, 0.0 == -0.0, two aware datetimes of the same
    instant, Decimal("1.0") == Decimal("1.00")), so the key holds the type, a float its exact
    bits, and only types whose equal values read and convert alike are remembered."""
    kind = type(cell)
    if kind is float:
        return (float, cell.hex())
    if kind is int or kind is bool or kind is dt.date:
        return (kind, cell)
    if (kind is dt.datetime or kind is dt.time) and cell.tzinfo is None:
        return (kind, cell)
    return None


_SCALARS = frozenset({str, int, float, bool, dt.date, dt.datetime, dt.time, type(None)})


def _shareable(found: tuple[Any, Warnings] | RowProblem) -> bool:
    """Whether a converted cell may be given to every row that has it: a problem, or a value
    that is a scalar or a list of scalars (copied for each row)."""
    if type(found) is not tuple:
        return True
    value = found[0]
    return all(type(item) in _SCALARS for item in (value if type(value) is list else (value,)))


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
