"""API tokens for machines: shown once, stored hashed, scoped, expiring."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from claimbridge.access.permissions import Permission
from claimbridge.access.tokens import create_api_token, list_api_tokens, revoke_api_token
from claimbridge.api.context import AppContext, app_context
from claimbridge.api.security import Caller, requires, with_caller

router = APIRouter(tags=["tokens"])
Ctx = Annotated[AppContext, Depends(app_context)]


class TokenCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    permissions: list[Permission] = Field(min_length=1)
    expires_in_days: int = Field(default=90, ge=1, le=366)


class TokenCreated(BaseModel):
    id: str
    token: str
    expires_at: datetime


class TokenPublic(BaseModel):
    id: str
    name: str
    prefix: str
    permissions: list[str]
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


@router.post(
    "/tokens", response_model=TokenCreated, openapi_extra=requires(Permission.TOKEN_MANAGE)
)
def create_token(body: TokenCreate, request: Request, ctx: Ctx) -> TokenCreated:
    def work(session: Session, caller: Caller) -> TokenCreated:
        new = create_api_token(
            session,
            caller.principal,
            name=body.name,
            permissions=frozenset(body.permissions),
            lifetime=timedelta(days=body.expires_in_days),
            now=ctx.clock.now(),
        )
        return TokenCreated(id=new.id, token=new.token, expires_at=new.expires_at)

    return with_caller(request, ctx, work)


@router.get(
    "/tokens", response_model=list[TokenPublic], openapi_extra=requires(Permission.TOKEN_MANAGE)
)
def list_tokens(request: Request, ctx: Ctx) -> list[TokenPublic]:
    def work(session: Session, caller: Caller) -> list[TokenPublic]:
        rows = list_api_tokens(session, caller.principal, now=ctx.clock.now())
        return [
            TokenPublic(
                id=r.id,
                name=r.name,
                prefix=r.prefix,
                permissions=r.permissions,
                created_at=r.created_at,
                expires_at=r.expires_at,
                revoked_at=r.revoked_at,
            )
            for r in rows
        ]

    return with_caller(request, ctx, work)


@router.delete(
    "/tokens/{token_id}", status_code=204, openapi_extra=requires(Permission.TOKEN_MANAGE)
)
def revoke_token(token_id: str, request: Request, ctx: Ctx) -> None:
    def work(session: Session, caller: Caller) -> None:
        revoke_api_token(session, caller.principal, token_id, now=ctx.clock.now())

    with_caller(request, ctx, work)
