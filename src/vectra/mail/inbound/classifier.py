"""Reply intent: phrase rules first, then neighbours in a labelled multilingual set.

Stage 1 (`intent.classify_by_rules`) settles the unambiguous replies. Stage 2 votes among the
nearest labelled examples (`mail/data/reply_examples.jsonl`, EN/FR/DE/ES) by two measures:
character n-grams (robust to inflection and typos, any language) and, when
`vectra.ai.embeddings` can load its model, MiniLM sentence embeddings. Everything runs
offline. The reply text is only ever compared, never interpreted as instructions.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import threading
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from vectra.mail.inbound.dates import return_date
from vectra.mail.inbound.intent import INTENTS, IntentGuess, classify_by_rules

log = logging.getLogger(__name__)

_K = 7
# Rules this sure are not second-guessed by the neighbours.
_DECISIVE = 0.8


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    lang: str
    split: str


@lru_cache(maxsize=1)
def examples() -> tuple[Example, ...]:
    """The labelled replies shipped with the package (train and held-out test split)."""
    source = resources.files("vectra.mail").joinpath("data/reply_examples.jsonl")
    rows = [json.loads(line) for line in source.read_text("utf-8").splitlines() if line.strip()]
    return tuple(Example(r["text"], r["intent"], r["lang"], r["split"]) for r in rows)


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[^\w?!@.]+", " ", text).strip()


def char_ngrams(text: str) -> dict[str, float]:
    """L2-normalised counts of 3-5 character n-grams inside word boundaries."""
    counts: Counter[str] = Counter()
    for word in _fold(text).split():
        padded = f" {word} "
        for n in (3, 4, 5):
            counts.update(padded[i : i + n] for i in range(max(len(padded) - n + 1, 1)))
    norm = math.sqrt(sum(v * v for v in counts.values())) or 1.0
    return {k: v / norm for k, v in counts.items()}


def _dot(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(k, 0.0) for k, v in a.items())


class NeighbourIndex:
    """kNN over the training examples by n-grams, plus embeddings when available."""

    def __init__(self, train: list[Example], *, use_embeddings: bool = True) -> None:
        self.train = train
        self.grams = [char_ngrams(e.text) for e in train]
        self._use_embeddings = use_embeddings
        self._vectors: Any = None
        self._embed: Any = None
        self._lock = threading.Lock()

    def _embedding_stage(self) -> Any:
        """The example vectors, embedded once; None when the embedder cannot load."""
        if not self._use_embeddings:
            return None
        with self._lock:
            if self._vectors is None:
                try:
                    from vectra.ai.embeddings import default_embedder, embed_texts

                    self._vectors = _cached_vectors(
                        [e.text for e in self.train], default_embedder().model, embed_texts
                    )
                    self._embed = embed_texts
                except Exception as exc:  # no model package, no onnxruntime, bad settings
                    log.info("reply intent without embeddings: %s", exc)
                    self._use_embeddings = False
                    return None
            return self._vectors

    def scores(self, text: str) -> dict[str, float]:
        """Per-label similarity-weighted votes of the k nearest examples, summing to 1."""
        query = char_ngrams(text)
        similarity = [_dot(query, g) for g in self.grams]
        vectors = self._embedding_stage()
        if vectors is not None:
            embedded = self._embed([text])[0]
            cosines = vectors @ embedded
            similarity = [
                0.5 * s + 0.5 * float(c) for s, c in zip(similarity, cosines, strict=True)
            ]
        ranked = sorted(range(len(similarity)), key=similarity.__getitem__, reverse=True)[:_K]
        votes: dict[str, float] = defaultdict(float)
        for i in ranked:
            votes[self.train[i].intent] += max(similarity[i], 0.0) ** 2
        total = sum(votes.values()) or 1.0
        return {label: votes.get(label, 0.0) / total for label in INTENTS}


def _cached_vectors(texts: list[str], model: str, embed: Any) -> Any:
    """The examples' vectors, kept in the data dir per model and text set (a CLI run that
    meets one reply then skips re-embedding the whole labelled set)."""
    import numpy as np

    from vectra.settings import get_settings

    digest = hashlib.sha256("\n".join([model, *texts]).encode()).hexdigest()[:16]
    path = Path(get_settings().data_dir) / "cache" / f"reply-examples-{digest}.npy"
    try:
        cached = np.load(path)
        if cached.shape[0] == len(texts):
            return cached
    except (OSError, ValueError):
        pass  # absent or unreadable: embed again
    vectors = embed(texts)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, vectors)
        tmp.replace(path)  # atomic: a concurrent reader never sees half a file
    except OSError as exc:
        log.info("reply intent: cannot cache example vectors: %s", exc)
    return vectors


_index: NeighbourIndex | None = None
_index_lock = threading.Lock()


def default_index() -> NeighbourIndex:
    global _index
    with _index_lock:
        if _index is None:
            _index = NeighbourIndex([e for e in examples() if e.split == "train"])
        return _index


def classify_reply(
    text: str,
    *,
    auto_header: str | None = None,
    received: Any = None,
    index: NeighbourIndex | None = None,
) -> IntentGuess:
    """Intent and confidence (0..1) of a reply's own words; OOO return date and referral too."""
    guess = _classify(text, auto_header=auto_header, index=index)
    if guess.intent == "out_of_office":
        guess = replace(guess, return_on=return_date(text, received=received))
    return guess


def _classify(text: str, *, auto_header: str | None, index: NeighbourIndex | None) -> IntentGuess:
    if not text.strip():
        return IntentGuess("auto_reply" if auto_header else "question", 0.3)
    ruled = classify_by_rules(text)
    if ruled is not None and ruled.confidence >= _DECISIVE:
        return ruled
    scores = (index or default_index()).scores(text)
    label = max(scores, key=scores.__getitem__)
    confidence = round(min(max(scores[label], 0.0), 1.0), 3)
    if ruled is not None and (ruled.intent == label or confidence < 0.6):
        # A weaker rule (a question mark, "no longer here") wins unless the neighbours agree
        # strongly on something else.
        return replace(ruled, confidence=round(max(ruled.confidence, confidence), 3))
    if auto_header and label not in ("out_of_office", "auto_reply"):
        # Automatic by its headers, but its words read like a person's: keep the automatic
        # nature visible without inventing interest.
        return IntentGuess("auto_reply", round(0.5 + confidence / 2, 3))
    return IntentGuess(label, confidence)
