# SPDX-License-Identifier: MIT
"""Codecs for batches: compact binary (default) and JSON (for people with mosquitto_pub).

Binary layout, all integers little-endian::

    b"WL" | version u8 = 1 or 2 | flags u8 (bit 0: body is zlib-compressed)
    body:
      device_id  u8 length + UTF-8
      vin        u8 length + ASCII
      seq        u64
      epoch      u64 (version 2 only; version 1 is epoch 0)
      base_time  u64 unix ms
      n_series   u16
      n_series x (signal id u16, sample count u32)
      then per series: time deltas   (count x i64, ms since the previous sample, first since base)
                       value deltas  (count x i64, signal counts at native OBD resolution)

A batch of epoch 0 is written as version 1, byte for byte what agents without epochs send, so
an ingest that predates epochs still reads it; any other epoch needs version 2. JSON follows
the same rule: ``"v": 1`` has no ``epoch``, ``"v": 2`` must have one.

Columnar delta encoding turns slowly changing signals into runs of small numbers that zlib
squeezes to a few bits a sample; fixed-width arrays keep both directions in C (``array``,
``itertools.accumulate``) so the codec stays fast without any dependency. We write this by hand
because no general-purpose serialisation library stores quantised, delta-coded columns.
"""

from __future__ import annotations

import json
import struct
import sys
import zlib
from array import array
from collections.abc import Iterable
from itertools import accumulate
from typing import TYPE_CHECKING, Any, Literal

from telemetry.batch import MAX_EPOCH, MAX_SEQ, Batch, Columns, Series
from telemetry.errors import DecodeError, InvalidBatch, TelemetryError
from telemetry.signals import SIGNALS, Signal, by_id, by_name

if TYPE_CHECKING:
    import numpy as np

__all__ = ["DecodeError", "TelemetryError", "decode", "encode"]

MAGIC = b"WL"
VERSION = 1  # no epoch (a legacy batch, epoch 0)
VERSION_EPOCH = 2  # with an epoch
VERSIONS = (VERSION, VERSION_EPOCH)
FLAG_ZLIB = 0x01
# A decompression bomb is rejected instead of filling memory.
MAX_BODY_BYTES = 8 * 1024 * 1024
_HEADER = struct.Struct("<2sBB")
_FIXED = struct.Struct("<QQH")  # seq, base time, series count
_FIXED_EPOCH = struct.Struct("<QQQH")  # seq, epoch, base time, series count
_SERIES = struct.Struct("<HI")
_BIG_ENDIAN = sys.byteorder == "big"

Format = Literal["binary", "json"]


def encode(
    batch: Batch,
    fmt: Format = "binary",
    *,
    compress: bool = True,
    seq: int | None = None,
    epoch: int | None = None,
) -> bytes:
    """Serialise a batch; values are rounded to their signal's native resolution.

    ``seq`` and ``epoch`` write those instead of ``batch.seq`` and ``batch.epoch``: the sender's
    outbox numbers batches as it stores them, and re-validating a whole batch just to renumber
    it is waste.
    """
    if seq is None:
        seq = batch.seq
    elif not isinstance(seq, int) or isinstance(seq, bool) or not 0 <= seq <= MAX_SEQ:
        raise ValueError(f"seq {seq!r} is not an integer in 0..2^63-1")
    if epoch is None:
        epoch = batch.epoch
    elif not isinstance(epoch, int) or isinstance(epoch, bool) or not 0 <= epoch <= MAX_EPOCH:
        raise ValueError(f"epoch {epoch!r} is not an integer in 0..2^63-1")
    if fmt == "json":
        return _encode_json(batch, seq, epoch)
    if fmt != "binary":
        raise ValueError(f"unknown format {fmt!r}")
    return _encode_binary(batch, seq, epoch, compress)


def decode(payload: bytes) -> Batch:
    """Parse a binary or JSON payload into a valid Batch, or raise DecodeError (nothing else)."""
    try:
        if not isinstance(payload, bytes | bytearray | memoryview):
            raise DecodeError(f"payload must be bytes, not {type(payload).__name__}")
        data = bytes(payload)
        if data[:2] == MAGIC:
            return _decode_binary(data)
        if data.lstrip()[:1] == b"{":
            return _decode_json(data)
        raise DecodeError("payload is neither a binary batch (b'WL') nor a JSON object")
    except DecodeError:
        raise
    except InvalidBatch:
        raise
    except (
        ValueError,
        TypeError,
        KeyError,
        IndexError,
        OverflowError,
        struct.error,
        zlib.error,
        RecursionError,
        MemoryError,
        AttributeError,
    ) as exc:
        raise DecodeError(f"malformed payload: {type(exc).__name__}: {exc}") from exc


def _encode_binary(batch: Batch, seq: int, epoch: int, compress: bool) -> bytes:
    dev = batch.device_id.encode()
    vin = batch.vin.encode("ascii")
    if epoch:
        version, fixed = (
            VERSION_EPOCH,
            _FIXED_EPOCH.pack(seq, epoch, batch.base_time_ms, len(batch.series)),
        )
    else:
        version, fixed = VERSION, _FIXED.pack(seq, batch.base_time_ms, len(batch.series))
    parts = [bytes([len(dev)]), dev, bytes([len(vin)]), vin, fixed]
    columns: list[bytes] = []
    for s in batch.series:
        sig = by_name(s.signal)
        assert sig is not None  # Batch validated it
        parts.append(_SERIES.pack(sig.id, len(s.values)))
        counts = [sig.to_counts(v) for v in s.values]
        columns.append(_pack(_deltas(list(s.offsets_ms))))
        columns.append(_pack(_deltas(counts)))
    body = b"".join(parts + columns)
    flags = 0
    if compress:
        body = zlib.compress(body, 6)
        flags |= FLAG_ZLIB
    return _HEADER.pack(MAGIC, version, flags) + body


def _decode_binary(data: bytes) -> Batch:
    if len(data) < _HEADER.size:
        raise DecodeError("binary payload shorter than its header")
    _, version, flags = _HEADER.unpack_from(data)
    if version not in VERSIONS:
        raise DecodeError(f"unsupported binary version {version} (this decoder reads 1 and 2)")
    if flags & ~FLAG_ZLIB:
        raise DecodeError(f"unknown flags 0x{flags:02x}")
    body = data[_HEADER.size :]
    if flags & FLAG_ZLIB:
        inflater = zlib.decompressobj()
        body = inflater.decompress(body, MAX_BODY_BYTES)
        if inflater.unconsumed_tail:
            raise DecodeError(f"body inflates beyond {MAX_BODY_BYTES} bytes")
        if not inflater.eof:
            raise DecodeError("compressed body is truncated")
        if inflater.unused_data:
            raise DecodeError(
                f"{len(inflater.unused_data)} trailing bytes after the compressed body"
            )
    reader = _Reader(body)
    device_id = reader.text(reader.u8(), "utf-8")
    vin = reader.text(reader.u8(), "ascii")
    if version == VERSION:
        epoch = 0
        seq, base_time_ms, n_series = reader.unpack(_FIXED)
    else:
        seq, epoch, base_time_ms, n_series = reader.unpack(_FIXED_EPOCH)
    heads = [reader.unpack(_SERIES) for _ in range(n_series)]
    signals = []
    for signal_id, _ in heads:
        sig = by_id(signal_id)
        if sig is None:
            raise DecodeError(f"unknown signal id 0x{signal_id:02x}")
        signals.append(sig)
    # numpy only here: the edge agent encodes and must not load it (see wrenchlight edge).
    import numpy as np

    counts = np.array([count for _, count in heads], dtype=np.int64)
    columns = np.frombuffer(reader.take(2 * int(counts.sum()) * 8), dtype="<i8")
    if reader.remaining:
        raise DecodeError(f"{reader.remaining} trailing bytes after the last series")
    series, arrays = _columns(signals, counts, columns)
    # Offsets and values are ints and finite floats by construction.
    return Batch.decoded(device_id, seq, vin, base_time_ms, tuple(series), epoch, arrays)


# Signals with at most this many distinct counts decode through a table of their values.
MAX_TABLE = 1 << 16
# Deltas below this in magnitude cannot overflow int64 when summed (a body of at most
# MAX_BODY_BYTES holds fewer than 2^21 of them).
_SAFE_DELTA = 1 << 40


class _Tables:
    """Every value each signal's counts can stand for, as ``Signal.from_counts`` gives it, in
    one array: signal ``s``'s value for count ``c`` is ``values[start[s.id] + c]`` when
    ``c < size[s.id]``. Signals with more counts than MAX_TABLE (the odometer) have size 0."""

    def __init__(self) -> None:
        import numpy as np

        self.start = np.zeros(256, dtype=np.int64)
        self.size = np.zeros(256, dtype=np.int64)
        parts = []
        at = 0
        for sig in SIGNALS:
            size = sig.to_counts(sig.max) + 1
            if size > MAX_TABLE:
                continue
            parts.append(np.array([sig.from_counts(c) for c in range(size)]))
            self.start[sig.id], self.size[sig.id] = at, size
            at += size
        self.values = np.concatenate(parts)


_tables: _Tables | None = None


def prepare() -> None:
    """Build the value tables now (about half a second) rather than in the first decode."""
    global _tables
    if _tables is None:
        _tables = _Tables()


def _segment_sums(deltas: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Running sums of the deltas, restarting at each segment of ``counts`` elements."""
    import numpy as np

    sums = np.cumsum(deltas)
    before = np.concatenate(([0], sums))[np.cumsum(counts) - counts]
    return sums - np.repeat(before, counts)


def _columns(
    signals: list[Signal], counts: np.ndarray, data: np.ndarray
) -> tuple[list[Series], Columns | None]:
    """The series from the body's columns (per series: count time deltas, then count value
    deltas), with every value exactly ``Signal.from_counts`` of its summed counts; and the
    same samples as arrays (``Columns``), but for an empty batch.

    The whole batch goes through numpy at once, values looked up in a table: a ``round()``
    per sample and numpy calls per series were most of a worker's decoding time. Counts
    outside a signal's table (values out of range, which ingest then dead-letters) and the
    odometer take the exact slow way; so do deltas large enough to overflow int64 when summed.
    """
    import numpy as np

    n = len(signals)
    if n == 0 or (data.size and not ((data > -_SAFE_DELTA) & (data < _SAFE_DELTA)).all()):
        # Rare (an empty batch, or deltas a valid batch never has): ingest builds the arrays
        # of those it stores itself; offsets this large would not even fit them.
        return _columns_slowly(signals, counts, data), None
    prepare()
    assert _tables is not None
    is_value = np.repeat(np.tile([False, True], n), np.repeat(counts, 2))
    offset_array = _segment_sums(data[~is_value], counts)
    offsets = offset_array.tolist()
    summed = _segment_sums(data[is_value], counts)
    ids = np.array([sig.id for sig in signals])
    size = np.repeat(_tables.size[ids], counts)
    inside = (summed >= 0) & (summed < size)
    values = _tables.values[np.where(inside, summed + np.repeat(_tables.start[ids], counts), 0)]
    value_list = values.tolist()
    all_inside = bool(inside.all())
    series = []
    end = 0
    for i, sig in enumerate(signals):
        start, end = end, end + int(counts[i])
        if all_inside or inside[start:end].all():
            column = tuple(value_list[start:end])
        else:
            column = _from_counts(sig, summed[start:end].tolist())
            values[start:end] = column  # the table's stand-in was index 0
        series.append(Series(sig.name, tuple(offsets[start:end]), column))
    return series, Columns(np.repeat(ids, counts), offset_array, values)


def _columns_slowly(signals: list[Signal], counts: np.ndarray, data: np.ndarray) -> list[Series]:
    series = []
    at = 0
    for sig, count in zip(signals, counts.tolist(), strict=True):
        times, deltas = data[at : at + count].tolist(), data[at + count : at + 2 * count].tolist()
        at += 2 * count
        series.append(
            Series(sig.name, tuple(accumulate(times)), _from_counts(sig, accumulate(deltas)))
        )
    return series


def _from_counts(sig: Signal, counts: Iterable[int]) -> tuple[float, ...]:
    lo, step = sig.min, sig.resolution
    # Signal.from_counts inlined: this line runs once per sample.
    return tuple([round(lo + c * step, 6) for c in counts])


def _encode_json(batch: Batch, seq: int, epoch: int) -> bytes:
    signals = {}
    for s in batch.series:
        sig = by_name(s.signal)
        assert sig is not None
        signals[s.signal] = {
            "t": list(s.offsets_ms),
            "v": [sig.from_counts(sig.to_counts(v)) for v in s.values],
        }
    doc: dict[str, Any] = {"v": VERSION_EPOCH if epoch else VERSION, "device_id": batch.device_id}
    if epoch:
        doc["epoch"] = epoch
    doc.update(seq=seq, vin=batch.vin, base_time_ms=batch.base_time_ms, signals=signals)
    return json.dumps(doc, separators=(",", ":")).encode()


def _decode_json(data: bytes) -> Batch:
    if len(data) > MAX_BODY_BYTES:
        raise DecodeError(f"JSON payload larger than {MAX_BODY_BYTES} bytes")
    doc: Any = json.loads(data)
    if not isinstance(doc, dict):
        raise DecodeError("JSON payload must be an object")
    version = doc.get("v")
    if type(version) is not int or version not in VERSIONS:  # not True, not 1.0
        raise DecodeError("JSON field 'v' must be 1 (no epoch) or 2 (with 'epoch')")
    required = {"device_id", "seq", "vin", "base_time_ms", "signals"}
    if version == VERSION_EPOCH:
        required.add("epoch")
    elif "epoch" in doc:
        # A v1 reader ignores the field, so it would de-duplicate the batch as epoch 0.
        raise DecodeError("JSON field 'epoch' needs \"v\": 2")
    missing = required - doc.keys()
    if missing:
        raise DecodeError(f"JSON batch lacks {', '.join(sorted(missing))}")
    signals = doc["signals"]
    if not isinstance(signals, dict):
        raise DecodeError("JSON field 'signals' must be an object of {name: {t: [...], v: [...]}}")
    series = []
    for name, col in signals.items():
        if (
            not isinstance(col, dict)
            or not isinstance(col.get("t"), list)
            or not isinstance(col.get("v"), list)
        ):
            raise DecodeError(f"signal {name!r} must be an object with lists 't' and 'v'")
        series.append(Series(name, tuple(col["t"]), tuple(col["v"])))
    return Batch(
        doc["device_id"],
        doc["seq"],
        doc["vin"],
        doc["base_time_ms"],
        tuple(series),
        doc.get("epoch", 0),
    )


def _deltas(values: list[int]) -> list[int]:
    return [b - a for a, b in zip([0, *values], values, strict=False)]


def _pack(values: list[int]) -> bytes:
    arr = array("q", values)
    if _BIG_ENDIAN:
        arr.byteswap()
    return arr.tobytes()


class _Reader:
    """Bounds-checked cursor over the body."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.pos = 0

    @property
    def remaining(self) -> int:
        return len(self.body) - self.pos

    def take(self, n: int) -> bytes:
        if n < 0 or n > self.remaining:
            raise DecodeError(f"payload truncated: need {n} bytes at offset {self.pos}")
        chunk = self.body[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def u8(self) -> int:
        return self.take(1)[0]

    def text(self, n: int, encoding: str) -> str:
        return self.take(n).decode(encoding)

    def unpack(self, st: struct.Struct) -> tuple[Any, ...]:
        return st.unpack(self.take(st.size))
