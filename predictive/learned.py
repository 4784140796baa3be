# SPDX-License-Identifier: MIT
"""Learned corrections on top of the physics models, and their safe-to-load artifacts.

- ``OilCorrection``: a linear regression (non-negative weights, 10-90 % band from the training
  residuals) of the oil life truly consumed over an oil-change interval on additive features
  of that interval (``oil_features``): revolutions by oil-temperature band, load and cold
  starts, so it learns how temperature ages the oil where ``oil.py`` assumes it. Each
  completed oil change is one labelled example. Additive features and no intercept mean the
  same model applies part-way through an interval. ``vehicle_calibration`` then scales it
  per vehicle, and narrows its band, from that vehicle's own oil measurements (used-oil
  analyses at its changes or part-way through an interval).
- ``PadPrior``: a fleet prior for each axle's wear coefficient (mm per MJ of modelled braking
  energy) from vehicle features (mass, kind, driving profile); ``calibrate_pad_coeff``
  combines it with a shop measurement of the pads.

Artifacts are skops files (no pickle): ``load_models`` refuses any type outside
``TRUSTED_TYPES``. Errors: ``ArtifactError`` (a ``ValueError``) for a missing, foreign,
wrong-version or untrusted artifact. Pure numpy and scikit-learn; no database, no simulator.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from statistics import NormalDist
from typing import Any

import numpy as np
import numpy.typing as npt

from predictive import oil
from predictive.mass import combined_rel_sd

FloatArray = npt.NDArray[np.float64]

ARTIFACT_VERSION = "wl-learned-2"  # 2: finer temperature bands, load split
OIL_FILE = f"oil_correction-{ARTIFACT_VERSION}.skops"
PAD_FILE = f"pad_prior-{ARTIFACT_VERSION}.skops"
MANIFEST_FILE = "manifest.json"
# Where `wrenchlight predictive train` writes and the evaluator and the API look (relative to
# the process's working directory).
DEFAULT_DIR = Path("wrenchlight-models")
QUANTILES = (0.1, 0.5, 0.9)

# Oil below ~40 °C at key-on is the usual definition of a cold start: fuel and water collect
# until the oil is warm. Severity rises as the start gets colder.
COLD_START_BELOW_C = 40.0
# Oil temperature bands (°C) whose revolutions the correction weighs separately: the physics
# model's temperature weight is a guess at how cold and hot oil age; service outcomes can say.
# Narrower bands where the weight is thought to change fastest (cold oil, and oil past 110 °C)
# let the non-negative fit follow a curve rather than a few steps.
TEMP_BANDS_C = (20.0, 40.0, 60.0, 80.0, 110.0, 120.0)
# Load weighs on the oil differently while it is cold (thick, no full film yet) and once warm:
# load-weighted revolutions are split at this oil temperature.
LOAD_SPLIT_C = 60.0
# Features, all additive over the trips of an interval (so no intercept is needed).
OIL_FEATURES = (
    "mrevs_below_20c",  # plain revolutions by oil temperature band, millions
    "mrevs_20_40c",
    "mrevs_40_60c",
    "mrevs_60_80c",
    "mrevs_80_110c",
    "mrevs_110_120c",
    "mrevs_above_120c",
    "load_mrevs_below_60c",  # revolutions weighted by engine load (0-1), millions
    "load_mrevs_above_60c",
    "cold_start_severity",  # sum over trips of max(0, 40 °C - oil temp at key-on) / 40
)
PAD_FEATURES = (
    "mass_t",
    "hybrid",
    "electric",
    "log_mj_per_km",  # modelled braking energy per km so far
    "stops_per_km",
    "log_km_per_day",
)
# Trusted types of the artifacts: only these may be instantiated while loading.
TRUSTED_TYPES = (
    "sklearn.linear_model._base.LinearRegression",
    "sklearn.ensemble._gb.GradientBoostingRegressor",
    "sklearn.tree._classes.DecisionTreeRegressor",
    "sklearn.tree._tree.Tree",
    "sklearn.dummy.DummyRegressor",
    "sklearn._loss.loss.HalfSquaredError",
    "sklearn._loss.link.IdentityLink",
    "sklearn._loss.link.Interval",
    "numpy.random._mt19937.MT19937",
    "numpy.random.mtrand.RandomState",
)


class ArtifactError(ValueError):
    """A model artifact is missing, of another version, or holds untrusted types."""


def oil_features(
    rpm: npt.ArrayLike, oil_temp_c: npt.ArrayLike, load_pct: npt.ArrayLike, t_s: npt.ArrayLike
) -> FloatArray:
    """``OIL_FEATURES`` of one trip's samples (aligned arrays; the trip starts at key-on)."""
    t = np.asarray(t_s, dtype=np.float64)
    temp = np.asarray(oil_temp_c, dtype=np.float64)
    if t.size < 2:
        return np.zeros(len(OIL_FEATURES))
    revs = oil.interval_revolutions(t, rpm)
    band = np.searchsorted(TEMP_BANDS_C, temp[:-1])
    by_band = np.bincount(band, weights=revs, minlength=len(TEMP_BANDS_C) + 1)
    load = np.clip(np.asarray(load_pct, dtype=np.float64)[:-1] / 100.0, 0.0, 1.0)
    cool = temp[:-1] < LOAD_SPLIT_C
    by_load = [float((revs * load)[cool].sum()), float((revs * load)[~cool].sum())]
    cold = max(COLD_START_BELOW_C - float(temp[0]), 0.0) / COLD_START_BELOW_C
    mrevs = np.append(by_band, by_load) / 1e6
    return np.append(mrevs, cold)


# Least weight of the fleet model against one of the vehicle's own completed changes. The
# training changes (a 5,000 km / 6 month schedule) understate how far a vehicle's next, longer
# interval strays from its last; on a development fleet (seed 7, never the held-out vehicles)
# a floor of 0.005 let 6 of 160 later oil lives be alerted late, 0.01 none.
MIN_PRIOR_WEIGHT = 0.01


@dataclass
class OilCorrection:
    """Oil life consumed (percentage points) from ``OIL_FEATURES``, with a 10-90 % band.

    The median is a least-squares fit with non-negative weights (more revolutions never give
    the oil back its life) and no intercept; the band scales it by the 10 % and 90 %
    quantiles of true/fitted over the training intervals. With ``groups`` (the vehicle of
    each interval) it also learns how far a vehicle's own past changes should move it:
    ``factor_prior_weight``, the within-vehicle over the between-vehicle variance of
    true/fitted. Labels measured by a lab (``label_sd`` percentage points) spread both
    wider than the truth; the known measurement variance is taken out of the band and of the
    within-vehicle variance. ``models`` holds the regression, the two quantiles and that
    weight: what the artifact stores.
    """

    models: list[Any] = field(default_factory=list)

    def fit(
        self,
        x: FloatArray,
        consumed_pct: FloatArray,
        groups: npt.ArrayLike | None = None,
        label_sd: float = 0.0,
    ) -> OilCorrection:
        """Fit on completed intervals: features summed over each, life consumed by each (as
        measured, ± ``label_sd`` points)."""
        from sklearn.linear_model import LinearRegression

        reg = LinearRegression(fit_intercept=False, positive=True).fit(x, consumed_pct)
        fitted = reg.predict(x)
        ok = fitted > 1.0
        ratio = consumed_pct[ok] / fitted[ok] if ok.any() else np.ones(1)
        # Relative variance the lab's error adds to each ratio, on average.
        noise = float(np.mean((label_sd / fitted[ok]) ** 2)) if ok.any() else 0.0
        band = _deconvolved_band(np.quantile(ratio, [QUANTILES[0], QUANTILES[2]]), noise)
        weight = 1.0
        if groups is not None:
            weight = _prior_weight(ratio, np.asarray(groups)[ok], noise)
        self.models = [reg, band, np.array([weight])]
        return self

    @property
    def factor_prior_weight(self) -> float:
        """How many of a vehicle's own completed changes weigh as much as the fleet model."""
        return float(self.models[2][0])

    @property
    def log_sigma(self) -> float:
        """Spread of log(true/fitted) implied by the 10-90 % band, taken as log-normal."""
        band = self.models[1]
        z90 = NormalDist().inv_cdf(QUANTILES[2])
        return float(np.log(band[1] / band[0]) / (2.0 * z90))

    def consumed(self, x: FloatArray) -> FloatArray:
        """(n, 3) consumed percentage points at the 10/50/90 % quantiles."""
        reg, band = self.models[0], self.models[1]
        mid = np.maximum(reg.predict(np.atleast_2d(x)), 0.0)
        return np.column_stack([mid * band[0], mid, mid * band[1]])


def _deconvolved_band(band: FloatArray, noise: float) -> FloatArray:
    """The 10-90 % band of the true ratio: the measured one (log-normal) narrowed by the
    measurement's relative variance ``noise``, around the same centre."""
    z90 = NormalDist().inv_cdf(QUANTILES[2])
    centre = float(np.sqrt(band[0] * band[1]))
    measured = float(np.log(band[1] / band[0]) / (2.0 * z90))
    # At least a tenth of the measured spread is kept: a band is never exact.
    true = float(np.sqrt(max(measured**2 - noise, (0.1 * measured) ** 2)))
    return np.array([centre * np.exp(-z90 * true), centre * np.exp(z90 * true)])


def _prior_weight(ratio: FloatArray, groups: npt.NDArray[Any], noise: float = 0.0) -> float:
    """Within-vehicle over between-vehicle variance of the true ratio (random-effects moments;
    ``noise``, the measurement's relative variance, is in the measured within variance)."""
    within, means, sizes = [], [], []
    for g in np.unique(groups):
        r = ratio[groups == g]
        means.append(r.mean())
        sizes.append(r.size)
        if r.size >= 2:
            within.append(r.var(ddof=1))
    if not within or len(means) < 3:
        return 1.0
    var_within = float(np.mean(within))
    var_between = float(np.var(means, ddof=1)) - var_within * float(np.mean(1.0 / np.array(sizes)))
    var_within_true = max(var_within - noise, 0.0)
    # The floor keeps a vehicle's own changes from counting as exact (MIN_PRIOR_WEIGHT).
    return float(np.clip(var_within_true / max(var_between, 1e-6), MIN_PRIOR_WEIGHT, 20.0))


@dataclass(frozen=True)
class OilObservation:
    """One measurement of how much of a vehicle's oil life was gone, against the fleet model.

    A used-oil analysis of the drained oil at a change, or of a sample taken part-way through
    an interval; ``sd_pct`` is the measurement's standard deviation in percentage points (0 for
    an exact figure, as the simulator's truth is).
    """

    measured_consumed_pct: float
    predicted_consumed_pct: float  # the fleet model's median at the same point
    sd_pct: float = 0.0


@dataclass(frozen=True)
class VehicleCalibration:
    """A vehicle's scale of the fleet oil model and the width of its band relative to the
    fleet's."""

    factor: float = 1.0
    band_scale: float = 1.0

    def apply(self, fleet_consumed: FloatArray) -> FloatArray:
        """The fleet model's consumption (10/50/90 % in the last axis) scaled by the factor,
        its band narrowed around the median."""
        consumed = np.asarray(fleet_consumed, dtype=np.float64) * self.factor
        mid = consumed[..., 1:2]
        return mid + (consumed - mid) * self.band_scale


# Below this many predicted percentage points a measured ratio says nothing.
MIN_OBSERVED_PCT = 1.0


def vehicle_calibration(
    observations: list[OilObservation], *, prior_weight: float, log_sigma: float
) -> VehicleCalibration:
    """The vehicle's factor and band from its own oil measurements (random effects).

    The fleet band (log spread ``log_sigma``) is the between-vehicle spread σb² plus the
    within-vehicle σw² = ``prior_weight``·σb². The vehicle's factor has prior 1 ± σb; each
    measurement is one look at it, true/predicted, with variance σw² plus its own relative
    measurement error. The posterior mean is the factor; its variance plus σw² is what is left
    of the band. With exact measurements this is (w + Σ ratios) / (w + n): one change moves the
    factor halfway when w = 1.
    """
    w = max(prior_weight, 1e-9)
    var_between = max(max(log_sigma, 0.0) ** 2 / (1.0 + w), 1e-12)
    precision, weighted = 1.0, 1.0  # the prior, in units of σb²
    for obs in observations:
        if obs.predicted_consumed_pct <= MIN_OBSERVED_PCT:
            continue
        ratio = obs.measured_consumed_pct / obs.predicted_consumed_pct
        rel_sd = obs.sd_pct / obs.predicted_consumed_pct
        noise = w + (rel_sd**2 / var_between if rel_sd > 0 else 0.0)
        precision += 1.0 / noise
        weighted += ratio / noise
    return VehicleCalibration(
        factor=float(weighted / precision),
        band_scale=float(np.sqrt((1.0 / precision + w) / (1.0 + w))),
    )


@dataclass
class PadPrior:
    """Fleet prior of (front, rear) pad wear in mm per MJ of modelled braking energy."""

    models: list[Any] = field(default_factory=list)

    def fit(self, x: FloatArray, coeff_mm_per_mj: FloatArray) -> PadPrior:
        """Fit one boosted-tree regression of log coefficient per axle."""
        from sklearn.ensemble import GradientBoostingRegressor

        y = np.log(np.maximum(coeff_mm_per_mj, 1e-6))
        self.models = [
            GradientBoostingRegressor(
                n_estimators=150, max_depth=2, learning_rate=0.05, subsample=0.8, random_state=0
            ).fit(x, y[:, axle])
            for axle in range(2)
        ]
        return self

    def coeff(self, x: FloatArray) -> FloatArray:
        """(n, 2) prior coefficients (front, rear) in mm/MJ."""
        return np.exp(np.column_stack([m.predict(np.atleast_2d(x)) for m in self.models]))


def pad_features(
    *, mass_kg: float, kind: str, mj_per_km: float, stops_per_km: float, km_per_day: float
) -> FloatArray:
    """``PAD_FEATURES`` of one vehicle."""
    return np.array(
        [
            mass_kg / 1000.0,
            float(kind == "hybrid"),
            float(kind == "electric"),
            np.log(max(mj_per_km, 1e-4)),
            stops_per_km,
            np.log(max(km_per_day, 0.1)),
        ]
    )


# A shop's pad gauge reads to about ±0.2 mm; the prior's spread between vehicles is ~15 %.
MEASUREMENT_SD_MM = 0.2
PRIOR_REL_SD = 0.15


def pad_wear_rel_sd(mass_rel_sd: float) -> float:
    """Relative spread of a car's pad wear before any measurement of it: the coefficient's
    spread between cars of known mass (``PRIOR_REL_SD``) and the spread of the mass the
    braking energy was computed with (``predictive.mass``), in quadrature: wear is
    proportional to both."""
    return combined_rel_sd(PRIOR_REL_SD, mass_rel_sd)


def calibrate_pad_coeff(
    prior: float, worn_mm: float, braking_mj: float, prior_rel_sd: float = PRIOR_REL_SD
) -> float:
    """Coefficient after a measurement showed ``worn_mm`` of wear over ``braking_mj``.

    Precision-weighted mean of the prior (relative spread ``prior_rel_sd``, e.g.
    ``pad_wear_rel_sd`` of the car's mass) and the measured coefficient (normal
    approximation).
    """
    if braking_mj <= 0:
        return prior
    measured = worn_mm / braking_mj
    var_measured = (MEASUREMENT_SD_MM / braking_mj) ** 2
    var_prior = (prior_rel_sd * prior) ** 2
    return float((measured * var_prior + prior * var_measured) / (var_prior + var_measured))


@dataclass
class LearnedModels:
    """The artifacts of one training run and its manifest."""

    oil: OilCorrection
    pads: PadPrior
    manifest: dict[str, Any]


def save_models(models: LearnedModels, directory: Path) -> list[Path]:
    """Write both models (skops) and ``manifest.json`` into ``directory``; the paths written."""
    import skops.io as sio

    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / OIL_FILE, directory / PAD_FILE, directory / MANIFEST_FILE]
    sio.dump(models.oil.models, paths[0])
    sio.dump(models.pads.models, paths[1])
    manifest = {
        **models.manifest,
        "version": ARTIFACT_VERSION,
        "oil_features": list(OIL_FEATURES),
        "pad_features": list(PAD_FEATURES),
        "quantiles": list(QUANTILES),
        "files": {"oil": OIL_FILE, "pads": PAD_FILE},
    }
    paths[2].write_text(json.dumps(manifest, indent=2) + "\n")
    return paths


def _load_trusted(path: Path) -> Any:
    import skops.io as sio

    if not path.is_file():
        raise ArtifactError(f"no model artifact {path}")
    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as exc:  # a corrupt or non-skops file
        raise ArtifactError(f"{path} is not a skops artifact: {exc}") from None
    refused = sorted(set(untrusted) - set(TRUSTED_TYPES))
    if refused:
        raise ArtifactError(f"{path} holds untrusted types: {', '.join(refused)}")
    return sio.load(path, trusted=list(untrusted))


def load_models(directory: Path) -> LearnedModels:
    """Read the artifacts of ``save_models``; ``ArtifactError`` if unsafe or of another version."""
    manifest_path = directory / MANIFEST_FILE
    if not manifest_path.is_file():
        raise ArtifactError(f"no {MANIFEST_FILE} in {directory}")
    manifest = json.loads(manifest_path.read_text())
    if manifest.get("version") != ARTIFACT_VERSION:
        raise ArtifactError(
            f"model version {manifest.get('version')!r}, this code reads {ARTIFACT_VERSION!r}"
        )
    oil_models = _load_trusted(directory / OIL_FILE)
    pad_models = _load_trusted(directory / PAD_FILE)
    if not (isinstance(oil_models, list) and len(oil_models) == 3):
        raise ArtifactError(f"{OIL_FILE} does not hold a regression, its band and prior weight")
    if not (isinstance(pad_models, list) and len(pad_models) == 2):
        raise ArtifactError(f"{PAD_FILE} does not hold two axle models")
    return LearnedModels(OilCorrection(oil_models), PadPrior(pad_models), manifest)


def find_models(directory: Path = DEFAULT_DIR) -> LearnedModels | None:
    """The learned models in ``directory``, None when it holds none (physics only); read once
    per manifest written. ``ArtifactError`` as ``load_models``."""
    try:
        written = (directory / MANIFEST_FILE).stat().st_mtime_ns
    except FileNotFoundError:
        return None
    return _load_cached(directory.resolve(), written)


@functools.lru_cache(maxsize=4)
def _load_cached(directory: Path, written_ns: int) -> LearnedModels:
    # Keyed by the manifest's mtime: a new training run is picked up, an old one not reread.
    return load_models(directory)
