# SPDX-License-Identifier: MIT
"""The web app's routes, one module per area: signing in and out, preferences, cars."""
