"""Ending an engagement over HTTP: terminate, the return package, receipt, the certificate.

``POST /engagements/{id}/termination`` (practice admins; JSON ``reason``,
``passphrase``, optional ``shred_after_days``) ends the engagement at once
and answers, once the return package is sealed and stored, with where the
termination stands. ``GET /engagements/{id}/termination`` shows that to
either side: the state and why, the package's SHA-256, when the data is
due to be destroyed, whether a certificate exists.
``GET /engagements/{id}/return-package`` streams the sealed package to the
practice (audited first); ``POST /engagements/{id}/return-package`` makes
it again if the termination's own export was cut off.
``POST /engagements/{id}/termination/receipt`` confirms receipt, which
shreds the data at once unless another engagement holds it;
``GET /engagements/{id}/certificate`` is the signed certificate of
destruction, byte for byte (check it with ``claimbridge engagements
verify-certificate``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from claimbridge.access.permissions import Permission
from claimbridge.access.principal import Principal
from claimbridge.api.context import AppContext, app_context
from claimbridge.api.security import Caller, request_id, requires, with_caller
from claimbridge.crypto.passphrase import check_passphrase
from claimbridge.vendors.offboarding import (
    Offboarding,
    TerminationState,
    TerminationView,
    certificate_of,
    confirm_and_shred,
    export_return_package,
    open_return_package,
    terminate,
    termination_status,
)

router = APIRouter(tags=["engagements"])
Ctx = Annotated[AppContext, Depends(app_context)]
_CHUNK = 1 << 20


class TerminationBody(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)
    passphrase: str = Field(
        description="Seals the return package; the practice needs it to open the package."
    )
    shred_after_days: int | None = Field(
        default=None,
        ge=1,
        le=3650,
        description="Destroy the data this long after, if receipt is never confirmed "
        "(default: the server's offboarding_shred_after_days, 30 unless configured).",
    )


class ExportBody(BaseModel):
    passphrase: str


def _parts(ctx: AppContext) -> Offboarding:
    return Offboarding(
        keyring=ctx.keyring,
        files=ctx.files,
        server_key=ctx.audit_key,
    )


def _export(
    request: Request, ctx: AppContext, principal: Principal, engagement_id: str, passphrase: str
) -> TerminationView:
    return export_return_package(
        ctx.sessions,
        _parts(ctx),
        principal,
        engagement_id,
        passphrase=passphrase,
        now=ctx.clock.now(),
        request_id=request_id(request),
    )


@router.post(
    "/engagements/{engagement_id}/termination",
    status_code=201,
    openapi_extra=requires(Permission.ENGAGEMENT_MANAGE),
)
def terminate_engagement(
    engagement_id: str, body: TerminationBody, request: Request, ctx: Ctx
) -> JSONResponse:
    """End the engagement now, then seal and store the practice's return package."""
    check_passphrase(body.passphrase)  # before anything ends: a package must follow

    def work(session: Session, caller: Caller) -> tuple[TerminationView, Principal]:
        view = terminate(
            session,
            caller.principal,
            engagement_id,
            reason=body.reason,
            now=ctx.clock.now(),
            shred_after=timedelta(
                days=body.shred_after_days or ctx.settings.offboarding_shred_after_days
            ),
            request_id=request_id(request),
        )
        return view, caller.principal

    view, principal = with_caller(request, ctx, work)
    if view.state is TerminationState.PACKAGE_PENDING:
        view = _export(request, ctx, principal, engagement_id, body.passphrase)
    return JSONResponse(view.to_json(), status_code=201)


@router.get(
    "/engagements/{engagement_id}/termination",
    openapi_extra=requires(Permission.ENGAGEMENT_READ),
)
def get_termination(engagement_id: str, request: Request, ctx: Ctx) -> dict[str, Any]:
    """Where the termination stands, and why; either side of the engagement may ask."""

    def work(session: Session, caller: Caller) -> dict[str, Any]:
        view = termination_status(
            session,
            caller.principal,
            engagement_id,
            now=ctx.clock.now(),
            request_id=request_id(request),
        )
        return view.to_json()

    result: dict[str, Any] = with_caller(request, ctx, work)
    return result


@router.post(
    "/engagements/{engagement_id}/return-package",
    status_code=201,
    openapi_extra=requires(Permission.ENGAGEMENT_MANAGE),
)
def export_package(
    engagement_id: str, body: ExportBody, request: Request, ctx: Ctx
) -> JSONResponse:
    """Make the return package of a terminated engagement that has none (an export cut off)."""
    check_passphrase(body.passphrase)
    principal = with_caller(request, ctx, lambda _session, caller: caller.principal)
    view = _export(request, ctx, principal, engagement_id, body.passphrase)
    return JSONResponse(view.to_json(), status_code=201)


@router.get(
    "/engagements/{engagement_id}/return-package",
    openapi_extra=requires(Permission.ENGAGEMENT_MANAGE),
)
def download_package(engagement_id: str, request: Request, ctx: Ctx) -> StreamingResponse:
    """The sealed return package, as stored; the download is audited before it starts."""
    parts = _parts(ctx)
    download = with_caller(
        request,
        ctx,
        lambda session, caller: open_return_package(
            session,
            parts,
            caller.principal,
            engagement_id,
            now=ctx.clock.now(),
            request_id=request_id(request),
        ),
    )

    def chunks() -> Iterator[bytes]:
        with parts.files.reader(download.practice_id, download.blob_key, download.key) as stream:
            while chunk := stream.read(_CHUNK):
                yield chunk

    return StreamingResponse(
        chunks(),
        media_type="application/octet-stream",
        headers={
            "Content-Length": str(download.size),
            "Content-Disposition": (
                f'attachment; filename="return-package-{download.engagement_id}.cbpw"'
            ),
            "X-Content-SHA256": download.sha256,
        },
    )


@router.post(
    "/engagements/{engagement_id}/termination/receipt",
    openapi_extra=requires(Permission.ENGAGEMENT_MANAGE),
)
def confirm_receipt(engagement_id: str, request: Request, ctx: Ctx) -> dict[str, Any]:
    """The practice has its package: its data is shredded now, unless something holds it."""
    principal = with_caller(request, ctx, lambda _session, caller: caller.principal)
    view = confirm_and_shred(
        ctx.sessions,
        _parts(ctx),
        principal,
        engagement_id,
        now=ctx.clock.now(),
        request_id=request_id(request),
    )
    return view.to_json()


@router.get(
    "/engagements/{engagement_id}/certificate",
    openapi_extra=requires(Permission.ENGAGEMENT_READ),
)
def get_certificate(engagement_id: str, request: Request, ctx: Ctx) -> Response:
    """The signed certificate of destruction, byte for byte as issued."""
    raw: bytes = with_caller(
        request,
        ctx,
        lambda session, caller: certificate_of(
            session,
            caller.principal,
            engagement_id,
            now=ctx.clock.now(),
            request_id=request_id(request),
        ),
    )
    return Response(
        raw,
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="certificate-of-destruction.json"'},
    )
