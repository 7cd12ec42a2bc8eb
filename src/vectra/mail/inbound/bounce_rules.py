"""Why a delivery failed: reason families from diagnostic text, then from the status code.

The three categories drive different effects (see issue 8): `hard` suppresses the address,
`soft` retries, `policy` flags the sending mailbox. Status codes alone are unreliable:
servers answer 5.0.0 / 5.5.0 / 5.7.1 for almost anything and 4.x.x for policy refusals, so
the server's own words decide when they name a reason, and the code decides otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

from vectra.mail.inbound.bounce_phrases import LAST_RESORT, REASONS, BounceType, Reason

__all__ = ["BounceType", "Verdict", "classify", "reason_from_status", "reason_from_text"]

_BY_NAME = {reason.name: reason for reason in REASONS}

# RFC 3463 subject/detail -> reason, used when the text names none.
_STATUS_REASONS: dict[str, str] = {
    "1.0": "userunknown",
    "1.1": "userunknown",
    "1.2": "hostunknown",
    "1.3": "userunknown",
    "1.4": "userunknown",
    "1.5": "userunknown",
    "1.6": "hasmoved",
    "1.7": "rejected",
    "1.8": "rejected",
    "1.9": "userunknown",
    "1.10": "notaccept",
    "2.0": "suspend",
    "2.1": "suspend",
    "2.2": "mailboxfull",
    "2.3": "mesgtoobig",
    "2.4": "mailererror",
    "3.0": "systemerror",
    "3.1": "mailboxfull",
    "3.2": "systemerror",
    "3.3": "mailererror",
    "3.4": "mesgtoobig",
    "3.5": "systemerror",
    "4.0": "networkerror",
    "4.1": "networkerror",
    "4.2": "networkerror",
    "4.3": "systemerror",
    "4.4": "hostunknown",
    "4.5": "networkerror",
    "4.6": "networkerror",
    "4.7": "expired",
    "5.0": "syntaxerror",
    "5.1": "syntaxerror",
    "5.2": "syntaxerror",
    "5.3": "toomanyconn",
    "5.4": "syntaxerror",
    "5.5": "syntaxerror",
    "6.0": "contenterror",
    "6.1": "contenterror",
    "6.2": "contenterror",
    "6.3": "contenterror",
    "6.4": "contenterror",
    "6.5": "contenterror",
    "7.0": "blocked",
    "7.1": "rejected",
    "7.2": "rejected",
    "7.3": "securityerror",
    "7.4": "securityerror",
    "7.5": "securityerror",
    "7.6": "securityerror",
    "7.7": "securityerror",
    "7.8": "securityerror",
    "7.9": "securityerror",
    "7.10": "securityerror",
    "7.11": "securityerror",
    "7.12": "securityerror",
    "7.13": "suspend",
    "7.14": "policyviolation",
    "7.15": "securityerror",
    "7.16": "securityerror",
    "7.17": "suspend",
    "7.18": "suspend",
    "7.19": "policyviolation",
    "7.20": "authfailure",
    "7.21": "authfailure",
    "7.22": "authfailure",
    "7.23": "authfailure",
    "7.24": "authfailure",
    "7.25": "requireptr",
    "7.26": "authfailure",
    "7.27": "notaccept",
    "7.28": "spamdetected",
    "7.29": "authfailure",
    "7.30": "authfailure",
}

# Codes that servers use as "something went wrong": their subject says nothing reliable.
GENERIC_DETAILS = frozenset({"0.0", "5.0", "5.1", "5.2", "5.3", "5.4", "5.5", "7.0", "7.1", "3.0"})


@dataclass(frozen=True)
class Verdict:
    reason: str
    category: BounceType


def reason_from_text(text: str) -> Reason | None:
    """The first reason family whose phrases appear in the server's words."""
    if not text:
        return None
    for reason in REASONS:
        if reason.pattern.search(text):
            return reason
    return None


def reason_from_status(status: str) -> Reason | None:
    """The reason RFC 3463 attaches to a status code's subject and detail."""
    _, _, detail = status.partition(".")
    name = _STATUS_REASONS.get(detail)
    return _BY_NAME.get(name) if name else None


def classify(status: str | None, texts: list[str], *, smtp_code: str | None = None) -> Verdict:
    """Combine the status code with the diagnostic texts (most specific text first)."""
    by_status = reason_from_status(status) if status else None
    generic = status is None or status.split(".", 1)[1] in GENERIC_DETAILS
    for text in texts:
        found = reason_from_text(text)
        if found is LAST_RESORT and by_status is not None and not generic:
            return Verdict(by_status.name, by_status.category)
        if found is not None:
            return Verdict(found.name, found.category)
    if by_status is not None:
        return Verdict(by_status.name, by_status.category)
    klass = (status or smtp_code or "5")[0]
    if klass == "4":
        return Verdict("undefined", BounceType.SOFT)
    return Verdict("undefined", BounceType.HARD if smtp_code == "550" else BounceType.SOFT)
