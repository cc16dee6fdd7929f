"""The dry run: build every row, then the checks that need more than one row or the live
integration (its jobs, stages and screening questions), and keep count."""

from __future__ import annotations

import dataclasses
import functools
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from kombo.models import (
    PostAtsCandidatesRequestBodyAnswer,
    PostAtsCandidatesRequestBodyAttachment,
)
from pydantic import ValidationError

from . import issues, transforms
from .actions import RejectionReasons
from .attachments import AttachmentRef
from .build import BuiltRow, DateOrder, PostAtsCandidatesRequest, RequestBuilder, sdk_shape
from .issues import Issue, RowProblem, Severity, errors_in
from .mapping import USER_EMAIL, Mapping
from .readers import SourceRow
from .transforms import as_text


class DuplicateEmailCheck:
    """The same email (case-insensitive) for the same job twice in one file: the later rows are
    flagged, citing the first. A person applying to two jobs is fine.

    Each (job, email) seen is remembered with its first row: in a dict up to KEYS_IN_MEMORY of
    them (some 18 MB), then on disk (`_KeysOnDisk`), so that memory stays flat at any number of
    rows (a dict would take 177 bytes a row: 1.7 GB for 10 million). A key on disk costs a few
    microseconds more than one in the dict, which files of up to 100k rows never pay."""

    KEYS_IN_MEMORY = 100_000

    def __init__(self) -> None:
        self.first_row: dict[str, int] = {}
        self.on_disk: _KeysOnDisk | None = None

    def check(self, built: BuiltRow, email_column: str) -> BuiltRow:
        """The row, invalid if its person already applies to its job earlier in the file."""
        if built.request is None:
            return built
        request = built.request
        found = self.check_key(
            built.row_number, request.email_address, request.job_id, email_column
        )
        return _invalid(built, *found) if found else built

    def check_key(self, row: int, email: str, job_id: str, email_column: str) -> list[Issue]:
        # A string key, not a tuple: 100,000 tuples would be scanned by every full GC pass.
        key = f"{job_id}\x00{email.casefold()}"
        if self.on_disk is not None:
            first = self.on_disk.first_row(key, row)
        else:
            first = self.first_row.setdefault(key, row)
            if len(self.first_row) > self.KEYS_IN_MEMORY:
                self.on_disk = _KeysOnDisk(self.first_row)
                self.first_row = {}
        if first == row:
            return []
        message = (
            f"'{email}' already applies to job {job_id} in row {first}; each person can apply to a "
            "job once. Remove one of the rows."
        )
        return [
            Issue(
                row,
                email_column,
                "candidate.email_address",
                email,
                issues.DUPLICATE_IN_FILE,
                message,
            )
        ]


class _KeysOnDisk:
    """Keys with the row each was first seen on, in a temporary SQLite file (deleted when
    closed), behind a Bloom filter of fixed size in memory: a key the filter has never seen, as
    nearly every key is, is new without asking the file, and is written with others in a batch.
    Only a key the filter may have seen (a duplicate, or 1 in 12,000 at a million keys, 1 in 20
    at ten million) is looked up."""

    BITS = 1 << 26  # 8 MiB of filter
    BATCH = 2_000

    def __init__(self, first_rows: dict[str, int]) -> None:
        import sqlite3

        self.db = sqlite3.connect("")  # "": a private temporary file, not memory
        self.db.execute("PRAGMA journal_mode = OFF")
        self.db.execute("PRAGMA synchronous = OFF")
        self.db.execute("CREATE TABLE firsts (key TEXT PRIMARY KEY, row INTEGER) WITHOUT ROWID")
        self.filter = bytearray(self.BITS // 8)
        self.waiting: list[tuple[str, int]] = []
        for key, row in first_rows.items():
            self._note(key)
            self.waiting.append((key, row))
        self._write()

    def _places(self, key: str) -> tuple[int, int, int, int, int, int]:
        """The filter's three places for `key`, each a byte's index and a bit mask: worked out
        once per key, in line, as this runs for every row past KEYS_IN_MEMORY."""
        digest = hash(key) & 0xFFFF_FFFF_FFFF_FFFF  # hash() is stable within one process
        low, high, mask = digest & 0xFFFF_FFFF, digest >> 32 | 1, self.BITS - 1
        a, b, c = low & mask, (low + high) & mask, (low + 2 * high) & mask
        return a >> 3, 1 << (a & 7), b >> 3, 1 << (b & 7), c >> 3, 1 << (c & 7)

    def _note(self, key: str) -> None:
        bits = self.filter
        at_a, bit_a, at_b, bit_b, at_c, bit_c = self._places(key)
        bits[at_a] |= bit_a
        bits[at_b] |= bit_b
        bits[at_c] |= bit_c

    def first_row(self, key: str, row: int) -> int:
        """The row `key` was first seen on: `row` itself when it is new (and then remembered)."""
        bits = self.filter
        at_a, bit_a, at_b, bit_b, at_c, bit_c = self._places(key)
        if bits[at_a] & bit_a and bits[at_b] & bit_b and bits[at_c] & bit_c:
            self._write()
            found = self.db.execute("SELECT row FROM firsts WHERE key = ?", (key,)).fetchone()
            if found is not None:
                first: int = found[0]
                return first
        else:
            bits[at_a] |= bit_a
            bits[at_b] |= bit_b
            bits[at_c] |= bit_c
        self.waiting.append((key, row))
        if len(self.waiting) >= self.BATCH:
            self._write()
        return row

    def _write(self) -> None:
        if self.waiting:
            self.db.executemany("INSERT INTO firsts VALUES (?, ?)", self.waiting)
            self.waiting.clear()


class DateOrderProfile:
    """Reads a column's dates once, before any row is built, and decides how its numeric dates
    are read: a day over 12 proves day first, a month position over 12 proves month first;
    the order most of its dates prove wins (the others are problems); when none proves one, the
    transform's `dayfirst`, else the mapping's `input: date_order`, else ambiguous dates are
    problems of their rows."""

    def __init__(self, columns: dict[int, bool | None], mapping_order: str | None) -> None:
        self.columns = columns  # column index -> the transform's explicit dayfirst
        self.mapping_order = mapping_order
        self.proofs = {index: Counter[str]() for index in columns}

    def observe(self, row: SourceRow) -> None:
        for index, counts in self.proofs.items():
            evidence = transforms.date_order_evidence(row.values[index])
            if evidence is not None:
                counts[evidence] += 1

    def decide(self) -> dict[int, DateOrder]:
        decided = {}
        for index, counts in self.proofs.items():
            day, month = counts[transforms.DAY_FIRST], counts[transforms.MONTH_FIRST]
            if day != month:
                order = transforms.DAY_FIRST if day > month else transforms.MONTH_FIRST
                proven = max(day, month)
                decided[index] = DateOrder(
                    order,
                    f"{proven:,} date{'s' if proven > 1 else ''} in the column "
                    f"{'are' if proven > 1 else 'is'} {order.replace('_', ' ')}",
                    inferred=True,
                )
            elif self.columns[index] is not None:
                order = transforms.DAY_FIRST if self.columns[index] else transforms.MONTH_FIRST
                decided[index] = DateOrder(order, "as the date transform's dayfirst says")
            elif self.mapping_order is not None:
                decided[index] = DateOrder(
                    self.mapping_order, "as the mapping's input: date_order says"
                )
            else:
                decided[index] = DateOrder(None, "")
        return decided


CLOSED_STATUSES = {
    "CLOSED",
    "ARCHIVED",
}  # other statuses (and ATS-specific ones) may take applications


class JobCatalog:
    """The integration's jobs, attachment rules and users, to check each row against
    (`--check-remote`, and always before `submit` sends): the job exists and is open, the stage
    is one of its stages, each question is one of its questions, each answer is turned into what
    the question's type needs (yes -> true, an option's name -> its id, a file for a FILE
    question), every question the job requires of this row is answered, the attachments fit
    what the ATS takes, and a sourcing user named by email is a user of the integration (whose
    id is then sent).

    It is plain data once made: worker processes get a copy (`workers.WorkerSetup`) and check
    exactly as this process does."""

    def __init__(
        self,
        jobs: list[dict[str, Any]],
        attachment_rules: dict[str, Any] | None = None,
        users: list[dict[str, Any]] | None = None,
        users_unlisted: str | None = None,
        rejection_reasons: RejectionReasons | None = None,
    ) -> None:
        """`users`: GET /ats/users, or None when they were not listed; `users_unlisted`: why;
        `rejection_reasons`: to check the rejections after the create (None: not asked)."""
        self.listed = jobs
        self.attachment_rules = attachment_rules or {}
        self.users = users
        self.users_unlisted = users_unlisted
        self.rejection_reasons = rejection_reasons
        self.jobs: dict[str, dict[str, Any]] = {}
        for job in jobs:
            self.jobs[job["id"]] = job
            if job.get("remote_id"):
                self.jobs[f"remote:{job['remote_id']}"] = job
        self.users_by_email: dict[str, list[dict[str, Any]]] = {}
        for user in users or []:
            if isinstance(user.get("email"), str) and user["email"].strip():
                self.users_by_email.setdefault(_email_key(user["email"]), []).append(user)

    def check(self, built: BuiltRow, mapping: Mapping) -> BuiltRow:
        if built.request is None:
            return built
        row, job_id = built.row_number, built.request.job_id
        job = self.jobs.get(job_id)
        column = mapping.label_for("application.job_id")

        def refused(code: str, message: str) -> BuiltRow:
            return _invalid(built, Issue(row, column, "application.job_id", job_id, code, message))

        if job is None:
            return refused(
                issues.UNKNOWN_JOB,
                f"'{job_id}' is not a job of this integration; list them with `kombo-import jobs`.",
            )
        if str(job.get("status") or "").upper() in CLOSED_STATUSES:
            return refused(
                issues.JOB_NOT_OPEN,
                f"job '{job.get('name') or job_id}' is {job.get('status')}; Kombo refuses "
                "applications to it.",
            )
        found: list[Issue] = []
        stage_id = built.request.stage_id
        stages = {s["id"] for s in job.get("stages") or []} | {
            f"remote:{s['remote_id']}" for s in job.get("stages") or [] if s.get("remote_id")
        }
        if stage_id and stages and stage_id not in stages:  # some ATSs list no stages per job
            found.append(
                Issue(
                    row,
                    mapping.label_for("application.stage_id"),
                    "application.stage_id",
                    stage_id,
                    issues.UNKNOWN_STAGE,
                    f"'{stage_id}' is not a stage of job '{job.get('name') or job_id}'; list its "
                    "stages with `kombo-import jobs`.",
                )
            )
        answers = _Answers(row, job, built.request, mapping)
        converted = answers.checked()
        found += answers.problems
        noted = [*built.issues, *answers.warnings]
        user_id = self._user_id(row, built.request, mapping, found, noted)
        found += self._attachments(built, mapping)
        if found:
            return BuiltRow(built.source, None, [*noted, *found])
        if converted is None and user_id is None:
            return BuiltRow(built.source, built.request, noted)
        return BuiltRow(built.source, _with(built.request, converted, user_id), noted)

    def _user_id(
        self,
        row: int,
        request: PostAtsCandidatesRequest,
        mapping: Mapping,
        found: list[Issue],
        noted: list[Issue],
    ) -> str | None:
        """The id of the user `sourced_by: {user_email: …}` names, or None: a problem is noted
        when no single user of the integration has the email, a warning when the one who has it
        is inactive (an ATS may refuse to credit them)."""
        email = request.sourced_by_email
        if email is None:
            return None
        field_path = USER_EMAIL
        column = mapping.label_for(field_path)
        if self.users is None:
            problem = (
                f"'{email}' cannot be looked up: the integration's users could not be listed "
                f"({self.users_unlisted or 'not asked for'}). Map sourced_by.user_id instead, or "
                "leave sourced_by out."
            )
        else:
            users = self.users_by_email.get(_email_key(email), [])
            active = [u for u in users if not _inactive(u)]
            if len(users) == 1 or len(active) == 1:
                user = users[0] if len(users) == 1 else active[0]
                if _inactive(user):
                    message = (
                        f"'{email}' is user {user['id']}, who is inactive in the ATS; some ATSs "
                        "refuse to credit an inactive user."
                    )
                    noted.append(
                        Issue(
                            row,
                            column,
                            field_path,
                            email,
                            issues.INACTIVE_USER,
                            message,
                            Severity.WARNING,
                        )
                    )
                chosen: str = user["id"]
                return chosen
            if users:
                problem = (
                    f"{len(users)} users of this integration have the email '{email}' "
                    f"({', '.join(u['id'] for u in users[:5])}); map sourced_by.user_id to "
                    "the one meant."
                )
            else:
                problem = (
                    f"'{email}' is the email of no user of this integration; sourced_by names a "
                    "user of the ATS (the recruiter who sourced the candidate)."
                )
        found.append(Issue(row, column, field_path, email, issues.UNKNOWN_USER, problem))
        return None

    def _attachments(self, built: BuiltRow, mapping: Mapping) -> list[Issue]:
        """The integration's own limits (GET /ats/actions/ats_create_candidate), where it has
        them: first the row's files together, then each file."""
        rules = self.attachment_rules
        if not rules or built.request is None:
            return []
        files = (  # the SDK's model only for a row with files: it costs a row ~15 us
            list(zip(built.request.body.attachments or [], built.request.attachments, strict=True))
            if built.request.attachments
            else []
        )
        row, columns = built.row_number, mapping.label_for("attachments")
        found = [
            Issue(row, columns, "attachments", None, code, message)
            for code, message in _problems_together(rules, files)
        ]
        for index, (item, ref) in enumerate(files):
            column, value = ref.column or columns, ref.cell or item.name
            found += [
                Issue(row, column, f"attachments[{index}]", value, code, message)
                for code, message in _problems_of_file(rules, item, ref)
            ]
        return found


def _inactive(user: dict[str, Any]) -> bool:
    return str(user.get("status") or "").upper() == "INACTIVE"


@functools.lru_cache(maxsize=4096)  # a file names a few recruiters, over and over
def _email_key(email: str) -> str:
    """An email as users are matched by it: as our check writes it (an IDNA host), any case."""
    try:
        return transforms.check_email(email).casefold()
    except RowProblem:
        return email.strip().casefold()


def _with(
    request: PostAtsCandidatesRequest, answers: list[dict[str, Any]] | None, user_id: str | None
) -> PostAtsCandidatesRequest:
    """The request with the answers as the job's questions need them (and only those the row is
    asked: FILE answers left out go with their files) and the sourcing user's id."""
    data = dict(request.payload)
    answer_files = request.answer_files
    if answers is not None:
        data.pop("screening_question_answers", None)
        if answers:
            data["screening_question_answers"] = answers
        kept = {answer["question_id"] for answer in answers}
        answer_files = tuple((qid, ref) for qid, ref in answer_files if qid in kept)
    if user_id is not None:
        data["sourced_by"] = {"user_id": user_id}
    changed = request.replace(payload=data, answer_files=answer_files)
    try:  # the SDK checks the answers as converted now, not when sent
        sdk_shape()(changed.payload)
    except ValidationError:
        changed.body  # noqa: B018 - the model's verdict, in the words the report gives
    return changed


# --- screening answers against the job's questions -------------------------------------------

NOT_ANSWERABLE = {"INFORMATION"}  # a text shown to the candidate, no question


class _Answers:
    """One row's screening answers checked against its job's questions.

    Each answer is converted to its question's type (`answer_for`; a FILE question takes the
    file the mapping names with `type: FILE`, within the question's size and MIME types), or is
    a problem of the row. Then the job's conditions: a question with a precondition
    (`precondition_question_id`, `precondition_options`, as SDK 1.4's `ScreeningQuestion` has
    them) is asked only when the row's answer to that other question is one of those options
    (a BOOLEAN's true/false, a select's option ids), and that question is asked itself.

    - A `required: true` question the row is asked and does not answer is
      `missing_required_answer`, an error naming the question's title: the ATS would refuse the
      row, one failed request at a time.
    - An answer to a question the row is not asked is a warning (`answer_not_asked`), and the
      answer is left out of the request. Not an error: the candidate's own answer to the
      precondition says the question does not apply (an export often fills every column), and
      nothing the candidate said that applies is lost. Not sent either: an ATS that enforces its
      conditions would refuse the whole row for an answer its form never shows.
    - When the row's answer to a precondition was refused, or names a question the job does not
      have, whether the row is asked cannot be told: neither is reported.
    """

    def __init__(
        self,
        row: int,
        job: dict[str, Any],
        request: PostAtsCandidatesRequest,
        mapping: Mapping,
    ) -> None:
        self.row = row
        self.job = job
        self.request = request
        self.mapping = mapping
        self.questions = {q["id"]: q for q in job.get("screening_questions") or []}
        self.converted: dict[str, Any] = {}  # question id -> the answer as its type needs it
        self.shown: dict[str, str] = {}  # question id -> the answer as the cell gave it
        self.refused: set[str] = set()  # answers that are problems of the row
        self.asked: dict[str, bool | None] = {}  # question id -> _asked, once all are converted
        self.problems: list[Issue] = []
        self.warnings: list[Issue] = []

    def checked(self) -> list[dict[str, Any]] | None:
        """The answers to send, converted and only those asked; None when there is nothing to
        change (no answers, or a job that lists no questions to check them against)."""
        if not self.questions:
            return None  # the ATS lists no questions for the job: nothing to check against
        given = self.request.body.screening_question_answers or []
        files = dict(self.request.answer_files)
        for answer in given:
            self._convert(answer.question_id, answer.answer, files.get(answer.question_id))
        out = []
        for question_id, value in self.converted.items():
            if self._asked(question_id, frozenset()) is False:
                self._not_asked(question_id)
            else:
                out.append({"question_id": question_id, "answer": value})
        for question in self.questions.values():
            self._check_required(question)
        return out if given else None

    def _convert(self, question_id: str, answer: Any, ref: AttachmentRef | None) -> None:
        field_path = f"screening_question_answers.{question_id}"
        question = self.questions.get(question_id)
        if question is None:
            self.refused.add(question_id)
            self.problems.append(
                Issue(
                    self.row,
                    self.mapping.label_for(field_path),
                    field_path,
                    question_id,
                    issues.UNKNOWN_QUESTION,
                    f"'{question_id}' is not a screening question of job "
                    f"'{self.job.get('name')}'; list them with `kombo-import jobs`.",
                )
            )
            return
        question_format = question.get("format") or {}
        self.shown[question_id] = (ref.cell if ref is not None else None) or as_text(answer)
        try:
            if isinstance(answer, PostAtsCandidatesRequestBodyAnswer):
                value: Any = _file_answer(question_format, answer, ref)
            elif question_format.get("type") == "FILE":
                raise RowProblem(
                    issues.INVALID_VALUE,
                    "this question takes a file; answer it in the mapping with "
                    "`{column: …, type: FILE}`, the column holding each file's path.",
                )
            else:
                value = answer_for(question_format, answer)
        except RowProblem as error:
            self.refused.add(question_id)
            self.problems.append(
                Issue(
                    self.row,
                    self.mapping.label_for(field_path),
                    field_path,
                    self.shown[question_id],
                    error.code,
                    f"{error.message} (question: {question.get('title')})",
                )
            )
            return
        self.converted[question_id] = value

    def _asked(self, question_id: str, seen: frozenset[str]) -> bool | None:
        """Whether the row is asked the question: True, False, or None when it cannot be told."""
        if question_id not in self.asked:
            self.asked[question_id] = self._condition_met(question_id, seen)
        return self.asked[question_id]

    def _condition_met(self, question_id: str, seen: frozenset[str]) -> bool | None:
        question = self.questions[question_id]
        condition = question.get("precondition_question_id")
        if not condition:
            return True
        if condition not in self.questions or condition in seen:  # or a loop of conditions
            return None
        asked = self._asked(condition, seen | {question_id})
        if asked is not True:
            return asked
        if condition in self.refused:
            return None
        if condition not in self.converted:
            return False
        answer = self.converted[condition]
        chosen = answer if isinstance(answer, list) else [answer]
        options = question.get("precondition_options") or []
        return any(type(c) is type(o) and c == o for c in chosen for o in options)

    def _not_asked(self, question_id: str) -> None:
        field_path = f"screening_question_answers.{question_id}"
        question = self.questions[question_id]
        condition_id = question["precondition_question_id"]
        condition = _title(self.questions[condition_id])
        because = (
            f"the row's answer to it, '{self.shown[condition_id]}', is not one of them"
            if condition_id in self.converted
            else "the row is not asked it or does not answer it"
        )
        self.warnings.append(
            Issue(
                self.row,
                self.mapping.label_for(field_path),
                field_path,
                self.shown[question_id],
                issues.ANSWER_NOT_ASKED,
                f"job '{self.job.get('name')}' asks '{_title(question)}' only for some answers "
                f"to '{condition}', and {because}: this answer is left out.",
                Severity.WARNING,
            )
        )

    def _check_required(self, question: dict[str, Any]) -> None:
        question_id = question["id"]
        if (
            question.get("required") is not True
            or question_id in self.converted
            or question_id in self.refused
            or (question.get("format") or {}).get("type") in NOT_ANSWERABLE
            or self._asked(question_id, frozenset()) is not True
        ):
            return
        field_path = f"screening_question_answers.{question_id}"
        column = self.mapping.label_for(field_path)
        required = f"job '{self.job.get('name')}' requires an answer to '{_title(question)}'"
        if question.get("precondition_question_id"):
            condition = self.questions[question["precondition_question_id"]]
            required += f" (asked for this row's answer to '{_title(condition)}')"
        if column:
            message = f"'{column}' is empty, and {required}."
        else:
            message = (
                f"{required}, which the mapping does not answer: add `{question_id}: <column>` "
                "under screening_question_answers."
            )
        self.problems.append(
            Issue(
                self.row,
                column,
                field_path,
                None,
                issues.MISSING_REQUIRED_ANSWER,
                message,
            )
        )


def _title(question: dict[str, Any]) -> str:
    return str(question.get("title") or question["id"])


def _file_answer(
    question_format: dict[str, Any],
    answer: PostAtsCandidatesRequestBodyAnswer,
    ref: AttachmentRef | None,
) -> dict[str, Any]:
    """A FILE answer as sent, if its question is a FILE question and the file fits it: the
    question's size and MIME types, checked as the integration's attachment rules are."""
    kind = question_format.get("type")
    if kind != "FILE":
        raise RowProblem(
            issues.INVALID_VALUE,
            f"this question is {kind or 'of no known type'}, not FILE; drop `type: FILE` from "
            "its answer in the mapping.",
        )
    sent = SentFile(answer.name, answer.content_type, ref.size if ref else None, "it takes files")
    problems = _found(check(sent, question_format) for check in FILE_RULES)
    if problems:
        raise RowProblem(*problems[0])
    dumped: dict[str, Any] = answer.model_dump(by_alias=True, exclude_none=True)
    return dumped


# --- the integration's attachment rules ------------------------------------------------------
#
# Each rule is a function that returns its problem, (issue code, message), or None.

Finding = tuple[str, str]
File = tuple[PostAtsCandidatesRequestBodyAttachment, AttachmentRef]  # as in the body, as read


def _problems_together(rules: dict[str, Any], files: list[File]) -> list[Finding]:
    """The row's files together: their total size, then for each type of file the rules
    name, the first of TYPE_RULES that finds a problem with how many the row has."""
    found = _found([_too_large_together(rules.get("total_size_bytes"), files)])
    count = Counter(item.type for item, _ in files)
    for kind, rule in (rules.get("types") or {}).items():
        found += _found(check(kind, rule or {}, count[kind]) for check in TYPE_RULES)[:1]
    return found


@dataclass(frozen=True)
class SentFile:
    """A file as FILE_RULES see it: its name and type as sent, its size as checked, and who takes
    it ("this ATS takes CV files"), for messages."""

    name: str
    content_type: str | None
    size: int | None  # None for a URL: Kombo downloads it
    taker: str


def _problems_of_file(
    rules: dict[str, Any], item: PostAtsCandidatesRequestBodyAttachment, ref: AttachmentRef
) -> list[Finding]:
    """One file against its type's rule: every one of FILE_RULES that finds a problem."""
    rule = (rules.get("types") or {}).get(item.type) or {}
    sent = SentFile(item.name, item.content_type, ref.size, f"this ATS takes {item.type} files")
    return _found(check(sent, rule) for check in FILE_RULES)


def _found(findings: Iterable[Finding | None]) -> list[Finding]:
    return [finding for finding in findings if finding is not None]


def _too_large_together(most: int | None, files: list[File]) -> Finding | None:
    total = sum(ref.size or 0 for _, ref in files)
    if most and total > most:
        message = f"the attachments have {total:,} bytes together; this ATS takes at most {most:,}."
        return issues.FILE_TOO_LARGE, message
    return None


def _type_not_taken(kind: str, rule: dict[str, Any], count: int) -> Finding | None:
    if count and rule.get("is_supported") is False:
        message = f"this ATS takes no {kind} attachments; leave them out of the mapping."
        return issues.UNSUPPORTED_FILE, message
    return None


def _too_many(kind: str, rule: dict[str, Any], count: int) -> Finding | None:
    most = rule.get("max_amount")
    if most is not None and count > most:
        message = f"{count} {kind} attachments; this ATS takes at most {most}."
        return issues.UNSUPPORTED_FILE, message
    return None


def _too_few(kind: str, rule: dict[str, Any], count: int) -> Finding | None:
    least = rule.get("min_amount")
    if least and count < least:
        message = f"this ATS needs at least {least} {kind} attachment(s); the row has {count}."
        return issues.REQUIRED, message
    return None


def _file_too_large(sent: SentFile, rule: dict[str, Any]) -> Finding | None:
    most = rule.get("max_file_size_bytes")
    if most and (sent.size or 0) > most:
        message = f"'{sent.name}' has {sent.size:,} bytes; {sent.taker} of at most {most:,}."
        return issues.FILE_TOO_LARGE, message
    return None


def _file_type_not_accepted(sent: SentFile, rule: dict[str, Any]) -> Finding | None:
    accepted = rule.get("accepted_mime_types")
    if accepted and sent.content_type and sent.content_type not in accepted:
        message = (
            f"'{sent.name}' is {sent.content_type}; {sent.taker} of type {', '.join(accepted)}."
        )
        return issues.UNSUPPORTED_FILE, message
    return None


# Per type, in this order; only the first problem found is reported.
TYPE_RULES: tuple[Callable[[str, dict[str, Any], int], Finding | None], ...] = (
    _type_not_taken,
    _too_many,
    _too_few,
)
# Per file (an attachment against its type's rule, a FILE answer against its question's format,
# which has the same keys); every problem found is reported.
FILE_RULES: tuple[Callable[[SentFile, dict[str, Any]], Finding | None], ...] = (
    _file_too_large,
    _file_type_not_accepted,
)


# --- screening answers ---------------------------------------------------------------------


def answer_for(question_format: dict[str, Any], answer: Any) -> Any:
    """An answer as the question's type needs it (Kombo validates answers against it): the
    converter ANSWER_TYPES has for the type, or the answer as it is (a date as ISO text)."""
    kind = question_format.get("type")
    convert = ANSWER_TYPES.get(kind) if isinstance(kind, str) else None
    return _as_is(answer) if convert is None else convert(question_format, answer)


def _yes_or_no(question_format: dict[str, Any], answer: Any) -> Any:
    """A list of one answer (a multi-value column) counts as that answer."""
    one = answer[0] if isinstance(answer, list) and len(answer) == 1 else answer
    return transforms.parse_bool(one)


def _number(question_format: dict[str, Any], answer: Any) -> Any:
    return transforms.parse_number(answer)


def _date(question_format: dict[str, Any], answer: Any) -> Any:
    return _iso(transforms.to_utc_datetime(transforms.parse_date(answer)))


def _one_option(question_format: dict[str, Any], answer: Any) -> str:
    ids = _options(question_format, answer)
    if len(ids) != 1:
        raise RowProblem(issues.UNKNOWN_VALUE, f"this question takes one option, not {len(ids)}.")
    return ids[0]


def _options(question_format: dict[str, Any], answer: Any) -> list[str]:
    """The id of each option the answer names, by its name or its id (case and spacing aside)."""
    options = question_format.get("options") or []
    by_name = {_folded(str(o.get("name", ""))): o["id"] for o in options}
    known = by_name | {o["id"].casefold(): o["id"] for o in options}  # an id wins over a name
    return [_option_id(value, known, options) for value in _as_list(answer)]


def _option_id(value: Any, known: dict[str, str], options: list[dict[str, Any]]) -> str:
    key = _folded(as_text(value))
    if key not in known:
        shown = ", ".join(str(o.get("name")) for o in options[:12])
        raise RowProblem(
            issues.UNKNOWN_VALUE,
            f"'{as_text(value)}' is not an option of this question; expected one of: {shown}.",
        )
    return known[key]


def _folded(text: str) -> str:
    return " ".join(text.split()).casefold()


def _text(question_format: dict[str, Any], answer: Any) -> str:
    """The answer as text (a list joined with commas), at most `max_length` characters."""
    text = ", ".join(as_text(v) for v in answer) if isinstance(answer, list) else as_text(answer)
    limit = question_format.get("max_length")
    if limit and len(text) > limit:
        raise RowProblem(
            issues.INVALID_VALUE,
            f"the answer has {len(text)} characters; this question takes at most {limit}.",
        )
    return text


def _as_list(answer: Any) -> list[Any]:
    return answer if isinstance(answer, list) else [answer]


def _as_is(answer: Any) -> Any:
    return _iso(answer) if hasattr(answer, "isoformat") else answer


def _iso(moment: Any) -> Any:
    """`2026-03-31T00:00:00Z`: UTC written as Kombo writes it."""
    return moment.isoformat().replace("+00:00", "Z")


# question type -> converter (question format, answer) -> the answer as the type needs it
ANSWER_TYPES: dict[str, Callable[[dict[str, Any], Any], Any]] = {
    "BOOLEAN": _yes_or_no,
    "NUMBER": _number,
    "DATE": _date,
    "SINGLE_SELECT": _one_option,
    "MULTI_SELECT": _options,
    "TEXT": _text,
}


def _invalid(built: BuiltRow, *found: Issue) -> BuiltRow:
    """The row with more problems, and so no request; its warnings stay."""
    return BuiltRow(built.source, None, [*built.issues, *found])


@dataclass
class ValidationSummary:
    """What the dry run found, in numbers: the terminal summary and `--json` are drawn from it."""

    rows_read: int = 0
    valid: int = 0
    invalid: int = 0
    problems: int = 0  # errors: each stops its row
    warnings: int = 0  # sent all the same; a person should look
    problems_by_code: Counter[str] = field(default_factory=Counter)
    warnings_by_code: Counter[str] = field(default_factory=Counter)
    first_problems: list[Issue] = field(default_factory=list)  # errors, in file order
    keep_first: int = 10
    notices: list[str] = field(default_factory=list)  # about the whole run, said once

    def add(self, built: BuiltRow) -> None:
        self.add_issues(built.issues)

    def note(self, notice: str) -> None:
        """A note about the whole run, said once however often it is noted."""
        if notice not in self.notices:
            self.notices.append(notice)

    def add_issues(self, found: list[Issue]) -> None:
        """Count one row with these issues: valid unless one is an error."""
        self.rows_read += 1
        if not found:
            self.valid += 1
            return
        errors = errors_in(found)
        self.problems += len(errors)
        self.warnings += len(found) - len(errors)
        self.problems_by_code.update(i.code for i in errors)
        if len(errors) < len(found):
            self.warnings_by_code.update(i.code for i in found if i.severity is Severity.WARNING)
        if errors:
            self.invalid += 1
            room = self.keep_first - len(self.first_problems)
            if room > 0:
                self.first_problems.extend(errors[:room])
        else:
            self.valid += 1


class RowChecker:
    """The one per-row pipeline: build the request, check it against the integration's jobs
    (given a catalog), make warnings errors under `--strict`. The serial dry run, the worker
    processes and submit all call `check`; checks across rows stay with the caller."""

    def __init__(
        self, builder: RequestBuilder, catalog: JobCatalog | None = None, strict: bool = False
    ) -> None:
        self.builder = builder
        self.catalog = catalog
        self.strict = strict

    @property
    def mapping(self) -> Mapping:
        return self.builder.mapping

    def notices(self) -> list[str]:
        """What the summary says once about these checks: here, what only the integration can
        check and this run does not."""
        found: list[str] = []
        if self.catalog is None and self.mapping.names_rejection_reasons():
            found.append(
                "rejection reasons named in after_create are checked against the integration's "
                "reasons, and sent as their ids, only with --check-remote (on by default for "
                "submit); this run did not check them."
            )
        if self.catalog is None and self.mapping.resolves_users():
            column = self.mapping.label_for(USER_EMAIL)
            named = f"'{column}'" if column else "the mapping"
            found.append(
                f"the emails in {named} ({USER_EMAIL}) are checked against the integration's "
                "users, and sent as their ids, only with --check-remote (on by default for "
                "submit); this run did not check them."
            )
        return found

    def check(self, row: SourceRow) -> BuiltRow:
        built = self.builder.build(row)
        if self.catalog is not None:
            built = self.catalog.check(built, self.builder.mapping)
            reasons = self.catalog.rejection_reasons
            if reasons is not None and built.request is not None and built.request.actions:
                actions, found = reasons.check(
                    built.row_number, built.request.actions, self.builder.mapping
                )
                built = (
                    BuiltRow(built.source, None, [*built.issues, *found])
                    if found
                    else BuiltRow(
                        built.source,
                        built.request.replace(actions=actions),
                        built.issues,
                    )
                )
        if self.strict and built.issues and not errors_in(built.issues):
            strict = [
                dataclasses.replace(
                    i, severity=Severity.ERROR, message=f"{i.message} (an error with --strict)"
                )
                for i in built.issues
            ]
            return BuiltRow(built.source, None, strict)
        return built


def validate_rows(
    rows: Iterable[SourceRow],
    checker: RowChecker,
    summary: ValidationSummary,
    on_progress: Callable[[int], None] | None = None,
) -> Iterator[BuiltRow]:
    """Yield every row built and cross-checked, in file order; `summary` counts as it goes."""
    duplicates = DuplicateEmailCheck()
    email_column = checker.mapping.label_for("candidate.email_address")
    for notice in checker.notices():
        summary.note(notice)
    for count, row in enumerate(rows, 1):
        built = duplicates.check(checker.check(row), email_column)
        summary.add(built)
        if on_progress is not None:
            on_progress(count)
        yield built
