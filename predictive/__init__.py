# SPDX-License-Identifier: MIT
"""Oil-life and brake-wear models, and the evaluator that turns readings into alerts."""

from predictive.evaluator import evaluate_pending, evaluate_vehicle
from predictive.health import (
    BRAKE_MODEL,
    OIL_MODEL,
    Prediction,
    PredictiveError,
    VehicleNotFound,
    latest_predictions,
    oil_band,
    pad_band,
)
from predictive.trouble_codes import (
    Finding,
    InvalidTroubleCode,
    Urgency,
    assess,
    assess_all,
    describe,
    worst,
)
from predictive.worker import run_evaluator

__all__ = [
    "BRAKE_MODEL",
    "OIL_MODEL",
    "Finding",
    "InvalidTroubleCode",
    "Prediction",
    "PredictiveError",
    "Urgency",
    "VehicleNotFound",
    "assess",
    "assess_all",
    "describe",
    "evaluate_pending",
    "evaluate_vehicle",
    "latest_predictions",
    "oil_band",
    "pad_band",
    "run_evaluator",
    "worst",
]
