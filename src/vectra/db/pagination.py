"""Keyset pagination: stable pages over any (sort key, id) order, fast at any depth.

A cursor is opaque to clients: URL-safe base64 of JSON `[sort_value, id]` for the last row
of the page. The next page is `WHERE (key, id) < (cursor_key, cursor_id)` (descending) so
PostgreSQL walks the (key, id) index from where the last page stopped, unlike OFFSET which
re-reads every earlier row.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, tuple_
from sqlalchemy.orm import InstrumentedAttribute

from vectra.errors import InvalidInput

T = TypeVar("T")

MAX_LIMIT = 200
DEFAULT_LIMIT = 50


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def _encode_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"t": value.isoformat()}
    if isinstance(value, uuid.UUID):
        return {"u": str(value)}
    if isinstance(value, Decimal):
        return {"d": str(value)}
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        ((tag, raw),) = value.items()
        if tag == "t":
            return dt.datetime.fromisoformat(raw)
        if tag == "u":
            return uuid.UUID(raw)
        if tag == "d":
            return Decimal(raw)
    return value


def encode_cursor(sort_value: Any, row_id: uuid.UUID) -> str:
    """The opaque cursor for the row with this sort value and id."""
    raw = json.dumps([_encode_value(sort_value), str(row_id)], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, *, field: str = "cursor") -> tuple[Any, uuid.UUID]:
    """(sort value, id) from a cursor; a tampered or foreign cursor is a 422 on `field`."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        sort_value, row_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        return _decode_value(sort_value), uuid.UUID(row_id)
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError) as exc:
        raise InvalidInput(
            "This cursor is not valid; start again without it.", field=field
        ) from exc


def check_limit(limit: int, *, field: str = "limit") -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}.", field=field)
    return limit


def paginate(
    statement: Select[Any],
    *,
    execute: Callable[[Select[Any]], Sequence[T]],
    sort: InstrumentedAttribute[Any],
    id_column: InstrumentedAttribute[Any],
    cursor: str | None,
    limit: int,
    descending: bool = True,
) -> Page[T]:
    """One page of `statement` ordered by (sort, id); nulls in `sort` are not supported."""
    check_limit(limit)
    if cursor:
        after_value, after_id = decode_cursor(cursor)
        if descending:
            condition = tuple_(sort, id_column) < tuple_(after_value, after_id)
        else:
            condition = tuple_(sort, id_column) > tuple_(after_value, after_id)
        # A row comparison: PostgreSQL matches it to the (sort, id) index directly.
        statement = statement.where(condition)
    order = (sort.desc(), id_column.desc()) if descending else (sort.asc(), id_column.asc())
    rows = list(execute(statement.order_by(*order).limit(limit + 1)))
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if has_more and rows:
        last = rows[-1]
        next_cursor = encode_cursor(getattr(last, sort.key), getattr(last, id_column.key))
    return Page(items=rows, next_cursor=next_cursor)
