"""A local HTTP server speaking the parts of Stripe's API billing calls, and event signing.

Responses follow Stripe's documented shapes (https://docs.stripe.com/api): form-encoded
requests, JSON objects with `id` and `object`. Every request is recorded for assertions.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

WEBHOOK_SECRET = "whsec_test_0123456789abcdef"


@dataclass
class Recorded:
    method: str
    path: str
    form: dict[str, str]
    headers: dict[str, str]


@dataclass
class FakeStripe:
    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    subscriptions: dict[str, dict[str, Any]] = field(default_factory=dict)
    counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def calls(self, path_prefix: str, method: str = "POST") -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path.startswith(path_prefix)]

    def add_subscription(self, sub_id: str, customer: str, price: str) -> dict[str, Any]:
        now = int(time.time())
        self.subscriptions[sub_id] = {
            "id": sub_id,
            "object": "subscription",
            "customer": customer,
            "status": "active",
            "cancel_at_period_end": False,
            "canceled_at": None,
            "trial_end": None,
            "metadata": {},
            "items": {
                "object": "list",
                "data": [
                    {
                        "id": f"si_{sub_id}",
                        "object": "subscription_item",
                        "price": {"id": price, "object": "price"},
                        "quantity": 1,
                        "current_period_start": now,
                        "current_period_end": now + 30 * 86400,
                    }
                ],
            },
        }
        return self.subscriptions[sub_id]

    def respond(self, method: str, path: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        n = next(self.counter)
        if method == "POST" and path == "/v1/customers":
            return 200, {"id": f"cus_test_{n}", "object": "customer", "name": form.get("name")}
        if method == "POST" and path == "/v1/checkout/sessions":
            return 200, {
                "id": f"cs_test_{n}",
                "object": "checkout.session",
                "mode": form.get("mode"),
                "customer": form.get("customer"),
                "url": f"https://checkout.stripe.com/c/pay/cs_test_{n}",
            }
        if method == "POST" and path == "/v1/billing_portal/sessions":
            return 200, {
                "id": f"bps_test_{n}",
                "object": "billing_portal.session",
                "customer": form.get("customer"),
                "url": f"https://billing.stripe.com/p/session/test_{n}",
            }
        if path.startswith("/v1/subscriptions/"):
            sub = self.subscriptions.get(path.rsplit("/", 1)[1])
            if sub is None:
                return 404, {"error": {"type": "invalid_request_error", "message": "No such sub"}}
            if method == "POST":
                sub["items"]["data"][0]["price"]["id"] = form["items[0][price]"]
                for key, value in form.items():
                    if key.startswith("metadata["):
                        sub["metadata"][key[len("metadata[") : -1]] = value
            return 200, sub
        return 404, {"error": {"type": "invalid_request_error", "message": f"No route {path}"}}


def start_fake_stripe() -> tuple[FakeStripe, ThreadingHTTPServer]:
    fake = FakeStripe()

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            path, _, query = self.path.partition("?")
            form = dict(parse_qsl(body or query))
            fake.requests.append(Recorded(self.command, path, form, dict(self.headers)))
            status, payload = fake.respond(self.command, path, form)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Request-Id", f"req_{len(fake.requests)}")
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _handle

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return fake, server


def sign(payload: bytes, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """A `Stripe-Signature` header the documented way: t=<unix>,v1=HMAC-SHA256("t.payload")."""
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def event(event_type: str, obj: dict[str, Any], *, event_id: str | None = None) -> bytes:
    return json.dumps(
        {
            "id": event_id or f"evt_{event_type.replace('.', '_')}_{time.time_ns()}",
            "object": "event",
            "api_version": "2025-03-31.basil",
            "created": int(time.time()),
            "livemode": False,
            "type": event_type,
            "data": {"object": obj},
        }
    ).encode()
