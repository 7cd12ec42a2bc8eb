"""Free-slot computation: weekly hours in the host's zone, minus busy time, DST-correct.

Pure functions over aware datetimes. Working hours are wall-clock times in the host's IANA
zone; each day's window is turned into UTC with zoneinfo on that very date, so a 09:00 start
is 08:00Z in Paris winter and 07:00Z in summer, and the 23- or 25-hour days around a DST
change yield exactly the hours the host works.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
UTC = dt.UTC


@dataclass(frozen=True)
class Rules:
    """One host's availability, as stored (validated) in `meeting_availability`."""

    timezone: str
    working_hours: Mapping[str, Sequence[Sequence[str]]]
    slot_minutes: int = 30
    buffer_minutes: int = 0
    minimum_notice_minutes: int = 240
    max_per_day: int | None = None


@dataclass(frozen=True)
class Slot:
    start: dt.datetime  # aware, UTC
    end: dt.datetime

    def local(self, zone: str) -> tuple[dt.datetime, dt.datetime]:
        tz = ZoneInfo(zone)
        return self.start.astimezone(tz), self.end.astimezone(tz)


def zone_or_none(name: str | None) -> ZoneInfo | None:
    """The IANA zone called `name`, or None when it isn't one."""
    if not name or len(name) > 64:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def parse_clock(value: str) -> dt.time:
    """'09:30' -> time(9, 30); '24:00' means the end of the day."""
    if value == "24:00":
        return dt.time.max
    hours, _, minutes = value.partition(":")
    if len(hours) != 2 or len(minutes) != 2 or not (hours + minutes).isdigit():
        raise ValueError(f"'{value}' is not HH:MM")
    return dt.time(int(hours), int(minutes))


def validate_working_hours(hours: Mapping[str, object]) -> dict[str, list[list[str]]]:
    """Normalised weekly hours; ValueError naming the day when a range is wrong."""
    unknown = set(hours) - set(WEEKDAYS)
    if unknown:
        raise ValueError(f"unknown weekday(s): {', '.join(sorted(unknown))}")
    clean: dict[str, list[list[str]]] = {}
    for day in WEEKDAYS:
        ranges = hours.get(day) or []
        if not isinstance(ranges, list):
            raise ValueError(f"{day}: a list of [start, end] pairs")
        pairs: list[tuple[dt.time, dt.time, list[str]]] = []
        for item in ranges:
            if not (isinstance(item, list | tuple) and len(item) == 2):
                raise ValueError(f'{day}: each range is ["HH:MM", "HH:MM"]')
            start, end = parse_clock(str(item[0])), parse_clock(str(item[1]))
            if start >= end:
                raise ValueError(f"{day}: {item[0]} is not before {item[1]}")
            pairs.append((start, end, [str(item[0]), str(item[1])]))
        pairs.sort()
        for (_s1, e1, r1), (s2, _e2, r2) in pairwise(pairs):
            if s2 < e1:
                raise ValueError(f"{day}: {r1} overlaps {r2}")
        clean[day] = [raw for _s, _e, raw in pairs]
    return clean


def _at(day: dt.date, clock: dt.time, tz: ZoneInfo) -> dt.datetime:
    if clock == dt.time.max:
        return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=tz)
    local = dt.datetime.combine(day, clock, tzinfo=tz)
    # A wall time skipped by a spring-forward gap does not exist: move to the first real one.
    roundtrip = local.astimezone(UTC).astimezone(tz)
    if roundtrip.replace(tzinfo=None) != local.replace(tzinfo=None):
        local = roundtrip
    return local


def working_windows(
    rules: Rules, start: dt.datetime, end: dt.datetime
) -> list[tuple[dt.datetime, dt.datetime]]:
    """The host's working intervals (UTC) overlapping [start, end)."""
    tz = ZoneInfo(rules.timezone)
    first = start.astimezone(tz).date() - dt.timedelta(days=1)
    last = end.astimezone(tz).date() + dt.timedelta(days=1)
    windows: list[tuple[dt.datetime, dt.datetime]] = []
    day = first
    while day <= last:
        for begin, finish in rules.working_hours.get(WEEKDAYS[day.weekday()], []):
            w_start = _at(day, parse_clock(begin), tz).astimezone(UTC)
            w_end = _at(day, parse_clock(finish), tz).astimezone(UTC)
            if w_end > start and w_start < end:
                windows.append((max(w_start, start), min(w_end, end)))
        day += dt.timedelta(days=1)
    return windows


def _overlaps(
    a: tuple[dt.datetime, dt.datetime], busy: Sequence[tuple[dt.datetime, dt.datetime]]
) -> bool:
    return any(b_start < a[1] and a[0] < b_end for b_start, b_end in busy)


def free_slots(
    rules: Rules,
    *,
    window_start: dt.datetime,
    window_end: dt.datetime,
    busy: Iterable[tuple[dt.datetime, dt.datetime]],
    now: dt.datetime,
    booked_per_day: Mapping[dt.date, int] | None = None,
) -> list[Slot]:
    """Bookable slots in [window_start, window_end): inside working hours, after the minimum
    notice, at least `buffer_minutes` clear of any busy interval, under `max_per_day`."""
    length = dt.timedelta(minutes=rules.slot_minutes)
    buffer = dt.timedelta(minutes=rules.buffer_minutes)
    earliest = max(window_start, now + dt.timedelta(minutes=rules.minimum_notice_minutes))
    busy_list = sorted(busy)
    tz = ZoneInfo(rules.timezone)
    counts = dict(booked_per_day or {})
    slots: list[Slot] = []
    for w_start, w_end in working_windows(rules, window_start, window_end):
        # Slots are aligned to the working window's start, in absolute time.
        cursor = w_start
        while cursor + length <= w_end:
            slot = (cursor, cursor + length)
            cursor += length
            if slot[0] < earliest:
                continue
            if _overlaps((slot[0] - buffer, slot[1] + buffer), busy_list):
                continue
            day = slot[0].astimezone(tz).date()
            if rules.max_per_day is not None and counts.get(day, 0) >= rules.max_per_day:
                continue
            slots.append(Slot(start=slot[0], end=slot[1]))
    return slots
