# SPDX-License-Identifier: MIT
"""Service orders, the shop directory, matching and placement, slots, timers and feedback."""

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
from orders.placement import owner_confirm, propose, schedule
from orders.policy import PlacementPolicy
from orders.scoring import MatchWeights
from orders.service import (
    Order,
    create_order_for_alert,
    list_orders,
    order_open_alerts,
)
from orders.shops import generate_shops, seed_shops

__all__ = [
    "CATALOGUE",
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
    "PlacementPolicy",
    "ShopMatch",
    "create_order_for_alert",
    "generate_shops",
    "job_for",
    "list_orders",
    "match_shops",
    "nearest_shop",
    "nearest_shops",
    "order_open_alerts",
    "owner_confirm",
    "propose",
    "respond",
    "schedule",
    "seed_shops",
]
