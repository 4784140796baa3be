# SPDX-License-Identifier: MIT
"""The set-based pass (predictive.bulk) against evaluate_vehicle, on twin vehicles.

Every vehicle has a twin with the same service history and the same readings; one of each
pair goes through ``evaluate_vehicle``, the other through ``evaluate_vehicles``, over several
incremental passes, and what they stored must be the same.
"""

import threading
from datetime import timedelta

import factories
import numpy as np
import psycopg
import pytest
from drive_helpers import START

import predictive.bulk
from db.registry import create_vehicle
from predictive.evaluator import evaluate_vehicle, evaluate_vehicles

PAIRS = 50
FUELS = ("petrol", "diesel", "hybrid", "electric")
HOUR = timedelta(hours=1)


def _profile(i):
    """Service history of pair ``i``: varied, some near a tier."""
    rng = np.random.default_rng(i)
    oil_at = START
    if i % 7 == 3:
        oil_at = None
    elif i % 7 == 5:
        # The time cap takes oil life to 15 % at 310.25 days: crossed during the passes.
        oil_at = START + 2.0 * HOUR - timedelta(days=310.25)
    return {
        "fuel_type": FUELS[i % 4],
        "mass_kg": float(rng.uniform(1100, 2200)),
        "oil_changed_at": oil_at,
        "oil_changed_odometer_km": None if i % 5 == 0 else 20_000.0,
        "pads_measured_at": START,
        "pads_measured_odometer_km": None if i % 6 == 0 else 19_990.0,
        # Some pads just above the 4 mm "change soon" tier, to be crossed under hard braking.
        "pad_front_mm": 4.02 if i % 4 == 1 else float(rng.uniform(4.5, 11.0)),
        "pad_rear_mm": float(rng.uniform(4.5, 10.0)),
    }


def _drive(rng, start_s, seconds, *, oil_temp):
    """Columns of a drive at the feed's sampling: speed at 1 Hz, fast signals every 2 s,
    slow ones every 30 s (None where not sampled)."""
    t = start_s + np.arange(seconds, dtype=float)
    phase = rng.uniform(0, 100)
    speed = np.clip(60 + 50 * np.sin((t + phase) / rng.uniform(8, 40)), 0, None)
    even = (np.arange(seconds) % 2) == 0
    slow = (np.arange(seconds) % 30) == 0
    rpm = np.where(even, 800 + 30 * speed * rng.uniform(0.8, 1.5), np.nan)
    coolant = np.where(even, np.minimum(20 + np.arange(seconds) * 0.05, 95), np.nan)
    return {
        "time": t,
        "speed_kmh": speed,
        "engine_rpm": rpm,
        "coolant_temp_c": coolant,
        "oil_temp_c": np.where(even, coolant + 10, np.nan)
        if oil_temp
        else np.full(seconds, np.nan),
        "engine_load_pct": np.where(even, rng.uniform(10, 90, seconds), np.nan),
        "ambient_temp_c": np.where(slow, 12.0, np.nan),
        "odometer_km": np.where(slow, 20_000 + np.cumsum(speed) / 3600, np.nan),
    }


def _copy(conn, vehicle_ids, cols):
    names = [n for n in cols if n != "time"]
    with conn.cursor().copy(
        f"COPY readings (time, vehicle_id, {', '.join(names)}) FROM STDIN"
    ) as copy:
        for k, t in enumerate(cols["time"]):
            values = [None if np.isnan(cols[n][k]) else float(cols[n][k]) for n in names]
            for vid in vehicle_ids:
                copy.write_row((START + timedelta(seconds=float(t)), vid, *values))


def _snapshot(conn, vehicle_id):
    preds = conn.execute(
        "SELECT prediction_id, model, model_version, time, value, unit, remaining_km, evidence "
        "FROM predictions WHERE vehicle_id = %s ORDER BY prediction_id",
        (vehicle_id,),
    ).fetchall()
    index = {p[0]: k for k, p in enumerate(preds)}
    alerts = conn.execute(
        "SELECT kind, tier, severity, message, status, prediction_id, evidence FROM alerts "
        "WHERE vehicle_id = %s ORDER BY kind, tier, alert_id",
        (vehicle_id,),
    ).fetchall()
    return (
        [p[1:] for p in preds],
        [
            (*a[:5], index.get(a[5]), {k: v for k, v in a[6].items() if k != "prediction_id"})
            for a in alerts
        ],
    )


def _wear_alerts(conn):
    (n,) = conn.execute(
        "SELECT count(*) FROM alerts WHERE kind IN ('oil_change', 'brake_pads')"
    ).fetchone()
    return n


def test_the_set_based_pass_stores_what_evaluate_vehicle_stores(conn, monkeypatch):
    # Small enough that a long drive goes through the per-vehicle path inside the chunk.
    monkeypatch.setattr(predictive.bulk, "BULK_ROWS", 1500)
    pairs, raised = [], []
    for i in range(PAIRS):
        profile = _profile(i)
        a = create_vehicle(conn, vin=f"WLBULKA{i:010d}", **profile)
        b = create_vehicle(conn, vin=f"WLBULKB{i:010d}", **profile)
        pairs.append((i, a, b))
    for _, a, b in pairs[::9]:
        for vid in (a, b):
            factories.trouble_codes(conn, vid, stored=["P0302"])
    for n in range(3):
        now = START + (n + 1) * HOUR
        for i, a, b in pairs:
            rng = np.random.default_rng(1000 * n + i)
            if i % 10 == 9 and n == 1:
                continue  # no new data this pass
            seconds = 2400 if (i == 2 and n == 1) else int(rng.integers(60, 900))
            # Some drives end within the settle time before ``now``: their last instant waits.
            end_s = (now - START).total_seconds() - (20 if i % 8 == 0 else 400)
            _copy(conn, [a, b], _drive(rng, end_s - seconds, seconds, oil_temp=i % 3 != 0))
        for _, a, _ in pairs:
            evaluate_vehicle(conn=conn, vehicle_id=a, now=now)
        done = evaluate_vehicles(conn=conn, vehicle_ids=[b for _, _, b in pairs], now=now)
        assert set(done) == {b for _, _, b in pairs}
        raised.append(_wear_alerts(conn))

    crossings = set()
    for i, a, b in pairs:
        mine, theirs = _snapshot(conn, a), _snapshot(conn, b)
        assert theirs == mine, f"pair {i}"
        crossings |= {(kind, tier) for kind, tier, *_ in mine[1]}
    # The passes crossed tiers on both wear models and raised trouble-code alerts.
    assert {("oil_change", "change_soon"), ("brake_pads", "change_soon")} <= crossings
    assert ("trouble_code", "critical") in crossings
    # ... and later passes raised alerts the first had not: tiers crossed incrementally.
    assert raised[0] < raised[-1]


def test_vehicles_locked_elsewhere_or_in_others_shards_are_skipped(conn, db_url):
    ids = [create_vehicle(conn, vin=f"WLSKP{i:012d}") for i in range(4)]
    rng = np.random.default_rng(0)
    _copy(conn, ids, _drive(rng, 600, 300, oil_temp=True))
    now = START + HOUR
    with psycopg.connect(db_url) as other:
        other.execute("SELECT 1 FROM vehicles WHERE vehicle_id = %s FOR UPDATE", (ids[0],))
        done = evaluate_vehicles(conn=conn, vehicle_ids=ids[:2], now=now)
        assert done == {ids[1]: 2}
    conn.execute(
        "UPDATE evaluator_shards SET owner = 'me', expires_at = now() + interval '1 min' "
        "WHERE shard = %s",
        (ids[2] % 64,),
    )
    try:
        done = evaluate_vehicles(conn=conn, vehicle_ids=ids, now=now, lease_owner="me")
    finally:
        conn.execute(
            "UPDATE evaluator_shards SET owner = NULL, expires_at = '-infinity', heartbeat = NULL"
        )
    assert done == {ids[2]: 2}
    # Released: the vehicle locked earlier is evaluated now.
    assert evaluate_vehicles(conn=conn, vehicle_ids=ids[:1], now=now) == {ids[0]: 2}


def test_one_vehicles_bad_data_costs_only_its_own_evaluation(conn, caplog):
    ids = [create_vehicle(conn, vin=f"WLBAD{i:012d}") for i in range(3)]
    rng = np.random.default_rng(1)
    _copy(conn, ids, _drive(rng, 600, 300, oil_temp=True))
    conn.execute(
        "INSERT INTO readings (time, vehicle_id, speed_kmh) VALUES (%s, %s, 'Infinity')",
        (START + timedelta(seconds=905), ids[1]),
    )
    done = evaluate_vehicles(conn=conn, vehicle_ids=ids, now=START + HOUR)
    assert done == {ids[0]: 2, ids[2]: 2}
    assert "one by one" in caplog.text
    written = conn.execute("SELECT DISTINCT vehicle_id FROM predictions ORDER BY 1").fetchall()
    assert [r[0] for r in written] == [ids[0], ids[2]]


@pytest.mark.parametrize("rows", [2, 3])
def test_readings_are_split_by_vehicle_in_time_order(conn, rows):
    a, b = (create_vehicle(conn, vin=f"WLSPLT{rows}{i:010d}") for i in range(2))
    times = START + timedelta(seconds=100)
    for k in range(rows):
        for vid in (a, b):
            conn.execute(
                "INSERT INTO readings (time, vehicle_id, speed_kmh) VALUES (%s, %s, %s)",
                (times + timedelta(seconds=rows - k), vid, float(vid * 100 + k)),
            )
    got = predictive.bulk.read_new_rows(conn, {a: None, b: None}, now=START + HOUR)
    for vid in (a, b):
        assert got[vid][:, 0].tolist() == [times.timestamp() + s for s in range(1, rows + 1)]
        assert got[vid][:, 4].tolist() == [vid * 100.0 + k for k in reversed(range(rows))]


def test_two_passes_at_once_never_advance_a_vehicle_twice(conn, db_url):
    ids = [create_vehicle(conn, vin=f"WLTWN{i:012d}") for i in range(40)]
    _copy(conn, ids, _drive(np.random.default_rng(2), 600, 600, oil_temp=True))
    barrier = threading.Barrier(2)
    results = []

    def evaluate():
        with psycopg.connect(db_url, autocommit=True) as own:
            barrier.wait()
            results.append(
                evaluate_vehicles(conn=own, vehicle_ids=ids, now=START + HOUR, chunk_size=7)
            )

    threads = [threading.Thread(target=evaluate) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    # Each vehicle's readings went into exactly one oil and one brake prediction, whichever
    # pass took it; the other skipped it (locked) or found nothing new after it.
    per_vehicle = dict(
        conn.execute("SELECT vehicle_id, count(*) FROM predictions GROUP BY 1").fetchall()
    )
    assert per_vehicle == {vid: 2 for vid in ids}
    assert sum(n for r in results for n in r.values()) == 2 * len(ids)
