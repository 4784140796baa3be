# SPDX-License-Identifier: MIT
"""Training and evaluation of the predictive models on a simulated fleet.

``simulate`` drives one side of a seeded vehicle split (training or held-out) with
``FleetSim`` and logs, per trip, what the models see (distance, braking energy,
``learned.oil_features``) next to the simulator's hidden truth (oil life and pad wear).
Driving does not depend on servicing, so every service policy is then replayed on the same
drives: an oil change restarts the truth and the model from that trip on. ``train`` fits the
learned models on the training side only; ``evaluate`` scores the held-out side.

Service policies (documented in predictive/README.md): at enrollment the car gets fresh oil
and new pads. The models' policy changes the oil when its alert is raised (the pessimistic
life left would run out within the lead at the car's own usage: ``predictive.alerting``;
variants alerting at a fixed ``OIL_DUE_PCT`` are reported beside it) and replaces the pads at
theirs (``PAD_DUE_MM``). Every drained oil is analysed by a lab (``OIL_LAB_SD_PCT``), and in a
car's first interval a sample once the fleet model says ``alerting.SAMPLE_AT_PCT`` is gone
(``OilLab``): those analyses calibrate the vehicle's factor. The shop measures the pads
at every oil change (cars without engine oil: every ``EV_INSPECTION_DAY`` days), and each
measurement recalibrates that vehicle's pad-wear coefficients.
Fixed intervals change the oil at N km or M days, whichever comes first.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import itertools
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from predictive import alerting, brake_heat, brakes, learned, oil, oil_temp, thresholds
from predictive.totals import RECENT_TAU_S

FloatArray = npt.NDArray[np.float64]
FIRST_DAY = dt.date(2026, 1, 5)
HELD_OUT_SHARE = 0.3
# Alert levels of predictive.health (oil "due soon", pads "due soon"), the true thresholds the
# alerts must precede, and what counts as an alert raised far too early.
OIL_DUE_PCT = thresholds.OIL_DUE_SOON_PCT
PAD_DUE_MM = thresholds.PAD_DUE_SOON_MM
OIL_THRESHOLD_PCT = 0.0
PAD_THRESHOLD_MM = brakes.MIN_PAD_MM
OIL_EARLY_ABOVE_PCT = 25.0
PAD_EARLY_ABOVE_MM = 4.5
LEAD_KM = alerting.LEAD_KM
LEAD_DAYS = alerting.LEAD_DAYS
INTERVALS = {"5000km_6mo": (5000.0, 182.5), "10000km_12mo": (10000.0, 365.0)}
TRAINING_INTERVAL = "5000km_6mo"
EV_INSPECTION_DAY = 182.5
NEW_PAD_MM = brakes.NEW_PAD_MM
PHYSICS_BUDGET_MREVS = 30.0  # predictive.oil.BUDGET_EFFECTIVE_REVS in millions
RECENT_TAU_DAYS = RECENT_TAU_S / 86400.0  # recent usage as the evaluator's running totals see it
# Used-oil analyses (``OilLab``): days from the sample to the lab's result, and the lab's
# error (one sd, percentage points of life) in the figures reported, with the wider errors
# the report also shows how the policy fares under.
LAB_DAYS = 5.0
OIL_LAB_SD_PCT = 3.0
OIL_LAB_SD_SENSITIVITY = (5.0, 8.0)


@dataclass
class VehicleLog:
    """One vehicle's trips: what the models see and the hidden truth, one row per trip."""

    vin: str
    kind: str
    profile: str
    mass_kg: float
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

    @property
    def has_engine(self) -> bool:
        return self.kind != "electric"


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
) -> list[VehicleLog]:
    """Drive one side ("train" or "held_out") of the seeded fleet for ``days`` days."""
    from firmware_sim.fleet import make_fleet
    from firmware_sim.fleetsim import FleetSim
    from firmware_sim.truth import OIL_BUDGET_WEIGHTED_REVS

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
    sim = FleetSim(members, seed=seed)
    for d in range(days):
        for j, trace in sim.run_day(FIRST_DAY + dt.timedelta(days=d)):
            spec = members[j].vehicle.spec
            t, sig = trace.t_s, trace.signals
            speed = sig["speed_kmh"]
            # The pad model's energy, as the evaluator's totals count it (discs start each
            # trip at ambient: trips follow parking).
            wear_j, _ = brake_heat.wear_energy_j(
                t,
                speed,
                mass_kg=spec.mass_kg,
                engine_braking=spec.kind in brakes.ENGINE_BRAKING_FUELS,
                ambient_c=sig["ambient_temp_c"],
                friction_share=brakes.REGEN_FRICTION_SHARE.get(spec.kind, 1.0),
            )
            mj = float(wear_j.sum()) / 1e6
            x, eff, x_est = np.zeros(nx), 0.0, np.zeros(nx if estimate else 0)
            assert trace.start is not None
            if spec.has_engine:
                rpm, temp = sig["engine_rpm"], sig["oil_temp_c"]
                x = learned.oil_features(rpm, temp, sig["engine_load_pct"], t)
                eff = float(oil.effective_revolutions(t, rpm, temp).sum()) / 1e6
                if estimate:
                    est, est_carry[j] = _estimated_oil_temp(
                        trace.start.timestamp() + t, sig, est_carry[j]
                    )
                    x_est = learned.oil_features(rpm, est, sig["engine_load_pct"], t)
            truth = trace.truth
            end_d = ((trace.start - epoch).total_seconds() + float(t.size)) / 86400.0
            rows[j].append(
                [
                    end_d,
                    float(brakes.distance_km(t, speed).sum()),
                    mj,
                    float(np.count_nonzero((speed[1:] <= 0.0) & (speed[:-1] > 0.0))),
                    *x,
                    eff,
                    (truth.oil_weighted_revs - prev[j]) / OIL_BUDGET_WEIGHTED_REVS * 100.0,
                    prev_pads[j][0] - truth.pad_front_mm,
                    prev_pads[j][1] - truth.pad_rear_mm,
                    *x_est,
                ]
            )
            prev[j] = truth.oil_weighted_revs
            prev_pads[j] = (truth.pad_front_mm, truth.pad_rear_mm)
        if on_day is not None:
            on_day(d)
    logs = []
    for m, r in zip(members, rows, strict=True):
        a = np.array(r, dtype=np.float64).reshape(-1, 4 + nx + 4 + (nx if estimate else 0))
        logs.append(
            VehicleLog(
                m.vehicle.spec.vin,
                m.vehicle.spec.kind,
                m.profile.name,
                m.vehicle.spec.mass_kg,
                a[:, 0],
                a[:, 1],
                a[:, 2],
                a[:, 3],
                a[:, 4 : 4 + nx],
                a[:, 4 + nx],
                a[:, 5 + nx],
                a[:, 6 + nx : 8 + nx],
                a[:, 8 + nx : 8 + 2 * nx] if estimate else None,
            )
        )
    return logs


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


# -- metrics of one life ------------------------------------------------------------------


@dataclass(frozen=True)
class LifeOutcome:
    """Alert against the true threshold over one life (from a service, ignoring the alert)."""

    alert: int | None  # index of the first trip whose prediction reached the alert level
    crossing: int | None  # index of the first trip whose truth reached the threshold
    lead_km: float | None  # km from the alert to the crossing (negative: alert too late)
    lead_days: float | None
    early: bool  # the alert came while the truth was above the "too early" level

    @property
    def in_time(self) -> bool:
        """A crossing alerted at least LEAD_KM or LEAD_DAYS ahead."""
        return (
            self.lead_km is not None
            and self.lead_days is not None
            and (self.lead_km >= LEAD_KM or self.lead_days >= LEAD_DAYS)
        )


def life_outcome(
    day: FloatArray,
    cum_km: FloatArray,
    true_left: FloatArray,
    predicted_left: FloatArray,
    *,
    alert_at: float,
    threshold: float,
    early_above: float,
) -> LifeOutcome:
    """When the alert came and the truth crossed, over one life's trips (arrays aligned)."""
    alerts = np.flatnonzero(predicted_left <= alert_at)
    crossings = np.flatnonzero(true_left <= threshold)
    alert = int(alerts[0]) if alerts.size else None
    crossing = int(crossings[0]) if crossings.size else None
    lead_km = lead_days = None
    if crossing is not None:
        if alert is None or alert > crossing:
            lead_km, lead_days = None, None
        else:
            lead_km = float(cum_km[crossing] - cum_km[alert])
            lead_days = float(day[crossing] - day[alert])
    early = alert is not None and bool(true_left[alert] > early_above)
    return LifeOutcome(alert, crossing, lead_km, lead_days, early)


def first_due(cum_km: FloatArray, day: FloatArray, km: float, days: float) -> int | None:
    """First trip at or past ``km`` driven or ``days`` elapsed (a fixed-interval service)."""
    due = np.flatnonzero((cum_km >= km) | (day >= days))
    return int(due[0]) if due.size else None


# -- oil ----------------------------------------------------------------------------------


@dataclass
class PolicyResult:
    """One service policy replayed on many vehicles."""

    wasted_pct: list[float] = field(default_factory=list)  # true life left at each change
    changes: int = 0
    missed: int = 0  # true threshold reached before the change
    outcomes: list[LifeOutcome] = field(default_factory=list)
    first_life: list[bool] = field(default_factory=list)  # per outcome: before any change
    abs_err: list[FloatArray] = field(default_factory=list)
    traces: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    samples: int = 0  # part-way oil analyses taken (``OilLab.sample_at_pct``)


# (cumulative oil features, cumulative effective Mrevs) -> (n, 3) consumed at 10/50/90 %
OilPredictor = Callable[[FloatArray, FloatArray], FloatArray]


def physics_consumed(cum_x: FloatArray, cum_eff_mrevs: FloatArray) -> FloatArray:
    """The physics model alone: consumed = effective revolutions over the budget (no band)."""
    c = cum_eff_mrevs / PHYSICS_BUDGET_MREVS * 100.0
    return np.column_stack([c, c, c])


@dataclass(frozen=True)
class OilLab:
    """Used-oil analyses in a replay: every drained oil is analysed (the label of that change,
    ``learned.OilObservation``), with ``sd_pct`` percentage points of measurement error; with
    ``sample_at_pct`` a vehicle with no completed change of its own also has a sample analysed
    once the fleet model's median says that much of its first oil's life is gone, the result
    arriving ``LAB_DAYS`` later."""

    sd_pct: float = 0.0
    sample_at_pct: float | None = None
    seed: int = 0


def _calibrated(
    fleet: FloatArray,
    observations: list[learned.OilObservation],
    *,
    prior_weight: float,
    log_sigma: float,
) -> tuple[FloatArray, float]:
    """The fleet model's (n, 3) consumption scaled by the vehicle's factor, its band
    narrowed; and the band's scale."""
    cal = learned.vehicle_calibration(observations, prior_weight=prior_weight, log_sigma=log_sigma)
    return cal.apply(fleet), cal.band_scale


def replay_oil(
    log: VehicleLog,
    result: PolicyResult,
    *,
    predictor: OilPredictor | None = None,
    interval: tuple[float, float] | None = None,
    factor_prior: float | None = None,
    alert: str = "median",
    log_sigma: float = 0.0,
    lab: OilLab = OilLab(),
    keep_trace: bool = False,
) -> list[int]:
    """Replay one policy (model alerts, or a fixed interval) on one vehicle; change indices.

    ``alert`` says when the model's policy changes the oil: ``"median"`` once the median life
    is at OIL_DUE_PCT, ``"band"`` once the band's low edge is, ``"projection"`` once the
    pessimistic life left (``alerting``, spread ``log_sigma`` narrowed by the vehicle's own
    oil analyses, ``lab``) would run out within the lead at the vehicle's recent usage.
    """
    n, start, changes = log.day.size, 0, []
    observations: list[learned.OilObservation] = []  # drained-oil analyses, one per change
    rng = np.random.default_rng([lab.seed, 0x0117])
    trace: dict[str, list[float]] = {
        k: [] for k in ("day", "true", "low", "mid", "high", "sample_day")
    }
    usage = alerting.usage_km_per_day(log.day, log.km, RECENT_TAU_DAYS)
    while start < n:
        sl = slice(start, n)
        day0 = log.day[start - 1] if start else 0.0
        day = log.day[sl] - day0
        cum_km = np.cumsum(log.km[sl])
        true_left = 100.0 - np.cumsum(log.oil_true_pct[sl])
        if predictor is not None:
            fleet = predictor(np.cumsum(log.oil_x[sl], axis=0), np.cumsum(log.eff_mrevs[sl]))
            consumed, scale = fleet, np.ones(day.size)
            if factor_prior is not None:  # the vehicle's own analyses scale it, narrow its band
                consumed, s0 = _calibrated(
                    fleet, observations, prior_weight=factor_prior, log_sigma=log_sigma
                )
                scale[:] = s0
                if lab.sample_at_pct is not None and not observations:
                    due = np.flatnonzero(fleet[:, 1] >= lab.sample_at_pct)
                    if due.size:
                        k = int(due[0])
                        sample = learned.OilObservation(
                            max(100.0 - float(true_left[k]) + rng.normal(0.0, lab.sd_pct), 0.0),
                            float(fleet[k, 1]),
                            lab.sd_pct,
                        )
                        known = day >= day[k] + LAB_DAYS
                        after, s1 = _calibrated(
                            fleet, [sample], prior_weight=factor_prior, log_sigma=log_sigma
                        )
                        consumed = np.where(known[:, None], after, consumed)
                        scale[known] = s1
                        result.samples += 1
                        trace["sample_day"].append(float(log.day[start + k]))
            left = 100.0 - consumed  # columns: high, mid, low life
            if alert == "projection":
                pess = alerting.pessimistic_consumed(consumed[:, 1], log_sigma * scale)
                watched = alerting.slack_km(
                    consumed_pess=pess,
                    km_since_change=cum_km,
                    km_per_day=usage[sl],
                )
                alert_at = 0.0
            else:
                watched = left[:, 2] if alert == "band" else left[:, 1]
                alert_at = OIL_DUE_PCT
            out = life_outcome(
                day,
                cum_km,
                true_left,
                watched,
                alert_at=alert_at,
                threshold=OIL_THRESHOLD_PCT,
                early_above=OIL_EARLY_ABOVE_PCT,
            )
            change = out.alert
        else:
            assert interval is not None
            change = first_due(cum_km, day, *interval)
            out = life_outcome(
                day,
                cum_km,
                true_left,
                np.full(day.size, np.inf),
                alert_at=0.0,
                threshold=OIL_THRESHOLD_PCT,
                early_above=OIL_EARLY_ABOVE_PCT,
            )
        if out.crossing is not None and (change is None or out.crossing <= change):
            result.missed += 1
        end = n - start if change is None else change + 1
        if predictor is not None:
            result.outcomes.append(out)
            result.first_life.append(start == 0)
            result.abs_err.append(np.abs(left[:end, 1] - np.maximum(true_left[:end], 0.0)))
            if keep_trace:
                trace["day"] += log.day[start : start + end].tolist()
                trace["true"] += np.maximum(true_left[:end], 0.0).tolist()
                for col, key in enumerate(("high", "mid", "low")):
                    trace[key] += left[:end, col].tolist()
        if change is None:
            break
        result.changes += 1
        result.wasted_pct.append(max(float(true_left[change]), 0.0))
        if predictor is not None:
            measured = 100.0 - float(true_left[change]) + rng.normal(0.0, lab.sd_pct)
            observations.append(
                learned.OilObservation(max(measured, 0.0), float(fleet[change, 1]), lab.sd_pct)
            )
        changes.append(start + change)
        start += change + 1
    if keep_trace:
        result.traces[log.vin] = trace
    return changes


# -- pads ---------------------------------------------------------------------------------


def pad_feature_rows(log: VehicleLog, sl: slice = slice(None)) -> FloatArray:
    """``learned.PAD_FEATURES`` after each trip, from the vehicle's driving since enrollment."""
    cum_km = np.maximum(np.cumsum(log.km), 1e-3)[sl]
    mj = np.cumsum(log.braking_mj)[sl] / cum_km
    stops = np.cumsum(log.stops)[sl] / cum_km
    per_day = cum_km / np.maximum(log.day[sl], 1.0)
    return np.array(
        [
            learned.pad_features(
                mass_kg=log.mass_kg, kind=log.kind, mj_per_km=a, stops_per_km=b, km_per_day=c
            )
            for a, b, c in zip(mj, stops, per_day, strict=True)
        ]
    ).reshape(-1, len(learned.PAD_FEATURES))


def measure(true_mm: FloatArray, rng: np.random.Generator) -> FloatArray:
    """A shop's pad gauge reading (±learned.MEASUREMENT_SD_MM)."""
    return true_mm + rng.normal(0.0, learned.MEASUREMENT_SD_MM, size=np.shape(true_mm))


PHYSICS_PAD_COEFF = np.array(
    [brakes.WEAR_MM_PER_MJ * brakes.FRONT_SHARE, brakes.WEAR_MM_PER_MJ * (1 - brakes.FRONT_SHARE)]
)


@dataclass
class PadResult:
    """Pad predictions replayed on many vehicles."""

    err_prior: list[FloatArray] = field(default_factory=list)  # before the first measurement
    err_calibrated: list[FloatArray] = field(default_factory=list)
    err_physics: list[FloatArray] = field(default_factory=list)
    outcomes: list[LifeOutcome] = field(default_factory=list)
    replacements: int = 0
    missed: int = 0
    traces: dict[str, dict[str, Any]] = field(default_factory=dict)


def shop_visits(log: VehicleLog, oil_changes: list[int]) -> list[int]:
    """Trips after which a shop measures the pads: every oil change (no engine oil: every
    EV_INSPECTION_DAY days)."""
    if log.has_engine:
        return list(oil_changes)
    due = np.arange(
        EV_INSPECTION_DAY, float(log.day[-1]) if log.day.size else 0.0, EV_INSPECTION_DAY
    )
    return sorted({int(i) for i in np.searchsorted(log.day, due)} - {log.day.size})


def replay_pads(
    log: VehicleLog,
    result: PadResult,
    *,
    prior: FloatArray,
    visits: list[int],
    rng: np.random.Generator,
    keep_trace: bool = False,
) -> None:
    """Pads from new at enrollment, replaced when the model alerts; measured at ``visits``.

    Each measurement recalibrates the vehicle's coefficients (wear since the pads were new
    over the braking energy since then); until the first one the fleet prior applies.
    """
    n, start = log.day.size, 0
    k_post: FloatArray | None = None
    trace: dict[str, Any] = {"day": [], "true": [], "pred": [], "visit_day": None}
    while start < n:
        sl = slice(start, n)
        day0 = log.day[start - 1] if start else 0.0
        cum_mj = np.cumsum(log.braking_mj[sl])
        true_left = NEW_PAD_MM - np.cumsum(log.pad_true_mm[sl], axis=0)
        physics = NEW_PAD_MM - cum_mj[:, None] * PHYSICS_PAD_COEFF
        coeff = prior[sl] if k_post is None else k_post
        pred = NEW_PAD_MM - cum_mj[:, None] * coeff
        calibrated = np.full(cum_mj.size, k_post is not None)
        for m in sorted(v - start for v in visits if start <= v < n):
            if (pred[: m + 1].min(axis=1) <= PAD_DUE_MM).any():
                break  # replaced at the alert before this visit
            measured = measure(true_left[m], rng)
            base = prior[start + m] if k_post is None else k_post
            k_post = np.array(
                [
                    learned.calibrate_pad_coeff(
                        float(base[a]), NEW_PAD_MM - float(measured[a]), float(cum_mj[m])
                    )
                    for a in range(2)
                ]
            )
            pred[m:] = measured - (cum_mj[m:, None] - cum_mj[m]) * k_post
            calibrated[m:] = True
            if trace["visit_day"] is None:
                trace["visit_day"] = float(log.day[start + m])
        out = life_outcome(
            log.day[sl] - day0,
            np.cumsum(log.km[sl]),
            true_left.min(axis=1),
            pred.min(axis=1),
            alert_at=PAD_DUE_MM,
            threshold=PAD_THRESHOLD_MM,
            early_above=PAD_EARLY_ABOVE_MM,
        )
        result.outcomes.append(out)
        change = out.alert
        if out.crossing is not None and (change is None or out.crossing <= change):
            result.missed += 1
        end = cum_mj.size if change is None else change + 1
        err = np.abs(pred[:end] - true_left[:end]).mean(axis=1)
        result.err_prior.append(err[~calibrated[:end]])
        result.err_calibrated.append(err[calibrated[:end]])
        result.err_physics.append(np.abs(physics[:end] - true_left[:end]).mean(axis=1))
        if keep_trace:
            trace["day"] += log.day[start : start + end].tolist()
            trace["true"] += true_left[:end].tolist()
            trace["pred"] += pred[:end].tolist()
        if change is None:
            break
        result.replacements += 1
        start += change + 1
    if keep_trace:
        result.traces[log.vin] = trace


# -- training -----------------------------------------------------------------------------


def training_examples(
    logs: list[VehicleLog], seed: int
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """Oil (features, consumed as a lab measures it, vehicle) at each completed fixed-interval
    change of the training fleet, and pad (features, coefficient) at each vehicle's last shop
    visit."""
    rng = np.random.default_rng([seed, 0xA11])
    lab = np.random.default_rng([seed, 0x1AB])  # its own stream: the pad draws stay put
    oil_x, oil_y, oil_g, pad_x, pad_y = [], [], [], [], []
    for g, log in enumerate(logs):
        changes = replay_oil(log, PolicyResult(), interval=INTERVALS[TRAINING_INTERVAL])
        bounds = [0, *(c + 1 for c in changes)]
        if log.has_engine:
            for a, b in itertools.pairwise(bounds):
                oil_x.append(log.oil_x[a:b].sum(axis=0))
                # The drained oil's analysis, as the service gets it from a lab.
                measured = float(log.oil_true_pct[a:b].sum()) + lab.normal(0.0, OIL_LAB_SD_PCT)
                oil_y.append(max(measured, 0.0))
                oil_g.append(g)
        visit = changes[-1] if changes else log.day.size - 1
        cum_mj = float(log.braking_mj[: visit + 1].sum())
        if visit < 0 or cum_mj < 1.0:
            continue
        worn = NEW_PAD_MM - measure(NEW_PAD_MM - log.pad_true_mm[: visit + 1].sum(axis=0), rng)
        pad_x.append(pad_feature_rows(log, slice(visit, visit + 1))[0])
        pad_y.append(np.maximum(worn, 0.01) / cum_mj)
    nx, npad = len(learned.OIL_FEATURES), len(learned.PAD_FEATURES)
    return (
        np.array(oil_x).reshape(-1, nx),
        np.array(oil_y),
        np.array(oil_g, dtype=np.float64),
        np.array(pad_x).reshape(-1, npad),
        np.array(pad_y).reshape(-1, 2),
    )


def train(logs: list[VehicleLog], *, seed: int, manifest: dict[str, Any]) -> learned.LearnedModels:
    """Fit both learned models on training vehicles' service outcomes."""
    ox, oy, og, px, py = training_examples(logs, seed)
    if len(oy) < len(learned.OIL_FEATURES) or len(py) < 5:
        raise ValueError(
            f"too few training examples ({len(oy)} oil changes, {len(py)} pad measurements): "
            "simulate more vehicles or days"
        )
    oil_model = learned.OilCorrection().fit(ox, oy, og, label_sd=OIL_LAB_SD_PCT)
    pad_model = learned.PadPrior().fit(px, py)
    fit = oil_model.consumed(ox)
    fit_k = pad_model.coeff(px)
    return learned.LearnedModels(
        oil_model,
        pad_model,
        {
            **manifest,
            "training_vehicles": len(logs),
            "oil_examples": len(oy),
            "pad_examples": len(py),
            "training_interval": TRAINING_INTERVAL,
            "oil_label_sd_pct": OIL_LAB_SD_PCT,
            "oil_fit_mae_pct": round(float(np.mean(np.abs(fit[:, 1] - oy))), 3),
            "oil_fit_band_coverage": round(
                float(np.mean((oy >= fit[:, 0]) & (oy <= fit[:, 2]))), 3
            ),
            "pad_fit_rel_mae": round(float(np.mean(np.abs(fit_k / py - 1.0))), 4),
            "oil_coefficients": dict(
                zip(learned.OIL_FEATURES, oil_model.models[0].coef_.round(4).tolist(), strict=True)
            ),
            "oil_band_ratio": oil_model.models[1].round(4).tolist(),
            "oil_factor_prior_weight": round(oil_model.factor_prior_weight, 4),
        },
    )


# -- evaluation ---------------------------------------------------------------------------


def _mean(parts: list[FloatArray]) -> float | None:
    joined = np.concatenate(parts) if parts else np.zeros(0)
    return round(float(joined.mean()), 3) if joined.size else None


def _lead_summary(outcomes: list[LifeOutcome]) -> dict[str, Any]:
    crossed = [o for o in outcomes if o.crossing is not None]
    alerted = [o for o in outcomes if o.alert is not None]
    km = [o.lead_km for o in crossed if o.lead_km is not None]
    days = [o.lead_days for o in crossed if o.lead_days is not None]

    def pct(values: list[float]) -> dict[str, float] | None:
        if not values:
            return None
        q = np.percentile(values, [0, 10, 50, 90])
        return {k: round(float(v), 1) for k, v in zip(("min", "p10", "p50", "p90"), q, strict=True)}

    return {
        "crossings": len(crossed),
        "alerted_in_time": sum(o.in_time for o in crossed),
        "alerts": len(alerted),
        "early_alerts": sum(o.early for o in alerted),
        "lead_km": pct(km),
        "lead_days": pct(days),
    }


def evaluate(
    logs: list[VehicleLog],
    models: learned.LearnedModels,
    *,
    seed: int,
    trace_vehicles: int = 4,
) -> dict[str, Any]:
    """Every figure of the report on these (held-out) vehicles, and traces for the plots."""
    rng = np.random.default_rng([seed, 0xE7A1])
    engines = [log for log in logs if log.has_engine]
    shown = {log.vin for log in engines[:trace_vehicles]}
    learned_oil = PolicyResult()
    # The same policy on features from the estimated oil temperature (no PID 0x5C).
    estimated_oil = PolicyResult()
    # The same model alerting at a fixed percentage: its median, and its band's low edge.
    median_oil = PolicyResult()
    band_oil = PolicyResult()
    physics_oil = PolicyResult()
    intervals = {name: PolicyResult() for name in INTERVALS}
    pads = PadResult()
    # The same policy without the first interval's oil sample: OBD and drained-oil analyses.
    obd_only = PolicyResult()
    lab_sensitivity = {sd: PolicyResult() for sd in OIL_LAB_SD_SENSITIVITY}
    for log in logs:
        changes: list[int] = []
        if log.has_engine:
            model = functools.partial(
                replay_oil,
                predictor=lambda x, _eff: models.oil.consumed(x),
                factor_prior=models.oil.factor_prior_weight,
                log_sigma=models.oil.log_sigma,
            )
            lab_seed = zlib.crc32(f"{seed}:{log.vin}".encode())
            lab = OilLab(OIL_LAB_SD_PCT, alerting.SAMPLE_AT_PCT, lab_seed)
            changes = model(
                log,
                learned_oil,
                alert="projection",
                lab=lab,
                keep_trace=log.vin in shown,
            )
            model(
                log,
                obd_only,
                alert="projection",
                lab=dataclasses.replace(lab, sample_at_pct=None),
            )
            for sd, result in lab_sensitivity.items():
                model(
                    log,
                    result,
                    alert="projection",
                    lab=dataclasses.replace(lab, sd_pct=sd),
                )
            if log.oil_x_est is not None:
                model(
                    dataclasses.replace(log, oil_x=log.oil_x_est),
                    estimated_oil,
                    alert="projection",
                    lab=lab,
                )
            for variant, result in (("median", median_oil), ("band", band_oil)):
                model(log, result, alert=variant, lab=lab)
            replay_oil(log, physics_oil, predictor=physics_consumed)
            for name, interval in INTERVALS.items():
                replay_oil(log, intervals[name], interval=interval)
        prior = models.pads.coeff(pad_feature_rows(log))
        replay_pads(
            log,
            pads,
            prior=prior,
            visits=shop_visits(log, changes),
            rng=rng,
            keep_trace=log.vin in shown or (not shown and log is logs[0]),
        )
    oil_lead = _lead_summary(learned_oil.outcomes)
    by_life = {
        name: _lead_summary(
            [
                o
                for o, f in zip(learned_oil.outcomes, learned_oil.first_life, strict=True)
                if f == first
            ]
        )
        for name, first in (("first_life", True), ("later_lives", False))
    }
    pad_lead = _lead_summary(pads.outcomes)
    crossings = oil_lead["crossings"] + pad_lead["crossings"]
    in_time = oil_lead["alerted_in_time"] + pad_lead["alerted_in_time"]
    alerts = oil_lead["alerts"] + pad_lead["alerts"]
    early = oil_lead["early_alerts"] + pad_lead["early_alerts"]

    def wasted(r: PolicyResult) -> float | None:
        return round(float(np.mean(r.wasted_pct)), 2) if r.wasted_pct else None

    interval_waste = {k: wasted(r) for k, r in intervals.items()}
    best = min((v for v in interval_waste.values() if v is not None), default=None)
    model_waste = wasted(learned_oil)
    return {
        "vehicles": len(logs),
        "vins": [log.vin for log in logs],
        "engine_vehicles": len(engines),
        "trips": int(sum(log.day.size for log in logs)),
        "km": round(float(sum(log.km.sum() for log in logs)), 0),
        "oil_mae_pct": _mean(learned_oil.abs_err),
        "oil_mae_pct_physics": _mean(physics_oil.abs_err),
        "oil_mae_pct_estimated_oil_temp": _mean(estimated_oil.abs_err),
        "pad_mae_mm_prior": _mean(pads.err_prior),
        "pad_mae_mm_calibrated": _mean(pads.err_calibrated),
        "pad_mae_mm_physics": _mean(pads.err_physics),
        "alert_recall": round(in_time / crossings, 4) if crossings else None,
        "early_alert_rate": round(early / alerts, 4) if alerts else None,
        "wasted_life_vs_best_interval": (
            round(model_waste / best, 3) if model_waste is not None and best else None
        ),
        "oil": {
            "model": {
                "changes": learned_oil.changes,
                "wasted_pct": model_waste,
                "missed": learned_oil.missed,
                "lab_sd_pct": OIL_LAB_SD_PCT,
                "first_interval_samples": learned_oil.samples,
                **oil_lead,
                "by_life": {
                    k: {"crossings": v["crossings"], "alerted_in_time": v["alerted_in_time"]}
                    for k, v in by_life.items()
                },
            },
            "model_obd_only": {
                "changes": obd_only.changes,
                "wasted_pct": wasted(obd_only),
                "missed": obd_only.missed,
                **_lead_summary(obd_only.outcomes),
            },
            **{
                f"model_lab_sd_{sd:g}_pct": {
                    "changes": r.changes,
                    "wasted_pct": wasted(r),
                    "missed": r.missed,
                    **_lead_summary(r.outcomes),
                }
                for sd, r in lab_sensitivity.items()
            },
            "model_estimated_oil_temp": {
                "changes": estimated_oil.changes,
                "wasted_pct": wasted(estimated_oil),
                "missed": estimated_oil.missed,
                **_lead_summary(estimated_oil.outcomes),
            },
            "model_alert_on_median_15": {
                "changes": median_oil.changes,
                "wasted_pct": wasted(median_oil),
                "missed": median_oil.missed,
                **_lead_summary(median_oil.outcomes),
            },
            "model_alert_on_band": {
                "changes": band_oil.changes,
                "wasted_pct": wasted(band_oil),
                "missed": band_oil.missed,
                **_lead_summary(band_oil.outcomes),
            },
            "physics_only": {
                "changes": physics_oil.changes,
                "wasted_pct": wasted(physics_oil),
                "missed": physics_oil.missed,
                **_lead_summary(physics_oil.outcomes),
            },
            **{
                name: {"changes": r.changes, "wasted_pct": interval_waste[name], "missed": r.missed}
                for name, r in intervals.items()
            },
        },
        "pads": {"replacements": pads.replacements, "missed": pads.missed, **pad_lead},
        "traces": {"oil": learned_oil.traces, "pads": pads.traces},
    }


def plot(report: dict[str, Any], out_dir: Any) -> list[Any]:
    """oil_life.png and brake_pads.png: predicted (with band) against true, sample vehicles."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    oil_traces = report["traces"]["oil"]
    fig, axes = plt.subplots(max(len(oil_traces), 1), 1, figsize=(9, 2.4 * max(len(oil_traces), 1)))
    for ax, (vin, tr) in zip(np.atleast_1d(axes), oil_traces.items(), strict=False):
        ax.fill_between(tr["day"], tr["low"], tr["high"], alpha=0.25, label="predicted 10-90 %")
        ax.plot(tr["day"], tr["mid"], label="predicted")
        ax.plot(tr["day"], tr["true"], "k--", label="true")
        for i, day in enumerate(tr.get("sample_day", [])):
            ax.axvline(day, color="grey", lw=0.8, ls=":", label=None if i else "oil sample")
        ax.axhline(OIL_DUE_PCT, color="tab:red", lw=0.8)
        ax.set_ylabel("oil life %")
        ax.set_title(vin, fontsize=9)
    np.atleast_1d(axes)[0].legend(fontsize=8, loc="upper right")
    np.atleast_1d(axes)[-1].set_xlabel("days since enrollment")
    fig.tight_layout()
    paths.append(out_dir / "oil_life.png")
    fig.savefig(paths[-1], dpi=90)
    plt.close(fig)

    pad_traces = report["traces"]["pads"]
    fig, axes = plt.subplots(max(len(pad_traces), 1), 1, figsize=(9, 2.4 * max(len(pad_traces), 1)))
    for ax, (vin, tr) in zip(np.atleast_1d(axes), pad_traces.items(), strict=False):
        true, pred = np.array(tr["true"]).reshape(-1, 2), np.array(tr["pred"]).reshape(-1, 2)
        for a, (name, color) in enumerate((("front", "tab:blue"), ("rear", "tab:orange"))):
            ax.plot(tr["day"], pred[:, a], color=color, label=f"{name} predicted")
            ax.plot(tr["day"], true[:, a], "--", color=color, label=f"{name} true")
        if tr["visit_day"] is not None:
            ax.axvline(tr["visit_day"], color="grey", lw=0.8, label="shop measurement")
        ax.axhline(PAD_THRESHOLD_MM, color="tab:red", lw=0.8)
        ax.set_ylabel("pad mm")
        ax.set_title(vin, fontsize=9)
    np.atleast_1d(axes)[0].legend(fontsize=7, loc="upper right", ncol=3)
    np.atleast_1d(axes)[-1].set_xlabel("days since enrollment")
    fig.tight_layout()
    paths.append(out_dir / "brake_pads.png")
    fig.savefig(paths[-1], dpi=90)
    plt.close(fig)
    return paths
