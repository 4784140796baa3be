# SPDX-License-Identifier: MIT
"""Request and response models of the devices domain."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

DEVICE_ID_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"


class DeviceCreate(BaseModel):
    """A device to register on one of the caller's vehicles."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"device_id": "dongle-7f3a", "vehicle_id": 7, "firmware": "wl-edge 0.4.1"}]
        }
    )

    device_id: str = Field(pattern=DEVICE_ID_PATTERN, description="Its MQTT topic tree's name")
    vehicle_id: int = Field(ge=1)
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
                }
            ]
        }
    )

    device_id: str
    username: str
    password: str
    topic_prefix: str = Field(description="The device may publish and subscribe only under this")


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
