"""One HTTP path to the CRMs: bounded retries with jittered backoff, one token refresh.

- 429 (both providers) and Salesforce's `403 REQUEST_LIMIT_EXCEEDED` wait for `Retry-After`
  when given, else HubSpot's window (`X-HubSpot-RateLimit-Interval-Milliseconds`), else an
  exponential delay; jitter is added on top so parallel workers do not retry in step.
- A success whose `X-HubSpot-RateLimit-Remaining` is nearly spent paces the next call
  instead of walking into a 429.
- 401: the caller's `refresh` runs once, then the request is retried; a second 401 is a
  `CrmAuthError` carrying the provider's message (the integration turns `error`).
- Other 4xx are `CrmRecordError` (validation of one record: logged, never fatal to a run).
Nothing here logs headers or bodies: credentials never reach a log line.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from vectra.integrations.config import IntegrationSettings

MESSAGE_LIMIT = 500


class CrmError(Exception):
    """The CRM refused or failed a request."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


class CrmAuthError(CrmError):
    """The CRM refused the credentials (after one refresh when the flow has one)."""


class CrmRecordError(CrmError):
    """The CRM refused one request's content (validation, duplicates, missing fields)."""


class CrmUnavailable(CrmError):
    """Rate-limited or failing past the retry budget, or unreachable."""


def provider_message(response: httpx.Response) -> tuple[str, str | None]:
    """The provider's own error message and code, from HubSpot, Salesforce or OAuth bodies."""
    try:
        body: Any = response.json()
    except ValueError:
        return (response.text.strip()[:MESSAGE_LIMIT] or f"HTTP {response.status_code}"), None
    if isinstance(body, list) and body and isinstance(body[0], dict):  # Salesforce REST
        first = body[0]
        return str(first.get("message", ""))[:MESSAGE_LIMIT], first.get("errorCode")
    if isinstance(body, dict):
        if "error_description" in body or ("error" in body and "message" not in body):  # OAuth
            text = body.get("error_description") or body.get("error")
            return str(text)[:MESSAGE_LIMIT], str(body.get("error") or "") or None
        code = body.get("category") or body.get("errorType") or body.get("errorCode")
        return str(body.get("message", f"HTTP {response.status_code}"))[:MESSAGE_LIMIT], code
    return f"HTTP {response.status_code}", None


def is_rate_limited(response: httpx.Response) -> bool:
    if response.status_code == 429:
        return True
    # Salesforce answers its API limits with 403 and this code, not with 429.
    return response.status_code == 403 and provider_message(response)[1] == "REQUEST_LIMIT_EXCEEDED"


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value)  # RFC 9110: seconds or an HTTP-date
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


def _header_int(response: httpx.Response, name: str) -> int | None:
    try:
        return int(response.headers[name])
    except (KeyError, ValueError):
        return None


@dataclass
class CrmHttp:
    """An httpx client for one CRM account; `headers()` is re-read after each refresh."""

    provider: str
    base_url: Callable[[], str]
    headers: Callable[[], dict[str, str]]
    settings: IntegrationSettings
    refresh: Callable[[], None] | None = None
    sleep: Callable[[float], None] = time.sleep
    client: httpx.Client = field(init=False)
    retries_used: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self.client = httpx.Client(timeout=self.settings.http_timeout_s)

    def close(self) -> None:
        self.client.close()

    def backoff(self, response: httpx.Response | None, attempt: int) -> float:
        """Seconds to wait before retry `attempt` (1-based): the provider's hint, or exponential."""
        cap = self.settings.max_backoff_s
        hinted = _retry_after(response) if response is not None else None
        if hinted is None and response is not None:
            window = _header_int(response, "x-hubspot-ratelimit-interval-milliseconds")
            if window is not None:
                hinted = window / 1000
        if hinted is not None:
            return min(cap, hinted) + random.uniform(0, 0.25 + hinted * 0.1)  # noqa: S311 (jitter)
        delay = min(cap, self.settings.base_backoff_s * 2 ** (attempt - 1))
        return delay * random.uniform(1.0, 1.5)  # noqa: S311 (jitter)

    def _pace(self, response: httpx.Response) -> None:
        remaining = _header_int(response, "x-hubspot-ratelimit-remaining")
        limit = _header_int(response, "x-hubspot-ratelimit-max")
        window = _header_int(response, "x-hubspot-ratelimit-interval-milliseconds")
        if remaining is None or not limit or not window:
            return
        if remaining <= max(1, limit // 10):
            # Spread the rest of the window's budget rather than spend it and get a 429.
            self.sleep(min(self.settings.max_backoff_s, window / 1000 / max(1, remaining + 1)))

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send, retrying rate limits and 5xx; CrmAuthError, CrmRecordError or CrmUnavailable."""
        refreshed = False
        attempt = 0
        while True:
            # Re-read each time: a refresh may move a Salesforce org to another instance.
            url = path if path.startswith("http") else f"{self.base_url().rstrip('/')}{path}"
            try:
                response = self.client.request(method, url, headers=self.headers(), **kwargs)
            except httpx.TransportError as exc:
                attempt += 1
                if attempt > self.settings.max_retries:
                    raise CrmUnavailable(
                        f"{self.provider} is unreachable ({type(exc).__name__})"
                    ) from None
                self.sleep(self.backoff(None, attempt))
                continue
            if response.status_code == 401:
                if self.refresh is not None and not refreshed:
                    refreshed = True
                    self.refresh()
                    continue
                message, code = provider_message(response)
                raise CrmAuthError(message, status=401, code=code)
            if is_rate_limited(response) or response.status_code >= 500:
                attempt += 1
                if attempt > self.settings.max_retries:
                    message, code = provider_message(response)
                    raise CrmUnavailable(
                        f"{self.provider} still refusing after {attempt - 1} retries: {message}",
                        status=response.status_code,
                        code=code,
                    )
                self.retries_used += 1
                self.sleep(self.backoff(response, attempt))
                continue
            self._pace(response)
            if response.status_code == 403:
                message, code = provider_message(response)
                raise CrmAuthError(message, status=403, code=code)
            if response.status_code >= 400:
                message, code = provider_message(response)
                raise CrmRecordError(message, status=response.status_code, code=code)
            return response
