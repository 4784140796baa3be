# SPDX-License-Identifier: MIT
"""The evaluator's set-based pass: a chunk of vehicles in a handful of queries.

``evaluate_vehicle`` costs about ten round trips per vehicle. Here a chunk of
``CHUNK_VEHICLES`` vehicles costs a fixed number of statements, in one transaction:

1. lock the chunk's vehicle rows (``FOR UPDATE SKIP LOCKED``; with ``lease_owner`` only
   vehicles of the shards it holds), so two evaluators never advance a vehicle twice; a vehicle
   locked elsewhere is skipped and stays pending for the next sweep;
2. trouble codes that changed since last evaluated (alerts for those few, one by one);
3. the latest prediction of each model, its totals only (``evidence->'state'`` and the keys
   ``VehiclePass.begin`` reads);
4. the first odometer reading after a service, for models that start afresh;
5. every vehicle's new readings in one query: PostgreSQL packs each vehicle's rows into one
   binary string per column (``float8send``), which numpy reads without a Python object per
   value;
6. per vehicle, ``VehiclePass`` advances the totals and makes the publications (the same code
   as ``evaluate_vehicle``, so the results are the same);
7. all predictions with one ``COPY`` (their ids drawn from the sequence first), and
   ``sync_publication_alerts`` only where the vehicle's open alerts differ from what its tier
   calls for (``alerts_in_sync``), which is rare: a tier crossing, or an alert resolved by hand.

A vehicle with more than ``BULK_ROWS`` new rows (a long-offline car uploading its disk buffer,
a rebuild) is handed to ``evaluate_vehicle`` inside the same transaction, which pages through
its rows. If the chunk fails on bad data, it is rolled back and its vehicles are evaluated one
by one, so one vehicle's bad data only costs its own evaluation.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import numpy as np
import psycopg
from psycopg import sql
from psycopg.copy import QueuedLibpqWriter
from psycopg.rows import dict_row

from db.rows import records, scalars
from predictive.health import (
    BRAKE_MODEL,
    OIL_DUE_SOON_PCT,
    OIL_MODEL,
    PAD_DUE_SOON_MM,
    Prediction,
    PredictiveError,
)
from predictive.learned import LearnedModels
from predictive.publish import SAMPLE_KIND, Publication, sync_publication_alerts
from predictive.vehicle_pass import (
    READ_COLUMNS,
    SETTLE_S,
    VEHICLE_COLUMNS,
    VEHICLE_ROW,
    ChangedCodes,
    VehiclePass,
    codes_changed,
    hold_back,
    unobserved_km,
)

log = logging.getLogger(__name__)

# Vehicles per transaction: enough that the fixed statements cost little per vehicle, few
# enough that a chunk's rows stay small (at most CHUNK_VEHICLES x BULK_ROWS).
CHUNK_VEHICLES = 1000
# New rows of one vehicle read in bulk: half an hour of driving at the feed's 1 Hz. A vehicle
# with more is evaluated alone (``evaluate_vehicle`` pages through any amount).
BULK_ROWS = 1800
# timestamptz_send counts microseconds from 2000-01-01 UTC.
_PG_EPOCH_US = 946_684_800_000_000


class OneVehicle(Protocol):
    """``evaluator.evaluate_vehicle``: the per-vehicle path for what does not fit a chunk."""

    def __call__(
        self,
        *,
        conn: psycopg.Connection,
        vehicle_id: int,
        now: datetime,
        oil_alert_pct: float,
        pad_alert_mm: float,
        settle_s: float,
        lease_owner: str | None,
        learned_models: LearnedModels | None,
    ) -> list[Prediction]: ...


def _columns(names: Iterable[str], template: str = "{}") -> sql.Composable:
    """``names`` as identifiers, each put into ``template``, joined with commas."""
    return sql.SQL(", ").join(sql.SQL(template).format(sql.Identifier(n)) for n in names)


_LOCK_SQL = sql.SQL(
    "SELECT {columns} FROM vehicles WHERE vehicle_id = ANY(%(ids)s) "
    "AND (%(owner)s::text IS NULL OR vehicle_id %% (SELECT count(*) FROM evaluator_shards) "
    "     IN (SELECT shard FROM evaluator_shards WHERE owner = %(owner)s)) "
    "ORDER BY vehicle_id FOR UPDATE SKIP LOCKED"
).format(columns=VEHICLE_COLUMNS)
_CODES_SQL = (
    "SELECT d.vehicle_id, d.updated_at, d.stored, d.pending, d.permanent "
    "FROM vehicle_dtcs d LEFT JOIN evaluator_dtc_marks m USING (vehicle_id) "
    "WHERE d.vehicle_id = ANY(%s) AND m.updated_at IS DISTINCT FROM d.updated_at "
    "ORDER BY d.vehicle_id"
)
# Only what VehiclePass.begin reads of the latest predictions (the highest id per vehicle and
# model, as ``latest_predictions``): one probe of (vehicle_id, model, prediction_id DESC) per
# vehicle and model, however long the history (revision 0009).
_LATEST_SQL = (
    "SELECT p.vehicle_id, p.model, p.model_version, p.evidence->'state' AS state, "
    "p.evidence->'baseline_s' AS baseline_s, p.evidence ? 'first_reading_s' AS has_first, "
    "p.evidence->'first_reading_s' AS first_reading_s, "
    "(p.evidence->>'mass_kg')::float8 AS mass_kg "
    "FROM unnest(%s::bigint[]) AS v(id) CROSS JOIN unnest(%s::text[]) AS m(model) "
    "CROSS JOIN LATERAL (SELECT * FROM predictions p WHERE p.vehicle_id = v.id "
    "                    AND p.model = m.model ORDER BY p.prediction_id DESC LIMIT 1) p"
)
_ODOMETER_SQL = (
    "SELECT (SELECT odometer_km FROM readings r WHERE r.vehicle_id = c.vehicle_id "
    "        AND odometer_km IS NOT NULL "
    "        AND time >= COALESCE(to_timestamp(c.since), '-infinity') ORDER BY time LIMIT 1) "
    "AS first_km "
    "FROM unnest(%s::int8[], %s::float8[]) WITH ORDINALITY AS c(vehicle_id, since, i) "
    "ORDER BY c.i"
)
# One vehicle's page of rows: the same rows as evaluator._READ_SQL (``time > since``, at most
# ``now``, any of READ_SIGNALS present, by time, at most ``cap``), for each ``c.vehicle_id``.
PAGE_SQL = sql.SQL(
    "SELECT time, {columns} FROM readings "
    "        WHERE vehicle_id = c.vehicle_id AND time <= %(now)s "
    "        AND time > COALESCE(to_timestamp(c.since), '-infinity') "
    "        AND num_nonnulls({columns}) > 0 "
    "        ORDER BY time LIMIT %(cap)s"
).format(columns=_columns(READ_COLUMNS))
# Every vehicle's page, each column packed into one string (``n`` rows, times ``t``, and a
# column named as each of READ_COLUMNS).
READ_QUERY = sql.SQL(
    "SELECT c.vehicle_id, r.n, r.t, {selected} "
    "FROM unnest(%(ids)s::int8[], %(since)s::float8[]) AS c(vehicle_id, since) "
    "CROSS JOIN LATERAL (SELECT count(*) AS n, string_agg(timestamptz_send(time), '') AS t, "
    "{packed} FROM ({page}) page) r "
    "WHERE r.n > 0"
).format(
    selected=_columns(READ_COLUMNS, "r.{}"),
    packed=sql.SQL(", ").join(
        sql.SQL("string_agg(float8send(COALESCE({c}, 'NaN')), '') AS {c}").format(
            c=sql.Identifier(c)
        )
        for c in READ_COLUMNS
    ),
    page=PAGE_SQL,
)
_COPY_SQL = (
    "COPY predictions (prediction_id, vehicle_id, model, model_version, time, value, unit, "
    "remaining_km, evidence) FROM STDIN"
)


@dataclass(frozen=True, slots=True)
class _LatestTotals:
    """What ``VehiclePass.begin`` reads of a vehicle's latest prediction of a model."""

    vehicle_id: int
    model: str
    model_version: str
    state: dict[str, Any] | None
    baseline_s: float | None
    has_first: bool
    first_reading_s: float | None
    mass_kg: float | None  # the brake totals' mass (VehiclePass.begin)


@dataclass(frozen=True, slots=True)
class _OpenAlert:
    """An unresolved wear-model alert: its kind and tier."""

    vehicle_id: int
    kind: str
    tier: str


def _rows(packed: Mapping[str, Any]) -> np.ndarray:
    """One vehicle's packed columns as rows: epoch s, then READ_SIGNALS (NaN: not sampled)."""
    n = int(packed["n"])
    rows = np.empty((n, 1 + len(READ_COLUMNS)))
    # Integer microseconds divided once: the same float as extract(epoch FROM time)::float8.
    rows[:, 0] = (np.frombuffer(packed["t"], ">i8").astype(np.int64) + _PG_EPOCH_US) / 1e6
    for k, column in enumerate(READ_COLUMNS):
        rows[:, 1 + k] = np.frombuffer(packed[column], ">f8")
    # string_agg keeps the order of the sorted subquery in practice; make sure of it.
    if n > 1 and not bool(np.all(rows[1:, 0] >= rows[:-1, 0])):
        rows = rows[np.argsort(rows[:, 0], kind="stable")]
    return rows


def stream_new_rows(
    conn: psycopg.Connection,
    since: dict[int, float | None],
    *,
    now: datetime,
    cap: int = BULK_ROWS,
) -> Iterator[tuple[int, np.ndarray]]:
    """Each vehicle's rows after its ``since`` (up to ``now``, at most ``cap``), by time, as
    PostgreSQL produces them (vehicles without any are left out). Streamed, so the server
    reads the next vehicles while the caller works on these."""
    cur = conn.cursor(binary=True, row_factory=dict_row)
    params = {"ids": list(since), "since": list(since.values()), "now": now, "cap": cap}
    for packed in cur.stream(READ_QUERY, params):
        yield int(packed["vehicle_id"]), _rows(packed)


def read_new_rows(
    conn: psycopg.Connection,
    since: dict[int, float | None],
    *,
    now: datetime,
    cap: int = BULK_ROWS,
) -> dict[int, np.ndarray]:
    """``stream_new_rows`` collected: vehicle → its rows."""
    return dict(stream_new_rows(conn, since, now=now, cap=cap))


def _latest(conn: psycopg.Connection, ids: list[int]) -> dict[int, dict[str, Prediction]]:
    """The latest prediction of each model per vehicle, with only its totals as evidence."""
    out: dict[int, dict[str, Prediction]] = {}
    for latest in records(conn, _LatestTotals, _LATEST_SQL, (ids, [OIL_MODEL, BRAKE_MODEL])):
        evidence = {"state": latest.state, "baseline_s": latest.baseline_s}
        if latest.has_first:
            evidence["first_reading_s"] = latest.first_reading_s
        if latest.mass_kg is not None:
            evidence["mass_kg"] = latest.mass_kg
        # Only model_version and evidence are read (VehiclePass.begin); the rest is filler.
        out.setdefault(latest.vehicle_id, {})[latest.model] = Prediction(
            0,
            latest.vehicle_id,
            latest.model,
            latest.model_version,
            datetime.min,
            0.0,
            "",
            None,
            evidence,
        )
    return out


def _first_odometers(
    conn: psycopg.Connection, wanted: list[tuple[int, float | None]]
) -> list[float | None]:
    """The first odometer reading at or after each (vehicle, time)."""
    if not wanted:
        return []
    firsts = scalars(
        conn, _ODOMETER_SQL, ([vid for vid, _ in wanted], [since for _, since in wanted])
    )
    return [None if km is None else float(km) for km in firsts]


def _start(conn: psycopg.Connection, runs: dict[int, VehiclePass]) -> dict[int, float | None]:
    """Start every run (km before the first reading where a model starts afresh); return
    each vehicle's time after which readings are new."""
    wanted: list[tuple[int, float | None]] = []
    needs = {vid: run.needs_unobserved() for vid, run in runs.items()}
    for vid, (oil, brake) in needs.items():
        if oil:
            wanted.append((vid, runs[vid].vehicle.oil_base_s))
        if brake:
            wanted.append((vid, runs[vid].vehicle.pad_base_s))
    odometers = iter(_first_odometers(conn, wanted))
    since = {}
    for vid, run in runs.items():
        oil, brake = needs[vid]
        v = run.vehicle
        oil_km = unobserved_km(next(odometers), v.oil_changed_km) if oil else 0.0
        brake_km = unobserved_km(next(odometers), v.pads_measured_km) if brake else 0.0
        since[vid] = run.start(oil_km, brake_km)
    return since


def _open_tiers(conn: psycopg.Connection, ids: list[int]) -> dict[int, dict[str, set[str]]]:
    """Per vehicle, the tiers of its unresolved wear-model alerts by kind."""
    alerts = records(
        conn,
        _OpenAlert,
        "SELECT vehicle_id, kind, tier FROM alerts WHERE vehicle_id = ANY(%s) "
        "AND kind IN ('oil_change', 'brake_pads', %s) AND status <> 'resolved'",
        (ids, SAMPLE_KIND),
    )
    out: dict[int, dict[str, set[str]]] = {}
    for alert in alerts:
        out.setdefault(alert.vehicle_id, {}).setdefault(alert.kind, set()).add(alert.tier)
    return out


def store_all(
    conn: psycopg.Connection, *, now: datetime, pubs: dict[int, list[Publication]]
) -> None:
    """Insert every publication with one COPY; sync alerts only where they are out of step."""
    count = sum(len(p) for p in pubs.values())
    if count == 0:
        return
    ids = scalars(
        conn,
        "SELECT nextval(pg_get_serial_sequence('predictions', 'prediction_id')) "
        "FROM generate_series(1, %s)",
        (count,),
    )
    next_id = iter(int(i) for i in ids)
    stored: list[tuple[int, Publication, int]] = []
    # A thread sends the data, so the server parses rows while we encode the next.
    with conn.cursor() as cur, cur.copy(_COPY_SQL, writer=QueuedLibpqWriter(cur)) as copy:
        for vid, vehicle_pubs in pubs.items():
            for pub in vehicle_pubs:
                pid = next(next_id)
                copy.write_row(
                    (
                        pid,
                        vid,
                        pub.model,
                        pub.version,
                        now,
                        pub.value,
                        pub.unit,
                        pub.remaining_km,
                        json.dumps(pub.evidence),
                    )
                )
                stored.append((vid, pub, pid))
    open_tiers = _open_tiers(conn, list(pubs))
    for vid, pub, pid in stored:
        sync_publication_alerts(
            conn,
            vehicle_id=vid,
            pub=pub,
            prediction_id=pid,
            open_tiers=open_tiers.get(vid, {}),
            now=now,
        )


def _chunk(
    conn: psycopg.Connection,
    ids: list[int],
    *,
    now: datetime,
    oil_alert_pct: float,
    pad_alert_mm: float,
    settle_s: float,
    lease_owner: str | None,
    learned_models: LearnedModels | None,
    one: OneVehicle,
) -> dict[int, int]:
    """One chunk in one transaction (see the module docstring); vehicle → predictions written,
    for every vehicle evaluated."""
    with conn.transaction():
        with conn.cursor(row_factory=VEHICLE_ROW) as cur:
            locked = cur.execute(_LOCK_SQL, {"ids": ids, "owner": lease_owner}).fetchall()
        if not locked:
            return {}
        vids = [v.vehicle_id for v in locked]
        for codes in records(conn, ChangedCodes, _CODES_SQL, (vids,)):
            codes_changed(conn, codes)
        latest = _latest(conn, vids)
        runs = {v.vehicle_id: VehiclePass.begin(v, latest.get(v.vehicle_id, {})) for v in locked}
        since = _start(conn, runs)
        settled_s = (now - timedelta(seconds=settle_s)).timestamp()
        pubs: dict[int, list[Publication]] = {}
        alone = []
        for vid, rows in stream_new_rows(conn, since, now=now):
            if len(rows) >= BULK_ROWS:
                alone.append(vid)
                continue
            run = runs[vid]
            rows = hold_back(rows, full=False, settled_s=settled_s)
            if rows.size:
                run.advance(rows)
            pubs[vid] = run.publications(
                now=now,
                oil_alert_pct=oil_alert_pct,
                pad_alert_mm=pad_alert_mm,
                learned_models=learned_models,
            )
        # Vehicles without new rows publish nothing, but were evaluated (trouble codes).
        for vid in runs.keys() - pubs.keys() - set(alone):
            pubs[vid] = []
        store_all(conn, now=now, pubs=pubs)
        written = {vid: len(p) for vid, p in pubs.items()}
        for vid in alone:
            written[vid] = len(
                one(
                    conn=conn,
                    vehicle_id=vid,
                    now=now,
                    oil_alert_pct=oil_alert_pct,
                    pad_alert_mm=pad_alert_mm,
                    settle_s=settle_s,
                    lease_owner=lease_owner,
                    learned_models=learned_models,
                )
            )
        return written


def chunks(ids: Iterable[int], size: int) -> Iterator[list[int]]:
    """``ids`` sorted, in lists of at most ``size``."""
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]


def evaluate_vehicles(
    *,
    conn: psycopg.Connection,
    vehicle_ids: Iterable[int],
    now: datetime,
    one: OneVehicle,
    oil_alert_pct: float = OIL_DUE_SOON_PCT,
    pad_alert_mm: float = PAD_DUE_SOON_MM,
    settle_s: float = SETTLE_S,
    lease_owner: str | None = None,
    learned_models: LearnedModels | None = None,
    chunk_size: int = CHUNK_VEHICLES,
    between_chunks: Callable[[], bool] | None = None,
) -> dict[int, int]:
    """Evaluate these vehicles chunk by chunk, each chunk in its own transaction; return
    vehicle → predictions written for each vehicle evaluated.

    ``conn`` should be in autocommit mode. ``one`` is ``evaluator.evaluate_vehicle``.
    ``between_chunks``, called before each chunk, stops the pass by returning False.
    """
    written: dict[int, int] = {}
    for ids in chunks(vehicle_ids, chunk_size):
        if between_chunks is not None and not between_chunks():
            break
        kwargs: dict[str, Any] = {
            "now": now,
            "oil_alert_pct": oil_alert_pct,
            "pad_alert_mm": pad_alert_mm,
            "settle_s": settle_s,
            "lease_owner": lease_owner,
            "learned_models": learned_models,
        }
        try:
            written.update(_chunk(conn, ids, one=one, **kwargs))
        except (PredictiveError, psycopg.DataError) as exc:
            # Rolled back: evaluate one by one, so only the bad vehicle's evaluation is lost.
            log.warning("evaluating %d vehicles together failed (%s); one by one", len(ids), exc)
            for vid in ids:
                try:
                    written[vid] = len(one(conn=conn, vehicle_id=vid, **kwargs))
                except (PredictiveError, psycopg.DataError) as one_exc:
                    log.warning("evaluating vehicle %s failed: %s", vid, one_exc)
    return written
