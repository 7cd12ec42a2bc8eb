"""The right-before-SMTP re-check: what changes after the claim still stops the send."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from sqlalchemy import text

from tests.mail.sending_support import email_state, received, running_sink, setup_campaign
from vectra.db.engine import Database
from vectra.db.tenancy import set_tenant
from vectra.leads.suppression import suppress
from vectra.mail import delivery, sending
from vectra.privacy.service import suppress_hashed


def _commit_setup(database: Database, port: int, leads: int) -> dict[str, object]:
    with database.sessions() as session:
        set_tenant(session, None, system=True)
        with session.begin():
            setup = setup_campaign(session, port, leads=leads)
    return setup


def _address(session: object, lead_id: uuid.UUID) -> str:
    return str(
        session.execute(text("SELECT email FROM leads WHERE id = :l"), {"l": lead_id}).scalar()  # type: ignore[attr-defined]
    )


def test_suppressed_after_the_claim_by_address_domain_or_erasure_hash(
    committed_database: Database, tmp_path: Path
) -> None:
    with running_sink(tmp_path) as (port, handler):
        setup = _commit_setup(committed_database, port, leads=4)
        emails = setup["emails"]
        actor = setup["actor"]
        with committed_database.system_session() as session:
            # Lead 1 alone on its domain, so suppressing that domain touches only it.
            session.execute(
                text("UPDATE leads SET email = 'pat@blocked-corp.example' WHERE id = :l"),
                {"l": emails[1].lead_id},  # type: ignore[index]
            )
        with committed_database.sessions() as session:
            set_tenant(session, None, system=True)
            with session.begin():  # claimed by a worker that then dies (holds no lease)
                claimed = sending.claim_due_emails(session, "dead-worker:1", limit=10).claimed
        assert len(claimed) == 4
        with committed_database.system_session() as session:
            suppress(session, actor, _address(session, emails[0].lead_id), "unsubscribe")  # type: ignore[arg-type, index]
            suppress(session, actor, "blocked-corp.example", "manual")  # type: ignore[arg-type]
            suppress_hashed(session, actor, _address(session, emails[2].lead_id))  # type: ignore[arg-type, index]
        report = asyncio.run(delivery.run_sender(committed_database))
    assert report.adopted == 4 and report.sent == 1 and report.stopped == 3
    assert handler.count == 1
    with committed_database.system_session() as session:
        for row in emails[:3]:  # type: ignore[index]
            state = email_state(session, row.id)
            assert (state.send_state, state.send_error) == ("stopped", "suppressed")
        assert email_state(session, emails[3].id).send_state == "sent"  # type: ignore[index]
        counted = session.execute(
            text("SELECT sent FROM send_counters WHERE scope = 'campaign' AND scope_id = :c"),
            {"c": setup["campaign"].id},  # type: ignore[attr-defined]
        ).scalar()
    assert counted == 1  # the stopped ones gave their counts back


def test_address_changed_mid_batch_to_an_erased_one_is_not_sent(
    committed_database: Database, tmp_path: Path
) -> None:
    """The batch's rows are read once; an address changed after that is checked again."""
    changed: list[str] = []

    with running_sink(tmp_path) as (port, handler):
        setup = _commit_setup(committed_database, port, leads=2)

        def after_first_send(_email_id: uuid.UUID) -> None:
            if changed:
                return
            with committed_database.system_session() as session:
                lead_id = session.execute(
                    text("SELECT lead_id FROM emails WHERE send_state = 'sending'")
                ).scalar_one()
                address = f"new-{uuid.uuid4().hex[:8]}@prospect-mail.com"
                session.execute(
                    text("UPDATE leads SET email = :a WHERE id = :l"), {"a": address, "l": lead_id}
                )
                suppress_hashed(session, setup["actor"], address)  # type: ignore[arg-type]
            changed.append(address)

        report = asyncio.run(delivery.run_sender(committed_database, on_sent=after_first_send))
    assert changed and report.sent == 1 and report.stopped == 1
    assert handler.count == 1
    assert changed[0] not in str(received(tmp_path)[0]["To"])
