# SPDX-License-Identifier: MIT
"""Turn new readings into predictions, and predictions past a threshold into alerts.

Evaluation is incremental. Each prediction's evidence carries the model's running totals
(``state``) and the time of the last reading they include (``through_s``); the next
evaluation reads only readings after that time and continues from the totals.

Two edge cases, and what we do about them:

* Equal timestamps. A reading with the same timestamp as the last one we consumed, arriving
  after we consumed it, would be skipped by ``time > through``. So the newest timestamp group
  is held back until it is ``settle_s`` old: we never consume the latest instant while more
  samples of that instant could still be on their way.
* Late, out-of-order data (older than ``through``; e.g. a device replaying a disk buffer
  after a newer batch from the same car was evaluated) is not in the running totals. Ingest
  delivers each device's batches in order, so this is rare; ``rebuild=True`` recomputes from
  the last service and picks it up. A change of the service baseline (oil changed, pads
  measured) also starts that model from scratch.

Each prediction also carries the output people act on (``publish.py``): the band, the trend,
the vehicle's recent km per day and the projected distance and date to each alert tier; its
alert is raised once per tier. A vehicle's trouble codes (``vehicle_dtcs``) become alerts in
the same transaction when they changed since they were last evaluated
(``evaluator_dtc_marks``). With ``lease_owner`` an evaluator touches only vehicles of the
shards it holds (``leases.py``).

Two ways to run the same evaluation (``vehicle_pass.py`` holds what they share):
``evaluate_vehicle`` takes one vehicle, a few round trips each; ``evaluate_vehicles`` and
``evaluate_pending`` (and the evaluator process, ``worker.py``) take thousands at a time with
the set-based pass of ``bulk.py``, which gives the same predictions and alerts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import psycopg
from psycopg import sql

from db.rows import record, scalar, scalars
from predictive import bulk
from predictive.health import (
    OIL_DUE_SOON_PCT,
    PAD_DUE_SOON_MM,
    Prediction,
    VehicleNotFound,
    latest_predictions,
)
from predictive.learned import LearnedModels
from predictive.leases import shard_count
from predictive.publish import store
from predictive.vehicle_pass import (
    READ_COLUMNS,
    READ_SIGNALS,
    SETTLE_S,
    ChangedCodes,
    VehiclePass,
    codes_changed,
    hold_back,
    read_vehicle,
    unobserved_km,
)

log = logging.getLogger(__name__)

# Readings are read in pages of this many rows, so rebuilding a vehicle with months of 1 Hz
# data since its last service does not hold it all in memory; the totals compose exactly.
PAGE_ROWS = 200_000


def _columns(names: Iterable[str]) -> sql.Composable:
    return sql.SQL(", ").join(map(sql.Identifier, names))


# A page of a vehicle's readings as a matrix for numpy: epoch seconds, then READ_COLUMNS in
# their order. Rows of up to PAGE_ROWS floats are read as tuples straight into the matrix (a
# Python object per row read by name would cost more than the models themselves); the page's
# column names are checked against _PAGE_COLUMNS once per page instead, so a select list that
# no longer matches the matrix fails loudly.
_PAGE_COLUMNS = ("time_s", *READ_COLUMNS)
_READ_SQL = sql.SQL(
    "SELECT extract(epoch FROM time)::float8 AS time_s, {columns} FROM readings "
    "WHERE vehicle_id = %s AND time <= %s "
    "AND (%s::float8 IS NULL OR time > to_timestamp(%s::float8)) "
    "AND num_nonnulls({columns}) > 0 ORDER BY time LIMIT %s"
).format(columns=_columns(READ_COLUMNS))
# The vehicle's trouble codes when they changed since they were last evaluated (as bulk's).
_CODES_SQL = (
    "SELECT d.vehicle_id, d.updated_at, d.stored, d.pending, d.permanent "
    "FROM vehicle_dtcs d LEFT JOIN evaluator_dtc_marks m USING (vehicle_id) "
    "WHERE d.vehicle_id = %s AND m.updated_at IS DISTINCT FROM d.updated_at"
)


def _holds_shard(conn: psycopg.Connection, vehicle_id: int, owner: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM evaluator_shards WHERE owner = %s AND shard = %s",
        (owner, vehicle_id % shard_count(conn)),
    ).fetchone()
    return row is not None


def _trouble_codes(conn: psycopg.Connection, vehicle_id: int) -> None:
    """Turn the vehicle's current trouble codes into alerts if they changed since last time."""
    codes = record(conn, ChangedCodes, _CODES_SQL, (vehicle_id,))
    if codes is not None:
        codes_changed(conn, codes)


def _unobserved_km(
    conn: psycopg.Connection, vehicle_id: int, since_s: float | None, at_km: float | None
) -> float:
    """Km between a service (at odometer ``at_km``) and the first odometer reading after it."""
    if at_km is None:
        return 0.0
    first_km = scalar(
        conn,
        "SELECT odometer_km FROM readings WHERE vehicle_id = %s AND odometer_km IS NOT NULL "
        "AND time >= COALESCE(to_timestamp(%s), '-infinity') ORDER BY time LIMIT 1",
        (vehicle_id, since_s),
    )
    return unobserved_km(first_km, at_km)


def _read(
    conn: psycopg.Connection, vehicle_id: int, since_s: float | None, now: datetime, limit: int
) -> np.ndarray:
    """Rows (epoch s, then one column per ``READ_SIGNALS``, NaN where not sampled), by time."""
    with conn.cursor() as cur:
        cur.execute(_READ_SQL, (vehicle_id, now, since_s, since_s, limit))
        names = tuple(column.name for column in cur.description or ())
        if names != _PAGE_COLUMNS:
            raise RuntimeError(f"a page of readings has columns {names}, not {_PAGE_COLUMNS}")
        page = cur.fetchall()
    return np.array(page, dtype=np.float64).reshape(-1, 1 + len(READ_SIGNALS))


def evaluate_vehicle(
    *,
    conn: psycopg.Connection,
    vehicle_id: int,
    now: datetime,
    oil_alert_pct: float = OIL_DUE_SOON_PCT,
    pad_alert_mm: float = PAD_DUE_SOON_MM,
    settle_s: float = SETTLE_S,
    rebuild: bool = False,
    lease_owner: str | None = None,
    learned_models: LearnedModels | None = None,
    publish: Collection[str] = (),
) -> list[Prediction]:
    """Advance both models with the vehicle's new readings, and turn changed trouble codes
    into alerts; return the predictions written.

    With ``lease_owner``, nothing happens unless that evaluator holds the vehicle's shard.
    With ``learned_models`` (``learned.load_models``) the oil life is the learned correction's.
    ``publish`` names models (``OIL_MODEL``, ``BRAKE_MODEL``) to write a prediction of even
    without new readings: after a service or an oil analysis, the health must show it at once.
    """
    with conn.transaction():
        # Row lock: two evaluators on one vehicle would both continue from the same totals.
        vehicle = read_vehicle(conn, vehicle_id, for_update=True)
        if vehicle is None:
            raise VehicleNotFound(vehicle_id)
        if lease_owner is not None and not _holds_shard(conn, vehicle_id, lease_owner):
            log.info("vehicle %s: shard no longer held by %s, skipped", vehicle_id, lease_owner)
            return []
        _trouble_codes(conn, vehicle_id)
        run = VehiclePass.begin(
            vehicle, latest_predictions(conn=conn, vehicle_id=vehicle_id), rebuild=rebuild
        )
        oil_needs, brake_needs = run.needs_unobserved()
        cursor = run.start(
            _unobserved_km(conn, vehicle_id, vehicle.oil_base_s, vehicle.oil_changed_km)
            if oil_needs
            else 0.0,
            _unobserved_km(conn, vehicle_id, vehicle.pad_base_s, vehicle.pads_measured_km)
            if brake_needs
            else 0.0,
        )
        settled_s = (now - timedelta(seconds=settle_s)).timestamp()
        while True:
            rows = _read(conn, vehicle_id, cursor, now, PAGE_ROWS)
            full = len(rows) == PAGE_ROWS
            rows = hold_back(rows, full=full, settled_s=settled_s)
            if rows.size == 0:
                break
            cursor = float(rows[-1, 0])
            run.advance(rows)
            if not full:
                break
        pubs = run.publications(
            now=now,
            oil_alert_pct=oil_alert_pct,
            pad_alert_mm=pad_alert_mm,
            learned_models=learned_models,
            also=publish,
        )
        return [store(conn, vehicle_id=vehicle_id, now=now, pub=pub) for pub in pubs]


def pending_vehicles(
    *,
    conn: psycopg.Connection,
    limit: int = 1000,
    shards: Sequence[int] | None = None,
) -> list[int]:
    """Vehicles whose state changed since their latest prediction, or whose trouble codes
    changed since they were last evaluated; only those of ``shards`` if given."""
    return scalars(
        conn,
        "SELECT vehicle_id FROM ("
        " SELECT s.vehicle_id FROM vehicle_state s"
        " LEFT JOIN LATERAL (SELECT max(created_at) AS at FROM predictions p"
        "                    WHERE p.vehicle_id = s.vehicle_id) p ON true"
        " WHERE p.at IS NULL OR s.updated_at > p.at"
        " UNION"
        " SELECT d.vehicle_id FROM vehicle_dtcs d"
        " LEFT JOIN evaluator_dtc_marks m USING (vehicle_id)"
        " WHERE m.updated_at IS DISTINCT FROM d.updated_at"
        ") v WHERE %(shards)s::int[] IS NULL"
        " OR (vehicle_id %% (SELECT count(*) FROM evaluator_shards))::int = ANY(%(shards)s)"
        " ORDER BY vehicle_id LIMIT %(limit)s",
        {"shards": None if shards is None else list(shards), "limit": limit},
    )


def evaluate_vehicles(
    *,
    conn: psycopg.Connection,
    vehicle_ids: Iterable[int],
    now: datetime,
    lease_owner: str | None = None,
    between_chunks: Callable[[], bool] | None = None,
    **thresholds: Any,
) -> dict[int, int]:
    """Evaluate many vehicles with the set-based pass (``bulk.py``): the same predictions and
    alerts as ``evaluate_vehicle`` on each, a chunk of vehicles per transaction. Returns
    vehicle → predictions written, for each vehicle evaluated; vehicles locked by another
    transaction are skipped (they stay pending).

    ``conn`` should be in autocommit mode.
    """
    return bulk.evaluate_vehicles(
        conn=conn,
        vehicle_ids=vehicle_ids,
        now=now,
        one=evaluate_vehicle,
        lease_owner=lease_owner,
        between_chunks=between_chunks,
        **thresholds,
    )


def evaluate_pending(
    *,
    conn: psycopg.Connection,
    now: datetime,
    limit: int = 1000,
    shards: Sequence[int] | None = None,
    lease_owner: str | None = None,
    **thresholds: Any,
) -> list[int]:
    """Evaluate every pending vehicle (``pending_vehicles``) with the set-based pass; return
    the ids of those evaluated.

    ``conn`` should be in autocommit mode so each chunk commits on its own.
    """
    pending = pending_vehicles(conn=conn, limit=limit, shards=shards)
    written = evaluate_vehicles(
        conn=conn, vehicle_ids=pending, now=now, lease_owner=lease_owner, **thresholds
    )
    return sorted(written)
