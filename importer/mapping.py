"""The mapping config: YAML whose shape is the shape of the request body, compiled into a tree.

The tree is derived from the official SDK's `PostAtsCandidatesRequestBody` model, so every field
of the endpoint is reachable and a key the SDK would silently drop (a typo such as
`candidate.emial`) is a config error with a did-you-mean. Loading checks the structure; `bind()`
checks the columns against a file's headers. Evaluating the tree for a row is `build.py`'s job.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import string
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from kombo.models import postatscandidatesrequestbody as sdk
from pydantic import (
    BaseModel,
    ConfigDict,
    ValidationError,
    field_validator,
    model_validator,
)

from .errors import ConfigError, did_you_mean
from .transforms import TRANSFORMS

Body = sdk.PostAtsCandidatesRequestBody
SPEC_KEYS = {"column", "value", "template", "transform", "map", "default", "split", "required"}
SOURCE_KEYS = ("column", "value", "template")
ATTACHMENT_TYPES = ("CV", "COVER_LETTER", "OTHER")


# --- the user-facing spec models -------------------------------------------------------------


class InputOptions(BaseModel):
    """How to read the file (`input:` in the mapping); command-line options override it."""

    model_config = ConfigDict(extra="forbid")

    sheet: str | int | None = None
    header_row: int | None = None
    encoding: str | None = None
    delimiter: str | None = None


class FieldSpec(BaseModel):
    """One value of the body: where it comes from and what happens to it on the way."""

    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)  # `column: 2024` is a header

    column: str | None = None
    value: Any = None
    template: str | None = None
    transform: list[str | dict[str, Any]] = []
    map: dict[str, Any] | None = None
    default: Any = None
    split: str | None = None
    required: bool = False

    @field_validator("transform", mode="before")
    @classmethod
    def _one_transform_is_a_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, (str, dict)) else value  # `transform: lower` reads as it says

    @model_validator(mode="after")
    def _one_source(self) -> FieldSpec:
        given = [k for k in SOURCE_KEYS if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of column, value or template (found {', '.join(given) or 'none'})")
        return self


class AttachmentSpec(FieldSpec):
    """A file to attach: the cell (or template) names it; `type` says what it is."""

    type: Literal["CV", "COVER_LETTER", "OTHER"] = "OTHER"
    name: str | dict[str, Any] | None = None
    content_type: str | None = None

    @field_validator("type", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper().replace(" ", "_") if isinstance(value, str) else value


# --- the compiled tree -----------------------------------------------------------------------

Kind = str  # "str" | "float" | "bool" | "datetime" | "enum" | "any" | "answer"


@dataclass(eq=False)
class Leaf:
    """A compiled `FieldSpec` placed at a body path, with the value type the SDK expects there."""

    path: str
    spec: FieldSpec
    kind: Kind
    line: int | None
    required: bool
    enum: tuple[str, ...] = ()
    check: str | None = None  # "email" | "phone" | "country" | "url": our checks beyond the SDK
    transforms: list[tuple[str, Any]] = field(default_factory=list)
    value_map: dict[str, Any] | None = None
    index: int | None = None  # the column's position, set by bind()
    template_indexes: dict[str, int] = field(default_factory=dict)

    @property
    def columns(self) -> list[str]:
        if self.spec.column is not None:
            return [self.spec.column]
        if self.spec.template is not None:
            return list(template_columns(self.spec.template))
        return []

    @property
    def label(self) -> str:
        """What the error report's `column` cell shows for this value."""
        return ", ".join(self.columns)


@dataclass(eq=False)
class ObjectNode:
    path: str
    model: type[BaseModel] | None  # None for free-form objects (remote fields)
    children: dict[str, Node]  # wire key (the alias Kombo expects) -> node
    required: set[str] = field(default_factory=set)  # wire keys the SDK requires
    constant: bool = False  # no column feeds it: it is sent whole in every row


@dataclass(eq=False)
class ListNode:
    path: str
    items: list[Node]
    expand: bool  # items may split into several (a list of objects, not a list of strings)


@dataclass(eq=False)
class AnswersNode:
    path: str
    answers: dict[str, Leaf]  # question id -> answer


@dataclass(eq=False)
class AttachmentNode:
    path: str
    spec: AttachmentSpec
    file: Leaf
    name: Leaf | None


Node = Leaf | ObjectNode | ListNode | AnswersNode | AttachmentNode


@dataclass(eq=False)
class Mapping:
    """A loaded mapping: input options and the body tree, ready to `bind()` to a file's headers."""

    path: Path
    input: InputOptions
    body: ObjectNode
    remote_fields: ObjectNode | None
    attachments: list[AttachmentNode]
    _labels: dict[str, str] | None = field(default=None, repr=False)

    def leaves(self) -> list[Leaf]:
        found: list[Leaf] = []
        _collect_leaves(self.body, found)
        for attachment in self.attachments:
            found.append(attachment.file)
            if attachment.name:
                found.append(attachment.name)
        return found

    def label_for(self, path: str) -> str:
        """The column(s) that feed the body field at `path`, for reports ("" when none).
        The prefix `attachments` gives the columns of every attachment."""
        labels = self._labels
        if labels is None:  # worked out once: checks ask for it on every row
            labels = {}
            for leaf in self.leaves():
                labels.setdefault(leaf.path, leaf.label)
            files = [leaf.label for leaf in self.leaves() if leaf.path.startswith("attachments[") and leaf.label]
            labels["attachments"] = ", ".join(dict.fromkeys(files))
            self._labels = labels
        return labels.get(path, "")

    def columns(self) -> list[str]:
        """Every column the mapping reads, in order, without repeats."""
        return list(dict.fromkeys(c for leaf in self.leaves() for c in leaf.columns))

    def bind(self, headers: list[str], source: str) -> None:
        """Point every leaf at its column in `headers`; a missing column is a config error."""
        exact = {h: i for i, h in enumerate(headers)}
        loose: dict[str, list[int]] = {}
        for i, h in enumerate(headers):
            loose.setdefault(_loose(h), []).append(i)

        def find(column: str, leaf: Leaf) -> int:
            if column in exact:
                return exact[column]
            near = loose.get(_loose(column), [])
            if len(near) == 1:
                return near[0]
            shown = ", ".join(f"'{h}'" for h in headers[:40])
            raise ConfigError.at(self.path, leaf.line, leaf.path, f"column '{column}' is not in {source}.{did_you_mean(column, headers)} The file's columns: {shown}.")

        for leaf in self.leaves():
            if leaf.spec.column is not None:
                leaf.index = find(leaf.spec.column, leaf)
            elif leaf.spec.template is not None:
                leaf.template_indexes = {c: find(c, leaf) for c in template_columns(leaf.spec.template)}


def _loose(name: str) -> str:
    return " ".join(name.split()).casefold()


def _collect_leaves(node: Node, found: list[Leaf]) -> None:
    if isinstance(node, Leaf):
        found.append(node)
    elif isinstance(node, ObjectNode):
        for child in node.children.values():
            _collect_leaves(child, found)
    elif isinstance(node, ListNode):
        for item in node.items:
            _collect_leaves(item, found)
    elif isinstance(node, AnswersNode):
        found.extend(node.answers.values())


def _mark_constants(node: Node) -> bool:
    """Flag the objects that no column feeds; return whether `node` is fed by a column."""
    if isinstance(node, Leaf):
        return node.spec.value is None
    if isinstance(node, ObjectNode):
        fed = [_mark_constants(child) for child in node.children.values()]
        node.constant = not any(fed)
        return any(fed)
    if isinstance(node, ListNode):
        return any([_mark_constants(item) for item in node.items])  # noqa: C419 - every item must be marked
    return True


@functools.lru_cache(maxsize=256)
def template_columns(template: str) -> tuple[str, ...]:
    return tuple(name for _, name, _, _ in string.Formatter().parse(template) if name is not None)


# --- loading ---------------------------------------------------------------------------------


def load_mapping(path: str | Path) -> Mapping:
    """Read a mapping file and compile it; every mistake is a `ConfigError` naming line and key."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"{path}: mapping file not found. Create one with `kombo-import init INPUT -o {path}`.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the mapping: {exc}") from exc
    data, lines = _parse_yaml(path, text)
    return compile_mapping(data, path, lines)


class _Loader(yaml.SafeLoader):
    """YAML 1.2 booleans: only true/false. `NO` stays Norway and `yes:` stays a map key."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def _parse_yaml(path: Path, text: str) -> tuple[Any, dict[tuple[Any, ...], int]]:
    try:
        data = yaml.load(text, Loader=_Loader)
        root = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError.at(path, line, None, f"is not valid YAML: {problem}. Check indentation and quotes (a value holding ': ' or '#' needs quotes).") from None
    lines: dict[tuple[Any, ...], int] = {}
    if root is not None:
        _record_lines(path, root, (), lines)
    return data, lines


def _record_lines(path: Path, node: yaml.Node, at: tuple[Any, ...], lines: dict[tuple[Any, ...], int]) -> None:
    lines[at] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = str(key.value)
            if name in seen:
                raise ConfigError.at(path, key.start_mark.line + 1, _dotted(at + (name,)), f"'{name}' is given twice; keep one.")
            seen.add(name)
            lines[at + (name,)] = key.start_mark.line + 1
            _record_lines(path, value, at + (name,), lines)
            lines[at + (name,)] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _record_lines(path, item, at + (i,), lines)


def _dotted(at: tuple[Any, ...]) -> str:
    text = ""
    for part in at:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


class _Compiler:
    """Walks the YAML data beside the SDK model and builds the tree, raising on the first mistake."""

    def __init__(self, path: Path, lines: dict[tuple[Any, ...], int]) -> None:
        self.path = path
        self.lines = lines

    def fail(self, at: tuple[Any, ...], message: str) -> ConfigError:
        line = None
        for cut in range(len(at), -1, -1):
            if at[:cut] in self.lines:
                line = self.lines[at[:cut]]
                break
        return ConfigError.at(self.path, line, _dotted(at) or None, message)

    # objects of the SDK model
    def model_object(self, data: Any, model: type[BaseModel], at: tuple[Any, ...]) -> ObjectNode:
        if not isinstance(data, dict):
            raise self.fail(at, f"expected the fields of {_dotted(at)} ({', '.join(_field_names(model))}), got {_describe(data)}.")
        children: dict[str, Node] = {}
        names = _field_names(model)
        for key, value in data.items():
            key = str(key)
            fname = _field_by_key(model, key)
            if fname is None and key in _REMOTE_PASSTHROUGH.get(model, ()):
                if value is not None:
                    children[key] = self.free(value, at + (key,))
                continue
            if fname is None:
                raise self.fail(at + (key,), f"'{key}' is not a field of {_dotted(at)}.{did_you_mean(key, names)} Fields: {', '.join(names)}.")
            info = model.model_fields[fname]
            wire = info.alias or fname
            if value is None:
                continue
            children[wire] = self.field(value, info.annotation, at + (key,), model, fname)
        required = {(f.alias or n) for n, f in model.model_fields.items() if f.is_required()}
        return ObjectNode(_dotted(at), model, children, required)

    def field(self, data: Any, annotation: Any, at: tuple[Any, ...], owner: type[BaseModel] | None, name: str) -> Node:
        shape, inner = _shape(annotation)
        if owner is sdk.PostAtsCandidatesRequestBody and name == "attachments":
            return self.attachments(data, at)
        if owner is sdk.PostAtsCandidatesRequestBody and name == "screening_question_answers":
            return self.answers(data, at)
        if shape == "model":
            if _is_spec(data):
                raise self.fail(at, f"{_dotted(at)} is a group of fields ({', '.join(_field_names(inner))}); map each field on its own line below it.")
            return self.model_object(data, inner, at)
        if shape == "list":
            return self.list_field(data, inner, at)
        if shape == "dict":
            return self.free(data, at)
        return self.leaf(data, at, shape, inner, _check_for(owner, name))

    def list_field(self, data: Any, item_annotation: Any, at: tuple[Any, ...]) -> ListNode:
        items_data = data if isinstance(data, list) else [data]
        item_shape, item_inner = _shape(item_annotation)
        nodes: list[Node] = []
        for i, item in enumerate(items_data):
            where = at + (i,) if isinstance(data, list) else at
            if item_shape == "model":
                shorthand = _shorthand_field(item_inner)
                if shorthand and (isinstance(item, str) or _is_spec(item)):
                    # `social_links: [LinkedIn]` means `[{url: LinkedIn}]`
                    fname, info = shorthand
                    leaf = self.leaf(item, where, *_shape(info.annotation), _check_for(item_inner, fname))
                    nodes.append(ObjectNode(_dotted(where), item_inner, {info.alias or fname: leaf}, {info.alias or fname}))
                else:
                    nodes.append(self.model_object(item, item_inner, where))
            else:
                nodes.append(self.leaf(item, where, item_shape, item_inner, None))
        return ListNode(_dotted(at), nodes, expand=item_shape == "model")

    def require_fields(self, node: Node) -> None:
        """Every field the SDK requires, in every group the mapping sets, must be mapped: one
        config error now instead of the same problem in every row."""
        if isinstance(node, ObjectNode):
            if node.model is not None:
                for key in sorted(node.required - set(node.children)):
                    at = tuple(int(p) if p.isdigit() else p for p in re.split(r"\.|\[(\d+)\]", node.path) if p) if node.path else ()
                    where = f"{node.path}.{key}" if node.path else key
                    raise self.fail(at, f"{where} is required by Kombo but the mapping does not set it; map a column to it (or a {{value: …}}).")
            for child in node.children.values():
                self.require_fields(child)
        elif isinstance(node, ListNode):
            for item in node.items:
                self.require_fields(item)

    def free(self, data: Any, at: tuple[Any, ...]) -> Node:
        """Free-form objects (most of remote_fields): any keys, values from leaves."""
        if isinstance(data, dict) and not (_is_spec(data) and all(k in SPEC_KEYS for k in data)):
            # Remote fields may have keys of their own called `value` (Greenhouse custom fields):
            # here a dict is a field spec only if every key is a spec option.
            children = {str(k): self.free(v, at + (str(k),)) for k, v in data.items() if v is not None}
            return ObjectNode(_dotted(at), None, children)
        if isinstance(data, list):
            return ListNode(_dotted(at), [self.free(v, at + (i,)) for i, v in enumerate(data)], expand=False)
        return self.leaf(data, at, "any", None, None)

    def leaf(self, data: Any, at: tuple[Any, ...], kind: str, inner: Any, check: str | None) -> Leaf:
        if isinstance(data, str):
            spec = FieldSpec(column=data)
        elif isinstance(data, dict) and _is_spec(data):
            unknown = [k for k in data if k not in SPEC_KEYS]
            if unknown:
                raise self.fail(at + (str(unknown[0]),), f"'{unknown[0]}' is not an option of a field.{did_you_mean(str(unknown[0]), SPEC_KEYS)} Options: {', '.join(sorted(SPEC_KEYS))}.")
            spec = self._spec(FieldSpec, data, at)
        elif isinstance(data, dict):
            raise self.fail(at, f"expected a column name or {{column: …}}, {{value: …}} or {{template: …}}; '{next(iter(data), '')}' is none of these.{did_you_mean(str(next(iter(data), '')), SOURCE_KEYS)}")
        elif isinstance(data, (int, float, bool, dt.date)):
            spec = FieldSpec(value=data)  # a bare number or true/false is a constant, never a column
        else:
            raise self.fail(at, f"expected a column name or {{column: …}}, got {_describe(data)}.")
        enum = tuple(typing.get_args(inner)) if kind == "enum" else ()
        leaf = Leaf(_dotted(at), spec, kind, self.lines.get(at), spec.required, enum, check)
        leaf.transforms = [self._transform(t, at + ("transform", i)) for i, t in enumerate(spec.transform)]
        if spec.map is not None:
            leaf.value_map = {_map_key(k): v for k, v in spec.map.items()}
        if spec.template is not None:
            try:
                template_columns(spec.template)
            except ValueError as exc:
                raise self.fail(at + ("template",), f"is not a valid template: {exc}. Write columns as {{Column name}} and a literal brace as {{{{.") from None
        return leaf

    def _spec(self, model: type[FieldSpec], data: dict[str, Any], at: tuple[Any, ...]) -> Any:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            error = exc.errors()[0]
            where = at + tuple(str(p) for p in error["loc"] if not isinstance(p, int))[:1]
            raise self.fail(where, error["msg"].removeprefix("Value error, ") + ".") from None

    def _transform(self, item: str | dict[str, Any], at: tuple[Any, ...]) -> tuple[str, Any]:
        if isinstance(item, dict):
            if len(item) != 1:
                raise self.fail(at, "write one transform per list item, e.g. `- {date: {formats: ['%d.%m.%Y']}}`.")
            name, options = next(iter(item.items()))
            options = options if options is not None else {}
        else:
            name, options = item, {}
        if name not in TRANSFORMS:
            raise self.fail(at, f"'{name}' is not a transform.{did_you_mean(str(name), TRANSFORMS)} Transforms: {', '.join(TRANSFORMS)}.")
        function, allowed = TRANSFORMS[name]
        if not isinstance(options, dict):
            raise self.fail(at, f"the options of '{name}' must be a mapping such as {{{', '.join(f'{a}: …' for a in allowed) or ''}}}.")
        for option in options:
            if option not in allowed:
                raise self.fail(at + (name, option), f"'{option}' is not an option of '{name}'.{did_you_mean(str(option), allowed)} Options: {', '.join(allowed) or 'none'}.")
        options = dict(options)
        try:
            if name == "regex":
                options["pattern"] = re.compile(options.get("pattern", ""))
            if name == "date" and "formats" in options:
                formats = options["formats"]
                options["formats"] = tuple([formats] if isinstance(formats, str) else formats)
            if name == "phone" and options.get("region"):
                from .transforms import _dialing

                _dialing(str(options["region"]).upper())
            if name == "number" and options.get("decimal") not in (None, ".", ","):
                raise ValueError("decimal must be '.' or ','")
        except (re.error, ValueError, TypeError) as exc:
            raise self.fail(at, f"the options of '{name}' are not usable: {exc}.") from None
        return name, functools.partial(function, **options) if options else function

    def attachments(self, data: Any, at: tuple[Any, ...]) -> Node:
        items = data if isinstance(data, list) else [data]
        nodes: list[Node] = []
        for i, item in enumerate(items):
            where = at + (i,)
            if isinstance(item, str):
                item = {"column": item}
            if not isinstance(item, dict):
                raise self.fail(where, f"expected an attachment such as {{column: CV, type: CV}}, got {_describe(item)}.")
            unknown = [k for k in item if k not in AttachmentSpec.model_fields]
            if unknown:
                raise self.fail(where + (str(unknown[0]),), f"'{unknown[0]}' is not an option of an attachment.{did_you_mean(str(unknown[0]), AttachmentSpec.model_fields)} Options: {', '.join(AttachmentSpec.model_fields)}.")
            spec = self._spec(AttachmentSpec, item, where)
            file_spec = {k: v for k, v in item.items() if k in SPEC_KEYS}
            file_leaf = self.leaf(file_spec, where, "str", None, None)
            name_leaf = self.leaf(spec.name, where + ("name",), "str", None, None) if spec.name is not None else None
            nodes.append(AttachmentNode(_dotted(where), spec, file_leaf, name_leaf))
        return ListNode(_dotted(at), nodes, expand=True)

    def answers(self, data: Any, at: tuple[Any, ...]) -> Node:
        if not isinstance(data, dict):
            raise self.fail(at, "expected question ids with the column of each answer, e.g. `3phFBNXRweGnDmsU9o2vdPuQ: Work permit` (list them with `kombo-import jobs`).")
        answers = {str(qid): self.leaf(spec, at + (str(qid),), "answer", None, None) for qid, spec in data.items() if spec is not None}
        return AnswersNode(_dotted(at), answers)


def compile_mapping(data: Any, path: Path, lines: dict[tuple[Any, ...], int] | None = None) -> Mapping:
    """Turn parsed YAML into a `Mapping`; see `load_mapping`."""
    compiler = _Compiler(path, lines or {})
    if not isinstance(data, dict):
        raise compiler.fail((), f"a mapping is a YAML document with `candidate:` and `application:` sections, got {_describe(data)}. See mappings/example.yaml.")
    data = dict(data)
    version = data.pop("version", 1)
    if version != 1:
        raise compiler.fail(("version",), f"version {version} is not supported; this importer reads version 1.")
    input_data = data.pop("input", None) or {}
    try:
        input_options = InputOptions.model_validate(input_data)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = str(error["loc"][0]) if error["loc"] else None
        hint = did_you_mean(key, InputOptions.model_fields) if key and error["type"] == "extra_forbidden" else ""
        raise compiler.fail(("input",) + ((key,) if key else ()), f"{error['msg']}.{hint} Options: {', '.join(InputOptions.model_fields)}.") from None
    for needed in ("candidate", "application"):
        if needed not in data:
            raise compiler.fail((), f"the mapping has no `{needed}:` section; the request body needs one.")
    body = compiler.model_object(data, Body, ())
    compiler.require_fields(body)
    _mark_constants(body)
    remote = body.children.get("remote_fields")
    attachments_node = body.children.get("attachments")
    attachments = [n for n in attachments_node.items if isinstance(n, AttachmentNode)] if isinstance(attachments_node, ListNode) else []
    return Mapping(path, input_options, body, remote if isinstance(remote, ObjectNode) else None, attachments)


# --- SDK model introspection -----------------------------------------------------------------


def _shape(annotation: Any) -> tuple[str, Any]:
    """("model", cls) | ("list", item) | ("dict", None) | ("enum", Literal) | (scalar kind, None)."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Union:
        rest = [a for a in args if a is not type(None) and getattr(a, "__name__", "") != "Unset"]
        return _shape(rest[0]) if len(rest) == 1 else ("any", None)
    if origin is typing.Annotated:
        return _shape(args[0])
    if origin is not None and type(origin).__name__ == "TypeAliasType":
        return _shape(args[0]) if args else ("any", None)  # Nullable[T], OptionalNullable[T]
    if origin is list:
        return "list", args[0]
    if origin is dict:
        return "dict", None
    if origin is Literal:
        return "enum", annotation
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "model", annotation
    if annotation is dt.datetime:
        return "datetime", None
    if annotation is float or annotation is int:
        return "float", None
    if annotation is bool:
        return "bool", None
    if annotation is str:
        return "str", None
    return "any", None


def _field_names(model: type[BaseModel]) -> list[str]:
    return [f.alias or n for n, f in model.model_fields.items()]


def _field_by_key(model: type[BaseModel], key: str) -> str | None:
    if key in model.model_fields:
        return key
    for name, info in model.model_fields.items():
        if info.alias == key:
            return name
    return None


def _shorthand_field(model: type[BaseModel]) -> tuple[str, Any] | None:
    """The one required text field of a list item model (SocialLink.url), if it has exactly one."""
    required = [(n, f) for n, f in model.model_fields.items() if f.is_required()]
    if len(required) == 1 and _shape(required[0][1].annotation)[0] == "str":
        return required[0]
    return None


# Our checks beyond the SDK's, by (SDK model, field): the SDK checks shapes, not formats.
_CHECKS: dict[tuple[type[BaseModel], str], str] = {
    (sdk.PostAtsCandidatesRequestBodyCandidate, "email_address"): "email",
    (sdk.PostAtsCandidatesRequestBodyAdditionalEmailAddress, "email_address"): "email",
    (sdk.PostAtsCandidatesRequestBodyCandidate, "phone_number"): "phone",
    (sdk.PostAtsCandidatesRequestBodyAdditionalPhoneNumber, "phone_number"): "phone",
    (sdk.PostAtsCandidatesRequestBodyLocation, "country"): "country",
    (sdk.PostAtsCandidatesRequestBodySocialLink, "url"): "url",
}


# Free-form remote fields that Kombo's API takes but SDK 1.4 leaves out of its models (FACTS.md §6);
# they travel beside the model, exactly as mapped.
_REMOTE_PASSTHROUGH: dict[type[BaseModel], tuple[str, ...]] = {
    sdk.PostAtsCandidatesRequestBodyGreenhouse: ("candidate", "application"),
    sdk.PostAtsCandidatesRequestBodyWorkable: ("candidate",),
}


def _check_for(owner: type[BaseModel] | None, name: str) -> str | None:
    return _CHECKS.get((owner, name)) if owner is not None else None


def _is_spec(data: Any) -> bool:
    return isinstance(data, dict) and any(k in data for k in SOURCE_KEYS)


def _map_key(key: Any) -> str:
    return " ".join(str(key).split()).casefold()


def _describe(data: Any) -> str:
    if isinstance(data, dict):
        return "a mapping"
    if isinstance(data, list):
        return "a list"
    if data is None:
        return "nothing"
    return f"{type(data).__name__} {data!r}"
