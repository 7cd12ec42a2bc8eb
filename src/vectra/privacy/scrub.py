"""Finding and scrubbing a person's rows in every table, by schema rather than by list.

Tables are discovered from the catalogue: any table with a `lead_id`, `email_id` or
`meeting_id` column holds rows about the lead, and every text, varchar, jsonb or text[]
column is searched. A table added by a later migration is covered without an edit here.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

ERASED = "[erased]"
LINK_COLUMNS = ("lead_id", "email_id", "meeting_id")
# Never swept: the accounts of the organization's own users, and the list that keeps the
# person suppressed (its plain entry is removed explicitly, its hashed entry must stay).
SKIP_TABLES = frozenset({"users", "organizations", "suppressions", "alembic_version"})
# Enumerations (varchar columns checked by constraints): a name is never stored in them, and
# a coincidence ("Sent", "New") must not turn a status into "[erased]".
CODE_COLUMNS = frozenset(
    {
        "status", "kind", "state", "send_state", "intent", "variant", "bounce_type", "reason",
        "source", "object_type", "method", "machine_reason", "intent_source", "actor_kind",
        "agent", "to_status", "from_status", "outcome", "dsn_status", "action", "scope",
    }
)  # fmt: skip
TEXT_TYPES = ("text", "character varying", "jsonb", "ARRAY")


@dataclass
class Column:
    table: str
    name: str
    data_type: str


@dataclass
class Schema:
    columns: dict[str, list[Column]] = field(default_factory=dict)
    all_columns: dict[str, set[str]] = field(default_factory=dict)
    # bytea columns (raw messages, uploaded files): name -> nullable
    binary: dict[str, dict[str, bool]] = field(default_factory=dict)

    def has(self, table: str, column: str) -> bool:
        return column in self.all_columns.get(table, set())

    def linked_tables(self) -> list[tuple[str, str]]:
        """(table, link column) pairs: rows of `table` about a lead, email or meeting."""
        out = []
        for table, names in sorted(self.all_columns.items()):
            if table in SKIP_TABLES or table.startswith("procrastinate"):
                continue
            for link in LINK_COLUMNS:
                if link in names and table != _owner_table(link):
                    out.append((table, link))
        return out


def _owner_table(link: str) -> str:
    return {"lead_id": "leads", "email_id": "emails", "meeting_id": "meetings"}[link]


def load_schema(session: Session) -> Schema:
    schema = Schema()
    rows = session.execute(
        text(
            "SELECT c.table_name, c.column_name, c.data_type, c.is_nullable "
            "FROM information_schema.columns c "
            "JOIN information_schema.tables t ON t.table_schema = c.table_schema "
            "AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE' "
            "WHERE c.table_schema = current_schema() ORDER BY 1, 2"
        )
    )
    for table, name, data_type, nullable in rows:
        schema.all_columns.setdefault(table, set()).add(name)
        if data_type == "bytea":
            schema.binary.setdefault(table, {})[name] = nullable == "YES"
        if data_type in TEXT_TYPES:
            schema.columns.setdefault(table, []).append(Column(table, name, data_type))
    return schema


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def pattern_for(address: str | None, names: Iterable[str]) -> str | None:
    """A case-insensitive POSIX regex matching the address and whole-word names."""
    alternatives = [re.escape(address)] if address else []
    alternatives += [
        r"\m" + re.escape(n) + r"\M" for n in sorted(set(names), key=len, reverse=True) if n
    ]
    return "(" + "|".join(alternatives) + ")" if alternatives else None


def _replace_expression(column: Column) -> str:
    col = _q(column.name)
    if column.data_type == "jsonb":
        return f"regexp_replace({col}::text, :p, '{ERASED}', 'gi')::jsonb"
    if column.data_type == "ARRAY":
        return f"ARRAY(SELECT regexp_replace(x::text, :p, '{ERASED}', 'gi') FROM unnest({col}) x)"
    return f"regexp_replace({col}, :p, '{ERASED}', 'gi')"


def _match_expression(column: Column) -> str:
    col = _q(column.name)
    if column.data_type in ("jsonb", "ARRAY"):
        return f"{col}::text ~* :p"
    return f"{col} ~* :p"


def scrub_rows(
    session: Session,
    schema: Schema,
    table: str,
    where: str,
    params: dict[str, Any],
    pattern: str | None,
    *,
    codes_too: bool = False,
) -> int:
    """Replace matches of `pattern` in every text-like column of the rows `where` selects."""
    if pattern is None:
        return 0
    changed = 0
    for column in schema.columns.get(table, []):
        if column.name in CODE_COLUMNS and column.data_type != "text" and not codes_too:
            continue
        if column.data_type == "ARRAY" and column.name in ("scopes",):
            continue
        result = session.execute(
            text(
                f"UPDATE {_q(table)} SET {_q(column.name)} = {_replace_expression(column)} "
                f"WHERE ({where}) AND {_match_expression(column)}"
            ),
            {**params, "p": pattern},
        )
        changed += int(result.rowcount)  # type: ignore[attr-defined]
    return changed


def scrub_binary(
    session: Session,
    schema: Schema,
    table: str,
    where: str,
    params: dict[str, Any],
    needle: str | None,
) -> int:
    """Clear bytea columns (a raw message, an uploaded CSV) of the rows `where` selects; with
    a `needle`, only the values that contain it (any case; ASCII addresses, as bytea's escape
    form spells other bytes as octal). Binary data cannot be edited in place."""
    changed = 0
    for name, nullable in schema.binary.get(table, {}).items():
        empty = "NULL" if nullable else "''::bytea"
        condition = (
            f" AND strpos(lower(encode({_q(name)}, 'escape')), lower(:n)) > 0" if needle else ""
        )
        result = session.execute(
            text(f"UPDATE {_q(table)} SET {_q(name)} = {empty} WHERE ({where}){condition}"),
            {**params, "n": needle},
        )
        changed += int(result.rowcount)  # type: ignore[attr-defined]
    return changed


def rows_as_json(
    session: Session, table: str, where: str, params: dict[str, Any]
) -> list[dict[str, Any]]:
    """The rows as JSON objects (vector columns left out: they are derived, not held data).

    Timestamps get their `Z`: `to_jsonb` writes the naive-UTC `TIMESTAMP` values offset-less,
    which a reader would take for local time.
    """
    rows = list(
        session.execute(
            text(
                "SELECT to_jsonb(t) - 'embedding' - 'icp_embedding' "
                f"FROM {_q(table)} t WHERE {where}"
            ),
            params,
        ).scalars()
    )
    stamps = session.scalars(
        text(
            "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(:t) AND attnum > 0 "
            "AND NOT attisdropped AND atttypid = 'timestamp'::regtype"
        ),
        {"t": _q(table)},
    ).all()
    for row in rows:
        for name in stamps:
            value = row.get(name)
            if isinstance(value, str) and value[:1].isdigit():  # not 'infinity'
                row[name] = value + "Z"
    return rows


def ids(values: Iterable[Any]) -> list[uuid.UUID]:
    return [v if isinstance(v, uuid.UUID) else uuid.UUID(str(v)) for v in values]
