"""``GET /api/v1/health``: is the server up and its database reachable.

Unauthenticated by design (load balancers call it), so it says nothing
about data: no counts, no names, no versions of the database.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from claimbridge.api.context import AppContext, app_context

router = APIRouter(tags=["health"])


class HealthPublic(BaseModel):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "unavailable"]


@router.get("/health", response_model=HealthPublic)
def health(ctx: Annotated[AppContext, Depends(app_context)]) -> JSONResponse:
    try:
        with ctx.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError:
        body = HealthPublic(status="degraded", database="unavailable")
        return JSONResponse(body.model_dump(), status_code=503)
    return JSONResponse(HealthPublic(status="ok", database="ok").model_dump())
