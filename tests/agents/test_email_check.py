"""Address verification against a local DNS server: MX, A fallback, null MX, NXDOMAIN,
timeouts as `unknown`, the TTL cache, and role/disposable/free-mail flags."""

from __future__ import annotations

from tests.agents.local_dns import LocalDns
from vectra.agents.email_check import DomainVerifier, is_disposable, verify_email


def test_verdicts(local_dns: LocalDns) -> None:
    verifier = DomainVerifier(local_dns.resolver())
    ok = verify_email("anna@cloudly.fr", verifier)
    assert (ok.status, ok.mx) == ("valid", ["mx1.cloudly.fr", "mx2.cloudly.fr"])
    implicit = verify_email("bob@bakery.de", verifier)
    assert implicit.status == "valid" and "A record" in implicit.reason
    null_mx = verify_email("x@nomail.example", verifier)
    assert null_mx.status == "invalid" and "null MX" in null_mx.reason
    missing = verify_email("ghost@no-such-domain.example", verifier)
    assert missing.status == "invalid" and "does not exist" in missing.reason
    bad = verify_email("not an address", verifier)
    assert bad.status == "invalid" and bad.reason.startswith("syntax")


def test_silence_is_unknown_not_invalid(local_dns: LocalDns) -> None:
    verifier = DomainVerifier(local_dns.resolver(timeout=0.3))
    result = verify_email("ceo@slowdns.example", verifier)
    assert result.status == "unknown" and "did not answer" in result.reason


def test_answers_are_cached(local_dns: LocalDns) -> None:
    verifier = DomainVerifier(local_dns.resolver())
    for name in ("a", "b", "c"):
        assert verify_email(f"{name}@saasco.de", verifier).status == "valid"
    assert local_dns.queries.count(("saasco.de", "MX")) == 1
    assert verifier.lookups == 1


def test_flags(local_dns: LocalDns) -> None:
    verifier = DomainVerifier(local_dns.resolver())
    role = verify_email("sales@saasco.de", verifier)
    assert role.role and not role.disposable and role.status == "valid"
    throwaway = verify_email("jane@mailinator.com", verifier)
    assert throwaway.disposable and not throwaway.role
    free = verify_email("jane.doe@gmail.com", verifier)
    assert free.free_mail and not free.role and not free.disposable
    assert is_disposable("inbox.yopmail.com") and not is_disposable("yopmail.com.example.org")
