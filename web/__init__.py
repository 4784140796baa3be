# SPDX-License-Identifier: MIT
"""The web app for owners (shops, fleets and admins to come): server-rendered pages over the
API's own services and access predicates, mounted at ``/app`` in the API application."""

from web.app import MOUNT, create_app, mount
from web.config import WebConfig

__all__ = ["MOUNT", "WebConfig", "create_app", "mount"]
