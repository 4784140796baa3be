# SPDX-License-Identifier: MIT
"""Adding a car: the owner types the pairing code from the dongle's label and the car is
theirs, through the service ``POST /vehicles/claims`` uses (``api.devices.pairing.claim``),
with its access rule (owners only) and its rate limit (the login budget, per user, shared
with the API, so a code cannot be guessed faster by switching between the two).

The API names the car by its VIN or its dongle's id; the form asks for either in one field,
since both are on the label: text shaped like a VIN is tried as the VIN and as a dongle id
(the service matches either), anything else as a dongle id. The refusals are the service's,
in plain words: a wrong, used or replaced code is one answer (the service does not tell them
apart, so nobody learns which codes exist), a car held by another owner or a fleet another.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from api.devices import pairing, sync
from api.devices.schemas import DEVICE_ID_PATTERN, VIN_PATTERN
from api.problems import ProblemError
from web.deps import ConnDep, UserDep, api_app, clock
from web.pages import Pages

router = APIRouter()
PAGE = "car_add.html"
# The service's refusals (problem type, else status) as the page's words for them.
ERROR_OF_TYPE = {
    "too-many-pairing-attempts": "too_many",
    "pairing-code-invalid": "wrong_code",
    "vehicle-owned": "owned",
    "vehicle-in-fleet": "in_fleet",
}
ERROR_OF_STATUS = {403: "wrong_code", 409: "owned", 429: "too_many"}


def _pages(request: Request) -> Pages:
    found: Pages = request.app.state.pages
    return found


def names_of(car: str) -> tuple[str | None, str | None] | None:
    """(vin, device_id) to name the car typed as ``car``, or None when it can be neither."""
    typed = car.strip()
    vin = typed.upper().replace(" ", "")
    if re.fullmatch(VIN_PATTERN, vin):
        # A dongle id could look like a VIN too: the service takes either of the two.
        return vin, typed if re.fullmatch(DEVICE_ID_PATTERN, typed) else None
    if re.fullmatch(DEVICE_ID_PATTERN, typed):
        return None, typed
    return None


def error_of(problem: ProblemError) -> str:
    """The page's word for one of the service's refusals."""
    found = ERROR_OF_TYPE.get(problem.problem.type.rsplit("/", 1)[-1])
    return found or ERROR_OF_STATUS.get(problem.problem.status, "wrong_code")


def _form(
    request: Request, *, status: int = 200, error: str | None = None, car: str = ""
) -> Response:
    return _pages(request).render(request, PAGE, status=status, error=error, car=car)


@router.get("/cars/add")
def add_page(request: Request, user: UserDep) -> Response:
    """The form: the car's VIN or dongle id, and the pairing code (owners only, as the API)."""
    if user.principal.role != "owner":
        return _form(request, status=403, error="not_owner")
    return _form(request)


@router.post("/cars/add")
def add_car(
    request: Request,
    conn: ConnDep,
    user: UserDep,
    car: Annotated[str, Form(max_length=64)],
    code: Annotated[str, Form(max_length=40)],
) -> Response:
    """Claim the car with its dongle's code; to the car's page, or the form with the reason."""
    principal = user.principal
    if principal.role != "owner":  # the API's owners_only: a claim is a person's consent
        return _form(request, status=403, error="not_owner")
    names = names_of(car)
    if names is None or not code.strip():  # the API's body validation: nothing spent
        return _form(request, status=422, error="no_car" if names is None else "no_code", car=car)
    limiter = api_app(request).state.limiter
    try:
        # A code is guessed like a password: the API's claim budget, counted per user.
        limiter.hit(limiter.logins_per_client, "claim", str(principal.user_id))
    except ProblemError as exc:
        refused = _form(request, status=429, error="too_fast", car=car)
        refused.headers.update(exc.headers or {})
        return refused
    vin, device_id = names
    try:
        claimed = pairing.claim(
            conn=conn,
            user_id=principal.user_id,
            code=code,
            now=clock(),
            device_broker=sync.device_broker(api_app(request)),
            vin=vin,
            device_id=device_id,
        )
    except ProblemError as exc:
        refused = _form(request, status=exc.problem.status, error=error_of(exc), car=car)
        refused.headers.update(exc.headers or {})
        return refused
    root = request.scope.get("root_path", "")
    return RedirectResponse(f"{root}/cars/{claimed.vehicle_id}", status_code=303)
