# SPDX-License-Identifier: MIT
"""The API's configuration objects, built from our settings (tokens, rate limits, webhook
destinations)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from wrenchlight.settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI

    from api.auth import AuthConfig
    from api.devices.broker import DeviceBroker
    from api.ratelimit import RateLimits
    from api.webhooks.network import WebhookConfig
    from orders.evidence import Evidence
    from web import WebConfig
    from web.notify.dispatch import NotifyConfig


def auth_config(settings: Settings) -> AuthConfig:
    """Token signing secret and lifetime."""
    from api.auth import AuthConfig

    ttl = timedelta(minutes=settings.access_token_minutes)
    if settings.jwt_secret is None:
        return AuthConfig(access_token_ttl=ttl)
    return AuthConfig(jwt_secret=settings.jwt_secret.get_secret_value(), access_token_ttl=ttl)


def rate_limits(settings: Settings) -> RateLimits:
    """Per-caller and per-login-client limits and where their counters live."""
    from api.ratelimit import RateLimits

    return RateLimits(
        per_caller=settings.api_rate_limit,
        per_user=settings.api_user_rate_limit,
        logins_per_client=settings.api_login_rate_limit,
        storage_uri=settings.api_rate_limit_storage,
    )


def webhook_config(settings: Settings) -> WebhookConfig:
    """Which private webhook receivers the operator allows (default: none)."""
    from api.webhooks.network import WebhookConfig

    return WebhookConfig(allow_private=tuple(settings.webhook_allow_private))


def device_broker(settings: Settings) -> DeviceBroker:
    """How device credential changes reach the broker (``WRENCHLIGHT_BROKER_MODE``).

    ValueError, in one line fit to show an operator, for ``dynsec`` without the control URL
    or a control URL with another mode."""
    from api.devices.broker import BrokerControl, DeviceBroker

    url = settings.mqtt_control_url
    mode = settings.broker_mode or ("dynsec" if url else "file")
    return DeviceBroker(mode, BrokerControl(url) if url else None)


def web_config(settings: Settings, *, demo_mailbox: bool = False) -> WebConfig:
    """The web app's mail and public address (and, for the demo, its mailbox page)."""
    from web import WebConfig

    # Links in mail point at the configured address, or where this server listens: never at
    # a request's Host header (web.config.WebConfig).
    base_url = settings.web_base_url or f"http://{settings.api_host}:{settings.api_port}"
    return WebConfig(
        smtp_url=settings.smtp_url,
        mail_from=settings.mail_from,
        base_url=base_url,
        demo_mailbox=demo_mailbox,
    )


def evidence_config(settings: Settings) -> Evidence:
    """Where report photos go (local disk under the data directory, or S3), the key that
    signs reports, the photos' limits, and the address verify links point at."""
    from orders.evidence import Evidence
    from orders.signing import Signer
    from orders.storage import BlobStore, LocalStore, S3Store

    store: BlobStore
    if settings.storage == "s3":
        if not settings.s3_bucket:
            raise ValueError("WRENCHLIGHT_STORAGE=s3 needs WRENCHLIGHT_S3_BUCKET")
        store = S3Store(
            bucket=settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url,
            access_key=settings.s3_access_key,
            secret_key=settings.s3_secret_key.get_secret_value()
            if settings.s3_secret_key
            else None,
            region=settings.s3_region,
        )
    else:
        store = LocalStore(settings.storage_dir or settings.data_dir / "files")
    signer = Signer(
        key_file=settings.report_key_file or settings.data_dir / "report-signing.pem",
        key_text=settings.report_signing_key.get_secret_value()
        if settings.report_signing_key
        else None,
        previous_public_keys=tuple(settings.report_previous_keys),
    )
    return Evidence(
        store=store,
        signer=signer,
        photo_max_bytes=int(settings.photo_max_mb * 1024 * 1024),
        photo_max_count=settings.photo_max_count,
        base_url=web_config(settings).base_url or "",
    )


def notify_config(settings: Settings, *, claim_s: float | None = None) -> NotifyConfig:
    """The notification dispatcher's mail relay, the app's address for links in messages, and
    the private destinations Apprise URLs may reach (the webhooks' allow-list)."""
    from web.notify.dispatch import CLAIM, NotifyConfig

    web = web_config(settings)
    return NotifyConfig(
        smtp_url=settings.smtp_url,
        base_url=web.base_url or "",
        mail_from=settings.mail_from,
        network=webhook_config(settings),
        claim=CLAIM if claim_s is None else timedelta(seconds=claim_s),
    )


def build_app(settings: Settings, database_url: str, *, demo_mailbox: bool = False) -> FastAPI:
    """The API for ``database_url`` with every setting applied: tokens, limits, webhook
    network, trusted proxies, the broker's mode for device credentials (ValueError, see
    ``device_broker``); with the web app at ``/app`` (showing the demo's mailbox when
    ``demo_mailbox``)."""
    import web
    from api.main import create_app

    app = create_app(
        database_url,
        auth=auth_config(settings),
        rate_limits=rate_limits(settings),
        webhooks=webhook_config(settings),
        trusted_proxies=tuple(settings.trusted_proxies),
        evidence=evidence_config(settings),
        broker=device_broker(settings),
    )
    return web.mount(app, web_config(settings, demo_mailbox=demo_mailbox))


def app_from_settings() -> FastAPI:
    """uvicorn's factory when it runs several worker processes, each building its own app
    (and connection pool) from the environment."""
    settings = Settings()
    if not settings.database_url:
        raise RuntimeError("WRENCHLIGHT_DATABASE_URL is not set")
    return build_app(settings, settings.database_url)
