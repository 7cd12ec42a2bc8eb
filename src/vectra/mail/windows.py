"""Recipient-local sending windows: business hours in the lead's time zone, holidays skipped.

A cold email that lands at 3 a.m. or on a national holiday reads as automated, so each send
waits for the recipient's window (Mon-Fri 09:00-17:00 local by default). Local times are
computed with zoneinfo, so DST transitions move the window with the wall clock. Follow-up
delays count business days (weekends and the recipient country's holidays skipped).
All datetimes entering and leaving this module are naive UTC, like the database columns.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

# A country's main business time zone (the capital's) when the lead gives no IANA zone.
COUNTRY_TIMEZONES: dict[str, str] = {
    "US": "America/New_York", "CA": "America/Toronto", "MX": "America/Mexico_City",
    "BR": "America/Sao_Paulo", "AR": "America/Argentina/Buenos_Aires", "CL": "America/Santiago",
    "CO": "America/Bogota", "PE": "America/Lima", "GB": "Europe/London", "IE": "Europe/Dublin",
    "FR": "Europe/Paris", "DE": "Europe/Berlin", "ES": "Europe/Madrid", "PT": "Europe/Lisbon",
    "IT": "Europe/Rome", "NL": "Europe/Amsterdam", "BE": "Europe/Brussels",
    "CH": "Europe/Zurich", "AT": "Europe/Vienna", "SE": "Europe/Stockholm",
    "NO": "Europe/Oslo", "DK": "Europe/Copenhagen", "FI": "Europe/Helsinki",
    "PL": "Europe/Warsaw", "CZ": "Europe/Prague", "RO": "Europe/Bucharest",
    "GR": "Europe/Athens", "TR": "Europe/Istanbul", "UA": "Europe/Kyiv", "IL": "Asia/Jerusalem",
    "AE": "Asia/Dubai", "SA": "Asia/Riyadh", "IN": "Asia/Kolkata", "SG": "Asia/Singapore",
    "HK": "Asia/Hong_Kong", "CN": "Asia/Shanghai", "JP": "Asia/Tokyo", "KR": "Asia/Seoul",
    "AU": "Australia/Sydney", "NZ": "Pacific/Auckland", "ZA": "Africa/Johannesburg",
    "NG": "Africa/Lagos", "KE": "Africa/Nairobi", "EG": "Africa/Cairo",
}  # fmt: skip

UTC = dt.UTC


@dataclass(frozen=True)
class SendingWindow:
    """Weekdays (Mon=0) and local hours a recipient may receive mail."""

    weekdays: frozenset[int] = field(default_factory=lambda: frozenset(range(5)))
    start: dt.time = dt.time(9, 0)
    end: dt.time = dt.time(17, 0)

    @classmethod
    def from_settings(cls, data: dict[str, Any] | None) -> SendingWindow:
        """From a campaign/org setting like {"weekdays": [0,1,2,3,4], "start": "09:00", ...}."""
        if not data:
            return cls()
        return cls(
            weekdays=frozenset(int(d) for d in data.get("weekdays", range(5))),
            start=dt.time.fromisoformat(str(data.get("start", "09:00"))),
            end=dt.time.fromisoformat(str(data.get("end", "17:00"))),
        )


def zone(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def recipient_timezone(
    enrichment: dict[str, Any] | None, *, default: str | None = None
) -> ZoneInfo:
    """The lead's zone: enrichment `timezone`, else its `country`'s, else `default`, else UTC."""
    data = enrichment or {}
    found = zone(data.get("timezone"))
    if found is None:
        country = str(data.get("country") or "").upper()
        found = zone(COUNTRY_TIMEZONES.get(country))
    return found or zone(default) or ZoneInfo("UTC")


@lru_cache(maxsize=512)
def _holidays(country: str, year: int) -> frozenset[dt.date]:
    try:
        calendar = holidays.country_holidays(country, years=year)
    except (NotImplementedError, KeyError):
        return frozenset()
    return frozenset(calendar.keys())


def is_business_day(day: dt.date, country: str | None, window: SendingWindow) -> bool:
    """A window weekday that is not a national holiday of `country`."""
    if day.weekday() not in window.weekdays:
        return False
    return not (country and day in _holidays(country.upper(), day.year))


def _local(naive_utc: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    return naive_utc.replace(tzinfo=UTC).astimezone(tz)


def _to_naive_utc(local: dt.datetime) -> dt.datetime:
    return local.astimezone(UTC).replace(tzinfo=None)


def _at(day: dt.date, when: dt.time, tz: ZoneInfo) -> dt.datetime:
    # zoneinfo resolves wall times in a DST gap/fold by `fold`; fold=0 is the earlier one.
    return dt.datetime.combine(day, when, tzinfo=tz)


def next_send_time(
    now: dt.datetime,
    tz: ZoneInfo,
    *,
    country: str | None = None,
    window: SendingWindow | None = None,
) -> dt.datetime:
    """`now` if it falls in the recipient's window, else the start of the next one (naive UTC)."""
    window = window or SendingWindow()
    local = _local(now, tz)
    day = local.date()
    for _ in range(400):
        if is_business_day(day, country, window):
            start, end = _at(day, window.start, tz), _at(day, window.end, tz)
            if local < start:
                return _to_naive_utc(start)
            if local < end:
                return now
        day += dt.timedelta(days=1)
        local = _at(day, dt.time(0), tz)
    return now  # a window with no weekdays never opens; callers validate windows


def in_window(
    now: dt.datetime,
    tz: ZoneInfo,
    *,
    country: str | None = None,
    window: SendingWindow | None = None,
) -> bool:
    """Whether `now` (naive UTC) is inside the recipient's sending window."""
    return next_send_time(now, tz, country=country, window=window) == now


def add_business_days(
    day: dt.date, count: int, *, country: str | None = None, window: SendingWindow | None = None
) -> dt.date:
    """The date `count` business days after `day` (weekends and holidays skipped)."""
    window = window or SendingWindow()
    remaining = max(0, count)
    while remaining:
        day += dt.timedelta(days=1)
        if is_business_day(day, country, window):
            remaining -= 1
    return day


def follow_up_due(
    previous_sent_at: dt.datetime,
    delay_days: int,
    tz: ZoneInfo,
    *,
    country: str | None = None,
    window: SendingWindow | None = None,
) -> dt.datetime:
    """When a follow-up becomes due: `delay_days` business days later, at the window's start."""
    window = window or SendingWindow()
    local_day = _local(previous_sent_at, tz).date()
    due_day = add_business_days(local_day, delay_days, country=country, window=window)
    return _to_naive_utc(_at(due_day, window.start, tz))
