"""API under load: 50 concurrent clients on the lead list, lead detail and tracking pixel.

    python bench/api_load.py --json [--clients 50 --seconds 60 --leads 5000]

Starts an embedded PostgreSQL in a temp dir, migrates and seeds it (one organization, a
campaign of N leads with one sent email each, an owner session), serves the real app with
uvicorn on 127.0.0.1 (loopback only) in a subprocess, then runs `--clients` keep-alive
clients for `--seconds` (bounded in time and count), each cycling through the three routes.
Prints {"clients", "seconds", "requests", "errors", "rps", "routes": {route: {"n", "errors",
"p50_ms", "p95_ms"}}}. An error is a transport failure or any non-2xx status.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

os.environ.setdefault("VECTRA_LOG_LEVEL", "WARNING")
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

APP_ROLE = "vectra_app"
MAX_REQUESTS = 2_000_000  # a hard bound whatever --seconds says


def serve(port: int) -> None:
    import uvicorn

    from vectra.db.engine import Database, DatabaseUrls
    from vectra.web.app import create_app

    urls = DatabaseUrls(
        owner=os.environ["BENCH_OWNER_URL"], app=os.environ["BENCH_APP_URL"], app_role=APP_ROLE
    )
    app = create_app(Database(urls, pool_size=10))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def seed(root: Path, leads: int) -> tuple[dict[str, str], str, uuid.UUID, list[uuid.UUID], list]:  # type: ignore[type-arg]
    from ai_support import start_database  # type: ignore[import-not-found]
    from sqlalchemy import text
    from tests.factories import make_campaign, make_organization, make_user

    from vectra.accounts.sessions import issue_session
    from vectra.db.tenancy import set_tenant

    server, database = start_database(root)
    with database.sessions() as session:
        set_tenant(session, None, system=True)
        with session.begin():
            org = make_organization(session, name="Load Bench", plan="scale")
            owner = make_user(session, org, role="owner")
            campaign = make_campaign(session, org)
            token = issue_session(session, owner).token
            session.execute(
                text(
                    "INSERT INTO leads (campaign_id, organization_id, email, first_name, "
                    "last_name, company_name, status) SELECT :c, :o, 'lead' || g || "
                    "'@company' || (g % 500) || '.example', 'Ada', 'Name' || g, "
                    "'Company ' || (g % 500), 'contacted' FROM generate_series(1, :n) g"
                ),
                {"c": campaign.id, "o": org.id, "n": leads},
            )
            session.execute(
                text(
                    "INSERT INTO emails (organization_id, campaign_id, lead_id, subject, body, "
                    "status, sent_at) SELECT organization_id, campaign_id, id, 's', 'b', 'sent', "
                    "now() FROM leads WHERE campaign_id = :c"
                ),
                {"c": campaign.id},
            )
            lead_ids = list(
                session.execute(
                    text("SELECT id FROM leads WHERE campaign_id = :c"), {"c": campaign.id}
                ).scalars()
            )
            email_ids = list(
                session.execute(
                    text("SELECT id FROM emails WHERE campaign_id = :c"), {"c": campaign.id}
                ).scalars()
            )
    urls = {"owner": database.urls.owner, "app": database.urls.app}
    database.dispose()
    return urls, token, campaign.id, lead_ids, [server, email_ids]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def load(port: int, plan: dict[str, list[str]], token: str, clients: int, seconds: float):  # type: ignore[no-untyped-def]
    import httpx

    latencies: dict[str, list[float]] = {route: [] for route in plan}
    errors: dict[str, int] = dict.fromkeys(plan, 0)
    stop_at = time.monotonic() + seconds
    issued = [0]

    async def client(n: int) -> None:
        rng = random.Random(n)
        routes = list(plan)
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        ) as http:
            i = n
            while time.monotonic() < stop_at and issued[0] < MAX_REQUESTS:
                route = routes[i % len(routes)]
                i += 1
                issued[0] += 1
                url = rng.choice(plan[route])
                started = time.perf_counter()
                try:
                    response = await http.get(url)
                    ok = 200 <= response.status_code < 300
                except httpx.HTTPError:
                    ok = False
                latencies[route].append((time.perf_counter() - started) * 1000)
                if not ok:
                    errors[route] += 1

    await asyncio.gather(*(client(n) for n in range(clients)))
    return latencies, errors


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--leads", type=int, default=5000)
    parser.add_argument("--serve", action="store_true")
    parser.add_argument("--port", type=int)
    args = parser.parse_args()
    if args.serve:
        serve(args.port)
        return
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from vectra.mail.tokens import make_token

    with tempfile.TemporaryDirectory(prefix="vectra-bench-api-") as tmp:
        os.environ["VECTRA_DATA_DIR"] = tmp  # one secret key for the seeding and the server
        urls, token, campaign_id, lead_ids, (_server, email_ids) = seed(Path(tmp), args.leads)
        sample = random.Random(7).sample(lead_ids, min(500, len(lead_ids)))
        plan = {
            "GET /api/v1/campaigns/{id}/leads": [
                f"/api/v1/campaigns/{campaign_id}/leads?limit=50",
                f"/api/v1/campaigns/{campaign_id}/leads?limit=50&status=contacted",
            ],
            "GET /api/v1/leads/{id}": [f"/api/v1/leads/{i}" for i in sample],
            "GET /t/o/{token}.gif": [f"/t/o/{make_token('open', i)}.gif" for i in email_ids[:500]],
        }
        env = dict(os.environ, BENCH_OWNER_URL=urls["owner"], BENCH_APP_URL=urls["app"])
        port = _free_port()
        proc = subprocess.Popen([sys.executable, __file__, "--serve", "--port", str(port)], env=env)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError("server did not start") from None
                    time.sleep(0.2)
            started = time.monotonic()
            latencies, errors = asyncio.run(load(port, plan, token, args.clients, args.seconds))
            elapsed = time.monotonic() - started
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
    total = sum(len(v) for v in latencies.values())
    result = {
        "clients": args.clients,
        "seconds": round(elapsed, 1),
        "requests": total,
        "errors": sum(errors.values()),
        "rps": round(total / elapsed, 1),
        "routes": {
            route: {
                "n": len(values),
                "errors": errors[route],
                "p50_ms": _pct(values, 0.50),
                "p95_ms": _pct(values, 0.95),
                "mean_ms": round(statistics.fmean(values), 2) if values else 0.0,
            }
            for route, values in latencies.items()
        },
    }
    print(json.dumps(result, indent=None if args.json else 2))


if __name__ == "__main__":
    main()
