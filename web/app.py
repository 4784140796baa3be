# SPDX-License-Identifier: MIT
"""The web app: a FastAPI application of its own, mounted at ``/app`` in the API's.

Its own application, so that its errors are pages (not the API's problem details), its routes
stay out of the API's OpenAPI document, and its CSRF check covers every route it has. It
borrows the API application's connection pool, rate limiter and settings (``deps.api_app``).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.types import Receive, Scope, Send

from web.config import WebConfig
from web.deps import CsrfRefused, SignInRequired, csrf_protect
from web.pages import Pages
from web.routes import (
    admin,
    apply,
    auth,
    cars,
    demo_mail,
    fleet,
    fleet_approvals,
    fleet_map,
    fleet_reports,
    fleet_vehicle,
    invitations,
    jobs,
    kpis,
    notify_links,
    orders,
    pairing,
    preferences,
    reports,
    settings,
    shop,
    shop_calendar,
    shop_profile,
)

MOUNT = "/app"
STATIC = Path(__file__).parent / "static"
# Below this a response goes as it is: gzip's header and the CPU would cost more than it saves.
GZIP_MIN_BYTES = 500


def create_app(api: FastAPI, config: WebConfig | None = None) -> FastAPI:
    """The web app, using the pool and limiter of ``api`` (the app it is mounted in)."""
    app = FastAPI(
        title="Wrenchlight web app",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(csrf_protect)],
    )
    app.state.api = api
    app.state.config = config or WebConfig()
    app.state.pages = pages = Pages()
    # Pages and htmx fragments go compressed; Starlette's GZip leaves text/event-stream alone,
    # so server-sent events are neither buffered nor compressed (tests/web/test_web_gzip.py).
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MIN_BYTES)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # pairing before cars: /cars/add is not /cars/{vehicle_id}.
    for router in (
        auth.router,
        preferences.router,
        pairing.router,
        cars.router,
        orders.router,
        shop.router,
        reports.router,  # before jobs: /shop/jobs/{id}/photos is not a step
        shop_calendar.router,
        shop_profile.router,
        jobs.router,
        kpis.router,
        fleet.router,
        fleet_map.router,
        admin.router,
        apply.router,
        invitations.router,
        fleet_approvals.router,
        fleet_vehicle.router,
        fleet_reports.router,
        settings.router,
        notify_links.router,
        demo_mail.router,
    ):
        app.include_router(router)

    @app.exception_handler(SignInRequired)
    def to_signin(request: Request, exc: SignInRequired) -> Response:
        root = request.scope.get("root_path", "")
        return RedirectResponse(f"{root}/signin", status_code=303)

    app.exception_handler(admin.NotAdmin)(admin.forbidden)

    @app.exception_handler(CsrfRefused)
    def forged(request: Request, exc: CsrfRefused) -> Response:
        return pages.render(request, "forged.html", status=403)

    @app.exception_handler(HTTPException)
    def http_error(request: Request, exc: HTTPException) -> Response:
        return pages.render(request, "error.html", status=exc.status_code)

    @app.exception_handler(RequestValidationError)
    def bad_form(request: Request, exc: RequestValidationError) -> Response:
        return pages.render(request, "error.html", status=422)

    return app


def mount(api: FastAPI, config: WebConfig | None = None) -> FastAPI:
    """Mount the web app at ``/app`` in ``api`` (``api.state.web``); returns ``api``."""
    web = api.state.web = create_app(api, config)

    async def isolated(scope: Scope, receive: Receive, send: Send) -> None:
        # A Starlette application writes itself into the scope it is handed (scope["app"]):
        # a copy keeps the API's own middleware (the audit log) reading the API's app after
        # the page. The copy shares scope["state"], so the audit log still sees who acted.
        await web(dict(scope), receive, send)

    api.mount(MOUNT, isolated, name="web")
    return api
