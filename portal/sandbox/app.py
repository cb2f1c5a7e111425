"""The sandbox marketplace's HTTP API, built fresh for each server (and each test)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Literal
from weakref import WeakValueDictionary

from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import BaseModel

from portal import __version__
from portal.sandbox import batch, conformance, device, oauth, partners, plugins, uploads
from portal.sandbox.chaos import Chaos
from portal.sandbox.mtls import RequireClientCertificate
from portal.sandbox.problems import Problem, install_problem_handlers
from portal.sandbox.store import open_store

API_TITLE = "AIC-Platform marketplace API"
API_VERSION = "1.0.0"


class Health(BaseModel):
    """What a client learns before signing in: that this is a marketplace, and its API."""

    status: Literal["ok"]
    api: Literal["v1"]
    server: str


def create_app(
    *,
    database_url: str,
    chaos_rate: float = 0.0,
    chaos_retry_after: int = 1,
    chaos_slow_seconds: float = 0.2,
    upload_dir: Path | None = None,
    require_client_cert: bool = False,
) -> FastAPI:
    """The FastAPI application of the sandbox marketplace, keeping its records at `database_url`.

    `require_client_cert` refuses requests that came without a client certificate; the server
    must then ask for one (`mtls.tls_options`).
    """
    app = FastAPI(
        title=API_TITLE,
        version=API_VERSION,
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
        responses={"default": {"model": Problem, "description": "Error, as RFC 9457 problem+json"}},
    )
    install_problem_handlers(app)
    app.state.sessions = open_store(database_url)
    routers = (
        oauth.router,
        device.router,
        partners.router,
        plugins.router,
        uploads.router,
        conformance.router,
    )
    for router in (*routers, batch.router):
        app.include_router(router)
    # what a request inside a batch may be routed to (FastAPI keeps included routers nested)
    app.state.api_routes = [
        r for router in routers for r in router.routes if isinstance(r, APIRoute)
    ]
    app.state.upload_locks = WeakValueDictionary()
    app.state.upload_dir = upload_dir or Path(tempfile.gettempdir()) / "aic-sandbox-uploads"
    if chaos_rate > 0:
        app.add_middleware(
            Chaos,
            rate=chaos_rate,
            retry_after=chaos_retry_after,
            slow_seconds=chaos_slow_seconds,
        )
    if require_client_cert:  # added last, so it runs first: no fault before the refusal
        app.add_middleware(RequireClientCertificate)

    @app.get("/v1/health", tags=["service"])
    def health() -> Health:
        """Whether the marketplace is up; needs no token."""
        return Health(status="ok", api="v1", server=f"aic-portal-sandbox/{__version__}")

    return app
