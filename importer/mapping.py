"""The mapping config: YAML whose shape is the shape of the request body, compiled into a tree.

The tree is derived from the official SDK's `PostAtsCandidatesRequestBody` model, so every field
of the endpoint is reachable and a key the SDK would silently drop (a typo such as
`candidate.emial`) is a config error with a did-you-mean. Loading checks the structure; `bind()`
checks the columns against a file's headers. Evaluating the tree for a row is `build.py`'s job.
"""

from __future__ import annotations

import datetime as dt
import functools
import mimetypes
import re
import string
import typing
from collections.abc import Callable
from dataclasses import dataclass, field, replace
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
from .issues import UNMAPPED_REQUIRED, RowProblem
from .readers import fold_header
from .transforms import TRANSFORMS, Transform, as_text, clip, describe

Body = sdk.PostAtsCandidatesRequestBody
SPEC_KEYS = {"column", "value", "template", "transform", "map", "default", "split", "required"}
SOURCE_KEYS = ("column", "value", "template")

# Limits on what a mapping may ask for. A real mapping is a few kilobytes, about ten levels deep,
# a few hundred values, with short patterns and templates: each limit is far above that, and
# each stops a hostile or mistaken file with a config error before it costs minutes or gigabytes.
# (The limits on a transform's options, such as a `regex` pattern, are beside it in transforms.py.)
MAX_MAPPING_CHARS = 5_000_000  # a larger file is not a mapping (the input given by mistake?)
MAX_DEPTH = 50  # levels of lists and mappings, aliases expanded; Python's own stack is ~1,000
MAX_NODES = 100_000  # values, lists and mappings with every alias expanded ("billion laughs")
MAX_NUMBER_CHARS = 100  # a YAML number this long is no id or amount; 1:2:3:… is quadratic to read
MAX_TEMPLATE_COLUMNS = 50  # `{A}` repeated a million times would build gigabytes per row


# --- the user-facing spec models -------------------------------------------------------------


class InputOptions(BaseModel):
    """How to read the file (`input:` in the mapping); command-line options override it."""

    model_config = ConfigDict(extra="forbid")

    sheet: str | int | None = None
    header_row: int | None = None
    encoding: str | None = None
    delimiter: str | None = None
    # How to read 03/05/2025 when no date in its column settles it (a day over 12 does).
    date_order: Literal["day_first", "month_first"] | None = None


class FieldSpec(BaseModel):
    """One value of the body: where it comes from and what happens to it on the way."""

    model_config = ConfigDict(
        extra="forbid", coerce_numbers_to_str=True
    )  # `column: 2024` is a header

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
        return (
            [value] if isinstance(value, (str, dict)) else value
        )  # `transform: lower` reads as it says

    @field_validator("split")
    @classmethod
    def _split_on_something(cls, value: str | None) -> str | None:
        """`str.split("")` raises on every row; say so once, here."""
        if value == "":
            raise ValueError("split needs a separator such as ',' or ';', not an empty text")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> FieldSpec:
        given = [k for k in SOURCE_KEYS if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of column, value or template"
                f" (found {', '.join(given) or 'none'})"
            )
        return self


class FileSpec(FieldSpec):
    """A file the cell (or template) names, found as `attachments.py` resolves every file; its
    `name` and `content_type` may be given instead of taken from the file."""

    name: str | dict[str, Any] | None = None
    content_type: str | None = None

    @field_validator("type", mode="before", check_fields=False)
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper().replace(" ", "_") if isinstance(value, str) else value


class AttachmentSpec(FileSpec):
    """A file to attach: `type` says what it is."""

    type: Literal["CV", "COVER_LETTER", "OTHER"] = "OTHER"


class FileAnswerSpec(FileSpec):
    """The answer to a FILE screening question, `{column: Portfolio, type: FILE}`: the cell names
    a file as an attachment's cell does. `type: FILE` is what tells it from a text answer."""

    type: Literal["FILE"]


_Spec = typing.TypeVar("_Spec", AttachmentSpec, FileAnswerSpec)


# --- the compiled tree -----------------------------------------------------------------------

Kind = str  # "str" | "float" | "bool" | "datetime" | "enum" | "any" | "answer"


@dataclass(frozen=True, eq=False)
class Leaf:
    """A compiled `FieldSpec` placed at a body path, with the value type the SDK expects there.
    `index` and `template_indexes` are set in the copy that `Mapping.bind()` makes."""

    path: str
    spec: FieldSpec
    kind: Kind
    line: int | None
    required: bool
    enum: tuple[str, ...] = ()
    check: str | None = None  # "email" | "phone" | "country" | "url": our checks beyond the SDK
    transforms: list[tuple[str, Any]] = field(default_factory=list)  # (name, function)
    value_map: dict[str, Any] | None = None
    index: int | None = None  # the column's position in the file's headers, once bound
    template_indexes: dict[str, int] = field(default_factory=dict)  # the same for a template

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


@dataclass(frozen=True, eq=False)
class ObjectNode:
    path: str
    model: type[BaseModel] | None  # None for free-form objects (remote fields)
    children: dict[str, Node]  # wire key (the alias Kombo expects) -> node
    required: set[str] = field(default_factory=set)  # wire keys the SDK requires
    constant: bool = field(init=False)  # no column feeds it: it is sent whole in every row

    def __post_init__(self) -> None:
        fed = any(_fed(child) for child in self.children.values())
        object.__setattr__(self, "constant", not fed)


@dataclass(frozen=True, eq=False)
class ListNode:
    path: str
    items: list[Node]
    expand: bool  # items may split into several (a list of objects, not a list of strings)


@dataclass(frozen=True, eq=False)
class AnswersNode:
    path: str
    answers: dict[str, Leaf | FileAnswerNode]  # question id -> answer, in the mapping's order


@dataclass(frozen=True, eq=False)
class AttachmentNode:
    path: str
    spec: AttachmentSpec
    file: Leaf
    name: Leaf | None


@dataclass(frozen=True, eq=False)
class FileAnswerNode:
    """A FILE question's answer: one file, resolved as an attachment is."""

    path: str
    spec: FileAnswerSpec
    file: Leaf
    name: Leaf | None


Node = Leaf | ObjectNode | ListNode | AnswersNode | AttachmentNode | FileAnswerNode


def _fed(node: Node) -> bool:
    """Whether a column feeds `node`, or it is a constant, the same in every row."""
    if isinstance(node, Leaf):
        return node.spec.value is None
    if isinstance(node, ObjectNode):
        return not node.constant
    if isinstance(node, ListNode):
        return any(_fed(item) for item in node.items)
    return True  # answers and attachments come from columns


@dataclass(frozen=True, eq=False)
class Mapping:
    """A loaded mapping: input options and the body tree. `bind()` gives a copy pointed at a
    file's headers; the mapping itself never changes, so it can be bound again."""

    path: Path
    input: InputOptions
    body: ObjectNode
    remote_fields: ObjectNode | None
    attachments: list[AttachmentNode]
    _bound_headers: tuple[str, ...] = field(default=(), repr=False)
    # What happens after the create (`after_create:`), its values built with the body's under
    # the body key `after_create` (taken out before the body is validated): see actions.py.
    after_create: AfterCreateRules | None = None
    _labels: dict[str, str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # worked out once: checks ask for labels on every row
        object.__setattr__(self, "_labels", _labels_of(self.leaves()))

    @classmethod
    def of(
        cls,
        path: Path,
        input_options: InputOptions,
        body: ObjectNode,
        bound_headers: tuple[str, ...] = (),
        after_create: AfterCreateRules | None = None,
    ) -> Mapping:
        """The mapping of `body`, with its remote fields and attachments taken from it."""
        remote = body.children.get("remote_fields")
        listed = body.children.get("attachments")
        items = listed.items if isinstance(listed, ListNode) else []
        attachments = [item for item in items if isinstance(item, AttachmentNode)]
        remote_fields = remote if isinstance(remote, ObjectNode) else None
        return cls(
            path, input_options, body, remote_fields, attachments, bound_headers, after_create
        )

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
        return self._labels.get(path, "")

    def columns(self) -> list[str]:
        """Every column the mapping reads, in order, without repeats."""
        return list(dict.fromkeys(c for leaf in self.leaves() for c in leaf.columns))

    def bind(self, headers: list[str], source: str) -> Mapping:
        """This mapping with every leaf pointed at its column in `headers` (of the file that
        `source` names in messages): a new Mapping; this one stays as it is. A missing column is
        a config error."""
        columns = _Columns(self.path, headers, source)
        # leaf by leaf in this order, so that the first missing column is the one reported
        bound = {leaf: columns.bound(leaf) for leaf in self.leaves()}
        used = {leaf.index for leaf in bound.values() if leaf.index is not None}
        used.update(i for leaf in bound.values() for i in leaf.template_indexes.values())
        body = _rebuilt_object(self.body, bound)
        headers_used = tuple(headers[i] for i in sorted(used))
        return Mapping.of(self.path, self.input, body, headers_used, self.after_create)

    def deprecated_fields(self) -> list[str]:
        """The fields this mapping sets that Kombo's SDK marks deprecated (e.g. `source`)."""
        found: list[str] = []
        for leaf in self.leaves():
            model: Any = sdk.PostAtsCandidatesRequestBody
            walked: list[str] = []
            for part in leaf.path.replace("[", ".").replace("]", "").split("."):
                fields = getattr(model, "model_fields", {})
                if part.isdigit() or part not in fields:
                    break
                walked.append(part)
                if fields[part].deprecated:
                    found.append(".".join(walked))
                    break
                model = next(
                    (
                        t
                        for t in _inner_types(fields[part].annotation)
                        if hasattr(t, "model_fields")
                    ),
                    None,
                )
        return list(dict.fromkeys(found))

    def names_rejection_reasons(self) -> bool:
        """Whether a rejection's reason is named (`rejection_reason: …`), to be looked up among
        the integration's rejection reasons (GET /ats/rejection-reasons)."""
        return REJECTION_REASON_NAME in self._labels

    def resolves_users(self) -> bool:
        """Whether the sourcing user is named by email (`sourced_by: {user_email: …}`), to be
        looked up among the integration's users (GET /ats/users)."""
        return USER_EMAIL in self._labels

    def text_columns(self) -> list[str]:
        """The columns that feed text fields: a number there may have lost its leading zeros."""
        return list(
            dict.fromkeys(
                leaf.spec.column
                for leaf in self.leaves()
                if leaf.kind == "str" and leaf.spec.column
            )
        )

    def bound_headers(self) -> list[str]:
        """The file's headers this mapping reads, once bound (`bind`)."""
        return list(self._bound_headers)


def _labels_of(leaves: list[Leaf]) -> dict[str, str]:
    """What `Mapping.label_for` answers: the label of each leaf's path (the first leaf's, when
    several share one), and under `attachments` the labels of every attachment's columns."""
    labels: dict[str, str] = {}
    for leaf in leaves:
        labels.setdefault(leaf.path, leaf.label)
    files = [leaf.label for leaf in leaves if leaf.path.startswith("attachments[") and leaf.label]
    labels["attachments"] = ", ".join(dict.fromkeys(files))
    return labels


class _Columns:
    """Where the columns a mapping names are in a file's headers: the header written exactly so,
    else the one header equal to it loosely (`fold_header`: case, spaces, punctuation)."""

    def __init__(self, path: Path, headers: list[str], source: str) -> None:
        self.path = path
        self.headers = headers
        self.source = source
        self.exact = {h: i for i, h in enumerate(headers)}
        self.loose: dict[str, list[int]] = {}
        for i, h in enumerate(headers):
            self.loose.setdefault(fold_header(h), []).append(i)

    def bound(self, leaf: Leaf) -> Leaf:
        """A copy of `leaf` that knows where its columns are; a constant reads none and is
        returned as it is."""
        if leaf.spec.column is not None:
            return replace(leaf, index=self.find(leaf.spec.column, leaf))
        if leaf.spec.template is not None:
            found = {c: self.find(c, leaf) for c in template_columns(leaf.spec.template)}
            return replace(leaf, template_indexes=found)
        return leaf

    def find(self, column: str, leaf: Leaf) -> int:
        if column in self.exact:
            return self.exact[column]
        near = self.loose.get(fold_header(column), [])
        if len(near) == 1:
            return near[0]
        shown = ", ".join(f"'{h}'" for h in self.headers[:40])
        raise ConfigError.at(
            self.path,
            leaf.line,
            leaf.path,
            f"column '{column}' is not in {self.source}.{did_you_mean(column, self.headers)} The"
            f" file's columns: {shown}.",
        )


def _rebuilt_object(node: ObjectNode, leaves: dict[Leaf, Leaf]) -> ObjectNode:
    """A copy of the tree under `node`, with each leaf replaced as `leaves` says."""
    children = {key: _rebuilt(child, leaves) for key, child in node.children.items()}
    return replace(node, children=children)


def _rebuilt(node: Node, leaves: dict[Leaf, Leaf]) -> Node:
    if isinstance(node, Leaf):
        return leaves[node]
    if isinstance(node, ObjectNode):
        return _rebuilt_object(node, leaves)
    if isinstance(node, ListNode):
        return replace(node, items=[_rebuilt(item, leaves) for item in node.items])
    if isinstance(node, AnswersNode):
        answers = {qid: _rebuilt_answer(a, leaves) for qid, a in node.answers.items()}
        return replace(node, answers=answers)
    name = None if node.name is None else leaves[node.name]
    return replace(node, file=leaves[node.file], name=name)


def _rebuilt_answer(node: Leaf | FileAnswerNode, leaves: dict[Leaf, Leaf]) -> Leaf | FileAnswerNode:
    if isinstance(node, Leaf):
        return leaves[node]
    name = None if node.name is None else leaves[node.name]
    return replace(node, file=leaves[node.file], name=name)


def _inner_types(annotation: Any) -> list[Any]:
    """`Optional[List[Model]]` -> [Model, ...]: the types a field's values may have."""
    arguments = typing.get_args(annotation)
    if not arguments:
        return [annotation]
    return [inner for argument in arguments for inner in _inner_types(argument)]


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
        for answer in node.answers.values():
            if isinstance(answer, Leaf):
                found.append(answer)
            else:
                found.extend(leaf for leaf in (answer.file, answer.name) if leaf is not None)


@functools.lru_cache(maxsize=256)
def template_columns(template: str) -> tuple[str, ...]:
    return tuple(name for _, name, _, _ in string.Formatter().parse(template) if name is not None)


# --- loading ---------------------------------------------------------------------------------


DICT_MAPPING = Path("<mapping dict>")  # how messages name a mapping given as a dict


def load_mapping(path: str | Path | dict[str, Any]) -> Mapping:
    """Read a mapping file (or take a dict of the same shape, as the Python API allows) and
    compile it; every mistake is a `ConfigError` naming the key (and the line, in a file)."""
    if isinstance(path, dict):
        return compile_mapping(path, DICT_MAPPING)
    path = Path(path)
    try:
        with path.open(encoding="utf-8-sig") as handle:
            text = handle.read(MAX_MAPPING_CHARS + 1)  # never more: the file may be anything
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: mapping file not found. Create one with `kombo-import init INPUT -o {path}`."
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the mapping: {exc}") from exc
    if len(text) > MAX_MAPPING_CHARS:
        raise ConfigError(
            f"{path}: is over {MAX_MAPPING_CHARS:,} characters long; a mapping is a few kilobytes "
            "of YAML. Check that this is the mapping file and not the input."
        )
    data, lines = _parse_yaml(path, text)
    return compile_mapping(data, path, lines)


class _Loader(yaml.SafeLoader):
    """YAML 1.2 booleans: only true/false. `NO` stays Norway and `yes:` stays a map key."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        """A value YAML recognises but Python cannot build (`2024-02-30`) is a YAML error at its
        line, not a ValueError traceback."""
        try:
            return super().construct_object(node, deep)
        except ValueError as exc:
            shown = clip(node.value) if isinstance(node, yaml.ScalarNode) else "this value"
            problem = f"cannot read {shown!r}: {exc}"
            raise yaml.constructor.ConstructorError(None, None, problem, node.start_mark) from None


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _parse_yaml(path: Path, text: str) -> tuple[Any, dict[tuple[Any, ...], int]]:
    """The data and the line of every key. The document is checked event by event first (see
    `_check_events`), then composed once: lines are read off that node graph before it is
    constructed, since constructing rewrites `<<` merges in place."""
    lines: dict[tuple[Any, ...], int] = {}
    try:
        _check_events(path, text)
        loader = _Loader(text)
        try:
            root = loader.get_single_node()
            if root is None:
                return None, lines
            _record_lines(path, root, (), lines)
            data = loader.construct_document(root)
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError.at(
            path,
            line,
            None,
            f"is not valid YAML: {problem}. Check indentation and quotes (a value holding ': ' or"
            " '#' needs quotes).",
        ) from None
    except RecursionError:  # the checks above bound the depth; this is the last line of defence
        message = f"nests too deeply to read; a mapping needs at most {MAX_DEPTH} levels."
        raise ConfigError.at(path, None, None, message) from None
    return data, lines


_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")


def _check_events(path: Path, text: str) -> None:
    """Refuse, before anything is built, a document that would cost far more than any mapping
    needs: nesting deeper than MAX_DEPTH (Python would overflow its stack), more than MAX_NODES
    values once aliases are expanded (nine lines of `&a [*a, *a, …]` expand to a billion), an
    alias inside its own anchor (a value without end), or a number too long to be one.

    YAML events come one at a time without recursion, and each alias adds the size its anchor
    was measured at, so this check is cheap however hostile the file; it stops at the first
    event past a limit."""
    size = _DocumentSize()
    for event in yaml.parse(text, Loader=_Loader):
        problem = size.count(event)
        if problem is not None:
            mark = event.start_mark  # the parser sets it on every event
            raise ConfigError.at(path, None if mark is None else mark.line + 1, None, problem)


@dataclass
class _Open:
    """A list or mapping whose end has not come yet."""

    anchor: str | None
    before: int  # the values counted before it
    depth: int  # its level
    deepest: int  # the deepest level reached inside it, aliases expanded


class _DocumentSize:
    """The size of a YAML document so far, counted event by event for `_check_events`."""

    def __init__(self) -> None:
        self.depth = 0
        self.nodes = 0
        self.open: list[_Open] = []  # innermost last
        self.anchors: dict[str, tuple[int, int]] = {}  # anchor -> (nodes, levels), aliases expanded

    def count(self, event: yaml.Event) -> str | None:
        """Add `event`; the problem if the document is now past a limit, else None."""
        counter = _COUNTERS.get(type(event))
        problem = counter(self, event) if counter is not None else None
        if problem is None and self.nodes > MAX_NODES:
            problem = (
                f"has more than {MAX_NODES:,} values; a mapping needs a few hundred. "
                "Check that this is the mapping file."
            )
        return problem

    def opened(self, event: yaml.CollectionStartEvent) -> str | None:
        self.nodes += 1
        self.depth += 1
        self.open.append(_Open(event.anchor, self.nodes - 1, self.depth, self.depth))
        if self.depth > MAX_DEPTH:
            return (
                f"nests more than {MAX_DEPTH} levels deep; a mapping needs about "
                "ten. Check for brackets that are never closed."
            )
        return None

    def closed(self, event: yaml.CollectionEndEvent) -> str | None:
        done = self.open.pop()
        if done.anchor is not None:
            self.anchors[done.anchor] = (self.nodes - done.before, done.deepest - done.depth + 1)
        self._reach(done.deepest)
        self.depth -= 1
        return None

    def alias(self, event: yaml.AliasEvent) -> str | None:
        name = event.anchor  # never None for an alias (typed Optional for other events)
        # an unknown anchor: the composer says so
        size, levels = (1, 0) if name is None else self.anchors.get(name, (1, 0))
        self.nodes += size
        self._reach(self.depth + levels)
        if any(entry.anchor == name for entry in self.open):
            return (
                f"the alias *{name} is inside its own anchor &{name}, so the value "
                "would contain itself without end; refer only to a finished anchor."
            )
        if self.depth + levels > MAX_DEPTH:
            return (
                f"the alias *{name} nests the mapping more than {MAX_DEPTH} levels "
                "deep once expanded; a mapping needs about ten."
            )
        if self.nodes > MAX_NODES:
            return (
                f"refused: with the alias *{name} expanded, the mapping has more than "
                f"{MAX_NODES:,} values (a mapping needs a few hundred), which would "
                "take minutes and gigabytes to read. Use fewer aliases of aliases."
            )
        return None

    def scalar(self, event: yaml.ScalarEvent) -> str | None:
        self.nodes += 1
        if event.anchor is not None:
            self.anchors[event.anchor] = (1, 0)
        if len(event.value) > MAX_NUMBER_CHARS and _is_number(event):
            return (
                f"holds a number {len(event.value):,} characters long "
                f"({clip(event.value, 20)!r}); no id or amount is that long. "
                "Quote it if it is text."
            )
        return None

    def document(self, event: yaml.DocumentStartEvent) -> str | None:
        self.anchors.clear()  # anchors belong to their document
        return None

    def _reach(self, level: int) -> None:
        """The innermost open list or mapping reaches `level`."""
        if self.open:
            self.open[-1].deepest = max(self.open[-1].deepest, level)


# What each kind of event adds to a document's size. The parser makes events of exactly these
# classes; the others (stream and document ends) add nothing.
_COUNTERS: dict[type[yaml.Event], Callable[[_DocumentSize, Any], str | None]] = {
    yaml.MappingStartEvent: _DocumentSize.opened,
    yaml.SequenceStartEvent: _DocumentSize.opened,
    yaml.MappingEndEvent: _DocumentSize.closed,
    yaml.SequenceEndEvent: _DocumentSize.closed,
    yaml.AliasEvent: _DocumentSize.alias,
    yaml.ScalarEvent: _DocumentSize.scalar,
    yaml.DocumentStartEvent: _DocumentSize.document,
}


def _is_number(event: yaml.ScalarEvent) -> bool:
    """Whether the scalar becomes an int or a float, as the loader would resolve it."""
    if event.tag in _NUMBER_TAGS:
        return True
    if not event.implicit[0] or not event.value:
        return False
    resolvers = _Loader.yaml_implicit_resolvers.get(event.value[0], [])
    return any(tag in _NUMBER_TAGS and regexp.match(event.value) for tag, regexp in resolvers)


def _record_lines(
    path: Path, node: yaml.Node, at: tuple[Any, ...], lines: dict[tuple[Any, ...], int]
) -> None:
    lines[at] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = str(key.value)
            if name in seen:
                raise ConfigError.at(
                    path,
                    key.start_mark.line + 1,
                    _dotted(at + (name,)),
                    f"'{name}' is given twice; keep one.",
                )
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
    """Walks the YAML data beside the SDK model and builds the tree, raising on the first
    mistake."""

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
            raise self.fail(
                at,
                f"expected the fields of {_dotted(at)} ({', '.join(_field_names(model))}), got "
                f"{describe(data)}.",
            )
        children: dict[str, Node] = {}
        lookups = {key: field for (owner, key), field in LOOKUPS.items() if owner is model}
        names = _field_names(model) + list(lookups)
        looked_up: set[str] = set()
        for key, value in data.items():
            key = str(key)
            fname = _field_by_key(model, key)
            if fname is None and key in _REMOTE_PASSTHROUGH.get(model, ()):
                if value is not None:
                    children[key] = self.free(value, at + (key,))
                continue
            if fname is None and key in lookups:
                if lookups[key] in data:
                    raise self.fail(
                        at + (key,),
                        f"give {lookups[key]} or {key}, not both: {key} is looked up to give "
                        f"{lookups[key]}.",
                    )
                looked_up.add(lookups[key])
                if value is not None:
                    children[key] = self.leaf(value, at + (key,), "str", None, "email")
                continue
            if fname is None:
                raise self.fail(
                    at + (key,),
                    f"'{key}' is not a field of {_dotted(at)}.{did_you_mean(key, names)} Fields: "
                    f"{', '.join(names)}.",
                )
            info = model.model_fields[fname]
            wire = info.alias or fname
            if value is None:
                continue
            children[wire] = self.field(value, info.annotation, at + (key,), model, fname)
        required = {(f.alias or n) for n, f in model.model_fields.items() if f.is_required()}
        return ObjectNode(_dotted(at), model, children, required - looked_up)

    def field(
        self,
        data: Any,
        annotation: Any,
        at: tuple[Any, ...],
        owner: type[BaseModel] | None,
        name: str,
    ) -> Node:
        shape, inner = _shape(annotation)
        if owner is sdk.PostAtsCandidatesRequestBody and name == "attachments":
            return self.attachments(data, at)
        if owner is sdk.PostAtsCandidatesRequestBody and name == "screening_question_answers":
            return self.answers(data, at)
        if shape == "model":
            if _is_spec(data):
                raise self.fail(
                    at,
                    f"{_dotted(at)} is a group of fields ({', '.join(_field_names(inner))}); map"
                    " each field on its own line below it.",
                )
            return self.model_object(data, inner, at)
        if shape == "list":
            return self.list_field(data, inner, at)
        if shape == "dict":
            return self.free(data, at)
        return self.leaf(data, at, shape, inner, _check_for(owner, name))

    # what happens after the create
    def after_create(self, data: Any, at: tuple[Any, ...]) -> tuple[ObjectNode, AfterCreateRules]:
        """`after_create:` -> its values as a tree built with the body's (each note and tag a
        text, the rejection's fields), and what the tree cannot say (the order of the actions,
        the values of `reject.when` that reject)."""
        if not isinstance(data, dict):
            raise self.fail(
                at,
                f"expected {', '.join(AFTER_CREATE_KEYS)} under after_create, got "
                f"{describe(data)}.",
            )
        children: dict[str, Node] = {}
        order: list[str] = []
        when_in: frozenset[str] | None = None
        for key, value in data.items():
            key = str(key)
            if key not in AFTER_CREATE_KEYS:
                raise self.fail(
                    at + (key,),
                    f"'{key}' is not an action after the create."
                    f"{did_you_mean(key, AFTER_CREATE_KEYS)} Actions: "
                    f"{', '.join(AFTER_CREATE_KEYS)}.",
                )
            if value is None:
                continue
            order.append(key)
            if key == "reject":
                children[key], when_in = self._reject(value, at + (key,))
            else:  # notes, tags: texts, each item a column, template or value (split: several)
                items = value if isinstance(value, list) else [value]
                where = [
                    at + (key, i) if isinstance(value, list) else at + (key,)
                    for i in range(len(items))
                ]
                leaves: list[Node] = [
                    self.leaf(item, w, "str", None, None)
                    for item, w in zip(items, where, strict=True)
                ]
                children[key] = ListNode(_dotted(at + (key,)), leaves, expand=False)
        return ObjectNode(_dotted(at), None, children), AfterCreateRules(tuple(order), when_in)

    def _reject(self, data: Any, at: tuple[Any, ...]) -> tuple[ObjectNode, frozenset[str] | None]:
        if not isinstance(data, dict):
            raise self.fail(
                at,
                f"expected the rejection's fields ({', '.join(REJECT_KEYS)}), got "
                f"{describe(data)}.",
            )
        unknown = [str(k) for k in data if str(k) not in REJECT_KEYS]
        if unknown:
            raise self.fail(
                at + (unknown[0],),
                f"'{unknown[0]}' is not a field of the rejection."
                f"{did_you_mean(unknown[0], REJECT_KEYS)} Fields: {', '.join(REJECT_KEYS)}.",
            )
        reasons = [
            k for k in ("rejection_reason_id", "rejection_reason") if data.get(k) is not None
        ]
        if len(reasons) != 1:
            raise self.fail(
                at,
                "give the reason as rejection_reason_id (Kombo's id) or rejection_reason (its name,"
                " looked up among the integration's rejection reasons), one of the two.",
            )
        children: dict[str, Node] = {
            key: self.leaf(data[key], at + (key,), "str", None, None)
            for key in (reasons[0], "note")
            if data.get(key) is not None
        }
        when_in = None
        when = data.get("when")
        if when is not None:
            values = when.get("in") if isinstance(when, dict) else None
            if not isinstance(values, list) or not values:
                raise self.fail(
                    at + ("when",),
                    "expected when: {column: Status, in: [Rejected, …]}: the rejection is sent for "
                    "the rows whose cell is one of the values under `in`.",
                )
            rest = {k: v for k, v in when.items() if k != "in"}
            children["when"] = self.leaf(rest, at + ("when",), "str", None, None)
            when_in = frozenset(map_key(v) for v in values)
        return ObjectNode(_dotted(at), None, children), when_in

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
                    leaf = self.leaf(
                        item, where, *_shape(info.annotation), _check_for(item_inner, fname)
                    )
                    nodes.append(
                        ObjectNode(
                            _dotted(where),
                            item_inner,
                            {info.alias or fname: leaf},
                            {info.alias or fname},
                        )
                    )
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
                    at = (
                        tuple(
                            int(p) if p.isdigit() else p
                            for p in re.split(r"\.|\[(\d+)\]", node.path)
                            if p
                        )
                        if node.path
                        else ()
                    )
                    where = f"{node.path}.{key}" if node.path else key
                    raise self.fail(
                        at,
                        f"{where} is required by Kombo but the mapping does not set it; map a"
                        " column to it (or a {value: …}).",
                    )
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
            children = {
                str(k): self.free(v, at + (str(k),)) for k, v in data.items() if v is not None
            }
            return ObjectNode(_dotted(at), None, children)
        if isinstance(data, list):
            return ListNode(
                _dotted(at), [self.free(v, at + (i,)) for i, v in enumerate(data)], expand=False
            )
        return self.leaf(data, at, "any", None, None)

    def leaf(
        self, data: Any, at: tuple[Any, ...], kind: str, inner: Any, check: str | None
    ) -> Leaf:
        spec = self._field_spec(data, at)
        transforms = [
            self._transform(t, at + ("transform", i)) for i, t in enumerate(spec.transform)
        ]
        value_map = None if spec.map is None else {map_key(k): v for k, v in spec.map.items()}
        if spec.template is not None:
            self._check_template(spec.template, at + ("template",))
        todo = self._placeholder_step(spec, at)
        if todo is not None:
            transforms.append((PLACEHOLDER_STEP, todo))
        return Leaf(
            _dotted(at),
            spec,
            kind,
            self.lines.get(at),
            spec.required,
            enum=tuple(typing.get_args(inner)) if kind == "enum" else (),
            check=check,
            transforms=transforms,
            value_map=value_map,
        )

    def _field_spec(self, data: Any, at: tuple[Any, ...]) -> FieldSpec:
        """What a value of the mapping says: a column name, a constant, or a `FieldSpec`'s
        options."""
        if data == PLACEHOLDER:
            return FieldSpec(value=PLACEHOLDER)
        if isinstance(data, str):
            return FieldSpec(column=data)
        if isinstance(data, dict) and _is_spec(data):
            unknown = [k for k in data if k not in SPEC_KEYS]
            if unknown:
                raise self.fail(
                    at + (str(unknown[0]),),
                    f"'{unknown[0]}' is not an option of a field."
                    f"{did_you_mean(str(unknown[0]), SPEC_KEYS)} Options: "
                    f"{', '.join(sorted(SPEC_KEYS))}.",
                )
            spec: FieldSpec = self._spec(FieldSpec, data, at)
            return spec
        if isinstance(data, dict):
            raise self.fail(
                at,
                "expected a column name or {column: …}, {value: …} or {template: …};"
                f" '{next(iter(data), '')}' is none of these."
                f"{did_you_mean(str(next(iter(data), '')), SOURCE_KEYS)}",
            )
        if isinstance(data, (int, float, bool, dt.date)):
            # a bare number or true/false is a constant, never a column
            return FieldSpec(value=data)
        raise self.fail(at, f"expected a column name or {{column: …}}, got {describe(data)}.")

    def _placeholder_step(self, spec: FieldSpec, at: tuple[Any, ...]) -> Callable[..., Any] | None:
        """A step that refuses every row reaching a TODO the mapping still holds (`{value: TODO}`,
        a bare `TODO`, or `TODO` as a target of `map:`), naming the line to edit: a draft's gap
        is a problem of each row it touches, never a value sent."""
        if spec.value == PLACEHOLDER:
            return functools.partial(
                _refuse, where=_dotted(at), mapping=self.path.name, line=self.lines.get(at)
            )
        lines = {
            map_key(key): self.lines.get(at + ("map", str(key)))
            for key, target in (spec.map or {}).items()
            if target == PLACEHOLDER
        }
        if not lines:
            return None
        return functools.partial(
            _refuse_mapped, where=_dotted(at), mapping=self.path.name, lines=lines
        )

    def _check_template(self, template: str, at: tuple[Any, ...]) -> None:
        try:
            template_columns(template)
        except ValueError as exc:
            raise self.fail(
                at,
                f"is not a valid template: {exc}. Write columns as {{Column name}} and a"
                " literal brace as {{.",
            ) from None
        problem = _template_problem(template)
        if problem:
            raise self.fail(at, problem)

    def _spec(self, model: type[FieldSpec], data: dict[str, Any], at: tuple[Any, ...]) -> Any:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            error = exc.errors()[0]
            where = at + tuple(str(p) for p in error["loc"] if not isinstance(p, int))[:1]
            raise self.fail(where, error["msg"].removeprefix("Value error, ") + ".") from None

    def _transform(
        self, item: str | dict[str, Any], at: tuple[Any, ...]
    ) -> tuple[str, Callable[..., Any]]:
        """One item of a field's `transform:` list, as its name and the function to run on each
        cell, with the options the mapping gives checked (see `transforms.Transform`)."""
        name, options = self._transform_item(item, at)
        transform = self._known_transform(name, at)
        self._check_option_names(name, transform, options, at)
        try:
            return name, transform.configured(options)
        except ValueError as exc:
            raise self.fail(at, f"the options of '{name}' are not usable: {exc}.") from None

    def _transform_item(self, item: str | dict[str, Any], at: tuple[Any, ...]) -> tuple[str, Any]:
        """`lower` or `{date: {formats: [...]}}` as its name and options."""
        if not isinstance(item, dict):
            return item, {}
        if len(item) != 1:
            raise self.fail(
                at,
                "write one transform per list item, e.g. `- {date: {formats: ['%d.%m.%Y']}}`.",
            )
        ((name, options),) = item.items()
        return name, {} if options is None else options

    def _known_transform(self, name: str, at: tuple[Any, ...]) -> Transform:
        if name not in TRANSFORMS:
            raise self.fail(
                at,
                f"'{name}' is not a transform.{did_you_mean(str(name), TRANSFORMS)} Transforms: "
                f"{', '.join(TRANSFORMS)}.",
            )
        return TRANSFORMS[name]

    def _check_option_names(
        self, name: str, transform: Transform, options: Any, at: tuple[Any, ...]
    ) -> None:
        allowed = transform.options
        if not isinstance(options, dict):
            example = ", ".join(f"{option}: …" for option in allowed)
            raise self.fail(at, f"the options of '{name}' must be a mapping such as {{{example}}}.")
        for option in options:
            if option not in allowed:
                raise self.fail(
                    at + (name, option),
                    f"'{option}' is not an option of '{name}'.{did_you_mean(str(option), allowed)}"
                    f" Options: {', '.join(allowed) or 'none'}.",
                )

    def attachments(self, data: Any, at: tuple[Any, ...]) -> Node:
        items = data if isinstance(data, list) else [data]
        nodes: list[Node] = []
        for i, item in enumerate(items):
            where = at + (i,)
            if isinstance(item, str):
                item = {"column": item}
            if not isinstance(item, dict):
                raise self.fail(
                    where,
                    "expected an attachment such as {column: CV, type: CV}, got "
                    f"{describe(item)}.",
                )
            spec, file_leaf, name_leaf = self._file(AttachmentSpec, item, where, "an attachment")
            nodes.append(AttachmentNode(_dotted(where), spec, file_leaf, name_leaf))
        return ListNode(_dotted(at), nodes, expand=True)

    def _file(
        self, model: type[_Spec], item: dict[str, Any], where: tuple[Any, ...], what: str
    ) -> tuple[_Spec, Leaf, Leaf | None]:
        """A file's spec (an attachment, a FILE answer), the leaf that names the file and the
        leaf of its `name:`, if given."""
        unknown = [k for k in item if k not in model.model_fields]
        if unknown:
            raise self.fail(
                where + (str(unknown[0]),),
                f"'{unknown[0]}' is not an option of {what}."
                f"{did_you_mean(str(unknown[0]), model.model_fields)} Options: "
                f"{', '.join(model.model_fields)}.",
            )
        spec = self._spec(model, item, where)
        if spec.content_type is not None and not _CONTENT_TYPE.fullmatch(spec.content_type):
            raise self.fail(where + ("content_type",), _content_type_problem(spec.content_type))
        file_spec = {k: v for k, v in item.items() if k in SPEC_KEYS}
        file_leaf = self.leaf(file_spec, where, "str", None, None)
        name_leaf = (
            self.leaf(spec.name, where + ("name",), "str", None, None)
            if spec.name is not None
            else None
        )
        return spec, file_leaf, name_leaf

    def answers(self, data: Any, at: tuple[Any, ...]) -> Node:
        if not isinstance(data, dict):
            raise self.fail(
                at,
                "expected question ids with the column of each answer, e.g."
                " `3phFBNXRweGnDmsU9o2vdPuQ: Work permit` (list them with `kombo-import jobs`).",
            )
        answers: dict[str, Leaf | FileAnswerNode] = {}
        for qid, spec in data.items():
            where = at + (str(qid),)
            if spec is None:
                continue
            if isinstance(spec, dict) and "type" in spec:
                answers[str(qid)] = self.file_answer(spec, where)
            else:
                answers[str(qid)] = self.leaf(spec, where, "answer", None, None)
        return AnswersNode(_dotted(at), answers)

    def file_answer(self, item: dict[str, Any], where: tuple[Any, ...]) -> FileAnswerNode:
        """`{column: Portfolio, type: FILE}`: the answer to a FILE question is the file the cell
        names. One file: such a question takes no list."""
        if str(item.get("type")).upper() != "FILE":
            raise self.fail(
                where + ("type",),
                f"an answer's type can only be FILE (a file to upload), not '{item.get('type')}';"
                " other answers are sent as the cell gives them, and --check-remote converts them"
                " to the question's type. Drop `type:`.",
            )
        if item.get("split") is not None:
            raise self.fail(
                where + ("split",),
                "a FILE question takes one file; drop `split:`, or attach the other files under "
                "`attachments:`.",
            )
        spec, file_leaf, name_leaf = self._file(FileAnswerSpec, item, where, "a FILE answer")
        return FileAnswerNode(_dotted(where), spec, file_leaf, name_leaf)


# Kombo's pattern for an attachment's content_type (its spec: `^[\w.-]+\/[\w.-]+$`, where \w is
# ASCII as in JavaScript): type/subtype, nothing more, no parameters.
_CONTENT_TYPE = re.compile(r"[\w.-]+/[\w.-]+", re.ASCII)


def _content_type_problem(value: str) -> str:
    """Why `content_type: value` cannot be sent, and what to write instead."""
    guess = None
    if "/" not in value:  # `pdf`, `.docx`: a file extension given for a type
        guess = mimetypes.guess_type("file." + value.strip().lstrip(".").lower())[0]
    hint = f" Did you mean '{guess}'?" if guess and _CONTENT_TYPE.fullmatch(guess) else ""
    return (
        f"'{clip(value)}' is not a content type Kombo accepts: it takes type/subtype made "
        f"of letters, digits, '.', '_' and '-', such as application/pdf.{hint} Or leave "
        "content_type out: each file's type is then found from its content."
    )


def _template_problem(template: str) -> str | None:
    """What in `template` would do more than place columns, or None. `build.py` renders with
    `str.format_map`, which also runs format specs (`{First:>999999999}` builds a gigabyte per
    row), conversions (`!r`), attribute and index lookups (`{First.__class__}`) and positional
    fields (`{0}`, a KeyError on every row): none of that belongs in a mapping."""
    fields = [
        (name, spec, conversion)
        for _, name, spec, conversion in string.Formatter().parse(template)
        if name is not None
    ]
    if len(fields) > MAX_TEMPLATE_COLUMNS:
        return (
            f"the template places {len(fields):,} columns; at most {MAX_TEMPLATE_COLUMNS} "
            "are allowed. Split it, or map the columns one by one."
        )
    for name, spec, conversion in fields:
        shown = (
            "{"
            + clip(name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else ""))
            + "}"
        )
        if spec or conversion:
            return (
                f"'{shown}' asks for formatting (':' or '!'); a template places columns as "
                f"they are. Write {{{clip(name)}}} and use a transform for the rest."
            )
        if not name or name.isdecimal():
            return (
                f"'{shown}' names no column (Python reads {{}} and {{0}} as positions); "
                "write the column's header between the braces."
            )
        if "." in name or "[" in name:
            return (
                f"'{shown}': a column name in a template cannot hold '.' or '[' (Python "
                "would read them as attribute or index lookups); map that column with "
                "`column:` instead."
            )
    return None


def compile_mapping(
    data: Any, path: Path, lines: dict[tuple[Any, ...], int] | None = None
) -> Mapping:
    """Turn parsed YAML into a `Mapping`; see `load_mapping`."""
    compiler = _Compiler(path, lines or {})
    if not isinstance(data, dict):
        raise compiler.fail(
            (),
            "a mapping is a YAML document with `candidate:` and `application:` sections, got "
            f"{describe(data)}. See mappings/example.yaml.",
        )
    data = dict(data)
    version = data.pop("version", 1)
    if version != 1:
        raise compiler.fail(
            ("version",), f"version {version} is not supported; this importer reads version 1."
        )
    input_data = data.pop("input", None) or {}
    try:
        input_options = InputOptions.model_validate(input_data)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = str(error["loc"][0]) if error["loc"] else None
        hint = (
            did_you_mean(key, InputOptions.model_fields)
            if key and error["type"] == "extra_forbidden"
            else ""
        )
        raise compiler.fail(
            ("input",) + ((key,) if key else ()),
            f"{error['msg']}.{hint} Options: {', '.join(InputOptions.model_fields)}.",
        ) from None
    for needed in ("candidate", "application"):
        if needed not in data:
            raise compiler.fail(
                (), f"the mapping has no `{needed}:` section; the request body needs one."
            )
    after_data = data.pop("after_create", None)
    body = compiler.model_object(data, Body, ())
    compiler.require_fields(body)
    rules = None
    if after_data is not None:
        after, rules = compiler.after_create(after_data, ("after_create",))
        body = ObjectNode(
            body.path, body.model, {**body.children, AFTER_CREATE: after}, body.required
        )
    return Mapping.of(path, input_options, body, after_create=rules)


# --- SDK model introspection -----------------------------------------------------------------


def _shape(annotation: Any) -> tuple[str, Any]:
    """("model", cls) | ("list", item) | ("dict", None) | ("enum", Literal)
    | (scalar kind, None)."""
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


# Keys a mapping may give in place of a field that takes an id, by (SDK model, key): the id is
# looked up in the integration from what the cell says (`checks.JobCatalog`), and the key never
# reaches the body. `sourced_by: {user_email: Recruiter}` -> GET /ats/users -> `{user_id: …}`.
LOOKUPS: dict[tuple[type[BaseModel], str], str] = {
    (sdk.PostAtsCandidatesRequestBodySourcedBy, "user_email"): "user_id",
}
USER_EMAIL = "sourced_by.user_email"  # the body path of the one lookup there is
AFTER_CREATE = "after_create"  # the body key its values are built under, taken out before sending
AFTER_CREATE_KEYS = ("notes", "reject", "tags")
REJECT_KEYS = ("when", "rejection_reason_id", "rejection_reason", "note")
REJECTION_REASON_NAME = "after_create.reject.rejection_reason"


@dataclass(frozen=True)
class AfterCreateRules:
    """What `after_create:` says beyond its values: the actions in the mapping's order, and the
    values of `reject.when` (folded as map keys are) for which a row is rejected."""

    order: tuple[str, ...]
    reject_when: frozenset[str] | None


# Free-form remote fields that Kombo's API takes but SDK 1.4 leaves out of its models (FACTS.md §6);
# they travel beside the model, converted as the model converts (client.request_body).
_REMOTE_PASSTHROUGH: dict[type[BaseModel], tuple[str, ...]] = {
    sdk.PostAtsCandidatesRequestBodyGreenhouse: ("candidate", "application"),
    sdk.PostAtsCandidatesRequestBodyWorkable: ("candidate",),
}


def _check_for(owner: type[BaseModel] | None, name: str) -> str | None:
    return _CHECKS.get((owner, name)) if owner is not None else None


def _is_spec(data: Any) -> bool:
    return isinstance(data, dict) and any(k in data for k in SOURCE_KEYS)


def map_key(key: Any) -> str:
    return " ".join(str(key).split()).casefold()


# The placeholder a drafted mapping (`kombo-import init`) leaves where only the user knows the
# answer. It loads, and every row that reaches it is refused with UNMAPPED_REQUIRED naming the
# line to edit: never a default that would validate. A column called TODO is `{column: TODO}`.
PLACEHOLDER = "TODO"
PLACEHOLDER_STEP = "placeholder"  # the name of its step among a leaf's transforms


def _refuse(value: Any, where: str, mapping: str, line: int | None) -> Any:
    raise RowProblem(
        UNMAPPED_REQUIRED,
        f"{where} is still {PLACEHOLDER} in {mapping}, line {line}: map a column or a "
        "{value: …} there, or delete the line if the field is optional.",
    )


def _refuse_mapped(value: Any, where: str, mapping: str, lines: dict[str, int | None]) -> Any:
    """The value, unless the map sends it to the placeholder."""
    key = map_key(as_text(value))
    if key in lines:
        raise RowProblem(
            UNMAPPED_REQUIRED,
            f"'{' '.join(as_text(value).split())}' maps to {PLACEHOLDER} in the map of {where} "
            f'({mapping}, line {lines[key]}): put what to send there, or "" to send nothing.',
        )
    return value
