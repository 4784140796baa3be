# SPDX-License-Identifier: MIT
"""Oil-life and brake-wear models, and the evaluator that turns readings into alerts.

The public names load on first use (PEP 562): ``predictive.thresholds`` must stay importable
without numpy or psycopg, because the settings of the device-side commands read their defaults
from it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_HOMES = {
    "evaluate_pending": "evaluator",
    "evaluate_vehicle": "evaluator",
    "BRAKE_MODEL": "health",
    "OIL_MODEL": "health",
    "Prediction": "health",
    "PredictiveError": "health",
    "VehicleNotFound": "health",
    "latest_predictions": "health",
    "oil_band": "health",
    "pad_band": "health",
    "Finding": "trouble_codes",
    "InvalidTroubleCode": "trouble_codes",
    "Urgency": "trouble_codes",
    "assess": "trouble_codes",
    "assess_all": "trouble_codes",
    "describe": "trouble_codes",
    "worst": "trouble_codes",
    "run_evaluator": "worker",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'predictive' has no attribute {name!r}")
    return getattr(importlib.import_module(f"predictive.{home}"), name)


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
