"""The sender end to end against a real aiosmtpd server and a real database."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import dkim as dkimpy
from sqlalchemy import text

from tests.mail.sending_support import email_state, received, running_sink, setup_campaign
from vectra.db.engine import Database
from vectra.db.tenancy import set_tenant
from vectra.mail import delivery, dkim, guardrails
from vectra.mail.tokens import read_token, read_verp_address


def _commit_setup(database: Database, port: int, **kwargs: object) -> dict[str, object]:
    with database.sessions() as session:
        set_tenant(session, None, system=True)
        with session.begin():
            setup = setup_campaign(session, port, **kwargs)  # type: ignore[arg-type]
    return setup


def test_sends_signed_message_with_unsubscribe_headers(
    committed_database: Database, tmp_path: Path
) -> None:
    with running_sink(tmp_path) as (port, handler):
        setup = _commit_setup(committed_database, port, leads=2)
        report = asyncio.run(delivery.run_sender(committed_database))
    assert report.sent == 2 and report.failed == 0
    messages = received(tmp_path)
    assert len(messages) == 2
    key = setup["dkim"]
    record = dkim.txt_record_value(key.public_key).encode()  # type: ignore[attr-defined]
    for path in tmp_path.glob("*.eml"):
        raw = path.read_bytes()
        assert dkimpy.verify(raw, dnsfunc=lambda name, timeout=5: record)
        # Any change to a signed header breaks the signature.
        assert not dkimpy.verify(
            raw.replace(b"Subject: Hello", b"Subject: Hullo"),
            dnsfunc=lambda name, timeout=5: record,
        )
    message = messages[0]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    https, mailto = (part.strip(" <>") for part in message["List-Unsubscribe"].split(","))
    email_id = read_token("unsubscribe", https.rsplit("/", 1)[1])
    assert email_id is not None
    assert mailto.startswith("mailto:unsubscribe+")
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert "h=from : to : subject : date : message-id : list-unsubscribe" in " ".join(
        message["DKIM-Signature"].split()
    ).replace("h=from:to", "h=from : to")
    with committed_database.system_session() as session:
        for row in setup["emails"]:  # type: ignore[attr-defined]
            state = email_state(session, row.id)
            assert state.status == "sent" and state.send_state == "sent"
            assert state.message_id.endswith("@acme-sender.com>")
        lead_status = session.execute(
            text("SELECT status FROM leads WHERE id = :l"),
            {"l": setup["emails"][0].lead_id},  # type: ignore[index]
        ).scalar()
    assert lead_status == "contacted"
    # The envelope sender is the VERP address naming the email.
    assert handler.count == 2


def test_verp_return_path_names_the_email(committed_database: Database, tmp_path: Path) -> None:
    envelopes: list[str] = []
    with running_sink(tmp_path, announce=lambda r: envelopes.append(r.mail_from)) as (port, _):
        setup = _commit_setup(committed_database, port)
        asyncio.run(delivery.run_sender(committed_database))
    assert read_verp_address(envelopes[0]) == setup["emails"][0].id  # type: ignore[index]


def test_caps_campaign_and_mailbox_ramp(committed_database: Database, tmp_path: Path) -> None:
    with running_sink(tmp_path) as (port, _):
        # Warm-up day 0: 3 per day, although the cap is 100 and the campaign allows 5.
        _commit_setup(
            committed_database, port, leads=8, daily_limit=5, mailbox_cap=100,
            warmup_start=3, warmup_increment=10, warmup_days=10,
        )  # fmt: skip
        report = asyncio.run(delivery.run_sender(committed_database))
    assert report.sent == 3
    assert len(received(tmp_path)) == 3


def test_rotation_spreads_across_mailboxes(committed_database: Database, tmp_path: Path) -> None:
    with running_sink(tmp_path) as (port, _):
        setup = _commit_setup(committed_database, port, leads=6, mailboxes_count=3, mailbox_cap=2)
        report = asyncio.run(delivery.run_sender(committed_database))
    assert report.sent == 6
    with committed_database.system_session() as session:
        per_box = session.execute(
            text("SELECT mailbox_id, count(*) FROM emails WHERE campaign_id = :c GROUP BY 1"),
            {"c": setup["campaign"].id},  # type: ignore[attr-defined]
        ).all()
    assert sorted(n for _, n in per_box) == [2, 2, 2]


def test_stopped_and_suppressed_leads_get_nothing(
    committed_database: Database, tmp_path: Path
) -> None:
    with running_sink(tmp_path) as (port, _):
        setup = _commit_setup(committed_database, port, leads=3)
        emails = setup["emails"]
        with committed_database.system_session() as session:
            guardrails.stop_sequence(session, emails[0].lead_id, "reply")  # type: ignore[index]
            from vectra.leads.suppression import suppress

            address = session.execute(
                text("SELECT email FROM leads WHERE id = :l"),
                {"l": emails[1].lead_id},  # type: ignore[index]
            ).scalar()
            suppress(session, setup["actor"], address, "unsubscribe")  # type: ignore[arg-type]
        report = asyncio.run(delivery.run_sender(committed_database))
    assert report.sent == 1
    with committed_database.system_session() as session:
        assert email_state(session, emails[0].id).send_state == "stopped"  # type: ignore[index]
        assert email_state(session, emails[1].id).send_state == "stopped"  # type: ignore[index]
        assert email_state(session, emails[2].id).send_state == "sent"  # type: ignore[index]


def test_a_follow_up_waits_for_its_first_email_and_its_delay(
    committed_database: Database, tmp_path: Path
) -> None:
    # Steps count from 0 as the composer drafts them: step 1 is the first follow-up.
    with running_sink(tmp_path) as (port, _):
        setup = _commit_setup(committed_database, port)
        first = setup["emails"][0]  # type: ignore[index]
        with committed_database.system_session() as session:
            follow_up = session.execute(
                text(
                    "INSERT INTO emails (organization_id, campaign_id, lead_id, subject, body, "
                    "status, sequence_step, delay_days) SELECT organization_id, campaign_id, "
                    "lead_id, 'Following up', 'Any thoughts?', 'approved', 1, 3 FROM emails "
                    "WHERE id = :i RETURNING id"
                ),
                {"i": first.id},
            ).scalar_one()
            # Approved before the first one went: it must not be claimed ahead of it.
            session.execute(
                text("UPDATE emails SET created_at = created_at - interval '1 day' WHERE id = :i"),
                {"i": follow_up},
            )
        report = asyncio.run(delivery.run_sender(committed_database))
        assert report.sent == 1
        with committed_database.system_session() as session:
            assert email_state(session, first.id).send_state == "sent"
            assert email_state(session, follow_up).send_state is None
            waiting = "SELECT scheduled_for > now() AT TIME ZONE 'UTC' FROM emails WHERE id = :i"
            assert session.execute(text(waiting), {"i": follow_up}).scalar() is True
            # Its look-again time comes: now the first email has gone, the delay applies.
            session.execute(
                text("UPDATE emails SET scheduled_for = NULL WHERE id = :i"), {"i": follow_up}
            )
        assert asyncio.run(delivery.run_sender(committed_database)).sent == 0
        with committed_database.system_session() as session:
            due = session.execute(
                text(
                    "SELECT f.scheduled_for - p.sent_at AS wait FROM emails f, emails p "
                    "WHERE f.id = :f AND p.id = :p"
                ),
                {"f": follow_up, "p": first.id},
            ).scalar_one()
            # Three business days on (the due day starts at the window's opening): never now.
            assert due > dt.timedelta(days=2)
            assert email_state(session, follow_up).send_state is None


def test_kill_switch_holds_everything(committed_database: Database, tmp_path: Path) -> None:
    with running_sink(tmp_path) as (port, _):
        setup = _commit_setup(committed_database, port, leads=2)
        with committed_database.system_session() as session:
            guardrails.set_kill_switch(session, setup["actor"], paused=True, reason="audit")  # type: ignore[arg-type]
        report = asyncio.run(delivery.run_sender(committed_database))
        assert report.sent == 0 and report.held == 2
        with committed_database.system_session() as session:
            guardrails.set_kill_switch(session, setup["actor"], paused=False)  # type: ignore[arg-type]
        assert asyncio.run(delivery.run_sender(committed_database)).sent == 2


def test_permanent_refusal_marks_failed(committed_database: Database, tmp_path: Path) -> None:
    class Refusing:
        async def handle_RCPT(self, server, session, envelope, address, options):  # type: ignore[no-untyped-def]
            return "550 5.1.1 no such user"

    from aiosmtpd.controller import Controller

    from tests.mail.sending_support import free_port

    port = free_port()
    controller = Controller(Refusing(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        setup = _commit_setup(committed_database, port)
        report = asyncio.run(delivery.run_sender(committed_database))
    finally:
        controller.stop()
    assert report.failed == 1 and report.sent == 0
    with committed_database.system_session() as session:
        state = email_state(session, setup["emails"][0].id)  # type: ignore[index]
    assert state.send_state == "failed" and "no such user" in state.send_error


def test_unreachable_server_requeues_and_releases_counts(
    committed_database: Database, tmp_path: Path
) -> None:
    from tests.mail.sending_support import free_port

    setup = _commit_setup(committed_database, free_port())  # nothing listens there
    report = asyncio.run(delivery.run_sender(committed_database))
    assert report.requeued == 1 and report.sent == 0
    with committed_database.system_session() as session:
        state = email_state(session, setup["emails"][0].id)  # type: ignore[index]
        assert state.send_state is None and state.status == "approved"
        used = session.execute(
            text("SELECT coalesce(sum(sent), 0) FROM send_counters WHERE scope <> 'org_month'")
        ).scalar()
    assert used == 0


def test_dead_workers_emails_are_adopted_live_ones_are_not(
    committed_database: Database, tmp_path: Path
) -> None:
    """Exactly once: a dead worker's `sending` email is sent normally; its `transmitting` one
    is re-sent with the same Message-ID and flagged; a live worker's claim is left alone."""
    from vectra.mail import sending

    with running_sink(tmp_path) as (port, _):
        setup = _commit_setup(committed_database, port, leads=3)
        emails = setup["emails"]
        with committed_database.sessions() as session:
            set_tenant(session, None, system=True)
            with session.begin():
                claimed = sending.claim_due_emails(session, "dead-worker", limit=2).claimed
            with session.begin():
                session.execute(
                    text("UPDATE emails SET send_state = 'transmitting' WHERE id = :i"),
                    {"i": claimed[0].email_id},
                )
        live = committed_database.app_engine.connect().execution_options(
            isolation_level="AUTOCOMMIT"
        )
        with sending.worker_lease(live, "live-worker"):
            with committed_database.sessions() as session:
                set_tenant(session, None, system=True)
                with session.begin():
                    live_claim = sending.claim_due_emails(session, "live-worker").claimed
            report = asyncio.run(delivery.run_sender(committed_database))
        live.close()
    assert len(live_claim) == 1  # the third email
    assert report.adopted == 2 and report.sent == 2 and report.possible_duplicates == 1
    with committed_database.system_session() as session:
        first = email_state(session, claimed[0].email_id)
        second = email_state(session, claimed[1].email_id)
        third = email_state(session, live_claim[0].email_id)
    assert first.send_state == "sent" and first.possible_duplicate
    assert first.message_id == claimed[0].message_id  # the same id on the re-send
    assert second.send_state == "sent" and not second.possible_duplicate
    assert third.send_state == "sending"  # still the live worker's
    assert {e.id for e in emails} == {  # type: ignore[attr-defined]
        claimed[0].email_id,
        claimed[1].email_id,
        live_claim[0].email_id,
    }


def test_periodic_job_sends(committed_database: Database, tmp_path: Path) -> None:
    from vectra.mail import tasks

    with running_sink(tmp_path) as (port, handler):
        _commit_setup(committed_database, port, leads=2)
        tasks.use_database(committed_database)
        try:
            result = asyncio.run(tasks.send_due_emails(timestamp=0))
        finally:
            tasks.use_database(None)
    assert result["sent"] == 2 and handler.count == 2
