"""CSV import through the API and the service, on the real database."""

from __future__ import annotations

import io
import string

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.factories import make_campaign, make_lead, make_organization, make_user
from vectra.accounts import sessions
from vectra.accounts.actor import system_actor
from vectra.accounts.models import Organization
from vectra.errors import InvalidInput
from vectra.leads import importer, suppression
from vectra.leads.models import Lead

FRENCH = (
    "Prénom;Nom;E-mail;Société;Effectif;Fonction;Secteur;Couleur préférée\r\n"
    'José;Núñez;Jose@Example.com;"Acme; SA";1 200;"CEO\nfondateur";SaaS;bleu\r\n'
    "Ana;Ruiz;jose@EXAMPLE.com;Acme;10;CTO;SaaS;vert\r\n"
    "Zoé;Blanc;not-an-email;X;;;;\r\n"
    "Bob;Stop;bob@blocked.example;B;;;;\r\n"
    "Eve;Old;eve@example.org;E;;;;\r\n"
)


def headers_for(
    session: Session, organization: Organization, role: str = "operator"
) -> dict[str, str]:
    user = make_user(session, organization, role=role)
    return {"Authorization": f"Bearer {sessions.issue_session(session, user).token}"}


def upload(
    client: TestClient, campaign_id: object, data: bytes, headers: dict[str, str], **form: str
):  # type: ignore[no-untyped-def]
    return client.post(
        f"/api/v1/campaigns/{campaign_id}/leads/import",
        files={"file": ("leads.csv", data, "text/csv")},
        data=form,
        headers=headers,
    )


class TestImportEndpoint:
    def test_anonymous(self, client: TestClient, session: Session) -> None:
        campaign = make_campaign(session, make_organization(session))
        assert upload(client, campaign.id, b"email\na@b.co\n", {}).status_code == 401

    def test_wrong_role(self, client: TestClient, session: Session) -> None:
        org = make_organization(session)
        campaign = make_campaign(session, org)
        response = upload(
            client, campaign.id, b"email\na@b.co\n", headers_for(session, org, "viewer")
        )
        assert response.status_code == 403

    def test_other_tenant_is_404(self, client: TestClient, session: Session) -> None:
        foreign = make_campaign(session, make_organization(session))
        headers = headers_for(session, make_organization(session))
        assert upload(client, foreign.id, b"email\na@b.co\n", headers).status_code == 404

    def test_unreadable_file_stores_nothing(self, client: TestClient, session: Session) -> None:
        org = make_organization(session)
        campaign = make_campaign(session, org)
        response = upload(client, campaign.id, b"name,company\nAda,X\n", headers_for(session, org))
        assert response.status_code == 422
        assert response.json()["error"]["field"] == "file"
        assert "email column" in response.json()["error"]["message"]
        count = session.scalar(
            select(func.count()).select_from(Lead).where(Lead.campaign_id == campaign.id)
        )
        assert count == 0

    @pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1252"])
    def test_real_export_in_any_encoding(
        self, client: TestClient, session: Session, encoding: str
    ) -> None:
        org = make_organization(session)
        campaign = make_campaign(session, org)
        make_lead(session, campaign, email="eve@example.org")
        suppression.suppress(session, system_actor(org.id), "blocked.example", "manual")
        response = upload(client, campaign.id, FRENCH.encode(encoding), headers_for(session, org))
        assert response.status_code == 201, response.text
        report = response.json()
        assert report["rows"] == 5
        assert (
            report["imported"],
            report["duplicates"],
            report["rejected"],
            report["suppressed"],
        ) == (1, 2, 1, 1)
        assert report["errors"] == [
            {"row": 4, "column": "E-mail", "reason": report["errors"][0]["reason"]}
        ]
        lead = session.scalar(
            select(Lead).where(Lead.campaign_id == campaign.id, Lead.email == "jose@example.com")
        )
        assert lead is not None
        assert (lead.first_name, lead.last_name, lead.company_name) == ("José", "Núñez", "Acme; SA")
        assert lead.job_title == "CEO\nfondateur"
        assert lead.company_size == "1001-5000"
        assert lead.enrichment_data == {
            "employees": 1200,
            "industry": "SaaS",
            "couleur_preferee": "bleu",
        }
        job = client.get(
            f"/api/v1/lead-imports/{report['job_id']}", headers=headers_for(session, org)
        )
        assert job.json()["status"] == "succeeded" and job.json()["report"]["imported"] == 1

    def test_column_map_override(self, client: TestClient, session: Session) -> None:
        org = make_organization(session)
        campaign = make_campaign(session, org)
        data = b"Contact point,Who\nada@x.example,Ada\n"
        response = upload(
            client, campaign.id, data, headers_for(session, org),
            column_map='{"Contact point": "email", "Who": "first_name"}',
        )  # fmt: skip
        assert response.status_code == 201, response.text
        assert response.json()["imported"] == 1
        bad = upload(client, campaign.id, data, headers_for(session, org), column_map="[1]")
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "column_map"


def test_quota_refuses_rows_beyond_the_plan(session: Session) -> None:
    org = make_organization(session)  # a trial: 1,000 leads per period
    campaign = make_campaign(session, org)
    rows = "".join(f"lead{i}@q.example\n" for i in range(1005))
    report = importer.import_leads(
        session, system_actor(org.id), campaign.id, io.BytesIO(("email\n" + rows).encode())
    )
    assert report.imported == 1000
    assert report.quota_refused == 5
    assert report.rows == report.imported + report.duplicates + report.rejected + report.suppressed


# --- property: random files never crash, never half-store, always add up ------------------

_cell = st.text(alphabet=string.ascii_letters + 'éü@.,;\t"\r\n -', max_size=12)
_emails = st.sampled_from(["a@x.example", "A@X.example", "b@y.example", "bad", "", "c@z.example"])


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(st.tuples(_emails, _cell, _cell), max_size=15),
    delimiter=st.sampled_from([",", ";", "\t"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252", "latin-1"]),
    quoting=st.sampled_from([0, 1, 2]),
    junk=st.binary(max_size=40),
)
def test_random_files_never_crash_and_always_add_up(
    session: Session, rows: list[tuple[str, str, str]], delimiter: str, encoding: str,
    quoting: int, junk: bytes,
) -> None:  # fmt: skip
    import csv

    org = make_organization(session)
    campaign = make_campaign(session, org)
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, quoting=quoting).writerows(
        [("Email", "First Name", "Company"), *rows]
    )
    try:
        data = out.getvalue().encode(encoding)
    except UnicodeEncodeError:
        data = out.getvalue().encode("utf-8")
    for payload in (data, data + junk, junk):
        before = session.scalar(
            select(func.count()).select_from(Lead).where(Lead.campaign_id == campaign.id)
        )
        try:
            with session.begin_nested():
                report = importer.import_leads(
                    session, system_actor(org.id), campaign.id, io.BytesIO(payload)
                )
        except InvalidInput as exc:
            assert exc.field == "file"
            after = session.scalar(
                select(func.count()).select_from(Lead).where(Lead.campaign_id == campaign.id)
            )
            assert after == before  # nothing half-stored
            continue
        assert (
            report.rows == report.imported + report.duplicates + report.rejected + report.suppressed
        )
        after = session.scalar(
            select(func.count()).select_from(Lead).where(Lead.campaign_id == campaign.id)
        )
        assert after - before == report.imported
