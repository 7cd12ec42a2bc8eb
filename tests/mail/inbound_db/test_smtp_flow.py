"""Realistic messages delivered through the real inbound SMTP server, then processed by the job."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.mail.inbound_db.support import (
    BOUNCE_DOMAIN,
    deliver,
    inbound_server,
    make_world,
    reply_message,
    run_jobs,
)
from vectra.db.engine import Database
from vectra.mail import tokens

MESSAGES = Path(__file__).parent / "messages"
CORPUS = Path(__file__).parents[1] / "corpus" / "bounces"


def _template(name: str, **values: str) -> bytes:
    raw = (MESSAGES / name).read_text()
    for key, value in values.items():
        raw = raw.replace("{" + key + "}", value)
    return raw.replace("\r\n", "\n").replace("\n", "\r\n").encode()


def _one(session: Session, sql: str, **params: Any) -> Any:
    return session.execute(text(sql), params).one()


def _inbound(database: Database, inbound_id: str) -> Any:
    with database.system_session() as s:
        return _one(s, "SELECT * FROM inbound_messages WHERE id = :i", i=inbound_id)


def _queued_id(reply: str) -> str:
    return reply.rsplit(" ", 1)[-1]


def test_dsn_to_a_verp_address_bounces_its_email(committed_database: Database) -> None:
    db = committed_database
    with db.system_session() as s:
        w = make_world(s)
    lead_id, address = w.leads[0]
    verp = tokens.verp_address(w.emails[0], BOUNCE_DOMAIN)
    raw = _template("postfix_dsn.eml", verp=verp, rcpt=address)
    with inbound_server(db) as (port, handler):
        reply = deliver(port, raw, to=verp, mail_from="")
    assert handler.stored == 1
    inbound_id = _queued_id(reply)
    # Stored raw first, with its job, before anything is parsed.
    row = _inbound(db, inbound_id)
    assert row.state == "received" and bytes(row.raw) == raw and row.rcpt_to == [verp]
    assert run_jobs(db) == ["processed"]
    row = _inbound(db, inbound_id)
    assert (row.kind, row.bounce_type, row.dsn_status) == ("bounce", "hard", "5.1.1")
    assert row.organization_id == w.org_id and row.email_id == w.emails[0]
    assert row.details["matched_by"] == "verp"
    with db.system_session() as s:
        email = _one(s, "SELECT status, bounce_type, bounced_at FROM emails WHERE id = :e",
                     e=w.emails[0])  # fmt: skip
        assert (email.status, email.bounce_type) == ("bounced", "hard") and email.bounced_at
        # contacted -> rejected is refused by the status machine: the lead is closed instead.
        lead = _one(s, "SELECT status FROM leads WHERE id = :l", l=lead_id)
        assert lead.status == "completed"
        why = _one(s, "SELECT reason, agent FROM lead_status_history WHERE lead_id = :l "
                   "ORDER BY created_at DESC LIMIT 1", l=lead_id)  # fmt: skip
        assert why.reason == "hard bounce 5.1.1" and why.agent == "inbound"
        sup = _one(s, "SELECT reason FROM suppressions WHERE organization_id = :o AND value = :v",
                   o=w.org_id, v=address)  # fmt: skip
        assert sup.reason == "hard_bounce"
        assert _one(
            s, "SELECT reason FROM sequence_stops WHERE lead_id = :l", l=lead_id
        ).reason == ("bounce")
        queued = _one(s, "SELECT send_state FROM emails WHERE id = :e", e=w.queued[0])
        assert queued.send_state == "stopped"


def test_office365_ndr_is_matched_by_the_quoted_message_id(committed_database: Database) -> None:
    db = committed_database
    raw = (CORPUS / "lhost-office365-01.eml").read_bytes()
    with db.system_session() as s:
        w = make_world(s, addresses=["kijitora@example.com"])
        # Our sent email is the one the NDR quotes (no VERP: it came to the postmaster).
        s.execute(
            text(
                "UPDATE emails SET message_id = '<FFFFFFFF.EEEEEEEE@example.ed.jp>' WHERE id = :e"
            ),
            {"e": w.emails[0]},
        )
    with inbound_server(db) as (port, _):
        reply = deliver(port, raw, to=f"postmaster@{BOUNCE_DOMAIN}")
    run_jobs(db)
    row = _inbound(db, _queued_id(reply))
    assert row.state == "processed" and row.email_id == w.emails[0]
    assert row.details["matched_by"] == "original_message_id"
    assert (row.bounce_type, row.dsn_status) == ("hard", "5.1.10")
    with db.system_session() as s:
        status = s.execute(text("SELECT status FROM emails WHERE id = :e"), {"e": w.emails[0]})
        assert status.scalar() == "bounced"


def test_arf_complaint_suppresses_at_once_and_trips_the_spam_guardrail(
    committed_database: Database,
) -> None:
    db = committed_database
    with db.system_session() as s:
        w = make_world(s)
    lead_id, address = w.leads[0]
    verp = tokens.verp_address(w.emails[0], BOUNCE_DOMAIN)
    raw = _template("arf_complaint.eml", verp=verp, rcpt=address, message_id=w.message_ids[0])
    with inbound_server(db) as (port, _):
        reply = deliver(port, raw, to=f"fbl@{BOUNCE_DOMAIN}", mail_from="staff@hotmail.com")
    run_jobs(db)
    row = _inbound(db, _queued_id(reply))
    assert row.kind == "complaint" and row.email_id == w.emails[0]
    with db.system_session() as s:
        assert _one(s, "SELECT reason FROM suppressions WHERE value = :v", v=address).reason == (
            "complaint"
        )
        events = s.execute(
            text("SELECT kind FROM email_events WHERE email_id = :e"), {"e": w.emails[0]}
        ).scalars()
        assert list(events) == ["complaint"]
        # One complaint in one send is far past 0.1%: the guardrail pauses mailbox and campaign.
        assert _one(s, "SELECT status FROM mailboxes WHERE id = :m", m=w.mailbox_id).status == (
            "paused"
        )
        assert _one(s, "SELECT status FROM campaigns WHERE id = :c", c=w.campaign_id).status == (
            "paused"
        )
        assert _one(
            s, "SELECT reason FROM sequence_stops WHERE lead_id = :l", l=lead_id
        ).reason == ("complaint")


def test_vacation_replies_reschedule_after_the_return_date(committed_database: Database) -> None:
    db = committed_database
    with db.system_session() as s:
        w = make_world(s, leads=2)
    texts = [
        "I am out of the office until January 20, 2026 with limited access to email.\n"
        "For urgent matters please contact my assistant.",
        "Bonjour,\nJe suis absent du bureau jusqu'au 19 janvier 2026. "
        "Je répondrai à votre message à mon retour.\nCordialement",
    ]
    ids = []
    with inbound_server(db) as (port, _):
        for i, body in enumerate(texts):
            raw = reply_message(
                sender=w.leads[i][1],
                body=body,
                in_reply_to=w.message_ids[i],
                extra_headers="Auto-Submitted: auto-replied",
            )
            ids.append(_queued_id(deliver(port, raw, to=f"replies@{BOUNCE_DOMAIN}")))
    run_jobs(db)
    for i, inbound_id in enumerate(ids):
        row = _inbound(db, inbound_id)
        assert row.intent == "out_of_office" and row.details["matched_by"] == "in_reply_to"
        assert dt.date(2026, 1, 19) <= row.return_on <= dt.date(2026, 1, 21)
        with db.system_session() as s:
            queued = _one(s, "SELECT scheduled_for, send_state FROM emails WHERE id = :e",
                          e=w.queued[i])  # fmt: skip
            expected = dt.datetime.combine(row.return_on + dt.timedelta(days=1), dt.time(9))
            assert queued.scheduled_for == expected and queued.send_state is None
            # An absence is not an answer: the sequence goes on afterwards.
            stop = s.execute(
                text("SELECT 1 FROM sequence_stops WHERE lead_id = :l"), {"l": w.leads[i][0]}
            ).first()
            assert stop is None
            lead = _one(s, "SELECT intent FROM leads WHERE id = :l", l=w.leads[i][0])
            assert lead.intent == "out_of_office"


def test_referral_creates_a_lead_in_the_same_campaign_once(committed_database: Database) -> None:
    db = committed_database
    with db.system_session() as s:
        w = make_world(s)
    body = (
        "Hi Ann,\n\nI'm no longer with the company. Please contact Maria Lopez at "
        "maria.lopez@prospect-mail.com going forward.\n\nBest,\nJohn"
    )
    raw = reply_message(sender=w.leads[0][1], body=body, in_reply_to=w.message_ids[0])
    with inbound_server(db) as (port, _):
        inbound_id = _queued_id(deliver(port, raw, to=f"replies@{BOUNCE_DOMAIN}"))
    run_jobs(db)
    row = _inbound(db, inbound_id)
    assert row.intent == "referral"
    with db.system_session() as s:
        new = _one(s, "SELECT id, campaign_id, first_name, last_name, source, status FROM leads "
                   "WHERE email = 'maria.lopez@prospect-mail.com'")  # fmt: skip
        assert (new.campaign_id, new.first_name, new.last_name) == (w.campaign_id, "Maria", "Lopez")
        assert (new.source, new.status) == ("referral", "new")
        assert row.effects["referral_lead_id"] == str(new.id)
        replied = _one(s, "SELECT replied_at FROM emails WHERE id = :e", e=w.emails[0])
        assert replied.replied_at is not None
        assert _one(s, "SELECT reason FROM sequence_stops WHERE lead_id = :l",
                    l=w.leads[0][0]).reason == "reply"  # fmt: skip


def test_referral_to_a_suppressed_address_creates_nothing(committed_database: Database) -> None:
    db = committed_database
    with db.system_session() as s:
        w = make_world(s)
        s.execute(
            text(
                "INSERT INTO suppressions (organization_id, kind, value, reason) "
                "VALUES (:o, 'domain', 'blocked-co.com', 'manual')"
            ),
            {"o": w.org_id},
        )
    body = "I'm no longer with the company. Please contact Bo Li at bo@blocked-co.com instead."
    raw = reply_message(sender=w.leads[0][1], body=body, in_reply_to=w.message_ids[0])
    with inbound_server(db) as (port, _):
        inbound_id = _queued_id(deliver(port, raw, to=f"replies@{BOUNCE_DOMAIN}"))
    run_jobs(db)
    row = _inbound(db, inbound_id)
    assert row.intent == "referral" and "suppression" in row.effects["referral"]
    with db.system_session() as s:
        assert (
            s.execute(text("SELECT 1 FROM leads WHERE email = 'bo@blocked-co.com'")).first() is None
        )


def test_the_same_message_delivered_twice_is_processed_once(committed_database: Database) -> None:
    db = committed_database
    with db.system_session() as s:
        w = make_world(s)
    raw = reply_message(
        sender=w.leads[0][1],
        body="Not interested, thanks.",
        in_reply_to=w.message_ids[0],
        message_id="<dup-1@prospect-mail.com>",
    )
    with inbound_server(db) as (port, handler):
        first = _queued_id(deliver(port, raw, to=f"replies@{BOUNCE_DOMAIN}"))
        second = _queued_id(deliver(port, raw, to=f"replies@{BOUNCE_DOMAIN}"))
    assert handler.stored == 2  # both copies are kept
    assert sorted(run_jobs(db)) == ["duplicate", "processed"]
    rows = {r: _inbound(db, r) for r in (first, second)}
    processed = [r for r in rows.values() if r.state == "processed"]
    duplicate = [r for r in rows.values() if r.state == "duplicate"]
    assert len(processed) == 1 and len(duplicate) == 1
    assert duplicate[0].duplicate_of == processed[0].id
    with db.system_session() as s:
        events = s.execute(
            text("SELECT count(*) FROM email_events WHERE email_id = :e AND kind = 'reply'"),
            {"e": w.emails[0]},
        ).scalar()
        assert events == 1
        history = s.execute(
            text("SELECT to_status FROM lead_status_history WHERE lead_id = :l"),
            {"l": w.leads[0][0]},
        ).scalars()
        assert list(history) == ["completed"]
    # A re-run of the job (the worker retried it) changes nothing.
    from vectra.mail.inbound.tasks import process_inbound_message
    from vectra.worker.database import use_database

    use_database(db)
    try:
        assert process_inbound_message(inbound_id=first) == rows[first].state
    finally:
        use_database(None)


def test_an_unparseable_message_is_kept_and_flagged(committed_database: Database) -> None:
    db = committed_database
    raw = b"\x00\x01\x02 not a message at all \xff\xfe\r\n"
    with inbound_server(db) as (port, _):
        inbound_id = _queued_id(deliver(port, raw, to=f"replies@{BOUNCE_DOMAIN}"))
    assert run_jobs(db) == ["unparseable"]
    row = _inbound(db, inbound_id)
    assert bytes(row.raw) == raw and row.error == "no header fields"
    assert row.organization_id is None


def test_a_message_naming_no_email_is_quarantined_outside_every_tenant(
    committed_database: Database,
) -> None:
    db = committed_database
    with db.system_session() as s:
        w = make_world(s)
    raw = reply_message(
        sender="stranger@elsewhere.example", body="Who are you?", in_reply_to="<nope@x>"
    )
    with inbound_server(db) as (port, _):
        inbound_id = _queued_id(deliver(port, raw, to=f"replies@{BOUNCE_DOMAIN}"))
    run_jobs(db)
    row = _inbound(db, inbound_id)
    assert row.state == "quarantined" and row.organization_id is None
    # RLS: a tenant never sees quarantined rows; the system context does.
    with db.tenant_session(w.org_id) as s:
        assert s.execute(text("SELECT count(*) FROM inbound_messages")).scalar() == 0


def test_relaying_to_other_domains_is_refused(committed_database: Database) -> None:
    import smtplib

    with inbound_server(committed_database) as (port, handler):
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.ehlo("mx.example")
            client.mail("someone@example.com")
            code, _ = client.rcpt("victim@gmail.com")
        assert code == 550 and handler.stored == 0


def test_interested_reply_hands_the_lead_to_the_scheduler(committed_database: Database) -> None:
    db = committed_database
    with db.system_session() as s:
        w = make_world(s)
    raw = reply_message(
        sender=w.leads[0][1],
        body="Yes, this sounds interesting. Could we set up a call next week?",
        in_reply_to=w.message_ids[0],
    )
    with inbound_server(db) as (port, _):
        inbound_id = _queued_id(deliver(port, raw, to=f"replies@{BOUNCE_DOMAIN}"))
        run_jobs(db)
        row = _inbound(db, inbound_id)
        assert row.intent in ("interested", "meeting_request")
        assert isinstance(row.effects["scheduler_job"], int)
        results = run_jobs(db, "propose_meeting_for_reply")
    assert len(results) == 1
    with db.system_session() as s:
        run = _one(s, "SELECT agent_type, status, input_data FROM agent_runs "
                   "WHERE organization_id = :o", o=w.org_id)  # fmt: skip
        assert run.agent_type == "scheduler" and run.input_data["lead_id"] == str(w.leads[0][0])
        assert run.status == results[0]["status"]
