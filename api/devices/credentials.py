# SPDX-License-Identifier: MIT
"""MQTT credentials of devices, kept apart from user credentials.

The username is the device id, so the broker can confine each device to its own topic tree
(docs/security.md; ``api.devices.broker`` holds the lanes). The secret is 256 random bits,
shown once. It is stored as Mosquitto's own password-file hash (``$7$``: PBKDF2-HMAC-SHA512
with a random salt), which is also the dynamic-security plugin's, so ``wrenchlight admin
broker-config`` and ``mqtt-passwd`` hand the broker every credential without the broker
calling back into the API. A slow hash would buy nothing here: a random 256-bit secret cannot
be guessed however fast each guess is.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

import psycopg

from api.devices.broker import is_reserved
from db.rows import dicts

SECRET_BYTES = 32
SALT_BYTES = 12
# Mosquitto's default (mosquitto_passwd without -I).
ITERATIONS = 101


@dataclass(frozen=True)
class NewCredential:
    """Credentials just issued: ``password`` is seen this once."""

    device_id: str
    username: str
    password: str


def hash_secret(secret: str, *, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    """Mosquitto's ``$7$iterations$salt$hash`` of a secret."""
    salt = salt if salt is not None else secrets.token_bytes(SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", secret.encode(), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_secret(stored: str, secret: str) -> bool:
    """True when ``secret`` matches a ``$7$`` hash."""
    try:
        _, kind, iterations, salt, digest = stored.split("$")
        if kind != "7":
            return False
        expected = hashlib.pbkdf2_hmac(
            "sha512", secret.encode(), base64.b64decode(salt), int(iterations)
        )
        return hmac.compare_digest(expected, base64.b64decode(digest))
    except ValueError:
        return False


def issue(*, conn: psycopg.Connection, device_id: str, created_by: int | None) -> NewCredential:
    """New credentials for a device, revoking any it had."""
    password = secrets.token_urlsafe(SECRET_BYTES)
    with conn.transaction():
        conn.execute(
            "UPDATE device_credentials SET revoked_at = now() "
            "WHERE device_id = %s AND revoked_at IS NULL",
            (device_id,),
        )
        conn.execute(
            "INSERT INTO device_credentials (device_id, username, secret_hash, created_by) "
            "VALUES (%s, %s, %s, %s)",
            (device_id, device_id, hash_secret(password), created_by),
        )
    return NewCredential(device_id=device_id, username=device_id, password=password)


def revoke(*, conn: psycopg.Connection, device_id: str) -> None:
    """Revoke the device's active credentials, if any."""
    conn.execute(
        "UPDATE device_credentials SET revoked_at = now() "
        "WHERE device_id = %s AND revoked_at IS NULL",
        (device_id,),
    )


def password_file(*, conn: psycopg.Connection) -> str:
    """A Mosquitto password file of every active device credential.

    Devices registered under a reserved (service) name before names were reserved are left
    out: a second ``ingest:`` line would let that device log in as the service.
    """
    rows = dicts(
        conn,
        "SELECT username, secret_hash FROM device_credentials WHERE revoked_at IS NULL "
        "ORDER BY username",
    )
    return "".join(
        f"{r['username']}:{r['secret_hash']}\n" for r in rows if not is_reserved(r["username"])
    )
