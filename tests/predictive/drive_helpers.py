# SPDX-License-Identifier: MIT
"""Synthetic driving written straight into the readings table (shared by the tests here):
one row per instant, a column per signal."""

from datetime import UTC, datetime, timedelta

import numpy as np

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
        f"COPY readings (time, vehicle_id, {', '.join(signals)}) FROM STDIN"
    ) as copy:
        for i, ts in enumerate(t):
            copy.write_row(
                (
                    start + timedelta(seconds=float(ts)),
                    vehicle_id,
                    *(float(values[i]) for values in signals.values()),
                )
            )
    return start.timestamp() + t
