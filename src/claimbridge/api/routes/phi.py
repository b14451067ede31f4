"""Patients and claims: every read goes through the PHI gateway."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from claimbridge.access.permissions import Permission
from claimbridge.api.context import AppContext, app_context
from claimbridge.api.security import requires, with_gateway

router = APIRouter(tags=["phi"])
Ctx = Annotated[AppContext, Depends(app_context)]
Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0)]
# One practice's records only; a billing company whose engagement with it
# has lapsed is told which condition failed.
Practice = Annotated[str | None, Query(max_length=36)]


def _page(page: Any) -> dict[str, Any]:
    return {"items": page.items, "total": page.total, "limit": page.limit, "offset": page.offset}


@router.get("/patients", openapi_extra=requires(Permission.PATIENT_LIST))
def list_patients(
    request: Request, ctx: Ctx, limit: Limit = 50, offset: Offset = 0, practice: Practice = None
) -> dict[str, Any]:
    return _page(
        with_gateway(
            request, ctx, lambda g: g.list_patients(limit=limit, offset=offset, practice=practice)
        )
    )


@router.get("/patients/{patient_id}", openapi_extra=requires(Permission.PATIENT_READ))
def get_patient(patient_id: str, request: Request, ctx: Ctx) -> dict[str, Any]:
    return with_gateway(request, ctx, lambda g: g.get_patient(patient_id))


@router.get("/claims", openapi_extra=requires(Permission.CLAIM_LIST))
def list_claims(
    request: Request, ctx: Ctx, limit: Limit = 50, offset: Offset = 0, practice: Practice = None
) -> dict[str, Any]:
    return _page(
        with_gateway(
            request, ctx, lambda g: g.list_claims(limit=limit, offset=offset, practice=practice)
        )
    )


@router.get("/claims/{claim_id}", openapi_extra=requires(Permission.CLAIM_READ))
def get_claim(claim_id: str, request: Request, ctx: Ctx) -> dict[str, Any]:
    return with_gateway(request, ctx, lambda g: g.get_claim(claim_id))
