"""Sending throughput through the real claim/send path, caps and DKIM checked at the sink.

    .venv/bin/python bench/send.py --emails 1000 --json [--workers 3]

Starts its own embedded PostgreSQL in a temp dir, migrates, seeds one campaign with
`--emails` approved emails plus 10% more than its daily_limit allows, four mailboxes (one
with a cap that binds), and an aiosmtpd sink; worker processes run `delivery.run_sender`.
The clock runs from the moment every worker is imported and connected to the last accepted
message (start-up is reported apart as `startup_s`).
Every received message's DKIM signature is verified (dkimpy, public key served by a
dnsfunc). Baseline, same run: as many processes sending as many pre-built, DKIM-signed
messages straight to a sink, no database. Prints {"emails_per_s", "over_cap",
"dkim_failures", "baseline_emails_per_s", "ratio_to_baseline", ...}.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import socket
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import dkim as dkimpy
import send_support as support


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def measure_baseline(context: Any, root: Path, emails: int, workers: int) -> float:
    """emails/s of the same number of processes sending pre-built, DKIM-signed messages
    straight to a sink (no database): the ceiling this machine allows right now."""
    from vectra.mail.dkim import generate_keypair

    port = free_port()
    controller, handler = support.start_memory_sink(root / "baseline-sink", port)
    pem, _ = generate_keypair()
    go = context.Event()
    readies = [context.Event() for _ in range(workers)]
    shares = [emails // workers + (1 if i < emails % workers else 0) for i in range(workers)]
    procs = [
        context.Process(target=support.baseline_worker, args=(port, share, pem, ready, go))
        for share, ready in zip(shares, readies, strict=True)
    ]
    for proc in procs:
        proc.start()
    for ready in readies:
        ready.wait(timeout=300)
    started = time.perf_counter()
    go.set()
    support.wait_for(lambda: handler.count >= emails, timeout=600)
    elapsed = time.perf_counter() - started
    for proc in procs:
        proc.join(timeout=60)
    controller.stop()
    return emails / elapsed if elapsed else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--emails", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--workdir", default=None, help="Parent of the temp dir (default $TMPDIR).")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="mailsend-bench-", dir=args.workdir) as tmp:
        root = Path(tmp)
        server, urls = support.start_database(root)
        port = free_port()
        controller, handler = support.start_memory_sink(root / "sink", port)
        limit = args.emails
        # Capacity 1.25x the limit, but box 0's small cap is reached early and must hold.
        caps = [max(1, limit // 8), limit // 2, limit // 2, limit // 4]
        seeded = support.seed(
            urls, port=port, emails=limit + limit // 10, daily_limit=limit, mailbox_caps=caps
        )
        context = multiprocessing.get_context("spawn")
        baseline = measure_baseline(context, root, limit, args.workers)
        # The clock starts once every worker has imported and connected: this measures
        # sending, not Python start-up (reported apart as startup_s).
        spawned = time.perf_counter()
        go = context.Event()
        readies = [context.Event() for _ in range(args.workers)]
        workers = [
            context.Process(target=support.worker_main, args=(urls, False, ready, go))
            for ready in readies
        ]
        for worker in workers:
            worker.start()
        for ready in readies:
            ready.wait(timeout=300)
        started = time.perf_counter()
        go.set()
        support.wait_for(lambda: handler.count >= limit, timeout=600)
        elapsed = time.perf_counter() - started
        time.sleep(1.0)  # anything beyond the cap would arrive now
        for worker in workers:
            worker.kill()
            worker.join()
        controller.stop()

        received = support.read_received(root / "sink")
        per_box = Counter(message["From"].split("<")[-1].strip(">") for _, message in received)
        over_cap = max(0, len(received) - seeded.daily_limit) + sum(
            max(0, per_box[address] - cap) for address, cap in seeded.mailbox_caps.items()
        )

        def dnsfunc(name: bytes, timeout: int = 5) -> bytes:
            if name.decode().rstrip(".") == f"{seeded.selector}._domainkey.{support.DOMAIN}":
                return seeded.dkim_record
            return b""

        dkim_failures = sum(not dkimpy.verify(raw, dnsfunc=dnsfunc) for raw, _ in received)
        ids = Counter(message["X-Vectra-Email-ID"] for _, message in received)
        result = {
            "emails_per_s": round(limit / elapsed, 1) if elapsed else None,
            "baseline_emails_per_s": round(baseline, 1),
            "ratio_to_baseline": round(limit / elapsed / baseline, 2) if elapsed else None,
            "over_cap": over_cap,
            "dkim_failures": dkim_failures,
            "received": len(received),
            "duplicates": sum(n - 1 for n in ids.values()),
            "per_mailbox": {a: per_box[a] for a in seeded.mailbox_caps},
            "mailbox_caps": seeded.mailbox_caps,
            "daily_limit": seeded.daily_limit,
            "approved": seeded.emails,
            "workers": args.workers,
            "seconds": round(elapsed, 2),
            "startup_s": round(started - spawned, 2),
        }
        del server
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
