"""Meetings calendar (week and month grids, time zones, navigation) and one meeting's page."""

from __future__ import annotations

import datetime as dt
import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.factories import make_campaign, make_lead, make_organization
from tests.web.pages.support import assert_login_redirect, sign_in
from vectra.accounts.models import Organization
from vectra.meetings.models import Availability, Meeting

# 23:30 UTC on Tuesday 10 March 2026 is already Wednesday 00:30 in Paris (UTC+1 in winter).
LATE_TUESDAY_UTC = dt.datetime(2026, 3, 10, 23, 30)


def meeting_at(
    session: Session, organization: Organization, when: dt.datetime, name: str = "Maya"
) -> Meeting:
    lead = make_lead(session, make_campaign(session, organization), first_name=name)
    row = Meeting(
        organization_id=organization.id, lead_id=lead.id, campaign_id=lead.campaign_id,
        scheduled_at=when,
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row


def in_paris(organization: Organization) -> None:
    organization.settings = {**(organization.settings or {}), "timezone": "Europe/Paris"}


def cell(page: str, day: str) -> str:
    """The calendar cell of one day (YYYY-MM-DD)."""
    match = re.search(rf'data-date="{day}"[^>]*>(.*?)</td>', page, re.S)
    assert match, f"no cell for {day}"
    return match.group(1)


def test_anonymous_is_sent_to_login(client: TestClient) -> None:
    assert_login_redirect(client, "/meetings/calendar")


def test_week_grid_in_the_organization_zone(session: Session, client: TestClient) -> None:
    me = sign_in(session, client, role="viewer")
    in_paris(me.organization)
    mine = meeting_at(session, me.organization, LATE_TUESDAY_UTC)
    theirs = meeting_at(session, make_organization(session), LATE_TUESDAY_UTC, name="Intruder")
    page = client.get("/meetings/calendar?view=week&date=2026-03-11")
    assert page.status_code == 200
    assert "Times in Europe/Paris" in page.text
    assert page.text.count("<td ") == 7  # Monday 9 to Sunday 15
    wednesday = cell(page.text, "2026-03-11")
    assert f'href="/meetings/{mine.id}"' in wednesday and "00:30" in wednesday
    assert "Maya" not in cell(page.text, "2026-03-10")
    assert "Intruder" not in page.text and str(theirs.id) not in page.text
    # Navigation is by query parameters only.
    assert 'href="/meetings/calendar?view=week&amp;date=2026-03-04"' in page.text
    assert 'href="/meetings/calendar?view=week&amp;date=2026-03-18"' in page.text
    assert 'href="/meetings/calendar?view=month&amp;date=2026-03-11"' in page.text
    following = client.get("/meetings/calendar?view=week&date=2026-03-18")
    assert "Maya" not in following.text and "0 meetings shown" in following.text


def test_explicit_zone_and_the_viewers_own_zone(session: Session, client: TestClient) -> None:
    me = sign_in(session, client, role="operator")
    in_paris(me.organization)
    meeting_at(session, me.organization, LATE_TUESDAY_UTC)
    utc = client.get("/meetings/calendar?date=2026-03-10&tz=UTC")
    assert "23:30" in cell(utc.text, "2026-03-10") and "Maya" not in cell(utc.text, "2026-03-11")
    assert "tz=UTC" in utc.text  # the zone travels with the navigation links
    session.add(
        Availability(organization_id=me.organization.id, user_id=me.user.id,
                     timezone="America/New_York", working_hours={})
    )  # fmt: skip
    session.flush()
    own = client.get("/meetings/calendar?date=2026-03-10")
    assert "Times in America/New_York" in own.text
    assert "19:30" in cell(own.text, "2026-03-10")  # EDT (UTC-4) since 8 March


def test_month_grid_and_summer_time(session: Session, client: TestClient) -> None:
    me = sign_in(session, client)
    in_paris(me.organization)
    # 29 March 2026, 01:30 UTC: Paris has just moved to summer time (UTC+2) -> 03:30.
    dst = meeting_at(session, me.organization, dt.datetime(2026, 3, 29, 1, 30), name="Zed")
    early = meeting_at(session, me.organization, dt.datetime(2026, 2, 28, 12, 0), name="Feb")
    page = client.get("/meetings/calendar?view=month&date=2026-03-17")
    assert page.status_code == 200 and "March 2026" in page.text
    days = re.findall(r'data-date="([\d-]+)"', page.text)
    assert days[0] == "2026-02-23" and days[-1] == "2026-04-05" and len(days) == 42
    assert "03:30" in cell(page.text, "2026-03-29") and f"/meetings/{dst.id}" in page.text
    # Days of the neighbouring months are shown greyed, with their meetings.
    assert re.search(r'class="outside[^"]*" data-date="2026-02-28"', page.text)
    assert f"/meetings/{early.id}" in cell(page.text, "2026-02-28")
    assert 'date=2026-02-01"' in page.text and 'date=2026-04-01"' in page.text


def test_bad_parameters_are_named(session: Session, client: TestClient) -> None:
    sign_in(session, client)
    zone = client.get("/meetings/calendar?tz=Mars/Olympus")
    assert zone.status_code == 422 and "tz:" in zone.text and "IANA" in zone.text
    day = client.get("/meetings/calendar?date=2026-13-40")
    assert day.status_code == 422 and "date:" in day.text
    view = client.get("/meetings/calendar?view=year")
    assert view.status_code == 422 and "view:" in view.text


def test_meeting_page_links_to_outcome_capture(session: Session, client: TestClient) -> None:
    me = sign_in(session, client, role="operator")
    in_paris(me.organization)
    past = meeting_at(session, me.organization, dt.datetime(2026, 1, 5, 9, 0))
    theirs = meeting_at(session, make_organization(session), dt.datetime(2026, 1, 5, 9, 0))
    listing = client.get("/meetings")
    assert f'href="/meetings/{past.id}"' in listing.text and "When (Europe/Paris)" in listing.text
    assert 'href="/meetings/calendar"' in listing.text
    page = client.get(f"/meetings/{past.id}")
    assert page.status_code == 200 and "10:00" in page.text  # 09:00 UTC in Paris
    assert 'action="/meetings/' in page.text and 'name="next"' in page.text
    form = {"csrf_token": me.csrf, "outcome": "closed_won", "notes": "Signed",
            "next": f"/meetings/{past.id}"}  # fmt: skip
    saved = client.post(f"/meetings/{past.id}/outcome", data=form, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == f"/meetings/{past.id}"
    session.refresh(past)
    assert past.outcome == "closed_won"
    elsewhere = {**form, "next": "https://evil.example/"}
    moved = client.post(f"/meetings/{past.id}/outcome", data=elsewhere, follow_redirects=False)
    assert moved.headers["location"] == "/meetings"  # never an arbitrary URL
    assert client.get(f"/meetings/{theirs.id}").status_code == 404
    sign_in(session, client, role="viewer", organization=me.organization)
    read_only = client.get(f"/meetings/{past.id}")
    assert read_only.status_code == 200 and 'action="/meetings/' not in read_only.text
    assert "closed won" in read_only.text
    refused = client.post(f"/meetings/{past.id}/outcome", data={**form, "outcome": "no_show"})
    assert refused.status_code == 403
    session.refresh(past)
    assert past.outcome == "closed_won"
