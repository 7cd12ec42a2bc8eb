"""The plan's leads-per-period limit, counted in the same transaction as the insert.

`vectra.billing.limits.consume` is atomic (one conditional upsert on `usage_records`), so
two concurrent imports cannot together pass the limit; an import takes what is left, and
the rows beyond it are reported as refused for quota.
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from vectra.billing import limits
from vectra.errors import QuotaExceeded

_ATTEMPTS = 5


def reserve_leads(session: Session, organization_id: uuid.UUID, wanted: int) -> int:
    """Count up to `wanted` new leads against the period; returns how many were granted."""
    limits.consume(session, organization_id, "leads", 0)  # a read-only organization: 402
    for _ in range(_ATTEMPTS):
        left = limits.remaining(session, organization_id, "leads")
        grant = wanted if left is None else min(wanted, left)
        if grant <= 0:
            return 0
        try:
            limits.consume(session, organization_id, "leads", grant)
            return grant
        except QuotaExceeded:
            continue  # a concurrent import took some in between: look again
    return 0
