"""Who is calling: a session (cookie or bearer) or an API token, checked per request.

Every route declares what it needs with ``requires(permission)`` (or is on
the short ``PUBLIC_ROUTES`` list); a test fails on any route that does
neither. The tenant never comes from the request: only from the
authenticated principal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import Request
from sqlalchemy.orm import Session

from claimbridge.access.authn import authenticate_api_token, authenticate_session, check_csrf
from claimbridge.access.mtls import authenticate_client_certificate
from claimbridge.access.permissions import Permission
from claimbridge.access.principal import Principal
from claimbridge.api.context import AppContext
from claimbridge.api.server import CLIENT_CERT_STATE
from claimbridge.audit.record import unit_of_work
from claimbridge.errors import Unauthenticated
from claimbridge.phi.gateway import Gateway

T = TypeVar("T")

SESSION_COOKIE = "__Host-claimbridge_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

PUBLIC_ROUTES = frozenset(
    {
        "/api/v1/health",
        "/api/v1/audit/public-key",
        "/api/v1/openapi.json",
        "/api/v1/auth/login",
        "/api/v1/auth/mfa",
        "/",
        "/static",
    }
)
AUTHENTICATED_ONLY = "authenticated"
"""The declaration of routes any signed-in principal may call (``/me``, logout)."""


def requires(permission: Permission | str) -> dict[str, Any]:
    """``openapi_extra`` that declares a route's permission (checked by a test)."""
    return {"x-claimbridge-permission": str(permission)}


@dataclass(frozen=True, slots=True)
class Caller:
    principal: Principal
    session_token: str | None


def source_address(request: Request) -> str | None:
    return request.client.host if request.client else None


def request_id(request: Request) -> str | None:
    return request.headers.get("x-request-id", "")[:64] or None


def authenticate(request: Request, session: Session, ctx: AppContext) -> Caller:
    now = ctx.clock.now()
    address = source_address(request)
    bearer = _bearer(request)
    if bearer and bearer.startswith("cbt_"):
        return Caller(
            authenticate_api_token(session, bearer, source_address=address, now=now), None
        )
    token = bearer or request.cookies.get(SESSION_COOKIE)
    fingerprint = getattr(request.state, CLIENT_CERT_STATE, None)
    if not token and fingerprint:
        principal = authenticate_client_certificate(
            session, fingerprint, source_address=address, now=now
        )
        return Caller(principal, None)
    if not token:
        raise Unauthenticated()
    principal = authenticate_session(
        session, token, source_address=address, now=now, policy=ctx.session_policy
    )
    if bearer is None and request.method not in SAFE_METHODS:
        # A cookie rides along on cross-site requests; a header does not.
        check_csrf(session, token, request.headers.get(CSRF_HEADER))
    return Caller(principal, token)


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def with_gateway(request: Request, ctx: AppContext, work: Callable[[Gateway], T]) -> T:
    """Authenticate, then run ``work`` through the PHI gateway in one transaction."""

    def run(session: Session) -> T:
        caller = authenticate(request, session, ctx)
        gateway = Gateway(
            session,
            ctx.keyring,
            caller.principal,
            now=ctx.clock.now(),
            request_id=request_id(request),
        )
        return work(gateway)

    return unit_of_work(ctx.sessions, run)


def with_caller(request: Request, ctx: AppContext, work: Callable[[Session, Caller], T]) -> T:
    """Authenticate, then run ``work`` in one transaction (no PHI)."""

    def run(session: Session) -> T:
        return work(session, authenticate(request, session, ctx))

    return unit_of_work(ctx.sessions, run)
