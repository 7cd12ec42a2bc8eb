"""The GDPR Art. 14 notice in first emails to EU/EEA recipients.

People whose data was not collected from them must be told, at the latest in the first
communication, who holds it, why, where it came from and how to object (Art. 14(3)(b)).
The organization words it in `settings.privacy_notice`; a default that covers every required
point is used otherwise. Only first emails carry it: later steps reference the same notice.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from vectra.accounts.models import Organization
from vectra.leads.models import Lead

# EU member states + EEA (IS, LI, NO); GB keeps Art. 14 verbatim in the UK GDPR.
EU_EEA = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "HU",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
        "IS",
        "LI",
        "NO",
        "GB",
    ]
)
# Alternative spellings seen in enrichment data (ISO alpha-2 is the convention).
_ALIASES = {"UK": "GB", "EL": "GR"}

SOURCES = {
    "csv_import": "a contact list imported by {org}",
    "import": "a contact list imported by {org}",
    "api": "a contact list provided to {org}",
    "prospector": "publicly available professional information (such as company websites)",
    "crm": "{org}'s customer relationship management system",
}
DEFAULT_SOURCE = "publicly available professional information (such as company websites)"


class PrivacyNotice(BaseModel):
    """`organizations.settings.privacy_notice`: each part overrides the default wording."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    enabled: bool = True
    controller: str | None = Field(default=None, max_length=300, description="Who we are")
    purpose: str | None = Field(default=None, max_length=500, description="Why we write")
    source: str | None = Field(default=None, max_length=300, description="Where the data came from")
    objection: str | None = Field(default=None, max_length=500, description="How to object")
    contact_email: str | None = Field(default=None, max_length=255, pattern=r"^[^@\s]+@[^@\s]+$")


def notice_settings(organization: Organization) -> PrivacyNotice:
    raw = (organization.settings or {}).get("privacy_notice")
    if not isinstance(raw, dict):
        return PrivacyNotice()
    try:
        return PrivacyNotice.model_validate(raw)
    except ValueError:
        # A hand-edited setting must not silently drop the notice: fall back to the default.
        return PrivacyNotice()


def is_eu_eea(country: Any) -> bool:
    if not isinstance(country, str):
        return False
    code = country.strip().upper()
    return _ALIASES.get(code, code) in EU_EEA


def render_notice(organization: Organization, lead: Lead, settings: PrivacyNotice) -> str:
    org = organization.name
    controller = settings.controller or f"{org} is responsible for your data."
    purpose = settings.purpose or (
        f"We process your name, business email and professional details to contact you "
        f"about {org}'s services that may be relevant to your role (legitimate interest, "
        "Art. 6(1)(f) GDPR)."
    )
    source = settings.source or SOURCES.get(lead.source or "", DEFAULT_SOURCE).format(org=org)
    objection = settings.objection or (
        "You may object at any time: use the unsubscribe link below or reply 'unsubscribe', "
        "and we will stop at once and never contact you again. You may also ask for a copy "
        "of your data or its erasure"
    )
    contact = f" by writing to {settings.contact_email}" if settings.contact_email else ""
    if not settings.objection:
        objection = f"{objection}{contact}."
    return (
        f"Privacy notice: {controller} We obtained your contact details from {source}. "
        f"{purpose} {objection}"
    )


def notice_for(session: Session, organization: Organization, lead: Lead | None) -> str | None:
    """The notice for a first email to this lead, or None (not EU/EEA, or turned off)."""
    del session  # part of the seam so a later version may look up per-campaign wording
    if lead is None:
        return None
    settings = notice_settings(organization)
    if not settings.enabled:
        return None
    if not is_eu_eea((lead.enrichment_data or {}).get("country")):
        return None
    return render_notice(organization, lead, settings)
