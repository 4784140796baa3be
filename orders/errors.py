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
