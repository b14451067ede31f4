"""Evidence: the documents behind a vendor's answers, sealed under the vendor's key.

The billing company's admin uploads a document for one question, with its
title, the day it was issued and, for what expires, the day it expires. The
bytes are encrypted into the blob store under the billing company's tenant
key (``crypto/files.py``); the row keeps the blob key, the SHA-256 of the
plaintext and its size. A document the questionnaire requires and that
expires (a SOC 2 report, an ISO 27001 certificate, the insurance
certificate) is a *certificate*: its expiry shuts the engagement's gate.

Evidence may come with a draft and also later, to a submitted or approved
assessment: a renewed certificate replaces one about to expire. Every
upload refreshes the gate in its transaction, so the renewal of a lapsed
certificate restores access at once.

Reading a document back is for the billing company that owns it and for
the engaged practice's admin and privacy officer; each reading is audited
before the bytes leave.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO, cast

from sqlalchemy.orm import Session

from claimbridge.access.engagements import refresh
from claimbridge.access.permissions import Permission
from claimbridge.access.principal import Principal, actor_of
from claimbridge.crypto.files import SealedFiles
from claimbridge.errors import Conflict, NotFound, PayloadTooLarge, StorageError, ValidationFailed
from claimbridge.storage.vendors import AssessmentEvidence, AssessmentStatus
from claimbridge.vendors.assessments import started
from claimbridge.vendors.questionnaires import load
from claimbridge.vendors.steps import Side, Step, live

__all__ = [
    "MAX_EVIDENCE_BYTES",
    "EvidenceContent",
    "EvidenceUpload",
    "add_evidence",
    "evidence_content",
    "evidence_json",
    "may_upload",
]

MAX_EVIDENCE_BYTES = 20 * 1024 * 1024
"""The largest document accepted: a long SOC 2 report as a PDF fits easily."""
MAX_TITLE = 200
_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,62}/[a-z0-9][a-z0-9!#$&^_.+-]{0,98}")

UPLOADED = "vendors:evidence:uploaded"
DOWNLOADED = "vendors:evidence:downloaded"


@dataclass(frozen=True, slots=True)
class EvidenceUpload:
    """What the uploader says of a document: which question, what it is, when it is good."""

    question: str
    title: str
    issued_on: dt.date
    expires_on: dt.date | None = None
    media_type: str = "application/pdf"


@dataclass(frozen=True, slots=True)
class EvidenceContent:
    """A document read back: its row (as JSON) and its plaintext bytes."""

    meta: dict[str, Any]
    content: bytes
    media_type: str


class _Limited:
    """A reader that refuses to pass more than ``limit`` bytes."""

    def __init__(self, src: BinaryIO, limit: int) -> None:
        self._src = src
        self._limit = limit
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self._src.read(size)
        self.size += len(chunk)
        if self.size > self._limit:
            raise PayloadTooLarge(
                f"The document is larger than {self._limit // (1024 * 1024)} MiB.",
                where="content",
            )
        return chunk


def may_upload(
    session: Session, principal: Principal, *, now: datetime, request_id: str | None = None
) -> None:
    """Refuse, audited, a principal who may not upload evidence, before any byte is read."""
    Step(session, principal, now, request_id).require(
        Permission.QUESTIONNAIRE_ANSWER, UPLOADED, resource_type="evidence"
    )


def add_evidence(
    session: Session,
    principal: Principal,
    files: SealedFiles,
    assessment_id: str,
    *,
    upload: EvidenceUpload,
    content: BinaryIO,
    now: datetime,
    request_id: str | None = None,
) -> dict[str, Any]:
    """Seal ``content`` as evidence for one question of the billing company's assessment."""
    step = Step(session, principal, now, request_id)
    step.require(Permission.QUESTIONNAIRE_ANSWER, UPLOADED, resource_type="evidence")
    assessment, engagement = step.assessment(assessment_id, side=Side.VENDOR, action=UPLOADED)
    live(engagement)
    if assessment.status == AssessmentStatus.REJECTED.value:
        raise Conflict("The assessment was rejected.", where="assessment.status")
    question = load(assessment.questionnaire_version).question(upload.question)
    if question is None:
        raise ValidationFailed(
            f"{upload.question} is not a question of {assessment.questionnaire_version}.",
            where="question",
        )
    rule = question.evidence
    certificate = rule is not None and rule.required and rule.expires
    _check(upload, certificate=certificate, today=now.date())
    limited = cast(BinaryIO, _Limited(content, MAX_EVIDENCE_BYTES))
    sealed = files.put(session, engagement.billing_company_id, limited)
    try:
        _not_empty(sealed.size_bytes)
        row = AssessmentEvidence(
            assessment_id=assessment.id,
            question_id=question.id,
            title=upload.title.strip(),
            issued_on=upload.issued_on,
            expires_on=upload.expires_on,
            certificate=certificate,
            blob_key=sealed.blob_key,
            sha256=sealed.sha256,
            size=sealed.size_bytes,
            media_type=upload.media_type.lower(),
            uploaded_at=now,
            uploaded_by=principal.user_id,
        )
        session.add(row)
        started(engagement)
        session.flush()
        step.audit(UPLOADED, "evidence", row.id, tenant=engagement.practice_id)
        # A renewed certificate on the approved assessment reopens a lapsed gate.
        refresh(session, engagement, now=now, actor=actor_of(principal))
    except BaseException:
        files.store.delete(sealed.blob_key)
        raise
    return evidence_json(row, today=now.date())


def _check(upload: EvidenceUpload, *, certificate: bool, today: dt.date) -> None:
    title = upload.title.strip()
    if not title or len(title) > MAX_TITLE:
        raise ValidationFailed(f"A title of 1 to {MAX_TITLE} characters.", where="title")
    media_type = upload.media_type.lower()
    if len(media_type) > 100 or _MEDIA_TYPE.fullmatch(media_type) is None:
        raise ValidationFailed("Not a media type (type/subtype).", where="media_type")
    if upload.issued_on > today:
        raise ValidationFailed("The document is dated in the future.", where="issued_on")
    if upload.expires_on is not None and upload.expires_on < upload.issued_on:
        raise ValidationFailed("The document expires before it was issued.", where="expires_on")
    if certificate and upload.expires_on is None:
        raise ValidationFailed(
            f"{upload.question} needs a certificate that says when it expires.",
            where="expires_on",
        )


def _not_empty(size: int) -> None:
    if size == 0:
        raise ValidationFailed("The document is empty.", where="content")


def evidence_content(
    session: Session,
    principal: Principal,
    files: SealedFiles,
    assessment_id: str,
    evidence_id: str,
    *,
    now: datetime,
    request_id: str | None = None,
) -> EvidenceContent:
    """One document's plaintext, for either side of the engagement; audited before it leaves."""
    step = Step(session, principal, now, request_id)
    step.require(Permission.ENGAGEMENT_READ, DOWNLOADED, resource_type="evidence")
    assessment, engagement = step.assessment(assessment_id, side=Side.EITHER, action=DOWNLOADED)
    row = session.get(AssessmentEvidence, evidence_id)
    if row is None or row.assessment_id != assessment.id:
        step.refuse(
            NotFound("No such evidence.", where="evidence"), DOWNLOADED, "evidence", evidence_id
        )
    out = io.BytesIO()
    files.read_into(session, engagement.billing_company_id, row.blob_key, out)
    content = out.getvalue()
    if hashlib.sha256(content).hexdigest() != row.sha256:
        raise StorageError(detail=f"evidence {row.id}: content does not match its SHA-256")
    step.audit(DOWNLOADED, "evidence", row.id, tenant=engagement.practice_id)
    return EvidenceContent(
        meta=evidence_json(row, today=now.date()), content=content, media_type=row.media_type
    )


def evidence_json(row: AssessmentEvidence, *, today: dt.date) -> dict[str, Any]:
    """A document's metadata (never its content); ``expired`` as of ``today``."""
    return {
        "id": row.id,
        "question": row.question_id,
        "title": row.title,
        "issued_on": row.issued_on.isoformat(),
        "expires_on": row.expires_on.isoformat() if row.expires_on else None,
        "expired": row.expires_on is not None and row.expires_on < today,
        "certificate": row.certificate,
        "media_type": row.media_type,
        "size": row.size,
        "sha256": row.sha256,
        "uploaded_at": row.uploaded_at.isoformat(),
    }
