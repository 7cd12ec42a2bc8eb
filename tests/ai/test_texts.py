"""The embedded texts say what the lead and the profile are, from the shared conventions."""

from __future__ import annotations

from vectra.ai.texts import icp_text, lead_size_band, lead_text, size_band


def test_lead_text_reads_every_profile_field() -> None:
    text = lead_text(
        job_title="VP Sales",
        company_name="Acme Analytics",
        company_size=None,
        enrichment={
            "seniority": "vp",
            "department": "sales",
            "industry": "SaaS",
            "employees": 180,
            "country": "de",
            "keywords": ["outbound", "pipeline", "outbound"],
            "technologies": ["Salesforce", "Outreach"],
            "funding": {"stage": "Series B", "amount_usd": 30_000_000},
            "hiring": ["SDR", "Account Executive"],
            "signals": ["opened an office in Munich"],
            "notes": "ignored free text",
        },
    )
    assert text == (
        "VP Sales (vp, sales) at Acme Analytics. Industry: SaaS. Company size: 51-200. "
        "Country: DE. Keywords: outbound, pipeline. Technologies: Salesforce, Outreach. "
        "Signals: raised Series B; hiring SDR, Account Executive; opened an office in Munich."
    )


def test_lead_text_survives_missing_and_odd_data() -> None:
    assert lead_text(job_title=None, company_name=None, company_size=None, enrichment=None) == (
        "Professional."
    )
    odd = lead_text(
        job_title="  CTO ",
        company_name="",
        company_size="11-50",
        enrichment={
            "keywords": "fintech",
            "technologies": {"a": 1},
            "hiring": True,
            "employees": True,
        },
    )
    assert odd == "CTO. Company size: 11-50. Keywords: fintech. Signals: hiring."


def test_size_bands_follow_the_target_criteria_bands() -> None:
    assert [size_band(n) for n in (1, 10, 11, 50, 51, 200, 201, 999, 1001, 5000, 5001)] == [
        "1-10", "1-10", "11-50", "11-50", "51-200", "51-200", "201-500", "501-1000",
        "1001-5000", "1001-5000", "5001+",
    ]  # fmt: skip
    assert lead_size_band("51-200", {"employees": 9000}) == "51-200"  # the column wins
    assert lead_size_band(None, {"employees": 0}) is None


def test_icp_text_from_target_criteria_leaves_exclusions_out() -> None:
    text = icp_text(
        {
            "description": "Revenue leaders at fast-growing B2B software companies.",
            "job_titles": ["VP Sales", "Head of Sales"],
            "seniorities": ["vp", "director"],
            "industries": ["SaaS"],
            "company_sizes": ["51-200", "201-500"],
            "countries": ["de", "FR"],
            "keywords": ["outbound"],
            "exclude": {"industries": ["Retail"], "domains": ["competitor.com"]},
        }
    )
    assert text == (
        "Revenue leaders at fast-growing B2B software companies. "
        "VP Sales or Head of Sales (vp, director). Industry: SaaS. "
        "Company size: 51-200, 201-500. Country: DE, FR. Keywords: outbound."
    )
    assert "Retail" not in text and "competitor" not in text
    assert icp_text({}) == "B2B decision makers."
