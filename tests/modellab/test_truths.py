# SPDX-License-Identifier: MIT
"""modellab with a wear truth other than the simulator's: each fill of oil is the truth's to
compute, --truth plugs any importable variant into train and evaluate, bad specs exit 2."""

import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from hand_made import vehicle_log
from typer.testing import CliRunner

from firmware_sim import truth_variants as tv
from firmware_sim.wear_truth import OilFill, TripDose
from modellab.oil_replay import PolicyResult, replay_oil
from modellab.training import training_examples
from wrenchlight.cli import build_app

app = build_app()
README = Path(__file__).resolve().parents[2] / "firmware_sim" / "README.md"


class RecordingTruth:
    """Linear oil, but each fill after the first wears twice as fast; records the fills."""

    name = "recording"

    def __init__(self):
        self.fills: list[OilFill] = []

    def trip(self, trip):
        return TripDose((1.0,), 0.0, 0.0)

    def oil_consumed_pct(self, fill):
        self.fills.append(fill)
        return np.cumsum(fill.dose) * (1.0 if fill.number == 0 else 2.0)


def _log(truth, n=30):
    return vehicle_log(
        n,
        truth=truth,
        oil_channels=np.column_stack([np.full(n, 10.0), np.arange(n, dtype=float)]),
        seed=77,
    )


def test_each_fill_is_computed_by_the_truth_from_its_own_change():
    truth = RecordingTruth()
    r = PolicyResult()
    # Every 5,000 km: the enrollment oil is half used at the change, later fills fully.
    assert replay_oil(_log(truth), r, interval=(5000.0, 365.0)) == [4, 9, 14, 19, 24, 29]
    assert r.wasted_pct == [50.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    first, second = truth.fills[:2]
    assert (first.number, second.number) == (0, 1) and first.vehicle_seed == 77
    assert (first.start_day, second.start_day) == (0.0, 5.0)  # trip 4 ends on day 5
    assert second.day[0] == 6.0 and second.oil[0].tolist() == [10.0, 5.0]  # channels kept


def test_training_labels_are_the_truths_consumption_of_each_drained_fill():
    plain = training_examples([_log(None, 40)], seed=0)[1]
    doubled = training_examples([_log(RecordingTruth(), 40)], seed=0)[1]
    # Changes every 5,000 km (5 trips, 50 points); the same lab noise (seeded) on both; the
    # truth's fills after the first drained at twice the consumption.
    assert len(plain) == len(doubled) == 8
    assert doubled[0] == plain[0]
    assert doubled[1:] - plain[1:] == pytest.approx(np.full(7, 50.0))


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("nonsense", "expected module:attribute"),
        ("firmware_sim.truth_variants:NOPE", "has no attribute 'NOPE'"),
    ],
)
@pytest.mark.parametrize("command", ["train", "evaluate"])
def test_a_bad_truth_exits_2_before_anything_is_simulated(tmp_path, command, spec, says):
    res = CliRunner().invoke(
        app,
        ["predictive", command, "--vehicles", "4", "--days", "1", "--truth", spec,
         "--models" if command == "evaluate" else "--out", str(tmp_path / "m")],
    )  # fmt: skip
    assert res.exit_code == 2 and says in res.output
    assert not (tmp_path / "m").exists()


def test_a_truth_module_in_the_current_directory_is_found(tmp_path, monkeypatch):
    (tmp_path / "cwd_truth_wl.py").write_text("NOT_A_TRUTH = 3\n")
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(
        app, ["predictive", "train", "--days", "1", "--truth", "cwd_truth_wl:NOT_A_TRUTH"]
    )
    assert res.exit_code == 2 and "not a wear truth" in res.output  # imported, then refused
    assert str(tmp_path) not in sys.path


@pytest.mark.slow
def test_train_then_evaluate_a_tiny_fleet_on_a_truth_from_elsewhere(tmp_path, monkeypatch):
    code = re.search(r"<!-- truth-example -->\n```python\n(.*?)```", README.read_text(), re.S)
    assert code
    (tmp_path / "elsewhere_truth_wl.py").write_text(code.group(1))
    monkeypatch.syspath_prepend(str(tmp_path))
    fleet = ["--vehicles", "12", "--days", "120", "--seed", "0"]
    runner = CliRunner()
    res = runner.invoke(
        app,
        ["predictive", "train", *fleet, "--out", str(tmp_path / "m"), "--json",
         "--truth", "elsewhere_truth_wl:HotOil"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout.strip().splitlines()[-1])["truth"] == "elsewhere_truth_wl:HotOil"
    reports = {}
    for spec in ("elsewhere_truth_wl:HotOil", "firmware_sim.truth_variants:ACCELERATING_OIL"):
        res = runner.invoke(
            app,
            ["predictive", "evaluate", *fleet, "--models", str(tmp_path / "m"),
             "--out", str(tmp_path / "e"), "--json", "--truth", spec],
        )  # fmt: skip
        assert res.exit_code == 0, res.output
        reports[spec] = json.loads(res.stdout.strip().splitlines()[-1])
    home, away = reports.values()
    assert home["truth"] == "elsewhere_truth_wl:HotOil" == home["trained_on_truth"]
    assert away["truth"].endswith(":ACCELERATING_OIL")
    assert home["vins"] == away["vins"]  # the same held-out cars and drives
    for r in (home, away):
        assert 0.0 < r["oil_mae_pct"] < 30.0 and 0.0 < r["pad_mae_mm_prior"] < 3.0
    # Another truth, another hidden wear: the same model scores differently on it.
    assert home["oil_mae_pct"] != away["oil_mae_pct"]
    assert tv.ACCELERATING_OIL.name == "accelerating_oil"


@pytest.fixture(scope="module")
def tiny_fleet_logs():
    """Six training-side cars, 20 days, under every shipped variant (and the simulator's)."""
    from modellab.drives import simulate

    return {
        name: simulate(6, 20, 3, "train", truth=truth)
        for name, truth in [("simulator", None), *tv.VARIANTS.items()]
    }


@pytest.mark.parametrize("name", sorted(tv.VARIANTS))
def test_every_variant_runs_through_a_simulated_fleet(tiny_fleet_logs, name):
    logs, base = tiny_fleet_logs[name], tiny_fleet_logs["simulator"]
    assert [log.vin for log in logs] == [log.vin for log in base]
    for log, ref in zip(logs, base, strict=True):
        assert log.truth is tv.VARIANTS[name] and ref.truth is None
        assert log.km.tolist() == ref.km.tolist()  # the same drives, other hidden wear
        assert log.oil_channels is not None and log.oil_channels.shape[0] == log.day.size
        consumed = log.oil_consumed_pct(0)
        assert np.isfinite(consumed).all() and (np.diff(consumed) >= 0).all()
        assert (log.pad_true_mm >= 0).all()
        if log.has_engine:
            assert consumed[-1] > 0.0 and consumed[-1] != pytest.approx(ref.oil_true_pct.sum())
        replay_oil(log, PolicyResult(), interval=(500.0, 10.0))  # many fills, each its own
    assert sum(log.pad_true_mm.sum() for log in logs) > 0.0


def test_a_variant_is_the_same_on_the_same_seed():
    from modellab.drives import simulate

    a, b = (simulate(4, 8, 5, "train", truth=tv.BrandsAndDrift()) for _ in range(2))
    for x, y in zip(a, b, strict=True):
        assert x.oil_true_pct.tolist() == y.oil_true_pct.tolist()
        assert x.pad_true_mm.tolist() == y.pad_true_mm.tolist()
        assert x.oil_consumed_pct(0, fill=1).tolist() == y.oil_consumed_pct(0, fill=1).tolist()
