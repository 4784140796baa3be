# SPDX-License-Identifier: MIT
"""Benchmarks: our way beside the naive way and the physical limit, in one run, on the same
data (``wrenchlight bench ...``, ``make bench``).

Runs from a source checkout only: the wheel does not ship this package, and neither the edge
nor the cloud extras need it.
"""
