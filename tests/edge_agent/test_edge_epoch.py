# SPDX-License-Identifier: MIT
"""The buffer's epoch: new at every opening, kept by the batches already stored."""

from __future__ import annotations

import sqlite3

from edge_agent.batcher import Batcher
from edge_agent.outbox import Outbox
from edge_agent.publisher import Publisher
from telemetry import decode


def _send(publisher: Publisher, n: int) -> None:
    for i in range(n):
        b = Batcher(device_id="car-7", vin="")
        b.add("speed_kmh", 1_763_700_000_000 + i * 1000, float(i))
        publisher.send(b.cut(seq=0))


def _stored_epoch(path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT value FROM meta WHERE key = 'epoch'").fetchone()[0])


def test_each_opening_draws_a_new_nonzero_epoch_kept_in_the_buffer(tmp_path):
    path = tmp_path / "buf.db"
    epochs = []
    for _ in range(3):
        box = Outbox(path)
        assert 1 <= box.epoch <= 2**63 - 1
        epochs.append(box.epoch)
        box.close()
        assert _stored_epoch(path) == epochs[-1]
    assert len(set(epochs)) == 3
    assert Outbox().epoch != Outbox().epoch  # in memory too (the demo feed's buffers)


def test_batches_carry_the_epoch_they_were_stored_under_across_a_restart(tmp_path):
    # Never started: the batches wait in the buffer, as they would with the broker away.
    path = tmp_path / "buf.db"
    first = Outbox(path)
    _send(Publisher(mqtt_url="mqtt://127.0.0.1:9", device_id="car-7", outbox=first), 2)
    first.close()
    second = Outbox(path)
    _send(Publisher(mqtt_url="mqtt://127.0.0.1:9", device_id="car-7", outbox=second), 2)
    batches = [decode(payload) for _, payload in second.pending()]
    assert [(b.seq, b.epoch) for b in batches] == [
        (0, first.epoch),
        (1, first.epoch),
        (2, second.epoch),
        (3, second.epoch),
    ]
    second.close()
