# SPDX-License-Identifier: MIT
"""Request and response models of the devices domain."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

DEVICE_ID_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
VIN_PATTERN = r"^[A-HJ-NPR-Z0-9]{17}$"


class DeviceCreate(BaseModel):
    """A device to register on one of the caller's vehicles."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"vehicle_id": 7, "firmware": "wl-edge 0.4.1"},
                {"device_id": "dongle-7f3a", "vehicle_id": 7, "firmware": "wl-edge 0.4.1"},
            ]
        }
    )

    device_id: str | None = Field(
        None,
        pattern=DEVICE_ID_PATTERN,
        description="Its MQTT topic tree's name. Admins and fleet managers provisioning their "
        "dongles may choose it (their serial numbers); owners may not: theirs are made by the "
        "server, so nobody can take a dongle's id before it is provisioned",
    )
    # Strict: JSON's true is not vehicle 1.
    vehicle_id: int = Field(ge=1, strict=True)
    firmware: str | None = Field(None, max_length=100)


class MqttCredentials(BaseModel):
    """What a device connects to the broker with; the password is shown this once."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "device_id": "dongle-0001",
                    "username": "dongle-0001",
                    "password": "N3b0...",
                    "topic_prefix": "wl/v1/dongle-0001/",
                    "broker": "applied",
                }
            ]
        }
    )

    device_id: str
    username: str
    password: str
    topic_prefix: str = Field(description="The device may publish and subscribe only under this")
    pairing_code: str | None = Field(
        None,
        description="Set when the device is registered: print it on the dongle's label; whoever "
        "holds the dongle claims the car with it (POST /vehicles/claims), once",
    )
    broker: Literal["applied", "pending", "unmanaged"] = Field(
        "applied",
        description="applied: the broker took the change before this answer; pending: the "
        "broker runs on a password file and takes it only once an operator does "
        "operator_step (until then the old password works and the new one does not); "
        "unmanaged: this deployment's broker checks no device passwords",
    )
    operator_step: str | None = Field(
        None, description="When broker is pending: what the operator must do"
    )


class CredentialsRevoked(BaseModel):
    """A revocation the broker does not know of yet (it runs on a password file)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "device_id": "dongle-0001",
                    "broker": "pending",
                    "operator_step": "rebuild the broker's password file (...) and signal "
                    "the broker (kill -HUP <mosquitto's pid>)",
                }
            ]
        }
    )

    device_id: str
    broker: Literal["pending"]
    operator_step: str | None = Field(description="What the operator must do, and until when")


class DeviceOut(BaseModel):
    """A registered device (never its secret)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "device_id": "dongle-0001",
                    "vehicle_id": 7,
                    "firmware": "1.4.2",
                    "created_at": "2026-11-20T10:00:00Z",
                    "credentials_issued_at": "2026-11-20T10:00:00Z",
                }
            ]
        }
    )

    device_id: str
    vehicle_id: int | None
    firmware: str | None
    created_at: datetime
    credentials_issued_at: datetime | None = Field(
        description="When the active credential was made"
    )


class PairingCode(BaseModel):
    """A device's new pairing code, shown this once; earlier codes stop working."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"device_id": "dongle-0001", "pairing_code": "7KQ4M-2XD9P"}]
        }
    )

    device_id: str
    pairing_code: str = Field(description="Claim the car with it at POST /vehicles/claims")


class ClaimRequest(BaseModel):
    """The car to claim (its VIN, or its dongle's id) and the code on the dongle."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"vin": "WVWZZZ1JZXW000001", "pairing_code": "7KQ4M-2XD9P"}]
        },
    )

    vin: str | None = Field(None, pattern=VIN_PATTERN, description="The car's VIN")
    device_id: str | None = Field(
        None, pattern=DEVICE_ID_PATTERN, description="Or the dongle's id, from its label"
    )
    pairing_code: str = Field(
        min_length=1, max_length=40, description="From the dongle's label or its agent"
    )

    @model_validator(mode="after")
    def _names_the_car(self) -> ClaimRequest:
        if self.vin is None and self.device_id is None:
            raise ValueError("give the car's vin or the dongle's device_id")
        return self


class ReleaseOut(BaseModel):
    """A car released by its owner: hand the new pairing codes over with the car."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "vehicle_id": 7,
                    "pairing_codes": [{"device_id": "dongle-0001", "pairing_code": "7KQ4M-2XD9P"}],
                }
            ]
        }
    )

    vehicle_id: int
    pairing_codes: list[PairingCode]
