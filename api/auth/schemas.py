# SPDX-License-Identifier: MIT
"""Request and response models of the auth domain."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from api.auth.principal import Role


class Token(BaseModel):
    """An OAuth2 access token response (RFC 6749 §5.1)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"access_token": "eyJhbGciOi...", "token_type": "bearer", "expires_in": 900}
            ]
        }
    )

    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Seconds until the token expires")


class Me(BaseModel):
    """The authenticated caller."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"user_id": 3, "role": "fleet_manager", "fleet_id": 1, "shop_id": None, "key_id": 5}
            ]
        }
    )

    user_id: int
    role: Role
    fleet_id: int | None
    shop_id: int | None
    key_id: int | None = Field(description="The API key used, when the call used one")


class KeyCreate(BaseModel):
    """A new API key's label."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "fleet planner integration"}]}
    )

    name: str = Field("", max_length=100, description="A label to recognise the key by")


class KeyOut(BaseModel):
    """An API key as kept: never its secret."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "key_id": 5,
                    "prefix": "3f9a0c1b7d2e",
                    "name": "ci",
                    "created_at": "2026-11-21T08:00:00Z",
                    "last_used_at": "2026-11-21T09:12:00Z",
                    "revoked_at": None,
                }
            ]
        }
    )

    key_id: int
    prefix: str
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class NewKeyOut(BaseModel):
    """A key just created: ``key`` is shown this once and cannot be retrieved again."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "key_id": 5,
                    "prefix": "3f9a0c1b7d2e",
                    "name": "ci",
                    "key": "wl_3f9a0c1b7d2e_Zk1...43 characters...",
                }
            ]
        }
    )

    key_id: int
    prefix: str
    name: str
    key: str = Field(description="The secret key; send as `X-API-Key` or `Authorization: Bearer`")
