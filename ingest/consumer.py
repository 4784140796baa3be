# SPDX-License-Identifier: MIT
"""The MQTT side: a worker in the ingest consumer group that acknowledges after commit.

paho's network thread puts each message on a bounded queue; one writer thread takes them off
in flushes, runs the pipeline in one transaction, commits, and only then acknowledges every
message of the flush. A crash before the commit leaves the messages unacknowledged, so the
broker redelivers them; a crash after the commit but before the acknowledgement redelivers
them too, and the (device, seq) de-duplication drops the copies.
"""

from __future__ import annotations

import logging
import os
import queue
import signal
import threading
from collections.abc import Sequence
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

import db
from ingest import metrics
from ingest.message import Message
from ingest.stats import Stats
from ingest.upkeep import Upkeep
from ingest.writer import FLUSH_INTERVAL_S, FLUSH_MESSAGES, OnCommit, Received, Writer
from telemetry import topics
from telemetry.mqtt_url import MqttUrl

log = logging.getLogger(__name__)

# Receive Maximum sent to the broker: how many QoS 1 messages it may have in flight to us
# unacknowledged. Twice a flush, so the next flush fills while the previous one commits.
MAX_INFLIGHT = 2 * FLUSH_MESSAGES
# The device-to-cloud topics; config and alerts flow the other way.
INGEST_KINDS: tuple[topics.Kind, ...] = ("telemetry", "dtc", "status")


def group_for(group: str, kind: topics.Kind) -> str:
    """The shared-subscription group of one kind: telemetry uses the group's own name
    (``$share/ingest/wl/v1/+/telemetry``), the others a group of their own. One group per
    filter is how MQTT 5 means shared groups; the embedded broker (rumqttd) loses messages
    when one group spans several filters of one client, so we never do that."""
    return group if kind == "telemetry" else f"{group}-{kind}"


# Short enough that the broker notices a dead worker (1.5 x keepalive) and hands its share
# of the group to the others within a minute.
KEEPALIVE_S = 30


class IngestWorker:
    """One member of the ingest shared subscription, writing to one database connection."""

    def __init__(
        self,
        database_url: str,
        mqtt_url: str,
        *,
        client_id: str,
        group: str = topics.INGEST_GROUP,
        session_expiry_s: int = 3600,
        max_inflight: int = MAX_INFLIGHT,
        flush_messages: int = FLUSH_MESSAGES,
        flush_interval_s: float = FLUSH_INTERVAL_S,
        on_commit: OnCommit | None = None,
        upkeep: bool = True,
    ) -> None:
        self.client_id = client_id
        self._database_url = database_url
        self._upkeep: Upkeep | None = None
        self._want_upkeep = upkeep
        self.group = group
        self.session_expiry_s = session_expiry_s
        self.max_inflight = max_inflight
        self.stats = Stats()
        self._broker = MqttUrl.parse(mqtt_url)
        # The queue never holds more than the broker may send unacknowledged; if a broker
        # ignores Receive Maximum, a full queue blocks the network thread: backpressure.
        self._queue: queue.Queue[Received] = queue.Queue(maxsize=max_inflight)
        self._accepting = threading.Event()
        self._subscribed = threading.Event()
        self._refused: str | None = None
        self._pending_subs: set[int] = set()
        self._client = self._make_client()
        self._writer = Writer(
            database_url,
            self._queue,
            ack=self._ack,
            stats=self.stats,
            flush_messages=min(flush_messages, max_inflight),
            flush_interval_s=flush_interval_s,
            name=f"ingest-writer-{client_id}",
            on_commit=on_commit,
        )

    def _make_client(self) -> mqtt.Client:
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=mqtt.MQTTv5
        )
        client.manual_ack_set(True)
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        if self._broker.username:
            client.username_pw_set(self._broker.username, self._broker.password)
        if self._broker.tls:
            client.tls_set()
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        return client

    def start(self, *, timeout_s: float = 30.0) -> None:
        """Prepare the database, connect, subscribe, and start writing; returns once subscribed."""
        self._writer.start()  # connects and prepares the database first
        if self._want_upkeep:
            with db.connect(self._database_url, autocommit=True) as conn:
                if Upkeep.needed(conn):
                    self._upkeep = Upkeep(
                        self._database_url, name=f"ingest-upkeep-{self.client_id}"
                    )
            if self._upkeep is not None:
                self._upkeep.start()
        props = Properties(PacketTypes.CONNECT)
        # The broker keeps our subscription and queues QoS 1 messages while we are away
        # (restart, deploy) for this long; clean_start=False resumes that session.
        props.SessionExpiryInterval = self.session_expiry_s
        props.ReceiveMaximum = self.max_inflight
        self._accepting.set()
        self._client.connect_async(
            self._broker.host,
            self._broker.port,
            keepalive=KEEPALIVE_S,
            clean_start=False,
            properties=props,
        )
        self._client.loop_start()
        if not self._subscribed.wait(timeout_s) or self._refused:
            self.stop()
            if self._refused:
                raise PermissionError(self._refused)
            raise TimeoutError(f"no subscription at {self._broker} within {timeout_s} s")

    def stop(self, *, timeout_s: float = 30.0) -> None:
        """Stop taking messages, commit and acknowledge those already taken, then disconnect."""
        # Messages arriving from now on are neither stored nor acknowledged; the broker keeps
        # them in our session (or gives them to another member of the group).
        self._accepting.clear()
        drained = self._writer.stop(timeout_s=timeout_s)
        if self._upkeep is not None:
            self._upkeep.stop()
        if not drained:
            log.warning(
                "%s: writer did not drain within %.0f s; unacknowledged messages will "
                "be redelivered",
                self.client_id,
                timeout_s,
            )
        # Never unsubscribe: that would end the session's subscription and lose what is
        # published until the next start.
        self._client.disconnect()
        self._client.loop_stop()
        log.info("%s stopped: %s", self.client_id, self.stats.snapshot())

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.error(
                "%s: broker %s refused the connection: %s",
                self.client_id,
                self._broker,
                reason_code,
            )
            return
        log.info(
            "%s connected to %s (session present: %s)",
            self.client_id,
            self._broker,
            flags.session_present,
        )
        # Subscribe on every connect: a broker that lost its state (restart without
        # persistence, expired session) would otherwise leave us connected and deaf.
        self._pending_subs = {
            client.subscribe(topics.shared(kind, group_for(self.group, kind)), qos=1)[1]
            for kind in INGEST_KINDS
        }

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        # Granted QoS 0 is a refusal too: nothing would then be acknowledged after commit,
        # and a batch lost in our crash would still have been PUBACKed to its device.
        failed = [rc for rc in reason_codes if rc.is_failure or rc.value < 1]
        if failed:
            self._refused = (
                f"{self.client_id}: broker {self._broker} refused the ingest subscription "
                f"({', '.join(str(rc) for rc in failed)}); the ingest user needs QoS 1 "
                "subscribe and read rights on $share/<group>/wl/v1/+/{telemetry,dtc,status} "
                "(wrenchlight admin broker-config writes them)"
            )
            log.error("%s", self._refused)
            self._subscribed.set()  # wakes start(), which raises
            return
        self._pending_subs.discard(mid)
        if not self._pending_subs:
            self._subscribed.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        if self._accepting.is_set():
            log.warning("%s lost the broker (%s); paho reconnects", self.client_id, reason_code)

    def _on_message(self, client, userdata, msg: mqtt.MQTTMessage) -> None:
        if not self._accepting.is_set():
            return
        self.stats.add(messages=1)
        try:
            topic = msg.topic
        except UnicodeDecodeError:  # brokers should refuse these; keep it for the dead letter
            topic = msg._topic.decode("utf-8", "replace")
        kind = topic.rsplit("/", 1)[-1]
        metrics.MESSAGES.labels(kind if kind in topics.KINDS else "other").inc()
        metrics.QUEUE_DEPTH.inc()
        received = Message(topic, bytes(msg.payload), datetime.now(UTC))
        self._queue.put(Received(received, msg.mid, msg.qos))

    def _ack(self, mid: int, qos: int) -> None:
        self._client.ack(mid, qos)

    def run_forever(self) -> None:
        """Run until SIGINT or SIGTERM, then drain and stop."""
        run_forever([self])

    def __enter__(self) -> IngestWorker:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def run_forever(workers: Sequence[IngestWorker]) -> None:
    """Start the workers, wait for SIGINT or SIGTERM, then drain and stop them."""
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        log.info("received %s, draining", signal.Signals(signum).name)
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    started: list[IngestWorker] = []
    try:
        for worker in workers:
            worker.start()
            started.append(worker)
        log.info("ingest running with %d worker(s), pid %d", len(started), os.getpid())
        stop.wait()
    finally:
        for worker in started:
            worker.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
