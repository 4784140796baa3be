# SPDX-License-Identifier: MIT
"""A simulated fleet's drives as the models see them, beside the simulator's hidden truth.

``simulate`` drives one side of a seeded vehicle split (training or held-out) with
``FleetSim`` and logs, per trip, what the models see (distance, braking energy,
``learned.oil_features``) next to the simulator's hidden truth (oil life and pad wear).
Driving does not depend on servicing, so every service policy is then replayed on the same
drives (``oil_replay``, ``pad_replay``): an oil change restarts the truth and the model from
that trip on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from modellab import observe
from modellab.registration import production_mass
from predictive import brake_heat, brakes, learned, oil, oil_temp

if TYPE_CHECKING:
    from firmware_sim.daily_driving import FleetMember
    from firmware_sim.vehicle_data import Trace
    from firmware_sim.wear_truth import TripPhysics, WearTruth

FloatArray = npt.NDArray[np.float64]
FIRST_DAY = dt.date(2026, 1, 5)
HELD_OUT_SHARE = 0.3


@dataclass
class VehicleLog:
    """One vehicle's trips: what the models see and the hidden truth, one row per trip."""

    vin: str
    kind: str
    profile: str
    mass_kg: float  # as production would know it (``registration.production_mass``)
    day: FloatArray  # trip end, days since FIRST_DAY
    km: FloatArray
    braking_mj: FloatArray
    stops: FloatArray
    oil_x: FloatArray  # (n, len(OIL_FEATURES))
    eff_mrevs: FloatArray  # the physics model's effective revolutions, millions
    oil_true_pct: FloatArray  # life consumed by the trip (and its start)
    pad_true_mm: FloatArray  # (n, 2) front, rear wear
    # oil_x from the estimated oil temperature (predictive.oil_temp), as for a car without
    # PID 0x5C; held-out side only.
    oil_x_est: FloatArray | None = None
    # A wear truth other than the simulator's own (``firmware_sim.wear_truth``): oil_true_pct
    # is then its per-trip dose and oil_channels its per-trip oil quantities, from which it
    # computes each fill's life (``oil_consumed_pct``).
    truth: WearTruth | None = None
    oil_channels: FloatArray | None = None  # (n, channels)
    seed: int = 0  # the vehicle's seed, for the truth's hidden draws
    # Which PIDs the car answers (``observe.PROFILES``), "clean" for the simulator's signals.
    make_profile: str = "clean"
    # The relative spread of mass_kg and where it came from (``predictive.mass``).
    mass_rel_sd: float = 0.0
    mass_source: str = "exact"

    @property
    def has_engine(self) -> bool:
        return self.kind != "electric"

    def oil_consumed_pct(self, start: int, stop: int | None = None, fill: int = 0) -> FloatArray:
        """True life consumed, in points, after each trip from ``start`` to ``stop`` of the oil
        put in just before trip ``start``, the vehicle's ``fill``-th change (0: enrollment)."""
        dose = self.oil_true_pct[start:stop]
        if self.truth is None:
            return np.cumsum(dose)
        from firmware_sim.wear_truth import OilFill

        channels = dose[:, None] if self.oil_channels is None else self.oil_channels[start:stop]
        return np.asarray(
            self.truth.oil_consumed_pct(
                OilFill(
                    vehicle_seed=self.seed,
                    number=fill,
                    start_day=float(self.day[start - 1]) if start else 0.0,
                    day=self.day[start:stop],
                    km=self.km[start:stop],
                    oil=channels,
                )
            ),
            dtype=np.float64,
        )


def split(n_vehicles: int, seed: int) -> tuple[list[int], list[int]]:
    """(training, held-out) fleet indices: a seeded shuffle, HELD_OUT_SHARE held out."""
    perm = np.random.default_rng([seed, 0x5917]).permutation(n_vehicles)
    n_held = max(1, round(HELD_OUT_SHARE * n_vehicles))
    return sorted(perm[n_held:].tolist()), sorted(perm[:n_held].tolist())


def simulate(
    n_vehicles: int,
    days: int,
    seed: int,
    side: str,
    on_day: Callable[[int], None] | None = None,
    truth: WearTruth | None = None,
    signals: str = "obd",
) -> list[VehicleLog]:
    """Drive one side ("train" or "held_out") of the seeded fleet for ``days`` days; the
    hidden wear is the simulator's own unless another ``truth`` is given.

    ``signals="obd"`` (the default) gives the models what production would have stored for
    each drive (``observe``: the agent's rates, OBD resolution, unanswered polls, gaps, the
    car's make profile) and computes their inputs with production's own running totals
    (``predictive.totals``); ``"clean"`` reads the simulator's 1 Hz floats directly."""
    from firmware_sim.daily_driving import make_fleet
    from firmware_sim.fleet_arrays import FleetSim
    from firmware_sim.truth import OIL_BUDGET_WEIGHTED_REVS
    from firmware_sim.wear_truth import SIMULATOR

    if truth is SIMULATOR:
        truth = None  # the built-in wear, read as it always was

    train_idx, held_idx = split(n_vehicles, seed)
    fleet = make_fleet(n_vehicles, seed=seed)
    members = [fleet[i] for i in (train_idx if side == "train" else held_idx)]
    for m in members:
        m.vehicle.service(oil_change=True, pads="both")  # enrollment: a known start
    rows: list[list[list[float]]] = [[] for _ in members]
    prev = [m.vehicle.truth.oil_weighted_revs for m in members]
    prev_pads = [(m.vehicle.truth.pad_front_mm, m.vehicle.truth.pad_rear_mm) for m in members]
    epoch = dt.datetime(FIRST_DAY.year, FIRST_DAY.month, FIRST_DAY.day, tzinfo=dt.UTC)
    nx = len(learned.OIL_FEATURES)
    estimate = side != "train"
    est_carry: list[tuple[float, float] | None] = [None for _ in members]
    channels: list[list[tuple[float, ...]]] = [[] for _ in members]
    sim = FleetSim(members, seed=seed)
    seen = [
        observe.ObservedVehicle(m.vehicle.spec, m.vehicle.seed, estimate)
        if signals == "obd"
        else None
        for m in members
    ]
    # The mass the models get is what production would know (the truth keeps the spec's).
    masses = [production_mass(m.vehicle.spec, m.vehicle.seed) for m in members]
    for d in range(days):
        for j, trace in sim.run_day(FIRST_DAY + dt.timedelta(days=d)):
            spec = members[j].vehicle.spec
            t, sig = trace.t_s, trace.signals
            speed = sig["speed_kmh"]
            hidden = trace.truth
            assert trace.start is not None
            end_d = ((trace.start - epoch).total_seconds() + float(t.size)) / 86400.0
            oil_pct = (hidden.oil_weighted_revs - prev[j]) / OIL_BUDGET_WEIGHTED_REVS * 100.0
            pads = (prev_pads[j][0] - hidden.pad_front_mm, prev_pads[j][1] - hidden.pad_rear_mm)
            if truth is not None:
                trip = trip_physics(members[j], trace, len(rows[j]), end_d, oil_pct, pads)
                dose = truth.trip(trip)
                channels[j].append(tuple(float(c) for c in dose.oil))
                oil_pct, pads = dose.oil[0], (dose.pad_front_mm, dose.pad_rear_mm)
            prev[j] = hidden.oil_weighted_revs
            prev_pads[j] = (hidden.pad_front_mm, hidden.pad_rear_mm)
            observed = seen[j]
            if observed is not None:
                seen_row, seen_est = observed.trip(trace, len(rows[j]))
                rows[j].append([end_d, *seen_row, oil_pct, *pads, *seen_est])
                continue
            # The pad model's energy, as the evaluator's totals count it (discs start each
            # trip at ambient: trips follow parking).
            wear_j, _ = brake_heat.wear_energy_j(
                t,
                speed,
                mass_kg=masses[j].mass_kg,
                engine_braking=spec.kind in brakes.ENGINE_BRAKING_FUELS,
                ambient_c=sig["ambient_temp_c"],
                friction_share=brakes.REGEN_FRICTION_SHARE.get(spec.kind, 1.0),
            )
            mj = float(wear_j.sum()) / 1e6
            x, eff, x_est = np.zeros(nx), 0.0, np.zeros(nx if estimate else 0)
            if spec.has_engine:
                rpm, temp = sig["engine_rpm"], sig["oil_temp_c"]
                x = learned.oil_features(rpm, temp, sig["engine_load_pct"], t)
                eff = float(oil.effective_revolutions(t, rpm, temp).sum()) / 1e6
                if estimate:
                    est, est_carry[j] = _estimated_oil_temp(
                        trace.start.timestamp() + t, sig, est_carry[j]
                    )
                    x_est = learned.oil_features(rpm, est, sig["engine_load_pct"], t)
            rows[j].append(
                [
                    end_d,
                    float(brakes.distance_km(t, speed).sum()),
                    mj,
                    float(np.count_nonzero((speed[1:] <= 0.0) & (speed[:-1] > 0.0))),
                    *x,
                    eff,
                    oil_pct,
                    *pads,
                    *x_est,
                ]
            )
        if on_day is not None:
            on_day(d)
    logs = []
    for m, r, ch, observed, mass in zip(members, rows, channels, seen, masses, strict=True):
        a = np.array(r, dtype=np.float64).reshape(-1, 4 + nx + 4 + (nx if estimate else 0))
        logs.append(
            VehicleLog(
                m.vehicle.spec.vin,
                m.vehicle.spec.kind,
                m.profile.name,
                mass.mass_kg,
                a[:, 0],
                a[:, 1],
                a[:, 2],
                a[:, 3],
                a[:, 4 : 4 + nx],
                a[:, 4 + nx],
                a[:, 5 + nx],
                a[:, 6 + nx : 8 + nx],
                a[:, 8 + nx : 8 + 2 * nx] if estimate else None,
                truth=truth,
                oil_channels=_channels(ch) if truth is not None else None,
                seed=m.vehicle.seed,
                make_profile="clean" if observed is None else observed.profile.name,
                mass_rel_sd=mass.rel_sd,
                mass_source=mass.source,
            )
        )
    return logs


def _channels(rows: list[tuple[float, ...]]) -> FloatArray:
    """Per-trip oil quantities as one (trips, channels) array (a truth keeps their count)."""
    width = max((len(r) for r in rows), default=1)
    return np.array([r + (0.0,) * (width - len(r)) for r in rows], dtype=np.float64).reshape(
        -1, width
    )


def trip_physics(
    member: FleetMember,
    trace: Trace,
    index: int,
    end_day: float,
    reference_oil_pct: float,
    reference_pad_mm: tuple[float, float],
) -> TripPhysics:
    """One simulated trip as a wear truth receives it (``firmware_sim.wear_truth``)."""
    from firmware_sim.wear_truth import TripPhysics

    spec, sig = member.vehicle.spec, trace.signals
    zeros = np.zeros(trace.t_s.size)
    ambient = sig["ambient_temp_c"]
    assert trace.start is not None
    return TripPhysics(
        vin=spec.vin,
        kind=spec.kind,
        vehicle_seed=member.vehicle.seed,
        trip_index=index,
        start=trace.start,
        day=end_day,
        mass_kg=spec.mass_kg,
        crr=spec.crr,
        cda_m2=spec.cda_m2,
        regen_max_w=spec.regen_max_w,
        t_s=trace.t_s,
        speed_kmh=sig["speed_kmh"],
        engine_rpm=sig.get("engine_rpm", zeros),
        engine_load_pct=sig.get("engine_load_pct", zeros),
        oil_temp_c=sig.get("oil_temp_c", ambient),
        coolant_temp_c=sig.get("coolant_temp_c", ambient),
        ambient_c=ambient,
        reference_oil_pct=float(reference_oil_pct),
        reference_pad_mm=(float(reference_pad_mm[0]), float(reference_pad_mm[1])),
    )


def _estimated_oil_temp(
    t_abs: FloatArray, sig: dict[str, FloatArray], carry: tuple[float, float] | None
) -> tuple[FloatArray, tuple[float, float]]:
    """Oil temperature of one trip estimated from coolant, load and ambient (never the
    simulator's oil temperature), continuing from the estimate at the previous trip's end
    (parked cooling across the stop); and the new carry."""
    rpm, coolant = sig["engine_rpm"], sig["coolant_temp_c"]
    load, ambient = sig["engine_load_pct"], sig["ambient_temp_c"]
    if carry is None:
        est = oil_temp.estimate_oil_temp_c(
            t_abs, rpm=rpm, coolant_c=coolant, load_pct=load, ambient_c=ambient
        )
    else:  # a leading sample at the previous trip's end, engine off: the stop cools the oil

        def lead(first: float, v: FloatArray) -> FloatArray:
            return np.concatenate(([first], v))

        est = oil_temp.estimate_oil_temp_c(
            lead(carry[0], t_abs),
            rpm=lead(0.0, rpm),
            coolant_c=lead(float(coolant[0]), coolant),
            load_pct=lead(0.0, load),
            ambient_c=lead(float(ambient[0]), ambient),
            initial_c=carry[1],
        )[1:]
    return est, (float(t_abs[-1]), float(est[-1]))
