# SPDX-License-Identifier: MIT
"""Routes of the devices domain: register a device, read it, rotate its MQTT credentials,
issue its pairing code."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from api import access
from api.auth.principal import Principal
from api.deps import DEVICE_ROLES, ConnDep, DeviceIdDep, PrincipalDep, require_roles
from api.devices import credentials, pairing
from api.devices.schemas import DeviceCreate, DeviceOut, MqttCredentials, PairingCode
from api.problems import ProblemError, not_found, problem_response

router = APIRouter(prefix="/devices", tags=["devices"])

DeviceRoleDep = Annotated[Principal, Depends(require_roles(*DEVICE_ROLES))]


def _credentials_out(new: credentials.NewCredential) -> MqttCredentials:
    return MqttCredentials(
        device_id=new.device_id,
        username=new.username,
        password=new.password,
        topic_prefix=f"wl/v1/{new.device_id}/",
    )


@router.post(
    "",
    response_model=MqttCredentials,
    status_code=201,
    responses=problem_response(404) | problem_response(409),
)
def register_device(body: DeviceCreate, principal: DeviceRoleDep, conn: ConnDep) -> MqttCredentials:
    """Register a device on one of the caller's vehicles and issue its MQTT credentials."""
    where, params = access.vehicles(principal)
    visible = conn.execute(
        f"SELECT 1 FROM vehicles v WHERE v.vehicle_id = %(id)s AND {where}",
        {"id": body.vehicle_id, **params},
    ).fetchone()
    if visible is None:
        raise not_found("vehicle", body.vehicle_id)
    # Device ids name MQTT topic trees, so they are unique across tenants.
    inserted = conn.execute(
        "INSERT INTO devices (device_id, vehicle_id, firmware) VALUES (%s, %s, %s) "
        "ON CONFLICT (device_id) DO NOTHING RETURNING device_id",
        (body.device_id, body.vehicle_id, body.firmware),
    ).fetchone()
    if inserted is None:
        raise ProblemError(
            409, "device-exists", "Device exists", f"Device id {body.device_id} is taken."
        )
    out = _credentials_out(
        credentials.issue(conn=conn, device_id=body.device_id, created_by=principal.user_id)
    )
    out.pairing_code = pairing.issue_code(conn=conn, device_id=body.device_id)
    return out


@router.get("/{device_id}", response_model=DeviceOut, responses=problem_response(404))
def get_device(device_id: DeviceIdDep, conn: ConnDep) -> DeviceOut:
    """One device and when its active credentials were issued."""
    row = conn.execute(
        "SELECT d.device_id, d.vehicle_id, d.firmware, d.created_at, c.created_at "
        "FROM devices d LEFT JOIN device_credentials c "
        "ON c.device_id = d.device_id AND c.revoked_at IS NULL WHERE d.device_id = %s",
        (device_id,),
    ).fetchone()
    if row is None:  # deleted between the check and the read
        raise not_found("device", device_id)
    return DeviceOut(
        device_id=row[0],
        vehicle_id=row[1],
        firmware=row[2],
        created_at=row[3],
        credentials_issued_at=row[4],
    )


@router.post(
    "/{device_id}/credentials",
    response_model=MqttCredentials,
    status_code=201,
    responses=problem_response(404),
)
def rotate_credentials(
    device_id: DeviceIdDep, principal: PrincipalDep, conn: ConnDep
) -> MqttCredentials:
    """New MQTT credentials for the device; the old ones stop working."""
    return _credentials_out(
        credentials.issue(conn=conn, device_id=device_id, created_by=principal.user_id)
    )


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
