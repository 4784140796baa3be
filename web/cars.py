# SPDX-License-Identifier: MIT
"""What an owner's car cards show, gathered with the API's own services: the vehicle list
(``api.vehicles.registry.list_page``), the visibility check of one car
(``api.deps.valid_vehicle_id``), the health exactly as ``GET /vehicles/{id}/health`` computes
it (``service.get_health`` then ``service.scoped_health``) and, for the pads' projection (the
health has the oil's only), the newest brake prediction as ``GET /vehicles/{id}/predictions``
gives it (``service.predictions``; the car's side only, like the route).

The next tier is said with its uncertainty: the model's band of the life left (the oil's
learned model publishes one, 10 to 90 %) moves the date a tier is reached, at the same wear
rate and pace, between the dates its two edges reach it ("in 9 to 14 days"). The brake model
publishes no band, so its date is one figure ("in about 40 days").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg
from babel import Locale
from babel.dates import format_date, format_interval

from api.auth.principal import Principal
from api.deps import VEHICLE_SIDE, valid_vehicle_id
from api.problems import ProblemError
from api.vehicles import registry, service
from api.vehicles.schemas import (
    AlertOut,
    PredictionOut,
    TierProjection,
    VehicleHealth,
    VehicleOut,
)
from predictive.health import BRAKE_MODEL, TIERS
from web import trouble

# The API's bands in the words people read: "overdue" means the part must be changed now.
TIER_OF_BAND = {
    "good": "good",
    "due_soon": "due_soon",
    "due_now": "change_now",
    "overdue": "change_now",
}
PAGE = 100
DAY = timedelta(days=1)
# Past this many days a projection is said in months.
MONTHS_FROM_DAYS = 60
DAYS_PER_MONTH = 30.44


@dataclass(frozen=True)
class NextTier:
    """The next wear tier a part reaches at the car's recent use: the distance, and the dates
    between which it is likely reached (equal without a band; None when the pace is not
    known)."""

    tier: str
    km: float | None
    date: datetime | None
    earliest: datetime | None = None
    latest: datetime | None = None

    def days(self, now: datetime) -> tuple[int, int] | None:
        """Whole days from ``now`` to the earliest and the latest date, or None."""
        if self.earliest is None or self.latest is None:
            return None
        low = max(0.0, (self.earliest - now) / DAY)
        high = max(0.0, (self.latest - now) / DAY)
        if self.earliest == self.latest:  # no band: one figure, "in about 40 days"
            return round(low), round(low)
        return math.floor(low), max(math.ceil(high), math.floor(low))

    def when(self, now: datetime) -> tuple[str, int, int] | None:
        """("day" | "days" | "months", low, high) to say when, or None without a date."""
        days = self.days(now)
        if days is None:
            return None
        low, high = days
        if high <= 1:
            return ("day", low, high)
        if low >= MONTHS_FROM_DAYS:
            if low == high:
                return ("months", round(low / DAYS_PER_MONTH), round(high / DAYS_PER_MONTH))
            return (
                "months",
                math.floor(low / DAYS_PER_MONTH),
                math.ceil(high / DAYS_PER_MONTH),
            )
        return ("days", low, high)


@dataclass(frozen=True)
class Card:
    """One car as its card shows it."""

    vehicle: VehicleOut
    health: VehicleHealth
    oil_tier: str | None
    pads_tier: str | None
    oil_next: NextTier | None
    pads_next: NextTier | None
    pads_projection: dict[str, TierProjection]
    trouble_codes: list[AlertOut]

    @property
    def code_lines(self) -> list[trouble.CodeLine]:
        """The open trouble codes in the owner's words (``web.trouble``)."""
        return trouble.lines(self.trouble_codes)

    @property
    def unexplained_codes(self) -> list[AlertOut]:
        """Trouble-code alerts without findings to explain (said by their message)."""
        return [a for a in self.trouble_codes if not a.evidence.get("findings")]

    @property
    def title(self) -> str:
        """Make, model and year when known, else the VIN."""
        v = self.vehicle
        words = [str(w) for w in (v.make, v.model, v.model_year) if w]
        return " ".join(words) or v.vin


def next_tier(
    projection: dict[str, TierProjection],
    *,
    value: float,
    as_of: datetime,
    band: tuple[float, float] | None = None,
) -> NextTier | None:
    """The first tier of ``projection`` not reached yet, with the dates the edges of ``band``
    (the value's likely range) reach it at the same rate."""
    for tier in TIERS:
        step = projection.get(tier)
        if step is None or step.reached:
            continue
        if step.date is None:
            return NextTier(tier, step.km, None)
        earliest = latest = step.date
        if band is not None and value > step.threshold:

            def at(edge: float, step: TierProjection = step) -> datetime:
                share = max(0.0, (edge - step.threshold) / (value - step.threshold))
                assert step.date is not None
                return as_of + (step.date - as_of) * share

            earliest, latest = at(min(band)), at(max(band))
        return NextTier(tier, step.km, step.date, earliest, latest)
    return None


def brake_projection(
    conn: psycopg.Connection, vehicle_id: int, principal: Principal
) -> tuple[PredictionOut | None, dict[str, TierProjection]]:
    """The newest brake prediction and its projection, for the car's side (the API's
    predictions route refuses anyone else)."""
    if not (principal.is_admin or principal.role in VEHICLE_SIDE):
        return None, {}
    page = service.predictions(
        conn=conn, vehicle_id=vehicle_id, model=BRAKE_MODEL, limit=1, cursor=None
    )
    if not page.items:
        return None, {}
    found = page.items[0]
    steps = found.evidence.get("projection") or {}
    return found, {tier: TierProjection.model_validate(s) for tier, s in steps.items()}


def card(
    vehicle: VehicleOut, health: VehicleHealth, pads_projection: dict[str, TierProjection]
) -> Card:
    """The card of ``vehicle`` with its health and the pads' projection."""
    oil, pads = health.oil, health.brake_pads
    return Card(
        vehicle=vehicle,
        health=health,
        oil_tier=None if oil is None else TIER_OF_BAND[oil.band],
        pads_tier=None if pads is None else TIER_OF_BAND[pads.band],
        oil_next=None
        if oil is None
        else next_tier(
            oil.projection, value=oil.oil_life_pct, as_of=oil.as_of, band=oil.life_band_pct
        ),
        pads_next=None
        if pads is None
        else next_tier(
            pads_projection, value=min(pads.pad_front_mm, pads.pad_rear_mm), as_of=pads.as_of
        ),
        pads_projection=pads_projection if pads is not None else {},
        trouble_codes=[a for a in health.open_alerts if a.kind == "trouble_code"],
    )


def dates(found: NextTier, locale: Locale) -> str:
    """The likely date, or dates, of ``found`` as people of ``locale`` write them."""
    if found.earliest is None or found.latest is None:
        return ""
    if found.earliest.date() == found.latest.date():
        return format_date(found.earliest, format="medium", locale=locale)
    return format_interval(found.earliest, found.latest, skeleton="yMMMd", locale=locale)


def now() -> datetime:
    """The clock the cards say "in 9 days" by."""
    return datetime.now(UTC)


def _health(conn: psycopg.Connection, vehicle_id: int, principal: Principal) -> VehicleHealth:
    health = service.get_health(conn=conn, vehicle_id=vehicle_id)
    if health is None:
        raise LookupError(vehicle_id)
    return service.scoped_health(conn=conn, health=health, principal=principal)


def _card(conn: psycopg.Connection, vehicle: VehicleOut, principal: Principal) -> Card:
    health = _health(conn, vehicle.vehicle_id, principal)
    _, pads = brake_projection(conn, vehicle.vehicle_id, principal)
    return card(vehicle, health, pads)


def my_cards(*, conn: psycopg.Connection, principal: Principal) -> list[Card]:
    """A card for every car ``principal`` may see, newest first (as ``GET /vehicles``)."""
    cards: list[Card] = []
    cursor: str | None = None
    while True:
        page = registry.list_page(conn=conn, principal=principal, limit=PAGE, cursor=cursor)
        for vehicle in page.items:
            try:
                cards.append(_card(conn, vehicle, principal))
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
        return _card(conn, registry.for_principal(vehicle, principal), principal)
    except LookupError:
        return None
