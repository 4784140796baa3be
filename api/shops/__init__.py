# SPDX-License-Identifier: MIT
"""Shops: a shop's profile and statistics as its staff and customers see it, and the offers
waiting for its answer."""
