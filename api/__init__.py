# SPDX-License-Identifier: MIT
"""The HTTP API: vehicles' health and service orders (FastAPI)."""

from api.main import create_app, serve

__all__ = ["create_app", "serve"]
