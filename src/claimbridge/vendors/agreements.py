"""Business associate agreements: the signed BAA of an engagement, its terms and its document.

A practice's admin (``vendors:engagement:manage``, with a second factor)
records the BAA both parties signed: its version, who signed for each
side, when it was signed, takes effect and (if ever) expires, its key
terms, and the signed document itself. HIPAA asks these terms of a BAA
(45 CFR 164.504(e)); the ones recorded are those the engagement relies on:

- ``breach_notice_days``: how soon the billing company reports a breach
  to the practice, 1 to 60 days (164.410 allows at most 60);
- ``subcontractor_flow_down``: subcontractors are bound by the same terms
  (164.502(e)(1)(ii));
- ``on_termination``: return, destroy, or return what can be returned and
  destroy the rest (164.504(e)(2)(ii)(J)).

The document is sealed under the practice's key (``crypto/files.py``); the
row keeps its SHA-256, size and media type, sniffed from its first bytes
(a PDF, or a scan as PNG, JPEG or TIFF). Recording a new BAA supersedes
the one before and runs the engagement gate in the same transaction
(``access/engagements.py``), so access opens or stays open at once.

Both parties (``vendors:engagement:read``) read the terms and download the
document; each download is audited (``vendors:baa:downloaded``), like the
signing (``vendors:baa:signed``). Refusals are audited too.
"""

from __future__ import annotations

import enum
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from claimbridge.access.engagements import refresh
from claimbridge.access.permissions import Permission
from claimbridge.access.principal import Principal, actor_of
from claimbridge.audit.record import AuditedDenial
from claimbridge.crypto.errors import DecryptionFailed
from claimbridge.crypto.files import SealedFiles
from claimbridge.errors import Conflict, NotFound, PayloadTooLarge, ValidationFailed
from claimbridge.storage.orgs import Engagement, EngagementStatus
from claimbridge.storage.vendors import BusinessAssociateAgreement
from claimbridge.vendors.parties import EngagementScope

__all__ = [
    "MAX_BAA_BYTES",
    "MAX_BREACH_NOTICE_DAYS",
    "BAADocument",
    "BAATerms",
    "OnTermination",
    "baa_json",
    "baa_versions",
    "current_baa",
    "read_baa_document",
    "record_baa",
]

MAX_BAA_BYTES = 25 * 1024 * 1024
"""The largest signed document accepted: a scanned contract, not a data set."""
MAX_BREACH_NOTICE_DAYS = 60
"""HIPAA's outer limit for notifying the covered entity of a breach (45 CFR 164.410(b))."""

SIGNED = "vendors:baa:signed"
DOWNLOADED = "vendors:baa:downloaded"
READ = "vendors:baa:read"

# Media types accepted, by the bytes they start with. A document is stored
# with the type its content shows, never one merely claimed, because the
# type goes back out in a download's Content-Type.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
)
_SNIFF_BYTES = 8


class OnTermination(enum.StrEnum):
    RETURN = "return"
    DESTROY = "destroy"
    RETURN_OR_DESTROY = "return_or_destroy"


@dataclass(frozen=True, slots=True)
class BAATerms:
    version: str
    practice_signatory: str
    vendor_signatory: str
    signed_on: date
    effective_on: date
    breach_notice_days: int
    subcontractor_flow_down: bool
    on_termination: str
    expires_on: date | None = None

    def checked(self, *, today: date) -> BAATerms:
        """These terms with text tidied, or ``ValidationFailed`` naming the field that is wrong."""
        version = _text(self.version, "version", 40)
        practice = _text(self.practice_signatory, "practice_signatory", 200)
        vendor = _text(self.vendor_signatory, "vendor_signatory", 200)
        _check_dates(self, today)
        if not 1 <= self.breach_notice_days <= MAX_BREACH_NOTICE_DAYS:
            raise ValidationFailed(
                "The breach notification window is 1 to 60 days: HIPAA allows at most 60 "
                "(45 CFR 164.410).",
                where="breach_notice_days",
            )
        try:
            on_termination = OnTermination(self.on_termination).value
        except ValueError:
            raise ValidationFailed(
                "On termination the PHI is returned, destroyed, or returned or destroyed "
                "(return, destroy or return_or_destroy).",
                where="on_termination",
            ) from None
        return BAATerms(
            version=version,
            practice_signatory=practice,
            vendor_signatory=vendor,
            signed_on=self.signed_on,
            effective_on=self.effective_on,
            expires_on=self.expires_on,
            breach_notice_days=self.breach_notice_days,
            subcontractor_flow_down=bool(self.subcontractor_flow_down),
            on_termination=on_termination,
        )


def _text(value: str, where: str, limit: int) -> str:
    text = " ".join((value or "").split())
    if not text:
        raise ValidationFailed(f"The {where.replace('_', ' ')} is missing.", where=where)
    if len(text) > limit or not text.isprintable():
        raise ValidationFailed(
            f"The {where.replace('_', ' ')} is at most {limit} printable characters.", where=where
        )
    return text


def _check_dates(terms: BAATerms, today: date) -> None:
    if terms.signed_on > today:
        raise ValidationFailed(
            f"The BAA cannot be signed in the future (signed_on {terms.signed_on}, today {today}).",
            where="signed_on",
        )
    if terms.effective_on < terms.signed_on:
        raise ValidationFailed(
            f"The BAA cannot take effect ({terms.effective_on}) before it was signed "
            f"({terms.signed_on}).",
            where="effective_on",
        )
    if terms.expires_on is not None and terms.expires_on <= terms.effective_on:
        raise ValidationFailed(
            f"The BAA must expire ({terms.expires_on}) after it takes effect "
            f"({terms.effective_on}).",
            where="expires_on",
        )
    if terms.expires_on is not None and terms.expires_on < today:
        raise ValidationFailed(
            f"The BAA expired on {terms.expires_on}: record one in force.", where="expires_on"
        )


@dataclass(frozen=True, slots=True)
class BAADocument:
    """A signed BAA's document, decrypted, and the row it belongs to."""

    baa: BusinessAssociateAgreement
    content: bytes

    @property
    def filename(self) -> str:
        extension = {
            "application/pdf": "pdf",
            "image/png": "png",
            "image/jpeg": "jpg",
            "image/tiff": "tiff",
        }.get(self.baa.media_type, "bin")
        safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in self.baa.version)
        return f"baa-{safe}.{extension}"


class _Limited:
    """A reader that counts what passes through, refuses past ``limit``, keeps the head."""

    def __init__(self, src: BinaryIO, limit: int) -> None:
        self._src = src
        self._limit = limit
        self.size = 0
        self.head = b""

    def read(self, size: int = -1) -> bytes:
        chunk = self._src.read(size)
        self.size += len(chunk)
        if self.size > self._limit:
            raise PayloadTooLarge(
                f"A BAA document is at most {self._limit // (1024 * 1024)} MiB.", where="document"
            )
        if len(self.head) < _SNIFF_BYTES:
            self.head += chunk[: _SNIFF_BYTES - len(self.head)]
        return chunk


def _media_type(head: bytes, declared: str | None) -> str:
    if not head:
        raise ValidationFailed("The document is empty.", where="document")
    found = next((kind for magic, kind in _SIGNATURES if head.startswith(magic)), None)
    if found is None:
        raise ValidationFailed(
            "The document is not a PDF (nor a scan as PNG, JPEG or TIFF).", where="document"
        )
    claimed = (declared or "").split(";")[0].strip().lower()
    if claimed and claimed not in {"application/octet-stream", found}:
        raise ValidationFailed(
            f"The document was declared {claimed} but its content is {found}.",
            where="media_type",
        )
    return found


def record_baa(
    session: Session,
    files: SealedFiles,
    principal: Principal,
    engagement_id: str,
    *,
    terms: BAATerms,
    document: BinaryIO,
    now: datetime,
    media_type: str | None = None,
    request_id: str | None = None,
    max_bytes: int = MAX_BAA_BYTES,
) -> BusinessAssociateAgreement:
    """Record the signed BAA of an engagement and run the gate (not committed)."""
    scope = EngagementScope(session, principal, now=now, request_id=request_id)
    engagement = scope.find(
        engagement_id, Permission.ENGAGEMENT_MANAGE, SIGNED, resource_type="baa"
    )
    if principal.organisation_id != engagement.practice_id:
        # The practice, the covered entity, records the agreement it signed.
        scope.audit(
            SIGNED, resource_type="baa", resource_id=engagement_id, tenant=None, denied=True
        )
        raise AuditedDenial(NotFound("No such engagement.", where="engagement"))
    # Two recordings at once take turns, so the second supersedes the first.
    session.refresh(engagement, with_for_update=True)
    if engagement.status == EngagementStatus.TERMINATED.value:
        raise Conflict(
            "The engagement was terminated; a BAA can no longer be recorded for it.",
            where="engagement.status",
        )
    checked = terms.checked(today=now.date())
    row = _store(
        session,
        files,
        engagement,
        terms=checked,
        upload=_Limited(document, max_bytes),
        declared=media_type,
        now=now,
    )
    row.recorded_by = principal.user_id
    session.flush()
    scope.audit(SIGNED, resource_type="baa", resource_id=row.id, tenant=engagement.practice_id)
    refresh(session, engagement, now=now, actor=actor_of(principal))
    return row


def _store(
    session: Session,
    files: SealedFiles,
    engagement: Engagement,
    *,
    terms: BAATerms,
    upload: _Limited,
    declared: str | None,
    now: datetime,
) -> BusinessAssociateAgreement:
    stored = files.put(session, engagement.practice_id, upload)  # type: ignore[arg-type]
    try:
        kind = _media_type(upload.head, declared)
        for previous in _in_force(session, engagement.id):
            previous.superseded_at = now
        row = BusinessAssociateAgreement(
            engagement_id=engagement.id,
            version=terms.version,
            practice_signatory=terms.practice_signatory,
            vendor_signatory=terms.vendor_signatory,
            signed_on=terms.signed_on,
            effective_on=terms.effective_on,
            expires_on=terms.expires_on,
            breach_notice_days=terms.breach_notice_days,
            subcontractor_flow_down=terms.subcontractor_flow_down,
            on_termination=terms.on_termination,
            blob_key=stored.blob_key,
            sha256=stored.sha256,
            size=stored.size_bytes,
            media_type=kind,
            signed_at=now,
        )
        session.add(row)
        engagement.baa_signed_at = now
        session.flush()
    except BaseException:
        files.store.delete(stored.blob_key)
        raise
    return row


def _in_force(session: Session, engagement_id: str) -> Sequence[BusinessAssociateAgreement]:
    return session.scalars(
        select(BusinessAssociateAgreement).where(
            BusinessAssociateAgreement.engagement_id == engagement_id,
            BusinessAssociateAgreement.superseded_at.is_(None),
        )
    ).all()


def baa_versions(session: Session, engagement_id: str) -> Sequence[BusinessAssociateAgreement]:
    """Every BAA recorded for the engagement, newest first."""
    return session.scalars(
        select(BusinessAssociateAgreement)
        .where(BusinessAssociateAgreement.engagement_id == engagement_id)
        .order_by(BusinessAssociateAgreement.signed_at.desc(), BusinessAssociateAgreement.id)
    ).all()


def current_baa(
    session: Session,
    principal: Principal,
    engagement_id: str,
    *,
    now: datetime,
    request_id: str | None = None,
) -> dict[str, Any]:
    """The BAA in force (``None`` if none) and those it superseded, for either party."""
    scope = EngagementScope(session, principal, now=now, request_id=request_id)
    engagement = scope.find(engagement_id, Permission.ENGAGEMENT_READ, READ, resource_type="baa")
    versions = baa_versions(session, engagement.id)
    current = next((v for v in versions if v.superseded_at is None), None)
    return {
        "engagement_id": engagement.id,
        "current": baa_json(current) if current else None,
        "superseded": [baa_json(v) for v in versions if v.superseded_at is not None],
    }


def read_baa_document(
    session: Session,
    files: SealedFiles,
    principal: Principal,
    engagement_id: str,
    *,
    now: datetime,
    baa_id: str | None = None,
    request_id: str | None = None,
) -> BAADocument:
    """The signed document of the BAA in force (or of ``baa_id``), decrypted; audited."""
    scope = EngagementScope(session, principal, now=now, request_id=request_id)
    engagement = scope.find(
        engagement_id, Permission.ENGAGEMENT_READ, DOWNLOADED, resource_type="baa"
    )
    versions = baa_versions(session, engagement.id)
    chosen = next(
        (v for v in versions if (v.id == baa_id if baa_id else v.superseded_at is None)), None
    )
    if chosen is None:
        raise NotFound("No signed BAA is on record for this engagement.", where="baa")
    scope.audit(
        DOWNLOADED, resource_type="baa", resource_id=chosen.id, tenant=engagement.practice_id
    )
    out = io.BytesIO()
    files.read_into(session, engagement.practice_id, chosen.blob_key, out)
    content = out.getvalue()
    if hashlib.sha256(content).hexdigest() != chosen.sha256:
        raise DecryptionFailed(detail="the BAA document does not match its recorded hash")
    return BAADocument(chosen, content)


def baa_json(row: BusinessAssociateAgreement) -> dict[str, Any]:
    return {
        "id": row.id,
        "engagement_id": row.engagement_id,
        "version": row.version,
        "practice_signatory": row.practice_signatory,
        "vendor_signatory": row.vendor_signatory,
        "signed_on": row.signed_on.isoformat(),
        "effective_on": row.effective_on.isoformat(),
        "expires_on": row.expires_on.isoformat() if row.expires_on else None,
        "terms": {
            "breach_notice_days": row.breach_notice_days,
            "subcontractor_flow_down": row.subcontractor_flow_down,
            "on_termination": row.on_termination,
        },
        "document": {"sha256": row.sha256, "size": row.size, "media_type": row.media_type},
        "recorded_at": row.signed_at.isoformat(),
        "recorded_by": row.recorded_by,
        "superseded_at": row.superseded_at.isoformat() if row.superseded_at else None,
    }
