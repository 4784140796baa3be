# SPDX-License-Identifier: MIT
"""Issue 15, finding 7, end to end: the real edge agent's publisher and SQLite buffer, a real
Mosquitto and an ingest worker. A device whose buffer is deleted or restored from a backup
counts from an old sequence number again; every batch it sends after that is stored."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from ingest_support import Device, make_batch

from edge_agent.outbox import Outbox
from edge_agent.publisher import Publisher
from ingest import IngestWorker
from telemetry import decode

MINUTE_MS = 60_000


@pytest.fixture
def worker(db_url: str, quiet_broker: str, unique_id: str) -> Iterator[IngestWorker]:
    with IngestWorker(
        db_url,
        quiet_broker,
        client_id=f"{unique_id}-w",
        group=unique_id,
        session_expiry_s=0,
        flush_interval_s=0.05,
    ) as running:
        yield running


class Run:
    """One run of the agent's publishing over the buffer file at ``path``."""

    def __init__(self, broker: str, device: Device, path: Path, *, connect: bool = True) -> None:
        self.device = device
        self.outbox = Outbox(path)
        self.publisher = Publisher(mqtt_url=broker, device_id=device.device_id, outbox=self.outbox)
        self.connected = connect
        if connect:
            self.publisher.start()

    def send(self, n: int, *, minutes_ago: int) -> list[int]:
        """Send ``n`` batches a minute apart, starting ``minutes_ago``; their sequence numbers."""
        now_ms = int(time.time() * 1000)
        return [
            self.publisher.send(
                make_batch(
                    self.device.device_id, 0, base_time_ms=now_ms - (minutes_ago - i) * MINUTE_MS
                )
            )
            for i in range(n)
        ]

    def finish(self) -> None:
        """Wait until the broker acknowledged everything, then stop like a power-off would."""
        if self.connected:
            assert self.publisher.wait_drained(20), f"{len(self.outbox)} batches unacknowledged"
            self.publisher.stop()
        self.outbox.close()


def _remove(path: Path) -> None:
    for name in (path.name, f"{path.name}-wal", f"{path.name}-shm"):
        (path.parent / name).unlink(missing_ok=True)


def _stored(conn: psycopg.Connection, device: Device) -> dict[int, list[int]]:
    """Stored sequence numbers by epoch."""
    rows = conn.execute(
        "SELECT epoch, array_agg(seq ORDER BY seq) FROM batches WHERE device_id = %s "
        "GROUP BY epoch",
        (device.device_id,),
    ).fetchall()
    return {int(epoch): [int(s) for s in seqs] for epoch, seqs in rows}


def _wait_for(worker: IngestWorker, batches: int, duplicates: int = 0) -> None:
    """Wait until ingest stored ``batches`` and recognised at least ``duplicates`` copies.

    QoS 1 is at least once: a loaded machine may see the broker deliver a copy twice (a
    retry before the PUBACK arrived), so duplicates are a floor, never an exact figure."""
    deadline = time.monotonic() + 20
    while worker.stats.batches < batches or worker.stats.duplicates < duplicates:
        assert time.monotonic() < deadline, f"ingest saw {worker.stats.snapshot()}"
        time.sleep(0.05)
    time.sleep(0.3)  # a batch stored twice would show here


def test_a_deleted_buffer_starts_again_at_zero_and_every_batch_is_stored(
    worker, quiet_broker, conn, device: Device, tmp_path
):
    path = tmp_path / "buffer.db"
    first = Run(quiet_broker, device, path)
    assert first.send(5, minutes_ago=60) == [0, 1, 2, 3, 4]
    first.finish()
    _wait_for(worker, 5)
    _remove(path)  # the SD card is replaced, or someone deletes the buffer
    second = Run(quiet_broker, device, path)
    assert second.send(7, minutes_ago=20) == list(range(7))
    second.finish()
    _wait_for(worker, 12)
    # Had the new buffer's batches been taken for the old ones, only 5 would be stored.
    assert worker.stats.batches == 12
    stored = _stored(conn, device)
    assert sorted(stored.values()) == [list(range(5)), list(range(7))]
    assert 0 not in stored


def test_a_restored_backup_resends_only_duplicates_and_stores_every_new_batch(
    worker, quiet_broker, conn, device: Device, tmp_path
):
    path, backup = tmp_path / "buffer.db", tmp_path / "backup.db"
    # Three batches buffered while offline; the backup is taken with them still pending.
    offline = Run(quiet_broker, device, path, connect=False)
    pending = offline.send(3, minutes_ago=90)
    offline.finish()
    shutil.copyfile(path, backup)
    [old_epoch] = {decode(p).epoch for _, p in Outbox(backup).pending()}
    # The device comes online, delivers them and four more (3..6).
    online = Run(quiet_broker, device, path)
    assert online.send(4, minutes_ago=60) == [3, 4, 5, 6]
    online.finish()
    _wait_for(worker, 7)
    # Restored: the counter is back at 3, the three delivered batches pending again.
    _remove(path)
    shutil.copyfile(backup, path)
    restored = Run(quiet_broker, device, path)
    assert restored.send(4, minutes_ago=20) == [3, 4, 5, 6]
    restored.finish()
    _wait_for(worker, 11, duplicates=3)
    # The resent three are true duplicates (same epoch, same seq); the new four are stored.
    assert worker.stats.batches == 11
    stored = _stored(conn, device)
    assert stored.pop(old_epoch) == pending == [0, 1, 2]
    assert list(stored.values()) == [[3, 4, 5, 6], [3, 4, 5, 6]]
