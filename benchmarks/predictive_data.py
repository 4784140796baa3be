# SPDX-License-Identifier: MIT
"""Synthetic fleet data for ``wrenchlight bench predictive``, made with numpy, loaded with COPY.

Every vehicle drove one minute before the window (evaluated untimed, so the timed pass
continues from real running totals, as an incremental pass does) and then ``minutes`` minutes
of new driving at the feed's sampling: speed every second, the other fast signals every 2 s,
the slow ones every 30 s (``wrenchlight.feed.Sampling``). Rows go in as ingest writes them:
minute by minute (one edge-agent batch each), a block of vehicles per COPY.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import psycopg

from benchmarks.ingest.pgcopy import copy_encoded
from db.rows import scalars
from ingest.wide import COLUMNS, COPY_SQL, Rows, encode

# Vehicles generated and copied at a time (also the vehicles of one simulated ingest flush).
BLOCK_VEHICLES = 2000
FUELS = ("petrol", "diesel", "hybrid", "electric")
FUEL_SHARES = (0.60, 0.20, 0.15, 0.05)
_ENGINE = ("engine_rpm", "engine_load_pct", "throttle_pct", "coolant_temp_c", "oil_temp_c")
_FAST = ("engine_rpm", "engine_load_pct", "throttle_pct", "coolant_temp_c", "oil_temp_c")
_SLOW = ("ambient_temp_c", "fuel_level_pct", "module_voltage_v", "odometer_km")


@dataclass(frozen=True)
class Fleet:
    """What was loaded: vehicle ids, the window of new driving, and its size."""

    vehicle_ids: np.ndarray
    prior_start: datetime  # the minute evaluated before the clock starts
    window_start: datetime
    window_end: datetime
    new_rows: int
    new_samples: int


def _vehicles(conn: psycopg.Connection, n: int, at: datetime, rng: np.random.Generator) -> None:
    fuel = rng.choice(len(FUELS), size=n, p=FUEL_SHARES)
    days = rng.uniform(1, 330, n)
    pad_days = rng.uniform(1, 400, n)
    odo = rng.uniform(5_000, 150_000, n)
    front = rng.uniform(3.8, 12.0, n)
    with (
        conn.transaction(),
        conn.cursor().copy(
            "COPY vehicles (vin, fuel_type, mass_kg, oil_changed_at, oil_changed_odometer_km, "
            "pads_measured_at, pads_measured_odometer_km, pad_front_mm, pad_rear_mm) FROM STDIN"
        ) as copy,
    ):
        for i in range(n):
            electric = FUELS[fuel[i]] == "electric"
            copy.write_row(
                (
                    f"WLBENCH{i:010d}",
                    FUELS[fuel[i]],
                    float(rng.uniform(1100, 2400)),
                    None if electric else at - timedelta(days=float(days[i])),
                    None if electric else float(odo[i] - days[i] * 40),
                    at - timedelta(days=float(pad_days[i])),
                    float(odo[i] - pad_days[i] * 40),
                    float(front[i]),
                    float(front[i] + rng.uniform(-0.5, 2.0)),
                )
            )


def _block_rows(
    ids: np.ndarray,
    electric: np.ndarray,
    oil_temp: np.ndarray,
    start_s: float,
    seconds: int,
    rng: np.random.Generator,
) -> tuple[list[Rows], int]:
    """One block's readings, a Rows per minute (ingest's batches), and their sample count."""
    v, s = len(ids), seconds
    t = np.arange(s, dtype=float)
    # Urban and highway driving with stops: two sine waves per vehicle, clipped at standstill.
    base = rng.uniform(10, 80, (v, 1))
    wave = rng.uniform(10, 45, (v, 1)) * np.sin(
        2 * np.pi * t / rng.uniform(40, 200, (v, 1)) + rng.uniform(0, 6.3, (v, 1))
    )
    ripple = rng.uniform(0, 8, (v, 1)) * np.sin(2 * np.pi * t / rng.uniform(5, 20, (v, 1)))
    speed = np.clip(base + wave + ripple, 0, 140)
    gear = rng.uniform(25, 45, (v, 1))
    warm = rng.uniform(40, 95, (v, 1))
    values = {
        "speed_kmh": speed,
        "engine_rpm": 750 + speed * gear + rng.normal(0, 30, (v, s)),
        "engine_load_pct": np.clip(25 + np.gradient(speed, axis=1) * 20 + speed * 0.3, 0, 100),
        "throttle_pct": np.clip(15 + np.gradient(speed, axis=1) * 15, 0, 100),
        "coolant_temp_c": np.minimum(warm + t * 0.02, 95),
        "oil_temp_c": np.minimum(warm + t * 0.02, 95) + rng.uniform(0, 15, (v, 1)),
        "ambient_temp_c": np.broadcast_to(rng.uniform(-5, 30, (v, 1)), (v, s)),
        "fuel_level_pct": np.broadcast_to(rng.uniform(10, 90, (v, 1)), (v, s)),
        "module_voltage_v": np.broadcast_to(rng.uniform(13.8, 14.4, (v, 1)), (v, s)),
        "odometer_km": rng.uniform(5_000, 150_000, (v, 1)) + np.cumsum(speed, axis=1) / 3600,
    }
    second = (start_s + t).astype(np.int64)
    present = {name: np.ones((v, s), dtype=bool) for name in COLUMNS}
    for name in _FAST:
        present[name] = np.broadcast_to(second % 2 == 0, (v, s)).copy()
    for name in _SLOW:
        present[name] = np.broadcast_to(second % 30 == 0, (v, s)).copy()
    for name in _ENGINE:
        present[name] &= ~electric[:, None]
    present["oil_temp_c"] &= oil_temp[:, None]
    minutes, samples = [], 0
    for m0 in range(0, s, 60):
        cut = slice(m0, min(s, m0 + 60))
        n = cut.stop - cut.start
        vals = np.stack([np.asarray(values[c])[:, cut] for c in COLUMNS], axis=-1)
        pres = np.stack([present[c][:, cut] for c in COLUMNS], axis=-1)
        time_ms = np.broadcast_to(((start_s + t[cut]) * 1000).astype(np.int64), (v, n))
        rows = Rows(
            np.repeat(ids, n),
            time_ms.reshape(-1),
            vals.reshape(-1, len(COLUMNS)),
            pres.reshape(-1, len(COLUMNS)),
        )
        samples += rows.samples
        minutes.append(rows)
    return minutes, samples


def load_fleet(
    conn: psycopg.Connection,
    *,
    vehicles: int,
    minutes: int,
    seed: int = 0,
    progress: Callable[[str, float, float], None] | None = None,
) -> Fleet:
    """Create ``vehicles`` vehicles and COPY their prior minute and ``minutes`` new minutes."""
    rng = np.random.default_rng(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    window_end = now - timedelta(minutes=2)
    window_start = window_end - timedelta(minutes=minutes)
    prior_start = window_start - timedelta(minutes=1)
    _vehicles(conn, vehicles, prior_start, rng)
    ids = np.array(
        scalars(conn, "SELECT vehicle_id FROM vehicles ORDER BY vehicle_id"),
        dtype=np.int64,
    )
    fuel = scalars(conn, "SELECT fuel_type FROM vehicles ORDER BY vehicle_id")
    electric = np.array([f == "electric" for f in fuel])
    oil_temp = rng.random(len(ids)) < 0.7
    seconds = (minutes + 1) * 60
    new_rows = new_samples = 0
    for b in range(0, len(ids), BLOCK_VEHICLES):
        cut = slice(b, b + BLOCK_VEHICLES)
        batches, samples = _block_rows(
            ids[cut], electric[cut], oil_temp[cut], prior_start.timestamp(), seconds, rng
        )
        for rows in batches:
            copy_encoded(conn, COPY_SQL, encode(rows))
        prior = batches[0]
        new_rows += sum(len(r) for r in batches) - len(prior)
        new_samples += samples - prior.samples
        if progress is not None:
            progress("generating and copying readings", min(b + BLOCK_VEHICLES, len(ids)), len(ids))
    conn.execute("VACUUM ANALYZE readings")
    conn.execute("ANALYZE vehicles")
    return Fleet(ids, prior_start, window_start, window_end, new_rows, new_samples)
