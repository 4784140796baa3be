# SPDX-License-Identifier: MIT
"""De-duplication on (device, epoch, seq): a device counting from 0 again under a new epoch is
stored, a true duplicate is not, and legacy batches (no epoch) de-duplicate as before."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import psycopg
from ingest_support import Device, make_batch

from ingest import process_messages
from ingest.message import Message
from telemetry import encode, topics

MINUTE_MS = 60_000


def _submit(conn: psycopg.Connection, device: Device, payloads: list[bytes]) -> list[str]:
    received = datetime.now(UTC)
    messages = [Message(topics.topic(device.device_id, "telemetry"), p, received) for p in payloads]
    return [o.status for o in process_messages(conn, messages=messages)]


def _payload(device: Device, seq: int, epoch: int, minutes_ago: int) -> bytes:
    base = int(time.time() * 1000) - minutes_ago * MINUTE_MS
    return encode(make_batch(device.device_id, seq, base_time_ms=base, n=3), epoch=epoch)


def _stored(conn: psycopg.Connection, device: Device) -> list[tuple[int, int]]:
    rows = conn.execute(
        "SELECT epoch, seq FROM batches WHERE device_id = %s ORDER BY epoch, seq",
        (device.device_id,),
    ).fetchall()
    return [(int(e), int(s)) for e, s in rows]


def test_a_new_epoch_counting_from_zero_is_stored_and_a_true_duplicate_is_not(conn, device: Device):
    first = [_payload(device, seq, epoch=11, minutes_ago=30 - seq) for seq in range(3)]
    assert _submit(conn, device, first) == ["stored"] * 3
    # A new buffer: the same sequence numbers under another epoch, in one flush with a resend
    # of the old epoch's batch 1 and a second copy of the new epoch's batch 0.
    second = [_payload(device, seq, epoch=22, minutes_ago=10 - seq) for seq in range(3)]
    statuses = _submit(conn, device, [*second, first[1], second[0]])
    assert statuses == ["stored", "stored", "stored", "duplicate", "duplicate"]
    assert _stored(conn, device) == [(11, 0), (11, 1), (11, 2), (22, 0), (22, 1), (22, 2)]
    assert conn.execute(
        "SELECT count(*) FROM readings_long WHERE vehicle_id = %s", (device.vehicle_id,)
    ).fetchone() == (6 * 3 * 4,)


def test_legacy_batches_without_epoch_deduplicate_as_before(conn, device: Device):
    legacy = [_payload(device, seq, epoch=0, minutes_ago=30 - seq) for seq in range(2)]
    assert all(p[2] == 1 for p in legacy)  # wire v1, what agents without epochs send
    assert _submit(conn, device, legacy) == ["stored", "stored"]
    assert _submit(conn, device, [legacy[0], legacy[1], legacy[0]]) == ["duplicate"] * 3
    # An agent upgraded mid-buffer keeps its counter; its first epoch batch is news.
    upgraded = _payload(device, 1, epoch=5, minutes_ago=5)
    assert _submit(conn, device, [upgraded, legacy[1]]) == ["stored", "duplicate"]
    assert _stored(conn, device) == [(0, 0), (0, 1), (5, 1)]
