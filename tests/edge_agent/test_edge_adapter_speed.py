# SPDX-License-Identifier: MIT
"""The agent measures the adapter's speed, polls as fast as it allows, and says so."""

import threading
import time

import pytest

from edge_agent.agent import EdgeAgent, Schedule
from edge_agent.obd_link import ObdLink
from edge_agent.outbox import Outbox
from edge_agent.publisher import Publisher
from firmware_sim.elm327 import Elm327
from firmware_sim.transport import PtyDongle
from firmware_sim.vehicle import Vehicle, VehicleSpec


@pytest.mark.parametrize(("protocol", "clone"), [("3", False), ("6", True)])
def test_slow_adapter_stretches_the_period_and_reports_it(protocol, clone):
    vehicle = Vehicle(VehicleSpec(vin="1FTFW1ET5DFC10312", protocol=protocol))
    vehicle.ignition(True)
    # 100 ms per request; on ISO 9141-2 each of the four fast signals needs its own request.
    dongle = PtyDongle(Elm327(vehicle, latency_s=0.1, clone=clone))
    publisher = Publisher(mqtt_url="mqtt://127.0.0.1:9", device_id="slow", outbox=Outbox())
    agent = EdgeAgent(
        link=ObdLink(dongle.path),
        publisher=publisher,
        device_id="slow",
        schedule=Schedule(fast_period_s=0.1, slow_period_s=60, dtc_period_s=600),
    )
    stop = threading.Event()
    thread = threading.Thread(target=agent.run, args=(stop,), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while agent.stats.polls < 8 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop.set()
        thread.join(timeout=20)
        dongle.close()
    requests_per_poll = 4 if protocol == "3" else 1  # CAN: one request carries all four PIDs
    assert agent.stats.polls >= 8
    assert agent.stats.read_s == pytest.approx(0.1 * requests_per_poll, rel=0.5)
    assert agent.stats.fast_period_effective_s >= 0.1 * requests_per_poll * 0.8
    # The status reports the stretched period too (a moving average sampled when the status
    # went out, so not equal to the final figure on a loaded machine).
    assert publisher.status_extra["fast_period_s"] >= 0.1 * requests_per_poll * 0.8
