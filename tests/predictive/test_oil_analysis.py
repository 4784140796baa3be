# SPDX-License-Identifier: MIT
"""Used-oil analyses on real PostgreSQL: the evaluator asks for a sample once in an interval
with no analysis of the vehicle's own, a recorded analysis scales the learned oil model to
that engine and narrows its band, and a part-way sample counts for its interval only."""

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import psycopg
import pytest
from drive_helpers import START, write_drive
from typer.testing import CliRunner

from db import migrate as db
from predictive import OIL_MODEL, evaluate_vehicle, learned, oil_analysis
from predictive.vehicle_pass import read_vehicle
from wrenchlight.cli import build_app

app = build_app()

# 12.5 points of oil life per million revolutions in every band: two hours a day at 3,000 rpm
# (0.36 M revolutions, ~117 km) take 4 points a day, so two weeks of it are past the 50 %
# sample point with ~800 km of pessimistic life left: more than the 500 km alert lead.
PER_MREV = 12.5
DAY = timedelta(days=1)


def _models():
    """A fleet model with a 10-90 % band from a hidden per-engine factor (sd ~0.06)."""
    rng = np.random.default_rng(0)
    engines = np.repeat(np.arange(60), 4)
    x = rng.uniform(0.5, 2.0, size=(engines.size, len(learned.OIL_FEATURES)))
    factor = rng.lognormal(0.0, 0.06, 60)[engines] * rng.lognormal(0.0, 0.01, engines.size)
    oil = learned.OilCorrection().fit(x, x @ np.full(x.shape[1], PER_MREV) * factor, engines)
    return learned.LearnedModels(oil, learned.PadPrior([]), {"version": "wl-learned-test"})


def _drive_days(conn, vehicle, first_day, days):
    for d in range(first_day, first_day + days):
        write_drive(conn, vehicle, hours=2, start=START + d * DAY)


def _oil(conn, vehicle, models, at):
    (pred,) = [
        p
        for p in evaluate_vehicle(conn=conn, vehicle_id=vehicle, now=at, learned_models=models)
        if p.model == OIL_MODEL
    ]
    return pred


def _sample_alerts(conn, vehicle):
    return conn.execute(
        "SELECT status, tier, severity, evidence FROM alerts "
        "WHERE vehicle_id = %s AND kind = 'oil_sample' ORDER BY alert_id",
        (vehicle,),
    ).fetchall()


def test_a_sample_is_asked_for_once_and_its_analysis_calibrates_the_engine(conn, vehicle):
    models = _models()
    assert 0.03 < models.oil.log_sigma < 0.1
    _drive_days(conn, vehicle, 0, 7)
    early = _oil(conn, vehicle, models, START + 7 * DAY)
    assert early.evidence["learned"]["fleet_consumed_pct"] < 50.0
    assert not early.evidence["learned"]["sample_due"] and _sample_alerts(conn, vehicle) == []

    _drive_days(conn, vehicle, 7, 7)
    half = _oil(conn, vehicle, models, START + 14 * DAY)
    learned_ev = half.evidence["learned"]
    assert learned_ev["fleet_consumed_pct"] >= 50.0 and not learned_ev["projection_due"]
    assert learned_ev["sample_due"] and learned_ev["oil_analyses"] == 0
    assert learned_ev["vehicle_factor"] == 1.0 and learned_ev["band_scale"] == 1.0
    ((status, tier, severity, evidence),) = _sample_alerts(conn, vehicle)
    assert (status, tier, severity) == ("open", "sample", "info")
    assert evidence["prediction_id"] == half.prediction_id

    # The shop drew the sample (its report resolves the request); the lab takes days. The
    # request is not raised again in this interval, though the sample is still due.
    conn.execute("UPDATE alerts SET status = 'resolved' WHERE kind = 'oil_sample'")
    _drive_days(conn, vehicle, 14, 1)
    waiting = _oil(conn, vehicle, models, START + 15 * DAY)
    assert waiting.evidence["learned"]["sample_due"]
    assert [a[0] for a in _sample_alerts(conn, vehicle)] == ["resolved"]

    # The lab: 30 % left where the fleet model said ~41 %: this engine ages its oil faster.
    stored = oil_analysis.record(
        conn,
        vehicle_id=vehicle,
        sampled_at=START + 15 * DAY,
        life_left_pct=30.0,
        drained=False,
        sd_pct=3.0,
        lab="test lab",
        recorded_by="user:1",
    )
    assert stored.prediction_id == waiting.prediction_id
    fleet_then = waiting.evidence["learned"]["fleet_consumed_pct"]
    assert stored.predicted_consumed_pct == pytest.approx(fleet_then)

    _drive_days(conn, vehicle, 15, 1)
    after = _oil(conn, vehicle, models, START + 16 * DAY)
    cal = after.evidence["learned"]
    assert cal["oil_analyses"] == 1 and not cal["sample_due"]
    ratio = 70.0 / fleet_then
    assert 1.0 < cal["vehicle_factor"] < ratio and cal["band_scale"] < 0.9
    expected = learned.vehicle_calibration(
        [learned.OilObservation(70.0, fleet_then, 3.0)],
        prior_weight=models.oil.factor_prior_weight,
        log_sigma=models.oil.log_sigma,
    )
    assert cal["vehicle_factor"] == pytest.approx(expected.factor, abs=1e-4)
    assert cal["band_scale"] == pytest.approx(expected.band_scale, abs=1e-4)
    # The life is the lab's figure less the fleet model's consumption since the sample, scaled
    # to this engine (oil_anchor), where the model alone would say more.
    since = cal["fleet_consumed_pct"] - fleet_then
    assert after.value == pytest.approx(30.0 - since * expected.factor, abs=0.02)
    assert after.evidence["learned"]["life_pct"] > after.value
    assert [a[0] for a in _sample_alerts(conn, vehicle)] == ["resolved"]


def _observations(conn, vehicle):
    return read_vehicle(conn, vehicle).oil_observations


def test_a_part_way_sample_counts_for_its_interval_and_a_drained_one_for_good(conn, vehicle):
    models = _models()
    _drive_days(conn, vehicle, 0, 7)
    pred = _oil(conn, vehicle, models, START + 7 * DAY)
    fleet = pred.evidence["learned"]["fleet_consumed_pct"]
    oil_analysis.record(
        conn, vehicle_id=vehicle, sampled_at=START + 7 * DAY, life_left_pct=40.0, drained=False
    )
    (obs,) = _observations(conn, vehicle)
    assert obs == learned.OilObservation(60.0, pytest.approx(fleet), oil_analysis.DEFAULT_SD_PCT)

    # The oil is changed and the drained oil analysed: the part-way sample of the old interval
    # gives way to the drained oil's analysis, compared with the last prediction before it.
    change = START + 10 * DAY
    _drive_days(conn, vehicle, 7, 3)
    last = _oil(conn, vehicle, models, change - timedelta(hours=1))
    conn.execute(
        "UPDATE vehicles SET oil_changed_at = %s, oil_changed_odometer_km = 11000 "
        "WHERE vehicle_id = %s",
        (change, vehicle),
    )
    assert _observations(conn, vehicle) == ()
    drained = oil_analysis.record(
        conn, vehicle_id=vehicle, sampled_at=change, life_left_pct=8.0, drained=True, sd_pct=2.0
    )
    assert drained.prediction_id == last.prediction_id
    assert _observations(conn, vehicle) == (
        learned.OilObservation(
            92.0, pytest.approx(last.evidence["learned"]["fleet_consumed_pct"]), 2.0
        ),
    )
    # A part-way sample with no prediction of the new interval to compare with counts for
    # nothing: it is stored, its prediction left empty.
    orphan = oil_analysis.record(
        conn, vehicle_id=vehicle, sampled_at=change + DAY, life_left_pct=90.0, drained=False
    )
    assert orphan.predicted_consumed_pct is None and orphan.prediction_id is None
    assert len(_observations(conn, vehicle)) == 1


def test_impossible_analyses_are_refused(conn, vehicle):
    with pytest.raises(oil_analysis.OilAnalysisError, match="0-100"):
        oil_analysis.record(
            conn, vehicle_id=vehicle, sampled_at=START, life_left_pct=120.0, drained=True
        )
    with pytest.raises(oil_analysis.OilAnalysisError, match="no vehicle 999999"):
        oil_analysis.record(
            conn, vehicle_id=999999, sampled_at=START, life_left_pct=50.0, drained=True
        )
    assert conn.execute("SELECT count(*) FROM oil_analyses").fetchone()[0] == 0


def test_a_sample_that_cannot_be_true_is_refused_with_what_to_do(conn, vehicle):
    # Serviced at START at 10,000 km; its dongle read 12,000 km three days later.
    conn.execute(
        "INSERT INTO vehicle_state (vehicle_id, last_seen, odometer_km) VALUES (%s, %s, %s)",
        (vehicle, START + 3 * DAY, 12_000.0),
    )
    now = START + 5 * DAY

    def record(**kw):
        args = {"sampled_at": START + DAY, "life_left_pct": 60.0, "drained": False, **kw}
        return oil_analysis.record(conn, vehicle_id=vehicle, now=now, **args)

    refused = [
        ({"sampled_at": now + DAY}, r"after now .*: give the time it was drawn"),
        (
            {"sampled_at": START - DAY},
            r"before the last oil change .*check its date, or record it as the drained oil",
        ),
        ({"odometer_km": 5.0}, r"odometer 5\.0 km is below the 10,000\.0 km .*check the reading"),
        # Drawn after the dongle's 12,000 km: it cannot have read less.
        (
            {"sampled_at": START + 4 * DAY, "odometer_km": 11_500.0},
            r"below the 12,000\.0 km the car had already shown",
        ),
    ]
    for kw, why in refused:
        with pytest.raises(oil_analysis.OilAnalysisError, match=why):
            record(**kw)
    assert conn.execute("SELECT count(*) FROM oil_analyses").fetchone()[0] == 0

    # What can be true is taken: a clock a few minutes ahead, a reading from before the car
    # drove on to 12,000 km, the drained oil of the change at START sampled the day before.
    record(sampled_at=now + oil_analysis.CLOCK_SLACK / 2)
    record(odometer_km=10_500.0)
    record(sampled_at=START - DAY, drained=True, odometer_km=9_990.0)
    assert conn.execute("SELECT count(*) FROM oil_analyses").fetchone()[0] == 3


def test_revision_0010_goes_down_and_up_again(scratch_database):
    url = scratch_database
    # Pinned to 0010: later revisions have their own round trips.
    db.upgrade(url, "0010")
    with psycopg.connect(url, autocommit=True) as c:
        row = c.execute("INSERT INTO vehicles (vin) VALUES (%s) RETURNING vehicle_id", ("W" * 17,))
        vid = row.fetchone()[0]
        c.execute(
            "INSERT INTO alerts (vehicle_id, kind, tier, severity, message) "
            "VALUES (%s, 'oil_sample', 'sample', 'info', 'sample me')",
            (vid,),
        )
    db.downgrade(url, "0009")
    with psycopg.connect(url, autocommit=True) as c:
        assert c.execute("SELECT to_regclass('oil_analyses')").fetchone()[0] is None
        assert c.execute("SELECT count(*) FROM alerts").fetchone()[0] == 0
        with pytest.raises(psycopg.errors.CheckViolation):
            c.execute(
                "INSERT INTO alerts (vehicle_id, kind, tier, severity, message) "
                "VALUES (%s, 'oil_sample', 'sample', 'info', 'x')",
                (vid,),
            )
    db.upgrade(url, "0010")
    assert db.current_revision(url) == "0010"
    with psycopg.connect(url, autocommit=True) as c:
        assert c.execute("SELECT to_regclass('oil_analyses')").fetchone()[0] is not None


def test_the_command_line_records_an_analysis_by_vin(conn, vehicle, db_url, monkeypatch):
    monkeypatch.setenv("WRENCHLIGHT_DATABASE_URL", db_url)
    runner = CliRunner()
    args = ["predictive", "oil-analysis", "WLTEST00000000001", "--life-left", "61"]
    res = runner.invoke(
        app, [*args, "--sampled-at", "2026-11-20T09:30:00+00:00", "--sd", "3", "--json"]
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout.strip().splitlines()[-1])
    assert (doc["vehicle_id"], doc["life_left_pct"], doc["sd_pct"]) == (vehicle, 61.0, 3.0)
    assert doc["drained"] is False and doc["recorded_by"] == "cli"
    text = runner.invoke(app, [*args, "--drained"])
    assert text.exit_code == 0 and "does not calibrate the model" in text.stdout
    tomorrow = (datetime.now(UTC) + DAY).isoformat()
    for bad, why in (
        (["predictive", "oil-analysis", "WLNOSUCH000000000", "--life-left", "5"], "no vehicle"),
        ([*args, "--sampled-at", "2026-11-20T09:30:00"], "time zone"),
        ([*args, "--sampled-at", "yesterday"], "not an ISO 8601"),
        ([*args, "--sampled-at", tomorrow], "after now"),
        ([*args, "--sampled-at", "2026-10-20T09:30:00+00:00"], "before the last oil change"),
        ([*args, "--odometer-km", "5"], "below the 10,000.0 km"),
    ):
        res = runner.invoke(app, bad)
        assert res.exit_code == 2 and why in res.output, res.output
    assert runner.invoke(app, [*args[:3], "--life-left", "101"]).exit_code == 2
    drained = conn.execute("SELECT drained FROM oil_analyses ORDER BY analysis_id").fetchall()
    assert drained == [(False,), (True,)]
