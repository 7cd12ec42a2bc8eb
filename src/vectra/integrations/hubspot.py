"""HubSpot (CRM v3 REST, private-app token or OAuth2 with refresh) as the sync engine sees it.

Push: contacts upserted by email (`batch/upsert`, idProperty=email) after one `batch/read`
tells new from existing (conflict rule: a contact the CRM already has receives only the
properties Vectra owns); their company found by domain or created, then associated; Vectra
emails as email engagements and meetings as meetings, each associated with the contact.
Pull: the members of a list (`/crm/v3/lists/{id}/memberships`) read in batches.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from vectra.integrations.config import IntegrationSettings
from vectra.integrations.http import (
    CrmAuthError,
    CrmHttp,
    CrmRecordError,
    provider_message,
)
from vectra.integrations.records import (
    EmailRecord,
    LeadRecord,
    MeetingRecord,
    Outcome,
    utc_iso,
)

# HubSpot-defined association types (v4 docs): email->contact, meeting->contact.
EMAIL_TO_CONTACT = 198
MEETING_TO_CONTACT = 200
PULL_PROPERTIES = ["email", "firstname", "lastname", "jobtitle", "company", "phone", "website"]
MEETING_OUTCOMES = {
    "scheduled": "SCHEDULED",
    "confirmed": "SCHEDULED",
    "completed": "COMPLETED",
    "canceled": "CANCELED",
    "no_show": "NO_SHOW",
}
# The contact properties Vectra creates and owns (the CRM owns every other field).
VECTRA_PROPERTIES: list[dict[str, str]] = [
    {"name": "vectra_bant_score", "label": "Vectra BANT score", "type": "number",
     "fieldType": "number"},
    {"name": "vectra_intent", "label": "Vectra intent", "type": "string", "fieldType": "text"},
    {"name": "vectra_status", "label": "Vectra status", "type": "string", "fieldType": "text"},
    {"name": "vectra_lead_id", "label": "Vectra lead id", "type": "string", "fieldType": "text"},
]  # fmt: skip


def vectra_properties(lead: LeadRecord) -> dict[str, str]:
    return {
        "vectra_bant_score": "" if lead.bant_score is None else str(lead.bant_score),
        "vectra_intent": lead.intent or "",
        "vectra_status": lead.status or "",
        "vectra_lead_id": lead.id,
    }


def contact_properties(lead: LeadRecord) -> dict[str, str]:
    """Every property of a contact Vectra creates (identity fields, then Vectra's own)."""
    identity = {
        "email": lead.email,
        "firstname": lead.first_name,
        "lastname": lead.last_name,
        "jobtitle": lead.job_title,
        "company": lead.company_name,
        "phone": lead.phone,
        "website": lead.company_domain,
    }
    return {k: v for k, v in identity.items() if v} | vectra_properties(lead)


def company_key(lead: LeadRecord) -> str | None:
    if lead.company_domain:
        return lead.company_domain.lower()
    return lead.company_name.strip().lower() if lead.company_name else None


class HubSpotClient:
    name = "hubspot"

    def __init__(
        self,
        secret: dict[str, Any],
        *,
        settings: IntegrationSettings,
        save: Callable[[dict[str, Any]], None],
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not secret.get("access_token") and not secret.get("refresh_token"):
            raise CrmAuthError("No HubSpot access token is stored.")
        self.secret = dict(secret)
        self.settings = settings
        self.save = save
        can_refresh = all(secret.get(k) for k in ("refresh_token", "client_id", "client_secret"))
        self.http = CrmHttp(
            provider="HubSpot",
            base_url=lambda: settings.hubspot_api_url,
            headers=lambda: {"Authorization": f"Bearer {self.secret.get('access_token', '')}"},
            settings=settings,
            refresh=self.refresh_token if can_refresh else None,
            sleep=sleep,
        )
        self.companies: dict[str, str] = {}
        self.company_outcomes: list[Outcome] = []
        self._batch_errors: list[str] = []

    def close(self) -> None:
        self.http.close()

    def refresh_token(self) -> None:
        """OAuth2 refresh (POST /oauth/v1/token); the new tokens are stored at once."""
        response = self.http.client.post(
            f"{self.settings.hubspot_api_url.rstrip('/')}/oauth/v1/token",
            data={
                "grant_type": "refresh_token",
                "client_id": self.secret["client_id"],
                "client_secret": self.secret["client_secret"],
                "refresh_token": self.secret["refresh_token"],
            },
        )
        if response.status_code != 200:
            message, code = provider_message(response)
            raise CrmAuthError(message, status=response.status_code, code=code)
        body = response.json()
        self.secret["access_token"] = body["access_token"]
        self.secret["refresh_token"] = body.get("refresh_token", self.secret["refresh_token"])
        self.save(self.secret)

    # -- connection ---------------------------------------------------------------------
    def test(self) -> str:
        self.http.request("GET", "/crm/v3/objects/contacts", params={"limit": 1})
        return "HubSpot accepted the token (contacts readable)."

    def prepare(self) -> None:
        """Create the contact properties Vectra owns, once per account."""
        for prop in VECTRA_PROPERTIES:
            try:
                self.http.request("GET", f"/crm/v3/properties/contacts/{prop['name']}")
            except CrmRecordError as exc:
                if exc.status != 404:
                    raise
                self.http.request(
                    "POST", "/crm/v3/properties/contacts",
                    json={**prop, "groupName": "contactinformation"},
                )  # fmt: skip

    # -- contacts -------------------------------------------------------------------------
    def existing_emails(self, emails: list[str]) -> dict[str, str]:
        """Email -> contact id for the addresses HubSpot already has."""
        response = self.http.request(
            "POST", "/crm/v3/objects/contacts/batch/read",
            json={"idProperty": "email", "properties": ["email"],
                  "inputs": [{"id": e} for e in emails]},
        )  # fmt: skip
        found = {}
        for result in response.json().get("results", []):
            email = (result.get("properties") or {}).get("email")
            if email:
                found[email.lower()] = str(result["id"])
        return found

    def _upsert(self, inputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        response = self.http.request(
            "POST", "/crm/v3/objects/contacts/batch/upsert", json={"inputs": inputs}
        )
        body = response.json()
        # 207 Multi-Status: some inputs failed; their messages are in `errors`.
        self._batch_errors = [str(e.get("message", "")) for e in body.get("errors", [])]
        results: list[dict[str, Any]] = body.get("results", [])
        return results

    def push_leads(self, leads: list[LeadRecord], known: dict[str, str]) -> list[Outcome]:
        existing = self.existing_emails([lead.email for lead in leads])
        by_email = {lead.email: lead for lead in leads}
        inputs = [
            {
                "idProperty": "email",
                "id": lead.email,
                "properties": vectra_properties(lead)
                if lead.email in existing
                else contact_properties(lead),
            }
            for lead in leads
        ]
        outcomes: list[Outcome] = []
        try:
            results = self._upsert(inputs)
        except CrmRecordError:
            # One bad record fails HubSpot's whole batch: redo them one by one.
            results = []
            for item in inputs:
                try:
                    results += self._upsert([item])
                except CrmRecordError as exc:
                    email = str(item["id"])
                    outcomes.append(Outcome(by_email[email].id, "failed", error=exc.message))
        for result in results:
            email = str((result.get("properties") or {}).get("email", "")).lower()
            lead = by_email.get(email)
            if lead is None:
                continue
            created = bool(result.get("new")) and email not in existing
            contact_id = str(result["id"])
            outcomes.append(
                Outcome(lead.id, "created" if created else "updated", "contact", contact_id)
            )
            if created:
                self._attach_company(lead, contact_id)
        answered = {o.key for o in outcomes}
        reason = "; ".join(self._batch_errors)[:500] or "HubSpot did not return this contact."
        outcomes += [
            Outcome(lead.id, "failed", error=reason) for lead in leads if lead.id not in answered
        ]
        return outcomes

    def _attach_company(self, lead: LeadRecord, contact_id: str) -> None:
        """Find (by domain) or create the new contact's company, then associate the two."""
        key = company_key(lead)
        if key is None:
            return
        try:
            company_id = self.companies.get(key)
            if company_id is None:
                company_id = (
                    self._find_company(lead.company_domain) if lead.company_domain else None
                )
                action: str = "updated"
                if company_id is None:
                    props = {"name": lead.company_name or key, "domain": lead.company_domain}
                    response = self.http.request(
                        "POST", "/crm/v3/objects/companies",
                        json={"properties": {k: v for k, v in props.items() if v}},
                    )  # fmt: skip
                    company_id, action = str(response.json()["id"]), "created"
                self.companies[key] = company_id
                self.company_outcomes.append(Outcome(key, action, "company", company_id))  # type: ignore[arg-type]
            self.http.request(
                "PUT",
                f"/crm/v4/objects/contact/{contact_id}/associations/default/company/{company_id}",
            )
        except CrmRecordError as exc:
            self.company_outcomes.append(Outcome(key, "failed", error=exc.message))

    def _find_company(self, domain: str) -> str | None:
        response = self.http.request(
            "POST", "/crm/v3/objects/companies/search",
            json={"filterGroups": [{"filters": [
                {"propertyName": "domain", "operator": "EQ", "value": domain.lower()}]}],
                "properties": ["domain"], "limit": 1},
        )  # fmt: skip
        results = response.json().get("results", [])
        return str(results[0]["id"]) if results else None

    # -- engagements ------------------------------------------------------------------------
    def push_email(self, email: EmailRecord, contact: tuple[str, str]) -> Outcome:
        body = {
            "properties": {
                "hs_timestamp": utc_iso(email.sent_at),
                "hs_email_direction": "EMAIL",
                "hs_email_status": "SENT",
                "hs_email_subject": email.subject,
                "hs_email_text": email.body,
            },
            "associations": [_association(contact[1], EMAIL_TO_CONTACT)],
        }
        try:
            response = self.http.request("POST", "/crm/v3/objects/emails", json=body)
        except CrmRecordError as exc:
            return Outcome(email.id, "failed", error=exc.message)
        return Outcome(email.id, "created", "email", str(response.json()["id"]))

    def push_meeting(
        self, meeting: MeetingRecord, contact: tuple[str, str], existing: str | None
    ) -> Outcome:
        properties = {
            "hs_timestamp": utc_iso(meeting.scheduled_at),
            "hs_meeting_title": "Meeting booked by Vectra",
            "hs_meeting_start_time": utc_iso(meeting.scheduled_at),
            "hs_meeting_end_time": utc_iso(meeting.ends_at),
            "hs_meeting_outcome": MEETING_OUTCOMES.get(meeting.status, "SCHEDULED"),
            "hs_meeting_external_url": meeting.meeting_url or "",
            "hs_meeting_body": meeting.notes or "",
        }
        try:
            if existing:
                self.http.request(
                    "PATCH", f"/crm/v3/objects/meetings/{existing}",
                    json={"properties": properties},
                )  # fmt: skip
                return Outcome(meeting.id, "updated", "meeting", existing)
            response = self.http.request(
                "POST", "/crm/v3/objects/meetings",
                json={"properties": properties,
                      "associations": [_association(contact[1], MEETING_TO_CONTACT)]},
            )  # fmt: skip
        except CrmRecordError as exc:
            return Outcome(meeting.id, "failed", error=exc.message)
        return Outcome(meeting.id, "created", "meeting", str(response.json()["id"]))

    # -- pull -----------------------------------------------------------------------------
    def list_contacts(self, list_id: str) -> Iterator[list[dict[str, Any]]]:
        """Pages of a list's contacts (id + PULL_PROPERTIES), 100 at a time."""
        after: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 100}
            if after:
                params["after"] = after
            page = self.http.request(
                "GET", f"/crm/v3/lists/{list_id}/memberships", params=params
            ).json()
            ids = [str(m["recordId"]) for m in page.get("results", [])]
            if ids:
                read = self.http.request(
                    "POST", "/crm/v3/objects/contacts/batch/read",
                    json={"properties": PULL_PROPERTIES, "inputs": [{"id": i} for i in ids]},
                )  # fmt: skip
                yield [
                    {"id": str(r["id"]), **(r.get("properties") or {})}
                    for r in read.json().get("results", [])
                ]
            after = ((page.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return


def _association(contact_id: str, type_id: int) -> dict[str, Any]:
    return {
        "to": {"id": contact_id},
        "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}],
    }
