# SPDX-License-Identifier: MIT
"""The agent recovers by itself when a Wi-Fi adapter drops the link and comes back."""

import threading

from harness import eventually, wait_for

from edge_agent.agent import EdgeAgent, Schedule
from edge_agent.obd_link import ObdLink
from edge_agent.outbox import Outbox
from edge_agent.publisher import Publisher
from firmware_sim.adapter_faults import AdapterFaults
from firmware_sim.elm327 import Elm327
from firmware_sim.transport import TcpDongle
from firmware_sim.vehicle import Vehicle, VehicleSpec


def test_adapter_dropout_and_return_is_survived(tmp_path):
    vehicle = Vehicle(VehicleSpec(vin="1FTFW1ET5DFC10312"))
    vehicle.ignition(True)
    faults = AdapterFaults()
    dongle = TcpDongle(Elm327(vehicle, faults=faults), port=0)
    # No broker needed: batches wait in the outbox, which is what the test counts.
    publisher = Publisher(mqtt_url="mqtt://127.0.0.1:9", device_id="wifi", outbox=Outbox())
    agent = EdgeAgent(
        link=ObdLink(f"socket://{dongle.address}", timeout_s=0.5),
        publisher=publisher,
        device_id="wifi",
        schedule=Schedule(fast_period_s=0.2, slow_period_s=1.0),
        batch_window_s=1.0,
    )
    stop = threading.Event()
    thread = threading.Thread(target=agent.run, args=(stop,), daemon=True)
    thread.start()
    try:
        assert eventually(lambda: agent.stats.samples > 20, 30)
        faults.disconnect(duration_s=4.0)
        wait_for(lambda: not faults.offline, 10, "the adapter to come back")
        before = agent.stats.samples
        assert eventually(lambda: agent.stats.samples > before + 20, 40), "agent did not recover"
        assert agent.stats.reconnects >= 1
    finally:
        stop.set()
        thread.join(timeout=20)
        dongle.close()
    assert not thread.is_alive()
