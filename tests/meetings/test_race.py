"""Two visitors submit the same slot at once: PostgreSQL lets exactly one booking through."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading

from sqlalchemy import func, select, text

from tests.factories import make_campaign, make_lead, make_organization, make_user
from vectra.accounts.actor import system_actor
from vectra.db.engine import Database
from vectra.errors import Conflict
from vectra.meetings import booking, tasks
from vectra.meetings.availability import set_availability
from vectra.meetings.models import Booking, Meeting
from vectra.worker.app import running_app

NOW = dt.datetime(2027, 3, 26, 6, tzinfo=dt.UTC)
SLOT = "2027-03-29T07:00:00+00:00"  # Monday 09:00 Paris, the first day of summer time


def _seed(database: Database) -> list[str]:
    with database.system_session() as session:
        org = make_organization(session)
        host = make_user(session, org, role="operator")
        set_availability(
            session,
            system_actor(org.id),
            {"timezone": "Europe/Paris", "working_hours": {"mon": [["09:00", "12:00"]]},
             "minimum_notice_minutes": 0},
            user_id=host.id,
        )  # fmt: skip
        campaign = make_campaign(session, org)
        leads = [make_lead(session, campaign, status="contacted") for _ in range(6)]
        return [booking.make_booking_token(lead.id, host.id) for lead in leads]


def test_only_one_of_many_concurrent_visitors_gets_the_slot(committed_database: Database) -> None:
    tokens = _seed(committed_database)
    barrier = threading.Barrier(len(tokens))
    outcomes: list[str] = []

    def visit(token: str) -> None:
        with committed_database.sessions() as session:
            try:
                with session.begin():
                    barrier.wait(timeout=10)
                    booking.book_slot(session, token, SLOT, now=NOW)
                outcomes.append("booked")
            except Conflict:
                outcomes.append("conflict")

    threads = [threading.Thread(target=visit, args=(t,)) for t in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["booked"] + ["conflict"] * (len(tokens) - 1)
    with committed_database.system_session() as session:
        assert session.scalar(select(func.count()).select_from(Booking)) == 1
        assert session.scalar(select(func.count()).select_from(Meeting)) == 1


def test_the_worker_mails_the_invitation_after_commit(
    committed_database: Database, smtp_sink
) -> None:  # type: ignore[no-untyped-def]
    tokens = _seed(committed_database)
    with committed_database.sessions() as session, session.begin():
        booking.book_slot(session, tokens[0], SLOT, tz="Europe/Paris", now=NOW)
    tasks.use_database(committed_database)
    try:
        worker = running_app(committed_database.urls)

        async def drain() -> None:
            async with worker.open_async():
                await worker.run_worker_async(wait=False, install_signal_handlers=False)

        asyncio.run(drain())
    finally:
        tasks.use_database(None)
    (message,) = smtp_sink.messages
    assert "Invitation" in message["Subject"]
    assert "METHOD:REQUEST" in message.as_string()
    with committed_database.owner_engine.connect() as conn:
        rows = dict(
            conn.execute(
                text("SELECT task_name, status FROM procrastinate_jobs WHERE scheduled_at IS NULL")
            ).all()
        )
    assert rows["meetings.send_meeting_notice"] == "succeeded"
    assert rows["meetings.push_booking_to_google"] == "succeeded"
