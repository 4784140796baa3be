# SPDX-License-Identifier: MIT
"""Settings from ``WRENCHLIGHT_*`` environment variables and a ``.env`` file.

Built once in ``main()`` and passed down; no module reads the environment at import time.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything an operator can set; unset service URLs mean 'start embedded ones'."""

    model_config = SettingsConfigDict(env_prefix="WRENCHLIGHT_", env_file=".env", extra="ignore")

    database_url: str | None = Field(None, description="libpq URL of PostgreSQL/TimescaleDB")
    mqtt_url: str | None = Field(None, description="mqtt[s]://user:pass@host:port of the broker")
    mqtt_control_url: str | None = Field(
        None,
        description="the API's broker user (wl~api, from broker-config's api.env): set, device "
        "credential changes apply on the broker at once (dynamic-security plugin)",
    )
    data_dir: Path = Field(Path(".wrenchlight"), description="embedded services keep data here")
    api_host: str = "127.0.0.1"
    api_port: int = Field(8000, ge=0, le=65535)
    jwt_secret: SecretStr | None = Field(
        None,
        description="signs API access tokens (32+ bytes); unset: a random one per process, "
        "so tokens die with it and one API process does not accept another's",
    )
    access_token_minutes: float = Field(15.0, gt=0, le=24 * 60, description="token lifetime")
    api_rate_limit: str = Field("600/minute", description="requests per API key or user")
    api_login_rate_limit: str = Field("10/minute", description="password logins per client")
    api_rate_limit_storage: str = Field(
        "memory://", description="where rate counters live; redis://... to share them"
    )
    log_level: str = "INFO"
    oil_alert_pct: float = Field(15.0, gt=0, lt=100, description="raise an oil alert at or below")
    pad_alert_mm: float = Field(4.0, gt=0, lt=12, description="raise a brake alert at or below")
