# SPDX-License-Identifier: MIT
"""Fleets: what a fleet manager manages, every vehicle's health in one table, KPIs and a
CSV export."""
