# SPDX-License-Identifier: MIT
"""Service orders, the shop directory, matching and dispatch."""

from orders.jobs import CATALOGUE, Job, Part, job_for
from orders.matching import ShopMatch, nearest_shop, nearest_shops
from orders.service import (
    Order,
    OrdersError,
    create_order_for_alert,
    dispatch_open_alerts,
    list_orders,
)
from orders.shops import generate_shops, seed_shops

__all__ = [
    "CATALOGUE",
    "Job",
    "Order",
    "OrdersError",
    "Part",
    "ShopMatch",
    "create_order_for_alert",
    "dispatch_open_alerts",
    "generate_shops",
    "job_for",
    "list_orders",
    "nearest_shop",
    "nearest_shops",
    "seed_shops",
]
