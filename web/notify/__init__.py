# SPDX-License-Identifier: MIT
"""Notifications that reach people: outbox events by mail and through Apprise URLs, per
user's channels, choices and quiet hours (see README.md)."""
