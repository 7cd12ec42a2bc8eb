"""Replies inbox page: list with filters and keyset pages, quick actions, roles, tenants."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from tests.factories import make_campaign, make_organization
from tests.mail.inbound_db.support import BOUNCE_DOMAIN, World, make_world, reply_message
from tests.web.pages.support import assert_login_redirect, sign_in
from vectra.accounts.models import Organization
from vectra.campaigns.models import Campaign
from vectra.leads.models import Lead
from vectra.leads.tables import Suppression
from vectra.mail.inbound import store
from vectra.mail.inbound.models import InboundMessage
from vectra.mail.models import Email
from vectra.web.pages import replies as reply_pages

BODIES = (
    "Quick question: do you integrate with Salesforce?",
    "Not interested, thanks.",
    "How much does it cost for a team of ten?",
)


@dataclass
class Inbox:
    world: World
    organization: Organization
    ids: list[uuid.UUID]


def receive(session: Session, w: World, i: int, body: str) -> uuid.UUID:
    raw = reply_message(sender=w.leads[i][1], body=body, in_reply_to=w.message_ids[i])
    row = store.receive(session, raw, source="smtp", rcpt_to=[f"replies@{BOUNCE_DOMAIN}"])
    store.process(session, row.id)
    return row.id


@pytest.fixture
def inbox(session: Session) -> Inbox:
    w = make_world(session, leads=3)
    ids = [receive(session, w, i, body) for i, body in enumerate(BODIES)]
    organization = session.scalar(select(Organization).where(Organization.id == w.org_id))
    assert organization is not None
    return Inbox(w, organization, ids)


def cards(html: str) -> list[str]:
    return re.findall(r'<article class="reply" id="reply-([0-9a-f-]+)"', html)


def row_of(session: Session, reply_id: uuid.UUID) -> InboundMessage:
    session.expire_all()
    row = session.scalar(select(InboundMessage).where(InboundMessage.id == reply_id))
    assert row is not None
    return row


def test_anonymous_is_sent_to_login(client: TestClient) -> None:
    assert_login_redirect(client, "/replies")


def test_empty_inbox_tells_a_new_user_what_to_do(session: Session, client: TestClient) -> None:
    sign_in(session, client)
    page = client.get("/replies")
    assert page.status_code == 200
    assert "No replies yet" in page.text and 'href="/mailboxes"' in page.text
    assert 'href="/replies"' in page.text  # back in the navigation


def test_list_shows_intent_lead_campaign_snippet_time(
    session: Session, client: TestClient, inbox: Inbox
) -> None:
    sign_in(session, client, role="viewer", organization=inbox.organization)
    page = client.get("/replies")
    assert page.status_code == 200
    assert set(cards(page.text)) == {str(i) for i in inbox.ids}
    campaign = session.scalar(select(Campaign.name).where(Campaign.id == inbox.world.campaign_id))
    for lead_id, address in inbox.world.leads:
        assert f'href="/leads/{lead_id}"' in page.text and address in page.text
    assert f"· {campaign}" in page.text
    assert "Not interested, thanks." in page.text  # the snippet
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT', page.text)
    intents = re.findall(r'data-intent="([a-z_]+)"', page.text)
    assert sorted(intents) == sorted(row_of(session, i).intent or "" for i in inbox.ids)
    assert "not_interested" in intents


def test_filters_by_intent_and_campaign(session: Session, client: TestClient, inbox: Inbox) -> None:
    sign_in(session, client, role="viewer", organization=inbox.organization)
    intent = row_of(session, inbox.ids[1]).intent
    assert intent == "not_interested"
    only = client.get("/replies?intent=not_interested&show=all")
    assert cards(only.text) == [str(inbox.ids[1])]
    assert '<option value="not_interested" selected>' in only.text
    mine = client.get(f"/replies?campaign_id={inbox.world.campaign_id}&intent=")
    assert len(cards(mine.text)) == 3
    other = make_campaign(session, inbox.organization, name="Quiet campaign")
    none = client.get(f"/replies?campaign_id={other.id}")
    assert cards(none.text) == [] and "No reply matches these filters" in none.text
    assert "Quiet campaign" in none.text  # offered in the campaign filter
    assert client.get("/replies?intent=maybe").status_code == 422
    assert client.get("/replies?campaign_id=nope").status_code == 422
    assert client.get("/replies?show=everything").status_code == 422


def test_keyset_pages(
    session: Session, client: TestClient, inbox: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reply_pages, "PAGE_SIZE", 2)
    sign_in(session, client, role="viewer", organization=inbox.organization)
    first = client.get("/replies?intent=&show=all")
    found = re.search(r'<a href="([^"]+)" rel="next">', first.text)
    assert len(cards(first.text)) == 2 and found
    rest = client.get(found.group(1).replace("&amp;", "&"))
    assert len(cards(rest.text)) == 1 and 'rel="next"' not in rest.text
    assert set(cards(first.text) + cards(rest.text)) == {str(i) for i in inbox.ids}


def test_viewer_reads_but_cannot_act(session: Session, client: TestClient, inbox: Inbox) -> None:
    me = sign_in(session, client, role="viewer", organization=inbox.organization)
    page = client.get("/replies")
    assert 'action="/replies/' not in page.text and "Mark handled" not in page.text
    detail = client.get(f"/replies/{inbox.ids[0]}")
    assert detail.status_code == 200 and 'action="/replies/' not in detail.text
    reply_id = inbox.ids[0]
    for path, data in (
        ("handled", {"handled": "true"}),
        ("intent", {"intent": "unsubscribe"}),
        ("unsubscribe", {}),
        ("propose-meeting", {}),
    ):
        response = client.post(f"/replies/{reply_id}/{path}", data={"csrf_token": me.csrf, **data})
        assert response.status_code == 403, path
    row = row_of(session, reply_id)
    assert row.handled_at is None and row.intent_source != "operator"
    assert session.scalar(select(Suppression.id)) is None


def test_mark_handled_and_reopen(session: Session, client: TestClient, inbox: Inbox) -> None:
    me = sign_in(session, client, role="operator", organization=inbox.organization)
    reply_id = inbox.ids[0]
    form = {"csrf_token": me.csrf, "handled": "true", "back": "/replies?show=open"}
    assert (
        client.post(f"/replies/{reply_id}/handled", data=form | {"csrf_token": "x"}).status_code
        == 403
    )
    assert row_of(session, reply_id).handled_at is None
    done = client.post(f"/replies/{reply_id}/handled", data=form, follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"].startswith("/replies?show=open&notice=Marked+handled")
    row = row_of(session, reply_id)
    assert row.handled_at is not None and row.handled_by == me.user.id
    assert str(reply_id) not in cards(client.get("/replies").text)  # open ones by default
    assert cards(client.get("/replies?show=handled").text) == [str(reply_id)]
    # htmx: the card comes back in place, with the outcome and the opposite button.
    partial = client.post(
        f"/replies/{reply_id}/handled",
        data=form | {"handled": "false"},
        headers={"HX-Request": "true"},
    )
    assert partial.status_code == 200 and "<html" not in partial.text
    assert cards(partial.text) == [str(reply_id)]
    assert "Reopened." in partial.text and "Mark handled" in partial.text
    assert row_of(session, reply_id).handled_at is None
    evil = client.post(
        f"/replies/{reply_id}/handled", data=form | {"back": "//evil.example/"},
        follow_redirects=False,
    )  # fmt: skip
    assert evil.headers["location"].startswith("/replies?notice=")


def test_correct_the_intent(session: Session, client: TestClient, inbox: Inbox) -> None:
    me = sign_in(session, client, role="operator", organization=inbox.organization)
    reply_id = inbox.ids[0]
    form = {"csrf_token": me.csrf, "intent": "not_interested", "back": "/replies?show=all"}
    page = client.post(f"/replies/{reply_id}/intent", data=form)
    assert page.status_code == 200 and "Labelled not interested." in page.text
    row = row_of(session, reply_id)
    assert row.intent == "not_interested" and row.intent_source == "operator"
    lead = session.scalar(select(Lead).where(Lead.id == row.lead_id))
    assert lead is not None and lead.intent == "not_interested" and lead.status == "completed"
    bad = client.post(
        f"/replies/{reply_id}/intent",
        data=form | {"intent": "maybe"},
        headers={"HX-Request": "true"},
    )
    assert bad.status_code == 200 and 'role="alert"' in bad.text and "Unknown intent" in bad.text
    assert row_of(session, reply_id).intent == "not_interested"


def test_unsubscribe_the_lead(session: Session, client: TestClient, inbox: Inbox) -> None:
    me = sign_in(session, client, role="operator", organization=inbox.organization)
    reply_id, (lead_id, address) = inbox.ids[2], inbox.world.leads[2]
    label = row_of(session, reply_id).intent
    response = client.post(
        f"/replies/{reply_id}/unsubscribe",
        data={"csrf_token": me.csrf},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200 and "the address is suppressed" in response.text
    assert (
        session.scalar(
            select(Suppression.value).where(Suppression.organization_id == inbox.organization.id)
        )
        == address
    )
    queued = text("SELECT send_state FROM emails WHERE id = :e")
    assert session.scalar(queued, {"e": inbox.world.queued[2]}) == "stopped"
    row = row_of(session, reply_id)
    assert row.intent == label  # the label keeps describing the message
    lead = session.scalar(select(Lead).where(Lead.id == lead_id))
    assert lead is not None and lead.status == "completed"


def test_propose_a_meeting_for_an_interested_reply(
    session: Session, client: TestClient, inbox: Inbox
) -> None:
    me = sign_in(session, client, role="operator", organization=inbox.organization)
    reply_id, (lead_id, _) = inbox.ids[0], inbox.world.leads[0]
    page = client.get(f"/replies/{reply_id}")
    assert f'action="/replies/{reply_id}/propose-meeting"' not in page.text  # a question
    client.post(f"/replies/{reply_id}/intent", data={"csrf_token": me.csrf, "intent": "interested"})
    page = client.get(f"/replies/{reply_id}")
    assert f'action="/replies/{reply_id}/propose-meeting"' in page.text
    proposed = client.post(
        f"/replies/{reply_id}/propose-meeting",
        data={"csrf_token": me.csrf, "back": f"/replies/{reply_id}"},
        headers={"HX-Request": "true"},
    )
    assert proposed.status_code == 200 and "proposing three times" in proposed.text
    assert "<pre" in proposed.text  # the detail card stays a detail card
    drafts = session.scalars(
        select(Email).where(Email.lead_id == lead_id, Email.subject == "Finding a time to talk")
    ).all()
    assert len(drafts) == 1 and drafts[0].status == "pending" and "/book/" in drafts[0].body
    # Again: the scheduler's run is found, nothing is drafted twice.
    client.post(f"/replies/{reply_id}/propose-meeting", data={"csrf_token": me.csrf})
    assert (
        len(
            session.scalars(select(Email.id).where(Email.subject == "Finding a time to talk")).all()
        )
        == 1
    )


def test_detail_shows_the_conversation(session: Session, client: TestClient, inbox: Inbox) -> None:
    sign_in(session, client, role="viewer", organization=inbox.organization)
    page = client.get(f"/replies/{inbox.ids[1]}")
    assert page.status_code == 200
    assert "We wrote" in page.text and "They wrote" in page.text
    assert "Not interested, thanks." in page.text
    assert client.get(f"/replies/{uuid.uuid4()}").status_code == 404


def test_another_tenants_reply_is_404(session: Session, client: TestClient, inbox: Inbox) -> None:
    me = sign_in(session, client, role="owner", organization=make_organization(session))
    reply_id = inbox.ids[0]
    assert client.get(f"/replies/{reply_id}").status_code == 404
    for path, data in (
        ("handled", {"handled": "true"}),
        ("intent", {"intent": "unsubscribe"}),
        ("unsubscribe", {}),
        ("propose-meeting", {}),
    ):
        response = client.post(f"/replies/{reply_id}/{path}", data={"csrf_token": me.csrf, **data})
        assert response.status_code == 404, path
    assert cards(client.get("/replies?show=all").text) == []
    row = row_of(session, reply_id)
    assert row.handled_at is None and row.intent_source != "operator"
    assert session.scalar(select(Suppression.id)) is None
