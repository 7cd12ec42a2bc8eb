"""Load the demo organization and take it through every stage of the pipeline.

Stages, each in its own committed transaction and through the owning domain's service:
organization and owner (accounts) -> campaign with criteria and a 3-step sequence
(campaigns) -> mailbox on the local SMTP sink (mail) -> 500 prospects imported as a CSV
(leads) -> prospector and BANT qualifier runs (agents) -> drafts (composer) -> approvals
(approval service) -> sending through the real sender into the sink started in-process ->
bounces and replies fed to inbound processing -> a booked and a held meeting (meetings).

Idempotency: the demo organization is the one whose slug is `vectra-demo` and whose owner is
`demo@vectra-demo.example`. If it exists, `load_demo` refuses (DemoExists) unless
`reset=True`, which deletes it (and everything it owns) and loads it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import io
import logging
import secrets
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vectra.accounts import organization as organizations
from vectra.accounts import service as accounts
from vectra.accounts import users
from vectra.accounts.actor import Actor
from vectra.accounts.roles import Role
from vectra.agents import prospector, qualifier
from vectra.agents.email_check import DomainVerifier
from vectra.agents.runner import run_agent
from vectra.campaigns import reporting
from vectra.campaigns import service as campaigns
from vectra.campaigns.schemas import CampaignCreate, CampaignStatus, Exclusions, TargetCriteria
from vectra.db.engine import Database
from vectra.demo import messages, people
from vectra.demo.stages import Stages
from vectra.errors import Conflict, NotFound
from vectra.leads import importer
from vectra.leads import service as leads
from vectra.leads.jobs import record_import_job
from vectra.leads.status import LeadStatus
from vectra.mail import approval, delivery, drafts, mailboxes
from vectra.mail.inbound import store as inbound
from vectra.mail.mailbox_schemas import MailboxCreate
from vectra.mail.sink import Received, start_sink
from vectra.meetings import booking
from vectra.meetings import service as meetings

SLUG = "vectra-demo"
NAME = "Vectra Demo"
OWNER_EMAIL = "demo@vectra-demo.example"
SENDER = ("Sam", "Rivera", "sam@vectra-demo.example")
SINK_PORT = 2525
APPROVE = 100  # the best-scored first emails approved now; the rest wait in the review queue


class DemoExists(Conflict):
    """The demo organization is already loaded; pass reset to load it again."""

    code = "demo_exists"


@dataclass
class DemoReport:
    """What the demo created and what happened at each stage."""

    organization_id: uuid.UUID | None = None
    slug: str = SLUG
    owner_email: str = OWNER_EMAIL
    password: str = ""
    campaign_id: uuid.UUID | None = None
    mailbox_id: uuid.UUID | None = None
    reset: bool = False
    sink_host: str = "127.0.0.1"
    sink_port: int = SINK_PORT
    sink_folder: str = ""
    imported: dict[str, Any] = field(default_factory=dict)
    prospector: dict[str, Any] = field(default_factory=dict)
    qualifier: dict[str, Any] = field(default_factory=dict)
    drafted: int = 0
    approved: int = 0
    pending_review: int = 0
    sending: dict[str, Any] = field(default_factory=dict)
    sink_received: int = 0
    bounces: list[dict[str, str]] = field(default_factory=list)
    replies: list[dict[str, str | None]] = field(default_factory=list)
    meetings: list[dict[str, str | None]] = field(default_factory=list)
    funnel: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    cpu_seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        for key in ("organization_id", "campaign_id", "mailbox_id"):
            out[key] = str(out[key]) if out[key] else None
        return out


class DemoDomains(DomainVerifier):
    """DNS for the demo's fictional `.example` companies: every one receives mail except the
    company that went under (the internet would answer NXDOMAIN for all of them)."""

    def check(self, domain: str) -> tuple[str, str, list[str] | None]:
        self.lookups += 1
        domain = domain.lower().rstrip(".")
        if domain == people.DEAD_DOMAIN:
            return "invalid", "the domain does not exist", None
        return "valid", "MX found", [f"mx1.{domain}"]


SEQUENCE: dict[str, Any] = {
    # Every draft waits for a person; the demo approves only first emails (see _approve).
    "review_mode": "every_message",
    "steps": [
        {
            "delay_days": 0,
            "subject": "{{ company.name }}'s outbound pipeline",
            "body": (
                "Hi {{ lead.first_name }},\n\n"
                "{{ opening_line | default('I came across ' ~ company.name ~ ' recently.') }}\n\n"
                "Teams like yours use Vectra to find the accounts that fit, qualify them and "
                "write the first email, so reps spend their time on conversations instead of "
                "lists. Would a 20-minute walkthrough next week be useful?\n\n"
                "Best,\n{{ sender.first_name }}"
            ),
            "variants": [
                {
                    "name": "question",
                    "weight": 1,
                    "subject": "Question about {{ company.name }}'s pipeline",
                    "body": (
                        "Hi {{ lead.first_name }},\n\n"
                        "How does {{ company.name }} decide which accounts your team writes to "
                        "first? Vectra ranks them by fit and drafts the first email for a "
                        "person to approve. Worth a quick look?\n\n{{ sender.first_name }}"
                    ),
                }
            ],
        },
        {
            "delay_days": 3,
            "subject": "Re: {{ company.name }}'s outbound pipeline",
            "body": (
                "Hi {{ lead.first_name }},\n\nFollowing up on my note: one customer of a size "
                "similar to {{ company.name }} doubled its reply rate in a quarter by writing "
                "only to accounts that fit. Happy to show you how in 20 minutes.\n\n"
                "{{ sender.first_name }}"
            ),
        },
        {
            "delay_days": 5,
            "subject": "Should I close the loop, {{ lead.first_name }}?",
            "body": (
                "Hi {{ lead.first_name }},\n\nI will not keep writing: if outbound is not a "
                "priority at {{ company.name }} right now, no problem at all. If it is, reply "
                "with a good time and I will send an invite.\n\n{{ sender.first_name }}"
            ),
        },
    ],
}

TARGET_TITLES = ["VP Sales", "Head of Sales", "Chief Revenue Officer", "Director of Sales",
                 "Head of Revenue Operations"]  # fmt: skip
CRITERIA = TargetCriteria(
    description=(
        "Revenue leaders (sales, revenue operations) at B2B software and fintech companies "
        "of 51 to 1,000 people whose teams run outbound prospecting."
    ),
    industries=["software", "fintech"],
    job_titles=TARGET_TITLES,
    seniorities=["c_level", "vp", "director", "manager"],
    company_sizes=["51-200", "201-500", "501-1000"],
    countries=people.TARGET_COUNTRIES,
    keywords=people.DEMO_KEYWORDS,
    exclude=Exclusions(
        domains=[people.COMPETITOR_DOMAIN], industries=["education"], job_titles=["intern"]
    ),
)

ORGANIZATION_SETTINGS: dict[str, Any] = {
    "timezone": "Europe/Amsterdam",
    "postal_address": {
        "street": "Keizersgracht 123",
        "city": "Amsterdam",
        "postal_code": "1015 CJ",
        "country": "NL",
    },
    "sending_defaults": {"from_name": "Sam Rivera", "reply_to": SENDER[2]},
    # The demo sends around the clock, so it never waits for office hours (holidays still
    # hold a recipient's mail, as they would for a real campaign).
    "sending_window": {"weekdays": list(range(7)), "start": "00:00", "end": "23:59:59"},
    "privacy_notice": {"contact_email": "privacy@vectra-demo.example"},
}


def free_port(preferred: int) -> int:
    """`preferred` when nothing listens there, else any free port."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", preferred))
            return preferred
        except OSError:
            probe.bind(("127.0.0.1", 0))
            return int(probe.getsockname()[1])


def _owner_actor(organization_id: uuid.UUID, user_id: uuid.UUID) -> Actor:
    return Actor(organization_id=organization_id, role=Role.OWNER, user_id=user_id)


def find_demo(database: Database) -> tuple[uuid.UUID, Actor] | None:
    """The demo organization and its owner, or None; an unrelated org on the slug is refused."""
    with database.system_session() as session:
        try:
            org = campaigns.organization_by_slug(session, SLUG)
        except NotFound:
            return None
        org_id = org.id
    with database.tenant_session(org_id) as session:
        probe = Actor(organization_id=org_id, role=Role.OWNER)
        owner = next((u for u in users.list_users(session, probe) if u.email == OWNER_EMAIL), None)
        if owner is None:
            raise Conflict(
                f"An organization with the slug '{SLUG}' exists and is not the demo's; "
                "the demo will not touch it.",
                field="slug",
            )
        return org_id, _owner_actor(org_id, owner.id)


def delete_demo(database: Database, actor: Actor) -> None:
    """Delete the demo organization and everything it owns (the accounts service cascades)."""
    with database.tenant_session(actor.organization_id) as session:
        organizations.delete_organization(session, actor, confirm_slug=SLUG)


@contextlib.contextmanager
def _offline_agents() -> Iterator[None]:
    """The agents run offline for the demo: the demo's DNS, the rules-only BANT engine (an
    LLM configured for real work would make the demo slow and cost money)."""
    previous_dns = (prospector._verifier, prospector._embedder)
    previous_llm = (qualifier._client, qualifier._client_set)
    prospector.configure(verifier=DemoDomains(), embedder=previous_dns[1])
    qualifier.configure(None)
    try:
        yield
    finally:
        prospector.configure(*previous_dns)
        qualifier._client, qualifier._client_set = previous_llm


class _Clock:
    def __init__(self, report: DemoReport, stages: Stages) -> None:
        self.report, self.stages = report, stages

    @contextlib.contextmanager
    def stage(self, key: str, title: str, total: int | None = None) -> Iterator[None]:
        self.stages.start(title, total)
        began, cpu = time.perf_counter(), time.process_time()
        yield
        self.report.timings[key] = round(time.perf_counter() - began, 2)
        # This process's CPU (all its threads): what the stage costs on an idle machine.
        self.report.cpu_seconds[key] = round(time.process_time() - cpu, 2)


def load_demo(
    database: Database,
    *,
    sink_folder: Path,
    sink_port: int = SINK_PORT,
    reset: bool = False,
    password: str | None = None,
    leads_count: int = 500,
    seed: int = people.DEFAULT_SEED,
    stages: Stages | None = None,
) -> DemoReport:
    """Load the demo organization and run it through the pipeline (see the module doc)."""
    stages = stages or Stages()
    report = DemoReport(password=password or secrets.token_urlsafe(12), reset=reset)
    clock = _Clock(report, stages)
    began, cpu_began = time.perf_counter(), time.process_time()
    existing = find_demo(database)
    if existing is not None:
        if not reset:
            raise DemoExists(
                f"The demo organization '{SLUG}' is already loaded (sign in as {OWNER_EMAIL}). "
                "Run `vectra demo --reset` to delete it and load it again.",
                field="slug",
            )
        with clock.stage("reset", "Deleting the previous demo organization"):
            delete_demo(database, existing[1])
            stages.done("previous demo organization deleted")
    with clock.stage("organization", "Organization, owner, campaign and mailbox"):
        actor = _create_organization(database, report)
        _create_campaign(database, actor, report, sink_port)
        stages.done(f"{SLUG}, owner {OWNER_EMAIL}, campaign with a 3-step sequence, mailbox")
    assert report.campaign_id is not None
    campaign_id = report.campaign_id
    roster = people.generate(leads_count, seed=seed)
    with clock.stage("import", f"Importing {len(roster)} prospects (CSV)", len(roster)):
        _import(database, actor, campaign_id, roster, report, stages)
    with _offline_agents():
        with clock.stage("prospector", "Prospector: verify, enrich, embed, rank", len(roster)):
            report.prospector = _agent(database, actor, campaign_id, "prospector", stages)
            stages.done(
                f"{report.prospector.get('enriched', 0)} enriched, "
                f"{report.prospector.get('rejected', 0)} rejected"
            )
        enriched = int(report.prospector.get("enriched", 0))
        with clock.stage("qualifier", "BANT qualifier", enriched):
            report.qualifier = _agent(database, actor, campaign_id, "bant_qualifier", stages)
            stages.done(
                f"{report.qualifier.get('qualified', 0)} qualified, "
                f"{report.qualifier.get('rejected', 0)} rejected "
                f"(threshold {report.qualifier.get('threshold')})"
            )
    qualified = int(report.qualifier.get("qualified", 0))
    with clock.stage("drafts", "Composer: drafting 3-step sequences", qualified):
        first_steps = _draft(database, actor, campaign_id, report, stages)
    with clock.stage("approval", "Approving the best-scored first emails"):
        _approve(database, actor, first_steps, report, stages)
    with clock.stage("send", "Sending to the local SMTP sink", report.approved):
        received = _send(database, actor, campaign_id, sink_folder, sink_port, report, stages)
    with clock.stage("inbound", "Feeding back bounces and replies"):
        names = {p.email: p.first_name for p in roster}
        replied = _feed_back(database, received, names, report, stages)
    with clock.stage("meetings", "Booking meetings"):
        _book_meetings(database, actor, replied, report, stages)
    with database.tenant_session(actor.organization_id) as session:
        report.funnel = reporting.totals(reporting.funnel(session, actor))
    report.timings["total"] = round(time.perf_counter() - began, 2)
    report.cpu_seconds["total"] = round(time.process_time() - cpu_began, 2)
    return report


def _create_organization(database: Database, report: DemoReport) -> Actor:
    with database.system_session() as session:
        created = accounts.create_organization(
            session,
            name=NAME,
            owner_email=OWNER_EMAIL,
            password=report.password,
            first_name=SENDER[0],
            last_name=SENDER[1],
        )
        if created.organization.slug != SLUG:  # a concurrent demo run took the slug
            raise Conflict(f"The slug '{SLUG}' is taken.", field="slug")
        actor = _owner_actor(created.organization.id, created.owner.id)
    report.organization_id = actor.organization_id
    with database.tenant_session(actor.organization_id) as session:
        organizations.update_organization(
            session, actor, name=None, changes=dict(ORGANIZATION_SETTINGS)
        )
    return actor


def _create_campaign(database: Database, actor: Actor, report: DemoReport, port: int) -> None:
    with database.tenant_session(actor.organization_id) as session:
        campaign = campaigns.create_campaign(
            session,
            actor,
            CampaignCreate(
                name="Revenue leaders, B2B software & fintech",
                description="The demo campaign: loaded by `vectra demo`.",
                target_criteria=CRITERIA,
                email_template=SEQUENCE,
                bant_threshold=60,
                daily_limit=APPROVE,
            ),
        )
        box = mailboxes.create_mailbox(
            session,
            actor,
            MailboxCreate(
                name="Demo sink (vectra mail sink)",
                from_name=f"{SENDER[0]} {SENDER[1]}",
                from_address=SENDER[2],
                smtp_host="127.0.0.1",
                smtp_port=port,
                smtp_security="none",
                daily_cap=APPROVE,
                warmup_days=0,
                min_interval_seconds=0,
                jitter_seconds=0,
                signature=f"{SENDER[0]} {SENDER[1]}, Vectra Demo",
            ),
        )
        mailboxes.set_campaign_mailboxes(session, actor, campaign.id, [box.id])
        report.campaign_id, report.mailbox_id = campaign.id, box.id
        report.sink_port = port


def _import(
    database: Database,
    actor: Actor,
    campaign_id: uuid.UUID,
    roster: list[people.Person],
    report: DemoReport,
    stages: Stages,
) -> None:
    data = people.to_csv(roster)
    with database.tenant_session(actor.organization_id) as session:
        result = importer.import_leads(
            session,
            actor,
            campaign_id,
            io.BytesIO(data),
            source="csv_import",
            progress=lambda _bytes, rows: stages.advance(rows, len(roster)),
        )
        name = "vectra-demo-prospects.csv"
        record_import_job(session, actor, campaign_id, name, len(data), result)
    stages.advance(len(roster), len(roster))
    report.imported = {k: v for k, v in result.as_dict().items() if k not in ("columns",)}
    stages.done(f"{result.imported} imported, {result.rejected} rejected")


def _agent(
    database: Database, actor: Actor, campaign_id: uuid.UUID, agent: str, stages: Stages
) -> dict[str, Any]:
    with database.tenant_session(actor.organization_id) as session:
        run = run_agent(session, actor, agent, campaign_id, progress=stages.advance)
        if run.status != "succeeded":
            raise Conflict(f"The {agent} run failed: {run.error_message}", field="agent")
        return dict(run.output_data or {})


@dataclass(frozen=True)
class _FirstStep:
    email_id: uuid.UUID
    score: int
    flagged: bool


def _qualified_leads(session: Any, actor: Actor, campaign_id: uuid.UUID) -> list[Any]:
    found: list[Any] = []
    cursor = None
    filters = leads.LeadFilters(status=LeadStatus.QUALIFIED)
    while True:
        page = leads.list_leads(session, actor, campaign_id, filters, cursor=cursor, limit=200)
        found += page.items
        cursor = page.next_cursor
        if not cursor:
            return found


def _draft(
    database: Database, actor: Actor, campaign_id: uuid.UUID, report: DemoReport, stages: Stages
) -> list[_FirstStep]:
    first_steps: list[_FirstStep] = []
    with database.tenant_session(actor.organization_id) as session:
        qualified = _qualified_leads(session, actor, campaign_id)
        for i, lead in enumerate(qualified, 1):
            emails = drafts.draft_sequence_for_lead(session, actor, lead.id)
            report.drafted += len(emails)
            first = next(e for e in emails if e.sequence_step == 0)
            if first.status == "pending":
                flagged = any(f.get("blocking") for f in first.review_flags or [])
                first_steps.append(_FirstStep(first.id, lead.bant_score or 0, flagged))
            stages.advance(i, len(qualified))
    stages.done(f"{report.drafted} drafts for {len(qualified)} qualified leads")
    return first_steps


def _approve(
    database: Database,
    actor: Actor,
    first_steps: list[_FirstStep],
    report: DemoReport,
    stages: Stages,
) -> None:
    ranked = sorted((s for s in first_steps if not s.flagged), key=lambda s: -s.score)
    chosen = [s.email_id for s in ranked[:APPROVE]]
    with database.tenant_session(actor.organization_id) as session:
        if chosen:
            result = approval.bulk_approve(session, actor, chosen)
            report.approved = len(result.approved)
        report.pending_review = report.drafted - report.approved
    stages.done(
        f"{report.approved} first emails approved; {report.pending_review} drafts wait in "
        "the review queue"
    )


def _send(
    database: Database,
    actor: Actor,
    campaign_id: uuid.UUID,
    folder: Path,
    port: int,
    report: DemoReport,
    stages: Stages,
) -> list[Received]:
    received: list[Received] = []
    lock = threading.Lock()

    def arrived(item: Received) -> None:
        with lock:
            received.append(item)
            stages.advance(len(received), report.approved)

    # aiosmtpd logs each envelope (addresses) at INFO: personal data stays out of our logs.
    smtp_log = logging.getLogger("mail.log")
    level = smtp_log.level
    smtp_log.setLevel(max(level, logging.WARNING))
    controller, _ = start_sink(folder, port=port, announce=arrived)
    try:
        # Started once the sink listens: a running `vectra up` worker may send some too.
        with database.tenant_session(actor.organization_id) as session:
            campaign = campaigns.get_campaign(session, actor, campaign_id, for_update=True)
            campaigns.change_status(session, actor, campaign, CampaignStatus.ACTIVE)
        result = asyncio.run(delivery.run_sender(database))
    finally:
        controller.stop()
        smtp_log.setLevel(level)
    report.sink_folder = str(folder)
    report.sending = result.as_dict()
    report.sink_received = len(received)
    later = result.deferred + result.capped + result.held
    stages.done(
        f"{result.sent} sent, {len(received)} in the sink ({folder})"
        + (f"; {later} wait for their day (follow-up delays, holidays, caps)" if later else "")
    )
    return sorted(received, key=lambda r: r.rcpt_tos[0])


def _hard_bounces_allowed(sent: int) -> int:
    """Hard bounces that keep the mailbox under its pause threshold (3% of 30+ sends)."""
    from vectra.mail.guardrails import MAX_HARD_BOUNCE_RATE, MIN_SENDS_FOR_BOUNCE_RATE

    fits = [n for n in range(len(messages.HARD_BOUNCES) + 1) if n <= sent * MAX_HARD_BOUNCE_RATE]
    return len(messages.HARD_BOUNCES) if sent < MIN_SENDS_FOR_BOUNCE_RATE else max(fits)


def _deliver(database: Database, raw: bytes, rcpt_to: str, mail_from: str) -> Any:
    """Hand a message to inbound processing as the SMTP server would, and process it."""
    with database.system_session() as session:
        row = inbound.receive(session, raw, source="smtp", mail_from=mail_from, rcpt_to=[rcpt_to])
        return inbound.process(session, row.id)


def _feed_back(
    database: Database,
    received: list[Received],
    names: dict[str, str],
    report: DemoReport,
    stages: Stages,
) -> dict[str, tuple[Received, uuid.UUID]]:
    by_recipient = {r.rcpt_tos[0]: r for r in received}  # one message per person answers
    pool = [by_recipient[k] for k in sorted(by_recipient)]
    hard = messages.HARD_BOUNCES[: _hard_bounces_allowed(len(pool))]
    total = len(hard) + 1 + len(messages.REPLIES)
    done = 0
    for bounce in [*hard, messages.SOFT_BOUNCE]:
        if not pool:
            break
        sent = pool.pop(0)
        row = _deliver(database, messages.delivery_report(sent, bounce), sent.mail_from, "")
        report.bounces.append(
            {"to": sent.rcpt_tos[0], "kind": bounce.label, "outcome": str(row.effects)}
        )
        done += 1
        stages.advance(done, total)
    replied: dict[str, tuple[Received, uuid.UUID]] = {}
    back = dt.date.today() + dt.timedelta(days=3)
    back += dt.timedelta(days=(7 - back.weekday()) % 7)  # the next Monday
    for intent, words in messages.REPLIES:
        if not pool:
            break
        sent = pool.pop(len(pool) // 2)  # from the middle: no pattern in who answers
        first = names.get(sent.rcpt_tos[0], "")
        raw = messages.reply(
            sent, words, first_name=first, sender_name=SENDER[0], back=f"{back.day} {back:%B}"
        )
        row = _deliver(database, raw, SENDER[2], sent.rcpt_tos[0])
        report.replies.append({"from": sent.rcpt_tos[0], "expected": intent, "intent": row.intent})
        if row.lead_id is not None:
            replied[intent] = (sent, row.lead_id)
        done += 1
        stages.advance(done, total)
    stages.done(
        f"{len(report.bounces)} bounces, {len(report.replies)} replies ("
        + ", ".join(str(r["intent"]) for r in report.replies)
        + ")"
    )
    return replied


def _book_meetings(
    database: Database,
    actor: Actor,
    replied: dict[str, tuple[Received, uuid.UUID]],
    report: DemoReport,
    stages: Stages,
) -> None:
    now = dt.datetime.now(dt.UTC)
    plans = [("meeting_request", "upcoming", now), ("interested", "held", now - dt.timedelta(7))]
    for intent, kind, when in plans:
        if intent not in replied:
            continue
        sent, lead_id = replied[intent]
        with database.tenant_session(actor.organization_id) as session:
            url = booking.create_booking_link(session, actor, lead_id)
        token = url.rsplit("/", 1)[1]
        with database.system_session() as session:
            ctx = booking.open_booking_link(session, token)
            slots = booking.slots_for(session, ctx, now=when, days=7)
            if kind == "held":  # the latest slot that ended at least an hour ago
                slots = [s for s in slots if s.end <= now - dt.timedelta(hours=1)][-1:]
            if not slots:
                continue
            meeting = booking.book_slot(session, token, slots[0].start.isoformat(), now=when)
            meeting_id, at = meeting.id, meeting.scheduled_at
        if kind == "held":
            with database.tenant_session(actor.organization_id) as session:
                meetings.update_meeting(
                    session, actor, meeting_id, status="completed", outcome="closed_won",
                    notes="Demo: the call went well; they signed for 12 seats.",
                )  # fmt: skip
        report.meetings.append(
            {"lead": sent.rcpt_tos[0], "when": at.isoformat(), "kind": kind,
             "outcome": "closed_won" if kind == "held" else None}
        )  # fmt: skip
    stages.done(
        ", ".join(f"{m['kind']} meeting with {m['lead']}" for m in report.meetings) or "none"
    )
