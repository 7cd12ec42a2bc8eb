"""The sequence editor's preview: a sequence rendered for one real lead, as it would be sent.

Nothing is stored. Each step (and each of its variants) goes through the same sandboxed
render and checker as drafting (`drafts.draft_setting`), then through `message_parts`, the
function the sending engine calls, so the preview shows the signature, the footer with the
postal address and unsubscribe link, and the privacy notice exactly where a sent message has
them. Tracking is left out: the links would name an email that does not exist.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from vectra.accounts.actor import Actor
from vectra.campaigns import service as campaigns
from vectra.errors import InvalidInput, NotFound
from vectra.leads import service as leads
from vectra.mail import drafts, mailboxes
from vectra.mail.models import Email
from vectra.mail.sequence import choose_variant, parse_sequence


@dataclass
class VersionPreview:
    """One version of a step (the step itself or a variant) rendered for the lead."""

    variant: str | None
    weight: float | None
    chosen: bool  # the version this lead is assigned (stable hash of lead and step)
    subject: str
    text: str  # the plain-text part as sent: body, signature, footer, notice
    flags: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class StepPreview:
    index: int
    delay_days: int
    versions: list[VersionPreview]


@dataclass
class SequencePreview:
    lead_id: uuid.UUID
    lead_name: str
    mailbox_name: str | None  # whose signature the preview carries
    steps: list[StepPreview]


def _signature(session: Session, actor: Actor, campaign_id: uuid.UUID) -> tuple[str | None, str]:
    for mailbox_id in mailboxes.campaign_mailbox_ids(session, actor, campaign_id):
        mailbox = mailboxes.get_mailbox(session, actor, mailbox_id)
        if mailbox.status == "active":
            return mailbox.name, mailbox.signature
    return None, ""


def preview_sequence(
    session: Session,
    actor: Actor,
    campaign_id: uuid.UUID,
    lead_id: uuid.UUID,
    email_template: Any,
) -> SequencePreview:
    """Render a (possibly unsaved) sequence for one of the campaign's leads; stores nothing."""
    campaign = campaigns.get_campaign(session, actor, campaign_id)
    lead = leads.get_lead(session, actor, lead_id)
    if lead.campaign_id != campaign.id:
        raise NotFound("No such lead in this campaign.", field="lead_id")
    sequence = parse_sequence(email_template)
    setting = drafts.draft_setting(session, actor, lead, campaign, sequence)
    mailbox_name, signature = _signature(session, actor, campaign.id)
    steps: list[StepPreview] = []
    for index, step in enumerate(sequence.steps):
        chosen = choose_variant(step, lead.id, index).variant
        candidates: list[tuple[str, str | None, float | None, str, str]] = [
            (f"email_template.steps.{index}", None, None, step.subject, step.body)
        ]
        for j, variant in enumerate(step.variants):
            candidates.append(
                (
                    f"email_template.steps.{index}.variants.{j}",
                    variant.name,
                    variant.weight,
                    variant.subject or step.subject,
                    variant.body or step.body,
                )
            )
        if step.variants:
            candidates = candidates[1:]  # with variants, every lead gets one of them
        versions = []
        for where, name, weight, subject_source, body_source in candidates:
            try:
                content = setting.render(subject_source, body_source)
            except InvalidInput as exc:
                # The render failed for this lead (`{{ 1 / 0 }}`): name the version that did.
                raise InvalidInput(exc.message, field=where) from None
            transient = Email(
                id=uuid.uuid4(),
                organization_id=actor.organization_id,
                lead_id=lead.id,
                campaign_id=campaign.id,
                subject=content.subject,
                body=content.body,
                body_html=content.body_html,
                sequence_step=index,
            )
            parts = drafts.message_parts(
                session, transient, track_opens=False, track_clicks=False, signature=signature
            )
            versions.append(
                VersionPreview(
                    variant=name,
                    weight=weight,
                    chosen=name == chosen,
                    subject=content.subject,
                    text=parts.text,
                    flags=content.flags,
                )
            )
        steps.append(StepPreview(index=index, delay_days=step.delay_days, versions=versions))
    name = " ".join(p for p in (lead.first_name, lead.last_name) if p) or lead.email
    return SequencePreview(lead_id=lead.id, lead_name=name, mailbox_name=mailbox_name, steps=steps)
