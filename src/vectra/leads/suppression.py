"""The organization-wide do-not-contact list: single addresses and whole domains.

Fed by unsubscribes, hard bounces and complaints (the mail domain calls `suppress`),
and by people (API, CSV). Checked at import (`suppressed_among`, one query for a batch) and
again right before each send (`is_suppressed`). Values are stored lower-cased in plain text:
people must be able to read and remove what they added, and the check is an index lookup.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from enum import StrEnum

from sqlalchemy import delete, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from vectra.accounts import audit
from vectra.accounts.actor import Actor
from vectra.db.pagination import Page, paginate
from vectra.errors import InvalidInput, NotFound
from vectra.leads.normalize import BadEmail, normalize_email
from vectra.leads.tables import Suppression


class SuppressionReason(StrEnum):
    UNSUBSCRIBE = "unsubscribe"
    HARD_BOUNCE = "hard_bounce"
    COMPLAINT = "complaint"
    MANUAL = "manual"
    IMPORT = "import"


def _domain_value(raw: str) -> str:
    value = raw.strip().lower().lstrip("@").removeprefix("www.")
    try:
        value = value.encode("idna").decode("ascii")
        value = value.encode("ascii").decode("idna")  # one spelling: Unicode form
    except UnicodeError:
        raise InvalidInput(f"'{raw}' is not a valid domain.", field="value") from None
    if "." not in value or " " in value or len(value) > 255:
        raise InvalidInput(f"'{raw}' is not a valid domain.", field="value")
    return value


def parse_entry(value: str) -> tuple[str, str]:
    """('email', address) or ('domain', domain) from what a person typed."""
    if "@" in value.strip().lstrip("@"):
        try:
            return "email", normalize_email(value)
        except BadEmail as exc:
            raise InvalidInput(f"'{value}' is not a valid email: {exc}", field="value") from None
    return "domain", _domain_value(value)


def suppress(
    session: Session,
    actor: Actor,
    value: str,
    reason: SuppressionReason | str,
    source: str | None = None,
) -> Suppression:
    """Add an email or domain to the organization's list (idempotent: returns the entry)."""
    kind, normalized = parse_entry(value)
    reason = SuppressionReason(reason)
    session.execute(
        insert(Suppression)
        .values(
            organization_id=actor.organization_id,
            kind=kind,
            value=normalized,
            reason=reason.value,
            source=(source or None) and source[:100],
            created_by=actor.user_id,
        )
        .on_conflict_do_nothing(index_elements=["organization_id", "kind", "value"])
    )
    entry = session.scalar(
        select(Suppression).where(
            Suppression.organization_id == actor.organization_id,
            Suppression.kind == kind,
            Suppression.value == normalized,
        )
    )
    assert entry is not None
    return entry


def is_suppressed(session: Session, actor: Actor, email: str) -> bool:
    """True when this address or its domain is on the organization's list."""
    try:
        address = normalize_email(email)
    except BadEmail:
        return False
    return bool(suppressed_among(session, actor, [address]))


def suppressed_among(session: Session, actor: Actor, emails: Iterable[str]) -> set[str]:
    """Which of these normalized addresses are suppressed (by address or by domain)."""
    addresses = list(set(emails))
    if not addresses:
        return set()
    rows = session.execute(
        text(
            "SELECT e.email FROM unnest(CAST(:emails AS text[])) AS e(email) "
            "WHERE EXISTS (SELECT 1 FROM suppressions s WHERE s.organization_id = :org AND ("
            "(s.kind = 'email' AND s.value = e.email) OR "
            "(s.kind = 'domain' AND s.value = split_part(e.email, '@', 2))))"
        ),
        {"emails": addresses, "org": actor.organization_id},
    )
    # Erased people stay suppressed under a peppered hash of their address (privacy domain).
    from vectra.privacy.hashing import hashed_suppressed

    found = {row[0] for row in rows}
    return found | hashed_suppressed(session, actor.organization_id, addresses)


def get_suppression(session: Session, actor: Actor, suppression_id: uuid.UUID) -> Suppression:
    entry = session.scalar(
        select(Suppression).where(
            Suppression.id == suppression_id,
            Suppression.organization_id == actor.organization_id,
        )
    )
    if entry is None:
        raise NotFound("Suppression not found.")
    return entry


def list_suppressions(
    session: Session,
    actor: Actor,
    *,
    q: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[Suppression]:
    """The organization's list, newest first; `q` matches the start of a value."""
    statement = select(Suppression).where(Suppression.organization_id == actor.organization_id)
    if q:
        statement = statement.where(
            Suppression.value.startswith(q.strip().lower(), autoescape=True)
        )
    return paginate(
        statement,
        execute=lambda s: session.scalars(s).all(),
        sort=Suppression.created_at,
        id_column=Suppression.id,
        cursor=cursor,
        limit=limit,
    )


def unsuppress(session: Session, actor: Actor, suppression_id: uuid.UUID) -> None:
    """Remove an entry: the address may be contacted again, so the removal is audited."""
    entry = get_suppression(session, actor, suppression_id)
    record_removal(session, actor, entry)
    session.execute(delete(Suppression).where(Suppression.id == entry.id))
    session.flush()


def record_removal(session: Session, actor: Actor, entry: Suppression) -> None:
    """Audit a removal: who made this address contactable again, and what it had been."""
    audit.record(
        session,
        actor,
        "suppression.removed",
        object_type="suppression",
        object_id=entry.id,
        details={
            "kind": entry.kind,
            "value": entry.value,
            "reason": entry.reason,
            "source": entry.source,
        },
    )
