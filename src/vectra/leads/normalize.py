"""One spelling per address: how lead emails are cleaned before they are stored or compared."""

from __future__ import annotations

import re

from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

MAX_EMAIL = 255
# The common case, plain ASCII dot-atom@LDH-domain, checked by one regex: email-validator's
# per-character IDNA checks cost ~0.4 ms an address, most of a 100k-row import. Anything
# else (Unicode, quoted local parts, odd shapes) still goes through email-validator.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PLAIN = re.compile(
    rf"(?P<local>{_ATOM}(?:\.{_ATOM})*)@(?P<domain>(?:{_LABEL}\.)+[A-Za-z]{{2,63}})"
)
_SPECIAL = {name.lower() for name in SPECIAL_USE_DOMAIN_NAMES}


def _plain(candidate: str) -> str | None:
    match = _PLAIN.fullmatch(candidate)
    if match is None or len(match["local"]) > 64 or len(candidate) > 254:
        return None
    domain = match["domain"].lower()
    labels = domain.split(".")
    if any(".".join(labels[i:]) in _SPECIAL for i in range(len(labels))):
        return None  # a special-use name or under one: let email-validator give its reason
    if "xn--" in domain:
        return None  # punycode: email-validator turns it back into Unicode (one spelling)
    return candidate.lower()


class BadEmail(ValueError):
    """The address is not a syntactically valid email."""


def normalize_email(raw: str) -> str:
    """Trimmed, lower-cased, IDN domains in Unicode form (münchen.de == xn--mnchen-3ya.de)."""
    candidate = raw.strip().strip("<>").strip()
    if not candidate:
        raise BadEmail("email is empty")
    email = _plain(candidate)
    if email is None:
        try:
            # Syntax only: deliverability (DNS, MX) is the prospector's job, off the import path.
            result = validate_email(candidate, check_deliverability=False)
        except EmailNotValidError as exc:
            raise BadEmail(str(exc)) from None
        email = result.normalized.lower()
    if len(email) > MAX_EMAIL:
        raise BadEmail(f"email is longer than {MAX_EMAIL} characters")
    return email


def email_domain(email: str) -> str:
    return email.rsplit("@", 1)[-1]
