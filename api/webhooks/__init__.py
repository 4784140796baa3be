# SPDX-License-Identifier: MIT
"""Webhooks: signed deliveries of alert and order events from a transactional outbox."""

from api.webhooks.delivery import EVENT_TYPES, deliver_due, fan_out, run
from api.webhooks.network import UnsafeDestination, WebhookConfig, client
from api.webhooks.signing import InvalidSignature, verify
from api.webhooks.subscriptions import InvalidSubscription, create, deliveries

__all__ = [
    "EVENT_TYPES",
    "InvalidSignature",
    "InvalidSubscription",
    "UnsafeDestination",
    "WebhookConfig",
    "client",
    "create",
    "deliver_due",
    "deliveries",
    "fan_out",
    "run",
    "verify",
]
