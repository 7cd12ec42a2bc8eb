"""The approval queue: list, edit, approve, reject, bulk approve; and per-variant results.

A draft is `pending` until a manager approves it (`approved`, with `approved_by/at`) or
rejects it with a reason (`rejected`). A draft with a blocking flag (a missing variable, no
postal address) cannot be approved: editing re-runs the renderer's checks on the new text,
so the only way through is a message without holes. Only pending or rejected drafts can be
edited; an edit returns the draft to `pending`.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from vectra.accounts.actor import Actor
from vectra.accounts.models import Organization
from vectra.db.base import utcnow
from vectra.errors import InvalidInput, InvalidTransition, NotFound
from vectra.leads.models import Lead
from vectra.mail import compose
from vectra.mail.checker import check_draft, is_blocking
from vectra.mail.drafts import allowed_link_domains, lead_variables, postal_address
from vectra.mail.models import Email
from vectra.mail.sequence import parse_sequence

EMAIL_STATUSES = ("pending", "approved", "rejected", "sent", "delivered", "bounced")
EDITABLE = frozenset({"pending", "rejected"})
MAX_BULK = 500


def get_email(session: Session, actor: Actor, email_id: uuid.UUID) -> Email:
    """One of the actor's organization's emails (404 for anyone else's)."""
    email = session.scalars(
        select(Email).where(Email.id == email_id, Email.organization_id == actor.organization_id)
    ).one_or_none()
    if email is None:
        raise NotFound("No such email.")
    return email


def _encode_cursor(email: Email) -> str:
    raw = json.dumps([email.created_at.isoformat() if email.created_at else None, str(email.id)])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[dt.datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created, ident = json.loads(raw)
        return dt.datetime.fromisoformat(created), uuid.UUID(ident)
    except (ValueError, TypeError) as exc:
        raise InvalidInput("Not a cursor this API gave out.", field="cursor") from exc


@dataclass
class EmailPage:
    items: list[Email]
    next_cursor: str | None


def list_emails(
    session: Session,
    actor: Actor,
    *,
    status: str | None = "pending",
    campaign_id: uuid.UUID | None = None,
    lead_id: uuid.UUID | None = None,
    flagged: bool | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> EmailPage:
    """The queue, newest first, keyset-paginated by (created_at, id)."""
    if status is not None and status not in EMAIL_STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(EMAIL_STATUSES)}.", field="status")
    if not 1 <= limit <= 200:
        raise InvalidInput("limit must be between 1 and 200.", field="limit")
    query = select(Email).where(Email.organization_id == actor.organization_id)
    if status is not None:
        query = query.where(Email.status == status)
    if campaign_id is not None:
        query = query.where(Email.campaign_id == campaign_id)
    if lead_id is not None:
        query = query.where(Email.lead_id == lead_id)
    if flagged is not None:
        has_flags = func.jsonb_array_length(Email.review_flags) > 0
        query = query.where(has_flags if flagged else ~has_flags)
    if cursor:
        created, ident = _decode_cursor(cursor)
        query = query.where(
            or_(Email.created_at < created, and_(Email.created_at == created, Email.id < ident))
        )
    rows = list(
        session.scalars(query.order_by(Email.created_at.desc(), Email.id.desc()).limit(limit + 1))
    )
    more = len(rows) > limit
    items = rows[:limit]
    return EmailPage(items, _encode_cursor(items[-1]) if more and items else None)


def _recheck(session: Session, actor: Actor, email: Email) -> list[dict[str, Any]]:
    """The checker's flags for the draft's current text (after a person edited it)."""
    organization = session.get(Organization, actor.organization_id)
    lead = session.get(Lead, email.lead_id) if email.lead_id else None
    missing: list[str] = []
    allowed: set[str] = set()
    personalised: list[str] = []
    if lead is not None and organization is not None:
        from vectra.campaigns.models import Campaign  # seam: campaigns service get_campaign

        campaign = session.get(Campaign, email.campaign_id) if email.campaign_id else None
        if campaign is not None and campaign.email_template:
            try:
                sequence = parse_sequence(campaign.email_template)
                allowed = allowed_link_domains(sequence, organization, lead, {})
            except InvalidInput:
                allowed = set()
        lv = lead_variables(lead)
        opening = (email.personalization or {}).get("opening_line")
        personalised = [
            v for v in (lv["first_name"], lv["last_name"], lv["company_name"], opening) if v
        ]
    flags = check_draft(
        subject=email.subject,
        body=email.body,
        missing=missing,
        personalised_values=personalised,
        allowed_domains=allowed,
        postal_address=postal_address(organization) if organization else None,
    )
    return [f.as_json() for f in flags]


def edit_email(
    session: Session,
    actor: Actor,
    email_id: uuid.UUID,
    *,
    subject: str | None = None,
    body: str | None = None,
) -> Email:
    """Change a draft's text; it goes back to `pending` and is checked again.

    Only text is edited: the HTML part is rebuilt from it, escaped, so no reviewer can put
    markup (or script) in front of another reviewer or into a customer's outgoing mail.
    """
    email = get_email(session, actor, email_id)
    if email.status not in EDITABLE:
        raise InvalidTransition(f"A {email.status} email can no longer be edited.")
    if subject is not None:
        if not subject.strip() or len(subject) > 500:
            raise InvalidInput("subject must be 1 to 500 characters.", field="subject")
        email.subject = subject.strip()
    if body is not None:
        if not body.strip():
            raise InvalidInput("body must not be empty.", field="body")
        email.body = body.strip()
        email.body_html = compose.text_to_html(html.escape(email.body))
    email.review_flags = _recheck(session, actor, email)
    email.status = "pending"
    email.needs_review = True
    email.rejection_reason = None
    email.approved_by = None
    email.approved_at = None
    session.flush()
    return email


def _approve(actor: Actor, email: Email, now: dt.datetime) -> None:
    if email.status != "pending":
        raise InvalidTransition(f"Only pending emails can be approved; this one is {email.status}.")
    if is_blocking(email.review_flags or []):
        codes = sorted({f["code"] for f in email.review_flags if f.get("blocking")})
        raise InvalidTransition(
            "Fix this draft before approving it: " + ", ".join(codes), flags=codes
        )
    email.status = "approved"
    email.approved_by = actor.user_id
    email.approved_at = now


def approve_email(session: Session, actor: Actor, email_id: uuid.UUID) -> Email:
    """Approve one pending draft that has no blocking flag."""
    email = get_email(session, actor, email_id)
    _approve(actor, email, utcnow())
    session.flush()
    return email


def reject_email(session: Session, actor: Actor, email_id: uuid.UUID, *, reason: str) -> Email:
    """Reject a pending (or approved, not yet sent) draft, saying why."""
    reason = (reason or "").strip()
    if not reason or len(reason) > 2000:
        raise InvalidInput("Say why (1 to 2000 characters).", field="reason")
    email = get_email(session, actor, email_id)
    if email.status not in {"pending", "approved"}:
        raise InvalidTransition(f"A {email.status} email cannot be rejected.")
    email.status = "rejected"
    email.rejection_reason = reason
    # The seed has one reviewer column: it names whoever decided, approve or reject.
    email.approved_by = actor.user_id
    email.approved_at = utcnow()
    session.flush()
    return email


@dataclass
class BulkResult:
    approved: list[uuid.UUID]
    skipped: dict[uuid.UUID, str]


def bulk_approve(session: Session, actor: Actor, email_ids: list[uuid.UUID]) -> BulkResult:
    """Approve many drafts; each one that cannot be approved is reported with the reason."""
    if not email_ids or len(email_ids) > MAX_BULK:
        raise InvalidInput(f"Give 1 to {MAX_BULK} email ids.", field="email_ids")
    wanted = list(dict.fromkeys(email_ids))
    found = {
        e.id: e
        for e in session.scalars(
            select(Email)
            .where(Email.organization_id == actor.organization_id, Email.id.in_(wanted))
            .with_for_update()
        )
    }
    result = BulkResult([], {})
    now = utcnow()
    for ident in wanted:
        email = found.get(ident)
        if email is None:
            result.skipped[ident] = "not_found"
            continue
        try:
            _approve(actor, email, now)
        except InvalidTransition as exc:
            result.skipped[ident] = exc.message
            continue
        result.approved.append(ident)
    session.flush()
    return result


def variant_stats(session: Session, actor: Actor, campaign_id: uuid.UUID) -> list[dict[str, Any]]:
    """Sent, opened, clicked, replied, bounced per (step, variant) of a campaign (people only)."""
    from vectra.campaigns.models import Campaign  # seam: campaigns service get_campaign

    owned = session.scalar(
        select(Campaign.id).where(
            Campaign.id == campaign_id, Campaign.organization_id == actor.organization_id
        )
    )
    if owned is None:
        raise NotFound("No such campaign.")
    sent = Email.sent_at.is_not(None)
    rows = session.execute(
        select(
            Email.sequence_step,
            Email.variant,
            func.count().label("drafts"),
            func.count().filter(sent).label("sent"),
            func.count().filter(Email.opened_at.is_not(None)).label("opened"),
            func.count().filter(Email.clicked_at.is_not(None)).label("clicked"),
            func.count().filter(Email.replied_at.is_not(None)).label("replied"),
            func.count().filter(Email.bounced_at.is_not(None)).label("bounced"),
            func.sum(case((sent, Email.machine_open_count), else_=0)).label("machine_opens"),
        )
        .where(
            Email.organization_id == actor.organization_id,
            Email.campaign_id == campaign_id,
            Email.sequence_step.is_not(None),
        )
        .group_by(Email.sequence_step, Email.variant)
        .order_by(Email.sequence_step, Email.variant)
    ).all()
    out = []
    for row in rows:
        base = row.sent or 0
        out.append(
            {
                "step": row.sequence_step,
                "variant": row.variant,
                "drafts": row.drafts,
                "sent": row.sent,
                "opened": row.opened,
                "clicked": row.clicked,
                "replied": row.replied,
                "bounced": row.bounced,
                "machine_opens": int(row.machine_opens or 0),
                "open_rate": round(row.opened / base, 4) if base else None,
                "click_rate": round(row.clicked / base, 4) if base else None,
                "reply_rate": round(row.replied / base, 4) if base else None,
                "bounce_rate": round(row.bounced / base, 4) if base else None,
            }
        )
    return out
