"""Sign-in sessions: opaque random tokens, stored as SHA-256, revocable, expiring."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from vectra.accounts.actor import Actor
from vectra.accounts.models import AuthSession, User
from vectra.accounts.roles import Role
from vectra.db.base import utcnow
from vectra.db.tenancy import as_system

TOKEN_PREFIX = "vs_"  # noqa: S105 (a prefix, not a secret)
BEARER_LIFETIME = dt.timedelta(days=30)
WEB_LIFETIME = dt.timedelta(days=14)
# Writing last_used_at on every request would turn reads into writes; once a minute is enough.
_TOUCH_EVERY = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedSession:
    token: str
    session: AuthSession


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_session(
    session: Session,
    user: User,
    *,
    kind: str = "bearer",
    ip: str | None = None,
    user_agent: str | None = None,
) -> IssuedSession:
    """Start a session for `user`; the token is returned once and stored only hashed."""
    assert user.organization_id is not None
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    row = AuthSession(
        organization_id=user.organization_id,
        user_id=user.id,
        token_hash=hash_token(token),
        kind=kind,
        csrf_token=secrets.token_urlsafe(24) if kind == "web" else None,
        ip=ip,
        user_agent=(user_agent or "")[:300] or None,
        last_used_at=now,
        expires_at=now + (WEB_LIFETIME if kind == "web" else BEARER_LIFETIME),
    )
    with as_system(session):
        session.add(row)
        session.flush()
    return IssuedSession(token=token, session=row)


@dataclass(frozen=True)
class ResolvedSession:
    actor: Actor
    user: User
    session: AuthSession


def resolve_session(
    session: Session, token: str, *, ip: str | None = None
) -> ResolvedSession | None:
    """The live session and user behind `token`, or None (unknown, expired, revoked, inactive)."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    now = utcnow()
    with as_system(session):
        row = session.execute(
            select(AuthSession, User)
            .join(User, User.id == AuthSession.user_id)
            .where(
                AuthSession.token_hash == hash_token(token),
                AuthSession.revoked_at.is_(None),
                AuthSession.expires_at > now,
            )
        ).one_or_none()
        if row is None:
            return None
        auth, user = row
        if not user.is_active or user.organization_id != auth.organization_id:
            return None
        if auth.last_used_at is None or now - auth.last_used_at > _TOUCH_EVERY:
            auth.last_used_at = now
            session.flush()
    actor = Actor(
        organization_id=auth.organization_id,
        role=Role(user.role or Role.OPERATOR.value),
        user_id=user.id,
        session_id=auth.id,
        ip=ip,
    )
    return ResolvedSession(actor=actor, user=user, session=auth)


def revoke_session(session: Session, session_id: uuid.UUID) -> None:
    """End one session (logout)."""
    with as_system(session):
        session.execute(
            update(AuthSession)
            .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )


def revoke_user_sessions(session: Session, user_id: uuid.UUID) -> int:
    """End every session of a user (deactivation, password change)."""
    with as_system(session):
        result = session.execute(
            update(AuthSession)
            .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
