"""Email verification and password reset: mailed, expiring, single-use tokens.

Tokens are 256-bit random strings stored only as SHA-256, so a database leak yields no
working link; `used_at` is set by one conditional UPDATE, so a token works exactly once
even when two requests race with it.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from vectra.accounts import audit, notify, sessions
from vectra.accounts.actor import Actor
from vectra.accounts.models import AccountToken, User
from vectra.accounts.passwords import hash_password
from vectra.accounts.roles import Role
from vectra.accounts.service import check_password, get_user, normalize_email, role_of
from vectra.db.base import utcnow
from vectra.db.tenancy import as_system
from vectra.errors import Conflict, PermissionDenied, VectraError
from vectra.settings import get_settings

log = logging.getLogger(__name__)

VERIFY_EMAIL = "verify_email"
PASSWORD_RESET = "password_reset"  # noqa: S105 (a purpose name)
LIFETIMES = {VERIFY_EMAIL: dt.timedelta(days=2), PASSWORD_RESET: dt.timedelta(hours=1)}
# At most this many mails of one purpose per user per hour: the request routes are public.
MAX_MAILS_PER_HOUR = 3
_PREFIX = {VERIFY_EMAIL: "ve_", PASSWORD_RESET: "pr_"}


def _link(path: str, token: str) -> str:
    return f"{get_settings().base_url.rstrip('/')}{path}?token={token}"


def issue_token(session: Session, user: User, purpose: str) -> str:
    """A new token for `user`; older unused ones of the same purpose stop working."""
    assert user.organization_id is not None
    now = utcnow()
    token = _PREFIX[purpose] + secrets.token_urlsafe(32)
    with as_system(session):
        session.execute(
            update(AccountToken)
            .where(
                AccountToken.user_id == user.id,
                AccountToken.purpose == purpose,
                AccountToken.used_at.is_(None),
            )
            .values(expires_at=func.least(AccountToken.expires_at, now))
        )
        session.add(
            AccountToken(
                organization_id=user.organization_id,
                user_id=user.id,
                purpose=purpose,
                token_hash=sessions.hash_token(token),
                email=user.email,
                created_at=now,
                expires_at=now + LIFETIMES[purpose],
            )
        )
        session.flush()
    return token


def _recent_mails(session: Session, user: User, purpose: str) -> int:
    with as_system(session):
        return int(
            session.scalar(
                select(func.count()).where(
                    AccountToken.user_id == user.id,
                    AccountToken.purpose == purpose,
                    AccountToken.created_at > utcnow() - dt.timedelta(hours=1),
                )
            )
            or 0
        )


def consume_token(session: Session, token: str, purpose: str) -> tuple[AccountToken, User]:
    """Spend a token once: 400 naming `token` when unknown, expired or already used."""
    now = utcnow()
    with as_system(session):
        row = session.scalar(
            update(AccountToken)
            .where(
                AccountToken.token_hash == sessions.hash_token(token),
                AccountToken.purpose == purpose,
                AccountToken.used_at.is_(None),
                AccountToken.expires_at > now,
            )
            .values(used_at=now)
            .returning(AccountToken)
        )
        if row is None:
            raise InvalidToken()
        user = session.scalar(select(User).where(User.id == row.user_id))
        if user is None or not user.is_active:
            raise InvalidToken()
    return row, user


@dataclass(frozen=True)
class TokenCheck:
    """What a mailed link's token is now, without spending it (for the page it opens)."""

    state: str  # "valid", "expired" (or replaced by a newer link), "used" or "unknown"
    email_verified: bool = False


def check_token(session: Session, token: str, purpose: str) -> TokenCheck:
    """Read a token's state so a page can say why a link no longer works (reads only)."""
    with as_system(session):
        row = session.scalar(
            select(AccountToken).where(
                AccountToken.token_hash == sessions.hash_token(token),
                AccountToken.purpose == purpose,
            )
        )
        user = session.scalar(select(User).where(User.id == row.user_id)) if row else None
    if row is None or user is None or not user.is_active:
        return TokenCheck("unknown")
    verified = user.email_verified_at is not None
    if row.used_at is not None:
        return TokenCheck("used", verified)
    if row.expires_at <= utcnow():
        return TokenCheck("expired", verified)
    return TokenCheck("valid", verified)


class InvalidToken(VectraError):
    """This link is invalid, expired or already used; ask for a new one."""

    status_code = 400
    code = "invalid_token"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message, field="token")


def send_verification_email(session: Session, user: User) -> None:
    """Mail `user` a link that proves they own their address."""
    token = issue_token(session, user, VERIFY_EMAIL)
    notify.send_system_mail(
        to=user.email,
        subject="Confirm your email address for Vectra",
        body=(
            f"Hello {user.first_name or ''},\n\n"
            "Confirm your email address by opening this link (valid for 48 hours):\n\n"
            f"{_link('/verify-email', token)}\n\n"
            "If you did not sign up for Vectra, ignore this message.\n"
        ),
    )


def send_verification_after_signup(session: Session, user: User) -> bool:
    """Best effort at sign-up: a mail outage must not stop anyone from signing up."""
    if not notify.mail_configured():
        return False
    try:
        with session.begin_nested():
            send_verification_email(session, user)
    except VectraError as exc:
        log.warning("verification mail after sign-up not sent: %s", exc)
        return False
    return True


def request_email_verification(session: Session, actor: Actor) -> None:
    """Mail the signed-in user a new verification link (409 when already verified)."""
    if actor.user_id is None:
        raise PermissionDenied("Only a signed-in user can verify an email address.")
    user = get_user(session, actor, actor.user_id)
    if user.email_verified_at is not None:
        raise Conflict("This email address is already verified.", field="email")
    if _recent_mails(session, user, VERIFY_EMAIL) >= MAX_MAILS_PER_HOUR:
        raise Conflict("A verification email was sent several times already; check your inbox.")
    send_verification_email(session, user)


def verify_email(session: Session, token: str) -> User:
    """Mark the address the token was sent to as verified."""
    row, user = consume_token(session, token, VERIFY_EMAIL)
    if normalize_email(user.email) != normalize_email(row.email):
        raise InvalidToken("This link was sent to an address the account no longer uses.")
    with as_system(session):
        if user.email_verified_at is None:
            user.email_verified_at = utcnow()
        session.flush()
    return user


def request_password_reset(session: Session, *, email: str) -> None:
    """Mail a reset link if an active account has this email; the same outcome otherwise."""
    if not notify.mail_configured():
        # Said for every address alike, so it reveals nothing about accounts.
        raise notify.MailNotConfigured()
    with as_system(session):
        user = session.scalar(select(User).where(func.lower(User.email) == normalize_email(email)))
    if user is None or not user.is_active or user.organization_id is None:
        return
    if _recent_mails(session, user, PASSWORD_RESET) >= MAX_MAILS_PER_HOUR:
        return  # quietly: an answer here would confirm the account exists
    token = issue_token(session, user, PASSWORD_RESET)
    notify.send_system_mail(
        to=user.email,
        subject="Reset your Vectra password",
        body=(
            "Someone asked to reset the password of your Vectra account.\n\n"
            f"Choose a new password here (valid for 1 hour):\n\n{_link('/reset-password', token)}"
            "\n\nIf it was not you, ignore this message: your password is unchanged.\n"
        ),
    )


def reset_password(session: Session, *, token: str, password: str, ip: str | None) -> User:
    """Set a new password from a reset link; every session of the user is revoked."""
    check_password(password)
    row, user = consume_token(session, token, PASSWORD_RESET)
    with as_system(session):
        user.password_hash = hash_password(password)
        # The link reached this mailbox, which proves the address.
        if user.email_verified_at is None and normalize_email(row.email) == user.email:
            user.email_verified_at = utcnow()
        session.flush()
        revoked = sessions.revoke_user_sessions(session, user.id)
    assert user.organization_id is not None
    actor = Actor(organization_id=user.organization_id, role=role_of(user), user_id=user.id, ip=ip)
    audit.record(
        session,
        actor,
        "user.password_reset",
        object_type="user",
        object_id=user.id,
        details={"sessions_revoked": revoked},
    )
    return user


def require_verified_owner(session: Session, actor: Actor) -> None:
    """Refuse (403) unless the organization has an active owner with a verified email."""
    verified = session.scalar(
        select(func.count()).where(
            User.organization_id == actor.organization_id,
            User.role == Role.OWNER.value,
            User.is_active.is_(True),
            User.email_verified_at.is_not(None),
        )
    )
    if not verified:
        raise PermissionDenied(
            "An owner of this organization must verify their email address before sending.",
            field="email_verified",
        )
