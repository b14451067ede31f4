"""Client certificates for mutual TLS: register, list, revoke (organisation admins)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from claimbridge.access import mtls
from claimbridge.access.permissions import Permission
from claimbridge.api.context import AppContext, app_context
from claimbridge.api.security import Caller, requires, with_caller
from claimbridge.storage.auth import ClientCertificate

router = APIRouter(tags=["client certificates"])
Ctx = Annotated[AppContext, Depends(app_context)]


class CertificateCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    certificate_pem: str = Field(max_length=20_000)
    permissions: list[Permission] = Field(min_length=1)


class CertificatePublic(BaseModel):
    fingerprint_sha256: str
    name: str
    permissions: list[str]
    not_after: datetime
    created_at: datetime
    revoked_at: datetime | None


def _public(row: ClientCertificate) -> CertificatePublic:
    return CertificatePublic(
        fingerprint_sha256=row.fingerprint_sha256,
        name=row.name,
        permissions=row.permissions,
        not_after=row.not_after,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


@router.post(
    "/client-certificates",
    response_model=CertificatePublic,
    status_code=201,
    openapi_extra=requires(Permission.TOKEN_MANAGE),
)
def register(body: CertificateCreate, request: Request, ctx: Ctx) -> CertificatePublic:
    def work(session: Session, caller: Caller) -> CertificatePublic:
        row = mtls.register_client_certificate(
            session,
            caller.principal,
            name=body.name,
            pem=body.certificate_pem,
            permissions=frozenset(body.permissions),
            now=ctx.clock.now(),
        )
        return _public(row)

    created = with_caller(request, ctx, work)
    if ctx.trust_client_certificate is not None:
        ctx.trust_client_certificate(body.certificate_pem)
    return created


@router.get(
    "/client-certificates",
    response_model=list[CertificatePublic],
    openapi_extra=requires(Permission.TOKEN_MANAGE),
)
def list_certificates(request: Request, ctx: Ctx) -> list[CertificatePublic]:
    def work(session: Session, caller: Caller) -> list[CertificatePublic]:
        rows = mtls.list_client_certificates(session, caller.principal, now=ctx.clock.now())
        return [_public(r) for r in rows]

    return with_caller(request, ctx, work)


@router.delete(
    "/client-certificates/{fingerprint}",
    status_code=204,
    openapi_extra=requires(Permission.TOKEN_MANAGE),
)
def revoke(fingerprint: str, request: Request, ctx: Ctx) -> None:
    with_caller(
        request,
        ctx,
        lambda s, c: mtls.revoke_client_certificate(
            s, c.principal, fingerprint, now=ctx.clock.now()
        ),
    )
