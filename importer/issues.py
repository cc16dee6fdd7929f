"""A problem found in one row: data with a location and a stable code, collected, never raised."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

# The stable codes a report can carry. Documented in README.md ("Problem codes"); tests and users
# branch on them, so never rename one.
REQUIRED = "required"
INVALID_EMAIL = "invalid_email"
INVALID_DATE = "invalid_date"
INVALID_NUMBER = "invalid_number"
INVALID_PHONE = "invalid_phone"
INVALID_URL = "invalid_url"
INVALID_VALUE = "invalid_value"
UNKNOWN_VALUE = "unknown_value"
UNKNOWN_COUNTRY = "unknown_country"
DUPLICATE_IN_FILE = "duplicate_in_file"
FILE_NOT_FOUND = "file_not_found"
OUTSIDE_BASE_DIR = "outside_base_dir"
NOT_A_FILE = "not_a_file"
EMPTY_FILE = "empty_file"
FILE_TOO_LARGE = "file_too_large"
FILE_CHANGED = "file_changed"  # at send time: not the file the dry run checked
AMBIGUOUS_FILE = "ambiguous_file"
UNSUPPORTED_FILE = "unsupported_file"
UNKNOWN_JOB = "unknown_job"
JOB_NOT_OPEN = "job_not_open"
UNKNOWN_STAGE = "unknown_stage"
UNKNOWN_QUESTION = "unknown_question"
MISSING_REQUIRED_ANSWER = "missing_required_answer"  # a question the job requires, unanswered
UNKNOWN_USER = "unknown_user"  # sourced_by: an email that is no user of the integration
MISSING_REJECTION_REASON = "missing_rejection_reason"  # after_create: rejected without a reason
UNKNOWN_REJECTION_REASON = "unknown_rejection_reason"  # not a reason of the integration
TOO_MANY_ACTIONS = "too_many_actions"  # after_create: more notes and tags than one row holds
CONTROL_CHARACTER = "control_character"
CELL_TOO_LONG = "cell_too_long"
ENCODING_ERROR = "encoding_error"
CELL_ERROR = "cell_error"  # an Excel error value (#N/A, #DIV/0!, ...) in a mapped cell
EXTRA_CELLS = "extra_cells"  # cells past the header's width: a wrong delimiter or dialect
AMBIGUOUS_DATE = "ambiguous_date"
UNMAPPED_REQUIRED = "unmapped_required"  # a TODO the mapping still holds (mapping.PLACEHOLDER)
# Warnings: the row is sent, a person should look.
NUMERIC_TEXT = "numeric_text"  # a number cell in a text field: leading zeros or + may be lost
MOJIBAKE = "mojibake"  # text that looks decoded with the wrong encoding (Ã¼ for ü)
DATE_ORDER = "date_order"  # a date read in the order its column proved
ANSWER_NOT_ASKED = "answer_not_asked"  # an answer to a question its precondition hides: left out
INACTIVE_USER = "inactive_user"  # sourced_by: the user the email names is inactive in the ATS


class RowProblem(ValueError):
    """Raised by a value check (a transform, an attachment) when a cell cannot become what its
    field needs; the build turns it into an `Issue` of the row with this code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Severity(StrEnum):
    """`error` stops the row; `warning` does not (`--strict` makes it one)."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem in one cell (or one field) of one row, as the error report shows it.

    `row` is the row number the user sees in their spreadsheet program; `field` is the dotted
    request-body path (`candidate.email_address`, `attachments[0]`).
    """

    row: int
    column: str
    field: str
    value: Any
    code: str
    message: str
    severity: Severity = Severity.ERROR


def errors_in(found: Iterable[Issue]) -> list[Issue]:
    """The issues that stop a row."""
    return [issue for issue in found if issue.severity is Severity.ERROR]
