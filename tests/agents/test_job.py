"""The queue job: a crash is recorded on the run (failed, with the error) and re-raised so
procrastinate retries; the retry runs the same row to success; a succeeded run is a no-op."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.factories import make_campaign, make_lead, make_organization
from vectra.accounts.actor import system_actor
from vectra.agents import qualifier, runner
from vectra.agents.models import AgentRun
from vectra.ai import tasks
from vectra.db.engine import Database
from vectra.leads.models import Lead


@pytest.fixture
def jobs_db(committed_database: Database) -> Iterator[Database]:
    tasks.use_database(committed_database)
    qualifier.configure(None)
    yield committed_database
    tasks.use_database(None)
    qualifier._client_set = False


def test_crash_then_retry(jobs_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    with jobs_db.system_session() as session:
        org = make_organization(session)
        campaign = make_campaign(session, org)
        lead = make_lead(session, campaign, status="enriched", job_title="CTO")
        run = runner.enqueue(session, system_actor(org.id), "bant_qualifier", campaign.id)
        org_id, run_id, lead_id = org.id, run.id, lead.id

    real = runner.agent_function
    calls: list[str] = []

    def crashing(agent: str) -> Any:
        def boom(*args: Any) -> dict[str, Any]:
            calls.append(agent)
            real(agent)(*args)  # does the work, then the worker "dies"
            raise RuntimeError("connection reset by peer")

        return boom

    monkeypatch.setattr(runner, "agent_function", crashing)
    with pytest.raises(RuntimeError):
        runner.run_job(str(org_id), str(run_id))
    with jobs_db.tenant_session(org_id) as session:
        row = session.get(AgentRun, run_id)
        assert row is not None and row.status == "failed"
        assert row.error_message == "RuntimeError: connection reset by peer"
        lead = session.get(Lead, lead_id)
        assert lead is not None and lead.status == "enriched"  # rolled back with the crash

    monkeypatch.setattr(runner, "agent_function", real)
    assert runner.run_job(str(org_id), str(run_id)) == {
        "run_id": str(run_id),
        "status": "succeeded",
    }
    with jobs_db.tenant_session(org_id) as session:
        row = session.get(AgentRun, run_id)
        assert row is not None and row.status == "succeeded" and row.error_message is None
        lead = session.get(Lead, lead_id)
        assert lead is not None and lead.status in ("qualified", "rejected")
        history_before = lead.bant_score

    # a duplicate delivery of the job changes nothing
    assert runner.run_job(str(org_id), str(run_id))["status"] == "succeeded"
    with jobs_db.tenant_session(org_id) as session:
        lead = session.get(Lead, lead_id)
        assert lead is not None and lead.bant_score == history_before
    assert calls == ["bant_qualifier"]
    with pytest.raises(Exception, match="not found"):
        runner.run_job(str(org_id), str(uuid.uuid4()))
