# SPDX-License-Identifier: MIT
"""How the API signs its access tokens: built once by the caller of ``create_app``."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

log = logging.getLogger(__name__)

# HS256 wants a key at least as long as its 256-bit output (RFC 7518 §3.2).
MIN_SECRET_BYTES = 32


def _random_secret() -> str:
    return secrets.token_urlsafe(MIN_SECRET_BYTES)


@dataclass(frozen=True)
class AuthConfig:
    """JWT signing secret and the lifetime of access tokens.

    Without a configured secret each process draws its own: tokens then die with the process
    and are not accepted by a second API process behind the same load balancer.
    """

    jwt_secret: str = field(default_factory=_random_secret, repr=False)
    access_token_ttl: timedelta = timedelta(minutes=15)
    issuer: str = "wrenchlight"

    def __post_init__(self) -> None:
        if len(self.jwt_secret.encode()) < MIN_SECRET_BYTES:
            raise ValueError(f"the JWT secret must be at least {MIN_SECRET_BYTES} bytes")
        if self.access_token_ttl <= timedelta(0):
            raise ValueError("access tokens must live a positive time")
