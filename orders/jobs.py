# SPDX-License-Identifier: MIT
"""The job catalogue: what a shop should do about each kind of alert, and with which parts.

Part numbers are generic catalogue codes, not a manufacturer's: the shop maps them to the
exact part for the VIN from its own supplier. Quantities carry their unit.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Part:
    """One line of a job's parts list."""

    code: str
    description: str
    quantity: float
    unit: str


@dataclass(frozen=True)
class Job:
    """A recommended job: its code, description, the capability a shop needs, and parts."""

    job_code: str
    description: str
    capability: str
    parts: tuple[Part, ...]

    def parts_json(self) -> list[dict[str, Any]]:
        """The parts list as stored in ``service_orders.parts``."""
        return [asdict(p) for p in self.parts]


CATALOGUE: dict[str, Job] = {
    "oil_change": Job(
        "OIL-CHG",
        "Engine oil and oil filter change; reset the service indicator",
        "oil_change",
        (
            # 4.5 l covers most four-cylinder petrol engines; the shop adjusts to the VIN.
            Part("OIL-5W30-SYN", "Engine oil 5W-30 fully synthetic", 4.5, "l"),
            Part("FLT-OIL", "Oil filter", 1, "pc"),
            Part("SEAL-DRAIN", "Drain plug sealing washer", 1, "pc"),
        ),
    ),
    "brake_pads": Job(
        "BRK-PAD-F",
        "Replace front brake pads; measure discs and rear pads",
        "brake_pads",
        (
            Part("PAD-FRONT-SET", "Front brake pad set (axle)", 1, "set"),
            Part("PAD-WEAR-SENSOR", "Pad wear sensor", 1, "pc"),
            Part("BRK-CLEAN", "Brake cleaner", 0.5, "l"),
        ),
    ),
    # Asked for in a car's first oil interval (predictive.oil_analysis): any shop that changes
    # oil can draw a sample; the lab's result comes back through the API.
    "oil_sample": Job(
        "OIL-SMPL",
        "Draw an engine-oil sample for used-oil analysis and send it to the lab; no oil change",
        "oil_change",
        (Part("OIL-SAMPLE-KIT", "Oil sample kit with prepaid lab analysis", 1, "pc"),),
    ),
    "trouble_code": Job(
        "DIAG",
        "Read trouble codes, diagnose the cause and quote the repair",
        "diagnostics",
        (),
    ),
}

# The rear axle gets its own job when the rear pads are the worn ones.
REAR_PADS = Job(
    "BRK-PAD-R",
    "Replace rear brake pads; measure discs and front pads",
    "brake_pads",
    (
        Part("PAD-REAR-SET", "Rear brake pad set (axle)", 1, "set"),
        Part("BRK-CLEAN", "Brake cleaner", 0.5, "l"),
    ),
)


def job_for(kind: str, evidence: dict[str, Any] | None = None) -> Job:
    """The recommended job for an alert kind, refined by the prediction's evidence."""
    if kind == "brake_pads" and evidence:
        front, rear = evidence.get("pad_front_mm"), evidence.get("pad_rear_mm")
        if front is not None and rear is not None and rear < front:
            return REAR_PADS
    return CATALOGUE[kind]
