# SPDX-License-Identifier: MIT
"""A recorded oil analysis shows in the oil life at once, on real PostgreSQL: the lab's life
left less what the model says was consumed since, with the analysis count, its alert raised
or resolved; on the physics model and on the learned one; through the command line too."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from drive_helpers import START, write_drive
from test_oil_analysis import _models
from typer.testing import CliRunner

from api.vehicles.service import get_health
from predictive import OIL_MODEL, evaluate_vehicle, lab_results, oil
from wrenchlight.cli import build_app

app = build_app()

DAY = timedelta(days=1)


def _oil_alerts(conn, vehicle):
    return conn.execute(
        "SELECT tier, status FROM alerts WHERE vehicle_id = %s AND kind = 'oil_change' "
        "ORDER BY alert_id",
        (vehicle,),
    ).fetchall()


def _oil(conn, vehicle, at, models=None):
    (pred,) = [
        p
        for p in evaluate_vehicle(conn=conn, vehicle_id=vehicle, now=at, learned_models=models)
        if p.model == OIL_MODEL
    ]
    return pred


def test_a_lab_figure_is_the_oil_life_at_once_and_raises_its_alert(conn, vehicle):
    for d in range(3):
        write_drive(conn, vehicle, hours=1, oil_temp_c=95.0, start=START + d * DAY)
    model = _oil(conn, vehicle, START + 3 * DAY)
    assert model.value > 50.0 and _oil_alerts(conn, vehicle) == []

    # The lab: 3 % left in a sample drawn at that point (the physics model said far more).
    stored, pred = lab_results.record_analysis(
        conn,
        vehicle_id=vehicle,
        sampled_at=START + 3 * DAY,
        life_left_pct=3.0,
        drained=False,
        sd_pct=2.0,
        now=START + 3 * DAY + timedelta(hours=2),
    )
    assert stored.prediction_id == model.prediction_id and stored.predicted_consumed_pct is None
    assert pred is not None and pred.value == pytest.approx(3.0)
    assert pred.evidence["band"] == "due_now"  # the tier of the alert it raises
    assert pred.evidence["analysis"]["oil_analyses"] == 1
    health = get_health(conn=conn, vehicle_id=vehicle)
    assert health is not None and health.oil is not None
    assert (health.oil.oil_life_pct, health.oil.oil_analyses) == (3.0, 1)
    # The lab's 10-90 % band: ±1.28 sd.
    assert health.oil.life_band_pct == pytest.approx((0.44, 5.56), abs=0.01)
    assert ("due_now", "open") in _oil_alerts(conn, vehicle)
    assert any(a.kind == "oil_change" and a.tier == "due_now" for a in health.open_alerts)

    # Another day's driving is consumed from the lab's figure, not from the model's.
    write_drive(conn, vehicle, hours=1, oil_temp_c=95.0, start=START + 3 * DAY + timedelta(hours=3))
    later = _oil(conn, vehicle, START + 4 * DAY)
    used = (
        later.evidence["effective_revolutions"] - model.evidence["effective_revolutions"]
    ) / oil.BUDGET_EFFECTIVE_REVS
    assert used > 0.005
    assert later.value == pytest.approx(max(0.0, 3.0 - 100.0 * used), abs=0.05)

    # A second sample, 80 % left: the life follows it and the oil alerts are resolved.
    _, fresh = lab_results.record_analysis(
        conn,
        vehicle_id=vehicle,
        sampled_at=START + 4 * DAY,
        life_left_pct=80.0,
        drained=False,
        now=START + 4 * DAY + timedelta(hours=1),
    )
    assert fresh is not None and fresh.value == pytest.approx(80.0)
    assert fresh.evidence["analysis"]["oil_analyses"] == 1
    assert {status for _, status in _oil_alerts(conn, vehicle)} == {"resolved"}


def test_the_learned_model_consumes_from_the_lab_figure_and_counts_the_analysis(conn, vehicle):
    models = _models()
    for d in range(7):
        write_drive(conn, vehicle, hours=2, start=START + d * DAY)
    model = _oil(conn, vehicle, START + 7 * DAY, models)
    assert model.evidence["learned"]["oil_analyses"] == 0 and model.value > 40.0

    _, pred = lab_results.record_analysis(
        conn,
        vehicle_id=vehicle,
        sampled_at=START + 7 * DAY,
        life_left_pct=10.0,
        drained=False,
        sd_pct=3.0,
        now=START + 7 * DAY + timedelta(hours=1),
        learned_models=models,
    )
    assert pred is not None and pred.value == pytest.approx(10.0)
    assert pred.model_version.endswith("+wl-learned-test")
    assert pred.evidence["learned"]["oil_analyses"] == 1
    assert pred.evidence["analysis"]["oil_analyses"] == 1
    low, high = pred.evidence["analysis"]["band_pct"]
    assert low < 10.0 < high
    assert ("change_soon", "open") in _oil_alerts(conn, vehicle)
    health = get_health(conn=conn, vehicle_id=vehicle)
    assert health is not None and health.oil is not None
    assert (health.oil.oil_life_pct, health.oil.oil_analyses) == (10.0, 1)
    assert not health.oil.sample_due

    # A day later the learned consumption since the sample, scaled to this engine, is taken.
    write_drive(conn, vehicle, hours=2, start=START + 7 * DAY + timedelta(hours=2))
    later = _oil(conn, vehicle, START + 8 * DAY, models)
    factor = later.evidence["learned"]["vehicle_factor"]
    fleet_used = (
        later.evidence["learned"]["fleet_consumed_pct"]
        - model.evidence["learned"]["fleet_consumed_pct"]
    )
    assert fleet_used > 1.0
    assert later.value == pytest.approx(max(0.0, 10.0 - factor * fleet_used), abs=0.05)


def test_the_command_line_shows_the_analysed_life_at_once(conn, vehicle, db_url, monkeypatch):
    monkeypatch.setenv("WRENCHLIGHT_DATABASE_URL", db_url)
    # The app's clock runs this flow: the car's service a week before it.
    conn.execute(
        "UPDATE vehicles SET oil_changed_at = %s WHERE vehicle_id = %s",
        (datetime.now(UTC) - 7 * DAY, vehicle),
    )
    res = CliRunner().invoke(
        app,
        ["predictive", "oil-analysis", "WLTEST00000000001", "--life-left", "3", "--json"],
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout.strip().splitlines()[-1])
    assert doc["oil_life_pct"] == 3.0
    health = get_health(conn=conn, vehicle_id=vehicle)
    assert health is not None and health.oil is not None
    assert (health.oil.oil_life_pct, health.oil.oil_analyses) == (3.0, 1)
    assert [(a.kind, a.tier) for a in health.open_alerts] == [("oil_change", "due_now")]
