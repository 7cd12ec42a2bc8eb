"""Invitations: an admin invites an email with a role; the invitee sets a password."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vectra.accounts import audit, notify, sessions
from vectra.accounts.actor import Actor
from vectra.accounts.models import Invitation, Organization, User
from vectra.accounts.passwords import hash_password
from vectra.accounts.roles import Role
from vectra.accounts.service import check_password, email_taken, normalize_email
from vectra.db.base import utcnow
from vectra.db.tenancy import as_system
from vectra.errors import Conflict, NotFound, PermissionDenied, VectraError
from vectra.settings import get_settings

LIFETIME = dt.timedelta(days=7)
TOKEN_PREFIX = "vi_"  # noqa: S105 (a prefix, not a secret)


class InvalidInvitation(VectraError):
    """This invitation is invalid, expired, revoked or already accepted."""

    status_code = 400
    code = "invalid_token"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message, field="token")


def status_of(invitation: Invitation, now: dt.datetime | None = None) -> str:
    if invitation.accepted_at is not None:
        return "accepted"
    if invitation.revoked_at is not None:
        return "revoked"
    if invitation.expires_at <= (now or utcnow()):
        return "expired"
    return "pending"


def _get(session: Session, actor: Actor, invitation_id: uuid.UUID) -> Invitation:
    invitation = session.scalar(
        select(Invitation).where(
            Invitation.id == invitation_id, Invitation.organization_id == actor.organization_id
        )
    )
    if invitation is None:
        raise NotFound("Invitation not found.")
    return invitation


def invite(session: Session, actor: Actor, *, email: str, role: Role) -> Invitation:
    """Invite `email` into the actor's organization with `role`, and mail the link."""
    if role is Role.OWNER and actor.role is not Role.OWNER:
        raise PermissionDenied("Only an owner can invite an owner.", field="role")
    address = normalize_email(email)
    if email_taken(session, address):
        raise Conflict("An account with this email already exists.", field="email")
    now = utcnow()
    # An expired invitation no longer blocks a new one (one open invitation per address).
    session.execute(
        update(Invitation)
        .where(
            Invitation.organization_id == actor.organization_id,
            func.lower(Invitation.email) == address,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at <= now,
        )
        .values(revoked_at=now)
    )
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    invitation = Invitation(
        organization_id=actor.organization_id,
        email=address,
        role=role.value,
        token_hash=sessions.hash_token(token),
        invited_by=actor.user_id,
        created_at=now,
        expires_at=now + LIFETIME,
    )
    try:
        with session.begin_nested():
            session.add(invitation)
            session.flush()
    except IntegrityError as exc:
        raise Conflict("This email already has a pending invitation.", field="email") from exc
    organization = session.scalar(
        select(Organization).where(Organization.id == actor.organization_id)
    )
    assert organization is not None
    link = f"{get_settings().base_url.rstrip('/')}/invitations/accept?token={token}"
    notify.send_system_mail(
        to=address,
        subject=f"You are invited to {organization.name} on Vectra",
        body=(
            f"You are invited to join {organization.name} on Vectra as {role.value}.\n\n"
            f"Accept and choose your password here (valid for 7 days):\n\n{link}\n"
        ),
    )
    audit.record(
        session,
        actor,
        "invitation.created",
        object_type="invitation",
        object_id=invitation.id,
        details={"email": address, "role": role.value},
    )
    return invitation


def list_invitations(session: Session, actor: Actor) -> list[Invitation]:
    return list(
        session.scalars(
            select(Invitation)
            .where(Invitation.organization_id == actor.organization_id)
            .order_by(Invitation.created_at.desc(), Invitation.id)
        )
    )


def revoke_invitation(session: Session, actor: Actor, invitation_id: uuid.UUID) -> Invitation:
    """Withdraw a pending invitation (409 once accepted)."""
    invitation = _get(session, actor, invitation_id)
    if invitation.accepted_at is not None:
        raise Conflict("This invitation was already accepted; deactivate the user instead.")
    if invitation.revoked_at is None:
        invitation.revoked_at = utcnow()
        session.flush()
        audit.record(
            session,
            actor,
            "invitation.revoked",
            object_type="invitation",
            object_id=invitation.id,
            details={"email": invitation.email},
        )
    return invitation


@dataclass(frozen=True)
class InvitationPreview:
    """What the acceptance page shows before the invitee chooses a password."""

    status: str  # pending, accepted, revoked, expired, or unknown for a wrong link
    organization_name: str | None = None
    email: str | None = None
    role: str | None = None


def preview_invitation(session: Session, token: str) -> InvitationPreview:
    """The organization, role and state an invitation link names (the token is not spent)."""
    with as_system(session):
        found = session.execute(
            select(Invitation, Organization.name)
            .join(Organization, Organization.id == Invitation.organization_id)
            .where(Invitation.token_hash == sessions.hash_token(token))
        ).first()
    if found is None:
        return InvitationPreview("unknown")
    invitation, organization_name = found
    return InvitationPreview(
        status_of(invitation), organization_name, invitation.email, invitation.role
    )


@dataclass(frozen=True)
class AcceptedInvitation:
    user: User
    organization: Organization


def accept_invitation(
    session: Session,
    *,
    token: str,
    password: str,
    first_name: str | None = None,
    last_name: str | None = None,
    ip: str | None = None,
) -> AcceptedInvitation:
    """Create the invitee's account in the inviting organization (the link proves the email)."""
    check_password(password)
    now = utcnow()
    with as_system(session):
        # One conditional UPDATE: two tabs accepting the same link cannot both succeed.
        invitation = session.scalar(
            update(Invitation)
            .where(
                Invitation.token_hash == sessions.hash_token(token),
                Invitation.accepted_at.is_(None),
                Invitation.revoked_at.is_(None),
                Invitation.expires_at > now,
            )
            .values(accepted_at=now)
            .returning(Invitation)
        )
        if invitation is None:
            raise InvalidInvitation()
        if email_taken(session, invitation.email):
            raise Conflict("An account with this email already exists.", field="email")
        user = User(
            organization_id=invitation.organization_id,
            email=invitation.email,
            password_hash=hash_password(password),
            first_name=(first_name or "").strip() or None,
            last_name=(last_name or "").strip() or None,
            role=invitation.role,
            email_verified_at=now,
        )
        session.add(user)
        try:
            with session.begin_nested():
                session.flush()
        except IntegrityError as exc:
            raise Conflict("An account with this email already exists.", field="email") from exc
        invitation.accepted_user_id = user.id
        organization = session.scalar(
            select(Organization).where(Organization.id == invitation.organization_id)
        )
        assert organization is not None
        session.flush()
    actor = Actor(
        organization_id=invitation.organization_id,
        role=Role(invitation.role),
        user_id=user.id,
        ip=ip,
    )
    audit.record(
        session,
        actor,
        "invitation.accepted",
        object_type="invitation",
        object_id=invitation.id,
        details={"email": invitation.email, "role": invitation.role, "user_id": str(user.id)},
    )
    return AcceptedInvitation(user=user, organization=organization)
