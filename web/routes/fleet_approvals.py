# SPDX-License-Identifier: MIT
"""The fleet's approval policy and approvals: ``/fleet/policy`` (the cost limit under which
the fleet's orders go through by themselves) and ``/fleet/approvals`` (the orders over it,
approved or rejected with a note; the decisions of the last 30 days).

The fleet is the dashboard's (``web.routes.fleet.fleet_or_page``: a fleet manager's own, an
admin's ``?fleet_id=``, any other role a plain 403); an order of another fleet is a 404.
Each form is a POST with the session's form token, answered by a redirect (``?done=``) or by
the page saying in plain words why nothing was done.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse, Response

from web import fleet as gather
from web import fleet_approvals as approvals
from web import i18n
from web import orders as order_pages
from web.deps import ConnDep, UserDep, clock
from web.pages import Pages
from web.routes.fleet import BIGINT_MAX, FleetQuery, fleet_or_page
from web.sessions import WebUser

router = APIRouter()
Id = Annotated[int, Path(ge=1, le=BIGINT_MAX)]
Text = Annotated[str, Form(max_length=600)]
DONE = ("saved", "approved", "rejected")
STATUS_OF_REFUSAL = {"not_allowed": 403, "note_required": 422, "note_too_long": 422}


def _pages(request: Request) -> Pages:
    found: Pages = request.app.state.pages
    return found


def _suffix(asked: int | None) -> str:
    return f"?fleet_id={asked}" if asked else ""


def _redirect(request: Request, path: str, asked: int | None, done: str) -> Response:
    root = str(request.scope.get("root_path", ""))
    joiner = "&" if asked else "?"
    return RedirectResponse(f"{root}{path}{_suffix(asked)}{joiner}done={done}", status_code=303)


def _money(request: Request, user: WebUser) -> Callable[[Decimal, str | None], str]:
    """Amounts in their currency as the user's language writes them."""
    locale = i18n.babel_locale(_pages(request).language(request, user))
    return lambda amount, currency: order_pages.money(float(amount), currency, locale)


def _policy_page(
    request: Request,
    conn: ConnDep,
    user: WebUser,
    fleet_id: int,
    asked: int | None,
    *,
    form: approvals.PolicyForm | None = None,
    status: int = 200,
) -> Response:
    policy = approvals.approval.get_policy(conn, fleet_id=fleet_id)
    done = request.query_params.get("done")
    return _pages(request).render(
        request,
        "fleet_policy.html",
        status=status,
        fleet=gather.fleet(conn=conn, fleet_id=fleet_id),
        asked=asked,
        policy=policy,
        form=form or approvals.policy_form(policy),
        done=done if done in DONE else None,
        money=_money(request, user),
    )


@router.get("/fleet/policy")
def fleet_policy(
    request: Request, conn: ConnDep, user: UserDep, fleet_id: FleetQuery = None
) -> Response:
    """The fleet's approval policy: the cost limit, and a form to change it."""
    chosen = fleet_or_page(request, conn, user, fleet_id)
    if isinstance(chosen, Response):
        return chosen
    return _policy_page(request, conn, user, chosen, fleet_id)


@router.post("/fleet/policy")
def save_fleet_policy(
    request: Request,
    conn: ConnDep,
    user: UserDep,
    fleet_id: FleetQuery = None,
    limit: Text = "",
    currency: Text = "",
) -> Response:
    """Set the fleet's cost limit; refused, the form comes back with its mistakes (422)."""
    chosen = fleet_or_page(request, conn, user, fleet_id)
    if isinstance(chosen, Response):
        return chosen
    form, saved = approvals.save_policy(
        conn=conn,
        principal=user.principal,
        fleet_id=chosen,
        limit=limit,
        currency=currency,
        now=clock(),
    )
    if saved is None:
        return _policy_page(request, conn, user, chosen, fleet_id, form=form, status=422)
    return _redirect(request, "/fleet/policy", fleet_id, "saved")


def _approvals_page(
    request: Request,
    conn: ConnDep,
    user: WebUser,
    fleet_id: int,
    asked: int | None,
    *,
    refusal: order_pages.Refusal | None = None,
    status: int = 200,
) -> Response:
    now = clock()
    done = request.query_params.get("done")
    return _pages(request).render(
        request,
        "fleet_approvals.html",
        status=status,
        fleet=gather.fleet(conn=conn, fleet_id=fleet_id),
        asked=asked,
        policy=approvals.approval.get_policy(conn, fleet_id=fleet_id),
        items=approvals.orders(conn=conn, fleet_id=fleet_id, now=now),
        refusal=refusal,
        done=done if done in DONE else None,
        money=_money(request, user),
    )


@router.get("/fleet/approvals")
def fleet_approvals(
    request: Request, conn: ConnDep, user: UserDep, fleet_id: FleetQuery = None
) -> Response:
    """The fleet's orders waiting for approval, and the recent decisions."""
    chosen = fleet_or_page(request, conn, user, fleet_id)
    if isinstance(chosen, Response):
        return chosen
    return _approvals_page(request, conn, user, chosen, fleet_id)


@router.post("/fleet/approvals/{order_id}/{decision}")
def decide_approval(
    request: Request,
    conn: ConnDep,
    user: UserDep,
    order_id: Id,
    decision: Literal["approve", "reject"],
    fleet_id: FleetQuery = None,
    note: Text = "",
) -> Response:
    """Approve or reject one of the fleet's orders waiting for it, with a note."""
    chosen = fleet_or_page(request, conn, user, fleet_id)
    if isinstance(chosen, Response):
        return chosen
    try:
        approvals.decide(
            conn=conn,
            principal=user.principal,
            fleet_id=chosen,
            order_id=order_id,
            approve=decision == "approve",
            note=note,
            now=clock(),
        )
    except approvals.NotOfFleet:
        return _pages(request).render(request, "fleet_missing.html", status=404)
    except order_pages.Refusal as refusal:
        status = STATUS_OF_REFUSAL.get(refusal.why, 409)
        return _approvals_page(
            request, conn, user, chosen, fleet_id, refusal=refusal, status=status
        )
    word = "approved" if decision == "approve" else "rejected"
    return _redirect(request, "/fleet/approvals", fleet_id, word)
