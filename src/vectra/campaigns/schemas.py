"""Campaign API shapes, and the validated `target_criteria` schema."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from vectra.utc import UtcDateTime

CompanySize = Literal["1-10", "11-50", "51-200", "201-500", "501-1000", "1001-5000", "5001+"]
_Items = list[str]
_SEQUENCE_DOC = (
    "The email sequence: {steps: [{delay_days, subject, body, variants: [{name, subject, "
    "body, weight}]}]}; subjects and bodies are Jinja2 templates (validated on save)."
)


class CampaignStatus(StrEnum):
    """The seed's `campaign_status`."""

    DRAFT = "draft"
    ACTIVE = "active"
    PAUSED = "paused"
    COMPLETED = "completed"
    ARCHIVED = "archived"


def _items(description: str) -> Any:
    return Field(default_factory=list, max_length=200, description=description)


class Exclusions(BaseModel):
    """Who the campaign must never target."""

    model_config = ConfigDict(extra="forbid")

    domains: _Items = _items("Company email domains to skip, e.g. competitor.com.")
    industries: _Items = _items("Industries to skip.")
    job_titles: _Items = _items("Job titles to skip.")


class TargetCriteria(BaseModel):
    """The ideal customer profile; unknown keys are refused."""

    model_config = ConfigDict(extra="forbid")

    description: str = Field(default="", max_length=5000, description="The ICP in prose.")
    industries: _Items = _items("Industries to target.")
    job_titles: _Items = _items("Job titles to target.")
    seniorities: list[Literal["c_level", "vp", "director", "manager", "senior", "entry"]] = Field(
        default_factory=list, description="Seniority levels."
    )
    company_sizes: list[CompanySize] = Field(
        default_factory=list, description="Employee-count bands."
    )
    countries: _Items = _items("ISO-3166 alpha-2 country codes.")
    keywords: _Items = _items("Keywords that signal fit.")
    exclude: Exclusions = Field(default_factory=Exclusions)


class CampaignCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=255)
    description: str | None = Field(default=None, max_length=10_000)
    target_criteria: TargetCriteria = Field(default_factory=TargetCriteria)
    email_template: dict[str, Any] | None = Field(default=None, description=_SEQUENCE_DOC)
    bant_threshold: int = Field(default=60, ge=0, le=100)
    daily_limit: int = Field(default=50, ge=1, le=10_000)


class CampaignUpdate(BaseModel):
    """Only the fields sent change; `status` runs the status machine."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=255)
    description: str | None = Field(default=None, max_length=10_000)
    target_criteria: TargetCriteria | None = None
    email_template: dict[str, Any] | None = Field(default=None, description=_SEQUENCE_DOC)
    bant_threshold: int | None = Field(default=None, ge=0, le=100)
    daily_limit: int | None = Field(default=None, ge=1, le=10_000)
    status: CampaignStatus | None = None


class CampaignRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    organization_id: uuid.UUID | None
    created_by: uuid.UUID | None
    name: str
    description: str | None
    status: str | None
    target_criteria: dict[str, Any]
    email_template: dict[str, Any] | None
    bant_threshold: int | None
    daily_limit: int | None
    started_at: UtcDateTime | None
    completed_at: UtcDateTime | None
    created_at: UtcDateTime | None
    updated_at: UtcDateTime | None


class CampaignPage(BaseModel):
    items: list[CampaignRead]
    next_cursor: str | None
