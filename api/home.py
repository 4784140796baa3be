# SPDX-License-Identifier: MIT
"""The page at ``/``: what Wrenchlight is and where the API is documented.

A placeholder until the web app takes ``/``: it is one router, replaced by removing it from
``api.main``.
"""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Wrenchlight API</title>
</head>
<body>
<main>
<h1>Wrenchlight</h1>
<p>Wrenchlight reads a car's OBD-II port, predicts when its engine oil and brake pads run
out, and books the service at a nearby repair shop before the dashboard light comes on.
This is its HTTP API, for car owners, repair shops and fleet managers.</p>
<h2>Documentation</h2>
<ul>
<li><a href="{root}/docs">Swagger UI</a>: try every route with your API key or a token</li>
<li><a href="{root}/redoc">ReDoc</a>: the reference, to read</li>
<li><a href="{root}/openapi.json">openapi.json</a>: the OpenAPI document, for clients and
code generators</li>
<li><a href="{root}/healthz">healthz</a>: whether the service and its database answer</li>
</ul>
<p>Every route but <code>POST /auth/token</code> and <code>GET /healthz</code> needs
<code>Authorization: Bearer &lt;token&gt;</code> or <code>X-API-Key: &lt;key&gt;</code>.</p>
</main>
</body>
</html>
"""


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    """What Wrenchlight is, with links to the API's documentation."""
    root = escape(request.scope.get("root_path", ""), quote=True)
    return HTMLResponse(PAGE.replace("{root}", root))
