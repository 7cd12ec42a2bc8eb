"""The meetings domain's settings: provider endpoints, keys, and the system mail relay.

Kept beside the domain (not in `vectra.settings`) so this domain's knobs stay in one file.
Every provider base URL is a setting, so tests point them at local HTTP servers.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class MeetingsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    calendly_api_url: str = Field(
        default="https://api.calendly.com", validation_alias="CALENDLY_API_URL"
    )
    # Optional: one signing key for every organisation's subscription (else each
    # integration's own key, generated when it connects, is used).
    calendly_webhook_signing_key: str | None = Field(
        default=None, validation_alias="CALENDLY_WEBHOOK_SIGNING_KEY"
    )
    # Calendly retries for days; a delivery older than this is refused as a replay.
    calendly_webhook_tolerance_s: int = Field(
        default=300, validation_alias="CALENDLY_WEBHOOK_TOLERANCE_S"
    )
    google_client_id: str | None = Field(default=None, validation_alias="GOOGLE_CLIENT_ID")
    google_client_secret: str | None = Field(default=None, validation_alias="GOOGLE_CLIENT_SECRET")
    google_auth_url: str = Field(
        default="https://accounts.google.com/o/oauth2/v2/auth", validation_alias="GOOGLE_AUTH_URL"
    )
    google_token_url: str = Field(
        default="https://oauth2.googleapis.com/token", validation_alias="GOOGLE_TOKEN_URL"
    )
    google_api_url: str = Field(
        default="https://www.googleapis.com", validation_alias="GOOGLE_API_URL"
    )
    http_timeout_s: float = Field(default=15.0, validation_alias="VECTRA_MEETINGS_HTTP_TIMEOUT")
    # System mail (booking confirmations, reminders) until the accounts system-mail helper lands.
    system_smtp_host: str = Field(default="127.0.0.1", validation_alias="VECTRA_SYSTEM_SMTP_HOST")
    system_smtp_port: int = Field(default=25, validation_alias="VECTRA_SYSTEM_SMTP_PORT")
    system_mail_from: str = Field(
        default="Vectra <no-reply@vectra.local>", validation_alias="VECTRA_SYSTEM_MAIL_FROM"
    )
    booking_link_max_age_days: int = Field(default=60, validation_alias="VECTRA_BOOKING_LINK_DAYS")


@lru_cache(maxsize=1)
def get_meetings_settings() -> MeetingsSettings:
    """The process-wide meetings settings (tests build their own)."""
    return MeetingsSettings()
