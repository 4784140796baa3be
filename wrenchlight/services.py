# SPDX-License-Identifier: MIT
"""Choose real services from settings, or start embedded ones, for the demo and local runs."""

from __future__ import annotations

import logging
from contextlib import ExitStack
from dataclasses import dataclass

from wrenchlight.embedded import EmbeddedBroker, EmbeddedPostgres
from wrenchlight.settings import Settings

log = logging.getLogger(__name__)
DEMO_DATABASE = "wrenchlight_demo"


@dataclass(frozen=True)
class Services:
    """Where the database and the broker are, and whether we started them."""

    database_url: str
    mqtt_url: str
    embedded_database: bool
    embedded_broker: bool


def database(settings: Settings, stack: ExitStack, name: str, *, fresh: bool) -> str:
    """The configured database, or database ``name`` on an embedded server ``stack`` stops."""
    if settings.database_url:
        return settings.database_url
    pg = EmbeddedPostgres(settings.data_dir / "postgres")
    pg.start()
    stack.callback(pg.stop)
    if fresh:
        pg.drop_database(name)
    log.info("embedded PostgreSQL in %s", settings.data_dir / "postgres")
    return pg.create_database(name)


def start_services(settings: Settings, stack: ExitStack, *, fresh: bool = True) -> Services:
    """Use the configured services, or start embedded ones whose shutdown ``stack`` owns.

    With an embedded database and ``fresh``, the demo database is recreated so every run starts
    from the same state; a configured database is never dropped.
    """
    database_url = database(settings, stack, DEMO_DATABASE, fresh=fresh)
    if settings.mqtt_url:
        mqtt_url = settings.mqtt_url
    else:
        broker = EmbeddedBroker()
        mqtt_url = broker.start()
        stack.callback(broker.stop)
        log.info("embedded MQTT 5 broker (rumqttd) at %s", mqtt_url)
    return Services(database_url, mqtt_url, not settings.database_url, not settings.mqtt_url)
