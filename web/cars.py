# SPDX-License-Identifier: MIT
"""What an owner's car cards show, gathered with the API's own services: the vehicle list
(``api.vehicles.registry.list_page``), the visibility check of one car
(``api.deps.valid_vehicle_id``) and the health exactly as ``GET /vehicles/{id}/health``
computes it (``service.get_health`` then ``service.scoped_health``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg

from api.auth.principal import Principal
from api.deps import valid_vehicle_id
from api.problems import ProblemError
from api.vehicles import registry, service
from api.vehicles.schemas import AlertOut, OilHealth, VehicleHealth, VehicleOut
from predictive.health import TIERS

# The API's bands in the words people read: "overdue" means the part must be changed now.
TIER_OF_BAND = {"good": "good", "due_soon": "due_soon", "overdue": "change_now"}
PAGE = 100


@dataclass(frozen=True)
class NextTier:
    """The next wear tier the oil reaches at the car's recent use, when that is known."""

    tier: str
    km: float | None
    date: datetime | None


@dataclass(frozen=True)
class Card:
    """One car as its card shows it."""

    vehicle: VehicleOut
    health: VehicleHealth
    oil_tier: str | None
    pads_tier: str | None
    oil_next: NextTier | None
    trouble_codes: list[AlertOut]

    @property
    def title(self) -> str:
        """Make, model and year when known, else the VIN."""
        v = self.vehicle
        words = [str(w) for w in (v.make, v.model, v.model_year) if w]
        return " ".join(words) or v.vin


def next_oil_tier(oil: OilHealth) -> NextTier | None:
    """The first tier of the oil's projection not reached yet."""
    for tier in TIERS:
        step = oil.projection.get(tier)
        if step is not None and not step.reached:
            return NextTier(tier, step.km, step.date)
    return None


def card(vehicle: VehicleOut, health: VehicleHealth) -> Card:
    """The card of ``vehicle`` with its health."""
    return Card(
        vehicle=vehicle,
        health=health,
        oil_tier=None if health.oil is None else TIER_OF_BAND[health.oil.band],
        pads_tier=None if health.brake_pads is None else TIER_OF_BAND[health.brake_pads.band],
        oil_next=None if health.oil is None else next_oil_tier(health.oil),
        trouble_codes=[a for a in health.open_alerts if a.kind == "trouble_code"],
    )


def _health(conn: psycopg.Connection, vehicle_id: int, principal: Principal) -> VehicleHealth:
    health = service.get_health(conn=conn, vehicle_id=vehicle_id)
    if health is None:
        raise LookupError(vehicle_id)
    return service.scoped_health(conn=conn, health=health, principal=principal)


def my_cards(*, conn: psycopg.Connection, principal: Principal) -> list[Card]:
    """A card for every car ``principal`` may see, newest first (as ``GET /vehicles``)."""
    cards: list[Card] = []
    cursor: str | None = None
    while True:
        page = registry.list_page(conn=conn, principal=principal, limit=PAGE, cursor=cursor)
        for vehicle in page.items:
            try:
                cards.append(card(vehicle, _health(conn, vehicle.vehicle_id, principal)))
            except LookupError:  # deleted since the list was read
                continue
        if page.next_cursor is None:
            return cards
        cursor = page.next_cursor


def one_card(*, conn: psycopg.Connection, principal: Principal, vehicle_id: int) -> Card | None:
    """The card of one car, or None when there is no such car or ``principal`` may not see
    it (the API's 404, the same for both)."""
    try:
        valid_vehicle_id(vehicle_id, conn, principal)
    except ProblemError:
        return None
    vehicle = registry.get_vehicle(conn=conn, vehicle_id=vehicle_id)
    if vehicle is None:
        return None
    try:
        health = _health(conn, vehicle_id, principal)
    except LookupError:
        return None
    return card(registry.for_principal(vehicle, principal), health)
