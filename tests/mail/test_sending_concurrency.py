"""50 concurrent claimers against a real database never pass a cap nor claim twice."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.mail.sending_support import setup_campaign
from vectra.db.engine import Database
from vectra.db.tenancy import set_tenant
from vectra.mail import sending

CLAIMERS = 50


def _race(database: Database) -> list[sending.Claimed]:
    many = Database(database.urls, pool_size=CLAIMERS)
    barrier = threading.Barrier(CLAIMERS)
    claimed: list[sending.Claimed] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def claimer(n: int) -> None:
        try:
            with many.sessions() as session:
                set_tenant(session, None, system=True)
                barrier.wait()
                while True:
                    with session.begin():
                        report = sending.claim_due_emails(session, f"claimer-{n}", limit=3)
                    with lock:
                        claimed.extend(report.claimed)
                    if not report.claimed:
                        return
        except BaseException as exc:  # surfaced below: a thread's failure fails the test
            errors.append(exc)

    threads = [threading.Thread(target=claimer, args=(i,)) for i in range(CLAIMERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    many.dispose()
    assert not errors, errors[0]
    return claimed


@pytest.mark.parametrize(
    ("daily_limit", "caps", "expected"),
    [
        (37, [10, 15, 100], 37),  # the campaign's daily_limit binds
        (100, [10, 15, 5], 30),  # the mailboxes' caps bind
    ],
)
def test_fifty_claimers_respect_every_cap(
    committed_database: Database,
    tmp_path: Path,
    daily_limit: int,
    caps: list[int],
    expected: int,
) -> None:
    with committed_database.sessions() as session:
        set_tenant(session, None, system=True)
        with session.begin():
            setup = setup_campaign(
                session, 2525, leads=120, daily_limit=daily_limit, mailboxes_count=3,
                with_dkim=False,
            )  # fmt: skip
            for box, cap in zip(setup["mailboxes"], caps, strict=True):
                box.daily_cap = cap
    claimed = _race(committed_database)
    ids = Counter(c.email_id for c in claimed)
    assert len(claimed) == expected
    assert max(ids.values()) == 1  # no email claimed twice
    per_box = Counter(c.mailbox_id for c in claimed)
    for box, cap in zip(setup["mailboxes"], caps, strict=True):
        assert per_box[box.id] <= cap
    with committed_database.system_session() as session:
        rows = session.execute(
            text("SELECT count(*) FROM emails WHERE send_state = 'sending'")
        ).scalar()
        counted = session.execute(
            text("SELECT sent FROM send_counters WHERE scope = 'campaign' AND scope_id = :c"),
            {"c": setup["campaign"].id},
        ).scalar()
    assert rows == expected and counted == expected
