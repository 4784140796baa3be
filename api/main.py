# SPDX-License-Identifier: MIT
"""The FastAPI application: one router per domain, a connection pool built in the lifespan."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import psycopg
from fastapi import Depends, FastAPI
from pydantic import BaseModel, ConfigDict

import db
from api.alerts.router import router as alerts_router
from api.audit.middleware import audit_writes
from api.audit.router import router as audit_router
from api.auth.config import AuthConfig
from api.auth.router import public_router as auth_public_router
from api.auth.router import router as auth_router
from api.deps import ConnDep, current_principal, rate_limited
from api.devices.broker import DeviceBroker
from api.devices.router import router as devices_router
from api.docs import add_docs, declare_problems
from api.events import router as events_router
from api.fleets.router import router as fleets_router
from api.home import router as home_router
from api.inputs import checked_inputs
from api.limits import add_body_limit
from api.orders.reports import public_router as reports_public_router
from api.orders.reports import router as reports_router
from api.orders.router import router as orders_router
from api.problems import handle_data_error, install_problem_handlers, problem_response
from api.ratelimit import Limiter, RateLimits
from api.shops.router import router as shops_router
from api.vehicles.router import router as vehicles_router
from api.webhooks.network import WebhookConfig
from api.webhooks.router import router as webhooks_router
from orders.evidence import Evidence
from orders.signing import Signer
from orders.storage import LocalStore

log = logging.getLogger(__name__)

# Every domain router answers only authenticated callers; an unauthenticated call gets 401
# whatever the route, so a new route cannot be public by forgetting a dependency.
AUTHENTICATED = (
    auth_router,
    vehicles_router,
    devices_router,
    orders_router,
    reports_router,
    alerts_router,
    shops_router,
    fleets_router,
    audit_router,
    webhooks_router,
    events_router,
)


def temporary_evidence() -> Evidence:
    """Evidence kept in a fresh temporary directory: photos and the signing key die with it."""
    root = Path(tempfile.mkdtemp(prefix="wl-evidence-"))
    return Evidence(store=LocalStore(root / "files"), signer=Signer(root / "report-signing.pem"))


class Healthz(BaseModel):
    """Liveness and database reachability."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "ok", "database": "ok"}]})

    status: str
    database: str


def create_app(
    database_url: str,
    *,
    auth: AuthConfig | None = None,
    rate_limits: RateLimits | None = None,
    webhooks: WebhookConfig | None = None,
    trusted_proxies: tuple[str, ...] = (),
    evidence: Evidence | None = None,
    broker: DeviceBroker | None = None,
) -> FastAPI:
    """The API application for the database at ``database_url``.

    ``auth`` holds the token signing secret; without one the app draws a random secret, which
    suits a single process (tests, the demo) but not several behind a load balancer.
    ``webhooks`` lists the private receivers allowed (default: public internet only);
    ``trusted_proxies`` the addresses whose X-Forwarded-For/-Proto are believed (default:
    none, so a client cannot choose the address its login attempts are counted under).
    ``evidence`` says where reports' photos go and which key signs reports; without it, a
    temporary directory of this process holds both (tests, a single process).
    ``broker`` says how device credential changes reach the MQTT broker; without it they
    reach none (mode ``none``), which is logged as a warning when the app starts.
    """
    device_broker = broker or DeviceBroker()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        warning = device_broker.warning()
        if warning:
            log.warning("%s", warning)
        # Built here, not at import time, so tests and the CLI choose the database.
        app.state.pool = db.make_pool(database_url, name="wl-api")
        try:
            yield
        finally:
            app.state.pool.close()

    app = FastAPI(
        title="Wrenchlight API",
        summary="Vehicle health, predictive-maintenance alerts and service orders",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # served from the package by add_docs, not from a CDN
        redoc_url=None,
        # Every route, including ones added later: non-finite numbers, ids past bigint and
        # absurd dates are 422 (api/inputs.py).
        dependencies=[Depends(checked_inputs)],
    )
    app.state.auth = auth or AuthConfig()
    app.state.webhooks = webhooks or WebhookConfig()
    app.state.evidence = evidence or temporary_evidence()
    app.state.limiter = Limiter(rate_limits or RateLimits())
    app.state.device_broker = device_broker
    install_problem_handlers(app)
    app.add_exception_handler(psycopg.DataError, handle_data_error)
    app.middleware("http")(audit_writes)
    if trusted_proxies:
        from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

        # Here, not in uvicorn's own proxy_headers (which servers here turn off: it trusts
        # 127.0.0.1 by default), so the app believes the same proxies however it is served.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(trusted_proxies))
    add_body_limit(app)  # outermost: a huge body is refused before anything reads it
    app.include_router(auth_public_router, responses=problem_response(400))
    for router in AUTHENTICATED:
        app.include_router(
            router,
            dependencies=[Depends(current_principal), Depends(rate_limited)],
            responses=problem_response(400) | problem_response(401) | problem_response(429),
        )

    # Public: load balancers and orchestrators probe it without credentials; it shows no data.
    @app.get("/healthz", response_model=Healthz, tags=["operations"])
    def healthz(conn: ConnDep) -> Healthz:
        """Liveness: the process answers and the database answers a query."""
        conn.execute("SELECT 1")
        return Healthz(status="ok", database="ok")

    # Public, like the documentation it points to.
    app.include_router(home_router)
    # Public: a report's code, printed on it, is what lets anyone check it (60 random bits:
    # not guessed by trying).
    app.include_router(reports_public_router)
    add_docs(app)
    declare_problems(app)
    return app


def serve(
    database_url: str,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    auth: AuthConfig | None = None,
    rate_limits: RateLimits | None = None,
    webhooks: WebhookConfig | None = None,
    trusted_proxies: tuple[str, ...] = (),
) -> None:
    """Run the API with uvicorn until interrupted."""
    import uvicorn  # the server is only needed when serving, not to build the app in tests

    app = create_app(
        database_url,
        auth=auth,
        rate_limits=rate_limits,
        webhooks=webhooks,
        trusted_proxies=trusted_proxies,
    )
    # Proxy headers are the app's business (trusted_proxies), not uvicorn's default trust.
    uvicorn.run(app, host=host, port=port, proxy_headers=False)
