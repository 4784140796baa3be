# SPDX-License-Identifier: MIT
"""Ignition off: the agent waits (reading the battery through the adapter) and wakes on ignition."""

import threading
import time

import pytest

from edge_agent.agent import EdgeAgent, Schedule
from edge_agent.errors import AdapterError
from edge_agent.obd_link import ObdLink
from edge_agent.outbox import Outbox
from edge_agent.publisher import Publisher
from firmware_sim.elm327 import Elm327
from firmware_sim.transport import PtyDongle
from firmware_sim.vehicle import Vehicle, VehicleSpec


def test_ignition_off_is_an_adapter_error_carrying_the_battery_voltage():
    vehicle = Vehicle(VehicleSpec(vin="1FTFW1ET5DFC10312"))
    vehicle.ignition(False)
    with PtyDongle(Elm327(vehicle)) as dongle, pytest.raises(AdapterError) as caught:
        ObdLink(dongle.path, timeout_s=0.5).connect()
    assert caught.value.battery_v == pytest.approx(vehicle.state.module_voltage_v, abs=0.11)
    assert 11.0 < caught.value.battery_v < 13.0


def test_agent_waits_while_parked_and_wakes_on_ignition():
    vehicle = Vehicle(VehicleSpec(vin="1FTFW1ET5DFC10312"))
    vehicle.ignition(False)
    dongle = PtyDongle(Elm327(vehicle))
    publisher = Publisher(mqtt_url="mqtt://127.0.0.1:9", device_id="parked", outbox=Outbox())
    agent = EdgeAgent(
        link=ObdLink(dongle.path, timeout_s=0.5),
        publisher=publisher,
        device_id="parked",
        schedule=Schedule(fast_period_s=0.2),
    )
    stop = threading.Event()
    thread = threading.Thread(target=agent.run, args=(stop,), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while agent.stats.connect_failures < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert agent.stats.connect_failures >= 2 and agent.stats.polls == 0
        vehicle.ignition(True)
        deadline = time.monotonic() + 30
        while agent.stats.samples == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert agent.stats.samples > 0, "the agent did not wake when the ignition came on"
        assert agent.stats.vin == "1FTFW1ET5DFC10312"
    finally:
        stop.set()
        thread.join(timeout=20)
        dongle.close()
