# SPDX-License-Identifier: MIT
"""Helpers for ingest tests: registered devices and batches built around now."""

from __future__ import annotations

import time
from dataclasses import dataclass

import factories
import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from telemetry import Batch, Series
from telemetry.mqtt_url import MqttUrl


@dataclass(frozen=True)
class Device:
    """A device registered to a vehicle of its own."""

    device_id: str
    vehicle_id: int
    vin: str


def register(conn: psycopg.Connection, device_id: str) -> Device:
    """Create a vehicle and attach ``device_id`` to it."""
    vehicle = factories.vehicle(conn)
    factories.device(conn, vehicle.vehicle_id, device_id=device_id)
    return Device(device_id, vehicle.vehicle_id, vehicle.vin)


def make_batch(
    device_id: str,
    seq: int,
    *,
    vin: str = "",
    base_time_ms: int | None = None,
    n: int = 10,
    odometer_km: float = 12345.6,
) -> Batch:
    """A batch of ``n`` one-second samples of speed, rpm, coolant and odometer ending ~now."""
    base = base_time_ms if base_time_ms is not None else int(time.time() * 1000) - n * 1000
    offsets = tuple(i * 1000 for i in range(n))
    return Batch(
        device_id,
        seq,
        vin,
        base,
        (
            Series("speed_kmh", offsets, tuple(float(i % 120) for i in range(n))),
            Series("engine_rpm", offsets, tuple(800.0 + 10.25 * i for i in range(n))),
            Series("coolant_temp_c", offsets, tuple(80.0 + i % 10 for i in range(n))),
            Series(
                "odometer_km", offsets, tuple(round(odometer_km + 0.1 * i, 1) for i in range(n))
            ),
        ),
    )


def forget_session(mqtt_url: str, client_id: str) -> None:
    """End a persistent session so the broker stops queueing for it."""
    url = MqttUrl.parse(mqtt_url)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 0
    client.connect(url.host, url.port, clean_start=True, properties=props)
    client.loop_start()
    client.disconnect()
    client.loop_stop()
