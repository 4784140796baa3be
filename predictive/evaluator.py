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
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import psycopg

from predictive import brakes
from predictive.health import (
    BRAKE_MODEL,
    OIL_DUE_SOON_PCT,
    OIL_MODEL,
    PAD_DUE_SOON_MM,
    Prediction,
    PredictiveError,
    VehicleNotFound,
    latest_predictions,
)
from predictive.learned import LearnedModels
from predictive.leases import shard_count
from predictive.publish import (
    BRAKE_VERSION,
    OIL_VERSION,
    brake_prediction,
    oil_prediction,
    trouble_code_alerts,
)
from predictive.totals import BrakeTotals, OilTotals, Series, advance_brakes, advance_oil
from telemetry.signals import by_id, by_name

log = logging.getLogger(__name__)

# How long the newest timestamp group is held back (see the module docstring). Ingest commits
# a batch's samples together within a second or two; a minute leaves ample margin.
SETTLE_S = 60.0
# Readings are read in pages of this many rows, so rebuilding a vehicle with months of 1 Hz
# data since its last service does not hold it all in memory; the totals compose exactly.
PAGE_ROWS = 200_000


def _signal_id(name: str) -> int:
    signal = by_name(name)
    assert signal is not None, name
    return signal.id


def _column(signal_id: int) -> str:
    """The ``readings`` column of a catalogue signal."""
    signal = by_id(signal_id)
    assert signal is not None, signal_id
    return signal.name


# Load and ambient feed the oil-temperature estimate of cars without PID 0x5C (oil_temp.py).
OIL_SIGNALS = RPM, OIL_TEMP, COOLANT, SPEED, LOAD, AMBIENT = tuple(
    _signal_id(n)
    for n in (
        "engine_rpm",
        "oil_temp_c",
        "coolant_temp_c",
        "speed_kmh",
        "engine_load_pct",
        "ambient_temp_c",
    )
)
# Every signal the models use, in the order ``_read`` returns their columns (after time).
READ_SIGNALS = OIL_SIGNALS
_READ_COLUMNS = tuple(_column(sid) for sid in READ_SIGNALS)
_READ_SQL = (
    f"SELECT extract(epoch FROM time)::float8, {', '.join(_READ_COLUMNS)} FROM readings "
    "WHERE vehicle_id = %s AND time <= %s "
    "AND (%s::float8 IS NULL OR time > to_timestamp(%s::float8)) "
    f"AND num_nonnulls({', '.join(_READ_COLUMNS)}) > 0 ORDER BY time LIMIT %s"
)


def _epoch(ts: datetime | None) -> float | None:
    return None if ts is None else ts.timestamp()


def _state(
    pred: Prediction | None, baseline_s: float | None, rebuild: bool
) -> tuple[dict[str, Any], float | None]:
    """The totals to continue from, and the time of the first reading they include."""
    # A learned correction's suffix ("+wl-learned-2") does not change the totals.
    version = None if pred is None else pred.model_version.split("+")[0]
    if rebuild or pred is None or version not in (OIL_VERSION, BRAKE_VERSION):
        return {}, None
    if pred.evidence.get("baseline_s") != baseline_s:
        return {}, None
    state: dict[str, Any] = pred.evidence.get("state") or {}
    # Predictions from before first_reading_s was kept: the service date is the best guess.
    first = pred.evidence.get("first_reading_s", baseline_s)
    return state, None if first is None else float(first)


def _first(current: float | None, *series: Series) -> float | None:
    if current is not None:
        return current
    starts = [float(s[0][0]) for s in series if s[0].size]
    return min(starts) if starts else None


def _holds_shard(conn: psycopg.Connection, vehicle_id: int, owner: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM evaluator_shards WHERE owner = %s AND shard = %s",
        (owner, vehicle_id % shard_count(conn)),
    ).fetchone()
    return row is not None


def _trouble_codes(conn: psycopg.Connection, vehicle_id: int) -> None:
    """Turn the vehicle's current trouble codes into alerts if they changed since last time."""
    row = conn.execute(
        "SELECT d.updated_at, d.stored, d.pending, d.permanent, m.updated_at "
        "FROM vehicle_dtcs d LEFT JOIN evaluator_dtc_marks m USING (vehicle_id) "
        "WHERE d.vehicle_id = %s",
        (vehicle_id,),
    ).fetchone()
    if row is None or row[0] == row[4]:
        return
    trouble_code_alerts(
        conn, vehicle_id=vehicle_id, stored=row[1], pending=row[2], permanent=row[3]
    )
    conn.execute(
        "INSERT INTO evaluator_dtc_marks (vehicle_id, updated_at) VALUES (%s, %s) "
        "ON CONFLICT (vehicle_id) DO UPDATE SET updated_at = EXCLUDED.updated_at",
        (vehicle_id, row[0]),
    )


def _unobserved_km(
    conn: psycopg.Connection, vehicle_id: int, since_s: float | None, at_km: float | None
) -> float:
    """Km between a service (at odometer ``at_km``) and the first odometer reading after it."""
    if at_km is None:
        return 0.0
    row = conn.execute(
        "SELECT odometer_km FROM readings WHERE vehicle_id = %s AND odometer_km IS NOT NULL "
        "AND time >= COALESCE(to_timestamp(%s), '-infinity') ORDER BY time LIMIT 1",
        (vehicle_id, since_s),
    ).fetchone()
    return 0.0 if row is None else max(0.0, float(row[0]) - float(at_km))


def _read(
    conn: psycopg.Connection, vehicle_id: int, since_s: float | None, now: datetime, limit: int
) -> np.ndarray:
    """Rows (epoch s, then one column per ``READ_SIGNALS``, NaN where not sampled), by time."""
    rows = conn.execute(_READ_SQL, (vehicle_id, now, since_s, since_s, limit)).fetchall()
    return np.array(rows, dtype=np.float64).reshape(-1, 1 + len(READ_SIGNALS))


def _series(rows: np.ndarray, signal_id: int, since_s: float | None) -> Series:
    column = rows[:, 1 + READ_SIGNALS.index(signal_id)]
    mask = ~np.isnan(column)
    if since_s is not None:
        mask &= rows[:, 0] > since_s
    return rows[mask, 0], column[mask]


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
) -> list[Prediction]:
    """Advance both models with the vehicle's new readings, and turn changed trouble codes
    into alerts; return the predictions written.

    With ``lease_owner``, nothing happens unless that evaluator holds the vehicle's shard.
    With ``learned_models`` (``learned.load_models``) the oil life is the learned correction's.
    """
    with conn.transaction():
        # Row lock: two evaluators on one vehicle would both continue from the same totals.
        vehicle = conn.execute(
            "SELECT mass_kg, oil_changed_at, pads_measured_at, pad_front_mm, pad_rear_mm, "
            "oil_changed_odometer_km, pads_measured_odometer_km, fuel_type "
            "FROM vehicles WHERE vehicle_id = %s FOR UPDATE",
            (vehicle_id,),
        ).fetchone()
        if vehicle is None:
            raise VehicleNotFound(vehicle_id)
        if lease_owner is not None and not _holds_shard(conn, vehicle_id, lease_owner):
            log.info("vehicle %s: shard no longer held by %s, skipped", vehicle_id, lease_owner)
            return []
        _trouble_codes(conn, vehicle_id)
        mass_kg, oil_base, pad_base = float(vehicle[0]), _epoch(vehicle[1]), _epoch(vehicle[2])
        has_engine = vehicle[7] != "electric"
        friction_share = brakes.REGEN_FRICTION_SHARE.get(vehicle[7], 1.0)
        latest = latest_predictions(conn=conn, vehicle_id=vehicle_id)
        oil_state, oil_first = _state(latest.get(OIL_MODEL), oil_base, rebuild)
        brake_state, brake_first = _state(latest.get(BRAKE_MODEL), pad_base, rebuild)
        oil_t = OilTotals.from_json(oil_state)
        brake_t = BrakeTotals.from_json(brake_state)
        if oil_t.through_s is None:
            oil_t.unobserved_km = _unobserved_km(conn, vehicle_id, oil_base, vehicle[5])
        if brake_t.through_s is None:
            brake_t.unobserved_km = _unobserved_km(conn, vehicle_id, pad_base, vehicle[6])
        oil_since = oil_t.through_s if oil_t.through_s is not None else oil_base
        brake_since = brake_t.through_s if brake_t.through_s is not None else pad_base
        oil_new = brake_new = False
        cursor = None if oil_since is None or brake_since is None else min(oil_since, brake_since)
        settled_s = (now - timedelta(seconds=settle_s)).timestamp()
        while True:
            rows = _read(conn, vehicle_id, cursor, now, PAGE_ROWS)
            full = len(rows) == PAGE_ROWS
            # Hold back the newest timestamp group: on a full page because the next page
            # continues with ``time > cursor``, otherwise until it has settled.
            if rows.size and (full or rows[-1, 0] > settled_s):
                held = rows[rows[:, 0] < rows[-1, 0]]
                rows = held if held.size or not full else rows  # a page of one instant: take it
            if rows.size == 0:
                break
            cursor = float(rows[-1, 0])
            oil_series = {sid: _series(rows, sid, oil_since) for sid in OIL_SIGNALS}
            # A battery-electric car has no engine oil to model.
            if has_engine and any(series[0].size for series in oil_series.values()):
                oil_first = _first(oil_first, *oil_series.values())
                oil_since = max(float(s[0][-1]) for s in oil_series.values() if s[0].size)
                oil_t = advance_oil(
                    oil_t,
                    rpm=oil_series[RPM],
                    oil_temp=oil_series[OIL_TEMP],
                    coolant_temp=oil_series[COOLANT],
                    speed=oil_series[SPEED],
                    through_s=oil_since,
                    load=oil_series[LOAD],
                    ambient=oil_series[AMBIENT],
                )
                oil_new = True
            speed = _series(rows, SPEED, brake_since)
            if speed[0].size:
                brake_first = _first(brake_first, speed)
                brake_since = float(speed[0][-1])
                brake_t = advance_brakes(
                    brake_t,
                    speed=speed,
                    mass_kg=mass_kg,
                    through_s=brake_since,
                    friction_share=friction_share,
                    engine_braking=vehicle[7] in brakes.ENGINE_BRAKING_FUELS,
                    ambient=_series(rows, AMBIENT, brake_since),
                )
                brake_new = True
            if not full:
                break

        written: list[Prediction] = []
        if oil_new:
            written.append(
                oil_prediction(
                    conn=conn,
                    vehicle_id=vehicle_id,
                    now=now,
                    t=oil_t,
                    baseline_s=oil_base,
                    alert_pct=oil_alert_pct,
                    first_s=oil_first,
                    learned_models=learned_models,
                )
            )
        if brake_new:
            measured = (float(vehicle[3]), float(vehicle[4]))
            written.append(
                brake_prediction(
                    conn=conn,
                    vehicle_id=vehicle_id,
                    now=now,
                    t=brake_t,
                    baseline_s=pad_base,
                    measured_mm=measured,
                    alert_mm=pad_alert_mm,
                    first_s=brake_first,
                )
            )
        return written


def pending_vehicles(
    *,
    conn: psycopg.Connection,
    limit: int = 1000,
    shards: Sequence[int] | None = None,
) -> list[int]:
    """Vehicles whose state changed since their latest prediction, or whose trouble codes
    changed since they were last evaluated; only those of ``shards`` if given."""
    rows = conn.execute(
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
    ).fetchall()
    return [int(r[0]) for r in rows]


def evaluate_pending(
    *,
    conn: psycopg.Connection,
    now: datetime,
    limit: int = 1000,
    shards: Sequence[int] | None = None,
    lease_owner: str | None = None,
    **thresholds: Any,
) -> list[int]:
    """Evaluate every pending vehicle (``pending_vehicles``); return their ids.

    ``conn`` should be in autocommit mode so each vehicle commits on its own.
    """
    ids = []
    for vehicle_id in pending_vehicles(conn=conn, limit=limit, shards=shards):
        try:
            evaluate_vehicle(
                conn=conn, vehicle_id=vehicle_id, now=now, lease_owner=lease_owner, **thresholds
            )
        except (PredictiveError, psycopg.DataError) as exc:
            # One vehicle's bad data must not stop the others from being evaluated.
            log.warning("evaluating vehicle %s failed: %s", vehicle_id, exc)
            continue
        ids.append(vehicle_id)
    return ids
