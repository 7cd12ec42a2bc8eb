"""Slot computation: working hours in the host's zone, DST-correct, minus busy, with limits."""

from __future__ import annotations

import datetime as dt

import pytest

from vectra.meetings.slots import Rules, free_slots, validate_working_hours

UTC = dt.UTC
WEEKDAYS_9_17 = {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}


def _utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def _slots(rules: Rules, start: dt.datetime, end: dt.datetime, **kw: object) -> list:
    return free_slots(
        rules,
        window_start=start,
        window_end=end,
        busy=kw.pop("busy", []),  # type: ignore[arg-type]
        now=kw.pop("now", start - dt.timedelta(days=30)),  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("zone", "before_day", "before_utc_hour", "after_day", "after_utc_hour"),
    [
        # Paris: CET (UTC+1) until Sun 29 March 2026, CEST (UTC+2) after.
        ("Europe/Paris", (2026, 3, 27), 8, (2026, 3, 30), 7),
        # Paris back to CET on Sun 25 October 2026.
        ("Europe/Paris", (2026, 10, 23), 7, (2026, 10, 26), 8),
        # New York: EST (UTC-5) until Sun 8 March 2026, EDT (UTC-4) after; back on 1 Nov.
        ("America/New_York", (2026, 3, 6), 14, (2026, 3, 9), 13),
        ("America/New_York", (2026, 10, 30), 13, (2026, 11, 2), 14),
    ],
)
def test_nine_oclock_follows_the_dst_change(
    zone: str,
    before_day: tuple[int, int, int],
    before_utc_hour: int,
    after_day: tuple[int, int, int],
    after_utc_hour: int,
) -> None:
    rules = Rules(timezone=zone, working_hours=WEEKDAYS_9_17, slot_minutes=60)
    slots = _slots(rules, _utc(*before_day), _utc(*after_day) + dt.timedelta(days=1))
    firsts: dict[dt.date, dt.datetime] = {}
    for slot in slots:
        firsts.setdefault(slot.start.date(), slot.start)
    assert firsts[dt.date(*before_day)] == _utc(*before_day, before_utc_hour)
    assert firsts[dt.date(*after_day)] == _utc(*after_day, after_utc_hour)
    # 8 one-hour slots on every working day, whatever the offset
    per_day: dict[dt.date, int] = {}
    for slot in slots:
        per_day[slot.start.date()] = per_day.get(slot.start.date(), 0) + 1
    assert set(per_day.values()) == {8}


def test_short_and_long_days_yield_the_real_hours() -> None:
    night = {"sun": [["00:00", "04:00"]]}
    rules = Rules(timezone="Europe/Paris", working_hours=night, slot_minutes=30)
    spring = _slots(rules, _utc(2026, 3, 28, 12), _utc(2026, 3, 29, 12))
    autumn = _slots(rules, _utc(2026, 10, 24, 12), _utc(2026, 10, 25, 12))
    # 00:00-04:00 local is 3 real hours on 29 March (02:00-03:00 never happens), 5 on 25 Oct.
    assert len(spring) == 6
    assert len(autumn) == 10
    assert spring[0].start == _utc(2026, 3, 28, 23)
    assert spring[-1].end == _utc(2026, 3, 29, 2)
    assert autumn[0].start == _utc(2026, 10, 24, 22)
    assert autumn[-1].end == _utc(2026, 10, 25, 3)


def test_busy_time_buffer_notice_and_daily_cap() -> None:
    rules = Rules(
        timezone="UTC",
        working_hours={"mon": [["09:00", "12:00"]]},
        slot_minutes=30,
        buffer_minutes=15,
        minimum_notice_minutes=60,
    )
    monday = _utc(2026, 11, 30)
    busy = [(_utc(2026, 11, 30, 10), _utc(2026, 11, 30, 10, 30))]
    slots = _slots(rules, monday, monday + dt.timedelta(days=1), busy=busy,
                   now=_utc(2026, 11, 30, 8, 15))  # fmt: skip
    starts = [s.start.strftime("%H:%M") for s in slots]
    # 09:00 is inside the notice; 09:30 and 10:30 touch the busy half-hour's 15-min buffer.
    assert starts == ["11:00", "11:30"]
    capped = Rules(**{**rules.__dict__, "max_per_day": 2, "minimum_notice_minutes": 0})
    full = _slots(capped, monday, monday + dt.timedelta(days=1),
                  booked_per_day={dt.date(2026, 11, 30): 2})  # fmt: skip
    assert full == []


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ({"mon": [["10:00", "09:00"]]}, "not before"),
        ({"mon": [["09:00", "12:00"], ["11:00", "13:00"]]}, "overlaps"),
        ({"funday": []}, "unknown weekday"),
        ({"mon": [["9am", "5pm"]]}, "HH:MM"),
    ],
)
def test_bad_working_hours_are_refused(hours: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_working_hours(hours)
