"""Shared setup for the drafting, approval and tracking tests: an organization ready to mail."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tests.factories import make_campaign, make_lead, make_organization, make_user
from vectra.accounts.actor import Actor
from vectra.accounts.models import Organization, User
from vectra.accounts.roles import Role
from vectra.campaigns.models import Campaign
from vectra.leads.models import Lead

ADDRESS = "Vectra Inc., 1 Market St, San Francisco, CA 94105, USA"

CLEAN_BODY = (
    "Hi {{ lead.first_name }},\n\n{{ opening_line | default('') }} Teams like "
    "{{ lead.company_name }} use our product to book more qualified meetings with less manual "
    "prospecting work every single week.\n\nWould a short call next week be useful?\n\n"
    "{{ sender.first_name | default('The team') }}"
)


def sequence(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "review_mode": "every_message",
        "steps": [
            {"delay_days": 0, "subject": "Idea for {{ lead.company_name }}", "body": CLEAN_BODY},
            {
                "delay_days": 3,
                "subject": "Re: idea for {{ lead.company_name }}",
                "body": CLEAN_BODY,
            },
        ],
    }
    data.update(overrides)
    return data


def setup_org(
    session: Session, *, template: dict[str, Any] | None = None, address: str | None = ADDRESS
) -> tuple[Organization, User, Campaign]:
    settings = {"postal_address": address} if address else {}
    organization = make_organization(session, settings=settings)
    owner = make_user(session, organization, role="owner", first_name="Grace")
    campaign = make_campaign(
        session, organization, email_template=template or sequence(), created_by=owner.id
    )
    return organization, owner, campaign


def qualified_lead(session: Session, campaign: Campaign, **fields: Any) -> Lead:
    fields.setdefault("status", "qualified")
    fields.setdefault("company_name", "Acme Robotics")
    fields.setdefault(
        "enrichment_data",
        {
            "company_domain": "acme-robotics.example",
            "industry": "Robotics",
            "funding": {"stage": "series_b", "amount_usd": 30_000_000},
        },
    )
    return make_lead(session, campaign, **fields)


def actor_for(user: User) -> Actor:
    assert user.organization_id is not None
    return Actor(organization_id=user.organization_id, role=Role(user.role), user_id=user.id)
