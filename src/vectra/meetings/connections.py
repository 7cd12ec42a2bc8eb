"""The organization's calendar connections (`integrations` rows), secrets in the vault."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vectra.integrations.models import Integration


def get_integration(
    session: Session, organization_id: uuid.UUID, kind: str, *, for_update: bool = False
) -> Integration | None:
    query = select(Integration).where(
        Integration.organization_id == organization_id, Integration.type == kind
    )
    if for_update:
        query = query.with_for_update()
    return session.scalar(query)


def upsert_integration(session: Session, organization_id: uuid.UUID, kind: str) -> Integration:
    row = get_integration(session, organization_id, kind, for_update=True)
    if row is None:
        row = Integration(organization_id=organization_id, type=kind, settings={})
        session.add(row)
        session.flush()
    return row


def read_secret(row: Integration) -> dict[str, Any]:
    """The integration's decrypted credentials ({} when none are stored)."""
    from vectra.integrations import vault

    token = (row.credentials or {}).get("vault")
    return vault.decrypt(token) if isinstance(token, str) else {}


def write_secret(row: Integration, secret: dict[str, Any]) -> None:
    """Store `secret` encrypted; the row keeps only the ciphertext."""
    from vectra.integrations import vault

    row.credentials = {"vault": vault.encrypt(secret)}
