"""Hashed suppression entries: an erased person stays un-contactable without being named.

The value is an HMAC-SHA256 of the normalised address under a key derived from the
installation secret (a pepper), so the list cannot be reversed by hashing a list of guessed
addresses without the key. Stored as `kind='email'`, `value='h:<hex>'` so the existing
table, its constraints and its uniqueness hold unchanged.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.orm import Session

from vectra.keys import derive_key

PREFIX = "h:"
_PURPOSE = "privacy.suppression-hash.v1"


def email_hash(normalized_email: str) -> str:
    """The stored value for an already normalised (lower-cased) address."""
    digest = hmac.new(
        derive_key(_PURPOSE), normalized_email.strip().lower().encode(), hashlib.sha256
    )
    return PREFIX + digest.hexdigest()


def hashed_suppressed(
    session: Session, organization_id: uuid.UUID, addresses: Iterable[str]
) -> set[str]:
    """Which of these normalised addresses are suppressed by a hashed entry."""
    by_hash = {email_hash(a): a for a in set(addresses) if a}
    if not by_hash:
        return set()
    rows = session.execute(
        text(
            "SELECT value FROM suppressions WHERE organization_id = :org AND kind = 'email' "
            "AND value = ANY(CAST(:values AS text[]))"
        ),
        {"org": organization_id, "values": list(by_hash)},
    )
    return {by_hash[row[0]] for row in rows}
