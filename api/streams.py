# SPDX-License-Identifier: MIT
"""The fan-out behind ``GET /events``: one hub per API process reads the outbox for every open
stream, so a stream costs a queue, not a database connection.

The hub owns one connection of its own, outside the request pool, that LISTENs on
``wl_outbox`` (revision 0007's trigger) and wakes at least every ``TICK_S``. Each tick it
re-checks every subscriber's principal in one query (the user still enabled with the same role
and tenant, the API key unrevoked, the token unexpired) and ends the streams that fail; reads
the outbox after the slowest subscriber's cursor; and, per subscriber with candidate events,
asks once which of them it may see now, with ``api.access.events`` (the REST routes' own
predicates). Streams past ``per_caller`` for one user are refused.

Event ids come from a sequence, so they are not committed in order: a transaction holding id
10 may commit after another's 11. A cursor that moved past 11 would skip 10 for good. So the
hub only moves cursors up to what is *settled*: every id at or below it is committed or will
never be. Each read notes the highest id it saw (M) and, one read later, the snapshot's xmax
(the first transaction id not yet assigned); once a later snapshot's xmin reaches that xmax,
every transaction that could hold an id up to M has ended, and what it committed was read.
(One read later, not the same read: a sequence value is drawn a moment before the inserting
transaction may first get its id.) Above the settled point the hub remembers which ids it has
read, and so does each subscriber for what it was sent, so a late commit is delivered once and
nothing twice. A new stream starts at the settled point with what the hub already read marked
as seen: it gets every event committed after it subscribed, and at most the last tick's before.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql

from api import access
from api.auth.principal import Principal
from db.rows import records, scalar, scalars

log = logging.getLogger(__name__)

TICK_S = 0.5
BATCH = 500
QUEUE_MAX = 1000  # events a subscriber may lag behind before its stream is ended
_RECHECK = (
    "SELECT s.i FROM unnest(%s::int[], %s::bigint[], %s::bigint[], %s::text[], %s::bigint[], "
    "%s::bigint[]) AS s(i, user_id, key_id, role, fleet_id, shop_id) "
    "WHERE EXISTS (SELECT 1 FROM users u WHERE u.user_id = s.user_id AND NOT u.disabled "
    "AND u.role = s.role AND u.fleet_id IS NOT DISTINCT FROM s.fleet_id "
    "AND u.shop_id IS NOT DISTINCT FROM s.shop_id) AND (s.key_id IS NULL OR EXISTS "
    "(SELECT 1 FROM api_keys k WHERE k.key_id = s.key_id AND k.user_id = s.user_id "
    "AND k.revoked_at IS NULL))"
)


@dataclass(frozen=True, slots=True)
class _Event:
    """One outbox event as the hub reads it."""

    event_id: int
    event_type: str
    occurred_at: datetime
    payload: dict[str, Any]
    vehicle_id: int | None


@dataclass(frozen=True, slots=True)
class _Read:
    """One row of a hub read: the statement's snapshot bounds, and an event when there is one
    (a read that finds none still returns the snapshot)."""

    snap_xmin: int
    snap_xmax: int
    event_id: int | None
    event_type: str | None
    occurred_at: datetime | None
    payload: dict[str, Any] | None
    vehicle_id: int | None


# The events after a cursor, minus those the hub already read, with the snapshot they were read
# in (one statement, one snapshot: an id settled by that snapshot's xmin was visible to it).
_READ = (
    "SELECT pg_snapshot_xmin(s.snap)::text::bigint AS snap_xmin, "
    "pg_snapshot_xmax(s.snap)::text::bigint AS snap_xmax, "
    "e.event_id, e.event_type, e.occurred_at, e.payload, e.vehicle_id "
    "FROM (SELECT pg_current_snapshot() AS snap) s LEFT JOIN LATERAL ("
    "SELECT event_id, event_type, occurred_at, payload, vehicle_id FROM outbox "
    "WHERE event_id > %(low)s AND NOT event_id = ANY(%(read)s::bigint[]) "
    "ORDER BY event_id LIMIT %(limit)s) e ON true ORDER BY e.event_id"
)


def outbox_head(conn: psycopg.Connection) -> int:
    """The newest event's id (0 for none): a page rendered now streams what comes after it."""
    head = scalar(conn, "SELECT COALESCE(max(event_id), 0) FROM outbox")
    return int(head) if head is not None else 0


class TooManyStreams(Exception):
    """The caller has as many open streams as they may."""


@dataclass(eq=False)
class Subscriber:
    """One open stream: who, what it asked for, where it is, and its queue of events."""

    principal: Principal
    loop: asyncio.AbstractEventLoop
    after: int | None  # every id up to here is handled; None: from the next event on
    vehicle_id: int | None = None
    types: frozenset[str] | None = None
    expires_at: float | None = None  # a token's expiry (epoch seconds)
    queue: asyncio.Queue[tuple[int, str, dict[str, Any]] | None] = field(
        default_factory=lambda: asyncio.Queue(QUEUE_MAX)
    )
    ended: str | None = None  # why the hub ended it
    seen: set[int] = field(default_factory=set)  # ids above ``after`` already handled


class EventHub:
    """Reads the outbox once per tick for every subscriber of this process."""

    def __init__(self, conninfo: str, *, per_caller: int = 4) -> None:
        self.conninfo = conninfo
        self.per_caller = per_caller
        self._subs: list[Subscriber] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wl-api-events", daemon=True)
        # Read state, under the lock: every id up to ``_settled`` is final; ``_read`` holds the
        # ids above it already read; ``_pending`` the highest id read by a read whose snapshot
        # bound is not known yet; ``_marks`` (xmax, highest id) pairs waiting to settle.
        self._settled: int | None = None
        self._read: set[int] = set()
        self._pending: int | None = None
        self._marks: list[tuple[int, int]] = []

    def start(self, *, ready_s: float = 5.0) -> None:
        """Start reading; returns once the hub knows where the outbox stands (or after
        ``ready_s`` when the database is slow to answer: streams opened before then start at
        the hub's first read)."""
        self._thread.start()
        self._ready.wait(ready_s)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def subscribe(self, sub: Subscriber) -> Subscriber:
        """Add a stream; TooManyStreams when its user has ``per_caller`` open already."""
        with self._lock:
            mine = sum(1 for s in self._subs if s.principal.user_id == sub.principal.user_id)
            if mine >= self.per_caller:
                raise TooManyStreams
            if sub.after is None and self._settled is not None:
                sub.after, sub.seen = self._settled, set(self._read)
            self._subs.append(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        with self._lock, contextlib.suppress(ValueError):
            self._subs.remove(sub)

    def open_streams(self) -> int:
        with self._lock:
            return len(self._subs)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(
                    self.conninfo, autocommit=True, application_name="wl-api-events"
                ) as conn:
                    conn.execute("LISTEN wl_outbox")
                    with self._lock:
                        if self._settled is None:  # events before the hub are not streamed
                            self._settled = outbox_head(conn)
                    self._ready.set()
                    while not self._stop.is_set():
                        if not self._tick(conn):  # caught up: wait for news or the next tick
                            for _ in conn.notifies(timeout=TICK_S, stop_after=1):
                                pass
            except Exception:  # the hub must outlive any one failure, or every stream stalls
                log.exception("event hub: round failed; reconnecting in a second")
                self._stop.wait(1.0)

    def _tick(self, conn: psycopg.Connection) -> bool:
        """One round; True when a full batch was read (more is waiting)."""
        with self._lock:
            subs = list(self._subs)
        if subs:
            self._recheck(conn, subs)
            subs = [s for s in subs if s.ended is None]
        with self._lock:
            settled = self._settled or 0
            for s in subs:
                if s.after is None:  # opened before the hub's first read
                    s.after, s.seen = settled, set(self._read)
            low = min([settled, *(s.after or 0 for s in subs)])
            # Ids every stream has handled need no second read.
            done = [i for i in self._read if all(i <= (s.after or 0) or i in s.seen for s in subs)]
        got = records(conn, _Read, _READ, {"low": low, "read": done, "limit": BATCH})
        rows = [
            _Event(r.event_id, r.event_type, r.occurred_at, r.payload, r.vehicle_id)  # type: ignore[arg-type]
            for r in got
            if r.event_id is not None
        ]
        top = rows[-1].event_id if rows else None
        cut = len(rows) == BATCH
        for s in subs:
            self._deliver(conn, s, rows)
        with self._lock:
            self._read.update(r.event_id for r in rows if r.event_id > settled)
            if not cut:  # a cut read may have left a late commit unread: settle after the rest
                self._settle(got[0].snap_xmin)
            if self._pending is not None:  # the previous read's highest id gets this bound
                self._marks.append((got[0].snap_xmax, self._pending))
            self._pending = top
            settled = self._settled or 0
            self._read = {i for i in self._read if i > settled}
            for s in subs:
                # Up to the settled point, and no further than this read reached when it was
                # cut at BATCH: every visible id in between was read for this stream.
                reach = min(settled, top) if cut and top is not None else settled
                if reach > (s.after or 0):
                    s.after = reach
                    s.seen = {i for i in s.seen if i > reach}
        return cut

    def _settle(self, xmin: int) -> None:
        """Settle the marks whose transactions have all ended by a snapshot with this xmin
        (under the lock)."""
        while self._marks and self._marks[0][0] <= xmin:
            _, highest = self._marks.pop(0)
            if self._settled is None or highest > self._settled:
                self._settled = highest

    def _recheck(self, conn: psycopg.Connection, subs: list[Subscriber]) -> None:
        """End the streams whose key, token or user no longer authenticates as it did."""
        ps = [s.principal for s in subs]
        alive = {
            int(i)
            for i in scalars(
                conn,
                _RECHECK,
                (
                    list(range(len(ps))),
                    [p.user_id for p in ps],
                    [p.key_id for p in ps],
                    [p.role for p in ps],
                    [p.fleet_id for p in ps],
                    [p.shop_id for p in ps],
                ),
            )
        }
        now = time.time()
        for i, s in enumerate(subs):
            if i not in alive or (s.expires_at is not None and now >= s.expires_at):
                self._end(s, "revoked")

    def _deliver(self, conn: psycopg.Connection, s: Subscriber, rows: list[_Event]) -> None:
        """Queue the stream's share of ``rows`` that it has not handled yet; each is handled
        once (sent, or passed over as not its to see)."""
        after = s.after or 0
        fresh = [r for r in rows if r.event_id > after and r.event_id not in s.seen]
        s.seen.update(r.event_id for r in fresh)
        wanted = [
            r
            for r in fresh
            if (s.vehicle_id is None or r.vehicle_id == s.vehicle_id)
            and (s.types is None or r.event_type in s.types)
        ]
        if not wanted:
            return
        where, params = access.events(s.principal, "e")
        query = sql.SQL(
            "SELECT e.event_id FROM outbox e WHERE e.event_id = ANY(%(ids)s) AND {}"
        ).format(where)
        ids = [r.event_id for r in wanted]
        visible = {int(i) for i in scalars(conn, query, {**params, "ids": ids})}
        for r in wanted:
            if r.event_id in visible:
                body = {
                    "type": r.event_type,
                    "timestamp": r.occurred_at.isoformat(),
                    "data": r.payload,
                }
                s.loop.call_soon_threadsafe(self._put, s, (r.event_id, r.event_type, body))

    def _put(self, s: Subscriber, item: Any) -> None:
        """On the stream's event loop: queue one event, or end a stream that cannot keep up."""
        if s.ended is not None:
            return
        try:
            s.queue.put_nowait(item)
        except asyncio.QueueFull:
            s.ended = "too-slow"

    def _end(self, s: Subscriber, why: str) -> None:
        s.ended = why
        self.unsubscribe(s)
        with contextlib.suppress(RuntimeError):  # its loop has closed: nothing to wake
            s.loop.call_soon_threadsafe(self._wake, s)

    @staticmethod
    def _wake(s: Subscriber) -> None:
        with contextlib.suppress(asyncio.QueueFull):  # a full queue is read soon anyway
            s.queue.put_nowait(None)
