# SPDX-License-Identifier: MIT
"""Rate limits (the ``limits`` library, moving window): per API key and per user for every
authenticated route (a user's keys and tokens share the user's budget, so minting more keys
buys no more requests), and per client address for password logins, which would otherwise let
anyone guess passwords as fast as argon2 allows.

The counters live in ``storage_uri``: ``memory://`` counts per process, which is right for one
API process; several behind a load balancer share a ``redis://`` store so a caller's limit is
the same whichever process answers.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse, storage
from limits.strategies import MovingWindowRateLimiter

from api.auth.principal import Principal
from api.problems import ProblemError


@dataclass(frozen=True)
class RateLimits:
    """Limits in the ``limits`` notation (``600/minute``, ``10 per second``)."""

    per_caller: str = "600/minute"
    per_user: str = "600/minute"
    logins_per_client: str = "10/minute"
    storage_uri: str = "memory://"


class Limiter:
    """Counts hits per key and refuses with 429 problem details past the limit."""

    def __init__(self, config: RateLimits) -> None:
        self._strategy = MovingWindowRateLimiter(storage.storage_from_string(config.storage_uri))
        self.per_caller = parse(config.per_caller)
        self.per_user = parse(config.per_user)
        self.logins_per_client = parse(config.logins_per_client)

    def hit(self, item: RateLimitItem, *key: str) -> None:
        """Count one hit of ``key``; ProblemError 429 with Retry-After when over ``item``."""
        if self._strategy.hit(item, *key):
            return
        reset = self._strategy.get_window_stats(item, *key).reset_time
        retry_after = max(1, math.ceil(reset - time.time()))
        raise ProblemError(
            429,
            "rate-limited",
            "Too many requests",
            f"At most {item} for this caller; retry in {retry_after} s.",
            {"Retry-After": str(retry_after)},
        )

    def caller(self, principal: Principal) -> None:
        """Count a request of an authenticated caller against its user's budget and, with an
        API key, the key's own."""
        self.hit(self.per_user, "user", str(principal.user_id))
        if principal.key_id:
            self.hit(self.per_caller, "caller", f"key:{principal.key_id}")

    def login(self, client_address: str) -> None:
        """Count a password login attempt from a client address."""
        self.hit(self.logins_per_client, "login", client_address)
