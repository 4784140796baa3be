# SPDX-License-Identifier: MIT
"""Short-lived JWT access tokens (HS256) for app users.

A token names only its user (``sub``); role and tenancy are read from the database on each
request, so a disabled user or a changed role takes effect at once, not when the token expires.
"""

from __future__ import annotations

from datetime import UTC, datetime

import jwt

from api.auth.config import AuthConfig

ALGORITHM = "HS256"


class InvalidToken(Exception):
    """The token is malformed, forged, expired or not ours."""


def issue_access_token(config: AuthConfig, user_id: int, *, now: datetime | None = None) -> str:
    """A signed access token for ``user_id`` valid for the configured lifetime."""
    issued = now or datetime.now(UTC)
    claims = {
        "sub": str(user_id),
        "iss": config.issuer,
        "iat": issued,
        "exp": issued + config.access_token_ttl,
    }
    return jwt.encode(claims, config.jwt_secret, algorithm=ALGORITHM)


def user_id_of(config: AuthConfig, token: str) -> int:
    """The user a valid token was issued to; InvalidToken otherwise."""
    try:
        claims = jwt.decode(
            token,
            config.jwt_secret,
            algorithms=[ALGORITHM],
            issuer=config.issuer,
            options={"require": ["exp", "iat", "sub", "iss"]},
        )
        return int(claims["sub"])
    except (jwt.PyJWTError, ValueError) as exc:
        raise InvalidToken(str(exc)) from exc
