# SPDX-License-Identifier: MIT
"""The command-line tool, settings, and the demo that starts every part together."""
