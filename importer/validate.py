"""The dry run: build every row, then the checks that need more than one row, and keep count."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from . import issues
from .build import BuiltRow, RequestBuilder
from .issues import Issue
from .readers import SourceRow


class DuplicateEmailCheck:
    """The same email (case-insensitive) for the same job twice in one file: the later rows are
    flagged, citing the first. A person applying to two jobs is fine."""

    def __init__(self) -> None:
        self.first_row: dict[tuple[str, str], int] = {}

    def check(self, built: BuiltRow, email_column: str) -> list[Issue]:
        if built.request is None:
            return []
        body = built.request.body
        email = body.candidate.email_address
        key = (email.casefold(), body.application.job_id)
        first = self.first_row.setdefault(key, built.row_number)
        if first == built.row_number:
            return []
        message = f"'{email}' already applies to job {body.application.job_id} in row {first}; each person can apply to a job once. Remove one of the rows."
        return [Issue(built.row_number, email_column, "candidate.email_address", email, issues.DUPLICATE_IN_FILE, message)]


@dataclass
class ValidationSummary:
    """What the dry run found, in numbers: the terminal summary and `--json` are drawn from it."""

    rows_read: int = 0
    valid: int = 0
    invalid: int = 0
    problems: int = 0
    problems_by_code: Counter[str] = field(default_factory=Counter)
    first_problems: list[Issue] = field(default_factory=list)
    keep_first: int = 10

    def add(self, built: BuiltRow) -> None:
        self.rows_read += 1
        if built.issues:
            self.invalid += 1
            self.problems += len(built.issues)
            self.problems_by_code.update(i.code for i in built.issues)
            room = self.keep_first - len(self.first_problems)
            if room > 0:
                self.first_problems.extend(built.issues[:room])
        else:
            self.valid += 1


def validate_rows(
    rows: Iterable[SourceRow],
    builder: RequestBuilder,
    summary: ValidationSummary,
    on_progress: Callable[[int], None] | None = None,
) -> Iterator[BuiltRow]:
    """Yield every row built and cross-checked, in file order; `summary` counts as it goes."""
    duplicates = DuplicateEmailCheck()
    email_column = builder.mapping.label_for("candidate.email_address")
    for count, row in enumerate(rows, 1):
        built = builder.build(row)
        found = duplicates.check(built, email_column)
        if found:
            built = BuiltRow(built.source, None, found)
        summary.add(built)
        if on_progress is not None:
            on_progress(count)
        yield built
