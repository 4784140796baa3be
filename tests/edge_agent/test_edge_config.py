# SPDX-License-Identifier: MIT
"""Remote configuration: validated, applied without a restart, rejected whole and reported."""

import json
import threading
import time

import paho.mqtt.client as mqtt
import pytest
from harness import eventually
from paho.mqtt.enums import CallbackAPIVersion

from edge_agent.agent import EdgeAgent
from edge_agent.config import ConfigError, parse_config
from edge_agent.obd_link import ObdLink
from edge_agent.outbox import Outbox
from edge_agent.publisher import Publisher
from firmware_sim.elm327 import Elm327
from firmware_sim.transport import PtyDongle
from firmware_sim.vehicle import Vehicle, VehicleSpec
from telemetry import topics
from telemetry.mqtt_url import MqttUrl


def test_valid_configuration_parses():
    config = parse_config(b'{"version": 4, "fast": ["speed_kmh"], "fast_period_s": 0.5}')
    assert config.version == 4 and config.fast == ("speed_kmh",) and config.slow is None


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"not json", "not JSON"),
        (b"[]", "configuration rejected"),
        (b'{"fast_period_s": 1}', "version"),
        (b'{"version": 1, "fast": ["warp_drive"]}', "unknown signals"),
        (b'{"version": 1, "fast_period_s": 0}', "fast_period_s"),
        (b'{"version": 1, "reboot": true}', "reboot"),
    ],
)
def test_bad_configuration_is_rejected_with_the_reason(payload, reason):
    with pytest.raises(ConfigError, match=reason):
        parse_config(payload)


def test_configuration_over_mqtt_applies_live_and_rejections_are_reported(mqtt_url, unique_id):
    url = MqttUrl.parse(mqtt_url)
    statuses: list[dict] = []
    watcher = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    watcher.on_message = lambda c, u, m: statuses.append(json.loads(m.payload))
    watcher.connect(url.host, url.port)
    watcher.subscribe(topics.topic(unique_id, "status"), qos=1)
    watcher.loop_start()

    vehicle = Vehicle(VehicleSpec(vin="1FTFW1ET5DFC10312"))
    vehicle.ignition(True)
    dongle = PtyDongle(Elm327(vehicle))
    publisher = Publisher(mqtt_url=mqtt_url, device_id=unique_id, outbox=Outbox())
    agent = EdgeAgent(link=ObdLink(dongle.path), publisher=publisher, device_id=unique_id)
    stop = threading.Event()
    thread = threading.Thread(target=agent.run, args=(stop,), daemon=True)
    publisher.start()
    thread.start()
    config_topic = topics.topic(unique_id, "config")
    try:
        assert eventually(lambda: agent.stats.polls > 0)
        before = agent.schedule
        watcher.publish(config_topic, b'{"version": 1, "fast_period_s": 0.0}', qos=1, retain=True)
        assert eventually(lambda: any("config_error" in s and s["config_error"] for s in statuses))
        assert agent.schedule == before

        good = {"version": 2, "fast": ["speed_kmh"], "fast_period_s": 0.2, "batch_window_s": 5}
        watcher.publish(config_topic, json.dumps(good), qos=1, retain=True)
        assert eventually(lambda: any(s.get("config_version") == 2 for s in statuses))
        assert agent.schedule.fast == ("speed_kmh",) and agent.schedule.fast_period_s == 0.2
        assert agent.batch_window_s == 5
        # Polling at the new, faster period: five polls at the old 1 s period take 4 s or more,
        # at 0.2 s about one (the bound leaves room for a loaded machine).
        polls, started = agent.stats.polls, time.monotonic()
        assert eventually(lambda: agent.stats.polls >= polls + 5, 30)
        assert time.monotonic() - started < 4.0
    finally:
        stop.set()
        thread.join(timeout=15)
        publisher.stop()
        dongle.close()
        watcher.publish(config_topic, b"", qos=1, retain=True)  # clear the retained message
        watcher.loop_stop()
        watcher.disconnect()
