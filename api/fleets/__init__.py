# SPDX-License-Identifier: MIT
"""The fleets domain: every vehicle's health in one table, KPIs and a CSV export."""
