"""Defensive access to a parsed message: headers and text that never raise.

Real bounces carry broken MIME (bad charsets, truncated boundaries, 8-bit headers); the
stdlib parser tolerates them but lazy header parsing and `get_content()` can still raise,
so every read here goes through a guard and falls back to a lossy decode.
"""

from __future__ import annotations

import email
import email.policy
import html
import re
from collections.abc import Iterator
from email.header import decode_header, make_header
from email.message import Message

_TAG = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.IGNORECASE | re.DOTALL)
_BR = re.compile(r"<\s*(br|/p|/div|/tr|/li|/h\d)\b[^>]*>", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\u00a0]+")


def load(raw: bytes) -> Message:
    """Parse raw RFC 5322 bytes; the stdlib parser records defects instead of failing."""
    return email.message_from_bytes(raw, policy=email.policy.default)


def decode_words(value: str) -> str:
    """Decode RFC 2047 encoded words, keeping the raw text when they are malformed."""
    if "=?" not in value:
        return value
    try:
        return str(make_header(decode_header(value)))
    except Exception:  # broken encoded words are common in NDRs
        return value


def header(msg: Message, name: str) -> str | None:
    """The first value of a header, unfolded and decoded, or None."""
    values = headers(msg, name)
    return values[0] if values else None


def headers(msg: Message, name: str) -> list[str]:
    """Every value of a header, read from the raw items so lazy parsing cannot raise."""
    wanted = name.lower()
    out: list[str] = []
    try:
        items = list(msg.raw_items())
    except Exception:
        return out
    for key, value in items:
        if key.lower() == wanted:
            text = decode_words(" ".join(str(value).split()))
            out.append(text)
    return out


def decode_iso2022(text: str) -> str:
    """ISO-2022-JP left undecoded (7-bit escapes in a part declared ASCII, or in DSN fields)."""
    if "\x1b$" not in text:
        return text
    try:
        return text.encode("ascii", errors="ignore").decode("iso-2022-jp", errors="replace")
    except (LookupError, UnicodeError):
        return text


def content_type(part: Message) -> str:
    try:
        return part.get_content_type().lower()
    except Exception:
        return "text/plain"


def walk(msg: Message) -> Iterator[Message]:
    """Every part; a malformed tree ends the walk instead of raising."""
    try:
        yield from msg.walk()
    except Exception:
        return


def part_text(part: Message) -> str:
    """The decoded text of a leaf part; HTML reduced to text; never raises."""
    ctype = content_type(part)
    text: str
    try:
        content = part.get_content()  # type: ignore[attr-defined]  # EmailMessage under policy.default
        text = content if isinstance(content, str) else _bytes_text(content, part)
    except Exception:
        try:
            payload = part.get_payload(decode=True)
        except Exception:
            payload = None
        if isinstance(payload, bytes):
            text = _bytes_text(payload, part)
        else:
            raw = part.get_payload()
            text = raw if isinstance(raw, str) else ""
    if ctype == "text/html":
        text = html_to_text(text)
    return decode_iso2022(text)


def _bytes_text(payload: object, part: Message) -> str:
    if not isinstance(payload, bytes):
        return ""
    try:
        charset = part.get_content_charset() or "utf-8"
    except Exception:  # a malformed Content-Type parameter
        charset = "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:  # unknown charset name
        return payload.decode("utf-8", errors="replace")


def html_to_text(markup: str) -> str:
    text = _BR.sub("\n", markup)
    text = _TAG.sub(" ", text)
    text = html.unescape(text)
    return "\n".join(_SPACES.sub(" ", line).strip() for line in text.splitlines())


def raw_part_text(part: Message) -> str:
    """A container part (message/*) as text: its headers and body as the sender wrote them."""
    try:
        return part.as_string(policy=email.policy.compat32)
    except Exception:
        try:
            return part.as_bytes().decode("utf-8", errors="replace")
        except Exception:
            return ""
