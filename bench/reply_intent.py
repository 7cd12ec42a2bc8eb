"""Reply-intent accuracy on the held-out split of src/vectra/mail/data/reply_examples.jsonl.

    .venv/bin/python bench/reply_intent.py --json [--no-embeddings] [--errors]

Prints {"train", "test", "accuracy", "by_language", "embeddings", "seconds"}.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter

from vectra.mail.inbound.classifier import NeighbourIndex, classify_reply, examples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--no-embeddings", action="store_true", help="rules + n-grams only")
    parser.add_argument("--errors", action="store_true", help="list misses on stderr")
    args = parser.parse_args()
    rows = examples()
    train = [e for e in rows if e.split == "train"]
    test = [e for e in rows if e.split == "test"]
    started = time.perf_counter()
    index = NeighbourIndex(train, use_embeddings=not args.no_embeddings)
    hits: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    for example in test:
        got = classify_reply(example.text, index=index).intent
        totals[example.lang] += 1
        if got == example.intent:
            hits[example.lang] += 1
        elif args.errors:
            print(
                json.dumps([example.intent, got, example.text], ensure_ascii=False), file=sys.stderr
            )
    summary = {
        "train": len(train),
        "test": len(test),
        "accuracy": round(sum(hits.values()) / len(test), 4),
        "by_language": {lang: round(hits[lang] / n, 4) for lang, n in sorted(totals.items())},
        "embeddings": index._vectors is not None,
        "seconds": round(time.perf_counter() - started, 2),
    }
    print(json.dumps(summary) if args.json else summary)


if __name__ == "__main__":
    main()
