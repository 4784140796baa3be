# SPDX-License-Identifier: MIT
"""Service orders: listing with filters and cursor pagination."""
