"""Brute-force limits on sign-in: per account and per IP, with a growing delay.

A few failures are free; after that each further attempt must wait twice as long as the
last (capped), counted over a sliding window. Keys are the typed email (normalised), so an
unknown email is throttled exactly like a real one: the answers never tell them apart.
"""

from __future__ import annotations

import datetime as dt
import math
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import InstrumentedAttribute, Session

from vectra.accounts.models import LoginAttempt
from vectra.db.base import utcnow
from vectra.db.tenancy import as_system
from vectra.errors import RateLimited


@dataclass(frozen=True)
class Limit:
    free_failures: int
    window: dt.timedelta
    max_delay: dt.timedelta

    def delay_after(self, failures: int) -> dt.timedelta:
        """The wait after `failures` failures: none, then 1 s, 2 s, 4 s ... up to the cap."""
        if failures < self.free_failures:
            return dt.timedelta(0)
        seconds = 2 ** min(failures - self.free_failures, 20)
        return min(dt.timedelta(seconds=seconds), self.max_delay)


ACCOUNT_LIMIT = Limit(
    free_failures=5, window=dt.timedelta(minutes=15), max_delay=dt.timedelta(minutes=15)
)
# Wider for an IP: an office behind one NAT shares it.
IP_LIMIT = Limit(
    free_failures=20, window=dt.timedelta(minutes=15), max_delay=dt.timedelta(minutes=15)
)
_KEEP = dt.timedelta(days=1)


def _wait(
    session: Session, column: InstrumentedAttribute[Any], value: str, limit: Limit, now: dt.datetime
) -> float:
    failures, last = session.execute(
        select(func.count(), func.max(LoginAttempt.created_at)).where(
            column == value,
            LoginAttempt.succeeded.is_(False),
            LoginAttempt.created_at > now - limit.window,
        )
    ).one()
    if not failures or last is None:
        return 0.0
    remaining = (last + limit.delay_after(int(failures)) - now).total_seconds()
    return max(remaining, 0.0)


def check_login_allowed(session: Session, *, email: str, ip: str | None) -> None:
    """Raise 429 (with Retry-After) while this email or IP must still wait."""
    now = utcnow()
    with as_system(session):
        # Serialise attempts on one email, so parallel guesses cannot all slip in before
        # the first failure is written.
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": "login:" + email}
        )
        wait = _wait(session, LoginAttempt.email, email, ACCOUNT_LIMIT, now)
        if ip:
            wait = max(wait, _wait(session, LoginAttempt.ip, ip, IP_LIMIT, now))
    if wait > 0:
        raise RateLimited(
            "Too many failed sign-in attempts; wait before trying again.",
            retry_after=max(1, math.ceil(wait)),
        )


def record_failure(session: Session, *, email: str, ip: str | None) -> None:
    with as_system(session):
        session.add(LoginAttempt(email=email, ip=ip, succeeded=False, created_at=utcnow()))
        # Old rows are worthless; prune now and then rather than in every request.
        if secrets.randbelow(100) == 0:
            session.execute(delete(LoginAttempt).where(LoginAttempt.created_at < utcnow() - _KEEP))
        session.flush()


def record_success(session: Session, *, email: str) -> None:
    """A correct password clears the account's failures (the IP's remain)."""
    with as_system(session):
        session.execute(
            delete(LoginAttempt).where(
                LoginAttempt.email == email, LoginAttempt.succeeded.is_(False)
            )
        )
