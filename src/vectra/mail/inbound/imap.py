"""IMAP polling of the sending mailboxes: replies land there, not on the bounce domain.

Per mailbox and folder, `imap_cursors` keeps the server's UIDVALIDITY and the last UID
stored; a poll asks only for UIDs above it (`UID SEARCH UID n:*`, which always answers with
the newest message too, so the result is filtered), fetches each with BODY.PEEK[] (the
mailbox owner still sees it unread) and stores it with the cursor advance in one
transaction: a crash re-fetches at most the message in flight, and that copy is then a
`duplicate` by Message-ID. A changed UIDVALIDITY means the server renumbered the folder:
everything is fetched again and deduplication absorbs it.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import ssl
import uuid
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from vectra.db.base import utcnow
from vectra.db.engine import Database
from vectra.integrations import vault
from vectra.mail.inbound.store import receive

log = logging.getLogger("vectra.mail.inbound.imap")

BATCH = 200
TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class ImapAccount:
    mailbox_id: uuid.UUID
    organization_id: uuid.UUID
    host: str
    port: int
    security: str
    username: str
    password: str
    folder: str


def _account(session: Session, mailbox_id: uuid.UUID) -> ImapAccount | None:
    row = session.execute(
        text(
            "SELECT id, organization_id, imap_host, imap_port, imap_security, "
            "coalesce(imap_username, smtp_username, from_address) AS username, imap_folder, "
            "secret FROM mailboxes WHERE id = :m AND imap_enabled AND imap_host IS NOT NULL"
        ),
        {"m": mailbox_id},
    ).first()
    if row is None:
        return None
    secret = vault.decrypt(row.secret) if row.secret else {}
    password = str(secret.get("imap_password") or secret.get("password") or "")
    default_port = 993 if row.imap_security == "tls" else 143
    return ImapAccount(
        row.id,
        row.organization_id,
        row.imap_host,
        row.imap_port or default_port,
        row.imap_security,
        row.username,
        password,
        row.imap_folder,
    )


def _connect(account: ImapAccount) -> imaplib.IMAP4:
    if account.security == "tls":
        return imaplib.IMAP4_SSL(
            account.host,
            account.port,
            ssl_context=ssl.create_default_context(),
            timeout=TIMEOUT_SECONDS,
        )
    client = imaplib.IMAP4(account.host, account.port, timeout=TIMEOUT_SECONDS)
    if account.security == "starttls":
        client.starttls(ssl.create_default_context())
    return client


def _uidvalidity(client: imaplib.IMAP4) -> int:
    _, data = client.response("UIDVALIDITY")
    value = data[0] if data else None
    if not value:
        raise imaplib.IMAP4.error("the server sent no UIDVALIDITY")
    return int(value)


def _cursor(session: Session, account: ImapAccount) -> tuple[int, int] | None:
    row = session.execute(
        text(
            "SELECT uidvalidity, last_uid FROM imap_cursors WHERE mailbox_id = :m AND folder = :f "
            "FOR UPDATE"
        ),
        {"m": account.mailbox_id, "f": account.folder},
    ).first()
    return (int(row.uidvalidity), int(row.last_uid)) if row else None


def _advance(session: Session, account: ImapAccount, validity: int, last_uid: int) -> None:
    session.execute(
        text(
            "INSERT INTO imap_cursors (mailbox_id, folder, organization_id, uidvalidity, last_uid) "
            "VALUES (:m, :f, :o, :v, :u) ON CONFLICT (mailbox_id, folder) DO UPDATE "
            "SET uidvalidity = :v, last_uid = :u, updated_at = now()"
        ),
        {
            "m": account.mailbox_id,
            "f": account.folder,
            "o": account.organization_id,
            "v": validity,
            "u": last_uid,
        },
    )


def _fetch(client: imaplib.IMAP4, uid: int) -> bytes | None:
    status, data = client.uid("FETCH", str(uid), "(BODY.PEEK[])")
    if status != "OK":
        return None
    for item in data:
        if isinstance(item, tuple) and len(item) == 2:
            return bytes(item[1])
    return None


def poll_mailbox(database: Database, mailbox_id: uuid.UUID) -> int:
    """Store every message above the mailbox's cursor; how many were stored."""
    with database.system_session() as session:
        account = _account(session, mailbox_id)
    if account is None:
        return 0
    stored = 0
    client = _connect(account)
    try:
        client.login(account.username, account.password)
        status, _ = client.select(_quoted(account.folder), readonly=True)
        if status != "OK":
            raise imaplib.IMAP4.error(f"cannot select {account.folder}")
        validity = _uidvalidity(client)
        with database.system_session() as session:
            cursor = _cursor(session, account)
        last_uid = cursor[1] if cursor and cursor[0] == validity else 0
        status, data = client.uid("SEARCH", f"UID {last_uid + 1}:*")
        uids = sorted(int(u) for u in (data[0] or b"").split() if int(u) > last_uid)
        expected = cursor
        for uid in uids[:BATCH]:
            raw = _fetch(client, uid)
            with database.system_session() as session:
                if _cursor(session, account) != expected:
                    break  # another poller moved the cursor: it owns this range now
                if raw:
                    receive(
                        session,
                        raw,
                        source="imap",
                        mailbox_id=account.mailbox_id,
                        organization_id=account.organization_id,
                        rcpt_to=[account.username],
                    )
                    stored += 1
                _advance(session, account, validity, uid)
            last_uid, expected = uid, (validity, uid)
        if not uids:
            with database.system_session() as session:
                _advance(session, account, validity, last_uid)
    finally:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            client.logout()
    return stored


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def poll_all(database: Database) -> int:
    """Poll every IMAP-enabled mailbox; an error is kept on the mailbox, not raised."""
    with database.system_session() as session:
        ids = list(
            session.execute(
                text("SELECT id FROM mailboxes WHERE imap_enabled AND imap_host IS NOT NULL")
            ).scalars()
        )
    total = 0
    for mailbox_id in ids:
        error: str | None = None
        try:
            total += poll_mailbox(database, mailbox_id)
        except (imaplib.IMAP4.error, OSError, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
            log.warning("imap poll of mailbox %s failed: %s", mailbox_id, error)
        with database.system_session() as session:
            session.execute(
                text(
                    "UPDATE mailboxes SET imap_last_polled_at = :t, imap_last_error = :e "
                    "WHERE id = :m"
                ),
                {"t": utcnow(), "e": error, "m": mailbox_id},
            )
    return total
