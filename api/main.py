# SPDX-License-Identifier: MIT
"""The FastAPI application: one router per domain, a connection pool built in the lifespan."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from pydantic import BaseModel

import db
from api.deps import ConnDep
from api.fleets.router import router as fleets_router
from api.orders.router import router as orders_router
from api.problems import ProblemError, handle_problem
from api.shops.router import router as shops_router
from api.vehicles.router import router as vehicles_router


class Healthz(BaseModel):
    """Liveness and database reachability."""

    status: str
    database: str


def create_app(database_url: str) -> FastAPI:
    """The API application for the database at ``database_url``."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
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
    )
    app.add_exception_handler(ProblemError, handle_problem)
    app.include_router(vehicles_router)
    app.include_router(orders_router)
    app.include_router(shops_router)
    app.include_router(fleets_router)

    @app.get("/healthz", response_model=Healthz, tags=["operations"])
    def healthz(conn: ConnDep) -> Healthz:
        """Liveness: the process answers and the database answers a query."""
        conn.execute("SELECT 1")
        return Healthz(status="ok", database="ok")

    return app


def app_from_settings() -> FastAPI:
    """The app for the database in ``WRENCHLIGHT_DATABASE_URL``: uvicorn's factory when it
    runs several worker processes, each building its own app (and pool)."""
    url = os.environ.get("WRENCHLIGHT_DATABASE_URL")
    if not url:
        raise RuntimeError("WRENCHLIGHT_DATABASE_URL is not set")
    return create_app(url)


def serve(database_url: str, host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> None:
    """Run the API with uvicorn until interrupted; ``workers`` processes share the port."""
    import uvicorn  # the server is only needed when serving, not to build the app in tests

    if workers == 1:
        uvicorn.run(create_app(database_url), host=host, port=port)
        return
    os.environ["WRENCHLIGHT_DATABASE_URL"] = database_url
    uvicorn.run("api.main:app_from_settings", factory=True, host=host, port=port, workers=workers)
