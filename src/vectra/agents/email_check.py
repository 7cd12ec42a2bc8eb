"""Is this address worth mailing? Syntax, the domain's MX/A records, role and disposable flags.

DNS answers are cached in-process for their TTL (bounded), so a campaign of 5,000 leads at
the same 200 companies costs 200 lookups. Every lookup has a timeout; when DNS cannot say
(timeout, SERVFAIL, no nameserver) the verdict is `unknown`, never `invalid`: a flaky
resolver must not reject real prospects.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass
from functools import cache
from importlib import resources
from typing import Any

import dns.exception
import dns.resolver
from email_validator import EmailNotValidError, validate_email

from vectra.mail.domain_check import make_resolver

ROLE_LOCALS = frozenset(
    [
        "admin",
        "administrator",
        "billing",
        "contact",
        "contacto",
        "enquiries",
        "hello",
        "help",
        "hr",
        "info",
        "jobs",
        "kontakt",
        "mail",
        "marketing",
        "noreply",
        "no-reply",
        "office",
        "postmaster",
        "press",
        "recrutement",
        "rh",
        "sales",
        "service",
        "support",
        "team",
        "vendas",
        "ventas",
        "vertrieb",
        "webmaster",
        "careers",
        "compta",
        "accounts",
    ]
)
# Addresses at these providers are people, but not a company domain to enrich from.
FREE_MAIL = frozenset(
    [
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "yahoo.fr",
        "hotmail.com",
        "hotmail.fr",
        "outlook.com",
        "live.com",
        "icloud.com",
        "me.com",
        "aol.com",
        "gmx.de",
        "gmx.net",
        "web.de",
        "orange.fr",
        "free.fr",
        "laposte.net",
        "wanadoo.fr",
        "proton.me",
        "protonmail.com",
        "t-online.de",
        "libero.it",
        "yandex.ru",
        "mail.ru",
    ]
)
CACHE_MAX = 10_000
NEGATIVE_TTL = 300.0
UNKNOWN_TTL = 30.0


@dataclass(frozen=True)
class Verification:
    """`status`: valid (domain accepts mail), invalid (bad syntax or no such mail domain),
    unknown (DNS could not say). `role` and `disposable` are flags, not verdicts."""

    status: str
    reason: str
    domain: str | None = None
    mx: list[str] | None = None
    role: bool = False
    disposable: bool = False
    free_mail: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@cache
def disposable_domains() -> frozenset[str]:
    text = resources.files("vectra.agents").joinpath("data/disposable_domains.txt").read_text()
    lines = (line.strip().lower() for line in text.splitlines())
    return frozenset(line for line in lines if line and not line.startswith("#"))


def is_disposable(domain: str) -> bool:
    parts = domain.lower().split(".")
    known = disposable_domains()
    return any(".".join(parts[i:]) in known for i in range(len(parts) - 1))


class DomainVerifier:
    """Looks up a domain's MX (then A/AAAA, the RFC 5321 fallback), cached for the TTL."""

    def __init__(
        self, resolver: dns.resolver.Resolver | None = None, *, timeout: float = 2.0
    ) -> None:
        self.resolver = resolver or make_resolver(timeout=timeout)
        self._cache: dict[str, tuple[float, tuple[str, str, list[str] | None]]] = {}
        self._lock = threading.Lock()
        self.lookups = 0

    def _cached(self, domain: str) -> tuple[str, str, list[str] | None] | None:
        with self._lock:
            hit = self._cache.get(domain)
            if hit and hit[0] > time.monotonic():
                return hit[1]
            return None

    def _store(self, domain: str, ttl: float, verdict: tuple[str, str, list[str] | None]) -> None:
        with self._lock:
            if len(self._cache) >= CACHE_MAX:
                self._cache.pop(next(iter(self._cache)))  # oldest insertion first
            self._cache[domain] = (time.monotonic() + ttl, verdict)

    def check(self, domain: str) -> tuple[str, str, list[str] | None]:
        """(status, reason, mx hosts) for `domain`."""
        domain = domain.lower().rstrip(".")
        cached = self._cached(domain)
        if cached is not None:
            return cached
        self.lookups += 1
        verdict, ttl = self._lookup(domain)
        self._store(domain, ttl, verdict)
        return verdict

    def _lookup(self, domain: str) -> tuple[tuple[str, str, list[str] | None], float]:
        try:
            answer = self.resolver.resolve(domain, "MX")
            hosts = sorted((r.preference, r.exchange.to_text().rstrip(".")) for r in answer)
            if hosts and all(h in ("", ".") for _, h in hosts):
                return ("invalid", "null MX: the domain accepts no mail", []), NEGATIVE_TTL
            ttl = float(answer.rrset.ttl if answer.rrset is not None else 300)
            return ("valid", "MX found", [h for _, h in hosts]), ttl
        except dns.resolver.NXDOMAIN:
            return ("invalid", "the domain does not exist", None), NEGATIVE_TTL
        except dns.resolver.NoAnswer:
            pass
        except (dns.exception.Timeout, dns.resolver.NoNameservers) as exc:
            return ("unknown", f"DNS did not answer ({type(exc).__name__})", None), UNKNOWN_TTL
        for kind in ("A", "AAAA"):
            try:
                answer = self.resolver.resolve(domain, kind)
                ttl = float(answer.rrset.ttl if answer.rrset is not None else 300)
                return ("valid", f"no MX, but an {kind} record (implicit MX)", []), ttl
            except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
                continue
            except (dns.exception.Timeout, dns.resolver.NoNameservers) as exc:
                return ("unknown", f"DNS did not answer ({type(exc).__name__})", None), UNKNOWN_TTL
        return ("invalid", "the domain has no MX, A or AAAA record", None), NEGATIVE_TTL


def verify_email(email: str, verifier: DomainVerifier) -> Verification:
    try:
        result = validate_email(email, check_deliverability=False)
    except EmailNotValidError as exc:
        return Verification("invalid", f"syntax: {exc}")
    local = result.local_part.lower()
    domain = result.domain.lower()
    flags = {
        "role": local.split("+")[0] in ROLE_LOCALS,
        "disposable": is_disposable(domain),
        "free_mail": domain in FREE_MAIL,
    }
    status, reason, mx = verifier.check(domain)
    return Verification(status, reason, domain, mx, **flags)
