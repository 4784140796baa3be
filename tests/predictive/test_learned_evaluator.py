# SPDX-License-Identifier: MIT
"""The evaluator with a learned oil correction: features chunk by chunk, the learned life, its
band, and the projection alert before the fixed 15 %."""

from datetime import timedelta

import numpy as np
import pytest
from drive_helpers import START, write_drive

from predictive import OIL_MODEL, evaluate_vehicle, latest_predictions, learned, learned_oil
from predictive.publish import OIL_VERSION

# 80 points of oil life per million revolutions in every band: 20 h at 3,000 rpm (3.6 M
# revolutions) leave 20 % on the learned model.
PER_MREV = 80.0 / 3.6


def _models():
    rng = np.random.default_rng(0)
    x = rng.uniform(0.0, 2.0, size=(200, len(learned.OIL_FEATURES)))
    oil = learned.OilCorrection().fit(x, x @ np.full(x.shape[1], PER_MREV))
    return learned.LearnedModels(oil, learned.PadPrior([]), {"version": "wl-learned-test"})


def test_chunk_features_add_up_to_the_trips_features():
    t = np.arange(0.0, 1800.0)
    rpm = np.where((t > 600) & (t < 700), 0.0, 2500.0)  # the engine stops once: two key-ons
    temp = np.linspace(10.0, 100.0, t.size)
    load = np.full(t.size, 40.0)
    whole = learned_oil.chunk_features(t, rpm, temp, load, carried=False)
    cut = 900
    first = learned_oil.chunk_features(t[:cut], rpm[:cut], temp[:cut], load[:cut], carried=False)
    rest = learned_oil.chunk_features(
        t[cut - 1 :], rpm[cut - 1 :], temp[cut - 1 :], load[cut - 1 :], carried=True
    )
    assert first + rest == pytest.approx(whole, rel=1e-12)
    names = list(learned.OIL_FEATURES)
    trip = learned.oil_features(rpm, temp, load, t)
    # One trip's features count only its own key-on; the restart adds its own cold start.
    i = names.index("cold_start_severity")
    assert np.delete(whole, i) == pytest.approx(np.delete(trip, i))
    restart_c = temp[701]
    assert whole[i] == pytest.approx(trip[i] + max(40.0 - restart_c, 0.0) / 40.0)


def test_the_evaluator_uses_the_learned_life_and_alerts_on_the_projection(conn, vehicle):
    models = _models()
    write_drive(conn, vehicle, hours=20)
    evaluate_vehicle(
        conn=conn, vehicle_id=vehicle, now=START + timedelta(hours=10), learned_models=models
    )
    (pred,) = [
        p
        for p in evaluate_vehicle(
            conn=conn, vehicle_id=vehicle, now=START + timedelta(hours=21), learned_models=models
        )
        if p.model == OIL_MODEL
    ]
    assert pred.model_version == f"{OIL_VERSION}+wl-learned-test"
    assert pred.value == pytest.approx(20.0, abs=0.5)
    assert pred.evidence["learned"]["projection_due"]
    # Continued from the 10 h totals (the suffix does not reset them): same as from scratch.
    rebuilt = {
        p.model: p
        for p in evaluate_vehicle(
            conn=conn,
            vehicle_id=vehicle,
            now=START + timedelta(hours=21),
            learned_models=models,
            rebuild=True,
        )
    }[OIL_MODEL]
    assert rebuilt.value == pytest.approx(pred.value, rel=1e-9)
    # 20 % is above the 15 % tier, but 20 % of life at this rate is ~290 km, within the
    # 500 km + a quarter day (~350 km) of lead at ~1,400 km a day: "change soon" now.
    (tier,) = conn.execute(
        "SELECT tier FROM alerts WHERE vehicle_id = %s AND kind = 'oil_change'", (vehicle,)
    ).fetchone()
    assert tier == "change_soon"
    # Without the artifact the physics model decides (hot oil: far less life left).
    physics = {
        p.model: p
        for p in evaluate_vehicle(
            conn=conn, vehicle_id=vehicle, now=START + timedelta(hours=21), rebuild=True
        )
    }[OIL_MODEL]
    assert physics.model_version == OIL_VERSION
    assert latest_predictions(conn=conn, vehicle_id=vehicle)[OIL_MODEL].value == physics.value
    assert abs(physics.value - pred.value) > 5.0
