"""Errors of the AI core."""

from __future__ import annotations

from vectra.errors import ServiceUnavailable, VectraError


class ModelIntegrityError(VectraError):
    """The embedding model file is not the one Vectra was built and tested with."""

    status_code = 500
    code = "model_integrity"


class EmbeddingProviderError(ServiceUnavailable):
    """The embeddings provider failed or answered something unusable."""

    code = "embeddings_unavailable"
