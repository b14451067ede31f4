"""Batches through the gateway: who may see which, and the audited way to their content.

A practice sees the batches it sent, and ours in reply (999s, outbound).
A billing company sees the batches addressed to it, from practices it is
actively engaged by now: when the
engagement lapses, they vanish on the next request. Receipts and batch
metadata hold no PHI, but every read of them is audited; the content is
PHI, and ``content`` writes its disclosure event before returning where it
lies, so nothing is decrypted for anyone the log does not name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session

from claimbridge.access.permissions import Permission
from claimbridge.access.policy import Allowed, decide
from claimbridge.access.principal import Principal
from claimbridge.audit.record import AuditedDenial
from claimbridge.errors import AccessDenied, NotFound
from claimbridge.phi.events import record_access
from claimbridge.storage.batches import Batch
from claimbridge.storage.orgs import OrgKind, engaged_practices

__all__ = ["BatchAccess", "BatchContent", "batch_summary"]

MAX_PAGE = 200


@dataclass(frozen=True, slots=True)
class BatchContent:
    """Where a batch's content lies, released only after its disclosure was recorded."""

    batch_id: str
    practice_id: str
    blob_key: str
    format: str
    size_bytes: int
    content_sha256: str


class BatchAccess:
    def __init__(
        self,
        session: Session,
        principal: Principal,
        *,
        now: datetime,
        request_id: str | None = None,
    ) -> None:
        self.session = session
        self.principal = principal
        self.now = now
        self.request_id = request_id

    def _visible(self) -> Any:
        principal = self.principal
        org = principal.organisation_id
        if principal.organisation_kind is OrgKind.PRACTICE:
            return Batch.practice_id == org
        if principal.organisation_kind is OrgKind.BILLING_COMPANY:
            engaged = engaged_practices(self.session, org, now=self.now)
            return and_(Batch.recipient_id == org, Batch.practice_id.in_(engaged or {""}))
        return Batch.id.is_(None)

    def require_upload(self) -> None:
        """Refuse, audited, a principal who may not send batches at all."""
        decision = decide(self.principal, Permission.BATCH_UPLOAD)
        if not isinstance(decision, Allowed):
            self._audit("exchange:recipients:list", None, None, outcome="denied")
            raise AuditedDenial(AccessDenied(where="permission"))

    def _require(self, action: str, batch_id: str | None) -> None:
        decision = decide(self.principal, Permission.BATCH_READ)
        if not isinstance(decision, Allowed):
            self._audit(action, batch_id, None, outcome="denied")
            raise AuditedDenial(NotFound("No such batch.", where="batch"))

    def list(self, *, limit: int = 50, offset: int = 0) -> dict[str, Any]:
        self._require("exchange:batch:list", None)
        limit = max(1, min(limit, MAX_PAGE))
        query: Select[Any] = select(Batch).where(self._visible())
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = self.session.scalars(
            query.order_by(Batch.received_at.desc(), Batch.id).limit(limit).offset(offset)
        ).all()
        self._audit("exchange:batch:list", None, None)
        return {
            "items": [batch_summary(row) for row in rows],
            "total": total,
            "limit": limit,
            "offset": offset,
        }

    def get(self, batch_id: str, *, action: str = "exchange:batch:read") -> Batch:
        self._require(action, batch_id)
        row = self.session.scalars(
            select(Batch).where(Batch.id == batch_id, self._visible())
        ).first()
        if row is None:
            self._audit(action, batch_id, None, outcome="denied")
            raise AuditedDenial(NotFound("No such batch.", where="batch"))
        self._audit(action, batch_id, row.practice_id)
        return row

    def receipt(self, batch_id: str) -> str:
        row = self.get(batch_id, action="exchange:batch:receipt")
        if row.receipt is None:  # our own outbound batches (999s) carry none
            raise NotFound("An outbound batch has no receipt.", where="batch")
        return row.receipt

    def content(self, batch_id: str) -> BatchContent:
        """Record the disclosure of a batch's content, then say where it lies."""
        row = self.get(batch_id, action="phi:batch:download")
        if row.blob_key is None:  # pragma: no cover - inbound batches always keep theirs
            raise NotFound("The batch's content is not kept.", where="batch")
        return BatchContent(
            batch_id=row.id,
            practice_id=row.practice_id,
            blob_key=row.blob_key,
            format=row.format,
            size_bytes=row.size_bytes,
            content_sha256=row.content_sha256,
        )

    def _audit(
        self, action: str, batch_id: str | None, tenant: str | None, *, outcome: str = "success"
    ) -> None:
        record_access(
            self.session,
            self.principal,
            action,
            resource_type="batch",
            resource_id=batch_id,
            tenant=tenant,
            now=self.now,
            request_id=self.request_id,
            outcome=outcome,
        )


def batch_summary(row: Batch) -> dict[str, Any]:
    return {
        "id": row.id,
        "direction": row.direction,
        "practice_id": row.practice_id,
        "recipient_id": row.recipient_id,
        "format": row.format,
        "size_bytes": row.size_bytes,
        "content_sha256": row.content_sha256,
        "status": row.status,
        "claims_stored": row.accepted_count,
        "claims_not_stored": row.rejected_count,
        "received_at": row.received_at.isoformat(),
        "manifest_id": row.manifest_id,
        "in_reply_to": row.in_reply_to,
    }
