"""The integrations domain's settings: provider endpoints and the retry budget.

Base URLs are installation settings, never per-organization ones, so a tenant cannot point
the server at an internal address; tests point them at local HTTP servers.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class IntegrationSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    hubspot_api_url: str = Field(
        default="https://api.hubapi.com", validation_alias="HUBSPOT_API_URL"
    )
    salesforce_login_url: str = Field(
        default="https://login.salesforce.com", validation_alias="SALESFORCE_LOGIN_URL"
    )
    salesforce_sandbox_login_url: str = Field(
        default="https://test.salesforce.com", validation_alias="SALESFORCE_SANDBOX_LOGIN_URL"
    )
    # OAuth2 apps (authorization-code flow). Each installation registers its own HubSpot app and
    # Salesforce connected app whose redirect URL is VECTRA_BASE_URL +
    # /api/v1/integrations/{hubspot|salesforce}/oauth/callback.
    hubspot_client_id: str | None = Field(default=None, validation_alias="HUBSPOT_CLIENT_ID")
    hubspot_client_secret: str | None = Field(
        default=None, validation_alias="HUBSPOT_CLIENT_SECRET"
    )
    hubspot_authorize_url: str = Field(
        default="https://app.hubspot.com/oauth/authorize", validation_alias="HUBSPOT_AUTHORIZE_URL"
    )
    hubspot_scopes: str = Field(
        default=(
            "oauth crm.objects.contacts.read crm.objects.contacts.write "
            "crm.objects.companies.read crm.objects.companies.write "
            "crm.schemas.contacts.read crm.schemas.contacts.write crm.lists.read"
        ),
        validation_alias="HUBSPOT_SCOPES",
    )
    salesforce_client_id: str | None = Field(default=None, validation_alias="SALESFORCE_CLIENT_ID")
    salesforce_client_secret: str | None = Field(
        default=None, validation_alias="SALESFORCE_CLIENT_SECRET"
    )
    salesforce_api_version: str = Field(default="v60.0", validation_alias="SALESFORCE_API_VERSION")
    http_timeout_s: float = Field(default=20.0, validation_alias="VECTRA_CRM_HTTP_TIMEOUT")
    # Bounded retries: a provider that keeps refusing fails the run instead of hanging it.
    max_retries: int = Field(default=4, validation_alias="VECTRA_CRM_MAX_RETRIES")
    max_backoff_s: float = Field(default=30.0, validation_alias="VECTRA_CRM_MAX_BACKOFF_S")
    base_backoff_s: float = Field(default=0.5, validation_alias="VECTRA_CRM_BASE_BACKOFF_S")
    batch_size: int = Field(default=100, validation_alias="VECTRA_CRM_BATCH_SIZE")


@lru_cache(maxsize=1)
def get_integration_settings() -> IntegrationSettings:
    """The process-wide integrations settings (tests build their own)."""
    return IntegrationSettings()
