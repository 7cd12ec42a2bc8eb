"""Agreement of the bounce classifier with the labelled corpus (tests/mail/corpus/bounces).

    .venv/bin/python bench/bounce_corpus.py --json [--corpus DIR] [--errors]

Prints {"files", "hard_agreement", "category_agreement", "status_exact", "seconds",
"naive_5xx_hard", "naive_51x_hard"}; the naive baselines read only the first status code.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from vectra.mail.inbound import parse_message
from vectra.mail.inbound.bounces import STATUS

DEFAULT = Path(__file__).resolve().parents[1] / "tests" / "mail" / "corpus" / "bounces"


def evaluate(corpus: Path) -> tuple[dict[str, float | int], list[dict[str, object]]]:
    expected = json.loads((corpus / "expected.json").read_text())
    hard = category = status_ok = status_total = naive5 = naive51 = 0
    misses: list[dict[str, object]] = []
    started = time.perf_counter()
    for name, want in sorted(expected.items()):
        raw = (corpus / name).read_bytes()
        parsed = parse_message(raw)
        got_type = parsed.bounce_type.value if parsed.bounce_type else None
        hard += (got_type == "hard") == want["hard"]
        category += got_type == want["category"]
        if want["status"]:
            status_total += 1
            status_ok += parsed.status == want["status"]
        first = STATUS.search(raw.decode("latin-1"))
        naive5 += (bool(first) and first.group(1) == "5") == want["hard"]
        naive51 += (bool(first) and first.group(1) == "5" and first.group(2) == "1") == want["hard"]
        if got_type != want["category"] or (want["status"] and parsed.status != want["status"]):
            misses.append(
                {"file": name, "want": want, "kind": parsed.kind.value, "got": got_type,
                 "reason": parsed.reason, "status": parsed.status,
                 "diagnostic": (parsed.diagnostic or "")[:300]}
            )  # fmt: skip
    seconds = time.perf_counter() - started
    files = len(expected)
    summary: dict[str, float | int] = {
        "files": files,
        "hard_agreement": round(hard / files, 4),
        "category_agreement": round(category / files, 4),
        "status_exact": round(status_ok / status_total, 4) if status_total else 1.0,
        "seconds": round(seconds, 3),
        "naive_5xx_hard": round(naive5 / files, 4),
        "naive_51x_hard": round(naive51 / files, 4),
    }
    return summary, misses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--corpus", type=Path, default=DEFAULT)
    parser.add_argument("--errors", action="store_true", help="list disagreements on stderr")
    args = parser.parse_args()
    summary, misses = evaluate(args.corpus)
    if args.errors:
        for miss in misses:
            print(json.dumps(miss, ensure_ascii=False), file=sys.stderr)
    if args.json:
        print(json.dumps(summary))
    else:
        for key, value in summary.items():
            print(f"{key:>20}: {value}")


if __name__ == "__main__":
    main()
