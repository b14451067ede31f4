"""Break-glass: ask for emergency access; the practice reviews every grant."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from claimbridge.access import breakglass
from claimbridge.access.permissions import Permission
from claimbridge.api.context import AppContext, app_context
from claimbridge.api.security import Caller, requires, with_caller

router = APIRouter(tags=["break-glass"])
Ctx = Annotated[AppContext, Depends(app_context)]


class BreakGlassCreate(BaseModel):
    practice_id: str = Field(max_length=36)
    patient_id: str | None = Field(default=None, max_length=36)
    reason: str = Field(max_length=500)
    code: str = Field(max_length=40, description="A fresh TOTP code.")
    minutes: int = Field(default=60, ge=5, le=240)


@router.post(
    "/break-glass", status_code=201, openapi_extra=requires(Permission.BREAK_GLASS_REQUEST)
)
def request_grant(body: BreakGlassCreate, request: Request, ctx: Ctx) -> dict[str, Any]:
    def work(session: Session, caller: Caller) -> breakglass.GrantView:
        return breakglass.request_break_glass(
            session,
            ctx.keyring,
            caller.principal,
            practice_id=body.practice_id,
            patient_id=body.patient_id,
            reason=body.reason,
            code=body.code,
            now=ctx.clock.now(),
            lifetime=timedelta(minutes=body.minutes),
        )

    return asdict(with_caller(request, ctx, work))


@router.get("/break-glass", openapi_extra=requires(Permission.BREAK_GLASS_REVIEW))
def list_grants(request: Request, ctx: Ctx) -> list[dict[str, Any]]:
    grants = with_caller(request, ctx, lambda s, c: breakglass.list_grants(s, c.principal))
    return [asdict(g) for g in grants]


@router.post(
    "/break-glass/{grant_id}/review", openapi_extra=requires(Permission.BREAK_GLASS_REVIEW)
)
def review(grant_id: str, request: Request, ctx: Ctx) -> dict[str, Any]:
    grant = with_caller(
        request,
        ctx,
        lambda s, c: breakglass.review_grant(s, c.principal, grant_id, now=ctx.clock.now()),
    )
    return asdict(grant)
