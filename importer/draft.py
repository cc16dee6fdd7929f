"""`init`: draft a mapping from a file's headers (English and German synonyms) and a sample of
its rows, with comments on what it could not place. A draft is a start, not a verdict: job and
stage ids are left empty on purpose, so the dry run refuses every row until they are filled in.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .readers import Table, fold_header
from .transforms import as_text

SAMPLE_ROWS = 500
MAX_MAPPED_VALUES = 40

# field -> header names that mean it (compared casefolded, without accents, spaces or punctuation)
SYNONYMS: dict[str, tuple[str, ...]] = {
    "first_name": (
        "first name",
        "firstname",
        "given name",
        "forename",
        "vorname",
        "prenom",
        "nombre",
    ),
    "last_name": (
        "last name",
        "lastname",
        "surname",
        "family name",
        "nachname",
        "familienname",
        "nom",
    ),
    "full_name": (
        "name",
        "full name",
        "candidate",
        "candidate name",
        "applicant",
        "applicant name",
        "kandidat",
        "bewerber",
        "bewerbername",
        "vollstandiger name",
    ),
    "email_address": (
        "email",
        "e-mail",
        "mail",
        "email address",
        "e-mail address",
        "e-mail-adresse",
        "emailadresse",
        "private email",
    ),
    "phone_number": (
        "phone",
        "mobile",
        "mobile phone",
        "cell",
        "cell phone",
        "telephone",
        "tel",
        "phone number",
        "telefon",
        "telefonnummer",
        "handy",
        "mobil",
        "mobilnummer",
        "mobiltelefon",
    ),
    "company": (
        "company",
        "current company",
        "employer",
        "current employer",
        "arbeitgeber",
        "aktueller arbeitgeber",
        "firma",
        "unternehmen",
    ),
    "title": (
        "title",
        "job title",
        "current title",
        "position",
        "current position",
        "headline",
        "jobtitel",
        "berufsbezeichnung",
        "aktuelle position",
    ),
    "gender": ("gender", "sex", "geschlecht", "anrede", "salutation"),
    "availability_date": (
        "available from",
        "availability",
        "available",
        "start date",
        "earliest start",
        "verfugbar ab",
        "verfugbarkeit",
        "eintrittsdatum",
        "fruhester eintritt",
        "eintritt",
    ),
    "salary": (
        "salary",
        "salary expectation",
        "salary expectations",
        "expected salary",
        "desired salary",
        "gehalt",
        "gehaltsvorstellung",
        "gehaltswunsch",
        "wunschgehalt",
    ),
    "city": ("city", "town", "location", "stadt", "ort", "wohnort"),
    "country": ("country", "land", "nation"),
    "zip_code": ("zip", "zip code", "postal code", "postcode", "plz", "postleitzahl"),
    "state": ("state", "region", "province", "bundesland"),
    "street_1": ("street", "address", "street address", "strasse", "adresse", "anschrift"),
    "linkedin": ("linkedin", "linkedin url", "linkedin profile", "linkedin-profil"),
    "links": (
        "xing",
        "github",
        "website",
        "portfolio",
        "homepage",
        "url",
        "profile",
        "profile url",
        "links",
        "webseite",
    ),
    "job": (
        "job",
        "job id",
        "job name",
        "position applied",
        "applied for",
        "vacancy",
        "requisition",
        "opening",
        "stelle",
        "stellenbezeichnung",
        "stellenausschreibung",
        "beworben auf",
        "ausschreibung",
    ),
    "stage": ("stage", "status", "phase", "pipeline stage", "stufe", "bewerbungsstatus"),
    "cv": (
        "cv",
        "resume",
        "resume file",
        "cv file",
        "lebenslauf",
        "resume path",
        "cv path",
        "cv datei",
    ),
    "cover_letter": (
        "cover letter",
        "anschreiben",
        "motivationsschreiben",
        "cover letter file",
        "letter",
    ),
    "other_file": (
        "attachment",
        "attachments",
        "documents",
        "dokumente",
        "anhang",
        "anlagen",
        "files",
    ),
    "gdpr_given": (
        "consent",
        "gdpr",
        "gdpr consent",
        "dsgvo",
        "einwilligung",
        "datenschutz",
        "dsgvo einwilligung",
    ),
    "gdpr_until": (
        "consent until",
        "consent expires",
        "gdpr expires",
        "einwilligung bis",
        "loschdatum",
        "delete after",
    ),
    "source": ("source", "quelle", "channel", "kanal"),
}
GENDER_VALUES = {
    "m": "MALE",
    "male": "MALE",
    "man": "MALE",
    "mann": "MALE",
    "männlich": "MALE",
    "herr": "MALE",
    "mr": "MALE",
    "mr.": "MALE",
    "f": "FEMALE",
    "w": "FEMALE",
    "female": "FEMALE",
    "woman": "FEMALE",
    "frau": "FEMALE",
    "weiblich": "FEMALE",
    "ms": "FEMALE",
    "mrs": "FEMALE",
    "ms.": "FEMALE",
    "mrs.": "FEMALE",
    "d": "OTHER",
    "divers": "OTHER",
    "diverse": "OTHER",
    "other": "OTHER",
    "x": "OTHER",
    "non-binary": "OTHER",
}
_DATE_SHAPES = (
    (re.compile(r"^\d{1,2}\.\d{1,2}\.\d{4}$"), "%d.%m.%Y"),
    (re.compile(r"^\d{4}-\d{2}-\d{2}$"), "%Y-%m-%d"),
    (re.compile(r"^\d{1,2}/\d{1,2}/\d{4}$"), "%d/%m/%Y"),
)


def _norm(header: str) -> str:
    """A header as synonyms are looked up: folded as everywhere (`readers.fold_header`), then
    without accents and punctuation."""
    text = unicodedata.normalize("NFKD", fold_header(header))
    text = "".join(c for c in text if not unicodedata.combining(c)).replace("ß", "ss")
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


_LOOKUP = {_norm(name): key for key, names in SYNONYMS.items() for name in names}


@dataclass
class Draft:
    """Which column went where, what the samples showed, and what was left over."""

    placed: dict[str, str] = field(default_factory=dict)  # role -> column
    unplaced: list[str] = field(default_factory=list)
    samples: dict[str, list[Any]] = field(default_factory=dict)  # column -> non-empty sample values


def place_columns(table: Table, sample_rows: int = SAMPLE_ROWS) -> Draft:
    """Match headers to roles (first one wins), and keep a sample of each column's values."""
    draft = Draft()
    for header in table.headers:
        role = _LOOKUP.get(_norm(header))
        if role is None:
            for name, candidate in _LOOKUP.items():  # "E-Mail (privat)", "Mobile phone number"
                if len(name) > 3 and re.search(rf"\b{re.escape(name)}\b", _norm(header)):
                    role = candidate
                    break
        if role is not None and role not in draft.placed:
            draft.placed[role] = header
        else:
            draft.unplaced.append(header)
    draft.samples = {h: [] for h in table.headers}
    for count, row in enumerate(table.rows):
        if count >= sample_rows:
            break
        for header, value in zip(table.headers, row.values, strict=True):
            if value is not None and as_text(value).strip():
                draft.samples[header].append(value)
    return draft


# --- the draft as YAML ------------------------------------------------------------------------
#
# One function per section and per candidate field, each returning its lines. Every text taken
# from the file (a header, a sample value, the sheet's name) goes into the YAML through `_scalar`,
# and into a comment through `_comment`; everything else is YAML written out here.

MAX_SIMPLE_KEY = 1024  # characters; PyYAML reads a longer key only in the explicit `? key` form
_PLAIN = re.compile(r"[A-Za-z\u00c0-\uffff][\w\u00c0-\uffff .()/-]*")
_NOT_TEXT_IN_SOME_YAML = {"true", "false", "null", "yes", "no", "on", "off", "y", "n"}
_DECIMAL_COMMA = re.compile(r"\d\.\d{3}(?!\d)|\d,\d{1,2}\b")  # 65.000 or 1,5
FILE_TYPES = (("cv", "CV"), ("cover_letter", "COVER_LETTER"), ("other_file", "OTHER"))  # role, type
LOCATION_PARTS = ("city", "zip_code", "state", "street_1")  # the country comes last, always
TODO_GENDER = "~  # TODO: MALE, FEMALE or OTHER"
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}  # in double quotes


def render_mapping(draft: Draft, table: Table) -> str:
    """The YAML text of the draft, commented: its sections, a blank line between two."""
    sections = (
        _preamble(table),
        _input(table),
        _candidate(draft),
        _application(draft),
        _attachments(draft),
        _gdpr_consent(draft),
        _unplaced_columns(draft),
    )
    return "\n\n".join("\n".join(lines) for lines in sections if lines) + "\n"


def _preamble(table: Table) -> list[str]:
    return [
        f"# Drafted by `kombo-import init` from {_comment(table.path.name)}."
        " Check every line, fill in the TODOs,",
        "# then run `kombo-import validate` on the file with this mapping."
        " Format: mappings/example.yaml.",
        "version: 1",
    ]


def _input(table: Table) -> list[str]:
    sheet = [] if table.sheet is None else [f"  sheet: {_scalar(table.sheet)}"]
    return ["input:", *sheet, f"  header_row: {table.header_row}"]


def _candidate(draft: Draft) -> list[str]:
    fields = (
        _names,
        _email_address,
        _phone_number,
        _company_and_title,
        _gender,
        _availability_date,
        _salary_expectations,
        _location,
        _social_links,
    )
    return ["candidate:", *(line for field_lines in fields for line in field_lines(draft))]


def _names(draft: Draft) -> list[str]:
    """Two columns as they are, one full name split in two, or TODOs."""
    placed = draft.placed
    if "first_name" in placed and "last_name" in placed:
        return [
            f"  first_name: {_scalar(placed['first_name'])}",
            f"  last_name: {_scalar(placed['last_name'])}",
        ]
    if "full_name" in placed:
        return [
            f"  {part}: {_column(placed['full_name'], f'[{part}]')}"
            for part in ("first_name", "last_name")
        ]
    return [
        "  first_name: TODO  # no column for the first name was found",
        "  last_name: TODO  # no column for the last name was found",
    ]


def _email_address(draft: Draft) -> list[str]:
    column = draft.placed.get("email_address")
    if column is None:
        return ["  email_address: TODO  # no e-mail column was found; Kombo requires one"]
    return [f"  email_address: {_column(column, '[lower]')}"]


def _phone_number(draft: Draft) -> list[str]:
    """The column as it is, or with a region when the sample has national numbers (0151…)."""
    column = draft.placed.get("phone_number")
    if column is None:
        return []
    national = sum(1 for value in draft.samples[column] if _is_national(as_text(value).strip()))
    if not national:
        return [f"  phone_number: {_scalar(column)}"]
    return [
        f"  phone_number: {_column(column, '[{phone: {region: DE}}]')}"
        f"  # TODO: the country of numbers written without +CC ({national} in the sample)"
    ]


def _is_national(number: str) -> bool:
    """0151 1234567, not +49… nor 0049…"""
    return number.startswith("0") and not number.startswith("00")


def _company_and_title(draft: Draft) -> list[str]:
    return [
        f"  {key}: {_scalar(draft.placed[key])}"
        for key in ("company", "title")
        if key in draft.placed
    ]


def _gender(draft: Draft) -> list[str]:
    """A value map with every value of the sample; the ones not recognised are TODOs."""
    column = draft.placed.get("gender")
    if column is None:
        return []
    lines = ["  gender:", f"    column: {_scalar(column)}", "    map:"]
    for value in _distinct(draft.samples[column]):
        lines += _map_entry(value, GENDER_VALUES.get(value.casefold()) or TODO_GENDER)
    return lines


def _availability_date(draft: Draft) -> list[str]:
    column = draft.placed.get("availability_date")
    if column is None:
        return []
    return [f"  availability_date: {_date_spec(column, draft.samples[column])}"]


def _salary_expectations(draft: Draft) -> list[str]:
    """The amount, read with a decimal comma when the sample writes numbers the German way."""
    column = draft.placed.get("salary")
    if column is None:
        return []
    german = any(isinstance(v, str) and _DECIMAL_COMMA.search(v) for v in draft.samples[column])
    number = '{number: {decimal: ","}}' if german else "number"
    return [
        "  salary_expectations:",
        f"    amount: {_column(column, f'[{number}]')}",
        "    period: {value: YEAR}  # TODO: or MONTH",
    ]


def _location(draft: Draft) -> list[str]:
    """The parts found, and a country in any case (Kombo needs one with a location)."""
    placed = draft.placed
    parts = [f"    {key}: {_scalar(placed[key])}" for key in LOCATION_PARTS if key in placed]
    if "country" in placed:
        country = _column(placed["country"], "[country]")
    elif parts:
        country = "{value: DE}  # TODO: Kombo needs a country with a location"
    else:
        return []
    return ["  location:", *parts, f"    country: {country}"]


def _social_links(draft: Draft) -> list[str]:
    columns = [draft.placed[key] for key in ("linkedin", "links") if key in draft.placed]
    if not columns:
        return []
    return ["  social_links:", *(f'    - {{column: {_scalar(c)}, split: ";"}}' for c in columns)]


def _application(draft: Draft) -> list[str]:
    """The job and the stage as value maps with empty ids; without a job column, one job id
    for every row."""
    job, stage = draft.placed.get("job"), draft.placed.get("stage")
    if job is None:
        lines = [
            "  job_id: {value: TODO}  # no job column: the Kombo job id every row applies to"
            " (`kombo-import jobs`)"
        ]
    else:
        lines = _id_map("job_id", "job", job, draft.samples[job])
    if stage is not None:
        lines += _id_map("stage_id", "stage", stage, draft.samples[stage])
    return ["application:", *lines]


def _id_map(key: str, what: str, column: str, samples: list[Any]) -> list[str]:
    """`key` as a value map from each value of the sample (the first MAX_MAPPED_VALUES) to an
    empty id."""
    values = _distinct(samples)
    lines = [
        f"  {key}:",
        f"    column: {_scalar(column)}",
        f"    map:  # TODO: the Kombo {what} id of each value; list them with `kombo-import jobs`",
    ]
    for value in values[:MAX_MAPPED_VALUES]:
        lines += _map_entry(value, "~")
    if len(values) > MAX_MAPPED_VALUES:
        lines.append(f"      # … and {len(values) - MAX_MAPPED_VALUES} more values in the file")
    return lines


def _attachments(draft: Draft) -> list[str]:
    files = [(draft.placed[role], kind) for role, kind in FILE_TYPES if role in draft.placed]
    if not files:
        return []
    return [
        "attachments:  # paths relative to the file's folder, or --attachments-dir (a folder"
        " or a .zip)",
        *(f"  - {{column: {_scalar(column)}, type: {kind}}}" for column, kind in files),
    ]


def _gdpr_consent(draft: Draft) -> list[str]:
    given, until = draft.placed.get("gdpr_given"), draft.placed.get("gdpr_until")
    lines = []
    if given is not None:
        lines.append(f"  given: {_column(given, '[bool]')}")
    if until is not None:
        lines.append(f"  expires_at: {_date_spec(until, draft.samples[until])}")
    return ["gdpr_consent:", *lines] if lines else []


def _unplaced_columns(draft: Draft) -> list[str]:
    """A comment naming each column the draft leaves out, with a sample value. A source column
    is recognised but not mapped either: it is listed last."""
    source = draft.placed.get("source")
    leftovers = [*draft.unplaced, *([] if source is None else [source])]
    if not leftovers:
        return []
    return [
        "# Columns not placed (ignored). Map them if Kombo should get them: a screening answer",
        "# (screening_question_answers: {QUESTION_ID: column}), or an ATS's own field under"
        " remote_fields:",
        *(
            f"#   {_comment(column)}   {_example(draft.samples.get(column))}"
            for column in leftovers
        ),
    ]


def _example(samples: list[Any] | None) -> str:
    if not samples:
        return "(empty in the sample)"
    return f"e.g. {as_text(samples[0])[:40]!r}"  # repr: quoted, one line, escapes shown


def _date_spec(column: str, samples: list[Any]) -> str:
    """The column alone when no sample is text in one of `_DATE_SHAPES` (date cells need
    nothing), else with a date transform naming the formats the sample shows."""
    texts = [
        as_text(v).strip() for v in samples if not isinstance(v, (dt.date, dt.datetime, int, float))
    ]
    formats = [fmt for pattern, fmt in _DATE_SHAPES if any(pattern.match(t) for t in texts)]
    if not formats:
        return _scalar(column)
    shown = ", ".join(f"'{fmt}'" for fmt in formats)  # ours, all `%…`: single-quoted YAML
    return _column(column, f"[{{date: {{formats: [{shown}]}}}}]")


def _distinct(values: list[Any]) -> list[str]:
    """The values as text, whitespace folded, most frequent first."""
    counts = Counter(" ".join(as_text(v).split()) for v in values)
    return [value for value, _ in counts.most_common()]


# --- YAML for text from the file -----------------------------------------------------------


def _column(header: str, transform: str) -> str:
    """`{column: HEADER, transform: TRANSFORM}`; `transform` is YAML written here."""
    return f"{{column: {_scalar(header)}, transform: {transform}}}"


def _map_entry(value: str, target: str, indent: str = "      ") -> list[str]:
    """One entry of a value map: `VALUE: TARGET`; `target` is YAML written here (with its
    comment). A key longer than YAML allows a plain `key:` to be takes the explicit form."""
    key = _scalar(value)
    if len(key) <= MAX_SIMPLE_KEY:
        return [f"{indent}{key}: {target}"]
    return [f"{indent}? {key}", f"{indent}: {target}"]


def _scalar(text: str) -> str:
    """`text` as a YAML scalar that loads back as exactly `text`, as a value, a key or inside a
    flow mapping. Plain when no YAML reader can misread it: a letter first, then letters,
    digits, spaces and `.()/-`, printable, no trailing space, and no word some YAML version
    reads as a boolean or null (`yes`, `NO`, `null`...). Anything else double-quoted."""
    if (
        _PLAIN.fullmatch(text)
        and text.isprintable()
        and not text.endswith(" ")
        and text.casefold() not in _NOT_TEXT_IN_SOME_YAML
    ):
        return text
    return '"' + "".join(_in_double_quotes(c) for c in text) + '"'


def _in_double_quotes(char: str) -> str:
    """One character inside a double-quoted YAML scalar: a quote, a backslash and every character
    Python deems unprintable (line breaks, tabs, control characters, a BOM, a lone surrogate)
    escaped; the rest, emoji included, as it is."""
    if char in _ESCAPES:
        return _ESCAPES[char]
    if char.isprintable():
        return char
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02X}"
    return f"\\u{code:04X}" if code <= 0xFFFF else f"\\U{code:08X}"


def _comment(text: str) -> str:
    """`text` for a comment line: as it is when printable (a line break would end the comment
    and start YAML), else as the quoted scalar, escapes visible."""
    return text if text.isprintable() else _scalar(text)
