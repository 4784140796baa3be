# SPDX-License-Identifier: MIT
"""The ingest pipeline: an ordered list of small handlers, assembled here and nowhere else.

Every handler takes the connection and the messages still in play. Validation handlers reject
a message with a reason (it goes to ``dead_letters``); ``deduplicate`` drops a batch already
stored; the rest write. A whole call runs in one transaction, so a batch's readings, its row
in ``batches``, the vehicle state and the notification commit together or not at all.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Protocol

import psycopg

from ingest import checks, events, store
from ingest.message import Item, Message, Outcome
from telemetry import codec

log = logging.getLogger(__name__)


class Handler(Protocol):
    """One step of the pipeline."""

    def __call__(self, *, conn: psycopg.Connection, items: list[Item]) -> None: ...


HANDLERS: tuple[Handler, ...] = (
    checks.parse_topic,
    checks.decode_payload,
    checks.match_device,
    checks.check_vin,
    checks.check_values,
    checks.check_times,
    store.deduplicate,
    store.write_readings,
    store.queue_rollups,
    store.update_state,
    events.trouble_codes,
    events.trips,
    events.device_status,
    store.notify,
)

# Errors the database raises because of what a message contains (a value it cannot store, a
# vehicle deleted meanwhile). Anything else — a lost connection, a deadlock — is the
# database's trouble, not the message's, and propagates so the caller retries.
MESSAGE_ERRORS: tuple[type[psycopg.Error], ...] = (psycopg.DataError, psycopg.IntegrityError)


def process_message(
    conn: psycopg.Connection, *, topic: str, payload: bytes, received_at: datetime
) -> Outcome:
    """Store, skip (duplicate) or dead-letter one message in one transaction."""
    return process_messages(conn, messages=[Message(topic, payload, received_at)])[0]


def process_messages(conn: psycopg.Connection, *, messages: Sequence[Message]) -> list[Outcome]:
    """Process many messages in one transaction; a bad one is dead-lettered, not fatal.

    Raises only database errors that are not the messages' fault; then nothing was written.
    """
    if not messages:
        return []
    items = [Item(m) for m in messages]
    try:
        with conn.transaction():
            _run(conn, items, HANDLERS)
    except Exception as exc:
        if isinstance(exc, psycopg.Error) and not isinstance(exc, MESSAGE_ERRORS):
            raise
        if not isinstance(exc, psycopg.Error):
            # A bug of ours that some input triggers: keep the message for replay after the
            # fix rather than crash the worker or block its queue.
            log.exception("pipeline failed on a flush of %d messages", len(messages))
        if len(messages) == 1:
            return [_dead_letter_alone(conn, messages[0], exc)]
        # The set-based writes cannot say which message the database refused; one at a time
        # finds it, and costs only on this rare path.
        log.warning(
            "database refused a flush of %d messages (%s); retrying one by one", len(messages), exc
        )
        return [out for m in messages for out in process_messages(conn, messages=[m])]
    return [item.outcome() for item in items]


def _run(conn: psycopg.Connection, items: list[Item], handlers: Sequence[Handler]) -> None:
    for handler in handlers:
        live = [item for item in items if item.status == "pending"]
        if not live:
            break
        handler(conn=conn, items=live)
    store.write_dead_letters(
        conn=conn,
        rejected=[(i.message, i.reason or "") for i in items if i.status == "dead_letter"],
    )


def _dead_letter_alone(conn: psycopg.Connection, message: Message, exc: Exception) -> Outcome:
    source = "database refused" if isinstance(exc, psycopg.Error) else "internal error"
    reason = f"{source}: {type(exc).__name__}: {exc}".strip()
    with conn.transaction():
        store.write_dead_letters(conn=conn, rejected=[(message, reason)])
    return Outcome(status="dead_letter", reason=reason)


def prepare(conn: psycopg.Connection) -> None:
    """Start-up upkeep: the signal catalogue and, on plain PostgreSQL, readings partitions;
    and the decoder's value tables, built before the first message rather than during it."""
    codec.prepare()
    store.sync_signals(conn=conn)
    try:
        made = store.ensure_partitions(conn=conn, now=datetime.now(UTC))
    except psycopg.Error as exc:
        # Readings still land in the default partition; worth a warning, not a refusal to run.
        log.warning("could not create readings partitions: %s", exc)
    else:
        if made:
            log.info("created %d readings partitions", made)


__all__ = [
    "HANDLERS",
    "Handler",
    "Message",
    "Outcome",
    "prepare",
    "process_message",
    "process_messages",
]
