"""AWS's timestamp profile: what parses, how instants compare, how the Context renders them."""

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, strategies as st

from asl.language.timestamps import format_timestamp, is_timestamp, parse_timestamp, timestamp_key

UTC = timezone.utc

# text -> the aware datetime it denotes
VALID = [
    ("2016-03-14T01:59:00Z", datetime(2016, 3, 14, 1, 59, tzinfo=UTC)),
    ("2001-01-01T12:00:00Z", datetime(2001, 1, 1, 12, tzinfo=UTC)),
    ("2016-03-14T01:59:00+01:00", datetime(2016, 3, 14, 0, 59, tzinfo=UTC)),
    ("2016-03-14T01:59:00-05:30", datetime(2016, 3, 14, 7, 29, tzinfo=UTC)),
    ("2016-03-14T01:59:00-00:00", datetime(2016, 3, 14, 1, 59, tzinfo=UTC)),
    ("2016-03-14T01:59:00+18:00", datetime(2016, 3, 13, 7, 59, tzinfo=UTC)),
    ("2016-03-14T01:59:00.5Z", datetime(2016, 3, 14, 1, 59, 0, 500000, tzinfo=UTC)),
    # Fractions of 2, 3, 6 and 7 digits were all accepted by AWS (LocalStack's recordings).
    ("2016-03-14T01:59:00.00Z", datetime(2016, 3, 14, 1, 59, tzinfo=UTC)),
    ("2016-03-14T01:59:00.123Z", datetime(2016, 3, 14, 1, 59, 0, 123000, tzinfo=UTC)),
    ("2016-03-14T01:59:00.123456Z", datetime(2016, 3, 14, 1, 59, 0, 123456, tzinfo=UTC)),
    ("2016-03-14T01:59:00.0000000Z", datetime(2016, 3, 14, 1, 59, tzinfo=UTC)),
    ("2016-03-14T01:59:00.123456789Z", datetime(2016, 3, 14, 1, 59, 0, 123456, tzinfo=UTC)),
    ("2000-02-29T00:00:00Z", datetime(2000, 2, 29, tzinfo=UTC)),
    ("2024-02-29T23:59:59Z", datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC)),
    ("9999-12-31T23:59:59Z", datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)),
    ("0001-01-01T00:00:00Z", datetime(1, 1, 1, tzinfo=UTC)),
]

INVALID = [
    "2012-10-09T19:00:55",            # no offset: recorded AWS IsString-only value
    "2023-02-24 12:15:56.832957",     # space separator: recorded AWS false
    "2023-02-24",                     # date only: recorded AWS false
    "2012-10-09t19:00:55Z",           # lowercase t
    "2012-10-09T19:00:55z",           # lowercase z
    "2012-10-09T19:00Z",              # no seconds
    "2012-10-09T19:00:55.Z",          # empty fraction
    "2012-10-09T19:00:55.1234567890Z",  # 10 fraction digits
    "2012-10-09T19:00:55,5Z",         # comma fraction
    "2012-10-09T19:00:55+0100",       # offset without colon
    "2012-10-09T19:00:55+01",         # offset without minutes
    "2012-10-09T19:00:55+18:01",      # beyond Java's ZoneOffset range
    "2012-10-09T19:00:55+19:00",
    "2012-10-09T19:00:55+01:60",
    "2012-10-09T19:00:55ZZ",
    "2012-10-09T19:00:55Z ",
    " 2012-10-09T19:00:55Z",
    "2012-10-09T19:00:55Z\n",
    "2012-13-09T19:00:55Z",
    "2012-00-09T19:00:55Z",
    "2012-10-00T19:00:55Z",
    "2012-04-31T19:00:55Z",
    "2023-02-29T19:00:55Z",           # not a leap year
    "1900-02-29T19:00:55Z",           # century, not a leap year
    "2012-10-09T24:00:00Z",
    "2012-10-09T19:60:55Z",
    "2012-10-09T19:00:60Z",           # leap seconds: Java's parser rejects them
    "12012-10-09T19:00:55Z",
    "+2012-10-09T19:00:55Z",
    "2012-1-09T19:00:55Z",
    "٢٠١٢-10-09T19:00:55Z",           # Arabic-Indic digits are not [0-9]
    "",
    "date",
]

NOT_STRINGS = [None, 0, 1.5, True, False, [], ["2016-03-14T01:59:00Z"], {}, {"A": 0}]


@pytest.mark.parametrize("text, expected", VALID, ids=[t for t, _ in VALID])
def test_valid_timestamps_parse_to_the_instant_they_denote(text, expected):
    parsed = parse_timestamp(text)
    assert parsed == expected
    assert parsed.tzinfo is not None
    assert is_timestamp(text)


@pytest.mark.parametrize("text", INVALID)
def test_invalid_timestamps_are_rejected(text):
    assert parse_timestamp(text) is None
    assert timestamp_key(text) is None
    assert not is_timestamp(text)


@pytest.mark.parametrize("value", NOT_STRINGS, ids=repr)
def test_non_strings_are_never_timestamps(value):
    assert parse_timestamp(value) is None
    assert timestamp_key(value) is None


def test_parse_keeps_the_written_offset():
    parsed = parse_timestamp("2016-03-14T01:59:00-05:30")
    assert parsed.utcoffset() == timedelta(hours=-5, minutes=-30)
    assert (parsed.hour, parsed.minute) == (1, 59)


# (a, b, expected ordering of the instants: -1, 0 or 1)
ORDERINGS = [
    ("2016-03-14T01:00:00+01:00", "2016-03-14T00:00:00Z", 0),
    ("2016-03-14T00:00:00-00:00", "2016-03-14T00:00:00Z", 0),
    ("2016-03-14T00:00:00.5Z", "2016-03-14T00:00:00.500000000Z", 0),
    ("2016-03-14T00:00:00Z", "2016-03-14T00:00:00.000000001Z", -1),    # nanoseconds count
    ("2016-03-14T00:00:00.000001Z", "2016-03-14T00:00:00.0000009Z", 1),
    ("2016-03-14T23:30:00-01:00", "2016-03-15T00:00:00Z", 1),         # offset crosses midnight
    ("2012-10-09T19:00:55Z", "2012-10-09T19:00:56Z", -1),
    ("0000-01-01T00:00:00Z", "0001-01-01T00:00:00Z", -1),             # year 0 is valid for AWS
    ("1969-12-31T23:59:59.999999999Z", "1970-01-01T00:00:00Z", -1),
]


@pytest.mark.parametrize("a, b, expected", ORDERINGS)
def test_timestamp_keys_compare_instants_exactly(a, b, expected):
    ka, kb = timestamp_key(a), timestamp_key(b)
    assert ((ka > kb) - (ka < kb)) == expected


def test_year_zero_has_a_key_but_no_datetime():
    assert timestamp_key("0000-01-01T00:00:00Z") is not None
    assert parse_timestamp("0000-01-01T00:00:00Z") is None


FORMATS = [
    (datetime(2024, 1, 2, 3, 4, 5, 123000, tzinfo=UTC), "2024-01-02T03:04:05.123Z"),
    (datetime(2024, 1, 2, 3, 4, 5, 123999, tzinfo=UTC), "2024-01-02T03:04:05.123Z"),  # truncated
    (datetime(2024, 1, 2, 3, 4, 5, 1000, tzinfo=UTC), "2024-01-02T03:04:05.001Z"),
    (datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC), "2024-01-02T03:04:05Z"),               # Instant.toString
    (datetime(2024, 1, 2, 3, 4, 5, 999, tzinfo=UTC), "2024-01-02T03:04:05Z"),
    (datetime(2024, 1, 2, 3, 4, 5, 120000), "2024-01-02T03:04:05.120Z"),               # naive = UTC
    (datetime(2024, 1, 2, 0, 30, tzinfo=timezone(timedelta(hours=1))), "2024-01-01T23:30:00Z"),
    (datetime(2019, 3, 26, 20, 14, 13, 192000, tzinfo=UTC), "2019-03-26T20:14:13.192Z"),  # AWS docs
    (datetime(5, 6, 7, 8, 9, 10, tzinfo=UTC), "0005-06-07T08:09:10Z"),
]


@pytest.mark.parametrize("dt, expected", FORMATS, ids=[e for _, e in FORMATS])
def test_format_timestamp_renders_like_the_context_object(dt, expected):
    assert format_timestamp(dt) == expected


aware_datetimes = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=45)), timezone(timedelta(hours=-8))]),
)


@given(aware_datetimes)
def test_formatted_timestamps_parse_back_to_the_millisecond(dt):
    text = format_timestamp(dt)
    expected = dt.astimezone(UTC).replace(microsecond=dt.microsecond // 1000 * 1000)
    assert parse_timestamp(text) == expected


@given(aware_datetimes, aware_datetimes)
def test_key_order_is_instant_order(a, b):
    ka, kb = timestamp_key(a.isoformat(timespec="microseconds")), timestamp_key(b.isoformat(timespec="microseconds"))
    assert (ka < kb) == (a < b) and (ka == kb) == (a == b)


@given(st.text(max_size=40))
def test_arbitrary_text_never_raises_and_parsers_agree(text):
    if timestamp_key(text) is None:
        assert parse_timestamp(text) is None and not is_timestamp(text)
