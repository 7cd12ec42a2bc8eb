"""Domain checks (SPF, DKIM, DMARC, MX) against a local DNS server the test starts."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import dns.message
import dns.rcode
import dns.rdatatype
import dns.resolver
import dns.rrset
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.factories import make_organization, make_user
from vectra.accounts.sessions import issue_session
from vectra.mail import domain_check
from vectra.mail.api_mailboxes import get_resolver

Zone = dict[tuple[str, str], list[str]]


class LocalDns:
    """A tiny authoritative UDP server answering from `zone`; `silent` names never answer."""

    def __init__(self, zone: Zone, silent: set[str] | None = None) -> None:
        self.zone = zone
        self.silent = silent or set()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = int(self.sock.getsockname()[1])
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._running = True
        self._thread.start()

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while self._running:
            try:
                data, peer = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            query = dns.message.from_wire(data)
            question = query.question[0]
            name = question.name.to_text().rstrip(".").lower()
            if name in self.silent:
                continue
            kind = dns.rdatatype.to_text(question.rdtype)
            response = dns.message.make_response(query)
            values = self.zone.get((name, kind))
            if values:
                response.answer.append(dns.rrset.from_text(question.name, 60, "IN", kind, *values))
            elif not any(n == name for n, _ in self.zone):
                response.set_rcode(dns.rcode.NXDOMAIN)
            self.sock.sendto(response.to_wire(), peer)

    def resolver(self, timeout: float = 1.0) -> dns.resolver.Resolver:
        return domain_check.make_resolver(["127.0.0.1"], port=self.port, timeout=timeout)

    def close(self) -> None:
        self._running = False
        self.sock.close()


KEY = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAtestkey"


def _txt(*parts: str) -> list[str]:
    return ['"' + p.replace('"', '\\"') + '"' for p in parts]


GOOD: Zone = {
    ("acme.com", "TXT"): _txt(
        "v=spf1 include:_spf.mailhost.com ~all", "google-site-verification=x"
    ),
    ("sel._domainkey.acme.com", "TXT"): _txt(f"v=DKIM1; k=rsa; p={KEY}"),
    ("_dmarc.acme.com", "TXT"): _txt("v=DMARC1; p=quarantine; rua=mailto:d@acme.com"),
    ("acme.com", "MX"): ["10 mx1.acme.com."],
}


@pytest.fixture
def dns_server() -> Iterator[Any]:
    servers: list[LocalDns] = []

    def start(zone: Zone, silent: set[str] | None = None) -> LocalDns:
        server = LocalDns(zone, silent)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def _by_name(checks: list[domain_check.Check]) -> dict[str, domain_check.Check]:
    return {c.name: c for c in checks}


def test_all_good(dns_server: Any) -> None:
    server = dns_server(GOOD)
    checks = _by_name(
        domain_check.check_domain(
            "acme.com", dkim_selector="sel", dkim_public_key=KEY, resolver=server.resolver()
        )
    )
    assert {n: c.status for n, c in checks.items()} == {
        "spf": "ok", "dkim": "ok", "dmarc": "ok", "mx": "ok",
    }  # fmt: skip
    assert checks["mx"].found == "mx1.acme.com"


def test_problems_are_explained(dns_server: Any) -> None:
    zone: Zone = {
        ("acme.com", "TXT"): _txt("v=spf1 +all", "v=spf1 -all"),
        ("sel._domainkey.acme.com", "TXT"): _txt("v=DKIM1; k=rsa; p=OTHERKEY"),
        ("_dmarc.acme.com", "TXT"): _txt("v=DMARC1; p=none"),
    }
    checks = _by_name(
        domain_check.check_domain(
            "acme.com",
            dkim_selector="sel",
            dkim_public_key=KEY,
            resolver=dns_server(zone).resolver(),
        )
    )
    assert checks["spf"].status == "fail" and "Merge" in (checks["spf"].fix or "")
    assert checks["dkim"].status == "fail" and KEY in (checks["dkim"].fix or "")
    assert checks["dmarc"].status == "warn" and "quarantine" in (checks["dmarc"].fix or "")
    assert checks["mx"].status == "warn"


def test_missing_records_and_open_spf(dns_server: Any) -> None:
    server = dns_server({("acme.com", "TXT"): _txt("v=spf1 +all")})
    checks = _by_name(domain_check.check_domain("acme.com", resolver=server.resolver()))
    assert checks["spf"].status == "fail" and "+all" in (checks["spf"].fix or "")
    assert checks["dkim"].status == "fail"
    assert checks["dmarc"].status == "fail" and "_dmarc.acme.com" in (checks["dmarc"].fix or "")


def test_timeout_is_unknown_not_a_failure(dns_server: Any) -> None:
    server = dns_server(GOOD, silent={"_dmarc.acme.com"})
    checks = _by_name(
        domain_check.check_domain(
            "acme.com", dkim_selector="sel", dkim_public_key=KEY, resolver=server.resolver(0.3)
        )
    )
    assert checks["dmarc"].status == "unknown"
    assert checks["spf"].status == "ok"


def test_domain_check_endpoint(client: TestClient, session: Session, dns_server: Any) -> None:
    org = make_organization(session)
    user = make_user(session, org)
    headers = {"Authorization": f"Bearer {issue_session(session, user).token}"}
    body = {
        "name": "Sales", "from_address": "ann@acme.com", "smtp_host": "smtp.acme.com",
        "smtp_port": 587,
    }  # fmt: skip
    mailbox_id = client.post("/api/v1/mailboxes", json=body, headers=headers).json()["id"]
    record = client.post(f"/api/v1/mailboxes/{mailbox_id}/dkim", headers=headers).json()
    zone = dict(GOOD)
    value = record["record"]["value"]
    # One TXT record made of <=255-byte strings (RFC 1035 3.3.14), as DNS hosts publish it.
    chunks = " ".join(f'"{value[i : i + 255]}"' for i in range(0, len(value), 255))
    zone[(record["record"]["name"], "TXT")] = [chunks]
    server = dns_server(zone)
    client.app.dependency_overrides[get_resolver] = server.resolver  # type: ignore[attr-defined]
    response = client.get(f"/api/v1/mailboxes/{mailbox_id}/domain-check", headers=headers)
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["ok"] is True
    assert {c["name"]: c["status"] for c in data["checks"]}["dkim"] == "ok"
