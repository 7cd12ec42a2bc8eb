"""Pages behind the accounts mail: email verification, password reset, invitation acceptance.

Mail goes to the real local SMTP sink; each test follows the link the message carries.
"""

from __future__ import annotations

import re
from email.message import EmailMessage
from urllib.parse import urlsplit

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from tests.factories import PASSWORD, make_organization, make_user
from tests.web.pages.support import csrf_of, sign_in
from vectra.accounts import service
from vectra.accounts.actor import Actor
from vectra.accounts.invitations import invite
from vectra.accounts.models import Invitation, User
from vectra.accounts.recovery import MAX_MAILS_PER_HOUR
from vectra.accounts.roles import Role
from vectra.web.auth import SESSION_COOKIE

NEW_PASSWORD = "a brand new passphrase"


def link_in(message: EmailMessage, path: str) -> str:
    """The local part (path and query) of the link to `path` the message carries."""
    found = re.search(
        r"https?://\S+" + re.escape(path) + r"\?token=[A-Za-z0-9_\-]+", str(message.get_content())
    )
    assert found, message.get_content()
    parts = urlsplit(found.group(0))
    return f"{parts.path}?{parts.query}"


def state_of(html: str, attribute: str = "data-state") -> str:
    found = re.search(attribute + r'="([a-z]+)"', html)
    assert found, html
    return found.group(1)


def follow_verification(client: TestClient, link: str) -> Response:
    """Open the mailed link and, when it asks to confirm, press its button (as a person does)."""
    page = client.get(link)
    if page.status_code != 200 or state_of(page.text) != "confirm":
        return page
    token = link.split("token=", 1)[1]
    return client.post("/verify-email", data={"csrf_token": csrf_of(page.text), "token": token})


def signup_on_page(client: TestClient) -> None:
    form = client.get("/signup")
    response = client.post(
        "/signup",
        data={
            "csrf_token": csrf_of(form.text),
            "organization_name": "Verify Co",
            "email": "vera@verify.example",
            "password": "a sufficiently long passphrase",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


class TestEmailVerification:
    def test_the_mailed_link_verifies_once(
        self, client: TestClient, session: Session, smtp_sink: list[EmailMessage]
    ) -> None:
        signup_on_page(client)
        assert len(smtp_sink) == 1
        link = link_in(smtp_sink[0], "/verify-email")
        assert link.startswith("/verify-email?token=ve_")
        banner = client.get("/dashboard").text
        assert 'id="verify-banner"' in banner and 'action="/verify-email/resend"' in banner

        # Opening the link (what a mail scanner or a link preview does) changes nothing.
        for _ in range(2):
            page = client.get(link)
            assert page.status_code == 200 and state_of(page.text) == "confirm"
        user = session.scalar(select(User).where(User.email == "vera@verify.example"))
        assert user is not None and user.email_verified_at is None
        token = link.split("token=", 1)[1]
        forged = client.post("/verify-email", data={"csrf_token": "nope", "token": token})
        assert forged.status_code == 403

        done = client.post("/verify-email", data={"csrf_token": csrf_of(page.text), "token": token})
        assert done.status_code == 200 and state_of(done.text) == "done"
        assert "Email verified" in done.text and "vera@verify.example" in done.text
        session.expire_all()  # the user was read above, unverified
        user = session.scalar(select(User).where(User.email == "vera@verify.example"))
        assert user is not None and user.email_verified_at is not None
        assert 'id="verify-banner"' not in client.get("/dashboard").text

        again = client.get(link)
        assert again.status_code == 400 and state_of(again.text) == "verified"
        assert "Already verified" in again.text

    def test_expired_used_and_unknown_links_say_why(
        self, client: TestClient, session: Session, smtp_sink: list[EmailMessage]
    ) -> None:
        signup_on_page(client)
        link = link_in(smtp_sink[0], "/verify-email")
        session.execute(text("UPDATE account_tokens SET expires_at = now() - interval '1 second'"))
        expired = client.get(link)
        assert expired.status_code == 400 and state_of(expired.text) == "expired"
        assert "expired" in expired.text
        user = session.scalar(select(User).where(User.email == "vera@verify.example"))
        assert user is not None and user.email_verified_at is None

        # Spent, but the account is not verified (verified, then its address reset by hand).
        session.execute(text("UPDATE account_tokens SET used_at = now()"))
        used = client.get(link)
        assert used.status_code == 400 and state_of(used.text) == "used"
        assert "already used" in used.text

        unknown = client.get("/verify-email?token=ve_forged")
        assert unknown.status_code == 400 and state_of(unknown.text) == "unknown"
        assert client.get("/verify-email").status_code == 400

    def test_banner_resends_a_link_with_csrf(
        self, client: TestClient, session: Session, smtp_sink: list[EmailMessage]
    ) -> None:
        me = sign_in(session, client)
        assert client.post("/verify-email/resend", data={"csrf_token": "nope"}).status_code == 403
        assert smtp_sink == []
        sent = client.post("/verify-email/resend", data={"csrf_token": me.csrf})
        assert sent.status_code == 200 and "A new verification link is on its way" in sent.text
        assert [m["To"] for m in smtp_sink] == [me.user.email]
        # htmx: only the banner comes back, re-rendered in place.
        partial = client.post(
            "/verify-email/resend", data={"csrf_token": me.csrf}, headers={"HX-Request": "true"}
        )
        assert partial.status_code == 200
        assert partial.text.lstrip().startswith('<article class="banner"')
        assert "on its way" in partial.text and "<html" not in partial.text
        for _ in range(MAX_MAILS_PER_HOUR):
            last = client.post("/verify-email/resend", data={"csrf_token": me.csrf})
        assert last.status_code == 409 and "several times already" in last.text
        assert len(smtp_sink) == MAX_MAILS_PER_HOUR
        # The newest link works; the link mailed first was replaced by it.
        assert state_of(
            follow_verification(client, link_in(smtp_sink[0], "/verify-email")).text
        ) == ("expired")
        assert state_of(
            follow_verification(client, link_in(smtp_sink[-1], "/verify-email")).text
        ) == ("done")
        # Now verified: the replaced link says there is nothing left to do.
        assert state_of(client.get(link_in(smtp_sink[0], "/verify-email")).text) == "verified"
        refused = client.post("/verify-email/resend", data={"csrf_token": me.csrf})
        assert refused.status_code == 409 and "already verified" in refused.text

    def test_verified_user_sees_no_banner(self, client: TestClient, session: Session) -> None:
        me = sign_in(session, client)
        session.execute(
            text("UPDATE users SET email_verified_at = now() WHERE id = :u"), {"u": me.user.id}
        )
        assert 'id="verify-banner"' not in client.get("/dashboard").text


class TestPasswordReset:
    def test_same_answer_for_unknown_email(
        self, client: TestClient, session: Session, smtp_sink: list[EmailMessage]
    ) -> None:
        user = make_user(session, make_organization(session))
        answers = []
        for address in (user.email.upper(), "nobody@nowhere.example"):
            form = client.get("/forgot-password")
            assert form.status_code == 200 and 'name="email"' in form.text
            answer = client.post(
                "/forgot-password", data={"csrf_token": csrf_of(form.text), "email": address}
            )
            assert answer.status_code == 200
            answers.append(answer.text.replace(address, "ADDRESS"))
        assert 'id="reset-sent"' in answers[0]
        assert re.sub(r'value="[^"]+"', "", answers[0]) == re.sub(r'value="[^"]+"', "", answers[1])
        assert [m["To"] for m in smtp_sink] == [user.email]
        assert "/forgot-password" in client.get("/login").text

    def test_wrong_csrf_and_malformed_email(
        self, client: TestClient, smtp_sink: list[EmailMessage]
    ) -> None:
        form = client.get("/forgot-password")
        forged = client.post("/forgot-password", data={"csrf_token": "x", "email": "a@b.example"})
        assert forged.status_code == 403
        bad = client.post("/forgot-password", data={"csrf_token": csrf_of(form.text), "email": "x"})
        assert bad.status_code == 422 and 'role="alert"' in bad.text
        assert smtp_sink == []

    def test_without_mail_configured_everyone_hears_the_same(
        self, client: TestClient, session: Session
    ) -> None:
        user = make_user(session, make_organization(session))
        for address in (user.email, "nobody@nowhere.example"):
            form = client.get("/forgot-password")
            answer = client.post(
                "/forgot-password", data={"csrf_token": csrf_of(form.text), "email": address}
            )
            assert answer.status_code == 503 and "VECTRA_SMTP_HOST" in answer.text

    def test_reset_link_sets_a_password_once(
        self, client: TestClient, session: Session, smtp_sink: list[EmailMessage]
    ) -> None:
        me = sign_in(session, client)
        client.cookies.clear()
        form = client.get("/forgot-password")
        client.post(
            "/forgot-password", data={"csrf_token": csrf_of(form.text), "email": me.user.email}
        )
        link = link_in(smtp_sink[0], "/reset-password")
        token = link.split("token=")[1]
        page = client.get(link)
        assert page.status_code == 200 and state_of(page.text) == "valid"
        assert 'name="password"' in page.text and 'name="password_confirm"' in page.text
        csrf = csrf_of(page.text)

        def submit(password: str, confirm: str | None = None, csrf_token: str = csrf) -> str:
            data = {"csrf_token": csrf_token, "token": token, "password": password}
            response = client.post(
                "/reset-password", data=data | {"password_confirm": confirm or password}
            )
            return f"{response.status_code} {response.text}"

        assert submit(NEW_PASSWORD, csrf_token="forged").startswith("403")
        mismatch = submit(NEW_PASSWORD, "another passphrase")
        assert mismatch.startswith("422") and "The two passwords differ" in mismatch
        short = submit("short")
        assert short.startswith("422") and "at least 10 characters" in short
        common = submit("1q2w3e4r5t")
        assert common.startswith("422") and "most common" in common
        done = submit(NEW_PASSWORD)
        assert done.startswith("200") and 'data-state="done"' in done

        session.expire_all()
        assert service.authenticate(session, email=me.user.email, password=NEW_PASSWORD)
        client.cookies.clear()
        sign_in_page = client.get("/login")
        login = client.post(
            "/login",
            data={
                "csrf_token": csrf_of(sign_in_page.text),
                "email": me.user.email,
                "password": PASSWORD,
            },
        )
        assert login.status_code == 400  # the old password no longer works
        reused = client.get(link)
        assert reused.status_code == 400 and state_of(reused.text) == "used"
        assert 'href="/forgot-password"' in reused.text
        again = client.post(
            "/reset-password",
            data={
                "csrf_token": csrf_of(client.get("/forgot-password").text),
                "token": token,
                "password": "yet another passphrase",
                "password_confirm": "yet another passphrase",
            },
        )
        assert again.status_code == 400 and state_of(again.text) == "used"
        assert service.authenticate(session, email=me.user.email, password=NEW_PASSWORD)

    def test_expired_reset_link(
        self, client: TestClient, session: Session, smtp_sink: list[EmailMessage]
    ) -> None:
        user = make_user(session, make_organization(session))
        form = client.get("/forgot-password")
        client.post(
            "/forgot-password", data={"csrf_token": csrf_of(form.text), "email": user.email}
        )
        link = link_in(smtp_sink[0], "/reset-password")
        session.execute(text("UPDATE account_tokens SET expires_at = now() - interval '1 second'"))
        expired = client.get(link)
        assert expired.status_code == 400 and state_of(expired.text) == "expired"
        assert 'name="password"' not in expired.text
        assert state_of(client.get("/reset-password?token=pr_nope").text) == "unknown"


class TestInvitation:
    def _invite(
        self, session: Session, smtp_sink: list[EmailMessage], role: Role = Role.MANAGER
    ) -> tuple[str, str]:
        organization = make_organization(session, name="Acme Widgets")
        admin = make_user(session, organization, role="admin")
        actor = Actor(organization_id=organization.id, role=Role.ADMIN, user_id=admin.id)
        invite(session, actor, email="newbie@acme.example", role=role)
        return link_in(smtp_sink[-1], "/invitations/accept"), str(organization.id)

    def test_accept_shows_org_and_role_then_signs_in(
        self, client: TestClient, session: Session, smtp_sink: list[EmailMessage]
    ) -> None:
        link, organization_id = self._invite(session, smtp_sink)
        page = client.get(link)
        assert page.status_code == 200 and state_of(page.text, "data-status") == "pending"
        assert "Acme Widgets" in page.text and "<strong>manager</strong>" in page.text
        assert "newbie@acme.example" in page.text
        token = link.split("token=")[1]
        form = {
            "csrf_token": csrf_of(page.text), "token": token, "first_name": "Nina",
            "last_name": "Newbie", "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD,
        }  # fmt: skip
        assert (
            client.post("/invitations/accept", data=form | {"csrf_token": "x"}).status_code == 403
        )
        weak = client.post(
            "/invitations/accept", data=form | {"password": "short", "password_confirm": "short"}
        )
        assert weak.status_code == 422 and "at least 10 characters" in weak.text
        assert 'value="Nina"' in weak.text and "Acme Widgets" in weak.text
        assert session.scalar(select(User).where(User.email == "newbie@acme.example")) is None

        joined = client.post("/invitations/accept", data=form, follow_redirects=False)
        assert joined.status_code == 303 and joined.headers["location"] == "/dashboard"
        assert SESSION_COOKIE in joined.cookies
        dashboard = client.get("/dashboard")
        assert dashboard.status_code == 200
        assert "newbie@acme.example (manager)" in dashboard.text
        assert 'id="verify-banner"' not in dashboard.text  # the invitation link proved the address
        user = session.scalar(select(User).where(User.email == "newbie@acme.example"))
        assert user is not None and str(user.organization_id) == organization_id
        assert user.role == "manager" and user.first_name == "Nina"
        assert user.email_verified_at is not None

        client.cookies.clear()
        used = client.get(link)
        assert used.status_code == 400 and state_of(used.text, "data-status") == "accepted"
        assert 'name="password"' not in used.text
        replay = client.post(
            "/invitations/accept", data=form | {"csrf_token": csrf_of(client.get("/login").text)}
        )
        assert replay.status_code == 400 and state_of(replay.text, "data-status") == "accepted"

    def test_expired_revoked_and_unknown_invitations(
        self, client: TestClient, session: Session, smtp_sink: list[EmailMessage]
    ) -> None:
        link, _ = self._invite(session, smtp_sink)
        session.execute(text("UPDATE invitations SET expires_at = now() - interval '1 second'"))
        expired = client.get(link)
        assert expired.status_code == 400 and state_of(expired.text, "data-status") == "expired"
        assert "Acme Widgets" in expired.text
        session.execute(text("UPDATE invitations SET revoked_at = now()"))
        revoked = client.get(link)
        assert state_of(revoked.text, "data-status") == "revoked"
        unknown = client.get("/invitations/accept?token=vi_nothing")
        assert unknown.status_code == 400 and state_of(unknown.text, "data-status") == "unknown"
        assert session.scalars(select(Invitation.accepted_at)).all() == [None]
