# SPDX-License-Identifier: MIT
"""Which rows a principal may see: one SQL predicate per object type, used by the ``valid_*``
dependencies (one object) and by the list endpoints (many), so both agree.

Each function returns a fragment for a WHERE clause over the named alias and its parameters.
The fragments are constants chosen by role; caller input only ever travels as parameters.

| object  | owner               | fleet_manager      | shop_staff                   | admin |
| ------- | ------------------- | ------------------ | ---------------------------- | ----- |
| vehicle | owns it             | in their fleet     | has an order at their shop   | all   |
| order   | of a vehicle owned  | of a fleet vehicle | assigned to their shop       | all   |
| device  | on a vehicle owned  | on a fleet vehicle | — (wrong role: 403)          | all   |
| shop    | has an order of one | has a fleet order  | their own shop               | all   |
| shop in ``GET /shops`` | verified  | verified           | their own shop               | all   |
| fleet   | — (wrong role: 403) | their own fleet    | — (wrong role: 403)          | all   |
| API key | their own           | their own          | their own                    | all   |
| webhook | — (wrong role: 403) | their fleet's      | their shop's                 | all   |
"""

from __future__ import annotations

from typing import Any

from api.auth.principal import Principal

Predicate = tuple[str, dict[str, Any]]

_NOTHING: Predicate = ("false", {})
_EVERYTHING: Predicate = ("true", {})


def _params(p: Principal) -> dict[str, Any]:
    return {"p_user": p.user_id, "p_fleet": p.fleet_id, "p_shop": p.shop_id}


def owned_vehicles(p: Principal) -> str:
    """SQL selecting the ids of the vehicles an owner or fleet manager is responsible for."""
    if p.role == "owner":
        return "SELECT vehicle_id FROM vehicles WHERE owner_user_id = %(p_user)s"
    if p.role == "fleet_manager":
        return "SELECT vehicle_id FROM vehicles WHERE fleet_id = %(p_fleet)s"
    return "SELECT NULL::bigint WHERE false"


def vehicles(p: Principal, alias: str = "v") -> Predicate:
    """Vehicles ``p`` may see."""
    if p.is_admin:
        return _EVERYTHING
    if p.role == "owner":
        return f"{alias}.owner_user_id = %(p_user)s", _params(p)
    if p.role == "fleet_manager":
        return f"{alias}.fleet_id = %(p_fleet)s", _params(p)
    if p.role == "shop_staff":
        return (
            f"EXISTS (SELECT 1 FROM service_orders so WHERE so.vehicle_id = {alias}.vehicle_id "
            "AND (so.shop_id = %(p_shop)s OR EXISTS (SELECT 1 FROM service_offers f "
            "WHERE f.order_id = so.order_id AND f.shop_id = %(p_shop)s)))",
            _params(p),
        )
    return _NOTHING


def orders(p: Principal, alias: str = "o") -> Predicate:
    """Service orders ``p`` may see."""
    if p.is_admin:
        return _EVERYTHING
    if p.role in ("owner", "fleet_manager"):
        return f"{alias}.vehicle_id IN ({owned_vehicles(p)})", _params(p)
    if p.role == "shop_staff":
        # Assigned to their shop, or offered to it (an offer's order is pre-diagnosed for them).
        return (
            f"({alias}.shop_id = %(p_shop)s OR EXISTS (SELECT 1 FROM service_offers f "
            f"WHERE f.order_id = {alias}.order_id AND f.shop_id = %(p_shop)s))",
            _params(p),
        )
    return _NOTHING


def devices(p: Principal, alias: str = "d") -> Predicate:
    """Devices ``p`` may see: those on vehicles they are responsible for."""
    if p.is_admin:
        return _EVERYTHING
    if p.role in ("owner", "fleet_manager"):
        return f"{alias}.vehicle_id IN ({owned_vehicles(p)})", _params(p)
    return _NOTHING


def shops(p: Principal, alias: str = "s") -> Predicate:
    """Shops ``p`` may see: their own, or those holding one of their vehicles' orders."""
    if p.is_admin:
        return _EVERYTHING
    if p.role == "shop_staff":
        return f"{alias}.shop_id = %(p_shop)s", _params(p)
    if p.role in ("owner", "fleet_manager"):
        return (
            f"EXISTS (SELECT 1 FROM service_orders so WHERE so.shop_id = {alias}.shop_id "
            f"AND so.vehicle_id IN ({owned_vehicles(p)}))",
            _params(p),
        )
    return _NOTHING


def listed_shops(p: Principal, alias: str = "s") -> Predicate:
    """Shops ``p`` finds in the directory (``GET /shops``): admins all, shop staff their own,
    owners and fleet managers the verified ones (their public cards only)."""
    if p.is_admin:
        return _EVERYTHING
    if p.role == "shop_staff":
        return f"{alias}.shop_id = %(p_shop)s", _params(p)
    if p.role in ("owner", "fleet_manager"):
        return f"{alias}.verified_at IS NOT NULL AND {alias}.verification <> 'suspended'", {}
    return _NOTHING


def fleets(p: Principal, alias: str = "f") -> Predicate:
    """Fleets ``p`` may see: a fleet manager their own."""
    if p.is_admin:
        return _EVERYTHING
    if p.role == "fleet_manager":
        return f"{alias}.fleet_id = %(p_fleet)s", _params(p)
    return _NOTHING


def keys(p: Principal, alias: str = "k") -> Predicate:
    """API keys ``p`` may see: their own."""
    if p.is_admin:
        return _EVERYTHING
    return f"{alias}.user_id = %(p_user)s", _params(p)


def subscriptions(p: Principal, alias: str = "w") -> Predicate:
    """Webhook subscriptions ``p`` may see: a fleet manager's fleet's, shop staff's shop's."""
    if p.is_admin:
        return _EVERYTHING
    if p.role == "fleet_manager":
        return f"{alias}.fleet_id = %(p_fleet)s", _params(p)
    if p.role == "shop_staff":
        return f"{alias}.shop_id = %(p_shop)s", _params(p)
    return _NOTHING
