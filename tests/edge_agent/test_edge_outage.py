# SPDX-License-Identifier: MIT
"""Store and forward through a broker outage: nothing lost, backlog drained, live data kept.

The test runs its own broker (the embedded MQTT 5 broker on a free port) so it can stop and
restart it without touching the machine's shared Mosquitto. The default run keeps the broker
down for 20 s; ``make soak`` (the ``soak`` marker) runs the same test with the full outage of
``WL_OUTAGE_S`` seconds (default 180 s: "several minutes").
"""

import itertools
import os
import threading
import time

import paho.mqtt.client as mqtt
import pytest
from harness import wait_for
from paho.mqtt.enums import CallbackAPIVersion

from edge_agent.agent import EdgeAgent, Schedule
from edge_agent.obd_link import ObdLink
from edge_agent.outbox import Outbox
from edge_agent.publisher import Publisher
from firmware_sim.cycles import load_cycle
from firmware_sim.elm327 import Elm327
from firmware_sim.realtime import RealtimeVehicle
from firmware_sim.transport import PtyDongle
from firmware_sim.vehicle import Vehicle, VehicleSpec
from telemetry import decode, topics
from wrenchlight.embedded import EmbeddedBroker

pytestmark = pytest.mark.slow
SOAK_OUTAGE_S = float(os.environ.get("WL_OUTAGE_S", "180"))


@pytest.mark.parametrize(
    "outage_s",
    [
        # Long enough for the agent's 8 s reconnect delay to pass twice and a backlog to build.
        pytest.param(20.0, id="short"),
        pytest.param(SOAK_OUTAGE_S, id="soak", marks=pytest.mark.soak),
    ],
)
def test_broker_outage_loses_nothing_and_backlog_covers_it(tmp_path, outage_s):
    broker = EmbeddedBroker()
    url = broker.start()
    received: dict[int, object] = {}
    sub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="outage-watch", protocol=mqtt.MQTTv5)
    connects = []

    def on_connect(client, *args):
        client.subscribe(topics.topic("car-out", "telemetry"), qos=1)
        connects.append(time.monotonic())

    sub.on_connect = on_connect
    sub.on_message = lambda c, u, m: received.setdefault(decode(m.payload).seq, decode(m.payload))
    sub.reconnect_delay_set(min_delay=1, max_delay=1)
    sub.connect("127.0.0.1", broker.port)
    sub.loop_start()

    driver = RealtimeVehicle(Vehicle(VehicleSpec(vin="1FTFW1ET5DFC10312")), load_cycle("udds"))
    driver.start()
    dongle = PtyDongle(Elm327(driver))
    outbox = Outbox(tmp_path / "buffer.db")
    # The agent retries every 8 s, the watcher every second, so the watcher is subscribed again
    # before the backlog starts to flow (the embedded broker keeps no sessions across restarts).
    publisher = Publisher(
        mqtt_url=url,
        device_id="car-out",
        outbox=outbox,
        drain_batches_per_s=50,
        reconnect_delay_s=(8, 8),
    )
    agent = EdgeAgent(
        link=ObdLink(dongle.path),
        publisher=publisher,
        device_id="car-out",
        schedule=Schedule(fast_period_s=0.5, slow_period_s=2.0),
        batch_window_s=1.0,
    )
    stop = threading.Event()
    thread = threading.Thread(target=agent.run, args=(stop,), daemon=True)
    publisher.start()
    thread.start()
    try:
        wait_for(lambda: len(received) >= 3, 30, "batches before the outage")
        # Stop the broker when nothing is in flight: a batch the broker acknowledged but had
        # not yet forwarded would die with it (this broker keeps nothing on disk), which
        # would be the broker's loss, not the agent's.
        made = lambda: outbox.get_meta("next_seq")  # noqa: E731
        wait_for(lambda: len(outbox) == 0 and len(received) == made(), 30, "a quiet moment")
        down_at = time.time()
        broker.stop()
        time.sleep(outage_s)  # the outage itself: the scenario, not a wait
        up_at = time.time()
        assert len(outbox) >= outage_s * 0.5  # about one batch a second piled up on disk
        broker = EmbeddedBroker(port=broker.port)
        broker.start()
        wait_for(lambda: len(connects) >= 2, 15, "the watcher to resubscribe")
        wait_for(lambda: agent.stats.batches > 0 and len(outbox) == 0, 120, "the backlog to drain")
        stop.set()
        thread.join(timeout=15)
        wait_for(lambda: len(outbox) == 0, 30, "the last batch")
        last = max(received)
        wait_for(lambda: len(received) == last + 1, 30, "every batch at the watcher")
    finally:
        stop.set()
        publisher.stop()
        dongle.close()
        driver.stop()
        sub.loop_stop()
        broker.stop()
    assert sorted(received) == list(range(len(received)))  # contiguous: nothing lost
    speed_ms = sorted(t for b in received.values() for t, s, _ in b.samples() if s == "speed_kmh")
    during = [t for t in speed_ms if down_at * 1000 <= t <= up_at * 1000]
    gaps_s = [(b - a) / 1000 for a, b in itertools.pairwise(during)]
    assert len(during) >= outage_s  # two polls a second throughout the outage
    assert max(gaps_s) < 3.0, "samples do not cover the outage"
