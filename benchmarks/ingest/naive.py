# SPDX-License-Identifier: MIT
"""The naive way: one JSON message per sample, one autocommitted ``INSERT`` per sample (a
``readings`` row holding that one signal)."""

from __future__ import annotations

import json
import multiprocessing as mp
import time
import uuid
from datetime import UTC, datetime, timedelta
from multiprocessing.synchronize import Event as MpEvent
from typing import Any

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from psycopg import sql

import db
from benchmarks.ingest.phase import STALL_S, START_TIMEOUT_S, Progress, reset, scalar
from benchmarks.ingest.publisher import Publisher, mqtt_client
from benchmarks.ingest.workload import Workload
from db import registry
from ingest.wide import SAMPLES_SQL
from telemetry import SIGNALS, by_name

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The naive subscriber's Receive Maximum and the publisher's window of unconsumed samples.
NAIVE_WINDOW = 500


def naive_messages(workload: Workload, limit: int, topic_prefix: str) -> list[tuple[str, bytes]]:
    """One JSON message per sample for the first ``limit`` rows, as a simple device sends it."""
    out = []
    names = {s.id: s.name for s in SIGNALS}
    for i in range(min(limit, workload.samples)):
        device = int(workload.row_device[i])
        device_id = workload.device_ids[device]
        doc = {
            "device_id": device_id,
            "vin": workload.vins[device],
            "time_ms": int(workload.time_ms[i]),
            "signal": names[int(workload.signal_id[i])],
            "value": float(workload.value[i]),
        }
        out.append((f"{topic_prefix}/{device_id}", json.dumps(doc).encode()))
    return out


def naive_subscriber(
    database_url: str,
    mqtt_url: str,
    topic_filter: str,
    client_id: str,
    inserted: Any,
    last_insert: Any,
    ready: MpEvent,
    stop: MpEvent,
) -> None:
    """A spawned process: for each message, json.loads and one autocommitted INSERT."""
    conn = db.connect(database_url, autocommit=True)
    vehicles: dict[str, int] = {}

    def on_message(client, userdata, msg) -> None:
        doc = json.loads(msg.payload)
        device_id = doc["device_id"]
        vehicle_id = vehicles.get(device_id)
        if vehicle_id is None:
            found = registry.device_vehicle(conn, device_id)
            if found is None:
                return
            vehicle_id = vehicles[device_id] = found[0]
        signal = by_name(doc["signal"])
        if signal is None:
            return
        conn.execute(
            sql.SQL("INSERT INTO readings (time, vehicle_id, {}) VALUES (%s, %s, %s)").format(
                sql.Identifier(signal.name)
            ),
            (_EPOCH + timedelta(milliseconds=doc["time_ms"]), vehicle_id, doc["value"]),
        )
        inserted.value += 1
        last_insert.value = time.time()

    def on_subscribe(client, userdata, mid, reason_codes, properties) -> None:
        ready.set()

    client, broker = mqtt_client(mqtt_url, client_id)
    client.on_message = on_message
    client.on_subscribe = on_subscribe
    client.on_connect = lambda c, u, f, rc, p: c.subscribe(topic_filter, qos=1)
    props = Properties(PacketTypes.CONNECT)
    props.ReceiveMaximum = NAIVE_WINDOW
    client.connect(broker.host, broker.port, keepalive=60, clean_start=True, properties=props)
    client.loop_start()
    stop.wait()
    client.disconnect()
    client.loop_stop()
    conn.close()


def run_naive(
    database_url: str,
    mqtt_url: str,
    workload: Workload,
    *,
    seconds: float,
    max_samples: int,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Publish one JSON message per sample for ``seconds`` (or ``max_samples``) to a naive
    subscriber; rate = rows inserted / (last insert − first publish)."""
    run_id = uuid.uuid4().hex[:8]
    prefix = f"wlbench/{run_id}/naive"
    messages = naive_messages(workload, max_samples, prefix)
    ctx = mp.get_context("spawn")
    inserted = ctx.Value("q", 0, lock=False)
    last_insert = ctx.Value("d", 0.0, lock=False)
    ready, stop = ctx.Event(), ctx.Event()
    proc = ctx.Process(
        target=naive_subscriber,
        args=(
            database_url,
            mqtt_url,
            f"{prefix}/+",
            f"wl-bench-naive-{run_id}",
            inserted,
            last_insert,
            ready,
            stop,
        ),
        name="bench-naive-subscriber",
        daemon=True,
    )
    with db.connect(database_url, autocommit=True) as conn:
        reset(conn)
        proc.start()
        try:
            deadline = time.monotonic() + START_TIMEOUT_S
            while not ready.wait(0.2):
                if not proc.is_alive() or time.monotonic() > deadline:
                    raise RuntimeError("naive subscriber did not start")
            publisher = Publisher(mqtt_url, f"wl-bench-naive-pub-{run_id}")
            try:
                first = time.time()
                stop_at = time.monotonic() + seconds
                sent = 0
                for topic, payload in messages:
                    if time.monotonic() >= stop_at:
                        break
                    while sent - inserted.value >= NAIVE_WINDOW:
                        time.sleep(0.001)
                    publisher.publish(topic, payload)
                    sent += 1
                    if progress is not None and sent % 500 == 0:
                        progress("naive", time.monotonic() - stop_at + seconds, seconds)
                seen, since = inserted.value, time.monotonic()
                while inserted.value < sent:
                    time.sleep(0.01)
                    if inserted.value != seen:
                        seen, since = inserted.value, time.monotonic()
                    elif time.monotonic() - since > STALL_S:
                        raise RuntimeError(f"naive: {inserted.value} of {sent} rows inserted")
                elapsed = last_insert.value - first
                if sent == 0 or elapsed <= 0:
                    raise RuntimeError("naive: nothing was inserted")
            finally:
                publisher.close()
            if progress is not None:
                progress("naive", seconds, seconds)
            stored = scalar(conn, SAMPLES_SQL)
        finally:
            stop.set()
            proc.join(30)
            if proc.is_alive():
                proc.kill()
                proc.join()
    if stored != sent:
        raise RuntimeError(f"naive: {stored} samples stored, {sent} published")
    return {
        "samples": sent,
        "seconds": round(elapsed, 3),
        "samples_per_s": round(sent / elapsed),
        "bytes_per_sample": round(sum(len(p) for _, p in messages[:sent]) / max(sent, 1), 1),
    }
