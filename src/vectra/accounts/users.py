"""Managing an organization's users: roles, deactivation, and the last-owner rule."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from vectra.accounts import audit, sessions
from vectra.accounts.actor import Actor
from vectra.accounts.models import User
from vectra.accounts.roles import Role
from vectra.accounts.service import get_user
from vectra.errors import Conflict, InvalidInput, PermissionDenied


def list_users(session: Session, actor: Actor, *, include_inactive: bool = True) -> list[User]:
    query = select(User).where(User.organization_id == actor.organization_id)
    if not include_inactive:
        query = query.where(User.is_active.is_(True))
    return list(session.scalars(query.order_by(User.created_at, User.id)))


def _lock_active_owners(session: Session, organization_id: uuid.UUID) -> list[uuid.UUID]:
    # Row locks on every active owner: two concurrent demotions of the last two owners
    # queue here, and the second re-reads the first's committed change (READ COMMITTED
    # re-checks locked rows), so it sees one owner left and is refused.
    return list(
        session.scalars(
            select(User.id)
            .where(
                User.organization_id == organization_id,
                User.role == Role.OWNER.value,
                User.is_active.is_(True),
            )
            .order_by(User.id)
            .with_for_update()
        )
    )


def _check_may_manage(actor: Actor, target: User, new_role: Role | None) -> None:
    if actor.role is not Role.OWNER:
        if target.role == Role.OWNER.value:
            raise PermissionDenied("Only an owner can change or deactivate an owner.")
        if new_role is Role.OWNER:
            raise PermissionDenied("Only an owner can make someone an owner.", field="role")


def _check_not_last_owner(session: Session, actor: Actor, target: User) -> None:
    if target.role != Role.OWNER.value or not target.is_active:
        return
    owners = _lock_active_owners(session, actor.organization_id)
    if owners == [target.id] or not owners:
        raise Conflict(
            "This is the organization's last owner; make someone else an owner first.",
            field="role",
        )
    session.refresh(target)  # the lock may have waited on a change to this very row
    if target.id not in owners:
        raise Conflict("This user changed meanwhile; reload and try again.", field="role")


def update_user(
    session: Session,
    actor: Actor,
    user_id: uuid.UUID,
    *,
    role: Role | None = None,
    is_active: bool | None = None,
) -> User:
    """Change a user's role or activity; the last active owner stays an active owner."""
    target = get_user(session, actor, user_id)
    _check_may_manage(actor, target, role)
    losing_owner = (role is not None and role is not Role.OWNER) or is_active is False
    if losing_owner:
        _check_not_last_owner(session, actor, target)
    if role is not None and role.value != target.role:
        previous = target.role
        target.role = role.value
        session.flush()
        audit.record(
            session,
            actor,
            "user.role_changed",
            object_type="user",
            object_id=target.id,
            details={"from": previous, "to": role.value},
        )
    if is_active is not None and is_active != target.is_active:
        target.is_active = is_active
        session.flush()
        revoked = 0
        if not is_active:
            # Deactivation takes effect on the very next request, not when tokens expire.
            revoked = sessions.revoke_user_sessions(session, target.id)
        audit.record(
            session,
            actor,
            "user.deactivated" if not is_active else "user.reactivated",
            object_type="user",
            object_id=target.id,
            details={"sessions_revoked": revoked} if not is_active else None,
        )
    return target


def deactivate_user(session: Session, actor: Actor, user_id: uuid.UUID) -> User:
    """Remove a user from the organization (kept for the record, unable to sign in)."""
    return update_user(session, actor, user_id, is_active=False)


def parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError as exc:
        raise InvalidInput(f"Unknown role '{value}'.", field="role") from exc
