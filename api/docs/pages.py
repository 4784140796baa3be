# SPDX-License-Identifier: MIT
"""Swagger UI at /docs and ReDoc at /redoc, from files shipped in this package.

FastAPI's own pages load their scripts from a CDN, so they are blank without the internet.
The files under ``static/`` are the pinned builds listed in ``static/README.md``, each beside
its licence, served at /docs/static. The pages ask nothing of another host: no fonts, no
favicon and no validator badge from outside (Swagger UI's ``validatorUrl`` is off).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"
STATIC_URL = "/docs/static"
# The page must not depend on anything off this host; the Redocly logo in ReDoc's sidebar
# (a remote image it hides when it cannot load) is refused outright.
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self' 'unsafe-inline'; worker-src 'self' blob:; connect-src 'self'"
)


def add_docs(app: FastAPI) -> None:
    """Serve /docs, its OAuth2 redirect page, /redoc and their static files on ``app``.

    ``app`` is built with ``docs_url=None, redoc_url=None`` so that FastAPI's CDN pages are not
    also registered.
    """
    app.mount(STATIC_URL, StaticFiles(directory=STATIC_DIR), name="docs-static")
    openapi_url = app.openapi_url or "/openapi.json"
    oauth2_redirect_url = "/docs/oauth2-redirect"

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        page = get_swagger_ui_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{STATIC_URL}/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{STATIC_URL}/swagger-ui/swagger-ui.css",
            swagger_favicon_url=f"{root}{STATIC_URL}/swagger-ui/favicon-32x32.png",
            oauth2_redirect_url=root + oauth2_redirect_url,
            swagger_ui_parameters={"validatorUrl": None},
        )
        page.headers["content-security-policy"] = CSP
        return page

    @app.get(oauth2_redirect_url, include_in_schema=False)
    def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        page = get_redoc_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{STATIC_URL}/redoc/redoc.standalone.js",
            redoc_favicon_url=f"{root}{STATIC_URL}/swagger-ui/favicon-32x32.png",
            with_google_fonts=False,
        )
        page.headers["content-security-policy"] = CSP
        return page
