# SPDX-License-Identifier: MIT
"""Malformed payloads: every one lands in ``dead_letters`` with a reason, nothing is stored,
and the worker keeps serving.

The flood sends more than 100,000 of them through a real broker to a real worker; the property
test runs the pipeline directly on structured ones. What each payload must be rejected for
comes from how it was built (tests/ingest/malformed.py), not from the product's decoder.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import malformed
import paho.mqtt.client as mqtt
import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ingest_support import make_batch, register
from malformed import CRASH_REASONS, Case, Target
from paho.mqtt.enums import CallbackAPIVersion

from ingest import IngestWorker, process_messages
from ingest.message import Message
from ingest.store import MAX_DEAD_LETTER_BYTES, MAX_REASON_CHARS
from telemetry import encode, topics
from telemetry.mqtt_url import MqttUrl

SEED = 20261122
FLOOD_MIN = 100_000
# Mosquitto queues at most 1000 QoS 1 messages per session beyond those in flight
# (max_queued_messages) and drops the rest. The broker is shared, and every worker's
# subscription also gets every other test's telemetry, so a burst from a test running
# meanwhile could push this worker's queue over that limit. A large Receive Maximum lets
# the broker send on instead of queueing; the worker's own queue holds them.
WORKER_INFLIGHT = 65_535  # the most MQTT allows
# Published but not yet received by the worker: keeps the worker's queue and the
# publisher's buffer small.
WINDOW = 2_000
PUBLISH_INFLIGHT = 1000
FLOOD_TIMEOUT_S = 150.0
QUIET_S = 5.0
WRITTEN_TABLES = (
    "batches",
    "readings",
    "vehicle_state",
    "rollup_queue",
    "trips",
    "dtc_events",
    "vehicle_dtcs",
)


def wait_until(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def reason_ok(reason: str | None, allowed: tuple[str, ...]) -> bool:
    """A useful reason: non-empty, not a crash, and one the payload was built to get."""
    if not reason or not reason.strip() or reason.startswith(CRASH_REASONS):
        return False
    return reason.startswith(allowed)


def reason_class(reason: str) -> str:
    return "unknown device" if reason.startswith("unknown device") else reason.split(":")[0]


def settle(worker: IngestWorker, done: Callable[[], bool]) -> None:
    """Wait until ``done()``, or until the worker has been idle for QUIET_S (a lost or
    stored message never makes ``done()`` true; the assertions after say which)."""
    deadline = time.monotonic() + FLOOD_TIMEOUT_S
    last, quiet_since = worker.stats.snapshot(), time.monotonic()
    while not done():
        now = time.monotonic()
        stats = worker.stats.snapshot()
        if stats != last:
            last, quiet_since = stats, now
        elif now - quiet_since > QUIET_S:
            return
        assert now < deadline, f"the worker is still busy after {FLOOD_TIMEOUT_S} s: {stats}"
        time.sleep(0.25)


@pytest.fixture
def publisher(mqtt_url: str, unique_id: str) -> Iterator[mqtt.Client]:
    url = MqttUrl.parse(mqtt_url)
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=f"{unique_id}-pub", protocol=mqtt.MQTTv5
    )
    client.max_inflight_messages_set(PUBLISH_INFLIGHT)
    connected = threading.Event()
    client.on_connect = lambda *args: connected.set()
    client.connect(url.host, url.port)
    client.loop_start()
    assert connected.wait(10), "publisher could not connect"
    yield client
    client.disconnect()
    client.loop_stop()


def publish_paced(client: mqtt.Client, cases: list[Case], received: Callable[[], int]) -> None:
    """Publish at QoS 1 with many messages in flight, never more than WINDOW ahead of the
    worker, and wait for every PUBACK."""
    start = received()
    infos = []
    for i, case in enumerate(cases):
        if i % 50 == 0:
            while i - (received() - start) > WINDOW:
                time.sleep(0.001)
        infos.append(client.publish(case.topic, case.payload, qos=1))
    for info in infos:
        info.wait_for_publish(timeout=60)
        assert info.is_published(), f"no PUBACK for message {info.mid}"


def dead_letter_count(conn: psycopg.Connection, pattern: str) -> int:
    return conn.execute(
        "SELECT count(*) FROM dead_letters WHERE topic LIKE %s", (pattern,)
    ).fetchone()[0]


def table_count(conn: psycopg.Connection, table: str) -> int:
    return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def written_tables(conn: psycopg.Connection) -> list[str]:
    """The tables ingest writes from telemetry and trouble codes (those that exist)."""
    return [
        t
        for t in WRITTEN_TABLES
        if conn.execute("SELECT to_regclass(%s) IS NOT NULL", (t,)).fetchone()[0]
    ]


# The full flood (over 100,000 messages) runs under `make soak`; the default run sends a
# fifth of it (a tenth of the random ones, three encodings of each structured example), every
# category and reason still there, through the same worker and checks.
@pytest.mark.slow
@pytest.mark.parametrize(
    "scale", [pytest.param(0.1, id="default"), pytest.param(1.0, id="full", marks=pytest.mark.soak)]
)
def test_a_flood_of_malformed_payloads_is_dead_lettered_and_the_worker_keeps_serving(
    db_url, conn, mqtt_url, unique_id, publisher, caplog, scale
):
    caplog.set_level(logging.WARNING, logger="ingest")
    devices = {name: register(conn, f"{unique_id}-{name}") for name in malformed.FLOOD_DEVICES}
    targets = {name: Target(d.device_id, d.vin, unknown=()) for name, d in devices.items()}
    unknown = [f"{unique_id}-u{i}" for i in range(40)]
    cases = malformed.flood(targets, unknown, int(time.time() * 1000), seed=SEED, scale=scale)
    assert len(cases) >= FLOOD_MIN * scale
    categories = Counter(c.category for c in cases)
    assert min(categories.values()) >= 3, categories

    # What must arrive: (topic, payload as kept, original size) → the reasons it may carry.
    sent: Counter[tuple[str, bytes, int]] = Counter()
    allowed: dict[tuple[str, bytes, int], tuple[str, ...]] = {}
    category_of: dict[tuple[str, bytes, int], str] = {}
    for case in cases:
        key = (case.topic, case.payload[:MAX_DEAD_LETTER_BYTES], len(case.payload))
        sent[key] += 1
        assert allowed.setdefault(key, case.reasons) == case.reasons, key
        category_of.setdefault(key, case.category)
    # A payload sent in two categories on one topic (b"" say) counts for the first.
    attributed = Counter(category_of[key] for key in sent.elements())

    pattern = f"{topics.PREFIX}/{unique_id}-%"
    worker = IngestWorker(
        db_url,
        mqtt_url,
        client_id=f"{unique_id}-w",
        group=unique_id,
        session_expiry_s=0,
        max_inflight=WORKER_INFLIGHT,
        flush_interval_s=0.05,
    )
    with worker:
        publish_paced(publisher, cases, lambda: worker.stats.messages)
        settle(worker, lambda: dead_letter_count(conn, pattern) >= len(cases))
        rows = conn.execute(
            "SELECT topic, reason, payload, payload_size FROM dead_letters WHERE topic LIKE %s",
            (pattern,),
        ).fetchall()
        got = Counter((topic, bytes(payload), size) for topic, _, payload, size in rows)
        missing, extra = sent - got, got - sent
        unexpected = [(t, p[:40], n) for t, p, n in list(extra)[:5]]
        assert not missing and not extra, (
            f"{sum(missing.values())} sent but not dead-lettered "
            f"({Counter(category_of[k] for k in missing.elements())}), "
            f"{sum(extra.values())} unexpected ({unexpected}); "
            f"the worker saw {worker.stats.snapshot()}. Other tests sharing the broker caused "
            f"{dead_letter_count(conn, '%') - len(rows)} dead letters here; a broker that drops "
            "messages for a slow subscriber (mosquitto beyond max_queued_messages) logs it."
        )
        assert len(rows) == len(cases)
        # The broker is shared: other tests' devices reach this worker too, but none of them
        # is registered in this database, so nothing may be stored yet.
        assert {t: table_count(conn, t) for t in written_tables(conn)} == dict.fromkeys(
            written_tables(conn), 0
        )

        # The worker keeps serving: a valid batch from every device of the flood is stored.
        valid = [
            encode(make_batch(d.device_id, 1, vin=d.vin, n=5), fmt)
            for d, fmt in zip(devices.values(), ["binary", "json"] * len(devices), strict=False)
        ]
        for d, payload in zip(devices.values(), valid, strict=True):
            publisher.publish(topics.topic(d.device_id, "telemetry"), payload, qos=1)
        wait_until(lambda: table_count(conn, "batches") == len(devices), 30, "the valid batches")
        time.sleep(0.5)  # a redelivered or doubly written dead letter would show by now
    assert dead_letter_count(conn, pattern) == len(cases)

    wrong = []
    seen: dict[str, Counter[str]] = {}
    for topic, reason, payload, size in rows:
        key = (topic, bytes(payload), size)
        seen.setdefault(category_of[key], Counter())[reason_class(reason)] += 1
        if not reason_ok(reason, allowed[key]):
            wrong.append((category_of[key], reason, bytes(payload[:80]), size))
    assert not wrong, f"{len(wrong)} dead letters without the right reason, e.g. {wrong[:10]}"
    # Every reason the flood was built to provoke was given (the share per category is in
    # `seen`, shown on failure).
    classes: Counter[str] = Counter()
    for per_category in seen.values():
        classes.update(per_category)
    assert {
        "undecodable payload",
        "device mismatch",
        "unknown device",
        "vin mismatch",
        "out of range",
        "future timestamp",
        "stale timestamp",
    } <= set(classes), seen
    for category, reason in {
        "random bytes": "undecodable payload",
        "truncated": "undecodable payload",
        "bit flip": "undecodable payload",
        "binary fault": "undecodable payload",
        "bomb": "undecodable payload",
        "range": "out of range",
        "future": "future timestamp",
        "stale": "stale timestamp",
        "mismatch": "device mismatch",
        "vin": "vin mismatch",
        "unknown device": "unknown device",
        "dtc garbage": "undecodable payload",
        "dtc truncated": "undecodable payload",
        "dtc telemetry batch": "undecodable payload",
        "dtc wrong types": "undecodable payload",
    }.items():
        assert seen[category] == {reason: attributed[category]}, (category, seen[category])
    # Out-of-range JSON values hide among the wrong types, and the misfit snapshots are
    # rejected for each of their four faults.
    assert set(seen["json wrong types"]) == {"undecodable payload", "out of range"}, seen
    assert set(seen["dtc misfit"]) == {
        "device mismatch",
        "vin mismatch",
        "future timestamp",
        "stale timestamp",
    }, seen

    # The 64 KiB cap: big payloads keep their first 64 KiB and their real size.
    big = [(len(p), s) for _, _, p, s in rows if s > MAX_DEAD_LETTER_BYTES]
    assert len(big) == sum(len(c.payload) > MAX_DEAD_LETTER_BYTES for c in cases) >= 5
    assert all(n == MAX_DEAD_LETTER_BYTES for n, _ in big), big

    # Only the valid batches were stored, every sample of them.
    assert table_count(conn, "batches") == len(devices)
    assert table_count(conn, "readings_long") == len(devices) * 20
    stored_devices = {r[0] for r in conn.execute("SELECT device_id FROM batches").fetchall()}
    assert stored_devices == {d.device_id for d in devices.values()}

    stats = worker.stats.snapshot()
    assert stats["retries"] == 0, stats
    assert stats["batches"] == len(devices), stats
    assert stats["dead_letters"] >= len(cases), stats
    assert stats["messages"] >= len(cases) + len(devices), stats
    # No flush failed on a bug of ours or was refused by the database because of a message.
    errors = [
        r
        for r in caplog.records
        if r.levelno >= logging.ERROR or r.getMessage().startswith("database refused")
    ]
    assert not errors, [r.getMessage()[:300] for r in errors[:5]]


# --- the pipeline alone, on structured payloads -----------------------------------------------


@pytest.fixture
def target(conn, unique_id) -> Target:
    device = register(conn, f"{unique_id}-dev")
    others = tuple(register(conn, f"{unique_id}-o{i}").device_id for i in range(2))
    return Target(
        device.device_id,
        device.vin,
        others=others,
        unknown=tuple(f"{unique_id}-u{i}" for i in range(3)),
    )


@pytest.fixture
def generated_ms() -> int:
    return int(time.time() * 1000)


@given(data=st.data())
@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
def test_structured_malformed_payloads_are_dead_lettered_with_their_reason(
    conn, target: Target, generated_ms: int, data
):
    # Strategies depend on the generation time, which must not change between examples
    # (hypothesis replays them); arrival is later, which the margins allow for.
    cases = data.draw(
        st.lists(malformed.structured_case(target, generated_ms), min_size=1, max_size=6),
        label="cases",
    )
    now = datetime.now(UTC)
    before = conn.execute("SELECT coalesce(max(id), 0) FROM dead_letters").fetchone()[0]
    stored = {t: table_count(conn, t) for t in written_tables(conn)}
    outcomes = process_messages(conn, messages=[Message(c.topic, c.payload, now) for c in cases])
    for case, outcome in zip(cases, outcomes, strict=True):
        assert outcome.status == "dead_letter", (case.category, outcome)
        assert reason_ok(outcome.reason, case.reasons), (case.category, case.reasons, outcome)
    rows = conn.execute(
        "SELECT topic, reason, payload, payload_size FROM dead_letters WHERE id > %s ORDER BY id",
        (before,),
    ).fetchall()
    assert rows == [
        (c.topic, o.reason[:MAX_REASON_CHARS], c.payload[:MAX_DEAD_LETTER_BYTES], len(c.payload))
        for c, o in zip(cases, outcomes, strict=True)
    ]
    assert {t: table_count(conn, t) for t in stored} == stored
