# SPDX-License-Identifier: MIT
"""VIN decoding, batching and the on-disk outbox."""

import multiprocessing
import os
import signal

import pytest

from edge_agent.batcher import Batcher
from edge_agent.outbox import Outbox
from edge_agent.vin import decode_vin
from telemetry import decode


def _can_vin_reply(vin: str) -> bytes:
    return bytes([0x49, 0x02, 0x01]) + vin.encode()


@pytest.mark.parametrize("vin", ["1HGCM82633A004352", "2T1BURHE0JC014220", "WDB1240221A000012"])
def test_vin_keeps_leading_and_trailing_digits_python_obd_strips(vin):
    assert decode_vin([_can_vin_reply(vin)]) == vin


def test_vin_from_legacy_protocol_messages_with_padding():
    vin = "1G1JC5444R7252367"
    padded = b"\x00\x00\x00" + vin.encode()
    frames = [bytes([0x49, 0x02, i + 1]) + padded[i * 4 : (i + 1) * 4] for i in range(5)]
    assert decode_vin(frames) == vin


def test_vin_absent_or_garbled_is_none():
    assert decode_vin([]) is None
    assert decode_vin([bytes([0x49, 0x02, 0x01]) + b"SHORT"]) is None
    assert decode_vin([bytes([0x41, 0x0D, 0x20])]) is None


def test_batcher_cuts_on_window_and_keeps_every_sample():
    b = Batcher(device_id="car", vin="", max_window_ms=10_000)
    for i in range(25):
        b.add("speed_kmh", 1_763_700_000_000 + i * 1000, float(i))
        b.add("engine_rpm", 1_763_700_000_000 + i * 1000, 800.0 + i)
    assert b.due(1_763_700_000_000 + 10_000)
    batch = b.cut(seq=3)
    assert batch is not None and batch.seq == 3 and batch.sample_count == 50
    speed = next(s for s in batch.series if s.signal == "speed_kmh")
    speeds = dict(
        zip(
            speed.offsets_ms,
            speed.values,
            strict=True,
        )
    )
    assert speeds[24_000] == 24.0
    assert b.cut(seq=4) is None and len(b) == 0


def test_outbox_sequences_are_contiguous_and_survive_reopen(tmp_path):
    path = tmp_path / "buf.db"
    box = Outbox(path)
    seqs = [box.enqueue(lambda s: f"p{s}".encode())[0] for _ in range(5)]
    box.ack(0)
    box.ack(2)
    box.close()
    again = Outbox(path)
    assert seqs == [0, 1, 2, 3, 4]
    assert [s for s, _ in again.pending()] == [1, 3, 4]
    assert again.enqueue(lambda s: b"x")[0] == 5


def test_outbox_drops_oldest_when_full(tmp_path):
    box = Outbox(tmp_path / "small.db", max_bytes=1000)
    for _ in range(30):
        box.enqueue(lambda s: b"y" * 100)
    assert [s for s, _ in box.pending()] == list(range(20, 30))
    assert box.dropped == 20


def _fill_and_die(path: str, ready) -> None:
    box = Outbox(path)
    for _ in range(200):
        box.enqueue(lambda s: b"z" * 50)
    ready.set()
    while True:
        box.enqueue(lambda s: b"z" * 50)


def test_outbox_loses_no_committed_batch_on_sigkill(tmp_path):
    path = str(tmp_path / "killed.db")
    ready = multiprocessing.get_context("fork").Event()
    proc = multiprocessing.get_context("fork").Process(target=_fill_and_die, args=(path, ready))
    proc.start()
    assert ready.wait(20)
    os.kill(proc.pid, signal.SIGKILL)
    proc.join()
    box = Outbox(path)
    seqs = [s for s, _ in box.pending(limit=10**6)]
    assert len(seqs) >= 200
    assert seqs == list(range(len(seqs)))  # contiguous from 0: nothing lost, nothing skipped
    assert box.enqueue(lambda s: b"next")[0] == len(seqs)


def test_batch_built_by_batcher_is_valid_on_the_wire():
    b = Batcher(device_id="car-2", vin="1HGCM82633A004352")
    b.add("oil_temp_c", 1_763_700_000_000, 91.0)
    batch = b.cut(seq=0)
    from telemetry import encode

    assert decode(encode(batch)) == batch


def test_outbox_can_keep_the_oldest_instead(tmp_path):
    box = Outbox(tmp_path / "keep-old.db", max_bytes=1000, when_full="drop_newest")
    for _ in range(30):
        box.enqueue(lambda s: b"y" * 100)
    assert [s for s, _ in box.pending()] == list(range(10))
    assert box.dropped == 20
    with pytest.raises(ValueError):
        Outbox(when_full="drop_everything")
