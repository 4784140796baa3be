# SPDX-License-Identifier: MIT
"""Running totals of the models, advanced chunk by chunk of readings.

Each model keeps what it has integrated since the last service plus the last sample of every
signal it uses, so the interval that straddles two chunks is counted exactly once and
evaluating in pieces gives the same totals as evaluating all at once (up to float rounding).

The "recent" wear rate is a ratio of two sums decayed by the same factor per second of
reading time, ``exp(-age / RECENT_TAU_S)``. A common factor cancels in the ratio, so a car
parked for a month keeps its rate, and the decay composes exactly across chunks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar, Self

import numpy as np
import numpy.typing as npt

from predictive import brake_heat, brakes, learned_oil, oil
from predictive import oil_temp as oil_temp_model

FloatArray = npt.NDArray[np.float64]
Series = tuple[FloatArray, FloatArray]  # (epoch seconds, values), sorted by time
Sample = tuple[float, float] | None
_EMPTY: Series = (np.zeros(0), np.zeros(0))

# About a month of calendar time weights the rate towards how the car is driven now.
RECENT_TAU_S = 30 * 86400.0
# Below this many recent km the wear rate per km is mostly noise (idling, parking manoeuvres).
MIN_RATE_KM = 5.0


def _with_carry(carry: Sample, series: Series) -> Series:
    if carry is None:
        return series
    return np.concatenate(([carry[0]], series[0])), np.concatenate(([carry[1]], series[1]))


def _last(series: Series, carry: Sample) -> Sample:
    if series[0].size == 0:
        return carry
    return float(series[0][-1]), float(series[1][-1])


def _decayed(values: FloatArray, end_t_s: FloatArray, anchor_s: float) -> float:
    return float(np.sum(values * np.exp(-(anchor_s - end_t_s) / RECENT_TAU_S)))


class _JsonState:
    """Running totals kept as plain JSON in a prediction's evidence, and read back."""

    __dataclass_fields__: ClassVar[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        """Plain-JSON form for a prediction's evidence."""
        # Fields are floats and (time, value) tuples: no deep copy needed (asdict's is slow).
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        """Inverse of ``to_json``; unknown keys (from other model versions) are ignored."""
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        for key, value in known.items():
            if key.startswith("last_") and value is not None:
                known[key] = (float(value[0]), float(value[1]))
        return cls(**known)


@dataclass
class OilTotals(_JsonState):
    """What the oil model has integrated since the last oil change."""

    through_s: float | None = None
    effective_revs: float = 0.0
    unobserved_km: float = 0.0
    revolutions: float = 0.0
    km: float = 0.0
    recent_effective_revs: float = 0.0
    recent_km: float = 0.0
    last_rpm: Sample = None
    last_oil_temp: Sample = None
    last_coolant_temp: Sample = None
    last_speed: Sample = None
    last_load: Sample = None
    last_ambient: Sample = None
    # The estimated oil temperature at the last rpm sample (cars without PID 0x5C).
    last_oil_est: Sample = None
    # learned.OIL_FEATURES summed since the change, for the learned correction (learned_oil.py).
    oil_features: list[float] | None = None

    def revs_per_km(self) -> float | None:
        """Recent effective revolutions per km, or None before enough driving."""
        if self.recent_km <= 0 or self.km < MIN_RATE_KM:
            return None
        return self.recent_effective_revs / self.recent_km


@dataclass
class BrakeTotals(_JsonState):
    """What the brake model has integrated since the pads were last measured."""

    through_s: float | None = None
    braking_mj: float = 0.0
    unobserved_km: float = 0.0
    km: float = 0.0
    recent_braking_mj: float = 0.0
    recent_km: float = 0.0
    last_speed: Sample = None
    last_ambient: Sample = None
    # The front-disc temperature at the last speed sample (brake_heat.py).
    last_disc: Sample = None

    def mj_per_km(self) -> float | None:
        """Recent braking energy per km, or None before enough driving."""
        if self.recent_km <= 0 or self.km < MIN_RATE_KM:
            return None
        return self.recent_braking_mj / self.recent_km


def _decay(total: float, old_anchor: float | None, new_anchor: float) -> float:
    if old_anchor is None:
        return total
    return total * math.exp(-(new_anchor - old_anchor) / RECENT_TAU_S)


def _held(carry: Sample, series: Series, at_t: FloatArray, default: float) -> FloatArray:
    t, v = _with_carry(carry, series)
    return oil.hold_values(at_t, t, v, default)


def advance_oil(
    totals: OilTotals,
    *,
    rpm: Series,
    oil_temp: Series,
    coolant_temp: Series,
    speed: Series,
    through_s: float,
    load: Series = _EMPTY,
    ambient: Series = _EMPTY,
) -> OilTotals:
    """Totals after integrating one chunk of new samples that ends at ``through_s``."""
    rpm_t, rpm_v = _with_carry(totals.last_rpm, rpm)
    oil_est = totals.last_oil_est
    # Oil temperature where the car reports it, else estimated from coolant, load and ambient
    # (oil_temp.py), else assume the normal range.
    if totals.last_oil_temp or oil_temp[0].size:
        temp_at_rpm = _held(totals.last_oil_temp, oil_temp, rpm_t, oil.DEFAULT_OIL_TEMP_C)
    elif (totals.last_coolant_temp or coolant_temp[0].size) and rpm_t.size:
        carried = oil_est is not None and oil_est[0] == float(rpm_t[0])
        temp_at_rpm = oil_temp_model.estimate_oil_temp_c(
            rpm_t,
            rpm=rpm_v,
            coolant_c=_held(totals.last_coolant_temp, coolant_temp, rpm_t, oil.DEFAULT_OIL_TEMP_C),
            load_pct=_held(totals.last_load, load, rpm_t, 0.0),
            ambient_c=_held(totals.last_ambient, ambient, rpm_t, oil_temp_model.DEFAULT_AMBIENT_C),
            initial_c=oil_est[1] if carried and oil_est is not None else None,
        )
        oil_est = (float(rpm_t[-1]), float(temp_at_rpm[-1]))
    else:
        temp_at_rpm = np.full(rpm_t.shape, oil.DEFAULT_OIL_TEMP_C)
    features = learned_oil.chunk_features(
        rpm_t,
        rpm_v,
        temp_at_rpm,
        _held(totals.last_load, load, rpm_t, 0.0),
        carried=totals.last_rpm is not None,
    )
    if totals.oil_features is not None:
        features = features + np.asarray(totals.oil_features, dtype=np.float64)
    revs = oil.interval_revolutions(rpm_t, rpm_v)
    eff = oil.effective_revolutions(rpm_t, rpm_v, temp_at_rpm)
    speed_t, speed_v = _with_carry(totals.last_speed, speed)
    km = brakes.distance_km(speed_t, speed_v)
    return OilTotals(
        through_s=through_s,
        effective_revs=totals.effective_revs + float(eff.sum()),
        unobserved_km=totals.unobserved_km,
        revolutions=totals.revolutions + float(revs.sum()),
        km=totals.km + float(km.sum()),
        recent_effective_revs=_decay(totals.recent_effective_revs, totals.through_s, through_s)
        + _decayed(eff, rpm_t[1:], through_s),
        recent_km=_decay(totals.recent_km, totals.through_s, through_s)
        + _decayed(km, speed_t[1:], through_s),
        last_rpm=_last(rpm, totals.last_rpm),
        last_oil_temp=_last(oil_temp, totals.last_oil_temp),
        last_coolant_temp=_last(coolant_temp, totals.last_coolant_temp),
        last_speed=_last(speed, totals.last_speed),
        last_load=_last(load, totals.last_load),
        last_ambient=_last(ambient, totals.last_ambient),
        last_oil_est=oil_est,
        oil_features=[float(x) for x in features],
    )


def advance_brakes(
    totals: BrakeTotals,
    *,
    speed: Series,
    mass_kg: float,
    through_s: float,
    friction_share: float = 1.0,
    engine_braking: bool = False,
    ambient: Series = _EMPTY,
) -> BrakeTotals:
    """Totals after integrating one chunk of new speed samples that ends at ``through_s``.

    ``braking_mj`` counts wear-equivalent friction energy (``brake_heat.wear_energy_j``):
    after engine braking where the car has a combustion engine, weighted by disc temperature.
    """
    speed_t, speed_v = _with_carry(totals.last_speed, speed)
    disc = totals.last_disc
    carried = disc is not None and speed_t.size > 0 and disc[0] == float(speed_t[0])
    wear_j, disc_c = brake_heat.wear_energy_j(
        speed_t,
        speed_v,
        mass_kg=mass_kg,
        engine_braking=engine_braking,
        ambient_c=_held(totals.last_ambient, ambient, speed_t, brake_heat.DEFAULT_AMBIENT_C),
        friction_share=friction_share,
        initial_disc_c=disc[1] if carried and disc is not None else None,
    )
    mj = wear_j / 1e6
    if speed_t.size:
        disc = (float(speed_t[-1]), float(disc_c[-1]))
    km = brakes.distance_km(speed_t, speed_v)
    return BrakeTotals(
        through_s=through_s,
        braking_mj=totals.braking_mj + float(mj.sum()),
        unobserved_km=totals.unobserved_km,
        km=totals.km + float(km.sum()),
        recent_braking_mj=_decay(totals.recent_braking_mj, totals.through_s, through_s)
        + _decayed(mj, speed_t[1:], through_s),
        recent_km=_decay(totals.recent_km, totals.through_s, through_s)
        + _decayed(km, speed_t[1:], through_s),
        last_speed=_last(speed, totals.last_speed),
        last_ambient=_last(ambient, totals.last_ambient),
        last_disc=disc,
    )
