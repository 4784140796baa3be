# SPDX-License-Identifier: MIT
"""Vehicle identification numbers: ISO 3779 check digit and random valid VINs."""

from __future__ import annotations

import numpy as np

VIN_ALPHABET = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
_VIN_VALUES = dict(
    zip(
        "ABCDEFGHJKLMNPRSTUVWXYZ",
        [1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9, 2, 3, 4, 5, 6, 7, 8, 9],
        strict=True,
    )
)
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def vin_check_digit(vin: str) -> str:
    """ISO 3779 / FMVSS 115 check digit (position 9) of a 17-character VIN."""
    total = sum(
        (int(c) if c.isdigit() else _VIN_VALUES[c]) * w
        for c, w in zip(vin.upper(), _VIN_WEIGHTS, strict=True)
    )
    r = total % 11
    return "X" if r == 10 else str(r)


# Position 10 encodes the model year in a 30-year cycle (no I, O, Q, U, Z or 0).
_YEAR_CODES = "ABCDEFGHJKLMNPRSTVWXY123456789"


def model_year_code(year: int) -> str:
    """The VIN's 10th character for a model year (2010 -> 'A', 2024 -> 'R')."""
    return _YEAR_CODES[(year - 1980) % 30]


def make_vin(rng: np.random.Generator, wmi: str = "WLS", model_year: int | None = None) -> str:
    """A random VIN with a valid check digit (and the model-year code when given)."""
    body = "".join(rng.choice(list(VIN_ALPHABET), size=13))
    vin = wmi + body[:5] + "0" + body[5:]  # "0" placeholder for the check digit
    if model_year is not None:
        vin = vin[:9] + model_year_code(model_year) + vin[10:]
    return vin[:8] + vin_check_digit(vin) + vin[9:]
