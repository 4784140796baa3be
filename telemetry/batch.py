# SPDX-License-Identifier: MIT
"""The batch: one device, one (epoch, sequence number), several signals sampled over a window.

The epoch names one run of a device's sequence counter: the edge agent draws a random one each
time it opens its buffer, so a deleted buffer, a re-flashed device or a restored backup that
counts from an old number again never collides with what was stored before. Epoch 0 is a
legacy batch (wire v1, no epoch): de-duplicated on (device, seq) as before.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from telemetry.errors import InvalidBatch
from telemetry.signals import by_name

if TYPE_CHECKING:  # numpy only on the cloud side: the edge agent builds batches without it
    import numpy as np

DEVICE_ID_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
# ISO 3779: 17 characters, no I, O or Q. An empty VIN means "not read yet" (EVs, odd ECUs).
VIN_RE = re.compile(r"^([A-HJ-NPR-Z0-9]{17})?$")
MAX_SEQ = 2**63 - 1
# Epochs fit PostgreSQL's bigint too; 0 means "no epoch" (a v1 batch).
MAX_EPOCH = 2**63 - 1
# Base times outside 2000-01-01 .. 2100-01-01 are a broken clock, not data.
MIN_BASE_TIME_MS = 946_684_800_000
MAX_BASE_TIME_MS = 4_102_444_800_000
# A batch spans at most one hour; agents flush far more often than that.
MAX_WINDOW_MS = 3_600_000
MAX_SAMPLES = 100_000


@dataclass(frozen=True, slots=True)
class Series:
    """Samples of one signal: offsets in ms from the batch base time, and values."""

    signal: str
    offsets_ms: tuple[int, ...]
    values: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class Columns:
    """Every sample of a batch as three aligned arrays, series after series: signal id,
    offset in ms from the base time, value (exactly the series' own). The binary decoder has
    them in numpy already; ingest's COPY builder takes them as they are instead of turning
    the series' tuples back into arrays."""

    signal_ids: np.ndarray
    offsets_ms: np.ndarray
    values: np.ndarray


@dataclass(frozen=True, slots=True)
class Batch:
    """A validated telemetry batch; construction raises InvalidBatch on any inconsistency."""

    device_id: str
    seq: int
    vin: str
    base_time_ms: int
    series: tuple[Series, ...]
    epoch: int = 0
    # The samples as arrays, where the decoder made them (``Columns``); not part of the value.
    columns: Columns | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._validate(typed=False)

    @classmethod
    def decoded(
        cls,
        device_id: str,
        seq: int,
        vin: str,
        base_time_ms: int,
        series: tuple[Series, ...],
        epoch: int = 0,
        columns: Columns | None = None,
    ) -> Batch:
        """A batch from a decoder that built every offset as an int and every value as a
        finite float itself: validated like any other, minus the per-sample type checks
        (which were most of the binary decoder's time)."""
        batch = object.__new__(cls)
        for name, value in (
            ("device_id", device_id),
            ("seq", seq),
            ("vin", vin),
            ("base_time_ms", base_time_ms),
            ("series", series),
            ("epoch", epoch),
            ("columns", columns),
        ):
            object.__setattr__(batch, name, value)
        batch._validate(typed=True)
        return batch

    def _validate(self, *, typed: bool) -> None:
        if not isinstance(self.device_id, str) or not DEVICE_ID_RE.fullmatch(self.device_id):
            raise InvalidBatch(f"device_id {self.device_id!r} is not 1-64 of [A-Za-z0-9_.-]")
        if (
            not isinstance(self.seq, int)
            or isinstance(self.seq, bool)
            or not 0 <= self.seq <= MAX_SEQ
        ):
            raise InvalidBatch(f"seq {self.seq!r} is not an integer in 0..2^63-1")
        if (
            not isinstance(self.epoch, int)
            or isinstance(self.epoch, bool)
            or not 0 <= self.epoch <= MAX_EPOCH
        ):
            raise InvalidBatch(f"epoch {self.epoch!r} is not an integer in 0..2^63-1")
        if not isinstance(self.vin, str) or not VIN_RE.fullmatch(self.vin):
            raise InvalidBatch(f"vin {self.vin!r} is not 17 characters of A-Z0-9 without I, O, Q")
        if not isinstance(self.base_time_ms, int) or not (
            MIN_BASE_TIME_MS <= self.base_time_ms <= MAX_BASE_TIME_MS
        ):
            raise InvalidBatch(f"base_time_ms {self.base_time_ms!r} is not between 2000 and 2100")
        seen: set[str] = set()
        total = 0
        for s in self.series:
            _check_series(s, typed=typed)
            if s.signal in seen:
                raise InvalidBatch(f"signal {s.signal!r} appears twice")
            seen.add(s.signal)
            total += len(s.values)
        if total > MAX_SAMPLES:
            raise InvalidBatch(f"{total} samples exceed the limit of {MAX_SAMPLES} per batch")

    @property
    def sample_count(self) -> int:
        """Number of samples over all signals."""
        return sum(len(s.values) for s in self.series)

    def samples(self) -> Iterator[tuple[int, str, float]]:
        """Every sample as (unix time ms, signal name, value)."""
        for s in self.series:
            for off, value in zip(s.offsets_ms, s.values, strict=True):
                yield self.base_time_ms + off, s.signal, value


def _check_series(s: Series, *, typed: bool = False) -> None:
    if by_name(s.signal) is None:
        raise InvalidBatch(f"unknown signal {s.signal!r}")
    if len(s.offsets_ms) != len(s.values):
        raise InvalidBatch(
            f"signal {s.signal!r}: {len(s.offsets_ms)} times but {len(s.values)} values"
        )
    offsets = s.offsets_ms
    if typed:
        # map/any run in C: rising offsets, first >= 0, last within the window.
        if offsets and (
            offsets[0] < 0
            or offsets[-1] > MAX_WINDOW_MS
            or any(map(operator.lt, offsets[1:], offsets))
        ):
            raise InvalidBatch(
                f"signal {s.signal!r}: offsets must rise within 0..{MAX_WINDOW_MS} ms"
            )
        return
    previous = 0
    for off in offsets:
        if not isinstance(off, int) or isinstance(off, bool):
            raise InvalidBatch(f"signal {s.signal!r}: offset {off!r} is not an integer")
        if off < previous or off > MAX_WINDOW_MS:
            raise InvalidBatch(
                f"signal {s.signal!r}: offsets must rise within 0..{MAX_WINDOW_MS} ms"
            )
        previous = off
    for value in s.values:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise InvalidBatch(f"signal {s.signal!r}: value {value!r} is not a finite number")
