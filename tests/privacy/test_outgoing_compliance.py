"""CAN-SPAM / bulk-sender rules by construction, on what actually reaches an SMTP server:
every message carries the postal address and an unsubscribe link in its footer and the
RFC 8058 one-click headers; a first email to an EU/EEA lead also carries the Art. 14 notice."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import text

from tests.mail.sending_support import received, running_sink, setup_campaign
from vectra.db.engine import Database
from vectra.db.tenancy import set_tenant
from vectra.mail import delivery
from vectra.mail.tokens import read_token


def _parts(message) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {
        part.get_content_type(): part.get_payload(decode=True).decode()
        for part in message.iter_parts()
    }


def test_every_sent_message_has_footer_headers_and_eu_notice(
    committed_database: Database, tmp_path: Path
) -> None:
    with running_sink(tmp_path) as (port, _):
        with committed_database.sessions() as session:
            set_tenant(session, None, system=True)
            with session.begin():
                setup = setup_campaign(session, port, leads=3)
                first = setup["emails"][0]
                # The first lead is in Germany and gets step 0: the notice is due.
                session.execute(
                    text("UPDATE emails SET sequence_step = 0 WHERE id = :i"), {"i": first.id}
                )
                session.execute(
                    text(
                        "UPDATE leads SET enrichment_data = enrichment_data || "
                        '\'{"country": "DE"}\'::jsonb WHERE id = :l'
                    ),
                    {"l": first.lead_id},
                )
        report = asyncio.run(delivery.run_sender(committed_database))
    assert report.sent == 3
    messages = received(tmp_path)
    assert len(messages) == 3
    notices = 0
    for message in messages:
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        https = message["List-Unsubscribe"].split(",")[0].strip(" <>")
        assert https.startswith("https://") or https.startswith("http://")
        assert read_token("unsubscribe", https.rsplit("/", 1)[1]) is not None
        parts = _parts(message)
        for body in parts.values():
            assert "1 Main St" in body  # the organization's postal address
            assert https in body  # the footer's unsubscribe link, same token
        assert "Plain body" in parts["text/plain"]
        if "Privacy notice:" in parts["text/plain"]:
            notices += 1
            assert "Privacy notice:" in parts["text/html"]
            assert message["X-Vectra-Email-ID"] == str(first.id)
    assert notices == 1
