# SPDX-License-Identifier: MIT
"""Which rows a principal may see: one SQL predicate per object type, used by the ``valid_*``
dependencies (one object) and by the list endpoints (many), so both agree.

"history" is a car's service history and oil analyses (``vehicle_history``); a car's telemetry
series, predictions and alert history are its side's only (``api.deps.OwnVehicleIdDep``). Of a
car's health a shop sees the components of the jobs it works on (``working_orders``; trimmed in
``api.vehicles.service.scoped_health``), and of its live alerts those same components' ones
(``events``): one mapping from jobs to components, ``COMPONENT_OF_KIND``, serves both.

Each function returns a fragment for a WHERE clause over the named alias and its parameters,
composed with ``psycopg.sql`` (the alias an identifier); callers place it with
``sql.SQL(...).format(...)``. The fragments are chosen by role; caller input only ever travels
as parameters.

An owner's car counts as theirs only while nothing contradicts their claim: they proved it
(``vehicles.vin_proven``, a provisioned dongle's pairing code) or no provisioned dongle is on
it yet. A VIN typed into ``POST /vehicles`` so gets no device data but what the owner's own
devices send (docs/security.md, "Claims and squatting").

| object  | owner               | fleet_manager      | shop_staff                   | admin |
| ------- | ------------------- | ------------------ | ---------------------------- | ----- |
| vehicle | owns it (see above) | in their fleet     | holds an active order for it | all   |
| history | owns it             | in their fleet     | active order, owner shares   | all   |
| order   | of a vehicle owned  | of a fleet vehicle | offered now, or won by them  | all   |
| event   | its order is visible when the event is delivered; an alert, its vehicle | all   |
|         | (for a shop: an active job of theirs on the car covers its component)   |       |
| device  | on a vehicle owned  | on a fleet vehicle | — (wrong role: 403)          | all   |
| shop    | has an order of one | has a fleet order  | their own shop               | all   |
| shop in ``GET /shops`` | verified  | verified           | their own shop               | all   |
| fleet   | — (wrong role: 403) | their own fleet    | — (wrong role: 403)          | all   |
| API key | their own           | their own          | their own                    | all   |
| webhook | — (wrong role: 403) | their fleet's      | their shop's                 | all   |
"""

from __future__ import annotations

import json
from typing import Any

from psycopg import sql

from api.auth.principal import Principal
from api.vehicles.schemas import HealthComponent
from orders.jobs import CATALOGUE, REAR_PADS

Predicate = tuple[sql.Composable, dict[str, Any]]

_NOTHING: Predicate = (sql.SQL("false"), {})
_EVERYTHING: Predicate = (sql.SQL("true"), {})


def _params(p: Principal) -> dict[str, Any]:
    return {"p_user": p.user_id, "p_fleet": p.fleet_id, "p_shop": p.shop_id}


def _owns(alias: str) -> sql.Composable:
    # An unproven registration loses sight of the car once a provisioned dongle is on it: that
    # dongle's data is its real holder's, who claims the car with the dongle's code.
    return sql.SQL(
        "({a}.owner_user_id = %(p_user)s AND ({a}.vin_proven OR NOT EXISTS "
        "(SELECT 1 FROM devices pd WHERE pd.vehicle_id = {a}.vehicle_id AND pd.provisioned)))"
    ).format(a=sql.Identifier(alias))


def owned_vehicles(p: Principal) -> sql.Composable:
    """SQL selecting the ids of the vehicles an owner or fleet manager is responsible for."""
    if p.role == "owner":
        return sql.SQL("SELECT vehicle_id FROM vehicles ov WHERE {}").format(_owns("ov"))
    if p.role == "fleet_manager":
        return sql.SQL("SELECT vehicle_id FROM vehicles WHERE fleet_id = %(p_fleet)s")
    return sql.SQL("SELECT NULL::bigint WHERE false")


def vehicles(p: Principal, alias: str = "v") -> Predicate:
    """Vehicles ``p`` may see."""
    if p.is_admin:
        return _EVERYTHING
    if p.role == "owner":
        return _owns(alias), _params(p)
    if p.role == "fleet_manager":
        return sql.SQL("{}.fleet_id = %(p_fleet)s").format(sql.Identifier(alias)), _params(p)
    if p.role == "shop_staff":
        return _active_order_at_shop(alias), _params(p)
    return _NOTHING


# A shop works on a car from acceptance to the end of the service; not while the order is a
# proposal (its shop_id is provisional until the owner consents), an offer, or finished.
ACTIVE = sql.SQL("('accepted', 'scheduled', 'checked_in', 'in_service')")


def _at_work(alias: str) -> sql.Composable:
    return sql.SQL("{a}.shop_id = %(p_shop)s AND {a}.status IN {active}").format(
        a=sql.Identifier(alias), active=ACTIVE
    )


def _active_order_at_shop(alias: str) -> sql.Composable:
    return sql.SQL(
        "EXISTS (SELECT 1 FROM service_orders so WHERE so.vehicle_id = {a}.vehicle_id "
        "AND {at_work})"
    ).format(a=sql.Identifier(alias), at_work=_at_work("so"))


# What a job needs of a car: an order's component (the alert kind it was made for) names the
# part of the health shown, and each part brings its own alerts. The shop that changes the oil
# is the one asked to draw an oil sample, so both are the oil.
COMPONENT_OF_KIND: dict[str, HealthComponent] = {
    "oil_change": "oil",
    "oil_sample": "oil",
    "brake_pads": "brake_pads",
    "trouble_code": "trouble_codes",
}
ALERT_KINDS: dict[HealthComponent, set[str]] = {
    part: {kind for kind, p in COMPONENT_OF_KIND.items() if p == part}
    for part in set(COMPONENT_OF_KIND.values())
}
# Orders without a known component (made before orders had one) are known by their job code.
KIND_OF_JOB = {job.job_code: kind for kind, job in CATALOGUE.items()} | {
    REAR_PADS.job_code: "brake_pads"
}


def job_component(component: str | None, job_code: str | None) -> HealthComponent | None:
    """The part of a car's health an order's job needs, from its component or job code."""
    kind = component if component in COMPONENT_OF_KIND else KIND_OF_JOB.get(job_code or "")
    return None if kind is None else COMPONENT_OF_KIND[kind]


# The same mapping for SQL, as parameters: the component of an alert kind and of a job code.
_PARTS = {
    "p_part_of_kind": json.dumps(COMPONENT_OF_KIND),
    "p_part_of_job": json.dumps({job: COMPONENT_OF_KIND[k] for job, k in KIND_OF_JOB.items()}),
}


def _job_covers(vehicle: sql.Composable, kind: sql.Composable) -> sql.Composable:
    """SQL: the shop works on car ``vehicle`` now with a job whose component is that of alert
    kind ``kind`` (both SQL expressions); as ``job_component`` decides, with ``_PARTS``."""
    return sql.SQL(
        "EXISTS (SELECT 1 FROM service_orders so WHERE so.vehicle_id = {vehicle} "
        "AND {at_work} AND COALESCE(%(p_part_of_kind)s::jsonb ->> so.component, "
        "%(p_part_of_job)s::jsonb ->> so.job_code) = "
        "%(p_part_of_kind)s::jsonb ->> ({kind}))"
    ).format(vehicle=vehicle, at_work=_at_work("so"), kind=kind)


def working_orders(p: Principal, alias: str = "o") -> Predicate:
    """Orders ``p``'s shop is working on now: a shop's view of a car is these orders' jobs."""
    if p.role == "shop_staff":
        return _at_work(alias), _params(p)
    return _NOTHING


def vehicle_history(p: Principal, alias: str = "v") -> Predicate:
    """Vehicles whose service history and oil analyses ``p`` may read: those they see, and for
    a shop only when the owner shares the history with the shops working on the car."""
    if p.role == "shop_staff":
        shared = sql.SQL("{a}.share_history_with_shops AND {at_shop}").format(
            a=sql.Identifier(alias), at_shop=_active_order_at_shop(alias)
        )
        return shared, _params(p)
    return vehicles(p, alias)


def orders(p: Principal, alias: str = "o") -> Predicate:
    """Service orders ``p`` may see."""
    if p.is_admin:
        return _EVERYTHING
    a = sql.Identifier(alias)
    if p.role in ("owner", "fleet_manager"):
        return sql.SQL("{}.vehicle_id IN ({})").format(a, owned_vehicles(p)), _params(p)
    if p.role == "shop_staff":
        return _shop_sees_order(a, sql.SQL("%(p_shop)s")), _params(p)
    return _NOTHING


def _shop_sees_order(order: sql.Composable, shop: sql.Composable) -> sql.Composable:
    """SQL: shop ``shop`` may see order ``order`` (both SQL expressions): offered to it and not
    yet answered (an offer is a pre-diagnosed booking to decide on), or won by it. Not an offer
    it declined, lost or let expire, and not an order whose shop_id is only the matcher's
    proposal, before owner or shop agreed."""
    return sql.SQL(
        "(EXISTS (SELECT 1 FROM service_offers f WHERE f.order_id = {a}.order_id "
        "AND f.shop_id = {shop} AND (f.response IS NULL "
        "OR (f.response = 'accepted' AND {a}.shop_id = {shop}))))"
    ).format(a=order, shop=shop)


def staff_seeing_order(user: str = "u", order: str = "o") -> sql.Composable:
    """SQL: user ``user`` is shop staff whose shop may see order ``order`` now, as ``orders``
    decides for them (who to tell of news about the order: a fleet's decision on it)."""
    u = sql.Identifier(user)
    return sql.SQL("({u}.role = 'shop_staff' AND {sees})").format(
        u=u, sees=_shop_sees_order(sql.Identifier(order), sql.SQL("{}.shop_id").format(u))
    )


def events(p: Principal, alias: str = "e") -> Predicate:
    """Outbox events ``p`` may receive: an order's while they may see the order, an offer
    its shop's staff, any other (an alert) while they may see the vehicle; built from
    ``orders`` and ``vehicles``. A shop gets an alert only while one of its active jobs on the
    car covers the alert's component (what ``api.vehicles.service.scoped_health`` shows it of
    the car's open alerts)."""
    if p.is_admin:
        return _EVERYTHING
    a = sql.Identifier(alias)
    order_where, params = orders(p, "o")
    vehicle_where, _ = vehicles(p, "v")
    if p.role == "shop_staff":
        vehicle_where = _job_covers(
            sql.SQL("v.vehicle_id"), sql.SQL("{}.payload->>'kind'").format(a)
        )
        params = {**params, **_PARTS}
    # An offer (``offer.made``, revision 0021) is the shop's it went to, and nobody else's:
    # not a rival shop of a broadcast, not the owner (their order's own events say it).
    offer_where = (
        sql.SQL("{}.shop_id = %(p_shop)s").format(a) if p.role == "shop_staff" else sql.SQL("false")
    )
    return (
        sql.SQL(
            "(CASE WHEN {a}.event_type LIKE 'order.%%' THEN EXISTS (SELECT 1 FROM "
            "service_orders o WHERE o.order_id = ({a}.payload->>'order_id')::bigint "
            "AND {order_where}) WHEN {a}.event_type LIKE 'offer.%%' THEN {offer_where} "
            "ELSE EXISTS (SELECT 1 FROM vehicles v "
            "WHERE v.vehicle_id = {a}.vehicle_id AND {vehicle_where}) END)"
        ).format(
            a=a, order_where=order_where, offer_where=offer_where, vehicle_where=vehicle_where
        ),
        params,
    )


def devices(p: Principal, alias: str = "d") -> Predicate:
    """Devices ``p`` may see: those on vehicles they are responsible for."""
    if p.is_admin:
        return _EVERYTHING
    if p.role in ("owner", "fleet_manager"):
        where = sql.SQL("{}.vehicle_id IN ({})").format(sql.Identifier(alias), owned_vehicles(p))
        return where, _params(p)
    return _NOTHING


def shops(p: Principal, alias: str = "s") -> Predicate:
    """Shops ``p`` may see: their own, or those holding one of their vehicles' orders."""
    if p.is_admin:
        return _EVERYTHING
    a = sql.Identifier(alias)
    if p.role == "shop_staff":
        return sql.SQL("{}.shop_id = %(p_shop)s").format(a), _params(p)
    if p.role in ("owner", "fleet_manager"):
        return (
            sql.SQL(
                "EXISTS (SELECT 1 FROM service_orders so WHERE so.shop_id = {a}.shop_id "
                "AND so.vehicle_id IN ({owned}))"
            ).format(a=a, owned=owned_vehicles(p)),
            _params(p),
        )
    return _NOTHING


def listed_shops(p: Principal, alias: str = "s") -> Predicate:
    """Shops ``p`` finds in the directory (``GET /shops``): admins all, shop staff their own,
    owners and fleet managers the verified ones (their public cards only)."""
    if p.is_admin:
        return _EVERYTHING
    a = sql.Identifier(alias)
    if p.role == "shop_staff":
        return sql.SQL("{}.shop_id = %(p_shop)s").format(a), _params(p)
    if p.role in ("owner", "fleet_manager"):
        verified = sql.SQL("{a}.verified_at IS NOT NULL AND {a}.verification <> 'suspended'")
        return verified.format(a=a), {}
    return _NOTHING


def fleets(p: Principal, alias: str = "f") -> Predicate:
    """Fleets ``p`` may see: a fleet manager their own."""
    if p.is_admin:
        return _EVERYTHING
    if p.role == "fleet_manager":
        return sql.SQL("{}.fleet_id = %(p_fleet)s").format(sql.Identifier(alias)), _params(p)
    return _NOTHING


def keys(p: Principal, alias: str = "k") -> Predicate:
    """API keys ``p`` may see: their own."""
    if p.is_admin:
        return _EVERYTHING
    return sql.SQL("{}.user_id = %(p_user)s").format(sql.Identifier(alias)), _params(p)


def subscriptions(p: Principal, alias: str = "w") -> Predicate:
    """Webhook subscriptions ``p`` may see: a fleet manager's fleet's, shop staff's shop's."""
    if p.is_admin:
        return _EVERYTHING
    a = sql.Identifier(alias)
    if p.role == "fleet_manager":
        return sql.SQL("{}.fleet_id = %(p_fleet)s").format(a), _params(p)
    if p.role == "shop_staff":
        return sql.SQL("{}.shop_id = %(p_shop)s").format(a), _params(p)
    return _NOTHING
