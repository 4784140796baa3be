# SPDX-License-Identifier: MIT
"""The orders package's exceptions.

Exceptions::

    OrdersError
     ├── OrderNotFound
     ├── IllegalTransition      (lifecycle: the order's status does not allow the step)
     ├── ImplausibleReport      (feedback: a reading that cannot be true, e.g. the odometer
     │                           below the car's last known reading)
     ├── AlertNotFound          (rebook: no alert with this id)
     ├── NotRebookable          (rebook, dismiss: the order still stands, or its alert is
     │                           resolved)
     ├── AwaitingApproval       (approval: the shop's work waits for the fleet, or the fleet
     │                           rejected the order)
     ├── NotAwaitingApproval    (approval: nothing to decide, the order is not waiting)
     ├── OfferClosed            (the offer was answered, withdrawn or has expired)
     │    └── OfferLost         (another shop accepted this order first)
     └── ImportFailed           (directory.py: invalid rows of an import file)
"""

from __future__ import annotations


class OrdersError(Exception):
    """Base of this package's errors."""


class OrderNotFound(OrdersError):
    """No service order with this id."""


class IllegalTransition(OrdersError):
    """The order's lifecycle does not allow this step from its current status."""

    def __init__(self, order_id: int, current: str, target: str) -> None:
        super().__init__(f"order {order_id}: cannot go from {current!r} to {target!r}")
        self.order_id, self.current, self.target = order_id, current, target


class ImplausibleReport(OrdersError):
    """A service report with a reading that cannot be true; the message says which and why,
    ``field`` names the report's field (``odometer_km``, ``pad_front_mm``, ``pad_rear_mm``) and
    ``limit`` the figure it may not pass (the car's last known km, a new pad's mm), so a form
    can say it next to the field."""

    def __init__(self, message: str, *, field: str = "", limit: float | None = None) -> None:
        super().__init__(message)
        self.field, self.limit = field, limit


class AlertNotFound(OrdersError):
    """No alert with this id."""


class NotRebookable(OrdersError):
    """The order still stands or its alert is resolved: there is nothing to book again."""


class OfferClosed(OrdersError):
    """The offer can no longer be answered."""


class OfferLost(OfferClosed):
    """Another shop accepted the order first."""


class AwaitingApproval(OrdersError):
    """The order waits for its fleet's approval, or the fleet rejected it: the shop may not
    work on it. ``approval`` is ``pending`` or ``rejected``, ``note`` the manager's."""

    def __init__(self, order_id: int, approval: str, note: str | None) -> None:
        if approval == "rejected":
            message = f"order {order_id} was rejected by the fleet" + (f": {note}" if note else "")
        else:
            message = f"order {order_id} is waiting for the fleet's approval"
        super().__init__(message)
        self.order_id, self.approval, self.note = order_id, approval, note


class NotAwaitingApproval(OrdersError):
    """The order does not wait for a fleet's decision (decided already, or none needed)."""

    def __init__(self, order_id: int, approval: str | None, status: str) -> None:
        state = approval or "not needed"
        super().__init__(f"order {order_id} is not waiting for approval ({state}, {status})")
        self.order_id, self.approval, self.status = order_id, approval, status
