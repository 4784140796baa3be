# SPDX-License-Identifier: MIT
"""Trouble codes: read through python-OBD on every protocol, published when they change."""

import threading
import time

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from edge_agent.agent import EdgeAgent, Schedule
from edge_agent.obd_link import ObdLink
from edge_agent.outbox import Outbox
from edge_agent.pids import dtc_codes
from edge_agent.publisher import Publisher
from firmware_sim.elm327 import Elm327
from firmware_sim.transport import PtyDongle
from firmware_sim.vehicle import Vehicle, VehicleSpec
from telemetry import topics
from telemetry.dtc import decode_dtc
from telemetry.mqtt_url import MqttUrl

VIN = "1FTFW1ET5DFC10312"
CODES = ("P0301", "P0420", "C0035", "B1234", "U0100")


def test_code_bytes_decode_per_sae_j2012():
    assert dtc_codes(bytes([0x03, 0x01, 0x44, 0x35, 0xD1, 0x00, 0x00, 0x00])) == [
        "P0301", "C0435", "U1100",
    ]  # fmt: skip


@pytest.mark.parametrize("protocol", ["6", "7", "3"])
def test_stored_codes_read_on_every_protocol(protocol):
    vehicle = Vehicle(VehicleSpec(vin=VIN, protocol=protocol))
    vehicle.ignition(True)
    vehicle.dtcs = CODES
    with PtyDongle(Elm327(vehicle)) as dongle:
        link = ObdLink(dongle.path, timeout_s=1.0)
        link.connect()
        try:
            codes = link.read_dtcs()
        finally:
            link.close()
    assert codes["stored"] == CODES


def test_snapshots_are_published_when_codes_change(mqtt_url, unique_id):
    url = MqttUrl.parse(mqtt_url)
    snapshots = []
    watcher = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    watcher.on_message = lambda c, u, m: snapshots.append(decode_dtc(m.payload))
    watcher.connect(url.host, url.port)
    watcher.subscribe(topics.topic(unique_id, "dtc"), qos=1)
    watcher.loop_start()
    vehicle = Vehicle(VehicleSpec(vin=VIN))
    vehicle.ignition(True)
    vehicle.dtcs = ("P0301",)
    dongle = PtyDongle(Elm327(vehicle))
    publisher = Publisher(mqtt_url=mqtt_url, device_id=unique_id, outbox=Outbox())
    agent = EdgeAgent(
        link=ObdLink(dongle.path),
        publisher=publisher,
        device_id=unique_id,
        schedule=Schedule(fast_period_s=0.2, dtc_period_s=0.5),
    )
    stop = threading.Event()
    thread = threading.Thread(target=agent.run, args=(stop,), daemon=True)
    publisher.start()
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not snapshots and time.monotonic() < deadline:
            time.sleep(0.1)
        # Several more DTC periods with the same codes: no repeated snapshot. A loop takes at
        # least the fast period (0.2 s), so 8 more polls span 1.6 s, three DTC periods or more.
        polls = agent.stats.polls
        deadline = time.monotonic() + 30
        while agent.stats.polls < polls + 8 and time.monotonic() < deadline:
            time.sleep(0.1)
        vehicle.clear_dtcs()
        deadline = time.monotonic() + 10
        while len(snapshots) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop.set()
        thread.join(timeout=15)
        publisher.stop()
        dongle.close()
        watcher.loop_stop()
        watcher.disconnect()
    assert [s.stored for s in snapshots] == [("P0301",), ()]
    assert snapshots[0].mil_on and not snapshots[1].mil_on
    assert snapshots[0].vin == VIN and snapshots[0].device_id == unique_id
