"""The sequence editor's live preview, the meetings calendar and a domain's DNS page in a real
browser (Debian's Chromium via Playwright) against uvicorn: htmx under the strict CSP, with
any console error (a CSP violation included) failing the test."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from tests.factories import PASSWORD, make_campaign, make_lead, make_organization, make_user
from tests.web import test_e2e_browser as e2e
from vectra.accounts.actor import Actor
from vectra.accounts.roles import Role
from vectra.db.engine import Database
from vectra.mail import mailboxes
from vectra.mail.mailbox_schemas import MailboxCreate
from vectra.meetings.models import Meeting

server = e2e.server  # uvicorn on the committed database
SEQUENCE = {"steps": [{"delay_days": 0, "subject": "Hi {{ lead.first_name }}",
                       "body": "Hello {{ lead.company_name }}, worth a call?"}]}  # fmt: skip


@pytest.fixture
def browser_page(request: pytest.FixtureRequest) -> Iterator[tuple[Page, list[str]]]:
    """A tab that records console errors, page errors and unexpected HTTP errors."""
    assert shutil.which("chromium") or Path(e2e.CHROMIUM).exists(), "install Debian's chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=e2e.CHROMIUM, args=e2e.ARGS)
        context = browser.new_context()
        errors: list[str] = []
        tab = context.new_page()

        # The preview answers 422 for a template error on purpose (Chromium logs that as a
        # failed resource); any other HTTP error, console error or CSP violation fails.
        def preview_422(url: str, status: int | None = 422) -> bool:
            return status == 422 and url.endswith("/sequence/preview")

        # htmx logs a request the browser aborted by leaving the page (the preview that the
        # Subject field's `change` starts as "Save sequence" submits the form) as these two
        # console errors. Not a failure: a failed answer is caught below by its status, a
        # request that could not be sent logs `htmx:sendError`.
        left_page = {"htmx:sendAbort", "htmx:afterRequest"}

        tab.on(
            "console",
            lambda m: (
                errors.append(m.text)
                if m.type == "error"
                and not preview_422(m.location.get("url", ""))
                and m.text not in left_page
                else None
            ),
        )
        tab.on("pageerror", lambda e: errors.append(str(e)))
        tab.on(
            "response",
            lambda r: (
                errors.append(f"{r.status} {r.url}")
                if r.status >= 400 and not preview_422(r.url, r.status)
                else None
            ),
        )
        tab.set_default_timeout(15_000)
        failed_before = request.session.testsfailed
        try:
            yield tab, errors
            if request.session.testsfailed > failed_before or errors:
                e2e.ARTIFACTS.mkdir(parents=True, exist_ok=True)
                stem = e2e.ARTIFACTS / re.sub(r"\W+", "_", request.node.name)
                tab.screenshot(path=f"{stem}.png", full_page=True)
                Path(f"{stem}.html").write_text(tab.content())
        finally:
            context.close()
            browser.close()


def test_sequence_preview_calendar_and_dns_pages(
    server: str, browser_page: tuple[Page, list[str]], committed_database: Database
) -> None:
    page, errors = browser_page
    with committed_database.system_session() as s:
        address = {"street": "1 Main St", "city": "Lyon", "country": "FR"}
        org = make_organization(s, settings={"timezone": "Europe/Paris", "postal_address": address})
        user = make_user(s, org, role="owner", email_verified_at=dt.datetime(2026, 1, 1))
        campaign = make_campaign(s, org, name="Browser", email_template=SEQUENCE)
        leo = make_lead(s, campaign, first_name="Leo", company_name="Contoso")
        make_lead(s, campaign, first_name="Maya", company_name="Northwind")
        lead = make_lead(s, campaign, first_name="Zoe", company_name="Initech")
        s.add(Meeting(organization_id=org.id, lead_id=lead.id, campaign_id=campaign.id,
                      scheduled_at=dt.datetime(2026, 3, 10, 23, 30)))  # fmt: skip
        mailboxes.create_mailbox(
            s, Actor(organization_id=org.id, role=Role.OWNER),
            MailboxCreate(name="m", from_address="ann@browser-sender.com",
                          smtp_host="smtp.gmail.com"),
        )  # fmt: skip
        email, campaign_id, leo_id, zoe_id = user.email, campaign.id, str(leo.id), str(lead.id)

    page.goto(f"{server}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{server}/dashboard")

    page.goto(f"{server}/campaigns/{campaign_id}")
    page.get_by_role("button", name="Edit the sequence and preview it on a lead").click()
    preview = page.locator("#preview")
    expect(preview).to_contain_text("1 Main St")  # rendered on load, the footer as sent
    page.get_by_label("On the lead").select_option(value=zoe_id)
    expect(preview).to_contain_text("Subject: Hi Zoe")
    page.get_by_label("On the lead").select_option(value=leo_id)
    expect(preview).to_contain_text("Subject: Hi Leo")
    page.get_by_label("Subject").fill("Ideas for {{ lead.company_name }}")
    expect(preview).to_contain_text("Subject: Ideas for Contoso")  # live, unsaved
    page.get_by_label("Subject").fill("Ideas for {{ lead.company_name")
    expect(page.locator("#preview-error")).to_contain_text("steps.0.subject")
    page.get_by_label("Subject").fill("Ideas for {{ lead.company_name }}")
    page.get_by_role("button", name="Save sequence").first.click()
    expect(page.get_by_role("status")).to_contain_text("Sequence saved.")
    expect(page.get_by_label("Subject")).to_have_value("Ideas for {{ lead.company_name }}")

    page.goto(f"{server}/meetings")
    page.get_by_role("button", name="Calendar").click()
    expect(page).to_have_url(f"{server}/meetings/calendar")
    page.goto(f"{server}/meetings/calendar?view=week&date=2026-03-11")
    day = page.locator('td[data-date="2026-03-11"]')
    expect(day).to_contain_text("00:30")
    day.get_by_role("link").click()
    expect(page.get_by_role("heading", name=re.compile("Meeting with Zoe"))).to_be_visible()
    expect(page.get_by_label("Outcome")).to_be_visible()

    page.goto(f"{server}/mailboxes")
    expect(page.get_by_role("link", name="Check the DNS of browser-sender.com")).to_be_visible()
    assert not errors, f"browser errors: {errors}"
