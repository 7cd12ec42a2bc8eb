"""Read a lead's title and company text: seniority, department and industry in EN/FR/DE/ES.

Patterns are matched on accent-folded, lower-cased words; the first seniority rule that
matches wins, so "Senior Vice President" is a VP and "Head of Sales" a director. Each
result comes with the words that produced it, so the qualifier can quote them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from vectra.ai.texts import size_band

# (level, pattern) in priority order; patterns run on accent-folded lower-case text.
SENIORITY_RULES: list[tuple[str, str]] = [
    # VP first: "Vice President" contains "President" (a c_level title on its own).
    ("vp", r"\b(vp|svp|evp|avp|vice[- ]president(e)?|vicepresidente|vize ?prasident(in)?)\b"),
    (
        "c_level",
        r"\b(ceo|cto|cfo|coo|cmo|cro|cio|ciso|cpo|chief|founder|co-?founder|owner|"
        r"president|pdg|dg|directeur general|directrice generale|geschaftsfuhrer(in)?|"
        r"vorstand|inhaber(in)?|fundador(a)?|director general|directora general|"
        r"consejero delegado)\b",
    ),
    (
        "director",
        r"\b(director|directora|directeur|directrice|head of|head|leiter(in)?|"
        r"bereichsleiter(in)?|direktor(in)?|responsable de departement)\b",
    ),
    (
        "manager",
        r"\b(manager|managerin|gerente|jefe|jefa|responsable|chef|teamleiter(in)?|"
        r"abteilungsleiter(in)?|lead|supervisor(a)?|coordinator|coordinateur|coordinatrice|"
        r"encargad[oa])\b",
    ),
    ("senior", r"\b(senior|sr|principal|staff|lead engineer|experto|experte?|confirme)\b"),
    (
        "entry",
        r"\b(junior|jr|intern|stagiaire|praktikant(in)?|becario|becaria|trainee|"
        r"assistant(e)?|asistente|apprenti|werkstudent(in)?|graduate|associate)\b",
    ),
]
_SENIORITY = [(level, re.compile(p)) for level, p in SENIORITY_RULES]

DEPARTMENTS: list[tuple[str, str]] = [
    (
        "sales",
        r"\b(sales|vente|ventes|commercial|commerciale|vertrieb|ventas|business development|"
        r"account executive|revenue|cro|sdr|bdr)\b",
    ),
    ("marketing", r"\b(marketing|growth|brand|demand gen|cmo|mercadotecnia|communication)\b"),
    (
        "engineering",
        r"\b(engineering|engineer|developer|cto|software|ingenieur|ingeniero|"
        r"entwicklung|desarrollo|technique|technical|it|informatique|devops)\b",
    ),
    ("product", r"\b(product|produit|produkt|producto|cpo)\b"),
    ("finance", r"\b(finance|financial|cfo|comptab|finanzen|finanzas|controller|accounting)\b"),
    ("operations", r"\b(operations|coo|operaciones|betrieb|logistique|supply chain)\b"),
    ("hr", r"\b(hr|human resources|people|talent|recruit\w*|rh|personal|rrhh)\b"),
    ("executive", r"\b(ceo|founder|co-?founder|president|pdg|geschaftsfuhrer(in)?|owner)\b"),
]
_DEPARTMENTS = [(name, re.compile(p)) for name, p in DEPARTMENTS]

INDUSTRIES: list[tuple[str, tuple[str, ...]]] = [
    ("software", ("saas", "software", "cloud", "platform", "logiciel", "app", "api", "devops")),
    ("fintech", ("fintech", "payments", "banking", "bank", "finance", "insurance", "insurtech")),
    ("healthcare", ("health", "medical", "clinic", "pharma", "biotech", "sante", "gesundheit")),
    ("ecommerce", ("ecommerce", "e-commerce", "retail", "shop", "marketplace", "store")),
    ("manufacturing", ("manufacturing", "industrial", "factory", "industrie", "automotive")),
    ("education", ("education", "edtech", "school", "university", "learning", "formation")),
    ("logistics", ("logistics", "shipping", "freight", "transport", "supply chain")),
    ("marketing", ("agency", "marketing", "advertising", "media")),
    ("cybersecurity", ("security", "cybersecurity", "securite", "sicherheit")),
]


def fold(text: str) -> str:
    """Lower-case without accents (Geschäftsführer -> geschaftsfuhrer), spaces normalised."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", stripped).strip()


def seniority(title: str | None) -> tuple[str | None, str | None]:
    """(level, the matched words as written in the title) or (None, None)."""
    if not title:
        return None, None
    folded = fold(title)
    for level, pattern in _SENIORITY:
        found = pattern.search(folded)
        if found:
            return level, _original(title, found.group(0))
    return None, None


def _original(title: str, folded_match: str) -> str:
    """The words of `title` that fold to `folded_match` (so quotes are the lead's own text)."""
    words = title.split()
    n = len(folded_match.split())
    for i in range(len(words) - n + 1):
        candidate = " ".join(words[i : i + n])
        if folded_match in fold(candidate) and candidate in title:
            return candidate
    return title


def department(title: str | None) -> str | None:
    if not title:
        return None
    folded = fold(title)
    for name, pattern in _DEPARTMENTS:
        if pattern.search(folded):
            return name
    return None


def industry(texts: list[str]) -> str | None:
    haystack = " " + fold(" ".join(texts)) + " "
    words = set(re.findall(r"[a-z0-9\-]+", haystack))
    for name, keys in INDUSTRIES:
        if any((k in words) if " " not in k else (k in haystack) for k in keys):
            return name
    return None


def company_domain(email_domain: str, free_mail: bool, enrichment: Mapping[str, Any]) -> str | None:
    if not free_mail:
        return email_domain
    website = enrichment.get("website") or enrichment.get("company_website")
    if isinstance(website, str) and website.strip():
        host = re.sub(r"^[a-z]+://", "", website.strip().lower()).split("/")[0]
        return host.removeprefix("www.") or None
    return None


def enrich(
    *,
    job_title: str | None,
    company_name: str | None,
    company_size: str | None,
    email_domain: str,
    free_mail: bool,
    enrichment: Mapping[str, Any],
) -> tuple[dict[str, Any], str | None]:
    """The enrichment keys to add (never overwriting a known value) and the size band."""
    added: dict[str, Any] = {}
    domain = company_domain(email_domain, free_mail, enrichment)
    if domain and not enrichment.get("company_domain"):
        added["company_domain"] = domain
    level, _ = seniority(job_title)
    if level and not enrichment.get("seniority"):
        added["seniority"] = level
    dept = department(job_title)
    if dept and not enrichment.get("department"):
        added["department"] = dept
    if not enrichment.get("industry"):
        texts = [company_name or "", job_title or ""]
        for key in ("keywords", "technologies"):
            value = enrichment.get(key)
            if isinstance(value, list):
                texts += [str(v) for v in value]
        if isinstance(enrichment.get("notes"), str):
            texts.append(str(enrichment["notes"]))
        found = industry(texts)
        if found:
            added["industry"] = found
    band = None
    employees = enrichment.get("employees")
    if not company_size and isinstance(employees, int) and employees > 0:
        band = size_band(employees)
    return added, band
