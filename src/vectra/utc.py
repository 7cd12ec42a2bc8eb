"""Datetimes at the API's edge: naive UTC inside, an explicit `Z` in every JSON document.

The seed's `TIMESTAMP` columns hold naive UTC, so models read from them carry naive values; a
client would read an offset-less ISO string as its own local time (`new Date(...)` does).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AfterValidator, PlainSerializer


def as_utc(value: dt.datetime) -> dt.datetime:
    """The aware UTC datetime of a naive-UTC value (or of any aware one)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def naive_utc(value: dt.datetime) -> dt.datetime:
    """The naive-UTC form the `TIMESTAMP` columns hold; an aware input is converted first."""
    return as_utc(value).replace(tzinfo=None)


def utc_iso(value: dt.datetime) -> str:
    """ISO 8601 with a `Z`, as pydantic writes `UtcDateTime` (for JSON built by hand)."""
    return naive_utc(value).isoformat() + "Z"


# Input: aware or naive (naive = UTC), kept naive UTC. Output: JSON with `Z`, schema date-time.
UtcDateTime = Annotated[
    dt.datetime,
    AfterValidator(naive_utc),
    PlainSerializer(as_utc, return_type=dt.datetime, when_used="json"),
]
