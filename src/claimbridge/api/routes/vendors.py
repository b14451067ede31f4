"""Vendor risk over HTTP: choosing, inviting and assessing billing companies.

The practice's side (``vendors:engagement:manage``): ``GET /vendors`` (the
billing companies it may invite, with its engagement with each), ``GET
/vendors/comparison`` (candidates side by side), ``POST
/vendors/{id}/invitations`` and ``POST /vendors/{id}/assessments`` (a
reassessment), ``PUT /assessments/{id}/reviews/{question}``, ``POST
.../closure`` and ``POST /assessments/{id}/decision``.

The billing company's side (``vendors:questionnaire:answer``): ``PUT
/assessments/{id}/answers``, ``POST /assessments/{id}/evidence`` (the
document as the raw body, what it is in the query), ``POST
/assessments/{id}/submission`` and ``POST .../resolution``.

Both read (``vendors:engagement:read``): ``GET /assessments``, ``GET
/assessments/{id}``, the documents, and ``GET /questionnaires/{version}``.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Annotated, Any, Literal

import anyio
import anyio.to_thread
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.requests import ClientDisconnect

from claimbridge.access.permissions import Permission
from claimbridge.api.context import AppContext, app_context
from claimbridge.api.security import Caller, request_id, requires, with_caller
from claimbridge.audit.record import unit_of_work
from claimbridge.crypto.files import SealedFiles
from claimbridge.errors import InputError, PayloadTooLarge
from claimbridge.vendors import assessments, reviews
from claimbridge.vendors.evidence import (
    MAX_EVIDENCE_BYTES,
    EvidenceUpload,
    add_evidence,
    evidence_content,
    may_upload,
)
from claimbridge.vendors.selection import DEFAULT_EXPIRING_DAYS, compare, load_candidates
from claimbridge.vendors.views import (
    assessment_view,
    list_assessments,
    list_vendors,
    questionnaire_for,
)

router = APIRouter(tags=["vendors"])
Ctx = Annotated[AppContext, Depends(app_context)]
Note = Annotated[str, Field(min_length=1, max_length=assessments.MAX_NOTE)]

# A document goes back out only as a download, and with a type a browser will
# not run: whatever else was declared is served as plain bytes.
_SERVED_AS_IS = frozenset(
    {
        "application/pdf",
        "image/png",
        "image/jpeg",
        "image/tiff",
        "text/plain",
        "text/csv",
        "application/zip",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
)


class InvitationBody(BaseModel):
    questionnaire_version: str | None = Field(default=None, max_length=40)


class AnswersBody(BaseModel):
    answers: dict[str, Any] = Field(default_factory=dict)
    comments: dict[str, str | None] = Field(default_factory=dict)


class ReviewBody(BaseModel):
    decision: Literal["accepted", "rejected", "remediation"]
    due_on: dt.date | None = None
    critical: bool | None = None
    note: str | None = Field(default=None, max_length=assessments.MAX_NOTE)


class ResolutionBody(BaseModel):
    resolution: Note


class DecisionBody(BaseModel):
    decision: Literal["approved", "rejected"]
    note: Note


def _files(ctx: AppContext) -> SealedFiles:
    return ctx.files


def _run(request: Request, ctx: Ctx, work: Any) -> dict[str, Any]:
    """Authenticate, then ``work(session, principal, now, request_id)`` in one transaction."""

    def run(session: Session, caller: Caller) -> dict[str, Any]:
        result: dict[str, Any] = work(
            session, caller.principal, ctx.clock.now(), request_id(request)
        )
        return result

    return with_caller(request, ctx, run)


# -- the practice chooses and invites ------------------------------------------------------


@router.get("/vendors", openapi_extra=requires(Permission.ENGAGEMENT_READ))
def vendors(request: Request, ctx: Ctx) -> dict[str, Any]:
    """Every billing company, with the caller's practice's engagement with it (if any)."""
    return _run(request, ctx, lambda s, p, now, _rid: list_vendors(s, p, now=now))


@router.get("/vendors/comparison", openapi_extra=requires(Permission.ENGAGEMENT_MANAGE))
def comparison(
    request: Request,
    ctx: Ctx,
    ids: Annotated[list[str] | None, Query(max_length=20)] = None,
    within_days: Annotated[int, Query(ge=0, le=3650)] = DEFAULT_EXPIRING_DAYS,
) -> dict[str, Any]:
    """Candidates side by side, best first (``ids``: default, the companies engaged).

    ``ids`` may repeat (``?ids=a&ids=b``) or be comma-separated.
    """
    wanted = [part for item in ids or [] for part in item.split(",") if part.strip()]

    def work(session: Session, principal: Any, now: dt.datetime, rid: str | None) -> Any:
        loaded = load_candidates(session, principal, wanted, now=now, request_id=rid)
        return compare(loaded, today=now.date(), expiring_within_days=within_days).to_json()

    return _run(request, ctx, work)


@router.post(
    "/vendors/{company_id}/invitations",
    status_code=201,
    openapi_extra=requires(Permission.ENGAGEMENT_MANAGE),
)
def invite(
    company_id: str, request: Request, ctx: Ctx, body: InvitationBody | None = None
) -> dict[str, Any]:
    """Invite a billing company to be assessed: a new engagement and a draft assessment."""
    version = body.questionnaire_version if body else None
    return _run(
        request,
        ctx,
        lambda s, p, now, rid: assessments.invite(
            s, p, company_id, now=now, version=version, request_id=rid
        ),
    )


@router.post(
    "/vendors/{company_id}/assessments",
    status_code=201,
    openapi_extra=requires(Permission.ENGAGEMENT_MANAGE),
)
def reassess(
    company_id: str, request: Request, ctx: Ctx, body: InvitationBody | None = None
) -> dict[str, Any]:
    """Open a reassessment of an engaged company; the last decided one holds meanwhile."""
    version = body.questionnaire_version if body else None
    return _run(
        request,
        ctx,
        lambda s, p, now, rid: assessments.reassess(
            s, p, company_id, now=now, version=version, request_id=rid
        ),
    )


@router.get("/questionnaires/{version}", openapi_extra=requires(Permission.ENGAGEMENT_READ))
def questionnaire(version: str, request: Request, ctx: Ctx) -> dict[str, Any]:
    """A questionnaire version (``latest`` for the newest): sections, questions, options."""
    return _run(
        request,
        ctx,
        lambda s, p, now, _rid: questionnaire_for(s, p, version, now=now),
    )


# -- both sides read ---------------------------------------------------------------------


@router.get("/assessments", openapi_extra=requires(Permission.ENGAGEMENT_READ))
def assessments_list(request: Request, ctx: Ctx, status: str | None = None) -> dict[str, Any]:
    """The assessments of the caller's side of its engagements, newest first."""
    return _run(
        request, ctx, lambda s, p, now, _rid: list_assessments(s, p, now=now, status=status)
    )


@router.get("/assessments/{assessment_id}", openapi_extra=requires(Permission.ENGAGEMENT_READ))
def assessment(assessment_id: str, request: Request, ctx: Ctx) -> dict[str, Any]:
    """One assessment: questions with answers, evidence, reviews, and the score by section."""
    return _run(request, ctx, lambda s, p, now, _rid: assessment_view(s, p, assessment_id, now=now))


@router.get(
    "/assessments/{assessment_id}/evidence/{evidence_id}/content",
    openapi_extra=requires(Permission.ENGAGEMENT_READ),
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "The document."}},
)
def evidence_download(assessment_id: str, evidence_id: str, request: Request, ctx: Ctx) -> Response:
    """A document, decrypted, as a download; audited before it leaves."""

    def work(session: Session, caller: Caller) -> Any:
        return evidence_content(
            session,
            caller.principal,
            _files(ctx),
            assessment_id,
            evidence_id,
            now=ctx.clock.now(),
            request_id=request_id(request),
        )

    document = with_caller(request, ctx, work)
    media_type = (
        document.media_type if document.media_type in _SERVED_AS_IS else "application/octet-stream"
    )
    return Response(
        document.content,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="evidence-{document.meta["id"]}"',
            "X-Content-SHA256": document.meta["sha256"],
        },
    )


# -- the billing company answers ----------------------------------------------------------


@router.put(
    "/assessments/{assessment_id}/answers",
    openapi_extra=requires(Permission.QUESTIONNAIRE_ANSWER),
)
def save_answers(
    assessment_id: str, body: AnswersBody, request: Request, ctx: Ctx
) -> dict[str, Any]:
    """Save some answers to a draft (``null`` clears one); checked whole before any is kept."""
    return _run(
        request,
        ctx,
        lambda s, p, now, rid: assessments.answer(
            s, p, assessment_id, body.answers, comments=body.comments, now=now, request_id=rid
        ),
    )


async def _document(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    too_large = PayloadTooLarge(
        f"A document is at most {MAX_EVIDENCE_BYTES // (1024 * 1024)} MiB.", where="content"
    )
    if declared is not None and declared.isdigit() and int(declared) > MAX_EVIDENCE_BYTES:
        raise too_large
    received = bytearray()
    try:
        async for chunk in request.stream():
            received += chunk
            if len(received) > MAX_EVIDENCE_BYTES:
                raise too_large
    except ClientDisconnect:
        raise InputError("The upload was cut off.", where="content") from None
    return bytes(received)


@router.post(
    "/assessments/{assessment_id}/evidence",
    status_code=201,
    openapi_extra={
        **requires(Permission.QUESTIONNAIRE_ANSWER),
        "requestBody": {
            "required": True,
            "description": "The document itself, as raw bytes (at most 20 MiB).",
            "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
        },
    },
)
async def upload_evidence(
    assessment_id: str,
    request: Request,
    ctx: Ctx,
    question: Annotated[str, Query(min_length=1, max_length=40)],
    title: Annotated[str, Query(min_length=1, max_length=200)],
    issued_on: dt.date,
    expires_on: dt.date | None = None,
) -> JSONResponse:
    """Upload a document for one question; its media type is the ``Content-Type``."""

    # Who is asking first: nobody streams a document in before signing in,
    # and nobody who may not upload one.
    def allowed(session: Session, caller: Caller) -> Any:
        may_upload(session, caller.principal, now=ctx.clock.now(), request_id=request_id(request))
        return caller.principal

    principal = await anyio.to_thread.run_sync(lambda: with_caller(request, ctx, allowed))
    content = await _document(request)
    declared = request.headers.get("content-type", "application/octet-stream")
    upload = EvidenceUpload(
        question=question,
        title=title,
        issued_on=issued_on,
        expires_on=expires_on,
        media_type=declared.split(";")[0].strip() or "application/octet-stream",
    )

    def work(session: Session) -> dict[str, Any]:
        return add_evidence(
            session,
            principal,
            _files(ctx),
            assessment_id,
            upload=upload,
            content=io.BytesIO(content),
            now=ctx.clock.now(),
            request_id=request_id(request),
        )

    stored = await anyio.to_thread.run_sync(lambda: unit_of_work(ctx.sessions, work))
    return JSONResponse(stored, status_code=201)


@router.post(
    "/assessments/{assessment_id}/submission",
    openapi_extra=requires(Permission.QUESTIONNAIRE_ANSWER),
)
def submit(assessment_id: str, request: Request, ctx: Ctx) -> dict[str, Any]:
    """Submit the draft: answers freeze and the score as of today is stored."""
    return _run(
        request,
        ctx,
        lambda s, p, now, rid: assessments.submit(s, p, assessment_id, now=now, request_id=rid),
    )


@router.post(
    "/assessments/{assessment_id}/reviews/{question_id}/resolution",
    openapi_extra=requires(Permission.QUESTIONNAIRE_ANSWER),
)
def report_resolution(
    assessment_id: str, question_id: str, body: ResolutionBody, request: Request, ctx: Ctx
) -> dict[str, Any]:
    """The billing company reports a remediation item done, saying what was done."""
    return _run(
        request,
        ctx,
        lambda s, p, now, rid: reviews.report_remediation(
            s, p, assessment_id, question_id, resolution=body.resolution, now=now, request_id=rid
        ),
    )


# -- the practice reviews and decides -----------------------------------------------------


@router.put(
    "/assessments/{assessment_id}/reviews/{question_id}",
    openapi_extra=requires(Permission.ENGAGEMENT_MANAGE),
)
def review(
    assessment_id: str, question_id: str, body: ReviewBody, request: Request, ctx: Ctx
) -> dict[str, Any]:
    """The practice's verdict on one question: accepted, rejected or remediation by a date."""
    return _run(
        request,
        ctx,
        lambda s, p, now, rid: reviews.review(
            s,
            p,
            assessment_id,
            question_id,
            verdict=body.decision,
            due_on=body.due_on,
            critical=body.critical,
            note=body.note,
            now=now,
            request_id=rid,
        ),
    )


@router.post(
    "/assessments/{assessment_id}/reviews/{question_id}/closure",
    openapi_extra=requires(Permission.ENGAGEMENT_MANAGE),
)
def close_remediation(
    assessment_id: str, question_id: str, request: Request, ctx: Ctx
) -> dict[str, Any]:
    """The practice accepts a reported remediation as done; the gate is run again."""
    return _run(
        request,
        ctx,
        lambda s, p, now, rid: reviews.close_remediation(
            s, p, assessment_id, question_id, now=now, request_id=rid
        ),
    )


@router.post(
    "/assessments/{assessment_id}/decision",
    openapi_extra=requires(Permission.ENGAGEMENT_MANAGE),
)
def decide(assessment_id: str, body: DecisionBody, request: Request, ctx: Ctx) -> dict[str, Any]:
    """Approve or reject a submitted assessment, with a note; the gate follows at once."""
    return _run(
        request,
        ctx,
        lambda s, p, now, rid: assessments.decide(
            s,
            p,
            assessment_id,
            approve=body.decision == "approved",
            note=body.note,
            now=now,
            request_id=rid,
        ),
    )
