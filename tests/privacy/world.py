"""One person (two leads in two campaigns) with a row in every table that can hold them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.factories import make_campaign, make_lead, make_organization, make_user
from vectra.accounts import audit
from vectra.accounts.actor import Actor, system_actor
from vectra.accounts.models import Organization, User
from vectra.accounts.roles import Role
from vectra.db.tenancy import as_system
from vectra.leads.models import Lead
from vectra.leads.suppression import suppress

ADDRESS = "Zebulon.Quux@Quuxworth-Person.example"
LOWER = ADDRESS.lower()
FIRST, LAST = "Zebulon", "Quuxworth"
OTHER = "alice@other-person.example"
POSTAL = {"street": "1 Main St", "city": "Berlin", "postal_code": "10115", "country": "DE"}


@dataclass
class World:
    organization: Organization
    owner: User
    actor: Actor
    leads: list[Lead]
    other: Lead
    email_ids: list[uuid.UUID]
    meeting_id: uuid.UUID


def _insert(session: Session, sql: str, **params: object) -> uuid.UUID:
    return session.execute(text(sql + " RETURNING id"), params).scalar_one()


def build(session: Session) -> World:
    organization = make_organization(session, settings={"postal_address": POSTAL})
    owner = make_user(session, organization, role="owner")
    first, second = make_campaign(session, organization), make_campaign(session, organization)
    enrichment = {"country": "DE", "city": "Berlin", "notes": f"{FIRST} sails on weekends"}
    leads = [
        make_lead(
            session,
            first,
            email=ADDRESS,
            first_name=FIRST,
            last_name=LAST,
            phone="+49 30 1234567",
            enrichment_data=enrichment,
            source="csv_import",
        ),
        make_lead(
            session,
            second,
            email=LOWER,
            first_name=FIRST,
            last_name=LAST,
            linkedin_url="https://linkedin.example/in/zq",
        ),
    ]
    other = make_lead(session, first, email=OTHER, first_name="Alice")
    org = organization.id
    lead = leads[0].id
    with as_system(session):
        emails = [
            _insert(
                session,
                "INSERT INTO emails (organization_id, lead_id, campaign_id, subject, body, "
                "body_html, status, sequence_step, sent_at) VALUES (:o, :l, :c, :s, :b, :h, "
                "'sent', :step, now())",
                o=org,
                l=lead,
                c=first.id,
                s=f"Hello {FIRST}",
                b=f"Hi {FIRST} {LAST}, write back to {LOWER}",
                h=f"<p>Hi {FIRST}</p>",
                step=step,
            )
            for step in (0, 1)
        ]
        session.execute(
            text(
                "INSERT INTO email_events (organization_id, email_id, kind, ip, user_agent, url, "
                "detail) VALUES (:o, :e, 'click', '203.0.113.9', 'Mail/1.0', :u, :d)"
            ),
            {
                "o": org,
                "e": emails[0],
                "u": f"https://x.test/?who={LOWER}",
                "d": '{"note": "clicked by Zebulon"}',
            },
        )
        meeting = _insert(
            session,
            "INSERT INTO meetings (organization_id, lead_id, campaign_id, scheduled_at, notes, "
            "status) VALUES (:o, :l, :c, now() + interval '2 days', :n, 'scheduled')",
            o=org,
            l=lead,
            c=first.id,
            n=f"Call with {FIRST} {LAST} ({LOWER})",
        )
        session.execute(
            text(
                "INSERT INTO meeting_bookings (organization_id, meeting_id, lead_id, user_id, "
                "starts_at, ends_at, ics_uid, source) VALUES (:o, :m, :l, :u, now(), "
                "now() + interval '30 minutes', :uid, 'booking_page')"
            ),
            {"o": org, "m": meeting, "l": lead, "u": owner.id, "uid": f"{uuid.uuid4()}@vectra"},
        )
        session.execute(
            text(
                "INSERT INTO lead_status_history (organization_id, lead_id, from_status, "
                "to_status, actor_kind, reason) VALUES (:o, :l, 'new', 'qualified', 'user', :r)"
            ),
            {"o": org, "l": lead, "r": f"{FIRST} asked for a demo"},
        )
        session.execute(
            text(
                "INSERT INTO sequence_stops (organization_id, lead_id, reason) "
                "VALUES (:o, :l, 'reply')"
            ),
            {"o": org, "l": leads[1].id},
        )
        if session.execute(text("SELECT to_regclass('inbound_messages')")).scalar():
            raw = f"From: {FIRST} {LAST} <{ADDRESS}>\r\nSubject: Re: hi\r\n\r\nYes!\r\n"
            session.execute(
                text(
                    "INSERT INTO inbound_messages (organization_id, lead_id, email_id, raw, "
                    "raw_size, source, state, sender, subject, body, details) VALUES (:o, :l, "
                    ":e, :raw, :n, 'smtp', 'processed', :s, 'Re: hi', :b, :d)"
                ),
                {
                    "o": org,
                    "l": lead,
                    "e": emails[0],
                    "raw": raw.encode(),
                    "n": len(raw),
                    "s": f"{FIRST} {LAST} <{ADDRESS}>",
                    "b": f"Yes! -- {FIRST}",
                    "d": f'{{"from": "{LOWER}"}}',
                },
            )
        integration = _insert(
            session,
            "INSERT INTO integrations (organization_id, type, status) "
            "VALUES (:o, 'hubspot', 'active')",
            o=org,
        )
        session.execute(
            text(
                "INSERT INTO crm_links (organization_id, integration_id, object_type, "
                "vectra_key, crm_object, crm_id, payload_hash) VALUES (:o, :i, 'lead', :k, "
                "'contact', '901', 'abc')"
            ),
            {"o": org, "i": integration, "k": str(lead)},
        )
        session.execute(
            text(
                "INSERT INTO lead_import_jobs (organization_id, campaign_id, status, payload, "
                "report) VALUES (:o, :c, 'succeeded', :p, :r)"
            ),
            {
                "o": org,
                "c": first.id,
                "p": f"email,first_name\n{ADDRESS},{FIRST}\n{OTHER},Alice\n".encode(),
                "r": f'{{"skipped": ["{LOWER}"]}}',
            },
        )
    actor = Actor(organization_id=org, role=Role.OWNER, user_id=owner.id)
    suppress(session, system_actor(org), ADDRESS, "manual", source="test")
    audit.record(
        session,
        actor,
        "lead.updated",
        object_type="lead",
        object_id=lead,
        details={"email": LOWER, "first_name": FIRST},
    )
    session.flush()
    return World(organization, owner, actor, leads, other, emails, meeting)


def text_columns(session: Session) -> list[tuple[str, str, str]]:
    rows = session.execute(
        text(
            "SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c "
            "JOIN information_schema.tables t USING (table_schema, table_name) "
            "WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' "
            "AND c.data_type IN ('text', 'character varying', 'jsonb', 'ARRAY', 'bytea', "
            "'USER-DEFINED') AND c.udt_name <> 'vector'"
        )
    )
    return [(r[0], r[1], r[2]) for r in rows]


def occurrences(session: Session, needle: str) -> list[str]:
    """`table.column` of every value, in every table, that contains `needle` (any case)."""
    found = []
    with as_system(session):
        for table, column, data_type in text_columns(session):
            if data_type == "bytea":
                condition = f"lower(encode(\"{column}\", 'escape')) LIKE '%' || :n || '%'"
            else:
                condition = f"\"{column}\"::text ILIKE '%' || :n || '%'"
            count = session.execute(
                text(f'SELECT count(*) FROM "{table}" WHERE {condition}'), {"n": needle.lower()}
            ).scalar()
            if count:
                found.append(f"{table}.{column}")
    return found
