# SPDX-License-Identifier: MIT
"""What the fleet manager's dashboard shows, gathered with the API's own services: the health
table exactly as ``GET /fleets/{id}/health`` computes it (``api.fleets.service.health_page``,
one query over the fleet, read a thousand vehicles a page), behind the same check
(``api.deps.valid_fleet_id``: a fleet manager their own fleet, an admin any).

Filtering by state, searching and sorting happen here, over the rows the API gave: a fleet
is at most a few thousand vehicles, so one query and a sort in memory stay well within the
page's budget, where a query per car would not. The trouble codes' worst urgency and the due
list read the fleet's open alerts, newest predictions and open orders in one query each, never
one per car; the projections are the predictions' own (``evidence.projection``, as
``GET /vehicles/{id}/predictions`` and the health's ``oil.projection`` expose them).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql

from api import access
from api.auth.principal import Principal
from api.deps import valid_fleet_id
from api.fleets import members, service
from api.fleets.schemas import FleetOut, FleetVehicle
from api.problems import ProblemError
from api.vehicles.schemas import TierProjection
from db.rows import dicts
from orders.lifecycle import OPEN
from predictive.health import oil_band, pad_band
from predictive.trouble_codes import Urgency
from web.cars import TIER_OF_BAND

# The API's page size for a fleet's health: the most it answers at once.
API_PAGE = 1000
# Rows of the table on one page of the dashboard.
PAGE_SIZE = 50
# The due list's horizon: what comes due within this time or distance.
DUE_DAYS = 30
DUE_KM = 3000.0
# The tier at which a part must be changed: the due list's date and distance.
DUE_TIER = "due_now"
# The states the table filters by: the API's statuses each means.
FILTERS: dict[str, frozenset[str] | None] = {
    "all": None,
    "attention": frozenset({"overdue", "due_soon", "trouble_codes", "offline"}),
    "due_soon": frozenset({"due_soon"}),
    "change_now": frozenset({"overdue"}),
    "offline": frozenset({"offline"}),
}
# Worst first: the order of the API's statuses on the default sort.
STATUS_RANK = {"overdue": 0, "due_soon": 1, "trouble_codes": 2, "offline": 3, "ok": 4}
URGENCY_RANK = {str(u): int(u) for u in Urgency}
# The health's component an order's job covers (``access.job_component``) per due item.
ITEM_COMPONENT = {"oil": "oil", "pads": "brake_pads", "trouble_code": "trouble_codes"}
FLEET_ROLES = ("fleet_manager",)


class NotAllowed(Exception):
    """The role may not read fleets at all (the API's 403)."""


@dataclass(frozen=True)
class Row:
    """One vehicle of the table: the API's row and what the page adds to it."""

    vehicle: FleetVehicle
    oil_tier: str | None
    pads_tier: str | None
    worst_urgency: str | None

    @property
    def name(self) -> str:
        """Make and model when known, else empty."""
        v = self.vehicle
        return " ".join(w for w in (v.make, v.model) if w)

    @property
    def pad_mm(self) -> float | None:
        """The thinner pad."""
        v = self.vehicle
        pads = [p for p in (v.pad_front_mm, v.pad_rear_mm) if p is not None]
        return min(pads) if pads else None


def _worst_first(r: Row) -> tuple[Any, ...]:
    v = r.vehicle
    return (
        STATUS_RANK[v.status],
        -URGENCY_RANK.get(r.worst_urgency or "", 0),
        v.oil_life_pct if v.oil_life_pct is not None else 1000.0,
        r.pad_mm if r.pad_mm is not None else 1000.0,
        v.vehicle_id,
    )


def _last_seen(r: Row) -> tuple[Any, ...]:
    seen = r.vehicle.last_seen
    return (seen is not None, seen or datetime.min.replace(tzinfo=UTC), r.vehicle.vehicle_id)


# Each sort puts what needs a look first: lowest oil and pads, most codes, longest unseen.
SORTS: dict[str, Callable[[Row], tuple[Any, ...]]] = {
    "worst": _worst_first,
    "name": lambda r: (r.name.lower() or "\uffff", r.vehicle.vin),
    "vin": lambda r: (r.vehicle.vin,),
    "oil": lambda r: (
        r.vehicle.oil_life_pct is None,
        r.vehicle.oil_life_pct or 0.0,
        r.vehicle.vehicle_id,
    ),
    "pads": lambda r: (r.pad_mm is None, r.pad_mm or 0.0, r.vehicle.vehicle_id),
    "codes": lambda r: (-len(r.vehicle.trouble_codes), _worst_first(r)),
    "last_seen": _last_seen,
    "odometer": lambda r: (-(r.vehicle.odometer_km or 0.0), r.vehicle.vehicle_id),
}


@dataclass(frozen=True)
class Query:
    """What the table is asked for: state, search, sort and page (unknown values: defaults)."""

    state: str = "all"
    search: str = ""
    sort: str = "worst"
    page: int = 1

    @classmethod
    def of(cls, state: str | None, search: str | None, sort: str | None, page: int) -> Query:
        """The query from the form's fields, unknown values replaced by the defaults."""
        return cls(
            state=state if state in FILTERS else "all",
            search=(search or "").strip()[:100],
            sort=sort if sort in SORTS else "worst",
            page=max(1, page),
        )


@dataclass(frozen=True)
class Table:
    """One page of the table, and the counts the page says."""

    rows: list[Row]
    matched: int
    total: int
    page: int
    pages: int


def fleet_for(*, conn: psycopg.Connection, principal: Principal, asked: int | None) -> int | None:
    """The fleet the dashboard shows: a manager's own (another fleet asked for is None, the
    API's 404), for an admin the one asked for (None when none is or it is unknown);
    NotAllowed for any other role, as the API's ``require_roles`` refuses them."""
    if not (principal.is_admin or principal.role in FLEET_ROLES):
        raise NotAllowed
    wanted = asked if asked is not None else principal.fleet_id
    if wanted is None:
        return None
    try:
        return valid_fleet_id(wanted, conn, principal)
    except ProblemError:
        return None


def fleets(*, conn: psycopg.Connection, principal: Principal) -> list[FleetOut]:
    """The fleets the caller may pick from (``GET /fleets``'s first page)."""
    return members.list_page(conn=conn, principal=principal, limit=100, cursor=None).items


def fleet(*, conn: psycopg.Connection, fleet_id: int) -> FleetOut:
    """The fleet's name and size (``GET /fleets/{id}``)."""
    return members.get_fleet(conn=conn, fleet_id=fleet_id)


def health_rows(
    *, conn: psycopg.Connection, fleet_id: int, now: datetime | None = None
) -> list[FleetVehicle]:
    """Every vehicle of the fleet as ``GET /fleets/{id}/health`` gives it, by vehicle id."""
    rows: list[FleetVehicle] = []
    cursor: str | None = None
    now = now or datetime.now(UTC)
    while True:
        page = service.health_page(
            conn=conn, fleet_id=fleet_id, status=None, limit=API_PAGE, cursor=cursor, now=now
        )
        rows.extend(page.items)
        if page.next_cursor is None:
            return rows
        cursor = page.next_cursor


def worst_urgencies(conn: psycopg.Connection, fleet_id: int) -> dict[int, str]:
    """Vehicle → the most urgent of its open trouble-code alerts (low … critical)."""
    found: dict[int, str] = {}
    for r in dicts(
        conn,
        "SELECT a.vehicle_id, a.tier FROM alerts a JOIN vehicles v USING (vehicle_id) "
        "WHERE v.fleet_id = %s AND a.kind = 'trouble_code' AND a.status <> 'resolved'",
        (fleet_id,),
    ):
        vehicle_id, tier = r["vehicle_id"], r["tier"]
        if URGENCY_RANK.get(tier or "", 0) > URGENCY_RANK.get(found.get(vehicle_id, ""), 0):
            found[vehicle_id] = tier
    return found


def row(vehicle: FleetVehicle, urgency: str | None) -> Row:
    """The table's row of one vehicle: its oil and pads in the owner's tiers."""
    pads = [p for p in (vehicle.pad_front_mm, vehicle.pad_rear_mm) if p is not None]
    oil = vehicle.oil_life_pct
    return Row(
        vehicle=vehicle,
        oil_tier=None if oil is None else TIER_OF_BAND[oil_band(oil)],
        pads_tier=None if not pads else TIER_OF_BAND[pad_band(min(pads))],
        worst_urgency=urgency,
    )


def matching(rows: Iterable[Row], query: Query) -> list[Row]:
    """The rows in the query's state whose VIN or name holds its search, in its order."""
    states = FILTERS[query.state]
    needle = query.search.casefold()
    kept = [
        r
        for r in rows
        if (states is None or r.vehicle.status in states)
        and (not needle or needle in r.vehicle.vin.casefold() or needle in r.name.casefold())
    ]
    return sorted(kept, key=SORTS[query.sort])


def all_rows(*, conn: psycopg.Connection, fleet_id: int, now: datetime | None = None) -> list[Row]:
    """Every vehicle of the fleet as a row of the table."""
    urgencies = worst_urgencies(conn, fleet_id)
    return [
        row(v, urgencies.get(v.vehicle_id))
        for v in health_rows(conn=conn, fleet_id=fleet_id, now=now)
    ]


def table(
    *, conn: psycopg.Connection, fleet_id: int, query: Query, now: datetime | None = None
) -> Table:
    """The page of the table the query asks for."""
    rows = all_rows(conn=conn, fleet_id=fleet_id, now=now)
    found = matching(rows, query)
    pages = max(1, -(-len(found) // PAGE_SIZE))
    page = min(query.page, pages)
    shown = found[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    return Table(rows=shown, matched=len(found), total=len(rows), page=page, pages=pages)


# CSV: the API's columns, then the page's own (its tiers and the codes' worst urgency).
CSV_COLUMNS = (*service.COLUMNS, "oil_tier", "pads_tier", "worst_urgency")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    """A text cell a spreadsheet will not run as a formula (a leading apostrophe)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_lines(rows: Iterable[Row]) -> Iterator[str]:
    """The rows as CSV (a header first): numbers as the JSON gives them, times in ISO 8601."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    yield out.getvalue()
    out.seek(0)
    out.truncate()
    for r in rows:
        values = r.vehicle.model_dump(mode="json")
        values["trouble_codes"] = " ".join(values["trouble_codes"])
        values |= {
            "oil_tier": r.oil_tier,
            "pads_tier": r.pads_tier,
            "worst_urgency": r.worst_urgency,
        }
        writer.writerow(_cell(values[c]) for c in CSV_COLUMNS)
        yield out.getvalue()
        out.seek(0)
        out.truncate()


@dataclass(frozen=True)
class DueItem:
    """One thing due on one vehicle: oil, pads or a trouble code, when and in how far."""

    vehicle_id: int
    vin: str
    name: str
    item: str  # oil, pads or trouble_code
    date: datetime | None
    km: float | None
    reached: bool
    detail: str  # the trouble code, or empty
    urgency: str | None
    order_id: int | None


# The newest prediction of each model per vehicle of the fleet, with its projection
# (the predictions index is (vehicle_id, model, time DESC)).
_PROJECTIONS_SQL = """
SELECT v.vehicle_id, m.model, p.time AS as_of, p.evidence->'projection' AS projection
FROM vehicles v
CROSS JOIN (VALUES ('oil_life'), ('brake_pads')) AS m(model)
JOIN LATERAL (SELECT time, evidence FROM predictions p
              WHERE p.vehicle_id = v.vehicle_id AND p.model = m.model
              ORDER BY p.time DESC LIMIT 1) p ON true
WHERE v.fleet_id = %s
"""


def _open_orders(
    conn: psycopg.Connection, principal: Principal, fleet_id: int
) -> dict[tuple[int, str], int]:
    """(vehicle, health component) → its newest open order the caller may see
    (``access.orders``, as ``GET /service-orders`` lists them)."""
    where, params = access.orders(principal, "o")
    query = sql.SQL(
        "SELECT o.order_id, o.vehicle_id, o.component, o.job_code FROM service_orders o "
        "JOIN vehicles v ON v.vehicle_id = o.vehicle_id "
        "WHERE v.fleet_id = %(fleet)s AND o.status = ANY(%(open)s) AND {} "
        "ORDER BY o.order_id"
    ).format(where)
    found: dict[tuple[int, str], int] = {}
    for r in dicts(conn, query, {**params, "fleet": fleet_id, "open": list(OPEN)}):
        part = access.job_component(r["component"], r["job_code"])
        if part is not None:
            found[(r["vehicle_id"], part)] = r["order_id"]
    return found


def _due_step(projection: Any) -> TierProjection | None:
    steps = projection if isinstance(projection, dict) else {}
    step = steps.get(DUE_TIER)
    return None if step is None else TierProjection.model_validate(step)


def due_list(
    *, conn: psycopg.Connection, principal: Principal, fleet_id: int, now: datetime
) -> list[DueItem]:
    """Everything due on the fleet's vehicles within ``DUE_DAYS`` or ``DUE_KM``, by date:
    the oil and pads at their change tier (already reached: due now), each open trouble code
    (due since it was raised); each with the open order for it, if any."""
    vehicles = {
        r["vehicle_id"]: (r["vin"], " ".join(w for w in (r["make"], r["model"]) if w))
        for r in dicts(
            conn,
            "SELECT vehicle_id, vin, make, model FROM vehicles WHERE fleet_id = %s",
            (fleet_id,),
        )
    }
    orders = _open_orders(conn, principal, fleet_id)
    horizon = now + timedelta(days=DUE_DAYS)
    items: list[DueItem] = []

    def add(vehicle_id: int, item: str, **fields: Any) -> None:
        found = vehicles.get(vehicle_id)
        if found is None:  # joined the fleet since
            return
        vin, name = found
        order = orders.get((vehicle_id, ITEM_COMPONENT[item]))
        items.append(DueItem(vehicle_id, vin, name, item, order_id=order, **fields))

    for p in dicts(conn, _PROJECTIONS_SQL, (fleet_id,)):
        vehicle_id, model, as_of = p["vehicle_id"], p["model"], p["as_of"]
        step = _due_step(p["projection"])
        if step is None:
            continue
        date = as_of if step.reached else step.date
        km = 0.0 if step.reached else step.km
        soon = (date is not None and date <= horizon) or (km is not None and km <= DUE_KM)
        if step.reached or soon:
            item = "oil" if model == "oil_life" else "pads"
            add(
                vehicle_id,
                item,
                date=date,
                km=km,
                reached=step.reached,
                detail="",
                urgency=None,
            )
    for a in dicts(
        conn,
        "SELECT a.vehicle_id, a.created_at, a.tier, a.message FROM alerts a "
        "JOIN vehicles v USING (vehicle_id) WHERE v.fleet_id = %s AND a.kind = 'trouble_code' "
        "AND a.status <> 'resolved' ORDER BY a.alert_id",
        (fleet_id,),
    ):
        add(
            a["vehicle_id"],
            "trouble_code",
            date=a["created_at"],
            km=0.0,
            reached=True,
            detail=str(a["message"]),
            urgency=a["tier"],
        )
    far = datetime.max.replace(tzinfo=UTC)
    return sorted(items, key=lambda d: (d.date or far, d.km or 0.0, d.vehicle_id, d.item))
