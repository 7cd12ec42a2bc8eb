"""The operators' inbox: list with filters and keyset pages, detail with thread, corrections."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from tests.factories import make_organization, make_user
from tests.mail.inbound_db.support import BOUNCE_DOMAIN, World, make_world, reply_message
from vectra.accounts import sessions
from vectra.accounts.models import Organization, User
from vectra.mail.inbound import store


def auth(session: Session, user: User) -> dict[str, str]:
    return {"Authorization": f"Bearer {sessions.issue_session(session, user).token}"}


def _reply(session: Session, w: World, i: int, body: str) -> uuid.UUID:
    raw = reply_message(sender=w.leads[i][1], body=body, in_reply_to=w.message_ids[i])
    row = store.receive(session, raw, source="smtp", rcpt_to=[f"replies@{BOUNCE_DOMAIN}"])
    store.process(session, row.id)
    return row.id


def _setup(session: Session) -> dict[str, Any]:
    w = make_world(session, leads=3)
    org = session.scalar(select(Organization).where(Organization.id == w.org_id))
    assert org is not None
    ids = [
        _reply(session, w, 0, "How much does it cost for a team of ten?"),
        _reply(session, w, 1, "Not interested, thanks."),
        _reply(session, w, 2, "Quick question: do you integrate with Salesforce?"),
    ]
    return {"world": w, "org": org, "ids": ids}


class TestListReplies:
    def test_filters_and_keyset_pages(self, client: TestClient, session: Session) -> None:
        s = _setup(session)
        headers = auth(session, make_user(session, s["org"], role="viewer"))
        everything = client.get("/api/v1/replies", headers=headers)
        assert everything.status_code == 200, everything.text
        assert {r["id"] for r in everything.json()["items"]} == {str(i) for i in s["ids"]}
        questions = client.get("/api/v1/replies?intent=question", headers=headers).json()
        assert {r["id"] for r in questions["items"]} == {str(s["ids"][0]), str(s["ids"][2])}
        first = client.get("/api/v1/replies?limit=2", headers=headers).json()
        assert len(first["items"]) == 2 and first["next_cursor"]
        rest = client.get(
            f"/api/v1/replies?limit=2&cursor={first['next_cursor']}", headers=headers
        ).json()
        assert len(rest["items"]) == 1 and rest["next_cursor"] is None
        seen = [r["id"] for r in first["items"] + rest["items"]]
        assert len(set(seen)) == 3
        other = client.get(f"/api/v1/replies?campaign_id={uuid.uuid4()}", headers=headers).json()
        assert other["items"] == []

    def test_bad_intent_is_422_and_anonymous_401(
        self, client: TestClient, session: Session
    ) -> None:
        s = _setup(session)
        headers = auth(session, make_user(session, s["org"], role="viewer"))
        bad = client.get("/api/v1/replies?intent=maybe", headers=headers)
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "intent"
        assert client.get("/api/v1/replies").status_code == 401


class TestGetReply:
    def test_detail_has_stripped_text_and_thread(
        self, client: TestClient, session: Session
    ) -> None:
        s = _setup(session)
        w = s["world"]
        raw = reply_message(
            sender=w.leads[0][1],
            body="Sounds good, send me the deck.\n\nOn Mon, 12 Jan 2026, Ann wrote:\n> Hi there\n",
            in_reply_to=w.message_ids[0],
        )
        row = store.receive(session, raw, source="smtp", rcpt_to=[f"replies@{BOUNCE_DOMAIN}"])
        store.process(session, row.id)
        headers = auth(session, make_user(session, s["org"], role="viewer"))
        response = client.get(f"/api/v1/replies/{row.id}", headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert "Hi there" not in body["body"] and "deck" in body["body"]
        directions = [(t["direction"], t["message_id"]) for t in body["thread"]]
        assert directions[0] == ("sent", w.message_ids[0])
        assert [d for d, _ in directions].count("received") == 2  # both replies of this lead

    def test_another_tenants_reply_is_404(self, client: TestClient, session: Session) -> None:
        s = _setup(session)
        stranger = make_user(session, make_organization(session), role="owner")
        headers = auth(session, stranger)
        reply_id = s["ids"][0]
        assert client.get(f"/api/v1/replies/{reply_id}", headers=headers).status_code == 404
        patched = client.patch(
            f"/api/v1/replies/{reply_id}", json={"handled": True}, headers=headers
        )
        assert patched.status_code == 404
        assert client.get("/api/v1/replies", headers=headers).json()["items"] == []


class TestUpdateReply:
    def test_correcting_the_intent_reapplies_effects_once(
        self, client: TestClient, session: Session
    ) -> None:
        s = _setup(session)
        w, reply_id = s["world"], s["ids"][0]
        headers = auth(session, make_user(session, s["org"], role="operator"))
        for _ in range(2):  # the second identical correction changes nothing more
            response = client.patch(
                f"/api/v1/replies/{reply_id}", json={"intent": "unsubscribe"}, headers=headers
            )
            assert response.status_code == 200, response.text
        body = response.json()
        assert body["intent"] == "unsubscribe" and body["intent_source"] == "operator"
        lead_id, address = w.leads[0]
        reasons = session.execute(
            text("SELECT reason FROM suppressions WHERE value = :v"), {"v": address}
        ).scalars()
        assert list(reasons) == ["unsubscribe"]
        lead = session.execute(
            text("SELECT intent, status FROM leads WHERE id = :l"), {"l": lead_id}
        ).one()
        assert (lead.intent, lead.status) == ("unsubscribe", "completed")
        history = session.execute(
            text("SELECT count(*) FROM lead_status_history WHERE lead_id = :l"), {"l": lead_id}
        ).scalar()
        assert history == 1
        events = session.execute(
            text("SELECT count(*) FROM email_events WHERE email_id = :e AND kind = 'reply'"),
            {"e": w.emails[0]},
        ).scalar()
        assert events == 1

    def test_mark_handled_and_filter(self, client: TestClient, session: Session) -> None:
        s = _setup(session)
        user = make_user(session, s["org"], role="operator")
        headers = auth(session, user)
        reply_id = s["ids"][1]
        done = client.patch(f"/api/v1/replies/{reply_id}", json={"handled": True}, headers=headers)
        assert done.status_code == 200 and done.json()["handled"] is True
        handled = client.get("/api/v1/replies?handled=true", headers=headers).json()["items"]
        assert [r["id"] for r in handled] == [str(reply_id)]
        open_ = client.get("/api/v1/replies?handled=false", headers=headers).json()["items"]
        assert str(reply_id) not in {r["id"] for r in open_} and len(open_) == 2

    def test_viewers_cannot_handle_and_bad_input_is_422(
        self, client: TestClient, session: Session
    ) -> None:
        s = _setup(session)
        reply_id = s["ids"][0]
        viewer = auth(session, make_user(session, s["org"], role="viewer"))
        denied = client.patch(f"/api/v1/replies/{reply_id}", json={"handled": True}, headers=viewer)
        assert denied.status_code == 403
        operator = auth(session, make_user(session, s["org"], role="operator"))
        bad = client.patch(
            f"/api/v1/replies/{reply_id}", json={"intent": "excited"}, headers=operator
        )
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "intent"
