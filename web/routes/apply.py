# SPDX-License-Identifier: MIT
"""“Register your shop”: a shop applies to join (signed in or not), through the API's own
``POST /auth/shop-applications`` service (``api.shops.onboarding.apply``) and its login rate
limit. The shop waits, pending, for an admin's verification in the console; its applicant
becomes its staff and may sign in meanwhile, but it is offered no order until it is verified.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import ValidationError

from api.audit.log import Note
from api.problems import ProblemError
from api.shops import onboarding
from api.shops.schemas import ShopApplication
from orders.directory import Capability
from web.deps import ConnDep, OptionalUserDep
from web.pages import Pages
from web.routes.auth import rate_limited

router = APIRouter()
CAPABILITIES: tuple[str, ...] = Capability.__args__  # type: ignore[attr-defined]
Field_ = Annotated[str, Form(max_length=300)]


def _pages(request: Request) -> Pages:
    found: Pages = request.app.state.pages
    return found


@router.get("/shops/apply")
def apply_page(request: Request, user: OptionalUserDep) -> Response:
    """The form."""
    return _pages(request).render(
        request, "shop_apply.html", capabilities=CAPABILITIES, form={}, errors={}
    )


@router.post("/shops/apply")
def apply(
    request: Request,
    conn: ConnDep,
    user: OptionalUserDep,
    name: Field_ = "",
    address: Field_ = "",
    city: Field_ = "",
    phone: Field_ = "",
    lat: Field_ = "",
    lon: Field_ = "",
    contact_email: Field_ = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    capabilities: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Send the application; the form again with each mistake beside its field."""
    if (refused := rate_limited(request, "shop-apply")) is not None:
        return refused
    form: dict[str, Any] = {
        "name": name,
        "address": address,
        "city": city,
        "phone": phone,
        "lat": lat,
    }
    form |= {"lon": lon, "contact_email": contact_email, "capabilities": capabilities or []}
    fields = {k: (v.strip() or None) if isinstance(v, str) else v for k, v in form.items()}
    fields["password"] = password
    # The database keeps no NUL: a field holding one is a mistake to correct like any other.
    errors = {k: "nul" for k, v in fields.items() if isinstance(v, str) and "\x00" in v}
    try:
        body = ShopApplication.model_validate({k: v for k, v in fields.items() if v is not None})
    except ValidationError as exc:
        for e in exc.errors():
            field = str(e["loc"][0]) if e["loc"] else "form"
            errors.setdefault(field if field in fields else "form", e["type"])
    if errors:
        return _pages(request).render(
            request,
            "shop_apply.html",
            status=422,
            capabilities=CAPABILITIES,
            form=form,
            errors=errors,
        )
    try:
        shop, _ = onboarding.apply(conn=conn, body=body)
    except ProblemError:  # the email has an account already
        return _pages(request).render(
            request,
            "shop_apply.html",
            status=409,
            capabilities=CAPABILITIES,
            form=form,
            errors={"contact_email": "taken"},
        )
    request.state.audit = Note("shop", str(shop.shop_id), f"shop {shop.shop_id} applied")
    return _pages(request).render(request, "shop_applied.html", shop=shop, email=body.contact_email)
