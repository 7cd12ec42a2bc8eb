"""Salesforce (REST API over httpx) as the sync engine sees it.

Auth: a stored access token + instance URL, refreshed with the OAuth2 refresh-token grant,
or the username-password grant (password + security token) when that is what was given.
Push: a lead whose email matches a Contact updates that Contact's Vectra fields; else a Lead
with that email gets them; else a Lead is upserted on the external id `Vectra_Id__c` (so a
retried create never duplicates). Emails become completed Tasks, meetings Events, both on
the person (`WhoId`). BANT and intent live in the custom fields `Vectra_BANT_Score__c`,
`Vectra_Intent__c` and `Vectra_Status__c` (on Lead and Contact; see the README).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from vectra.integrations.config import IntegrationSettings
from vectra.integrations.http import CrmAuthError, CrmHttp, CrmRecordError, provider_message
from vectra.integrations.records import EmailRecord, LeadRecord, MeetingRecord, Outcome, utc_iso

EXTERNAL_ID = "Vectra_Id__c"
MEETING_SUBJECTS = {"canceled": "Canceled: ", "no_show": "No-show: "}


def soql_literal(value: str) -> str:
    """A SOQL string literal: backslash and quote escaped (SOQL reference, 'Quoted String')."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def vectra_fields(lead: LeadRecord) -> dict[str, Any]:
    return {
        "Vectra_BANT_Score__c": lead.bant_score,
        "Vectra_Intent__c": lead.intent,
        "Vectra_Status__c": lead.status,
    }


def lead_fields(lead: LeadRecord) -> dict[str, Any]:
    """A new Lead: LastName and Company are required by Salesforce, so never left empty."""
    fields = {
        "FirstName": lead.first_name,
        "LastName": lead.last_name or lead.email.split("@", 1)[0],
        "Email": lead.email,
        "Company": lead.company_name or lead.company_domain or "[not provided]",
        "Title": lead.job_title,
        "Phone": lead.phone,
        "Website": lead.company_domain,
        "LeadSource": "Vectra",
    }
    return {k: v for k, v in fields.items() if v} | vectra_fields(lead)


class SalesforceClient:
    name = "salesforce"

    def __init__(
        self,
        secret: dict[str, Any],
        *,
        settings: IntegrationSettings,
        save: Callable[[dict[str, Any]], None],
        sleep: Callable[[float], None] = time.sleep,
        sandbox: bool = False,
    ) -> None:
        self.secret = dict(secret)
        self.settings = settings
        self.save = save
        self.login_url = (
            settings.salesforce_sandbox_login_url if sandbox else settings.salesforce_login_url
        )
        self.can_authenticate = bool(
            secret.get("client_id")
            and (secret.get("refresh_token") or (secret.get("username") and secret.get("password")))
        )
        if not self.can_authenticate and not (
            secret.get("access_token") and secret.get("instance_url")
        ):
            raise CrmAuthError("No usable Salesforce credentials are stored.")
        self.http = CrmHttp(
            provider="Salesforce",
            base_url=lambda: str(self.secret.get("instance_url", "")),
            headers=lambda: {"Authorization": f"Bearer {self.secret.get('access_token', '')}"},
            settings=settings,
            refresh=self.authenticate if self.can_authenticate else None,
            sleep=sleep,
        )
        self.data = f"/services/data/{settings.salesforce_api_version}"
        self.companies: dict[str, str] = {}
        self.company_outcomes: list[Outcome] = []

    def close(self) -> None:
        self.http.close()

    def authenticate(self) -> None:
        """Get a fresh access token (refresh-token grant, else username-password grant)."""
        if self.secret.get("refresh_token"):
            form = {"grant_type": "refresh_token", "refresh_token": self.secret["refresh_token"]}
        else:
            password = self.secret["password"] + self.secret.get("security_token", "")
            form = {"grant_type": "password", "username": self.secret["username"],
                    "password": password}  # fmt: skip
        form["client_id"] = self.secret["client_id"]
        if self.secret.get("client_secret"):
            form["client_secret"] = self.secret["client_secret"]
        response = self.http.client.post(
            f"{self.login_url.rstrip('/')}/services/oauth2/token", data=form
        )
        if response.status_code != 200:
            message, code = provider_message(response)
            raise CrmAuthError(message, status=response.status_code, code=code)
        body = response.json()
        self.secret["access_token"] = body["access_token"]
        self.secret["instance_url"] = body["instance_url"]
        self.save(self.secret)

    def _ready(self) -> None:
        if not (self.secret.get("access_token") and self.secret.get("instance_url")):
            self.authenticate()

    # -- connection ---------------------------------------------------------------------
    def test(self) -> str:
        self._ready()
        limits = self.http.request("GET", f"{self.data}/limits").json()
        daily = limits.get("DailyApiRequests") or {}
        if daily:
            return (
                f"Salesforce accepted the credentials ({daily.get('Remaining')} of "
                f"{daily.get('Max')} daily API requests left)."
            )
        return "Salesforce accepted the credentials."

    def prepare(self) -> None:
        self._ready()

    # -- leads ----------------------------------------------------------------------------
    def _ids_by_email(self, sobject: str, emails: list[str], extra: str = "") -> dict[str, str]:
        if not emails:
            return {}
        literals = ", ".join(soql_literal(e) for e in emails)
        soql = f"SELECT Id, Email FROM {sobject} WHERE Email IN ({literals}){extra}"
        found: dict[str, str] = {}
        page = self.http.request("GET", f"{self.data}/query", params={"q": soql}).json()
        while True:
            for record in page.get("records", []):
                if record.get("Email"):
                    found.setdefault(record["Email"].lower(), record["Id"])
            if page.get("done", True) or not page.get("nextRecordsUrl"):
                return found
            page = self.http.request("GET", page["nextRecordsUrl"]).json()

    def push_leads(self, leads: list[LeadRecord], known: dict[str, str]) -> list[Outcome]:
        emails = [lead.email for lead in leads]
        contacts = self._ids_by_email("Contact", emails)
        open_leads = self._ids_by_email("Lead", emails, " AND IsConverted = false")
        outcomes: list[Outcome] = []
        for lead in leads:
            try:
                if lead.email in contacts:
                    # Conflict rule: the CRM owns the person; Vectra writes only its own fields.
                    cid = contacts[lead.email]
                    self.http.request(
                        "PATCH", f"{self.data}/sobjects/Contact/{cid}", json=vectra_fields(lead)
                    )
                    outcomes.append(Outcome(lead.id, "updated", "Contact", cid))
                elif lead.email in open_leads:
                    lid = open_leads[lead.email]
                    body = vectra_fields(lead) | {EXTERNAL_ID: lead.id}
                    self.http.request("PATCH", f"{self.data}/sobjects/Lead/{lid}", json=body)
                    outcomes.append(Outcome(lead.id, "updated", "Lead", lid))
                else:
                    outcomes.append(self._upsert_lead(lead))
            except CrmRecordError as exc:
                outcomes.append(Outcome(lead.id, "failed", error=exc.message))
        return outcomes

    def _upsert_lead(self, lead: LeadRecord) -> Outcome:
        response = self.http.request(
            "PATCH", f"{self.data}/sobjects/Lead/{EXTERNAL_ID}/{lead.id}", json=lead_fields(lead)
        )
        body = response.json() if response.content else {}
        created = response.status_code == 201 or bool(body.get("created"))
        lead_id = body.get("id")
        if not lead_id:  # 204 on APIs before v46: read the id back by external id
            lead_id = self.http.request(
                "GET", f"{self.data}/sobjects/Lead/{EXTERNAL_ID}/{lead.id}", params={"fields": "Id"}
            ).json()["Id"]
        return Outcome(lead.id, "created" if created else "updated", "Lead", str(lead_id))

    # -- activities -------------------------------------------------------------------------
    def push_email(self, email: EmailRecord, contact: tuple[str, str]) -> Outcome:
        task = {
            "WhoId": contact[1],
            "Subject": f"Email: {email.subject}"[:255],
            "Description": email.body[:32000],
            "Status": "Completed",
            "Priority": "Normal",
            "TaskSubtype": "Email",
            "ActivityDate": email.sent_at.date().isoformat(),
        }
        try:
            response = self.http.request("POST", f"{self.data}/sobjects/Task", json=task)
        except CrmRecordError as exc:
            return Outcome(email.id, "failed", error=exc.message)
        return Outcome(email.id, "created", "Task", str(response.json()["id"]))

    def push_meeting(
        self, meeting: MeetingRecord, contact: tuple[str, str], existing: str | None
    ) -> Outcome:
        event = {
            "Subject": f"{MEETING_SUBJECTS.get(meeting.status, '')}Meeting booked by Vectra",
            "StartDateTime": utc_iso(meeting.scheduled_at),
            "EndDateTime": utc_iso(meeting.ends_at),
            "Location": meeting.meeting_url,
            "Description": meeting.notes or meeting.outcome,
        }
        try:
            if existing:
                self.http.request("PATCH", f"{self.data}/sobjects/Event/{existing}", json=event)
                return Outcome(meeting.id, "updated", "Event", existing)
            response = self.http.request(
                "POST", f"{self.data}/sobjects/Event", json=event | {"WhoId": contact[1]}
            )
        except CrmRecordError as exc:
            return Outcome(meeting.id, "failed", error=exc.message)
        return Outcome(meeting.id, "created", "Event", str(response.json()["id"]))
