"""The schema of `campaigns.email_template`: an ordered sequence of email steps.

Owned here until the mail composer adopts it: `validate_email_template` is the one door
every writer goes through, so moving it is a one-line change for callers. Templates are
Jinja2; only their syntax is checked here (with the sandbox the composer renders in), so a
sequence that cannot render is refused when saved, not discovered at send time.
"""

from __future__ import annotations

import importlib
from typing import Any, Literal

from jinja2 import TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from vectra.errors import InvalidInput

MAX_STEPS = 20
# RFC 5322 caps a header line at 998 characters.
MAX_SUBJECT = 998
MAX_BODY = 100_000

_jinja = SandboxedEnvironment()


class Variant(BaseModel):
    """An A/B variant of a step; variants are assigned per lead in proportion to weight."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=50)
    subject: str = Field(min_length=1, max_length=MAX_SUBJECT)
    body: str = Field(min_length=1, max_length=MAX_BODY)
    weight: int = Field(default=1, ge=1, le=100)


class Step(BaseModel):
    """One email of the sequence, sent `delay_days` business days after the previous one."""

    model_config = ConfigDict(extra="forbid")

    delay_days: int = Field(ge=0, le=365)
    subject: str = Field(min_length=1, max_length=MAX_SUBJECT)
    body: str = Field(min_length=1, max_length=MAX_BODY)
    variants: list[Variant] = Field(default_factory=list, max_length=10)

    @model_validator(mode="after")
    def _unique_variant_names(self) -> Step:
        names = [v.name for v in self.variants]
        if len(names) != len(set(names)):
            raise ValueError("variant names must be unique within a step")
        return self


class EmailSequence(BaseModel):
    """`campaigns.email_template`: `{"steps": [{delay_days, subject, body, variants}]}`."""

    model_config = ConfigDict(extra="forbid")

    review_mode: Literal["every_message", "first_step", "when_unsure"] = "every_message"
    link_domains: list[str] = Field(default_factory=list, max_length=50)
    steps: list[Step] = Field(min_length=1, max_length=MAX_STEPS)


def _check_syntax(sequence: EmailSequence) -> None:
    for i, step in enumerate(sequence.steps):
        parts: list[tuple[str, str]] = [("subject", step.subject), ("body", step.body)]
        for j, variant in enumerate(step.variants):
            parts += [(f"variants.{j}.subject", variant.subject)]
            parts += [(f"variants.{j}.body", variant.body)]
        for name, source in parts:
            try:
                _jinja.parse(source)
            except TemplateSyntaxError as exc:
                raise InvalidInput(
                    f"Template syntax error on line {exc.lineno}: {exc.message}",
                    field=f"email_template.steps.{i}.{name}",
                ) from exc


def _mail_parser() -> Any:
    # The mail composer owns the schema once it ships `vectra.mail.sequence.parse_sequence`.
    try:
        module = importlib.import_module("vectra.mail.sequence")
        importlib.import_module("vectra.mail.compose")
    except ImportError:
        return None
    return getattr(module, "parse_sequence", None)


def validate_email_template(data: Any) -> dict[str, Any] | None:
    """The stored form of a sequence, or a 422 naming the first bad field."""
    if data is None:
        return None
    if (parse := _mail_parser()) is not None:
        parsed: dict[str, Any] = parse(data).model_dump(mode="json")
        return parsed
    if isinstance(data, EmailSequence):
        sequence = data
    else:
        try:
            sequence = EmailSequence.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            field = f"email_template.{where}" if where else "email_template"
            raise InvalidInput(f"{field}: {first['msg']}", field=field) from exc
    _check_syntax(sequence)
    return sequence.model_dump(mode="json")


def step_count(email_template: dict[str, Any] | None) -> int:
    """How many steps a stored sequence has (0 when there is none)."""
    steps = (email_template or {}).get("steps")
    return len(steps) if isinstance(steps, list) else 0
