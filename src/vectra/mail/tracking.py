"""Opens and clicks: buffered at the edge, stored as events, rolled up for people only.

The pixel and the redirect must answer in microseconds whatever the database is doing, so a
hit is only checked (HMAC token), classified by what the request itself shows, and appended
to an in-process buffer; a background task writes the buffer every second (and at shutdown)
with one INSERT per batch, then re-marks machine activity that needs the database (clicks
within seconds of delivery, many links at once) and recomputes the roll-ups from the events.
A crash loses at most the last second of opens, which are statistics, not state.

Machine activity is stored and counted separately (`machine_open_count`,
`machine_click_count`), never as interest:
- Apple Mail Privacy Protection prefetches every image through Apple's proxies (17.0.0.0/8,
  a bare `Mozilla/5.0` user agent);
- Gmail (GoogleImageProxy) and Yahoo fetch images through their proxies, often at delivery;
- link scanners (Safe Links, Proofpoint, Mimecast, Barracuda...) HEAD or GET every link within
  seconds of delivery, several links at once, with their own or no user agents.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ipaddress
import json
import logging
import re
import threading
import uuid
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import DateTime, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Session
from sqlalchemy.types import String

from vectra.db.base import utcnow
from vectra.db.engine import Database
from vectra.db.tenancy import as_system

log = logging.getLogger(__name__)

# The smallest transparent GIF (43 bytes).
PIXEL_GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
FLUSH_INTERVAL_S = 1.0
BUFFER_LIMIT = 200_000  # past this, hits are dropped (and counted) rather than eat memory
SCANNER_WINDOW_S = 10  # a click this soon after delivery is a scanner, not a reader
BURST_WINDOW_S = 5
BURST_LINKS = 3  # distinct links clicked within BURST_WINDOW_S of each other

APPLE_NETWORKS = (
    ipaddress.ip_network("17.0.0.0/8"),
    ipaddress.ip_network("2620:149::/32"),
    ipaddress.ip_network("2a01:b740::/32"),
)
APPLE_MPP_USER_AGENTS = frozenset({"mozilla/5.0"})
SCANNER_MARKERS = (
    "barracuda",
    "mimecast",
    "proofpoint",
    "urldefense",
    "safelinks",
    "symantec",
    "messagelabs",
    "trendmicro",
    "forcepoint",
    "fireeye",
    "sophos",
    "bitdefender",
    "cisco",
    "ironport",
    "zscaler",
    "python-requests",
    "python-urllib",
    "go-http-client",
    "curl/",
    "wget/",
    "okhttp",
    "headlesschrome",
    "phantomjs",
    "bot",
    "spider",
    "crawler",
    "scanner",
    "preview",
)


@dataclass(slots=True)
class Hit:
    """One open or click as the endpoint saw it, classified by the request alone."""

    kind: str
    email_id: uuid.UUID
    occurred_at: dt.datetime
    method: str
    user_agent: str | None
    ip: str | None
    url: str | None = None
    machine_reason: str | None = None


def _apple_ip(ip: str | None) -> bool:
    if not ip:
        return False
    if "." in ip and ":" not in ip:
        return ip.startswith("17.")  # 17.0.0.0/8, without parsing on the hot path
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(address in net for net in APPLE_NETWORKS)


_SCANNER = re.compile("|".join(re.escape(m) for m in SCANNER_MARKERS))


def _scanner_agent(ua: str) -> bool:
    return _SCANNER.search(ua) is not None


def classify_open(method: str, user_agent: str | None, ip: str | None) -> str | None:
    """Why this open was a machine's (None: possibly a person)."""
    ua = (user_agent or "").strip().lower()
    if method == "HEAD":
        return "head_request"
    if "googleimageproxy" in ua:
        return "gmail_image_proxy"
    if "yahoomailproxy" in ua:
        return "yahoo_image_proxy"
    if _apple_ip(ip) or ua in APPLE_MPP_USER_AGENTS:
        return "apple_mpp"
    if not ua:
        return "no_user_agent"
    if _scanner_agent(ua):
        return "scanner_user_agent"
    return None


def classify_click(method: str, user_agent: str | None, ip: str | None) -> str | None:
    """Why this click was a machine's, by the request alone (timing is judged at flush)."""
    ua = (user_agent or "").strip().lower()
    if method == "HEAD":
        return "head_request"
    if not ua:
        return "no_user_agent"
    if _scanner_agent(ua) or "googleimageproxy" in ua:
        return "scanner_user_agent"
    return None


class TrackingBuffer:
    """Hits waiting to be written: appended by the endpoints, drained by the flusher."""

    def __init__(self, limit: int = BUFFER_LIMIT) -> None:
        self._hits: deque[Hit] = deque()
        self.limit = limit
        self.dropped = 0

    def add(self, hit: Hit) -> None:
        if len(self._hits) >= self.limit:
            self.dropped += 1
            return
        self._hits.append(hit)

    def requeue(self, hits: list[Hit]) -> None:
        """Put back a batch whose write failed (oldest first), within the limit."""
        room = max(0, self.limit - len(self._hits))
        self.dropped += max(0, len(hits) - room)
        self._hits.extendleft(reversed(hits[:room]))

    def drain(self) -> list[Hit]:
        hits: list[Hit] = []
        # popleft is atomic, so a hit appended meanwhile is kept for the next flush.
        while self._hits:
            hits.append(self._hits.popleft())
        return hits

    def __len__(self) -> int:
        return len(self._hits)


_INSERT = text(
    """
    INSERT INTO email_events
        (organization_id, email_id, kind, occurred_at, machine, machine_reason,
         method, url, user_agent, ip)
    SELECT e.organization_id, h.email_id, h.kind, h.occurred_at,
           h.machine_reason IS NOT NULL, h.machine_reason, h.method, h.url, h.user_agent, h.ip
    FROM unnest(:email_ids, :kinds, :occurred, :reasons, :methods, :urls, :agents, :ips)
         AS h(email_id, kind, occurred_at, machine_reason, method, url, user_agent, ip)
    JOIN emails e ON e.id = h.email_id
    """
).bindparams(
    bindparam("email_ids", type_=ARRAY(UUID(as_uuid=True))),
    bindparam("kinds", type_=ARRAY(String)),
    bindparam("occurred", type_=ARRAY(DateTime())),
    bindparam("reasons", type_=ARRAY(String)),
    bindparam("methods", type_=ARRAY(String)),
    bindparam("urls", type_=ARRAY(String)),
    bindparam("agents", type_=ARRAY(String)),
    bindparam("ips", type_=ARRAY(String)),
)

# Scanners click as soon as the message lands; people need longer to read it.
_MARK_TOO_SOON = text(
    f"""
    UPDATE email_events ev SET machine = true, machine_reason = 'clicked_at_delivery'
    FROM emails e
    WHERE ev.email_id = ANY(:email_ids) AND ev.kind = 'click' AND NOT ev.machine
      AND e.id = ev.email_id AND coalesce(e.delivered_at, e.sent_at) IS NOT NULL
      AND ev.occurred_at < coalesce(e.delivered_at, e.sent_at)
                           + interval '{SCANNER_WINDOW_S} seconds'
    """
).bindparams(bindparam("email_ids", type_=ARRAY(UUID(as_uuid=True))))

# A person follows one link; a scanner opens several within a few seconds.
_MARK_BURSTS = text(
    f"""
    UPDATE email_events ev SET machine = true, machine_reason = 'many_links_at_once'
    WHERE ev.email_id = ANY(:email_ids) AND ev.kind = 'click' AND NOT ev.machine
      AND (SELECT count(DISTINCT o.url) FROM email_events o
           WHERE o.email_id = ev.email_id AND o.kind = 'click'
             AND o.occurred_at BETWEEN ev.occurred_at - interval '{BURST_WINDOW_S} seconds'
                                   AND ev.occurred_at + interval '{BURST_WINDOW_S} seconds'
          ) >= {BURST_LINKS}
    """
).bindparams(bindparam("email_ids", type_=ARRAY(UUID(as_uuid=True))))

# Recomputed from the events (not incremented), so re-marking a click as a scanner's later
# corrects the counts, and a batch written twice cannot double them.
_ROLL_UP = text(
    """
    UPDATE emails e SET
        open_count = s.opens, opened_at = s.first_open,
        click_count = s.clicks, clicked_at = s.first_click,
        machine_open_count = s.machine_opens, machine_click_count = s.machine_clicks
    FROM (
        SELECT email_id,
               count(*) FILTER (WHERE kind = 'open' AND NOT machine) AS opens,
               min(occurred_at) FILTER (WHERE kind = 'open' AND NOT machine) AS first_open,
               count(*) FILTER (WHERE kind = 'click' AND NOT machine) AS clicks,
               min(occurred_at) FILTER (WHERE kind = 'click' AND NOT machine) AS first_click,
               count(*) FILTER (WHERE kind = 'open' AND machine) AS machine_opens,
               count(*) FILTER (WHERE kind = 'click' AND machine) AS machine_clicks
        FROM email_events
        WHERE email_id = ANY(:email_ids) AND kind IN ('open', 'click')
        GROUP BY email_id
    ) s
    WHERE e.id = s.email_id
    """
).bindparams(bindparam("email_ids", type_=ARRAY(UUID(as_uuid=True))))


def store_hits(session: Session, hits: list[Hit]) -> int:
    """Write a batch of hits as events and refresh the roll-ups; returns events stored.

    Runs in system context: the hits come from anonymous requests of every organization,
    and each event takes its organization from the email it names.
    """
    if not hits:
        return 0
    email_ids = sorted({h.email_id for h in hits})
    with as_system(session):
        result = session.execute(
            _INSERT,
            {
                "email_ids": [h.email_id for h in hits],
                "kinds": [h.kind for h in hits],
                "occurred": [h.occurred_at for h in hits],
                "reasons": [h.machine_reason for h in hits],
                "methods": [h.method for h in hits],
                "urls": [h.url for h in hits],
                "agents": [(h.user_agent or "")[:500] or None for h in hits],
                "ips": [h.ip for h in hits],
            },
        )
        clicked = sorted({h.email_id for h in hits if h.kind == "click"})
        if clicked:
            session.execute(_MARK_TOO_SOON, {"email_ids": clicked})
            session.execute(_MARK_BURSTS, {"email_ids": clicked})
        session.execute(_ROLL_UP, {"email_ids": email_ids})
    stored: int = result.rowcount  # type: ignore[attr-defined]
    return stored


# One flush at a time per process: two concurrent roll-ups of the same emails could deadlock.
_flush_lock = threading.Lock()


def flush(buffer: TrackingBuffer, database: Database) -> int:
    """Write everything buffered so far in one transaction (the flusher and shutdown)."""
    with _flush_lock:
        hits = buffer.drain()
        if not hits:
            return 0
        try:
            with database.system_session() as session:
                return store_hits(session, hits)
        except Exception:
            # Kept for the next flush (a database restart must not lose a second of opens).
            log.exception("tracking flush failed; %d hits kept for the next try", len(hits))
            buffer.requeue(hits)
            return 0


async def run_flusher(
    buffer: TrackingBuffer, database: Database, interval: float = FLUSH_INTERVAL_S
) -> None:
    """Flush every `interval` seconds, off the event loop (the driver is synchronous)."""
    while True:
        await asyncio.sleep(interval)
        if len(buffer):
            await asyncio.to_thread(flush, buffer, database)


@contextlib.asynccontextmanager
async def flusher(buffer: TrackingBuffer, database: Database) -> AsyncIterator[None]:
    """Run the flusher for the life of the app; flush what is left at shutdown."""
    task = asyncio.create_task(run_flusher(buffer, database))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await asyncio.to_thread(flush, buffer, database)


def record_event(
    session: Session,
    email_id: uuid.UUID,
    kind: str,
    *,
    occurred_at: dt.datetime | None = None,
    detail: dict[str, Any] | None = None,
) -> bool:
    """Store a delivery, bounce, complaint, unsubscribe or reply event (False: no such email).

    The inbound and sending engines call this; bounce and complaint rows are what the
    guardrails count. The email's organization is taken from the email itself.
    """
    if kind not in {"delivered", "bounce", "complaint", "unsubscribe", "reply"}:
        raise ValueError(f"not a stored event kind: {kind}")
    with as_system(session):
        row = session.execute(
            text(
                "INSERT INTO email_events (organization_id, email_id, kind, occurred_at, detail) "
                "SELECT organization_id, id, :kind, :at, CAST(:detail AS jsonb) "
                "FROM emails WHERE id = :email_id RETURNING id"
            ),
            {
                "kind": kind,
                "at": occurred_at or utcnow(),
                "detail": json.dumps(detail or {}),
                "email_id": email_id,
            },
        ).first()
    return row is not None
