"""Title parsing in EN/FR/DE/ES, departments, industries, company domain and size band."""

from __future__ import annotations

import pytest

from vectra.agents import enrich


@pytest.mark.parametrize(
    ("title", "level", "words"),
    [
        ("CTO", "c_level", "CTO"),
        ("Chief Revenue Officer", "c_level", "Chief"),
        ("Geschäftsführer", "c_level", "Geschäftsführer"),
        ("Director General", "c_level", "Director General"),
        ("PDG", "c_level", "PDG"),
        ("VP Sales EMEA", "vp", "VP"),
        ("Senior Vice President, Marketing", "vp", "Vice President,"),
        ("Vicepresidente de Ventas", "vp", "Vicepresidente"),
        ("Directeur commercial", "director", "Directeur"),
        ("Directora de Marketing", "director", "Directora"),
        ("Head of Growth", "director", "Head of"),
        ("Leiter Vertrieb", "director", "Leiter"),
        ("Jefe de ventas", "manager", "Jefe"),
        ("Responsable marketing", "manager", "Responsable"),
        ("Sales Manager", "manager", "Manager"),
        ("Senior Software Engineer", "senior", "Senior"),
        ("Stagiaire marketing", "entry", "Stagiaire"),
        ("Werkstudent Vertrieb", "entry", "Werkstudent"),
        ("Pastry Chef", "manager", "Chef"),
        ("Astronaut", None, None),
    ],
)
def test_seniority(title: str, level: str | None, words: str | None) -> None:
    assert enrich.seniority(title) == (level, words)
    if words:
        assert words in title  # quotable: the lead's own text


@pytest.mark.parametrize(
    ("title", "department"),
    [
        ("Directeur commercial", "sales"),
        ("Leiter Vertrieb", "sales"),
        ("Jefe de ventas", "sales"),
        ("Head of Growth Marketing", "marketing"),
        ("CTO", "engineering"),
        ("CFO", "finance"),
        ("Talent Acquisition Lead", "hr"),
        ("Astronaut", None),
    ],
)
def test_department(title: str, department: str | None) -> None:
    assert enrich.department(title) == department


def test_enrich_fills_only_what_is_missing() -> None:
    added, band = enrich.enrich(
        job_title="VP Sales",
        company_name="Cloudly SaaS",
        company_size=None,
        email_domain="cloudly.fr",
        free_mail=False,
        enrichment={"employees": 150, "department": "revenue"},
    )
    assert added == {
        "company_domain": "cloudly.fr",
        "seniority": "vp",
        "industry": "software",
    }
    assert band == "51-200"
    free, _ = enrich.enrich(
        job_title=None, company_name=None, company_size="11-50", email_domain="gmail.com",
        free_mail=True, enrichment={"website": "https://www.bakery.de/about", "industry": "Food"},
    )  # fmt: skip
    assert free == {"company_domain": "bakery.de"}
