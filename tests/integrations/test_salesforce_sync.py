"""Salesforce push against a local server speaking its REST and OAuth2 shapes."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tests.factories import make_lead
from tests.integrations.conftest import Sleeps, connect, crm_settings, make_pipeline
from tests.integrations.fake_crm import FakeSalesforce
from vectra.integrations import service
from vectra.integrations.sync import run_sync

LIMIT = [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]


def _password_login(salesforce: FakeSalesforce) -> dict[str, str]:
    salesforce.users["sdr@acme.example"] = "s3cret-pass" + "TOKEN123"
    return {"client_id": "3MVG9", "client_secret": "sf-client-secret",
            "username": "sdr@acme.example", "password": "s3cret-pass",
            "security_token": "TOKEN123"}  # fmt: skip


def test_push_updates_contacts_upserts_leads_and_logs_tasks_and_events_once(
    session: Session, salesforce: FakeSalesforce, sleeps: Sleeps
) -> None:
    p = make_pipeline(session)
    contact = salesforce.add("Contact", Email="Grace@Cobol.example", LastName="Hopper",
                             OwnerId="005OWNER")  # fmt: skip
    connect(session, p.organization, "salesforce", _password_login(salesforce))
    settings = crm_settings(salesforce=salesforce)

    run = run_sync(session, p.organization.id, "salesforce", reason="t", settings=settings,
                   sleep=sleeps)  # fmt: skip

    assert run.status == "succeeded", run.errors
    grace = salesforce.records["Contact"][contact]
    assert grace["Vectra_BANT_Score__c"] == 71 and grace["OwnerId"] == "005OWNER"
    assert grace["LastName"] == "Hopper"  # the CRM owns its person fields
    ((lead_id, lead),) = salesforce.records["Lead"].items()
    assert lead["Email"] == "ada@analytical.example" and lead["LastName"] == "Byron"
    assert lead["Company"] == "Analytical Engines" and lead["Vectra_Intent__c"] == "interested"
    assert lead["Vectra_Id__c"] == str(p.qualified[0].id)
    (task,) = salesforce.records["Task"].values()
    assert task["WhoId"] == lead_id and task["Subject"] == "Email: Quick question"
    assert task["Status"] == "Completed" and task["ActivityDate"] == "2025-03-01"
    (event,) = salesforce.records["Event"].values()
    assert event["WhoId"] == lead_id and event["StartDateTime"] == "2025-03-05T15:00:00.000Z"
    assert run.counts["lead"]["created"] == 1 and run.counts["lead"]["updated"] == 1

    again = run_sync(session, p.organization.id, "salesforce", reason="t", settings=settings,
                     sleep=sleeps)  # fmt: skip

    assert (again.created, again.updated, again.failed) == (0, 0, 0)
    assert len(salesforce.records["Lead"]) == 1 and len(salesforce.records["Task"]) == 1
    assert len(salesforce.records["Event"]) == 1 and len(salesforce.records["Contact"]) == 1


def test_request_limit_exceeded_backs_off_and_invalid_record_does_not_block(
    session: Session, salesforce: FakeSalesforce, sleeps: Sleeps
) -> None:
    p = make_pipeline(session)
    bad = make_lead(session, p.campaign, email="o'brien@typo.invalid", last_name="O'Brien",
                    status="qualified")  # fmt: skip
    connect(session, p.organization, "salesforce", _password_login(salesforce))
    salesforce.fail("GET", r".*/query", 403, LIMIT, times=2)

    run = run_sync(session, p.organization.id, "salesforce", reason="t",
                   settings=crm_settings(salesforce=salesforce), sleep=sleeps)  # fmt: skip

    assert len(sleeps.waits) == 2 and run.status == "partial"
    assert run.failed == 1 and run.errors[0]["id"] == str(bad.id)
    assert "invalid email address" in run.errors[0]["message"]
    assert len(salesforce.records["Lead"]) == 2  # the two good ones
    assert len(salesforce.records["Task"]) == 1


def test_expired_session_refreshes_once_then_error_with_message(
    session: Session, salesforce: FakeSalesforce, sleeps: Sleeps
) -> None:
    p = make_pipeline(session)
    salesforce.refresh_tokens.add("5Aep-refresh")
    row = connect(session, p.organization, "salesforce", {
        "client_id": "3MVG9", "refresh_token": "5Aep-refresh",
        "access_token": "00D!expired", "instance_url": salesforce.url,
    })  # fmt: skip
    settings = crm_settings(salesforce=salesforce)

    run = run_sync(session, p.organization.id, "salesforce", reason="t", settings=settings,
                   sleep=sleeps)  # fmt: skip

    assert run.status == "succeeded"
    assert service.read_credentials(row)["access_token"].startswith("00D!fresh")
    assert len(salesforce.calls("POST", "/services/oauth2/token")) == 1

    salesforce.valid_tokens.clear()
    salesforce.refresh_tokens.clear()  # the refresh token was revoked too
    p.qualified[0].bant_score = 10
    session.flush()
    failed = run_sync(session, p.organization.id, "salesforce", reason="t", settings=settings,
                      sleep=sleeps)  # fmt: skip

    assert failed.status == "failed"
    assert row.status == "error" and row.status_message == "authentication failure"
