# SPDX-License-Identifier: MIT
"""MQTT side of the agent: birth and last will, QoS 1 publishing from the outbox, acks."""

from __future__ import annotations

import json
import logging
import ssl
import threading
import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from edge_agent.outbox import Outbox
from telemetry import Batch, encode, topics
from telemetry.dtc import DtcSnapshot, encode_dtc
from telemetry.mqtt_url import MqttUrl
from telemetry.topics import Kind

# PUBACK reason 0x10: accepted, but no subscription matched.
NO_MATCHING_SUBSCRIBERS = 0x10
# A refused batch is offered again after this pause (and then at the drain rate).
REFUSED_RETRY_S = 2.0

log = logging.getLogger(__name__)
FIRMWARE = "wrenchlight-edge/0.1.0"


class Publisher:
    """Publishes batches for one device; every batch passes through the outbox first."""

    def __init__(
        self,
        *,
        mqtt_url: str,
        device_id: str,
        outbox: Outbox,
        signals: list[str] | None = None,
        max_inflight: int = 50,
        drain_batches_per_s: float = 20.0,
        reconnect_delay_s: tuple[float, float] = (1.0, 30.0),
        ca_file: str | None = None,
        cert_file: str | None = None,
        key_file: str | None = None,
    ) -> None:
        self.url = MqttUrl.parse(mqtt_url)
        self.device_id = device_id
        self.outbox = outbox
        self.signals = signals or []
        self.status_extra: dict[str, Any] = {}
        # Called with the raw payload of every (retained) configuration message.
        self.on_config: Callable[[bytes], object] | None = None
        self._inflight: dict[int, int] = {}  # mid -> seq
        self._inflight_seqs: set[int] = set()
        self._early_acks: set[int] = set()
        self._early_refusals: set[int] = set()  # refused before _publish recorded the mid
        self._hold_until = 0.0  # monotonic time before which the drainer does not republish
        self.unrouted = 0  # batches the broker routed to no subscriber (each retried)
        self._other_mids: set[int] = set()
        self._pending_dtc: bytes | None = None
        self._lock = threading.Lock()
        self._connected = threading.Event()
        self.published = 0
        self.acked = 0
        self.max_inflight = max_inflight
        # After an outage the backlog goes out at this pace in the background, so a day of
        # buffered batches neither floods a cellular link nor delays the live ones.
        self.drain_batches_per_s = drain_batches_per_s
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._drainer = threading.Thread(
            target=self._drain_loop, name=f"drain-{device_id}", daemon=True
        )
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"edge-{device_id}", protocol=mqtt.MQTTv5
        )
        if self.url.username:
            client.username_pw_set(self.url.username, self.url.password)
        if self.url.tls:
            # The broker's certificate is always verified (against ca_file, or the system's
            # CAs); a client certificate, when given, identifies the device instead of a password.
            client.tls_set(
                ca_certs=ca_file,
                certfile=cert_file,
                keyfile=key_file,
                cert_reqs=ssl.CERT_REQUIRED,
                tls_version=ssl.PROTOCOL_TLS_CLIENT,
            )
        client.max_inflight_messages_set(max_inflight)
        client.max_queued_messages_set(0)
        client.will_set(
            topics.topic(device_id, "status"), self._status("offline"), qos=1, retain=True
        )
        client.reconnect_delay_set(
            min_delay=int(max(1, reconnect_delay_s[0])), max_delay=int(reconnect_delay_s[1])
        )
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.message_callback_add(topics.topic(device_id, "config"), self._on_config)
        self.client = client

    def _status(self, state: str) -> bytes:
        return json.dumps(
            {
                "state": state,
                "firmware": FIRMWARE,
                "signals": self.signals,
                "time_ms": int(time.time() * 1000),
                "buffer_dropped": self.outbox.dropped,
                "buffer_pending": len(self.outbox),
                "buffer_epoch": self.outbox.epoch,
                **self.status_extra,
            }
        ).encode()

    def report(self, **fields: Any) -> None:
        """Add fields to the status message and republish it (retained) when connected."""
        self.status_extra.update(fields)
        if self._connected.is_set():
            self._publish_status("online")

    def start(self, timeout: float = 10.0) -> None:
        """Connect in the background; wait up to ``timeout`` s for the first connection."""
        self.client.connect_async(self.url.host, self.url.port, keepalive=30)
        self.client.loop_start()
        self._drainer.start()
        if not self._connected.wait(timeout):
            log.warning("broker %s not reachable yet; buffering to disk", self.url)

    def stop(self) -> None:
        """Publish 'offline', disconnect cleanly and stop the network thread."""
        self._stopping.set()
        self._wake.set()
        if self._drainer.is_alive():
            self._drainer.join(timeout=5)
        if self._connected.is_set():
            self._publish_status("offline").wait_for_publish(timeout=5)
        self.client.disconnect()
        self.client.loop_stop()

    def send_dtc(self, snapshot: DtcSnapshot) -> None:
        """Publish a trouble-code snapshot now, or on the next connection if offline.

        Only the latest snapshot matters, so an offline period keeps just that one instead of
        queueing every change.
        """
        payload = encode_dtc(snapshot)
        with self._lock:
            self._pending_dtc = payload
        if self._connected.is_set():
            self._flush_dtc()

    def _flush_dtc(self) -> None:
        with self._lock:
            payload, self._pending_dtc = self._pending_dtc, None
        if payload is not None:
            self._publish_other("dtc", payload, retain=False)

    def _publish_status(self, state: str) -> mqtt.MQTTMessageInfo:
        return self._publish_other("status", self._status(state), retain=True)

    def _publish_other(self, kind: Kind, payload: bytes, *, retain: bool) -> mqtt.MQTTMessageInfo:
        """Publish a message that is not a buffered batch; its ack never touches the outbox."""
        info = self.client.publish(
            topics.topic(self.device_id, kind), payload, qos=1, retain=retain
        )
        with self._lock:
            if info.mid in self._early_acks:
                self._early_acks.discard(info.mid)
            else:
                self._other_mids.add(info.mid)
        return info

    def send(self, batch: Batch) -> int:
        """Store the batch durably, then publish it; returns its sequence number."""
        # The batcher's seq is a placeholder: the outbox owns the counter and the epoch.
        epoch = self.outbox.epoch
        seq, payload = self.outbox.enqueue(lambda s: encode(batch, seq=s, epoch=epoch))
        if self._connected.is_set():
            self._publish(seq, payload)
        return seq

    def _publish(self, seq: int, payload: bytes) -> None:
        # Never hold our lock while calling into paho: paho runs on_publish with its own
        # message lock held, so nesting the two in opposite orders deadlocks.
        with self._lock:
            if seq in self._inflight_seqs:
                return
            self._inflight_seqs.add(seq)
        info = self.client.publish(topics.topic(self.device_id, "telemetry"), payload, qos=1)
        acked_early = False
        with self._lock:
            if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
                self._inflight_seqs.discard(seq)
                return
            self.published += 1
            if info.mid in self._early_acks:
                self._early_acks.discard(info.mid)
                self._inflight_seqs.discard(seq)
                acked_early = True
            elif info.mid in self._early_refusals:
                self._early_refusals.discard(info.mid)
                self._inflight_seqs.discard(seq)  # stays in the outbox; the drainer retries
            else:
                self._inflight[info.mid] = seq
        if acked_early:
            self._acked(seq)

    def wait_drained(self, timeout: float = 30.0) -> bool:
        """Block until the outbox is empty (every batch acknowledged) or the timeout passes."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.outbox) == 0:
                return True
            time.sleep(0.05)
        return len(self.outbox) == 0

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: Any,
        reason: ReasonCode,
        properties: Any = None,
    ) -> None:
        if reason.is_failure:
            log.error("broker %s refused the connection: %s", self.url, reason)
            return
        log.info("connected to %s as %s", self.url, self.device_id)
        self._publish_status("online")
        # Subscribing after every connect: the retained configuration is delivered each time,
        # so a change made while the car was offline takes effect on its next connection.
        client.subscribe(topics.topic(self.device_id, "config"), qos=1)
        self._connected.set()
        self._flush_dtc()
        self._wake.set()

    def _drain_loop(self) -> None:
        """Publish the backlog oldest first at ``drain_batches_per_s`` while connected.

        Messages paho already holds are re-sent by paho itself after a reconnect and are
        skipped here, so each sequence number is in flight once.
        """
        interval = 1.0 / self.drain_batches_per_s
        while not self._stopping.is_set():
            with self._lock:
                busy = set(self._inflight_seqs)
            room = self.max_inflight - len(busy)
            backlog = []
            hold_s = self._hold_until - time.monotonic()
            if hold_s > 0:
                self._stopping.wait(hold_s)
                continue
            if self._connected.is_set() and room > 0:
                candidates = self.outbox.pending(limit=room + len(busy))
                backlog = [(s, p) for s, p in candidates if s not in busy][:room]
            if not backlog:
                self._wake.wait(1.0)
                self._wake.clear()
                continue
            for seq, payload in backlog:
                if self._stopping.is_set() or not self._connected.is_set():
                    break
                self._publish(seq, payload)
                self._stopping.wait(interval)

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: Any,
        reason: ReasonCode,
        properties: Any = None,
    ) -> None:
        self._connected.clear()
        if reason.is_failure:
            log.warning("disconnected from %s (%s); batches stay buffered", self.url, reason)
        else:
            log.info("disconnected from %s", self.url)

    def _on_config(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        if self.on_config is not None:
            self.on_config(bytes(message.payload))

    def _on_publish(
        self,
        client: mqtt.Client,
        userdata: Any,
        mid: int,
        reason: ReasonCode,
        properties: Any = None,
    ) -> None:
        if reason.is_failure or reason.value == NO_MATCHING_SUBSCRIBERS:
            self._refused(mid, reason)
            return
        with self._lock:
            if mid in self._other_mids:
                self._other_mids.discard(mid)
                return
            seq = self._inflight.pop(mid, None)
            if seq is None:
                # The ack overtook publish() returning; _publish settles it.
                self._early_acks.add(mid)
                return
            self._inflight_seqs.discard(seq)
        self._acked(seq)

    def _refused(self, mid: int, reason: ReasonCode) -> None:
        """The broker did not take a batch: keep it in the outbox and retry after a pause.

        "No matching subscribers" is not an error in MQTT 5, but for telemetry it means the
        batch reached no one: ingest is away and the broker kept no session for it (Mosquitto,
        for one, forgets shared subscriptions when it restarts). Dropping it would lose data.
        """
        with self._lock:
            if mid in self._other_mids:
                self._other_mids.discard(mid)
                seq = None
            else:
                seq = self._inflight.pop(mid, None)
                if seq is None:
                    self._early_refusals.add(mid)  # _publish settles it
                else:
                    self._inflight_seqs.discard(seq)
            if seq is not None or mid in self._early_refusals:
                self._hold_until = time.monotonic() + REFUSED_RETRY_S
                self.unrouted += 1
        log.warning(
            "broker did not deliver message %d (%s)%s",
            mid,
            reason,
            "" if seq is None else f"; batch {seq} stays buffered, retrying in {REFUSED_RETRY_S} s",
        )

    def _acked(self, seq: int) -> None:
        self.outbox.ack(seq)
        self.acked += 1
