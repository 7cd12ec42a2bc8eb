from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.agents.local_dns import LocalDns, Zone

ZONE: Zone = {
    ("saasco.de", "MX"): ["10 mx.saasco.de."],
    ("cloudly.fr", "MX"): ["10 mx1.cloudly.fr.", "20 mx2.cloudly.fr."],
    ("bakery.de", "A"): ["192.0.2.10"],  # no MX: the A record is the implicit MX
    ("nomail.example", "MX"): ["0 ."],  # RFC 7505 null MX
    ("mailinator.com", "MX"): ["10 mail.mailinator.com."],
    ("gmail.com", "MX"): ["5 gmail-smtp-in.l.google.com."],
    ("slowdns.example", "MX"): ["10 mx.slowdns.example."],
}


@pytest.fixture
def local_dns() -> Iterator[LocalDns]:
    server = LocalDns(ZONE, silent={"slowdns.example"})
    yield server
    server.close()
