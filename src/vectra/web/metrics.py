"""`/metrics` in Prometheus format: HTTP traffic, the job queue, mail and agent activity.

Request metrics are labelled by route template (`/api/v1/leads/{lead_id}`), never by raw
path, so ids and personal data never become label values. Queue, mail and agent figures
are read from the database at scrape time, aggregated across organizations.
`VECTRA_METRICS_TOKEN`, when set, is required as a bearer token.
"""

from __future__ import annotations

import hmac
import time

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from sqlalchemy import text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vectra.db.engine import Database
from vectra.errors import Unauthenticated
from vectra.settings import get_settings

REGISTRY = CollectorRegistry()
REQUESTS = Counter(
    "vectra_http_requests_total", "HTTP requests", ["method", "route", "status"], registry=REGISTRY
)
LATENCY = Histogram(
    "vectra_http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
JOBS = Gauge("vectra_jobs", "Jobs in the queue by status", ["status"], registry=REGISTRY)
EMAILS = Gauge("vectra_emails", "Emails by status", ["status"], registry=REGISTRY)
AGENT_RUNS = Gauge(
    "vectra_agent_runs", "Agent runs by type and status", ["agent", "status"], registry=REGISTRY
)
TOKENS = Gauge(
    "vectra_agent_tokens_used", "LLM tokens used by agent runs", ["agent"], registry=REGISTRY
)


def _route_of(scope: Scope) -> str:
    # The router records the matched route in the scope it was handed (shared with us).
    route = scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    return str(path) if path else "unmatched"


class MetricsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            route = _route_of(scope)
            method = scope.get("method", "GET")
            REQUESTS.labels(method, route, str(status)).inc()
            LATENCY.labels(method, route).observe(time.perf_counter() - started)


router = APIRouter(include_in_schema=False)


def _collect(database: Database) -> None:
    # The owner connection: these are installation-wide aggregates, no tenant rows leave it.
    with database.owner_engine.connect() as conn:
        tables = set(
            conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            ).scalars()
        )
        JOBS.clear()
        if "procrastinate_jobs" in tables:
            for status, count in conn.execute(
                text("SELECT status::text, count(*) FROM procrastinate_jobs GROUP BY 1")
            ):
                JOBS.labels(status).set(count)
        EMAILS.clear()
        for status, count in conn.execute(
            text("SELECT coalesce(status, 'unknown'), count(*) FROM emails GROUP BY 1")
        ):
            EMAILS.labels(status).set(count)
        AGENT_RUNS.clear()
        TOKENS.clear()
        for agent, status, count, tokens in conn.execute(
            text(
                "SELECT agent_type, coalesce(status, 'unknown'), count(*), "
                "coalesce(sum(tokens_used), 0) FROM agent_runs GROUP BY 1, 2"
            )
        ):
            AGENT_RUNS.labels(agent, status).set(count)
            TOKENS.labels(agent).inc(tokens)


@router.get("/metrics")
def metrics(request: Request) -> Response:
    expected = get_settings().metrics_token
    if expected:
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(expected, given):
            raise Unauthenticated("Send the metrics token as a bearer token.")
    _collect(request.app.state.database)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
