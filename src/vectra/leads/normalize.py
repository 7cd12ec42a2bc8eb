"""One spelling per address: how lead emails are cleaned before they are stored or compared."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

MAX_EMAIL = 255


class BadEmail(ValueError):
    """The address is not a syntactically valid email."""


def normalize_email(raw: str) -> str:
    """Trimmed, lower-cased, IDN domains in Unicode form (münchen.de == xn--mnchen-3ya.de)."""
    candidate = raw.strip().strip("<>").strip()
    if not candidate:
        raise BadEmail("email is empty")
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
