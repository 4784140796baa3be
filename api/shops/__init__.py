# SPDX-License-Identifier: MIT
"""Shops: the profile of a repair shop, as its staff and its customers see it."""
