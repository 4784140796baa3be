# SPDX-License-Identifier: MIT
"""Which outbox events people are told about, under which kind, and which cannot wait.

The outbox speaks in system events (``alert.raised``, ``order.status_changed``, ...); people
choose in kinds they recognise ("an order is booked"). ``classify`` maps one to the other and
says whether the message is urgent: urgent messages go out during quiet hours too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# In the order Settings lists them.
KINDS = (
    "tier_crossed",
    "trouble_code",
    "order_proposed",
    "order_booked",
    "order_rescheduled",
    "order_completed",
    "survey_offered",
    "offer_made",
    "approval_decided",
)
# Kinds only shop staff receive (an order offered to their shop; a fleet's decision on an
# order of theirs); Settings lists them first for shop staff and not at all for anyone else.
SHOP_KINDS = ("offer_made", "approval_decided")
# Wear tiers and alert severities that mean "change now": these do not wait for the morning.
URGENT_TIERS = frozenset({"due_now", "overdue"})
OUTBOX_TYPES = (
    "alert.raised",
    "order.created",
    "order.status_changed",
    "order.rescheduled",
    "survey.offered",
    "offer.made",
    "order.approval_decided",
)


def kinds_for(role: str) -> tuple[str, ...]:
    """The kinds Settings offers a user of ``role``."""
    others = tuple(k for k in KINDS if k not in SHOP_KINDS)
    return SHOP_KINDS + others if role == "shop_staff" else others


@dataclass(frozen=True)
class Classified:
    """What an event is to a person."""

    kind: str
    urgent: bool


def classify(event_type: str, payload: dict[str, Any]) -> Classified | None:
    """The kind of ``event_type`` with ``payload`` and whether it is urgent; None for the
    events nobody is told about (an order offered to shops, a code of mere information)."""
    if event_type == "alert.raised":
        critical = payload.get("severity") == "critical" or payload.get("tier") in URGENT_TIERS
        if payload.get("kind") == "trouble_code":
            if payload.get("severity") == "info":
                return None
            return Classified("trouble_code", critical)
        return Classified("tier_crossed", critical)
    status = payload.get("status")
    if event_type == "order.created":
        return Classified("order_proposed", False) if status == "proposed" else None
    if event_type == "order.status_changed":
        if status == "proposed":
            return Classified("order_proposed", False)
        if status == "scheduled" and payload.get("previous_status") != "scheduled":
            return Classified("order_booked", False)
        if status == "completed":
            return Classified("order_completed", False)
        return None
    if event_type == "order.rescheduled":
        return Classified("order_rescheduled", False)
    if event_type == "survey.offered":
        return Classified("survey_offered", False)
    if event_type == "offer.made":
        # It waits for quiet hours like the rest: staff who set them are off duty, and the
        # offer goes to the next shop when its time passes (the dispatcher then skips it).
        return Classified("offer_made", False)
    if event_type == "order.approval_decided":
        # Approved: the shop may do the work; rejected: it must not. Either can wait for the
        # morning like a booking: nothing is checked in during the staff's quiet hours.
        return Classified("approval_decided", False)
    return None
