"""Every route is public on purpose or declares the permission it needs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi.routing import APIRoute
from sqlalchemy import Engine

from claimbridge.api.app import create_app
from claimbridge.api.security import PUBLIC_ROUTES
from claimbridge.config import load_settings
from claimbridge.crypto.keyring import Keyring


def test_every_route_is_on_the_public_list_or_declares_a_permission(
    engine: Engine, tmp_path: Path, keyring: Keyring
) -> None:
    app = create_app(load_settings(tmp_path), engine=engine, keyring=keyring)
    undeclared = []
    declared = 0
    for path, route in _walk(app.routes):
        if path in PUBLIC_ROUTES:
            continue
        extra = route.openapi_extra if isinstance(route, APIRoute) else None
        if extra and extra.get("x-claimbridge-permission"):
            declared += 1
            continue
        undeclared.append(path)
    assert undeclared == []
    assert declared >= 6


def _walk(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every route with its full path, through included routers."""
    for route in routes:
        context = getattr(route, "include_context", None)
        if context is not None:
            yield from _walk(context.included_router.routes, prefix + context.prefix)
        else:
            yield prefix + getattr(route, "path", ""), route


def test_the_public_list_is_short() -> None:
    # health, the OpenAPI document, the two sign-in steps, the audit public
    # key (public by nature) and the landing page's few.
    assert len(PUBLIC_ROUTES) <= 7


def test_an_undeclared_route_would_be_caught(
    engine: Engine, tmp_path: Path, keyring: Keyring
) -> None:
    app = create_app(load_settings(tmp_path), engine=engine, keyring=keyring)

    @app.get("/api/v1/sneaky")
    def sneaky() -> dict[str, str]:
        return {}

    found = [
        path
        for path, route in _walk(app.routes)
        if path not in PUBLIC_ROUTES
        and not (
            isinstance(route, APIRoute)
            and (route.openapi_extra or {}).get("x-claimbridge-permission")
        )
    ]
    assert found == ["/api/v1/sneaky"]
