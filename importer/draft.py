"""`init`: draft a mapping from a file's headers and values, and, given an integration, with its
job, stage and question ids. A draft is a start, not a verdict: what only the user knows is left
as the placeholder `TODO` (`mapping.PLACEHOLDER`), which loads but refuses every row it touches
(`unmapped_required`, naming the line), so nothing the file does not show is ever sent.

Columns are placed by their header: the body's own names, then the synonyms of `headers.csv`
(data, in the languages of the exports we see), then close spellings; then, for what is left,
by their values (addresses, links, job titles of the integration, a question's options).
"""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import difflib
import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from .build import DateOrder
from .checks import DateOrderProfile, JobCatalog
from .issues import RowProblem
from .mapping import PLACEHOLDER
from .readers import Table, fold_header
from .transforms import as_text, to_country_code

SAMPLE_VALUES = 200  # non-empty values kept per column to sniff its content
MAX_DISTINCT = 2_000  # distinct values counted per column (a value map longer than this is no map)
MAX_MAPPED_VALUES = 200  # entries of a drafted value map; the rest are named in a comment
TABLE = "headers.csv"
NAME_FIELDS = {"first_name", "last_name", "full_name"}
MANY = {"links", "other_file", "ignore"}  # fields that take several columns
ID_WORDS = {"id", "ids", "uuid", "guid", "key", "ref", "nr", "no", "identifier", "kennung"}
FUZZY_CUTOFF = 0.85  # difflib ratio for a header spelt differently ("Emial")
CLOSEST_CUTOFF = 0.6  # difflib ratio for the field a column not placed came closest to
MAX_COMPARED = 50  # names compared in full with a header, the likeliest first
MAX_CLOSEST = 500  # columns not placed for which the closest field is looked for
JOB_CUTOFF = 0.75  # a file's job title and a live job's name this alike are one job
QUESTION_CUTOFF = 0.75
SEPARATORS = (";", "|", "\n", ",")  # in this order: a comma is also text's own punctuation

# --- the synonym table -----------------------------------------------------------------------


_FOLDED_LETTERS = str.maketrans({"ß": "ss", "ł": "l", "đ": "d", "ø": "o", "æ": "ae", "œ": "oe"})


def fold(header: str) -> str:
    """A header as synonyms are looked up: folded as everywhere (`readers.fold_header`), then
    without accents and punctuation: "E-Mail-Adresse" is "e mail adresse", "Płeć" "plec"."""
    text = unicodedata.normalize("NFKD", fold_header(header).translate(_FOLDED_LETTERS))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


@dataclass(frozen=True)
class Synonym:
    field: str
    language: str  # "kombo" for the body's own names, else a language code
    rank: int  # its place in the table: an earlier synonym of a field is the stronger one


def _table_rows() -> list[list[str]]:
    """`headers.csv` as rows (field, language, names), its comments left out."""
    text = resources.files("importer").joinpath(TABLE).read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return list(csv.reader(lines[1:]))


@cache
def synonym_table() -> tuple[dict[str, Synonym], dict[str, str]]:
    """`headers.csv` read once: folded header -> what it means, and folded gender value ->
    MALE, FEMALE or OTHER. A header that means two fields is a mistake of the table."""
    headers: dict[str, Synonym] = {}
    genders: dict[str, str] = {}
    for rank, (name, language, names) in enumerate(_table_rows()):
        if name.startswith("not:") or name == "self":
            continue
        for spelling in names.split("|"):
            folded = fold(spelling) if language != "values" else " ".join(spelling.split())
            if name.startswith("gender:"):
                genders.setdefault(folded.casefold(), name.removeprefix("gender:"))
                continue
            known = headers.setdefault(folded, Synonym(name, language, rank))
            if known.field != name:
                raise ValueError(f"{TABLE}: '{spelling}' means both {known.field} and {name}")
    return headers, genders


@dataclass(frozen=True)
class Unless:
    """A word (or words) that, beside a synonym, says the header is about someone or something
    else than the candidate's own field: `kind` is "person", "other" or a field's name, `fields`
    the fields it keeps a column from (empty: all)."""

    kind: str
    fields: frozenset[str]


@cache
def unless_table() -> dict[str, tuple[Unless, ...]]:
    """The `not:` lines of `headers.csv`: folded word(s) -> what they say."""
    found: dict[str, list[Unless]] = {}
    for name, _, names in _table_rows():
        if not name.startswith("not:"):
            continue
        scope = name.removeprefix("not:")
        kind = scope if scope in ("person", "other") else "field"
        unless = Unless(kind, frozenset() if kind != "field" else frozenset(scope.split("+")))
        for spelling in names.split("|"):
            found.setdefault(fold(spelling), []).append(unless)
    return {words: tuple(dict.fromkeys(unless)) for words, unless in found.items()}


@cache
def self_words() -> frozenset[str]:
    """The `self` lines of `headers.csv`: words that name the candidate, not a field."""
    return frozenset(
        word
        for name, _, names in _table_rows()
        if name == "self"
        for spelling in names.split("|")
        for word in fold(spelling).split()
    )


@cache
def _field_words() -> dict[str, frozenset[str]]:
    """field -> every word of its synonyms: such a word never keeps a column from its own field
    ("number" is in "phone number", "current" in "current company")."""
    words: dict[str, set[str]] = {}
    for name, synonym in synonym_table()[0].items():
        words.setdefault(synonym.field, set()).update(name.split())
    return {key: frozenset(value) for key, value in words.items()}


@cache
def _longest_phrase() -> int:
    """The most words a synonym or a `not:` entry has: the longest run of a header looked up."""
    return max(len(name.split()) for name in (*synonym_table()[0], *unless_table()))


def _synonyms() -> dict[str, tuple[str, ...]]:
    """field -> the headers that mean it, as a reader's header search compares them (`E-Mail`
    is `e-mail` there, not `e mail`)."""
    found: dict[str, list[str]] = {}
    for name, synonym in synonym_table()[0].items():
        spellings = {name, name.replace(" ", "-"), name.replace(" ", "")}
        found.setdefault(synonym.field, []).extend(sorted(spellings))
    return {key: tuple(names) for key, names in found.items() if key != "ignore"}


SYNONYMS = _synonyms()


# --- what a column holds ---------------------------------------------------------------------


@dataclass
class Column:
    """One column of the file, read whole: a sample of its values, its distinct values counted,
    and (for a date column) the order the dry run will read its dates in."""

    header: str
    index: int
    samples: list[Any] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    filled: int = 0
    date_order: DateOrder | None = None
    _texts: list[str] | None = field(default=None, repr=False)

    def texts(self) -> list[str]:
        """The samples as text, stripped (worked out once: the samples are read whole first)."""
        if self._texts is None or len(self._texts) != len(self.samples):
            self._texts = [as_text(v).strip() for v in self.samples]
        return self._texts

    def share(self, test: Any) -> float:
        """The share of the sample for which `test(text)` holds."""
        texts = self.texts()
        return sum(1 for t in texts if test(t)) / len(texts) if texts else 0.0

    def distinct(self) -> list[str]:
        """Its values, whitespace folded, most frequent first."""
        return [value for value, _ in self.counts.most_common()]


@dataclass
class Placed:
    field: str
    column: str
    how: str  # "exact", "synonym (de)", "close to 'e mail'", "values: 98% email addresses"
    strength: float
    refused: str = ""  # why a header near the field is about something else: it is not placed

    @property
    def weak(self) -> bool:
        """Placed by a synonym the header holds or a spelling close to one: to be checked."""
        return self.how.startswith(("holds '", "close to '"))


@dataclass
class Draft:
    """Which column went where and why, what the values showed, and what was left over."""

    columns: dict[str, Column] = field(default_factory=dict)
    placed: dict[str, str] = field(default_factory=dict)  # field -> column (the first, for MANY)
    placements: list[Placed] = field(default_factory=list)
    ignored: dict[str, str] = field(default_factory=dict)  # column -> why it is left out
    unplaced: list[str] = field(default_factory=list)
    closest: dict[str, str] = field(default_factory=dict)  # unplaced column -> nearest field
    refused: dict[str, str] = field(default_factory=dict)  # column -> why its header is not it
    questions: dict[str, Question] = field(default_factory=dict)  # column -> matched question
    todo_lines: list[int] = field(default_factory=list)  # filled in by `render_mapping`

    @property
    def samples(self) -> dict[str, list[Any]]:
        return {header: column.samples for header, column in self.columns.items()}

    def many(self, name: str) -> list[str]:
        return [p.column for p in self.placements if p.field == name]

    def how(self, column: str) -> str:
        return next((p.how for p in self.placements if p.column == column), "")


@dataclass(frozen=True)
class Question:
    id: str
    title: str
    kind: str  # BOOLEAN, SINGLE_SELECT, MULTI_SELECT, TEXT, NUMBER, DATE, FILE…
    options: tuple[tuple[str, str], ...]  # (id, name)
    how: str


def place_columns(table: Table, catalog: JobCatalog | None = None) -> Draft:
    """Read the whole file once: place each column by its header, profile every column, then
    place what is left by its values (and against the integration's jobs and questions)."""
    draft = Draft()
    matched = {header: _header_match(header) for header in table.headers}
    draft.columns = _profile(table, matched)
    _settle(draft, matched)
    _place_by_values(draft, catalog)
    return draft


def _header_match(header: str) -> Placed | None:
    """The field a header names: exactly (3), as a synonym (2), holding a synonym as words (1),
    or spelt close to one (below 1). An id column never names a person. Holding a synonym or
    spelt like one, a header also saying it is about someone or something else ("Manager
    Email", "Country of birth") is not placed: `refused` says why, `field` what it came near.

    No regular expression per synonym: the header's runs of words are looked up in the table,
    so the cost grows with the header's words, not with the table."""
    folded = fold(header)
    if not folded:
        return None
    table = synonym_table()[0]
    found = table.get(folded)
    is_id = folded.split()[-1] in ID_WORDS or folded == "#"
    if found is not None and found.field == "ignore" and is_id:
        return Placed("ignore", header, "an id from the system the file came from", 2.0)
    if found is not None:
        how = "exact" if found.language == "kombo" else f"synonym, {found.language}"
        strength = 3.0 if found.language == "kombo" else 2.0 - found.rank / 10_000
        return Placed(found.field, header, how, strength)
    if is_id:
        return Placed("ignore", header, "an id from the system the file came from", 1.5)
    words = folded.split()
    others = _unless_spans(words)
    refusal: Placed | None = None
    held = sorted(  # the longest first; one only naming the candidate ("Candidate") last
        (
            (
                set(name.split()) <= self_words(),
                -len(name),
                _order()[name],
                start,
                start + len(name.split()),
                name,
            )
            for start, name in _runs(words, table)
            if len(name) >= 4 or " " in name
        ),
    )
    ignored: Placed | None = None  # "Applicant Number" holds 'number': refused, not ignored
    for _, _, _, start, end, name in held:
        synonym = table[name]
        why = _why_not(synonym.field, others, range(start, end))
        if why is not None:
            refusal = refusal or Placed(synonym.field, header, f"holds '{name}'", 0.0, why)
        elif synonym.field == "ignore":
            ignored = ignored or Placed("ignore", header, f"holds '{name}'", 1.0)
        elif ignored is None:
            return Placed(synonym.field, header, f"holds '{name}'", 1.0 + len(name) / 1000)
    if ignored is not None:
        return refusal or ignored
    close = _close_names(folded, FUZZY_CUTOFF)
    if close:
        ratio, name = close[0]
        synonym = table[name]
        inside = {i for i, word in enumerate(words) if word in set(name.split())}
        why = _why_not(synonym.field, others, inside)
        if why is None:
            return Placed(synonym.field, header, f"close to '{name}'", ratio)
        refusal = refusal or Placed(synonym.field, header, f"close to '{name}'", 0.0, why)
    return refusal


@cache
def _order() -> dict[str, int]:
    """Each synonym's place in the table: of two as long, the earlier is taken."""
    return {name: i for i, name in enumerate(synonym_table()[0])}


def _runs(words: list[str], table: Any) -> list[tuple[int, str]]:
    """(start, run) for each run of `words` that is a key of `table`."""
    longest = _longest_phrase()
    return [
        (start, run)
        for start in range(len(words))
        for end in range(start + 1, min(len(words), start + longest) + 1)
        if (run := " ".join(words[start:end])) in table
    ]


def _unless_spans(words: list[str]) -> list[tuple[range, str, Unless]]:
    """The runs of a header's words that the `not:` lines name, with what they say."""
    table = unless_table()
    return [
        (range(start, start + len(run.split())), run, unless)
        for start, run in _runs(words, table)
        for unless in table[run]
    ]


def _why_not(
    name: str, others: list[tuple[range, str, Unless]], inside: range | set[int]
) -> str | None:
    """Why a header whose words `inside` name the field `name` is about something else: a
    word outside them that keeps a column from that field; None when there is none."""
    own = _field_words().get(name, frozenset())
    for span, words, unless in others:
        if any(i in inside for i in span) or set(words.split()) <= own:
            continue
        if unless.fields and name not in unless.fields:
            continue
        if unless.kind == "person":
            return f"its header names someone else ('{words}')"
        if unless.kind == "other":
            return f"its header is about something else ('{words}')"
        return f"'{words}' in its header: not the candidate's {name.replace('_', ' ')}"
    return None


@cache
def _fuzzy_index() -> tuple[list[str], list[int], dict[tuple[str, int], list[int]]]:
    """The table's names, shortest first, their lengths, and for each (character, n) the names
    holding it n times or more (in the same order): how many characters a header shares with
    each name of a length that could be close enough is counted in one pass (difflib's
    `quick_ratio`), and only the names that could be close enough are compared in full."""
    names = sorted(synonym_table()[0], key=len)
    index: dict[tuple[str, int], list[int]] = {}
    for i, name in enumerate(names):
        for char, count in Counter(name).items():
            for n in range(1, count + 1):
                index.setdefault((char, n), []).append(i)
    return names, [len(name) for name in names], index


def _close_names(folded: str, cutoff: float) -> list[tuple[float, str]]:
    """The name of the table spelt most like `folded` (`difflib` ratio >= cutoff), as
    `difflib.get_close_matches(n=1)` finds it; at `cutoff` 0.85 and up, of the names of 5
    characters or more (one letter off "mail" is another word). The cost is that of the
    names as long as `folded` give or take the cutoff, never of a regular expression each."""
    names, lengths, index = _fuzzy_index()
    size = len(folded)
    shortest = max(math.ceil(cutoff * size / (2 - cutoff)), 5 if cutoff >= FUZZY_CUTOFF else 0)
    low = bisect.bisect_left(lengths, shortest)
    high = bisect.bisect_right(lengths, math.floor(size * (2 - cutoff) / cutoff))
    if low >= high:
        return []
    shared: Counter[int] = Counter()
    for char, count in Counter(folded).items():
        for n in range(1, count + 1):
            held = index.get((char, n), [])
            shared.update(held[bisect.bisect_left(held, low) : bisect.bisect_left(held, high)])
    needed = cutoff * size / 2
    candidates = sorted(
        (
            (2.0 * common / (size + lengths[i]), names[i])
            for i, common in shared.items()
            if common >= needed + cutoff * lengths[i] / 2
        ),
        reverse=True,
    )
    matcher = difflib.SequenceMatcher()
    matcher.set_seq2(folded)
    best: tuple[float, str] | None = None
    for quick, name in candidates[:MAX_COMPARED]:
        if best is not None and quick < best[0]:
            break
        matcher.set_seq1(name)
        ratio = matcher.ratio()
        if ratio >= cutoff and (best is None or (ratio, name) > best):
            best = (ratio, name)
    return [] if best is None else [best]


def _profile(table: Table, matched: dict[str, Placed | None]) -> dict[str, Column]:
    """Every column read whole: samples, distinct values, and the date order of the columns
    that hold dates, decided as the dry run decides it (`checks.DateOrderProfile`)."""
    columns = {h: Column(h, i) for i, h in enumerate(table.headers)}
    dated: dict[int, bool | None] = {
        i: None
        for i, h in enumerate(table.headers)
        if (m := matched[h]) is not None and m.field in DATE_FIELDS
    }
    profile = DateOrderProfile(dated, None)
    ordered = list(columns.values())
    for row in table.rows:
        if dated:
            profile.observe(row)
        for column, value in zip(ordered, row.values, strict=False):
            if value is None:
                continue
            text = " ".join(as_text(value).split())
            if not text:
                continue
            column.filled += 1
            if len(column.samples) < SAMPLE_VALUES:
                column.samples.append(value)
            if text in column.counts or len(column.counts) < MAX_DISTINCT:
                column.counts[text] += 1
    for index, order in profile.decide().items():
        ordered[index].date_order = order
    return columns


DATE_FIELDS = {"availability_date", "gdpr_until"}
FIELD_PATHS = {  # where each field of the table goes in the body, for the comments
    "full_name": "candidate.first_name and last_name, split",
    "salary": "candidate.salary_expectations.amount",
    "location": "candidate.location",
    "linkedin": "candidate.social_links",
    "links": "candidate.social_links",
    "job": "application.job_id",
    "stage": "application.stage_id",
    "cv": "attachments, CV",
    "cover_letter": "attachments, COVER_LETTER",
    "other_file": "attachments, OTHER",
    "gdpr_given": "gdpr_consent.given",
    "gdpr_until": "gdpr_consent.expires_at",
    "recruiter": "sourced_by.user_email",
    **{f: f"candidate.location.{f}" for f in ("city", "country", "zip_code", "state", "street_1")},
}


def _settle(draft: Draft, matched: dict[str, Placed | None]) -> None:
    """One column per field, the strongest match winning (ties: the leftmost); the others
    are not placed, with the field they came closest to."""
    winners: dict[str, Placed] = {}
    for found in matched.values():
        if found is None or found.field in MANY or found.refused:
            continue
        held = winners.get(found.field)
        if held is None or found.strength > held.strength:
            winners[found.field] = found
    title = winners.get("title")
    for header, found in matched.items():
        if (
            found is not None
            and found.field == "title"
            and found is not title
            and "job" not in winners
            and "job" in fold(header).split()
        ):  # "Job Title" beside "Current Job Title": the job applied to
            found = winners["job"] = Placed("job", header, "a job title beside the current one", 1)
        if found is None:
            draft.unplaced.append(header)
        elif found.refused:
            draft.unplaced.append(header)
            draft.refused[header] = found.refused
            where = FIELD_PATHS.get(found.field, f"candidate.{found.field}")
            draft.closest[header] = f"{where}, but {found.refused}"
        elif found.field == "ignore":
            draft.ignored[header] = (
                found.how if found.how.startswith("an id") else "no field of Kombo's candidate"
            )
        elif found.field in MANY or winners[found.field] is found:
            draft.placements.append(found)
        else:
            draft.unplaced.append(header)
            draft.closest[header] = f"{found.field}, taken by '{winners[found.field].column}'"
    _settle_names(draft)
    draft.placed = {}
    for placed in draft.placements:
        draft.placed.setdefault(placed.field, placed.column)


def _settle_names(draft: Draft) -> None:
    """First and last name columns win over a full name, which is then left out on purpose."""
    fields = {p.field: p for p in draft.placements}
    if {"first_name", "last_name"} <= fields.keys() and "full_name" in fields:
        full = fields["full_name"]
        draft.placements.remove(full)
        draft.ignored[full.column] = "the names come from the first and last name columns"
    if "source" in fields:
        source = fields["source"]
        draft.placements.remove(source)
        draft.ignored[source.column] = "Kombo deprecates `source`; map it under remote_fields"


_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[A-Za-z]{2,}$")
_NAMED_EMAIL = re.compile(r'^\s*"?([^"<>@]*?)"?\s*<\s*([^<>@\s]+@[^<>\s]+)\s*>\s*$')
_URL = re.compile(r"^(https?://|www\.)\S+$|^[\w.-]+\.[a-z]{2,}/\S*$", re.IGNORECASE)
_PHONE = re.compile(r"^(\+|00|0|\()[\d\s()./-]{6,}$")


def _place_by_values(draft: Draft, catalog: JobCatalog | None) -> None:
    """Columns no header placed, by what they hold: email addresses, `Name <email>` cells,
    LinkedIn and other links, phone numbers; with an integration, its job titles and the
    answers to its screening questions. A recruiter column of names (not emails) is left out:
    `sourced_by` names a user by email."""
    for name in ("cv", "cover_letter", "other_file"):
        for header in draft.many(name):
            if draft.columns[header].share(_is_file) < 0.5:
                draft.placements = [p for p in draft.placements if p.column != header]
                draft.placed.pop(name, None)
                draft.ignored[header] = "holds text, not the paths or links of files"
    recruiter = draft.placed.get("recruiter")
    if recruiter is not None and draft.columns[recruiter].share(_EMAIL.match) < 0.8:
        draft.placements = [p for p in draft.placements if p.column != recruiter]
        del draft.placed["recruiter"]
        draft.ignored[recruiter] = "holds names; sourced_by needs the users' email addresses"
    for header in list(draft.unplaced):
        column = draft.columns[header]
        if not column.samples or header in draft.refused:
            continue  # "Manager Email" holds email addresses: not the candidate's
        found: Placed | None = None
        if "email_address" not in draft.placed and column.share(_NAMED_EMAIL.match) >= 0.8:
            found = Placed("email_address", header, "values: Name <email> cells", 0.5)
        elif "email_address" not in draft.placed and column.share(_EMAIL.match) >= 0.8:
            found = Placed("email_address", header, "values: email addresses", 0.5)
        elif column.share(lambda t: "linkedin.com/" in t.casefold()) >= 0.8:
            found = Placed("links", header, "values: LinkedIn profiles", 0.5)
        elif column.share(_URL.match) >= 0.8:
            found = Placed("links", header, "values: web addresses", 0.5)
        elif "phone_number" not in draft.placed and column.share(_is_phone) >= 0.8:
            found = Placed("phone_number", header, "values: phone numbers", 0.5)
        if found is not None:
            _take(draft, found)
    if catalog is None:
        return
    job_names = {fold(str(job.get("name") or "")) for job in catalog.listed}
    if "job" not in draft.placed:
        for header in list(draft.unplaced) + [p.column for p in draft.placements]:
            share = _job_share(draft.columns[header], job_names)
            if share >= 0.5 and "job" not in draft.placed:
                for placed in [p for p in draft.placements if p.column == header]:
                    draft.placements.remove(placed)
                    draft.placed.pop(placed.field, None)
                _take(draft, Placed("job", header, f"values: {share:.0%} are job names", 0.5))
    jobs = _jobs_in_play(draft, catalog)  # once: the job column is settled by now
    for header in list(draft.unplaced):
        question = _question_for(draft.columns[header], jobs)
        if question is not None:
            draft.questions[header] = question
            draft.unplaced.remove(header)


def _take(draft: Draft, found: Placed) -> None:
    if found.column in draft.unplaced:
        draft.unplaced.remove(found.column)
    draft.closest.pop(found.column, None)
    draft.placements.append(found)
    draft.placed.setdefault(found.field, found.column)


_FILE = re.compile(r"\.[A-Za-z0-9]{2,5}$|^(https?|file)://", re.IGNORECASE)


def _is_file(text: str) -> bool:
    """A path or a link to a file: `cvs/anna.pdf`, `https://…`; not a letter written out."""
    return bool(_FILE.search(text)) and "\n" not in text and len(text) < 1000


def _is_phone(text: str) -> bool:
    return bool(_PHONE.match(text)) and 7 <= sum(c.isdigit() for c in text) <= 15


# --- matching the integration ----------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    """What a value of the file was matched to: an id (None: nothing good enough) and why."""

    target: str | None
    note: str


def _similarity(a: str, b: str) -> float:
    """How alike two names are (0 to 1): the closer of their spelling and of their words."""
    fa, fb = fold(a), fold(b)
    if not fa or not fb:
        return 0.0
    if fa == fb:
        return 1.0
    spelling = difflib.SequenceMatcher(None, fa, fb).ratio()
    wa, wb = set(fa.split()), set(fb.split())
    words = len(wa & wb) / max(len(wa), len(wb))
    return max(spelling, words)


def _is_open(job: dict[str, Any]) -> bool:
    return str(job.get("status") or "").upper() in {"OPEN", "ACTIVE", "PUBLISHED", ""}


def match_job(value: str, jobs: list[dict[str, Any]]) -> Match:
    """A file's job title -> the live job: its id, remote id or code, else the name exactly,
    else the closest name; open jobs first. The note gives the confidence and the runner-up."""
    text = " ".join(value.split())
    for job in jobs:
        ids = {str(job.get(key) or "") for key in ("id", "remote_id", "job_code")}
        if text in ids - {""}:
            return Match(job["id"], f"{_job_label(job)}, by its id")
    scored = sorted(
        ((_similarity(text, str(job.get("name") or "")), _is_open(job), job) for job in jobs),
        key=lambda t: (t[0], t[1]),
        reverse=True,
    )
    open_ones = [s for s in scored if s[1]]
    best = open_ones[0] if open_ones and open_ones[0][0] >= JOB_CUTOFF else None
    if best is None:
        closest = f"closest: {_job_label(scored[0][2])}, {scored[0][0]:.2f}" if scored else ""
        return Match(None, f"no open job matches; {closest}".rstrip("; "))
    rivals = [s for s in scored if s[2] is not best[2]]
    runner = f"; runner-up: {_job_label(rivals[0][2])}, {rivals[0][0]:.2f}" if rivals else ""
    how = "exact" if best[0] == 1.0 else f"fuzzy {best[0]:.2f}"
    return Match(best[2]["id"], f"{_job_label(best[2])}, {how}{runner}")


def _job_label(job: dict[str, Any]) -> str:
    return f"{job.get('name') or '?'} ({job.get('status') or '?'})"


def _job_share(column: Column, names: set[str]) -> float:
    """The share of a column's distinct values that are, exactly, the `names` of live jobs."""
    values = column.distinct()
    return sum(1 for v in values if fold(v) in names) / len(values) if values else 0.0


def match_name(value: str, named: list[tuple[str, str]]) -> Match:
    """A stage or an option named in the file -> its id among `named` (id, name)."""
    scored = sorted(((_similarity(value, n), i, n) for i, n in named), reverse=True)
    if not scored or scored[0][0] < JOB_CUTOFF:
        closest = f"; closest: {scored[0][2]}, {scored[0][0]:.2f}" if scored else ""
        return Match(None, f"no match{closest}")
    score, target, name = scored[0]
    return Match(target, f"{name}, {'exact' if score == 1.0 else f'fuzzy {score:.2f}'}")


def _question_for(column: Column, jobs: list[dict[str, Any]]) -> Question | None:
    """The screening question a column answers: its header in the question's title (all its
    words, or spelt alike), or its values the options of a select question."""
    best: tuple[float, Question] | None = None
    words = {w for w in fold(column.header).split() if len(w) > 2}
    values = {fold(v) for text in column.distinct() for v in _parts(text, _separator(column))}
    seen: set[str] = set()
    for job in jobs:
        for question in job.get("screening_questions") or []:
            if question["id"] in seen:
                continue
            seen.add(question["id"])
            title = str(question.get("title") or "")
            form = question.get("format") or {}
            options = tuple(
                (str(o["id"]), str(o.get("name") or "")) for o in form.get("options") or []
            )
            names = {fold(n) for _, n in options}
            in_title = len(words & set(fold(title).split())) / len(words) if words else 0.0
            score, how = max(in_title, _similarity(column.header, title)), "its header"
            if names and values and len(values & names) / len(values) > score:
                score, how = len(values & names) / len(values), "its values are the options"
            if score >= QUESTION_CUTOFF and (best is None or score > best[0]):
                kind = str(form.get("type") or "?")
                best = (score, Question(question["id"], title, kind, options, how))
    return None if best is None else best[1]


def _jobs_in_play(draft: Draft, catalog: JobCatalog) -> list[dict[str, Any]]:
    """The jobs the file's rows go to, as far as they can be told; else every open job."""
    job_column = draft.placed.get("job")
    if job_column is not None:
        ids = {match_job(v, catalog.listed).target for v in draft.columns[job_column].distinct()}
        chosen = [job for job in catalog.listed if job["id"] in ids]
        if chosen:
            return chosen
    return [job for job in catalog.listed if _is_open(job)] or catalog.listed


def _separator(column: Column) -> str | None:
    """The separator of a column whose cells hold several values ("Python, Go"), if any."""
    texts = column.texts()
    for separator in SEPARATORS:
        holding = sum(1 for t in texts if separator in t)
        if holding and holding >= len(texts) * 0.2:
            return separator
    return None


def _parts(text: str, separator: str | None) -> list[str]:
    parts = text.split(separator) if separator else [text]
    return [p.strip() for p in parts if p.strip()]


# --- the draft as YAML -----------------------------------------------------------------------
#
# One function per section and per candidate field, each returning its lines. Every text taken
# from the file (a header, a value, the sheet's name) goes into the YAML through `_scalar`, and
# into a comment through `_comment`; everything else is YAML written out here. A line holding
# the placeholder says why in a `# TODO:` comment; a line to look at says so in `# CHECK:`.

MAX_SIMPLE_KEY = 1024  # characters; PyYAML reads a longer key only in the explicit `? key` form
_PLAIN = re.compile(r"[A-Za-z\u00c0-\uffff][\w\u00c0-\uffff .()/-]*")
_NOT_TEXT_IN_SOME_YAML = {"true", "false", "null", "yes", "no", "on", "off", "y", "n", "todo"}
_DECIMAL_COMMA = re.compile(r"\d\.\d{3}(?!\d)|\d,\d{1,2}\b")  # 65.000 or 1,5
FILE_TYPES = (("cv", "CV"), ("cover_letter", "COVER_LETTER"), ("other_file", "OTHER"))
LOCATION_PARTS = ("city", "zip_code", "state", "street_1")  # the country comes last, always
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}  # in double quotes
_TODO_LINE = re.compile(rf"(:|\{{value:)\s+{PLACEHOLDER}\s*(\}}|$|\s+#)")
PERIOD_WORDS = {
    "MONTH": ("month", "monthly", "monat", "monatlich", "mensuel", "mensual", "mese", "maand"),
    "YEAR": ("year", "yearly", "annual", "jahr", "jahres", "p a", "annuel", "anual", "anno"),
}


def render_mapping(
    draft: Draft, table: Table, catalog: JobCatalog | None = None, integration: str | None = None
) -> str:
    """The YAML text of the draft, commented: its sections, a blank line between two. Sets
    `draft.todo_lines`: the lines the user must edit before a row can pass."""
    sections = (
        _preamble(table, integration, catalog),
        _input(table),
        _candidate(draft),
        _checked(draft, ("job", "stage"), _application(draft, catalog)),
        _checked(draft, ("cv", "cover_letter", "other_file"), _attachments(draft, catalog)),
        _answers(draft),
        _checked(draft, ("recruiter",), _sourced_by(draft)),
        _checked(draft, ("gdpr_given", "gdpr_until"), _gdpr_consent(draft)),
        _accounting(draft),
    )
    text = "\n\n".join("\n".join(lines) for lines in sections if lines) + "\n"
    draft.todo_lines = [
        number for number, line in enumerate(text.splitlines(), 1) if _TODO_LINE.search(line)
    ]
    return text


def _preamble(table: Table, integration: str | None, catalog: JobCatalog | None) -> list[str]:
    lines = [
        f"# Drafted by `kombo-import init` from {_comment(table.path.name)}. Check every line;",
        f"# each {PLACEHOLDER} refuses the rows it touches (unmapped_required) until you edit it,"
        " and each",
        "# CHECK says what to look at. Then run `kombo-import validate` on the file with this"
        " mapping.",
        '# Format: mappings/example.yaml. To send nothing for a value of a map, map it to "".',
    ]
    if catalog is not None and integration is not None:
        open_jobs = sum(1 for job in catalog.listed if _is_open(job))
        lines.append(
            f"# Ids from integration {_comment(integration)}: {len(catalog.listed)} jobs,"
            f" {open_jobs} open (`kombo-import jobs` lists them)."
        )
    return [*lines, "version: 1"]


def _input(table: Table) -> list[str]:
    sheet = [] if table.sheet is None else [f"  sheet: {_scalar(table.sheet)}"]
    return ["input:", *sheet, f"  header_row: {table.header_row}"]


def _candidate(draft: Draft) -> list[str]:
    fields: tuple[tuple[Any, tuple[str, ...]], ...] = (
        (_names, ("first_name", "last_name", "full_name")),
        (_email_address, ("email_address",)),
        (_phone_number, ("phone_number",)),
        (_company_and_title, ("company", "title")),
        (_gender, ("gender",)),
        (_availability_date, ("availability_date",)),
        (_salary_expectations, ("salary",)),
        (_location, (*LOCATION_PARTS, "country", "location")),
        (_social_links, ("linkedin", "links")),
    )
    return [
        "candidate:",
        *(line for lines, keys in fields for line in _checked(draft, keys, lines(draft))),
    ]


def _checked(draft: Draft, keys: tuple[str, ...], lines: list[str]) -> list[str]:
    """`lines`, under a CHECK for each column placed on one of the fields `keys` only because
    its header holds a synonym or is spelt like one: "Phone (work)" may be someone else's."""
    weak = [p for p in draft.placements if p.field in keys and p.weak]
    if not lines or not weak:
        return lines
    indent = lines[0][: len(lines[0]) - len(lines[0].lstrip())]
    return [
        *(
            f"{indent}# CHECK: {_comment(repr(p.column))} is placed on"
            f" {FIELD_PATHS.get(p.field, f'candidate.{p.field}')} only because its header"
            f" {p.how if p.how.startswith('holds') else 'is ' + p.how}"
            for p in weak
        ),
        *lines,
    ]


_NAME_PART = r'^\s*"?([^"<]*?)"?\s*<'  # the name of `Name <email>`
_EMAIL_PART = r"([^<>\s]+@[^<>\s]+)"  # the address, in `Name <email>` or alone


def _names(draft: Draft) -> list[str]:
    """Two columns as they are, one full name split in two (`Name <email>` cells too), or TODOs."""
    placed = draft.placed
    if "first_name" in placed and "last_name" in placed:
        return [
            f"  first_name: {_scalar(placed['first_name'])}",
            f"  last_name: {_scalar(placed['last_name'])}",
        ]
    full = placed.get("full_name")
    email = placed.get("email_address")
    if full is None and email is not None and "Name <email>" in draft.how(email):
        prefix = f"{{regex: {{pattern: '{_NAME_PART}', group: 1}}}}, "
        return [
            f"  {part}: {_column(email, f'[{prefix}{part}]')}"
            for part in ("first_name", "last_name")
        ]
    if full is not None:
        lines = [f"  {part}: {_column(full, f'[{part}]')}" for part in ("first_name", "last_name")]
        if any("," in t for t in draft.columns[full].texts()):
            lines[0] += '  # CHECK: "Wolf, Anna" is read last name first'
        return lines
    return [
        f"  {part}: {PLACEHOLDER}  # TODO: no column for the {part.replace('_', ' ')} was found"
        for part in ("first_name", "last_name")
        if part not in placed
    ] + [
        f"  {part}: {_scalar(placed[part])}"
        for part in ("first_name", "last_name")
        if part in placed
    ]


def _email_address(draft: Draft) -> list[str]:
    column = draft.placed.get("email_address")
    if column is None:
        return [
            f"  email_address: {PLACEHOLDER}  # TODO: no e-mail column was found; Kombo needs it"
        ]
    if "Name <email>" in draft.how(column) or draft.columns[column].share(_NAMED_EMAIL.match):
        regex = f"{{regex: {{pattern: '{_EMAIL_PART}', group: 1}}}}"
        return [f"  email_address: {_column(column, f'[{regex}, lower]')}  # Name <email> cells"]
    return [f"  email_address: {_column(column, '[lower]')}"]


def _phone_number(draft: Draft) -> list[str]:
    """The column with the region its own international numbers show, when it also holds
    national ones (0151…); with none to show it, as written."""
    column = draft.placed.get("phone_number")
    if column is None:
        return []
    texts = [t for t in draft.columns[column].texts() if t]
    national = sum(1 for t in texts if t.startswith("0") and not t.startswith("00"))
    if not national:
        return [f"  phone_number: {_scalar(column)}"]
    regions = Counter(r for r in (_region_of(t) for t in texts) if r is not None)
    if len(regions) == 1:
        ((region, count),) = regions.items()
        return [
            f"  phone_number: {_column(column, f'[{{phone: {{region: {region}}}}}]')}"
            f"  # {national} national numbers read as {region}, as the file's {count} +CC ones"
        ]
    shown = ", ".join(f"{r} ({n})" for r, n in regions.most_common(4)) or "none"
    return [
        f"  phone_number: {_scalar(column)}  # CHECK: {national} numbers have no +CC and are sent"
        f" as written; the others are from {shown}: add transform: [{{phone: {{region: XX}}}}]"
    ]


def _region_of(text: str) -> str | None:
    """The country of a number written with its country code (+49…, 0049…)."""
    if not text.startswith(("+", "00")):
        return None
    import phonenumbers

    try:
        number = phonenumbers.parse("+" + text.removeprefix("+").removeprefix("00"), None)
    except phonenumbers.NumberParseException:
        return None
    region = phonenumbers.region_code_for_country_code(number.country_code or 0)
    return None if region in (None, "ZZ", "001") else str(region)


def _company_and_title(draft: Draft) -> list[str]:
    return [
        f"  {key}: {_scalar(draft.placed[key])}"
        for key in ("company", "title")
        if key in draft.placed
    ]


def _gender(draft: Draft) -> list[str]:
    """A value map with every value of the column; those the table does not know are TODOs."""
    column = draft.placed.get("gender")
    if column is None:
        return []
    genders = synonym_table()[1]
    lines = ["  gender:", f"    column: {_scalar(column)}", "    map:"]
    for value in draft.columns[column].distinct()[:MAX_MAPPED_VALUES]:
        target = genders.get(value.casefold()) or genders.get(fold(value))
        lines += _map_entry(
            value, target or f'{PLACEHOLDER}  # TODO: MALE, FEMALE, OTHER, or "" to send nothing'
        )
    return lines


def _availability_date(draft: Draft) -> list[str]:
    column = draft.placed.get("availability_date")
    if column is None:
        return []
    return [f"  availability_date: {_date_spec(draft.columns[column])}"]


def _date_spec(column: Column) -> str:
    """Date cells need nothing; dates as text are read as the dry run reads them, each column in
    the order its own dates prove (a day over 12). When none proves it, dotted dates are day
    first (31.03.2026 is written nowhere month first); other ambiguous dates are refused row by
    row (`ambiguous_date`) until `dayfirst:` says which."""
    texts = [as_text(v).strip() for v in column.samples if not isinstance(v, (dt.date, int, float))]
    if not texts:
        return _scalar(column.header)
    order = column.date_order
    if order is not None and order.inferred:
        return f"{_column(column.header, '[date]')}  # {order.settled_by}"
    ambiguous = [t for t in texts if re.match(r"^\d{1,2}[./-]\d{1,2}[./-]\d{2,4}", t)]
    if ambiguous and all("." in t for t in ambiguous):
        return f"{_column(column.header, '[{date: {dayfirst: true}}]')}  # dotted dates: day first"
    if ambiguous:
        return (
            f"{_column(column.header, '[date]')}  # CHECK: no date proves day or month first;"
            " set {date: {dayfirst: true}} (31/12) or false (12/31)"
        )
    return _column(column.header, "[date]")


def _salary_expectations(draft: Draft) -> list[str]:
    """The amount, read with a decimal comma when the column writes numbers the German way; the
    period from the header's words, else a TODO."""
    column = draft.placed.get("salary")
    if column is None:
        return []
    texts = draft.columns[column].texts()
    german = any(_DECIMAL_COMMA.search(t) for t in texts if not t.replace(".", "").isdigit())
    number = '{number: {decimal: ","}}' if german else "number"
    words = f" {fold(column)} "
    period = next(
        (p for p, names in PERIOD_WORDS.items() if any(f" {n}" in words for n in names)), None
    )
    period_line = (
        f"    period: {{value: {period}}}  # from the header"
        if period
        else f"    period: {{value: {PLACEHOLDER}}}  # TODO: YEAR or MONTH"
    )
    return [
        "  salary_expectations:",
        f"    amount: {_column(column, f'[{number}]')}",
        period_line,
    ]


def _location(draft: Draft) -> list[str]:
    """The parts found, and a country only from the file: its country column, or the last
    part of a "City, Country" location; else a TODO (a country guessed would pass)."""
    placed = draft.placed
    lines = [f"    {key}: {_scalar(placed[key])}" for key in LOCATION_PARTS if key in placed]
    combined = placed.get("location")
    country_in_location = False
    if combined is not None:
        texts = draft.columns[combined].texts()
        # a country's name ends it ("Berlin, Germany"); two letters may be a state ("Austin, TX")
        last_parts = [t.rsplit(",", 1)[-1].strip() for t in texts if "," in t]
        named = sum(1 for part in last_parts if len(part) > 2 and _country_of(part))
        country_in_location = named >= max(1, 0.8 * len(texts))
        if "city" not in placed:
            city = "{regex: {pattern: '^([^,]+)', group: 1}}"
            lines.insert(0, f"    city: {_column(combined, f'[{city}]')}")
    if "country" in placed:
        codes = draft.columns[placed["country"]].texts()
        unknown = sorted({t for t in codes if not _country_of(t)})
        plain = all(len(t) == 2 and t.isupper() for t in codes)
        country = _scalar(placed["country"]) if plain else _column(placed["country"], "[country]")
        if unknown:
            shown = ", ".join(repr(u) for u in unknown[:5])
            country += f"  # CHECK: not a country: {_comment(shown)}"
    elif combined is not None and country_in_location:
        last = "{regex: {pattern: ',\\s*([^,]+)$', group: 1}}"
        country = _column(combined, f"[{last}, country]") + "  # the last part of the location"
    elif lines:
        country = (
            f"{{value: {PLACEHOLDER}}}  # TODO: the file names no country; Kombo needs one with"
            " a location (e.g. {value: DE}), or delete the location"
        )
    else:
        return []
    return ["  location:", *lines, f"    country: {country}"]


def _country_of(text: str) -> str | None:
    try:
        return to_country_code(text.strip())
    except RowProblem:
        return None


def _social_links(draft: Draft) -> list[str]:
    columns = draft.many("links")
    if "linkedin" in draft.placed:
        columns.insert(0, draft.placed["linkedin"])
    if not columns:
        return []
    lines = ["  social_links:"]
    for column in columns:
        separator = _separator(draft.columns[column])
        if separator is None:
            lines.append(f"    - {_scalar(column)}")
        else:
            lines.append(f"    - {{column: {_scalar(column)}, split: {_scalar(separator)}}}")
    return lines


def _application(draft: Draft, catalog: JobCatalog | None) -> list[str]:
    """The job and the stage: from the integration when there is one, else maps to fill in."""
    job, stage = draft.placed.get("job"), draft.placed.get("stage")
    if job is None:
        lines = [
            f"  job_id: {PLACEHOLDER}  # TODO: no job column: the id of the job every row applies"
            " to (`kombo-import jobs`)"
        ]
    elif catalog is None:
        lines = _todo_map("job_id", "job", draft.columns[job])
    else:
        lines = _job_map(draft.columns[job], catalog)
    if stage is not None and catalog is None:
        lines += _todo_map("stage_id", "stage", draft.columns[stage])
    elif stage is not None and catalog is not None:
        lines += _stage_map(draft, job, draft.columns[stage], catalog)
    return ["application:", *lines]


def _todo_map(key: str, what: str, column: Column) -> list[str]:
    lines = [
        f"  {key}:",
        f"    column: {_scalar(column.header)}",
        f"    map:  # TODO: the Kombo {what} id of each value (`kombo-import jobs`; or give"
        " --integration-id to init)",
    ]
    return lines + _entries(column.distinct(), lambda value: PLACEHOLDER)


def _entries(values: list[str], target: Any) -> list[str]:
    """Map entries for the first MAX_MAPPED_VALUES values; `target(value)` is YAML written here."""
    lines = [
        line for value in values[:MAX_MAPPED_VALUES] for line in _map_entry(value, target(value))
    ]
    if len(values) > MAX_MAPPED_VALUES:
        lines.append(f"      # … and {len(values) - MAX_MAPPED_VALUES} more values in the file")
    return lines


def _job_map(column: Column, catalog: JobCatalog) -> list[str]:
    values = column.distinct()
    matches = {value: match_job(value, catalog.listed) for value in values}
    found = sum(1 for m in matches.values() if m.target is not None)
    lines = [
        "  job_id:",
        f"    column: {_scalar(column.header)}",
        f"    map:  # {found} of {len(values)} job names matched to the integration's jobs",
    ]
    return lines + _entries(values, lambda value: _target(matches[value], "job"))


def _target(match: Match, what: str) -> str:
    if match.target is None:
        return f"{PLACEHOLDER}  # TODO: {_comment(match.note)}; the {what}'s id, or delete the line"
    return f"{_scalar(match.target)}  # {_comment(match.note)}"


def _stage_map(draft: Draft, job: str | None, stage: Column, catalog: JobCatalog) -> list[str]:
    """One map by stage name when the jobs the file names share their stages; else one by
    job and stage together (a template), since each job has stages of its own."""
    jobs = _jobs_in_play(draft, catalog)
    by_name: dict[str, set[str]] = {}
    for live in jobs:
        for s in live.get("stages") or []:
            by_name.setdefault(fold(str(s.get("name") or "")), set()).add(s["id"])
    shared = all(len(ids) == 1 for ids in by_name.values())
    if shared or job is None or "." in job + stage.header or "[" in job + stage.header:
        named = [
            (s["id"], str(s.get("name") or "")) for live in jobs for s in live.get("stages") or []
        ]
        named = list(dict.fromkeys(named))
        matches = {value: match_name(value, named) for value in stage.distinct()}
        note = "" if shared else "  # CHECK: the jobs have stages of their own"
        return [
            "  stage_id:",
            f"    column: {_scalar(stage.header)}",
            f"    map:{note}",
            *_entries(stage.distinct(), lambda value: _target(matches[value], "stage")),
        ]
    return _stage_by_job(draft, job, stage, catalog)


def _stage_by_job(draft: Draft, job: str, stage: Column, catalog: JobCatalog) -> list[str]:
    pairs: list[str] = []
    targets: dict[str, str] = {}
    jobs_by_id = {live["id"]: live for live in catalog.listed}
    table = draft.columns[job]
    for title in table.distinct():
        live = jobs_by_id.get(match_job(title, catalog.listed).target or "")
        named = [(s["id"], str(s.get("name") or "")) for s in (live or {}).get("stages") or []]
        for value in stage.distinct():
            key = f"{title} / {value}"
            pairs.append(key)
            targets[key] = _target(match_name(value, named), "stage")
    template = "{" + job.replace("{", "{{").replace("}", "}}") + "} / {"
    template += stage.header.replace("{", "{{").replace("}", "}}") + "}"
    return [
        "  stage_id:  # each job has stages of its own: the map is by job and stage",
        f"    template: {_scalar(template)}",
        "    map:",
        *_entries(pairs, lambda key: targets[key]),
    ]


def _attachments(draft: Draft, catalog: JobCatalog | None) -> list[str]:
    files = [(c, kind) for role, kind in FILE_TYPES for c in draft.many(role)]
    files += [(draft.placed[role], kind) for role, kind in FILE_TYPES[:2] if role in draft.placed]
    files = list(dict.fromkeys(files))
    rules = _rules_comment(catalog.attachment_rules if catalog is not None else {})
    if not files:
        return rules
    lines = [
        "attachments:  # paths relative to the file's folder, or --attachments-dir (a folder"
        " or a .zip)",
    ]
    for column, kind in files:
        separator = _separator(draft.columns[column])
        split = "" if separator in (None, ",") else f", split: {_scalar(separator or '')}"
        lines.append(f"  - {{column: {_scalar(column)}, type: {kind}{split}}}")
    return rules + lines


def _rules_comment(rules: dict[str, Any]) -> list[str]:
    """The integration's attachment rules (types, counts, sizes), as a comment."""
    if not rules:
        return []
    lines = ["# The integration's attachment rules:"]
    for kind, rule in sorted((rules.get("types") or {}).items()):
        if not rule:
            continue
        parts = []
        if rule.get("max_amount") is not None:
            parts.append(f"at most {rule['max_amount']}")
        if rule.get("min_amount"):
            parts.append(f"at least {rule['min_amount']}")
        if rule.get("max_file_size_bytes"):
            parts.append(f"up to {rule['max_file_size_bytes'] / 1e6:g} MB each")
        if rule.get("accepted_mime_types"):
            parts.append(", ".join(rule["accepted_mime_types"][:6]))
        lines.append(f"#   {_comment(str(kind))}: {_comment('; '.join(parts) or 'no limits')}")
    if rules.get("total_size_bytes"):
        lines.append(f"#   all together: up to {rules['total_size_bytes'] / 1e6:g} MB")
    return lines


def _answers(draft: Draft) -> list[str]:
    """Each column matched to a screening question; options by name -> their ids."""
    if not draft.questions:
        return []
    lines = ["screening_question_answers:"]
    for header, question in draft.questions.items():
        column = draft.columns[header]
        lines.append(
            f"  {_scalar(question.id)}:  # {_comment(question.title)} ({question.kind}),"
            f" {question.how}"
        )
        lines.append(f"    column: {_scalar(header)}")
        if question.kind == "BOOLEAN":
            lines.append("    transform: [bool]")
        separator = _separator(column)
        if question.kind == "MULTI_SELECT" and separator is not None:
            lines.append(f"    split: {_scalar(separator)}")
        if question.kind in ("SINGLE_SELECT", "MULTI_SELECT") and question.options:
            split = separator if question.kind == "MULTI_SELECT" else None
            values = list(dict.fromkeys(p for t in column.distinct() for p in _parts(t, split)))
            targets = {v: _target(match_name(v, list(question.options)), "option") for v in values}
            lines.append("    map:")
            lines += _entries(values, targets.__getitem__)
    return lines


def _sourced_by(draft: Draft) -> list[str]:
    """A recruiter column of email addresses names the sourcing user; of names, it cannot."""
    column = draft.placed.get("recruiter")
    if column is None:
        return []
    return ["sourced_by:", f"  user_email: {_scalar(column)}  # looked up among the users"]


def _gdpr_consent(draft: Draft) -> list[str]:
    given, until = draft.placed.get("gdpr_given"), draft.placed.get("gdpr_until")
    lines = []
    if given is not None:
        lines.append(f"  given: {_column(given, '[bool]')}")
    if until is not None:
        lines.append(f"  expires_at: {_date_spec(draft.columns[until])}")
    return ["gdpr_consent:", *lines] if lines else []


def _accounting(draft: Draft) -> list[str]:
    """Every column of the file, each in one line: where it went, why it was left out, or the
    field it came closest to, with a value to recognise it by."""
    placed = {p.column: p for p in draft.placements}
    lines = [
        f"# The file's {len(draft.columns)} columns: {len(placed) + len(draft.questions)} placed,"
        f" {len(draft.ignored)} left out on purpose, {len(draft.unplaced)} not placed. Map one"
        " left",
        "# out as a screening answer (screening_question_answers: {QUESTION_ID: column}) or under"
        " remote_fields:.",
    ]
    guessed = 0  # closest fields looked for, up to MAX_CLOSEST: a wide file's hints stay cheap
    for header, column in draft.columns.items():
        if header in placed:
            where = FIELD_PATHS.get(placed[header].field, f"candidate.{placed[header].field}")
            what = f"placed: {where} ({placed[header].how})"
        elif header in draft.questions:
            what = f"placed: screening question {draft.questions[header].id}"
        elif header in draft.ignored:
            what = f"left out: {draft.ignored[header]}"
        else:
            closest = draft.closest.get(header)
            if closest is None and guessed < MAX_CLOSEST:
                guessed += 1
                closest = _closest_field(header)
            what = "not placed" + (f" (closest: {closest})" if closest else "")
        lines.append(f"#   {_comment(header)}   {what}; {_example(column.samples)}")
    return lines


def _closest_field(header: str) -> str | None:
    close = _close_names(fold(header), CLOSEST_CUTOFF)
    found = synonym_table()[0][close[0][1]].field if close else "ignore"
    return None if found == "ignore" else FIELD_PATHS.get(found, f"candidate.{found}")


def _example(samples: list[Any]) -> str:
    if not samples:
        return "empty"
    return f"e.g. {as_text(samples[0])[:40]!r}"  # repr: quoted, one line, escapes shown


# --- YAML for text from the file -------------------------------------------------------------


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
    reads as a boolean or null (`yes`, `NO`, `null`...), nor the placeholder. Else quoted."""
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
