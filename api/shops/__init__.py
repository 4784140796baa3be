# SPDX-License-Identifier: MIT
"""Shops: a shop's profile and statistics, and the offers waiting for its answer."""
