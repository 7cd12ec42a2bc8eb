"""The bundled MiniLM: real vectors, pinned similarities, padding and truncation invariance."""

from __future__ import annotations

import numpy as np
import pytest

from vectra.ai import embeddings
from vectra.ai.embeddings import (
    DIMENSIONS,
    LOCAL_MODEL,
    OnnxEmbedder,
    cosine,
    default_model_path,
    embed_texts,
    local_embedder,
)
from vectra.ai.errors import ModelIntegrityError
from vectra.settings import Settings

PARAPHRASES = [
    ("How do I reset my password?", "How can I change my password?"),
    ("VP of Sales at a software company", "Vice President of Sales at a software firm"),
    ("We are hiring software engineers.", "We have open positions for software developers."),
    ("A man is playing a guitar.", "A man plays the guitar."),
]
UNRELATED = [
    ("How do I reset my password?", "The weather in Paris is sunny today."),
    ("VP of Sales at a software company", "A recipe for chocolate cake with strawberries."),
    ("A man is playing a guitar.", "The quarterly tax filing deadline is in April."),
]


def test_vectors_are_384_d_unit_float32() -> None:
    vectors = embed_texts(["VP Sales at Acme", "CTO at a fintech startup", ""])
    assert vectors.shape == (3, DIMENSIONS)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embed_texts([]).shape == (0, DIMENSIONS)


@pytest.mark.parametrize(("a", "b"), PARAPHRASES)
def test_paraphrases_are_close(a: str, b: str) -> None:
    va, vb = local_embedder().embed([a, b])
    assert cosine(va, vb) > 0.7


@pytest.mark.parametrize(("a", "b"), UNRELATED)
def test_unrelated_sentences_are_far(a: str, b: str) -> None:
    va, vb = local_embedder().embed([a, b])
    assert cosine(va, vb) < 0.3


def test_similarity_orders_leads_by_relevance_to_a_profile() -> None:
    profile, *leads = local_embedder().embed(
        [
            "VP of Sales at a B2B SaaS company",
            "Head of Sales, SaaS startup",
            "Marketing manager at a retailer",
            "Pastry chef in a bakery",
        ]
    )
    scores = [cosine(profile, lead) for lead in leads]
    assert scores == sorted(scores, reverse=True)
    assert scores[0] > 0.6 and scores[2] < 0.2


def test_padding_to_the_batch_longest_does_not_change_a_vector() -> None:
    embedder = local_embedder()
    short = "CTO at a fintech startup in Berlin"
    longer = [
        "Director of Revenue Operations at a 500-person logistics company, using Salesforce, "
        "Outreach and Snowflake; recently raised a Series C and hiring account executives",
        "Senior DevOps engineer " * 20,
    ]
    alone = embedder.embed([short])[0]
    in_batch = embedder.embed([*longer, short])[2]
    assert cosine(alone, in_batch) > 0.999


def test_inputs_are_truncated_not_rejected() -> None:
    embedder = local_embedder()
    long_text = " ".join(f"word{i} sales pipeline" for i in range(400))  # >> 128 tokens
    vectors = embedder.embed([long_text, long_text + " completely different ending " * 50])
    # Past the 128-token window, the extra text cannot move the vector.
    assert cosine(vectors[0], vectors[1]) > 0.9999


def test_truncated_vectors_are_deterministic_alone_or_among_short_texts() -> None:
    embedder = local_embedder()
    long_text = " ".join(f"{word} pipeline" for word in ["sales", "cloud", "payments"] * 60)
    tokens = embedder._tokenizer.encode(long_text).ids
    assert len(tokens) == embeddings.MAX_TOKENS
    # The same 128-token window decoded back to text (without [CLS]/[SEP]) embeds alike.
    window = embedder._tokenizer.decode(tokens[1:-1])
    shorts = [f"Account executive {i} at a SaaS company" for i in range(70)]
    alone = embedder.embed([long_text])[0]
    mixed = embedder.embed([*shorts[:35], long_text, *shorts[35:]])
    assert cosine(alone, mixed[35]) > 0.9999
    assert cosine(alone, embedder.embed([window])[0]) > 0.9999
    np.testing.assert_allclose(mixed[:35], embedder.embed(shorts[:35]), atol=2e-3)


def test_batches_are_bounded_by_size_and_attention_budget() -> None:
    embedder = OnnxEmbedder(batch_size=8, attention_budget=4 * 100 * 100)
    groups = embedder._batches([10, 120, 5, 100, 100, 100, 100, 100, 7, 9, 11, 12, 13, 14])
    assert sorted(i for g in groups for i in g) == list(range(14))
    lengths = [10, 120, 5, 100, 100, 100, 100, 100, 7, 9, 11, 12, 13, 14]
    for group in groups:
        longest = max(lengths[i] for i in group)
        assert len(group) <= 8 and len(group) * longest * longest <= 4 * 100 * 100
        # Shortest first: a group never mixes a short text into a long text's padding.
        assert [lengths[i] for i in group] == sorted(lengths[i] for i in group)
    assert groups[0] == [2, 8, 9, 0, 10, 11, 12, 13]  # the 8 shortest, 5..14 tokens
    assert [len(g) for g in groups[1:]] == [4, 2]  # 4 x 100^2 fit the budget, a 5th not


def test_batches_larger_than_the_batch_size_keep_their_order() -> None:
    texts = [f"Account executive number {i} at company {i}" for i in range(150)]
    together = local_embedder().embed(texts)
    one_by_one = np.stack([local_embedder().embed([t])[0] for t in texts[::37]])
    np.testing.assert_allclose(together[::37], one_by_one, atol=2e-3)


def test_model_is_loaded_once_per_process() -> None:
    assert local_embedder() is local_embedder()
    assert local_embedder().model == LOCAL_MODEL


def test_a_model_file_with_the_wrong_sha256_is_refused() -> None:
    with pytest.raises(ModelIntegrityError, match="sha256"):
        OnnxEmbedder(expected_sha256="0" * 64)


def test_a_tampered_model_file_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    tampered = tmp_path / "model.onnx"
    data = bytearray(default_model_path().read_bytes())
    data[len(data) // 2] ^= 0xFF
    tampered.write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError, match="expected 8199be6f"):
        OnnxEmbedder(model_path=tampered)
    with pytest.raises(ModelIntegrityError, match="not found"):
        OnnxEmbedder(model_path=tmp_path / "missing.onnx")


def test_settings_choose_the_provider() -> None:
    local = embeddings.embedder_from_settings(Settings(embeddings_provider="local"))
    assert local is local_embedder()
    remote = embeddings.embedder_from_settings(
        Settings(
            embeddings_provider="openai",
            embeddings_url="http://127.0.0.1:9",
            embeddings_model="text-embedding-3-small",
        )
    )
    assert remote.model == "text-embedding-3-small"
    from vectra.errors import InvalidInput

    with pytest.raises(InvalidInput) as missing:
        embeddings.embedder_from_settings(Settings(embeddings_provider="openai"))
    assert missing.value.field == "embeddings_url"
    with pytest.raises(InvalidInput) as unknown:
        embeddings.embedder_from_settings(Settings(embeddings_provider="word2vec"))
    assert unknown.value.field == "embeddings_provider"
