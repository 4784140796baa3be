# SPDX-License-Identifier: MIT
"""The evaluator on real PostgreSQL: predictions, alerts, incremental == from scratch."""

import threading
import time
from datetime import datetime, timedelta

import factories
import numpy as np
import pytest
from drive_helpers import START, STEP_S, stop_and_go_kmh, write_drive

from predictive import (
    BRAKE_MODEL,
    OIL_MODEL,
    VehicleNotFound,
    assess,
    brakes,
    evaluate_pending,
    evaluate_vehicle,
    latest_predictions,
    run_evaluator,
)


def _alerts(conn, vehicle_id):
    return conn.execute(
        "SELECT kind, severity, message, prediction_id FROM alerts WHERE vehicle_id = %s "
        "ORDER BY kind",
        (vehicle_id,),
    ).fetchall()


def _assert_same_state(a, b):
    assert a.keys() == b.keys()
    for key, value in a.items():
        assert b[key] == (None if value is None else pytest.approx(value, rel=1e-9)), key


def test_crossing_the_thresholds_raises_exactly_one_alert_each(conn, vehicle):
    write_drive(conn, vehicle, hours=38)
    first = evaluate_vehicle(conn=conn, vehicle_id=vehicle, now=START + timedelta(hours=20))
    by_model = {p.model: p for p in first}
    assert by_model[OIL_MODEL].value == pytest.approx(52.0, abs=0.5)
    assert by_model[OIL_MODEL].unit == "%"
    # 0.027 mm an hour off the 4.75 mm front pads (engine braking takes 17 % of each stop).
    assert by_model[BRAKE_MODEL].evidence["pad_front_mm"] == pytest.approx(4.21, abs=0.02)
    assert _alerts(conn, vehicle) == []

    later = START + timedelta(hours=39)
    evaluate_vehicle(conn=conn, vehicle_id=vehicle, now=later)
    evaluate_vehicle(conn=conn, vehicle_id=vehicle, now=later)  # nothing new: no duplicate
    latest = latest_predictions(conn=conn, vehicle_id=vehicle)
    oil, pads = latest[OIL_MODEL], latest[BRAKE_MODEL]
    assert oil.value == pytest.approx(8.8, abs=0.3)
    # Recent wear rate: 4 effective revolutions × 3000 rpm / 58.3 km/h average speed.
    assert oil.remaining_km == pytest.approx(0.088 * 30e6 / (12_000 * 60 / 58.333), rel=0.05)
    alerts = _alerts(conn, vehicle)
    assert [a[0] for a in alerts] == ["brake_pads", "oil_change"]
    assert alerts[1][2].startswith("Oil life 9 %, about ") and alerts[1][2].endswith(" km left")
    assert alerts[0][2].startswith("Front brake pads 3.7 mm, about ")
    assert alerts[1][3] == oil.prediction_id and alerts[0][3] == pads.prediction_id

    # More driving while the alert is still open: still one alert per kind.
    write_drive(conn, vehicle, hours=1, start=START + timedelta(hours=39))
    evaluate_vehicle(conn=conn, vehicle_id=vehicle, now=START + timedelta(hours=41))
    assert len(_alerts(conn, vehicle)) == 2


def test_incremental_evaluation_equals_from_scratch(conn, vehicle):
    times = write_drive(conn, vehicle, hours=12)
    # Chunk ends that fall on a sample (held back: younger than settle_s) and between samples.
    for hours in (0.5, 3.0, 3.0 + 5 / 3600, 7.25, 12.0):
        evaluate_vehicle(conn=conn, vehicle_id=vehicle, now=START + timedelta(hours=hours))
    # A sample that shares the newest timestamp, arriving after that timestamp was held back.
    last = START + timedelta(seconds=times[-1] - START.timestamp())
    conn.execute(
        "INSERT INTO readings (time, vehicle_id, coolant_temp_c) VALUES (%s, %s, 96)",
        (last, vehicle),
    )
    end = START + timedelta(hours=13)
    incremental = {p.model: p for p in evaluate_vehicle(conn=conn, vehicle_id=vehicle, now=end)}
    scratch = {
        p.model: p for p in evaluate_vehicle(conn=conn, vehicle_id=vehicle, now=end, rebuild=True)
    }
    assert incremental[OIL_MODEL].evidence["state"]["last_coolant_temp"] == [times[-1], 96.0]
    for model in (OIL_MODEL, BRAKE_MODEL):
        _assert_same_state(incremental[model].evidence["state"], scratch[model].evidence["state"])
        assert incremental[model].value == pytest.approx(scratch[model].value, rel=1e-9)
    assert incremental[OIL_MODEL].evidence["state"]["km"] == pytest.approx(700, rel=0.01)


def test_a_new_oil_change_restarts_the_oil_model(conn, vehicle):
    write_drive(conn, vehicle, hours=2)
    evaluate_vehicle(conn=conn, vehicle_id=vehicle, now=START + timedelta(hours=3))
    conn.execute(
        "UPDATE vehicles SET oil_changed_at = %s WHERE vehicle_id = %s",
        (START + timedelta(hours=1), vehicle),
    )
    write_drive(conn, vehicle, hours=0.1, start=START + timedelta(hours=2.5))
    oil = {
        p.model: p
        for p in evaluate_vehicle(conn=conn, vehicle_id=vehicle, now=START + timedelta(hours=3))
    }[OIL_MODEL]
    # One hour plus six minutes of driving at 200 effective revolutions per second.
    assert oil.evidence["effective_revolutions"] == pytest.approx(200 * 3960, rel=0.01)


def test_unknown_vehicle_raises(conn):
    with pytest.raises(VehicleNotFound):
        evaluate_vehicle(conn=conn, vehicle_id=999, now=START)


def test_evaluate_pending_picks_vehicles_with_newer_state(conn, vehicle):
    write_drive(conn, vehicle, hours=0.2)
    factories.vehicle_state(conn, vehicle, last_seen=START)
    now = START + timedelta(hours=1)
    assert evaluate_pending(conn=conn, now=now) == [vehicle]
    assert evaluate_pending(conn=conn, now=now) == []
    conn.execute("UPDATE vehicle_state SET updated_at = now() WHERE vehicle_id = %s", (vehicle,))
    assert evaluate_pending(conn=conn, now=now) == [vehicle]


def test_run_evaluator_reacts_to_notifications(conn, db_url, vehicle):
    stop = threading.Event()
    worker = threading.Thread(
        target=run_evaluator,
        args=(db_url,),
        kwargs={
            "stop_event": stop,
            "poll_interval_s": 3600.0,
            "clock": lambda: START + timedelta(hours=1),
        },
    )
    worker.start()
    try:
        # No state row: no sweep finds this drive, only a notification brings it. Notified
        # until it is evaluated, since the worker may not be listening yet.
        write_drive(conn, vehicle, hours=0.2)
        deadline = time.monotonic() + 10
        while not latest_predictions(conn=conn, vehicle_id=vehicle):
            assert time.monotonic() < deadline, "no prediction after notifying"
            conn.execute("SELECT pg_notify('wl_vehicle_data', %s)", (str(vehicle),))
            time.sleep(0.2)
    finally:
        stop.set()
        worker.join(timeout=5)
    assert not worker.is_alive()


def test_paged_reading_gives_the_same_totals(conn, vehicle, monkeypatch):
    write_drive(conn, vehicle, hours=2)
    end = START + timedelta(hours=3)
    whole = evaluate_vehicle(conn=conn, vehicle_id=vehicle, now=end)
    monkeypatch.setattr("predictive.evaluator.PAGE_ROWS", 997)
    paged = evaluate_vehicle(conn=conn, vehicle_id=vehicle, now=end, rebuild=True)
    for a, b in zip(whole, paged, strict=True):
        assert a.model == b.model
        _assert_same_state(a.evidence["state"], b.evidence["state"])


def _write_odometer(conn, vehicle_id, km, at):
    conn.execute(
        "INSERT INTO readings (time, vehicle_id, odometer_km) VALUES (%s, %s, %s)",
        (at, vehicle_id, km),
    )


def test_km_before_the_first_reading_are_charged_at_the_nominal_rate(conn, vehicle):
    # Serviced at 10,000 km (the fixture); the dongle arrives 6,000 km later.
    write_drive(conn, vehicle, hours=1)
    _write_odometer(conn, vehicle, 16_000.0, START + timedelta(seconds=1))
    preds = evaluate_vehicle(conn=conn, vehicle_id=vehicle, now=START + timedelta(hours=3))
    by_model = {p.model: p for p in preds}
    oil, pads = by_model[OIL_MODEL], by_model[BRAKE_MODEL]
    assert oil.evidence["km_before_first_reading"] == pytest.approx(6_000.0)
    observed = evaluate_vehicle(
        conn=conn, vehicle_id=vehicle, now=START + timedelta(hours=3), rebuild=True
    )
    assert {p.model: p.value for p in observed}[OIL_MODEL] == pytest.approx(oil.value)
    # 6,000 km at the nominal 2,500 effective revolutions/km is half the 30 M budget.
    conn.execute("DELETE FROM readings WHERE odometer_km IS NOT NULL")
    fresh = {
        p.model: p
        for p in evaluate_vehicle(
            conn=conn, vehicle_id=vehicle, now=START + timedelta(hours=3), rebuild=True
        )
    }
    assert fresh[OIL_MODEL].value - oil.value == pytest.approx(50.0, abs=0.01)
    # 6,000 km x 0.078 MJ/km x 0.0033 mm/MJ x 70 % on the front axle.
    front_drop = fresh[BRAKE_MODEL].evidence["pad_front_mm"] - pads.evidence["pad_front_mm"]
    assert front_drop == pytest.approx(6_000 * 0.078 * 0.0033 * 0.7, abs=0.02)


def test_battery_electric_cars_get_no_oil_prediction(conn):
    from db.registry import create_vehicle

    ev = create_vehicle(
        conn,
        vin="WLTEST00000000EV1",
        fuel_type="electric",
        oil_changed_at=START,
        oil_changed_odometer_km=0.0,
        pads_measured_at=START,
        pads_measured_odometer_km=0.0,
    )
    write_drive(conn, ev, hours=2)
    _write_odometer(conn, ev, 30_000.0, START + timedelta(seconds=1))
    models = {
        p.model for p in evaluate_vehicle(conn=conn, vehicle_id=ev, now=START + timedelta(hours=3))
    }
    assert models == {BRAKE_MODEL}
    assert [a for a in _alerts(conn, ev) if a[0] == "oil_change"] == []


def test_regenerating_cars_wear_pads_a_quarter_as_fast(conn, vehicle):
    from db.registry import create_vehicle

    hybrid = create_vehicle(
        conn,
        vin="WLTEST000000HYB01",
        fuel_type="hybrid",
        mass_kg=1400,
        pads_measured_at=START,
        pads_measured_odometer_km=10_000.0,
        pad_front_mm=4.6,
        pad_rear_mm=6.0,
    )
    for vid in (vehicle, hybrid):
        write_drive(conn, vid, hours=2)
    later = START + timedelta(hours=3)
    wear = {}
    for vid in (vehicle, hybrid):
        preds = {p.model: p for p in evaluate_vehicle(conn=conn, vehicle_id=vid, now=later)}
        wear[vid] = preds[BRAKE_MODEL].evidence["braking_energy_mj"]  # pad wear ∝ this
    assert wear[vehicle] > 0
    # The hybrid's friction brakes take a quarter of the braking energy; the petrol car's
    # take all of it less what its engine absorbs off the throttle.
    t = np.arange(0.0, 2 * 3600.0 + STEP_S / 2, STEP_S)
    v = stop_and_go_kmh(t)
    with_engine = brakes.braking_energy_j(
        t, v, mass_kg=1400, engine_brake_mps2=brakes.ENGINE_BRAKE_MPS2
    ).sum()
    share = 0.25 * brakes.braking_energy_j(t, v, mass_kg=1400).sum() / with_engine
    assert wear[hybrid] == pytest.approx(share * wear[vehicle], rel=0.01)


def _tiers(conn, vehicle_id, kind):
    return conn.execute(
        "SELECT tier, severity, status FROM alerts WHERE vehicle_id = %s AND kind = %s "
        "ORDER BY alert_id",
        (vehicle_id, kind),
    ).fetchall()


def test_tiers_raise_one_alert_each_with_evidence_and_projections(conn, vehicle):
    write_drive(conn, vehicle, hours=46)
    at = {h: START + timedelta(hours=h) for h in (39, 41, 45, 46)}
    evaluate_vehicle(conn=conn, vehicle_id=vehicle, now=at[39])
    assert _tiers(conn, vehicle, "oil_change") == [("change_soon", "warning", "open")]
    assert _tiers(conn, vehicle, "brake_pads") == [("change_soon", "warning", "open")]
    preds = {p.model: p for p in evaluate_vehicle(conn=conn, vehicle_id=vehicle, now=at[41])}
    evaluate_vehicle(conn=conn, vehicle_id=vehicle, now=at[41])  # nothing new
    evaluate_vehicle(conn=conn, vehicle_id=vehicle, now=at[41], rebuild=True)  # same tiers
    oil = preds[OIL_MODEL]
    assert 0 < oil.value <= 5.0
    assert _tiers(conn, vehicle, "oil_change") == [
        ("change_soon", "warning", "open"),
        ("due_now", "critical", "open"),
    ]
    assert len(_tiers(conn, vehicle, "brake_pads")) == 1

    # The prediction's output: band, trend, recent usage and the projection to each tier.
    ev = oil.evidence
    assert ev["band"] == "due_now"  # the band is the tier of its open alert
    # Driving around the clock at 58.3 km/h since START.
    assert ev["recent_km_per_day"] == pytest.approx(58.333 * 24, rel=0.01)
    per_km = ev["trend_pct"]["per_1000_km"] / 1000
    assert ev["trend_pct"]["per_day"] == pytest.approx(per_km * ev["recent_km_per_day"], rel=1e-3)
    proj = ev["projection"]
    assert set(proj) == {"change_soon", "due_now", "overdue"}
    assert proj["change_soon"]["reached"] and proj["due_now"]["reached"]
    assert proj["overdue"]["km"] == pytest.approx(oil.remaining_km, rel=1e-3)
    days = proj["overdue"]["km"] / ev["recent_km_per_day"]
    assert datetime.fromisoformat(proj["overdue"]["date"]) == pytest.approx(
        at[41] + timedelta(days=days), abs=timedelta(minutes=1)
    )
    pads = preds[BRAKE_MODEL]
    assert pads.evidence["band"] == "due_soon"
    # To 3 mm (overdue) is the distance the brake model reports as remaining.
    assert pads.evidence["projection"]["overdue"]["km"] == pytest.approx(
        pads.remaining_km, rel=1e-3
    )
    assert pads.evidence["projection"]["due_now"]["km"] < pads.remaining_km

    # The alert's evidence: current value, trend, usage, projections, tier.
    (alert_ev,) = conn.execute(
        "SELECT evidence FROM alerts WHERE vehicle_id = %s AND tier = 'due_now'", (vehicle,)
    ).fetchone()
    assert alert_ev["tier"] == "due_now" and alert_ev["model_version"] == oil.model_version
    assert alert_ev["current"] == {"oil_life_pct": round(oil.value, 2)}
    assert alert_ev["trend"] == ev["trend_pct"]
    assert alert_ev["recent_km_per_day"] == ev["recent_km_per_day"]
    assert alert_ev["projection"] == proj

    evaluate_vehicle(conn=conn, vehicle_id=vehicle, now=at[45])
    assert [t[0] for t in _tiers(conn, vehicle, "oil_change")] == [
        "change_soon",
        "due_now",
        "overdue",
    ]

    # The oil is changed: the oil model restarts and its alerts are resolved; pads stay.
    conn.execute(
        "UPDATE vehicles SET oil_changed_at = %s WHERE vehicle_id = %s",
        (START + timedelta(hours=44.5), vehicle),
    )
    evaluate_vehicle(conn=conn, vehicle_id=vehicle, now=at[46])
    assert {t[2] for t in _tiers(conn, vehicle, "oil_change")} == {"resolved"}
    assert _tiers(conn, vehicle, "brake_pads") == [("change_soon", "warning", "open")]


def test_the_change_soon_threshold_is_configurable(conn, vehicle):
    write_drive(conn, vehicle, hours=20)
    evaluate_vehicle(
        conn=conn,
        vehicle_id=vehicle,
        now=START + timedelta(hours=21),
        oil_alert_pct=60.0,
        pad_alert_mm=4.3,
    )
    assert _tiers(conn, vehicle, "oil_change") == [("change_soon", "warning", "open")]
    assert _tiers(conn, vehicle, "brake_pads") == [("change_soon", "warning", "open")]


def _set_codes(conn, vehicle_id, stored=(), pending=(), permanent=()):
    conn.execute(
        "INSERT INTO vehicle_dtcs (vehicle_id, stored, pending, permanent, updated_at) "
        "VALUES (%s, %s, %s, %s, clock_timestamp()) ON CONFLICT (vehicle_id) DO UPDATE SET "
        "stored = EXCLUDED.stored, pending = EXCLUDED.pending, permanent = EXCLUDED.permanent, "
        "updated_at = EXCLUDED.updated_at",
        (vehicle_id, list(stored), list(pending), list(permanent)),
    )


def _code_alerts(conn, vehicle_id):
    return conn.execute(
        "SELECT tier, severity, status, message, evidence FROM alerts "
        "WHERE vehicle_id = %s AND kind = 'trouble_code' ORDER BY alert_id",
        (vehicle_id,),
    ).fetchall()


def test_trouble_codes_raise_and_resolve_alerts_by_urgency(conn, vehicle):
    now = START + timedelta(hours=1)
    _set_codes(conn, vehicle, stored=["P0301"], pending=["P0442"])
    assert evaluate_pending(conn=conn, now=now) == [vehicle]
    (alert,) = _code_alerts(conn, vehicle)
    misfire, evap = assess("P0301"), assess("P0442", "pending")
    assert alert[:3] == ("critical", "critical", "open")
    assert alert[3] == "P0301: " + misfire.description + " (and 1 more)"
    assert alert[4]["tier"] == "critical"
    assert alert[4]["findings"] == [
        {
            "code": f.code,
            "kind": f.kind,
            "description": f.description,
            "urgency": str(f.urgency),
            "job": f.job,
            "rule": f.rule,
        }
        for f in (misfire, evap)
    ]
    assert alert[4]["findings"][0]["job"] == "misfire_diagnosis"
    # Evaluated once per change.
    assert evaluate_pending(conn=conn, now=now) == []
    evaluate_vehicle(conn=conn, vehicle_id=vehicle, now=now)
    assert len(_code_alerts(conn, vehicle)) == 1

    # The misfire is repaired; the pending EVAP code remains, at its own urgency.
    _set_codes(conn, vehicle, pending=["P0442", "not-a-code"])
    assert evaluate_pending(conn=conn, now=now) == [vehicle]
    alerts = _code_alerts(conn, vehicle)
    assert [a[:3] for a in alerts] == [
        ("critical", "critical", "resolved"),
        (str(evap.urgency), evap.urgency.severity, "open"),
    ]
    assert [f["code"] for f in alerts[1][4]["findings"]] == ["P0442"]

    # Another code of the same urgency: the open alert's findings are brought up to date.
    _set_codes(conn, vehicle, pending=["P0442", "P0456"])
    evaluate_vehicle(conn=conn, vehicle_id=vehicle, now=now)
    alerts = _code_alerts(conn, vehicle)
    assert len(alerts) == 2
    assert [f["code"] for f in alerts[1][4]["findings"]] == ["P0442", "P0456"]

    # All clear: every trouble-code alert is resolved.
    _set_codes(conn, vehicle)
    evaluate_vehicle(conn=conn, vehicle_id=vehicle, now=now)
    assert {a[2] for a in _code_alerts(conn, vehicle)} == {"resolved"}


def test_an_evaluator_that_lost_the_shard_writes_nothing(conn, vehicle):
    conn.execute(
        "UPDATE evaluator_shards SET owner = 'other', expires_at = now() + interval '1 min'"
    )
    try:
        write_drive(conn, vehicle, hours=0.5)
        now = START + timedelta(hours=1)
        assert evaluate_vehicle(conn=conn, vehicle_id=vehicle, now=now, lease_owner="me") == []
        assert latest_predictions(conn=conn, vehicle_id=vehicle) == {}
        assert evaluate_vehicle(conn=conn, vehicle_id=vehicle, now=now, lease_owner="other")
    finally:
        conn.execute(
            "UPDATE evaluator_shards SET owner = NULL, expires_at = '-infinity', heartbeat = NULL"
        )


def test_oil_left_a_year_is_due_however_little_the_car_drove(conn, vehicle):
    write_drive(conn, vehicle, hours=1)
    conn.execute(
        "UPDATE vehicles SET oil_changed_at = %s WHERE vehicle_id = %s",
        (START - timedelta(days=370), vehicle),
    )
    preds = {
        p.model: p
        for p in evaluate_vehicle(conn=conn, vehicle_id=vehicle, now=START + timedelta(hours=3))
    }
    oil = preds[OIL_MODEL]
    assert oil.value == 0.0 and oil.evidence["limited_by"] == "time"
    assert oil.evidence["wear_life_pct"] > 90.0
    assert ("oil_change", "overdue") in [
        (k, t)
        for k, t in conn.execute("SELECT kind, tier FROM alerts WHERE vehicle_id = %s", (vehicle,))
    ]
