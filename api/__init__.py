# SPDX-License-Identifier: MIT
"""The HTTP API (FastAPI): vehicles, devices, orders, shops and fleets, for known callers."""

from api.main import create_app, serve

__all__ = ["create_app", "serve"]
