"""API keys: `vk_...` secrets shown once, stored as SHA-256, scoped read or write.

The secret carries 256 random bits, so a plain SHA-256 is enough to store it (no slow
hash needed: it cannot be guessed); a short prefix is kept in clear to tell keys apart.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from vectra.accounts import audit
from vectra.accounts.actor import Actor
from vectra.accounts.models import ApiKey
from vectra.accounts.permissions import ROLE_PERMISSIONS, Permission
from vectra.accounts.roles import Role
from vectra.accounts.sessions import hash_token
from vectra.db.base import utcnow
from vectra.db.tenancy import as_system
from vectra.errors import InvalidInput, NotFound

KEY_PREFIX = "vk_"
SCOPES = ("read", "write")
_DISPLAY_PREFIX_LEN = len(KEY_PREFIX) + 8
_TOUCH_EVERY = dt.timedelta(minutes=1)

# Read: every *.read permission except the audit log (an admin's tool, not a script's).
READ_PERMISSIONS = frozenset(
    p for p in Permission if p.value.endswith(".read") and p is not Permission.AUDIT_READ
)
# Write: what a manager or operator may change (campaigns, leads, emails, replies, meetings,
# agents); never users, API keys, billing, integrations, mailboxes or the organization.
WRITE_PERMISSIONS = READ_PERMISSIONS | (
    (ROLE_PERMISSIONS[Role.MANAGER] | ROLE_PERMISSIONS[Role.OPERATOR]) - {Permission.AUDIT_READ}
)


def permissions_for_scopes(scopes: list[str]) -> frozenset[Permission]:
    return WRITE_PERMISSIONS if "write" in scopes else READ_PERMISSIONS


@dataclass(frozen=True)
class CreatedApiKey:
    api_key: ApiKey
    secret: str


def create_api_key(
    session: Session,
    actor: Actor,
    *,
    name: str,
    scopes: list[str],
    expires_at: dt.datetime | None = None,
) -> CreatedApiKey:
    """A new key for the actor's organization; its secret is returned this once only."""
    name = name.strip()
    if not name:
        raise InvalidInput("A key needs a name.", field="name")
    wanted = sorted(set(scopes))
    if not wanted or any(s not in SCOPES for s in wanted):
        raise InvalidInput("Scopes are 'read' and/or 'write'.", field="scopes")
    if expires_at is not None:
        expires_at = (
            expires_at.astimezone(dt.UTC).replace(tzinfo=None) if expires_at.tzinfo else expires_at
        )
        if expires_at <= utcnow():
            raise InvalidInput("The expiry must be in the future.", field="expires_at")
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        organization_id=actor.organization_id,
        name=name,
        prefix=secret[:_DISPLAY_PREFIX_LEN],
        secret_hash=hash_token(secret),
        scopes=wanted,
        created_by=actor.user_id,
        expires_at=expires_at,
    )
    session.add(key)
    session.flush()
    audit.record(
        session,
        actor,
        "api_key.created",
        object_type="api_key",
        object_id=key.id,
        details={"name": name, "scopes": wanted},
    )
    return CreatedApiKey(api_key=key, secret=secret)


def list_api_keys(session: Session, actor: Actor) -> list[ApiKey]:
    return list(
        session.scalars(
            select(ApiKey)
            .where(ApiKey.organization_id == actor.organization_id)
            .order_by(ApiKey.created_at.desc(), ApiKey.id)
        )
    )


def revoke_api_key(session: Session, actor: Actor, key_id: uuid.UUID) -> ApiKey:
    """Stop a key from working at once (404 for another organization's key)."""
    key = session.scalar(
        select(ApiKey).where(ApiKey.id == key_id, ApiKey.organization_id == actor.organization_id)
    )
    if key is None:
        raise NotFound("API key not found.")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.flush()
        audit.record(
            session,
            actor,
            "api_key.revoked",
            object_type="api_key",
            object_id=key.id,
            details={"name": key.name},
        )
    return key


def resolve_api_key(session: Session, secret: str, *, ip: str | None = None) -> Actor | None:
    """The Actor a live key acts as, or None (unknown, revoked, expired)."""
    if not secret.startswith(KEY_PREFIX):
        return None
    now = utcnow()
    with as_system(session):
        key = session.scalar(
            select(ApiKey).where(
                ApiKey.secret_hash == hash_token(secret), ApiKey.revoked_at.is_(None)
            )
        )
        if key is None or (key.expires_at is not None and key.expires_at <= now):
            return None
        # Writing on every call would turn reads into writes; once a minute is enough.
        if key.last_used_at is None or now - key.last_used_at > _TOUCH_EVERY:
            key.last_used_at = now
            session.flush()
    return Actor(
        organization_id=key.organization_id,
        role=Role.MANAGER if "write" in key.scopes else Role.VIEWER,
        api_key_id=key.id,
        ip=ip,
        permissions=permissions_for_scopes(key.scopes),
    )
