"""Exceptions that stop a run. Row problems are not exceptions: see `issues.py`.

    ImporterError                 base; never raised itself
    ├── ConfigError               the mapping or an option is wrong            -> exit 2
    ├── InputFileError            the spreadsheet cannot be opened or read     -> exit 2
    ├── FatalApiError             Kombo refused the whole run (key, integration),
    │                             or could not be reached or understood        -> exit 3
    └── OutputError               a file the run writes (results, ledger) failed
                                  while rows were being sent (disk full, a damaged
                                  ledger): the run stopped at once             -> exit 4

Anything else that escapes is a bug of ours: exit 70 (`EXIT_INTERNAL`), never 1, which means
"some rows invalid or failed". `cli.py` is the one place that turns these into a message and an
exit code. Every message names the file, line, key or column concerned and says what to do next.
"""

from __future__ import annotations

import difflib
import string
from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.parse import quote, quote_plus


class ImporterError(Exception):
    """Base of every error that stops a run."""

    exit_code = 2


class ConfigError(ImporterError):
    """Raised when a mapping file or a command-line option cannot be used as given."""

    exit_code = 2

    @classmethod
    def at(cls, path: str | Path, line: int | None, key: str | None, message: str) -> ConfigError:
        """Build the message `FILE, line N, at KEY: what is wrong` once, for every config error."""
        where = str(path)
        if line is not None:
            where += f", line {line}"
        if key:
            where += f", at {key}"
        return cls(f"{where}: {message}")


class InputFileError(ImporterError):
    """Raised when the input spreadsheet is missing, unreadable or has no usable header."""

    exit_code = 2


EXIT_INTERNAL = 70  # sysexits' EX_SOFTWARE: an error of ours, with its own code
REDACTED = "[redacted]"
MIN_KEY_PART = 12  # this many characters of a key in a row are a leak: a server cut it short
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)  # keeps lengths
_FORMS: set[str] = set()  # each secret's forms, lower-cased (keys are ASCII: see settings)
_PIECES: dict[str, tuple[str, int]] = {}  # MIN_KEY_PART characters of a secret -> (it, where)
# What `redact` looks for first, in the text lower-cased: any run of MIN_KEY_PART characters of
# a secret holds one of its pieces of half that length that start at a multiple of it.
_PROBES: set[str] = set()


def remember_secret(secret: str) -> None:
    """Scrub `secret` from every message, in any case, and its escaped forms: as a repr of bytes
    shows it, percent-encoded as a URL carries it (a log link a server built from it), and any
    `MIN_KEY_PART` characters of it in a row or more (a server that echoes it cut short)."""
    quoted = quote(secret, safe="")
    forms = {secret, repr(secret)[1:-1], quoted, quote_plus(secret)}
    _FORMS.update(form.translate(_ASCII_LOWER) for form in forms if len(form) >= 4)
    low = secret.translate(_ASCII_LOWER)
    for start in range(len(low) - MIN_KEY_PART + 1):
        _PIECES[low[start : start + MIN_KEY_PART]] = (low, start)
    half = MIN_KEY_PART // 2
    _PROBES.update(low[at : at + half] for at in range(0, len(low) - half + 1, half))
    _PROBES.update(form for form in _FORMS if low not in form)  # escaped: no piece is in them


def redact(text: str) -> str:
    """`text` without any secret this process was given: the one rule for keys in messages,
    applied where foreign texts enter (exceptions, answers) and where text leaves (CLI, files).
    Every cell written goes through it, so the common case (no secret) is a few `in` checks."""
    if not _FORMS:
        return text
    lowered = text.lower()  # for the probes only: it may change the text's length
    for probe in _PROBES:
        if probe in lowered:
            return _scrubbed(text)
    return text


def _scrubbed(text: str) -> str:
    low = text.translate(_ASCII_LOWER)
    spans = [(at, at + len(form)) for form in _FORMS for at in _occurrences(low, form)]
    for piece, (secret, start) in _PIECES.items():
        for at in _occurrences(low, piece):
            begin, end = at, at + MIN_KEY_PART
            while (
                begin > 0
                and start - (at - begin) > 0
                and (low[begin - 1] == secret[start - (at - begin) - 1])
            ):
                begin -= 1
            while (
                end < len(low)
                and start + (end - at) < len(secret)
                and (low[end] == secret[start + (end - at)])
            ):
                end += 1
            spans.append((begin, end))
    out, last = [], 0
    for begin, end in sorted(spans):
        if end <= last:
            continue
        out.append(text[last:begin] if begin > last else "")
        if begin >= last:
            out.append(REDACTED)
        last = max(last, end)
    out.append(text[last:])
    return "".join(out)


def _occurrences(text: str, part: str) -> Iterator[int]:
    at = text.find(part)
    while at != -1:
        yield at
        at = text.find(part, at + 1)


def describe(exc: BaseException) -> str:
    """An exception as one line for a person, secrets scrubbed."""
    return redact(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)


class FatalApiError(ImporterError):
    """Raised when Kombo answers in a way that makes every further request pointless."""

    exit_code = 3
    code: str | None = None  # Kombo's error code, when an answer gave one
    detail: str | None = None  # what the answer said, without the advice for a whole run
    refuses_integration = False  # Kombo refused it (not a malformed or missing answer)

    @classmethod
    def from_outcome(cls, code: str | None, message: str) -> FatalApiError:
        advice = {
            "PLATFORM.AUTHENTICATION_INVALID": "Check the API key (--api-key or KOMBO_API_KEY).",
            "PLATFORM.INTEGRATION_NOT_FOUND": (
                "Check --integration-id: it must be an integration of this API key's environment."
            ),
            "PLATFORM.IP_NOT_WHITELISTED": (
                "Add this machine's IP address to the allowed IPs in Kombo's dashboard."
            ),
            "INTEGRATION.PERMISSION_MISSING": (
                "Give the integration the scope 'Create applications and candidates' in Kombo's "
                "dashboard."
            ),
            "INTEGRATION.SETUP_SYNC_PENDING": (
                "The integration's first sync is still running; try again later."
            ),
        }.get(
            code or "",
            "Fix this in Kombo's dashboard or with the customer, then run again: rows already "
            "created are skipped."
            if (code or "").startswith("INTEGRATION.")
            else "",
        )
        error = cls(f"Kombo refused the run ({code or 'no code'}): {message} {advice}".strip())
        error.code, error.detail = code, message
        return error

    @classmethod
    def unreachable(cls, url: str, detail: str) -> FatalApiError:
        return cls(
            f"Could not connect to {url}: {detail}. Check --server-url (or --region) and "
            "this machine's network; nothing was sent."
        )

    @classmethod
    def malformed(cls, what: str, detail: str) -> FatalApiError:
        return cls(
            f"{what}: the answer is not in Kombo's shape ({detail}). Check --server-url: "
            "it must be Kombo's API (e.g. https://api.kombo.dev/v1)."
        )


class InternalError(ImporterError):
    """Raised when the run cannot go on because of a bug of ours."""

    exit_code = EXIT_INTERNAL


class OutputError(ImporterError):
    """Raised when a file the run writes fails mid-run; sending stops at the first failure."""

    exit_code = 4


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """Return ` Did you mean 'x'?` for the closest choice, or an empty string.

    A choice is also compared by its parts, so `emial` finds `email_address`.
    """
    target = word.casefold()
    best, best_score = None, 0.0
    for choice in choices:
        folded = choice.casefold()
        parts = [
            folded,
            folded.replace("_", "").replace(" ", ""),
            *folded.replace("-", "_").replace(" ", "_").split("_"),
        ]
        score = max(difflib.SequenceMatcher(None, target, part).ratio() for part in parts if part)
        if score > best_score:
            best, best_score = choice, score
    return f" Did you mean '{best}'?" if best is not None and best_score >= 0.6 else ""
