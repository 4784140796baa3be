# SPDX-License-Identifier: MIT
"""Trouble-code snapshots: round trip and total decoding."""

import contextlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from telemetry import DecodeError
from telemetry.dtc import DtcSnapshot, decode_dtc, encode_dtc

T = 1_763_700_000_000


def test_round_trip_and_mil():
    snap = DtcSnapshot("car-1", "", T, stored=("P0301", "P0562"), pending=("P0420",))
    back = decode_dtc(encode_dtc(snap))
    assert back == snap and back.mil_on
    assert not DtcSnapshot("car-1", "", T).mil_on


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{", "not JSON"),
        (b'{"v": 2}', "'v': 1"),
        (b'{"v": 1, "device_id": "d", "vin": ""}', "lacks"),
        (b'{"v":1,"device_id":"d","vin":"","time_ms":1763700000000,"stored":["X9999"]}', "P0301"),
        (b'{"v":1,"device_id":"d","vin":"","time_ms":1763700000000,"stored":5}', "must be a list"),
        (b'{"v":1,"device_id":"d","vin":"","time_ms":"soon"}', "time_ms"),
    ],
)
def test_bad_snapshots_raise_decode_error(payload, reason):
    with pytest.raises(DecodeError, match=reason):
        decode_dtc(payload)


_values = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20),
    st.lists(st.one_of(st.text(max_size=6), st.integers(), st.sampled_from(["P0301", "U0100"]))),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)  # fmt: skip
_keys = st.sampled_from(["v", "device_id", "vin", "time_ms", "stored", "pending", "permanent"])


@given(
    st.one_of(
        st.binary(max_size=300),
        st.dictionaries(_keys, _values).map(lambda d: json.dumps(d).encode()),
    )
)
@settings(max_examples=400, deadline=None)
def test_any_payload_decodes_or_raises_decode_error(payload):
    with contextlib.suppress(DecodeError):
        assert isinstance(decode_dtc(payload), DtcSnapshot)
