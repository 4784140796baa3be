# SPDX-License-Identifier: MIT
"""predictive.brake_heat: disc temperature over successive stops, engine braking, and the
pad totals that carry both across chunks."""

import numpy as np
import pytest

from predictive import brake_heat, brakes
from predictive.totals import BrakeTotals, advance_brakes

MASS = 1400.0


def _stops(n, every_s, from_kmh=130.0, decel_mps2=8.0):
    """``n`` hard stops from ``from_kmh``, one every ``every_s`` s (speed back up at once)."""
    brake_s = from_kmh / 3.6 / decel_mps2
    t = np.arange(0.0, n * every_s, 0.5)
    phase = np.mod(t, every_s)
    v = np.where(phase < brake_s, from_kmh - decel_mps2 * 3.6 * phase, from_kmh)
    return t, v


def test_one_quick_stop_heats_the_front_discs_by_their_share_of_the_energy():
    t = np.linspace(0.0, 3.0, 301)
    v_kmh = 100.0 - 100.0 * t / 3.0  # 100 km/h to rest in 3 s: almost no time to cool
    friction = brakes.braking_energy_j(t, v_kmh, mass_kg=MASS)
    disc = brake_heat.disc_temperature_c(t, v_kmh, friction, ambient_c=np.full(t.size, 20.0))
    rise = brakes.FRONT_SHARE * friction.sum() / brake_heat.DISC_J_PER_K
    assert disc[-1] - 20.0 == pytest.approx(rise, rel=0.02)
    assert 45.0 < rise < 65.0  # ~55 K, as for a real mid-size car


def test_repeated_hard_stops_heat_the_discs_into_faster_wear_and_spaced_ones_do_not():
    amb = 20.0
    hot_t, hot_v = _stops(12, every_s=30.0)  # a descent or a track: a stop every 30 s
    wear, disc = brake_heat.wear_energy_j(
        hot_t, hot_v, mass_kg=MASS, engine_braking=False, ambient_c=np.full(hot_t.size, amb)
    )
    friction = brakes.braking_energy_j(hot_t, hot_v, mass_kg=MASS)
    assert disc.max() > brake_heat.WEAR_ONSET_C
    assert wear.sum() > 1.3 * friction.sum()
    cool_t, cool_v = _stops(12, every_s=600.0)  # the same stops ten minutes apart
    wear, disc = brake_heat.wear_energy_j(
        cool_t, cool_v, mass_kg=MASS, engine_braking=False, ambient_c=np.full(cool_t.size, amb)
    )
    assert disc.max() < brake_heat.WEAR_ONSET_C
    assert wear.sum() == pytest.approx(brakes.braking_energy_j(cool_t, cool_v, mass_kg=MASS).sum())


def test_wear_factor_is_one_below_the_onset_and_doubles_per_step_above():
    f = brake_heat.wear_factor([20.0, 300.0, 350.0, 400.0, 2000.0])
    assert f.tolist() == [1.0, 1.0, 2.0, 4.0, brake_heat.WEAR_MAX_FACTOR]


def test_engine_braking_takes_a_share_of_a_gentle_stop_but_little_of_a_hard_one():
    t = np.arange(0.0, 41.0)

    def share(decel_mps2):
        v = np.maximum(100.0 - decel_mps2 * 3.6 * t, 0.0)
        amb = np.full(t.size, 15.0)
        kw = {"mass_kg": MASS, "ambient_c": amb}
        engine = brake_heat.wear_energy_j(t, v, engine_braking=True, **kw)[0].sum()
        return 1.0 - engine / brake_heat.wear_energy_j(t, v, engine_braking=False, **kw)[0].sum()

    gentle, hard = share(1.0), share(6.0)
    assert 0.1 < gentle < 0.3 and hard < 0.05


def test_brake_totals_carry_the_disc_temperature_across_chunks():
    t, v = _stops(12, every_s=30.0)
    amb = (t, np.full(t.size, 20.0))

    def advance(totals, sl):
        return advance_brakes(
            totals,
            speed=(t[sl], v[sl]),
            ambient=(amb[0][sl], amb[1][sl]),
            mass_kg=MASS,
            engine_braking=True,
            through_s=float(t[sl][-1]),
        )

    whole = advance(BrakeTotals(), slice(None))
    cut = t.size // 2
    pieces = advance(advance(BrakeTotals(), slice(0, cut)), slice(cut, None))
    assert pieces.braking_mj == pytest.approx(whole.braking_mj, rel=1e-9)
    assert pieces.last_disc == pytest.approx(whole.last_disc)
    # Starting the second half with cold discs would have under-counted the hot stops.
    cold = (
        advance(BrakeTotals(), slice(0, cut)).braking_mj
        + advance(BrakeTotals(), slice(cut, None)).braking_mj
    )
    assert cold < 0.95 * whole.braking_mj
