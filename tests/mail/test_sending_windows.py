"""Recipient-local windows: zones, DST, holidays, business-day follow-ups."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from vectra.mail.windows import (
    SendingWindow,
    add_business_days,
    follow_up_due,
    in_window,
    next_send_time,
    recipient_timezone,
)

NY = ZoneInfo("America/New_York")
PARIS = ZoneInfo("Europe/Paris")


def test_timezone_from_enrichment_country_or_default() -> None:
    assert recipient_timezone({"timezone": "Asia/Tokyo"}).key == "Asia/Tokyo"
    assert recipient_timezone({"timezone": "Not/AZone", "country": "fr"}).key == "Europe/Paris"
    assert recipient_timezone({}, default="America/Chicago").key == "America/Chicago"
    assert recipient_timezone(None).key == "UTC"


def test_before_window_waits_until_nine_local() -> None:
    # Tue 2026-03-03 12:00 UTC is 07:00 in New York (EST, UTC-5).
    now = dt.datetime(2026, 3, 3, 12, 0)
    assert next_send_time(now, NY) == dt.datetime(2026, 3, 3, 14, 0)
    assert not in_window(now, NY)
    assert in_window(dt.datetime(2026, 3, 3, 15, 0), NY)


def test_dst_moves_the_window_with_the_wall_clock() -> None:
    # US DST starts Sun 2026-03-08: 09:00 local is 14:00 UTC before, 13:00 UTC after.
    friday_evening = dt.datetime(2026, 3, 6, 23, 0)  # 18:00 EST Friday: window closed
    assert next_send_time(friday_evening, NY) == dt.datetime(2026, 3, 9, 13, 0)
    # Paris DST starts Sun 2026-03-29: Monday 09:00 CEST is 07:00 UTC.
    assert next_send_time(dt.datetime(2026, 3, 28, 12, 0), PARIS) == dt.datetime(2026, 3, 30, 7, 0)


def test_weekend_and_national_holidays_skipped() -> None:
    # Fri 2026-12-25 is Christmas in France: next window is Mon 2026-12-28 09:00 CET.
    christmas_eve_late = dt.datetime(2026, 12, 24, 17, 30)  # 18:30 Paris: closed
    assert next_send_time(christmas_eve_late, PARIS, country="FR") == dt.datetime(
        2026, 12, 28, 8, 0
    )
    # Without a country no holidays apply: Christmas Friday is a normal day.
    assert next_send_time(christmas_eve_late, PARIS) == dt.datetime(2026, 12, 25, 8, 0)


def test_follow_up_delay_counts_business_days() -> None:
    # Sent Thu 2026-07-02 in the US; +2 business days skips the weekend and July 3rd
    # (observed Independence Day 2026) -> Tue 2026-07-07 09:00 EDT = 13:00 UTC.
    sent = dt.datetime(2026, 7, 2, 15, 0)
    assert add_business_days(dt.date(2026, 7, 2), 2, country="US") == dt.date(2026, 7, 7)
    assert follow_up_due(sent, 2, NY, country="US") == dt.datetime(2026, 7, 7, 13, 0)


def test_custom_window_from_settings() -> None:
    window = SendingWindow.from_settings({"weekdays": [5], "start": "10:00", "end": "11:00"})
    # Wed 2026-03-04 -> the next Saturday 10:00 UTC.
    got = next_send_time(dt.datetime(2026, 3, 4, 10, 30), ZoneInfo("UTC"), window=window)
    assert got == dt.datetime(2026, 3, 7, 10, 0)


@given(
    st.datetimes(min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2028, 12, 31)),
    st.sampled_from(["America/New_York", "Europe/Paris", "Australia/Sydney", "Asia/Kolkata"]),
    st.sampled_from([None, "US", "FR", "AU", "IN"]),
)
def test_next_send_time_is_always_inside_a_window(
    now: dt.datetime, zone: str, country: str | None
) -> None:
    tz = ZoneInfo(zone)
    got = next_send_time(now, tz, country=country)
    assert got >= now
    local = got.replace(tzinfo=dt.UTC).astimezone(tz)
    assert local.weekday() < 5 and dt.time(9) <= local.time() < dt.time(17)
    assert in_window(got, tz, country=country)
