# SPDX-License-Identifier: MIT
"""The codec: round trips, compactness, and 'any bytes decode or raise DecodeError'."""

import contextlib
import json
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from telemetry import (
    SIGNALS,
    Batch,
    DecodeError,
    InvalidBatch,
    Series,
    by_name,
    decode,
    encode,
    topics,
)
from telemetry.batch import MAX_BASE_TIME_MS, MIN_BASE_TIME_MS

VIN = "1HGCM82633A004352"
T0 = 1_763_700_000_000


def _series(signal, n, step_ms=1000, start=0.0, slope=1.0):
    return Series(
        signal, tuple(i * step_ms for i in range(n)), tuple(start + slope * i for i in range(n))
    )


@st.composite
def batches(draw):
    chosen = draw(
        st.lists(st.sampled_from(SIGNALS), min_size=0, max_size=len(SIGNALS), unique=True)
    )
    series = []
    for sig in chosen:
        counts = draw(
            st.lists(st.integers(0, int((sig.max - sig.min) / sig.resolution)), max_size=30)
        )
        offsets = sorted(
            draw(st.lists(st.integers(0, 3_600_000), min_size=len(counts), max_size=len(counts)))
        )
        series.append(Series(sig.name, tuple(offsets), tuple(sig.from_counts(c) for c in counts)))
    return Batch(
        device_id=draw(st.from_regex(r"[A-Za-z0-9_.-]{1,64}", fullmatch=True)),
        seq=draw(st.integers(0, 2**63 - 1)),
        vin=draw(st.sampled_from(["", VIN, "WVWZZZ1JZXW000001"])),
        base_time_ms=draw(st.integers(MIN_BASE_TIME_MS, MAX_BASE_TIME_MS)),
        series=tuple(series),
        # Legacy batches (epoch 0, wire v1) as often as batches with an epoch (wire v2).
        epoch=draw(st.one_of(st.just(0), st.integers(1, 2**63 - 1))),
    )


@given(batches())
@settings(max_examples=150, deadline=None)
def test_binary_and_json_round_trip(batch):
    assert decode(encode(batch)) == batch
    assert decode(encode(batch, compress=False)) == batch
    assert decode(encode(batch, "json")) == batch


def _flattened(batch):
    """The batch's samples as (signal id, offset, value), series after series."""
    return [
        (by_name(s.signal).id, off, value)
        for s in batch.series
        for off, value in zip(s.offsets_ms, s.values, strict=True)
    ]


@given(batches())
@settings(max_examples=150, deadline=None)
def test_binary_decoding_gives_arrays_that_are_exactly_the_series(batch):
    """ingest's COPY takes ``Batch.columns`` instead of the series: they must be the same
    samples, the same values, in the same order (the odometer's beyond-table counts too)."""
    decoded = decode(encode(batch))
    columns = decoded.columns
    if not batch.series:
        assert columns is None  # nothing to copy
        return
    assert columns is not None
    arrays = list(
        zip(
            columns.signal_ids.tolist(),
            columns.offsets_ms.tolist(),
            columns.values.tolist(),
            strict=True,
        )
    )
    assert arrays == _flattened(batch)
    assert decode(encode(batch, "json")).columns is None  # JSON: ingest builds them itself


@given(st.binary(max_size=400))
@settings(max_examples=400, deadline=None)
def test_any_bytes_decode_or_raise_decode_error(payload):
    try:
        batch = decode(payload)
    except DecodeError:
        return
    assert isinstance(batch, Batch)


@given(batches(), st.data())
@settings(max_examples=150, deadline=None)
def test_corrupted_binary_never_escapes_decode_error(batch, data):
    raw = bytearray(encode(batch, compress=False))
    index = data.draw(st.integers(0, len(raw) - 1))
    raw[index] ^= data.draw(st.integers(1, 255))
    cut = data.draw(st.integers(0, len(raw)))
    for candidate in (bytes(raw), bytes(raw[:cut])):
        with contextlib.suppress(DecodeError):
            assert isinstance(decode(candidate), Batch)


def test_values_are_kept_at_native_obd_resolution():
    batch = Batch(
        "dev",
        1,
        VIN,
        T0,
        (
            Series("engine_rpm", (0, 500), (812.3, 2000.1)),
            Series("odometer_km", (0,), (123456.78,)),
        ),
    )
    back = decode(encode(batch))
    assert back.series[0].values == (812.25, 2000.0)  # 0.25 rpm per count
    assert back.series[1].values == (123456.8,)  # 0.1 km per count


def test_binary_is_much_smaller_than_json_and_naive_messages():
    series = (
        _series("speed_kmh", 60, start=30),
        _series("engine_rpm", 60, start=1500, slope=10),
        _series("coolant_temp_c", 6, 10_000, start=88, slope=0),
    )
    batch = Batch("car-1", 7, VIN, T0, series)
    binary, as_json = encode(batch), encode(batch, "json")
    naive = sum(
        len(json.dumps({"device": "car-1", "vin": VIN, "t": T0 + t, "signal": s, "value": v}))
        for t, s, v in batch.samples()
    )
    assert len(binary) * 5 < len(as_json)
    assert len(binary) * 20 < naive


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"", "neither"),
        (b"WL\x03\x00", "unsupported binary version"),
        (b"WL\x01\x80", "unknown flags"),
        (b"WL\x01\x01" + b"garbage", "malformed"),
        (b"WL\x01\x01" + zlib.compress(b"\x00" * (9 * 1024 * 1024)), "inflates beyond"),
        (b'{"v": 3}', "'v' must be 1"),
        (
            b'{"v":1,"device_id":"d","seq":1,"vin":"","base_time_ms":1763700000000,'
            b'"signals":{"warp_factor":{"t":[0],"v":[9]}}}',
            "unknown signal",
        ),
        (
            b'{"v":1,"device_id":"d","seq":-1,"vin":"","base_time_ms":1763700000000,"signals":{}}',
            "seq",
        ),
        (
            b'{"v":1,"device_id":"d e","seq":1,"vin":"","base_time_ms":1763700000000,"signals":{}}',
            "device_id",
        ),
        (
            b'{"v":1,"device_id":"d","seq":1,"vin":"IOQ","base_time_ms":1763700000000,"signals":{}}',
            "vin",
        ),
        (b'{"v":1,"device_id":"d","seq":1,"vin":"","base_time_ms":5,"signals":{}}', "base_time_ms"),
        (
            b'{"v":1,"device_id":"d","seq":1,"vin":"","base_time_ms":1763700000000,'
            b'"signals":{"speed_kmh":{"t":[5,1],"v":[1,2]}}}',
            "offsets must rise",
        ),
        (
            b'{"v":1,"device_id":"d","seq":1,"vin":"","base_time_ms":1763700000000,'
            b'"signals":{"speed_kmh":{"t":[0],"v":[NaN]}}}',
            "finite",
        ),
        (b'{"a":' * 100_000, "malformed"),
    ],
)
def test_bad_payloads_raise_decode_error_with_reason(payload, reason):
    with pytest.raises(DecodeError, match=reason):
        decode(payload)


def test_invalid_batch_is_a_decode_error():
    with pytest.raises(InvalidBatch):
        Batch("dev", 1, VIN, T0, (Series("speed_kmh", (0, 1), (1.0,)),))


def test_topics_round_trip_and_reject_foreign_trees():
    assert topics.parse(topics.topic("car-9", "telemetry")) == ("car-9", "telemetry")
    assert topics.shared("telemetry") == "$share/ingest/wl/v1/+/telemetry"
    for bad in ("wl/v2/car/telemetry", "wl/v1/car/secrets", "wl/v1//telemetry", "x"):
        with pytest.raises(DecodeError):
            topics.parse(bad)


@pytest.mark.parametrize("signal", SIGNALS, ids=lambda s: s.name)
def test_decoded_values_are_exactly_from_counts_for_every_count(signal):
    """The table the decoder looks values up in agrees with ``Signal.from_counts`` everywhere,
    and counts past the signal's range still decode (ingest then rejects the value)."""
    top = signal.to_counts(signal.max)
    counts = [-1, *range(min(top, 70_000) + 1), top, top + 1, top + 1000]
    values = tuple(signal.from_counts(c) for c in counts)
    other = Series("speed_kmh" if signal.name != "speed_kmh" else "engine_rpm", (0, 5), (1, 2))
    batch = Batch(
        "d1",
        1,
        "",
        1_790_000_000_000,
        (other, Series(signal.name, tuple(range(len(counts))), values)),
    )
    decoded = decode(encode(batch))
    assert decoded.series[1].values == values
    assert decoded.columns is not None
    assert tuple(decoded.columns.values.tolist()[2:]) == values  # out of range: exact too
    assert decoded.series[1].offsets_ms == tuple(range(len(counts)))
    assert decoded.series[0].values == (1.0, 2.0)
