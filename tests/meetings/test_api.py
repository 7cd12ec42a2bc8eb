"""The meetings API: list/filter/keyset pages, get, PATCH through the status machine,
availability per user, booking links; other tenants' ids are 404."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.factories import make_campaign, make_lead, make_organization, make_user
from tests.meetings.conftest import World
from vectra.accounts import sessions
from vectra.db.tenancy import as_system
from vectra.meetings.models import Meeting

PAST = dt.datetime(2026, 1, 5, 9)


def _auth(session: Session, user: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {sessions.issue_session(session, user).token}"}


def _meeting(session: Session, world: World, **fields: Any) -> Meeting:
    meeting = Meeting(
        organization_id=world.org.id,
        lead_id=world.lead.id,
        campaign_id=world.lead.campaign_id,
        user_id=world.host.id,
        scheduled_at=fields.pop("scheduled_at", PAST),
        **fields,
    )
    with as_system(session):
        session.add(meeting)
        session.flush()
    return meeting


class TestListMeetings:
    def test_keyset_pages_cover_everything_once_and_filter(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        made = [
            _meeting(session, world, scheduled_at=PAST + dt.timedelta(days=i)) for i in range(5)
        ]
        made[1].status = "canceled"
        session.flush()
        headers = _auth(session, world.host)
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
            page = client.get("/api/v1/meetings", params=params, headers=headers).json()
            seen += [m["id"] for m in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert seen == [str(m.id) for m in reversed(made)]
        canceled = client.get("/api/v1/meetings", params={"status": "canceled"}, headers=headers)
        assert [m["id"] for m in canceled.json()["items"]] == [str(made[1].id)]
        bad = client.get("/api/v1/meetings", params={"status": "bogus"}, headers=headers)
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "status"
        assert (
            client.get("/api/v1/meetings", params={"cursor": "%%"}, headers=headers).status_code
            == 422
        )

    def test_other_tenants_meetings_are_invisible(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        mine = _meeting(session, world)
        other = make_organization(session)
        outsider = make_user(session, other, role="owner")
        headers = _auth(session, outsider)
        assert client.get("/api/v1/meetings", headers=headers).json()["items"] == []
        assert client.get(f"/api/v1/meetings/{mine.id}", headers=headers).status_code == 404
        patch = client.patch(f"/api/v1/meetings/{mine.id}", json={"notes": "x"}, headers=headers)
        assert patch.status_code == 404
        assert client.get(f"/api/v1/meetings/{mine.id}").status_code == 401


class TestUpdateMeeting:
    def test_status_machine_outcome_and_notes(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        world.lead.status = "meeting_scheduled"
        meeting = _meeting(session, world)
        headers = _auth(session, world.host)
        url = f"/api/v1/meetings/{meeting.id}"
        assert client.patch(url, json={"status": "confirmed"}, headers=headers).status_code == 200
        done = client.patch(
            url,
            json={"status": "completed", "outcome": "qualified_opportunity", "notes": "Budget ok"},
            headers=headers,
        )
        assert done.status_code == 200, done.text
        body = done.json()
        assert (body["status"], body["outcome"], body["notes"]) == (
            "completed", "qualified_opportunity", "Budget ok",
        )  # fmt: skip
        assert body["completed_at"] is not None
        session.refresh(world.lead)
        assert world.lead.status == "completed"
        back = client.patch(url, json={"status": "scheduled"}, headers=headers)
        assert back.status_code == 409 and back.json()["error"]["code"] == "invalid_transition"

    def test_no_show_and_bad_input(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        meeting = _meeting(session, world)
        headers = _auth(session, world.host)
        url = f"/api/v1/meetings/{meeting.id}"
        response = client.patch(url, json={"no_show": True}, headers=headers)
        assert response.json()["status"] == "no_show" and response.json()["no_show"] is True
        bad = client.patch(url, json={"outcome": "great vibes"}, headers=headers)
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "outcome"
        unknown = client.patch(url, json={"status": "teleported"}, headers=headers)
        assert unknown.status_code == 422
        future = _meeting(session, world, scheduled_at=dt.datetime(2030, 1, 1, 9))
        early = client.patch(
            f"/api/v1/meetings/{future.id}", json={"outcome": "not_a_fit"}, headers=headers
        )
        assert early.status_code == 409

    def test_viewers_read_but_do_not_write(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        meeting = _meeting(session, world)
        viewer = make_user(session, world.org, role="viewer")
        headers = _auth(session, viewer)
        assert client.get(f"/api/v1/meetings/{meeting.id}", headers=headers).status_code == 200
        response = client.patch(
            f"/api/v1/meetings/{meeting.id}", json={"notes": "x"}, headers=headers
        )
        assert response.status_code == 403


class TestAvailability:
    BODY = {
        "timezone": "America/New_York",
        "working_hours": {"mon": [["08:00", "12:00"], ["13:00", "16:30"]]},
        "buffer_minutes": 10,
        "minimum_notice_minutes": 120,
        "slot_minutes": 45,
        "max_per_day": 4,
    }

    def test_own_availability_round_trips(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        headers = _auth(session, world.host)
        default = client.get("/api/v1/meetings/availability", headers=headers).json()
        assert default["working_hours"]["mon"] == [["09:00", "17:00"]]
        put = client.put("/api/v1/meetings/availability", json=self.BODY, headers=headers)
        assert put.status_code == 200, put.text
        got = client.get("/api/v1/meetings/availability", headers=headers).json()
        assert got["timezone"] == "America/New_York" and got["slot_minutes"] == 45
        assert got["working_hours"]["mon"] == [["08:00", "12:00"], ["13:00", "16:30"]]
        assert got["working_hours"]["sun"] == []

    def test_bad_zone_or_hours_name_the_field(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        headers = _auth(session, world.host)
        zone = client.put(
            "/api/v1/meetings/availability", json={**self.BODY, "timezone": "Moon/Base"},
            headers=headers,
        )  # fmt: skip
        assert zone.status_code == 422 and zone.json()["error"]["field"] == "timezone"
        hours = client.put(
            "/api/v1/meetings/availability",
            json={**self.BODY, "working_hours": {"mon": [["17:00", "09:00"]]}},
            headers=headers,
        )
        assert hours.status_code == 422 and hours.json()["error"]["field"] == "working_hours"

    def test_only_admins_set_someone_elses_and_never_across_tenants(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        colleague = make_user(session, world.org, role="operator")
        url = f"/api/v1/meetings/availability?user_id={colleague.id}"
        as_operator = client.put(url, json=self.BODY, headers=_auth(session, world.host))
        assert as_operator.status_code == 403
        admin = make_user(session, world.org, role="admin")
        assert client.put(url, json=self.BODY, headers=_auth(session, admin)).status_code == 200
        outsider = make_user(session, make_organization(session), role="owner")
        foreign = client.put(url, json=self.BODY, headers=_auth(session, outsider))
        assert foreign.status_code == 404


def test_booking_links_only_for_own_leads(
    client: TestClient, session: Session, world: World
) -> None:
    headers = _auth(session, world.host)
    ok = client.post("/api/v1/meetings/booking-links", json={"lead_id": str(world.lead.id)},
                     headers=headers)  # fmt: skip
    assert ok.status_code == 200
    path = "/" + ok.json()["url"].split("/", 3)[3]
    assert client.get(path).status_code == 200
    stranger = make_lead(session, make_campaign(session, make_organization(session)))
    foreign = client.post(
        "/api/v1/meetings/booking-links", json={"lead_id": str(stranger.id)}, headers=headers
    )
    assert foreign.status_code == 404
