"""Import every domain's tables so the mappers know each other (foreign keys, tests)."""

from __future__ import annotations

from vectra.accounts.models import Organization, User
from vectra.agents.models import AgentRun
from vectra.billing.models import Subscription, UsageRecord
from vectra.campaigns.models import Campaign
from vectra.integrations.models import Integration
from vectra.leads.models import Lead
from vectra.mail.models import Email
from vectra.meetings.models import Meeting

__all__ = [
    "AgentRun",
    "Campaign",
    "Email",
    "Integration",
    "Lead",
    "Meeting",
    "Organization",
    "Subscription",
    "UsageRecord",
    "User",
]
