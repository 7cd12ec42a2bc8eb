"""IMAP polling of a sending mailbox against a local IMAP4rev1 responder: UID tracking."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.mail.inbound_db.imap_server import ImapState, running_imap
from tests.mail.inbound_db.support import make_world, reply_message, run_jobs
from vectra.accounts.actor import system_actor
from vectra.db.engine import Database
from vectra.errors import InvalidInput
from vectra.mail import mailboxes
from vectra.mail.inbound.imap import poll_all
from vectra.mail.mailbox_schemas import MailboxUpdate


def _enable_imap(database: Database, mailbox_id: object, port: int) -> None:
    with database.system_session() as s:
        s.execute(
            text(
                "UPDATE mailboxes SET imap_host = '127.0.0.1', imap_port = :p, "
                "imap_security = 'none', imap_enabled = true WHERE id = :m"
            ),
            {"p": port, "m": mailbox_id},
        )


def _cursor(database: Database) -> tuple[int, int]:
    with database.system_session() as s:
        row = s.execute(text("SELECT uidvalidity, last_uid FROM imap_cursors")).one()
        return int(row.uidvalidity), int(row.last_uid)


def test_replies_in_the_mailbox_are_fetched_once_by_uid(committed_database: Database) -> None:
    db = committed_database
    with db.system_session() as s:
        w = make_world(s, smtp_username="ann@acme-sender.com", smtp_password="imap-secret")
    lead_id, address = w.leads[0]
    state = ImapState(username="ann@acme-sender.com", password="imap-secret")
    inbox = state.folders["INBOX"]
    inbox.messages[3] = reply_message(
        sender=f"Lead <{address}>",
        body="Please remove me from your mailing list.\n\nOn Mon, Ann wrote:\n> Hi there",
        in_reply_to=w.message_ids[0],
    )
    inbox.messages[5] = reply_message(
        sender="news@vendor.example", body="Our monthly newsletter", in_reply_to=None
    )
    with running_imap(state) as port:
        _enable_imap(db, w.mailbox_id, port)
        assert poll_all(db) == 2
        assert _cursor(db) == (7001, 5)
        assert sorted(run_jobs(db)) == ["processed", "processed"]
        # Nothing new: the poller asks only above the cursor and fetches nothing.
        before = len(state.commands)
        assert poll_all(db) == 0
        new_commands = state.commands[before:]
        assert "UID SEARCH UID 6:*" in new_commands
        assert not any(c.startswith("UID FETCH") for c in new_commands)
        inbox.messages[9] = reply_message(
            sender=address, body="Also: how much does it cost?", in_reply_to=w.message_ids[0]
        )
        assert poll_all(db) == 1 and _cursor(db) == (7001, 9)
        run_jobs(db)
    with db.system_session() as s:
        rows = s.execute(
            text(
                "SELECT source, mailbox_id, organization_id, intent, lead_id, state "
                "FROM inbound_messages ORDER BY received_at"
            )
        ).all()
        assert [r.source for r in rows] == ["imap"] * 3
        assert {r.organization_id for r in rows} == {w.org_id}
        assert {r.mailbox_id for r in rows} == {w.mailbox_id}
        unsubscribe = [r for r in rows if r.intent == "unsubscribe"]
        assert len(unsubscribe) == 1 and unsubscribe[0].lead_id == lead_id
        suppressed = s.execute(
            text("SELECT reason FROM suppressions WHERE value = :v"), {"v": address}
        ).scalar()
        assert suppressed == "unsubscribe"
        assert s.execute(
            text("SELECT status FROM leads WHERE id = :l"), {"l": lead_id}
        ).scalar() == ("completed")


def test_a_renumbered_folder_is_fetched_again_and_deduplicated(
    committed_database: Database,
) -> None:
    db = committed_database
    with db.system_session() as s:
        w = make_world(s, smtp_username="ann@acme-sender.com", smtp_password="pw")
    state = ImapState(username="ann@acme-sender.com", password="pw")
    raw = reply_message(
        sender=w.leads[0][1],
        body="Not interested.",
        in_reply_to=w.message_ids[0],
        message_id="<stable-1@prospect-mail.com>",
    )
    state.folders["INBOX"].messages[1] = raw
    with running_imap(state) as port:
        _enable_imap(db, w.mailbox_id, port)
        assert poll_all(db) == 1
        run_jobs(db)
        # The server rebuilt the folder: new UIDVALIDITY, new UIDs for the same message.
        state.folders["INBOX"].uidvalidity = 8002
        state.folders["INBOX"].messages = {40: raw}
        assert poll_all(db) == 1 and _cursor(db) == (8002, 40)
        assert run_jobs(db) == ["duplicate"]


def test_a_refused_login_is_kept_on_the_mailbox(committed_database: Database) -> None:
    db = committed_database
    with db.system_session() as s:
        w = make_world(s, smtp_username="ann@acme-sender.com", smtp_password="wrong")
    state = ImapState(username="ann@acme-sender.com", password="right")
    with running_imap(state) as port:
        _enable_imap(db, w.mailbox_id, port)
        assert poll_all(db) == 0
    with db.system_session() as s:
        row = s.execute(
            text("SELECT imap_last_error, imap_last_polled_at FROM mailboxes WHERE id = :m"),
            {"m": w.mailbox_id},
        ).one()
        assert "AUTHENTICATIONFAILED" in row.imap_last_error and row.imap_last_polled_at


def test_imap_set_through_the_mailbox_service_is_what_the_poller_uses(
    committed_database: Database,
) -> None:
    # Replies read with their own login (a shared inbox), configured like any mailbox setting.
    db = committed_database
    with db.system_session() as s:
        w = make_world(s, smtp_username="ann@acme-sender.com", smtp_password="smtp-secret")
    lead_id, address = w.leads[0]
    state = ImapState(username="replies@acme-sender.com", password="imap-only-secret")
    state.folders["INBOX"].messages[2] = reply_message(
        sender=address, body="Sounds good, send me times.", in_reply_to=w.message_ids[0]
    )
    with running_imap(state) as port:
        with db.system_session() as s:
            actor = system_actor(w.org_id)
            with pytest.raises(InvalidInput) as refused:
                mailboxes.update_mailbox(s, actor, w.mailbox_id, MailboxUpdate(imap_enabled=True))
            assert refused.value.field == "imap_host"
            box = mailboxes.update_mailbox(
                s,
                actor,
                w.mailbox_id,
                MailboxUpdate(
                    imap_host="127.0.0.1",
                    imap_port=port,
                    imap_security="none",
                    imap_username="replies@acme-sender.com",
                    imap_password="imap-only-secret",
                ),
            )
            shown = mailboxes.read_model(s, box)
            assert shown.imap_enabled and shown.secrets_set == ["imap_password", "password"]
            assert "imap-only-secret" not in shown.model_dump_json()
        assert poll_all(db) == 1
        assert run_jobs(db) == ["processed"]
        with db.system_session() as s:
            mailboxes.update_mailbox(s, system_actor(w.org_id), w.mailbox_id,
                                     MailboxUpdate(imap_host=None))  # fmt: skip
        assert poll_all(db) == 0  # no server left: polling stopped
    with db.system_session() as s:
        row = s.execute(text("SELECT lead_id, source FROM inbound_messages")).one()
        assert (row.lead_id, row.source) == (lead_id, "imap")
