# SPDX-License-Identifier: MIT
"""Distances and temperatures in the user's units, numbers and dates in their language."""

from __future__ import annotations

from datetime import UTC, datetime

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal

KM_PER_MILE = 1.609344


def distance(km: float, units: str, locale: Locale) -> str:
    """``km`` as "1,234 km" or, for imperial units, "767 mi"."""
    if units == "imperial":
        return f"{format_decimal(round(km / KM_PER_MILE), locale=locale)} mi"
    return f"{format_decimal(round(km), locale=locale)} km"


def temperature(celsius: float, units: str) -> str:
    """``celsius`` as "88 °C" or, for imperial units, "190 °F"."""
    if units == "imperial":
        return f"{round(celsius * 9 / 5 + 32)} °F"
    return f"{round(celsius)} °C"


def number(value: float, locale: Locale, digits: int = 1) -> str:
    """A number with ``digits`` decimals in the locale's notation."""
    return format_decimal(round(value, digits), format=f"#,##0.{'0' * digits}", locale=locale)


def day(when: datetime, locale: Locale) -> str:
    """A date as people of the locale write it ("29 Nov 2026")."""
    return format_date(when, format="medium", locale=locale)


def moment(when: datetime, locale: Locale) -> str:
    """A date and time, in UTC, as people of the locale write it."""
    return format_datetime(when, format="medium", tzinfo=UTC, locale=locale) + " UTC"
