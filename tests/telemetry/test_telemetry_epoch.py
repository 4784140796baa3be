# SPDX-License-Identifier: MIT
"""The epoch on the wire: v2 carries it, v1 (every batch sent before epochs) still decodes as
epoch 0, and a payload that mixes the two is refused instead of silently losing its epoch."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from telemetry import Batch, DecodeError, InvalidBatch, Series, decode, encode

VIN = "1HGCM82633A004352"
T0 = 1_763_700_000_000
SPEED = (Series("speed_kmh", (0, 1000), (12.0, 14.0)),)
# An uncompressed binary v1 batch and its JSON, both as the codec wrote them before epochs
# existed (car-1, seq 41, two speed samples): agents in the field still send these.
LEGACY_BINARY = bytes.fromhex(
    "574c0100056361722d3111314847434d38323633334130303433353229000000000000000045b6a49a010000"
    "01000d00020000000000000000000000e8030000000000000c000000000000000200000000000000"
)
LEGACY_JSON = (
    b'{"v":1,"device_id":"car-1","seq":41,"vin":"1HGCM82633A004352","base_time_ms":1763700000000,'
    b'"signals":{"speed_kmh":{"t":[0,1000],"v":[12.0,14.0]}}}'
)


def test_legacy_payloads_decode_as_epoch_zero_and_encode_byte_for_byte_as_before():
    legacy = Batch("car-1", 41, VIN, T0, SPEED)
    assert decode(LEGACY_BINARY) == legacy
    assert decode(LEGACY_JSON) == legacy
    assert legacy.epoch == 0
    # Epoch 0 stays v1 on the wire, so an ingest that predates epochs still reads it.
    assert encode(legacy, compress=False) == LEGACY_BINARY
    assert encode(legacy, "json") == LEGACY_JSON


@pytest.mark.parametrize("fmt", ["binary", "json"])
def test_an_epoch_makes_a_version_2_payload_that_keeps_it(fmt):
    batch = Batch("car-1", 0, VIN, T0, SPEED, epoch=2**63 - 1)
    payload = encode(batch, fmt)
    if fmt == "binary":
        assert payload[2] == 2
    else:
        assert json.loads(payload)["v"] == 2
    back = decode(payload)
    assert (back.epoch, back.seq) == (2**63 - 1, 0)
    assert back == batch


@given(
    st.integers(0, 2**63 - 1),
    st.integers(0, 2**63 - 1),
    st.sampled_from(["binary", "json"]),
    st.booleans(),
)
@settings(max_examples=200, deadline=None)
def test_encode_renumbers_seq_and_epoch_and_decode_gives_them_back(seq, epoch, fmt, compress):
    batch = Batch("car-1", 7, "", T0, SPEED, epoch=5)
    back = decode(encode(batch, fmt, compress=compress, seq=seq, epoch=epoch))
    assert (back.seq, back.epoch) == (seq, epoch)
    assert back.series == batch.series


@pytest.mark.parametrize("epoch", [-1, 2**63, True, 1.5, "7"])
def test_an_epoch_outside_bigint_is_refused_everywhere(epoch):
    with pytest.raises(InvalidBatch, match="epoch"):
        Batch("car-1", 1, "", T0, SPEED, epoch=epoch)
    with pytest.raises(ValueError, match="epoch"):
        encode(Batch("car-1", 1, "", T0, SPEED), epoch=epoch)
    doc = json.loads(encode(Batch("car-1", 1, "", T0, SPEED, epoch=3), "json"))
    with pytest.raises(DecodeError, match="epoch"):
        decode(json.dumps({**doc, "epoch": epoch}).encode())


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        # v1 readers ignore unknown fields: a v1 batch with an epoch would be stored as epoch 0.
        ({"v": 1, "epoch": 9}, "'epoch' needs"),
        ({"v": 2, "epoch": None}, "epoch"),
        ({"v": 2}, "lacks epoch"),
        ({"v": 3}, "'v' must be 1"),
    ],
)
def test_json_version_and_epoch_must_agree(change, reason):
    doc = json.loads(LEGACY_JSON)
    doc.pop("epoch", None)
    doc.update(change)
    with pytest.raises(DecodeError, match=reason):
        decode(json.dumps(doc).encode())


def test_a_truncated_version_2_header_is_a_decode_error():
    payload = encode(Batch("car-1", 1, "", T0, SPEED, epoch=77), compress=False)
    # Cut inside the epoch: a v1 reading of the same bytes would have been "complete".
    cut = payload[: 4 + 1 + 5 + 1 + 8 + 4]  # header, "car-1", empty VIN, seq, half an epoch
    with pytest.raises(DecodeError, match="truncated"):
        decode(cut)
