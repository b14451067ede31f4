"""User administration in the caller's organisation, and one's own password."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from claimbridge.access import users
from claimbridge.access.permissions import Permission
from claimbridge.api.context import AppContext, app_context
from claimbridge.api.security import AUTHENTICATED_ONLY, Caller, requires, with_caller
from claimbridge.storage.orgs import Role

router = APIRouter(tags=["users"])
Ctx = Annotated[AppContext, Depends(app_context)]


class UserPublic(BaseModel):
    id: str
    email: str
    display_name: str
    roles: list[str]
    status: str
    mfa_enrolled: bool


class UserCreate(BaseModel):
    email: str = Field(max_length=320)
    display_name: str = Field(min_length=1, max_length=200)
    roles: list[Role] = Field(min_length=1)
    password: str = Field(max_length=1024)


class UserUpdate(BaseModel):
    roles: list[Role] | None = None
    status: str | None = None


class PasswordChange(BaseModel):
    current_password: str = Field(max_length=1024)
    new_password: str = Field(max_length=1024)


def _public(view: users.UserView) -> UserPublic:
    return UserPublic(
        id=view.id,
        email=view.email,
        display_name=view.display_name,
        roles=list(view.roles),
        status=view.status,
        mfa_enrolled=view.mfa_enrolled,
    )


@router.get(
    "/users", response_model=list[UserPublic], openapi_extra=requires(Permission.USER_MANAGE)
)
def list_users(request: Request, ctx: Ctx) -> list[UserPublic]:
    views = with_caller(
        request, ctx, lambda s, c: users.list_users(s, c.principal, now=ctx.clock.now())
    )
    return [_public(v) for v in views]


@router.post(
    "/users",
    response_model=UserPublic,
    status_code=201,
    openapi_extra=requires(Permission.USER_MANAGE),
)
def create_user(body: UserCreate, request: Request, ctx: Ctx) -> UserPublic:
    def work(session: Session, caller: Caller) -> users.UserView:
        return users.create_user(
            session,
            caller.principal,
            email=body.email,
            display_name=body.display_name,
            roles=frozenset(body.roles),
            password=body.password,
            now=ctx.clock.now(),
        )

    return _public(with_caller(request, ctx, work))


@router.patch(
    "/users/{user_id}", response_model=UserPublic, openapi_extra=requires(Permission.USER_MANAGE)
)
def update_user(user_id: str, body: UserUpdate, request: Request, ctx: Ctx) -> UserPublic:
    def work(session: Session, caller: Caller) -> users.UserView:
        return users.update_user(
            session,
            caller.principal,
            user_id,
            roles=frozenset(body.roles) if body.roles is not None else None,
            status=body.status,
            now=ctx.clock.now(),
        )

    return _public(with_caller(request, ctx, work))


@router.post("/me/password", status_code=204, openapi_extra=requires(AUTHENTICATED_ONLY))
def change_password(body: PasswordChange, request: Request, ctx: Ctx) -> None:
    with_caller(
        request,
        ctx,
        lambda s, c: users.change_own_password(
            s,
            c.principal,
            current=body.current_password,
            new=body.new_password,
            now=ctx.clock.now(),
        ),
    )
