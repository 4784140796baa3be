# SPDX-License-Identifier: MIT
"""Synthetic driving written straight into the readings table (shared by the tests here)."""

from datetime import UTC, datetime, timedelta

import numpy as np

from telemetry.signals import by_name

START = datetime(2026, 11, 1, tzinfo=UTC)
STEP_S = 10.0


def stop_and_go_kmh(t_s):
    """A 120 s cycle: 0→100 km/h in 40 s, cruise 40 s, brake to 0 in 20 s, stand 20 s."""
    phase = np.mod(t_s, 120.0)
    return np.select(
        [phase < 40, phase < 80, phase < 100],
        [phase * 2.5, np.full(phase.shape, 100.0), (100 - phase) * 5.0],
        np.zeros(phase.shape),
    )


def write_drive(conn, vehicle_id, *, hours, rpm=3000.0, oil_temp_c=130.0, start=START):
    """COPY a drive of ``hours`` at STEP_S into readings; return the sample times (epoch s)."""
    t = np.arange(0.0, hours * 3600.0 + STEP_S / 2, STEP_S)
    speed = stop_and_go_kmh(t)
    signals = {
        "engine_rpm": np.full(t.shape, rpm),
        "oil_temp_c": np.full(t.shape, oil_temp_c),
        "speed_kmh": speed,
    }
    with conn.cursor().copy(
        "COPY readings (time, vehicle_id, signal_id, value) FROM STDIN"
    ) as copy:
        for name, values in signals.items():
            sid = by_name(name).id
            for ts, value in zip(t, values, strict=True):
                copy.write_row(
                    (start + timedelta(seconds=float(ts)), vehicle_id, sid, float(value))
                )
    return start.timestamp() + t
