"""Accounts rules: organizations and their users."""

from __future__ import annotations

import re
import secrets
import unicodedata
import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vectra.accounts import audit, throttle
from vectra.accounts.actor import Actor
from vectra.accounts.models import Organization, User
from vectra.accounts.passwords import (
    hash_password,
    is_common_password,
    needs_rehash,
    verify_password,
)
from vectra.accounts.roles import Role
from vectra.billing import service as billing
from vectra.db.base import utcnow
from vectra.db.tenancy import as_system
from vectra.errors import Conflict, InvalidInput, NotFound, Unauthenticated

MIN_PASSWORD_LENGTH = 10
_SLUG_MAX = 60


@dataclass(frozen=True)
class NewOrganization:
    organization: Organization
    owner: User


def normalize_email(email: str) -> str:
    """One spelling per address: trimmed and lower-cased (Ada@X.com is ada@x.com)."""
    return email.strip().lower()


def slugify(name: str) -> str:
    """ASCII, lower-case, hyphen-separated; never empty."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:_SLUG_MAX].strip("-")
    return slug or "org"


def check_password(password: str, *, field: str = "password") -> None:
    """Refuse passwords that are too short or on the list of the most common ones."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"Password must be at least {MIN_PASSWORD_LENGTH} characters long.", field=field
        )
    if is_common_password(password):
        raise InvalidInput(
            "This password is one of the most common ones; choose another.", field=field
        )


def email_taken(session: Session, email: str) -> bool:
    with as_system(session):
        return (
            session.scalar(select(User.id).where(func.lower(User.email) == normalize_email(email)))
            is not None
        )


def _insert_organization(session: Session, name: str) -> Organization:
    base = slugify(name)
    for attempt in range(20):
        slug = base if attempt == 0 else f"{base}-{secrets.token_hex(2)}"
        taken = session.scalar(select(Organization.id).where(Organization.slug == slug))
        if taken:
            continue
        organization = Organization(name=name.strip(), slug=slug)
        # A savepoint: a concurrent sign-up taking the same slug costs a retry, not the request.
        try:
            with session.begin_nested():
                session.add(organization)
                session.flush()
        except IntegrityError:
            continue
        return organization
    raise Conflict(
        "Could not find a free slug for this organization name.", field="organization_name"
    )


def create_organization(
    session: Session,
    *,
    name: str,
    owner_email: str,
    password: str,
    first_name: str | None = None,
    last_name: str | None = None,
    ip: str | None = None,
) -> NewOrganization:
    """Create an organization, its owner and its trial subscription, all or nothing."""
    if not name or not name.strip():
        raise InvalidInput("Organization name is required.", field="organization_name")
    check_password(password)
    email = normalize_email(owner_email)
    with as_system(session):
        if email_taken(session, email):
            raise Conflict("An account with this email already exists.", field="email")
        organization = _insert_organization(session, name)
        owner = User(
            organization_id=organization.id,
            email=email,
            password_hash=hash_password(password),
            first_name=(first_name or "").strip() or None,
            last_name=(last_name or "").strip() or None,
            role=Role.OWNER.value,
        )
        session.add(owner)
        try:
            with session.begin_nested():
                session.flush()
        except IntegrityError as exc:
            raise Conflict("An account with this email already exists.", field="email") from exc
        billing.start_trial(session, organization.id)
    actor = Actor(organization_id=organization.id, role=Role.OWNER, user_id=owner.id, ip=ip)
    audit.record(
        session,
        actor,
        "user.signed_up",
        object_type="organization",
        object_id=organization.id,
        details={"email": email, "slug": organization.slug},
    )
    return NewOrganization(organization=organization, owner=owner)


def authenticate(session: Session, *, email: str, password: str) -> User:
    """The active user with this email and password; one answer for every failure."""
    with as_system(session):
        user = session.scalar(select(User).where(func.lower(User.email) == normalize_email(email)))
        # verify_password spends one argon2 verification even for an unknown email, so the
        # response time does not reveal which accounts exist.
        valid = verify_password(user.password_hash if user else None, password)
        if user is None or not valid or not user.is_active or user.organization_id is None:
            raise Unauthenticated("Invalid email or password.")
        user.last_login_at = utcnow()
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        session.flush()
    return user


def get_user(session: Session, actor: Actor, user_id: uuid.UUID) -> User:
    """A user of the actor's organization (404 for any other)."""
    user = session.scalar(
        select(User).where(User.id == user_id, User.organization_id == actor.organization_id)
    )
    if user is None:
        raise NotFound("User not found.")
    return user


def get_organization(session: Session, actor: Actor) -> Organization:
    organization = session.scalar(
        select(Organization).where(Organization.id == actor.organization_id)
    )
    if organization is None:
        raise NotFound("Organization not found.")
    return organization


def role_of(user: User) -> Role:
    return Role(user.role or Role.OPERATOR.value)


def sign_in(session: Session, *, email: str, password: str, ip: str | None) -> User | None:
    """Check the password under the brute-force limits; None for a failed attempt.

    A failure is returned, not raised, so the request keeps (commits) the attempt it just
    recorded; 429 is raised while the email or IP must wait.
    """
    key = normalize_email(email)
    throttle.check_login_allowed(session, email=key, ip=ip)
    try:
        user = authenticate(session, email=email, password=password)
    except Unauthenticated:
        throttle.record_failure(session, email=key, ip=ip)
        return None
    throttle.record_success(session, email=key)
    assert user.organization_id is not None
    actor = Actor(organization_id=user.organization_id, role=role_of(user), user_id=user.id, ip=ip)
    audit.record(session, actor, "user.signed_in", object_type="user", object_id=user.id)
    return user
