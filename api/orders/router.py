# SPDX-License-Identifier: MIT
"""Routes of the service-orders domain: listing, one order, and the steps of its lifecycle."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request

from api.auth.principal import Principal
from api.deps import ConnDep, OrderIdDep, PrincipalDep, require_roles
from api.orders import service
from api.orders.actions import (
    EITHER_SIDE,
    FLEET_SIDE,
    SHOP_SIDE,
    VEHICLE_SIDE,
    may_take,
    now,
    order_problems,
)
from api.orders.schemas import (
    ConfirmIn,
    DecisionIn,
    OrderDetail,
    OrderPage,
    OrderStatus,
    ProposeIn,
    ReasonIn,
    SlotOut,
    SurveyIn,
)
from api.pagination import CursorQuery, LimitQuery
from api.problems import ProblemError, forbidden, problem_response
from db.rows import scalar
from orders import approval, attest, feedback, offers, placement, rebook
from orders.errors import OrderNotFound
from orders.feedback import WorkReport
from orders.policy import PlacementPolicy

router = APIRouter(prefix="/service-orders", tags=["service orders"])

# Who may take each step (``actions.STEP_SIDES``; admins always may). The order itself must be
# visible to the caller (``OrderIdDep``), so a shop cannot act on another shop's order by
# changing the id.
VehicleSide = Annotated[Principal, Depends(require_roles(*VEHICLE_SIDE))]
ShopSide = Annotated[Principal, Depends(require_roles(*SHOP_SIDE))]
AnySide = Annotated[Principal, Depends(require_roles(*EITHER_SIDE))]
FleetSide = Annotated[Principal, Depends(require_roles(*FLEET_SIDE))]
V422 = problem_response(422)


@router.get("", response_model=OrderPage, responses=problem_response(400))
def list_service_orders(
    conn: ConnDep,
    principal: PrincipalDep,
    status: OrderStatus | None = None,
    vehicle_id: Annotated[int | None, Query(ge=1)] = None,
    shop_id: Annotated[int | None, Query(ge=1)] = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> OrderPage:
    """The caller's service orders, newest first, with their shop, issue, evidence and job."""
    return service.list_page(
        conn=conn,
        principal=principal,
        status=status,
        vehicle_id=vehicle_id,
        shop_id=shop_id,
        limit=limit,
        cursor=cursor,
    )


OfferIdPath = Annotated[int, Path(ge=1, description="Offer id")]
CONFLICTS = problem_response(403) | problem_response(404) | problem_response(409)


def _detail(conn: ConnDep, principal: Principal, order_id: int) -> OrderDetail:
    with order_problems():
        return service.detail(conn=conn, order_id=order_id, principal=principal)


@router.get("/{order_id}", response_model=OrderDetail, responses=problem_response(404))
def get_service_order(conn: ConnDep, principal: PrincipalDep, order_id: OrderIdDep) -> OrderDetail:
    """One order with its ranked shops and score breakdown, offers and history; shop staff get
    their own entry, price, offers and steps only, never another shop's."""
    return _detail(conn, principal, order_id)


@router.get("/{order_id}/slots", response_model=list[SlotOut], responses=problem_response(404))
def order_slots(conn: ConnDep, principal: AnySide, order_id: OrderIdDep) -> list[SlotOut]:
    """Free slots of the order's shop in its booking window, for the owner to pick from."""
    with order_problems():
        slots = placement.free_slots(conn=conn, order_id=order_id, now=now())
    return [SlotOut(slot_id=s.slot_id, starts_at=s.starts_at, ends_at=s.ends_at) for s in slots]


@router.post("/{order_id}/propose", response_model=OrderDetail, responses=CONFLICTS)
def propose_order(
    conn: ConnDep, principal: VehicleSide, order_id: OrderIdDep, body: ProposeIn
) -> OrderDetail:
    """Rank shops for the order; with consent `auto_book`, dispatch it at once."""
    policy = PlacementPolicy(mode=body.mode, k=body.k)
    with order_problems():
        placement.propose(
            conn=conn, order_id=order_id, now=now(), policy=policy, consent=body.consent
        )
    return _detail(conn, principal, order_id)


@router.post("/{order_id}/confirm", response_model=OrderDetail, responses=CONFLICTS)
def confirm_order(
    conn: ConnDep, principal: VehicleSide, order_id: OrderIdDep, body: ConfirmIn
) -> OrderDetail:
    """The owner accepts the proposal, optionally choosing another proposed shop."""
    with order_problems():
        placement.owner_confirm(
            conn=conn, order_id=order_id, now=now(), policy=PlacementPolicy(), shop_id=body.shop_id
        )
    return _detail(conn, principal, order_id)


@router.post(
    "/{order_id}/offers/{offer_id}/{answer}", response_model=OrderDetail, responses=CONFLICTS
)
def answer_offer(
    conn: ConnDep,
    principal: ShopSide,
    order_id: OrderIdDep,
    offer_id: OfferIdPath,
    answer: Literal["accept", "decline"],
    body: ReasonIn | None = None,
) -> OrderDetail:
    """The shop accepts or declines its offer; the first acceptance wins the order."""
    with order_problems():
        # Only the shop the offer went to may answer it.
        theirs = scalar(
            conn,
            "SELECT 1 FROM service_offers WHERE offer_id = %s AND order_id = %s "
            "AND (%s OR shop_id = %s)",
            (offer_id, order_id, principal.is_admin, principal.shop_id),
        )
        if theirs is None:
            raise OrderNotFound(f"order {order_id} has no offer {offer_id}")
        offers.respond(
            conn=conn,
            offer_id=offer_id,
            accept=answer == "accept",
            now=now(),
            policy=PlacementPolicy(),
            reason=body.reason if body else "",
        )
    return _detail(conn, principal, order_id)


@router.post("/{order_id}/complete", response_model=OrderDetail, responses=CONFLICTS)
def complete_order(
    request: Request, conn: ConnDep, principal: ShopSide, order_id: OrderIdDep, report: WorkReport
) -> OrderDetail:
    """The shop's report: work, parts, cost, measured pads, oil change with odometer; signed
    by the platform (its PDF at ``/service-orders/{id}/report.pdf``)."""
    with order_problems():
        attest.complete_signed(
            conn=conn,
            evidence=request.app.state.evidence,
            order_id=order_id,
            now=now(),
            report=report,
            actor=principal.subject,
        )
    return _detail(conn, principal, order_id)


@router.post("/{order_id}/survey", response_model=OrderDetail, responses=CONFLICTS)
def answer_survey(
    conn: ConnDep, principal: VehicleSide, order_id: OrderIdDep, body: SurveyIn
) -> OrderDetail:
    """The owner's 0-10 recommendation of the shop, open from a day after completion."""
    with order_problems():
        feedback.answer_survey(conn=conn, order_id=order_id, score=body.score, now=now())
    return _detail(conn, principal, order_id)


@router.post("/{order_id}/rebook", response_model=OrderDetail, status_code=201, responses=CONFLICTS)
def rebook_order(conn: ConnDep, principal: VehicleSide, order_id: OrderIdDep) -> OrderDetail:
    """A new order for the still-open alert of a cancelled, declined or expired order; 409
    while the order stands or when its alert is resolved. The new order is proposed afresh."""
    with order_problems():
        new = rebook.rebook(conn=conn, order_id=order_id, now=now(), actor=principal.subject)
    return _detail(conn, principal, new)


def _decide(
    conn: ConnDep, principal: Principal, order_id: int, approve: bool, body: DecisionIn | None
) -> OrderDetail:
    with order_problems():
        try:
            approval.decide(
                conn,
                order_id=order_id,
                approve=approve,
                actor=principal.subject,
                note=body.note if body else "",
                now=now(),
            )
        except ValueError as exc:
            raise ProblemError(422, "note-required", "A note is needed", str(exc)) from exc
    return _detail(conn, principal, order_id)


@router.post("/{order_id}/approve", response_model=OrderDetail, responses=CONFLICTS)
def approve_order(
    conn: ConnDep, principal: FleetSide, order_id: OrderIdDep, body: DecisionIn | None = None
) -> OrderDetail:
    """The fleet's manager approves an order waiting for the fleet (its estimate over the
    fleet's limit), with an optional note; 409 when the order does not wait."""
    return _decide(conn, principal, order_id, True, body)


@router.post("/{order_id}/reject", response_model=OrderDetail, responses=CONFLICTS | V422)
def reject_order(
    conn: ConnDep, principal: FleetSide, order_id: OrderIdDep, body: DecisionIn | None = None
) -> OrderDetail:
    """The fleet's manager rejects an order waiting for the fleet, saying why (422 without a
    note). The shop sees the decision and its note and may not check the car in."""
    return _decide(conn, principal, order_id, False, body)


Step = Literal["schedule", "reschedule", "check-in", "start", "cancel"]


def _step_role(step: Step, principal: AnySide) -> Principal:
    """Who may take this step: checking in and starting work are the shop's, cancelling is the
    vehicle's side's, booking or moving a slot either's; 403 before the order is looked at."""
    if not may_take(principal, step):
        raise forbidden(f"The {principal.role} role may not {step} an order.")
    return principal


# Declared last: a path matching this pattern with another step would stop here with a 422.
@router.post("/{order_id}/{step}", response_model=OrderDetail, responses=CONFLICTS)
def visit_step(
    conn: ConnDep,
    principal: Annotated[Principal, Depends(_step_role)],
    order_id: OrderIdDep,
    step: Step,
    body: ReasonIn | None = None,
) -> OrderDetail:
    """A slot is booked or moved to another (either side), the shop checks the vehicle in and
    starts work; the vehicle's side may cancel."""
    actor = principal.subject
    reason = body.reason if body else ""
    with order_problems():
        slot_id = body.slot_id if body else None
        if step == "schedule":
            placement.schedule(
                conn=conn, order_id=order_id, now=now(), actor=actor, slot_id=slot_id
            )
        elif step == "reschedule":
            placement.reschedule(
                conn=conn, order_id=order_id, now=now(), actor=actor, slot_id=slot_id, reason=reason
            )
        elif step == "check-in":
            feedback.check_in(conn=conn, order_id=order_id, now=now(), actor=actor)
        elif step == "start":
            feedback.start_service(conn=conn, order_id=order_id, now=now(), actor=actor)
        else:
            placement.cancel(conn=conn, order_id=order_id, now=now(), actor=actor, reason=reason)
    return _detail(conn, principal, order_id)
