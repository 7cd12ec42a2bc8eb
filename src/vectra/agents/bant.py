"""BANT scoring from a lead's own data: four sub-scores 0..25, each with quoted evidence.

Every quote is copied from a field of the lead (its title, company size, an enrichment
value...), so a sales manager can check each point against the record. `lead_texts` lists
what counts as the lead's data; `quote_is_in` is the check the tests and the LLM path use.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from vectra.agents.enrich import fold, seniority
from vectra.ai.texts import lead_size_band

PARTS = ("budget", "authority", "need", "timeline")
SENIORITY_POINTS = {"c_level": 25, "vp": 22, "director": 18, "manager": 12, "senior": 7, "entry": 3}
BAND_POINTS = {"1-10": 3, "11-50": 7, "51-200": 12, "201-500": 16, "501-1000": 18,
               "1001-5000": 20, "5001+": 20}  # fmt: skip
FUNDING_STAGE_POINTS = {"pre-seed": 2, "seed": 3, "series a": 5, "series b": 6, "series c": 7,
                        "series d": 7, "growth": 7, "ipo": 7, "public": 7}  # fmt: skip
NOT_NOW = re.compile(
    r"\b(not now|not right now|no budget|next year|maybe later|pas maintenant|plus tard|"
    r"nicht jetzt|spater|ahora no|mas adelante|el ano que viene|no interest|not interested)\b"
)
URGENT = re.compile(
    r"\b(this quarter|asap|urgent|evaluating|looking for|rfp|tender|ce trimestre|dieses quartal|"
    r"este trimestre|budget approved)\b"
)
MODEL = "rules-v1"

Evidence = dict[str, str]


def _flatten(prefix: str, value: Any) -> Iterator[tuple[str, str]]:
    if isinstance(value, Mapping):
        for k, v in value.items():
            yield from _flatten(f"{prefix}.{k}", v)
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            yield from _flatten(f"{prefix}[{i}]", v)
    elif isinstance(value, bool):
        yield prefix, json.dumps(value)  # quoted as stored: true / false
    elif value is not None:
        yield prefix, str(value)


def lead_texts(lead: Any) -> dict[str, str]:
    """Field path -> text for everything a quote may come from."""
    fields = {
        "job_title": lead.job_title, "company_name": lead.company_name,
        "company_size": lead.company_size, "intent": lead.intent,
    }  # fmt: skip
    texts = {k: str(v) for k, v in fields.items() if v}
    texts.update(_flatten("enrichment_data", lead.enrichment_data or {}))
    return texts


def quote_is_in(quote: str, texts: Mapping[str, str]) -> bool:
    return bool(quote) and any(quote in t for t in texts.values())


def _add(evidence: list[Evidence], source: str, quote: Any) -> None:
    """Quote the field's text as stored; blank text is no evidence."""
    if str(quote).strip():
        evidence.append({"source": source, "quote": str(quote)})


def _part(score: float, evidence: list[Evidence], signals: int, of: int) -> dict[str, Any]:
    confidence = 0.2 + 0.8 * min(signals, of) / of if signals else 0.1
    return {
        "score": round(min(max(score, 0.0), 25.0)),
        "confidence": round(confidence, 2),
        "evidence": evidence,
    }


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def budget(lead: Any, data: Mapping[str, Any]) -> dict[str, Any]:
    score, signals = 0.0, 0
    evidence: list[Evidence] = []
    band = lead_size_band(lead.company_size, data)
    if band in BAND_POINTS:
        signals += 1
        score += BAND_POINTS[band]
        if lead.company_size:
            _add(evidence, "company_size", lead.company_size)
        else:
            _add(evidence, "enrichment_data.employees", data["employees"])
    funding = data.get("funding")
    if isinstance(funding, Mapping) and (funding.get("stage") or funding.get("amount_usd")):
        signals += 1
        stage = str(funding.get("stage") or "")
        score += FUNDING_STAGE_POINTS.get(stage.lower(), 3 if stage else 0)
        if stage:
            _add(evidence, "enrichment_data.funding.stage", stage)
        amount = funding.get("amount_usd")
        if isinstance(amount, int | float) and not isinstance(amount, bool) and amount > 0:
            score += 3 if amount >= 10_000_000 else 1
            _add(evidence, "enrichment_data.funding.amount_usd", amount)
    return _part(score, evidence, signals, 2)


def authority(lead: Any, data: Mapping[str, Any]) -> dict[str, Any]:
    level, words = seniority(lead.job_title)
    evidence: list[Evidence] = []
    if level and words:
        _add(evidence, "job_title", words)
    elif isinstance(data.get("seniority"), str) and data["seniority"] in SENIORITY_POINTS:
        level = data["seniority"]
        _add(evidence, "enrichment_data.seniority", level)
    if level is None:
        return _part(0, evidence, 0, 1)
    dept = data.get("department")
    score = SENIORITY_POINTS[level]
    signals = 1
    if isinstance(dept, str) and dept:
        signals += 1
        _add(evidence, "enrichment_data.department", dept)
    return _part(score, evidence, signals, 2)


def need(lead: Any, data: Mapping[str, Any], criteria: Mapping[str, Any]) -> dict[str, Any]:
    score, signals = 0.0, 0
    evidence: list[Evidence] = []
    fit = data.get("icp_fit")
    if isinstance(fit, int | float) and not isinstance(fit, bool):
        signals += 1
        score += 15 * min(max(float(fit), 0.0), 1.0)
        _add(evidence, "enrichment_data.icp_fit", fit)
    wanted = {fold(str(k)) for k in criteria.get("keywords") or [] if str(k).strip()}
    shared = 0
    for key in ("keywords", "technologies"):
        items = data.get(key)
        if not isinstance(items, list):
            continue
        for i, item in enumerate(items):
            if isinstance(item, str) and fold(item) in wanted and shared < 5:
                shared += 1
                _add(evidence, f"enrichment_data.{key}[{i}]", item)
    if wanted:
        signals += 1
        score += 10 * min(shared / min(len(wanted), 3), 1.0)
    return _part(score, evidence, signals, 2)


def _hiring_evidence(hiring: Any) -> tuple[str, str] | None:
    """(source, quote) for a hiring signal: open roles, a text, a flag or a count."""
    if isinstance(hiring, str) and hiring.strip():
        return "enrichment_data.hiring", hiring
    if isinstance(hiring, list):
        for i, role in enumerate(hiring):
            if isinstance(role, str) and role.strip():
                return f"enrichment_data.hiring[{i}]", role
        return None
    if hiring is True:
        return "enrichment_data.hiring", "true"
    if isinstance(hiring, int | float) and not isinstance(hiring, bool) and hiring > 0:
        return "enrichment_data.hiring", str(hiring)
    return None


def timeline(lead: Any, data: Mapping[str, Any], today: dt.date) -> dict[str, Any]:
    score, signals = 8.0, 0  # no signal: neither soon nor never
    evidence: list[Evidence] = []
    funding = data.get("funding")
    announced = _date(funding.get("announced_on")) if isinstance(funding, Mapping) else None
    if announced is not None and isinstance(funding, Mapping):
        signals += 1
        months = (today - announced).days / 30.4
        score += 8 if months <= 6 else 4 if months <= 12 else 0
        _add(evidence, "enrichment_data.funding.announced_on", funding["announced_on"])
    hiring = _hiring_evidence(data.get("hiring"))
    if hiring is not None:  # points only with a quote that says so
        signals += 1
        score += 5
        _add(evidence, *hiring)
    if lead.intent in ("interested", "meeting_request"):
        signals += 1
        score += 8
        _add(evidence, "intent", lead.intent)
    for i, signal in enumerate(data.get("signals") or []):
        if not isinstance(signal, str):
            continue
        if NOT_NOW.search(fold(signal)):
            signals += 1
            score -= 10
            _add(evidence, f"enrichment_data.signals[{i}]", signal)
        elif URGENT.search(fold(signal)):
            signals += 1
            score += 6
            _add(evidence, f"enrichment_data.signals[{i}]", signal)
    if lead.intent == "not_now":
        signals += 1
        score -= 10
        _add(evidence, "intent", lead.intent)
    return _part(score, evidence, signals, 3)


def breakdown(lead: Any, criteria: Mapping[str, Any], today: dt.date) -> dict[str, Any]:
    data = lead.enrichment_data or {}
    return {
        "budget": budget(lead, data),
        "authority": authority(lead, data),
        "need": need(lead, data, criteria),
        "timeline": timeline(lead, data, today),
        "model": MODEL,
    }


def total(parts: Mapping[str, Any], weights: Mapping[str, float]) -> int:
    """0..100: the weighted mean sub-score (0..25) times four; equal weights = plain sum."""
    wsum = sum(max(float(weights.get(p, 1.0)), 0.0) for p in PARTS) or 1.0
    mean = sum(max(float(weights.get(p, 1.0)), 0.0) * parts[p]["score"] for p in PARTS) / wsum
    return round(min(max(mean * 4, 0), 100))
