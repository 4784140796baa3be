# SPDX-License-Identifier: MIT
"""One vehicle's evaluation, apart from how its rows are fetched and its predictions stored.

Both evaluators use it: ``evaluator.evaluate_vehicle`` (a vehicle at a time, a few queries
each) and ``bulk.evaluate_vehicles`` (thousands of vehicles in a handful of queries). Whatever
decides a vehicle's totals and outputs lives here once, so the two cannot drift apart:

* ``VehicleRow``: the ``vehicles`` columns the models need (``VEHICLE_COLUMNS``, read by
  name with ``VEHICLE_ROW``);
* ``VehiclePass.begin``: the totals to continue from, given the latest predictions;
* ``hold_back`` and ``VehiclePass.advance``: integrate a page of readings (the rows of
  ``READ_SIGNALS``, as the ``readings`` table holds them);
* ``VehiclePass.publications``: the predictions (and alerts) to store.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import psycopg
from psycopg import sql
from psycopg.rows import kwargs_row

from predictive import brakes
from predictive.health import BRAKE_MODEL, OIL_MODEL, Prediction
from predictive.learned import LearnedModels, OilObservation
from predictive.mass import VehicleMass, vehicle_mass
from predictive.oil_analysis import (
    ANCHOR_SQL,
    OBSERVATIONS_SQL,
    SAMPLE_ASKED_SQL,
    OilAnchor,
    anchor,
    observations,
)
from predictive.publish import (
    BRAKE_VERSION,
    OIL_VERSION,
    Publication,
    brake_publication,
    oil_publication,
    trouble_code_alerts,
)
from predictive.totals import BrakeTotals, OilTotals, Series, advance_brakes, advance_oil
from telemetry.signals import by_id, by_name


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
# Every signal the models use, in the order a page of rows holds their columns (after the
# time in epoch seconds). A row with none of them is no reading for the models.
READ_SIGNALS = OIL_SIGNALS
READ_COLUMNS = tuple(_column(sid) for sid in READ_SIGNALS)

# How long the newest timestamp group is held back (see ``hold_back`` and the evaluator's
# docstring). Ingest commits a batch's samples together within a second or two; a minute
# leaves ample margin.
SETTLE_S = 60.0

# The ``vehicles`` columns of a ``VehicleRow``, named as ``VehicleRow.from_columns`` takes them.
VEHICLE_COLUMNS = sql.SQL(", ").join(
    [
        sql.SQL(
            "vehicle_id, mass_kg, body_type, oil_changed_at, pads_measured_at, pad_front_mm, "
            "pad_rear_mm, oil_changed_odometer_km, pads_measured_odometer_km, fuel_type"
        ),
        sql.SQL("{} AS oil_observations").format(sql.SQL(OBSERVATIONS_SQL)),
        sql.SQL("{} AS oil_sample_asked").format(sql.SQL(SAMPLE_ASKED_SQL)),
        sql.SQL("{} AS oil_anchor").format(sql.SQL(ANCHOR_SQL)),
    ]
)


def epoch(ts: datetime | None) -> float | None:
    """Epoch seconds of a timestamp, None for None."""
    return None if ts is None else ts.timestamp()


@dataclass(frozen=True)
class VehicleRow:
    """What the models need of a ``vehicles`` row (selected with ``VEHICLE_COLUMNS``).

    ``mass`` is what the registration says of the car's mass (``predictive.mass``: the
    registered mass, else its body type's default, else the unknown default), the same
    function the model lab calls.
    """

    vehicle_id: int
    mass: VehicleMass
    oil_base_s: float | None
    pad_base_s: float | None
    pad_front_mm: float
    pad_rear_mm: float
    oil_changed_km: float | None
    pads_measured_km: float | None
    fuel_type: str
    oil_observations: tuple[OilObservation, ...] = ()  # its used-oil analyses (oil_analysis)
    oil_sample_asked: bool = False  # a sample was asked for since the last change
    oil_anchor: OilAnchor | None = None  # the newest part-way analysis since the last change

    @classmethod
    def from_columns(
        cls,
        *,
        vehicle_id: int,
        mass_kg: float | None,
        body_type: str | None,
        oil_changed_at: datetime | None,
        pads_measured_at: datetime | None,
        pad_front_mm: float,
        pad_rear_mm: float,
        oil_changed_odometer_km: float | None,
        pads_measured_odometer_km: float | None,
        fuel_type: str,
        oil_observations: Any,
        oil_sample_asked: bool | None,
        oil_anchor: dict[str, Any] | None,
    ) -> VehicleRow:
        """From the columns of ``VEHICLE_COLUMNS``, by name."""
        return cls(
            vehicle_id=int(vehicle_id),
            mass=vehicle_mass(registered_kg=mass_kg, body_type=body_type, fuel_type=fuel_type),
            oil_base_s=epoch(oil_changed_at),
            pad_base_s=epoch(pads_measured_at),
            pad_front_mm=float(pad_front_mm),
            pad_rear_mm=float(pad_rear_mm),
            oil_changed_km=_km(oil_changed_odometer_km),
            pads_measured_km=_km(pads_measured_odometer_km),
            fuel_type=fuel_type,
            oil_observations=observations(oil_observations),
            oil_sample_asked=bool(oil_sample_asked),
            oil_anchor=anchor(oil_anchor),
        )


def _km(value: float | None) -> float | None:
    return None if value is None else float(value)


# Reads rows selected with ``VEHICLE_COLUMNS`` by name (a missing or extra column fails).
VEHICLE_ROW = kwargs_row(VehicleRow.from_columns)
_VEHICLE_SQL = sql.SQL("SELECT {columns} FROM vehicles WHERE vehicle_id = %s").format(
    columns=VEHICLE_COLUMNS
)


def read_vehicle(
    conn: psycopg.Connection, vehicle_id: int, *, for_update: bool = False
) -> VehicleRow | None:
    """The vehicle's ``VehicleRow``, its row locked with ``for_update``; None when unknown."""
    query = _VEHICLE_SQL
    if for_update:
        query = sql.SQL("{} FOR UPDATE").format(_VEHICLE_SQL)
    with conn.cursor(row_factory=VEHICLE_ROW) as cur:
        return cur.execute(query, (vehicle_id,)).fetchone()


@dataclass(frozen=True, slots=True)
class ChangedCodes:
    """A vehicle's trouble codes as last reported (``vehicle_dtcs``)."""

    vehicle_id: int
    updated_at: datetime
    stored: list[str]
    pending: list[str]
    permanent: list[str]


def unobserved_km(first_odometer_km: float | None, at_km: float | None) -> float:
    """Km between a service at odometer ``at_km`` and the first odometer reading after it."""
    if at_km is None or first_odometer_km is None:
        return 0.0
    return max(0.0, float(first_odometer_km) - float(at_km))


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


# The mass every brake prediction was integrated with before the registration said any.
_FORMER_DEFAULT_KG = 1400.0


def _mass_of(pred: Prediction) -> float:
    """The mass a brake prediction's totals were integrated with."""
    mass = pred.evidence.get("mass_kg")
    return round(float(_FORMER_DEFAULT_KG if mass is None else mass), 1)


def _first(current: float | None, *series: Series) -> float | None:
    if current is not None:
        return current
    starts = [float(s[0][0]) for s in series if s[0].size]
    return min(starts) if starts else None


def _series(rows: np.ndarray, signal_id: int, since_s: float | None) -> Series:
    column = rows[:, 1 + READ_SIGNALS.index(signal_id)]
    mask = ~np.isnan(column)
    if since_s is not None:
        mask &= rows[:, 0] > since_s
    return rows[mask, 0], column[mask]


def hold_back(rows: np.ndarray, *, full: bool, settled_s: float) -> np.ndarray:
    """A page of rows without its newest timestamp group where that must wait.

    On a full page the next page continues with ``time > cursor``, so the newest instant is
    left for it; otherwise it waits until it is older than ``settled_s`` (more samples of the
    same instant may still be on their way). A full page of one instant is taken whole.
    """
    if rows.size and (full or rows[-1, 0] > settled_s):
        held = rows[rows[:, 0] < rows[-1, 0]]
        return held if held.size or not full else rows
    return rows


@dataclass
class VehiclePass:
    """One vehicle's totals while its new readings are integrated, page by page."""

    vehicle: VehicleRow
    oil: OilTotals
    brake: BrakeTotals
    oil_first: float | None
    brake_first: float | None
    oil_since: float | None = None
    brake_since: float | None = None
    oil_new: bool = False
    brake_new: bool = False

    @classmethod
    def begin(
        cls, vehicle: VehicleRow, latest: Mapping[str, Prediction], *, rebuild: bool = False
    ) -> VehiclePass:
        """Continue from the latest predictions' totals (or from the last service)."""
        oil_state, oil_first = _state(latest.get(OIL_MODEL), vehicle.oil_base_s, rebuild)
        brake = latest.get(BRAKE_MODEL)
        # Totals integrated with another mass (the registration changed) start afresh.
        remassed = brake is not None and _mass_of(brake) != round(vehicle.mass.mass_kg, 1)
        brake_state, brake_first = _state(brake, vehicle.pad_base_s, rebuild or remassed)
        return cls(
            vehicle,
            OilTotals.from_json(oil_state),
            BrakeTotals.from_json(brake_state),
            oil_first,
            brake_first,
        )

    def needs_unobserved(self) -> tuple[bool, bool]:
        """Whether the oil and the brake model start afresh, after a service at a known
        odometer reading: their km before the first reading must be looked up."""
        return (
            self.oil.through_s is None and self.vehicle.oil_changed_km is not None,
            self.brake.through_s is None and self.vehicle.pads_measured_km is not None,
        )

    def start(self, oil_unobserved_km: float, brake_unobserved_km: float) -> float | None:
        """Set the km before the first reading (where a model starts afresh); return the time
        after which readings are new to either model (None: all of them)."""
        if self.oil.through_s is None:
            self.oil.unobserved_km = oil_unobserved_km
        if self.brake.through_s is None:
            self.brake.unobserved_km = brake_unobserved_km
        oil_through, brake_through = self.oil.through_s, self.brake.through_s
        self.oil_since = oil_through if oil_through is not None else self.vehicle.oil_base_s
        self.brake_since = brake_through if brake_through is not None else self.vehicle.pad_base_s
        if self.vehicle.fuel_type == "electric":
            # No engine oil to model: its cursor must not make every pass reread old rows.
            return self.brake_since
        if self.oil_since is None or self.brake_since is None:
            return None
        return min(self.oil_since, self.brake_since)

    def advance(self, rows: np.ndarray) -> None:
        """Integrate a page of rows (epoch s, then ``READ_SIGNALS``; NaN where not sampled)."""
        oil_series = {sid: _series(rows, sid, self.oil_since) for sid in OIL_SIGNALS}
        # A battery-electric car has no engine oil to model.
        has_engine = self.vehicle.fuel_type != "electric"
        if has_engine and any(series[0].size for series in oil_series.values()):
            self.oil_first = _first(self.oil_first, *oil_series.values())
            self.oil_since = max(float(s[0][-1]) for s in oil_series.values() if s[0].size)
            self.oil = advance_oil(
                self.oil,
                rpm=oil_series[RPM],
                oil_temp=oil_series[OIL_TEMP],
                coolant_temp=oil_series[COOLANT],
                speed=oil_series[SPEED],
                through_s=self.oil_since,
                load=oil_series[LOAD],
                ambient=oil_series[AMBIENT],
            )
            self.oil_new = True
        speed = _series(rows, SPEED, self.brake_since)
        if speed[0].size:
            self.brake_first = _first(self.brake_first, speed)
            self.brake_since = float(speed[0][-1])
            self.brake = advance_brakes(
                self.brake,
                speed=speed,
                mass_kg=self.vehicle.mass.mass_kg,
                through_s=self.brake_since,
                friction_share=brakes.REGEN_FRICTION_SHARE.get(self.vehicle.fuel_type, 1.0),
                engine_braking=self.vehicle.fuel_type in brakes.ENGINE_BRAKING_FUELS,
                ambient=_series(rows, AMBIENT, self.brake_since),
            )
            self.brake_new = True

    def publications(
        self,
        *,
        now: datetime,
        oil_alert_pct: float,
        pad_alert_mm: float,
        learned_models: LearnedModels | None = None,
        also: Collection[str] = (),
    ) -> list[Publication]:
        """The predictions of the models that saw new readings or are named in ``also``, oil
        first (with the learned oil correction when its artifacts are given)."""
        out = []
        if self.oil_new or (OIL_MODEL in also and self.vehicle.fuel_type != "electric"):
            out.append(
                oil_publication(
                    now=now,
                    t=self.oil,
                    baseline_s=self.vehicle.oil_base_s,
                    alert_pct=oil_alert_pct,
                    first_s=self.oil_first,
                    learned_models=learned_models,
                    observations=self.vehicle.oil_observations,
                    sample_asked=self.vehicle.oil_sample_asked,
                    anchor=self.vehicle.oil_anchor,
                )
            )
        if self.brake_new or BRAKE_MODEL in also:
            out.append(
                brake_publication(
                    now=now,
                    t=self.brake,
                    baseline_s=self.vehicle.pad_base_s,
                    measured_mm=(self.vehicle.pad_front_mm, self.vehicle.pad_rear_mm),
                    alert_mm=pad_alert_mm,
                    first_s=self.brake_first,
                    vehicle_mass=self.vehicle.mass,
                )
            )
        return out


def codes_changed(conn: psycopg.Connection, codes: ChangedCodes) -> None:
    """Alerts for a vehicle's changed trouble codes, and the mark that they were evaluated."""
    trouble_code_alerts(
        conn,
        vehicle_id=codes.vehicle_id,
        stored=codes.stored,
        pending=codes.pending,
        permanent=codes.permanent,
    )
    conn.execute(
        "INSERT INTO evaluator_dtc_marks (vehicle_id, updated_at) VALUES (%s, %s) "
        "ON CONFLICT (vehicle_id) DO UPDATE SET updated_at = EXCLUDED.updated_at",
        (codes.vehicle_id, codes.updated_at),
    )
