# SPDX-License-Identifier: MIT
"""Pairing codes: an owner claims a car by proving they hold its dongle.

Each provisioned device gets a short code, printed on its label and shown by the edge agent
(the demo's simulated dongles show theirs). The owner types the car's VIN (or the device id)
and the code; the code works once. It is 10 characters of Crockford's base32 (no I, L, O or
U, so nothing reads two ways), 50 bits: with at most ``MAX_FAILURES`` wrong codes per user an
hour on top of the per-user rate limit, guessing one is hopeless. Only its argon2 hash is kept,
so a copy of the database does not hand out codes either.

A claim never moves a car between people who proved it: a car with a proven owner stays
theirs until they release it (which issues fresh codes for them to hand over with the car),
and a fleet's car stays the fleet's. Only a provisioned dongle's code proves a car (one an
owner registered themselves proves nothing), and it beats an owner's unproven registration: the
registration loses the car, its own devices are detached and their MQTT credentials revoked
(on the broker too, as its mode allows: ``api.devices.sync``), and the change is recorded.
Every attempt is recorded in ``pairing_attempts``.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg

from api.audit.log import DETAIL_MAX
from api.auth.hashing import hash_key_secret, verify_key_secret
from api.devices import broker, credentials, sync
from api.problems import ProblemError
from db.rows import records, scalar, scalars

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_CHARS = 10
MAX_FAILURES = 10
FAILURE_WINDOW = timedelta(hours=1)
# What people mistype for what they meant (Crockford's decoding rules).
_READS_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
_DUMMY_HASH = hash_key_secret("wrenchlight: no such pairing code")


def new_code() -> str:
    """A fresh code, grouped ``XXXXX-XXXXX`` for reading aloud and typing."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_CHARS))
    return f"{raw[:5]}-{raw[5:]}"


def normalize(code: str) -> str:
    """The code as stored: upper case, no separators, look-alike letters read as digits."""
    kept = "".join(c for c in code.upper() if c.isalnum())
    return kept.translate(_READS_AS)


def issue_code(*, conn: psycopg.Connection, device_id: str) -> str:
    """A new pairing code for a device, replacing any it had; shown this once."""
    code = new_code()
    conn.execute(
        "INSERT INTO device_pairing_codes (device_id, code_hash) VALUES (%s, %s) "
        "ON CONFLICT (device_id) DO UPDATE SET code_hash = EXCLUDED.code_hash, "
        "created_at = now(), used_at = NULL, used_by = NULL",
        (device_id, hash_key_secret(normalize(code))),
    )
    return code


def issue_codes(*, conn: psycopg.Connection, device_ids: Iterable[str]) -> dict[str, str]:
    """New pairing codes for several devices (the demo's dongles, a batch of labels)."""
    return {d: issue_code(conn=conn, device_id=d) for d in device_ids}


@dataclass(frozen=True, slots=True)
class _Candidate:
    """An unused pairing code of the named car or dongle, and who holds the car now."""

    device_id: str
    vehicle_id: int
    owner: int | None
    fleet: int | None
    code_hash: str
    proves: bool  # the dongle is provisioned: its code proves the car
    proven: bool  # the car's owner proved it already


@dataclass(frozen=True)
class Claimed:
    """The outcome of a good code: the car, and whether it became the caller's just now."""

    vehicle_id: int
    device_id: str
    newly_claimed: bool


def _record(
    conn: psycopg.Connection,
    user_id: int,
    vin: str | None,
    device_id: str | None,
    outcome: str,
    now: datetime,
    displaced: int | None = None,
) -> None:
    conn.execute(
        "INSERT INTO pairing_attempts (user_id, vin, device_id, outcome, at, displaced_user_id) "
        "VALUES (%s, %s, %s, %s, %s, %s)",
        (user_id, vin, device_id, outcome, now, displaced),
    )


def _refuse(conn: psycopg.Connection, problem: ProblemError) -> ProblemError:
    # The attempt's record must outlive the refusal, which rolls the request back.
    conn.commit()
    return problem


def claim(
    *,
    conn: psycopg.Connection,
    user_id: int,
    code: str,
    now: datetime,
    device_broker: broker.DeviceBroker,
    vin: str | None = None,
    device_id: str | None = None,
) -> Claimed:
    """Make the car whose dongle has ``code`` the owner ``user_id``'s.

    ProblemError 429 past ``MAX_FAILURES``, 403 for a code that matches no unused code of the
    named car or device, 409 when a fleet or a proven owner holds the car. Commits the attempt's
    record before refusing, so call it outside any open ``conn.transaction()`` block. Taking
    the car from an unproven owner revokes their devices' credentials on ``device_broker``:
    ProblemError 503, and the takeover undone, if a dynamic-security broker does not confirm.
    """
    failures = scalar(
        conn,
        "SELECT count(*) FROM pairing_attempts WHERE user_id = %s AND outcome = 'wrong_code' "
        "AND at > %s",
        (user_id, now - FAILURE_WINDOW),
    )
    if failures is not None and failures >= MAX_FAILURES:
        _record(conn, user_id, vin, device_id, "throttled", now)
        raise _refuse(
            conn,
            ProblemError(
                429,
                "too-many-pairing-attempts",
                "Too many wrong pairing codes",
                f"{MAX_FAILURES} wrong codes within {FAILURE_WINDOW}: wait an hour, then type "
                "the code from the dongle's label carefully.",
                {"Retry-After": str(int(FAILURE_WINDOW.total_seconds()))},
            ),
        )
    rows = records(
        conn,
        _Candidate,
        "SELECT d.device_id, v.vehicle_id, v.owner_user_id AS owner, v.fleet_id AS fleet, "
        "p.code_hash, d.provisioned AS proves, v.vin_proven AS proven "
        "FROM devices d JOIN vehicles v USING (vehicle_id) "
        "JOIN device_pairing_codes p USING (device_id) "
        "WHERE p.used_at IS NULL AND (d.device_id = %s OR v.vin = %s) "
        "ORDER BY d.device_id FOR UPDATE OF v, p",
        (device_id, vin),
    )
    typed = normalize(code)
    # A hash is checked even when nothing could match, so the time taken does not tell
    # whether the car has a dongle with an unused code.
    hashes = [r.code_hash for r in rows] or [_DUMMY_HASH]
    verdicts = [verify_key_secret(h, typed) for h in hashes]
    match = next((r for r, ok in zip(rows, verdicts, strict=False) if ok), None)
    if match is None:
        _record(conn, user_id, vin, device_id, "wrong_code", now)
        raise _refuse(
            conn,
            ProblemError(
                403,
                "pairing-code-invalid",
                "Pairing code does not match",
                "No unused pairing code of that car or dongle matches. Type the code printed on "
                "the dongle's label (or shown by its agent); each code works once, so after a "
                "sale ask the previous owner to release the car for a new one.",
            ),
        )
    found_device, vehicle_id = match.device_id, match.vehicle_id
    owner, fleet, proves, proven = match.owner, match.fleet, match.proves, match.proven
    if owner == user_id:
        if proves and not proven:
            _prove(conn, vehicle_id, found_device, user_id, now)
        _record(conn, user_id, vin, found_device, "already_yours", now)
        return Claimed(vehicle_id, found_device, newly_claimed=False)
    if owner is not None and fleet is None and proves and not proven:
        # The registration was a typed VIN; the code is the dongle in the car: it wins. All of
        # it or none: a broker that refuses the revocation leaves the car where it was.
        with conn.transaction():
            displace(
                conn,
                vehicle_id=vehicle_id,
                user_id=owner,
                route="/vehicles/claims",
                device_broker=device_broker,
            )
            _prove(conn, vehicle_id, found_device, user_id, now)
            _record(conn, user_id, vin, found_device, "took_over", now, displaced=owner)
        return Claimed(vehicle_id, found_device, newly_claimed=True)
    if owner is not None or fleet is not None:
        outcome = "owned" if owner is not None else "in_fleet"
        _record(conn, user_id, vin, found_device, outcome, now)
        holder = (
            "its owner. They must release it from their account (POST "
            "/vehicles/{vehicle_id}/release), which gives them a new code to hand you"
            if owner is not None
            else "a fleet. Its fleet manager must take it out of the fleet first "
            "(DELETE /fleets/{fleet_id}/vehicles/{vehicle_id})"
        )
        raise _refuse(
            conn,
            ProblemError(
                409,
                f"vehicle-{outcome.replace('_', '-')}",
                "Vehicle is held by someone else",
                f"The code is right, but the car belongs to {holder}; then claim it again.",
            ),
        )
    conn.execute(
        "UPDATE vehicles SET owner_user_id = %s, vin_proven = %s WHERE vehicle_id = %s",
        (user_id, proves, vehicle_id),
    )
    _use_code(conn, found_device, user_id, now)
    _record(conn, user_id, vin, found_device, "claimed", now)
    return Claimed(vehicle_id, found_device, newly_claimed=True)


def _use_code(conn: psycopg.Connection, device_id: str, user_id: int, now: datetime) -> None:
    conn.execute(
        "UPDATE device_pairing_codes SET used_at = %s, used_by = %s WHERE device_id = %s",
        (now, user_id, device_id),
    )


def _prove(
    conn: psycopg.Connection, vehicle_id: int, device_id: str, user_id: int, now: datetime
) -> None:
    """The car is ``user_id``'s, proven by the code of ``device_id``, which is spent."""
    conn.execute(
        "UPDATE vehicles SET owner_user_id = %s, vin_proven = true WHERE vehicle_id = %s",
        (user_id, vehicle_id),
    )
    _use_code(conn, device_id, user_id, now)


def displace(
    conn: psycopg.Connection,
    *,
    vehicle_id: int,
    user_id: int,
    route: str,
    device_broker: broker.DeviceBroker,
) -> list[str]:
    """An owner's unproven registration loses the car: their own (unprovisioned) devices are
    detached from it and their MQTT credentials revoked, in the database and on the broker
    (``sync.apply``: ProblemError 503 if a dynamic-security broker does not confirm), and an
    audit row names the owner. The detached devices' ids."""
    detached = scalars(
        conn,
        "UPDATE devices SET vehicle_id = NULL WHERE vehicle_id = %s AND NOT provisioned "
        "RETURNING device_id",
        (vehicle_id,),
    )
    detached.sort()
    commands: list[dict] = []
    for device in detached:
        credentials.revoke(conn=conn, device_id=device)
        commands += broker.revoke_commands(device)
    outcome = sync.apply(device_broker, commands)
    revoked = f"credentials revoked of {', '.join(detached)}; {outcome.note()}" if detached else ""
    record_displaced(
        conn, vehicle_id=vehicle_id, user_id=user_id, route=route, detail=revoked[:DETAIL_MAX]
    )
    return detached


def record_displaced(
    conn: psycopg.Connection, *, vehicle_id: int, user_id: int, route: str, detail: str = ""
) -> None:
    """An audit row naming an owner whose unproven registration lost the car, and how."""
    conn.execute(
        "INSERT INTO audit_log (user_id, method, route, path, status, object_type, object_id, "
        "detail) VALUES (%s, 'POST', %s, %s, 200, 'vehicle', %s, %s)",
        (user_id, route, f"unproven registration lost: {route}", str(vehicle_id), detail or None),
    )


def release(*, conn: psycopg.Connection, vehicle_id: int, user_id: int) -> dict[str, str]:
    """The owner gives up their car: it has no owner, and each of its dongles a new code,
    returned for the owner to hand over with the car. ProblemError 409 if not theirs."""
    row = conn.execute(
        "UPDATE vehicles SET owner_user_id = NULL WHERE vehicle_id = %s AND owner_user_id = %s "
        "RETURNING vehicle_id",
        (vehicle_id, user_id),
    ).fetchone()
    if row is None:
        raise ProblemError(
            409, "not-your-vehicle", "Not your vehicle", "Only the car's owner may release it."
        )
    devices = scalars(
        conn,
        "SELECT device_id FROM devices WHERE vehicle_id = %s ORDER BY device_id",
        (vehicle_id,),
    )
    return issue_codes(conn=conn, device_ids=devices)
