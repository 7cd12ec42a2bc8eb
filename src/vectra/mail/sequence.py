"""The shape of `campaigns.email_template`: an ordered sequence of steps with A/B variants.

    {
      "review_mode": "every_message" | "first_step" | "when_unsure",
      "link_domains": ["acme.com"],           # links allowed besides the sender's and lead's
      "steps": [
        {"delay_days": 0, "subject": "...", "body": "...",
         "variants": [{"name": "A", "subject": "...", "body": "...", "weight": 1}]},
        {"delay_days": 3, ...}                # business days after the previous step
      ]
    }

Subjects and bodies are Jinja2 templates rendered in a sandbox (`vectra.mail.compose`); each
one is compiled here, so a syntax error is a 422 naming the step when the campaign is saved,
not a failure at draft time. A variant's missing subject or body falls back to the step's.
Variants are picked per lead by a stable hash of (lead id, step index), weighted.
"""

from __future__ import annotations

import hashlib
import uuid
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from vectra.errors import InvalidInput

MAX_STEPS = 20
# RFC 5322 caps a header line at 998 characters.
MAX_SUBJECT = 998
MAX_BODY = 100_000


class ReviewMode(StrEnum):
    EVERY_MESSAGE = "every_message"
    FIRST_STEP = "first_step"
    WHEN_UNSURE = "when_unsure"


def _compiles(source: str) -> str:
    from vectra.mail.compose import compile_check  # compose imports this module

    compile_check(source)
    return source


class Variant(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=50)
    subject: str | None = Field(default=None, max_length=MAX_SUBJECT)
    body: str | None = Field(default=None, max_length=MAX_BODY)
    weight: float = Field(default=1, gt=0, le=1000)

    @field_validator("subject", "body")
    @classmethod
    def _template(cls, value: str | None) -> str | None:
        return None if value is None else _compiles(value)


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid")

    delay_days: int = Field(default=0, ge=0, le=365)
    subject: str = Field(min_length=1, max_length=MAX_SUBJECT)
    body: str = Field(min_length=1, max_length=MAX_BODY)
    variants: list[Variant] = Field(default_factory=list, max_length=10)

    @field_validator("subject", "body")
    @classmethod
    def _template(cls, value: str) -> str:
        return _compiles(value)

    @model_validator(mode="after")
    def _unique_variant_names(self) -> Step:
        names = [v.name for v in self.variants]
        if len(names) != len(set(names)):
            raise ValueError("variant names must be unique within a step")
        return self


class SequenceTemplate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    review_mode: ReviewMode = ReviewMode.EVERY_MESSAGE
    link_domains: list[str] = Field(default_factory=list, max_length=50)
    steps: list[Step] = Field(min_length=1, max_length=MAX_STEPS)

    @field_validator("link_domains")
    @classmethod
    def _lower(cls, value: list[str]) -> list[str]:
        return [d.strip().lower().removeprefix("www.") for d in value if d.strip()]


def parse_sequence(raw: Any) -> SequenceTemplate:
    """Validate a campaign's `email_template` (422 naming the offending field)."""
    if isinstance(raw, BaseModel):
        raw = raw.model_dump(mode="json")
    if raw is None:
        raise InvalidInput("The campaign has no email sequence yet.", field="email_template")
    data = {"steps": raw} if isinstance(raw, list) else raw
    try:
        return SequenceTemplate.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in ("email_template", *error["loc"]))
        raise InvalidInput(error["msg"], field=where) from None


class ChosenVersion(BaseModel):
    variant: str | None
    subject: str
    body: str


def choose_variant(step: Step, lead_id: uuid.UUID, step_index: int) -> ChosenVersion:
    """The step's version for this lead: the same lead always gets the same variant."""
    if not step.variants:
        return ChosenVersion(variant=None, subject=step.subject, body=step.body)
    digest = hashlib.sha256(f"{lead_id}:{step_index}".encode()).digest()
    # 64 bits of the hash as a uniform point in [0, total weight).
    point = int.from_bytes(digest[:8], "big") / 2**64 * sum(v.weight for v in step.variants)
    chosen = step.variants[-1]
    for variant in step.variants:
        if point < variant.weight:
            chosen = variant
            break
        point -= variant.weight
    return ChosenVersion(
        variant=chosen.name,
        subject=chosen.subject or step.subject,
        body=chosen.body or step.body,
    )
