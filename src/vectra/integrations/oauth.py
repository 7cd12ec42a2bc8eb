"""OAuth2 authorization-code connect for HubSpot and Salesforce.

The admin starts from Vectra (`authorization_url`), grants access at the provider, and the
provider redirects the browser to our callback with `code` and `state`. The state is signed
and names the organization, the user and the provider; the callback only completes for that
same signed-in user (the web session cookie rides along on the top-level redirect), so a
state minted by someone else cannot attach a victim's CRM account to a foreign organization.
Tokens go straight into the vault with the app's client id and secret, which the clients'
refresh logic needs; nothing is echoed back.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any
from urllib.parse import urlencode

import httpx
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from vectra.accounts import audit
from vectra.accounts.actor import Actor
from vectra.errors import BadRequest, InvalidInput
from vectra.integrations import service
from vectra.integrations.config import IntegrationSettings, get_integration_settings
from vectra.integrations.http import provider_message
from vectra.integrations.models import Integration
from vectra.integrations.schemas import IntegrationStatus, IntegrationType
from vectra.keys import derive_key
from vectra.settings import get_settings

STATE_MAX_AGE_S = 600
OAUTH_TYPES = (IntegrationType.HUBSPOT.value, IntegrationType.SALESFORCE.value)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(derive_key("crm-oauth"), salt="crm-oauth-state")


def redirect_uri(kind: str) -> str:
    """The callback URL to register with the provider's app."""
    return f"{get_settings().base_url.rstrip('/')}/api/v1/integrations/{kind}/oauth/callback"


def _kind(kind: str) -> str:
    kind = service.parse_type(kind)
    if kind not in OAUTH_TYPES:
        raise InvalidInput(
            "OAuth connect exists for hubspot and salesforce; "
            "Google Calendar connects per user from the meetings API.",
            field="type",
        )
    return kind


def _app(kind: str, settings: IntegrationSettings) -> tuple[str, str]:
    client_id, client_secret = (
        (settings.hubspot_client_id, settings.hubspot_client_secret)
        if kind == IntegrationType.HUBSPOT
        else (settings.salesforce_client_id, settings.salesforce_client_secret)
    )
    if not client_id or not client_secret:
        prefix = kind.upper()
        raise BadRequest(
            f"OAuth for {kind} is not configured on this server: set {prefix}_CLIENT_ID and "
            f"{prefix}_CLIENT_SECRET (or connect with a private-app token / stored credentials)."
        )
    return client_id, client_secret


def configured_types(settings: IntegrationSettings | None = None) -> list[str]:
    """The CRMs whose OAuth app this server has credentials for (the pages offer those)."""
    settings = settings or get_integration_settings()
    apps = {
        IntegrationType.HUBSPOT.value: (settings.hubspot_client_id, settings.hubspot_client_secret),
        IntegrationType.SALESFORCE.value: (
            settings.salesforce_client_id,
            settings.salesforce_client_secret,
        ),
    }
    return [kind for kind, (client_id, secret) in apps.items() if client_id and secret]


def _salesforce_login_url(session: Session, actor: Actor, settings: IntegrationSettings) -> str:
    row = service.find_integration(session, actor.organization_id, IntegrationType.SALESFORCE)
    sandbox = bool(row is not None and (row.settings or {}).get("sandbox"))
    return settings.salesforce_sandbox_login_url if sandbox else settings.salesforce_login_url


def authorization_url(
    session: Session, actor: Actor, kind: str, *, settings: IntegrationSettings | None = None
) -> str:
    """Where to send the admin's browser to grant Vectra access to the CRM."""
    settings = settings or get_integration_settings()
    kind = _kind(kind)
    client_id, _secret = _app(kind, settings)
    if actor.user_id is None:
        raise BadRequest("OAuth connect needs a signed-in user, not an API key.")
    state = _serializer().dumps(
        {
            "o": str(actor.organization_id),
            "u": str(actor.user_id),
            "k": kind,
            "n": secrets.token_urlsafe(8),
        }
    )
    query: dict[str, str] = {
        "client_id": client_id,
        "redirect_uri": redirect_uri(kind),
        "state": state,
    }
    if kind == IntegrationType.HUBSPOT:
        query["scope"] = settings.hubspot_scopes
        return f"{settings.hubspot_authorize_url}?{urlencode(query)}"
    query.update(response_type="code", scope="api refresh_token", prompt="consent")
    base = _salesforce_login_url(session, actor, settings).rstrip("/")
    return f"{base}/services/oauth2/authorize?{urlencode(query)}"


def _check_state(state: str, actor: Actor, kind: str) -> None:
    try:
        data = _serializer().loads(state, max_age=STATE_MAX_AGE_S)
        ours = (
            uuid.UUID(data["o"]) == actor.organization_id
            and actor.user_id is not None
            and uuid.UUID(data["u"]) == actor.user_id
            and data["k"] == kind
        )
    except (BadSignature, KeyError, ValueError, TypeError) as exc:
        raise BadRequest("The OAuth state is not valid or has expired; connect again.") from exc
    if not ours:
        raise BadRequest(
            "This authorization was started by another user or for another integration; "
            "start the connection again from your own settings page."
        )


def _exchange(
    kind: str, code: str, token_url: str, settings: IntegrationSettings
) -> dict[str, Any]:
    client_id, client_secret = _app(kind, settings)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri(kind),
        "client_id": client_id,
        "client_secret": client_secret,
    }
    try:
        with httpx.Client(timeout=settings.http_timeout_s) as client:
            response = client.post(token_url, data=form)
    except httpx.HTTPError as exc:
        raise BadRequest(f"{kind} could not be reached to finish the connection: {exc}") from exc
    if response.status_code != 200:
        raise BadRequest(
            f"{kind} refused the authorization code ({response.status_code}): "
            f"{provider_message(response)[0]}"
        )
    tokens: dict[str, Any] = response.json()
    if not tokens.get("access_token") or not tokens.get("refresh_token"):
        raise BadRequest(f"{kind} returned no refresh token; connect again and grant access.")
    secret = {
        "access_token": tokens["access_token"],
        "refresh_token": tokens["refresh_token"],
        "client_id": client_id,
        "client_secret": client_secret,
    }
    if kind == IntegrationType.SALESFORCE:
        if not tokens.get("instance_url"):
            raise BadRequest("Salesforce returned no instance_url; connect again.")
        secret["instance_url"] = tokens["instance_url"]
    return secret


def complete_authorization(
    session: Session,
    actor: Actor,
    kind: str,
    *,
    code: str | None,
    state: str | None,
    error: str | None = None,
    settings: IntegrationSettings | None = None,
) -> Integration:
    """Finish the flow for the signed-in user who started it; the tokens go into the vault."""
    settings = settings or get_integration_settings()
    kind = _kind(kind)
    if error:
        raise BadRequest(f"{kind} did not grant access: {error}")
    if not state:
        raise InvalidInput("The provider sent no state.", field="state")
    _check_state(state, actor, kind)
    if not code:
        raise InvalidInput("The provider sent no authorization code.", field="code")
    if kind == IntegrationType.HUBSPOT:
        token_url = f"{settings.hubspot_api_url.rstrip('/')}/oauth/v1/token"
    else:
        token_url = f"{_salesforce_login_url(session, actor, settings).rstrip('/')}"
        token_url += "/services/oauth2/token"
    secret = _exchange(kind, code, token_url, settings)
    row = service.find_integration(session, actor.organization_id, kind, for_update=True)
    if row is None:
        row = Integration(organization_id=actor.organization_id, type=kind, settings={})
        session.add(row)
    service.write_credentials(row, secret)
    # The provider just issued these tokens: the connection is proven.
    service.mark_status(row, IntegrationStatus.CONNECTED)
    session.flush()
    audit.record(
        session,
        actor,
        "integration.connected",
        object_type="integration",
        object_id=row.id,
        details={"type": kind, "method": "oauth"},
    )
    session.refresh(row)
    return row
