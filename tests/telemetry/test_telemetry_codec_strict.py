# SPDX-License-Identifier: MIT
"""Payloads that look almost right must still be rejected (found by the ingest flood test)."""

from __future__ import annotations

import json
import time

import pytest

from telemetry import Batch, DecodeError, Series, decode, encode
from telemetry.dtc import DtcSnapshot, decode_dtc, encode_dtc

NOW_MS = int(time.time() * 1000)


def batch(**overrides) -> Batch:
    fields = {
        "device_id": "dev-1",
        "seq": 1,
        "vin": "",
        "base_time_ms": NOW_MS,
        "series": (Series("speed_kmh", (0, 1000), (10.0, 12.0)),),
    }
    return Batch(**{**fields, **overrides})


def test_garbage_after_a_compressed_body_is_rejected():
    with pytest.raises(DecodeError, match="trailing bytes"):
        decode(encode(batch()) + b"GARBAGE")


@pytest.mark.parametrize("overrides", [{"vin": "1HGCM82633A004352\n"}, {"device_id": "dev-1\n"}])
def test_a_trailing_newline_is_not_part_of_a_valid_identifier(overrides):
    with pytest.raises(DecodeError):
        batch(**overrides)


@pytest.mark.parametrize("version", [True, 1.0, "1"])
def test_the_version_must_be_the_integer_one(version):
    doc = json.loads(encode(batch(), "json"))
    with pytest.raises(DecodeError):
        decode(json.dumps({**doc, "v": version}).encode())
    snap = json.loads(encode_dtc(DtcSnapshot("dev-1", "", NOW_MS, stored=("P0301",))))
    with pytest.raises(DecodeError):
        decode_dtc(json.dumps({**snap, "v": version}).encode())


@pytest.mark.parametrize("codes", [{"P0420": {}}, "P0420", 0, ["P0301\n"]])
def test_trouble_codes_must_be_a_list_of_codes(codes):
    snap = json.loads(encode_dtc(DtcSnapshot("dev-1", "", NOW_MS)))
    with pytest.raises(DecodeError):
        decode_dtc(json.dumps({**snap, "stored": codes}).encode())
