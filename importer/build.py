"""One row + the mapping -> a `PostAtsCandidatesRequest`, or every problem of that row at once."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from kombo.models import PostAtsCandidatesRequestBody
from pydantic import ValidationError

from . import issues, transforms
from .attachments import AttachmentProblem, AttachmentRef, AttachmentResolver
from .issues import Issue
from .mapping import AnswersNode, AttachmentNode, Leaf, ListNode, Mapping, Node, ObjectNode, template_columns
from .readers import SourceRow
from .transforms import TransformError, as_text

_INVALID = object()  # a value was given but is wrong; its issue is already recorded

_CHECKS = {
    "email": transforms.check_email,
    "phone": transforms.check_phone,
    "country": transforms.to_country_code,
    "url": transforms.check_url,
}


@dataclass(frozen=True, slots=True)
class PostAtsCandidatesRequest:
    """The unit of work: one `POST /ats/candidates` for one integration.

    `body` is the SDK's model, which checked the shape. `remote_fields` is the mapping's output
    as built, sent instead of the model's copy because SDK 1.4 drops some ATSs' fields.
    `attachments` are the files behind `body.attachments`, encoded only when sent.
    """

    integration_id: str | None
    body: PostAtsCandidatesRequestBody
    remote_fields: dict[str, Any] | None
    attachments: tuple[AttachmentRef, ...]


@dataclass(frozen=True, slots=True)
class BuiltRow:
    """What became of one source row: a request, or the problems that stop it."""

    source: SourceRow
    request: PostAtsCandidatesRequest | None
    issues: list[Issue]

    @property
    def row_number(self) -> int:
        return self.source.row_number


class RequestBuilder:
    """Evaluates a bound mapping for one row at a time; holds no state between rows."""

    def __init__(self, mapping: Mapping, resolver: AttachmentResolver, integration_id: str | None = None) -> None:
        self.mapping = mapping
        self.resolver = resolver
        self.integration_id = integration_id

    def build(self, row: SourceRow) -> BuiltRow:
        found: list[Issue] = []
        refs: list[AttachmentRef] = []
        context = _Row(row, found, refs, self.resolver)
        body = context.object(self.mapping.body, force=True)
        if found or not isinstance(body, dict):
            return BuiltRow(row, None, found)
        try:
            model = PostAtsCandidatesRequestBody.model_validate(body)
        except ValidationError as exc:
            return BuiltRow(row, None, _sdk_issues(row, exc, body, self.mapping))
        return BuiltRow(row, PostAtsCandidatesRequest(self.integration_id, model, body.get("remote_fields"), tuple(refs)), found)


class _Row:
    """The evaluation of the tree for one row, collecting issues as it goes."""

    __slots__ = ("row", "values", "issues", "refs", "resolver")

    def __init__(self, row: SourceRow, found: list[Issue], refs: list[AttachmentRef], resolver: AttachmentResolver) -> None:
        self.row = row
        self.values = row.values
        self.issues = found
        self.refs = refs
        self.resolver = resolver

    def node(self, node: Node, force: bool = False) -> Any:
        if type(node) is Leaf:
            return self.leaf(node)
        if type(node) is ObjectNode:
            return self.object(node, force)
        if type(node) is ListNode:
            return self.list(node)
        if type(node) is AnswersNode:
            return self.answers(node)
        return self.attachment(node)  # type: ignore[arg-type]

    def object(self, node: ObjectNode, force: bool = False) -> Any:
        out: dict[str, Any] = {}
        present = False
        issues_before = len(self.issues)
        invalid: set[str] = set()  # given but wrong: their own issues say so
        for key, child in node.children.items():
            value = self.node(child)
            if value is _INVALID:
                present = True
                invalid.add(key)
            elif value is not None:
                out[key] = value
                # a constant alone (period: YEAR) does not make a salary of an empty cell
                present = present or not (type(child) is Leaf and child.spec.value is not None)
        if node.constant:
            present = bool(out)
        if not present and not force:
            return None
        for key in node.required:
            if key in out or key in invalid:
                continue
            child = node.children.get(key)
            if isinstance(child, Leaf):
                raw = self.raw(child)
                if _empty(raw):
                    what = f"'{child.label}' is empty" if child.label else "no value"
                    self.add(child, None, issues.REQUIRED, f"{what}; {child.path} is required.")
                else:
                    self.add(child, raw, issues.REQUIRED, f"'{as_text(raw)}' leaves nothing for {child.path} after its transforms; it is required.")
            elif child is None:
                path = f"{node.path}.{key}" if node.path else key
                self.issues.append(Issue(self.row.row_number, "", path, None, issues.REQUIRED, f"{path} is required but the mapping does not set it; add it to the mapping."))
            else:
                self.node(child, force=True)  # a required group left empty: name its fields
        if out:
            return out
        return _INVALID if present or len(self.issues) > issues_before else None

    def list(self, node: ListNode) -> Any:
        out: list[Any] = []
        invalid = False
        for item in node.items:
            value = self.node(item)
            if value is _INVALID:
                invalid = True
            elif value is None:
                continue
            elif node.expand and isinstance(value, dict):
                out.extend(_expand(value))
            elif isinstance(value, list) and not node.expand:
                out.extend(value)
            elif isinstance(value, list):
                out.extend(value)
            else:
                out.append(value)
        if out:
            return out
        return _INVALID if invalid else None

    def answers(self, node: AnswersNode) -> Any:
        out = []
        invalid = False
        for question_id, leaf in node.answers.items():
            value = self.leaf(leaf)
            if value is _INVALID:
                invalid = True
            elif value is not None:
                out.append({"question_id": question_id, "answer": value})
        return out or (_INVALID if invalid else None)

    def attachment(self, node: AttachmentNode) -> Any:
        value = self.leaf(node.file)
        if value is None or value is _INVALID:
            return value
        name = self.leaf(node.name) if node.name else None
        out = []
        for text in value if isinstance(value, list) else [value]:
            try:
                ref = self.resolver.resolve(text)
            except AttachmentProblem as problem:
                self.add(node.file, text, problem.code, problem.message, field=node.path)
                continue
            self.refs.append(ref)
            item: dict[str, Any] = {"name": name if isinstance(name, str) else ref.name, "type": node.spec.type}
            content_type = node.spec.content_type or ref.content_type
            if content_type:
                item["content_type"] = content_type
            if ref.url:
                item["data_url"] = ref.url
            out.append(item)
        return out or _INVALID

    # --- leaves -------------------------------------------------------------------------

    def raw(self, leaf: Leaf) -> Any:
        if leaf.index is not None:
            return self.values[leaf.index]
        spec = leaf.spec
        if spec.template is not None:
            return self.render(leaf)
        return spec.value

    def render(self, leaf: Leaf) -> str | None:
        parts = {}
        for column in template_columns(leaf.spec.template or ""):
            cell = self.values[leaf.template_indexes[column]]
            parts[column] = "" if _empty(cell) else as_text(cell).strip()
        if not any(parts.values()):
            return None
        text = (leaf.spec.template or "").format_map(parts)
        return " ".join(text.split())

    def leaf(self, leaf: Leaf) -> Any:
        raw = self.raw(leaf)
        if _empty(raw):
            raw = leaf.spec.default
            if _empty(raw):
                if leaf.required:
                    self.add(leaf, None, issues.REQUIRED, f"'{leaf.label}' is empty; the mapping marks {leaf.path} as required.")
                    return _INVALID
                return None
        spec = leaf.spec
        value: Any = raw.strip() if type(raw) is str else raw
        if spec.split is not None:
            value = [part.strip() for part in as_text(value).split(spec.split) if part.strip()]
            if not value:
                return None
        try:
            for _, function in leaf.transforms:
                value = [function(v) for v in value] if type(value) is list else function(value)
                if type(value) is list:
                    value = [v for v in value if not _empty(v)]
            if leaf.value_map is not None:
                value = [self.mapped(leaf, v) for v in value] if type(value) is list else self.mapped(leaf, value)
            if type(value) is list:
                value = [self.coerce(leaf, v) for v in value if not _empty(v)]
                return value or None
            if _empty(value):
                return None
            return self.coerce(leaf, value)
        except TransformError as error:
            self.add(leaf, raw, error.code, error.message)
            return _INVALID

    def mapped(self, leaf: Leaf, value: Any) -> Any:
        key = " ".join(as_text(value).split()).casefold()
        table = leaf.value_map or {}
        if key in table:
            return table[key]
        if leaf.kind == "enum" and _enum_value(leaf, value) is not None:
            return value
        shown = ", ".join(str(k) for k in list(table)[:12])
        raise TransformError(issues.UNKNOWN_VALUE, f"'{as_text(value)}' is not in the value map of {leaf.path}; expected one of: {shown}. Add it under `map:`.")

    def coerce(self, leaf: Leaf, value: Any) -> Any:
        """Turn a transformed value into the type the SDK expects there, and run our checks."""
        kind = leaf.kind
        if kind == "str":
            text = as_text(value)
            return _CHECKS[leaf.check](text) if leaf.check else text
        if kind == "enum":
            member = _enum_value(leaf, value)
            if member is None:
                raise TransformError(issues.UNKNOWN_VALUE, f"'{as_text(value)}' is not one of {', '.join(leaf.enum)}; map the file's values with `map:`.")
            return member
        if kind == "datetime":
            return transforms.to_utc_datetime(value if isinstance(value, dt.date) else transforms.parse_date(value))
        if kind == "float":
            return transforms.parse_number(value)
        if kind == "bool":
            return transforms.parse_bool(value)
        if kind == "answer":
            if isinstance(value, bool):
                return value
            if isinstance(value, dt.date):
                return transforms.to_utc_datetime(value)
            return as_text(value)
        if isinstance(value, dt.date):  # free-form remote fields must stay JSON
            return value.isoformat()
        return value

    def add(self, leaf: Leaf, value: Any, code: str, message: str, field: str | None = None) -> None:
        shown = None if value is None else as_text(value)
        self.issues.append(Issue(self.row.row_number, leaf.label, field or leaf.path, shown, code, message))


def _empty(value: Any) -> bool:
    return value is None or (type(value) is str and not value.strip())


def _enum_value(leaf: Leaf, value: Any) -> str | None:
    text = as_text(value).strip()
    if text in leaf.enum:
        return text
    folded = text.upper().replace(" ", "_").replace("-", "_")
    return folded if folded in leaf.enum else None


def _expand(item: dict[str, Any]) -> list[dict[str, Any]]:
    """One list item whose fields were split -> one item per part (other fields repeated)."""
    counts = {len(v) for v in item.values() if isinstance(v, list)}
    if not counts:
        return [item]
    size = max(counts)
    return [{k: (v[i] if i < len(v) else None) if isinstance(v, list) else v for k, v in item.items() if not (isinstance(v, list) and i >= len(v))} for i in range(size)]


def _sdk_issues(row: SourceRow, error: ValidationError, body: dict[str, Any], mapping: Mapping) -> list[Issue]:
    """The SDK's objections, in the report's terms; our own checks usually catch these first."""
    columns = {leaf.path: leaf.label for leaf in mapping.leaves()}
    codes = {"missing": issues.REQUIRED, "literal_error": issues.UNKNOWN_VALUE, "float_parsing": issues.INVALID_NUMBER, "float_type": issues.INVALID_NUMBER, "datetime_parsing": issues.INVALID_DATE, "datetime_from_date_parsing": issues.INVALID_DATE}
    found = []
    for detail in error.errors():
        path = ""
        for part in detail["loc"]:
            path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
        value = detail.get("input")
        shown = None if isinstance(value, (dict, list)) else value
        found.append(Issue(row.row_number, columns.get(path, ""), path, shown, codes.get(detail["type"], issues.INVALID_VALUE), f"{detail['msg']} (checked by the Kombo SDK)."))
    return found
