# SPDX-License-Identifier: MIT
"""Service orders, the shop directory, matching and dispatch, slots, timers and feedback."""

from orders.dispatch import owner_confirm, propose, schedule
from orders.errors import (
    IllegalTransition,
    OfferClosed,
    OfferLost,
    OrderNotFound,
    OrdersError,
)
from orders.jobs import CATALOGUE, Job, Part, job_for
from orders.matching import MatchRequest, ShopMatch, match_shops, nearest_shop, nearest_shops
from orders.offers import respond
from orders.policy import DispatchPolicy
from orders.scoring import MatchWeights
from orders.service import (
    Order,
    create_order_for_alert,
    dispatch_open_alerts,
    list_orders,
)
from orders.shops import generate_shops, seed_shops

__all__ = [
    "CATALOGUE",
    "DispatchPolicy",
    "IllegalTransition",
    "Job",
    "MatchRequest",
    "MatchWeights",
    "OfferClosed",
    "OfferLost",
    "Order",
    "OrderNotFound",
    "OrdersError",
    "Part",
    "ShopMatch",
    "create_order_for_alert",
    "dispatch_open_alerts",
    "generate_shops",
    "job_for",
    "list_orders",
    "match_shops",
    "nearest_shop",
    "nearest_shops",
    "owner_confirm",
    "propose",
    "respond",
    "schedule",
    "seed_shops",
]
