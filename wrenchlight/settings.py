# SPDX-License-Identifier: MIT
"""Settings from ``WRENCHLIGHT_*`` environment variables and a ``.env`` file.

Built once in ``main()`` and passed down; no module reads the environment at import time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from predictive.thresholds import NEW_PAD_MM, OIL_DUE_SOON_PCT, PAD_DUE_SOON_MM

# Comma-separated in the environment (``10.0.0.0/8,hooks.internal``), not JSON.
CommaList = Annotated[list[str], NoDecode]


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
    broker_mode: Literal["dynsec", "file", "none"] | None = Field(
        None,
        description="how device credential changes reach the broker: dynsec (at once, through "
        "MQTT_CONTROL_URL, without which the API refuses to start), file (an operator rebuilds "
        "the password file and signals the broker; the API's answers say so), none (the "
        "broker checks no device passwords, like the demo's embedded one); unset: dynsec when "
        "MQTT_CONTROL_URL is set, otherwise file",
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
    api_user_rate_limit: str = Field(
        "600/minute", description="requests per user, all their API keys and tokens together"
    )
    api_login_rate_limit: str = Field("10/minute", description="password logins per client")
    api_rate_limit_storage: str = Field(
        "memory://", description="where rate counters live; redis://... to share them"
    )
    webhook_allow_private: CommaList = Field(
        default_factory=list,
        description="CIDRs, addresses or host names of private webhook receivers to allow "
        "(default: webhooks reach only the public internet)",
    )
    trusted_proxies: CommaList = Field(
        default_factory=list,
        description="addresses or CIDRs of reverse proxies whose X-Forwarded-For/-Proto the "
        "API believes (default: none; the client is the connection's peer)",
    )
    smtp_url: str | None = Field(
        None,
        description="smtp://[user:pass@]host[:port] (smtps:// for TLS, smtp+starttls:// to "
        "upgrade) of the relay mail leaves through; unset: the web app offers no sign-in link",
    )
    mail_from: str = Field(
        "Wrenchlight <wrenchlight@localhost>", description="sender of the mail the app sends"
    )
    web_base_url: str | None = Field(
        None,
        description="address people reach the web app at, for links in mail (unset: "
        "http://API_HOST:API_PORT)",
    )
    storage: Literal["local", "s3"] = Field(
        "local", description="where report photos and signatures go: local disk or S3"
    )
    storage_dir: Path | None = Field(
        None, description="local storage's directory (unset: DATA_DIR/files)"
    )
    s3_endpoint_url: str | None = Field(
        None, description="S3-compatible endpoint (MinIO, Ceph, ...); unset: AWS S3"
    )
    s3_bucket: str | None = Field(None, description="bucket of report photos (storage=s3)")
    s3_access_key: str | None = None
    s3_secret_key: SecretStr | None = None
    s3_region: str = "us-east-1"
    photo_max_mb: float = Field(8.0, gt=0, le=50, description="largest photo a shop uploads")
    photo_max_count: int = Field(12, ge=1, le=50, description="photos per job, before and after")
    report_signing_key: SecretStr | None = Field(
        None,
        description="Ed25519 key signing service reports (PEM, or raw 32 bytes in base64); "
        "unset: REPORT_KEY_FILE's, created on first use",
    )
    report_key_file: Path | None = Field(
        None, description="the report signing key's file (unset: DATA_DIR/report-signing.pem)"
    )
    report_previous_keys: CommaList = Field(
        default_factory=list,
        description="public keys (raw, base64) of earlier signing keys, so the reports they "
        "signed still verify after a rotation",
    )
    log_level: str = "INFO"
    oil_alert_pct: float = Field(
        OIL_DUE_SOON_PCT, gt=0, lt=100, description="raise an oil alert at or below"
    )
    pad_alert_mm: float = Field(
        PAD_DUE_SOON_MM, gt=0, lt=NEW_PAD_MM, description="raise a brake alert at or below"
    )

    @field_validator(
        "webhook_allow_private", "trusted_proxies", "report_previous_keys", mode="before"
    )
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value
