"""Organization settings (name, timezone, postal address, sending defaults, retention)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import delete
from sqlalchemy.orm import Session

from vectra.accounts import audit
from vectra.accounts.actor import Actor
from vectra.accounts.models import Organization
from vectra.accounts.service import get_organization
from vectra.errors import InvalidInput, PermissionDenied


class PostalAddress(BaseModel):
    """The sender's physical address, required in every commercial email's footer."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    street: str = Field(min_length=1, max_length=200)
    street2: str | None = Field(default=None, max_length=200)
    city: str = Field(min_length=1, max_length=100)
    postal_code: str = Field(min_length=1, max_length=20)
    region: str | None = Field(default=None, max_length=100)
    country: str = Field(min_length=2, max_length=2, description="ISO-3166 alpha-2")

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        if not value.isalpha():
            raise ValueError("use the ISO-3166 alpha-2 code, e.g. 'DE'")
        return value.upper()


class SendingDefaults(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    from_name: str | None = Field(default=None, max_length=100)
    reply_to: str | None = Field(default=None, max_length=255, pattern=r"^[^@\s]+@[^@\s]+$")
    signature: str | None = Field(default=None, max_length=2000)
    daily_limit: int | None = Field(default=None, ge=1, le=10_000)
    # Hours (recipient's local time) between which emails go out.
    window_start_hour: int = Field(default=8, ge=0, le=23)
    window_end_hour: int = Field(default=18, ge=1, le=24)
    skip_weekends: bool = True


class OrganizationSettings(BaseModel):
    """What `organizations.settings` holds (validated on every write)."""

    model_config = ConfigDict(extra="allow")

    timezone: str = "UTC"
    postal_address: PostalAddress | None = None
    sending_defaults: SendingDefaults = Field(default_factory=SendingDefaults)
    data_retention_months: int = Field(default=24, ge=1, le=120)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        if value not in available_timezones():
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"unknown IANA timezone '{value}'") from exc
        return value


def settings_of(organization: Organization) -> OrganizationSettings:
    return OrganizationSettings.model_validate(organization.settings or {})


def postal_address_text(organization: Organization) -> str | None:
    """The footer's postal address as printed lines, or None while it is not set.

    The settings page and API store it structured (`PostalAddress`); older rows and scripts may
    hold a plain string. Both print the same way in a footer.
    """
    value = (organization.settings or {}).get("postal_address")
    if isinstance(value, dict):
        city = " ".join(str(value[k]) for k in ("postal_code", "city") if value.get(k))
        parts = [value.get("street"), value.get("street2"), city, value.get("region")]
        value = "\n".join(str(p) for p in [*parts, value.get("country")] if p)
    return value.strip() if isinstance(value, str) and value.strip() else None


def _invalid(exc: ValidationError, prefix: str = "") -> InvalidInput:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ()))
    field = f"{prefix}{where}" if where else prefix.rstrip(".") or None
    return InvalidInput(f"{field}: {first.get('msg', 'invalid')}", field=field)


def update_organization(
    session: Session, actor: Actor, *, name: str | None, changes: dict[str, Any]
) -> Organization:
    """Rename and/or merge `changes` into the settings; the result is validated whole."""
    organization = get_organization(session, actor)
    before = settings_of(organization).model_dump(mode="json")
    merged = {**before, **changes}
    if isinstance(changes.get("sending_defaults"), dict):
        # A partial update of the defaults keeps the ones not mentioned.
        merged["sending_defaults"] = {**before["sending_defaults"], **changes["sending_defaults"]}
    try:
        settings = OrganizationSettings.model_validate(merged)
    except ValidationError as exc:
        raise _invalid(exc) from exc
    changed: dict[str, Any] = {}
    if name is not None:
        if not name.strip():
            raise InvalidInput("The name cannot be empty.", field="name")
        if name.strip() != organization.name:
            changed["name"] = name.strip()
            organization.name = name.strip()
    after = settings.model_dump(mode="json")
    changed.update({k: after[k] for k in after if before.get(k) != after[k]})
    organization.settings = after
    session.flush()
    if changed:
        audit.record(
            session,
            actor,
            "organization.updated",
            object_type="organization",
            object_id=organization.id,
            details={"changed": sorted(changed)},
        )
    return organization


def require_postal_address(session: Session, actor: Actor) -> PostalAddress:
    """The address every campaign email's footer must carry (403 until it is set)."""
    address = settings_of(get_organization(session, actor)).postal_address
    if address is None:
        raise PermissionDenied(
            "Set the organization's postal address before sending (it goes in every footer).",
            field="postal_address",
        )
    return address


def delete_organization(session: Session, actor: Actor, *, confirm_slug: str) -> None:
    """Delete the organization and everything it owns; the slug must be typed back."""
    organization = get_organization(session, actor)
    if confirm_slug != organization.slug:
        raise InvalidInput("Type the organization's slug to confirm.", field="confirm_slug")
    # Every tenant table cascades from organizations; the audit log goes with it.
    session.execute(delete(Organization).where(Organization.id == organization.id))
    session.flush()
    session.expunge(organization)
