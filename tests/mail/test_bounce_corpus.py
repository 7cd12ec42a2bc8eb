"""Agreement with 253 labelled real-world bounces (sisimai's sample set, BSD-2)."""

from __future__ import annotations

import json
from pathlib import Path

from vectra.mail.inbound import InboundKind, parse_message

CORPUS = Path(__file__).parent / "corpus" / "bounces"


def test_corpus_agreement() -> None:
    expected = json.loads((CORPUS / "expected.json").read_text())
    hard = category = status_ok = status_total = 0
    for name, want in expected.items():
        parsed = parse_message((CORPUS / name).read_bytes())
        got = parsed.bounce_type.value if parsed.bounce_type else None
        hard += (got == "hard") == want["hard"]
        category += got == want["category"]
        if want["status"]:
            status_total += 1
            status_ok += parsed.status == want["status"]
    files = len(expected)
    assert files == 253
    # Measured 0.925 / 0.862 / 0.990; issue 8 aims at 0.95 / 0.90 / every status: these floors
    # catch regressions while the remaining misses (provider-specific labels) are worked on.
    assert hard / files >= 0.92
    assert category / files >= 0.85
    assert status_ok / status_total >= 0.98


def test_every_corpus_file_is_read_as_a_report() -> None:
    expected = json.loads((CORPUS / "expected.json").read_text())
    kinds = [parse_message((CORPUS / n).read_bytes()).kind for n in expected]
    reports = sum(k in (InboundKind.BOUNCE, InboundKind.DELAY) for k in kinds)
    assert reports / len(kinds) >= 0.97
