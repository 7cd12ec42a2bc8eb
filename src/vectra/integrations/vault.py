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
from collections.abc import Callable
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import text
from sqlalchemy.orm import Session

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


# Every column holding vault tokens: (table, primary key, column). A domain storing secrets
# adds its own with `register_secret_column`, so `vectra keys rotate` re-encrypts it too.
SECRET_COLUMNS: list[tuple[str, str, str]] = [
    ("mailboxes", "id", "secret"),
    ("dkim_keys", "id", "secret"),
]


def register_secret_column(table: str, key: str, column: str) -> None:
    """Have `rotate_stored_secrets` cover `table.column` (idempotent)."""
    if (table, key, column) not in SECRET_COLUMNS:
        SECRET_COLUMNS.append((table, key, column))


def rotate_stored_secrets(
    session: Session, progress: Callable[[int, int], None] | None = None
) -> int:
    """Re-encrypt every stored secret under the current key (system context); how many."""
    session.flush()
    rows: list[tuple[str, str, str, Any, str]] = []
    for table, key, column in SECRET_COLUMNS:
        found = session.execute(
            text(f"SELECT {key}, {column} FROM {table} WHERE {column} IS NOT NULL")
        ).all()
        rows += [(table, key, column, r[0], r[1]) for r in found]
    rotated = 0
    for index, (table, key, column, row_id, token) in enumerate(rows, start=1):
        if not is_current(token):
            session.execute(
                text(f"UPDATE {table} SET {column} = :t WHERE {key} = :i"),
                {"t": rotate(token), "i": row_id},
            )
            rotated += 1
        if progress is not None:
            progress(index, len(rows))
    session.expire_all()  # rows were rewritten in SQL: loaded objects must re-read them
    return rotated
