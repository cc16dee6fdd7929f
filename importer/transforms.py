"""Pure value transforms: a cell value in, a value out, or a `RowProblem` with a stable code.

No I/O and no pandas here: every function runs once per cell on 100,000-row files, so each one
takes the fast path first (an already clean value) and only then does the careful work.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache, partial
from typing import Any
from urllib.parse import quote

import regex

from . import issues
from .issues import RowProblem


def as_text(value: Any) -> str:
    """The text of a cell as a person reads it: 4915112345678, not 4915112345678.0."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    return str(value)


def describe(data: Any) -> str:
    """What a mapping gave where it should not have, for a config error: "a list", "int 5"."""
    if isinstance(data, dict):
        return "a mapping"
    if isinstance(data, list):
        return "a list"
    if data is None:
        return "nothing"
    return f"{type(data).__name__} {data!r}"


def clip(text: str, limit: int = 60) -> str:
    """A value short enough to quote in a message."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- text ------------------------------------------------------------------------------------


def strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def lower(value: Any) -> str:
    return as_text(value).lower()


def upper(value: Any) -> str:
    return as_text(value).upper()


def title(value: Any) -> str:
    # str.title() would write "O'Neil" as "O'Neil" but "mcdonald-smith" as "Mcdonald-Smith"; fine.
    return as_text(value).title()


def collapse_spaces(value: Any) -> str:
    return " ".join(as_text(value).split())


# --- names -----------------------------------------------------------------------------------

_NAME_PARTICLES = {
    "van",
    "von",
    "de",
    "der",
    "den",
    "da",
    "di",
    "del",
    "la",
    "le",
    "du",
    "zu",
    "ten",
    "ter",
    "dos",
    "das",
    "st.",
    "bin",
    "al",
}


def split_full_name(value: Any) -> tuple[str, str]:
    """("Anna Maria", "van der Berg") from "Anna Maria van der Berg" or
    "van der Berg, Anna Maria"."""
    text = collapse_spaces(value)
    if "," in text:
        last, _, first = text.partition(",")
        return first.strip(), last.strip()
    words = text.split(" ")
    if len(words) == 1:
        return words[0], ""
    start = len(words) - 1
    while start > 1 and words[start - 1].lower() in _NAME_PARTICLES:
        start -= 1
    return " ".join(words[:start]), " ".join(words[start:])


def first_name(value: Any) -> str:
    return split_full_name(value)[0]


def last_name(value: Any) -> str:
    return split_full_name(value)[1]


# --- dates -----------------------------------------------------------------------------------

_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
_NUMERIC_DATE = re.compile(r"^(\d{1,4})[./-](\d{1,2})[./-](\d{1,4})$")
MIN_YEAR, MAX_YEAR = 1900, 2100


def _invalid_date(
    value: Any, expected: str = "a date such as 2025-03-31 or 31.03.2025"
) -> RowProblem:
    return RowProblem(
        issues.INVALID_DATE, f"'{as_text(value)}' is not a date; expected {expected}."
    )


def _checked(day: dt.date, value: Any) -> dt.date:
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise RowProblem(
            issues.INVALID_DATE,
            f"'{as_text(value)}' is a date in the year {day.year}; expected a year between "
            f"{MIN_YEAR} and {MAX_YEAR}.",
        )
    return day


def parse_date(
    value: Any, formats: tuple[str, ...] = (), dayfirst: bool = True
) -> dt.date | dt.datetime:
    """A calendar day (or a moment, when the value holds a time) from a date cell, an Excel
    serial number, or text in one of `formats` / ISO 8601 / day-first or month-first digits."""
    if isinstance(value, dt.datetime):
        return value if value.time() != dt.time() or value.tzinfo else _checked(value.date(), value)
    if isinstance(value, dt.date):
        return _checked(value, value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not 1 <= value < 2958466:  # Excel's serials run from 1900-01-01 to 9999-12-31
            raise _invalid_date(value)
        moment = _EXCEL_EPOCH + dt.timedelta(days=float(value))
        return _checked(moment.date(), value)
    text = as_text(value).strip()
    for fmt in formats:
        fast = _numeric_format(fmt)
        if fast is not None:
            match = fast.match(text)
            if match is None:
                continue
            try:
                day = dt.date(int(match["Y"]), int(match["m"]), int(match["d"]))
            except ValueError:
                continue
            return _checked(day, value)
        try:
            parsed = dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
        has_time = any(d in fmt for d in ("%H", "%I", "%M", "%S"))
        return parsed if has_time else _checked(parsed.date(), value)
    if formats:
        raise _invalid_date(
            value, "a date like " + " or ".join(dt.date(2025, 3, 31).strftime(f) for f in formats)
        )
    return _guess_date(text, dayfirst, value)


@lru_cache(maxsize=64)
def _numeric_format(fmt: str) -> re.Pattern[str] | None:
    """A regex for formats made only of %d, %m and %Y (the common case), ~4x faster than
    strptime; None for anything else, which strptime handles."""
    if sorted(re.findall(r"%.", fmt)) != ["%Y", "%d", "%m"]:
        return None
    pattern = (
        re.escape(fmt)
        .replace("%Y", r"(?P<Y>\d{4})")
        .replace("%m", r"(?P<m>\d{1,2})")
        .replace("%d", r"(?P<d>\d{1,2})")
    )
    return re.compile(pattern + "$")


_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan", "januar", "jänner", "jän"),
            ("february", "feb", "februar"),
            ("march", "mar", "märz", "mär", "maerz"),
            ("april", "apr"),
            ("may", "mai"),
            ("june", "jun", "juni"),
            ("july", "jul", "juli"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct", "oktober", "okt"),
            ("november", "nov"),
            ("december", "dec", "dezember", "dez"),
        ],
        start=1,
    )
    for name in names
}
_DAY_MONTH_YEAR = re.compile(
    r"^(\d{1,2})\.?\s+([^\W\d_]+)\.?,?\s+(\d{4})$"
)  # 31. März 2026, 31 Mar 2026
_MONTH_DAY_YEAR = re.compile(
    r"^([^\W\d_]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})$"
)  # March 31, 2026
_MONTH_YEAR = re.compile(r"^([^\W\d_]+)\.?\s+(\d{4})$")  # March 2026: its first day
_TRAILING_TIME = re.compile(r"^(.*\d)[ ,T]+(\d{1,2}):(\d{2})(?::(\d{2}))?$")  # 31.03.2026 14:30


def _guess_date(text: str, dayfirst: bool, original: Any) -> dt.date | dt.datetime:
    """A date (or a moment) from text in no format the mapping names: the first of
    `_DATE_READINGS` that recognises it, with the time of day written after it if any."""
    timed = _TRAILING_TIME.match(text)
    if timed:  # 31.03.2026 14:30: the date before the time is read on its own
        day = _guess_date(timed.group(1), dayfirst, original)
        return _at_time(day, timed, original)
    try:
        for read in _DATE_READINGS:
            found = read(text, dayfirst)
            if found is not None:
                return found if isinstance(found, dt.datetime) else _checked(found, original)
    except ValueError:
        # No such day (31.02.2026). A year out of range too: _checked's RowProblem is a
        # ValueError, so text with such a year reads as no date at all.
        raise _invalid_date(original) from None
    raise _invalid_date(original)


def _at_time(day: dt.date, timed: re.Match[str], original: Any) -> dt.date | dt.datetime:
    """`day` at the time of day `_TRAILING_TIME` found; at midnight, `day` as it is."""
    hours, minutes, seconds = timed.group(2, 3, 4)
    try:
        clock = dt.time(int(hours), int(minutes), int(seconds or 0))
    except ValueError:  # 25:61
        raise _invalid_date(original) from None
    if clock == dt.time():
        return day
    return dt.datetime.combine(day.date() if isinstance(day, dt.datetime) else day, clock)


def _numeric_date(text: str, dayfirst: bool) -> dt.date | None:
    """2025-03-31 or 2025/03/31; 31.03.2025 or 03/31/2025 in the order `dayfirst` says, unless
    the numbers settle it (31 is no month). A two-digit year is one of 1970 to 2069."""
    match = _NUMERIC_DATE.match(text)
    if match is None:
        return None
    a, b, c = match.groups()
    if len(a) == 4:  # year first
        return dt.date(int(a), int(b), int(c))
    first, second = int(a), int(b)
    day, month = (first, second) if dayfirst else (second, first)
    if month > 12 and day <= 12:  # 03/31/2025 is month-first whatever dayfirst says
        day, month = month, day
    return dt.date(_full_year(c), month, day)


def _full_year(digits: str) -> int:
    """26 -> 2026, 85 -> 1985; a year of any other length is taken as written."""
    year = int(digits)
    if len(digits) != 2:
        return year
    return year + (2000 if year < 70 else 1900)


def _named_month_date(text: str, dayfirst: bool) -> dt.date | None:
    """31. März 2026, 31 Mar 2026, March 31, 2026; April 2026 is its first day. (`dayfirst`
    does not matter: the month's name settles the order.)"""
    lowered = text.casefold()
    for pattern, day_group, month_group in ((_DAY_MONTH_YEAR, 1, 2), (_MONTH_DAY_YEAR, 2, 1)):
        match = pattern.match(lowered)
        if match and match.group(month_group) in _MONTHS:
            return dt.date(
                int(match.group(3)), _MONTHS[match.group(month_group)], int(match.group(day_group))
            )
    match = _MONTH_YEAR.match(lowered)
    if match and match.group(1) in _MONTHS:
        return dt.date(int(match.group(2)), _MONTHS[match.group(1)], 1)
    return None


def _iso_moment(text: str, dayfirst: bool) -> dt.date | dt.datetime | None:
    """2025-03-31T14:30:00+02:00 and the other ISO 8601 moments `_TRAILING_TIME` leaves (a zone,
    fractions of a second); a naive midnight is the day alone."""
    if "T" not in text and " " not in text:
        return None
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.time() != dt.time() or moment.tzinfo else moment.date()


# How `_guess_date` reads a date, tried in this order. Each takes the text and the day-first
# preference, and gives None when the text is not in its form or raises ValueError when it is
# but names no real day. Only a named month can hold a space as a moment does (31 Mar 2026),
# so `_iso_moment` comes after it.
_DATE_READINGS: tuple[Callable[[str, bool], dt.date | dt.datetime | None], ...] = (
    _numeric_date,
    _named_month_date,
    _iso_moment,
)


DAY_FIRST, MONTH_FIRST = "day_first", "month_first"


def date_order_evidence(value: Any) -> str | None:
    """What a cell says about its column's date order: DAY_FIRST for 31/03/2025 (a first part
    over 12), MONTH_FIRST for 03/31/2025, "ambiguous" for 03/05/2025, None when the order does
    not matter (a date cell, ISO 2025-03-05, 05/05/2025, not a numeric date)."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    timed = _TRAILING_TIME.match(text)
    match = _NUMERIC_DATE.match(timed.group(1) if timed else text)
    if match is None or len(match.group(1)) == 4:
        return None
    first, second = int(match.group(1)), int(match.group(2))
    if first == second or first == 0 or second == 0:
        return None
    if first > 12:
        return DAY_FIRST if second <= 12 else None
    if second > 12:
        return MONTH_FIRST
    return "ambiguous"


def parse_date_in_order(
    value: Any, order: str | None, settled_by: str, formats: tuple[str, ...] = ()
) -> dt.date | dt.datetime:
    """A date read in its column's order (`order`, as `settled_by` says); with no order, a date
    that could be read both ways is `ambiguous_date`, and one against the order is a problem."""
    evidence = date_order_evidence(value)
    if evidence == "ambiguous" and order is None:
        raise RowProblem(
            issues.AMBIGUOUS_DATE,
            f"'{as_text(value).strip()}' could be read day first or month first, and no date in"
            " its column settles it; set `dayfirst:` on the date transform, or"
            " `input: {date_order: day_first}` (or month_first) in the mapping.",
        )
    if evidence in (DAY_FIRST, MONTH_FIRST) and order is not None and evidence != order:
        raise RowProblem(
            issues.INVALID_DATE,
            f"'{as_text(value).strip()}' is {evidence.replace('_', ' ')}, but its column is "
            f"{order.replace('_', ' ')} ({settled_by}); check this cell.",
        )
    return parse_date(value, formats, dayfirst=order != MONTH_FIRST)


def to_utc_datetime(value: dt.date | dt.datetime) -> dt.datetime:
    """The moment Kombo should receive: a bare date is that calendar day at 00:00 UTC, never
    shifted by the local time zone; a naive time of day is taken as UTC."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)
    return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)


MAX_DATE_FORMATS = 20  # each is tried on every cell; strptime caches only 100 formats
MAX_DATE_FORMAT_CHARS = 100


def _prepare_date(options: dict[str, Any]) -> dict[str, Any]:
    """The `date` options of a mapping: `formats` (one text or a list), each checked now."""
    if "formats" not in options:
        return options
    formats = options["formats"]
    formats = [formats] if isinstance(formats, str) else formats
    return {**options, "formats": _checked_formats(formats)}


def _checked_formats(formats: Any) -> tuple[str, ...]:
    """The `formats` of `date`, each tried with strptime now: a bad directive or one given
    twice (`%d %d`) would otherwise raise on every row, or turn every date invalid."""
    if not isinstance(formats, (list, tuple)):
        raise ValueError(f"formats must be a list such as ['%d.%m.%Y'], got {describe(formats)}")
    if len(formats) > MAX_DATE_FORMATS:
        raise ValueError(
            f"{len(formats)} formats are given; at most {MAX_DATE_FORMATS} "
            "(each is tried on every cell)"
        )
    for fmt in formats:
        _check_format(fmt)
    return tuple(formats)


def _check_format(fmt: Any) -> None:
    if not isinstance(fmt, str):
        raise ValueError(f"a date format is text such as '%d.%m.%Y', got {describe(fmt)}")
    if len(fmt) > MAX_DATE_FORMAT_CHARS:
        raise ValueError(
            f"the format {clip(fmt)!r} is over {MAX_DATE_FORMAT_CHARS} characters long"
        )
    try:
        dt.datetime.strptime("", fmt)
    except re.error:  # strptime builds a regex, with a named group per directive
        raise ValueError(f"the format {fmt!r} gives a directive twice") from None
    except ValueError as exc:
        if not str(exc).startswith("time data"):  # "'%Q' is a bad directive", "stray %"
            raise ValueError(f"the format {fmt!r} is not usable: {exc}") from None


# --- numbers ---------------------------------------------------------------------------------

_NUMBER_NOISE = re.compile(
    r"[\s\u00a0\u202f'’€$£¥₹]|EUR|USD|GBP|CHF|CAD|AUD|SEK|NOK|DKK|PLN|CZK|brutto|gross|p\.?a\.?|/\s*(year|yr|month|mo|jahr|monat)",
    re.IGNORECASE,
)
_PLAIN_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_BARE_NUMBER = re.compile(r"^-?[\d.,]+$")
_NUMBER_SYMBOLS = str.maketrans("", "", " \u00a0\u202f'’€$£¥₹")  # dropped before the slower regex


def parse_number(value: Any, decimal: str | None = None) -> float:
    """65000.0 from 65000, "65.000 €" (decimal=","), "€65,000.50", "65k" or "1,5 Mio"."""
    if isinstance(value, bool):
        raise RowProblem(issues.INVALID_NUMBER, f"'{as_text(value)}' is not a number.")
    if isinstance(value, (int, float)):
        return float(value)
    text = as_text(value).strip()
    if _PLAIN_NUMBER.match(text):
        return float(text)
    original = text
    text = text.translate(_NUMBER_SYMBOLS)
    if not _BARE_NUMBER.match(text):
        text = _NUMBER_NOISE.sub("", text)
    multiplier = 1.0
    lowered = text.lower()
    for suffix, factor in (
        ()
        if text[-1:].isdigit()
        else (("mio", 1e6), ("m", 1e6), ("k", 1e3), ("tsd", 1e3), ("t", 1e3))
    ):
        if lowered.endswith(suffix) and lowered[: -len(suffix)].rstrip(".")[-1:].isdigit():
            text, multiplier = text[: -len(suffix)].rstrip("."), factor
            break
    if decimal is None:
        decimal = _guess_decimal(text)
    thousands = "." if decimal == "," else ","
    text = text.replace(thousands, "")
    if decimal == ",":
        text = text.replace(",", ".")
    try:
        number = float(text) * multiplier
    except ValueError:
        raise RowProblem(
            issues.INVALID_NUMBER,
            f"'{original}' is not a number; expected digits such as 65000, 65.000 € or 65k.",
        ) from None
    if not math.isfinite(number):
        raise RowProblem(issues.INVALID_NUMBER, f"'{original}' is not a finite number.")
    return number


def _prepare_number(options: dict[str, Any]) -> dict[str, Any]:
    """The `number` options of a mapping: `decimal`, the decimal mark, if given."""
    if options.get("decimal") not in (None, ".", ","):
        raise ValueError("decimal must be '.' or ','")
    return options


def _guess_decimal(text: str) -> str:
    """Which of . and , is the decimal mark when the mapping does not say."""
    dot, comma = text.rfind("."), text.rfind(",")
    if dot >= 0 and comma >= 0:
        return "." if dot > comma else ","
    mark = "." if dot >= 0 else "," if comma >= 0 else "."
    position = max(dot, comma)
    if position < 0:
        return "."
    # "65.000" / "65,000": one mark followed by exactly three digits is a thousands separator.
    digits_after = len(text) - position - 1
    if text.count(mark) > 1 or digits_after == 3:
        return "," if mark == "." else "."
    return mark


# --- booleans --------------------------------------------------------------------------------

_TRUE = {"true", "yes", "y", "1", "x", "ja", "j", "wahr", "oui", "si", "sí", "on", "✓", "✔"}
_FALSE = {"false", "no", "n", "0", "nein", "falsch", "non", "off", "-"}


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    text = as_text(value).strip().casefold()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise RowProblem(
        issues.UNKNOWN_VALUE,
        f"'{as_text(value)}' is not yes or no; expected yes/no, ja/nein, true/false, 1/0 or x.",
    )


# --- countries -------------------------------------------------------------------------------

_COUNTRY_ALIASES = {
    "uk": "GB",
    "u.k.": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "great britain": "GB",
    "britain": "GB",
    "grossbritannien": "GB",
    "großbritannien": "GB",
    "england (uk)": "GB",
    "usa": "US",
    "u.s.": "US",
    "u.s.a.": "US",
    "us": "US",
    "america": "US",
    "united states of america": "US",
    "vereinigte staaten von amerika": "US",
    "amerika": "US",
    "holland": "NL",
    "the netherlands": "NL",
    "russia": "RU",
    "russland": "RU",
    "south korea": "KR",
    "korea": "KR",
    "südkorea": "KR",
    "north korea": "KP",
    "czech republic": "CZ",
    "tschechien": "CZ",
    "tschechische republik": "CZ",
    "turkey": "TR",
    "türkei": "TR",
    "iran": "IR",
    "vietnam": "VN",
    "syria": "SY",
    "bolivia": "BO",
    "venezuela": "VE",
    "tanzania": "TZ",
    "moldova": "MD",
    "laos": "LA",
    "taiwan": "TW",
    "macedonia": "MK",
    "kosovo": "XK",
    "ivory coast": "CI",
    "deutschland (de)": "DE",
    "brd": "DE",
    "schweiz": "CH",
    "suisse": "CH",
    "svizzera": "CH",
    "österreich": "AT",
}


_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def _fold(text: str) -> str:
    text = " ".join(text.casefold().split())
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


@lru_cache(maxsize=1)
def _country_index() -> dict[str, str]:
    """Every English and German name, common and official, and alpha-2/alpha-3 code -> alpha-2."""
    import gettext

    import pycountry

    german = gettext.translation(
        "iso3166-1", pycountry.LOCALES_DIR, languages=["de"], fallback=True
    )
    index: dict[str, str] = {}
    for country in pycountry.countries:
        code = country.alpha_2
        names = [
            country.name,
            getattr(country, "common_name", None),
            getattr(country, "official_name", None),
        ]
        names += [german.gettext(n) for n in list(names) if n]
        for name in filter(None, names):
            index.setdefault(_fold(name), code)
            index.setdefault(name.casefold(), code)
            index.setdefault(_fold(name.casefold().translate(_UMLAUTS)), code)  # "Oesterreich"
        index[code.casefold()] = code
        index[country.alpha_3.casefold()] = code
    index.update({_fold(k): v for k, v in _COUNTRY_ALIASES.items()})
    index["xk"] = "XK"  # Kosovo: user-assigned, but used by most ATSs
    return index


def to_country_code(value: Any) -> str:
    """ "DE" from "DE", "de", "DEU", "Germany" or "Deutschland"."""
    text = as_text(value).strip()
    index = _country_index()
    if len(text) == 2 and index.get(text.casefold()) == text:
        return text
    code = index.get(text.casefold()) or index.get(_fold(text).strip(" ."))
    if code is None:
        raise RowProblem(
            issues.UNKNOWN_COUNTRY,
            f"'{text}' is not a country; expected an ISO code such as DE or a country name in"
            " English or German.",
        )
    return code


# --- phone numbers ---------------------------------------------------------------------------

_PHONE_TRUNK_IN_BRACKETS = re.compile(r"\(0\)")
_PHONE_EXTENSION = re.compile(r"\s*(?:ext\.?|x|#|durchwahl)\s*\d+$", re.IGNORECASE)
MIN_PHONE_DIGITS, MAX_PHONE_DIGITS = 5, 15


def check_phone(value: Any) -> str:
    """Accept what a person would dial ("0151 1234567", "+49 (0)30 1234-567", 4915112345678);
    refuse letters and numbers too short or too long to be a phone number."""
    text = value.strip() if type(value) is str else as_text(value).strip()
    digits = _phone_digits(text, value)
    if digits.startswith("+"):
        digits = digits[1:]
    elif digits.startswith("00"):
        digits = digits[2:]
    if not MIN_PHONE_DIGITS <= len(digits) <= MAX_PHONE_DIGITS:
        raise RowProblem(
            issues.INVALID_PHONE,
            f"'{text}' has {len(digits)} digits; a phone number has {MIN_PHONE_DIGITS} to "
            f"{MAX_PHONE_DIGITS}.",
        )
    return text


_PHONE_SEPARATORS = str.maketrans("", "", " \t\u00a0().-/")
_PHONE_NEEDS_CARE = re.compile(r"[^\d\s+().\-/]")  # letters or '#': maybe an extension


def _phone_digits(text: str, original: Any) -> str:
    # Fast path, ~3x faster: most numbers are ASCII digits (isdigit alone would take "²") with
    # spaces, dashes or slashes and perhaps a leading +, which the full way below would give the
    # same digits for. Anything else takes the full way.
    bare = text.replace(" ", "").replace("-", "").replace("/", "")
    if bare.isascii() and bare.removeprefix("+").isdigit():
        return bare
    if "(0)" in text or _PHONE_NEEDS_CARE.search(text):
        text = _PHONE_TRUNK_IN_BRACKETS.sub("", _PHONE_EXTENSION.sub("", text))
    bare = text.translate(_PHONE_SEPARATORS)
    body = bare.removeprefix("+")
    if not body.isdigit():
        raise RowProblem(
            issues.INVALID_PHONE,
            f"'{as_text(original)}' is not a phone number; expected digits, spaces and an optional"
            " leading +.",
        )
    return bare


@cache
def _dialing(region: str) -> tuple[str, str]:
    import phonenumbers

    code = phonenumbers.country_code_for_region(region)
    if not code:
        raise ValueError(
            f"unknown phone region '{region}'; expected an ISO country code such as DE"
        )
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    return str(code), (metadata.national_prefix or "") if metadata else ""


def to_international_phone(value: Any, region: str | None = None) -> str:
    """ "+491511234567" from "0151 1234567" (region DE), "+49 (0)151 123 4567" or 4915112345678."""
    text = value.strip() if type(value) is str else as_text(value).strip()
    digits = _phone_digits(text, value)
    if digits.startswith("+"):
        international = digits[1:]
    elif digits.startswith("00"):
        international = digits[2:]
    elif region:
        country_code, trunk = _dialing(region.upper())
        national = digits[len(trunk) :] if trunk and digits.startswith(trunk) else digits
        international = (
            national
            if (isinstance(value, int) and digits.startswith(country_code))
            else country_code + national
        )
    else:
        raise RowProblem(
            issues.INVALID_PHONE,
            f"'{text}' has no country code; expected +49… or give the phone transform a region.",
        )
    if not MIN_PHONE_DIGITS <= len(international) <= MAX_PHONE_DIGITS:
        raise RowProblem(
            issues.INVALID_PHONE,
            f"'{text}' has {len(international)} digits with its country code; expected "
            f"{MIN_PHONE_DIGITS} to {MAX_PHONE_DIGITS}.",
        )
    return "+" + international


def _prepare_phone(options: dict[str, Any]) -> dict[str, Any]:
    """The `phone` options of a mapping: `region`, checked now: an unknown one raises."""
    if options.get("region"):
        _dialing(str(options["region"]).upper())
    return options


# --- emails and URLs -------------------------------------------------------------------------

# Deliberately simpler than RFC 5322: what ATSs accept. A regex is ~30x faster than email-validator.
# ASCII only, as the spec's `email` format (RFC 5321) is: a domain in another script is converted
# to its ASCII form first (see _ascii_host); its top-level domain may be one too (xn--p1ai).
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})$"
)
# The common address, which _EMAIL and the checks after it accept as it is: dot-separated runs
# of letters, digits and _ + - before the @; labels of letters and digits after it. Twice as
# fast as _EMAIL, whose label rule (no - at either end, at most 63) backtracks. Possessive (++,
# *+: what a run takes it keeps, as no run can end in what follows it), so that a cell it does
# not fit fails at once instead of backtracking.
_PLAIN_EMAIL = re.compile(
    r"[A-Za-z0-9_+-]++(?:\.[A-Za-z0-9_+-]++)*+@(?:[A-Za-z0-9]{1,63}+\.)++[A-Za-z]{2,63}+"
)


def check_email(value: Any) -> str:
    """An address in the spec's `email` format: "anna@münchen.de" is sent as
    "anna@xn--mnchen-3ya.de"; letters beyond ASCII before the @ are a problem on the row."""
    text = value.strip() if type(value) is str else as_text(value).strip()
    if _PLAIN_EMAIL.fullmatch(text):  # no mailto:, ASCII, nothing for the checks below to refuse
        return text
    if text.lower().startswith("mailto:"):
        text = text[7:]
    written = text
    if not text.isascii():
        text = _ascii_email(text)
    if not _EMAIL.match(text) or ".." in text or text.startswith(".") or ".@" in text:
        raise RowProblem(
            issues.INVALID_EMAIL, f"'{written}' is not an email address; expected name@example.com."
        )
    return text


def _ascii_email(text: str) -> str:
    """`text` with its domain in IDNA form. An address with other letters before the @ (RFC
    6531) has no ASCII form, and Kombo's `email` format (RFC 5321) refuses it: say so now."""
    local, at, domain = text.rpartition("@")
    if not at:
        return text  # no @ at all: the regex says what is wrong
    if not local.isascii():
        odd = next(c for c in local if not c.isascii())
        message = (
            f"'{text}' has '{odd}' (U+{ord(odd):04X}) before the @; Kombo takes only "
            "ASCII letters, digits and . _ % + - there (the `email` format). Use the "
            "candidate's other address, or correct the cell."
        )
        raise RowProblem(issues.INVALID_EMAIL, message)
    return local + at + _ascii_host(domain, text, issues.INVALID_EMAIL)


def _ascii_host(host: str, text: str, code: str) -> str:
    """The host in the ASCII form DNS uses (IDNA 2008 with UTS 46 mapping, as browsers do):
    "münchen.de" -> "xn--mnchen-3ya.de". ASCII labels stay as they are. A label that IDNA
    refuses (an emoji, a mix of scripts that cannot be written so) is a problem on the row."""
    import idna  # httpx's own dependency; loaded only when a host is not ASCII

    labels = []
    for label in host.split("."):
        if label.isascii():
            labels.append(label)
            continue
        try:
            labels.append(idna.encode(label, uts46=True).decode("ascii"))
        except idna.IDNAError as exc:
            message = (
                f"'{text}': the domain '{host}' has no valid ASCII form (IDNA: {exc}); "
                "correct the cell."
            )
            raise RowProblem(code, message) from None
    return ".".join(labels)


_URL = re.compile(r"^https?://[^\s/?#.]+(\.[^\s/?#.]+)*(:\d+)?([/?#]\S*)?$", re.IGNORECASE)
_BARE_DOMAIN = re.compile(
    r"^(www\.)?[a-z0-9-]+(\.[a-z0-9-]+)*\.([a-z]{2,}|xn--[a-z0-9-]+)([/?#]\S*)?$", re.IGNORECASE
)
# scheme, user info, host, port, the rest: where the host ends decides what is IDNA-encoded
_URL_PARTS = re.compile(
    r"^([a-z][a-z0-9+.-]*://)?(?:([^/?#@]*)@)?([^/?#]*?)(:\d*)?([/?#].*)?$",
    re.IGNORECASE | re.DOTALL,
)
# The common URLs, which check_url's regexes and host check accept as they are (a bare domain
# with https:// before it): http(s) in lower case or none, a host of letters, digits and - with
# a dot, and a rest of printable ASCII but no space. One match instead of two regexes and splits;
# possessive, as _PLAIN_EMAIL is.
_PLAIN_URL = re.compile(r"https?://[A-Za-z0-9-]++(?:\.[A-Za-z0-9-]++)++(?:[/?#][!-~]*+)?")
_PLAIN_BARE_DOMAIN = re.compile(r"(?:[A-Za-z0-9-]++\.)++[A-Za-z]{2,}+(?:[/?#][!-~]*+)?")
_NOT_ASCII = re.compile(r"[^\x00-\x7f\s]+")  # whitespace stays, for the URL check to refuse
_SPACE = re.compile(r"\s")


def check_url(value: Any) -> str:
    """An absolute http(s) URL in the spec's `uri` format; "linkedin.com/in/anna" gains its
    missing "https://", a host in another script its IDNA form, other letters beyond ASCII
    their percent-encoding (RFC 3987's mapping of an IRI to a URI: nothing is lost)."""
    text = value.strip() if type(value) is str else as_text(value).strip()
    if _PLAIN_URL.fullmatch(text):
        return text
    if _PLAIN_BARE_DOMAIN.fullmatch(text):
        return "https://" + text
    if not text.isascii():
        text = _ascii_url(text, value)
    if _BARE_DOMAIN.match(text):
        text = "https://" + text
    if (
        not _URL.match(text)
        or not text.isascii()
        or "." not in text.split("://", 1)[1].split("/", 1)[0]
    ):
        raise RowProblem(
            issues.INVALID_URL,
            f"'{as_text(value)}' is not a web address; expected https://… (for example https://www.linkedin.com/in/name).",
        )
    return text


def _ascii_url(text: str, value: Any) -> str:
    """`text` written in ASCII: the host in IDNA form, the rest percent-encoded as UTF-8."""
    match = _URL_PARTS.match(text)
    if match is None:
        return text  # not URL-shaped: the check says so
    scheme, user, host, port, rest = (part or "" for part in match.groups())
    if "." in host and not host.isascii() and not _SPACE.search(host):  # a host, not a remark
        host = _ascii_host(host, as_text(value), issues.INVALID_URL)
    user = _percent_encoded(user) + "@" if match.group(2) is not None else ""
    return scheme + user + host + port + _percent_encoded(rest)


def _percent_encoded(text: str) -> str:
    return _NOT_ASCII.sub(lambda found: quote(found.group(), safe=""), text)


# --- structure -------------------------------------------------------------------------------


REGEX_TIMEOUT = 0.1
"""Seconds the `regex` transform may spend on one cell. A real pattern takes microseconds; one
that backtracks without end (`^(a|aa)+$` on "aaa…a!") would take hours on a 40-character cell.
The cost of hitting it: 0.1 s for each distinct cell that does (build.py remembers the outcome
of repeated cells)."""


def regex_part(value: Any, pattern: regex.Pattern[str], group: int | str = 1) -> str | None:
    """The `group` of the first match of `pattern`, e.g. the city out of "Berlin, Germany".
    `pattern` comes from the `regex` module (see _compile_pattern), whose matches can be
    stopped."""
    text = as_text(value)
    shown = pattern.pattern if len(pattern.pattern) <= 80 else pattern.pattern[:79] + "…"
    try:
        match = pattern.search(text, timeout=REGEX_TIMEOUT)
    except TimeoutError:
        raise RowProblem(
            issues.INVALID_VALUE,
            f"the pattern {shown!r} took longer than {REGEX_TIMEOUT:g} s on this cell and was "
            "stopped; simplify the pattern (a repeat inside a repeat, such as (a+)+ or (a|aa)+, "
            "can backtrack without end).",
        ) from None
    if match is None:
        message = f"'{text}' does not match the pattern {shown!r}."
        raise RowProblem(issues.INVALID_VALUE, message)
    part = match.group(group) if pattern.groups else match.group(0)
    return part.strip() if part else None


MAX_PATTERN_CHARS = 10_000
MAX_PATTERN_WEIGHT = 100_000  # see _pattern_weight: what compiling a `regex` pattern writes out


def _prepare_regex(options: dict[str, Any]) -> dict[str, Any]:
    """The `regex` options of a mapping: `pattern`, compiled now, and `group`, checked
    against it."""
    pattern = _compile_pattern(options.get("pattern", ""))
    if "group" not in options:
        return {**options, "pattern": pattern}
    return {**options, "pattern": pattern, "group": _checked_group(pattern, options["group"])}


def _compile_pattern(pattern: Any) -> regex.Pattern[str]:
    """The `regex` transform's pattern, compiled by the `regex` module (a superset of `re`)
    because its matches take a timeout (see REGEX_TIMEOUT)."""
    if not isinstance(pattern, str):
        raise ValueError(f"pattern must be text, got {describe(pattern)}; put it in quotes")
    if len(pattern) > MAX_PATTERN_CHARS:
        raise ValueError(
            f"the pattern is {len(pattern):,} characters long; at most "
            f"{MAX_PATTERN_CHARS:,} are allowed"
        )
    if _pattern_weight(pattern) > MAX_PATTERN_WEIGHT:
        raise ValueError(
            f"the pattern is too large to compile: its length times its counted repeats "
            f"({{n}}, {{n,m}}) comes to over {MAX_PATTERN_WEIGHT:,}, and the regex engine writes "
            "each repeat out in memory. Use + or * instead of large counts"
        )
    try:
        return regex.compile(pattern)
    except regex.error as exc:
        raise ValueError(str(exc)) from None
    except RecursionError:  # the parser recurses per group: ((((…)))) 400 deep
        raise ValueError("the pattern nests too deeply") from None


# `{` followed by a minimum count, spelled as the `regex` module reads it in verbose mode too
# (spaces and #-comments between the digits: `{1 000}`). Possessive: no backtracking.
_COUNT = re.compile(r"\{((?:[\s\d]|#[^\n]*+)*+)[,}]")
_NOT_DIGITS = re.compile(r"#[^\n]*|\D")


def _pattern_weight(pattern: str) -> int:
    """An upper bound on what compiling `pattern` writes out: its length times the minimum counts
    of all its `{n}` and `{n,m}`. The `regex` module expands `x{n}` n times when it compiles
    (the minimum only: `{0,n}` costs nothing), so `((a{999}){999}){999}` would take gigabytes
    before a cell is read. Nesting is ignored on purpose: every brace counts as if it enclosed
    the whole pattern, so no nesting, flag or verbose spelling can make the bound too low."""
    weight = max(len(pattern), 1)
    start = pattern.find("{")
    while start >= 0 and weight <= MAX_PATTERN_WEIGHT:
        match = _COUNT.match(pattern, start)
        digits = _NOT_DIGITS.sub("", match.group(1)) if match else ""
        if digits:
            weight *= max(int(digits) if len(digits) <= 9 else 10**9, 1)
        start = pattern.find("{", start + 1)
    return weight


def _checked_group(pattern: regex.Pattern[str], group: Any) -> int | str:
    """The `group` option of `regex`, checked against the pattern now: `match.group()` with a
    group the pattern lacks raises IndexError on every row. (Without groups the whole match is
    taken and `group` is not used.)"""
    if isinstance(group, str) and group.isdecimal():
        group = int(group)
    if isinstance(group, bool) or not isinstance(group, (int, str)):
        raise ValueError(f"group must be a group's number or name, got {describe(group)}")
    if not pattern.groups:
        return group
    if isinstance(group, int) and not 0 <= group <= pattern.groups:
        raise ValueError(f"group {group} is not in the pattern, which has {pattern.groups}")
    if isinstance(group, str) and group not in pattern.groupindex:
        names = ", ".join(pattern.groupindex) or "none"
        raise ValueError(f"the pattern has no group named '{group}' (named groups: {names})")
    return group


def json_list(value: Any) -> list[Any]:
    """["a", "b"] from a cell holding the JSON text '["a","b"]'."""
    if isinstance(value, list):
        return value
    text = as_text(value).strip()
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError:
        raise RowProblem(
            issues.INVALID_VALUE,
            f'\'{text}\' is not a JSON list; expected something like ["a", "b"].',
        ) from None
    if not isinstance(parsed, list):
        raise RowProblem(
            issues.INVALID_VALUE, f'\'{text}\' is JSON but not a list; expected ["a", "b"].'
        )
    return [p for p in parsed if p not in (None, "")]


# --- the transforms a mapping may name ------------------------------------------------------


def _as_given(options: dict[str, Any]) -> dict[str, Any]:
    return options


@dataclass(frozen=True)
class Transform:
    """A transform a mapping may name. `function` runs on every cell, with the mapping's options
    as keyword arguments; `options` are the names it takes. `prepare` checks the options a
    mapping gives, once at load time, and returns them as `function` takes them (a compiled
    pattern, a tuple of formats); it raises ValueError saying what is wrong, which mapping.py
    reports as a config error at the transform's line."""

    function: Callable[..., Any]
    options: tuple[str, ...] = ()
    prepare: Callable[[dict[str, Any]], dict[str, Any]] = _as_given

    def configured(self, options: dict[str, Any]) -> Callable[..., Any]:
        """`function` with `options` prepared and bound: what runs on each cell."""
        prepared = self.prepare(options)
        return partial(self.function, **prepared) if prepared else self.function


# name -> Transform. `mapping.py` checks a mapping's option names against `options` and binds the
# prepared options once, at load time.
TRANSFORMS: dict[str, Transform] = {
    "strip": Transform(strip),
    "lower": Transform(lower),
    "upper": Transform(upper),
    "title": Transform(title),
    "collapse_spaces": Transform(collapse_spaces),
    "first_name": Transform(first_name),
    "last_name": Transform(last_name),
    "date": Transform(parse_date, ("formats", "dayfirst"), _prepare_date),
    "number": Transform(parse_number, ("decimal",), _prepare_number),
    "bool": Transform(parse_bool),
    "country": Transform(to_country_code),
    "phone": Transform(to_international_phone, ("region",), _prepare_phone),
    "email": Transform(check_email),
    "url": Transform(check_url),
    "regex": Transform(regex_part, ("pattern", "group"), _prepare_regex),
    "json_list": Transform(json_list),
}
