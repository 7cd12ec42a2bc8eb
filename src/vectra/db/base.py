"""The declarative base every domain's tables derive from, and the seed's column shapes."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import DateTime, MetaData, func, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Tables are created by migrations, never by `metadata.create_all`."""

    metadata = MetaData()
    type_annotation_map = {
        dict[str, Any]: JSONB,
        list[Any]: JSONB,
        uuid.UUID: UUID(as_uuid=True),
        dt.datetime: DateTime(timezone=False),
    }


def utcnow() -> dt.datetime:
    """Now in UTC, naive: the seed's columns are `TIMESTAMP` and the server runs in UTC."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def uuid_pk() -> Mapped[uuid.UUID]:
    return mapped_column(primary_key=True, server_default=text("gen_random_uuid()"))


def created_at() -> Mapped[dt.datetime | None]:
    return mapped_column(server_default=func.now())


def updated_at() -> Mapped[dt.datetime | None]:
    # The seed's trigger keeps it; onupdate keeps the ORM's copy close without a refresh.
    return mapped_column(server_default=func.now(), onupdate=utcnow)
