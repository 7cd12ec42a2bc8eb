"""The open pixel against a bare Starlette endpoint serving the same GIF, same server, same run.

    .venv/bin/python bench/tracking.py --json [--seconds 3] [--connections 32] [--rounds 5]

Starts an embedded PostgreSQL in a temp dir, migrates it, seeds emails, then runs two uvicorn
servers on loopback with identical settings (one process, asyncio loop, h11, no access log):
the real Vectra app (`GET /t/o/{token}.gif`: HMAC check, classification, buffered write,
flushed to `email_events` every second) and a bare Starlette app returning the same bytes.
Load comes from a bounded loop of keep-alive HTTP/1.1 connections written on raw sockets (so
the client costs little next to the servers). Rounds alternate baseline and pixel; the rates
are the medians over rounds, and each server's CPU time per request is reported too (steadier
than wall-clock rates when other work shares the machine). After the pixel server shuts down
(flushing its buffer), the stored events are counted: every 200 answered must be one row.

Prints {"pixel_rps", "baseline_rps", "ratio", "pixel_cpu_us", "baseline_cpu_us", "rounds",
"pixel_hits", "events_stored"}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

os.environ.setdefault("VECTRA_SECRET_KEY", "bench-secret-key-not-for-production-0123456789")
os.environ.setdefault("VECTRA_LOG_LEVEL", "WARNING")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

APP_ROLE = "vectra_app"
SERVER_SETTINGS = {
    "host": "127.0.0.1",
    "log_level": "warning",
    "access_log": False,
    "loop": "asyncio",
    "http": "h11",
    "lifespan": "on",
}


def _baseline_app():  # type: ignore[no-untyped-def]
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from vectra.mail.tracking import PIXEL_GIF

    headers = {
        "Cache-Control": "no-store, no-cache, must-revalidate, private, max-age=0",
        "Pragma": "no-cache",
        "Expires": "0",
    }

    async def pixel(_request: Request) -> Response:
        return Response(PIXEL_GIF, media_type="image/gif", headers=headers)

    return Starlette(routes=[Route("/t/o/{token}.gif", pixel)])


def _real_app():  # type: ignore[no-untyped-def]
    from vectra.db.engine import Database, DatabaseUrls
    from vectra.web.app import create_app

    urls = DatabaseUrls(
        owner=os.environ["BENCH_OWNER_URL"], app=os.environ["BENCH_APP_URL"], app_role=APP_ROLE
    )
    return create_app(Database(urls, pool_size=2))


def serve(which: str, port: int) -> None:
    import uvicorn

    app = _real_app() if which == "real" else _baseline_app()
    uvicorn.run(app, port=port, **SERVER_SETTINGS)  # type: ignore[arg-type]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_server(which: str, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", which, "--port", str(port)], env=env
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc, port
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{which} server did not start")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)  # graceful: the real app flushes its buffer on shutdown
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


async def _connection(
    port: int, paths: list[bytes], stop_at: float, offset: int, counts: list[int]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    i = offset
    try:
        while time.monotonic() < stop_at:
            path = paths[i % len(paths)]
            i += 1
            writer.write(
                b"GET " + path + b" HTTP/1.1\r\nHost: bench\r\n"
                b"User-Agent: Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0\r\n\r\n"
            )
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            counts[0 if status == 200 else 1] += 1
    finally:
        writer.close()


def _load(port: int, paths: list[bytes], seconds: float, connections: int) -> tuple[float, int]:
    """(responses per second over `seconds`, all 200s including the warm-up)."""

    async def run() -> tuple[float, int]:
        counts = [0, 0]
        warm_counts = [0, 0]
        warm = time.monotonic() + 0.5
        await asyncio.gather(*(_connection(port, paths, warm, n, warm_counts) for n in range(4)))
        started = time.monotonic()
        stop_at = started + seconds
        await asyncio.gather(
            *(_connection(port, paths, stop_at, n * 7, counts) for n in range(connections))
        )
        elapsed = time.monotonic() - started
        if counts[1] or warm_counts[1]:
            raise RuntimeError(f"{counts[1] + warm_counts[1]} non-200 answers")
        return (counts[0] / elapsed, counts[0] + warm_counts[0])

    return asyncio.run(run())


def _seed(owner_url: str, app_url: str, emails: int) -> list[uuid.UUID]:
    from vectra.accounts.models import Organization
    from vectra.campaigns.models import Campaign
    from vectra.db import migrate
    from vectra.db.base import utcnow
    from vectra.db.engine import Database, DatabaseUrls
    from vectra.leads.models import Lead
    from vectra.mail.models import Email

    database = Database(DatabaseUrls(owner=owner_url, app=app_url, app_role=APP_ROLE))
    migrate.upgrade(database)
    ids: list[uuid.UUID] = []
    with database.system_session() as session:
        org = Organization(name="Bench", slug=f"bench-{uuid.uuid4().hex[:8]}")
        session.add(org)
        session.flush()
        campaign = Campaign(organization_id=org.id, name="Bench", target_criteria={})
        session.add(campaign)
        session.flush()
        for n in range(emails):
            lead = Lead(
                organization_id=org.id, campaign_id=campaign.id, email=f"l{n}@bench.example"
            )
            session.add(lead)
            session.flush()
            email = Email(
                organization_id=org.id,
                campaign_id=campaign.id,
                lead_id=lead.id,
                subject="s",
                body="b",
                status="sent",
                sent_at=utcnow(),
            )
            session.add(email)
            session.flush()
            ids.append(email.id)
    database.dispose()
    return ids


def _count_events(owner_url: str, app_url: str) -> int:
    from sqlalchemy import text

    from vectra.db.engine import Database, DatabaseUrls

    database = Database(DatabaseUrls(owner=owner_url, app=app_url, app_role=APP_ROLE))
    with database.system_session() as session:
        count = int(session.execute(text("SELECT count(*) FROM email_events")).scalar_one())
    database.dispose()
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--emails", type=int, default=200)
    parser.add_argument("--serve", choices=["real", "baseline"])
    parser.add_argument("--port", type=int)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port)
        return

    from vectra.db.embedded import OWNER_ROLE, ensure_database, ensure_roles, start_embedded_server
    from vectra.mail.tokens import make_token

    with tempfile.TemporaryDirectory(prefix="vectra-bench-tracking-") as tmp:
        server = start_embedded_server(Path(tmp) / "pg")
        ensure_roles(server, app_role=APP_ROLE)
        ensure_database(server, "bench", app_role=APP_ROLE)
        owner_url = server.uri(user=OWNER_ROLE, database="bench")
        app_url = server.uri(user=APP_ROLE, database="bench")
        ids = _seed(owner_url, app_url, args.emails)
        paths = [f"/t/o/{make_token('open', i)}.gif".encode() for i in ids]
        env = dict(os.environ, BENCH_OWNER_URL=owner_url, BENCH_APP_URL=app_url)
        env["VECTRA_DATA_DIR"] = tmp

        rates: dict[str, list[float]] = {"baseline": [], "real": []}
        cpu: dict[str, list[float]] = {"baseline": [], "real": []}
        hits = 0
        for _ in range(args.rounds):
            for which in ("baseline", "real"):
                proc, port = _start_server(which, env)
                try:
                    cpu_before = _cpu_seconds(proc.pid)
                    rps, ok = _load(port, paths, args.seconds, args.connections)
                    served = ok
                    cpu_used = _cpu_seconds(proc.pid) - cpu_before
                finally:
                    _stop_server(proc)
                rates[which].append(rps)
                cpu[which].append(cpu_used / served * 1e6 if served else 0.0)
                if which == "real":
                    hits += ok
        stored = _count_events(owner_url, app_url)
        server.handle.cleanup()

    pixel, baseline = statistics.median(rates["real"]), statistics.median(rates["baseline"])
    result = {
        "pixel_rps": round(pixel, 1),
        "baseline_rps": round(baseline, 1),
        "ratio": round(pixel / baseline, 3) if baseline else 0.0,
        # Server CPU per request: steadier than wall-clock rates on a shared machine.
        "pixel_cpu_us": round(statistics.median(cpu["real"]), 1),
        "baseline_cpu_us": round(statistics.median(cpu["baseline"]), 1),
        "rounds": args.rounds,
        "pixel_hits": hits,
        "events_stored": stored,
    }
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")


if __name__ == "__main__":
    main()
