"""The Art. 14 notice in first emails, the CAN-SPAM footer, and the retention sweep."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.factories import make_campaign, make_lead, make_organization
from tests.privacy.world import FIRST, LOWER, World, build, occurrences
from vectra.accounts.actor import system_actor
from vectra.db.base import utcnow
from vectra.db.tenancy import as_system, as_tenant
from vectra.mail.drafts import message_parts
from vectra.mail.models import Email
from vectra.privacy import notice_for
from vectra.privacy.retention import anonymise_stale, cutoff


def _org_and_lead(session: Session, country: str | None, **settings: object):  # type: ignore[no-untyped-def]
    organization = make_organization(session, name="Acme Analytics", settings=settings)
    lead = make_lead(
        session,
        make_campaign(session, organization),
        enrichment_data={"country": country} if country else {},
        source="csv_import",
    )
    return organization, lead


@pytest.mark.parametrize("country", ["DE", "fr", "NO", "IS", "GB", "UK"])
def test_eu_eea_recipients_get_the_notice(session: Session, country: str) -> None:
    organization, lead = _org_and_lead(session, country)
    notice = notice_for(session, organization, lead)
    assert notice is not None
    for part in (
        "Acme Analytics",
        "contact list imported by Acme Analytics",
        "object",
        "unsubscribe",
        "legitimate interest",
    ):
        assert part in notice


@pytest.mark.parametrize("country", ["US", "CA", None, "XX"])
def test_others_get_none(session: Session, country: str | None) -> None:
    organization, lead = _org_and_lead(session, country)
    assert notice_for(session, organization, lead) is None


def test_configured_wording_and_switch(session: Session) -> None:
    custom = {
        "controller": "Acme GmbH, Berlin, is the controller.",
        "contact_email": "privacy@acme.example",
    }
    organization, lead = _org_and_lead(session, "DE", privacy_notice=custom)
    notice = notice_for(session, organization, lead)
    assert notice and "Acme GmbH, Berlin" in notice and "privacy@acme.example" in notice
    organization.settings = {"privacy_notice": {"enabled": False}}
    assert notice_for(session, organization, lead) is None


def _email(session: Session, lead, step: int) -> Email:  # type: ignore[no-untyped-def]
    email = Email(
        organization_id=lead.organization_id,
        lead_id=lead.id,
        campaign_id=lead.campaign_id,
        subject="Hi",
        body="Hello there",
        sequence_step=step,
        status="approved",
    )
    with as_system(session):
        session.add(email)
        session.flush()
    return email


def test_first_email_carries_notice_footer_and_address(session: Session) -> None:
    address = {"street": "1 Main St", "city": "Berlin", "postal_code": "10115", "country": "DE"}
    _organization, lead = _org_and_lead(session, "DE", postal_address=address)
    first = message_parts(session, _email(session, lead, 0), signature="Bo")
    assert "Privacy notice:" in first.text and "Privacy notice:" in first.html
    # The structured postal address (accounts settings) is printed in both parts.
    assert "1 Main St" in first.text and "10115 Berlin" in first.text
    assert "1 Main St" in first.html
    assert "/unsubscribe/" in first.text or "unsubscribe" in first.text.lower()
    assert first.text.index("Bo") < first.text.index("1 Main St")
    later = message_parts(session, _email(session, lead, 1))
    assert "Privacy notice:" not in later.text and "1 Main St" in later.text


def test_retention_anonymises_only_untouched_leads(session: Session) -> None:
    world: World = build(session)
    org = world.organization.id
    now = utcnow() + dt.timedelta(days=31 * 25)  # 25 months on: every row is old by then
    with as_tenant(session, org):
        # The other lead got an email a month before "now": it was touched.
        session.execute(
            text(
                "INSERT INTO emails (organization_id, lead_id, campaign_id, subject, body, "
                "status, sent_at) VALUES (:o, :l, :c, 's', 'b', 'sent', :t)"
            ),
            {
                "o": org,
                "l": world.other.id,
                "c": world.other.campaign_id,
                "t": now - dt.timedelta(days=30),
            },
        )
        count = anonymise_stale(session, system_actor(org), 24, now=now)
        assert count == 2
        assert anonymise_stale(session, system_actor(org), 24, now=now) == 0
        row = session.execute(
            text("SELECT email, first_name FROM leads WHERE id = :i"), {"i": world.other.id}
        ).one()
        assert row.first_name == "Alice"
        action = session.execute(
            text("SELECT details FROM audit_events WHERE action = 'privacy.retention_anonymised'")
        ).scalar_one()
        assert action["leads"] == 2
    found = occurrences(session, FIRST)
    assert not [f for f in found if not f.startswith(("suppressions", "lead_import_jobs"))]
    assert "leads.email" not in occurrences(session, LOWER)


def test_cutoff_is_calendar_months() -> None:
    assert cutoff(dt.datetime(2026, 3, 31), 1) == dt.datetime(2026, 2, 28)
    assert cutoff(dt.datetime(2026, 1, 15), 24) == dt.datetime(2024, 1, 15)


def test_retention_job_is_registered() -> None:
    import vectra.privacy.tasks  # noqa: F401
    from vectra.worker.app import TASK_MODULES, app

    assert "vectra.privacy.tasks" in TASK_MODULES
    assert "privacy.retention_sweep" in app.tasks
