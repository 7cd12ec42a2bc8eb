"""Synthetic but realistic prospects for the demo, always the same for the same seed.

Every company lives under the reserved `.example` TLD (RFC 2606), so no address can belong
to a real person even if a demo mailbox were later pointed at a real server. Most companies
fit the demo campaign (B2B software and fintech, 51-1000 people, its countries); some are
deliberately off (too small, too big, another industry or country, an excluded competitor,
interns, role addresses, a company whose domain no longer exists) so the agents have
something to reject.
"""

from __future__ import annotations

import csv
import io
import random
import unicodedata
from dataclasses import dataclass, field

DEFAULT_SEED = 20_260_101
DEAD_DOMAIN = "quillfeather-studios.example"
COMPETITOR_DOMAIN = "outreachly.example"

# country -> (share of fitting companies, cities with their IANA zone, name locale)
COUNTRIES: dict[str, tuple[int, list[tuple[str, str]], str]] = {
    "US": (30, [("New York", "America/New_York"), ("San Francisco", "America/Los_Angeles"),
                ("Austin", "America/Chicago"), ("Boston", "America/New_York"),
                ("Denver", "America/Denver")], "en"),
    "GB": (12, [("London", "Europe/London"), ("Manchester", "Europe/London"),
                ("Edinburgh", "Europe/London")], "en"),
    "DE": (11, [("Berlin", "Europe/Berlin"), ("Munich", "Europe/Berlin"),
                ("Hamburg", "Europe/Berlin")], "de"),
    "FR": (8, [("Paris", "Europe/Paris"), ("Lyon", "Europe/Paris")], "fr"),
    "NL": (6, [("Amsterdam", "Europe/Amsterdam"), ("Utrecht", "Europe/Amsterdam")], "nl"),
    "SE": (4, [("Stockholm", "Europe/Stockholm"), ("Gothenburg", "Europe/Stockholm")], "sv"),
    "ES": (4, [("Madrid", "Europe/Madrid"), ("Barcelona", "Europe/Madrid")], "es"),
    "IE": (4, [("Dublin", "Europe/Dublin")], "en"),
    "CA": (5, [("Toronto", "America/Toronto"), ("Vancouver", "America/Vancouver")], "en"),
    "IL": (4, [("Tel Aviv", "Asia/Jerusalem")], "he"),
    "IN": (5, [("Bengaluru", "Asia/Kolkata"), ("Pune", "Asia/Kolkata")], "in"),
    "JP": (3, [("Tokyo", "Asia/Tokyo")], "ja"),
    "SG": (4, [("Singapore", "Asia/Singapore")], "en"),
}  # fmt: skip
TARGET_COUNTRIES = sorted(COUNTRIES)
OTHER_COUNTRIES: dict[str, tuple[list[tuple[str, str]], str]] = {
    "BR": ([("São Paulo", "America/Sao_Paulo")], "pt"),
    "ZA": ([("Cape Town", "Africa/Johannesburg")], "en"),
    "MX": ([("Mexico City", "America/Mexico_City")], "es"),
}

NAMES: dict[str, tuple[list[str], list[str]]] = {
    "en": (["Olivia", "James", "Emma", "Liam", "Ava", "Noah", "Sophia", "Ethan", "Mia", "Lucas",
            "Grace", "Henry", "Chloe", "Owen", "Hannah", "Caleb", "Zoe", "Nathan", "Ruby", "Isaac",
            "Megan", "Ryan", "Laura", "Daniel", "Priya", "Marcus", "Aisha", "Connor"],
           ["Smith", "Johnson", "Brown", "Walker", "Hughes", "Bennett", "Carter", "Murphy",
            "Kelly", "Turner", "Campbell", "Reed", "Foster", "Hayes", "Price", "Morgan", "Ellis",
            "Sullivan", "Brooks", "Ward", "Patel", "O'Brien", "Fraser", "Coleman"]),
    "de": (["Lena", "Jonas", "Anna", "Felix", "Marie", "Lukas", "Sophie", "Paul", "Katharina",
            "Maximilian", "Julia", "Tobias", "Laura", "Florian", "Jana", "Moritz"],
           ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Becker", "Wagner", "Hoffmann",
            "Schäfer", "Koch", "Richter", "Klein", "Wolf", "Krüger", "Neumann", "Braun"]),
    "fr": (["Camille", "Louis", "Chloé", "Hugo", "Léa", "Julien", "Manon", "Thomas", "Inès",
            "Antoine", "Claire", "Mathieu", "Élodie", "Nicolas"],
           ["Martin", "Bernard", "Dubois", "Durand", "Lefèvre", "Moreau", "Laurent", "Girard",
            "Roux", "Fontaine", "Chevalier", "Lambert", "Faure", "Rousseau"]),
    "nl": (["Sanne", "Daan", "Fleur", "Bram", "Lotte", "Joris", "Eva", "Thijs", "Anouk", "Ruben"],
           ["de Jong", "Jansen", "de Vries", "van Dijk", "Bakker", "Visser", "Smit", "Meijer",
            "Mulder", "de Boer", "Vos", "Peters"]),
    "sv": (["Elsa", "Erik", "Maja", "Oskar", "Astrid", "Johan", "Ingrid", "Anders", "Linnea"],
           ["Andersson", "Johansson", "Karlsson", "Nilsson", "Lindqvist", "Berg", "Lund",
            "Holm", "Sjöberg"]),
    "es": (["Lucía", "Pablo", "Carmen", "Javier", "Sofía", "Diego", "Marta", "Alejandro",
            "Elena", "Sergio"],
           ["García", "Fernández", "López", "Martínez", "Sánchez", "Romero", "Navarro",
            "Torres", "Ruiz", "Domínguez"]),
    "he": (["Noa", "Yonatan", "Tamar", "Itai", "Maya", "Omer", "Shira", "Eitan"],
           ["Cohen", "Levi", "Mizrahi", "Peretz", "Biton", "Friedman", "Katz", "Shapiro"]),
    "in": (["Ananya", "Rohan", "Kavya", "Arjun", "Meera", "Vikram", "Divya", "Karthik"],
           ["Sharma", "Iyer", "Reddy", "Nair", "Gupta", "Menon", "Rao", "Kulkarni"]),
    "ja": (["Haruto", "Yui", "Sota", "Aoi", "Ren", "Hina", "Kaito", "Sakura"],
           ["Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Nakamura", "Kobayashi"]),
    "pt": (["Beatriz", "Gabriel", "Larissa", "Rafael", "Camila", "Thiago"],
           ["Silva", "Santos", "Oliveira", "Souza", "Costa", "Pereira"]),
}  # fmt: skip

PREFIXES = [
    "Brightlane", "Kestrel", "Nordwind", "Lumen", "Harborview", "Quillon", "Atlasfield",
    "Copperleaf", "Fjordline", "Meridian", "Solace", "Tandem", "Vantage", "Cobalt", "Juniper",
    "Orbitra", "Pinnacle", "Redwood", "Sable", "Tessera", "Verdant", "Willowbrook", "Zephyr",
    "Alder", "Beacon", "Cinderpath", "Driftwood", "Emberly", "Falconer", "Glasswing",
    "Helio", "Ironbridge", "Kinetic", "Larkspur", "Mosaic", "Northstar", "Oakhurst", "Parallax",
    "Quorum", "Riverton", "Silverline", "Trellis", "Upland", "Vireo", "Wavelength", "Yarrow",
    "Amberly", "Bluefin", "Crestline", "Dovetail", "Evergreen", "Foxglove", "Granite", "Halcyon",
]  # fmt: skip
INDUSTRY_SUFFIXES: dict[str, list[str]] = {
    "software": ["Analytics", "Cloud", "Labs", "Software", "Systems", "Data", "AI"],
    "fintech": ["Pay", "Ledger", "Payments", "Finance Cloud", "Treasury"],
    "healthcare": ["Health", "Medical", "Care"],
    "ecommerce": ["Commerce", "Retail", "Goods"],
    "manufacturing": ["Industrial", "Robotics", "Manufacturing"],
    "education": ["Learning", "Academy"],
    "logistics": ["Logistics", "Freight"],
}
LEGAL_SUFFIX = {"DE": "GmbH", "FR": "SAS", "NL": "B.V.", "SE": "AB", "ES": "S.L.", "US": "Inc."}

DEMO_KEYWORDS = ["outbound", "sales engagement", "revenue operations", "CRM", "pipeline"]
OTHER_KEYWORDS = ["B2B SaaS", "product-led growth", "enterprise sales", "partnerships"]
TECHNOLOGIES = ["Salesforce", "HubSpot", "Outreach", "Gong", "Snowflake", "Slack", "Pipedrive"]
HIRING = ["hiring 3 SDRs", "hiring Account Executives", "hiring a Head of RevOps",
          "building an outbound team"]  # fmt: skip

# (title, weight) for people at a company; the first ones are what the campaign targets.
TITLES: list[tuple[str, int]] = [
    ("VP Sales", 6), ("Head of Sales", 6), ("Chief Revenue Officer", 3), ("Director of Sales", 5),
    ("Head of Revenue Operations", 4), ("VP Marketing", 3), ("Sales Director EMEA", 2),
    ("Director of Business Development", 2), ("Co-founder & CEO", 2), ("CFO", 1),
    ("Sales Manager", 5), ("Revenue Operations Manager", 3), ("Marketing Manager", 3),
    ("Account Executive", 5), ("Senior Account Executive", 3),
    ("Sales Development Representative", 4), ("Customer Success Manager", 3),
    ("Software Engineer", 4), ("Product Designer", 2), ("Office Manager", 1),
    ("HR Business Partner", 1), ("Marketing Coordinator", 2),
]  # fmt: skip

CSV_HEADER = [
    "Email", "First Name", "Last Name", "Title", "Company", "Employees", "Domain", "Industry",
    "Country", "City", "Timezone", "Keywords", "Technologies", "Hiring", "LinkedIn",
]  # fmt: skip


@dataclass
class Company:
    name: str
    domain: str
    industry: str
    employees: int
    country: str
    city: str
    timezone: str
    locale: str
    keywords: list[str] = field(default_factory=list)
    technologies: list[str] = field(default_factory=list)
    hiring: str = ""


@dataclass
class Person:
    email: str
    first_name: str
    last_name: str
    title: str
    company: Company
    note: str = ""  # why it is a deliberate misfit, for the tests and the curious

    def row(self) -> list[str]:
        c = self.company
        slug = _ascii(f"{self.first_name}-{self.last_name}").replace(" ", "-").replace("'", "")
        return [
            self.email, self.first_name, self.last_name, self.title, c.name, str(c.employees),
            c.domain, c.industry, c.country, c.city, c.timezone,
            "; ".join(c.keywords), "; ".join(c.technologies), c.hiring,
            f"https://www.linkedin.com/in/{slug}-demo" if self.first_name else "",
        ]  # fmt: skip


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return folded.lower().strip()


def _domain(name: str) -> str:
    base = "".join(c if c.isalnum() else "-" for c in _ascii(name)).strip("-")
    return "-".join(p for p in base.split("-") if p) + ".example"


class Generator:
    """Deterministic prospects: the same seed gives the same people, byte for byte."""

    def __init__(self, seed: int = DEFAULT_SEED) -> None:
        # Synthetic data, not security: a seeded PRNG is the point.
        self.rng = random.Random(seed)  # noqa: S311
        self.used_names: set[str] = set()
        self.used_emails: set[str] = set()

    def _company_name(self, industry: str, country: str) -> tuple[str, str]:
        """(the name as written, its domain)."""
        for _ in range(100):
            name = f"{self.rng.choice(PREFIXES)} {self.rng.choice(INDUSTRY_SUFFIXES[industry])}"
            if name not in self.used_names:
                self.used_names.add(name)
                legal = LEGAL_SUFFIX.get(country)
                full = f"{name} {legal}" if legal and self.rng.random() < 0.6 else name
                return full, _domain(name)
        raise RuntimeError("ran out of company names")  # pragma: no cover

    def company(
        self, *, fit: bool, industry: str | None = None, country: str | None = None
    ) -> Company:
        rng = self.rng
        if country is None:
            countries = list(COUNTRIES)
            country = rng.choices(countries, weights=[COUNTRIES[c][0] for c in countries])[0]
        if country in COUNTRIES:
            _, cities, locale = COUNTRIES[country]
        else:
            cities, locale = OTHER_COUNTRIES[country]
        city, zone = rng.choice(cities)
        if industry is None:
            industry = rng.choice(["software"] * 3 + ["fintech"] * 2) if fit else "software"
        name, domain = self._company_name(industry, country)
        employees = rng.randint(60, 950) if fit else rng.choice([4, 7, 9, 12, 8500, 14000])
        wanted = rng.sample(DEMO_KEYWORDS, rng.randint(2, 4)) if fit else []
        keywords = wanted + rng.sample(OTHER_KEYWORDS, rng.randint(0, 2))
        return Company(
            name=name,
            domain=domain,
            industry=industry,
            employees=employees,
            country=country,
            city=city,
            timezone=zone,
            locale=locale,
            keywords=keywords,
            technologies=rng.sample(TECHNOLOGIES, rng.randint(1, 3)),
            hiring=rng.choice(HIRING) if fit and rng.random() < 0.5 else "",
        )

    def person(self, company: Company, title: str | None = None, note: str = "") -> Person:
        rng = self.rng
        firsts, lasts = NAMES[company.locale]
        for attempt in range(50):
            first, last = rng.choice(firsts), rng.choice(lasts)
            local = _ascii(first) + "." + _ascii(last).replace(" ", "").replace("'", "")
            if attempt > 10:
                local = f"{_ascii(first)[0]}{_ascii(last).replace(' ', '')}{attempt}"
            email = f"{local}@{company.domain}"
            if email not in self.used_emails:
                self.used_emails.add(email)
                break
        else:  # pragma: no cover - 50 collisions at one company
            raise RuntimeError("ran out of names")
        if title is None:
            titles, weights = zip(*TITLES, strict=True)
            title = rng.choices(titles, weights=weights)[0]
        return Person(email, first, last, title, company, note)


def misfits(gen: Generator) -> list[Person]:
    """The deliberate non-fits: each one gives an agent a reason to reject or rank it low."""
    people: list[Person] = []
    dead = Company("Quillfeather Studios", DEAD_DOMAIN, "software", 40, "GB", "London",
                   "Europe/London", "en", ["outbound"], ["HubSpot"])  # fmt: skip
    people += [gen.person(dead, t, "domain no longer exists") for t in ("Head of Sales", "CEO")]
    rival = Company("Outreachly", COMPETITOR_DOMAIN, "software", 300, "US", "Boston",
                    "America/New_York", "en", DEMO_KEYWORDS[:3], ["Salesforce"])  # fmt: skip
    people += [gen.person(rival, t, "competitor (excluded domain)") for t in ("VP Sales", "CRO")]
    fit = gen.company(fit=True, country="US")
    for local in ("info", "sales"):
        email = f"{local}@{fit.domain}"
        gen.used_emails.add(email)
        people.append(Person(email, "", "", "", fit, "role address, no person"))
    people += [gen.person(fit, t, "intern (excluded title)") for t in ("Sales Intern",)]
    school = gen.company(fit=True, industry="education", country="DE")
    people += [gen.person(school, "Head of Sales", "education (excluded industry)")]
    for country in OTHER_COUNTRIES:
        other = gen.company(fit=True, country=country)
        people += [gen.person(other, "VP Sales", "country outside the target")]
    for industry in ("healthcare", "manufacturing", "logistics"):
        off = gen.company(fit=False, industry=industry)
        people += [gen.person(off, None, f"{industry}, company size off target") for _ in "ab"]
    return people


def generate(count: int = 500, *, seed: int = DEFAULT_SEED) -> list[Person]:
    """`count` prospects: the misfits above, the rest at companies of 2 to 6 people each."""
    gen = Generator(seed)
    people = misfits(gen)
    while len(people) < count:
        fit = gen.rng.random() < 0.85
        company = gen.company(fit=fit)
        for _ in range(gen.rng.randint(2, 6)):
            if len(people) < count:
                people.append(gen.person(company))
    gen.rng.shuffle(people)
    return people


def to_csv(people: list[Person]) -> bytes:
    """The prospects as a CSV export (the import path reads it like a customer's file)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    writer.writerows(person.row() for person in people)
    return buffer.getvalue().encode("utf-8")
