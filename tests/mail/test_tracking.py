"""Tracking and unsubscribe: signed tokens only, no open redirect, machines not counted."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.mail.drafting import actor_for, qualified_lead, setup_org
from vectra.db.base import utcnow
from vectra.db.engine import Database
from vectra.leads.tables import Suppression
from vectra.mail import tokens, tracking
from vectra.mail.api_public import tracking_buffer
from vectra.mail.drafts import draft_sequence_for_lead
from vectra.mail.models import Email, EmailEvent
from vectra.web.app import create_app

BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36"


@pytest.fixture
def tclient(app: FastAPI) -> Iterator[TestClient]:
    """A client whose hits stay in the buffer; the test stores them in its own transaction."""
    app.state.tracking_autoflush = False
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as client:
        yield client


def sent_email(session: Session, *, sent_ago_s: float = 3600) -> Email:
    _org, owner, campaign = setup_org(session)
    lead = qualified_lead(session, campaign)
    first, _second = draft_sequence_for_lead(session, actor_for(owner), lead.id)
    first.status = "sent"
    first.sent_at = utcnow() - dt.timedelta(seconds=sent_ago_s)
    session.flush()
    return first


def store(app: FastAPI, session: Session) -> None:
    tracking.store_hits(session, tracking_buffer(app).drain())
    session.expire_all()


def altered(token: str) -> str:
    swap = "a" if token[5] != "a" else "b"
    return token[:5] + swap + token[6:]


class TestTokens:
    def test_forged_and_altered_tokens_are_404(self, tclient: TestClient) -> None:
        email_id = uuid.uuid4()
        open_token = tokens.make_token("open", email_id)
        click_token = tokens.make_token("click", email_id, extra={"u": "https://a.example/"})
        unsub_token = tokens.make_token("unsubscribe", email_id)
        for path in (
            "/t/o/notatoken.gif",
            f"/t/o/{altered(open_token)}.gif",
            f"/t/o/{click_token}.gif",  # a click token is not an open token
            "/t/c/notatoken",
            f"/t/c/{altered(click_token)}",
            f"/t/c/{open_token}",
            f"/u/{altered(unsub_token)}",
            f"/u/{open_token}",
        ):
            assert tclient.get(path).status_code == 404, path
        assert (
            tclient.post(f"/u/{open_token}", data={"List-Unsubscribe": "One-Click"}).status_code
            == 404
        )

    def test_the_redirect_goes_only_to_the_signed_target(self, tclient: TestClient) -> None:
        email_id = uuid.uuid4()
        token = tokens.make_token("click", email_id, extra={"u": "https://acme.example/p?q=1"})
        response = tclient.get(f"/t/c/{token}?u=https://evil.example/&url=https://evil.example/")
        assert response.status_code == 302
        assert response.headers["location"] == "https://acme.example/p?q=1"

    def test_a_signed_non_web_target_is_still_refused(self, tclient: TestClient) -> None:
        token = tokens.make_token("click", uuid.uuid4(), extra={"u": "javascript:alert(1)"})
        assert tclient.get(f"/t/c/{token}").status_code == 404


class TestOpensAndClicks:
    def test_a_person_opening_is_counted(
        self, app: FastAPI, tclient: TestClient, session: Session
    ) -> None:
        email = sent_email(session)
        pixel = tclient.get(
            f"/t/o/{tokens.make_token('open', email.id)}.gif", headers={"User-Agent": BROWSER}
        )
        assert pixel.status_code == 200
        assert pixel.headers["content-type"] == "image/gif"
        assert pixel.content == tracking.PIXEL_GIF
        assert "no-store" in pixel.headers["cache-control"]
        store(app, session)
        assert (email.open_count, email.machine_open_count) == (1, 0)
        assert email.opened_at is not None

    @pytest.mark.parametrize(
        ("method", "agent", "ip_header", "reason"),
        [
            (
                "GET",
                "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0"
                " (via ggpht.com GoogleImageProxy)",
                None,
                "gmail_image_proxy",
            ),
            ("GET", "Mozilla/5.0", None, "apple_mpp"),
            ("HEAD", BROWSER, None, "head_request"),
            ("GET", "", None, "no_user_agent"),
        ],
    )
    def test_machine_opens_are_reported_not_counted(
        self,
        app: FastAPI,
        tclient: TestClient,
        session: Session,
        method: str,
        agent: str,
        ip_header: str | None,
        reason: str,
    ) -> None:
        email = sent_email(session)
        url = f"/t/o/{tokens.make_token('open', email.id)}.gif"
        assert tclient.request(method, url, headers={"User-Agent": agent}).status_code == 200
        store(app, session)
        assert (email.open_count, email.machine_open_count, email.opened_at) == (0, 1, None)
        event = session.scalars(select(EmailEvent).where(EmailEvent.email_id == email.id)).one()
        assert (event.machine, event.machine_reason) == (True, reason)

    def test_apple_proxy_addresses_are_machine_opens(self) -> None:
        assert tracking.classify_open("GET", BROWSER, "17.58.101.7") == "apple_mpp"
        assert tracking.classify_open("GET", BROWSER, "203.0.113.9") is None

    def test_a_click_at_delivery_is_a_scanner(
        self, app: FastAPI, tclient: TestClient, session: Session
    ) -> None:
        email = sent_email(session, sent_ago_s=2)
        token = tokens.make_token("click", email.id, extra={"u": "https://acme.example/"})
        assert tclient.get(f"/t/c/{token}", headers={"User-Agent": BROWSER}).status_code == 302
        store(app, session)
        assert (email.click_count, email.machine_click_count, email.clicked_at) == (0, 1, None)

    def test_many_links_at_once_is_a_scanner_one_link_is_a_person(
        self, app: FastAPI, tclient: TestClient, session: Session
    ) -> None:
        burst = sent_email(session)
        for n in range(3):
            url = tokens.click_url(burst.id, f"https://acme.example/{n}").split("/t/c/")[1]
            tclient.get(f"/t/c/{url}", headers={"User-Agent": BROWSER})
        person = sent_email(session)
        url = tokens.click_url(person.id, "https://acme.example/pricing").split("/t/c/")[1]
        tclient.get(f"/t/c/{url}", headers={"User-Agent": BROWSER})
        store(app, session)
        assert (burst.click_count, burst.machine_click_count) == (0, 3)
        assert (person.click_count, person.machine_click_count) == (1, 0)
        assert person.clicked_at is not None

    def test_scanner_agents_and_head_clicks_are_machines(self) -> None:
        agents = ["Mozilla/5.0 (compatible; Barracuda Sentinel)", "python-requests/2.31", ""]
        assert all(tracking.classify_click("GET", a, None) for a in agents)
        assert tracking.classify_click("HEAD", BROWSER, None) == "head_request"
        assert tracking.classify_click("GET", BROWSER, None) is None

    def test_hits_for_deleted_emails_are_dropped(self, session: Session) -> None:
        hit = tracking.Hit("open", uuid.uuid4(), utcnow(), "GET", BROWSER, None)
        assert tracking.store_hits(session, [hit]) == 0


class TestUnsubscribe:
    def test_get_shows_a_page_and_changes_nothing(
        self, tclient: TestClient, session: Session
    ) -> None:
        email = sent_email(session)
        page = tclient.get(f"/u/{tokens.make_token('unsubscribe', email.id)}")
        assert page.status_code == 200
        assert "text/html" in page.headers["content-type"]
        assert "<form method='post'" in page.text
        assert session.scalars(select(Suppression)).all() == []

    def test_one_click_suppresses_stops_the_sequence_and_is_idempotent(
        self, tclient: TestClient, session: Session
    ) -> None:
        email = sent_email(session)
        follow_up = session.scalars(
            select(Email).where(Email.lead_id == email.lead_id, Email.sequence_step == 1)
        ).one()
        url = f"/u/{tokens.make_token('unsubscribe', email.id)}"
        for _ in range(2):
            # RFC 8058: a form POST with this body, no cookie, no login.
            done = tclient.post(
                url,
                content=b"List-Unsubscribe=One-Click",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            assert done.status_code == 200, done.text
        session.expire_all()
        entries = session.scalars(
            select(Suppression).where(Suppression.organization_id == email.organization_id)
        ).all()
        assert [(s.kind, s.reason) for s in entries] == [("email", "unsubscribe")]
        assert follow_up.status == "rejected"
        assert email.status == "sent"
        events = session.scalars(
            select(EmailEvent).where(
                EmailEvent.email_id == email.id, EmailEvent.kind == "unsubscribe"
            )
        ).all()
        assert len(events) == 1


def test_the_flusher_writes_hits_within_seconds(committed_database: Database) -> None:
    with committed_database.system_session() as session:
        email = sent_email(session)
        email_id = email.id
    application = create_app(committed_database)
    with TestClient(application) as client:
        url = f"/t/o/{tokens.make_token('open', email_id)}.gif"
        assert client.get(url, headers={"User-Agent": BROWSER}).status_code == 200
        deadline = time.monotonic() + 10
        count = 0
        while time.monotonic() < deadline and not count:
            time.sleep(0.2)
            with committed_database.system_session() as session:
                count = session.get(Email, email_id).open_count or 0  # type: ignore[union-attr]
        assert count == 1
        client.get(url, headers={"User-Agent": BROWSER})
    # Shutdown flushes what is still buffered.
    with committed_database.system_session() as session:
        assert session.get(Email, email_id).open_count == 2  # type: ignore[union-attr]
