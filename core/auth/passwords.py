"""Password hashing with argon2id, and the dummy verification that keeps timing even."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # argon2id, library defaults (RFC 9106 low-memory profile)
MIN_LENGTH, MAX_LENGTH = 12, 128


@cache
def _dummy_hash() -> str:
    """A hash to verify against when there is no account: made on first use, since one
    argon2 hash costs a tenth of a second that no `flask` command should pay at start-up."""
    return _hasher.hash("not a password of anybody")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Constant work whether or not the account exists (no enumeration by timing)."""
    try:
        return _hasher.verify(stored or _dummy_hash(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _hasher.check_needs_rehash(stored)
