# SPDX-License-Identifier: MIT
"""Issue 15, findings 1, 2 and 9: with the configuration ``admin broker-config`` writes, a
device stays in its own lane on a real Mosquitto: it cannot join the ingest group, read
another device's or every device's topics, take over a service's session, or log in under a
service's name."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator

import pytest
from broker_lanes import ConfiguredMosquitto, Probe
from private_servers import MOSQUITTO

from api.devices import broker
from api.devices.credentials import hash_secret
from ingest.consumer import IngestWorker
from ingest.main import default_client_id, service_group

pytestmark = pytest.mark.skipif(MOSQUITTO is None, reason="needs the mosquitto binary")

PASSWORDS = {"dev-a": secrets.token_urlsafe(32), "dev-b": secrets.token_urlsafe(32)}
NOT_AUTHORIZED = 0x87


@pytest.fixture(params=["dynsec", "file"])
def lanes(request) -> Iterator[ConfiguredMosquitto]:
    devices = [(d, hash_secret(p)) for d, p in PASSWORDS.items()]
    mosquitto = ConfiguredMosquitto(devices, mode=request.param).start()
    try:
        yield mosquitto
    finally:
        mosquitto.close()


@pytest.fixture
def dynsec() -> Iterator[ConfiguredMosquitto]:
    devices = [(d, hash_secret(p)) for d, p in PASSWORDS.items()]
    mosquitto = ConfiguredMosquitto(devices, mode="dynsec").start()
    try:
        yield mosquitto
    finally:
        mosquitto.close()


def device(mosquitto: ConfiguredMosquitto, device_id: str, **kw) -> Probe:
    kw.setdefault("client_id", broker.device_client_id(device_id))
    return Probe(mosquitto.port, username=device_id, password=PASSWORDS[device_id], **kw)


def service(mosquitto: ConfiguredMosquitto, user: str, client_id: str, **kw) -> Probe:
    return Probe(
        mosquitto.port,
        username=user,
        password=mosquitto.services[user],
        client_id=client_id,
        **kw,
    )


def test_a_device_subscribes_to_nothing_but_its_own_downlink(dynsec):
    probe = device(dynsec, "dev-a")
    try:
        assert not probe.refused
        for escape in (
            "$share/ingest/wl/v1/+/telemetry",  # finding 1: a share of every tenant's batches
            "$share/ingest/wl/v1/dev-a/telemetry",
            "$share/mine/wl/v1/dev-a/config",
            "wl/v1/+/telemetry",
            "wl/v1/#",
            "#",
            "wl/v1/dev-b/config",
            "wl/v1/dev-b/alerts",
            "$CONTROL/dynamic-security/v1/response",
        ):
            assert probe.subscribe(escape).value == NOT_AUTHORIZED, escape
        assert probe.subscribe("wl/v1/dev-a/config").value == 1
        assert probe.subscribe("wl/v1/dev-a/alerts").value == 1
    finally:
        probe.close()


def test_a_device_publishes_only_its_own_uplink(lanes):
    ingest = service(lanes, broker.INGEST_USER, f"wl-ingest-t-{secrets.token_hex(8)}")
    probe = device(lanes, "dev-a")
    try:
        assert ingest.subscribe("$share/ingest/wl/v1/+/telemetry").value == 1
        assert probe.publish("wl/v1/dev-a/telemetry").value == 0
        for escape in ("wl/v1/dev-b/telemetry", "wl/v1/dev-a/config", "wl/v1/dev-b/config"):
            # A fresh connection each: Mosquitto 2.0 drops a connection after its second
            # refused publish.
            attempt = device(lanes, "dev-a")
            try:
                assert attempt.publish(escape).value == NOT_AUTHORIZED, escape
            finally:
                attempt.close()
        # The refused publishes were answered with NOT_AUTHORIZED and dropped there and then,
        # so once the granted one has arrived nothing else can.
        ingest._until(lambda: ingest.messages, "the granted publish")
        assert [t for t, _ in ingest.messages] == ["wl/v1/dev-a/telemetry"]
    finally:
        probe.close()
        ingest.close()


def test_file_mode_a_device_cannot_name_the_ingest_group(db_url):
    # Mosquitto 2.0's acl_file checks no subscription: the device's $share join is granted
    # (docs/security.md). The service's group carries the install's secret, so the device's
    # group is another group, which gets copies it may not read, not ingest's batches.
    devices = [(d, hash_secret(p)) for d, p in PASSWORDS.items()]
    mosquitto = ConfiguredMosquitto(devices, mode="file").start()
    url = mosquitto.service_url(broker.INGEST_USER)
    group = service_group("ingest", url)
    ingest = service(mosquitto, broker.INGEST_USER, default_client_id(0, mqtt_url=url))
    attacker = device(mosquitto, "dev-a")
    sender = device(mosquitto, "dev-b")
    try:
        assert group != "ingest" and group == service_group("ingest", url)
        assert ingest.subscribe(f"$share/{group}/wl/v1/+/telemetry").value == 1
        attacker.subscribe("$share/ingest/wl/v1/+/telemetry")
        for _ in range(20):
            assert sender.publish("wl/v1/dev-b/telemetry").value == 0
        ingest._until(lambda: len(ingest.messages) >= 20, "the 20 batches")
        time.sleep(0.2)  # a window, not a wait: copies to the device's group would land in it
        assert len(ingest.messages) == 20 and attacker.messages == []
    finally:
        for probe in (sender, attacker, ingest):
            probe.close()
        mosquitto.close()


def test_a_device_cannot_connect_under_a_service_name_or_another_client_id(dynsec):
    # Finding 2: the broker resumes a session for whoever presents its client id.
    ingest_id = default_client_id(0, mqtt_url=dynsec.service_url(broker.INGEST_USER))
    for client_id in (ingest_id, "wl-ingest-host-0", "edge-dev-b", "anything"):
        probe = device(dynsec, "dev-a", client_id=client_id, clean_start=False)
        assert probe.refused and probe.connack.value == NOT_AUTHORIZED, client_id
        probe.close()
    # Finding 9: a service's name with a device's password.
    for user in (broker.INGEST_USER, "ingest", broker.API_USER):
        probe = Probe(dynsec.port, username=user, password=PASSWORDS["dev-a"], client_id="x")
        assert probe.refused, user
        probe.close()


def test_the_ingest_client_id_cannot_be_guessed():
    url_a = "mqtt://wl~ingest:first-secret@broker:1883"
    url_b = "mqtt://wl~ingest:other-secret@broker:1883"
    assert default_client_id(0, mqtt_url=url_a) == default_client_id(0, mqtt_url=url_a)
    assert default_client_id(0, mqtt_url=url_a) != default_client_id(0, mqtt_url=url_b)
    assert len(default_client_id(0, mqtt_url=url_a)) > len(default_client_id(0)) + 20


def test_an_ingest_session_survives_a_takeover_attempt(dynsec, db_url, unique_id):
    url = dynsec.service_url(broker.INGEST_USER)
    worker = IngestWorker(db_url, url, client_id=default_client_id(0, mqtt_url=url))
    with worker:
        attacker = device(dynsec, "dev-a", client_id=worker.client_id, clean_start=False)
        assert attacker.refused
        attacker.close()
        sender = device(dynsec, "dev-b")
        try:
            # Still subscribed, still the session's holder: the broker routes to it.
            assert sender.publish("wl/v1/dev-b/telemetry", b"not a batch").value == 0
        finally:
            sender.close()
        deadline = time.monotonic() + 10
        while worker.stats.snapshot().get("messages", 0) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert worker.stats.snapshot().get("messages", 0) == 1


def test_ingest_refuses_to_run_on_a_subscription_the_broker_refused(dynsec, db_url):
    # The API's service user may not read the uplink: ingest must say so, not sit deaf.
    url = dynsec.service_url(broker.API_USER)
    worker = IngestWorker(db_url, url, client_id=f"wl-ingest-t-{secrets.token_hex(8)}")
    with pytest.raises(PermissionError, match="refused the ingest subscription"):
        worker.start(timeout_s=10)
