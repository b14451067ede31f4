"""Sign-in (password, then second factor), sign-out, and who am I."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from claimbridge.access.authn import begin_login, complete_login, logout
from claimbridge.api.context import AppContext, app_context
from claimbridge.api.security import (
    AUTHENTICATED_ONLY,
    SESSION_COOKIE,
    Caller,
    requires,
    source_address,
    with_caller,
)
from claimbridge.audit.record import unit_of_work

router = APIRouter(tags=["auth"])
Ctx = Annotated[AppContext, Depends(app_context)]


class LoginCreate(BaseModel):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)


class MfaEnrolment(BaseModel):
    secret: str
    otpauth_uri: str


class LoginChallenge(BaseModel):
    challenge: str
    expires_at: datetime
    mfa_enrolment: MfaEnrolment | None = None


class MfaCreate(BaseModel):
    challenge: str = Field(max_length=200)
    code: str = Field(max_length=40)


class SessionPublic(BaseModel):
    token: str
    csrf_token: str
    expires_at: datetime
    recovery_codes: list[str] = []


class MePublic(BaseModel):
    user_id: str | None
    organisation_id: str
    organisation_kind: str
    roles: list[str]
    permissions: list[str]
    auth_method: str


@router.post("/auth/login", response_model=LoginChallenge)
def login(body: LoginCreate, request: Request, ctx: Ctx) -> LoginChallenge:
    """Step one: the password. Answers a challenge for the second factor, never a session."""
    challenge = unit_of_work(
        ctx.sessions,
        lambda s: begin_login(
            s,
            ctx.keyring,
            body.email,
            body.password,
            source_address=source_address(request),
            now=ctx.clock.now(),
        ),
    )
    enrolment = (
        MfaEnrolment(secret=challenge.enrolment_secret, otpauth_uri=challenge.enrolment_uri or "")
        if challenge.enrolment_secret
        else None
    )
    return LoginChallenge(
        challenge=challenge.token, expires_at=challenge.expires_at, mfa_enrolment=enrolment
    )


@router.post("/auth/mfa", response_model=SessionPublic)
def mfa(body: MfaCreate, request: Request, response: Response, ctx: Ctx) -> SessionPublic:
    """Step two: a TOTP or recovery code. Sets the session cookie and returns a bearer token."""
    new = unit_of_work(
        ctx.sessions,
        lambda s: complete_login(
            s,
            ctx.keyring,
            body.challenge,
            body.code,
            source_address=source_address(request),
            now=ctx.clock.now(),
            policy=ctx.session_policy,
        ),
    )
    response.set_cookie(
        SESSION_COOKIE,
        new.token,
        secure=True,
        httponly=True,
        samesite="strict",
        path="/",
        max_age=int(ctx.session_policy.absolute.total_seconds()),
    )
    return SessionPublic(
        token=new.token,
        csrf_token=new.csrf_token,
        expires_at=new.expires_at,
        recovery_codes=list(new.recovery_codes),
    )


@router.post("/auth/logout", status_code=204, openapi_extra=requires(AUTHENTICATED_ONLY))
def sign_out(request: Request, response: Response, ctx: Ctx) -> Response:
    def work(session, caller: Caller) -> None:  # type: ignore[no-untyped-def]
        if caller.session_token:
            logout(session, caller.session_token, now=ctx.clock.now())

    with_caller(request, ctx, work)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True, samesite="strict")
    return response


@router.get("/me", response_model=MePublic, openapi_extra=requires(AUTHENTICATED_ONLY))
def me(request: Request, ctx: Ctx) -> MePublic:
    caller = with_caller(request, ctx, lambda _s, c: c)
    p = caller.principal
    return MePublic(
        user_id=p.user_id,
        organisation_id=p.organisation_id,
        organisation_kind=p.organisation_kind.value,
        roles=sorted(r.value for r in p.roles),
        permissions=sorted(x.value for x in p.permissions),
        auth_method=p.auth_method,
    )
