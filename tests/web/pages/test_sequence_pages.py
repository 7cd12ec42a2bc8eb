"""Sequence editor: save through the campaigns service, errors by field, preview on a real lead."""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.factories import make_campaign, make_lead, make_organization
from tests.web.pages.support import assert_login_redirect, sign_in
from vectra.accounts.models import Organization
from vectra.campaigns.models import Campaign
from vectra.db.base import utcnow
from vectra.mail.models import Email

ADDRESS = {"street": "12 Rue de la Paix", "postal_code": "75002", "city": "Paris", "country": "FR"}
SEQUENCE = {
    "steps": [
        {"delay_days": 0, "subject": "Hi {{ lead.first_name }}",
         "body": "Hello {{ lead.company_name }}"},
        {"delay_days": 3, "subject": "Following up", "body": "Any thoughts?",
         "variants": [{"name": "A", "weight": 1}, {"name": "B", "body": "Short one", "weight": 3}]},
    ]
}  # fmt: skip


def with_address(organization: Organization) -> None:
    organization.settings = {**(organization.settings or {}), "postal_address": ADDRESS}


def form_of(campaign: Campaign, csrf: str, **overrides: str) -> dict[str, str]:
    data = {
        "csrf_token": csrf,
        "review_mode": "every_message",
        "link_domains": "",
        "steps.0.delay_days": "0",
        "steps.0.subject": "Hello {{ lead.first_name }}",
        "steps.0.body": "We help {{ lead.company_name }} hire faster.",
        "steps.1.delay_days": "4",
        "steps.1.subject": "Re: hiring",
        "steps.1.body": "Worth a chat?",
        "steps.1.variants.0.name": "A",
        "steps.1.variants.0.weight": "1",
        "steps.1.variants.0.subject": "",
        "steps.1.variants.0.body": "",
        "steps.1.variants.1.name": "B",
        "steps.1.variants.1.weight": "2",
        "steps.1.variants.1.subject": "Quick one, {{ lead.first_name }}",
        "steps.1.variants.1.body": "",
    }
    data.update(overrides)
    return data


def text_of(page: str) -> str:
    """The page's text, tags dropped and runs of spaces collapsed."""
    return re.sub(r"[ \t]+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def test_anonymous_is_sent_to_login(session: Session, client: TestClient) -> None:
    campaign = make_campaign(session, make_organization(session))
    assert_login_redirect(client, f"/campaigns/{campaign.id}/sequence")


def test_editor_renders_the_stored_sequence(session: Session, client: TestClient) -> None:
    me = sign_in(session, client, role="manager")
    campaign = make_campaign(session, me.organization, email_template=SEQUENCE)
    detail = client.get(f"/campaigns/{campaign.id}")
    assert f'href="/campaigns/{campaign.id}/sequence"' in detail.text
    page = client.get(f"/campaigns/{campaign.id}/sequence")
    assert page.status_code == 200
    assert 'name="steps.0.subject" value="Hi {{ lead.first_name }}"' in page.text
    assert (
        'name="steps.1.variants.1.weight" type="number" min="0" step="any" value="3"' in page.text
    )
    assert 'for="steps.1.variants.0.name"' in page.text  # every input labelled
    assert "<script>" not in page.text and 'src="/static/sequence.js"' in page.text
    assert "import leads" in page.text  # no lead to preview on yet


def test_save_goes_through_the_campaigns_service(session: Session, client: TestClient) -> None:
    me = sign_in(session, client, role="manager")
    campaign = make_campaign(session, me.organization)
    saved = client.post(
        f"/campaigns/{campaign.id}/sequence",
        data=form_of(campaign, me.csrf, op="save", link_domains="Acme.com, www.docs.io"),
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    session.refresh(campaign)
    stored = campaign.email_template
    assert stored is not None
    assert stored["link_domains"] == ["acme.com", "docs.io"]  # normalised by the mail schema
    assert [s["delay_days"] for s in stored["steps"]] == [0, 4]
    variants = stored["steps"][1]["variants"]
    assert [(v["name"], v["weight"], v["subject"], v["body"]) for v in variants] == [
        ("A", 1, None, None),
        ("B", 2, "Quick one, {{ lead.first_name }}", None),
    ]
    assert "Sequence saved." in client.get(saved.headers["location"]).text


def test_errors_are_shown_next_to_the_field_they_name(session: Session, client: TestClient) -> None:
    me = sign_in(session, client, role="manager")
    campaign = make_campaign(session, me.organization, email_template=SEQUENCE)
    broken = client.post(
        f"/campaigns/{campaign.id}/sequence",
        data=form_of(campaign, me.csrf, op="save", **{"steps.1.variants.1.subject": "{{ oops"}),
    )
    assert broken.status_code == 422
    assert re.search(
        r'id="steps\.1\.variants\.1\.subject"[^>]*aria-invalid="true"[^>]*'
        r'aria-describedby="error-steps\.1\.variants\.1\.subject"',
        broken.text,
    )
    assert re.search(r'<small class="error" id="error-steps\.1\.variants\.1\.subject">[^<]*syntax',
                     broken.text)  # fmt: skip
    assert 'value="{{ oops"' in broken.text  # the form keeps what was typed
    blank = client.post(
        f"/campaigns/{campaign.id}/sequence",
        data=form_of(campaign, me.csrf, op="save", **{"steps.0.delay_days": "soon"}),
    )
    assert blank.status_code == 422
    assert 'id="error-steps.0.delay_days"' in blank.text
    dupes = client.post(
        f"/campaigns/{campaign.id}/sequence",
        data=form_of(campaign, me.csrf, op="save", **{"steps.1.variants.1.name": "A"}),
    )
    assert dupes.status_code == 422 and 'id="error-steps.1"' in dupes.text
    assert "unique" in dupes.text
    session.refresh(campaign)
    assert campaign.email_template == SEQUENCE  # nothing half-written


def test_add_and_remove_steps_and_variants_save_nothing(
    session: Session, client: TestClient
) -> None:
    me = sign_in(session, client, role="manager")
    campaign = make_campaign(session, me.organization, email_template=SEQUENCE)
    url = f"/campaigns/{campaign.id}/sequence"
    added = client.post(url, data=form_of(campaign, me.csrf, op="add_step"))
    assert added.status_code == 200 and 'name="steps.2.subject"' in added.text
    assert "Not saved yet." in added.text
    variant = client.post(url, data=form_of(campaign, me.csrf, op="add_variant:0"))
    assert 'name="steps.0.variants.0.name" value="A"' in variant.text
    removed = client.post(url, data=form_of(campaign, me.csrf, op="remove_variant:1:0"))
    assert 'name="steps.1.variants.0.name" value="B"' in removed.text
    assert 'name="steps.1.variants.1.name"' not in removed.text
    gone = client.post(url, data=form_of(campaign, me.csrf, op="remove_step:0"))
    assert 'value="Re: hiring"' in gone.text and 'name="steps.1.subject"' not in gone.text
    for stray in ("remove_step:9", "remove_variant:0:3", "explode"):
        kept = client.post(url, data=form_of(campaign, me.csrf, op=stray))
        assert kept.status_code == 200 and "Sequence saved" not in kept.text, stray
    session.refresh(campaign)
    assert campaign.email_template == SEQUENCE


def test_preview_renders_the_unsaved_form_on_the_chosen_lead(
    session: Session, client: TestClient
) -> None:
    me = sign_in(session, client, role="manager")
    with_address(me.organization)
    campaign = make_campaign(session, me.organization, email_template=SEQUENCE)
    make_lead(session, campaign, first_name="Other", company_name="Elsewhere")
    maya = make_lead(
        session, campaign, first_name="Maya", company_name="Globex", status="qualified"
    )
    response = client.post(
        f"/campaigns/{campaign.id}/sequence/preview",
        data=form_of(campaign, me.csrf, lead_id=str(maya.id)),
    )
    assert response.status_code == 200, response.text
    text = text_of(response.text)
    assert "Subject: Hello Maya" in text  # the unsaved subject, with the lead's own data
    assert "We help Globex hire faster." in text
    assert "Other" not in text and "Elsewhere" not in text
    assert "12 Rue de la Paix" in text and "75002 Paris" in text  # footer as sent
    assert re.search(r"Unsubscribe: http\S+/u/\w+", text)
    # Step 2 shows both variants and marks the one this lead is assigned.
    step = response.text.split('id="preview-step-1"')[1]
    assert 'data-variant="A"' in step and 'data-variant="B"' in step
    assert step.count("this lead gets this one") == 1
    assert "Subject: Quick one, Maya" in text_of(step)
    # Nothing was stored by previewing.
    assert session.query(Email).filter(Email.campaign_id == campaign.id).count() == 0
    session.refresh(campaign)
    assert campaign.email_template == SEQUENCE


def test_preview_error_names_the_field_and_missing_variables_block(
    session: Session, client: TestClient
) -> None:
    me = sign_in(session, client, role="manager")
    campaign = make_campaign(session, me.organization, email_template=SEQUENCE)
    lead = make_lead(session, campaign, first_name="Maya")
    url = f"/campaigns/{campaign.id}/sequence/preview"

    def body(source: str) -> dict[str, str]:
        return form_of(campaign, me.csrf, lead_id=str(lead.id), **{"steps.0.body": source})

    bad = client.post(url, data=body("{% if %}"))
    assert bad.status_code == 422
    assert 'href="#steps.0.body"' in bad.text
    failing = client.post(url, data=body("{{ 1 / 0 }}"))
    assert failing.status_code == 422 and 'href="#steps.0"' in failing.text
    hole = client.post(url, data=body("At {{ lead.company_name }}"))
    assert hole.status_code == 200
    assert "Blocking:" in hole.text and "lead.company_name" in hole.text
    # The full page offers the same preview without script (the Preview button).
    full = form_of(campaign, me.csrf, op="preview", lead_id=str(lead.id))
    page = client.post(f"/campaigns/{campaign.id}/sequence", data=full)
    assert page.status_code == 200 and "Subject: Hello Maya" in text_of(page.text)


def test_viewer_sees_no_editor_and_is_refused(session: Session, client: TestClient) -> None:
    me = sign_in(session, client, role="viewer")
    campaign = make_campaign(session, me.organization, email_template=SEQUENCE)
    lead = make_lead(session, campaign)
    detail = client.get(f"/campaigns/{campaign.id}")
    assert detail.status_code == 200 and "/sequence" not in detail.text
    assert client.get(f"/campaigns/{campaign.id}/sequence").status_code == 403
    form = form_of(campaign, me.csrf, op="save", lead_id=str(lead.id))
    assert client.post(f"/campaigns/{campaign.id}/sequence", data=form).status_code == 403
    preview = client.post(f"/campaigns/{campaign.id}/sequence/preview", data=form)
    assert preview.status_code == 403
    session.refresh(campaign)
    assert campaign.email_template == SEQUENCE


def test_csrf_and_tenants(session: Session, client: TestClient) -> None:
    me = sign_in(session, client, role="owner")
    mine = make_campaign(session, me.organization, email_template=SEQUENCE)
    other_org = make_organization(session)
    theirs = make_campaign(session, other_org, email_template=SEQUENCE)
    their_lead = make_lead(session, theirs, first_name="Secret")
    forged = client.post(f"/campaigns/{mine.id}/sequence", data=form_of(mine, "nope", op="save"))
    assert forged.status_code == 403
    assert client.get(f"/campaigns/{theirs.id}/sequence").status_code == 404
    foreign = client.post(f"/campaigns/{theirs.id}/sequence", data=form_of(theirs, me.csrf))
    assert foreign.status_code == 404
    their_preview = client.post(
        f"/campaigns/{mine.id}/sequence/preview",
        data=form_of(mine, me.csrf, lead_id=str(their_lead.id)),
    )
    assert their_preview.status_code == 404 and "Secret" not in their_preview.text
    session.refresh(theirs)
    session.refresh(mine)
    assert theirs.email_template == SEQUENCE and mine.email_template == SEQUENCE


def test_stats_per_step_and_variant_include_bounces(session: Session, client: TestClient) -> None:
    me = sign_in(session, client, role="viewer")
    campaign = make_campaign(session, me.organization, email_template=SEQUENCE)
    now = utcnow()
    for variant, bounced in (("A", True), ("A", False), ("B", False)):
        lead = make_lead(session, campaign)
        session.add(
            Email(organization_id=me.organization.id, lead_id=lead.id, campaign_id=campaign.id,
                  subject="s", body="b", sequence_step=1, variant=variant, status="sent",
                  sent_at=now, bounced_at=now if bounced else None, opened_at=None)
        )  # fmt: skip
    session.flush()
    page = client.get(f"/campaigns/{campaign.id}")
    assert '<th scope="col">Bounced</th>' in page.text
    rows = re.findall(r"<tr><td>(\d+)</td><td>(\w+)</td>((?:\s*<td>[^<]*</td>)+)", page.text)
    cells = {(step, variant): re.findall(r"<td>([^<]*)</td>", rest) for step, variant, rest in rows}
    assert cells[("2", "A")][-1] == "1 (50.0%)"
    assert cells[("2", "B")][-1] == "0 (0.0%)"
