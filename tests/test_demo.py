"""`vectra demo` against the real (embedded) PostgreSQL: every funnel stage filled, the counts
consistent with what reached the SMTP sink and what came back, and a second run refused
unless --reset."""

from __future__ import annotations

import email as email_lib
import json
import os
import socket
import subprocess
import sys
from email import policy as email_policy
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from vectra.db.engine import Database
from vectra.demo import people
from vectra.demo.pipeline import OWNER_EMAIL, SLUG, DemoExists, Stages, load_demo


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Recorder(Stages):
    def __init__(self) -> None:
        self.started: list[str] = []
        self.summaries: list[str] = []
        self.advanced = 0

    def start(self, title: str, total: int | None = None) -> None:
        self.started.append(title)

    def advance(self, done: int, total: int | None = None) -> None:
        self.advanced += 1

    def done(self, summary: str) -> None:
        self.summaries.append(summary)


def _one(db: Database, sql: str, **params: Any) -> Any:
    with db.owner_engine.connect() as conn:
        return conn.execute(text(sql), params).one()


def test_generator_is_deterministic_and_mixed() -> None:
    first, again = people.generate(500), people.generate(500)
    assert people.to_csv(first) == people.to_csv(again)
    assert people.to_csv(first) != people.to_csv(people.generate(500, seed=7))
    assert len({p.email for p in first}) == 500
    assert all(p.email.endswith(".example") for p in first)  # RFC 2606: nobody real
    eu = {"DE", "FR", "NL", "SE", "ES", "IE"}
    assert sum(p.company.country in eu for p in first) > 100
    notes = {p.note for p in first if p.note}
    assert {"domain no longer exists", "competitor (excluded domain)"} <= notes


def test_demo_fills_every_stage_and_a_second_run_is_refused(
    committed_database: Database, tmp_path: Path
) -> None:
    db = committed_database
    recorder = Recorder()
    report = load_demo(db, sink_folder=tmp_path / "sink", sink_port=_free_port(), stages=recorder)
    org = report.organization_id
    assert org is not None
    assert len(recorder.started) == len(recorder.summaries) >= 8 and recorder.advanced > 500

    # Every stage of the dashboard's funnel is reached, and it only narrows.
    funnel = report.funnel
    stages = ["imported", "enriched", "qualified", "contacted", "replied", "meeting", "won"]
    counts = [funnel[s] for s in stages]
    assert counts[0] == 500 and all(counts), funnel
    assert counts == sorted(counts, reverse=True), funnel

    # The import went through the leads service: 500 rows, all in, the job kept.
    assert report.imported["imported"] == 500 and report.imported["rejected"] == 0
    rows = _one(db, "SELECT count(*), count(*) FILTER (WHERE status = 'rejected') FROM leads "
                "WHERE organization_id = :o", o=org)  # fmt: skip
    assert rows[0] == 500 and rows[1] > 0
    dead = _one(db, "SELECT count(*), min(status) FROM leads WHERE organization_id = :o AND "
                "email LIKE :d", o=org, d=f"%@{people.DEAD_DOMAIN}")  # fmt: skip
    assert tuple(dead) == (2, "rejected")
    runs = _one(db, "SELECT count(*) FILTER (WHERE status = 'succeeded'), count(*) FROM "
                "agent_runs WHERE organization_id = :o", o=org)  # fmt: skip
    assert tuple(runs) == (2, 2)
    assert report.prospector["enriched"] == funnel["enriched"]
    assert report.qualifier["qualified"] == funnel["qualified"]

    # 3 drafts per qualified lead; the approved first emails reached the sink, and only they.
    assert report.drafted == 3 * funnel["qualified"]
    sent = _one(db, "SELECT count(*) FROM emails WHERE organization_id = :o AND sent_at IS NOT "
                "NULL", o=org)[0]  # fmt: skip
    files = list((tmp_path / "sink").glob("*.eml"))
    assert sent == report.sink_received == len(files) == report.sending["sent"] > 0
    contacted = _one(db, "SELECT count(DISTINCT lead_id), max(sequence_step) FROM emails WHERE "
                     "organization_id = :o AND sent_at IS NOT NULL", o=org)  # fmt: skip
    assert tuple(contacted) == (funnel["contacted"], 0)  # first emails only, one per lead
    assert sent <= report.approved
    parsed = [email_lib.message_from_bytes(f.read_bytes(), policy=email_policy.default)
              for f in files]  # fmt: skip
    texts = [m.get_body(("plain",)).get_content() for m in parsed]
    assert all(
        m["List-Unsubscribe"] and "Keizersgracht 123" in t
        for m, t in zip(parsed, texts, strict=True)
    )
    eu = _one(db, "SELECT count(*) FROM leads l WHERE l.organization_id = :o AND "
              "l.enrichment_data->>'country' IN ('DE','FR','NL','SE','ES','IE','GB') AND "
              "EXISTS (SELECT 1 FROM emails e WHERE e.lead_id = l.id AND e.sent_at IS NOT NULL)",
              o=org)[0]  # fmt: skip
    assert eu == sum("Privacy notice" in t for t in texts) > 0  # EU recipients are told

    # Bounces: the hard ones suppress the address and mark the email; the soft one retries.
    hard = [b for b in report.bounces if b["kind"].startswith("hard")]
    assert hard and len(report.bounces) == len(hard) + 1
    marked = _one(db, "SELECT count(*) FROM emails WHERE organization_id = :o AND status = "
                  "'bounced' AND bounce_type = 'hard'", o=org)[0]  # fmt: skip
    suppressed = _one(db, "SELECT count(*) FROM suppressions WHERE organization_id = :o AND "
                      "reason = 'hard_bounce'", o=org)[0]  # fmt: skip
    assert marked == suppressed == len(hard)
    paused = _one(db, "SELECT status FROM mailboxes WHERE id = :m", m=report.mailbox_id)[0]
    assert paused == "active"  # the demo stays under the 3% hard-bounce guardrail

    # Replies: each one's intent read by inbound processing and set on the lead.
    assert [r["intent"] for r in report.replies] == [r["expected"] for r in report.replies]
    assert {r["intent"] for r in report.replies} == {
        "meeting_request", "interested", "not_interested", "out_of_office"
    }  # fmt: skip
    intents = _one(db, "SELECT count(*) FROM leads WHERE organization_id = :o AND intent IS NOT "
                   "NULL", o=org)[0]  # fmt: skip
    assert intents == len(report.replies) == funnel["replied"]

    # One upcoming booked meeting, one held and won.
    meetings = _one(db, "SELECT count(*), count(*) FILTER (WHERE outcome = 'closed_won'), "
                    "count(*) FILTER (WHERE scheduled_at > now() AT TIME ZONE 'UTC') FROM "
                    "meetings WHERE organization_id = :o", o=org)  # fmt: skip
    assert tuple(meetings) == (2, 1, 1) and funnel["meeting"] == 2 and funnel["won"] == 1

    # The owner can sign in with the printed password.
    from vectra.accounts import service as accounts

    with db.system_session() as session:
        assert accounts.authenticate(session, email=OWNER_EMAIL, password=report.password)

    # A second run refuses; --reset replaces the organization with a fresh one.
    with pytest.raises(DemoExists, match="--reset"):
        load_demo(db, sink_folder=tmp_path / "again", sink_port=_free_port())
    assert _one(db, "SELECT count(*) FROM organizations WHERE slug = :s", s=SLUG)[0] == 1
    again = load_demo(
        db, sink_folder=tmp_path / "again", sink_port=_free_port(), reset=True, leads_count=80
    )
    assert again.organization_id != org and again.funnel["imported"] == 80
    assert all(again.funnel.values()), again.funnel
    assert _one(db, "SELECT count(*) FROM leads WHERE organization_id = :o", o=org)[0] == 0
    assert _one(db, "SELECT count(*) FROM organizations WHERE slug = :s", s=SLUG)[0] == 1


def test_vectra_demo_command(committed_database: Database, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": committed_database.urls.owner,
        "DATABASE_APP_URL": committed_database.urls.app or "",
        "VECTRA_LOG_JSON": "true",
        "VECTRA_BASE_URL": "http://127.0.0.1:8123",
    }
    args = [sys.executable, "-m", "vectra.cli", "demo", "--sink-folder", str(tmp_path),
            "--sink-port", str(_free_port()), "--leads", "80"]  # fmt: skip

    def run(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*args, *extra], capture_output=True, text=True, env=env, timeout=300, check=False
        )

    done = run()
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stderr  # the progress and the summary are for a person: stderr
    expected = ["Prospector", "BANT qualifier", "Sending to the local SMTP sink",
                "http://127.0.0.1:8123/login", OWNER_EMAIL, "vectra demo --reset"]  # fmt: skip
    for line in expected:
        assert line in out, out[-3000:]
    password = out.split(f"{OWNER_EMAIL} / ", 1)[1].split()[0]
    refused = run("--json")
    assert refused.returncode == 1
    assert json.loads(refused.stdout)["error"]["code"] == "demo_exists"
    reset = run("--json", "--reset", "--password", "a demo passphrase")
    assert reset.returncode == 0, reset.stderr[-3000:]
    document = json.loads(reset.stdout)  # exactly one JSON document
    assert document["url"] == "http://127.0.0.1:8123/login"
    assert (document["owner_email"], document["password"]) == (OWNER_EMAIL, "a demo passphrase")
    assert document["password"] != password
    assert document["funnel"]["imported"] == 80 and all(document["funnel"].values())
