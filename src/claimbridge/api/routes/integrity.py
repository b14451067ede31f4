"""Claim integrity over HTTP: findings and decisions, the encounter log, reference tables.

``GET /findings`` lists what the scrub found (filter by ``batch_id``,
``claim_id``, ``status``); ``POST /findings/{id}/decision`` overrides or
resolves one with a reason (practice admins and coders). ``POST
/encounters`` lets the practice attest the encounters it documented, apart
from any claim. ``GET /reference-tables`` says which NCCI and LEIE
versions the scrub uses.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from claimbridge.access.permissions import Permission
from claimbridge.api.context import AppContext, app_context
from claimbridge.api.security import Caller, request_id, requires, with_caller
from claimbridge.errors import AccessDenied
from claimbridge.formats.csv.encounters import AttestedEncounter
from claimbridge.integrity.findings import FindingAccess
from claimbridge.integrity.references import in_effect, list_references
from claimbridge.phi.attestations import MAX_ATTESTATION, attest_encounters
from claimbridge.storage.integrity import TableKind
from claimbridge.types import NPI

router = APIRouter(tags=["integrity"])
Ctx = Annotated[AppContext, Depends(app_context)]


class DecisionBody(BaseModel):
    status: Literal["overridden", "resolved"]
    reason: str = Field(min_length=1, max_length=2000)


class EncounterIn(BaseModel):
    mrn: str | None = Field(default=None, max_length=40)
    family_name: str = Field(min_length=1, max_length=60)
    given_name: str = Field(min_length=1, max_length=60)
    birth_date: date
    rendering_npi: str = Field(pattern=r"^\d{10}$")
    date_of_service: date
    place_of_service: str = Field(pattern=r"^\d{2}$")


class AttestationBody(BaseModel):
    encounters: list[EncounterIn] = Field(min_length=1, max_length=MAX_ATTESTATION)


def _findings(request: Request, ctx: Ctx, work: Any) -> Any:
    def run(session: Session, caller: Caller) -> Any:
        access = FindingAccess(
            session,
            caller.principal,
            ctx.keyring,
            now=ctx.clock.now(),
            request_id=request_id(request),
        )
        return work(access)

    return with_caller(request, ctx, run)


@router.get("/findings", openapi_extra=requires(Permission.FINDING_READ))
def list_findings(
    request: Request,
    ctx: Ctx,
    batch_id: str | None = None,
    claim_id: str | None = None,
    status: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    result: dict[str, Any] = _findings(
        request,
        ctx,
        lambda a: a.list(
            batch_id=batch_id, claim_id=claim_id, status=status, limit=limit, offset=offset
        ),
    )
    return result


@router.get("/findings/{finding_id}", openapi_extra=requires(Permission.FINDING_READ))
def get_finding(finding_id: str, request: Request, ctx: Ctx) -> dict[str, Any]:
    result: dict[str, Any] = _findings(request, ctx, lambda a: a.get(finding_id))
    return result


@router.post("/findings/{finding_id}/decision", openapi_extra=requires(Permission.FINDING_OVERRIDE))
def decide_finding(
    finding_id: str, body: DecisionBody, request: Request, ctx: Ctx
) -> dict[str, Any]:
    """Override (accept as billed) or resolve a finding; the reason is kept, sealed."""
    result: dict[str, Any] = _findings(
        request, ctx, lambda a: a.decide(finding_id, status=body.status, reason=body.reason)
    )
    return result


@router.post("/encounters", status_code=201, openapi_extra=requires(Permission.ENCOUNTER_ATTEST))
def attest(body: AttestationBody, request: Request, ctx: Ctx) -> dict[str, Any]:
    """The caller's practice attests encounters it documented; claims are held against them."""

    def work(session: Session, caller: Caller) -> dict[str, Any]:
        encounters = [_encounter(item, at) for at, item in enumerate(body.encounters)]
        result = attest_encounters(
            session,
            ctx.keyring,
            caller.principal,
            encounters,
            practice_id=caller.principal.organisation_id,
            now=ctx.clock.now(),
            request_id=request_id(request),
        )
        return result.to_json()

    answer: dict[str, Any] = with_caller(request, ctx, work)
    return answer


@router.get("/reference-tables", openapi_extra=requires(Permission.FINDING_READ))
def reference_tables(request: Request, ctx: Ctx) -> dict[str, Any]:
    """The NCCI and LEIE versions loaded, and which one the scrub uses today (no PHI)."""

    def work(session: Session, caller: Caller) -> dict[str, Any]:
        permissions = caller.principal.permissions
        if not permissions & {Permission.FINDING_READ, Permission.TABLE_MANAGE}:
            raise AccessDenied(where="permission")
        today = ctx.clock.now().date()
        current = {kind: in_effect(session, kind, today) for kind in TableKind}
        return {
            "items": [
                {
                    "id": v.id,
                    "kind": v.kind,
                    "label": v.label,
                    "quarter": v.quarter,
                    "effective_from": v.effective_from.isoformat(),
                    "row_count": v.row_count,
                    "status": v.status,
                    "in_effect": (found := current[TableKind(v.kind)]) is not None
                    and found.id == v.id,
                }
                for v in list_references(session)
            ]
        }

    result: dict[str, Any] = with_caller(request, ctx, work)
    return result


def _encounter(item: EncounterIn, at: int) -> AttestedEncounter:
    NPI.parse(item.rendering_npi, where=f"encounters.{at}.rendering_npi")
    return AttestedEncounter(
        mrn=item.mrn,
        family_name=item.family_name,
        given_name=item.given_name,
        birth_date=item.birth_date,
        rendering_npi=item.rendering_npi,
        date_of_service=item.date_of_service,
        place_of_service=item.place_of_service,
    )
