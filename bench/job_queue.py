"""Job queue latency: defer-to-start p50/p95 and jobs/s through a real Procrastinate worker.

    python bench/job_queue.py --json [--jobs 2000 --rate 200 --concurrency 4]   (goal p95 < 50 ms)

Starts an embedded PostgreSQL in a temp dir, migrates it (the Procrastinate schema comes with
the migrations), starts a worker in a subprocess (`--worker`: the same code path as
`vectra worker`, a Procrastinate worker woken by LISTEN/NOTIFY), then defers `--jobs` no-op
jobs at `--rate` per second from this process. Latency is the database's own clock: the
`started` event's time minus the `deferred` event's time in `procrastinate_events`.
Prints {"jobs", "rate", "p50_ms", "p95_ms", "max_ms", "jobs_per_s", "drain_s"}.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import procrastinate

# Issue 13 names this bench/queue.py: that file runs this one (a module named `queue` in
# bench/ would shadow the standard library's, so it stands aside when imported as such).
BENCH = Path(__file__).resolve().parent
os.environ.setdefault("VECTRA_LOG_LEVEL", "WARNING")
sys.path.insert(0, str(BENCH.parent / "src"))

bench_app = procrastinate.App(connector=procrastinate.PsycopgConnector())


@bench_app.task(name="bench.noop", queue="bench")
def noop(n: int) -> int:
    return n


def _conninfo(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def run_worker(url: str, concurrency: int) -> None:
    from vectra.worker.app import WORKER_OPTIONS  # the options `vectra worker` runs with

    app = bench_app.with_connector(procrastinate.PsycopgConnector(conninfo=_conninfo(url)))
    app.run_worker(queues=["bench"], wait=True, **{**WORKER_OPTIONS, "concurrency": concurrency})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--worker", help="run a worker against this database URL")
    args = parser.parse_args()
    if args.worker:
        run_worker(args.worker, args.concurrency)
        return
    sys.path.insert(0, str(BENCH))
    from ai_support import start_database  # type: ignore[import-not-found]
    from sqlalchemy import text

    with tempfile.TemporaryDirectory(prefix="vectra-bench-queue-") as tmp:
        _server, database = start_database(Path(tmp))
        url = database.urls.owner
        proc = subprocess.Popen(
            [sys.executable, __file__, "--worker", url, "--concurrency", str(args.concurrency)]
        )
        try:
            # The worker registers once imported and connected (slow on a loaded machine);
            # then it LISTENs. Deferring before that would time its start-up, not the queue.
            with database.owner_engine.connect() as conn:
                ready_by = time.monotonic() + 120
                while (
                    time.monotonic() < ready_by
                    and not conn.execute(
                        text("SELECT count(*) FROM procrastinate_workers")
                    ).scalar_one()
                ):
                    conn.commit()
                    time.sleep(0.2)
            time.sleep(0.5)
            from psycopg_pool import ConnectionPool

            pool = ConnectionPool(_conninfo(url), min_size=1, max_size=2, open=True)
            with bench_app.open(pool):
                interval = 1.0 / args.rate
                started = time.monotonic()
                for n in range(args.jobs):
                    target = started + n * interval
                    delay = target - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                    noop.defer(n=n)
            deferred_for = time.monotonic() - started
            deadline = time.monotonic() + 120
            with database.owner_engine.connect() as conn:
                while time.monotonic() < deadline:
                    left = conn.execute(
                        text(
                            "SELECT count(*) FROM procrastinate_jobs WHERE queue_name = 'bench' "
                            "AND status IN ('todo', 'doing')"
                        )
                    ).scalar_one()
                    conn.commit()
                    if left == 0:
                        break
                    time.sleep(0.2)
                drain = time.monotonic() - started
                rows = conn.execute(
                    text(
                        "SELECT extract(epoch FROM (s.at - d.at)) * 1000 FROM procrastinate_jobs j "
                        "JOIN procrastinate_events d ON d.job_id = j.id AND d.type = 'deferred' "
                        "JOIN procrastinate_events s ON s.job_id = j.id AND s.type = 'started' "
                        "WHERE j.queue_name = 'bench'"
                    )
                ).scalars()
                latencies = sorted(float(r) for r in rows)
                span = conn.execute(
                    text(
                        "SELECT extract(epoch FROM (max(s.at) - min(s.at))) FROM "
                        "procrastinate_events s JOIN procrastinate_jobs j ON j.id = s.job_id "
                        "WHERE j.queue_name = 'bench' AND s.type = 'started'"
                    )
                ).scalar_one()
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
            database.dispose()

    def pct(q: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(q * len(latencies)))], 2)

    result = {
        "jobs": len(latencies),
        "rate": args.rate,
        "concurrency": args.concurrency,
        "defer_s": round(deferred_for, 2),
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "max_ms": round(latencies[-1], 2),
        "jobs_per_s": round(len(latencies) / float(span), 1) if span else 0.0,
        "drain_s": round(drain, 2),
        "goal_p95_ms": 50,
    }
    print(json.dumps(result, indent=None if args.json else 2))


if __name__ == "__main__":
    main()
