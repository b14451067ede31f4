"""The FastAPI application: routes, error shapes, security headers.

``create_app`` takes everything it needs (settings, an engine, the keyring, a clock) so
tests build the same app the server runs, against either database.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi import FastAPI
from sqlalchemy import Engine

from claimbridge import __version__
from claimbridge.access.authn import SessionPolicy
from claimbridge.api import problems
from claimbridge.api.context import AppContext
from claimbridge.api.headers import BodyLimit, SecurityHeaders
from claimbridge.api.routes import (
    audit,
    auth,
    batches,
    billing,
    breakglass,
    certificates,
    engagements,
    health,
    integrity,
    offboarding,
    phi,
    tokens,
    users,
    vendors,
)
from claimbridge.clock import Clock, SystemClock
from claimbridge.config import Settings
from claimbridge.crypto.keyring import Keyring
from claimbridge.crypto.signing import SigningKey
from claimbridge.exchange.service import batch_service
from claimbridge.exchange.worker import BatchWorker
from claimbridge.storage.db import make_sessionmaker
from claimbridge.web import views

API_PREFIX = "/api/v1"


def create_app(
    settings: Settings,
    *,
    engine: Engine,
    keyring: Keyring,
    clock: Clock | None = None,
    trust_client_certificate: Callable[[str], None] | None = None,
    audit_key: SigningKey | None = None,
    ingest_worker: bool = False,
) -> FastAPI:
    """The app; ``ingest_worker`` makes large uploads queue for a worker the caller starts."""
    app = FastAPI(
        title="claimbridge",
        version=__version__,
        summary="A secure billing exchange between medical practices and billing companies.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        # The interactive docs load scripts from a CDN, which the content
        # security policy forbids; the OpenAPI document is the contract.
        docs_url=None,
        redoc_url=None,
        debug=False,
    )
    sessions = make_sessionmaker(engine)
    clock = clock or SystemClock()
    batch_receiver = (
        batch_service(
            settings, sessions=sessions, keyring=keyring, server_key=audit_key, clock=clock
        )
        if audit_key is not None
        else None
    )
    app.state.context = AppContext(
        settings=settings,
        engine=engine,
        sessions=sessions,
        clock=clock,
        keyring=keyring,
        session_policy=SessionPolicy(
            idle=timedelta(minutes=settings.session_idle_minutes),
            absolute=timedelta(hours=settings.session_absolute_hours),
        ),
        trust_client_certificate=trust_client_certificate,
        audit_key=audit_key,
        batches=batch_receiver,
        worker=BatchWorker(batch_receiver) if ingest_worker and batch_receiver else None,
    )
    problems.install(app)
    for module in (
        health,
        auth,
        phi,
        tokens,
        certificates,
        users,
        breakglass,
        audit,
        batches,
        integrity,
        billing,
        engagements,
        offboarding,
        vendors,
    ):
        app.include_router(module.router, prefix=API_PREFIX)
    app.include_router(views.router)
    views.mount_static(app)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)
    return app
