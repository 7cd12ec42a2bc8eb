"""Signed tokens that travel inside outgoing mail: unsubscribe, open pixel, click, VERP bounce.

A token names one email (and, for clicks, the target URL) and is signed with HMAC-SHA256 under
`derive_key("mail-tokens")`; the kind is part of the signed message, so an open token can never
be replayed as an unsubscribe token. Nothing is stored: the signature is the proof.

Encoding is lowercase base32 without padding: URL-safe and also safe in an email local part
(`b+<token>@bounce.example`), where some MTAs lower-case addresses, so the alphabet must
survive case folding.

    make_token("unsubscribe", email_id)            -> "k5x...q"
    read_token("unsubscribe", token)               -> TokenPayload(email_id, extra) | None
    unsubscribe_url(email_id)                      -> "{base_url}/u/{token}"
    open_pixel_url(email_id)                       -> "{base_url}/t/o/{token}.gif"
    click_url(email_id, "https://example.com/x")   -> "{base_url}/t/c/{token}"  (extra={"u": url})
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from vectra.keys import derive_key
from vectra.settings import Settings, get_settings

TokenKind = Literal["unsubscribe", "open", "click", "bounce"]
KINDS: frozenset[str] = frozenset({"unsubscribe", "open", "click", "bounce"})

# 96-bit tag: forging needs ~2^96 online guesses; short enough for a VERP local part.
_TAG_BYTES = 12
_UUID_BYTES = 16


@dataclass(frozen=True)
class TokenPayload:
    """What a valid token says: which email, plus the signed extra data (e.g. click target)."""

    email_id: uuid.UUID
    extra: dict[str, Any] | None = None


def _key(settings: Settings | None) -> bytes:
    return derive_key("mail-tokens", settings)


def _tag(kind: str, body: bytes, settings: Settings | None) -> bytes:
    return hmac.new(_key(settings), kind.encode() + b"\x00" + body, hashlib.sha256).digest()[
        :_TAG_BYTES
    ]


def _encode(raw: bytes) -> str:
    return base64.b32encode(raw).decode("ascii").rstrip("=").lower()


def _decode(token: str) -> bytes | None:
    text = token.strip().upper()
    if not text or len(text) > 4096:
        return None
    try:
        return base64.b32decode(text + "=" * (-len(text) % 8))
    except (binascii.Error, ValueError):
        return None


def make_token(
    kind: TokenKind,
    email_id: uuid.UUID,
    *,
    extra: dict[str, Any] | None = None,
    settings: Settings | None = None,
) -> str:
    """A signed, URL-safe token for `kind` naming `email_id` (and `extra`, JSON-serialisable)."""
    if kind not in KINDS:
        raise ValueError(f"unknown token kind: {kind}")
    body = email_id.bytes
    if extra is not None:
        body += json.dumps(extra, separators=(",", ":"), sort_keys=True).encode()
    return _encode(body + _tag(kind, body, settings))


def read_token(
    kind: TokenKind, token: str, *, settings: Settings | None = None
) -> TokenPayload | None:
    """The payload of a valid `kind` token; None for anything altered, forged or malformed."""
    if kind not in KINDS:
        return None
    raw = _decode(token)
    if raw is None or len(raw) < _UUID_BYTES + _TAG_BYTES:
        return None
    body, tag = raw[:-_TAG_BYTES], raw[-_TAG_BYTES:]
    if not hmac.compare_digest(tag, _tag(kind, body, settings)):
        return None
    extra: dict[str, Any] | None = None
    if len(body) > _UUID_BYTES:
        try:
            decoded = json.loads(body[_UUID_BYTES:])
        except ValueError:
            return None
        if not isinstance(decoded, dict):
            return None
        extra = decoded
    return TokenPayload(email_id=uuid.UUID(bytes=body[:_UUID_BYTES]), extra=extra)


def _base(settings: Settings | None) -> str:
    return (settings or get_settings()).base_url.rstrip("/")


def unsubscribe_url(email_id: uuid.UUID, *, settings: Settings | None = None) -> str:
    """The one-click unsubscribe URL (RFC 8058 target of List-Unsubscribe)."""
    token = make_token("unsubscribe", email_id, settings=settings)
    return f"{_base(settings)}/u/{token}"


def open_pixel_url(email_id: uuid.UUID, *, settings: Settings | None = None) -> str:
    """The open-tracking pixel URL for `email_id`."""
    return f"{_base(settings)}/t/o/{make_token('open', email_id, settings=settings)}.gif"


def click_url(email_id: uuid.UUID, target_url: str, *, settings: Settings | None = None) -> str:
    """A tracked link: the target is inside the signed token, so the redirect can't be opened."""
    token = make_token("click", email_id, extra={"u": target_url}, settings=settings)
    return f"{_base(settings)}/t/c/{token}"


def click_target(token: str, *, settings: Settings | None = None) -> tuple[uuid.UUID, str] | None:
    """(email_id, target URL) of a valid click token, else None."""
    payload = read_token("click", token, settings=settings)
    if payload is None or payload.extra is None or not isinstance(payload.extra.get("u"), str):
        return None
    return payload.email_id, payload.extra["u"]


def verp_address(email_id: uuid.UUID, domain: str, *, settings: Settings | None = None) -> str:
    """The VERP return path `b+<token>@domain`: a bounce to it names the email it is about."""
    return f"b+{make_token('bounce', email_id, settings=settings)}@{domain}"


def read_verp_address(address: str, *, settings: Settings | None = None) -> uuid.UUID | None:
    """The email id named by a VERP return path (any case), or None when it isn't one of ours."""
    local = address.strip().strip("<>").rsplit("@", 1)[0].lower()
    if not local.startswith("b+"):
        return None
    payload = read_token("bounce", local[2:], settings=settings)
    return payload.email_id if payload else None
