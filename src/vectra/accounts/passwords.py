"""Password hashing: argon2id above OWASP's floor (m >= 19 MiB, t >= 2, p = 1)."""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# 64 MiB, 3 passes, 1 lane: RFC 9106's second recommended profile, well above OWASP's floor.
_hasher = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=1)

# A real hash to verify against when the account does not exist, so a login for an
# unknown email costs the same time as a wrong password (no account enumeration).
_DUMMY_HASH = _hasher.hash("vectra-timing-equaliser")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; always spends one argon2 verification."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the stored hash uses weaker parameters than today's."""
    return _hasher.check_needs_rehash(password_hash)


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The 20,000 most common passwords, lower-cased (see common_passwords_LICENSE.txt)."""
    text = files("vectra.accounts").joinpath("common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


def is_common_password(password: str) -> bool:
    """True when the password, case-folded and trimmed, is on the common-passwords list."""
    return password.strip().lower() in common_passwords()
