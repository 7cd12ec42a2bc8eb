"""The texts that are embedded: a lead's profile and a campaign's ideal customer profile.

Both read alike ("VP Sales at Acme. Industry: SaaS. Company size: 51-200...") so that a lead
close to the profile lands close to it in the embedding space. Exclusions are not embedded:
negations embed poorly ("not retail" sits near "retail"); they are hard filters instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# Shorter texts embed faster (cost grows with the longest input of a batch): cap list fields.
MAX_LIST_ITEMS = 8
MAX_SIGNALS = 4
SIZE_BANDS = ("1-10", "11-50", "51-200", "201-500", "501-1000", "1001-5000", "5001+")


def size_band(employees: int) -> str:
    """The target-criteria band ("51-200"...) of an employee count."""
    for band in SIZE_BANDS[:-1]:
        if employees <= int(band.split("-")[1]):
            return band
    return SIZE_BANDS[-1]


def lead_size_band(company_size: str | None, enrichment: Mapping[str, Any]) -> str | None:
    """The lead's company size band: its `company_size` column, else from `employees`."""
    if company_size and company_size.strip():
        return company_size.strip()
    employees = enrichment.get("employees")
    if isinstance(employees, int | float) and not isinstance(employees, bool) and employees > 0:
        return size_band(int(employees))
    return None


def _items(value: Any, limit: int = MAX_LIST_ITEMS) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, Iterable) or isinstance(value, Mapping):
        return []
    out: list[str] = []
    for item in value:
        text = str(item).strip()
        if text and text not in out:
            out.append(text)
        if len(out) >= limit:
            break
    return out


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip()
    return text or None


def _funding(value: Any) -> str | None:
    if isinstance(value, Mapping):
        stage = _text(value.get("stage"))
        return f"raised {stage}" if stage else None
    return None


def _hiring(value: Any) -> str | None:
    if value is True:
        return "hiring"
    roles = _items(value, 3)
    return f"hiring {', '.join(roles)}" if roles else None


def lead_text(
    *,
    job_title: str | None,
    company_name: str | None,
    company_size: str | None,
    enrichment: Mapping[str, Any] | None,
) -> str:
    """The profile sentence embedded for a lead (title, seniority, company, industry...)."""
    data: Mapping[str, Any] = enrichment or {}
    role = _text(job_title) or "Professional"
    qualifiers = [q for q in (_text(data.get("seniority")), _text(data.get("department"))) if q]
    if qualifiers:
        role += f" ({', '.join(qualifiers)})"
    company = _text(company_name)
    parts = [f"{role} at {company}" if company else role]
    industry = _text(data.get("industry"))
    if industry:
        parts.append(f"Industry: {industry}")
    band = lead_size_band(company_size, data)
    if band:
        parts.append(f"Company size: {band}")
    country = _text(data.get("country"))
    if country:
        parts.append(f"Country: {country.upper()}")
    keywords = _items(data.get("keywords"))
    if keywords:
        parts.append(f"Keywords: {', '.join(keywords)}")
    technologies = _items(data.get("technologies"))
    if technologies:
        parts.append(f"Technologies: {', '.join(technologies)}")
    signals = [
        s for s in (_funding(data.get("funding")), _hiring(data.get("hiring"))) if s
    ] + _items(data.get("signals"), MAX_SIGNALS)
    if signals:
        parts.append(f"Signals: {'; '.join(signals[:MAX_SIGNALS])}")
    return ". ".join(parts) + "."


def icp_text(criteria: Mapping[str, Any] | None) -> str:
    """The ideal-customer-profile sentence embedded for a campaign's `target_criteria`."""
    data: Mapping[str, Any] = criteria or {}
    parts: list[str] = []
    description = _text(data.get("description"))
    if description:
        parts.append(description.rstrip("."))
    titles = _items(data.get("job_titles"))
    seniorities = _items(data.get("seniorities"))
    if titles or seniorities:
        role = " or ".join(titles) if titles else "Decision makers"
        if seniorities:
            role += f" ({', '.join(seniorities)})"
        parts.append(role)
    for label, key in (
        ("Industry", "industries"),
        ("Company size", "company_sizes"),
        ("Country", "countries"),
        ("Keywords", "keywords"),
    ):
        values = _items(data.get(key))
        if key == "countries":
            values = [v.upper() for v in values]
        if values:
            parts.append(f"{label}: {', '.join(values)}")
    return (". ".join(parts) + ".") if parts else "B2B decision makers."
