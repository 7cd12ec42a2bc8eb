"""Mailboxes: the API (roles, tenants, bad input, secrets never returned), connection tests
against a real aiosmtpd with STARTTLS and AUTH, DKIM keys, the vault and key rotation."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import ssl
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.factories import make_campaign, make_organization, make_user
from tests.mail.sending_support import free_port, received
from vectra.accounts.actor import system_actor
from vectra.accounts.sessions import issue_session
from vectra.integrations import vault
from vectra.mail import mailboxes
from vectra.mail.mailbox_models import Mailbox
from vectra.mail.mailbox_schemas import MailboxCreate
from vectra.mail.sink import SinkHandler
from vectra.settings import Settings

PASSWORD = "s3cret-smtp-password"
LOCALHOST = ipaddress.ip_address("127.0.0.1")


def _headers(session: Session, org: Any, role: str = "owner") -> dict[str, str]:
    user = make_user(session, org, role=role)
    return {"Authorization": f"Bearer {issue_session(session, user).token}"}


def _body(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "Sales",
        "from_name": "Ann",
        "from_address": "ann@acme-sender.com",
        "smtp_host": "smtp.acme-sender.com",
        "smtp_port": 587,
        "smtp_username": "ann",
        "smtp_password": PASSWORD,
        "daily_cap": 40,
        "warmup_start": 10,
        "warmup_increment": 5,
        "warmup_days": 6,
    } | overrides


class TestMailboxApi:
    def test_create_read_never_returns_the_password(
        self, client: TestClient, session: Session
    ) -> None:
        org = make_organization(session)
        headers = _headers(session, org)
        created = client.post("/api/v1/mailboxes", json=_body(), headers=headers)
        assert created.status_code == 201, created.text
        data = created.json()
        assert data["secrets_set"] == ["password"]
        assert data["effective_daily_cap"] == 10  # warm-up day 0
        assert PASSWORD not in created.text
        listed = client.get("/api/v1/mailboxes", headers=headers)
        assert PASSWORD not in listed.text and len(listed.json()["items"]) == 1
        stored = session.execute(text("SELECT secret FROM mailboxes")).scalar()
        assert PASSWORD not in stored and vault.decrypt(stored) == {"password": PASSWORD}

    def test_update_and_clear_password(self, client: TestClient, session: Session) -> None:
        org = make_organization(session)
        headers = _headers(session, org)
        mailbox_id = client.post("/api/v1/mailboxes", json=_body(), headers=headers).json()["id"]
        patched = client.patch(
            f"/api/v1/mailboxes/{mailbox_id}",
            json={"daily_cap": 80, "smtp_password": None, "status": "paused"},
            headers=headers,
        )
        assert patched.status_code == 200, patched.text
        assert patched.json()["secrets_set"] == [] and patched.json()["status"] == "paused"
        assert patched.json()["daily_cap"] == 80

    def test_bad_input_names_the_field(self, client: TestClient, session: Session) -> None:
        headers = _headers(session, make_organization(session))
        for field, value in (
            ("smtp_port", 70000),
            ("smtp_security", "ssl3"),
            ("from_address", "nope"),
        ):
            response = client.post(
                "/api/v1/mailboxes", json=_body(**{field: value}), headers=headers
            )
            assert response.status_code == 422
            assert field in response.text

    def test_duplicate_address_conflicts(self, client: TestClient, session: Session) -> None:
        headers = _headers(session, make_organization(session))
        assert client.post("/api/v1/mailboxes", json=_body(), headers=headers).status_code == 201
        again = client.post(
            "/api/v1/mailboxes", json=_body(from_address="ANN@acme-sender.com"), headers=headers
        )
        assert again.status_code == 409

    def test_roles_and_tenants(self, client: TestClient, session: Session) -> None:
        org, other = make_organization(session), make_organization(session)
        owner = _headers(session, org)
        mailbox_id = client.post("/api/v1/mailboxes", json=_body(), headers=owner).json()["id"]
        assert client.get("/api/v1/mailboxes").status_code == 401
        viewer = _headers(session, org, role="viewer")
        assert client.post("/api/v1/mailboxes", json=_body(), headers=viewer).status_code == 403
        stranger = _headers(session, other)
        for method, path in (
            ("get", f"/api/v1/mailboxes/{mailbox_id}"),
            ("patch", f"/api/v1/mailboxes/{mailbox_id}"),
            ("delete", f"/api/v1/mailboxes/{mailbox_id}"),
            ("post", f"/api/v1/mailboxes/{mailbox_id}/dkim"),
        ):
            kwargs: dict[str, Any] = {"json": {}} if method == "patch" else {}
            assert getattr(client, method)(path, headers=stranger, **kwargs).status_code == 404

    def test_campaign_rotation_set(self, client: TestClient, session: Session) -> None:
        org, other = make_organization(session), make_organization(session)
        headers = _headers(session, org)
        campaign = make_campaign(session, org)
        ids = [
            client.post(
                "/api/v1/mailboxes",
                json=_body(from_address=f"s{i}@acme-sender.com"),
                headers=headers,
            ).json()["id"]
            for i in range(2)
        ]
        put = client.put(
            f"/api/v1/campaigns/{campaign.id}/mailboxes", json={"mailbox_ids": ids}, headers=headers
        )
        assert put.status_code == 200 and put.json()["mailbox_ids"] == ids
        got = client.get(f"/api/v1/campaigns/{campaign.id}/mailboxes", headers=headers)
        assert sorted(got.json()["mailbox_ids"]) == sorted(ids)
        foreign = make_campaign(session, other)
        assert (
            client.get(f"/api/v1/campaigns/{foreign.id}/mailboxes", headers=headers).status_code
            == 404
        )
        unknown = client.put(
            f"/api/v1/campaigns/{campaign.id}/mailboxes",
            json={"mailbox_ids": ["00000000-0000-0000-0000-000000000001"]},
            headers=headers,
        )
        assert unknown.status_code == 422 and "mailbox_ids" in unknown.text

    def test_dkim_record_shown(self, client: TestClient, session: Session) -> None:
        headers = _headers(session, make_organization(session))
        mailbox_id = client.post("/api/v1/mailboxes", json=_body(), headers=headers).json()["id"]
        first = client.post(f"/api/v1/mailboxes/{mailbox_id}/dkim", headers=headers).json()
        again = client.post(f"/api/v1/mailboxes/{mailbox_id}/dkim", headers=headers).json()
        assert first == again  # one key per domain
        assert first["record"]["name"] == f"{first['selector']}._domainkey.acme-sender.com"
        assert first["record"]["value"].startswith("v=DKIM1; k=rsa; p=MII")
        assert "PRIVATE" not in str(first)

    def test_kill_switch(self, client: TestClient, session: Session) -> None:
        org = make_organization(session)
        response = client.put(
            "/api/v1/sending/kill-switch", json={"paused": True, "reason": "incident"},
            headers=_headers(session, org),
        )  # fmt: skip
        assert response.status_code == 200
        settings = session.execute(
            text("SELECT settings FROM organizations WHERE id = :o"), {"o": org.id}
        ).scalar()
        assert settings["sending_paused"] is True
        viewer = _headers(session, org, role="viewer")
        assert (
            client.put(
                "/api/v1/sending/kill-switch", json={"paused": False}, headers=viewer
            ).status_code
            == 403
        )

    def test_connection_test_endpoint(
        self, client: TestClient, session: Session, tmp_path: Path
    ) -> None:
        handler = SinkHandler(tmp_path)
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port)
        controller.start()
        try:
            headers = _headers(session, make_organization(session))
            body = _body(
                smtp_host="127.0.0.1",
                smtp_port=port,
                smtp_security="none",
                smtp_username=None,
                smtp_password=None,
            )
            mailbox_id = client.post("/api/v1/mailboxes", json=body, headers=headers).json()["id"]
            ok = client.post(
                f"/api/v1/mailboxes/{mailbox_id}/test",
                json={"send_to": "me@acme-sender.com"},
                headers=headers,
            )
        finally:
            controller.stop()
        assert ok.status_code == 200 and ok.json()["ok"] is True, ok.text
        assert len(received(tmp_path)) == 1
        down = client.post(f"/api/v1/mailboxes/{mailbox_id}/test", headers=headers)
        assert down.json()["ok"] is False and down.json()["stage"] == "connect"
        status = client.get(f"/api/v1/mailboxes/{mailbox_id}", headers=headers).json()
        assert status["status"] == "error" and "connect failed" in status["status_reason"]


def _self_signed(tmp_path: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context, client context trusting it) for 127.0.0.1."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(LOCALHOST)]), critical=False)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pem = serialization.Encoding.PEM
    plain = serialization.NoEncryption()
    key_path.write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, plain))
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_path, key_path)
    return server, ssl.create_default_context(cafile=str(cert_path))


def _authenticator(
    _server: Any, _session: Any, _envelope: Any, mechanism: str, data: Any
) -> AuthResult:
    ok = (
        isinstance(data, LoginPassword)
        and data.login == b"ann"
        and data.password == PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def starttls_server(tmp_path: Path) -> Any:
    server_tls, client_tls = _self_signed(tmp_path)
    handler = SinkHandler(tmp_path / "inbox")
    port = free_port()
    controller = Controller(
        handler, hostname="127.0.0.1", port=port, tls_context=server_tls, require_starttls=True,
        authenticator=_authenticator, auth_require_tls=True,
    )  # fmt: skip
    controller.start()
    yield port, client_tls, tmp_path / "inbox"
    controller.stop()


def test_starttls_login_and_send(session: Session, starttls_server: Any) -> None:
    port, client_tls, inbox = starttls_server
    org = make_organization(session)
    mailbox = mailboxes.create_mailbox(
        session, system_actor(org.id),
        MailboxCreate(**_body(smtp_host="127.0.0.1", smtp_port=port, smtp_security="starttls")),
    )  # fmt: skip
    result = asyncio.run(
        mailboxes.check_connection(mailbox, send_to="me@acme-sender.com", tls=client_tls)
    )
    assert result.ok, result.detail
    assert len(received(inbox)) == 1
    # A wrong password fails at login; an untrusted certificate fails at connect.
    mailbox.secret = vault.encrypt({"password": "wrong"})
    bad = asyncio.run(mailboxes.check_connection(mailbox, tls=client_tls))
    assert not bad.ok and bad.stage == "login"
    mailbox.secret = vault.encrypt({"password": PASSWORD})
    untrusted = asyncio.run(mailboxes.check_connection(mailbox))
    assert not untrusted.ok and untrusted.stage == "connect"


class TestVault:
    def test_round_trip_and_tamper(self) -> None:
        token = vault.encrypt({"password": "x", "n": 1})
        assert vault.decrypt(token) == {"password": "x", "n": 1}
        with pytest.raises(vault.VaultError):
            vault.decrypt(token[:-4] + "AAAA")

    def test_rotation_with_previous_keys(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        old = Settings(secret_key="old-key-" + "o" * 40, data_dir=tmp_path)
        new = Settings(secret_key="new-key-" + "n" * 40, data_dir=tmp_path)
        token = vault.encrypt({"password": "p"}, settings=old)
        with pytest.raises(vault.VaultError):
            vault.decrypt(token, settings=new)
        monkeypatch.setenv(vault.PREVIOUS_ENV, "unrelated," + old.secret_key)  # type: ignore[operator]
        assert vault.decrypt(token, settings=new) == {"password": "p"}
        assert not vault.is_current(token, settings=new)
        rotated = vault.rotate(token, settings=new)
        assert vault.is_current(rotated, settings=new)
        monkeypatch.delenv(vault.PREVIOUS_ENV)
        assert vault.decrypt(rotated, settings=new) == {"password": "p"}
        # The data-dir file works too.
        (tmp_path / vault.PREVIOUS_FILE).write_text(old.secret_key + "\n")  # type: ignore[operator]
        assert vault.decrypt(token, settings=new) == {"password": "p"}

    def test_rotate_secrets_re_encrypts_stored_rows(
        self, session: Session, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        org = make_organization(session)
        old = Settings(secret_key="old-key-" + "o" * 40, data_dir=tmp_path)
        mailbox = mailboxes.create_mailbox(session, system_actor(org.id), MailboxCreate(**_body()))
        mailbox.secret = vault.encrypt({"password": PASSWORD}, settings=old)
        session.flush()
        monkeypatch.setenv(vault.PREVIOUS_ENV, old.secret_key or "")
        seen: list[tuple[int, int]] = []
        rotated = mailboxes.rotate_secrets(session, progress=lambda d, t: seen.append((d, t)))
        assert rotated >= 1 and seen[-1][0] == seen[-1][1]
        monkeypatch.delenv(vault.PREVIOUS_ENV)
        refreshed = session.get(Mailbox, mailbox.id)
        assert refreshed is not None and vault.decrypt(refreshed.secret or "") == {
            "password": PASSWORD
        }
