# SPDX-License-Identifier: MIT
"""Random tokens and the hashes the database keeps of them (sessions, sign-in links).

The tokens are 256 random bits, so a plain SHA-256 is enough to make a stolen table useless:
nothing shorter than the token itself could be guessed, and no slow hash is needed.
"""

from __future__ import annotations

import hashlib
import secrets


def new_token() -> str:
    """A fresh URL-safe token of 256 random bits."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> bytes:
    """What the database stores of ``token``."""
    return hashlib.sha256(token.encode()).digest()
