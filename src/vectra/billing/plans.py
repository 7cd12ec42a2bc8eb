"""The plans table: one place that says what each plan allows.

Plans mirror the seed's `plan_type` enum one for one. Monthly resources (leads, emails,
API calls) are counted per usage period in `usage_records`; count resources (users,
mailboxes, active campaigns) are checked against what exists when something is added.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any, Literal

from vectra.errors import InvalidInput

MeteredResource = Literal["leads", "emails", "api_calls"]
CountedResource = Literal["users", "mailboxes", "active_campaigns"]

METERED_RESOURCES: tuple[MeteredResource, ...] = ("leads", "emails", "api_calls")
COUNTED_RESOURCES: tuple[CountedResource, ...] = ("users", "mailboxes", "active_campaigns")


class PlanName(StrEnum):
    """The seed's `plan_type`."""

    TRIAL = "trial"
    STARTER = "starter"
    GROWTH = "growth"
    SCALE = "scale"


class BillingCycle(StrEnum):
    MONTHLY = "monthly"
    YEARLY = "yearly"


@dataclass(frozen=True)
class PlanLimits:
    """What one plan allows. Metered limits are per usage period (a month, or the trial)."""

    leads_per_month: int
    emails_per_month: int
    api_calls_per_month: int
    users: int
    mailboxes: int
    active_campaigns: int
    # The highest `campaigns.daily_limit` a campaign of this plan may set.
    max_daily_limit: int


@dataclass(frozen=True)
class Plan:
    name: PlanName
    title: str
    rank: int  # upgrades go up in rank, downgrades down
    monthly_price_usd: int
    yearly_price_usd: int
    limits: PlanLimits
    purchasable: bool = True

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["name"] = self.name.value
        return data


TRIAL_DAYS = 14

PLANS: dict[PlanName, Plan] = {
    PlanName.TRIAL: Plan(
        name=PlanName.TRIAL,
        title="Trial",
        rank=0,
        monthly_price_usd=0,
        yearly_price_usd=0,
        purchasable=False,
        limits=PlanLimits(
            leads_per_month=1_000,
            emails_per_month=1_000,
            api_calls_per_month=10_000,
            users=3,
            mailboxes=2,
            active_campaigns=3,
            max_daily_limit=100,
        ),
    ),
    PlanName.STARTER: Plan(
        name=PlanName.STARTER,
        title="Starter",
        rank=1,
        monthly_price_usd=99,
        yearly_price_usd=990,
        limits=PlanLimits(
            leads_per_month=2_500,
            emails_per_month=5_000,
            api_calls_per_month=50_000,
            users=3,
            mailboxes=3,
            active_campaigns=5,
            max_daily_limit=200,
        ),
    ),
    PlanName.GROWTH: Plan(
        name=PlanName.GROWTH,
        title="Growth",
        rank=2,
        monthly_price_usd=299,
        yearly_price_usd=2_990,
        limits=PlanLimits(
            leads_per_month=10_000,
            emails_per_month=25_000,
            api_calls_per_month=250_000,
            users=10,
            mailboxes=10,
            active_campaigns=20,
            max_daily_limit=500,
        ),
    ),
    PlanName.SCALE: Plan(
        name=PlanName.SCALE,
        title="Scale",
        rank=3,
        monthly_price_usd=799,
        yearly_price_usd=7_990,
        limits=PlanLimits(
            leads_per_month=50_000,
            emails_per_month=100_000,
            api_calls_per_month=1_000_000,
            users=50,
            mailboxes=50,
            active_campaigns=100,
            max_daily_limit=2_000,
        ),
    ),
}


def get_plan(name: str | PlanName | None) -> Plan:
    """The plan called `name`; an unknown or empty name is the trial (the seed's default)."""
    try:
        return PLANS[PlanName(name or PlanName.TRIAL)]
    except ValueError:
        return PLANS[PlanName.TRIAL]


def parse_plan(name: str, *, field: str = "plan") -> Plan:
    """The plan called `name`, or 422 naming the field."""
    try:
        return PLANS[PlanName(name)]
    except ValueError as exc:
        choices = ", ".join(p.value for p in PlanName)
        raise InvalidInput(f"Unknown plan '{name}'; choose one of {choices}.", field=field) from exc


def metered_limit(plan: Plan, resource: MeteredResource) -> int:
    limits = plan.limits
    return {
        "leads": limits.leads_per_month,
        "emails": limits.emails_per_month,
        "api_calls": limits.api_calls_per_month,
    }[resource]


def counted_limit(plan: Plan, resource: CountedResource) -> int:
    limits = plan.limits
    return {
        "users": limits.users,
        "mailboxes": limits.mailboxes,
        "active_campaigns": limits.active_campaigns,
    }[resource]
