# SPDX-License-Identifier: MIT
"""Vehicles: health of one vehicle."""
