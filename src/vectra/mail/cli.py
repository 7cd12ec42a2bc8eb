"""`vectra mail`: read inbound messages offline (support and evaluation); no database."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from vectra.mail.inbound import InboundKind, parse_message
from vectra.mail.inbound.intent import IntentGuess

app = typer.Typer(help="Inbound mail: bounces, complaints, replies.", no_args_is_help=True)


def classify_text(text: str, *, auto_header: str | None = None) -> IntentGuess:
    """Rules first, then the labelled neighbours (embeddings load only on first use)."""
    from vectra.mail.inbound.classifier import classify_reply

    return classify_reply(text, auto_header=auto_header)


def inspect_file(path: Path) -> dict[str, Any]:
    """One line of `mail inspect`: never raises."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return {"file": str(path), "kind": "unknown", "error": f"cannot read: {exc.strerror}"}
    parsed = parse_message(raw)
    if parsed.kind == InboundKind.UNKNOWN:
        return {"file": str(path), "kind": "unknown", "error": parsed.error or "unparseable"}
    intent = None
    if parsed.kind == InboundKind.REPLY:
        intent = classify_text(parsed.body or "", auto_header=parsed.auto_submitted).intent
    return {
        "file": str(path),
        "kind": parsed.kind.value,
        "bounce_type": parsed.bounce_type.value if parsed.bounce_type else None,
        "status": parsed.status,
        "recipient": parsed.recipient,
        "intent": intent,
    }


@app.command("inspect")
def inspect(
    files: Annotated[list[Path], typer.Argument(help="Raw .eml files.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per file.")] = False,
) -> None:
    """Classify each message: bounce/delay/complaint/reply, bounce type, status, intent."""
    for path in files:
        line = inspect_file(path)
        if as_json:
            print(json.dumps(line, ensure_ascii=False), flush=False)
        else:
            typer.echo("\t".join(str(v) for v in line.values()))
    sys.stdout.flush()


@app.command("classify-reply")
def classify_reply(
    jsonl: Annotated[bool, typer.Option("--jsonl", help='Read {"text"} lines on stdin.')] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Read one text on stdin.")] = False,
) -> None:
    """Reply intent and confidence for texts on stdin."""
    if jsonl:
        for line in sys.stdin:
            if not line.strip():
                continue
            try:
                text = str(json.loads(line).get("text") or "")
            except (ValueError, AttributeError):
                text = ""
            guess = classify_text(text)
            print(json.dumps({"intent": guess.intent, "confidence": guess.confidence}))
        return
    guess = classify_text(sys.stdin.read())
    document = {"intent": guess.intent, "confidence": guess.confidence}
    print(json.dumps(document) if as_json else f"{guess.intent}\t{guess.confidence}")


@app.command("sink")
def sink(
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 2525,
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    folder: Annotated[Path, typer.Option(help="Where to store .eml files.")] = Path("mail-sink"),
) -> None:
    """Local sandbox SMTP server: stores every message as .eml, one line per message."""
    from vectra.mail.sink import serve_forever

    serve_forever(folder, host=host, port=port, echo=lambda line: print(line, flush=True))


@app.command("inbound")
def inbound(
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 2526,
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    domain: Annotated[
        list[str] | None, typer.Option(help="Bounce/reply domain accepted (repeatable).")
    ] = None,
) -> None:
    """Inbound SMTP server of the bounce domain: stores each message, queues its processing."""
    from vectra.db.engine import Database
    from vectra.db.resolve import resolve_database_urls
    from vectra.mail.inbound.smtp_server import serve_forever
    from vectra.settings import get_settings

    database = Database(resolve_database_urls(get_settings()), pool_size=4)
    domains = domain or []
    print(f"inbound SMTP on {host}:{port} for {', '.join(domains) or 'any domain'}", flush=True)
    serve_forever(database, host=host, port=port, domains=domains)
