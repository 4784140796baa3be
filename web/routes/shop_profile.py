# SPDX-License-Identifier: MIT
"""The shop's profile: address, hours, bays, capabilities, brands, labour rate, price list,
currency, and its staff.

Shop staff only, and only their own shop (the address names none): anyone else gets the
inbox's plain 403 page. Saving is a form (POST with the session's form token) answered by a
redirect back to the page (``?done=saved``); with a mistake the form comes back as typed, each
mistake next to its field (422). The staff are listed with their shop role; a manager changes
a colleague's role (``POST /shop/profile/staff/{user_id}``, ``?done=role``), never leaving the
shop without a manager (409, said in words). Technicians see the form read-only, and a save
or role change they send anyway is refused (403) with the page saying why. Accounts are
invited by the platform's admins (``POST /auth/invitations``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from api.auth.principal import SHOP_ROLES
from api.problems import ProblemError
from api.shops import profile as service
from orders.directory import DAYS
from web import i18n
from web import orders as order_pages
from web import profile as gather
from web.deps import ConnDep, UserDep, clock
from web.pages import Pages
from web.sessions import WebUser
from web.shop import is_shop_staff

router = APIRouter()
Text = Annotated[str, Form(max_length=1000)]
Column = Annotated[list[str], Form()]


def _pages(request: Request) -> Pages:
    found: Pages = request.app.state.pages
    return found


def _page(
    request: Request,
    conn: ConnDep,
    user: WebUser,
    *,
    status: int = 200,
    form: gather.ProfileForm | None = None,
    refusal: str | None = None,
) -> Response:
    assert user.principal.shop_id is not None
    found = gather.profile(conn=conn, shop_id=user.principal.shop_id)
    locale = i18n.babel_locale(_pages(request).language(request, user))
    done = request.query_params.get("done")
    return _pages(request).render(
        request,
        "shop_profile.html",
        status=status,
        profile=found,
        form=form or gather.form_of(found.shop),
        days=DAYS,
        capabilities=gather.CAPABILITIES,
        jobs=gather.JOBS,
        done=done if done in ("saved", "role") and form is None and refusal is None else None,
        can_edit=user.principal.keeps_shop,
        refusal=refusal,
        shop_roles=SHOP_ROLES,
        money=lambda amount, currency: order_pages.money(amount, currency, locale),
    )


@router.get("/shop/profile")
def shop_profile(request: Request, conn: ConnDep, user: UserDep) -> Response:
    """The shop's profile and staff."""
    if not is_shop_staff(user.principal):
        return _pages(request).render(request, "shop_forbidden.html", status=403)
    return _page(request, conn, user)


def _refused_unless_manager(request: Request, conn: ConnDep, user: WebUser) -> Response | None:
    """The page a change gets when its sender does not keep the shop's profile: another role's
    plain refusal, or the profile read-only for a technician; None for a manager."""
    if not is_shop_staff(user.principal):
        return _pages(request).render(request, "shop_forbidden.html", status=403)
    if not user.principal.keeps_shop:
        return _page(request, conn, user, status=403, refusal="technician")
    return None


@router.post("/shop/profile")
def save_profile(
    request: Request,
    conn: ConnDep,
    user: UserDep,
    address: Text = "",
    phone: Text = "",
    city: Text = "",
    hours_mon: Text = "",
    hours_tue: Text = "",
    hours_wed: Text = "",
    hours_thu: Text = "",
    hours_fri: Text = "",
    hours_sat: Text = "",
    hours_sun: Text = "",
    bays: Text = "",
    brands: Text = "",
    labour_rate: Text = "",
    currency: Text = "",
    capability: Column = [],  # noqa: B006  # FastAPI copies a form field's default
    price_job: Column = [],  # noqa: B006
    price_amount: Column = [],  # noqa: B006
) -> Response:
    """Save the profile; with a mistake, the form as typed with each mistake by its field."""
    refused = _refused_unless_manager(request, conn, user)
    if refused is not None:
        return refused
    assert user.principal.shop_id is not None
    values = {
        "address": address,
        "phone": phone,
        "city": city,
        "hours_mon": hours_mon,
        "hours_tue": hours_tue,
        "hours_wed": hours_wed,
        "hours_thu": hours_thu,
        "hours_fri": hours_fri,
        "hours_sat": hours_sat,
        "hours_sun": hours_sun,
        "bays": bays,
        "brands": brands,
        "labour_rate": labour_rate,
        "currency": currency,
    }
    form, update = gather.read_form(values, capability, price_job, price_amount)
    if update is None:
        return _page(request, conn, user, status=422, form=form)
    service.update(conn=conn, shop_id=user.principal.shop_id, body=update, now=clock())
    root = str(request.scope.get("root_path", ""))
    return RedirectResponse(f"{root}/shop/profile?done=saved", status_code=303)


@router.post("/shop/profile/staff/{user_id}")
def change_role(
    request: Request,
    conn: ConnDep,
    user: UserDep,
    user_id: int,
    shop_role: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """A manager gives a colleague another shop role; the page says why when refused."""
    refused = _refused_unless_manager(request, conn, user)
    if refused is not None:
        return refused
    assert user.principal.shop_id is not None
    if shop_role not in SHOP_ROLES:
        return _page(request, conn, user, status=422, refusal="shop_role")
    try:
        service.set_role(
            conn=conn,
            shop_id=user.principal.shop_id,
            user_id=user_id,
            shop_role="manager" if shop_role == "manager" else "technician",
        )
    except ProblemError as problem:
        status = problem.problem.status
        why = "last_manager" if status == 409 else "not_staff"
        return _page(request, conn, user, status=status, refusal=why)
    root = str(request.scope.get("root_path", ""))
    return RedirectResponse(f"{root}/shop/profile?done=role", status_code=303)
