"""The dry run: build every row, then the checks that need more than one row or the live
integration (its jobs, stages and screening questions), and keep count."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from kombo.models import PostAtsCandidatesRequestBody, PostAtsCandidatesRequestBodyAttachment

from . import issues, transforms
from .attachments import AttachmentRef
from .build import BuiltRow, DateOrder, RequestBuilder
from .issues import Issue, RowProblem, Severity, errors_in
from .mapping import Mapping
from .readers import SourceRow
from .transforms import as_text


class DuplicateEmailCheck:
    """The same email (case-insensitive) for the same job twice in one file: the later rows are
    flagged, citing the first. A person applying to two jobs is fine."""

    def __init__(self) -> None:
        self.first_row: dict[str, int] = {}

    def check(self, built: BuiltRow, email_column: str) -> BuiltRow:
        """The row, invalid if its person already applies to its job earlier in the file."""
        if built.request is None:
            return built
        body = built.request.body
        found = self.check_key(
            built.row_number, body.candidate.email_address, body.application.job_id, email_column
        )
        return _invalid(built, *found) if found else built

    def check_key(self, row: int, email: str, job_id: str, email_column: str) -> list[Issue]:
        # A string key, not a tuple: 100,000 tuples would be scanned by every full GC pass.
        first = self.first_row.setdefault(f"{job_id}\x00{email.casefold()}", row)
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
    """The integration's jobs and attachment rules, to check each row against (`--check-remote`):
    the job exists and is open, the stage is one of its stages, each question is one of its
    questions, each answer is turned into what the question's type needs (yes -> true, an
    option's name -> its id), and the attachments fit what the ATS takes."""

    def __init__(
        self, jobs: list[dict[str, Any]], attachment_rules: dict[str, Any] | None = None
    ) -> None:
        self.listed = jobs
        self.attachment_rules = attachment_rules or {}
        self.jobs: dict[str, dict[str, Any]] = {}
        for job in jobs:
            self.jobs[job["id"]] = job
            if job.get("remote_id"):
                self.jobs[f"remote:{job['remote_id']}"] = job

    def check(self, built: BuiltRow, mapping: Mapping) -> BuiltRow:
        if built.request is None:
            return built
        row, body = built.row_number, built.request.body
        job_id = body.application.job_id
        job = self.jobs.get(job_id)
        column = mapping.label_for("application.job_id")
        if job is None:
            return _invalid(
                built,
                Issue(
                    row,
                    column,
                    "application.job_id",
                    job_id,
                    issues.UNKNOWN_JOB,
                    f"'{job_id}' is not a job of this integration; list them with `kombo-import "
                    "jobs`.",
                ),
            )
        if str(job.get("status") or "").upper() in CLOSED_STATUSES:
            return _invalid(
                built,
                Issue(
                    row,
                    column,
                    "application.job_id",
                    job_id,
                    issues.JOB_NOT_OPEN,
                    f"job '{job.get('name') or job_id}' is {job.get('status')}; Kombo refuses "
                    "applications to it.",
                ),
            )
        found: list[Issue] = []
        stage_id = body.application.stage_id
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
        answers = self._answers(row, job, body, mapping, found)
        found += self._attachments(built, mapping)
        if found:
            return _invalid(built, *found)
        if answers is None:
            return built
        data = body.model_dump(by_alias=True, exclude_none=True, warnings=False)
        data["screening_question_answers"] = answers
        return BuiltRow(
            built.source,
            dataclasses.replace(
                built.request, body=PostAtsCandidatesRequestBody.model_validate(data)
            ),
            built.issues,
        )

    def _attachments(self, built: BuiltRow, mapping: Mapping) -> list[Issue]:
        """The integration's own limits (GET /ats/actions/ats_create_candidate), where it has
        them: first the row's files together, then each file."""
        rules = self.attachment_rules
        if not rules or built.request is None:
            return []
        files = list(
            zip(built.request.body.attachments or [], built.request.attachments, strict=True)
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

    def _answers(
        self,
        row: int,
        job: dict[str, Any],
        body: PostAtsCandidatesRequestBody,
        mapping: Mapping,
        found: list[Issue],
    ) -> list[dict[str, Any]] | None:
        if not body.screening_question_answers:
            return None
        questions = {q["id"]: q for q in job.get("screening_questions") or []}
        if not questions:
            return None  # the ATS lists no questions for the job: nothing to check against
        converted = []
        for answer in body.screening_question_answers:
            field_path = f"screening_question_answers.{answer.question_id}"
            question = questions.get(answer.question_id)
            if question is None:
                found.append(
                    Issue(
                        row,
                        mapping.label_for(field_path),
                        field_path,
                        answer.question_id,
                        issues.UNKNOWN_QUESTION,
                        f"'{answer.question_id}' is not a screening question of job "
                        f"'{job.get('name')}'; list them with `kombo-import jobs`.",
                    )
                )
                continue
            try:
                value = answer_for(question.get("format") or {}, answer.answer)
            except RowProblem as error:
                found.append(
                    Issue(
                        row,
                        mapping.label_for(field_path),
                        field_path,
                        as_text(answer.answer),
                        error.code,
                        f"{error.message} (question: {question.get('title')})",
                    )
                )
                continue
            converted.append({"question_id": answer.question_id, "answer": value})
        return converted


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


def _problems_of_file(
    rules: dict[str, Any], item: PostAtsCandidatesRequestBodyAttachment, ref: AttachmentRef
) -> list[Finding]:
    """One file against its type's rule: every one of FILE_RULES that finds a problem."""
    rule = (rules.get("types") or {}).get(item.type) or {}
    return _found(check(item, ref, rule) for check in FILE_RULES)


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


def _file_too_large(
    item: PostAtsCandidatesRequestBodyAttachment, ref: AttachmentRef, rule: dict[str, Any]
) -> Finding | None:
    most = rule.get("max_file_size_bytes")
    if most and (ref.size or 0) > most:
        message = (
            f"'{item.name}' has {ref.size:,} bytes; this ATS takes {item.type} files of at "
            f"most {most:,}."
        )
        return issues.FILE_TOO_LARGE, message
    return None


def _file_type_not_accepted(
    item: PostAtsCandidatesRequestBodyAttachment, ref: AttachmentRef, rule: dict[str, Any]
) -> Finding | None:
    accepted = rule.get("accepted_mime_types")
    if accepted and item.content_type and item.content_type not in accepted:
        message = (
            f"'{item.name}' is {item.content_type}; this ATS takes {item.type} files of "
            f"type {', '.join(accepted)}."
        )
        return issues.UNSUPPORTED_FILE, message
    return None


# Per type, in this order; only the first problem found is reported.
TYPE_RULES: tuple[Callable[[str, dict[str, Any], int], Finding | None], ...] = (
    _type_not_taken,
    _too_many,
    _too_few,
)
# Per file; every problem found is reported.
FILE_RULES: tuple[
    Callable[
        [PostAtsCandidatesRequestBodyAttachment, AttachmentRef, dict[str, Any]], Finding | None
    ],
    ...,
] = (_file_too_large, _file_type_not_accepted)


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

    def check(self, row: SourceRow) -> BuiltRow:
        built = self.builder.build(row)
        if self.catalog is not None:
            built = self.catalog.check(built, self.builder.mapping)
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
    for count, row in enumerate(rows, 1):
        built = duplicates.check(checker.check(row), email_column)
        summary.add(built)
        if on_progress is not None:
            on_progress(count)
        yield built
