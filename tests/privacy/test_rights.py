"""Subject access export, erasure and objection, against every table of the schema."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterable

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.privacy.world import ADDRESS, FIRST, LAST, LOWER, World, build, occurrences
from vectra.accounts.actor import system_actor
from vectra.accounts.sessions import issue_session
from vectra.db.tenancy import as_system, as_tenant
from vectra.leads import importer
from vectra.leads.suppression import is_suppressed, suppressed_among
from vectra.privacy import service
from vectra.privacy.hashing import email_hash


@pytest.fixture
def world(session: Session) -> World:
    return build(session)


def _rows_about(session: Session, world: World) -> dict[str, set[str]]:
    """Independently of the service: the ids of every row that names the person's leads,
    emails or meetings, in every table that has such a column."""
    lead_ids = [lead.id for lead in world.leads]
    links = {"lead_id": lead_ids, "email_id": world.email_ids, "meeting_id": [world.meeting_id]}
    expected: dict[str, set[str]] = {}
    with as_system(session):
        columns = session.execute(
            text(
                "SELECT table_name, column_name FROM information_schema.columns WHERE "
                "table_schema = current_schema() AND column_name = ANY(:c) "
                "AND table_name NOT LIKE 'procrastinate%'"
            ),
            {"c": list(links)},
        ).all()
        for table, column in columns:
            rows = session.execute(
                text(f'SELECT to_jsonb(t) FROM "{table}" t WHERE "{column}" = ANY(:ids)'),
                {"ids": links[column]},
            ).scalars()
            expected.setdefault(table, set()).update(
                _key(row) for row in _utc_stamps(session, table, rows)
            )
        for table, ids in (
            ("leads", lead_ids),
            ("emails", world.email_ids),
            ("meetings", [world.meeting_id]),
        ):
            rows = session.execute(
                text(f"SELECT to_jsonb(t) - 'embedding' FROM {table} t WHERE id = ANY(:ids)"),
                {"ids": ids},
            ).scalars()
            expected[table] = {_key(row) for row in _utc_stamps(session, table, rows)}
    return {table: rows for table, rows in expected.items() if rows}


def _utc_stamps(
    session: Session, table: str, rows: Iterable[dict[str, object]]
) -> list[dict[str, object]]:
    """The export writes the naive-UTC TIMESTAMP columns with their `Z` (bare reads as local)."""
    stamps = set(
        session.scalars(
            text(
                "SELECT column_name FROM information_schema.columns WHERE table_name = :t "
                "AND table_schema = current_schema() AND data_type = 'timestamp without time zone'"
            ),
            {"t": table},
        )
    )
    return [
        {k: f"{v}Z" if k in stamps and v is not None else v for k, v in row.items()} for row in rows
    ]


def _key(row: dict[str, object]) -> str:
    return json.dumps(
        {k: v for k, v in row.items() if k != "embedding"}, sort_keys=True, default=str
    )


def test_export_holds_every_row_about_the_person(session: Session, world: World) -> None:
    with as_tenant(session, world.organization.id):
        export = service.export_person(session, world.actor, ADDRESS.upper())
    tables = export["tables"]
    expected = _rows_about(session, world)
    # The world puts the person in every kind of table the issue names.
    assert {
        "leads",
        "emails",
        "email_events",
        "meetings",
        "meeting_bookings",
        "lead_status_history",
        "sequence_stops",
    } <= set(expected)
    assert len(expected["leads"]) == 2 and len(expected["emails"]) == 2
    for table, rows in expected.items():
        assert {_key(row) for row in tables.get(table, [])} >= rows, table
    assert [row["value"] for row in tables["suppressions"]] == [LOWER]
    assert [row["crm_id"] for row in tables["crm_links"]] == ["901"]
    assert any(row["action"] == "lead.updated" for row in tables["audit_events"])
    # Nobody else's lead leaks into it.
    assert str(world.other.id) not in {str(r["id"]) for r in tables["leads"]}
    assert "embedding" not in tables["leads"][0]
    assert export["email"] == LOWER


def test_erasure_leaves_no_trace_but_a_hashed_suppression(session: Session, world: World) -> None:
    assert occurrences(session, LOWER)  # the sweep below can find what it looks for
    with as_tenant(session, world.organization.id):
        counts = service.erase_person(session, world.actor, ADDRESS)
    assert counts["leads"] == 2 and counts["emails"] == 2 and counts["meetings"] == 1
    for needle in (LOWER, FIRST, LAST):
        assert occurrences(session, needle) == [], needle
    with as_tenant(session, world.organization.id):
        # Never contacted again: the send-time and import-time checks see the hash.
        assert is_suppressed(session, world.actor, ADDRESS)
        assert suppressed_among(session, world.actor, [LOWER]) == {LOWER}
        values = session.execute(
            text("SELECT value FROM suppressions WHERE organization_id = :o"),
            {"o": world.organization.id},
        ).scalars()
        assert list(values) == [email_hash(LOWER)]
        other = session.execute(
            text("SELECT email, first_name FROM leads WHERE id = :i"), {"i": world.other.id}
        ).one()
        assert tuple(other) == ("alice@other-person.example", "Alice")
        stopped = session.execute(
            text("SELECT count(*) FROM sequence_stops WHERE lead_id = ANY(:l)"),
            {"l": [lead.id for lead in world.leads]},
        ).scalar()
        assert stopped == 2
        event = session.execute(
            text(
                "SELECT object_id, details::text FROM audit_events "
                "WHERE action = 'privacy.erased' AND organization_id = :o"
            ),
            {"o": world.organization.id},
        ).one()
        assert event.object_id == email_hash(LOWER)
        # The other person's CSV row went with the payload: binary data cannot be edited.
        kept = session.execute(
            text("SELECT payload IS NULL FROM lead_import_jobs WHERE organization_id = :o"),
            {"o": world.organization.id},
        ).scalar()
        assert kept is True
    # Erasing again is harmless and finds nothing left to erase.
    with as_tenant(session, world.organization.id):
        assert service.erase_person(session, world.actor, ADDRESS)["leads"] == 0


def test_an_erased_person_reimported_from_a_csv_is_suppressed(
    session: Session, world: World
) -> None:
    with as_tenant(session, world.organization.id):
        service.erase_person(session, world.actor, ADDRESS)
        campaign_id = world.other.campaign_id
        assert campaign_id is not None
        csv = f"Email,First Name\n{ADDRESS.upper()},Again\nnew.person@elsewhere.example,New\n"
        report = importer.import_leads(session, world.actor, campaign_id, io.BytesIO(csv.encode()))
        assert (report.rows, report.imported, report.suppressed) == (2, 1, 1)
        found = session.execute(
            text("SELECT count(*) FROM leads WHERE lower(email) = :e"), {"e": LOWER}
        ).scalar()
        assert found == 0


def test_hash_is_peppered_not_plain_sha256() -> None:
    import hashlib

    assert email_hash(LOWER) != "h:" + hashlib.sha256(LOWER.encode()).hexdigest()
    assert email_hash(LOWER) == email_hash(" " + LOWER.upper())


def test_objection_suppresses_and_stops_at_once(session: Session, world: World) -> None:
    with as_tenant(session, world.organization.id):
        session.execute(
            text(
                "INSERT INTO emails (organization_id, lead_id, campaign_id, subject, body, "
                "status, sequence_step) VALUES (:o, :l, :c, 's', 'b', 'approved', 2)"
            ),
            {"o": world.organization.id, "l": world.leads[0].id, "c": world.leads[0].campaign_id},
        )
        assert service.object_to_processing(session, world.actor, ADDRESS) == 2
        assert is_suppressed(session, system_actor(world.organization.id), LOWER)
        unsent = session.execute(
            text("SELECT count(*) FROM emails WHERE lead_id = :l AND status = 'approved'"),
            {"l": world.leads[0].id},
        ).scalar()
        assert unsent == 0
        actions = session.execute(
            text("SELECT action FROM audit_events WHERE organization_id = :o"),
            {"o": world.organization.id},
        ).scalars()
        assert "privacy.objected" in set(actions)


def _auth(session: Session, world: World) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_session(session, world.owner).token}"}


def test_api_export_erase_and_validation(session: Session, world: World, client) -> None:  # type: ignore[no-untyped-def]
    headers = _auth(session, world)
    response = client.get("/api/v1/privacy/export", params={"email": ADDRESS}, headers=headers)
    assert response.status_code == 200, response.text
    assert len(response.json()["tables"]["leads"]) == 2
    bad = client.get("/api/v1/privacy/export", params={"email": "not an email"}, headers=headers)
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "email"
    erased = client.post("/api/v1/privacy/erase", json={"email": ADDRESS}, headers=headers)
    assert erased.status_code == 200 and erased.json()["leads"] == 2
    after = client.get("/api/v1/privacy/export", params={"email": ADDRESS}, headers=headers)
    assert after.json()["tables"]["leads"] == []
    assert occurrences(session, LOWER) == []


def test_api_is_per_tenant(session: Session, world: World, client) -> None:  # type: ignore[no-untyped-def]
    stranger = build_other_org(session)
    headers = {"Authorization": f"Bearer {issue_session(session, stranger).token}"}
    response = client.get("/api/v1/privacy/export", params={"email": ADDRESS}, headers=headers)
    assert response.status_code == 200
    assert all(rows == [] for rows in response.json()["tables"].values())
    client.post("/api/v1/privacy/erase", json={"email": ADDRESS}, headers=headers)
    with as_system(session):
        name = session.execute(
            text("SELECT first_name FROM leads WHERE id = :i"), {"i": world.leads[0].id}
        ).scalar()
    assert name == FIRST


def build_other_org(session: Session):  # type: ignore[no-untyped-def]
    from tests.factories import make_organization, make_user

    return make_user(session, make_organization(session), role="owner")


def test_unknown_person_export_is_empty(session: Session, world: World) -> None:
    with as_tenant(session, world.organization.id):
        export = service.export_person(session, world.actor, f"{uuid.uuid4().hex}@nobody.example")
    assert export["tables"]["leads"] == [] and export["tables"]["emails"] == []
