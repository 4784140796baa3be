# SPDX-License-Identifier: MIT
"""Steps of an order's lifecycle through the API: the owner's, the shop's and the platform's.

Each maps the orders package's errors to problem details: an unknown order is 404, a step the
order's status does not allow, an offer another shop won or that closed, and any other refusal
are 409; a service report with a reading that cannot be true is 422. The clock is the
server's.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from api.auth.principal import Principal, Role
from api.deps import VEHICLE_SIDE
from api.problems import ProblemError
from orders.errors import (
    AlertNotFound,
    AwaitingApproval,
    IllegalTransition,
    ImplausibleReport,
    NotAwaitingApproval,
    NotRebookable,
    OfferClosed,
    OfferLost,
    OrderNotFound,
    OrdersError,
)

# Who may take each step of an order (admins always may): the vehicle's side decides about
# the booking, the shop's side about the work, either books or moves a slot. The API's routes
# and the web app's order pages check these same sets.
SHOP_SIDE: tuple[Role, ...] = ("shop_staff",)
# The fleet's manager decides on an order over the fleet's cost limit (``orders.approval``).
FLEET_SIDE: tuple[Role, ...] = ("fleet_manager",)
EITHER_SIDE: tuple[Role, ...] = (*VEHICLE_SIDE, *SHOP_SIDE)
STEP_SIDES: dict[str, tuple[Role, ...]] = {
    "propose": VEHICLE_SIDE,
    "confirm": VEHICLE_SIDE,
    "cancel": VEHICLE_SIDE,
    "survey": VEHICLE_SIDE,
    "rebook": VEHICLE_SIDE,
    "schedule": EITHER_SIDE,
    "reschedule": EITHER_SIDE,
    "check-in": SHOP_SIDE,
    "start": SHOP_SIDE,
    "complete": SHOP_SIDE,
    "answer": SHOP_SIDE,
    "approve": FLEET_SIDE,
    "reject": FLEET_SIDE,
}


def may_take(principal: Principal, step: str) -> bool:
    """Whether ``principal``'s role may take ``step`` of an order (one of ``STEP_SIDES``)."""
    return principal.is_admin or principal.role in STEP_SIDES[step]


def now() -> datetime:
    """The server's clock."""
    return datetime.now(UTC)


@contextmanager
def order_problems() -> Iterator[None]:
    """Translate the orders package's errors into problem details."""
    try:
        yield
    except OrderNotFound as exc:
        raise ProblemError(404, "order-not-found", "Order not found", str(exc)) from exc
    except AlertNotFound as exc:
        raise ProblemError(404, "alert-not-found", "Alert not found", str(exc)) from exc
    except NotRebookable as exc:
        raise ProblemError(
            409,
            "not-rebookable",
            "Nothing to book again",
            f"{exc}; cancel the standing order first, or look at the car's open alerts",
        ) from exc
    except ImplausibleReport as exc:
        raise ProblemError(
            422, "implausible-report", "A reading cannot be true", f"{exc}; correct and resend"
        ) from exc
    except AwaitingApproval as exc:
        title = "Rejected by the fleet" if exc.approval == "rejected" else "Waiting for approval"
        raise ProblemError(409, "awaiting-approval", title, str(exc)) from exc
    except NotAwaitingApproval as exc:
        raise ProblemError(409, "not-awaiting-approval", "Nothing to decide", str(exc)) from exc
    except IllegalTransition as exc:
        raise ProblemError(409, "illegal-transition", "Illegal transition", str(exc)) from exc
    except OfferLost as exc:
        raise ProblemError(409, "offer-lost", "Another shop accepted first", str(exc)) from exc
    except OfferClosed as exc:
        raise ProblemError(409, "offer-closed", "Offer closed", str(exc)) from exc
    except OrdersError as exc:
        raise ProblemError(409, "order-refused", "Refused", str(exc)) from exc
