"""Lead pages: table with filters, sort and keyset pages; one lead's BANT breakdown and history."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.factories import make_campaign, make_lead, make_organization
from tests.web.pages.support import assert_login_redirect, sign_in
from vectra.leads.tables import LeadStatusHistory

BREAKDOWN = {
    "budget": {
        "score": 20,
        "confidence": 0.8,
        "evidence": [
            {"source": "enrichment_data.funding.stage", "quote": "Raised a $12M Series A"}
        ],
    },
    "authority": {
        "score": 25,
        "confidence": 0.9,
        "evidence": [{"source": "job_title", "quote": "VP Sales"}],
    },
    "need": {"score": 15, "confidence": 0.5, "evidence": []},
    "timeline": {"score": 10, "confidence": 0.4, "evidence": "Hiring 3 SDRs"},
    "model": "rules-v1",
}


def emails_in(html: str) -> list[str]:
    return re.findall(r'<a href="/leads/[0-9a-f-]+">([^<]+)</a>', html)


def test_anonymous_is_sent_to_login(client: TestClient) -> None:
    for path in ("/leads", "/leads/import"):
        assert_login_redirect(client, path)


def test_empty_states(session: Session, client: TestClient) -> None:
    me = sign_in(session, client)
    assert "Create a campaign" in client.get("/leads").text
    campaign = make_campaign(session, me.organization)
    page = client.get("/leads", follow_redirects=True)
    assert f"/leads/import?campaign_id={campaign.id}" in page.text
    assert "no leads yet" in page.text


def test_table_filters_sorts_and_pages(session: Session, client: TestClient) -> None:
    me = sign_in(session, client, role="viewer")
    campaign = make_campaign(session, me.organization)
    for n in range(55):
        make_lead(session, campaign, email=f"p{n:02d}@acme{n}.example", company_name=f"Co{n}")
    make_lead(session, campaign, email="hot@big.example", bant_score=91, status="qualified",
              company_name="Bigcorp")  # fmt: skip
    first = client.get(f"/leads?campaign_id={campaign.id}&sort=email")
    assert first.status_code == 200
    listed = emails_in(first.text)
    assert len(listed) == 50 and listed == sorted(listed)
    assert "Import CSV" not in first.text  # a viewer cannot import
    next_link = re.search(r'href="(/leads\?[^"]+cursor=[^"]+)" rel="next"', first.text)
    assert next_link
    second = client.get(next_link.group(1).replace("&amp;", "&"))
    rest = emails_in(second.text)
    assert len(rest) == 6 and not set(rest) & set(listed)
    qualified = client.get(f"/leads?campaign_id={campaign.id}&status=qualified")
    assert emails_in(qualified.text) == ["hot@big.example"]
    scored = client.get(f"/leads?campaign_id={campaign.id}&min_score=90")
    assert emails_in(scored.text) == ["hot@big.example"]
    searched = client.get(f"/leads?campaign_id={campaign.id}&q=bigcorp")
    assert emails_in(searched.text) == ["hot@big.example"]
    none = client.get(f"/leads?campaign_id={campaign.id}&q=nobody-at-all")
    assert "Clear the filters" in none.text
    assert client.get(f"/leads?campaign_id={campaign.id}&min_score=500").status_code == 422
    assert client.get(f"/leads?campaign_id={campaign.id}&sort=drop").status_code == 422
    assert client.get(f"/leads?campaign_id={campaign.id}&status=bogus").status_code == 422
    assert client.get("/leads/import").status_code == 403


def test_lead_page_shows_breakdown_and_history(session: Session, client: TestClient) -> None:
    me = sign_in(session, client, role="operator")
    campaign = make_campaign(session, me.organization)
    lead = make_lead(session, campaign, bant_score=70, bant_breakdown=BREAKDOWN, status="enriched")
    session.add(
        LeadStatusHistory(
            organization_id=me.organization.id, lead_id=lead.id, from_status="new",
            to_status="enriched", actor_kind="agent", agent="enricher", reason="found the company",
        )
    )  # fmt: skip
    session.flush()
    page = client.get(f"/leads/{lead.id}")
    assert page.status_code == 200
    assert "70/100" in page.text
    assert "Raised a $12M Series A" in page.text and "0.8" in page.text
    assert "enrichment_data.funding.stage" in page.text and "Timeline" in page.text
    assert "Hiring 3 SDRs" in page.text and "No evidence found" in page.text
    assert "found the company" in page.text and "enricher" in page.text
    foreign = make_lead(session, make_campaign(session, make_organization(session)))
    assert client.get(f"/leads/{foreign.id}").status_code == 404
    other_campaign = foreign.campaign_id
    assert client.get(f"/leads?campaign_id={other_campaign}").status_code == 404


def test_unscored_lead_says_so(session: Session, client: TestClient) -> None:
    me = sign_in(session, client)
    lead = make_lead(session, make_campaign(session, me.organization))
    assert "Not scored yet" in client.get(f"/leads/{lead.id}").text
