# SPDX-License-Identifier: MIT
"""Writing predictions, and raising an alert when one crosses its threshold."""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from statistics import NormalDist
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from db.rows import record, scalar
from predictive import brakes, learned, learned_oil, oil, oil_anchor
from predictive.health import (
    BRAKE_MODEL,
    OIL_DUE_SOON_PCT,
    OIL_MODEL,
    PAD_DUE_SOON_MM,
    PREDICTION_COLUMNS,
    TIER_SEVERITY,
    TIERS,
    Prediction,
    oil_band,
    oil_levels,
    pad_band,
    pad_levels,
)
from predictive.mass import REGISTERED_REL_SD, VehicleMass
from predictive.oil_analysis import OilAnchor
from predictive.projection import Threshold, project, tier_for, trend, usage_km_per_day
from predictive.totals import MIN_RATE_KM, BrakeTotals, OilTotals
from predictive.trouble_codes import InvalidTroubleCode, Urgency, assess, assess_all, worst

log = logging.getLogger(__name__)

# Bump when a model's equations or constants change: totals from another version are not
# continued but rebuilt from the last service.
OIL_VERSION = "oil-revs-temp-3"  # 2: time and distance caps; 3: oil temp estimated (0x5C absent)
BRAKE_VERSION = "brake-energy-2"  # 2: engine braking, disc-temperature wear factor


def _km_text(km: float | None) -> str:
    if km is None:
        return ""
    rounded = round(km, -2) if km >= 1000 else round(km, -1)
    return f", about {rounded:,.0f} km left"


# The oil-sample request (``oil_analysis``): one tier, for information.
SAMPLE_KIND = "oil_sample"
SAMPLE_TIERS = ("sample",)


@dataclass(frozen=True)
class AlertCall:
    """Another alert a publication keeps in step (``sync_alerts``), beside its own tier's."""

    kind: str
    tiers: tuple[str, ...]
    tier: str | None  # None: resolve the kind's open alerts
    severity: str
    message: str
    evidence: dict[str, Any]


@dataclass(frozen=True)
class Publication:
    """A prediction ready to be stored, and the alert its tier calls for.

    Computing it touches no database, so the evaluator's set-based pass computes many and
    stores them together (``predictive.bulk``); ``store`` writes one.
    """

    model: str
    version: str
    value: float
    unit: str
    remaining_km: float | None
    evidence: dict[str, Any]
    kind: str
    tier: str | None
    severity: str
    message: str
    # The alert's evidence but for the prediction's id, known only once it is stored.
    alert_evidence: dict[str, Any]
    also: tuple[AlertCall, ...] = ()

    def alert_calls(self) -> list[AlertCall]:
        """Every alert the publication keeps in step: its own tier's first."""
        own = AlertCall(
            self.kind, TIERS, self.tier, self.severity, self.message, self.alert_evidence
        )
        return [own, *self.also]


_INSERT_SQL = sql.SQL(
    "INSERT INTO predictions (vehicle_id, model, model_version, time, value, unit, "
    "remaining_km, evidence) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING {columns}"
).format(columns=sql.SQL(PREDICTION_COLUMNS))


def _insert(
    conn: psycopg.Connection, vehicle_id: int, now: datetime, pub: Publication
) -> Prediction:
    pred = record(
        conn,
        Prediction,
        _INSERT_SQL,
        (
            vehicle_id,
            pub.model,
            pub.version,
            now,
            pub.value,
            pub.unit,
            pub.remaining_km,
            Jsonb(pub.evidence),
        ),
    )
    assert pred is not None
    return pred


def sync_publication_alerts(
    conn: psycopg.Connection,
    *,
    vehicle_id: int,
    pub: Publication,
    prediction_id: int,
    open_tiers: Mapping[str, Collection[str]] | None = None,
    now: datetime | None = None,
) -> None:
    """Raise the alerts the publication calls for once (``sync_alerts``); with ``open_tiers``
    (kind: tiers of the vehicle's unresolved alerts) only those out of step."""
    for call in pub.alert_calls():
        if open_tiers is not None and alerts_in_sync(
            open_tiers.get(call.kind, ()), tiers=call.tiers, tier=call.tier
        ):
            continue
        sync_alerts(
            conn,
            vehicle_id=vehicle_id,
            kind=call.kind,
            tiers=call.tiers,
            tier=call.tier,
            severity=call.severity,
            message=call.message,
            evidence={**call.evidence, "prediction_id": prediction_id},
            prediction_id=prediction_id,
            now=now,
        )


def store(
    conn: psycopg.Connection, *, vehicle_id: int, now: datetime, pub: Publication
) -> Prediction:
    """Insert the prediction and sync the alerts of its tier."""
    pred = _insert(conn, vehicle_id, now, pub)
    sync_publication_alerts(
        conn, vehicle_id=vehicle_id, pub=pub, prediction_id=pred.prediction_id, now=now
    )
    return pred


def oil_thresholds(change_soon_pct: float = OIL_DUE_SOON_PCT) -> list[Threshold]:
    """The oil tiers: change soon (configurable), due now, overdue (``health.oil_levels``,
    which the health's band reads too)."""
    return [Threshold(tier, pct) for tier, pct in oil_levels(change_soon_pct)]


def pad_thresholds(change_soon_mm: float = PAD_DUE_SOON_MM) -> list[Threshold]:
    """The pad tiers in mm of the thinner pad: change soon (configurable), due now, overdue
    (``health.pad_levels``, which the health's band reads too)."""
    return [Threshold(tier, mm) for tier, mm in pad_levels(change_soon_mm)]


# What raising an alert that is already open does with ``refresh``: take the new message and
# evidence (only when the evidence changed, so an unchanged alert is not rewritten).
_REFRESH_ALERT = sql.SQL(
    "DO UPDATE SET message = EXCLUDED.message, evidence = EXCLUDED.evidence, "
    "severity = EXCLUDED.severity WHERE alerts.evidence IS DISTINCT FROM EXCLUDED.evidence"
)


def sync_alerts(
    conn: psycopg.Connection,
    *,
    vehicle_id: int,
    kind: str,
    tiers: Sequence[str],
    tier: str | None,
    severity: str,
    message: str,
    evidence: dict[str, Any],
    prediction_id: int | None = None,
    refresh: bool = False,
    now: datetime | None = None,
) -> int | None:
    """Raise the alert of ``tier`` once; resolve unresolved alerts of more severe tiers.

    ``tiers`` lists the kind's tiers from the least to the most severe. Less severe tiers
    raised earlier stay (one alert per tier, each raised once); more severe ones no longer
    apply (the part was serviced, the code cleared) and are resolved, all of them when ``tier``
    is None. The partial unique index on (vehicle, kind, tier) makes raising idempotent;
    ``refresh`` updates an open alert's message and evidence instead of leaving it as raised.
    Returns the id of a newly raised (or refreshed) alert. ``now`` stamps what is raised and
    resolved (default: the database's clock), the same clock as the prediction behind it.
    """
    keep = [] if tier is None else list(tiers[: tiers.index(tier) + 1])
    conn.execute(
        "UPDATE alerts SET status = 'resolved', resolved_at = COALESCE(%s, now()) "
        "WHERE vehicle_id = %s AND kind = %s AND status <> 'resolved' AND tier <> ALL(%s)",
        (now, vehicle_id, kind, keep),
    )
    if tier is None:
        return None
    on_conflict = _REFRESH_ALERT if refresh else sql.SQL("DO NOTHING")
    alert_id = scalar(
        conn,
        sql.SQL(
            "INSERT INTO alerts (vehicle_id, kind, tier, severity, message, prediction_id, "
            "evidence, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, COALESCE(%s, now())) "
            "ON CONFLICT (vehicle_id, kind, tier) WHERE status <> 'resolved' {on_conflict} "
            "RETURNING alert_id"
        ).format(on_conflict=on_conflict),
        (vehicle_id, kind, tier, severity, message, prediction_id, Jsonb(evidence), now),
    )
    return None if alert_id is None else int(alert_id)


def alerts_in_sync(open_tiers: Collection[str], *, tiers: Sequence[str], tier: str | None) -> bool:
    """Whether ``sync_alerts`` would change nothing, given the tiers of the kind's unresolved
    alerts: none to resolve, and the alert of ``tier`` (if any) already open."""
    keep = set() if tier is None else set(tiers[: tiers.index(tier) + 1])
    return set(open_tiers) <= keep and (tier is None or tier in open_tiers)


def _outlook(
    *,
    current: dict[str, float],
    levels: Sequence[tuple[float, float | None]],
    per_km: float | None,
    thresholds: Sequence[Threshold],
    km_per_day: float | None,
    now: datetime,
) -> dict[str, Any]:
    """Trend, recent usage and the projection to each tier: evidence of predictions and
    alerts alike."""
    projections = project(levels=levels, thresholds=thresholds, km_per_day=km_per_day, now=now)
    return {
        "current": current,
        "trend": trend(per_km, km_per_day),
        "recent_km_per_day": None if km_per_day is None else round(km_per_day, 1),
        "projection": {p.tier: p.to_json() for p in projections},
    }


def oil_prediction(
    *,
    conn: psycopg.Connection,
    vehicle_id: int,
    now: datetime,
    t: OilTotals,
    baseline_s: float | None,
    alert_pct: float,
    first_s: float | None = None,
    learned_models: learned.LearnedModels | None = None,
    observations: tuple[learned.OilObservation, ...] = (),
    sample_asked: bool = False,
) -> Prediction:
    """Store the oil-life prediction from these totals; raise the oil alert of its tier.

    ``first_s`` is the time of the first reading the totals include (for km per day). With
    ``learned_models`` the wear figure is the learned correction's (``learned_oil.py``), with
    its band, and the "change soon" alert also comes once the projection rule
    (``alerting.py``) says the pessimistic life left is within the lead.
    """
    pub = oil_publication(
        now=now,
        t=t,
        baseline_s=baseline_s,
        alert_pct=alert_pct,
        first_s=first_s,
        learned_models=learned_models,
        observations=observations,
        sample_asked=sample_asked,
    )
    return store(conn, vehicle_id=vehicle_id, now=now, pub=pub)


def oil_publication(
    *,
    now: datetime,
    t: OilTotals,
    baseline_s: float | None,
    alert_pct: float,
    first_s: float | None = None,
    learned_models: learned.LearnedModels | None = None,
    observations: tuple[learned.OilObservation, ...] = (),
    sample_asked: bool = False,
    anchor: OilAnchor | None = None,
) -> Publication:
    """The oil-life prediction from these totals, and its alert (see ``oil_prediction``).

    ``observations`` are the vehicle's used-oil analyses (``oil_analysis``): they scale the
    learned correction to this engine and narrow its band; while there are none, the learned
    path also asks for a sample once half the oil's life is gone by the fleet model, once per
    interval (``sample_asked``: it was, since the last change). With ``anchor`` (a part-way
    sample of this interval) the life is the lab's figure less the consumption since
    (``oil_anchor``).
    """
    effective = t.effective_revs + t.unobserved_km * oil.NOMINAL_EFFECTIVE_REVS_PER_KM
    wear_life = oil.oil_life_pct(effective)
    rate = t.revs_per_km()
    remaining = oil.remaining_km(effective, rate)
    per_km = None if rate is None else 100.0 * rate / oil.BUDGET_EFFECTIVE_REVS
    km_per_day = usage_km_per_day(
        recent_km=t.recent_km, first_s=first_s, through_s=t.through_s, now_s=now.timestamp()
    )
    version, estimate = OIL_VERSION, None
    if learned_models is not None and t.oil_features is not None:
        estimate = learned_oil.oil_estimate(
            learned_models,
            t.oil_features,
            km=t.km,
            unobserved_km=t.unobserved_km,
            km_per_day=km_per_day,
            min_rate_km=MIN_RATE_KM,
            observations=observations,
        )
        version = f"{OIL_VERSION}+{learned_models.manifest.get('version', 'learned')}"
        wear_life, per_km = estimate.life_pct, estimate.per_km_pct
        remaining = None if per_km is None or per_km <= 0 else wear_life / per_km
    analysis = None
    if anchor is not None:
        anchored = oil_anchor.anchored_life(
            anchor,
            t,
            oil_anchor.totals_at_sample(anchor, OIL_VERSION),
            models=None if estimate is None else learned_models,
            calibration=None if estimate is None else estimate.calibration,
            consumed_mid_pct=None if estimate is None else 100.0 - estimate.life_pct,
            km_per_day=km_per_day,
        )
        wear_life = anchored.life_pct
        remaining = None if per_km is None or per_km <= 0 else wear_life / per_km
        # The anchor counts once: as one of the learned model's observations, or on its own.
        counted = 0 if estimate is None else estimate.analyses
        analysis = anchored.evidence(
            anchor, counted + int(estimate is None or not anchor.calibrates)
        )
        if estimate is not None:
            # A lab's figure of this interval: the sample is no longer due.
            estimate = dataclasses.replace(
                estimate, projection_due=bool(anchored.projection_due), sample_due=False
            )
    life, limit = oil.capped_life_pct(
        wear_life,
        days_since_change=None if baseline_s is None else (now.timestamp() - baseline_s) / 86400,
        km_since_change=t.km + t.unobserved_km,
    )
    to_distance_cap = max(0.0, oil.MAX_OIL_KM - t.km - t.unobserved_km)
    if remaining is not None:
        remaining = min(remaining, to_distance_cap)
    thresholds = oil_thresholds(alert_pct)
    outlook = _outlook(
        current={"oil_life_pct": round(life, 2)},
        levels=[(life, per_km)],
        per_km=per_km,
        thresholds=thresholds,
        km_per_day=km_per_day,
        now=now,
    )
    evidence = {
        "oil_life_pct": round(life, 2),
        "wear_life_pct": round(wear_life, 2),
        "limited_by": limit,
        "band": oil_band(life, alert_pct),
        "km_since_oil_change": round(t.km, 1),
        "effective_revolutions": round(effective),
        "km_before_first_reading": round(t.unobserved_km, 1),
        "revolutions": round(t.revolutions),
        "recent_effective_revs_per_km": None if rate is None else round(rate, 1),
        "budget_effective_revolutions": oil.BUDGET_EFFECTIVE_REVS,
        "trend_pct": outlook["trend"],
        "recent_km_per_day": outlook["recent_km_per_day"],
        "projection": outlook["projection"],
        "baseline_s": baseline_s,
        "first_reading_s": first_s,
        "state": t.to_json(),
    }
    tier = tier_for(life, thresholds)
    if analysis is not None:
        evidence["analysis"] = analysis
    if estimate is not None:
        evidence["learned"] = {
            "life_pct": round(estimate.life_pct, 2),
            "band_pct": [round(estimate.low_pct, 2), round(estimate.high_pct, 2)],
            "projection_due": estimate.projection_due,
            "fleet_consumed_pct": round(estimate.fleet_consumed_pct, 3),
            "vehicle_factor": round(estimate.calibration.factor, 4),
            "band_scale": round(estimate.calibration.band_scale, 4),
            "oil_analyses": estimate.analyses,
            "sample_due": estimate.sample_due,
        }
        if tier is None and estimate.projection_due:
            tier = thresholds[0].tier  # the lead rule raises "change soon" before 15 %
    return Publication(
        model=OIL_MODEL,
        version=version,
        value=life,
        unit="%",
        remaining_km=remaining,
        evidence=evidence,
        kind="oil_change",
        tier=tier,
        severity=TIER_SEVERITY.get(tier or "", "warning"),
        message=f"Oil life {life:.0f} %{_km_text(remaining)}",
        alert_evidence={"tier": tier, "model_version": version, **outlook},
        also=_sample_calls(estimate, life, version, asked=sample_asked),
    )


def _sample_calls(
    estimate: learned_oil.OilEstimate | None, life: float, version: str, *, asked: bool
) -> tuple[AlertCall, ...]:
    """The oil-sample request: raised once per interval while due (an open one stays, one
    resolved by the drawn sample is not raised again), resolved once no longer due."""
    if estimate is None or (estimate.sample_due and asked):
        return ()
    call = AlertCall(
        kind=SAMPLE_KIND,
        tiers=SAMPLE_TIERS,
        tier=SAMPLE_TIERS[0] if estimate.sample_due else None,
        severity="info",
        message=(
            f"Oil life about {life:.0f} %: have an oil sample analysed. How fast this engine "
            "ages its oil is not known yet; one analysis lets the change alert come in time "
            "without coming early."
        ),
        evidence={
            "tier": SAMPLE_TIERS[0],
            "model_version": version,
            "oil_life_pct": round(life, 2),
            "fleet_consumed_pct": round(estimate.fleet_consumed_pct, 2),
            "band_pct": [round(estimate.low_pct, 2), round(estimate.high_pct, 2)],
        },
    )
    return (call,)


def brake_prediction(
    *,
    conn: psycopg.Connection,
    vehicle_id: int,
    now: datetime,
    t: BrakeTotals,
    baseline_s: float | None,
    measured_mm: tuple[float, float],
    alert_mm: float,
    first_s: float | None = None,
    vehicle_mass: VehicleMass | None = None,
) -> Prediction:
    """Store the brake-pad prediction from these totals; raise the pad alert of its tier."""
    pub = brake_publication(
        now=now,
        t=t,
        baseline_s=baseline_s,
        measured_mm=measured_mm,
        alert_mm=alert_mm,
        first_s=first_s,
        vehicle_mass=vehicle_mass,
    )
    return store(conn, vehicle_id=vehicle_id, now=now, pub=pub)


def brake_publication(
    *,
    now: datetime,
    t: BrakeTotals,
    baseline_s: float | None,
    measured_mm: tuple[float, float],
    alert_mm: float,
    first_s: float | None = None,
    vehicle_mass: VehicleMass | None = None,
) -> Publication:
    """The brake-pad prediction from these totals, and its alert (see ``brake_prediction``).

    ``vehicle_mass`` is the mass the totals were integrated with (``predictive.mass``; None:
    a registered mass); its spread widens the 10-90 % band of the thinner pad.
    """
    # Km before the first reading are charged at typical driving, scaled to the car's mass.
    mass_scale = 1.0 if vehicle_mass is None else vehicle_mass.mass_kg / brakes.NOMINAL_MASS_KG
    braking_mj = t.braking_mj + t.unobserved_km * brakes.NOMINAL_MJ_PER_KM * mass_scale
    wear_front, wear_rear = brakes.pad_wear_mm(braking_mj)
    front = max(0.0, measured_mm[0] - wear_front)
    rear = max(0.0, measured_mm[1] - wear_rear)
    rate = t.mj_per_km()
    remaining = brakes.remaining_km(front, rear, rate)
    front_per_km, rear_per_km = (None, None) if rate is None else brakes.pad_wear_mm(rate)
    thinner = min(front, rear)
    # Front and rear wear at fixed proportions, so the thinner pad is the one to name.
    axle = "front" if front <= rear else "rear"
    thresholds = pad_thresholds(alert_mm)
    km_per_day = usage_km_per_day(
        recent_km=t.recent_km, first_s=first_s, through_s=t.through_s, now_s=now.timestamp()
    )
    outlook = _outlook(
        current={"pad_front_mm": round(front, 2), "pad_rear_mm": round(rear, 2)},
        levels=[(front, front_per_km), (rear, rear_per_km)],
        per_km=front_per_km if axle == "front" else rear_per_km,
        thresholds=thresholds,
        km_per_day=km_per_day,
        now=now,
    )
    evidence = {
        "pad_front_mm": round(front, 2),
        "pad_rear_mm": round(rear, 2),
        "band": pad_band(thinner, alert_mm),
        **_pad_spread(
            measured_mm[0] if axle == "front" else measured_mm[1],
            wear_front if axle == "front" else wear_rear,
            vehicle_mass,
        ),
        "km_since_pads_measured": round(t.km, 1),
        "braking_energy_mj": round(braking_mj, 3),
        "km_before_first_reading": round(t.unobserved_km, 1),
        "recent_braking_mj_per_km": None if rate is None else round(rate, 4),
        "measured_front_mm": measured_mm[0],
        "measured_rear_mm": measured_mm[1],
        "trend_mm": outlook["trend"],
        "recent_km_per_day": outlook["recent_km_per_day"],
        "projection": outlook["projection"],
        "baseline_s": baseline_s,
        "first_reading_s": first_s,
        "state": t.to_json(),
    }
    tier = tier_for(thinner, thresholds)
    return Publication(
        model=BRAKE_MODEL,
        version=BRAKE_VERSION,
        value=thinner,
        unit="mm",
        remaining_km=remaining,
        evidence=evidence,
        kind="brake_pads",
        tier=tier,
        severity=TIER_SEVERITY.get(tier or "", "warning"),
        message=f"{axle.capitalize()} brake pads {thinner:.1f} mm{_km_text(remaining)}",
        alert_evidence={"tier": tier, "axle": axle, "model_version": BRAKE_VERSION, **outlook},
    )


def _pad_spread(
    measured_mm: float, wear_mm: float, vehicle_mass: VehicleMass | None
) -> dict[str, Any]:
    """The evidence of a pad's uncertainty: the mass used, its source and spread, and the
    10-90 % band of the pad's thickness (log-normal wear around the prediction)."""
    vm = vehicle_mass or VehicleMass(0.0, REGISTERED_REL_SD, "registered")
    rel_sd = learned.pad_wear_rel_sd(vm.rel_sd)
    z = NormalDist().inv_cdf(0.9)
    low = max(0.0, measured_mm - wear_mm * math.exp(z * rel_sd))
    high = max(0.0, measured_mm - wear_mm * math.exp(-z * rel_sd))
    return {
        "pad_band_mm": [round(low, 2), round(high, 2)],
        "wear_rel_sd": round(rel_sd, 4),
        "mass_kg": round(vm.mass_kg, 1) if vm.mass_kg else None,
        "mass_source": vm.source,
        "mass_rel_sd": round(vm.rel_sd, 4),
    }


# Trouble-code alert tiers: the urgency of the worst finding, least urgent first.
DTC_TIERS = tuple(str(u) for u in sorted(Urgency))


def trouble_code_alerts(
    conn: psycopg.Connection,
    *,
    vehicle_id: int,
    stored: Sequence[str],
    pending: Sequence[str],
    permanent: Sequence[str],
) -> int | None:
    """Raise (or refresh) the trouble-code alert of the worst finding's urgency; resolve the
    more urgent ones, all when no codes remain. Returns the alert raised or refreshed."""
    valid: dict[str, list[str]] = {"stored": [], "pending": [], "permanent": []}
    for kind, codes in (("stored", stored), ("pending", pending), ("permanent", permanent)):
        for code in codes:
            try:
                valid[kind].append(assess(code).code)
            except InvalidTroubleCode:
                log.warning("vehicle %s: ignoring invalid trouble code %r", vehicle_id, code)
    findings = assess_all(**valid)
    top = worst(findings)
    if top is None:
        sync_alerts(
            conn,
            vehicle_id=vehicle_id,
            kind="trouble_code",
            tiers=DTC_TIERS,
            tier=None,
            severity="info",
            message="",
            evidence={},
        )
        return None
    others = len(findings) - 1
    message = f"{top.summary}" + (f" (and {others} more)" if others else "")
    if top.kind == "pending":
        message += " [pending]"
    evidence = {
        "tier": str(top.urgency),
        "findings": [
            {
                "code": f.code,
                "kind": f.kind,
                "description": f.description,
                "urgency": str(f.urgency),
                "job": f.job,
                "rule": f.rule,
            }
            for f in findings
        ],
    }
    return sync_alerts(
        conn,
        vehicle_id=vehicle_id,
        kind="trouble_code",
        tiers=DTC_TIERS,
        tier=str(top.urgency),
        severity=top.urgency.severity,
        message=message,
        evidence=evidence,
        refresh=True,
    )
