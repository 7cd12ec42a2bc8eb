"""Soft, policy and delay reports: retried / counted, sender flagged, recorded only."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.mail.inbound_db.dsn import dsn
from tests.mail.inbound_db.support import BOUNCE_DOMAIN, World, make_world
from vectra.db.base import utcnow
from vectra.mail import tokens
from vectra.mail.inbound import store
from vectra.mail.inbound.models import InboundMessage

FULL = "452 4.2.2 The email account that you tried to reach is over quota."
BLOCKED = "550 5.7.1 Service unavailable; client host [198.51.100.25] blocked using Spamhaus"


def _deliver(session: Session, raw: bytes, to: str) -> InboundMessage:
    row = store.receive(session, raw, source="smtp", mail_from="", rcpt_to=[to])
    processed = store.process(session, row.id)
    assert processed is not None
    return processed


def _report(
    session: Session, w: World, i: int, *, status: str, action: str, diagnostic: str
) -> InboundMessage:
    verp = tokens.verp_address(w.emails[i], BOUNCE_DOMAIN)
    raw = dsn(verp=verp, rcpt=w.leads[i][1], status=status, action=action, diagnostic=diagnostic)
    return _deliver(session, raw, verp)


def _email(session: Session, email_id: uuid.UUID) -> Any:
    return session.execute(
        text("SELECT status, send_state, scheduled_for, bounce_type FROM emails WHERE id = :e"),
        {"e": email_id},
    ).one()


def _mark_sent(session: Session, email_id: uuid.UUID) -> None:
    session.execute(
        text(
            "UPDATE emails SET status = 'sent', send_state = 'sent', sent_at = now() WHERE id = :e"
        ),
        {"e": email_id},
    )


def test_soft_bounces_retry_on_a_backoff_then_turn_hard(session: Session) -> None:
    w = make_world(session)
    lead_id, address = w.leads[0]
    first = _report(session, w, 0, status="4.2.2", action="failed", diagnostic=FULL)
    assert first.effects["outcome"] == "retry" and first.effects["soft_count"] == 1
    email = _email(session, w.emails[0])
    assert (email.status, email.send_state, email.bounce_type) == ("approved", None, "soft")
    delay = (email.scheduled_for - utcnow()).total_seconds()
    assert 3500 < delay <= 3600  # first retry after an hour
    _mark_sent(session, w.emails[0])  # the sender retried it
    second = _report(session, w, 0, status="4.2.2", action="failed", diagnostic=FULL)
    assert second.effects["soft_count"] == 2
    delay = (_email(session, w.emails[0]).scheduled_for - utcnow()).total_seconds()
    assert 6 * 3600 - 100 < delay <= 6 * 3600  # a longer wait the second time
    _mark_sent(session, w.emails[0])
    third = _report(session, w, 0, status="4.2.2", action="failed", diagnostic=FULL)
    assert third.effects["outcome"] == "hard_after_soft" and third.effects["soft_count"] == 3
    assert _email(session, w.emails[0]).status == "bounced"
    suppressed = session.execute(
        text("SELECT reason FROM suppressions WHERE value = :v"), {"v": address}
    ).scalar()
    assert suppressed == "hard_bounce"
    status = session.execute(text("SELECT status FROM leads WHERE id = :l"), {"l": lead_id})
    assert status.scalar() == "completed"


def test_policy_refusals_flag_the_mailbox_and_pause_it_past_the_threshold(
    session: Session,
) -> None:
    w = make_world(session, leads=5)
    for i in range(4):
        row = _report(session, w, i, status="5.7.1", action="failed", diagnostic=BLOCKED)
        assert row.effects["outcome"] == "policy" and "paused" not in row.effects
    box = session.execute(
        text("SELECT status, last_error FROM mailboxes WHERE id = :m"), {"m": w.mailbox_id}
    ).one()
    assert box.status == "active" and "5.7.1" in box.last_error
    fifth = _report(session, w, 4, status="5.7.1", action="failed", diagnostic=BLOCKED)
    assert fifth.effects["policy_refusals"] == 5 and "paused" in fifth.effects
    box = session.execute(
        text("SELECT status, status_reason FROM mailboxes WHERE id = :m"), {"m": w.mailbox_id}
    ).one()
    assert box.status == "paused" and "policy refusals" in box.status_reason
    campaign = session.execute(
        text("SELECT status FROM campaigns WHERE id = :c"), {"c": w.campaign_id}
    ).scalar()
    assert campaign == "paused"
    # The addresses are fine: no lead is blamed, nothing is suppressed or stopped.
    statuses = session.execute(
        text("SELECT DISTINCT status FROM leads WHERE campaign_id = :c"), {"c": w.campaign_id}
    ).scalars()
    assert list(statuses) == ["contacted"]
    assert (
        session.execute(
            text("SELECT count(*) FROM suppressions WHERE organization_id = :o"), {"o": w.org_id}
        ).scalar()
        == 0
    )
    assert (
        session.execute(
            text("SELECT count(*) FROM sequence_stops WHERE organization_id = :o"), {"o": w.org_id}
        ).scalar()
        == 0
    )


def test_a_delay_is_recorded_only(session: Session) -> None:
    w = make_world(session)
    row = _report(session, w, 0, status="4.4.1", action="delayed", diagnostic="421 4.4.1 timeout")
    assert row.kind == "delay" and row.effects == {"recorded": "delay"}
    email = _email(session, w.emails[0])
    assert (email.status, email.send_state, email.bounce_type) == ("sent", "sent", None)
    events = session.execute(
        text("SELECT count(*) FROM email_events WHERE email_id = :e"), {"e": w.emails[0]}
    ).scalar()
    assert events == 0


def test_a_forged_verp_token_does_not_reach_the_email(session: Session) -> None:
    w = make_world(session)
    verp = tokens.verp_address(w.emails[0], BOUNCE_DOMAIN)
    forged = "b+" + ("a" if verp[2] != "a" else "b") + verp[3:]
    raw = dsn(verp=forged, rcpt=w.leads[0][1], status="5.1.1", action="failed",
              diagnostic="550 5.1.1 user unknown")  # fmt: skip
    row = _deliver(session, raw, forged)
    assert row.state == "quarantined" and row.email_id is None
    assert _email(session, w.emails[0]).status == "sent"


def test_a_positive_dsn_marks_the_email_delivered(session: Session) -> None:
    w = make_world(session)
    row = _report(session, w, 0, status="2.0.0", action="delivered", diagnostic="250 2.0.0 OK")
    assert (row.state, row.kind, row.error) == ("processed", "receipt", None)
    email = session.execute(
        text("SELECT status, delivered_at FROM emails WHERE id = :e"), {"e": w.emails[0]}
    ).one()
    assert email.status == "sent" and email.delivered_at is not None
    kinds = session.execute(
        text("SELECT kind FROM email_events WHERE email_id = :e"), {"e": w.emails[0]}
    ).scalars()
    assert list(kinds) == ["delivered"]
