"""Exactly-once under SIGKILL: sender workers killed at random moments, restarted.

    .venv/bin/python bench/send_crash.py --emails 1000 --kills 3 --json [--workers 3]

Starts its own embedded PostgreSQL in a temp dir, migrates, seeds `--emails` approved
emails (caps above the count), starts an aiosmtpd sink in this process and sender worker
processes; kills a random worker with SIGKILL `--kills` times at random moments while
mail flows, restarting each. The sink counts deliveries by the email id header.
Prints {"delivered_unique", "lost", "duplicates", "flagged_possible_duplicates", ...}:
goal lost 0, delivered_unique == emails, duplicates <= kills.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import signal
import socket
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import send_support as support
from sqlalchemy import text

from vectra.db.engine import Database


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--emails", type=int, default=1000)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--workdir", default=None, help="Parent of the temp dir (default $TMPDIR).")
    args = parser.parse_args()
    rng = random.Random(args.seed)

    with tempfile.TemporaryDirectory(prefix="mailsend-crash-", dir=args.workdir) as tmp:
        root = Path(tmp)
        server, urls = support.start_database(root)
        port = free_port()
        controller, handler = support.start_memory_sink(root / "sink", port)
        n = args.emails
        support.seed(urls, port=port, emails=n, daily_limit=n * 2, mailbox_caps=[n] * 3)
        context = multiprocessing.get_context("spawn")

        def spawn() -> multiprocessing.process.BaseProcess:
            process = context.Process(target=support.worker_main, args=(urls, True))
            process.start()
            return process

        workers = [spawn() for _ in range(args.workers)]
        started = time.perf_counter()
        kills: list[dict[str, object]] = []
        # Kill at random points spread over the campaign, always while mail is flowing.
        targets = sorted(rng.uniform(0.05, 0.9) * n for _ in range(args.kills))
        for target in targets:
            support.wait_for(lambda t=target: handler.count >= t, timeout=600)
            time.sleep(rng.uniform(0, 0.3))
            victim = rng.randrange(len(workers))
            pid = workers[victim].pid
            assert pid is not None
            os.kill(pid, signal.SIGKILL)
            workers[victim].join()
            kills.append({"at_delivered": handler.count, "pid": pid})
            workers[victim] = spawn()
        for worker in workers:
            worker.join(timeout=900)
        elapsed = time.perf_counter() - started
        time.sleep(0.5)
        controller.stop()

        received = support.read_received(root / "sink")
        ids = Counter(message["X-Vectra-Email-ID"] for _, message in received)
        database = Database(urls, pool_size=1)
        with database.system_session() as session:
            states = dict(
                session.execute(
                    text("SELECT coalesce(send_state, 'queued'), count(*) FROM emails GROUP BY 1")
                ).all()
            )
            flagged = session.execute(
                text("SELECT count(*) FROM emails WHERE possible_duplicate")
            ).scalar()
        database.dispose()
        crashes = [
            line
            for log in (root / "pg" / "pgdata" / "log").glob("*")
            for line in log.read_text(errors="replace").splitlines()
            if "terminated by signal" in line or "PANIC" in line
        ]
        result = {
            "delivered_unique": len(ids),
            "lost": n - len(ids),
            "duplicates": sum(c - 1 for c in ids.values()),
            "flagged_possible_duplicates": flagged,
            "kills": len(kills),
            "kill_points": [k["at_delivered"] for k in kills],
            "states": states,
            "emails": n,
            "workers": args.workers,
            "seconds": round(elapsed, 2),
            "postgres_crashes": crashes[:5],
        }
        del server
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
