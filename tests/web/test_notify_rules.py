# SPDX-License-Identifier: MIT
"""The rules of notifications as pure functions: which events people are told about and
which cannot wait; when quiet hours end on the user's clock, across midnight and daylight
saving changes."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from web.notify.events import classify
from web.notify.quiet import QuietHours, held_until


@pytest.mark.parametrize(
    ("event_type", "payload", "expected"),
    [
        ("alert.raised", {"kind": "oil_change", "tier": "change_soon"}, ("tier_crossed", False)),
        ("alert.raised", {"kind": "brake_pads", "tier": "overdue"}, ("tier_crossed", True)),
        ("alert.raised", {"kind": "trouble_code", "severity": "critical"}, ("trouble_code", True)),
        ("alert.raised", {"kind": "trouble_code", "severity": "info"}, None),
        ("order.created", {"status": "proposed"}, ("order_proposed", False)),
        ("order.created", {"status": "offered"}, None),
        ("order.status_changed", {"status": "scheduled"}, ("order_booked", False)),
        ("order.status_changed", {"status": "checked_in"}, None),
        ("order.status_changed", {"status": "completed"}, ("order_completed", False)),
        ("order.rescheduled", {"status": "scheduled"}, ("order_rescheduled", False)),
        ("survey.offered", {}, ("survey_offered", False)),
        ("something.else", {}, None),
    ],
)
def test_what_people_are_told(event_type, payload, expected):
    found = classify(event_type, payload)
    assert (None if found is None else (found.kind, found.urgent)) == expected


NIGHT = QuietHours("Europe/Berlin", time(22), time(7))


@pytest.mark.parametrize(
    ("now", "until"),
    [
        # 23:30 in Berlin in winter (UTC+1): held until 07:00 next morning, 06:00 UTC.
        (datetime(2026, 1, 14, 22, 30, tzinfo=UTC), datetime(2026, 1, 15, 6, 0, tzinfo=UTC)),
        # 05:00 in Berlin: the same night's end.
        (datetime(2026, 1, 15, 4, 0, tzinfo=UTC), datetime(2026, 1, 15, 6, 0, tzinfo=UTC)),
        # 12:00 in Berlin: not quiet.
        (datetime(2026, 1, 15, 11, 0, tzinfo=UTC), None),
        # The night clocks go forward (29 March 2026, 02:00 → 03:00): 07:00 is UTC+2.
        (datetime(2026, 3, 28, 22, 0, tzinfo=UTC), datetime(2026, 3, 29, 5, 0, tzinfo=UTC)),
    ],
)
def test_quiet_hours_end_at_the_users_morning(now, until):
    assert held_until(NIGHT, now) == until


def test_no_window_or_an_empty_one_is_never_quiet():
    now = datetime(2026, 1, 15, 3, 0, tzinfo=UTC)
    assert held_until(QuietHours(), now) is None
    assert held_until(QuietHours("UTC", time(8), time(8)), now) is None
    assert held_until(QuietHours("UTC", time(1), time(5)), now) == datetime(
        2026, 1, 15, 5, 0, tzinfo=UTC
    )
