# SPDX-License-Identifier: MIT
"""One vehicle on the real path: simulator → ELM327 on a pseudo-terminal → python-OBD → MQTT."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from edge_agent.agent import AgentStats, EdgeAgent, Schedule
from edge_agent.obd_link import ObdLink
from edge_agent.outbox import Outbox
from edge_agent.publisher import Publisher
from firmware_sim.cycles import load_cycle
from firmware_sim.elm327 import Elm327
from firmware_sim.realtime import RealtimeVehicle
from firmware_sim.transport import PtyDongle
from firmware_sim.vehicle import Vehicle, VehicleSpec


@dataclass
class LiveVehicle:
    """A simulated car with a dongle on a pty, read by the edge agent in a background thread."""

    spec: VehicleSpec
    device_id: str
    mqtt_url: str
    buffer_path: str = ":memory:"
    cycle: str = "udds"
    batch_window_s: float = 5.0
    stats: AgentStats | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _parts: dict[str, Any] = field(default_factory=dict)

    def start(self) -> str:
        """Start driving, serving the dongle and polling it; returns the pty path."""
        driver = RealtimeVehicle(Vehicle(self.spec), load_cycle(self.cycle))
        driver.start()
        dongle = PtyDongle(Elm327(driver))
        outbox = Outbox(self.buffer_path)
        publisher = Publisher(mqtt_url=self.mqtt_url, device_id=self.device_id, outbox=outbox)
        publisher.start()
        agent = EdgeAgent(
            link=ObdLink(dongle.path),
            publisher=publisher,
            device_id=self.device_id,
            schedule=Schedule(slow_period_s=5.0),
            batch_window_s=self.batch_window_s,
        )
        self._parts = {
            "driver": driver,
            "dongle": dongle,
            "publisher": publisher,
            "agent": agent,
            "outbox": outbox,
        }
        thread = threading.Thread(target=self._run, name="live-vehicle", daemon=True)
        thread.start()
        self._threads.append(thread)
        return str(dongle.path)

    def _run(self) -> None:
        self.stats = self._parts["agent"].run(self._stop)

    @property
    def agent_stats(self) -> AgentStats:
        """Counters of the agent (live while it runs)."""
        return self._parts["agent"].stats

    def stop(self, drain_timeout_s: float = 10.0) -> None:
        """Stop polling, flush, wait for the broker to have everything, then close."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)
        publisher = self._parts.get("publisher")
        if publisher is not None:
            publisher.wait_drained(drain_timeout_s)
            publisher.stop()
        for name in ("dongle", "driver"):
            part = self._parts.get(name)
            if part is not None:
                part.close() if name == "dongle" else part.stop()
