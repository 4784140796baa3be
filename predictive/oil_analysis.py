# SPDX-License-Identifier: MIT
"""Used-oil analyses: a lab's measure of how much of a vehicle's oil life was gone.

The fleet oil model (``learned.OilCorrection``) cannot know how fast one engine ages its oil
compared with the fleet: tolerances and oil batches differ and nothing on OBD shows it. Each
analysis is one look at that factor (``learned.vehicle_calibration``):

- of the oil drained at a change: the label of that interval, kept for the vehicle's life;
- of a sample taken part-way through an interval: counted for that interval only, since the
  drained oil's analysis at its end says the same more completely.

``record`` stores an analysis with the newest oil prediction at or before the sample (the
evaluator runs as data arrives, so it is at most one pass old) and, when that prediction is a
learned one, the fleet model's predicted consumption there; it resolves the vehicle's open
``oil_sample`` alert. The evaluator reads them with the vehicle (``OBSERVATIONS_SQL``): without
a learned prediction to compare with, an analysis does not calibrate the model.

The newest part-way sample of the current interval is also the oil life's anchor
(``ANCHOR_SQL``, ``OilAnchor``): a lab's measure of the oil in the engine is better evidence
than any model of it, so the oil life is the life it measured less what the model says was
consumed since (from the totals of the prediction it was compared with). ``lab_results``
records an analysis and publishes that oil life at once.

Errors: ``OilAnalysisError`` (a ``ValueError``) for an unknown vehicle or impossible figures:
a life or sd out of range, a sample dated in the future, a part-way sample dated before the
last oil change, an odometer below the car's last known reading at the sample's time
(``db.registry.last_odometer``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql

# ``rows.record``: this module's own ``record`` stores an analysis.
from db import rows
from db.registry import odometer_below
from predictive import learned
from predictive.health import OIL_MODEL

# A lab's figure for the life left, from base number, oxidation and viscosity, is good to about
# this many percentage points (one standard deviation) unless the lab says otherwise.
DEFAULT_SD_PCT = 5.0
# How far after now a sample may be dated: a lab's or a phone's clock a little ahead.
CLOCK_SLACK = timedelta(minutes=10)

# The observations the evaluator uses, as one column of the ``vehicles`` row: measured and
# predicted consumption and the lab's sd of every drained-oil analysis, and of the samples
# taken since the last change.
OBSERVATIONS_SQL = (
    "(SELECT array_agg(ARRAY[100.0 - a.life_left_pct, a.predicted_consumed_pct, a.sd_pct] "
    "ORDER BY a.sampled_at) FROM oil_analyses a WHERE a.vehicle_id = vehicles.vehicle_id "
    "AND a.predicted_consumed_pct IS NOT NULL AND (a.drained OR a.sampled_at > "
    "coalesce(vehicles.oil_changed_at, '-infinity'::timestamptz)))"
)

# Whether the vehicle was asked for a sample since its last change (the request is made once
# per interval: drawing the sample resolves it, and the lab's result may take days).
SAMPLE_ASKED_SQL = (
    "EXISTS (SELECT 1 FROM alerts a WHERE a.vehicle_id = vehicles.vehicle_id "
    "AND a.kind = 'oil_sample' AND a.created_at > "
    "coalesce(vehicles.oil_changed_at, '-infinity'::timestamptz))"
)

# The oil life's anchor, as one column of the ``vehicles`` row: the newest part-way sample
# since the last change, with the totals of the oil prediction it was compared with (null when
# none was made in this interval before the sample: nothing counted as consumed before it).
ANCHOR_SQL = (
    "(SELECT jsonb_build_object('analysis_id', a.analysis_id, 'life_left_pct', a.life_left_pct, "
    "'sd_pct', a.sd_pct, 'sampled_s', extract(epoch FROM a.sampled_at)::float8, "
    "'calibrates', a.predicted_consumed_pct IS NOT NULL, 'version', p.model_version, "
    "'state', p.evidence->'state') FROM oil_analyses a LEFT JOIN predictions p "
    "ON p.vehicle_id = a.vehicle_id AND p.model = 'oil_life' "
    "AND p.prediction_id = a.prediction_id WHERE a.vehicle_id = vehicles.vehicle_id "
    "AND NOT a.drained AND a.sampled_at > "
    "coalesce(vehicles.oil_changed_at, '-infinity'::timestamptz) "
    "ORDER BY a.sampled_at DESC, a.analysis_id DESC LIMIT 1)"
)

COLUMNS = (
    "analysis_id, vehicle_id, sampled_at, drained, life_left_pct, sd_pct, odometer_km, "
    "predicted_consumed_pct, prediction_id, lab, recorded_by, created_at"
)


class OilAnalysisError(ValueError):
    """An analysis that cannot be recorded: unknown vehicle or impossible figures."""


@dataclass(frozen=True)
class OilAnalysis:
    """One stored analysis (``COLUMNS``)."""

    analysis_id: int
    vehicle_id: int
    sampled_at: datetime
    drained: bool
    life_left_pct: float
    sd_pct: float
    odometer_km: float | None
    predicted_consumed_pct: float | None
    prediction_id: int | None
    lab: str | None
    recorded_by: str | None
    created_at: datetime


@dataclass(frozen=True)
class OilAnchor:
    """The newest part-way analysis of the current interval (``ANCHOR_SQL``)."""

    analysis_id: int
    life_left_pct: float
    sd_pct: float
    sampled_s: float
    calibrates: bool  # also one of the learned model's observations
    version: str | None  # the model version of the prediction compared with, if any
    state: dict[str, Any] | None  # that prediction's oil totals


def anchor(column: dict[str, Any] | None) -> OilAnchor | None:
    """The ``ANCHOR_SQL`` column as an ``OilAnchor`` (None: no part-way sample)."""
    if column is None:
        return None
    return OilAnchor(
        int(column["analysis_id"]),
        float(column["life_left_pct"]),
        float(column["sd_pct"]),
        float(column["sampled_s"]),
        bool(column["calibrates"]),
        column.get("version"),
        column.get("state"),
    )


def observations(column: Any) -> tuple[learned.OilObservation, ...]:
    """The ``OBSERVATIONS_SQL`` column as the model's observations."""
    return tuple(learned.OilObservation(float(m), float(p), float(sd)) for m, p, sd in column or ())


@dataclass(frozen=True, slots=True)
class _FleetPrediction:
    """The newest oil prediction at or before a sample (``_fleet_prediction``)."""

    prediction_id: int
    fleet_consumed_pct: float | None  # learned predictions only
    baseline_s: float | None  # the oil change of its interval


def _fleet_prediction(
    conn: psycopg.Connection,
    vehicle_id: int,
    sampled_at: datetime,
    drained: bool,
    baseline_s: float | None,
) -> tuple[int | None, float | None]:
    """The newest oil prediction at or before the sample, and its fleet median consumption
    (learned predictions only; None on physics); a part-way sample only compares with a
    prediction of the current interval (whose oil change is ``baseline_s``)."""
    found = rows.record(
        conn,
        _FleetPrediction,
        "SELECT prediction_id, "
        "(evidence->'learned'->>'fleet_consumed_pct')::float8 AS fleet_consumed_pct, "
        "(evidence->>'baseline_s')::float8 AS baseline_s FROM predictions "
        "WHERE vehicle_id = %s AND model = %s AND time <= %s ORDER BY time DESC LIMIT 1",
        (vehicle_id, OIL_MODEL, sampled_at),
    )
    if found is None or (not drained and found.baseline_s != baseline_s):
        return None, None
    consumed = found.fleet_consumed_pct
    return int(found.prediction_id), None if consumed is None else float(consumed)


def _check_plausible(
    conn: psycopg.Connection,
    *,
    vehicle_id: int,
    sampled_at: datetime,
    drained: bool,
    odometer_km: float | None,
    oil_changed_at: datetime | None,
    now: datetime,
) -> None:
    """OilAnalysisError for a sample that cannot be true: taken in the future (beyond
    ``CLOCK_SLACK``), a part-way sample of the current oil taken before it was put in, an
    odometer below what the car had already shown when the sample was taken."""
    if sampled_at > now + CLOCK_SLACK:
        raise OilAnalysisError(
            f"the sample is dated {sampled_at.isoformat(timespec='seconds')}, after now "
            f"({now.isoformat(timespec='seconds')}): give the time it was drawn, with its "
            "time zone"
        )
    if not drained and oil_changed_at is not None and sampled_at < oil_changed_at:
        raise OilAnalysisError(
            f"the sample is dated {sampled_at.isoformat(timespec='seconds')}, before the "
            f"last oil change ({oil_changed_at.isoformat(timespec='seconds')}), and a sample "
            "of the current oil is drawn after it: check its date, or record it as the "
            "drained oil of that change (drained)"
        )
    if odometer_km is None:
        return
    last = odometer_below(conn, vehicle_id=vehicle_id, odometer_km=odometer_km, at=sampled_at)
    if last is not None:
        raise OilAnalysisError(
            f"odometer {odometer_km:,.1f} km is below the {last:,.1f} km the car had already "
            "shown when the sample was drawn: check the reading on the lab's report, or leave "
            "it out"
        )


_INSERT_SQL = sql.SQL(
    "INSERT INTO oil_analyses (vehicle_id, sampled_at, drained, life_left_pct, sd_pct, "
    "odometer_km, predicted_consumed_pct, prediction_id, lab, recorded_by, created_at) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, COALESCE(%s, now())) "
    "RETURNING {columns}"
).format(columns=sql.SQL(COLUMNS))


def record(
    conn: psycopg.Connection,
    *,
    vehicle_id: int,
    sampled_at: datetime,
    life_left_pct: float,
    drained: bool,
    sd_pct: float = DEFAULT_SD_PCT,
    odometer_km: float | None = None,
    lab: str | None = None,
    recorded_by: str | None = None,
    now: datetime | None = None,
) -> OilAnalysis:
    """Store one analysis with the fleet model's prediction at that point; resolve the
    vehicle's open oil-sample alert (at ``now``, default the database's clock)."""
    if not 0.0 <= life_left_pct <= 100.0:
        raise OilAnalysisError(f"life left must be 0-100 %, got {life_left_pct}")
    if not 0.0 <= sd_pct <= 50.0:
        raise OilAnalysisError(f"the lab's uncertainty must be 0-50 points, got {sd_pct}")
    vehicle = rows.a_dict(
        conn,
        "SELECT extract(epoch FROM oil_changed_at)::float8 AS oil_base_s, oil_changed_at, "
        "COALESCE(%s, now()) AS now FROM vehicles WHERE vehicle_id = %s",
        (now, vehicle_id),
    )
    if vehicle is None:
        raise OilAnalysisError(f"no vehicle {vehicle_id}")
    _check_plausible(
        conn,
        vehicle_id=vehicle_id,
        sampled_at=sampled_at,
        drained=drained,
        odometer_km=odometer_km,
        oil_changed_at=vehicle["oil_changed_at"],
        now=vehicle["now"],
    )
    prediction_id, predicted = _fleet_prediction(
        conn, vehicle_id, sampled_at, drained, vehicle["oil_base_s"]
    )
    with conn.transaction():
        stored = rows.record(
            conn,
            OilAnalysis,
            _INSERT_SQL,
            (
                vehicle_id,
                sampled_at,
                drained,
                life_left_pct,
                sd_pct,
                odometer_km,
                predicted,
                prediction_id,
                lab,
                recorded_by,
                now,
            ),
        )
        conn.execute(
            "UPDATE alerts SET status = 'resolved', resolved_at = COALESCE(%s, now()) "
            "WHERE vehicle_id = %s AND kind = 'oil_sample' AND status <> 'resolved'",
            (now, vehicle_id),
        )
    assert stored is not None
    return stored
