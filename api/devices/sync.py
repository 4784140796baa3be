# SPDX-License-Identifier: MIT
"""Carrying a device credential change to the broker, as the deployment's broker mode says
(``api.devices.broker.DeviceBroker``), and telling the caller and the audit log what became
of it.

- ``dynsec``: the plugin's commands run before the answer; if the broker does not confirm,
  ProblemError 503 ``broker-unavailable``, and the request's transaction (the database side
  of the change) is rolled back with it.
- ``file``: nothing reaches the broker; the outcome is ``pending`` with the operator's step,
  which the routes put in their answer and in the write's audit row.
- ``none``: nothing reaches the broker, which checks no device passwords (``unmanaged``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from fastapi import FastAPI, Request

from api.audit.log import Note
from api.devices import broker
from api.problems import ProblemError

Applied = Literal["applied", "pending", "unmanaged"]


@dataclass(frozen=True)
class Outcome:
    """What the broker knows of a change: ``applied`` (before the answer), ``pending`` (until
    an operator does ``operator_step``), or ``unmanaged`` (it checks no device passwords)."""

    broker: Applied
    operator_step: str | None = None

    def note(self) -> str:
        """The outcome in the words of an audit row."""
        if self.broker == "pending":
            return f"broker: operator step pending: {self.operator_step}"
        if self.broker == "unmanaged":
            return "broker: not told (WRENCHLIGHT_BROKER_MODE=none)"
        return "broker: applied"


def device_broker(app: FastAPI) -> broker.DeviceBroker:
    """The API application's broker mode (``create_app(broker=...)``)."""
    found: broker.DeviceBroker = app.state.device_broker
    return found


def apply(device_broker: broker.DeviceBroker, commands: list[dict[str, Any]]) -> Outcome:
    """Apply ``commands`` (``broker.issue_commands``, ``revoke_commands``) as the mode says."""
    if device_broker.mode == "file":
        return Outcome("pending", broker.OPERATOR_STEP)
    if device_broker.mode == "none" or not commands:
        return Outcome("unmanaged" if device_broker.mode == "none" else "applied")
    assert device_broker.control is not None  # DeviceBroker refuses dynsec without it
    try:
        device_broker.control.execute(commands)
    except broker.BrokerControlError as e:
        raise ProblemError(
            503,
            "broker-unavailable",
            "Broker did not apply the change",
            f"The MQTT broker did not take the credential change ({e}); nothing was changed. "
            "Try again in a minute; if it persists, the operator should check the broker.",
            {"Retry-After": "60"},
        ) from e
    return Outcome("applied")


def record(request: Request, device_id: str, outcome: Outcome) -> None:
    """Put the outcome in the audit row of the request's write (``api.audit.middleware``)."""
    request.state.audit = Note("device", device_id, outcome.note())
