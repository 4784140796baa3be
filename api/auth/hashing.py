# SPDX-License-Identifier: MIT
"""argon2id hashes of passwords and API-key secrets.

Passwords are chosen by people and may be weak, so they get argon2-cffi's default cost
(RFC 9106's low-memory profile). API-key secrets are 256 random bits: guessing them is hopeless
whatever the hash, and they are checked on every request, so they get a cost of about a
millisecond instead of tens.
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

PASSWORDS = PasswordHasher()
KEY_SECRETS = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@cache
def _dummy_password_hash() -> str:
    """Verified against when the user is unknown, so that an unknown email costs as much time
    as a wrong password and response times do not reveal which emails exist. Made on first
    use, not at import: every command and worker that imports the API would pay for it."""
    return PASSWORDS.hash("wrenchlight: no such user")


def hash_password(password: str) -> str:
    """The argon2id hash to store for a password."""
    return PASSWORDS.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; a missing hash costs the same time and fails."""
    try:
        PASSWORDS.verify(password_hash or _dummy_password_hash(), password)
    except (VerificationError, InvalidHashError):
        return False
    return password_hash is not None


def hash_key_secret(secret: str) -> str:
    """The argon2id hash to store for an API-key secret."""
    return KEY_SECRETS.hash(secret)


def verify_key_secret(secret_hash: str, secret: str) -> bool:
    """True when ``secret`` matches the stored hash."""
    try:
        return KEY_SECRETS.verify(secret_hash, secret)
    except (VerificationError, InvalidHashError):
        return False
