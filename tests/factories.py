"""Factories: real rows in the test's transaction, made in system context."""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy.orm import Session

from vectra.accounts.models import Organization, User
from vectra.accounts.passwords import hash_password
from vectra.campaigns.models import Campaign
from vectra.db.tenancy import as_system
from vectra.leads.models import Lead

_seq = itertools.count(1)
PASSWORD = "correct horse battery staple"
# Hashing costs ~60 ms by design; factories share one hash of PASSWORD.
_PASSWORD_HASH = hash_password(PASSWORD)


def make_organization(session: Session, *, name: str | None = None, **fields: Any) -> Organization:
    n = next(_seq)
    organization = Organization(
        name=name or f"Org {n}",
        slug=fields.pop("slug", f"org-{n}-{id(session) % 10_000}"),
        **fields,
    )
    with as_system(session):
        session.add(organization)
        session.flush()
    return organization


def make_user(
    session: Session, organization: Organization, *, role: str = "owner", **fields: Any
) -> User:
    n = next(_seq)
    user = User(
        organization_id=organization.id,
        email=fields.pop("email", f"user{n}-{organization.slug}@example.com"),
        password_hash=fields.pop("password_hash", _PASSWORD_HASH),
        role=role,
        **fields,
    )
    with as_system(session):
        session.add(user)
        session.flush()
    return user


def make_campaign(session: Session, organization: Organization, **fields: Any) -> Campaign:
    n = next(_seq)
    campaign = Campaign(
        organization_id=organization.id,
        name=fields.pop("name", f"Campaign {n}"),
        target_criteria=fields.pop("target_criteria", {"description": "B2B SaaS buyers"}),
        **fields,
    )
    with as_system(session):
        session.add(campaign)
        session.flush()
    return campaign


def make_lead(session: Session, campaign: Campaign, **fields: Any) -> Lead:
    n = next(_seq)
    lead = Lead(
        campaign_id=campaign.id,
        organization_id=campaign.organization_id,
        email=fields.pop("email", f"lead{n}@prospect-{n}.example"),
        first_name=fields.pop("first_name", "Ada"),
        last_name=fields.pop("last_name", f"Lovelace{n}"),
        **fields,
    )
    with as_system(session):
        session.add(lead)
        session.flush()
    return lead
