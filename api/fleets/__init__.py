# SPDX-License-Identifier: MIT
"""Fleets: what a fleet manager manages."""
