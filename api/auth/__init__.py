# SPDX-License-Identifier: MIT
"""Identity: users, API keys and JWT access tokens; who is calling (``Principal``)."""

from api.auth.config import AuthConfig
from api.auth.principal import ROLES, Principal, Role

__all__ = ["ROLES", "AuthConfig", "Principal", "Role"]
