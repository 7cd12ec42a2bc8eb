"""BANT rules: every quote is the lead's own text (hypothesis over generated leads), the
shape of the breakdown, and the signals that move each sub-score."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from vectra.agents import bant

TODAY = dt.date(2027, 3, 1)
CRITERIA = {"keywords": ["outbound", "Salesforce", "pipeline"]}


@dataclass
class FakeLead:
    job_title: str | None = None
    company_name: str | None = None
    company_size: str | None = None
    intent: str | None = None
    enrichment_data: dict[str, Any] = field(default_factory=dict)


TITLES = [
    "VP Sales",
    "Directeur commercial",
    "Leiter Vertrieb",
    "Jefe de ventas",
    "CTO",
    "Head of Growth",
    "Stagiaire",
    "Geschäftsführerin",
    "Vicepresidente de Ventas",
    "Senior Engineer",
    "Chef de projet",
    "Director General",
]
text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30)
funding = st.fixed_dictionaries(
    {},
    optional={
        "stage": st.sampled_from(["Seed", "Series A", "series b", "Growth", "weird"]) | text,
        "amount_usd": st.integers(0, 10**9) | st.floats(0, 1e9, allow_nan=False),
        "announced_on": st.dates(dt.date(2020, 1, 1), dt.date(2027, 3, 1)).map(str) | text,
    },
)
enrichment = st.fixed_dictionaries(
    {},
    optional={
        "employees": st.integers(-5, 100_000),
        "seniority": st.sampled_from(list(bant.SENIORITY_POINTS)) | text,
        "department": st.sampled_from(["sales", "marketing"]) | text,
        "keywords": st.lists(st.sampled_from(["Outbound", "pipeline", "crm"]) | text, max_size=5),
        "technologies": st.lists(st.sampled_from(["salesforce", "HubSpot"]) | text, max_size=4),
        "funding": funding,
        "hiring": st.booleans() | st.integers(-3, 50) | st.lists(text, max_size=3) | text,
        "signals": st.lists(
            st.sampled_from(
                [
                    "Not now, maybe next year",
                    "Budget approved for Q3",
                    "Pas maintenant",
                    "Evaluating vendors this quarter",
                ]
            )
            | text,
            max_size=4,
        ),
        "icp_fit": st.floats(0, 1, allow_nan=False),
    },
)
leads = st.builds(
    FakeLead,
    job_title=st.none() | st.sampled_from(TITLES) | text,
    company_name=st.none() | text,
    company_size=st.none() | st.sampled_from(list(bant.BAND_POINTS)) | text,
    intent=st.none() | st.sampled_from(["interested", "not_now", "meeting_request", "other"]),
    enrichment_data=enrichment,
)


@settings(max_examples=400, deadline=None)
@given(leads)
def test_every_quote_is_in_the_leads_data(lead: FakeLead) -> None:
    result = bant.breakdown(lead, CRITERIA, TODAY)
    assert set(result) == {*bant.PARTS, "model"} and result["model"] == bant.MODEL
    texts = bant.lead_texts(lead)
    for part in bant.PARTS:
        sub = result[part]
        assert set(sub) == {"score", "confidence", "evidence"}
        assert isinstance(sub["score"], int) and 0 <= sub["score"] <= 25
        assert 0.0 <= sub["confidence"] <= 1.0
        for item in sub["evidence"]:
            assert set(item) == {"source", "quote"}
            assert bant.quote_is_in(item["quote"], texts), (part, item, texts)
            # the source names the field the quote came from
            assert item["quote"] in texts[item["source"]], (item, texts)
    assert 0 <= bant.total(result, {}) <= 100
    hiring = (lead.enrichment_data or {}).get("hiring")
    if hiring is True:  # a bare flag still earns its points only with a quote
        assert {"source": "enrichment_data.hiring", "quote": "true"} in result["timeline"][
            "evidence"
        ]


def test_signals_move_the_right_sub_scores() -> None:
    strong = FakeLead(
        job_title="Directeur commercial",
        company_size="201-500",
        intent="interested",
        enrichment_data={
            "funding": {
                "stage": "Series B",
                "amount_usd": 30_000_000,
                "announced_on": "2027-01-10",
            },
            "department": "sales",
            "keywords": ["outbound"],
            "technologies": ["Salesforce"],
            "icp_fit": 0.9,
            "hiring": ["SDR", "AE"],
            "signals": ["Budget approved for Q3"],
        },
    )
    weak = FakeLead(
        job_title="Stagiaire",
        company_size="1-10",
        enrichment_data={"signals": ["Not now, maybe next year"], "icp_fit": 0.1},
    )
    s, w = bant.breakdown(strong, CRITERIA, TODAY), bant.breakdown(weak, CRITERIA, TODAY)
    for part in bant.PARTS:
        assert s[part]["score"] > w[part]["score"], part
    assert s["authority"]["evidence"] == [
        {"source": "job_title", "quote": "Directeur"},
        {"source": "enrichment_data.department", "quote": "sales"},
    ]
    assert {"source": "enrichment_data.signals[0]", "quote": "Not now, maybe next year"} in w[
        "timeline"
    ]["evidence"]
    quotes = [e["quote"] for e in s["need"]["evidence"]]
    assert quotes == ["0.9", "outbound", "Salesforce"]
    assert bant.total(s, {}) > 75 > 30 > bant.total(w, {})


def test_weights_change_the_total() -> None:
    parts = {p: {"score": v} for p, v in zip(bant.PARTS, (25, 0, 0, 0), strict=True)}
    assert bant.total(parts, {}) == 25
    assert bant.total(parts, {"budget": 3, "authority": 1, "need": 0, "timeline": 0}) == 75
