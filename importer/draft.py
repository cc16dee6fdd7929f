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


def render_mapping(draft: Draft, table: Table) -> str:
    """The YAML text of the draft, commented."""
    p = draft.placed
    out = [
        f"# Drafted by `kombo-import init` from {table.path.name}."
        " Check every line, fill in the TODOs,",
        "# then run `kombo-import validate` on the file with this mapping."
        " Format: mappings/example.yaml.",
        "version: 1",
        "",
        "input:",
    ]
    if table.sheet is not None:
        out.append(f"  sheet: {_q(table.sheet)}")
    out.append(f"  header_row: {table.header_row}")
    out += ["", "candidate:"]
    if "first_name" in p and "last_name" in p:
        out += [f"  first_name: {_q(p['first_name'])}", f"  last_name: {_q(p['last_name'])}"]
    elif "full_name" in p:
        out += [
            f"  first_name: {{column: {_q(p['full_name'])}, transform: [first_name]}}",
            f"  last_name: {{column: {_q(p['full_name'])}, transform: [last_name]}}",
        ]
    else:
        out += [
            "  first_name: TODO  # no column for the first name was found",
            "  last_name: TODO  # no column for the last name was found",
        ]
    out.append(
        f"  email_address: {{column: {_q(p['email_address'])}, transform: [lower]}}"
        if "email_address" in p
        else "  email_address: TODO  # no e-mail column was found; Kombo requires one"
    )
    if "phone_number" in p:
        national = sum(
            1
            for v in draft.samples[p["phone_number"]]
            if as_text(v).strip().startswith("0") and not as_text(v).strip().startswith("00")
        )
        if national:
            out.append(
                f"  phone_number: {{column: {_q(p['phone_number'])},"
                " transform: [{phone: {region: DE}}]}"
                "  # TODO: the country of numbers written without +CC"
                f" ({national} in the sample)"
            )
        else:
            out.append(f"  phone_number: {_q(p['phone_number'])}")
    for key in ("company", "title"):
        if key in p:
            out.append(f"  {key}: {_q(p[key])}")
    if "gender" in p:
        values = _distinct(draft.samples[p["gender"]])
        pairs = {v: GENDER_VALUES.get(v.casefold()) for v in values}
        out.append(f"  gender:\n    column: {_q(p['gender'])}\n    map:")
        for value, member in pairs.items():
            out.append(
                f"      {_q(value)}: {member if member else '~  # TODO: MALE, FEMALE or OTHER'}"
            )
    if "availability_date" in p:
        out.append(
            "  availability_date: "
            f"{_date_spec(p['availability_date'], draft.samples[p['availability_date']])}"
        )
    if "salary" in p:
        comma = sum(
            1
            for v in draft.samples[p["salary"]]
            if isinstance(v, str) and re.search(r"\d\.\d{3}(?!\d)|\d,\d{1,2}\b", v)
        )
        number = '{number: {decimal: ","}}' if comma else "number"
        out += [
            "  salary_expectations:",
            f"    amount: {{column: {_q(p['salary'])}, transform: [{number}]}}",
            "    period: {value: YEAR}  # TODO: or MONTH",
        ]
    location = [(k, p[k]) for k in ("city", "zip_code", "state", "street_1") if k in p]
    if location or "country" in p:
        out.append("  location:")
        out += [f"    {k}: {_q(v)}" for k, v in location]
        out.append(
            f"    country: {{column: {_q(p['country'])}, transform: [country]}}"
            if "country" in p
            else "    country: {value: DE}  # TODO: Kombo needs a country with a location"
        )
    links = [p[k] for k in ("linkedin", "links") if k in p]
    if links:
        out.append("  social_links:")
        out += [f'    - {{column: {_q(c)}, split: ";"}}' for c in links]
    out += ["", "application:"]
    for role, key in (("job", "job_id"), ("stage", "stage_id")):
        if role in p:
            values = _distinct(draft.samples[p[role]])
            out.append(
                f"  {key}:\n    column: {_q(p[role])}\n"
                f"    map:  # TODO: the Kombo {role} id of each value;"
                " list them with `kombo-import jobs`"
            )
            out += [f"      {_q(v)}: ~" for v in values[:MAX_MAPPED_VALUES]]
            if len(values) > MAX_MAPPED_VALUES:
                out.append(
                    f"      # … and {len(values) - MAX_MAPPED_VALUES} more values in the file"
                )
        elif key == "job_id":
            out.append(
                "  job_id: {value: TODO}  # no job column: the Kombo job id every row applies to"
                " (`kombo-import jobs`)"
            )
    files = [
        (role, kind)
        for role, kind in (("cv", "CV"), ("cover_letter", "COVER_LETTER"), ("other_file", "OTHER"))
        if role in p
    ]
    if files:
        out += [
            "",
            "attachments:  # paths relative to the file's folder, or --attachments-dir (a folder"
            " or a .zip)",
        ]
        out += [f"  - {{column: {_q(p[role])}, type: {kind}}}" for role, kind in files]
    if "gdpr_given" in p or "gdpr_until" in p:
        out += ["", "gdpr_consent:"]
        if "gdpr_given" in p:
            out.append(f"  given: {{column: {_q(p['gdpr_given'])}, transform: [bool]}}")
        if "gdpr_until" in p:
            out.append(
                f"  expires_at: {_date_spec(p['gdpr_until'], draft.samples[p['gdpr_until']])}"
            )
    leftovers = list(draft.unplaced) + ([p["source"]] if "source" in p else [])
    if leftovers:
        out += [
            "",
            "# Columns not placed (ignored). Map them if Kombo should get them: a screening answer",
            "# (screening_question_answers: {QUESTION_ID: column}), or an ATS's own field under"
            " remote_fields:",
        ]
        out += [
            f"#   {c}"
            + (
                f"   e.g. {as_text(draft.samples[c][0])[:40]!r}"
                if draft.samples.get(c)
                else "   (empty in the sample)"
            )
            for c in leftovers
        ]
    return "\n".join(out) + "\n"


def _date_spec(column: str, samples: list[Any]) -> str:
    texts = [
        as_text(v).strip() for v in samples if not isinstance(v, (dt.date, dt.datetime, int, float))
    ]
    formats = [fmt for pattern, fmt in _DATE_SHAPES if any(pattern.match(t) for t in texts)]
    if not formats:
        return _q(column)  # date cells and ISO dates need nothing
    return (
        f"{{column: {_q(column)}, transform:"
        f" [{{date: {{formats: [{', '.join(repr(f) for f in formats)}]}}}}]}}"
    )


def _distinct(values: list[Any]) -> list[str]:
    counts = Counter(" ".join(as_text(v).split()) for v in values)
    return [value for value, _ in counts.most_common()]


def _q(text: str) -> str:
    """A YAML scalar for `text`, quoted when plain YAML would misread it."""
    text = str(text)
    if (
        re.fullmatch(r"[A-Za-z\u00c0-\uffff][\w\u00c0-\uffff .()/-]*", text)
        and not text.endswith(" ")
        and text.casefold() not in {"true", "false", "null", "yes", "no", "on", "off", "y", "n"}
    ):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
