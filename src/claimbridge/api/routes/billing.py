"""Billing over HTTP: a practice's ready claims out in an 837P.

``POST /practices/{practice_id}/claims/submissions`` is a biller's: it
sends up to ``limit`` of the practice's ``ready`` claims, oldest first, in
one 837P and answers with what went, what the scrub holds and what is
left (201 when a batch was made, 200 when nothing was ready). The 837P
itself is fetched, audited, with ``GET /batches/{batch_id}/content``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from claimbridge.access.permissions import Permission
from claimbridge.api.context import AppContext, app_context
from claimbridge.api.security import Caller, request_id, requires, with_caller
from claimbridge.billing.outbound import DEFAULT_LIMIT, MAX_LIMIT, outbound_837p
from claimbridge.errors import ConfigError

router = APIRouter(tags=["billing"])
Ctx = Annotated[AppContext, Depends(app_context)]


@router.post(
    "/practices/{practice_id}/claims/submissions",
    status_code=201,
    openapi_extra=requires(Permission.CLAIM_SUBMIT),
)
def submit_claims(
    practice_id: str,
    request: Request,
    ctx: Ctx,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> JSONResponse:
    """Send the practice's ready claims in one 837P; flagged claims stay held."""
    service = ctx.batches
    if service is None:
        raise ConfigError("This server keeps no batches.")

    def work(session: Session, caller: Caller) -> dict[str, Any]:
        outbound = outbound_837p(
            session,
            ctx.keyring,
            service.files,
            caller.principal,
            practice_id=practice_id,
            now=ctx.clock.now(),
            request_id=request_id(request),
            limit=limit,
        )
        return outbound.to_json()

    summary = with_caller(request, ctx, work)
    return JSONResponse(summary, status_code=201 if summary["batch_id"] else 200)
