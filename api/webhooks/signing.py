# SPDX-License-Identifier: MIT
"""Signing deliveries the Standard Webhooks way (https://www.standardwebhooks.com).

Each request carries ``webhook-id`` (the event, the same on every retry, so receivers can drop
repeats), ``webhook-timestamp`` (unix seconds of this attempt) and ``webhook-signature``:
``v1,`` and the base64 HMAC-SHA256 of ``{id}.{timestamp}.{body}`` under the subscription's
secret. Secrets look like ``whsec_`` + base64 of 24 random bytes. Receivers can verify with any
Standard Webhooks library or with ``verify`` below; the HMAC itself is the standard library's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping

PREFIX = "whsec_"
# A signed request older or newer than this is refused as a possible replay.
TOLERANCE_S = 300


class InvalidSignature(ValueError):
    """The request was not signed with the secret, or is outside the time tolerance."""


def new_secret() -> str:
    """A fresh signing secret."""
    return PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def _key(secret: str) -> bytes:
    if not secret.startswith(PREFIX):
        raise ValueError(f"a signing secret starts with {PREFIX!r}")
    return base64.b64decode(secret[len(PREFIX) :])


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value of one request."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three signing headers of one request."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, message_id, timestamp, body),
    }


def verify(secret: str, received: Mapping[str, str], body: bytes, *, now: float) -> None:
    """Raise ``InvalidSignature`` unless the headers sign ``body`` with ``secret`` within
    TOLERANCE_S of ``now``. Several space-separated signatures are allowed (secret rotation)."""
    lowered = {k.lower(): v for k, v in received.items()}
    try:
        message_id = lowered["webhook-id"]
        timestamp = int(lowered["webhook-timestamp"])
        offered = lowered["webhook-signature"].split()
    except (KeyError, ValueError) as exc:
        raise InvalidSignature(f"missing or malformed signing header: {exc}") from exc
    if abs(now - timestamp) > TOLERANCE_S:
        raise InvalidSignature(f"timestamp {timestamp} is more than {TOLERANCE_S} s from now")
    expected = signature(secret, message_id, timestamp, body)
    if not any(hmac.compare_digest(expected, sig) for sig in offered):
        raise InvalidSignature("no signature matches")
