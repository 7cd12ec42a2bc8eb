"""Data-subject rights: objection (Art. 21), access (Art. 15), erasure (Art. 17).

The person is named by an email address; everything the organization holds about the leads
with that address is found through the catalogue (see `scrub`). Erasure anonymises in place
(rows keep their ids, counts and statuses so reports still add up) and leaves a peppered hash
on the suppression list so the person is never contacted again. Every request is audited,
without the address itself.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from vectra.accounts import audit
from vectra.accounts.actor import Actor
from vectra.db.base import utcnow
from vectra.errors import InvalidInput
from vectra.leads.normalize import BadEmail, normalize_email
from vectra.leads.tables import Suppression
from vectra.privacy import scrub
from vectra.privacy.hashing import email_hash

ERASED_DOMAIN = "erased.invalid"


def normalized(email: str) -> str:
    try:
        return normalize_email(email)
    except BadEmail as exc:
        raise InvalidInput(f"'{email}' is not a valid email: {exc}", field="email") from None


@dataclass
class Person:
    address: str
    lead_ids: list[uuid.UUID]
    names: set[str]


def find_person(session: Session, actor: Actor, address: str) -> Person:
    rows = session.execute(
        text(
            "SELECT id, first_name, last_name FROM leads "
            "WHERE organization_id = :org AND lower(email) = :a"
        ),
        {"org": actor.organization_id, "a": address},
    ).all()
    names: set[str] = set()
    for row in rows:
        parts = [p.strip() for p in (row.first_name, row.last_name) if p and p.strip()]
        names.update(p for p in parts if len(p) >= 2)
        if len(parts) == 2:
            names.add(" ".join(parts))
    return Person(address, [row.id for row in rows], names)


def _linked_ids(session: Session, table: str, lead_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    if not lead_ids:
        return []
    return list(
        session.execute(
            text(f"SELECT id FROM {table} WHERE lead_id = ANY(:ids)"), {"ids": lead_ids}
        ).scalars()
    )


def _links(session: Session, person: Person) -> dict[str, list[uuid.UUID]]:
    return {
        "lead_id": person.lead_ids,
        "email_id": _linked_ids(session, "emails", person.lead_ids),
        "meeting_id": _linked_ids(session, "meetings", person.lead_ids),
    }


def _org_filter(schema: scrub.Schema, table: str) -> str:
    return " AND organization_id = :org" if schema.has(table, "organization_id") else ""


def export_person(session: Session, actor: Actor, email: str) -> dict[str, Any]:
    """Everything held on this address, table by table (subject access request)."""
    address = normalized(email)
    person = find_person(session, actor, address)
    schema = scrub.load_schema(session)
    links = _links(session, person)
    params: dict[str, Any] = {"org": actor.organization_id}
    tables: dict[str, list[dict[str, Any]]] = {
        "leads": scrub.rows_as_json(
            session, "leads", "id = ANY(:ids) AND organization_id = :org",
            {**params, "ids": person.lead_ids},
        ),
        "emails": scrub.rows_as_json(
            session, "emails", "id = ANY(:ids) AND organization_id = :org",
            {**params, "ids": links["email_id"]},
        ),
        "meetings": scrub.rows_as_json(
            session, "meetings", "id = ANY(:ids)", {**params, "ids": links["meeting_id"]}
        ),
    }  # fmt: skip
    for table, link in schema.linked_tables():
        if not links[link]:
            continue
        rows = scrub.rows_as_json(
            session,
            table,
            f"{link} = ANY(:ids){_org_filter(schema, table)}",
            {**params, "ids": links[link]},
        )
        seen = {str(r.get("id")) for r in tables.get(table, [])}
        tables.setdefault(table, []).extend(r for r in rows if str(r.get("id")) not in seen)
    tables["suppressions"] = scrub.rows_as_json(
        session,
        "suppressions",
        "organization_id = :org AND ((kind = 'email' AND value IN (:a, :h)) "
        "OR (kind = 'domain' AND value = split_part(:a, '@', 2)))",
        {**params, "a": address, "h": email_hash(address)},
    )
    keys = [str(i) for ids in links.values() for i in ids] + [address]
    tables["crm_links"] = scrub.rows_as_json(
        session,
        "crm_links",
        "organization_id = :org AND vectra_key = ANY(:keys)",
        {**params, "keys": keys},
    )
    tables["audit_events"] = scrub.rows_as_json(
        session,
        "audit_events",
        "organization_id = :org AND (object_id = ANY(:keys) OR details::text ILIKE :like)",
        {**params, "keys": keys, "like": f"%{address}%"},
    )
    audit.record(
        session,
        actor,
        "privacy.exported",
        object_type="person",
        object_id=email_hash(address),
        details={"leads": len(person.lead_ids), "rows": sum(len(v) for v in tables.values())},
    )
    return {
        "email": address,
        "exported_at": utcnow().isoformat() + "Z",
        "organization_id": str(actor.organization_id),
        "tables": tables,
    }


def object_to_processing(session: Session, actor: Actor, email: str) -> int:
    """Art. 21 objection: suppress the address and stop every sequence, at once."""
    from vectra.leads.suppression import suppress
    from vectra.mail.guardrails import stop_sequence
    from vectra.mail.unsubscribe import cancel_unsent

    address = normalized(email)
    suppress(session, actor, address, "unsubscribe", source="objection")
    person = find_person(session, actor, address)
    for lead_id in person.lead_ids:
        stop_sequence(session, lead_id, "unsubscribe")
        cancel_unsent(session, lead_id, "objection")
    audit.record(
        session,
        actor,
        "privacy.objected",
        object_type="person",
        object_id=email_hash(address),
        details={"leads": len(person.lead_ids)},
    )
    session.flush()
    return len(person.lead_ids)


def suppress_hashed(session: Session, actor: Actor, address: str) -> None:
    """Replace a plain suppression entry by its hash (idempotent)."""
    session.execute(
        insert(Suppression)
        .values(
            organization_id=actor.organization_id,
            kind="email",
            value=email_hash(address),
            reason="unsubscribe",
            source="erasure",
            created_by=actor.user_id,
        )
        .on_conflict_do_nothing(index_elements=["organization_id", "kind", "value"])
    )
    session.execute(
        text(
            "DELETE FROM suppressions WHERE organization_id = :org AND kind = 'email' "
            "AND value = :a"
        ),
        {"org": actor.organization_id, "a": address},
    )


def anonymise_leads(
    session: Session, actor: Actor, person: Person, *, org_wide: bool
) -> dict[str, int]:
    """Anonymise the leads and every row about them; `org_wide` also sweeps the address out
    of every other table of the organization (erasure; retention keeps to linked rows)."""
    from vectra.mail.guardrails import stop_sequence
    from vectra.mail.unsubscribe import cancel_unsent

    schema = scrub.load_schema(session)
    links = _links(session, person)
    pattern = scrub.pattern_for(person.address, person.names)
    org = {"org": actor.organization_id}
    counts: dict[str, int] = {}
    for lead_id in person.lead_ids:
        stop_sequence(session, lead_id, "manual")
        cancel_unsent(session, lead_id, "erased")
    counts["leads"] = int(
        session.execute(  # type: ignore[attr-defined]
            text(
                "UPDATE leads SET email = 'erased-' || replace(id::text, '-', '') || :dom, "
                "first_name = NULL, last_name = NULL, job_title = NULL, linkedin_url = NULL, "
                "phone = NULL, enrichment_data = '{}'::jsonb, bant_breakdown = NULL, "
                "embedding = NULL, embedding_model = NULL "
                "WHERE id = ANY(:ids) AND organization_id = :org"
            ),
            {**org, "ids": person.lead_ids, "dom": "@" + ERASED_DOMAIN},
        ).rowcount
    )
    # What was written to or by the person is personal data as a whole, not only the names.
    session.execute(
        text(
            f"UPDATE emails SET subject = '{scrub.ERASED}', body = '{scrub.ERASED}', "
            "body_html = NULL, personalization = '{}'::jsonb "
            "WHERE id = ANY(:ids) AND organization_id = :org"
        ),
        {**org, "ids": links["email_id"]},
    )
    session.execute(
        text("UPDATE meetings SET notes = NULL WHERE id = ANY(:ids)"),
        {"ids": links["meeting_id"]},
    )
    if schema.has("email_events", "email_id"):
        session.execute(
            text(
                "UPDATE email_events SET ip = NULL, user_agent = NULL, url = NULL "
                "WHERE email_id = ANY(:ids)"
            ),
            {"ids": links["email_id"]},
        )
    if schema.has("inbound_messages", "body"):
        session.execute(
            text(
                f"UPDATE inbound_messages SET body = '{scrub.ERASED}' "
                "WHERE (lead_id = ANY(:ids) OR email_id = ANY(:eids)) AND organization_id = :org"
                if schema.has("inbound_messages", "email_id")
                else f"UPDATE inbound_messages SET body = '{scrub.ERASED}' "
                "WHERE lead_id = ANY(:ids) AND organization_id = :org"
            ),
            {**org, "ids": person.lead_ids, "eids": links["email_id"]},
        )
    swept = 0
    for table, link in schema.linked_tables():
        if links[link]:
            where, params = f"{link} = ANY(:ids)", {"ids": links[link]}
            swept += scrub.scrub_rows(session, schema, table, where, params, pattern)
            swept += scrub.scrub_binary(session, schema, table, where, params, None)
    keys = [str(i) for ids in links.values() for i in ids]
    swept += scrub.scrub_rows(
        session, schema, "audit_events", "organization_id = :org AND object_id = ANY(:keys)",
        {**org, "keys": keys}, pattern,
    )  # fmt: skip
    # The CRM gets the anonymised values on its next run (the hash no longer matches).
    session.execute(
        text(
            "UPDATE crm_links SET payload_hash = NULL, error = NULL "
            "WHERE organization_id = :org AND vectra_key = ANY(:keys)"
        ),
        {**org, "keys": keys},
    )
    if org_wide:
        address_only = scrub.pattern_for(person.address, [])
        for table in sorted(schema.columns):
            if table in scrub.SKIP_TABLES or not schema.has(table, "organization_id"):
                continue
            swept += scrub.scrub_rows(
                session, schema, table, "organization_id = :org", org, address_only,
                codes_too=True,
            )  # fmt: skip
        for table in sorted(schema.binary):
            if table not in scrub.SKIP_TABLES and schema.has(table, "organization_id"):
                swept += scrub.scrub_binary(
                    session, schema, table, "organization_id = :org", org, person.address
                )
    counts["fields_scrubbed"] = swept
    counts["emails"] = len(links["email_id"])
    counts["meetings"] = len(links["meeting_id"])
    session.flush()
    return counts


def erase_person(session: Session, actor: Actor, email: str) -> dict[str, int]:
    """Art. 17 erasure: anonymise everything about the address; keep it suppressed."""
    address = normalized(email)
    person = find_person(session, actor, address)
    suppress_hashed(session, actor, address)
    counts = anonymise_leads(session, actor, person, org_wide=True)
    audit.record(
        session,
        actor,
        "privacy.erased",
        object_type="person",
        object_id=email_hash(address),
        details=counts,
    )
    return counts
