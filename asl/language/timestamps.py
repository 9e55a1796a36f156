"""Timestamps as AWS Step Functions reads and writes them.

Reading: Choice ``Timestamp*`` rules and Wait ``Timestamp``/``TimestampPath`` accept the
RFC 3339 profile of ISO 8601 that the AWS docs spell out: an uppercase ``T`` between date
and time, seconds required, an optional fraction of 1 to 9 digits, and then either an
uppercase ``Z`` or a numeric offset ``+hh:mm``/``-hh:mm``, e.g. ``2016-03-14T01:59:00Z``
or ``2016-03-14T02:59:00.123456789+01:00``. Anything else is not a timestamp.

AWS (Java) compares instants to the nanosecond, while Python's datetime stops at the
microsecond, so :func:`timestamp_key` gives an exact ``(epoch_seconds, nanoseconds)``
key for comparisons and :func:`parse_timestamp` a datetime for arithmetic.

Writing: :func:`format_timestamp` renders the Context object's ``StartTime`` and
``EnteredTime`` as AWS does: UTC, ``Z``, millisecond clock, rendered the way Java's
``Instant.toString`` does (``2019-03-26T20:14:13.192Z``; no fraction when it is zero).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from functools import lru_cache

# [0-9], not \d: \d also matches non-ASCII digits such as Arabic-Indic ones.
_TIMESTAMP_RE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"T([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]{1,9}))?"
    r"(?:Z|([+-])([0-9]{2}):([0-9]{2}))"
)

_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
#: Java's ZoneOffset range, which bounds every offset AWS can parse.
_MAX_OFFSET_SECONDS = 18 * 3600


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 in the proleptic Gregorian calendar (year 0 included)."""
    year -= month <= 2
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146097 + day_of_era - 719468


@lru_cache(maxsize=1024)
def _fields(text: str):
    """Validated fields of a timestamp string, or None: (y, mo, d, h, mi, s, nanos, offset_s)."""
    m = _TIMESTAMP_RE.fullmatch(text)
    if m is None:
        return None
    year, month, day, hour, minute, second = (int(g) for g in m.group(1, 2, 3, 4, 5, 6))
    if not 1 <= month <= 12 or hour > 23 or minute > 59 or second > 59:
        return None
    days_in_month = 29 if month == 2 and _is_leap(year) else _DAYS_IN_MONTH[month - 1]
    if not 1 <= day <= days_in_month:
        return None
    fraction = m.group(7)
    nanos = int(fraction.ljust(9, "0")) if fraction else 0
    offset = 0
    if m.group(8):
        off_hours, off_minutes = int(m.group(9)), int(m.group(10))
        if off_minutes > 59:
            return None
        offset = off_hours * 3600 + off_minutes * 60
        if offset > _MAX_OFFSET_SECONDS:
            return None
        if m.group(8) == "-":
            offset = -offset
    return year, month, day, hour, minute, second, nanos, offset


def timestamp_key(text) -> tuple[int, int] | None:
    """The instant ``text`` denotes as ``(epoch_seconds, nanoseconds)``, or None.

    Keys of two timestamps compare exactly as AWS compares the instants (offsets
    honoured, nanoseconds kept): ``T01:00:00+01:00`` and ``T00:00:00Z`` have equal keys.
    None for anything that is not a timestamp string in AWS's profile, non-strings included.
    """
    if type(text) is not str:
        return None
    fields = _fields(text)
    if fields is None:
        return None
    year, month, day, hour, minute, second, nanos, offset = fields
    seconds = _days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second
    return seconds - offset, nanos


def is_timestamp(value) -> bool:
    """Choice ``IsTimestamp``: a string in AWS's timestamp profile."""
    return timestamp_key(value) is not None


def parse_timestamp(text) -> datetime | None:
    """A timezone-aware datetime for a timestamp string in AWS's profile, else None.

    Fractions beyond microseconds are truncated (use :func:`timestamp_key` to compare
    exactly). Year 0000, valid for AWS but not representable by datetime, gives None.
    """
    if type(text) is not str:
        return None
    fields = _fields(text)
    if fields is None or fields[0] < 1:
        return None
    year, month, day, hour, minute, second, nanos, offset = fields
    tz = timezone.utc if offset == 0 else timezone(timedelta(seconds=offset))
    return datetime(year, month, day, hour, minute, second, nanos // 1000, tzinfo=tz)


def format_timestamp(dt: datetime) -> str:
    """Render an instant as AWS does in the Context object: ``2024-01-02T03:04:05.123Z``.

    The instant is converted to UTC (a naive datetime is taken to be UTC already) and
    truncated to the millisecond, AWS's clock resolution. Like Java's
    ``Instant.toString``, a whole second carries no fraction (``2024-01-02T03:04:05Z``).
    """
    if dt.tzinfo is not None:
        dt = dt.astimezone(timezone.utc)
    # Formatted field by field: a third cheaper than strftime, which also does not pad
    # years below 1000 on every platform. Called for every state's Context object.
    text = (f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T"
            f"{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}")
    millis = dt.microsecond // 1000
    if millis:
        return f"{text}.{millis:03d}Z"
    return text + "Z"
