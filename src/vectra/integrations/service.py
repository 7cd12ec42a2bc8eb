"""Integration rules: connect (credentials only through the vault), read, test, disconnect.

Credentials are stored as `{"vault": <Fernet token>, "fields": [names]}`: the API reports the
names, never the values. A PUT merges key by key (null removes a key), so changing a setting
never needs the secret again; new credentials reset the status to `disconnected` until a
test (or a sync) proves them.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vectra.accounts.actor import Actor
from vectra.db.base import utcnow
from vectra.errors import BadRequest, InvalidInput, NotFound
from vectra.integrations import vault
from vectra.integrations.config import IntegrationSettings, get_integration_settings
from vectra.integrations.http import CrmError
from vectra.integrations.models import CrmSyncRun, Integration
from vectra.integrations.records import CrmAdapter
from vectra.integrations.schemas import (
    IntegrationPut,
    IntegrationRead,
    IntegrationStatus,
    IntegrationType,
)

CRM_TYPES = (IntegrationType.HUBSPOT.value, IntegrationType.SALESFORCE.value)
CREDENTIAL_FIELDS: dict[str, set[str]] = {
    "hubspot": {"access_token", "refresh_token", "client_id", "client_secret"},
    "salesforce": {
        "access_token", "instance_url", "refresh_token", "client_id", "client_secret",
        "username", "password", "security_token",
    },
}  # fmt: skip
SETTING_KINDS: dict[str, dict[str, type]] = {
    "hubspot": {"push_enabled": bool, "pull_list_id": str, "pull_campaign_id": str,
                "sync_interval_minutes": int},
    "salesforce": {"push_enabled": bool, "sandbox": bool, "sync_interval_minutes": int},
}  # fmt: skip
Sleep = Callable[[float], None]


def parse_type(value: str) -> str:
    """One of the seed's integration types, else 422."""
    try:
        return IntegrationType(value).value
    except ValueError:
        allowed = ", ".join(t.value for t in IntegrationType)
        raise InvalidInput(
            f"Unknown integration type; use one of {allowed}.", field="type"
        ) from None


# -- the vault ------------------------------------------------------------------------------
def read_credentials(row: Integration) -> dict[str, Any]:
    """The decrypted credentials ({} when none are stored)."""
    token = (row.credentials or {}).get("vault")
    return vault.decrypt(token) if isinstance(token, str) else {}


def write_credentials(row: Integration, secret: dict[str, Any]) -> None:
    row.credentials = {"vault": vault.encrypt(secret), "fields": sorted(secret)} if secret else None


def credential_fields(row: Integration) -> list[str]:
    """Names of the stored credential fields (rows written by other flows lack `fields`)."""
    stored = row.credentials or {}
    if isinstance(stored.get("fields"), list):
        return [str(f) for f in stored["fields"]]
    try:
        return sorted(read_credentials(row))
    except vault.VaultError:
        return []


def rotate_credentials(session: Session) -> int:
    """Re-encrypt every integration's credentials under the current key (system context)."""
    rotated = 0
    for row in session.scalars(select(Integration).where(Integration.credentials.is_not(None))):
        stored = dict(row.credentials or {})
        token = stored.get("vault")
        if isinstance(token, str) and not vault.is_current(token):
            stored["vault"] = vault.rotate(token)
            row.credentials = stored
            rotated += 1
    session.flush()
    return rotated


# -- reading --------------------------------------------------------------------------------
def to_read(row: Integration) -> IntegrationRead:
    return IntegrationRead(
        id=row.id,
        type=row.type,
        status=row.status or IntegrationStatus.DISCONNECTED.value,
        status_message=row.status_message if row.status == IntegrationStatus.ERROR else None,
        credential_fields=credential_fields(row),
        settings=row.settings or {},
        last_sync_at=row.last_sync_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def find_integration(
    session: Session, organization_id: uuid.UUID, kind: str, *, for_update: bool = False
) -> Integration | None:
    query = select(Integration).where(
        Integration.organization_id == organization_id, Integration.type == kind
    )
    return session.scalar(query.with_for_update() if for_update else query)


def get_integration(
    session: Session, actor: Actor, kind: str, *, for_update: bool = False
) -> Integration:
    """The organization's integration of this type (404 when it was never connected)."""
    row = find_integration(session, actor.organization_id, parse_type(kind), for_update=for_update)
    if row is None:
        raise NotFound("This integration is not connected.")
    return row


def list_integrations(session: Session, actor: Actor) -> list[Integration]:
    return list(
        session.scalars(
            select(Integration)
            .where(Integration.organization_id == actor.organization_id)
            .order_by(Integration.type)
        )
    )


# -- writing --------------------------------------------------------------------------------
def _merge(current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    merged = dict(current)
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def _check_credentials(kind: str, changes: dict[str, Any]) -> None:
    allowed = CREDENTIAL_FIELDS.get(kind)
    for key, value in changes.items():
        if allowed is not None and key not in allowed:
            raise InvalidInput(f"Unknown credential field for {kind}.", field=f"credentials.{key}")
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise InvalidInput("Credentials must be non-empty strings.", field=f"credentials.{key}")


def _check_complete(kind: str, secret: dict[str, Any]) -> None:
    if kind == "hubspot" and not secret.get("access_token") and not secret.get("refresh_token"):
        raise InvalidInput(
            "HubSpot needs an access_token (private app) or OAuth tokens.",
            field="credentials.access_token",
        )
    if kind == "salesforce":
        oauth = secret.get("client_id") and (
            secret.get("refresh_token") or (secret.get("username") and secret.get("password"))
        )
        if not oauth and not (secret.get("access_token") and secret.get("instance_url")):
            raise InvalidInput(
                "Salesforce needs client_id with refresh_token or username + password "
                "(+ security_token), or access_token with instance_url.",
                field="credentials",
            )


def _check_settings(session: Session, actor: Actor, kind: str, changes: dict[str, Any]) -> None:
    kinds = SETTING_KINDS.get(kind)
    if kinds is None:  # calendly / google_calendar: the meetings domain owns their settings
        return
    for key, value in changes.items():
        field = f"settings.{key}"
        expected = kinds.get(key)
        if expected is None:
            raise InvalidInput(f"Unknown setting for {kind}.", field=field)
        if value is None:
            continue
        if expected is str and isinstance(value, int) and not isinstance(value, bool):
            value = changes[key] = str(value)  # HubSpot list ids are numbers in its UI
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise InvalidInput(f"Must be a {expected.__name__}.", field=field)
        if key == "sync_interval_minutes" and not 5 <= int(str(value)) <= 1440:
            raise InvalidInput("Between 5 and 1440 minutes.", field=field)
        if key == "pull_campaign_id":
            from vectra.campaigns import service as campaigns

            try:
                campaign_id = uuid.UUID(str(value))
            except ValueError:
                raise InvalidInput("Not a campaign id.", field=field) from None
            campaigns.get_campaign(session, actor, campaign_id)  # 404 for another tenant's


def put_integration(session: Session, actor: Actor, kind: str, data: IntegrationPut) -> Integration:
    """Create or change an integration; credentials go only into the vault."""
    kind = parse_type(kind)
    row = find_integration(session, actor.organization_id, kind, for_update=True)
    if row is None:
        row = Integration(
            organization_id=actor.organization_id, type=kind, settings={},
            status=IntegrationStatus.DISCONNECTED.value,
        )  # fmt: skip
        session.add(row)
    if data.credentials is not None:
        _check_credentials(kind, data.credentials)
        try:
            current = read_credentials(row)
        except vault.VaultError:
            current = {}  # unreadable (lost key): the new credentials replace it
        secret = _merge(current, {k: _strip(v) for k, v in data.credentials.items()})
        _check_complete(kind, secret)
        write_credentials(row, secret)
        row.status, row.status_message = IntegrationStatus.DISCONNECTED.value, None
    if data.settings is not None:
        changes = dict(data.settings)
        _check_settings(session, actor, kind, changes)
        row.settings = _merge(row.settings or {}, changes)
    session.flush()
    session.refresh(row)
    return row


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def delete_integration(session: Session, actor: Actor, kind: str) -> None:
    """Disconnect: the row, its credentials, links, cursors and run log go."""
    row = get_integration(session, actor, kind, for_update=True)
    session.delete(row)
    session.flush()


# -- providers ------------------------------------------------------------------------------
def crm_adapter(
    row: Integration,
    *,
    settings: IntegrationSettings | None = None,
    sleep: Sleep = time.sleep,
) -> CrmAdapter:
    """The HubSpot or Salesforce client for this row; refreshed tokens are saved back to it."""
    from vectra.integrations.hubspot import HubSpotClient
    from vectra.integrations.salesforce import SalesforceClient

    settings = settings or get_integration_settings()
    secret = read_credentials(row)

    def save(new_secret: dict[str, Any]) -> None:
        write_credentials(row, new_secret)

    if row.type == IntegrationType.HUBSPOT:
        return HubSpotClient(secret, settings=settings, save=save, sleep=sleep)
    if row.type == IntegrationType.SALESFORCE:
        sandbox = bool((row.settings or {}).get("sandbox"))
        return SalesforceClient(secret, settings=settings, save=save, sleep=sleep, sandbox=sandbox)
    raise BadRequest(f"{row.type} is not a CRM; it has no sync.")


def require_crm(row: Integration) -> None:
    """Only a connected HubSpot or Salesforce integration can sync."""
    if row.type not in CRM_TYPES:
        raise BadRequest(f"{row.type} is not a CRM; it has no sync.")
    if row.status != IntegrationStatus.CONNECTED:
        raise BadRequest("Test the connection first: the integration is not connected.")


def mark_status(row: Integration, status: IntegrationStatus, message: str | None = None) -> None:
    row.status = status.value
    row.status_message = message[:1000] if message else None


def test_integration(
    session: Session,
    actor: Actor,
    kind: str,
    *,
    settings: IntegrationSettings | None = None,
    sleep: Sleep = time.sleep,
) -> Integration:
    """Call the provider with the stored credentials: `connected`, or `error` with its message."""
    row = get_integration(session, actor, kind, for_update=True)
    try:
        if row.type == IntegrationType.CALENDLY:
            _test_calendly(row)
        elif row.type == IntegrationType.GOOGLE_CALENDAR:
            raise BadRequest(
                "Google Calendar is connected per user; use the meetings Google flow to test it."
            )
        else:
            adapter = crm_adapter(row, settings=settings, sleep=sleep)
            try:
                adapter.test()
            finally:
                adapter.close()
    except (CrmError, vault.VaultError) as exc:
        mark_status(row, IntegrationStatus.ERROR, str(exc))
    else:
        mark_status(row, IntegrationStatus.CONNECTED)
    session.flush()
    session.refresh(row)
    return row


def _test_calendly(row: Integration) -> None:
    """Calendly: GET /users/me with the stored personal access token."""
    import httpx

    from vectra.integrations.http import CrmAuthError, CrmUnavailable, provider_message
    from vectra.meetings.config import get_meetings_settings

    token = read_credentials(row).get("personal_access_token")
    if not token:
        raise CrmAuthError("No Calendly personal access token is stored.")
    meetings = get_meetings_settings()
    try:
        response = httpx.get(
            f"{meetings.calendly_api_url.rstrip('/')}/users/me",
            headers={"Authorization": f"Bearer {token}"},
            timeout=meetings.http_timeout_s,
        )
    except httpx.TransportError as exc:
        raise CrmUnavailable(f"Calendly is unreachable ({type(exc).__name__})") from None
    if response.status_code != 200:
        raise CrmAuthError(provider_message(response)[0], status=response.status_code)


def list_runs(session: Session, actor: Actor, kind: str, *, limit: int = 50) -> list[CrmSyncRun]:
    """The integration's sync runs, newest first."""
    row = get_integration(session, actor, kind)
    return list(
        session.scalars(
            select(CrmSyncRun)
            .where(
                CrmSyncRun.organization_id == actor.organization_id,
                CrmSyncRun.integration_id == row.id,
            )
            .order_by(CrmSyncRun.started_at.desc(), CrmSyncRun.id)
            .limit(limit)
        )
    )


def touch_sync(row: Integration) -> None:
    row.last_sync_at = utcnow()
