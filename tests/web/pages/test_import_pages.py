"""CSV import from the browser: background job, polled progress, per-row error report."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.factories import make_campaign, make_organization, make_user
from vectra.accounts.sessions import issue_session
from vectra.db.engine import Database
from vectra.leads.models import Lead
from vectra.leads.tables import LeadImportJob
from vectra.web.app import create_app
from vectra.web.auth import SESSION_COOKIE

CSV = (
    "Email,First Name,Last Name,Company,Title\n"
    "ada@lovelace.example,Ada,Lovelace,Analytical,CTO\n"
    "grace@hopper.example,Grace,Hopper,Navy,Admiral\n"
    "not-an-email,Bad,Row,Nowhere,None\n"
    "ada@lovelace.example,Ada,Again,Analytical,CTO\n"
)


@pytest.fixture
def world(committed_database: Database) -> Iterator[dict[str, object]]:
    with committed_database.system_session() as s:
        org = make_organization(s)
        campaign = make_campaign(s, org, name="Imports")
        viewer = issue_session(s, make_user(s, org, role="viewer"), kind="web")
        operator = issue_session(s, make_user(s, org, role="operator"), kind="web")
        other = make_campaign(s, make_organization(s))
        ids = {"org": org.id, "campaign": campaign.id, "other": other.id}
        tokens = {
            "viewer": (viewer.token, viewer.session.csrf_token),
            "operator": (operator.token, operator.session.csrf_token),
        }
    with TestClient(create_app(committed_database), raise_server_exceptions=False) as client:
        yield {"client": client, "ids": ids, "tokens": tokens, "db": committed_database}


def _as(client: TestClient, token: str) -> None:
    client.cookies.set(SESSION_COOKIE, token)


def _post(client: TestClient, csrf: str, campaign: uuid.UUID, body: str = CSV):  # type: ignore[no-untyped-def]
    return client.post(
        "/leads/import",
        data={"csrf_token": csrf, "campaign_id": str(campaign)},
        files={"file": ("people.csv", body.encode(), "text/csv")},
        follow_redirects=False,
    )


def test_import_runs_and_reports_every_row(world: dict[str, object]) -> None:
    client: TestClient = world["client"]  # type: ignore[assignment]
    ids: dict[str, uuid.UUID] = world["ids"]  # type: ignore[assignment]
    token, csrf = world["tokens"]["operator"]  # type: ignore[index]
    _as(client, token)
    form = client.get(f"/leads/import?campaign_id={ids['campaign']}")
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.text
    started = _post(client, csrf, ids["campaign"])
    assert started.status_code == 303, started.text
    job_path = started.headers["location"]
    assert re.fullmatch(r"/leads/imports/[0-9a-f-]{36}", job_path)
    page = client.get(job_path)
    assert page.status_code == 200
    assert 'data-status="succeeded"' in page.text
    assert "hx-trigger" not in page.text  # finished: the page stops polling
    summary = re.search(r'<ul id="import-summary">(.*?)</ul>', page.text, re.S)
    assert summary and "<strong>2</strong> imported" in summary.group(1)
    assert "1 duplicates skipped" in summary.group(1) and "1 rejected" in summary.group(1)
    errors = re.search(r'<table class="compact" id="import-errors">(.*?)</table>', page.text, re.S)
    assert errors and "<td>4</td>" in errors.group(1)  # the bad row, numbered as in the file
    partial = client.get(job_path + "/progress")
    assert partial.text.lstrip().startswith('<section id="import-progress"')
    db: Database = world["db"]  # type: ignore[assignment]
    with db.tenant_session(ids["org"]) as s:
        assert s.scalar(select(func.count()).select_from(Lead)) == 2
        job = s.scalar(select(LeadImportJob))
        assert job is not None and job.status == "succeeded" and job.report is not None
        assert job.report["imported"] == 2 and job.bytes_read == job.bytes_total > 0


def test_running_job_polls(world: dict[str, object]) -> None:
    client: TestClient = world["client"]  # type: ignore[assignment]
    ids: dict[str, uuid.UUID] = world["ids"]  # type: ignore[assignment]
    db: Database = world["db"]  # type: ignore[assignment]
    with db.tenant_session(ids["org"]) as s:
        job = LeadImportJob(
            organization_id=ids["org"], campaign_id=ids["campaign"], filename="big.csv",
            status="running", bytes_total=1000, bytes_read=250, rows_read=4000,
        )  # fmt: skip
        s.add(job)
        s.flush()
        job_id = job.id
    _as(client, world["tokens"]["viewer"][0])  # type: ignore[index]
    page = client.get(f"/leads/imports/{job_id}/progress")
    assert f'hx-get="/leads/imports/{job_id}/progress"' in page.text
    assert 'value="25"' in page.text and "4000 rows read" in page.text


def test_import_refusals(world: dict[str, object]) -> None:
    client: TestClient = world["client"]  # type: ignore[assignment]
    ids: dict[str, uuid.UUID] = world["ids"]  # type: ignore[assignment]
    assert client.get("/leads/import", follow_redirects=False).status_code == 303
    viewer_token, viewer_csrf = world["tokens"]["viewer"]  # type: ignore[index]
    _as(client, viewer_token)
    assert _post(client, viewer_csrf, ids["campaign"]).status_code == 403
    token, csrf = world["tokens"]["operator"]  # type: ignore[index]
    _as(client, token)
    assert _post(client, "forged", ids["campaign"]).status_code == 403
    assert _post(client, csrf, ids["other"]).status_code == 404
    assert client.get(f"/leads/imports/{uuid.uuid4()}").status_code == 404
    db: Database = world["db"]  # type: ignore[assignment]
    with db.system_session() as s:
        assert s.scalar(select(func.count()).select_from(Lead)) == 0
        assert s.scalar(select(func.count()).select_from(LeadImportJob)) == 0
