# SPDX-License-Identifier: MIT
"""Who is calling: a user with one role and the tenants (fleet, shop) they belong to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

Role = Literal["owner", "shop_staff", "fleet_manager", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)


@dataclass(frozen=True)
class Principal:
    """An authenticated caller; ``key_id`` is set when they called with an API key."""

    user_id: int
    role: Role
    fleet_id: int | None = None
    shop_id: int | None = None
    key_id: int | None = None

    @property
    def subject(self) -> str:
        """How the caller is named where the API records who acted (order events, logs)."""
        return f"user:{self.user_id}"

    @property
    def is_admin(self) -> bool:
        """Admins see and may do everything."""
        return self.role == "admin"
