"""Campaign rules: CRUD scoped to the organization, limits, and the status machine."""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from vectra.accounts.actor import Actor
from vectra.accounts.models import Organization
from vectra.accounts.organization import postal_address_text
from vectra.billing import limits
from vectra.campaigns.models import Campaign
from vectra.campaigns.schemas import CampaignCreate, CampaignStatus, CampaignUpdate
from vectra.campaigns.sequence import step_count, validate_email_template
from vectra.db.base import utcnow
from vectra.db.pagination import Page, paginate
from vectra.errors import InvalidInput, InvalidTransition, NotFound

S = CampaignStatus

# draft -> active -> paused <-> active -> completed -> archived, and draft -> archived.
TRANSITIONS: dict[CampaignStatus, frozenset[CampaignStatus]] = {
    S.DRAFT: frozenset({S.ACTIVE, S.ARCHIVED}),
    S.ACTIVE: frozenset({S.PAUSED, S.COMPLETED}),
    S.PAUSED: frozenset({S.ACTIVE, S.COMPLETED}),
    S.COMPLETED: frozenset({S.ARCHIVED}),
    S.ARCHIVED: frozenset(),
}

DAILY_LIMIT_MAX = 10_000


def scoped(actor: Actor) -> Select[Any]:
    """Every campaign query starts here: only the actor's organization's rows."""
    return select(Campaign).where(Campaign.organization_id == actor.organization_id)


def get_campaign(
    session: Session, actor: Actor, campaign_id: uuid.UUID, *, for_update: bool = False
) -> Campaign:
    """A campaign of the actor's organization (404 for any other)."""
    statement = scoped(actor).where(Campaign.id == campaign_id)
    if for_update:
        statement = statement.with_for_update()
    campaign = session.scalar(statement)
    if campaign is None:
        raise NotFound("Campaign not found.", field="campaign_id")
    return campaign


def _organization(session: Session, actor: Actor) -> Organization:
    organization = session.scalar(
        select(Organization).where(Organization.id == actor.organization_id)
    )
    if organization is None:
        raise NotFound("Organization not found.")
    return organization


def plan_daily_limit_cap(session: Session, actor: Actor) -> int:
    """The highest daily_limit the organization's plan allows."""
    return limits.max_daily_limit(limits.plan_for(session, actor.organization_id))


def _check_daily_limit(session: Session, actor: Actor, daily_limit: int) -> None:
    if not 1 <= daily_limit <= DAILY_LIMIT_MAX:
        raise InvalidInput(f"daily_limit must be 1..{DAILY_LIMIT_MAX}.", field="daily_limit")
    cap = plan_daily_limit_cap(session, actor)
    if daily_limit > cap:
        raise InvalidInput(
            f"daily_limit {daily_limit} is above your plan's cap of {cap} emails a day.",
            field="daily_limit",
        )


def create_campaign(session: Session, actor: Actor, data: CampaignCreate) -> Campaign:
    """A new draft campaign with validated criteria, sequence and limits."""
    _check_daily_limit(session, actor, data.daily_limit)
    campaign = Campaign(
        organization_id=actor.organization_id,
        created_by=actor.user_id,
        name=data.name.strip(),
        description=data.description,
        status=S.DRAFT.value,
        target_criteria=data.target_criteria.model_dump(mode="json"),
        email_template=validate_email_template(data.email_template),
        bant_threshold=data.bant_threshold,
        daily_limit=data.daily_limit,
    )
    if not campaign.name:
        raise InvalidInput("name must not be blank.", field="name")
    session.add(campaign)
    session.flush()
    session.refresh(campaign)
    return campaign


def list_campaigns(
    session: Session,
    actor: Actor,
    *,
    status: CampaignStatus | None = None,
    q: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[Campaign]:
    """The organization's campaigns, newest first, filtered, one keyset page at a time."""
    statement = scoped(actor)
    if status is not None:
        statement = statement.where(Campaign.status == status.value)
    if q:
        statement = statement.where(Campaign.name.ilike(f"%{_escape_like(q)}%", escape="\\"))
    return paginate(
        statement,
        execute=lambda s: session.scalars(s).all(),
        sort=Campaign.created_at,
        id_column=Campaign.id,
        cursor=cursor,
        limit=limit,
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# Readiness checks run before a campaign goes active; each returns what is missing or None.
ReadinessCheck = Callable[[Session, Actor, Campaign], str | None]


def _has_sequence(_session: Session, _actor: Actor, campaign: Campaign) -> str | None:
    return None if step_count(campaign.email_template) else "an email sequence (email_template)"


def _has_postal_address(session: Session, actor: Actor, _campaign: Campaign) -> str | None:
    # CAN-SPAM and most anti-spam laws require a physical address in every message footer.
    return None if postal_address_text(_organization(session, actor)) else "a postal address"


def _has_mailbox(session: Session, actor: Actor, campaign: Campaign) -> str | None:
    try:
        mail = importlib.import_module("vectra.mail.service")
    except ImportError:
        mail = None
    has_mailbox = getattr(mail, "has_sending_mailbox", None)
    if has_mailbox is not None and has_mailbox(session, actor, campaign):
        return None
    return "a connected sending mailbox"


READINESS_CHECKS: list[ReadinessCheck] = [_has_sequence, _has_mailbox, _has_postal_address]


def missing_for_activation(session: Session, actor: Actor, campaign: Campaign) -> list[str]:
    """What the campaign still needs before it can really send (empty: ready)."""
    return [m for check in READINESS_CHECKS if (m := check(session, actor, campaign))]


def change_status(
    session: Session, actor: Actor, campaign: Campaign, to: CampaignStatus
) -> Campaign:
    """Move a campaign along its status machine; refused moves name both states."""
    current = S(campaign.status or S.DRAFT.value)
    if to == current:
        return campaign
    if to not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "none"
        raise InvalidTransition(
            f"A campaign cannot go from '{current}' to '{to}' (from '{current}': {allowed}).",
            field="status",
            from_status=current.value,
            to_status=to.value,
        )
    if to == S.ACTIVE:
        missing = missing_for_activation(session, actor, campaign)
        if missing:
            raise InvalidTransition(
                "The campaign cannot start yet; it needs " + ", ".join(missing) + ".",
                field="status",
                from_status=current.value,
                to_status=to.value,
                missing=missing,
            )
        if campaign.started_at is None:
            campaign.started_at = utcnow()
    if to == S.COMPLETED:
        campaign.completed_at = utcnow()
    campaign.status = to.value
    session.flush()
    return campaign


def update_campaign(
    session: Session, actor: Actor, campaign_id: uuid.UUID, data: CampaignUpdate
) -> Campaign:
    """Change the fields sent; a status change goes through the status machine last."""
    campaign = get_campaign(session, actor, campaign_id, for_update=True)
    if campaign.status == S.ARCHIVED.value and data.model_fields_set - {"status"}:
        raise InvalidTransition("An archived campaign cannot be edited.", field="status")
    changes: dict[str, Any] = data.model_dump(exclude_unset=True)
    if "name" in changes:
        if data.name is None or not data.name.strip():
            raise InvalidInput("name must not be blank.", field="name")
        campaign.name = data.name.strip()
    if "description" in changes:
        campaign.description = data.description
    if "target_criteria" in changes:
        if data.target_criteria is None:
            raise InvalidInput("target_criteria cannot be null.", field="target_criteria")
        campaign.target_criteria = data.target_criteria.model_dump(mode="json")
    if "email_template" in changes:
        campaign.email_template = validate_email_template(changes["email_template"])
    if "bant_threshold" in changes:
        if data.bant_threshold is None:
            raise InvalidInput("bant_threshold cannot be null.", field="bant_threshold")
        campaign.bant_threshold = data.bant_threshold
    if "daily_limit" in changes:
        if data.daily_limit is None:
            raise InvalidInput("daily_limit cannot be null.", field="daily_limit")
        _check_daily_limit(session, actor, data.daily_limit)
        campaign.daily_limit = data.daily_limit
    session.flush()
    if data.status is not None:
        change_status(session, actor, campaign, data.status)
    session.refresh(campaign)
    return campaign


def delete_campaign(session: Session, actor: Actor, campaign_id: uuid.UUID) -> str:
    """Delete a draft outright; archive any other campaign (its history is kept)."""
    campaign = get_campaign(session, actor, campaign_id, for_update=True)
    if campaign.status in (None, S.DRAFT.value):
        session.delete(campaign)
        session.flush()
        return "deleted"
    if campaign.status != S.ARCHIVED.value:
        # Archiving a running campaign ends it first, so its dates stay truthful.
        if campaign.status != S.COMPLETED.value:
            campaign.completed_at = utcnow()
        campaign.status = S.ARCHIVED.value
        session.flush()
    return "archived"


def organization_by_slug(session: Session, slug: str) -> Organization:
    """The organization with this slug, for the CLI (which acts in system context)."""
    organization = session.scalar(select(Organization).where(Organization.slug == slug))
    if organization is None:
        raise NotFound(f"No organization with slug '{slug}'.", field="org")
    return organization
