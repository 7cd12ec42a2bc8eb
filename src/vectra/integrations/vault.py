"""The credential vault: secrets at rest (mailbox passwords, DKIM keys, integration tokens).

Each secret is a JSON object encrypted with Fernet (AES-128-CBC + HMAC-SHA256) under a key
derived from the installation's secret key. Rotation: the new secret key goes in
VECTRA_SECRET_KEY, the old ones in VECTRA_SECRET_KEY_PREVIOUS (comma-separated) or in
`<data_dir>/secret.key.previous` (one per line); MultiFernet decrypts with any of them and
`rotate()` re-encrypts under the current one (`vectra keys rotate` does it for every stored
secret). Plaintext never leaves the service layer: APIs report only which fields are set.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from vectra.keys import secret_key
from vectra.settings import Settings, get_settings

PREVIOUS_ENV = "VECTRA_SECRET_KEY_PREVIOUS"
PREVIOUS_FILE = "secret.key.previous"
_PURPOSE = b"credential-vault"


class VaultError(Exception):
    """A stored secret could not be decrypted with the current or any previous key."""


def _fernet_for(secret: str) -> Fernet:
    derived = hmac.new(secret.encode(), _PURPOSE, hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(derived))


def previous_secret_keys(settings: Settings | None = None) -> list[str]:
    """Older secret keys still accepted for decryption (env first, then the data-dir file)."""
    settings = settings or get_settings()
    keys = [k.strip() for k in os.environ.get(PREVIOUS_ENV, "").split(",") if k.strip()]
    path = settings.data_dir / PREVIOUS_FILE
    if path.exists():
        keys += [line.strip() for line in path.read_text().splitlines() if line.strip()]
    return keys


def _multi(settings: Settings | None) -> MultiFernet:
    current = secret_key(settings)
    others = [k for k in previous_secret_keys(settings) if k != current]
    return MultiFernet([_fernet_for(current), *(_fernet_for(k) for k in others)])


def encrypt(secret: dict[str, Any], *, settings: Settings | None = None) -> str:
    """Encrypt a JSON-serialisable dict under the current key."""
    plaintext = json.dumps(secret, separators=(",", ":"), sort_keys=True).encode()
    return _multi(settings).encrypt(plaintext).decode("ascii")


def decrypt(token: str, *, settings: Settings | None = None) -> dict[str, Any]:
    """The dict inside `token`; VaultError when no known key opens it."""
    try:
        plaintext = _multi(settings).decrypt(token.encode("ascii"))
    except (InvalidToken, ValueError) as exc:
        raise VaultError("secret cannot be decrypted with the current or previous keys") from exc
    value = json.loads(plaintext)
    if not isinstance(value, dict):
        raise VaultError("stored secret is not an object")
    return value


def rotate(token: str, *, settings: Settings | None = None) -> str:
    """`token` re-encrypted under the current key (same plaintext)."""
    try:
        return _multi(settings).rotate(token.encode("ascii")).decode("ascii")
    except (InvalidToken, ValueError) as exc:
        raise VaultError("secret cannot be decrypted with the current or previous keys") from exc


def is_current(token: str, *, settings: Settings | None = None) -> bool:
    """Whether `token` is already encrypted under the current key."""
    try:
        _fernet_for(secret_key(settings)).decrypt(token.encode("ascii"))
    except (InvalidToken, ValueError):
        return False
    return True
