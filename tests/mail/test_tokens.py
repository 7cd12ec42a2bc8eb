"""Signed mail tokens: round trips, kind separation, tampering, URLs."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from vectra.mail import tokens
from vectra.settings import Settings


def test_round_trip_and_kind_separation() -> None:
    email_id = uuid.uuid4()
    token = tokens.make_token("unsubscribe", email_id)
    payload = tokens.read_token("unsubscribe", token)
    assert payload is not None and payload.email_id == email_id and payload.extra is None
    # An unsubscribe token is not an open token.
    assert tokens.read_token("open", token) is None
    assert token == token.lower() and token.isalnum()


@given(st.integers(min_value=0, max_value=200), st.integers(min_value=1, max_value=31))
def test_any_bit_flip_is_refused(position: int, flip: int) -> None:
    email_id = uuid.UUID(int=12345)
    token = tokens.make_token("click", email_id, extra={"u": "https://example.com/a"})
    raw = bytearray(tokens._decode(token) or b"")
    raw[position % len(raw)] ^= flip
    forged = tokens._encode(bytes(raw))
    assert tokens.read_token("click", forged) is None


def test_garbage_and_other_key_refused() -> None:
    assert tokens.read_token("open", "") is None
    assert tokens.read_token("open", "!!!notbase32") is None
    assert tokens.read_token("open", "a" * 10) is None
    email_id = uuid.uuid4()
    other = Settings(secret_key="another-installation-key-0123456789abcdef")
    foreign = tokens.make_token("open", email_id, settings=other)
    assert tokens.read_token("open", foreign) is None
    assert tokens.read_token("open", foreign, settings=other) is not None


def test_urls_and_verp() -> None:
    settings = Settings(secret_key="k" * 40, base_url="https://app.example.com/")
    email_id = uuid.uuid4()
    unsub = tokens.unsubscribe_url(email_id, settings=settings)
    assert unsub.startswith("https://app.example.com/u/")
    pixel = tokens.open_pixel_url(email_id, settings=settings)
    assert pixel.startswith("https://app.example.com/t/o/") and pixel.endswith(".gif")
    click = tokens.click_url(email_id, "https://target.example/p?q=1", settings=settings)
    token = click.rsplit("/", 1)[1]
    assert tokens.click_target(token, settings=settings) == (
        email_id,
        "https://target.example/p?q=1",
    )
    verp = tokens.verp_address(email_id, "bounce.example.com", settings=settings)
    # MTAs may upper-case the local part; the token survives case folding.
    assert tokens.read_verp_address(verp.upper(), settings=settings) == email_id
    assert tokens.read_verp_address("someone@example.com", settings=settings) is None
