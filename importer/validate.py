"""The dry run: build every row, then the checks that need more than one row or the live
integration (its jobs, stages and screening questions), and keep count."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from kombo.models import PostAtsCandidatesRequestBody

from . import issues, transforms
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
        them."""
        rules = self.attachment_rules
        if not rules or built.request is None:
            return []
        pairs = list(
            zip(built.request.body.attachments or [], built.request.attachments, strict=True)
        )
        columns = mapping.label_for("attachments")
        found: list[Issue] = []

        def problem(index: int | None, code: str, message: str) -> None:
            if index is None:
                found.append(Issue(built.row_number, columns, "attachments", None, code, message))
            else:
                item, ref = pairs[index]
                found.append(
                    Issue(
                        built.row_number,
                        ref.column or columns,
                        f"attachments[{index}]",
                        ref.cell or item.name,
                        code,
                        message,
                    )
                )

        types = rules.get("types") or {}
        total = sum(ref.size or 0 for _, ref in pairs)
        if rules.get("total_size_bytes") and total > rules["total_size_bytes"]:
            problem(
                None,
                issues.FILE_TOO_LARGE,
                f"the attachments have {total:,} bytes together; this ATS takes at most "
                f"{rules['total_size_bytes']:,}.",
            )
        by_type = Counter(item.type for item, _ in pairs)
        for kind, rule in types.items():
            rule = rule or {}
            if by_type[kind] and rule.get("is_supported") is False:
                problem(
                    None,
                    issues.UNSUPPORTED_FILE,
                    f"this ATS takes no {kind} attachments; leave them out of the mapping.",
                )
            elif rule.get("max_amount") is not None and by_type[kind] > rule["max_amount"]:
                problem(
                    None,
                    issues.UNSUPPORTED_FILE,
                    f"{by_type[kind]} {kind} attachments; this ATS takes at most "
                    f"{rule['max_amount']}.",
                )
            elif rule.get("min_amount") and by_type[kind] < rule["min_amount"]:
                problem(
                    None,
                    issues.REQUIRED,
                    f"this ATS needs at least {rule['min_amount']} {kind} attachment(s); the row "
                    f"has {by_type[kind]}.",
                )
        for index, (item, ref) in enumerate(pairs):
            rule = types.get(item.type) or {}
            if rule.get("max_file_size_bytes") and (ref.size or 0) > rule["max_file_size_bytes"]:
                problem(
                    index,
                    issues.FILE_TOO_LARGE,
                    f"'{item.name}' has {ref.size:,} bytes; this ATS takes {item.type} files of at "
                    f"most {rule['max_file_size_bytes']:,}.",
                )
            accepted = rule.get("accepted_mime_types")
            if accepted and item.content_type and item.content_type not in accepted:
                problem(
                    index,
                    issues.UNSUPPORTED_FILE,
                    f"'{item.name}' is {item.content_type}; this ATS takes {item.type} files of "
                    f"type {', '.join(accepted)}.",
                )
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


def answer_for(question_format: dict[str, Any], answer: Any) -> Any:
    """An answer as the question's type needs it (Kombo validates answers against it)."""
    kind = question_format.get("type")
    if kind == "BOOLEAN":
        return transforms.parse_bool(
            answer[0] if isinstance(answer, list) and len(answer) == 1 else answer
        )
    if kind == "NUMBER":
        return transforms.parse_number(answer)
    if kind == "DATE":
        return (
            transforms.to_utc_datetime(transforms.parse_date(answer))
            .isoformat()
            .replace("+00:00", "Z")
        )
    if kind in ("SINGLE_SELECT", "MULTI_SELECT"):
        options = question_format.get("options") or []
        by_name = {
            " ".join(str(o.get("name", "")).split()).casefold(): o["id"] for o in options
        } | {o["id"].casefold(): o["id"] for o in options}
        values = answer if isinstance(answer, list) else [answer]
        ids = []
        for value in values:
            key = " ".join(as_text(value).split()).casefold()
            if key not in by_name:
                shown = ", ".join(str(o.get("name")) for o in options[:12])
                raise RowProblem(
                    issues.UNKNOWN_VALUE,
                    f"'{as_text(value)}' is not an option of this question; expected one of: "
                    f"{shown}.",
                )
            ids.append(by_name[key])
        if kind == "SINGLE_SELECT":
            if len(ids) != 1:
                raise RowProblem(
                    issues.UNKNOWN_VALUE, f"this question takes one option, not {len(ids)}."
                )
            return ids[0]
        return ids
    if kind == "TEXT":
        text = (
            ", ".join(as_text(v) for v in answer) if isinstance(answer, list) else as_text(answer)
        )
        limit = question_format.get("max_length")
        if limit and len(text) > limit:
            raise RowProblem(
                issues.INVALID_VALUE,
                f"the answer has {len(text)} characters; this question takes at most {limit}.",
            )
        return text
    return answer.isoformat().replace("+00:00", "Z") if hasattr(answer, "isoformat") else answer


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
