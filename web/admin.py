# SPDX-License-Identifier: MIT
"""What the admin's console shows and does, through the API's own services where they exist:
shops' applications (``api.shops.onboarding``: apply, verify, reject), fleets and their
managers (``api.fleets.members``, ``api.auth.invitations``), users and their API keys
(``api.auth.users.set_disabled``, ``api.auth.keys``), the audit log (``api.audit.log``), the
ingest's dead letters and the devices' status.

Every list is a keyset page (newest or lowest id first, ``PAGE`` rows, a link to the next),
so a table of millions of rows costs one index scan a page. A step the console refuses is a
``Refused`` naming the case; the page says it in words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, TypeVar

import psycopg

from api.audit import log
from api.auth import keys, users
from api.auth.invitations import NewInvitation, invite
from api.auth.principal import Principal, ShopRole
from api.auth.schemas import EMAIL_PATTERN
from api.auth.users import UserError
from api.fleets import members
from api.fleets.schemas import FleetOut
from api.pagination import encode_cursor
from api.problems import ProblemError
from api.shops import onboarding
from db.rows import a_dict, dicts, records
from web import sessions

PAGE = 50
PREVIEW_BYTES = 160  # of a dead letter's payload shown in the list
SHOP_STATES = ("pending", "verified", "rejected", "all")
ROLES = ("owner", "shop_staff", "fleet_manager", "admin")
EMAIL_MAX = 254  # as the API's invitations and applications take it
MAX_SILENCE_H = 100_000  # hours; a larger filter asks the same as this one
T = TypeVar("T")


class Refused(Exception):
    """A console step not done; ``why`` names the case for the page."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list and the id the next one starts after (None: the last page)."""

    rows: list[T]
    next_after: int | None


def _page(rows: list[T], ids: list[int]) -> Page[T]:
    """The page of ``rows`` fetched ``PAGE + 1`` at a time."""
    return Page(rows[:PAGE], ids[PAGE - 1] if len(rows) > PAGE else None)


# --- Shops ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShopRow:
    """A shop as the console lists it: its profile, state and the people who applied."""

    shop_id: int
    name: str
    address: str | None
    phone: str | None
    city: str | None
    capabilities: list[str]
    created_at: datetime
    verified_at: datetime | None
    rejected_at: datetime | None
    rejection_reason: str | None
    contacts: list[str]

    @property
    def state(self) -> str:
        """pending, verified or rejected."""
        if self.verified_at is not None:
            return "verified"
        return "rejected" if self.rejected_at is not None else "pending"


def shops(*, conn: psycopg.Connection, state: str, after: int | None) -> Page[ShopRow]:
    """Shops in ``state`` (one of ``SHOP_STATES``) by id; applications waiting first of all."""
    rows = records(
        conn,
        ShopRow,
        "SELECT s.shop_id, s.name, s.address, s.phone, s.city, s.capabilities, s.created_at, "
        "s.verified_at, s.rejected_at, s.rejection_reason, "
        "ARRAY(SELECT u.email FROM users u WHERE u.shop_id = s.shop_id ORDER BY u.user_id) "
        "AS contacts FROM shops s "
        "WHERE (%(after)s::bigint IS NULL OR s.shop_id > %(after)s) AND CASE %(state)s "
        "WHEN 'pending' THEN s.verified_at IS NULL AND s.rejected_at IS NULL "
        "WHEN 'verified' THEN s.verified_at IS NOT NULL "
        "WHEN 'rejected' THEN s.verified_at IS NULL AND s.rejected_at IS NOT NULL "
        "ELSE true END ORDER BY s.shop_id LIMIT %(limit)s",
        {"after": after, "state": state, "limit": PAGE + 1},
    )
    return _page(rows, [r.shop_id for r in rows])


def overview(*, conn: psycopg.Connection, now: datetime) -> dict[str, int]:
    """What waits for an admin: applications, disabled users, the day's dead letters, fleets."""
    found = a_dict(
        conn,
        "SELECT (SELECT count(*) FROM shops WHERE verified_at IS NULL AND rejected_at IS NULL) "
        "AS shops, (SELECT count(*) FROM users WHERE disabled) AS disabled, "
        "(SELECT count(*) FROM dead_letters WHERE received_at > %(day)s) AS dead_letters, "
        "(SELECT count(*) FROM fleets) AS fleets",
        {"day": now - timedelta(days=1)},
    )
    return {k: int(v) for k, v in (found or {}).items()}


def verify_shop(*, conn: psycopg.Connection, admin: Principal, shop_id: int, now: datetime) -> str:
    """Verify a shop; its name."""
    try:
        return onboarding.verify(conn=conn, shop_id=shop_id, by=admin.user_id, now=now).name
    except ProblemError as exc:
        raise Refused("no_shop") from exc


def reject_shop(
    *, conn: psycopg.Connection, admin: Principal, shop_id: int, reason: str, now: datetime
) -> str:
    """Reject a shop's application with ``reason``; its name."""
    if "\x00" in reason:  # the database keeps no NUL
        raise Refused("reason")
    try:
        shop = onboarding.reject(
            conn=conn, shop_id=shop_id, by=admin.user_id, reason=reason, now=now
        )
    except ProblemError as exc:
        why = {404: "no_shop", 409: "shop_verified"}.get(exc.problem.status, "reason")
        raise Refused(why) from exc
    return shop.name


def invite_staff(
    *,
    conn: psycopg.Connection,
    admin: Principal,
    shop_id: int,
    email: str,
    now: datetime,
    shop_role: ShopRole | None = None,
) -> tuple[NewInvitation, str]:
    """Invite ``email`` into the shop's staff (``POST /auth/invitations``'s service) as
    ``shop_role`` (None: manager while the shop has none, else technician): the invitation,
    its token shown once, and the shop's name. Refused for an address that has an account
    (``taken``: accounts do not change shops here) or an unknown shop."""
    email = email.strip()
    if not re.fullmatch(EMAIL_PATTERN, email) or len(email) > EMAIL_MAX or "\x00" in email:
        raise Refused("bad_email")
    found = a_dict(conn, "SELECT name FROM shops WHERE shop_id = %s", (shop_id,))
    if found is None:
        raise Refused("no_shop")
    try:
        invited = invite(
            conn=conn,
            email=email,
            role="shop_staff",
            now=now,
            shop_id=shop_id,
            created_by=admin.user_id,
            shop_role=shop_role,
        )
    except UserError as exc:
        raise Refused("taken") from exc
    return invited, str(found["name"])


# --- Fleets -----------------------------------------------------------------------------


@dataclass(frozen=True)
class FleetRow:
    """A fleet, its size and its managers' emails."""

    fleet: FleetOut
    managers: list[str]


def fleets(*, conn: psycopg.Connection, admin: Principal, after: int | None) -> Page[FleetRow]:
    """The fleets by id, as ``GET /fleets`` lists them to an admin, with their managers."""
    cursor = encode_cursor(after) if after is not None else None
    found = members.list_page(conn=conn, principal=admin, limit=PAGE, cursor=cursor)
    ids = [f.fleet_id for f in found.items]
    managers: dict[int, list[str]] = {}
    for row in dicts(
        conn,
        "SELECT fleet_id, email FROM users WHERE role = 'fleet_manager' AND fleet_id = ANY(%s) "
        "ORDER BY user_id",
        (ids,),
    ):
        managers.setdefault(int(row["fleet_id"]), []).append(row["email"])
    rows = [FleetRow(f, managers.get(f.fleet_id, [])) for f in found.items]
    return Page(rows, ids[-1] if found.next_cursor else None)


def create_fleet(*, conn: psycopg.Connection, name: str) -> FleetOut:
    """A new fleet named ``name``."""
    name = name.strip()
    if not name or "\x00" in name:  # the database keeps no NUL
        raise Refused("fleet_name")
    return members.create_fleet(conn=conn, name=name)


def assign_manager(
    *, conn: psycopg.Connection, admin: Principal, fleet_id: int, email: str, now: datetime
) -> NewInvitation | None:
    """Make ``email`` the fleet's manager: an existing fleet manager moves to this fleet
    (None); an address with no account is invited (the invitation, its token shown once).
    Someone with another role is refused: a role change is not a fleet assignment."""
    email = email.strip()
    if not re.fullmatch(EMAIL_PATTERN, email) or len(email) > EMAIL_MAX or "\x00" in email:
        raise Refused("bad_email")
    try:
        members.get_fleet(conn=conn, fleet_id=fleet_id)
    except ProblemError as exc:
        raise Refused("no_fleet") from exc
    found = dicts(conn, "SELECT user_id, role FROM users WHERE lower(email) = lower(%s)", (email,))
    if found:
        if found[0]["role"] != "fleet_manager":
            raise Refused("other_role")
        conn.execute(
            "UPDATE users SET fleet_id = %s WHERE user_id = %s", (fleet_id, found[0]["user_id"])
        )
        return None
    try:
        return invite(
            conn=conn,
            email=email,
            role="fleet_manager",
            now=now,
            fleet_id=fleet_id,
            created_by=admin.user_id,
        )
    except UserError as exc:
        raise Refused("bad_email") from exc


def fleet_name(*, conn: psycopg.Connection, fleet_id: int) -> str | None:
    """The fleet's name (None: no such fleet)."""
    found = a_dict(conn, "SELECT name FROM fleets WHERE fleet_id = %s", (fleet_id,))
    return str(found["name"]) if found else None


# --- Users and keys ---------------------------------------------------------------------


@dataclass(frozen=True)
class UserRow:
    """A user as the console lists them."""

    user_id: int
    email: str
    name: str | None  # given when they accepted an invitation (revision 0026)
    role: str
    fleet_id: int | None
    shop_id: int | None
    disabled: bool
    created_at: datetime
    keys: int
    sessions: int


_USER = (
    "SELECT u.user_id, u.email, u.name, u.role, u.fleet_id, u.shop_id, u.disabled, u.created_at, "
    "(SELECT count(*) FROM api_keys k WHERE k.user_id = u.user_id AND k.revoked_at IS NULL) "
    "AS keys, (SELECT count(*) FROM web_sessions s WHERE s.user_id = u.user_id "
    "AND s.expires_at > %(now)s) AS sessions FROM users u "
)


def user_list(
    *,
    conn: psycopg.Connection,
    q: str | None,
    role: str | None,
    disabled: bool | None,
    after: int | None,
    now: datetime,
) -> Page[UserRow]:
    """Users by id, searched by a part of the email, filtered by role and state."""
    rows = records(
        conn,
        UserRow,
        _USER + "WHERE (%(after)s::bigint IS NULL OR u.user_id > %(after)s) "
        "AND (%(q)s::text IS NULL OR strpos(lower(u.email), lower(%(q)s)) > 0) "
        "AND (%(role)s::text IS NULL OR u.role = %(role)s) "
        "AND (%(disabled)s::boolean IS NULL OR u.disabled = %(disabled)s) "
        "ORDER BY u.user_id LIMIT %(limit)s",
        {"after": after, "q": q or None, "role": role, "disabled": disabled}
        | {"now": now, "limit": PAGE + 1},
    )
    return _page(rows, [r.user_id for r in rows])


def one_user(
    *, conn: psycopg.Connection, user_id: int, now: datetime
) -> tuple[UserRow, list[keys.KeyInfo]] | None:
    """A user and every key they have had, or None."""
    found = records(conn, UserRow, _USER + "WHERE u.user_id = %(id)s", {"id": user_id, "now": now})
    if not found:
        return None
    return found[0], keys.list_keys(conn=conn, user_id=user_id)


def set_disabled(
    *, conn: psycopg.Connection, admin: Principal, user_id: int, disabled: bool
) -> int:
    """Disable or enable a user; disabling also ends their web sessions (how many ended).

    Their tokens, keys and open event streams stop as the API stops them (``users.set_disabled``).
    An admin cannot disable themselves: the console would lock out the one using it.
    """
    if disabled and user_id == admin.user_id:
        raise Refused("self")
    with conn.transaction():
        if not users.set_disabled(conn=conn, user_id=user_id, disabled=disabled):
            raise Refused("no_user")
        return sessions.end_all(conn=conn, user_id=user_id) if disabled else 0


def revoke_key(*, conn: psycopg.Connection, key_id: int) -> keys.KeyInfo:
    """Revoke an API key (its open streams end at the hub's next tick); the key."""
    key = keys.get_key(conn=conn, key_id=key_id)
    if key is None:
        raise Refused("no_key")
    keys.revoke_key(conn=conn, key_id=key_id)
    return key


# --- Audit log --------------------------------------------------------------------------


def audit(*, conn: psycopg.Connection, filters: log.Filters, after: int | None) -> Page[log.Entry]:
    """The audit log, newest first."""
    rows = log.read_page(conn=conn, limit=PAGE, after=after, filters=filters)
    return _page(rows, [r.id for r in rows])


# --- Dead letters and devices -----------------------------------------------------------


@dataclass(frozen=True)
class DeadLetter:
    """A message ingest refused, with the start of its payload as text."""

    id: int
    received_at: datetime
    topic: str
    device_id: str | None
    reason: str
    payload_size: int
    head: bytes

    @property
    def preview(self) -> str:
        """The payload's first bytes as text: UTF-8 where it is, control and undecodable
        bytes as ``\\xNN`` (the template escapes the rest)."""
        text = self.head.decode("utf-8", errors="backslashreplace")
        shown = "".join(
            c if c.isprintable() or c == " " else f"\\x{ord(c):02x}" for c in text[:PREVIEW_BYTES]
        )
        return shown + ("…" if self.payload_size > len(self.head) else "")


def dead_letters(
    *, conn: psycopg.Connection, device: str | None, after: int | None
) -> Page[DeadLetter]:
    """Dead letters, newest first, optionally of one device (``wl/v1/<device>/...``)."""
    rows = records(
        conn,
        DeadLetter,
        "SELECT id, received_at, topic, NULLIF(split_part(topic, '/', 3), '') AS device_id, "
        "reason, payload_size, substring(payload FROM 1 FOR %(bytes)s) AS head "
        "FROM dead_letters WHERE (%(after)s::bigint IS NULL OR id < %(after)s) "
        "AND (%(device)s::text IS NULL OR split_part(topic, '/', 3) = %(device)s) "
        "ORDER BY id DESC LIMIT %(limit)s",
        {"bytes": PREVIEW_BYTES, "after": after, "device": device or None, "limit": PAGE + 1},
    )
    return _page(rows, [r.id for r in rows])


@dataclass(frozen=True)
class DeviceRow:
    """A device's status: when it was last heard of, its buffer and sequence, its car."""

    device_id: str
    online: bool | None
    firmware: str | None
    status_at: datetime | None
    last_batch_at: datetime | None
    epoch: int | None
    seq: int | None
    buffer_pending: int | None
    buffer_dropped: int | None
    vehicle_id: int | None
    vin: str | None
    owner_email: str | None
    fleet_name: str | None

    @property
    def last_seen(self) -> datetime | None:
        """The later of its last status and its last batch."""
        seen = [t for t in (self.status_at, self.last_batch_at) if t is not None]
        return max(seen) if seen else None


def devices(
    *,
    conn: psycopg.Connection,
    q: str | None,
    offline_hours: int | None,
    after: str | None,
    now: datetime,
) -> tuple[list[DeviceRow], str | None]:
    """Devices by id (a page after device ``after``), searched by a part of the id or VIN;
    ``offline_hours``: only those not heard of for that long (or never)."""
    since = now - timedelta(hours=offline_hours) if offline_hours is not None else None
    rows = records(
        conn,
        DeviceRow,
        "SELECT d.device_id, d.online, COALESCE(d.status->>'firmware', d.firmware) AS firmware, "
        "d.status_at, b.received_at AS last_batch_at, b.epoch, b.seq, "
        "CASE WHEN jsonb_typeof(d.status->'buffer_pending') = 'number' "
        "THEN (d.status->>'buffer_pending')::numeric::bigint END AS buffer_pending, "
        "CASE WHEN jsonb_typeof(d.status->'buffer_dropped') = 'number' "
        "THEN (d.status->>'buffer_dropped')::numeric::bigint END AS buffer_dropped, "
        "v.vehicle_id, v.vin, u.email AS owner_email, f.name AS fleet_name "
        "FROM devices d LEFT JOIN vehicles v ON v.vehicle_id = d.vehicle_id "
        "LEFT JOIN users u ON u.user_id = v.owner_user_id "
        "LEFT JOIN fleets f ON f.fleet_id = v.fleet_id "
        # The newest batch by the primary key (device_id, epoch, seq): one index probe a device.
        "LEFT JOIN LATERAL (SELECT received_at, epoch, seq FROM batches "
        "WHERE device_id = d.device_id ORDER BY epoch DESC, seq DESC LIMIT 1) b ON true "
        "WHERE (%(after)s::text IS NULL OR d.device_id > %(after)s) "
        "AND (%(q)s::text IS NULL OR strpos(lower(d.device_id), lower(%(q)s)) > 0 "
        "OR strpos(v.vin, upper(%(q)s)) > 0) "
        "AND (%(since)s::timestamptz IS NULL OR "
        "greatest(d.status_at, b.received_at) IS NULL OR greatest(d.status_at, b.received_at) "
        "< %(since)s) ORDER BY d.device_id LIMIT %(limit)s",
        {"after": after, "q": q or None, "since": since, "limit": PAGE + 1},
    )
    return rows[:PAGE], rows[PAGE - 1].device_id if len(rows) > PAGE else None
