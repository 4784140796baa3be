# SPDX-License-Identifier: MIT
"""API keys: ``wl_<prefix>_<secret>``, the prefix to find the row, the secret to prove it.

Only the argon2 hash of the secret is stored, so a key is shown once, when it is created.
``last_used_at`` is written at most once a minute per key, so a busy key does not turn every
read into a write.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

import psycopg

from api.auth.hashing import hash_key_secret, verify_key_secret
from db.rows import record, records, scalar

SCHEME = "wl"
PREFIX_BYTES = 6
SECRET_BYTES = 32
LAST_USED_RESOLUTION_S = 60


@dataclass(frozen=True)
class NewKey:
    """A key just created: ``key`` is the only time the secret is seen."""

    key_id: int
    key: str
    prefix: str


@dataclass(frozen=True)
class KeyInfo:
    """What is kept about a key (never its secret)."""

    key_id: int
    user_id: int
    prefix: str
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def looks_like_key(credential: str) -> bool:
    """True when a bearer credential is one of our API keys rather than a JWT."""
    return credential.startswith(SCHEME + "_")


@dataclass(frozen=True, slots=True)
class _Candidate:
    """The unrevoked key with a prefix, and whether its last use is worth writing down."""

    key_id: int
    user_id: int
    secret_hash: str
    stale: bool


def create_key(*, conn: psycopg.Connection, user_id: int, name: str = "") -> NewKey:
    """A new key for ``user_id``."""
    prefix = secrets.token_hex(PREFIX_BYTES)
    secret = secrets.token_urlsafe(SECRET_BYTES)
    key_id = scalar(
        conn,
        "INSERT INTO api_keys (user_id, prefix, secret_hash, name) VALUES (%s, %s, %s, %s) "
        "RETURNING key_id",
        (user_id, prefix, hash_key_secret(secret), name),
    )
    assert key_id is not None
    return NewKey(key_id=int(key_id), key=f"{SCHEME}_{prefix}_{secret}", prefix=prefix)


def verify_key(*, conn: psycopg.Connection, key: str) -> tuple[int, int] | None:
    """(user_id, key_id) of a valid, unrevoked key; None for anything else."""
    scheme, _, rest = key.partition("_")
    prefix, _, secret = rest.partition("_")
    if scheme != SCHEME or not prefix or not secret:
        return None
    row = record(
        conn,
        _Candidate,
        "SELECT key_id, user_id, secret_hash, last_used_at IS NULL "
        "OR last_used_at < now() - make_interval(secs => %s) AS stale "
        "FROM api_keys WHERE prefix = %s AND revoked_at IS NULL",
        (LAST_USED_RESOLUTION_S, prefix),
    )
    if row is None or not verify_key_secret(row.secret_hash, secret):
        return None
    if row.stale:
        conn.execute("UPDATE api_keys SET last_used_at = now() WHERE key_id = %s", (row.key_id,))
    return int(row.user_id), int(row.key_id)


def list_keys(*, conn: psycopg.Connection, user_id: int) -> list[KeyInfo]:
    """Every key of a user, newest first, revoked ones included."""
    return records(
        conn,
        KeyInfo,
        "SELECT key_id, user_id, prefix, name, created_at, last_used_at, revoked_at "
        "FROM api_keys WHERE user_id = %s ORDER BY key_id DESC",
        (user_id,),
    )


def get_key(*, conn: psycopg.Connection, key_id: int) -> KeyInfo | None:
    """One key by id."""
    return record(
        conn,
        KeyInfo,
        "SELECT key_id, user_id, prefix, name, created_at, last_used_at, revoked_at "
        "FROM api_keys WHERE key_id = %s",
        (key_id,),
    )


def revoke_key(*, conn: psycopg.Connection, key_id: int) -> None:
    """Revoke a key (idempotent: the first revocation time is kept)."""
    conn.execute(
        "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, now()) WHERE key_id = %s",
        (key_id,),
    )
