"""Sending-domain check: SPF, DKIM, DMARC (and MX) via dnspython, each with what to fix.

Every lookup has a timeout; a lookup that times out is reported as "could not check", never
as a failure of the customer's setup.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import dns.exception
import dns.resolver


@dataclass(frozen=True)
class Check:
    name: str  # spf | dkim | dmarc | mx
    status: str  # ok | warn | fail | unknown
    found: str | None
    fix: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def make_resolver(
    nameservers: list[str] | None = None, *, port: int = 53, timeout: float = 3.0
) -> dns.resolver.Resolver:
    """A resolver with bounded time; tests point it at a local server."""
    resolver = dns.resolver.Resolver(configure=nameservers is None)
    if nameservers is not None:
        resolver.nameservers = nameservers
        resolver.port = port
    resolver.timeout = timeout
    resolver.lifetime = timeout
    return resolver


def _txt(resolver: dns.resolver.Resolver, name: str) -> list[str] | None:
    """TXT strings at `name` ([] when none); None when DNS could not be reached."""
    try:
        answer = resolver.resolve(name, "TXT")
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    except (dns.exception.Timeout, dns.resolver.NoNameservers):
        return None
    return [b"".join(r.strings).decode("utf-8", "replace") for r in answer]


def _unknown(name: str, record: str) -> Check:
    return Check(name, "unknown", None, f"Could not look up {record}: DNS timed out; try again.")


# SMTP host suffix -> the SPF mechanism that authorises that provider's senders.
PROVIDER_SPF = {
    "gmail.com": "include:_spf.google.com",
    "googlemail.com": "include:_spf.google.com",
    "google.com": "include:_spf.google.com",
    "office365.com": "include:spf.protection.outlook.com",
    "outlook.com": "include:spf.protection.outlook.com",
    "sendgrid.net": "include:sendgrid.net",
    "mailgun.org": "include:mailgun.org",
    "amazonaws.com": "include:amazonses.com",
    "zoho.com": "include:zoho.com",
    "zoho.eu": "include:zoho.eu",
    "postmarkapp.com": "include:spf.mtasv.net",
    "mailjet.com": "include:spf.mailjet.com",
    "brevo.com": "include:spf.brevo.com",
    "sendinblue.com": "include:spf.sendinblue.com",
}


def spf_mechanism(smtp_host: str) -> str:
    """What an SPF record needs to let mail relayed by `smtp_host` pass."""
    host = smtp_host.strip().lower().rstrip(".")
    for suffix, mechanism in PROVIDER_SPF.items():
        if host == suffix or host.endswith("." + suffix):
            return mechanism
    # An unknown relay: authorise the addresses its own name resolves to.
    return f"a:{host}"


def _with_mechanisms(record: str, mechanisms: list[str]) -> str:
    """`record` with `mechanisms` inserted before its `all` term (or before the end)."""
    terms = record.split()
    at = next(
        (i for i, t in enumerate(terms) if t.lower().lstrip("+-~?") in ("all", "redirect")),
        len(terms),
    )
    return " ".join([*terms[:at], *mechanisms, *terms[at:]])


def check_spf(
    resolver: dns.resolver.Resolver, domain: str, mechanisms: list[str] | None = None
) -> Check:
    """SPF at `domain`; with `mechanisms` (see `spf_mechanism`), also that each is present."""
    records = _txt(resolver, domain)
    if records is None:
        return _unknown("spf", domain)
    spf = [r for r in records if r.lower().startswith("v=spf1")]
    if not spf:
        needed = " ".join(mechanisms) if mechanisms else "include:<your mail provider>"
        return Check(
            "spf", "fail", None, f'Publish a TXT record at {domain}: "v=spf1 {needed} ~all".'
        )
    if len(spf) > 1:
        return Check(
            "spf", "fail", " | ".join(spf),
            "Merge them: more than one SPF record makes SPF fail (RFC 7208 4.5).",
        )  # fmt: skip
    record = spf[0]
    terms = record.lower().split()
    if "+all" in terms or "all" in terms:
        return Check(
            "spf", "fail", record, "Replace '+all' with '~all' or '-all': it lets anyone send."
        )
    if not any(t.endswith("all") for t in terms):
        return Check("spf", "warn", record, "End the record with '~all' or '-all'.")
    lookups = sum(
        t.lstrip("+-~?").split(":")[0] in ("include", "a", "mx", "ptr", "exists", "redirect")
        for t in terms
    )
    if lookups > 10:
        return Check(
            "spf", "fail", record, "More than 10 DNS lookups (RFC 7208 4.6.4): flatten includes."
        )
    absent = [m for m in mechanisms or [] if m.lower() not in terms]
    if absent:
        # Includes can nest, so a sender may still be covered: a warning, not a failure.
        return Check(
            "spf", "warn", record,
            f"The record does not name your mail server ({' '.join(absent)}); unless an include "
            f'already covers it, publish at {domain}: "{_with_mechanisms(record, absent)}".',
        )  # fmt: skip
    return Check("spf", "ok", record, None)


def check_dkim(
    resolver: dns.resolver.Resolver, domain: str, selector: str | None, public_key: str | None
) -> Check:
    if not selector or not public_key:
        return Check("dkim", "fail", None, "Generate a DKIM key for this domain in Vectra first.")
    name = f"{selector}._domainkey.{domain}"
    records = _txt(resolver, name)
    if records is None:
        return _unknown("dkim", name)
    expected = f"v=DKIM1; k=rsa; p={public_key}"
    for record in records:
        tags = dict(part.strip().split("=", 1) for part in record.split(";") if "=" in part)
        if tags.get("p", "").replace(" ", "") == public_key:
            return Check("dkim", "ok", record, None)
    if records:
        return Check(
            "dkim",
            "fail",
            records[0],
            f'The TXT at {name} has another key; set it to "{expected}".',
        )
    return Check("dkim", "fail", None, f'Publish a TXT record at {name}: "{expected}".')


def check_dmarc(resolver: dns.resolver.Resolver, domain: str) -> Check:
    name = f"_dmarc.{domain}"
    records = _txt(resolver, name)
    if records is None:
        return _unknown("dmarc", name)
    dmarc = [r for r in records if r.replace(" ", "").lower().startswith("v=dmarc1")]
    if not dmarc:
        return Check(
            "dmarc", "fail", None,
            f'Publish a TXT record at {name}: "v=DMARC1; p=none; rua=mailto:dmarc@{domain}" '
            "(Gmail and Yahoo require DMARC from bulk senders).",
        )  # fmt: skip
    tags = {
        k.strip().lower(): v.strip().lower()
        for k, v in (p.split("=", 1) for p in dmarc[0].split(";") if "=" in p)
    }
    if tags.get("p") not in ("none", "quarantine", "reject"):
        return Check("dmarc", "fail", dmarc[0], "Add a policy tag: p=none, quarantine or reject.")
    if tags["p"] == "none":
        return Check(
            "dmarc", "warn", dmarc[0],
            "p=none only monitors; move to p=quarantine once reports show aligned mail.",
        )  # fmt: skip
    return Check("dmarc", "ok", dmarc[0], None)


def check_mx(resolver: dns.resolver.Resolver, domain: str) -> Check:
    try:
        answer = resolver.resolve(domain, "MX")
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return Check("mx", "warn", None, f"{domain} has no MX: replies and bounces cannot arrive.")
    except (dns.exception.Timeout, dns.resolver.NoNameservers):
        return _unknown("mx", domain)
    hosts = sorted(str(r.exchange).rstrip(".") for r in answer)
    return Check("mx", "ok", ", ".join(hosts), None)


def check_domain(
    domain: str,
    *,
    dkim_selector: str | None = None,
    dkim_public_key: str | None = None,
    resolver: dns.resolver.Resolver | None = None,
    spf_mechanisms: list[str] | None = None,
) -> list[Check]:
    """SPF, DKIM, DMARC and MX of a sending domain; each check says what to fix."""
    resolver = resolver or make_resolver()
    domain = domain.strip().lower().rstrip(".")
    return [
        check_spf(resolver, domain, spf_mechanisms),
        check_dkim(resolver, domain, dkim_selector, dkim_public_key),
        check_dmarc(resolver, domain),
        check_mx(resolver, domain),
    ]
