"""The inbound SMTP server of the bounce/reply domain (aiosmtpd).

Outgoing mail carries the envelope sender `b+<token>@<bounce domain>` (VERP), so a DSN
comes back here naming the email it is about; ARF reports and List-Unsubscribe mailtos land
here too. A message is acknowledged (250) only once its raw bytes and its processing job
are committed; any storage failure answers 451 so the sending MTA keeps it and retries.
Only the configured domains are accepted: this is not an open relay.

    vectra mail inbound --port 2526 --domain bounce.example.com
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import Envelope, Session

from vectra.db.engine import Database
from vectra.mail.inbound.store import MAX_RAW_BYTES, receive

log = logging.getLogger("vectra.mail.inbound.smtp")


class InboundHandler:
    """aiosmtpd handler: accept mail for `domains`, store it, queue its processing."""

    def __init__(self, database: Database, domains: Iterable[str]) -> None:
        self.database = database
        self.domains = {d.strip().lower().lstrip("@") for d in domains if d.strip()}
        self.stored = 0

    def accepts(self, address: str) -> bool:
        domain = address.strip().strip("<>").rsplit("@", 1)[-1].lower()
        return not self.domains or domain in self.domains

    async def handle_RCPT(
        self,
        server: SMTPServer,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if not self.accepts(address):
            return "550 5.7.1 Relaying denied: not a domain handled here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        try:
            inbound_id = await asyncio.to_thread(self._store, raw, envelope)
        except Exception:
            log.exception("inbound: could not store a message; asking the sender to retry")
            return "451 4.3.0 Temporary failure storing the message; try again later"
        self.stored += 1
        return f"250 2.0.0 OK queued as {inbound_id}"

    def _store(self, raw: bytes, envelope: Envelope) -> str:
        mail_from = envelope.mail_from if isinstance(envelope.mail_from, str) else None
        rcpts = [str(r) for r in envelope.rcpt_tos]
        with self.database.system_session() as session:
            row = receive(session, raw, source="smtp", mail_from=mail_from, rcpt_to=rcpts)
            return str(row.id)


class LenientSMTP(SMTPServer):
    """Bounce generators (Exchange NDRs, FBL reports) send lines past RFC 5321's 1000
    characters; refusing them would lose exactly the reports we exist to receive."""

    line_length_limit = 64 * 1024


class InboundController(Controller):
    def factory(self) -> SMTPServer:
        return LenientSMTP(self.handler, **self.SMTP_kwargs)


def start_inbound_server(
    database: Database, *, host: str = "127.0.0.1", port: int = 2526, domains: Iterable[str] = ()
) -> tuple[Controller, InboundHandler]:
    """Start the server in a background thread (stop with `controller.stop()`)."""
    handler = InboundHandler(database, domains)
    controller = InboundController(
        handler,
        hostname=host,
        port=port,
        data_size_limit=MAX_RAW_BYTES,
        # Bounce MTAs send 8-bit reports and raw headers; keep the bytes as they came.
        decode_data=False,
        server_hostname="vectra-inbound",
    )
    controller.start()
    return controller, handler


def serve_forever(
    database: Database, *, host: str, port: int, domains: Iterable[str]
) -> None:  # pragma: no cover - interactive
    import threading

    controller, _ = start_inbound_server(database, host=host, port=port, domains=domains)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()
