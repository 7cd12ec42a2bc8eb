"""End to end in a real browser (Debian's Chromium driven by Playwright) against uvicorn.

sign up -> create a campaign -> import a CSV -> see the leads -> score them (the BANT
qualifier) and see the scores -> approve a draft with the keyboard -> start the campaign ->
the sender delivers it to a local SMTP sink -> the dashboard's funnel. No browser download:
`make setup` installs the `chromium` package; without it this test fails, loudly.
Screenshots and the page HTML of a failing step are kept in build/test-artifacts/playwright.
"""

from __future__ import annotations

import asyncio
import email as email_lib
import re
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from email import policy as email_policy
from email.utils import formatdate
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Page, expect, sync_playwright
from sqlalchemy import select

from vectra.accounts.actor import Actor
from vectra.accounts.models import Organization, User
from vectra.agents.runner import run_agent
from vectra.campaigns.models import Campaign
from vectra.db.engine import Database
from vectra.leads.models import Lead
from vectra.leads.status import LeadStatus, transition
from vectra.mail import delivery, mailboxes
from vectra.mail.drafts import draft_sequence_for_lead
from vectra.mail.inbound import store
from vectra.mail.mailbox_schemas import MailboxCreate
from vectra.mail.models import Email
from vectra.mail.sink import start_sink
from vectra.web.app import create_app

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
ARTIFACTS = Path(__file__).resolve().parents[2] / "build" / "test-artifacts" / "playwright"
CSV = (
    "email,first_name,last_name,company,title,industry,employees\n"
    "maya@northwind.example,Maya,Patel,Northwind,VP Sales,Software,250\n"
    "leo@contoso.example,Leo,Martin,Contoso,Head of Growth,Software,80\n"
    "broken-address,No,Email,Nowhere,Intern,Retail,3\n"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(committed_database: Database) -> Iterator[str]:
    port = _free_port()
    config = uvicorn.Config(
        create_app(committed_database), host="127.0.0.1", port=port, log_level="warning"
    )
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not instance.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    instance.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def page(request: pytest.FixtureRequest) -> Iterator[Page]:
    assert shutil.which("chromium") or Path(CHROMIUM).exists(), (
        "Debian's chromium is not installed: run `make setup` (as root it runs "
        "`apt-get install -y chromium`) or install it yourself; this test never downloads one."
    )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context()
        errors: list[str] = []
        tab = context.new_page()
        # A CSP violation or a script error is a failure, not noise.
        tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        tab.on(
            "response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None
        )
        tab.on("pageerror", lambda e: errors.append(str(e)))
        tab.set_default_timeout(15_000)
        failed_before = request.session.testsfailed
        try:
            yield tab
            # A failing test body does not raise here: pytest counts it before teardown.
            if request.session.testsfailed > failed_before or errors:
                ARTIFACTS.mkdir(parents=True, exist_ok=True)
                stem = ARTIFACTS / re.sub(r"\W+", "_", request.node.name)
                tab.screenshot(path=f"{stem}.png", full_page=True)
                Path(f"{stem}.html").write_text(tab.content())
            assert not errors, f"browser console errors: {errors}"
        finally:
            context.close()
            browser.close()


def _actor(db: Database, email: str) -> Actor:
    with db.system_session() as s:
        user = s.scalar(select(User).where(User.email == email))
        assert user is not None and user.organization_id is not None
        return Actor(organization_id=user.organization_id, role=user.role, user_id=user.id)


def test_signup_to_sent_email(
    server: str, page: Page, committed_database: Database, tmp_path: Path
) -> None:
    db = committed_database
    email = f"owner-{uuid.uuid4().hex[:8]}@e2e.example"
    page.goto(f"{server}/signup")
    page.get_by_label("Company").fill("E2E Outbound")
    page.get_by_label("First name").fill("Eve")
    page.get_by_label("Last name").fill("Owner")
    page.get_by_label("Work email").fill(email)
    page.get_by_label("Password").fill("correct horse battery staple")
    page.get_by_role("button", name="Create my account").click()
    expect(page).to_have_url(f"{server}/dashboard")
    expect(page.get_by_role("heading", name="Get started")).to_be_visible()
    # The verify banner's button answers in place (htmx); this server has no mail relay.
    page.get_by_role("button", name="Resend the link").click()
    expect(page.locator("#verify-banner")).to_contain_text("Outgoing mail is not configured")

    page.get_by_role("link", name="Campaigns").click()
    expect(page.get_by_text("No campaigns yet")).to_be_visible()
    page.get_by_role("button", name="Create your first campaign").click()
    page.get_by_label("Name").fill("Software VPs")
    page.get_by_label("Industries").fill("Software")
    page.get_by_label("Qualify at BANT score").fill("5")
    page.get_by_label("Subject").fill("Hi {{ lead.first_name }}")
    page.get_by_label("Body").fill(
        "Hello {{ lead.first_name }}, teams like {{ lead.company_name }} book more meetings "
        "with Vectra. Worth a short call next week?"
    )
    page.get_by_role("button", name="Create campaign").click()
    expect(page.get_by_role("heading", name="Software VPs")).to_be_visible()
    expect(page.locator("#campaign-status")).to_have_text("draft")

    page.get_by_role("button", name="Import a CSV of leads").click()
    page.get_by_label("CSV file").set_input_files(
        {"name": "leads.csv", "mimeType": "text/csv", "buffer": CSV.encode()}
    )
    page.get_by_role("button", name="Import", exact=True).click()
    progress = page.locator("#import-progress")
    expect(progress).to_have_attribute("data-status", "succeeded")
    expect(page.locator("#import-summary")).to_contain_text("2 imported")
    expect(page.locator("#import-errors")).to_contain_text("not a valid email")
    page.get_by_role("button", name="See the leads").click()
    table = page.locator("#leads")
    expect(table).to_contain_text("maya@northwind.example")
    expect(table).to_contain_text("leo@contoso.example")
    expect(table).not_to_contain_text("broken-address")

    # The pipeline's agents run in the worker; here they run in-process on the same database.
    actor = _actor(db, email)
    with db.tenant_session(actor.organization_id) as s:
        leads = list(s.scalars(select(Lead)))
        for lead in leads:
            transition(s, actor, lead, LeadStatus.ENRICHED, reason="e2e")
        organization = s.get(Organization, actor.organization_id)
        assert organization is not None
        organization.settings = {**(organization.settings or {}), "postal_address": "1 Main St"}
        campaign_id = leads[0].campaign_id
        run_agent(s, actor, "bant_qualifier", campaign_id)
    with db.tenant_session(actor.organization_id) as s:
        scored = {lead.email: lead for lead in s.scalars(select(Lead))}
        assert all(lead.bant_score is not None for lead in scored.values())
        maya = scored["maya@northwind.example"]
        assert maya.status == "qualified", maya.bant_breakdown
        draft_sequence_for_lead(s, actor, maya.id)

    page.reload()
    expect(table.locator("meter").first).to_be_visible()
    page.get_by_role("link", name="maya@northwind.example").click()
    expect(page.get_by_role("heading", name=re.compile(r"BANT score: \d+.100"))).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("Authority"))).to_contain_text("(job_title)")

    page.get_by_role("link", name="Approvals").click()
    draft = page.locator("article.draft").first
    expect(draft).to_contain_text("Hi Maya")
    expect(draft).to_have_class(re.compile("selected"))
    page.keyboard.press("a")  # the approve shortcut
    expect(page.locator("#notice")).to_have_text("Approved.")
    expect(page.get_by_text("Nothing to review")).to_be_visible()
    with db.tenant_session(actor.organization_id) as s:
        approved = s.scalars(select(Email)).all()
        assert [e.status for e in approved] == ["approved"]
        assert approved[0].approved_by == actor.user_id

    # Connect a mailbox on a local SMTP sink (the mailbox pages come later), start the
    # campaign from its page, run the sender once: the approved email lands in the sink.
    sink_port = _free_port()
    controller, _handler = start_sink(tmp_path, port=sink_port)
    try:
        with db.tenant_session(actor.organization_id) as s:
            box = mailboxes.create_mailbox(
                s, actor,
                MailboxCreate(name="sales", from_name="Eve Owner", from_address="eve@e2e.example",
                              smtp_host="127.0.0.1", smtp_port=sink_port, smtp_security="none",
                              min_interval_seconds=0, jitter_seconds=0),
            )  # fmt: skip
            mailboxes.set_campaign_mailboxes(s, actor, campaign_id, [box.id])
            campaign = s.get(Campaign, campaign_id)
            assert campaign is not None
            always = {"weekdays": list(range(7)), "start": "00:00", "end": "23:59:59"}
            campaign.target_criteria = {**campaign.target_criteria, "sending": {"window": always}}
        page.get_by_role("link", name="Campaigns", exact=True).click()
        page.get_by_role("link", name="Software VPs").click()
        page.get_by_role("button", name="Start").click()
        expect(page.locator("#campaign-status")).to_have_text("active")
        # Playwright's sync API owns this thread's event loop: the sender gets its own thread.
        with ThreadPoolExecutor(1) as pool:
            report = pool.submit(asyncio.run, delivery.run_sender(db, max_batches=5)).result()
        assert report.sent == 1, report.as_dict()
    finally:
        controller.stop()
    messages = [
        email_lib.message_from_bytes(p.read_bytes(), policy=email_policy.default)
        for p in tmp_path.glob("*.eml")
    ]
    assert [m["To"].addresses[0].addr_spec for m in messages] == ["maya@northwind.example"]
    assert messages[0]["Subject"] == "Hi Maya"

    page.get_by_role("link", name="Dashboard").click()
    totals = page.locator("#funnel-table tfoot td")
    expect(totals).to_have_text(["2", "2", "2", "1", "0", "0", "0"])
    expect(page.locator("#funnel-chart")).to_have_attribute("data-loaded", "true")

    # Maya writes back: the reply is in the inbox, labelled; "Mark handled" swaps its card (htmx).
    raw = (
        "From: Maya Patel <maya@northwind.example>\r\nTo: eve@e2e.example\r\n"
        f"Subject: Re: Hi Maya\r\nDate: {formatdate()}\r\n"
        f"Message-ID: <{uuid.uuid4().hex}@northwind.example>\r\n"
        f"In-Reply-To: {messages[0]['Message-ID']}\r\n\r\n"
        "How much does it cost for a team of ten?\r\n"
    ).encode()
    with db.system_session() as s:
        store.process(s, store.receive(s, raw, source="smtp", rcpt_to=["eve@e2e.example"]).id)
    page.get_by_role("link", name="Replies").click()
    card = page.locator("article.reply").first
    expect(card).to_contain_text("How much does it cost")
    expect(card).to_have_attribute("data-intent", "question")
    card.get_by_role("button", name="Mark handled").click()
    expect(page.locator("article.reply").first).to_contain_text("Marked handled.")
    expect(page.locator("article.reply").first.get_by_role("button", name="Reopen")).to_be_visible()
