# ruff: noqa: E501  (raw message fixtures read best unwrapped)
"""`vectra mail` through the real entry point, without any database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

CORPUS = Path(__file__).parent / "corpus" / "bounces"


def mail(
    *args: str, stdin: str = "", env_extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    # A DATABASE_URL nothing listens on: if `mail` touched the database it would fail.
    env = {
        **os.environ,
        "DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none",
        **(env_extra or {}),
    }
    return subprocess.run(
        [sys.executable, "-m", "vectra.cli", "mail", *args],
        input=stdin, capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip


def test_inspect_every_corpus_file_in_order_quickly(tmp_path: Path) -> None:
    files = sorted(str(p) for p in CORPUS.glob("*.eml"))
    broken = tmp_path / "broken.eml"
    broken.write_bytes(b"")
    started = time.perf_counter()
    result = mail("inspect", *files, str(broken), str(tmp_path / "missing.eml"), "--json")
    elapsed = time.perf_counter() - started
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["file"] for line in lines] == [*files, str(broken), str(tmp_path / "missing.eml")]
    assert lines[-1]["kind"] == lines[-2]["kind"] == "unknown" and lines[-1]["error"]
    expected = json.loads((CORPUS / "expected.json").read_text())
    first = next(line for line in lines if line["file"].endswith("lhost-postfix-01.eml"))
    assert set(first) == {"file", "kind", "bounce_type", "status", "recipient", "intent"}
    assert first["status"] == expected["lhost-postfix-01.eml"]["status"]
    # Generous: CI machines are shared; this catches a model load or a per-file import.
    assert elapsed < 90


def test_inspect_a_reply_gets_an_intent(tmp_path: Path) -> None:
    reply = tmp_path / "reply.eml"
    reply.write_bytes(
        b"From: Jo <jo@client.example>\r\nTo: ada@vectra.example\r\nSubject: Re: Quick question\r\n"
        b"In-Reply-To: <orig-1@vectra.example>\r\n\r\nPlease unsubscribe me.\r\n\r\n"
        b"On Mon, Mar 3, 2025 at 9:00 AM Ada <ada@vectra.example> wrote:\r\n> Interested in a call?\r\n"
    )
    result = mail("inspect", str(reply), "--json")
    line = json.loads(result.stdout)
    assert (line["kind"], line["intent"], line["bounce_type"]) == ("reply", "unsubscribe", None)


def test_classify_reply_jsonl_and_json() -> None:
    texts = [
        "Remove me from your list",
        "Je suis en congés jusqu'au 12 mars",
        "Können wir nächste Woche einen Termin vereinbaren?",
    ]
    stdin = "".join(json.dumps({"text": t}) + "\n" for t in texts)
    result = mail("classify-reply", "--jsonl", stdin=stdin)
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["intent"] for o in out] == ["unsubscribe", "out_of_office", "meeting_request"]
    assert all(0 <= o["confidence"] <= 1 for o in out)
    single = mail("classify-reply", "--json", stdin="Not interested, thanks.")
    assert json.loads(single.stdout)["intent"] == "not_interested"


def test_reading_bounces_never_loads_the_embedding_model() -> None:
    files = [str(p) for p in sorted(CORPUS.glob("lhost-postfix-*.eml"))]
    code = (
        "import sys\nfrom pathlib import Path\nfrom vectra.mail.cli import inspect_file\n"
        f"lines = [inspect_file(Path(f)) for f in {files!r}]\n"
        "assert all(line['kind'] in ('bounce', 'delay', 'complaint') for line in lines), lines\n"
        "print('vectra.ai.embeddings' in sys.modules, 'onnxruntime' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False"]
