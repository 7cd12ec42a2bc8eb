"""The local sandbox: an SMTP server (aiosmtpd) that keeps every message as a .eml file.

`vectra mail sink --port 2525` points demos and tests at it instead of the internet; each
message is written atomically (temp file + rename) and announced on one line.
"""

from __future__ import annotations

import email
import email.policy
import os
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import Envelope, Session


@dataclass(frozen=True)
class Received:
    path: Path
    mail_from: str
    rcpt_tos: list[str]
    message_id: str | None
    subject: str | None


class SinkHandler:
    """Stores each accepted message in `folder` and calls `announce` with what it got."""

    def __init__(self, folder: Path, announce: Callable[[Received], None] | None = None) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.announce = announce
        self.count = 0
        self._lock = threading.Lock()

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        headers = email.message_from_bytes(
            raw.split(b"\r\n\r\n", 1)[0], policy=email.policy.compat32
        )
        name = f"{uuid.uuid4().hex}.eml"
        tmp = self.folder / f".{name}.tmp"
        tmp.write_bytes(raw)
        os.replace(tmp, self.folder / name)
        with self._lock:
            self.count += 1
        if self.announce is not None:
            self.announce(
                Received(
                    self.folder / name,
                    str(envelope.mail_from),
                    [str(r) for r in envelope.rcpt_tos],
                    headers.get("Message-ID"),
                    headers.get("Subject"),
                )
            )
        return "250 OK stored"


def start_sink(
    folder: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 2525,
    announce: Callable[[Received], None] | None = None,
    **server_kwargs: Any,
) -> tuple[Controller, SinkHandler]:
    """Start the sink in a background thread; `controller.stop()` ends it."""
    handler = SinkHandler(folder, announce)
    controller = Controller(handler, hostname=host, port=port, **server_kwargs)
    controller.start()
    return controller, handler


def serve_forever(folder: Path, *, host: str, port: int, echo: Callable[[str], None]) -> None:
    """Run the sink until interrupted, one line per received message."""
    import time

    def announce(item: Received) -> None:
        echo(f"{item.path.name}\tfrom={item.mail_from}\tto={','.join(item.rcpt_tos)}\t"
             f"message-id={item.message_id}\tsubject={item.subject}")  # fmt: skip

    controller, _ = start_sink(folder, host=host, port=port, announce=announce)
    echo(f"SMTP sink on {host}:{port}, storing messages in {folder}")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()
