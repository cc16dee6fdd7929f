"""Every transform: what it accepts, what it makes of it, and the code it gives when it can't."""

from __future__ import annotations

import datetime as dt

import pytest
import regex
from bounded import bounded

from importer import transforms as t
from importer.issues import RowProblem


def fails(function, value, code, **options):
    with pytest.raises(RowProblem) as error:
        function(value, **options)
    assert error.value.code == code
    return error.value.message


def test_text_transforms():
    assert t.strip("  Anna ") == "Anna"  # noqa: B005 - transforms.strip, not str.strip
    assert t.lower("ANNA@Example.COM") == "anna@example.com"
    assert t.upper("de") == "DE"
    assert t.title("anna-lena wolf") == "Anna-Lena Wolf"
    assert t.collapse_spaces("  Anna \n  Maria\tWolf ") == "Anna Maria Wolf"
    assert t.lower(4915112345678.0) == "4915112345678"


@pytest.mark.parametrize(
    ("full", "first", "last"),
    [
        ("Anna Wolf", "Anna", "Wolf"),
        ("Anna Maria Wolf", "Anna Maria", "Wolf"),
        ("Ludwig van Beethoven", "Ludwig", "van Beethoven"),
        ("Anna van der Berg", "Anna", "van der Berg"),
        ("Wolf, Anna Maria", "Anna Maria", "Wolf"),
        ("Madonna", "Madonna", ""),
    ],
)
def test_names_from_a_full_name(full, first, last):
    assert (t.first_name(full), t.last_name(full)) == (first, last)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-03-31", dt.date(2026, 3, 31)),
        ("31.03.2026", dt.date(2026, 3, 31)),
        ("31/03/2026", dt.date(2026, 3, 31)),
        ("03/31/2026", dt.date(2026, 3, 31)),  # month-first is the only reading
        ("2026/03/31", dt.date(2026, 3, 31)),
        ("1.4.26", dt.date(2026, 4, 1)),
        (dt.date(2026, 3, 31), dt.date(2026, 3, 31)),
        (dt.datetime(2026, 3, 31), dt.date(2026, 3, 31)),
        (46112, dt.date(2026, 3, 31)),  # an Excel serial
        ("2026-03-31T14:30:00", dt.datetime(2026, 3, 31, 14, 30)),
    ],
)
def test_dates(value, expected):
    assert t.parse_date(value) == expected


def test_dates_with_formats_and_month_first():
    assert t.parse_date("03/04/2026", dayfirst=False) == dt.date(2026, 3, 4)
    assert t.parse_date("03/04/2026") == dt.date(2026, 4, 3)
    assert t.parse_date("31 Mar 2026", formats=("%d %b %Y",)) == dt.date(2026, 3, 31)
    message = fails(t.parse_date, "2026-03-31", "invalid_date", formats=("%d.%m.%Y",))
    assert "expected a date like 31.03.2025" in message


@pytest.mark.parametrize(
    "value", ["31.02.2026", "tomorrow", "2026-13-45", "01.01.1066", "", "12/31"]
)
def test_not_dates(value):
    fails(t.parse_date, value, "invalid_date")


def test_a_bare_date_is_midnight_utc_and_never_shifted():
    assert t.to_utc_datetime(dt.date(2026, 3, 31)) == dt.datetime(2026, 3, 31, tzinfo=dt.UTC)
    cest = dt.timezone(dt.timedelta(hours=2))
    assert t.to_utc_datetime(dt.datetime(2026, 3, 31, 2, 0, tzinfo=cest)) == dt.datetime(
        2026, 3, 31, 0, 0, tzinfo=dt.UTC
    )


@pytest.mark.parametrize(
    ("value", "decimal", "expected"),
    [
        ("65000", None, 65000.0),
        (65000, None, 65000.0),
        ("65.000 €", ",", 65000.0),
        ("65.000,50 EUR", ",", 65000.5),
        ("€65,000.50", None, 65000.5),
        ("65,000", None, 65000.0),
        ("1,5", None, 1.5),
        ("65k", None, 65000.0),
        ("1,2 Mio", ",", 1200000.0),
        ("CHF 95'000", None, 95000.0),
        ("-3.5", None, -3.5),
    ],
)
def test_numbers(value, decimal, expected):
    assert t.parse_number(value, decimal=decimal) == expected


@pytest.mark.parametrize("value", ["negotiable", "60-70k", "1.2.3,4,5", True])
def test_not_numbers(value):
    fails(t.parse_number, value, "invalid_number")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("yes", True),
        ("Ja", True),
        ("x", True),
        ("1", True),
        (1, True),
        ("TRUE", True),
        ("nein", False),
        ("No", False),
        ("0", False),
        (False, False),
    ],
)
def test_booleans(value, expected):
    assert t.parse_bool(value) is expected


def test_not_a_boolean():
    assert "expected yes/no" in fails(t.parse_bool, "maybe", "unknown_value")


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("DE", "DE"),
        ("de", "DE"),
        ("DEU", "DE"),
        ("Germany", "DE"),
        ("Deutschland", "DE"),
        ("deutschland", "DE"),
        ("Österreich", "AT"),
        ("Oesterreich", "AT"),
        ("Atlantis", None),
        ("Schweiz", "CH"),
        ("United Kingdom", "GB"),
        ("UK", "GB"),
        ("USA", "US"),
        ("Vereinigte Staaten", "US"),
        ("Frankreich", "FR"),
        ("Czech Republic", "CZ"),
        ("Niederlande", "NL"),
        ("NO", "NO"),
        ("Norwegen", "NO"),
        ("Spanien", "ES"),
    ],
)
def test_countries(value, code):
    if code is None:
        fails(t.to_country_code, value, "unknown_country")
    else:
        assert t.to_country_code(value) == code


def test_not_a_country():
    assert "expected an ISO code such as DE" in fails(
        t.to_country_code, "Bavaria", "unknown_country"
    )


@pytest.mark.parametrize(
    ("value", "region", "expected"),
    [
        ("0151 1234567", "DE", "+491511234567"),
        ("+49 (0)30 1234-567", None, "+49301234567"),
        ("0049 30 1234567", None, "+49301234567"),
        (4915112345678, "DE", "+4915112345678"),
        ("(415) 555-0123", "US", "+14155550123"),
        ("020 7946 0018", "GB", "+442079460018"),
        ("+49 151 1234567 ext. 12", None, "+491511234567"),
    ],
)
def test_phone_numbers_become_international(value, region, expected):
    assert t.to_international_phone(value, region=region) == expected


def test_phone_checks_are_lenient_but_not_blind():
    assert t.check_phone("0151 1234567") == "0151 1234567"
    assert t.check_phone(4915112345678) == "4915112345678"
    fails(t.check_phone, "n/a", "invalid_phone")
    fails(t.check_phone, "123", "invalid_phone")
    fails(t.to_international_phone, "0151 1234567", "invalid_phone")  # no region, no country code


@pytest.mark.parametrize(
    "value", ["anna@example.com", "anna.wolf+jobs@mail.example.co.uk", " anna@example.com "]
)
def test_emails(value):
    assert t.check_email(value) == value.strip()


def test_a_domain_with_umlauts_is_sent_as_punycode_and_an_umlaut_before_the_at_is_refused():
    assert t.check_email("juergen@müller.de") == "juergen@xn--mller-kva.de"
    fails(t.check_email, "jürgen@müller.de", "invalid_email")


@pytest.mark.parametrize(
    "value",
    [
        "anna@example",
        "anna.example.com",
        "anna@@example.com",
        "anna@exa mple.com",
        "anna..wolf@example.com",
        "@example.com",
    ],
)
def test_not_emails(value):
    fails(t.check_email, value, "invalid_email")


def test_urls():
    assert t.check_url("https://www.linkedin.com/in/anna") == "https://www.linkedin.com/in/anna"
    assert t.check_url("linkedin.com/in/anna") == "https://linkedin.com/in/anna"
    assert t.check_url("www.xing.com/profile/Anna_Wolf") == "https://www.xing.com/profile/Anna_Wolf"
    for bad in [
        "linkedin profile on request",
        "https://",
        "ftp://example.com/x",
        "javascript:alert(1)",
    ]:
        fails(t.check_url, bad, "invalid_url")


def test_regex_takes_a_part():
    city = regex.compile(r"^([^,]+),")  # mapping.py compiles with `regex`, whose matches time out
    assert t.regex_part("Berlin, Germany", city) == "Berlin"
    assert t.regex_part("zip 10115", regex.compile(r"(?P<zip>\d{5})"), group="zip") == "10115"
    phone = regex.compile(r"(?i)tel\.\s*([\d ]+)")
    assert t.regex_part("Tel. 030 1234", phone, group=1) == "030 1234"
    message = fails(t.regex_part, "Berlin", "invalid_value", pattern=city)
    assert message == "'Berlin' does not match the pattern '^([^,]+),'."


def test_a_pattern_that_backtracks_without_end_is_stopped_on_its_cell():
    started = dt.datetime.now()
    branches = regex.compile(r"^(a|aa)+$")  # regex backtracks on it as re does on ^(a+)+$

    def problem() -> str | None:
        try:
            t.regex_part("a" * 40 + "!", branches)
        except RowProblem as error:
            return f"{error.code}: {error.message}"
        return None

    message = bounded(problem).value
    assert message == (
        "invalid_value: the pattern '^(a|aa)+$' took longer than 0.1 s on this cell and was "
        "stopped; simplify the pattern (a repeat inside a repeat, such as (a+)+ or (a|aa)+, "
        "can backtrack without end)."
    )
    assert dt.datetime.now() - started < dt.timedelta(seconds=1)


def test_json_lists():
    assert t.json_list('["Python", "SQL"]') == ["Python", "SQL"]
    assert t.json_list("[]") == []
    fails(t.json_list, "Python, SQL", "invalid_value")
    fails(t.json_list, '{"a": 1}', "invalid_value")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("31. März 2026", dt.date(2026, 3, 31)),
        ("31 Mar 2026", dt.date(2026, 3, 31)),
        ("March 31, 2026", dt.date(2026, 3, 31)),
        ("Mar 3rd, 2026", dt.date(2026, 3, 3)),
        ("1. Mai 2026", dt.date(2026, 5, 1)),
        ("April 2026", dt.date(2026, 4, 1)),
        ("31.03.2026 14:30", dt.datetime(2026, 3, 31, 14, 30)),
        ("31.03.2026 00:00", dt.date(2026, 3, 31)),
    ],
)
def test_dates_with_month_names_and_times(value, expected):
    assert t.parse_date(value) == expected


def test_a_made_up_month_is_not_a_date():
    fails(t.parse_date, "31 Foo 2026", "invalid_date")
    fails(t.parse_date, "31.03.2026 25:61", "invalid_date")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("31.12.85", dt.date(1985, 12, 31)),  # a two-digit year from 70 is in the 1900s
        ("31.12.69", dt.date(2069, 12, 31)),
        ("2026-03-31T14:30:00Z", dt.datetime(2026, 3, 31, 14, 30, tzinfo=dt.UTC)),
        (
            "2026-03-31T14:30:00+02:00",
            dt.datetime(2026, 3, 31, 14, 30, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        ),
        ("2026-03-31T00:00:00Z", dt.datetime(2026, 3, 31, tzinfo=dt.UTC)),  # a zone: a moment
        ("2026-03-31 00:00:00.000", dt.date(2026, 3, 31)),  # a naive midnight: the day
        ("2026-03-31 14:30:00.500", dt.datetime(2026, 3, 31, 14, 30, 0, 500_000)),
    ],
)
def test_dates_guessed_from_two_digit_years_and_iso_moments(value, expected):
    found = t.parse_date(value)
    assert (found, type(found)) == (expected, type(expected))


def test_a_guessed_date_out_of_range_is_not_a_date():
    # A date cell names its year; text whose year is out of range reads as no date at all.
    assert "is a date in the year 1066" in fails(t.parse_date, dt.date(1066, 1, 1), "invalid_date")
    assert fails(t.parse_date, "01.01.1066", "invalid_date") == (
        "'01.01.1066' is not a date; expected a date such as 2025-03-31 or 31.03.2025."
    )


# --- the registry: each transform checks and prepares the options a mapping gives it -----------


def test_transforms_without_options_run_as_they_are():
    assert t.TRANSFORMS["lower"].options == ()
    assert t.TRANSFORMS["lower"].configured({}) is t.lower
    assert t.TRANSFORMS["date"].configured({}) is t.parse_date


def test_prepared_options_are_bound_to_the_function():
    date = t.TRANSFORMS["date"].configured({"formats": "%d.%m.%Y", "dayfirst": False})
    assert date.keywords == {"formats": ("%d.%m.%Y",), "dayfirst": False}
    assert date("31.03.2026") == dt.date(2026, 3, 31)
    part = t.TRANSFORMS["regex"].configured({"pattern": r"(\d+)", "group": "1"})
    assert part.keywords["group"] == 1
    assert isinstance(part.keywords["pattern"], regex.Pattern)
    assert part("zip 10115") == "10115"
    without_groups = t.TRANSFORMS["regex"].prepare({"pattern": "x", "group": 7})
    assert without_groups["group"] == 7  # not used: the whole match is taken


@pytest.mark.parametrize(
    ("name", "options", "problem"),
    [
        ("date", {"formats": 5}, "formats must be a list such as ['%d.%m.%Y'], got int 5"),
        ("date", {"formats": ["%d"] * 21}, "21 formats are given; at most 20"),
        ("date", {"formats": ["%d" * 60]}, "is over 100 characters long"),
        ("date", {"formats": ["%d %d"]}, "the format '%d %d' gives a directive twice"),
        ("number", {"decimal": "x"}, "decimal must be '.' or ','"),
        ("phone", {"region": "xx"}, "unknown phone region 'XX'; expected an ISO country code"),
        ("regex", {"pattern": 5}, "pattern must be text, got int 5; put it in quotes"),
        ("regex", {"pattern": "a" * 10_001}, "the pattern is 10,001 characters long; at most"),
        ("regex", {"pattern": "x{1 000}{1000}"}, "the pattern is too large to compile"),
        ("regex", {"pattern": "(" * 600 + ")" * 600}, "the pattern nests too deeply"),
        ("regex", {"pattern": "(["}, "unterminated character set"),
        ("regex", {"pattern": "(a)", "group": True}, "group must be a group's number or name"),
        ("regex", {"pattern": "(a)", "group": 2}, "group 2 is not in the pattern, which has 1"),
    ],
)
def test_options_that_cannot_work_are_a_value_error(name, options, problem):
    with pytest.raises(ValueError) as error:
        t.TRANSFORMS[name].prepare(options)
    assert problem in str(error.value)
