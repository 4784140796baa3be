# SPDX-License-Identifier: MIT
"""Request and response models of the auth domain."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from api.auth.principal import Role, ShopRole

# What the users table accepts; the address is proven by the invitation or mail, not a regex.
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+$"
# NIST SP 800-63B: at least 8 characters, no composition rules.
PASSWORD_MIN = 8


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


class InvitationCreate(BaseModel):
    """Whom to invite, into which role, fleet or shop."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"email": "dana@becker.example", "role": "fleet_manager", "fleet_id": 1}]
        },
    )

    email: str = Field(pattern=EMAIL_PATTERN, max_length=254)
    role: Role
    fleet_id: int | None = Field(None, ge=1, description="A fleet manager's fleet")
    shop_id: int | None = Field(None, ge=1, description="Shop staff's shop")
    shop_role: ShopRole | None = Field(
        None,
        description="Shop staff's role: manager (keeps the profile and staff roles) or "
        "technician; by default manager while the shop has none, else technician",
    )


class InvitationOut(BaseModel):
    """An invitation just made: hand ``token`` to the invitee; it is shown this once."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "invitation_id": 4,
                    "email": "dana@becker.example",
                    "role": "fleet_manager",
                    "fleet_id": 1,
                    "shop_id": None,
                    "expires_at": "2026-12-14T08:00:00Z",
                    "token": "q0V...43 characters...",
                    "accept_url": "https://api.example/auth/invitations/accept",
                }
            ]
        }
    )

    invitation_id: int
    email: str
    role: Role
    fleet_id: int | None
    shop_id: int | None
    shop_role: ShopRole | None = None
    expires_at: datetime
    token: str = Field(description="The one-time secret the invitee redeems")
    accept_url: str = Field(description="Where the invitee POSTs the token and a password")


class InvitationAccept(BaseModel):
    """An invitation's token and the password its invitee chooses."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"token": "q0V...", "password": "a long passphrase"}]},
    )

    token: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=PASSWORD_MIN, max_length=200)


class AccountOut(BaseModel):
    """A user just created: sign in with the email and password at /auth/token."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "user_id": 9,
                    "email": "dana@becker.example",
                    "role": "fleet_manager",
                    "fleet_id": 1,
                    "shop_id": None,
                }
            ]
        }
    )

    user_id: int
    email: str
    role: Role
    fleet_id: int | None
    shop_id: int | None
