"""Mask personal values for sharing (`--redact`): the error report goes to people who must not
see candidates' names, addresses, phones or links, and must still see what is wrong and where.

A mask keeps enough for someone who has the input to recognise the value, and no more: the first
letter (`J***`), an address's first letters and top-level domain (`j***@g***.com`), a phone's
country code and last two digits (`+49 *** ***67`), a link's site (`l***.com/***`), a file's
first letter and extension (`a***.pdf`). Every mask has the same length whatever the value's.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

from .issues import Issue
from .transforms import as_text

Masker = Callable[[str], str]

HIDDEN = "***"


def _first(text: str) -> str:
    """The first letter or digit (the first character when none is)."""
    found = re.search(r"\w", text)
    start = found.group() if found else text.strip()[:1]
    return start + HIDDEN


def mask_name(text: str) -> str:
    """`J***` for Jonas Weber, `H***` for Hauptstraße 12."""
    return _first(text) if text.strip() else text


def mask_email(text: str) -> str:
    """`j***@g***.com` for jonas.weber@gmail.com."""
    address = text.strip()
    if address.lower().startswith("mailto:"):
        address = address[7:]
    local, at, domain = address.rpartition("@")
    if not at or not domain:
        return mask_name(text)
    host, dot, tld = domain.rpartition(".")
    shown_domain = f"{_first(host)}.{tld}" if dot and host else _first(domain)
    return f"{_first(local) if local else HIDDEN}@{shown_domain}"


def mask_phone(text: str) -> str:
    """`+49 *** ***67` for +49 171 3636167; `*** ***67` without a country code."""
    digits = re.sub(r"\D", "", text)
    if len(digits) < 4:  # not a phone number (n/a, "ask"): a name's mask tells as much
        return mask_name(text)
    country = _country_code(text.strip(), digits)
    return f"{'+' + country + ' ' if country else ''}{HIDDEN} {HIDDEN}{digits[-2:]}"


def _country_code(text: str, digits: str) -> str:
    if not text.startswith(("+", "00")):
        return ""
    import phonenumbers

    international = digits[2:] if text.startswith("00") else digits
    try:
        return str(phonenumbers.parse("+" + international, None).country_code or "")
    except phonenumbers.NumberParseException:
        return ""


_URL = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)?(?P<www>www\.)?(?P<host>[^/?#]+)")


def mask_link(text: str) -> str:
    """`https://www.l***.com/***` for https://www.linkedin.com/in/jonas-weber: the site stays
    recognisable, the profile does not (a person's own domain shows as its first letter)."""
    url = text.strip()
    found = _URL.match(url)
    if found is None or any(c.isspace() for c in url) or "." not in found["host"]:
        return mask_name(text)
    host, _, tld = found["host"].rpartition(".")
    rest = "/" + HIDDEN if url[found.end() :].strip("/") else ""
    return f"{found['scheme'] or ''}{found['www'] or ''}{_first(host)}.{tld}{rest}"


def mask_file(text: str) -> str:
    """`a***.pdf` for cvs/anna_wolf_cv.pdf: CVs are named after their people."""
    name = re.split(r"[/\\]", text.strip())[-1]
    stem, dot, extension = name.rpartition(".")
    if dot and stem and re.fullmatch(r"[A-Za-z][A-Za-z0-9]{0,4}", extension):
        return f"{_first(stem)}.{extension}"
    return mask_name(name or text)


def mask_by_shape(text: str) -> str:
    """For a value whose field is not known (a reader's problem with a cell): what it looks like
    decides its mask."""
    stripped = text.strip()
    if re.fullmatch(r"\S+@\S+", stripped):
        return mask_email(stripped)
    if re.fullmatch(r"[+\d\s()./-]+", stripped) and len(re.sub(r"\D", "", stripped)) >= 5:
        return mask_phone(stripped)
    if "://" in stripped or stripped.lower().startswith("www."):
        return mask_link(stripped)
    return mask_name(text)


# The request body's personal fields (Kombo's POST /ats/candidates), list positions left out:
# `candidate.social_links[1]` and `attachments[0].name` are under `candidate.social_links` and
# `attachments`. Links and attachments are here because they carry names (linkedin.com/in/
# anna-wolf, cvs/anna_wolf_cv.pdf). City, country, company, title and dates are not.
_MASKS: dict[str, Masker] = {
    "candidate.first_name": mask_name,
    "candidate.last_name": mask_name,
    "candidate.email_address": mask_email,
    "candidate.additional_email_addresses": mask_email,
    "candidate.phone_number": mask_phone,
    "candidate.additional_phone_numbers": mask_phone,
    "candidate.location.street_1": mask_name,
    "candidate.social_links": mask_link,
    "attachments": mask_file,
    # free text or free form: anything a person wrote or an export carried (a FILE answer's
    # path, a note, a custom field fed by a name column)
    "screening_question_answers": mask_by_shape,
    "remote_fields": mask_by_shape,
    "after_create": mask_by_shape,
}
PERSONAL_FIELDS: frozenset[str] = frozenset(_MASKS)
DESCRIPTION = (
    "names, email addresses, phone numbers, streets, profile links, file names, screening "
    "answers, notes and custom fields"
)

_LIST_POSITION = re.compile(r"\[\d+\]")
# A column a reader found a problem in (no field known yet) is personal when its name says so.
_PERSONAL_COLUMN = re.compile(
    r"name|mail|phone|mobil|handy|tel|fax|street|stra(?:ss|ß)e|address|adress|anschrift"
    r"|link|url|web|xing|github|profil|cv|lebenslauf|resume|cover|anschreiben|file|datei"
    r"|attachment|anhang",
    re.IGNORECASE,
)


def masker_for(field: str | None, column: str | None) -> Masker | None:
    """How a value at `field` (fed by `column`) is masked; None when it is not personal. A
    problem without a field is a reader's: personal when its column's name says so, or when it
    concerns the whole row (its cells could be anything)."""
    if field:
        path = _LIST_POSITION.sub("", field)
        while path:
            if path in _MASKS:
                return _MASKS[path]
            path = path.rpartition(".")[0]
    if not field and not column:
        return mask_by_shape
    if column and _PERSONAL_COLUMN.search(column):  # a name column, wherever it is mapped
        return mask_by_shape
    return None


def mask(field: str | None, column: str | None, value: str) -> str:
    """The value as it may be shared: personal values masked (j***@g***.com, +49 *** ***67, J***
    for names, streets), others unchanged."""
    masker = masker_for(field, column)
    return value if masker is None or not value.strip() else masker(value)


# A quoted value in a message: 'jonas.weber@gmx' is not..., sent as '4915112345678'; the
# closing quote is the one followed by a space, punctuation or the end (O'Brien stays whole).
_QUOTED = re.compile(r"""(?<!\w)(['"])(?=\S)(.+?)\1(?=[\s.,;:!?)\]]|$)""", re.DOTALL)
_MIN_FORM = 3  # shorter values are masked only where quoted: "an" would hit every "an"
_ESCAPE = re.compile(r"\\(?:x[0-9a-f]{2}|u[0-9a-f]{4}|U[0-9a-f]{8}|[ntr0])")  # '\x07': no value


def _mask_quoted(text: str, masker: Masker) -> str:
    """`text` with each quoted value masked; a quoted escape (a control character named by a
    message) stays."""
    return _QUOTED.sub(
        lambda m: m[0] if _ESCAPE.fullmatch(m[2]) else m[1] + masker(m[2]) + m[1], text
    )


def mask_issue(issue: Issue) -> Issue:
    """The issue as it may be shared: a personal value masked, and masked in its message too,
    wherever the message quotes it or holds it (as the cell had it, stripped, lower-cased);
    column, field, code and the rest of the message unchanged."""
    masker = masker_for(issue.field, issue.column)
    if masker is None or issue.value is None:
        return issue
    text = as_text(issue.value)
    if not text.strip():
        return issue
    return dataclasses.replace(
        issue, value=masker(text), message=_mask_message(issue.message, text, masker)
    )


def _mask_message(message: str, text: str, masker: Masker) -> str:
    stripped = text.strip()
    forms = {text, stripped, re.split(r"[/\\]", stripped)[-1]}
    if stripped.lower().startswith("mailto:"):
        forms.add(stripped[7:])
    longest_first = sorted((f for f in forms if len(f) >= _MIN_FORM), key=len, reverse=True)
    if not longest_first:
        return _mask_quoted(message, masker)
    holding = re.compile(
        "((?<!\\w)(?:" + "|".join(map(re.escape, longest_first)) + ")(?!\\w))", re.IGNORECASE
    )
    pieces = holding.split(message)
    # Odd pieces are the value itself; quotes are looked for only between them, so a value
    # holding a quote ("Jonas' Weber") never splits into a masked and a leaked half.
    return "".join(
        masker(piece) if index % 2 else _mask_quoted(piece, masker)
        for index, piece in enumerate(pieces)
    )
