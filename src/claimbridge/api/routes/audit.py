"""The audit trail over HTTP: checkpoints, proofs, events, the accounting of disclosures.

Proofs come back as the bundles ``claimbridge audit verify-proof`` checks
(``audit/proofs.py``); the public key to check them with is served here
too, but a practice should pin the one it got out of band.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Path, Query, Request
from sqlalchemy.orm import Session

from claimbridge.access.permissions import Permission
from claimbridge.api.context import AppContext, app_context
from claimbridge.api.security import Caller, request_id, requires, with_caller
from claimbridge.audit.checkpoints import SignedCheckpoint, format_checkpoint
from claimbridge.audit.proofs import dump_proof
from claimbridge.compliance.auditlog import AuditTrail
from claimbridge.errors import ConfigError

router = APIRouter(prefix="/audit", tags=["audit"])
Ctx = Annotated[AppContext, Depends(app_context)]
Size = Annotated[int | None, Query(ge=0, le=2**63 - 1)]
T = TypeVar("T")


def _with_trail(request: Request, ctx: Ctx, work: Callable[[AuditTrail], T]) -> T:
    def run(session: Session, caller: Caller) -> T:
        trail = AuditTrail(
            session,
            ctx.keyring,
            caller.principal,
            now=ctx.clock.now(),
            request_id=request_id(request),
        )
        return work(trail)

    return with_caller(request, ctx, run)


def _checkpoint(signed: SignedCheckpoint) -> dict[str, Any]:
    return {
        "tree_size": signed.checkpoint.tree_size,
        "root_hash": signed.checkpoint.root_hash.hex(),
        "issued_at": signed.checkpoint.issued_at.isoformat(),
        "checkpoint": format_checkpoint(signed),
    }


@router.get("/public-key")
def public_key(ctx: Ctx) -> dict[str, str]:
    """The audit signing key's public half (hex): public by nature, pinned by practices."""
    if ctx.audit_key is None:
        raise ConfigError("This server has no audit signing key.")
    return {"public_key": ctx.audit_key.public_key_bytes().hex()}


@router.get("/checkpoint", openapi_extra=requires(Permission.AUDIT_READ))
def checkpoint(request: Request, ctx: Ctx, tree_size: Size = None) -> dict[str, Any]:
    """The latest signed checkpoint, or the one at ``tree_size``: save it off the server."""
    return _checkpoint(_with_trail(request, ctx, lambda t: t.checkpoint(tree_size)))


@router.post("/checkpoints", status_code=201, openapi_extra=requires(Permission.AUDIT_READ))
def sign_now(request: Request, ctx: Ctx) -> dict[str, Any]:
    """Sign the log as it stands now (so a recent event can be proven)."""
    key = ctx.audit_key
    if key is None:
        raise ConfigError("This server has no audit signing key.")
    return _checkpoint(_with_trail(request, ctx, lambda t: t.sign_now(key)))


@router.get("/proofs/consistency", openapi_extra=requires(Permission.AUDIT_READ))
def consistency(
    request: Request, ctx: Ctx, old_size: Annotated[int, Query(ge=0)], new_size: Size = None
) -> dict[str, Any]:
    """A consistency proof bundle between two checkpoints (default new: the latest)."""
    proof = _with_trail(request, ctx, lambda t: t.consistency(old_size, new_size))
    bundle: dict[str, Any] = json.loads(dump_proof(proof))
    return bundle


@router.get("/events/{seq}/proof", openapi_extra=requires(Permission.AUDIT_READ))
def inclusion(
    seq: Annotated[int, Path(ge=1, le=2**63 - 1)],
    request: Request,
    ctx: Ctx,
    tree_size: Size = None,
) -> dict[str, Any]:
    """An inclusion proof bundle for event ``seq`` in a checkpoint (default: the latest)."""
    proof = _with_trail(request, ctx, lambda t: t.inclusion(seq, tree_size))
    bundle: dict[str, Any] = json.loads(dump_proof(proof))
    return bundle


@router.get("/events", openapi_extra=requires(Permission.AUDIT_READ))
def events(
    request: Request,
    ctx: Ctx,
    since: datetime | None = None,
    until: datetime | None = None,
    action: Annotated[str | None, Query(max_length=100)] = None,
    actor: Annotated[str | None, Query(max_length=36)] = None,
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """The events this principal may see, oldest first; page on with ``after``."""
    items = _with_trail(
        request,
        ctx,
        lambda t: t.events(
            since=since,
            until=until,
            action=action,
            actor_user_id=actor,
            after_seq=after,
            limit=limit,
        ),
    )
    return {"items": items, "next_after": items[-1]["seq"] if items else None}


@router.get("/disclosures/{patient_id}", openapi_extra=requires(Permission.DISCLOSURES_READ))
def disclosures(patient_id: str, request: Request, ctx: Ctx) -> dict[str, Any]:
    """The accounting of disclosures of one patient (45 CFR 164.528)."""
    found = _with_trail(request, ctx, lambda t: t.disclosures(patient_id))
    return {
        "patient_id": patient_id,
        "items": [{**asdict(d), "occurred_at": d.occurred_at.isoformat()} for d in found],
    }
