# SPDX-License-Identifier: MIT
"""Distances and temperatures in the user's units, numbers and dates in their language."""

from __future__ import annotations

from datetime import UTC, datetime

from web import i18n, units

EN = i18n.babel_locale("en")
ZH = i18n.babel_locale("zh_Hans")


def test_distances_in_kilometres_and_miles():
    assert units.distance(48213.4, "metric", EN) == "48,213 km"
    assert units.distance(48213.4, "imperial", EN) == "29,958 mi"
    assert units.distance(1.609344, "imperial", EN) == "1 mi"


def test_temperatures_in_celsius_and_fahrenheit():
    assert units.temperature(88.0, "metric") == "88 °C"
    assert units.temperature(88.0, "imperial") == "190 °F"
    assert units.temperature(-40.0, "imperial") == "-40 °F"


def test_dates_and_numbers_in_the_language():
    when = datetime(2026, 12, 16, 9, 30, tzinfo=UTC)
    assert units.day(when, EN) == "16 Dec 2026"
    assert units.day(when, ZH) == "2026年12月16日"
    assert units.moment(when, EN).endswith("UTC") and "09:30" in units.moment(when, EN)
    assert units.number(14.24, EN) == "14.2" and units.number(1234.5, EN, 0) == "1,234"
