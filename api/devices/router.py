# SPDX-License-Identifier: MIT
"""Routes of the devices domain: register a device, read it, rotate or revoke its MQTT
credentials, issue its pairing code.

Every credential change goes to the broker as the app's broker mode says (``api.devices.sync``):
with Mosquitto's dynamic-security plugin (``dynsec``, docs/security.md) it is applied on the
broker before the response, inside the request's transaction, and if the broker does not take
it the database change is rolled back too (503); with a password file (``file``) the answer
and the audit row say which operator step is pending.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from psycopg import sql

from api import access
from api.auth.principal import Principal
from api.deps import DEVICE_ROLES, ConnDep, DeviceIdDep, PrincipalDep, require_roles
from api.devices import broker, credentials, pairing, sync
from api.devices.schemas import (
    CredentialsRevoked,
    DeviceCreate,
    DeviceOut,
    MqttCredentials,
    PairingCode,
)
from api.problems import ProblemError, not_found, problem_response
from db.rows import record, scalar

router = APIRouter(prefix="/devices", tags=["devices"])

DeviceRoleDep = Annotated[Principal, Depends(require_roles(*DEVICE_ROLES))]


def _apply_on_broker(request: Request, device_id: str, commands: list[dict]) -> sync.Outcome:
    outcome = sync.apply(sync.device_broker(request.app), commands)
    sync.record(request, device_id, outcome)
    return outcome


def _credentials_out(new: credentials.NewCredential, outcome: sync.Outcome) -> MqttCredentials:
    return MqttCredentials(
        device_id=new.device_id,
        username=new.username,
        password=new.password,
        topic_prefix=f"wl/v1/{new.device_id}/",
        broker=outcome.broker,
        operator_step=outcome.operator_step,
    )


@router.post(
    "",
    response_model=MqttCredentials,
    status_code=201,
    responses=problem_response(404)
    | problem_response(409)
    | problem_response(422)
    | problem_response(503),
)
def register_device(
    body: DeviceCreate, principal: DeviceRoleDep, conn: ConnDep, request: Request
) -> MqttCredentials:
    """Register a device on one of the caller's vehicles and issue its MQTT credentials.

    The id is the server's for owners (and for anyone leaving it out), the caller's choice for
    admins and fleet managers; only their devices are provisioned, i.e. have a pairing code
    that proves the car."""
    if body.device_id is not None and principal.role == "owner":
        # Otherwise anyone could take a dongle's printed id before it is provisioned.
        raise ProblemError(
            422,
            "device-id-assigned",
            "Device ids are assigned",
            "Owners' devices get their id from the server: leave device_id out and configure "
            "the agent with the id and password in the answer. A Wrenchlight dongle comes "
            "provisioned with its id and a pairing code: claim its car with POST "
            "/vehicles/claims instead.",
        )
    device_id = body.device_id or f"dev-{secrets.token_hex(8)}"
    if broker.is_reserved(device_id):
        # Its MQTT username would be a service's (finding 9 of issue 15).
        raise ProblemError(
            422,
            "device-id-reserved",
            "Device id is reserved",
            f"{device_id!r} is, or looks like, the name of a Wrenchlight service on the "
            f"broker; ids may not be {', '.join(sorted(broker.RESERVED_DEVICE_IDS))} nor start "
            f"with {', '.join(broker.RESERVED_PREFIXES)}. Use the dongle's serial number.",
        )
    where, params = access.vehicles(principal)
    visible = scalar(
        conn,
        sql.SQL("SELECT 1 FROM vehicles v WHERE v.vehicle_id = %(id)s AND {}").format(where),
        {"id": body.vehicle_id, **params},
    )
    if visible is None:
        raise not_found("vehicle", body.vehicle_id)
    # Device ids name MQTT topic trees, so they are unique across tenants.
    inserted = conn.execute(
        "INSERT INTO devices (device_id, vehicle_id, firmware, provisioned) "
        "VALUES (%s, %s, %s, %s) ON CONFLICT (device_id) DO NOTHING RETURNING device_id",
        (device_id, body.vehicle_id, body.firmware, principal.role != "owner"),
    ).fetchone()
    if inserted is None:
        raise ProblemError(
            409, "device-exists", "Device exists", f"Device id {device_id} is taken."
        )
    new = credentials.issue(conn=conn, device_id=device_id, created_by=principal.user_id)
    outcome = _apply_on_broker(
        request, device_id, broker.issue_commands(new.username, new.password)
    )
    out = _credentials_out(new, outcome)
    out.pairing_code = pairing.issue_code(conn=conn, device_id=device_id)
    return out


@router.get("/{device_id}", response_model=DeviceOut, responses=problem_response(404))
def get_device(device_id: DeviceIdDep, conn: ConnDep) -> DeviceOut:
    """One device and when its active credentials were issued."""
    device = record(
        conn,
        DeviceOut,
        "SELECT d.device_id, d.vehicle_id, d.firmware, d.created_at, "
        "c.created_at AS credentials_issued_at "
        "FROM devices d LEFT JOIN device_credentials c "
        "ON c.device_id = d.device_id AND c.revoked_at IS NULL WHERE d.device_id = %s",
        (device_id,),
    )
    if device is None:  # deleted between the check and the read
        raise not_found("device", device_id)
    return device


@router.post(
    "/{device_id}/credentials",
    response_model=MqttCredentials,
    status_code=201,
    responses=problem_response(404) | problem_response(503),
)
def rotate_credentials(
    device_id: DeviceIdDep, principal: PrincipalDep, conn: ConnDep, request: Request
) -> MqttCredentials:
    """New MQTT credentials for the device; the old ones stop working (at once, and its open
    connection is closed, when the broker runs the dynamic-security plugin; once an operator
    rebuilt the password file when it runs on one: ``broker`` is then ``pending``)."""
    new = credentials.issue(conn=conn, device_id=device_id, created_by=principal.user_id)
    outcome = _apply_on_broker(
        request, device_id, broker.issue_commands(new.username, new.password)
    )
    return _credentials_out(new, outcome)


@router.delete(
    "/{device_id}/credentials",
    status_code=204,
    responses={
        202: {
            "model": CredentialsRevoked,
            "description": "Revoked in the database; the broker (a password file) still "
            "accepts the password until an operator does `operator_step`",
        }
    }
    | problem_response(404)
    | problem_response(503),
)
def revoke_credentials(device_id: DeviceIdDep, conn: ConnDep, request: Request) -> Response:
    """Revoke the device's MQTT credentials (a lost or stolen dongle); rotate to issue new.

    204 when that is all there is to it; 202 with the operator's pending step when the broker
    runs on a password file."""
    credentials.revoke(conn=conn, device_id=device_id)
    outcome = _apply_on_broker(request, device_id, broker.revoke_commands(device_id))
    if outcome.broker == "pending":
        body = CredentialsRevoked(
            device_id=device_id, broker=outcome.broker, operator_step=outcome.operator_step
        )
        return JSONResponse(body.model_dump(), status_code=202)
    return Response(status_code=204)


@router.post(
    "/{device_id}/pairing-code",
    response_model=PairingCode,
    status_code=201,
    responses=problem_response(404),
)
def new_pairing_code(device_id: DeviceIdDep, conn: ConnDep) -> PairingCode:
    """A new pairing code for the device (a lost label, a car to hand over); the old one
    stops working."""
    return PairingCode(
        device_id=device_id, pairing_code=pairing.issue_code(conn=conn, device_id=device_id)
    )
