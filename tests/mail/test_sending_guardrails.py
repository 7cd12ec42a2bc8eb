"""Guardrails: bounce/complaint rates over the last 200 sends pause mailboxes and campaigns;
sequence stops; the kill switch."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.factories import make_campaign, make_lead, make_organization
from vectra.accounts.actor import system_actor
from vectra.errors import InvalidInput, NotFound
from vectra.mail import guardrails, mailboxes
from vectra.mail.mailbox_schemas import MailboxCreate


def _sent_history(
    session: Session, *, sends: int, hard: int, complaints: int, older_bounces: int = 0
) -> dict[str, Any]:
    """A mailbox and active campaign with `sends` recent sends, `hard` of them hard-bounced."""
    org = make_organization(session)
    campaign = make_campaign(session, org, status="active")
    box = mailboxes.create_mailbox(
        session,
        system_actor(org.id),
        MailboxCreate(name="b", from_address="a@acme-sender.com", smtp_host="h", smtp_port=25),
    )
    lead = make_lead(session, campaign)
    base = dt.datetime(2026, 1, 1)
    total = sends + older_bounces
    for i in range(total):
        # The oldest `older_bounces` sends bounced, outside the last-`sends` window.
        bounced = i < older_bounces or (i - older_bounces) < hard
        email_id = session.execute(
            text(
                "INSERT INTO emails (organization_id, campaign_id, lead_id, subject, body, status, "
                "sent_at, mailbox_id, bounce_type) "
                "VALUES (:o, :c, :l, 's', 'b', 'sent', :at, :m, :bt) RETURNING id"
            ),
            {
                "o": org.id, "c": campaign.id, "l": lead.id, "m": box.id,
                "at": base + dt.timedelta(minutes=i), "bt": "hard" if bounced else None,
            },
        ).scalar()  # fmt: skip
        if older_bounces <= i < older_bounces + complaints:
            session.execute(
                text(
                    "INSERT INTO email_events (organization_id, email_id, kind) "
                    "VALUES (:o, :e, 'complaint')"
                ),
                {"o": org.id, "e": email_id},
            )
    return {"org": org, "campaign": campaign, "mailbox": box}


def _statuses(session: Session, data: dict[str, Any]) -> tuple[str, str]:
    box = session.execute(
        text("SELECT status FROM mailboxes WHERE id = :i"), {"i": data["mailbox"].id}
    ).scalar()
    campaign = session.execute(
        text("SELECT status FROM campaigns WHERE id = :i"), {"i": data["campaign"].id}
    ).scalar()
    return box, campaign


def test_hard_bounces_over_three_percent_pause(session: Session) -> None:
    data = _sent_history(session, sends=200, hard=7, complaints=0)  # 3.5%
    paused = guardrails.enforce_guardrails(session, data["org"].id)
    assert len(paused) == 2
    assert _statuses(session, data) == ("paused", "paused")
    reason = session.execute(
        text("SELECT status_reason FROM mailboxes WHERE id = :i"), {"i": data["mailbox"].id}
    ).scalar()
    assert "hard bounce rate 3.5%" in reason


def test_exactly_three_percent_and_old_bounces_do_not_pause(session: Session) -> None:
    # 6/200 = 3% is not over; 50 older bounces are outside the last 200 sends.
    data = _sent_history(session, sends=200, hard=6, complaints=0, older_bounces=50)
    assert guardrails.enforce_guardrails(session, data["org"].id) == []
    assert _statuses(session, data) == ("active", "active")


def test_one_complaint_in_two_hundred_pauses(session: Session) -> None:
    data = _sent_history(session, sends=200, hard=0, complaints=1)  # 0.5% > 0.1%
    assert guardrails.enforce_guardrails(session, data["org"].id)
    assert _statuses(session, data) == ("paused", "paused")


def test_small_samples_wait_for_bounces(session: Session) -> None:
    data = _sent_history(session, sends=10, hard=1, complaints=0)  # 10%, but 10 sends
    assert guardrails.enforce_guardrails(session, data["org"].id) == []


def test_stop_sequence_is_idempotent_and_validates(session: Session) -> None:
    org = make_organization(session)
    campaign = make_campaign(session, org)
    lead = make_lead(session, campaign)
    session.execute(
        text(
            "INSERT INTO emails (organization_id, campaign_id, lead_id, subject, body, status) "
            "VALUES (:o, :c, :l, 's', 'b', 'approved'), (:o, :c, :l, 's2', 'b', 'pending')"
        ),
        {"o": org.id, "c": campaign.id, "l": lead.id},
    )
    assert guardrails.stop_sequence(session, lead.id, "meeting") == 2
    assert guardrails.stop_sequence(session, lead.id, "reply") == 0
    reason = session.execute(
        text("SELECT reason FROM sequence_stops WHERE lead_id = :l"), {"l": lead.id}
    ).scalar()
    assert reason == "meeting"  # the first reason is kept
    with pytest.raises(InvalidInput):
        guardrails.stop_sequence(session, lead.id, "bored")
    with pytest.raises(NotFound):
        guardrails.stop_sequence(session, uuid.uuid4(), "manual")
