"""Engagements over HTTP: standing and notices for both parties, and the signed BAA.

``GET /engagements`` lists the caller's organisation's engagements;
``GET /engagements/{id}`` shows one with its standing now (open, or the
condition that failed and why), the deadlines ahead, the BAA's terms, the
latest assessment and recent notices; ``GET /engagements/{id}/notices``
lists its notices. Both parties read them (``vendors:engagement:read``:
practice admins, privacy officers, vendor admins).

``POST /engagements/{id}/baa`` records the signed BAA (practice admins):
the document is the raw request body (``Content-Type: application/pdf``,
or ``image/png``, ``image/jpeg``, ``image/tiff`` for a scan; at most 25 MiB),
the terms are query parameters. ``GET /engagements/{id}/baa`` gives the
terms of the BAA in force and those it superseded;
``GET /engagements/{id}/baa/content`` the signed document (audited).
"""

from __future__ import annotations

import io
from datetime import date
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session
from starlette.requests import ClientDisconnect

from claimbridge.access.permissions import Permission
from claimbridge.api.context import AppContext, app_context
from claimbridge.api.security import Caller, request_id, requires, with_caller
from claimbridge.audit.record import unit_of_work
from claimbridge.crypto.files import SealedFiles
from claimbridge.errors import InputError, PayloadTooLarge
from claimbridge.vendors.agreements import (
    MAX_BAA_BYTES,
    MAX_BREACH_NOTICE_DAYS,
    BAATerms,
    OnTermination,
    baa_json,
    current_baa,
    read_baa_document,
    record_baa,
)
from claimbridge.vendors.overview import list_engagements, list_notices, show_engagement

router = APIRouter(tags=["engagements"])
Ctx = Annotated[AppContext, Depends(app_context)]

_DOCUMENT_BODY = {
    "requestBody": {
        "required": True,
        "description": "The signed BAA document itself, as raw bytes (at most 25 MiB).",
        "content": {
            kind: {"schema": {"type": "string", "format": "binary"}}
            for kind in ("application/pdf", "image/png", "image/jpeg", "image/tiff")
        },
    }
}


def _files(ctx: AppContext) -> SealedFiles:
    return ctx.files


@router.get("/engagements", openapi_extra=requires(Permission.ENGAGEMENT_READ))
def engagements(request: Request, ctx: Ctx) -> dict[str, Any]:
    """The caller's organisation's engagements, newest first, with whether each is open now."""

    def work(session: Session, caller: Caller) -> dict[str, Any]:
        items = list_engagements(
            session, caller.principal, now=ctx.clock.now(), request_id=request_id(request)
        )
        return {"items": items}

    result: dict[str, Any] = with_caller(request, ctx, work)
    return result


@router.get("/engagements/{engagement_id}", openapi_extra=requires(Permission.ENGAGEMENT_READ))
def engagement(engagement_id: str, request: Request, ctx: Ctx) -> dict[str, Any]:
    """One engagement: standing now, deadlines ahead, BAA terms, assessment, notices."""

    def work(session: Session, caller: Caller) -> dict[str, Any]:
        return show_engagement(
            session,
            caller.principal,
            engagement_id,
            now=ctx.clock.now(),
            request_id=request_id(request),
        )

    result: dict[str, Any] = with_caller(request, ctx, work)
    return result


@router.get(
    "/engagements/{engagement_id}/notices", openapi_extra=requires(Permission.ENGAGEMENT_READ)
)
def notices(
    engagement_id: str,
    request: Request,
    ctx: Ctx,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """Lapses, restorations and reminders of one engagement, newest first."""

    def work(session: Session, caller: Caller) -> dict[str, Any]:
        items = list_notices(
            session,
            caller.principal,
            engagement_id,
            now=ctx.clock.now(),
            request_id=request_id(request),
            limit=limit,
        )
        return {"items": items}

    result: dict[str, Any] = with_caller(request, ctx, work)
    return result


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(
            f"A BAA document is at most {limit // (1024 * 1024)} MiB.", where="document"
        )
    received = bytearray()
    try:
        async for chunk in request.stream():
            received += chunk
            if len(received) > limit:
                raise PayloadTooLarge(
                    f"A BAA document is at most {limit // (1024 * 1024)} MiB.", where="document"
                )
    except ClientDisconnect:
        raise InputError("The upload was cut off.", where="document") from None
    return bytes(received)


@router.post(
    "/engagements/{engagement_id}/baa",
    status_code=201,
    openapi_extra={**requires(Permission.ENGAGEMENT_MANAGE), **_DOCUMENT_BODY},
)
async def record(
    engagement_id: str,
    request: Request,
    ctx: Ctx,
    version: Annotated[str, Query(min_length=1, max_length=40)],
    practice_signatory: Annotated[str, Query(min_length=1, max_length=200)],
    vendor_signatory: Annotated[str, Query(min_length=1, max_length=200)],
    signed_on: date,
    effective_on: date,
    breach_notice_days: Annotated[int, Query(ge=1, le=MAX_BREACH_NOTICE_DAYS)],
    subcontractor_flow_down: bool,
    on_termination: OnTermination,
    expires_on: date | None = None,
) -> JSONResponse:
    """Record the signed BAA of an engagement (the practice's admin); supersedes the last.

    The document is the raw body; its type is sniffed from its first bytes
    and must agree with ``Content-Type`` when one is given. The gate is run
    at once: with an approved assessment, access opens.
    """
    # Who is asking first: nobody streams a document in before signing in.
    principal = await anyio.to_thread.run_sync(
        lambda: with_caller(request, ctx, lambda _session, caller: caller.principal)
    )
    content = await _body(request, MAX_BAA_BYTES)
    terms = BAATerms(
        version=version,
        practice_signatory=practice_signatory,
        vendor_signatory=vendor_signatory,
        signed_on=signed_on,
        effective_on=effective_on,
        expires_on=expires_on,
        breach_notice_days=breach_notice_days,
        subcontractor_flow_down=subcontractor_flow_down,
        on_termination=on_termination.value,
    )

    def work(session: Session) -> dict[str, Any]:
        row = record_baa(
            session,
            _files(ctx),
            principal,
            engagement_id,
            terms=terms,
            document=io.BytesIO(content),
            media_type=request.headers.get("content-type"),
            now=ctx.clock.now(),
            request_id=request_id(request),
        )
        return baa_json(row)

    recorded = await anyio.to_thread.run_sync(lambda: unit_of_work(ctx.sessions, work))
    return JSONResponse(recorded, status_code=201)


@router.get("/engagements/{engagement_id}/baa", openapi_extra=requires(Permission.ENGAGEMENT_READ))
def baa(engagement_id: str, request: Request, ctx: Ctx) -> dict[str, Any]:
    """The terms of the BAA in force (``current``, null if none) and those it superseded."""

    def work(session: Session, caller: Caller) -> dict[str, Any]:
        return current_baa(
            session,
            caller.principal,
            engagement_id,
            now=ctx.clock.now(),
            request_id=request_id(request),
        )

    result: dict[str, Any] = with_caller(request, ctx, work)
    return result


@router.get(
    "/engagements/{engagement_id}/baa/content",
    openapi_extra=requires(Permission.ENGAGEMENT_READ),
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "The document."}},
)
def baa_content(
    engagement_id: str, request: Request, ctx: Ctx, baa_id: str | None = None
) -> Response:
    """The signed document of the BAA in force (or of ``baa_id``), decrypted; audited."""

    def work(session: Session, caller: Caller) -> Any:
        return read_baa_document(
            session,
            _files(ctx),
            caller.principal,
            engagement_id,
            now=ctx.clock.now(),
            baa_id=baa_id,
            request_id=request_id(request),
        )

    document = with_caller(request, ctx, work)
    return Response(
        document.content,
        media_type=document.baa.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{document.filename}"',
            "X-Content-SHA256": document.baa.sha256,
        },
    )
