"""The BANT qualifier through the runner: thresholds, reasons in the status history, quoted
evidence, LLM refinement (local Chat Completions server) and weights fitted from outcomes."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.ai.llm_server import LLMServer, chat_completion
from tests.factories import make_campaign, make_lead, make_organization
from vectra.accounts.actor import system_actor
from vectra.agents import bant, calibration, qualifier, runner
from vectra.ai.llm import OpenAIChat
from vectra.leads.models import Lead
from vectra.leads.tables import LeadStatusHistory
from vectra.meetings.models import Meeting

STRONG = {
    "job_title": "Directeur commercial",
    "company_size": "201-500",
    "intent": "interested",
    "enrichment_data": {
        "funding": {"stage": "Series B", "amount_usd": 30_000_000, "announced_on": "2026-10-01"},
        "department": "sales",
        "keywords": ["outbound"],
        "technologies": ["Salesforce"],
        "icp_fit": 0.9,
        "hiring": ["SDR"],
        "signals": ["Budget approved for Q3"],
    },
}
WEAK = {
    "job_title": "Stagiaire",
    "company_size": "1-10",
    "enrichment_data": {"signals": ["Pas maintenant, plus tard"], "icp_fit": 0.1},
}


@pytest.fixture
def rules_only() -> Iterator[None]:
    qualifier.configure(None)
    yield
    qualifier.configure(None)
    qualifier._client_set = False


def _campaign(session: Session) -> Any:
    org = make_organization(session)
    campaign = make_campaign(
        session, org, bant_threshold=60, target_criteria={"keywords": ["outbound", "Salesforce"]}
    )
    strong = make_lead(session, campaign, status="enriched", **json.loads(json.dumps(STRONG)))
    weak = make_lead(session, campaign, status="enriched", **json.loads(json.dumps(WEAK)))
    return org, campaign, strong, weak


def _last_reason(session: Session, lead: Lead) -> tuple[str, str | None, str | None]:
    row = session.scalars(
        select(LeadStatusHistory)
        .where(LeadStatusHistory.lead_id == lead.id)
        .order_by(LeadStatusHistory.created_at.desc())
    ).first()
    assert row is not None
    return row.to_status, row.agent, row.reason


def test_qualifies_and_rejects_with_reasons(session: Session, rules_only: None) -> None:
    org, campaign, strong, weak = _campaign(session)
    run = runner.run_agent(session, system_actor(org.id), "bant_qualifier", campaign.id)
    assert run.status == "succeeded", run.error_message
    out = run.output_data or {}
    assert (out["leads"], out["qualified"], out["rejected"], out["threshold"]) == (2, 1, 1, 60)
    assert out["model"] == bant.MODEL and out["calibration"] is None and run.tokens_used == 0
    session.refresh(strong)
    session.refresh(weak)
    assert strong.status == "qualified" and (strong.bant_score or 0) >= 60
    assert weak.status == "rejected" and (weak.bant_score or 100) < 60
    to, agent, reason = _last_reason(session, weak)
    assert (to, agent) == ("rejected", "bant_qualifier")
    assert reason and reason.startswith(f"BANT {weak.bant_score} < threshold 60")
    to, _, reason = _last_reason(session, strong)
    assert to == "qualified" and reason and ">= threshold 60" in reason
    for lead in (strong, weak):
        breakdown = lead.bant_breakdown or {}
        texts = bant.lead_texts(lead)
        assert breakdown["model"] == bant.MODEL
        assert lead.bant_score == sum(breakdown[p]["score"] for p in bant.PARTS)
        for part in bant.PARTS:
            for item in breakdown[part]["evidence"]:
                assert item["quote"] in texts[item["source"]]


def test_campaign_weights_decide(session: Session, rules_only: None) -> None:
    org, campaign, _strong, weak = _campaign(session)
    actor = system_actor(org.id)
    # all the weight on timeline, where even the weak lead scores nothing: both rejected
    qualifier.set_weights(
        session, actor, campaign.id, {"budget": 0, "authority": 0, "need": 0, "timeline": 1}
    )
    run = runner.run_agent(session, actor, "bant_qualifier", campaign.id)
    assert (run.output_data or {})["weights"]["timeline"] == 1.0
    session.refresh(weak)
    assert weak.bant_score == 4 * (weak.bant_breakdown or {})["timeline"]["score"]


@pytest.fixture
def llm() -> Iterator[LLMServer]:
    server = LLMServer()
    qualifier.configure(OpenAIChat(model="gpt-4o-mini", api_key="k", base_url=f"{server.url}/v1"))
    yield server
    qualifier.configure(None)
    qualifier._client_set = False
    server.close()


def _answer(authority_quote: str) -> str:
    part = {
        "score": 25,
        "confidence": 0.9,
        "evidence": [{"source": "job_title", "quote": authority_quote}],
    }
    invented = {
        "score": 25,
        "confidence": 0.9,
        "evidence": [{"source": "notes", "quote": "CEO said they will buy"}],
    }
    return json.dumps(
        {
            "budget": invented,
            "authority": part,
            "need": invented,
            "timeline": {"score": 0, "confidence": 0.5, "evidence": []},
        }
    )


def test_llm_refines_only_with_real_quotes(session: Session, llm: LLMServer) -> None:
    org, campaign, _strong, weak = _campaign(session)
    rules = bant.breakdown(weak, campaign.target_criteria, dt.date.today())

    def respond(body: dict[str, Any]) -> Any:
        if "Stagiaire" in body["messages"][1]["content"]:
            return chat_completion(_answer("Stagiaire"), 700, 100)
        return chat_completion(_answer("Directeur commercial"), 800, 150)

    llm.responder = respond
    run = runner.run_agent(session, system_actor(org.id), "bant_qualifier", campaign.id)
    assert run.status == "succeeded", run.error_message
    assert run.tokens_used == 800 + 150 + 700 + 100
    assert (run.output_data or {})["llm_cost_usd"] > 0
    session.refresh(weak)
    breakdown = weak.bant_breakdown or {}
    assert breakdown["model"] == f"{bant.MODEL}+openai:gpt-4o-mini"
    # authority quoted the title: accepted; budget/need quoted nothing real: rules kept
    assert breakdown["authority"]["score"] == 25
    assert breakdown["authority"]["evidence"] == [{"source": "job_title", "quote": "Stagiaire"}]
    assert breakdown["budget"] == rules["budget"] and breakdown["need"] == rules["need"]
    assert breakdown["timeline"] == rules["timeline"]  # no evidence offered
    # the lead data went to the model as data
    sent = [r["body"]["messages"][1]["content"] for r in llm.requests]
    assert all("untrusted data" in m for m in sent)
    assert sum("Directeur commercial" in m for m in sent) == 1


def test_malformed_llm_answers_fail_the_run_and_change_nothing(
    session: Session, llm: LLMServer
) -> None:
    org, campaign, strong, _weak = _campaign(session)
    llm.script(chat_completion("I think this lead is great!", 10, 5))
    run = runner.run_agent(session, system_actor(org.id), "bant_qualifier", campaign.id)
    assert run.status == "failed"
    assert "malformed JSON twice" in (run.error_message or "")
    assert run.tokens_used == 30  # two attempts, still counted
    session.refresh(strong)
    assert strong.status == "enriched" and strong.bant_score is None


def _synthetic(n: int, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, size=(n, 4))
    # success driven by authority (strongly) and need; budget and timeline are noise
    logit = -3.0 + 5.0 * x[:, 1] + 2.5 * x[:, 2]
    y = (rng.uniform(0, 1, n) < 1 / (1 + np.exp(-logit))).astype(float)
    return x, y


def test_logistic_fit_moves_weights_toward_what_predicts_outcomes() -> None:
    x, y = _synthetic(600)
    fit = calibration.fit_weights(x, y)
    w = fit.weights
    assert w["authority"] > w["need"] > max(w["budget"], w["timeline"])
    assert sum(w.values()) == pytest.approx(4.0, abs=1e-3)
    assert fit.brier < fit.baseline_brier  # better calibrated than the base rate
    assert 0.1 < fit.brier < 0.25
    assert fit.samples == 600


def test_outcomes_refit_the_campaign_weights(session: Session, rules_only: None) -> None:
    org = make_organization(session)
    campaign = make_campaign(session, org)
    x, y = _synthetic(80, seed=3)
    when = dt.datetime(2027, 1, 4, 10)
    for i, (row, label) in enumerate(zip(x, y, strict=True)):
        breakdown = {
            p: {"score": int(v * 25 + 0.5), "confidence": 0.5, "evidence": []}
            for p, v in zip(bant.PARTS, row, strict=True)
        }
        lead = make_lead(session, campaign, status="completed", bant_breakdown=breakdown)
        session.add(
            Meeting(
                lead_id=lead.id,
                campaign_id=campaign.id,
                organization_id=org.id,
                scheduled_at=when + dt.timedelta(hours=i),
                outcome="won" if label else "lost",
            )
        )
    session.flush()
    actor = system_actor(org.id)
    too_few = runner.run_agent(session, actor, "bant_qualifier", campaign.id, {"min_meetings": 500})
    assert (too_few.output_data or {})["calibration"] is None
    run = runner.run_agent(session, actor, "bant_qualifier", campaign.id, {"min_meetings": 50})
    report = (run.output_data or {})["calibration"]
    assert report["samples"] == 80 and report["brier"] < report["baseline_brier"]
    session.refresh(campaign)
    stored = campaign.bant_weights or {}
    assert stored["source"] == "fitted" and stored["calibration"]["brier"] == report["brier"]
    assert stored["authority"] > stored["budget"] and stored["authority"] > stored["timeline"]
