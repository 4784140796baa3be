# SPDX-License-Identifier: MIT
"""Choose real services from settings, or start embedded ones, for the demo and local runs.

The rule, for every command: a configured URL (``WRENCHLIGHT_DATABASE_URL``,
``WRENCHLIGHT_MQTT_URL``) wins; else the services of the demo running on the data directory
(its state file says where); else, for the database only, the data directory's embedded
PostgreSQL, started for the length of the command. Whoever starts embedded services holds the
data directory's lock (``wrenchlight.rundir``), so two processes never run them at once.
"""

from __future__ import annotations

import logging
from contextlib import ExitStack
from dataclasses import dataclass

from wrenchlight.embedded import EmbeddedBroker, EmbeddedPostgres
from wrenchlight.rundir import DataDirLock, running
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
    lock: DataDirLock | None = None


def lock_data_dir(settings: Settings, stack: ExitStack, command: str) -> DataDirLock:
    """Take the data directory for this command (DataDirBusy if another process has it)."""
    lock = DataDirLock(settings.data_dir, command).acquire()
    stack.callback(lock.release)
    return lock


def database(settings: Settings, stack: ExitStack, name: str, *, fresh: bool) -> str:
    """The configured database, or database ``name`` on an embedded server ``stack`` stops.

    The caller holds the data directory's lock when no database is configured.
    """
    if settings.database_url:
        return settings.database_url
    pg = EmbeddedPostgres(settings.data_dir / "postgres")
    pg.start()
    stack.callback(pg.stop)
    if fresh:
        pg.drop_database(name)
    log.info("embedded PostgreSQL in %s", settings.data_dir / "postgres")
    return pg.create_database(name)


def start_services(
    settings: Settings, stack: ExitStack, *, fresh: bool = True, command: str = "demo"
) -> Services:
    """Use the configured services, or start embedded ones whose shutdown ``stack`` owns.

    With an embedded database and ``fresh``, the demo database is recreated so every run starts
    from the same state; a configured database is never dropped. Embedded services are only
    started with the data directory's lock, so a running demo's database is never dropped.
    """
    lock = None
    if not (settings.database_url and settings.mqtt_url):
        lock = lock_data_dir(settings, stack, command)
    database_url = database(settings, stack, DEMO_DATABASE, fresh=fresh)
    if settings.mqtt_url:
        mqtt_url = settings.mqtt_url
    else:
        broker = EmbeddedBroker(log_path=settings.data_dir / "broker.log")
        mqtt_url = broker.start()
        # Registered before the workers' shutdown, so it runs after it: the broker goes last.
        stack.callback(broker.stop)
        log.info("embedded MQTT 5 broker (rumqttd) at %s", mqtt_url)
    if lock is not None:
        lock.update(database_url=database_url, mqtt_url=mqtt_url)
    return Services(database_url, mqtt_url, not settings.database_url, not settings.mqtt_url, lock)


def command_database(settings: Settings, stack: ExitStack, command: str) -> str:
    """The database a command works on, by the rule in this module's docstring."""
    if settings.database_url:
        return settings.database_url
    demo = running(settings.data_dir)
    if demo is not None and demo.database_url:
        log.debug("using the database of %s", demo.describe())
        return demo.database_url
    lock = lock_data_dir(settings, stack, command)
    url = database(settings, stack, DEMO_DATABASE, fresh=False)
    lock.update(database_url=url)
    return url


def command_mqtt(settings: Settings) -> str | None:
    """The configured broker, or the running demo's, or None."""
    if settings.mqtt_url:
        return settings.mqtt_url
    demo = running(settings.data_dir)
    return demo.mqtt_url if demo is not None else None
