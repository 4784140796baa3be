# SPDX-License-Identifier: MIT
"""The shop's job card: a won order's pre-diagnosis and booking, checking the vehicle in,
starting work, and completing it with the report.

Shop staff only: anyone else gets the inbox's plain 403 page, as the API's shop routes refuse
them; an order that is not a job of the caller's shop is the API's 404. Each step is a form
(POST, with the session's form token) answered by a redirect back to the card (``?done=``), or
by the card saying in plain words why nothing was done. The completion form, refused, comes
back with what was typed and each mistake next to its field (422). The card's state and next
step are its ``live`` block, fetched again (``static/orders.js``) on each event of the order's
stream (``/orders/{id}/events``): a status change, or the fleet's approval or rejection.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse, Response

from api.streams import outbox_head
from web import i18n, reports
from web import jobs as gather
from web import orders as order_pages
from web.deps import ConnDep, UserDep, clock
from web.jobs import PART_FIELDS, ReportForm
from web.pages import Pages
from web.sessions import WebUser
from web.shop import is_shop_staff

router = APIRouter()
BIGINT_MAX = 2**63 - 1
Id = Annotated[int, Path(ge=1, le=BIGINT_MAX)]
DONE = ("checked_in", "started", "completed", "photos", "photo_removed")
Step = Literal["check-in", "start"]
STEPS = {"check-in": "checked_in", "start": "started"}
PARTS_MAX = 50  # part rows read from one form


def _pages(request: Request) -> Pages:
    found: Pages = request.app.state.pages
    return found


def card_or_refusal(
    request: Request,
    conn: ConnDep,
    user: WebUser,
    order_id: int,
    *,
    status: int = 200,
    form: ReportForm | None = None,
    refusal: order_pages.Refusal | None = None,
    photo_error: dict[str, object] | None = None,
    block: str | None = None,
) -> Response:
    """The job card, or the 403/404 page; ``photo_error`` names a refused upload; ``block``:
    one block of it alone (``live``, the state and next step the page fetches again)."""
    if not is_shop_staff(user.principal):
        return _pages(request).render(request, "shop_forbidden.html", status=403)
    try:
        job = gather.job(conn=conn, principal=user.principal, order_id=order_id)
    except gather.NotAJob:
        return _pages(request).render(
            request, "shop_job_missing.html", status=404, order_id=order_id
        )
    locale = i18n.babel_locale(_pages(request).language(request, user))
    done = request.query_params.get("done")
    return _pages(request).render(
        request,
        "shop_job.html",
        status=status,
        block=block,
        job=job,
        item=job.item,
        o=job.item.order,
        view=job,
        form=form or gather.blank_form(job, user.units),
        refusal=refusal,
        done=done if done in DONE else None,
        proof=reports.proof_of(conn, reports.evidence(request), user.principal, order_id),
        photo_error=photo_error,
        events_after=outbox_head(conn),
        units=user.units,
        money=lambda amount, currency: order_pages.money(amount, currency, locale),
        local_time=lambda when: order_pages.local_time(when, job.timezone, locale),
    )


@router.get("/shop/jobs/{order_id}")
def job_card(request: Request, conn: ConnDep, user: UserDep, order_id: Id) -> Response:
    """The job card: the pre-diagnosis, the booking, the step to take now, or the report;
    ``HX-Request``: its live block alone."""
    block = "live" if request.headers.get("hx-request") == "true" else None
    return card_or_refusal(request, conn, user, order_id, block=block)


def _redirect(request: Request, order_id: int, done: str) -> Response:
    root = str(request.scope.get("root_path", ""))
    return RedirectResponse(f"{root}/shop/jobs/{order_id}?done={done}", status_code=303)


def refusal_of(request: Request, conn: ConnDep, user: WebUser, order_id: int) -> Response | None:
    """The 403 or 404 page for a caller who may not act on this job, else None."""
    if not is_shop_staff(user.principal):
        return _pages(request).render(request, "shop_forbidden.html", status=403)
    try:
        gather.job(conn=conn, principal=user.principal, order_id=order_id)
    except gather.NotAJob:
        return _pages(request).render(
            request, "shop_job_missing.html", status=404, order_id=order_id
        )
    return None


Text = Annotated[str, Form()]
Column = Annotated[list[str], Form()]


@router.post("/shop/jobs/{order_id}/complete")
def complete_job(
    request: Request,
    conn: ConnDep,
    user: UserDep,
    order_id: Id,
    work_done: Text = "",
    technician: Text = "",
    cost: Text = "",
    currency: Text = "",
    labour_h: Text = "",
    pad_front_mm: Text = "",
    pad_rear_mm: Text = "",
    odometer: Text = "",
    oil_changed: Text = "",
    oil_sampled: Text = "",
    signature: Text = "",
    part: Column = [],  # noqa: B006  # FastAPI copies a form field's default
    part_number: Column = [],  # noqa: B006
    batch: Column = [],  # noqa: B006
    quantity: Column = [],  # noqa: B006
    unit: Column = [],  # noqa: B006
) -> Response:
    """Complete the job with the report; refused, the form comes back as typed with each
    mistake next to its field."""
    refused = refusal_of(request, conn, user, order_id)
    if refused is not None:
        return refused
    values = {
        "work_done": work_done,
        "technician": technician,
        "cost": cost,
        "currency": currency,
        "labour_h": labour_h,
        "pad_front_mm": pad_front_mm,
        "pad_rear_mm": pad_rear_mm,
        "odometer": odometer,
        "oil_changed": oil_changed,
        "oil_sampled": oil_sampled,
    }
    columns = dict(zip(PART_FIELDS, (part, part_number, batch, quantity, unit), strict=True))
    count = min(PARTS_MAX, max(len(c) for c in columns.values()))
    rows = [{k: (c[i] if i < len(c) else "") for k, c in columns.items()} for i in range(count)]
    form, report = gather.read_form(values, rows, user.units)
    drawn = gather.read_signature(form, signature, technician)
    if report is None or drawn is None:
        return card_or_refusal(request, conn, user, order_id, status=422, form=form)
    try:
        done = gather.complete(
            conn=conn,
            principal=user.principal,
            order_id=order_id,
            report=report,
            form=form,
            now=clock(),
            units=user.units,
            evidence=reports.evidence(request),
            signature=drawn,
        )
    except order_pages.Refusal as refusal:
        status = 403 if refusal.why == "not_allowed" else 409
        return card_or_refusal(
            request, conn, user, order_id, status=status, form=form, refusal=refusal
        )
    if not done:
        return card_or_refusal(request, conn, user, order_id, status=422, form=form)
    return _redirect(request, order_id, "completed")


@router.post("/shop/jobs/{order_id}/{step}")
def job_step(request: Request, conn: ConnDep, user: UserDep, order_id: Id, step: Step) -> Response:
    """Check the vehicle in or start work."""
    refused = refusal_of(request, conn, user, order_id)
    if refused is not None:
        return refused
    try:
        gather.step(conn=conn, principal=user.principal, order_id=order_id, name=step, now=clock())
    except order_pages.Refusal as refusal:
        status = 403 if refusal.why == "not_allowed" else 409
        return card_or_refusal(request, conn, user, order_id, status=status, refusal=refusal)
    return _redirect(request, order_id, STEPS[step])
