"""The opening line of a draft, written from the lead's enrichment, every claim traceable.

The offline writer picks the strongest fact the lead's data holds (a signal, a funding round,
open roles, a technology, the industry) and says only that. It returns the sentence with the
exact fields it used (`enrichment.funding.stage`...), stored on the draft so a reviewer can
check each claim against the lead. An LLM may rewrite the line when one is configured
(`opening_line_writer` seam); its output must keep to the same facts, so the fields are
passed, not the whole lead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

_STAGES = {
    "pre_seed": "pre-seed",
    "seed": "seed",
    "series_a": "Series A",
    "series_b": "Series B",
    "series_c": "Series C",
    "series_d": "Series D",
}


@dataclass
class OpeningLine:
    """A sentence and the lead fields (dotted paths) and values it rests on."""

    text: str | None
    fields_used: dict[str, Any] = field(default_factory=dict)
    writer: str = "rules"

    def as_json(self) -> dict[str, Any]:
        return {"opening_line": self.text, "fields_used": self.fields_used, "writer": self.writer}


def _first_text(value: Any) -> str | None:
    if isinstance(value, list):
        for item in value:
            if isinstance(item, str) and item.strip():
                return item.strip()
        return None
    return value.strip() if isinstance(value, str) and value.strip() else None


def _funding_line(funding: Any, company: str) -> OpeningLine | None:
    if not isinstance(funding, dict) or not funding.get("stage"):
        return None
    stage_raw = str(funding["stage"])
    stage = _STAGES.get(stage_raw.lower().replace(" ", "_").replace("-", "_"), stage_raw)
    used: dict[str, Any] = {"enrichment.funding.stage": stage_raw}
    amount = funding.get("amount_usd")
    if isinstance(amount, int | float) and amount >= 1_000_000:
        used["enrichment.funding.amount_usd"] = amount
        money = f"${amount / 1_000_000:.0f}M"
        return OpeningLine(f"Congratulations on {company}'s {money} {stage} round.", used)
    return OpeningLine(f"Congratulations on {company}'s {stage} round.", used)


def rules_opening_line(lead: dict[str, Any], enrichment: dict[str, Any]) -> OpeningLine:
    """The offline opening line: one fact from the lead's data, or none when there is none."""
    company = lead.get("company_name") or enrichment.get("company_domain") or "your team"
    company_field = "company_name" if lead.get("company_name") else "enrichment.company_domain"

    def with_company(line: OpeningLine) -> OpeningLine:
        if company != "your team" and company in (line.text or ""):
            line.fields_used[company_field] = company
        return line

    signal = _first_text(enrichment.get("signals"))
    if signal:
        return with_company(
            OpeningLine(f"I noticed {signal.rstrip('.')}.", {"enrichment.signals[0]": signal})
        )
    funded = _funding_line(enrichment.get("funding"), company)
    if funded:
        return with_company(funded)
    hiring = enrichment.get("hiring")
    role = _first_text(hiring)
    if role:
        line = OpeningLine(f"I saw {company} is hiring a {role}.", {"enrichment.hiring[0]": role})
        return with_company(line)
    if hiring is True:
        return with_company(
            OpeningLine(f"I saw {company} is growing the team.", {"enrichment.hiring": True})
        )
    tech = _first_text(enrichment.get("technologies"))
    if tech:
        return with_company(
            OpeningLine(
                f"I noticed {company} runs on {tech}.", {"enrichment.technologies[0]": tech}
            )
        )
    industry = _first_text(enrichment.get("industry"))
    if industry and lead.get("job_title"):
        return OpeningLine(
            f"As {_article(lead['job_title'])} {lead['job_title']} in {industry}, "
            "you likely see this first-hand.",
            {"job_title": lead["job_title"], "enrichment.industry": industry},
        )
    return OpeningLine(None, {})


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


# An LLM writer takes the rules' line and its facts and returns a rewrite (or None to keep
# the rules' line). Installed by the AI domain when an LLM is configured; absent offline.
OpeningLineWriter = Callable[[OpeningLine, dict[str, Any]], str | None]
opening_line_writer: OpeningLineWriter | None = None


def opening_line(lead: dict[str, Any], enrichment: dict[str, Any]) -> OpeningLine:
    """The draft's opening line: the rules' sentence, rewritten by the LLM when configured."""
    line = rules_opening_line(lead, enrichment)
    if line.text and opening_line_writer is not None:
        rewritten = opening_line_writer(line, dict(line.fields_used))
        if rewritten and rewritten.strip():
            return OpeningLine(rewritten.strip(), line.fields_used, writer="llm")
    return line
