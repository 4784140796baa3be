# SPDX-License-Identifier: MIT
"""modellab: the metrics on hand-made lives, and train → evaluate on a tiny fleet."""

import json

import numpy as np
import pytest
from hand_made import vehicle_log
from typer.testing import CliRunner

from modellab.drives import split
from modellab.oil_replay import OilLab, PolicyResult, physics_consumed, replay_oil
from modellab.outcomes import LifeOutcome, life_outcome
from modellab.pad_replay import PadResult, replay_pads, shop_visits
from predictive import learned
from wrenchlight.cli import build_app

app = build_app()

REQUIRED = (
    "oil_mae_pct",
    "pad_mae_mm_prior",
    "pad_mae_mm_calibrated",
    "alert_recall",
    "alert_recall_lower95",
    "early_alert_rate",
    "early_alert_rate_obd_only",
    "band_coverage_80",
    "wasted_life_vs_best_interval",
)


def _life(predicted_left):
    day = np.arange(10.0) * 2.0  # a trip every 2 days, 300 km each
    cum_km = np.arange(1.0, 11.0) * 300.0
    true_left = 100.0 - np.arange(1.0, 11.0) * 10.0  # 90, 80, ... 0 at index 9
    return life_outcome(
        day,
        cum_km,
        true_left,
        np.asarray(predicted_left, dtype=float),
        alert_at=15.0,
        threshold=0.0,
        early_above=25.0,
    )


def test_lead_time_of_an_alert_before_the_true_threshold():
    out = _life(100.0 - np.arange(1.0, 11.0) * 12.0)  # 88, 76, ... alert at 4 (i=7)
    assert (out.alert, out.crossing) == (7, 9)
    assert out.lead_km == 600.0 and out.lead_days == 4.0
    assert out.in_time  # 600 km >= 500 km, though only 4 days
    assert not out.early  # true life at the alert: 20 %, not above 25 %


def test_in_time_needs_500_km_or_7_days():
    assert LifeOutcome(1, 5, 500.0, 1.0, False).in_time
    assert LifeOutcome(1, 5, 10.0, 7.0, False).in_time
    assert not LifeOutcome(1, 5, 499.0, 6.9, False).in_time
    assert not LifeOutcome(None, 5, None, None, False).in_time


def test_late_and_early_alerts():
    late = _life(np.full(10, 50.0))  # never alerts
    assert late.alert is None and late.crossing == 9 and not late.in_time
    early = _life(np.full(10, 10.0))  # alerts at once, true life 90
    assert early.alert == 0 and early.early and early.in_time
    assert early.lead_km == 2700.0


def _log(n=20):
    return vehicle_log(n)


def test_fixed_interval_wasted_life_and_missed_thresholds():
    r = PolicyResult()
    assert replay_oil(_log(), r, interval=(5000.0, 365.0)) == [4, 9, 14, 19]
    assert r.wasted_pct == [50.0, 50.0, 50.0, 50.0] and r.missed == 0
    r = PolicyResult()
    assert replay_oil(_log(), r, interval=(12000.0, 365.0)) == [11]
    assert r.wasted_pct == [0.0] and r.missed == 1
    r = PolicyResult()
    assert replay_oil(_log(), r, interval=(50000.0, 3.0)) == [2, 5, 8, 11, 14, 17]
    assert r.wasted_pct == [70.0] * 6


def test_model_policy_changes_at_its_alert():
    r = PolicyResult()
    # Physics: 3 Mrevs of 30 per trip = 10 points, exactly the truth: alert at 10 % left.
    changes = replay_oil(_log(), r, predictor=physics_consumed)
    assert changes == [8, 17]
    assert r.wasted_pct == pytest.approx([10.0, 10.0]) and r.missed == 0
    assert [o.lead_km for o in r.outcomes[:2]] == [1000.0, 1000.0]
    assert float(np.concatenate(r.abs_err).max()) == pytest.approx(0.0, abs=1e-9)


def test_alerting_on_the_band_alerts_earlier_than_on_the_median():
    def banded(cum_x, cum_eff):
        c = physics_consumed(cum_x, cum_eff)[:, 1]
        return np.column_stack([c * 0.8, c, c * 1.2])

    mid, band = PolicyResult(), PolicyResult()
    assert replay_oil(_log(), mid, predictor=banded)[0] == 8  # median life 10 % at trip 8
    # Pessimistic edge 100 - 1.2 * consumed <= 15 first at consumed 80 %: trip 7.
    assert replay_oil(_log(), band, predictor=banded, alert="band")[0] == 7
    assert band.wasted_pct[0] == pytest.approx(20.0)


def test_projection_alert_comes_a_lead_ahead_at_the_cars_own_usage():
    # 100 km a day, 1 point per 100 km, a sure model (no spread): the lead needed is 500 km
    # (a week would be 700) + a quarter day (25 km), so the alert comes once <= 525 km of life
    # are left: at 95 % consumed (trip 94), 500 km and 5 days ahead of the truth's end.
    log = _log(120)
    log.km, log.oil_true_pct, log.eff_mrevs = np.full(120, 100.0), np.ones(120), np.full(120, 0.3)
    r = PolicyResult()
    assert replay_oil(log, r, predictor=physics_consumed, alert="projection")[0] == 94
    assert r.outcomes[0].lead_km == 500.0 and r.outcomes[0].in_time
    assert r.wasted_pct[0] == pytest.approx(5.0)
    # A log-normal spread of 0.1 at 99 %: the pessimistic consumed is 1.262x the median, so
    # the alert comes once 100 - 1.262 c <= 6.6 points: c = 74 % (trip 73).
    r = PolicyResult()
    changes = replay_oil(log, r, predictor=physics_consumed, alert="projection", log_sigma=0.1)
    assert changes[0] == 73 and r.wasted_pct[0] == pytest.approx(26.0)


def test_a_first_interval_oil_sample_narrows_the_band_so_the_alert_is_not_early():
    # As above: the model is right, but its fleet band is 0.1 wide and the car has no change
    # of its own, so the alert comes at 74 % consumed, 26 % true life left: early.
    log = _log(120)
    log.km, log.oil_true_pct, log.eff_mrevs = np.full(120, 100.0), np.ones(120), np.full(120, 0.3)
    model = {
        "predictor": physics_consumed,
        "alert": "projection",
        "log_sigma": 0.1,
        "factor_prior": 0.01,
    }
    fleet, sampled = PolicyResult(), PolicyResult()
    assert replay_oil(log, fleet, **model)[0] == 73
    assert fleet.outcomes[0].early and fleet.samples == 0
    # An exact analysis of a sample at 50 % (trip 49), known 5 days later, pins the factor at 1
    # and leaves the within-vehicle spread: sd 0.1·sqrt((1/101 + 0.01) / 1.01) = 0.014.
    change = replay_oil(log, sampled, **model, lab=OilLab(0.0, 50.0), keep_trace=True)[0]
    assert sampled.samples == 1
    assert sampled.traces[log.vin]["sample_day"] == [50.0]  # trip 49 ends on day 50: the plot
    pess = np.exp(2.326 * 0.1 * np.sqrt((1 / 101 + 0.01) / 1.01))
    assert change + 1 == pytest.approx((100.0 - 5.25) / pess, abs=1.0)  # 525 km lead left
    out = sampled.outcomes[0]
    assert out.in_time and not out.early
    # Its drained oil is analysed too: the next interval keeps the narrow band, no sample.
    assert sampled.samples == 1 and len(sampled.outcomes) >= 2 and not sampled.outcomes[1].early


def test_pad_measurement_recalibrates_and_the_alert_replaces_the_pads():
    log = _log(60)  # 100 MJ and 0.1 mm per axle per trip: 0.001 mm/MJ, 3 mm left at trip 89
    prior = np.full((60, 2), 0.0015)  # the fleet prior thinks these pads wear 50 % faster
    r = PadResult()
    replay_pads(log, r, prior=prior, visits=[9], rng=np.random.default_rng(0))
    # Before the measurement after trip 9 the error grows to 0.5 * 1 mm. The measurement
    # (1 mm worn, gauge ±0.2 mm) weighs about as much as the prior (±15 %): the error restarts
    # at the gauge's and grows at half the prior's rate, 1.1 mm instead of 3 mm by trip 59.
    assert np.concatenate(r.err_prior).max() == pytest.approx(0.45)
    calibrated = np.concatenate(r.err_calibrated)
    assert calibrated[0] < 0.2 and 0.8 < calibrated.max() < 1.5
    # A second measurement after trip 39 (4 mm worn) pins the coefficient down.
    r = PadResult()
    replay_pads(log, r, prior=prior, visits=[9, 39], rng=np.random.default_rng(0))
    assert np.concatenate(r.err_calibrated)[30:].max() < 0.3
    assert r.replacements == 0 and r.outcomes[0].alert is None  # 60 trips: 6 mm worn
    # 0.125 mm per trip (exact in binary): the truth reaches 3 mm after trip 71; a prior of
    # 0.0012 mm/MJ predicts 4 mm after 66.7 trips: alert at trip 66, 5,000 km ahead.
    log = _log(120)
    log.pad_true_mm = np.full((120, 2), 0.125)
    r = PadResult()
    replay_pads(log, r, prior=np.full((120, 2), 0.0012), visits=[], rng=None)
    assert (r.outcomes[0].alert, r.outcomes[0].crossing) == (66, 71)
    assert r.outcomes[0].lead_km == 5000.0 and r.outcomes[0].in_time
    assert r.replacements == 1 and r.missed == 0


def test_electric_cars_have_their_pads_measured_every_half_year():
    log = _log(400)
    log.kind = "electric"
    assert shop_visits(log, []) == [182, 364]  # day[i] = i + 1
    log.kind = "petrol"
    assert shop_visits(log, [5, 50]) == [5, 50]


def test_split_is_seeded_and_disjoint():
    train, held = split(50, seed=3)
    assert split(50, seed=3) == (train, held)
    assert split(50, seed=4) != (train, held)
    assert not set(train) & set(held) and len(train) + len(held) == 50 and len(held) == 15


@pytest.mark.slow
def test_train_then_evaluate_a_tiny_fleet(tmp_path):
    fleet = ["--vehicles", "16", "--days", "150", "--seed", "0"]
    runner = CliRunner()
    res = runner.invoke(
        app, ["predictive", "train", *fleet, "--out", str(tmp_path / "m"), "--json"]
    )
    assert res.exit_code == 0, res.output
    trained = json.loads(res.stdout.strip().splitlines()[-1])
    assert trained["oil_examples"] >= len(learned.OIL_FEATURES)
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    assert manifest["version"] == learned.ARTIFACT_VERSION and manifest["training_vins"]

    res = runner.invoke(
        app,
        [
            "predictive",
            "evaluate",
            *fleet,
            "--models",
            str(tmp_path / "m"),
            "--out",
            str(tmp_path / "e"),
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout.strip().splitlines()[-1])
    for key in REQUIRED:
        assert key in report
    assert len(report["vins"]) == 5 and not set(manifest["training_vins"]) & set(report["vins"])
    assert report["dropped_training_vehicles"] == 0 and report["vehicles"] == 5
    assert 0.0 < report["oil_mae_pct"] < 15.0
    assert report["oil_mae_pct_with_lab"] < report["oil_mae_pct_physics"]
    # The headline is OBD only, with intervals; the lab's policy sits beneath it.
    recall = report["rates"]["alert_recall_obd_only"]
    assert report["alert_recall"] == recall["rate"] and recall["n"] > 0
    assert report["alert_recall_lower95"] == recall["low95"] < recall["rate"] or recall["k"] == 0
    early = report["rates"]["early_alert_rate_obd_only"]
    assert report["early_alert_rate_obd_only"] == early["rate"]
    assert report["early_alert_rate"] == report["rates"]["early_alert_rate_with_lab"]["rate"]
    assert 0.0 < report["band_coverage_80"] <= 1.0 and report["oil_pinball_pct"] > 0.0
    # The same model on features from the estimated oil temperature (no PID 0x5C).
    assert 0.0 < report["oil_mae_pct_estimated_oil_temp"] < report["oil_mae_pct_physics"]
    assert 0.0 < report["pad_mae_mm_prior"] < 2.0
    assert 0.0 < report["pad_mae_mm_calibrated"] < 2.0
    assert report["oil"]["5000km_6mo"]["wasted_pct"] > report["oil"]["model"]["wasted_pct"]
    # One sample per car whose first oil got half-way; the same policy without it beside.
    model = report["oil"]["model"]
    assert 0 < model["first_interval_samples"] <= model["changes"] + 5
    for policy in ("model_obd_only", "model_lab_sd_5_pct", "model_lab_sd_8_pct"):
        assert report["oil"][policy]["changes"] > 0
    for name in ("oil_life.png", "brake_pads.png"):
        assert (tmp_path / "e" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads((tmp_path / "e" / "report.json").read_text())["vehicles"] == 5


def test_evaluate_without_models_exits_2(tmp_path):
    res = CliRunner().invoke(
        app,
        [
            "predictive",
            "evaluate",
            "--vehicles",
            "4",
            "--days",
            "1",
            "--models",
            str(tmp_path / "none"),
        ],
    )
    assert res.exit_code == 2 and "no manifest.json" in res.output
