"""Counting API-key calls into `usage_records.api_calls`, batched.

Each call adds 1 to an in-process counter (a dict under a lock: no database work in the
request); a thread flushes the sums every few seconds, and the app's shutdown flushes the
rest. A flush that fails puts its counts back, so a database hiccup loses nothing; only a
hard kill of the process loses the calls of its last interval. Only the `api_calls`
column is touched: billing owns the others.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import text

from vectra.db.base import utcnow
from vectra.db.engine import Database

log = logging.getLogger(__name__)
FLUSH_EVERY_S = 5.0
_make_lock = threading.Lock()

# Add to the usage row whose period covers today (billing may align periods to the
# subscription); without one, to the calendar month's row, made if missing. Counts of
# organizations deleted meanwhile are dropped by the join.
_FLUSH_SQL = text(
    """
    WITH counts AS (
        SELECT c.org, c.n FROM unnest(CAST(:orgs AS uuid[]), CAST(:ns AS bigint[])) AS c(org, n)
        JOIN organizations o ON o.id = c.org
    ),
    current_rows AS (
        SELECT DISTINCT ON (u.organization_id) u.id, u.organization_id
        FROM usage_records u JOIN counts c ON c.org = u.organization_id
        WHERE u.period_start <= :today AND u.period_end >= :today
        ORDER BY u.organization_id, u.period_start DESC
    ),
    bumped AS (
        UPDATE usage_records u SET api_calls = coalesce(u.api_calls, 0) + c.n
        FROM current_rows r JOIN counts c ON c.org = r.organization_id
        WHERE u.id = r.id
        RETURNING u.organization_id
    )
    INSERT INTO usage_records (organization_id, period_start, period_end, api_calls)
    SELECT c.org, date_trunc('month', CAST(:today AS date))::date,
           (date_trunc('month', CAST(:today AS date)) + interval '1 month - 1 day')::date, c.n
    FROM counts c WHERE c.org NOT IN (SELECT organization_id FROM bumped)
    ON CONFLICT (organization_id, period_start)
    DO UPDATE SET api_calls = coalesce(usage_records.api_calls, 0) + EXCLUDED.api_calls
    """
)


class ApiCallCounter:
    """Per-process sums of API calls per organization, flushed to one database."""

    def __init__(self, database: Database, *, flush_every_s: float = FLUSH_EVERY_S) -> None:
        self.database = database
        self.flush_every_s = flush_every_s
        self._counts: Counter[uuid.UUID] = Counter()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, organization_id: uuid.UUID, n: int = 1) -> None:
        with self._lock:
            self._counts[organization_id] += n

    def pending(self) -> int:
        with self._lock:
            return sum(self._counts.values())

    def flush(self) -> int:
        """Write the sums so far; on failure they go back into the counter."""
        with self._lock:
            batch, self._counts = self._counts, Counter()
        if not batch:
            return 0
        orgs = list(batch)
        try:
            with self.database.system_session() as session:
                session.execute(
                    _FLUSH_SQL,
                    {
                        "orgs": [str(o) for o in orgs],
                        "ns": [batch[o] for o in orgs],
                        "today": utcnow().date(),
                    },
                )
        except Exception:
            with self._lock:
                self._counts.update(batch)
            raise
        return sum(batch.values())

    def _run(self) -> None:
        while not self._stop.wait(self.flush_every_s):
            try:
                self.flush()
            except Exception:
                log.exception("flushing API call counts failed; kept for the next try")

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="api-call-counter", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and flush what is left (at shutdown)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.flush_every_s + 5)
        try:
            self.flush()
        except Exception:
            log.exception("final flush of API call counts failed; %d calls lost", self.pending())


def counter_for(app: Any) -> ApiCallCounter:
    """The app's counter (made on first use when the app runs without its lifespan)."""
    with _make_lock:
        counter: ApiCallCounter | None = getattr(app.state, "api_calls", None)
        if counter is None:
            counter = app.state.api_calls = ApiCallCounter(app.state.database)
        return counter


@asynccontextmanager
async def api_usage_lifespan(app: Any) -> AsyncIterator[None]:
    """Start the flushing thread with the app, flush the remainder when it stops."""
    counter = counter_for(app)
    counter.start()
    try:
        yield
    finally:
        counter.stop()
