"""Connecting a mailbox from the page (secrets only through the vault) and DNS checks per domain
against a local DNS server the test starts (never real DNS)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.agents.local_dns import LocalDns, Zone
from tests.factories import make_organization
from tests.web.pages.support import assert_login_redirect, sign_in
from vectra.accounts.actor import Actor
from vectra.accounts.roles import Role
from vectra.integrations import vault
from vectra.mail import mailboxes
from vectra.mail.api_mailboxes import get_resolver
from vectra.mail.mailbox_models import DkimKey, Mailbox
from vectra.mail.mailbox_schemas import MailboxCreate

PASSWORD = "s3cret-app-password-7731"
DOMAIN = "acme-sender.com"


def connect_form(csrf: str, **overrides: str) -> dict[str, str]:
    data = {
        "csrf_token": csrf, "name": "Ann outbound", "from_name": "Ann Lee",
        "from_address": f"Ann@{DOMAIN}", "smtp_host": "smtp.gmail.com", "smtp_port": "587",
        "smtp_security": "starttls", "smtp_username": f"ann@{DOMAIN}",
        "smtp_password": PASSWORD, "daily_cap": "80", "warmup_days": "10",
        "warmup_start": "20", "warmup_increment": "6", "signature": "Ann\nAcme",
    }  # fmt: skip
    data.update(overrides)
    return data


def txt(*parts: str) -> list[str]:
    return ['"' + p.replace('"', '\\"') + '"' for p in parts]


@pytest.fixture
def dns(app: Any) -> Iterator[Any]:
    """Start a local DNS server answering from a zone; the pages' resolver points at it."""
    servers: list[LocalDns] = []

    def start(zone: Zone) -> LocalDns:
        server = LocalDns(zone)
        servers.append(server)
        app.dependency_overrides[get_resolver] = server.resolver
        return server

    yield start
    app.dependency_overrides.pop(get_resolver, None)
    for server in servers:
        server.close()


def test_anonymous_is_sent_to_login(client: TestClient) -> None:
    for path in ("/mailboxes/new", f"/mailboxes/domains/{DOMAIN}"):
        assert_login_redirect(client, path)


def test_connect_a_mailbox_stores_the_password_only_in_the_vault(
    session: Session, client: TestClient
) -> None:
    me = sign_in(session, client, role="admin")
    assert 'href="/mailboxes/new"' in client.get("/mailboxes").text
    form = client.get("/mailboxes/new")
    assert form.status_code == 200
    assert 'for="smtp_password"' in form.text and 'type="password"' in form.text
    done = client.post("/mailboxes/new", data=connect_form(me.csrf), follow_redirects=False)
    assert done.status_code == 303, done.text
    box = session.scalar(select(Mailbox).where(Mailbox.organization_id == me.organization.id))
    assert box is not None and box.from_address == f"ann@{DOMAIN}"
    assert (box.smtp_host, box.smtp_port, box.daily_cap, box.warmup_days) == (
        "smtp.gmail.com", 587, 80, 10,
    )  # fmt: skip
    assert box.signature == "Ann\nAcme"
    assert box.secret and PASSWORD not in box.secret
    assert vault.decrypt(box.secret) == {"password": PASSWORD}
    listing = client.get(done.headers["location"])
    assert "Mailbox connected" in listing.text and f"ann@{DOMAIN}" in listing.text
    assert f'href="/mailboxes/domains/{DOMAIN}"' in listing.text
    assert PASSWORD not in listing.text
    assert PASSWORD not in client.get("/mailboxes/new").text


def test_bad_input_names_the_field_and_never_echoes_the_password(
    session: Session, client: TestClient
) -> None:
    me = sign_in(session, client, role="owner")
    bad = client.post("/mailboxes/new", data=connect_form(me.csrf, from_address="not-an-address"))
    assert bad.status_code == 422
    assert 'id="error-from_address"' in bad.text
    assert 'id="from_address" name="from_address" type="email" required value="not-an-address"' in (
        bad.text
    )
    assert PASSWORD not in bad.text and 'name="smtp_password" type="password"' in bad.text
    port = client.post("/mailboxes/new", data=connect_form(me.csrf, smtp_port="70000"))
    assert port.status_code == 422 and 'id="error-smtp_port"' in port.text
    assert PASSWORD not in port.text
    first = client.post("/mailboxes/new", data=connect_form(me.csrf), follow_redirects=False)
    assert first.status_code == 303
    again = client.post("/mailboxes/new", data=connect_form(me.csrf))
    assert again.status_code == 409 and 'id="error-from_address"' in again.text
    assert PASSWORD not in again.text
    forged = client.post("/mailboxes/new", data=connect_form("nope", from_address="z@z.com"))
    assert forged.status_code == 403
    count = session.scalars(select(Mailbox).where(Mailbox.organization_id == me.organization.id))
    assert len(list(count)) == 1


def test_viewer_sees_no_connect_form_and_is_refused(session: Session, client: TestClient) -> None:
    me = sign_in(session, client, role="viewer")
    page = client.get("/mailboxes")
    assert page.status_code == 200 and 'href="/mailboxes/new"' not in page.text
    assert client.get("/mailboxes/new").status_code == 403
    refused = client.post("/mailboxes/new", data=connect_form(me.csrf))
    assert refused.status_code == 403
    assert (
        session.scalar(select(Mailbox).where(Mailbox.organization_id == me.organization.id)) is None
    )


def _mailbox(session: Session, organization_id: Any, address: str, host: str) -> None:
    actor = Actor(organization_id=organization_id, role=Role.OWNER)
    mailboxes.create_mailbox(
        session, actor, MailboxCreate(name="m", from_address=address, smtp_host=host)
    )


def test_dns_checks_fail_with_the_records_to_publish(
    session: Session, client: TestClient, dns: Any
) -> None:
    me = sign_in(session, client, role="admin")
    _mailbox(session, me.organization.id, f"ann@{DOMAIN}", "smtp.gmail.com")
    server = dns({("www." + DOMAIN, "A"): ["192.0.2.1"]})  # the domain itself has nothing
    page = client.get(f"/mailboxes/domains/{DOMAIN}")
    assert page.status_code == 200
    assert (f"{DOMAIN}", "TXT") in server.queries  # answered by the local server
    assert 'id="check-spf" data-status="fail"' in page.text
    assert f"Publish a TXT record at {DOMAIN}: &#34;v=spf1 include:_spf.google.com ~all&#34;" in (
        page.text
    )
    assert 'id="check-dmarc" data-status="fail"' in page.text
    assert f"_dmarc.{DOMAIN}: &#34;v=DMARC1; p=none; rua=mailto:dmarc@{DOMAIN}&#34;" in page.text
    assert 'id="check-dkim" data-status="fail"' in page.text
    assert f'action="/mailboxes/domains/{DOMAIN}/dkim"' in page.text
    made = client.post(
        f"/mailboxes/domains/{DOMAIN}/dkim", data={"csrf_token": me.csrf}, follow_redirects=False
    )
    assert made.status_code == 303
    key = session.scalar(select(DkimKey).where(DkimKey.organization_id == me.organization.id))
    assert key is not None
    again = client.get(f"/mailboxes/domains/{DOMAIN}")
    record = f"{key.selector}._domainkey.{DOMAIN}: &#34;v=DKIM1; k=rsa; p={key.public_key}&#34;"
    assert f"Publish a TXT record at {record}" in again.text
    assert "Generate a DKIM key" not in again.text


def test_dns_checks_pass_and_spf_without_the_provider_warns(
    session: Session, client: TestClient, dns: Any
) -> None:
    me = sign_in(session, client, role="viewer")
    _mailbox(session, me.organization.id, f"ann@{DOMAIN}", "smtp.gmail.com")
    _mailbox(session, me.organization.id, f"bob@{DOMAIN}", "relay.acme-sender.com")
    owner = Actor(organization_id=me.organization.id, role=Role.OWNER)
    from vectra.mail import dkim

    key = dkim.ensure_domain_key(session, owner, DOMAIN)
    value = dkim.txt_record_value(key.public_key)
    chunks = " ".join(f'"{value[i : i + 255]}"' for i in range(0, len(value), 255))
    zone: Zone = {
        (DOMAIN, "TXT"): txt("v=spf1 include:_spf.google.com a:relay.acme-sender.com ~all"),
        (DOMAIN, "MX"): ["10 mx1.acme-sender.com."],
        (f"{key.selector}._domainkey.{DOMAIN}", "TXT"): [chunks],
        (f"_dmarc.{DOMAIN}", "TXT"): txt(f"v=DMARC1; p=quarantine; rua=mailto:d@{DOMAIN}"),
    }
    dns(zone)
    page = client.get(f"/mailboxes/domains/{DOMAIN}")
    assert page.status_code == 200
    for name in ("spf", "dkim", "dmarc", "mx"):
        assert f'id="check-{name}" data-status="ok"' in page.text, name
    assert "can authenticate" in page.text
    assert "Generate a DKIM key" not in page.text  # a viewer gets no controls anyway
    zone[(DOMAIN, "TXT")] = txt("v=spf1 include:_spf.google.com ~all")
    dns(zone)
    warned = client.get(f"/mailboxes/domains/{DOMAIN}")
    assert 'id="check-spf" data-status="warn"' in warned.text
    expected = "v=spf1 include:_spf.google.com a:relay.acme-sender.com ~all"
    assert f"&#34;{expected}&#34;" in warned.text


def test_other_tenants_domains_are_not_found(
    session: Session, client: TestClient, dns: Any
) -> None:
    me = sign_in(session, client, role="owner")
    _mailbox(session, make_organization(session).id, "x@their-domain.com", "smtp.gmail.com")
    dns({})
    assert client.get("/mailboxes/domains/their-domain.com").status_code == 404
    made = client.post("/mailboxes/domains/their-domain.com/dkim", data={"csrf_token": me.csrf})
    assert made.status_code == 404
    assert session.scalar(select(DkimKey).where(DkimKey.domain == "their-domain.com")) is None
