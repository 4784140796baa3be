# SPDX-License-Identifier: MIT
"""predictive.learned: features, the two learned models, and their skops artifacts."""

import json
import pickle

import numpy as np
import pytest

from predictive import learned


def test_oil_features_count_revolutions_by_temperature_band_and_cold_start():
    t = np.arange(61.0)  # 60 one-second intervals at 3,000 rpm: 3,000 revolutions
    rpm = np.full(61, 3000.0)
    warm = learned.oil_features(rpm, np.full(61, 90.0), np.full(61, 50.0), t)
    names = list(learned.OIL_FEATURES)
    assert warm[names.index("mrevs_80_110c")] == pytest.approx(3000 / 1e6)
    assert warm[names.index("mrevs_20_40c")] == 0.0
    assert warm[names.index("load_mrevs_above_60c")] == pytest.approx(1500 / 1e6)
    assert warm[names.index("load_mrevs_below_60c")] == 0.0
    assert warm[names.index("cold_start_severity")] == 0.0
    cold = learned.oil_features(rpm, np.full(61, 30.0), np.full(61, 50.0), t)
    assert cold[names.index("mrevs_20_40c")] == pytest.approx(3000 / 1e6)
    assert cold[names.index("load_mrevs_below_60c")] == pytest.approx(1500 / 1e6)
    assert cold[names.index("cold_start_severity")] == pytest.approx(0.25)  # (40 - 30) / 40
    assert learned.oil_features([800.0], [20.0], [0.0], [0.0]).sum() == 0.0


def _oil_data(n=1000, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 2.0, size=(n, len(learned.OIL_FEATURES)))
    w = np.array([9.0, 6.0, 5.0, 3.0, 2.0, 3.0, 4.0, 2.5, 2.0, 1.5])
    return x, x @ w * rng.lognormal(0.0, 0.05, n), w


def test_oil_correction_recovers_weights_and_orders_its_band():
    x, y, w = _oil_data()
    model = learned.OilCorrection().fit(x, y)
    assert model.models[0].coef_ == pytest.approx(w, rel=0.15)
    band = model.consumed(x)
    assert (band[:, 0] <= band[:, 1]).all() and (band[:, 1] <= band[:, 2]).all()
    inside = np.mean((y >= band[:, 0]) & (y <= band[:, 2]))
    assert 0.7 <= inside <= 0.9  # a 10-90 % band covers about 80 % of the training data


def _calibration(pairs, *, w=1.0, sigma=0.1, sd=0.0):
    obs = [learned.OilObservation(m, p, sd) for m, p in pairs]
    return learned.vehicle_calibration(obs, prior_weight=w, log_sigma=sigma)


def test_exact_changes_move_the_factor_halfway_after_one_change():
    assert _calibration([]).factor == 1.0
    assert _calibration([(60.0, 50.0)]).factor == pytest.approx(1.1)
    assert _calibration([(60.0, 50.0)] * 2).factor == pytest.approx(1.4 / 3 + 2 / 3)
    # A prediction too small to say anything is no observation.
    assert _calibration([(3.0, 0.5)]) == _calibration([])


def test_the_prior_weight_is_learned_from_the_spread_between_vehicles():
    assert _calibration([(60.0, 50.0)], w=0.25).factor == pytest.approx(1.16)
    rng = np.random.default_rng(5)
    vehicle = np.repeat(np.arange(200), 4)
    # Between vehicles sd 0.10, within a vehicle sd 0.05: weight 0.05² / 0.10² = 0.25.
    ratio = 1.0 + rng.normal(0, 0.10, 200)[vehicle] + rng.normal(0, 0.05, vehicle.size)
    x = rng.uniform(1.0, 2.0, size=(vehicle.size, len(learned.OIL_FEATURES)))
    y = x.sum(axis=1) * 10.0 * ratio
    model = learned.OilCorrection().fit(x, y, vehicle)
    assert model.factor_prior_weight == pytest.approx(0.25, rel=0.3)
    assert learned.OilCorrection().fit(x, y).factor_prior_weight == 1.0


def test_a_labs_known_error_is_taken_out_of_the_band_and_the_within_vehicle_spread():
    rng = np.random.default_rng(6)
    vehicle = np.repeat(np.arange(300), 4)
    ratio = 1.0 + rng.normal(0, 0.10, 300)[vehicle] + rng.normal(0, 0.05, vehicle.size)
    x = rng.uniform(1.0, 2.0, size=(vehicle.size, len(learned.OIL_FEATURES)))
    y = x.sum(axis=1) * 10.0 * ratio  # ~150 points: a 10-point lab error is ~0.067 relative
    measured = y + rng.normal(0, 10.0, y.size)
    exact = learned.OilCorrection().fit(x, y, vehicle)
    naive = learned.OilCorrection().fit(x, measured, vehicle)
    aware = learned.OilCorrection().fit(x, measured, vehicle, label_sd=10.0)
    # The lab's error looks like within-vehicle spread and widens the band, unless removed.
    assert naive.factor_prior_weight > 1.5 * exact.factor_prior_weight
    assert aware.factor_prior_weight == pytest.approx(exact.factor_prior_weight, rel=0.35)
    assert naive.log_sigma > 1.1 * exact.log_sigma
    assert aware.log_sigma == pytest.approx(exact.log_sigma, rel=0.1)


def test_a_vehicles_band_narrows_with_its_own_changes():
    assert _calibration([], w=0.25).band_scale == pytest.approx(1.0)
    one = _calibration([(50.0, 50.0)], w=0.25).band_scale
    assert one == pytest.approx(np.sqrt((0.2 + 0.25) / 1.25))
    many = _calibration([(50.0, 50.0)] * 1000, w=0.25).band_scale
    assert many == pytest.approx(np.sqrt(0.25 / 1.25), rel=1e-3)


def test_a_noisy_analysis_counts_for_less_than_an_exact_one():
    # Fleet band sigma 0.1 with w = 0.25: between-vehicle variance 0.008. A 5-point error on
    # 50 predicted points is a relative variance of 0.01, 1.25 in units of it.
    noisy = _calibration([(60.0, 50.0)], w=0.25, sd=5.0)
    exact = _calibration([(60.0, 50.0)], w=0.25)
    assert 1.0 < noisy.factor < exact.factor
    assert noisy.factor == pytest.approx(1.0 + 0.2 / (1.0 + 1.5))
    assert exact.band_scale < noisy.band_scale < 1.0
    assert noisy.band_scale == pytest.approx(np.sqrt((1.0 / (1.0 + 1.0 / 1.5) + 0.25) / 1.25))
    # The same error on a larger share of the life is a smaller relative error.
    later = _calibration([(96.0, 80.0)], w=0.25, sd=5.0)
    assert later.band_scale < noisy.band_scale


def test_pad_calibration_trusts_a_large_measured_wear_and_ignores_none():
    prior = 0.002
    assert learned.calibrate_pad_coeff(prior, 5.0, 0.0) == prior
    # 6 mm worn over 2,000 MJ: measured 0.003 mm/MJ ± 0.0001 (gauge 0.2 mm), prior ± 0.0003:
    # weights 9:1 on the measurement.
    assert learned.calibrate_pad_coeff(prior, 6.0, 2000.0) == pytest.approx(0.0029)
    # 0.1 mm over 50 MJ says little: stays near the prior.
    assert learned.calibrate_pad_coeff(prior, 0.1, 50.0) == pytest.approx(prior, rel=0.05)


def _models():
    x, y, _ = _oil_data()
    rng = np.random.default_rng(2)
    px = rng.normal(size=(30, len(learned.PAD_FEATURES)))
    py = np.exp(rng.normal(-6.0, 0.1, size=(30, 2)))
    return (
        learned.LearnedModels(
            learned.OilCorrection().fit(x, y), learned.PadPrior().fit(px, py), {"note": "t"}
        ),
        x,
        px,
    )


def test_artifacts_round_trip_through_skops(tmp_path):
    models, x, px = _models()
    paths = learned.save_models(models, tmp_path)
    assert {p.name for p in paths} == {learned.OIL_FILE, learned.PAD_FILE, "manifest.json"}
    assert learned.ARTIFACT_VERSION in learned.OIL_FILE
    back = learned.load_models(tmp_path)
    np.testing.assert_array_equal(back.oil.consumed(x), models.oil.consumed(x))
    np.testing.assert_array_equal(back.pads.coeff(px), models.pads.coeff(px))
    assert back.manifest["version"] == learned.ARTIFACT_VERSION
    assert back.manifest["note"] == "t"
    assert back.manifest["oil_features"] == list(learned.OIL_FEATURES)


class Payload:
    """Stands for any type an attacker could put in an artifact."""

    def __init__(self):
        self.command = "rm -rf /"


def test_loading_refuses_untrusted_types_pickles_and_other_versions(tmp_path):
    import skops.io as sio

    models, _, _ = _models()
    learned.save_models(models, tmp_path)
    sio.dump([Payload(), np.ones(2)], tmp_path / learned.OIL_FILE)
    with pytest.raises(learned.ArtifactError, match=r"untrusted types: .*Payload"):
        learned.load_models(tmp_path)

    (tmp_path / learned.OIL_FILE).write_bytes(pickle.dumps(models.oil.models))
    with pytest.raises(learned.ArtifactError, match="not a skops artifact"):
        learned.load_models(tmp_path)

    learned.save_models(models, tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    (tmp_path / "manifest.json").write_text(json.dumps({**manifest, "version": "wl-learned-0"}))
    with pytest.raises(learned.ArtifactError, match="wl-learned-0"):
        learned.load_models(tmp_path)
    with pytest.raises(learned.ArtifactError, match=r"no manifest\.json"):
        learned.load_models(tmp_path / "absent")


def test_log_sigma_is_the_spread_the_10_90_band_implies():
    x, y, _ = _oil_data()
    model = learned.OilCorrection().fit(x, y)
    low, high = model.models[1]
    assert model.log_sigma == pytest.approx(np.log(high / low) / (2 * 1.2816), rel=1e-3)
    assert 0.03 < model.log_sigma < 0.08  # the data's spread is log-normal, sigma 0.05
