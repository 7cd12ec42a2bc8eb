"""The secret key: from VECTRA_SECRET_KEY, or a key file made once in the data dir.

It signs tokens (unsubscribe, tracking, booking, verification) and derives the credential
vault's encryption keys, so it must survive restarts: losing it invalidates every link
already sent and every stored credential.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from functools import lru_cache
from pathlib import Path

from vectra.settings import Settings, get_settings

KEY_FILE = "secret.key"


def _read_or_create(path: Path) -> str:
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # O_EXCL: two processes starting at once agree on one key (the loser reads the winner's).
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key


def secret_key(settings: Settings | None = None) -> str:
    """The installation's secret key (created in the data dir on first use when not set)."""
    settings = settings or get_settings()
    if settings.secret_key:
        return settings.secret_key
    return _cached_file_key(str(settings.data_dir / KEY_FILE))


@lru_cache(maxsize=4)
def _cached_file_key(path: str) -> str:
    return _read_or_create(Path(path))


def derive_key(purpose: str, settings: Settings | None = None) -> bytes:
    """A 32-byte key for one purpose, so no two features share key material."""
    return hmac.new(secret_key(settings).encode(), purpose.encode(), hashlib.sha256).digest()
