"""Findings on the server: stored with their batch, seen by who may, decided with a reason.

``store_findings`` writes a scrub's findings in the ingest's transaction
and sets each claim of the batch ``flagged`` (an open blocking finding
holds it) or ``ready``. ``FindingAccess`` is how people reach them: a
practice sees its own, a billing company those of the practices actively
engaged with it (the engagement gate, as for batches); every list, read
and decision is audited, and a refusal too.

A decision moves an open finding to ``overridden`` (accepted as billed:
say why, for instance "distinct procedure on a separate lesion,
documented") or ``resolved`` (the claim was corrected or voided, or the
finding was wrong). It needs ``integrity:finding:override`` (practice
admins and coders), a reason of at least a few words (sealed under the
practice's key: people type names into reasons), and writes the audit
event in the same transaction. When a claim's last open blocking finding
is decided it becomes ``ready`` again; only ready claims may be billed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, insert, select
from sqlalchemy.orm import Session

from claimbridge.access.permissions import Permission
from claimbridge.access.policy import Allowed, decide
from claimbridge.access.principal import Principal
from claimbridge.audit.record import AuditedDenial
from claimbridge.crypto.keyring import Keyring
from claimbridge.crypto.sealing import FieldSealer
from claimbridge.errors import AccessDenied, Conflict, NotFound, ValidationFailed
from claimbridge.integrity.model import Finding, Severity
from claimbridge.phi.events import practices_visible_to, record_access
from claimbridge.phi.scrubbing import set_claim_status
from claimbridge.storage.claims import ClaimStatus
from claimbridge.storage.integrity import FindingRow, FindingStatus
from claimbridge.types import new_id

__all__ = ["MIN_REASON", "FindingAccess", "finding_json", "store_findings"]

MIN_REASON = 10
"""Characters an override's reason needs at least: "ok" explains nothing."""
MAX_REASON = 2000
MAX_PAGE = 500
DECISIONS = (FindingStatus.OVERRIDDEN, FindingStatus.RESOLVED)


def store_findings(
    session: Session,
    findings: Sequence[Finding],
    *,
    practice_id: str,
    batch_id: str | None,
    claim_ids: Iterable[str],
    now: datetime,
) -> None:
    """Write ``findings`` and flag the claims of ``claim_ids`` they hold (not committed).

    The intake wrote the batch's claims ``ready``; only the held ones change.
    """
    claims = set(claim_ids)
    rows = [
        {
            "id": new_id(),
            "seq": seq,
            "practice_id": practice_id,
            "batch_id": batch_id,
            "claim_id": finding.claim if finding.claim in claims else None,
            "line_number": finding.line,
            "provider_npi": finding.provider,
            "rule": finding.rule[:40],
            "severity": finding.severity.value,
            "codes": list(finding.codes),
            "message": finding.message,
            "remedy": finding.remedy,
            "facts": dict(finding.facts),
            "status": FindingStatus.OPEN.value,
            "created_at": now,
        }
        for seq, finding in enumerate(findings)
    ]
    for start in range(0, len(rows), 1000):
        session.execute(insert(FindingRow.__table__), rows[start : start + 1000])  # type: ignore[arg-type]
    blocked = {f.claim for f in findings if f.severity is Severity.BLOCK and f.claim in claims}
    set_claim_status(session, blocked, ClaimStatus.FLAGGED)


@dataclass(frozen=True, slots=True)
class Decision:
    status: FindingStatus
    reason: str


class FindingAccess:
    def __init__(
        self,
        session: Session,
        principal: Principal,
        keyring: Keyring,
        *,
        now: datetime,
        request_id: str | None = None,
    ) -> None:
        self.session = session
        self.principal = principal
        self.keyring = keyring
        self.now = now
        self.request_id = request_id

    def list(
        self,
        *,
        batch_id: str | None = None,
        claim_id: str | None = None,
        status: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> dict[str, Any]:
        self._require(Permission.FINDING_READ, "integrity:finding:list", None)
        query: Select[Any] = select(FindingRow).where(self._visible())
        if batch_id is not None:
            query = query.where(FindingRow.batch_id == batch_id)
        if claim_id is not None:
            query = query.where(FindingRow.claim_id == claim_id)
        if status is not None:
            query = query.where(FindingRow.status == _status(status).value)
        limit = max(1, min(limit, MAX_PAGE))
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = self.session.scalars(
            query.order_by(FindingRow.created_at, FindingRow.seq).limit(limit).offset(offset)
        ).all()
        self._audit("integrity:finding:list", None, None)
        return {
            "items": [finding_json(row) for row in rows],
            "total": total,
            "limit": limit,
            "offset": offset,
        }

    def get(self, finding_id: str) -> dict[str, Any]:
        row = self._find(Permission.FINDING_READ, "integrity:finding:read", finding_id)
        self._audit("integrity:finding:read", finding_id, row.practice_id)
        shown = finding_json(row)
        if row.reason is not None:
            sealer = FieldSealer(self.keyring, self.session, row.practice_id)
            shown["reason"] = sealer.unseal("findings", "reason", row.id, row.reason)
        return shown

    def decide(self, finding_id: str, *, status: str, reason: str) -> dict[str, Any]:
        """Override or resolve an open finding, with a reason; audited in this transaction."""
        decision = Decision(_decision(status), _reason(reason))
        verb = "override" if decision.status is FindingStatus.OVERRIDDEN else "resolve"
        action = f"integrity:finding:{verb}"
        row = self._find(Permission.FINDING_OVERRIDE, action, finding_id)
        if row.status != FindingStatus.OPEN.value:
            raise Conflict(f"The finding is already {row.status}.", where="finding.status")
        sealer = FieldSealer(self.keyring, self.session, row.practice_id)
        row.status = decision.status.value
        row.reason = sealer.seal("findings", "reason", row.id, decision.reason)
        row.decided_by = self.principal.user_id
        row.decided_at = self.now
        self.session.flush()
        if row.claim_id is not None:
            self._release(row.claim_id)
        self._audit(action, finding_id, row.practice_id)
        return finding_json(row)

    def _release(self, claim_id: str) -> None:
        """A flagged claim with no open blocking finding left is ready again."""
        still_held = self.session.scalar(
            select(func.count())
            .select_from(FindingRow)
            .where(
                FindingRow.claim_id == claim_id,
                FindingRow.status == FindingStatus.OPEN.value,
                FindingRow.severity == Severity.BLOCK.value,
            )
        )
        if not still_held:
            set_claim_status(
                self.session, [claim_id], ClaimStatus.READY, only_from=ClaimStatus.FLAGGED
            )

    # -- access ------------------------------------------------------------------------

    def _visible(self) -> Any:
        practices = practices_visible_to(self.session, self.principal, now=self.now)
        return FindingRow.practice_id.in_(practices or {""})

    def _require(self, permission: Permission, action: str, finding_id: str | None) -> None:
        if not isinstance(decide(self.principal, permission), Allowed):
            self._audit(action, finding_id, None, outcome="denied")
            raise AuditedDenial(AccessDenied(where="permission"))

    def _find(self, permission: Permission, action: str, finding_id: str) -> FindingRow:
        self._require(permission, action, finding_id)
        row = self.session.scalars(
            select(FindingRow).where(FindingRow.id == finding_id, self._visible())
        ).first()
        if row is None:
            self._audit(action, finding_id, None, outcome="denied")
            raise AuditedDenial(NotFound("No such finding.", where="finding"))
        return row

    def _audit(
        self, action: str, finding_id: str | None, tenant: str | None, *, outcome: str = "success"
    ) -> None:
        record_access(
            self.session,
            self.principal,
            action,
            resource_type="finding",
            resource_id=finding_id,
            tenant=tenant,
            now=self.now,
            request_id=self.request_id,
            outcome=outcome,
        )


def finding_json(row: FindingRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "practice_id": row.practice_id,
        "batch_id": row.batch_id,
        "claim_id": row.claim_id,
        "line": row.line_number,
        "provider": row.provider_npi,
        "rule": row.rule,
        "severity": row.severity,
        "codes": row.codes,
        "message": row.message,
        "remedy": row.remedy,
        "facts": row.facts,
        "status": row.status,
        "decided_by": row.decided_by,
        "decided_at": row.decided_at.isoformat() if row.decided_at else None,
        "created_at": row.created_at.isoformat(),
    }


def _status(text: str) -> FindingStatus:
    try:
        return FindingStatus(text)
    except ValueError:
        allowed = ", ".join(s.value for s in FindingStatus)
        raise ValidationFailed(f"The status is one of {allowed}.", where="status") from None


def _decision(text: str) -> FindingStatus:
    status = _status(text)
    if status not in DECISIONS:
        raise ValidationFailed("A decision overrides or resolves a finding.", where="status")
    return status


def _reason(text: str) -> str:
    reason = " ".join(text.split())
    if len(reason) < MIN_REASON:
        raise ValidationFailed(
            f"Say why, in at least {MIN_REASON} characters: the reason is kept with the decision.",
            where="reason",
        )
    if len(reason) > MAX_REASON:
        raise ValidationFailed(f"A reason is at most {MAX_REASON} characters.", where="reason")
    return reason
