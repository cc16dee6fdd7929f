"""What happens to an application after its create: the mapping's `after_create:` notes,
rejection and tags, and the run's `--tag`, as Kombo's actions on the created application or
candidate.

Kombo deduplicates none of these, so each action has a stable name (`Action.key`) under which
the ledger keeps its state per application: a re-run sends only what is not yet done, and an
action whose answer was lost is never sent again blindly.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from collections.abc import Mapping as Map
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote

from . import issues
from .issues import Issue
from .mapping import AFTER_CREATE, AfterCreateRules, Mapping, map_key

# Kinds, in the order their results are summed up.
NOTE, REJECT, TAG = "note", "reject", "tag"
MAX_ACTIONS = 200  # per application: notes and tags of one row; more is not a row of an export


@dataclass(frozen=True)
class Action:
    """One request after the create. `key` names it in the ledger: a note by its content (the
    same note is never added twice; an edited note is a new one), a tag by its name."""

    kind: str  # NOTE | REJECT | TAG
    key: str
    body: dict[str, Any]
    reason_name: str | None = None  # a rejection whose reason is named, until it is looked up

    def path(self, candidate_id: str, application_id: str | None) -> str | None:
        """Where it is POSTed; None when the ATS filed no application to act on."""
        if self.kind == TAG:
            return f"/ats/candidates/{quote(candidate_id, safe='')}/tags"
        if application_id is None:
            return None
        what = "notes" if self.kind == NOTE else "reject"
        return f"/ats/applications/{quote(application_id, safe='')}/{what}"

    @property
    def readable(self) -> bool:
        """Whether Kombo's reads show it done (a tag, a rejection; not a note): see `seen_in`."""
        return self.kind in (TAG, REJECT)

    @property
    def label(self) -> str:
        return {NOTE: "a note", REJECT: "the rejection"}.get(self.kind, f"tag '{self.key[4:]}'")


def seen_in(action: Action, candidate: Map[str, Any], application: Map[str, Any]) -> bool:
    """Whether Kombo's candidate shows the action done: a tag of that name, the application
    declined (a note, which no read shows: never; see `Action.readable`)."""
    if action.kind == TAG:
        name = str(action.body["tag"]["name"]).casefold()
        tags = candidate.get("tags") or []
        return any(isinstance(t, Map) and str(t.get("name") or "").casefold() == name for t in tags)
    return action.kind == REJECT and application.get("outcome") == "DECLINED"


def note(content: str) -> Action:
    digest = hashlib.sha256(content.encode()).hexdigest()[:16]
    return Action(NOTE, f"note:{digest}", {"content": content, "content_type": "PLAIN_TEXT"})


def tag(name: str) -> Action:
    return Action(TAG, f"tag:{name}", {"tag": {"name": name}})


def reject(reason_id: str | None, reason_name: str | None, note: str | None) -> Action:
    body: dict[str, Any] = {} if reason_id is None else {"rejection_reason_id": reason_id}
    if note:
        body["note"] = note
    return Action(REJECT, "reject", body, reason_name)


def actions_of(
    values: Any, rules: AfterCreateRules | None, row: int, mapping: Mapping
) -> tuple[tuple[Action, ...], list[Issue]]:
    """The row's actions from the values built under `after_create` (in the mapping's order),
    and the problems that stop the row (a rejection without a reason)."""
    if rules is None or not isinstance(values, dict):
        return (), []
    found: list[Action] = []
    problems: list[Issue] = []
    for kind in rules.order:
        value = values.get(kind)
        if kind == "notes":
            found += [note(text) for text in _texts(value)]
        elif kind == "tags":
            found += [tag(name) for name in _texts(value)]
        elif isinstance(value, dict) and _rejects(value, rules):
            reason_id, name = value.get("rejection_reason_id"), value.get("rejection_reason")
            if not reason_id and not name:
                where = "rejection_reason" if mapping.names_rejection_reasons() else (
                    "rejection_reason_id"
                )  # fmt: skip
                path = f"{AFTER_CREATE}.reject.{where}"
                problems.append(
                    Issue(
                        row,
                        mapping.label_for(path),
                        path,
                        None,
                        issues.MISSING_REJECTION_REASON,
                        "the row is to be rejected, but its rejection reason is empty; fill it in "
                        "(Kombo needs a reason to reject).",
                    )
                )
            else:
                found.append(reject(reason_id or None, name or None, value.get("note")))
    unique = list({action.key: action for action in found}.values())
    if len(unique) > MAX_ACTIONS:
        problems.append(
            Issue(
                row,
                "",
                AFTER_CREATE,
                None,
                issues.TOO_MANY_ACTIONS,
                f"the row asks for {len(unique):,} notes and tags; at most {MAX_ACTIONS} are sent "
                "for one application. Check the split separators of after_create.",
            )
        )
    return tuple(unique), problems


def _texts(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [] if value is None else [value]
    return [text.strip() for text in (str(item) for item in items) if text.strip()]


def _rejects(value: dict[str, Any], rules: AfterCreateRules) -> bool:
    """Whether the row is rejected: its `when` cell is one of the values under `in`; without a
    `when`, whenever a reason is given."""
    if rules.reject_when is None:
        return bool(value.get("rejection_reason_id") or value.get("rejection_reason"))
    when = value.get("when")
    return when is not None and map_key(str(when)) in rules.reject_when


class RejectionReasons:
    """The integration's rejection reasons (GET /ats/rejection-reasons), to check a rejection's
    reason and turn a reason's name into its id, as job titles and option names are matched:
    whitespace and case do not matter."""

    def __init__(self, listed: Iterable[Map[str, Any]] | None, unlisted: str | None = None) -> None:
        self.listed = list(listed) if listed is not None else None
        self.unlisted = unlisted  # why they could not be listed
        self.ids = {str(r["id"]) for r in self.listed or []}
        self.by_name: dict[str, str] = {}
        for reason in self.listed or []:
            if isinstance(reason.get("name"), str):
                self.by_name.setdefault(map_key(reason["name"]), str(reason["id"]))

    def check(
        self, row: int, actions: tuple[Action, ...], mapping: Mapping
    ) -> tuple[tuple[Action, ...], list[Issue]]:
        """The actions with named reasons turned into ids, and the problems of those that are
        not reasons of this integration."""
        problems: list[Issue] = []
        checked: list[Action] = []
        for action in actions:
            if action.kind != REJECT:
                checked.append(action)
                continue
            named = action.reason_name
            path = f"{AFTER_CREATE}.reject." + (
                "rejection_reason" if named else "rejection_reason_id"
            )
            value = named or action.body.get("rejection_reason_id")
            if self.listed is None:
                if named:
                    problems.append(
                        self._problem(
                            row,
                            mapping,
                            path,
                            value,
                            "the integration's rejection reasons could not be listed "
                            f"({self.unlisted or 'not asked'}), so the reason's name cannot be "
                            "turned into its id; give rejection_reason_id instead.",
                        )
                    )
                else:
                    checked.append(action)
                continue
            reason_id = self.by_name.get(map_key(named)) if named else value
            if reason_id is None or reason_id not in self.ids:
                names = ", ".join(repr(r.get("name")) for r in self.listed[:10])
                problems.append(
                    self._problem(
                        row,
                        mapping,
                        path,
                        value,
                        f"'{value}' is not a rejection reason of this integration; its reasons: "
                        f"{names or 'none'}.",
                    )
                )
                continue
            body = {**action.body, "rejection_reason_id": reason_id}
            checked.append(replace(action, body=body, reason_name=None))
        return tuple(checked), problems

    @staticmethod
    def _problem(row: int, mapping: Mapping, path: str, value: Any, message: str) -> Issue:
        return Issue(
            row, mapping.label_for(path), path, value, issues.UNKNOWN_REJECTION_REASON, message
        )


def needs_reasons(mapping: Mapping) -> bool:
    """Whether the rows' rejections are checked against the integration's reasons."""
    return mapping.after_create is not None and "reject" in mapping.after_create.order
