"""`vectra mail inbound`: the real command, as a process, storing what an MTA hands it."""

from __future__ import annotations

import os
import smtplib
import subprocess
import sys
import time

from sqlalchemy import text

from tests.mail.inbound_db.support import BOUNCE_DOMAIN, deliver, free_port, reply_message
from vectra.db.engine import Database


def _wait_for(port: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=2) as client:
                client.noop()
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("the inbound server did not start")


def test_the_command_stores_mail_for_its_domain_only(committed_database: Database) -> None:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": committed_database.urls.owner,
        "DATABASE_APP_URL": committed_database.urls.app or "",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "vectra.cli",
            "mail",
            "inbound",
            "--port",
            str(port),
            "--domain",
            BOUNCE_DOMAIN,
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(port, process)
        raw = reply_message(sender="x@prospect-mail.com", body="Hello", in_reply_to=None)
        reply = deliver(port, raw, to=f"replies@{BOUNCE_DOMAIN}")
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.ehlo("mx.example")
            client.mail("a@example.com")
            assert client.rcpt("someone@gmail.com")[0] == 550
    finally:
        process.terminate()
        process.wait(timeout=30)
    with committed_database.system_session() as s:
        row = s.execute(text("SELECT id, state, raw FROM inbound_messages")).one()
        jobs = s.execute(
            text(
                "SELECT count(*) FROM procrastinate_jobs "
                "WHERE task_name = 'process_inbound_message'"
            )
        ).scalar()
    assert (
        reply.endswith(str(row.id)) and row.state == "received" and bytes(row.raw) == raw + b"\r\n"
    )  # smtplib ends DATA with CRLF
    assert jobs == 1
