# SPDX-License-Identifier: MIT
"""The publisher against a real broker: batches arrive once, in order, and leave the outbox."""

import threading
from collections.abc import Iterator

import paho.mqtt.client as mqtt
import pytest
from harness import eventually
from paho.mqtt.enums import CallbackAPIVersion
from private_servers import MOSQUITTO, PrivateMosquitto

from edge_agent.batcher import Batcher
from edge_agent.outbox import Outbox
from edge_agent.publisher import Publisher
from telemetry import decode, topics
from telemetry.mqtt_url import MqttUrl


def _subscriber(mqtt_url, topic_filter):
    url = MqttUrl.parse(mqtt_url)
    got, subscribed = [], threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.on_message = lambda c, u, m: got.append((m.topic, m.payload, m.retain))
    client.on_subscribe = lambda *a: subscribed.set()
    client.on_connect = lambda c, *a: c.subscribe(topic_filter, qos=1)
    client.connect(url.host, url.port)
    client.loop_start()
    assert subscribed.wait(10)
    return client, got


def test_batches_published_once_backlog_in_order_and_acked(mqtt_url, unique_id, tmp_path):
    sub, got = _subscriber(mqtt_url, f"wl/v1/{unique_id}/#")
    outbox = Outbox(tmp_path / "out.db")
    pub = Publisher(mqtt_url=mqtt_url, device_id=unique_id, outbox=outbox, signals=["speed_kmh"])
    # Batches sent before the connection exists wait in the outbox and go out on connect.
    for i in range(3):
        b = Batcher(device_id=unique_id, vin="")
        b.add("speed_kmh", 1_763_700_000_000 + i, float(i))
        pub.send(b.cut(seq=0))
    pub.start()
    for i in range(3, 10):
        b = Batcher(device_id=unique_id, vin="")
        b.add("speed_kmh", 1_763_700_000_000 + i, float(i))
        pub.send(b.cut(seq=0))
    assert pub.wait_drained(15)
    telemetry = lambda: [p for t, p, _ in got if t == topics.topic(unique_id, "telemetry")]  # noqa: E731
    assert eventually(lambda: len(telemetry()) >= 10)
    received = [decode(p) for p in telemetry()]
    # Every batch, at least once (QoS 1: a batch whose acknowledgement was late on a loaded
    # machine may go again, and ingest drops the repeat by its sequence); live batches go out
    # at once while the backlog (0-2, buffered before the connection existed) drains behind
    # them in its own order.
    seqs = [b.seq for b in received]
    assert sorted(set(seqs)) == list(range(10))
    firsts = [seq for i, seq in enumerate(seqs) if seq not in seqs[:i]]
    assert [seq for seq in firsts if seq < 3] == [0, 1, 2]
    assert all(b.series[0].values[0] == float(b.seq) for b in received)
    statuses = [p for t, p, _ in got if t == topics.topic(unique_id, "status")]
    assert statuses and b'"online"' in statuses[0]
    pub.stop()
    assert eventually(lambda: any(b'"offline"' in p for t, p, _ in got if t.endswith("/status")))
    sub.disconnect()
    sub.loop_stop()
    assert len(outbox) == 0


@pytest.fixture
def private_broker() -> Iterator[str]:
    """A broker nobody else subscribes on, so "no matching subscribers" is certain."""
    if MOSQUITTO is None:
        pytest.skip("needs the mosquitto binary")
    broker = PrivateMosquitto()
    try:
        yield broker.start()
    finally:
        broker.close()


def test_batches_nobody_received_stay_buffered_until_someone_subscribes(
    private_broker, unique_id, tmp_path
):
    # After a restart Mosquitto forgets ingest's shared subscriptions until the workers come
    # back: a batch published then is acknowledged with "no matching subscribers" and must
    # not leave the outbox.
    outbox = Outbox(tmp_path / "out.db")
    pub = Publisher(mqtt_url=private_broker, device_id=unique_id, outbox=outbox, signals=[])
    pub.start()
    try:
        for i in range(5):
            b = Batcher(device_id=unique_id, vin="")
            b.add("speed_kmh", 1_763_700_000_000 + i, float(i))
            pub.send(b.cut(seq=0))
        assert eventually(lambda: pub.published >= 5)
        assert eventually(lambda: pub.unrouted >= 5)  # the refusals arrive
        assert len(outbox) == 5 and pub.acked == 0 and pub.unrouted >= 5
        sub, got = _subscriber(private_broker, "$share/ingest/wl/v1/+/telemetry")
        try:
            assert pub.wait_drained(15)
            seqs = sorted(decode(p).seq for t, p, _ in got if t.endswith("/telemetry"))
            assert seqs == list(range(5))
        finally:
            sub.disconnect()
            sub.loop_stop()
    finally:
        pub.stop()
