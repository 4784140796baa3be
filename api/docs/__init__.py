# SPDX-License-Identifier: MIT
"""The API's documentation: Swagger UI and ReDoc served from the package, and the OpenAPI
document's problem-details responses."""

from api.docs.openapi import declare_problems
from api.docs.pages import add_docs

__all__ = ["add_docs", "declare_problems"]
