# SPDX-License-Identifier: MIT
"""Remote configuration: the retained ``wl/v1/{device}/config`` message, validated before use.

A configuration either validates completely and replaces the running schedule, or is rejected
whole with a reason the agent reports on its status topic; a half-applied schedule is never
possible.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from edge_agent.errors import EdgeError
from telemetry.signals import by_name


class ConfigError(EdgeError):
    """A configuration message was rejected; the message says why."""


class AgentConfig(BaseModel):
    """What the cloud may change without a restart."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(ge=0, description="Increases with every change; echoed in status")
    fast: tuple[str, ...] | None = None
    slow: tuple[str, ...] | None = None
    fast_period_s: float | None = Field(None, ge=0.1, le=60)
    slow_period_s: float | None = Field(None, ge=1, le=3600)
    batch_window_s: float | None = Field(None, ge=1, le=3600)
    dtc_period_s: float | None = Field(None, ge=5, le=86_400)
    # The dashboard reading, for cars without PID 0xA6 whose odometer the agent integrates.
    odometer_km: float | None = Field(None, ge=0, le=2_000_000)

    @field_validator("fast", "slow")
    @classmethod
    def _known_signals(cls, names: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if names is not None:
            unknown = [n for n in names if by_name(n) is None]
            if unknown:
                raise ValueError(f"unknown signals {unknown}")
        return names


def parse_config(payload: bytes) -> AgentConfig:
    """Validate a configuration message or raise ConfigError with a readable reason."""
    try:
        doc: Any = json.loads(payload)
    except (ValueError, RecursionError) as exc:
        raise ConfigError(f"configuration is not JSON: {exc}") from exc
    try:
        return AgentConfig.model_validate(doc)
    except ValidationError as exc:
        reasons = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'config'}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"configuration rejected: {reasons}") from exc
