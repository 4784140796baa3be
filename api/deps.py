# SPDX-License-Identifier: MIT
"""Dependencies shared by the routers, as ``Annotated`` aliases.

``current_principal`` authenticates every request but the public ones (a JWT access token or
an API key, as ``Authorization: Bearer`` or ``X-API-Key``). Object-level authorization lives
here, one ``valid_*`` dependency per object type (vehicle, device, order, shop, fleet, API
key), each built on the predicates of ``api.access``: a route that takes an object id takes it
through its dependency, so it cannot forget the check. An object the caller may not see is
answered exactly like a missing one (404); a role that may never do the thing gets 403 before
the object is looked at, so a 403 says nothing about whether the object exists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

import psycopg
from fastapi import Depends, Path, Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
from psycopg import sql

from api import access
from api.auth.config import AuthConfig
from api.auth.keys import looks_like_key, verify_key
from api.auth.principal import Principal, Role
from api.auth.tokens import InvalidToken, user_id_of
from api.auth.users import principal_of
from api.problems import forbidden, not_found, unauthorized
from db.rows import scalar


def get_conn(request: Request) -> Iterator[psycopg.Connection]:
    """A pooled connection while the route function runs."""
    with request.app.state.pool.connection() as conn:
        yield conn


# Back in the pool when the route function returns, before the response is sent: a slow
# client, or a stream of server-sent events, holds no connection.
ConnDep = Annotated[psycopg.Connection, Depends(get_conn, scope="function")]

bearer_scheme = OAuth2PasswordBearer(
    tokenUrl="/auth/token",
    auto_error=False,
    description="A JWT access token from /auth/token, or an API key (`wl_...`).",
)
api_key_scheme = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="An API key (`wl_...`)."
)


def current_principal(
    request: Request,
    conn: ConnDep,
    bearer: Annotated[str | None, Depends(bearer_scheme)],
    api_key: Annotated[str | None, Depends(api_key_scheme)],
) -> Principal:
    """The authenticated caller; 401 problem details without valid credentials."""
    credential = api_key or bearer
    if not credential:
        raise unauthorized("Send an access token or an API key.")
    if api_key is not None or looks_like_key(credential):
        found = verify_key(conn=conn, key=credential)
        principal = (
            None if found is None else principal_of(conn=conn, user_id=found[0], key_id=found[1])
        )
    else:
        config: AuthConfig = request.app.state.auth
        try:
            principal = principal_of(conn=conn, user_id=user_id_of(config, credential))
        except InvalidToken:
            principal = None
    if principal is None:
        raise unauthorized("The credentials are invalid, expired or revoked.")
    # The audit log reads who called from here after the response.
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def rate_limited(request: Request, principal: PrincipalDep) -> None:
    """Count the request against the caller's rate limit; 429 past it."""
    request.app.state.limiter.caller(principal)


def login_rate_limited(request: Request) -> None:
    """Count a login attempt against its client address's limit; 429 past it."""
    request.app.state.limiter.login(request.client.host if request.client else "unknown")


def require_roles(*roles: Role) -> Callable[[Principal], Principal]:
    """A dependency admitting only callers with one of ``roles`` (admins always); 403 else."""
    allowed = frozenset(roles) | {"admin"}

    def check(principal: PrincipalDep) -> Principal:
        if principal.role not in allowed:
            raise forbidden(f"The {principal.role} role may not do this.")
        return principal

    return check


def _visible(
    conn: psycopg.Connection, query: sql.SQL, predicate: access.Predicate, object_id: object
) -> bool:
    where, params = predicate
    found = scalar(conn, sql.SQL("{} AND {}").format(query, where), {"id": object_id, **params})
    return found is not None


def valid_vehicle_id(
    vehicle_id: Annotated[int, Path(ge=1, description="Vehicle id")],
    conn: ConnDep,
    principal: PrincipalDep,
) -> int:
    """The path's vehicle id, if the caller may see that vehicle."""
    query = sql.SQL("SELECT 1 FROM vehicles v WHERE v.vehicle_id = %(id)s")
    if not _visible(conn, query, access.vehicles(principal), vehicle_id):
        raise not_found("vehicle", vehicle_id)
    return vehicle_id


VehicleIdDep = Annotated[int, Depends(valid_vehicle_id)]


def valid_history_vehicle_id(
    vehicle_id: Annotated[int, Path(ge=1, description="Vehicle id")],
    conn: ConnDep,
    principal: PrincipalDep,
) -> int:
    """The path's vehicle id, if the caller may read its service history (a shop: only while
    working on the car, and only if the owner shares the history)."""
    query = sql.SQL("SELECT 1 FROM vehicles v WHERE v.vehicle_id = %(id)s")
    if not _visible(conn, query, access.vehicle_history(principal), vehicle_id):
        raise not_found("vehicle", vehicle_id)
    return vehicle_id


VehicleHistoryIdDep = Annotated[int, Depends(valid_history_vehicle_id)]

# The car's side: owners and fleet managers (admins always). Shops see a job's view of a car,
# never its telemetry history, predictions or alert history: 403 before the car is looked at.
VEHICLE_SIDE: tuple[Role, ...] = ("owner", "fleet_manager")


def valid_own_vehicle_id(
    vehicle_id: Annotated[int, Path(ge=1, description="Vehicle id")],
    conn: ConnDep,
    principal: Annotated[Principal, Depends(require_roles(*VEHICLE_SIDE))],
) -> int:
    """The path's vehicle id, if the caller is on the car's side and responsible for it."""
    return valid_vehicle_id(vehicle_id, conn, principal)


OwnVehicleIdDep = Annotated[int, Depends(valid_own_vehicle_id)]

DEVICE_ROLES: tuple[Role, ...] = ("owner", "fleet_manager")


def valid_device_id(
    device_id: Annotated[
        str, Path(pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="Device id (its MQTT tree)")
    ],
    conn: ConnDep,
    principal: Annotated[Principal, Depends(require_roles(*DEVICE_ROLES))],
) -> str:
    """The path's device id, if the caller may see the device (owners, fleet managers)."""
    query = sql.SQL("SELECT 1 FROM devices d WHERE d.device_id = %(id)s")
    if not _visible(conn, query, access.devices(principal), device_id):
        raise not_found("device", device_id)
    return device_id


DeviceIdDep = Annotated[str, Depends(valid_device_id)]


def valid_order_id(
    order_id: Annotated[int, Path(ge=1, description="Service order id")],
    conn: ConnDep,
    principal: PrincipalDep,
) -> int:
    """The path's order id, if the caller may see that order."""
    query = sql.SQL("SELECT 1 FROM service_orders o WHERE o.order_id = %(id)s")
    if not _visible(conn, query, access.orders(principal), order_id):
        raise not_found("order", order_id)
    return order_id


OrderIdDep = Annotated[int, Depends(valid_order_id)]


def valid_shop_id(
    shop_id: Annotated[int, Path(ge=1, description="Shop id")],
    conn: ConnDep,
    principal: PrincipalDep,
) -> int:
    """The path's shop id, if the caller may see that shop."""
    query = sql.SQL("SELECT 1 FROM shops s WHERE s.shop_id = %(id)s")
    if not _visible(conn, query, access.shops(principal), shop_id):
        raise not_found("shop", shop_id)
    return shop_id


ShopIdDep = Annotated[int, Depends(valid_shop_id)]


def valid_fleet_id(
    fleet_id: Annotated[int, Path(ge=1, description="Fleet id")],
    conn: ConnDep,
    principal: Annotated[Principal, Depends(require_roles("fleet_manager"))],
) -> int:
    """The path's fleet id, if the caller manages that fleet."""
    query = sql.SQL("SELECT 1 FROM fleets f WHERE f.fleet_id = %(id)s")
    if not _visible(conn, query, access.fleets(principal), fleet_id):
        raise not_found("fleet", fleet_id)
    return fleet_id


FleetIdDep = Annotated[int, Depends(valid_fleet_id)]


def valid_key_id(
    key_id: Annotated[int, Path(ge=1, description="API key id")],
    conn: ConnDep,
    principal: PrincipalDep,
) -> int:
    """The path's API key id, if it is the caller's own key (admins: any key)."""
    query = sql.SQL("SELECT 1 FROM api_keys k WHERE k.key_id = %(id)s")
    predicate = access.keys(principal)
    if not _visible(conn, query, predicate, key_id):
        raise not_found("key", key_id)
    return key_id


KeyIdDep = Annotated[int, Depends(valid_key_id)]


WEBHOOK_ROLES: tuple[Role, ...] = ("fleet_manager", "shop_staff")


def valid_subscription_id(
    subscription_id: Annotated[int, Path(ge=1, description="Webhook subscription id")],
    conn: ConnDep,
    principal: Annotated[Principal, Depends(require_roles(*WEBHOOK_ROLES))],
) -> int:
    """The path's webhook subscription, if it is the caller's fleet's or shop's."""
    query = sql.SQL("SELECT 1 FROM webhook_subscriptions w WHERE w.subscription_id = %(id)s")
    if not _visible(conn, query, access.subscriptions(principal), subscription_id):
        raise not_found("webhook", subscription_id)
    return subscription_id


SubscriptionIdDep = Annotated[int, Depends(valid_subscription_id)]
