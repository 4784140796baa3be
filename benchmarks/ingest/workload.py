# SPDX-License-Identifier: MIT
"""The pre-generated fleet data every competitor runs on: encoded payloads and the same rows."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import numpy as np
import psycopg

from db import registry
from telemetry import Batch, Signal, by_name, encode


@dataclass
class Workload:
    """Pre-generated fleet data: encoded payloads and the same samples as columns of rows."""

    device_ids: list[str]
    vins: list[str]
    payloads: list[bytes]
    batch_device: np.ndarray  # int32, index into device_ids, per batch
    batch_seq: np.ndarray  # int64, per batch
    batch_samples: np.ndarray  # int64, per batch
    row_start: np.ndarray  # int64, first row of each batch, plus the total at the end
    time_ms: np.ndarray  # int64 unix ms, per row (one row per sample)
    row_device: np.ndarray  # int32, per row
    signal_id: np.ndarray  # int16, per row
    value: np.ndarray  # float64, as the codec delivers it (rounded to the signal's resolution)
    vehicle_ids: np.ndarray | None = None  # int64 per device, once registered

    @property
    def batches(self) -> int:
        return len(self.payloads)

    @property
    def samples(self) -> int:
        return int(self.row_start[-1])

    @property
    def payload_bytes(self) -> int:
        return sum(len(p) for p in self.payloads)

    def key(self, batch: int) -> tuple[str, int]:
        return self.device_ids[int(self.batch_device[batch])], int(self.batch_seq[batch])

    def row_vehicle(self) -> np.ndarray:
        if self.vehicle_ids is None:
            raise RuntimeError("register the workload's devices first")
        return self.vehicle_ids[self.row_device]


def quantise(values: np.ndarray, signal: Signal) -> np.ndarray:
    """Values as the binary codec delivers them: counts at the signal's resolution and back."""
    counts = np.round((values - signal.min) / signal.resolution)
    return np.asarray(np.round(signal.min + counts * signal.resolution, 6), dtype=np.float64)


class WorkloadBuilder:
    """Collects batches device by device, numbering each device's batches 0, 1, 2, … ."""

    def __init__(self) -> None:
        self._device_ids: list[str] = []
        self._vins: list[str] = []
        self._next_seq: list[int] = []
        self._payloads: list[bytes] = []
        self._batch_device: list[int] = []
        self._batch_seq: list[int] = []
        self._batch_samples: list[int] = []
        self._time: list[np.ndarray] = []
        self._device: list[np.ndarray] = []
        self._signal: list[np.ndarray] = []
        self._value: list[np.ndarray] = []

    def add_device(self, device_id: str, vin: str) -> int:
        self._device_ids.append(device_id)
        self._vins.append(vin)
        self._next_seq.append(0)
        return len(self._device_ids) - 1

    def add(self, device: int, batch: Batch) -> None:
        """Encode ``batch`` (its device must be ``device``) and keep its samples as rows."""
        if batch.device_id != self._device_ids[device]:
            raise ValueError(f"batch of {batch.device_id!r} added to {self._device_ids[device]!r}")
        seq = self._next_seq[device]
        self._next_seq[device] += 1
        self._payloads.append(encode(batch, seq=seq))
        n = 0
        for series in batch.series:
            signal = by_name(series.signal)
            assert signal is not None  # the Batch checked it
            count = len(series.values)
            self._time.append(np.asarray(series.offsets_ms, dtype=np.int64) + batch.base_time_ms)
            self._signal.append(np.full(count, signal.id, dtype=np.int16))
            self._value.append(quantise(np.asarray(series.values, dtype=np.float64), signal))
            self._device.append(np.full(count, device, dtype=np.int32))
            n += count
        self._batch_device.append(device)
        self._batch_seq.append(seq)
        self._batch_samples.append(n)

    def build(self) -> Workload:
        if not self._payloads:
            raise ValueError("the workload has no batches")
        samples = np.asarray(self._batch_samples, dtype=np.int64)
        return Workload(
            device_ids=list(self._device_ids),
            vins=list(self._vins),
            payloads=list(self._payloads),
            batch_device=np.asarray(self._batch_device, dtype=np.int32),
            batch_seq=np.asarray(self._batch_seq, dtype=np.int64),
            batch_samples=samples,
            row_start=np.concatenate([[0], np.cumsum(samples)]).astype(np.int64),
            time_ms=np.concatenate(self._time),
            row_device=np.concatenate(self._device),
            signal_id=np.concatenate(self._signal),
            value=np.concatenate(self._value),
        )


def register(conn: psycopg.Connection, workload: Workload) -> None:
    """A vehicle (with the batch VIN) and a device for every device of the workload."""
    ids = []
    for device_id, vin in zip(workload.device_ids, workload.vins, strict=True):
        vehicle_id = registry.create_vehicle(conn, vin=vin) if vin else _vehicle_without_vin(conn)
        registry.register_device(conn, device_id=device_id, vehicle_id=vehicle_id, firmware="bench")
        ids.append(vehicle_id)
    workload.vehicle_ids = np.asarray(ids, dtype=np.int64)


def _vehicle_without_vin(conn: psycopg.Connection) -> int:
    return registry.create_vehicle(conn, vin="WB" + uuid.uuid4().hex[:15].upper())
