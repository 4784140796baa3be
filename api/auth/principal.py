# SPDX-License-Identifier: MIT
"""Who is calling: a user with one role and the tenants (fleet, shop) they belong to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

Role = Literal["owner", "shop_staff", "fleet_manager", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)
# Within shop staff: a manager keeps the shop's profile and staff roles; a technician works
# the inbox, calendar and job cards (as a manager does) and sees the profile read-only.
ShopRole = Literal["manager", "technician"]
SHOP_ROLES: tuple[ShopRole, ...] = get_args(ShopRole)


@dataclass(frozen=True)
class Principal:
    """An authenticated caller; ``key_id`` is set when they called with an API key."""

    user_id: int
    role: Role
    fleet_id: int | None = None
    shop_id: int | None = None
    key_id: int | None = None
    shop_role: ShopRole | None = None

    @property
    def subject(self) -> str:
        """How the caller is named where the API records who acted (order events, logs)."""
        return f"user:{self.user_id}"

    @property
    def is_admin(self) -> bool:
        """Admins see and may do everything."""
        return self.role == "admin"

    @property
    def keeps_shop(self) -> bool:
        """May change the shop's profile and staff roles: its managers (and admins)."""
        return self.is_admin or (self.role == "shop_staff" and self.shop_role == "manager")
