"""The OpenAI-compatible provider against a local server speaking `/v1/embeddings`."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import pytest

from vectra.ai.embeddings import DIMENSIONS, OpenAIEmbedder
from vectra.ai.errors import EmbeddingProviderError


class FakeEmbeddingsAPI:
    """Answers like OpenAI's API: `data` items with `embedding` and `index` (here reversed)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.mode = "ok"
        handler = self._handler()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                api.requests.append(
                    {"path": self.path, "auth": self.headers.get("Authorization"), **body}
                )
                if api.mode == "401":
                    error = {"error": {"message": "Incorrect API key", "type": "invalid_key"}}
                    return self._send(401, json.dumps(error).encode())
                if api.mode == "500":
                    return self._send(500, b'{"error": {"message": "overloaded"}}')
                if api.mode == "malformed":
                    return self._send(200, b'{"data": [{"embedding": ')
                dims = 1536 if api.mode == "wrong_dims" else DIMENSIONS
                data = []
                for index, text in enumerate(body["input"]):
                    rng = np.random.default_rng(abs(hash(text)) % 2**32)
                    vector = rng.normal(size=dims) * 3.0  # not normalised: the client does it
                    item = {"object": "embedding", "embedding": vector.tolist(), "index": index}
                    data.append(item)
                data.reverse()  # order comes from `index`, not position
                usage = {"prompt_tokens": 5, "total_tokens": 5}
                document = {"object": "list", "data": data, "model": body["model"], "usage": usage}
                return self._send(200, json.dumps(document).encode())

        return Handler


@pytest.fixture
def api() -> Iterator[FakeEmbeddingsAPI]:
    fake = FakeEmbeddingsAPI()
    fake.thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


def test_embeds_through_the_api_in_input_order(api: FakeEmbeddingsAPI) -> None:
    embedder = OpenAIEmbedder(base_url=api.url, model="nomic-embed", api_key="sk-test")
    texts = ["alpha", "beta", "gamma"]
    vectors = embedder.embed(texts)
    assert vectors.shape == (3, DIMENSIONS) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    again = embedder.embed(["gamma"])[0]
    np.testing.assert_allclose(vectors[2], again, atol=1e-6)
    request = api.requests[0]
    assert request["path"] == "/v1/embeddings"
    assert request["auth"] == "Bearer sk-test"
    assert request["model"] == "nomic-embed" and request["input"] == texts
    assert embedder.model == "nomic-embed"


def test_base_url_may_end_in_v1_and_large_inputs_are_batched(api: FakeEmbeddingsAPI) -> None:
    embedder = OpenAIEmbedder(base_url=api.url + "/v1/", model="m", batch_size=10)
    assert embedder.embed([f"t{i}" for i in range(25)]).shape == (25, DIMENSIONS)
    assert [len(r["input"]) for r in api.requests] == [10, 10, 5]
    assert all(r["path"] == "/v1/embeddings" and r["auth"] is None for r in api.requests)


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("401", "HTTP 401: .*Incorrect API key"),
        ("500", "HTTP 500"),
        ("malformed", "malformed JSON"),
        ("wrong_dims", r"shape \(1, 1536\), expected \(1, 384\)"),
    ],
)
def test_provider_errors_are_clear(api: FakeEmbeddingsAPI, mode: str, message: str) -> None:
    api.mode = mode
    embedder = OpenAIEmbedder(base_url=api.url, model="m")
    with pytest.raises(EmbeddingProviderError, match=message) as caught:
        embedder.embed(["hello"])
    assert caught.value.status_code == 503


def test_unreachable_provider_is_a_clear_error() -> None:
    embedder = OpenAIEmbedder(base_url="http://127.0.0.1:9", model="m", timeout_s=2)
    with pytest.raises(EmbeddingProviderError, match="unreachable"):
        embedder.embed(["hello"])
