"""Drafting a qualified lead's sequence, and the final parts of a message at send time.

`draft_sequence_for_lead` renders every step of the campaign's `email_template` for one lead
into `emails` rows: `pending` for a person to review, or `approved` at once when the
campaign's review mode lets this step through and the checker has nothing to say. Drafting is
idempotent per (lead, step). `message_parts` adds what every sent message carries (the footer
with the postal address and the unsubscribe link, tracked links, the open pixel); the sending
engine calls it, so an edit in the queue can never drop the footer.
"""

from __future__ import annotations

import html
import re
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vectra.accounts.actor import Actor
from vectra.accounts.models import Organization, User
from vectra.accounts.organization import postal_address_text
from vectra.campaigns.models import Campaign
from vectra.db.base import utcnow
from vectra.errors import InvalidTransition, NotFound
from vectra.leads.models import Lead
from vectra.mail import compose, tokens
from vectra.mail.checker import check_draft, is_blocking
from vectra.mail.models import Email
from vectra.mail.personalize import OpeningLine, opening_line
from vectra.mail.sequence import ReviewMode, SequenceTemplate, choose_variant, parse_sequence

DRAFTABLE_LEAD_STATUSES = frozenset({"qualified"})


def _lead(session: Session, actor: Actor, lead_id: uuid.UUID) -> Lead:
    # Seam: the leads domain's service (get_lead) once it lands; same scoping rule.
    lead = session.scalars(
        select(Lead).where(Lead.id == lead_id, Lead.organization_id == actor.organization_id)
    ).one_or_none()
    if lead is None:
        raise NotFound("No such lead.")
    return lead


def _campaign(session: Session, actor: Actor, campaign_id: uuid.UUID | None) -> Campaign:
    campaign = session.scalars(
        select(Campaign).where(
            Campaign.id == campaign_id, Campaign.organization_id == actor.organization_id
        )
    ).one_or_none()
    if campaign is None:
        raise NotFound("No such campaign.")
    return campaign


def _organization(session: Session, actor: Actor) -> Organization:
    organization = session.get(Organization, actor.organization_id)
    if organization is None:
        raise NotFound("No such organization.")
    return organization


def postal_address(organization: Organization) -> str | None:
    return postal_address_text(organization)


def _domain(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip().lower()
    if "@" in value:
        return value.rsplit("@", 1)[1]
    host = re.sub(r"^[a-z]+://", "", value).split("/")[0]
    return host.removeprefix("www.") or None


def _sender(session: Session, campaign: Campaign) -> dict[str, Any]:
    # The mailbox is chosen at send time; the campaign's owner signs the draft meanwhile.
    user = session.get(User, campaign.created_by) if campaign.created_by else None
    if user is None:
        return {}
    name = " ".join(p for p in (user.first_name, user.last_name) if p) or None
    return {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "name": name,
        "email": user.email,
    }


def lead_variables(lead: Lead) -> dict[str, Any]:
    return {
        "first_name": lead.first_name,
        "last_name": lead.last_name,
        "email": lead.email,
        "job_title": lead.job_title,
        "company_name": lead.company_name,
        "company_size": lead.company_size,
        "linkedin_url": lead.linkedin_url,
        "phone": lead.phone,
    }


@dataclass
class DraftContent:
    subject: str
    body: str
    body_html: str
    flags: list[dict[str, Any]]


def render_draft(
    *,
    subject_source: str,
    body_source: str,
    context: dict[str, Any],
    personalised_values: list[str],
    allowed_domains: set[str],
    address: str | None,
) -> DraftContent:
    """Render one version of a step and run the checker over the result."""
    subject = compose.render_text(subject_source, context)
    body = compose.render_text(body_source, context)
    body_html = compose.render_html(body_source, context)
    missing = sorted(set(subject.missing) | set(body.missing))
    flags = check_draft(
        subject=subject.text,
        body=body.text,
        missing=missing,
        personalised_values=personalised_values,
        allowed_domains=allowed_domains,
        postal_address=address,
    )
    return DraftContent(subject.text, body.text, body_html.text, [f.as_json() for f in flags])


def needs_review(mode: ReviewMode, step_index: int, flags: list[dict[str, Any]]) -> bool:
    """Whether a person must look at this draft under the campaign's review mode."""
    if is_blocking(flags) or mode is ReviewMode.EVERY_MESSAGE:
        return True
    if mode is ReviewMode.FIRST_STEP:
        return step_index == 0
    return bool(flags)


def allowed_link_domains(
    sequence: SequenceTemplate, organization: Organization, lead: Lead, sender: dict[str, Any]
) -> set[str]:
    settings = organization.settings or {}
    candidates = [
        *sequence.link_domains,
        *(settings.get("link_domains") or []),
        _domain(settings.get("website")),
        _domain(sender.get("email")),
        _domain((lead.enrichment_data or {}).get("company_domain")),
    ]
    return {d for d in candidates if isinstance(d, str) and d}


@dataclass
class DraftSetting:
    """Everything a lead's drafts are rendered with: template variables, checker inputs."""

    context: dict[str, Any]
    opening: OpeningLine
    personalised: list[str]
    allowed_domains: set[str]
    address: str | None

    def render(self, subject_source: str, body_source: str) -> DraftContent:
        return render_draft(
            subject_source=subject_source,
            body_source=body_source,
            context=self.context,
            personalised_values=self.personalised,
            allowed_domains=self.allowed_domains,
            address=self.address,
        )


def draft_setting(
    session: Session, actor: Actor, lead: Lead, campaign: Campaign, sequence: SequenceTemplate
) -> DraftSetting:
    """The variables and checks a lead's drafts get (drafting and the editor's preview alike)."""
    organization = _organization(session, actor)
    enrichment = dict(lead.enrichment_data or {})
    sender = _sender(session, campaign)
    lead_vars = lead_variables(lead)
    opening = opening_line(lead_vars, enrichment)
    context = compose.build_context(
        lead=lead_vars,
        enrichment=enrichment,
        sender=sender,
        organization_name=organization.name,
        opening_line=opening.text,
    )
    personalised = [
        v for v in (lead.first_name, lead.last_name, lead.company_name, opening.text) if v
    ]
    return DraftSetting(
        context=context,
        opening=opening,
        personalised=personalised,
        allowed_domains=allowed_link_domains(sequence, organization, lead, sender),
        address=postal_address(organization),
    )


def draft_sequence_for_lead(session: Session, actor: Actor, lead_id: uuid.UUID) -> list[Email]:
    """Draft every step of the campaign's sequence for a qualified lead (idempotent per step)."""
    lead = _lead(session, actor, lead_id)
    if lead.status not in DRAFTABLE_LEAD_STATUSES:
        raise InvalidTransition(f"Only qualified leads get drafts; this lead is {lead.status}.")
    campaign = _campaign(session, actor, lead.campaign_id)
    sequence = parse_sequence(campaign.email_template)
    setting = draft_setting(session, actor, lead, campaign, sequence)
    opening = setting.opening
    existing = {
        e.sequence_step: e
        for e in session.scalars(
            select(Email).where(
                Email.organization_id == actor.organization_id,
                Email.lead_id == lead.id,
                Email.campaign_id == campaign.id,
                Email.sequence_step.is_not(None),
            )
        )
    }
    drafts: list[Email] = []
    now = utcnow()
    for index, step in enumerate(sequence.steps):
        if index in existing:
            drafts.append(existing[index])
            continue
        version = choose_variant(step, lead.id, index)
        content = setting.render(version.subject, version.body)
        review = needs_review(sequence.review_mode, index, content.flags)
        email = Email(
            organization_id=actor.organization_id,
            lead_id=lead.id,
            campaign_id=campaign.id,
            subject=content.subject[:500],
            body=content.body,
            body_html=content.body_html,
            sequence_step=index,
            delay_days=step.delay_days,
            variant=version.variant,
            review_flags=content.flags,
            needs_review=review,
            personalization=opening.as_json(),
            status="pending" if review else "approved",
            approved_at=None if review else now,
            scheduled_for=now if index == 0 else None,
        )
        session.add(email)
        drafts.append(email)
    session.flush()
    return drafts


@dataclass(frozen=True)
class MessageParts:
    text: str
    html: str


_HREF = re.compile(r'href="(https?://[^"]+)"', re.IGNORECASE)


def message_parts(
    session: Session,
    email: Email,
    *,
    track_opens: bool = True,
    track_clicks: bool = True,
    signature: str | None = None,
) -> MessageParts:
    """The text and HTML a sent message carries: body, footer, tracked links, open pixel."""
    from vectra.privacy import notice_for

    organization = session.get(Organization, email.organization_id)
    address = postal_address(organization) if organization else None
    unsubscribe = tokens.unsubscribe_url(email.id)
    notice = None
    if organization is not None and email.sequence_step == 0 and email.lead_id is not None:
        notice = notice_for(session, organization, session.get(Lead, email.lead_id))
    body = email.body.rstrip() + (f"\n\n{signature.strip()}" if signature else "")
    footer = compose.footer_text(address, unsubscribe)
    text = f"{body}\n\n{footer}\n" + (f"\n{notice}\n" if notice else "")
    body_html = email.body_html or compose.text_to_html(html.escape(email.body))
    if signature:
        body_html += compose.text_to_html(html.escape(signature.strip()))
    if track_clicks:
        body_html = _HREF.sub(
            lambda m: (
                f'href="{html.escape(tokens.click_url(email.id, html.unescape(m.group(1))))}"'
            ),
            body_html,
        )
    pixel = ""
    if track_opens:
        pixel = (
            f'<img src="{tokens.open_pixel_url(email.id)}" width="1" height="1" alt="" '
            'style="display:block;border:0;width:1px;height:1px">'
        )
    html_doc = (
        '<!doctype html><html><body style="font-family:Arial,sans-serif;font-size:14px">'
        f"{body_html}{compose.footer_html(address, unsubscribe)}{_notice_html(notice)}{pixel}"
        "</body></html>"
    )
    return MessageParts(text=text, html=html_doc)


def _notice_html(notice: str | None) -> str:
    if not notice:
        return ""
    return f'<p style="color:#777;font-size:11px">{html.escape(notice)}</p>'
