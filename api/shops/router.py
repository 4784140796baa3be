# SPDX-License-Identifier: MIT
"""Routes of the shops domain."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.auth.principal import Principal
from api.deps import ConnDep, PrincipalDep, ShopIdDep, require_roles
from api.orders.actions import now
from api.pagination import CursorQuery, LimitQuery
from api.problems import ProblemError, problem_response
from api.shops import kpis, onboarding, profile, service
from api.shops.schemas import PendingOffer, ShopCreate, ShopOut, ShopPage, ShopSummary, SlotOut
from orders.directory import Capability
from orders.kpis import Bucket

router = APIRouter(prefix="/shops", tags=["shops"])

# A shop's inbox is for its own staff (``ShopIdDep`` shows shop staff only their shop).
ShopStaff = Annotated[Principal, Depends(require_roles("shop_staff"))]
Admin = Annotated[Principal, Depends(require_roles())]


@router.get("", response_model=ShopPage, responses=problem_response(400))
def list_shops(
    conn: ConnDep,
    principal: PrincipalDep,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
    verified: Annotated[
        bool | None,
        Query(description="Only verified (true) or waiting (false: not rejected either) shops"),
    ] = None,
    city: Annotated[str | None, Query(max_length=100)] = None,
    capability: Annotated[Capability | None, Query(description="Shops that do this")] = None,
) -> ShopPage:
    """The shops the caller may list: admins all (`verified=false`: applications waiting),
    shop staff their own, owners and fleet managers the verified directory."""
    return onboarding.list_page(
        conn=conn,
        principal=principal,
        limit=limit,
        cursor=cursor,
        verified=verified,
        city=city,
        capability=capability,
    )


@router.post("", response_model=ShopSummary, status_code=201, responses=problem_response(403))
def create_shop(body: ShopCreate, principal: Admin, conn: ConnDep) -> ShopSummary:
    """Admins: add a shop the platform vouches for (verified at once); invite its staff with
    `POST /auth/invitations`. Shops may also apply themselves: `POST /auth/shop-applications`."""
    return onboarding.create_shop(conn=conn, body=body, created_by=principal.user_id, now=now())


@router.post(
    "/{shop_id}/verify",
    response_model=ShopSummary,
    responses=problem_response(403) | problem_response(404),
)
def verify_shop(principal: Admin, shop_id: ShopIdDep, conn: ConnDep) -> ShopSummary:
    """Admins: verify a shop that applied, so it is offered orders from now on."""
    return onboarding.verify(conn=conn, shop_id=shop_id, by=principal.user_id, now=now())


@router.get("/{shop_id}", response_model=ShopOut, responses=problem_response(404))
def get_shop(conn: ConnDep, shop_id: ShopIdDep) -> ShopOut:
    """A shop with its rating, punctuality, response time and owners' recommendations."""
    return service.shop(conn=conn, shop_id=shop_id)


@router.get(
    "/{shop_id}/offers",
    response_model=list[PendingOffer],
    responses=problem_response(403) | problem_response(404),
)
def shop_offers(conn: ConnDep, principal: ShopStaff, shop_id: ShopIdDep) -> list[PendingOffer]:
    """Orders offered to the shop and awaiting its answer: vehicle, issue, evidence, job,
    parts, due date and estimate; answer with `POST /service-orders/{id}/offers/{offer_id}/…`."""
    service.shop(conn=conn, shop_id=shop_id)  # 404 for an unknown shop
    return service.pending_offers(conn=conn, shop_id=shop_id, now=now())


@router.get(
    "/{shop_id}/slots",
    response_model=list[SlotOut],
    responses=problem_response(400) | problem_response(404),
)
def shop_slots(
    conn: ConnDep,
    shop_id: ShopIdDep,
    start: Annotated[datetime | None, Query(description="Default: now")] = None,
    days: Annotated[int, Query(ge=1, le=60, description="How far ahead to look")] = 14,
    limit: LimitQuery = 100,
) -> list[SlotOut]:
    """The shop's free booking slots, earliest first."""
    start = start or now()
    if start.tzinfo is None:
        raise ProblemError(400, "naive-time", "Times need a zone", "Give start with a UTC offset.")
    return service.free_slots(
        conn=conn, shop_id=shop_id, start=start, end=start + timedelta(days=days), limit=limit
    )


@router.get(
    "/{shop_id}/kpis",
    response_model=kpis.ShopKpisOut,
    responses=problem_response(400) | problem_response(403) | problem_response(404),
)
def shop_kpis(
    conn: ConnDep,
    principal: ShopStaff,
    shop_id: ShopIdDep,
    start: Annotated[
        date | None,
        Query(
            alias="from",
            description="First day, on the shop's calendar (default: the "
            "Monday eleven weeks before `to`)",
        ),
    ] = None,
    end: Annotated[
        date | None, Query(alias="to", description="Last day, included (default: today)")
    ] = None,
    bucket: Annotated[Bucket, Query(description="One point per week or month")] = "week",
) -> kpis.ShopKpisOut:
    """The shop's KPIs over a period (at most 731 days) and per week or month: response time,
    acceptance, conversion, on-time completion, returns, surveys and NPS, revenue. Its staff
    and admins; `value` null means no data yet."""
    return kpis.shop_kpis(
        conn=conn, shop_id=shop_id, now=now(), start=start, end=end, bucket=bucket
    )


@router.put(
    "/{shop_id}/profile",
    response_model=ShopOut,
    responses=problem_response(403) | problem_response(404) | problem_response(422),
)
def update_profile(
    body: profile.ProfileUpdate, conn: ConnDep, principal: ShopStaff, shop_id: ShopIdDep
) -> ShopOut:
    """The shop's staff: replace its address, hours, bays, capabilities, brands, labour rate,
    currency and price list (the whole list: a job left out is removed). Free slots are made
    anew from the new hours and bays; booked visits keep theirs. The shop's managers only: a
    technician gets a 403."""
    profile.require_keeper(principal)
    profile.update(conn=conn, shop_id=shop_id, body=body, now=now())
    return service.shop(conn=conn, shop_id=shop_id)


@router.get(
    "/{shop_id}/staff",
    response_model=list[profile.StaffMember],
    responses=problem_response(403) | problem_response(404),
)
def shop_staff(
    conn: ConnDep, principal: ShopStaff, shop_id: ShopIdDep
) -> list[profile.StaffMember]:
    """The shop's staff accounts with their shop role (manager or technician; admins invite
    them with `POST /auth/invitations`)."""
    return profile.staff(conn=conn, shop_id=shop_id)


@router.put(
    "/{shop_id}/staff/{user_id}",
    response_model=profile.StaffMember,
    responses=problem_response(403) | problem_response(404) | problem_response(409),
)
def set_staff_role(
    user_id: int,
    body: profile.StaffRoleUpdate,
    conn: ConnDep,
    principal: ShopStaff,
    shop_id: ShopIdDep,
) -> profile.StaffMember:
    """The shop's managers: make a staff member manager or technician. Refused (409) when it
    would leave the shop without an enabled manager; technicians get a 403."""
    profile.require_keeper(principal)
    return profile.set_role(conn=conn, shop_id=shop_id, user_id=user_id, shop_role=body.shop_role)
