"""Claims on their way out: which may go, and the audited way to their PHI.

``ClaimRelease`` is the gateway's side of an outbound 837P. It (1) asks
the policy whether the principal may submit the practice's claims
(``claims:claim:submit``: billers of a billing company the practice is
actively engaged with now; never through break-glass), auditing a
refusal; (2) picks the practice's ``ready`` claims that can travel in an
837P, oldest first, locking them so two submissions never take the same
claim; (3) writes one disclosure event for the submission before anything
is unsealed; and (4) unseals the patient, the coverage and the account
number of each claim taken. Nothing is committed here.

A ``flagged`` claim (an open blocking finding holds it) never leaves, nor
one never scrubbed (``received``) or already sent. A ready claim an 837P
cannot carry stays ready and is counted by reason: no coverage on file
(self-pay), a dependent's coverage (the subscriber is not kept), an
institutional claim (an 837I's), or billed under another NPI than the
practice's own (the billing provider loop names the practice).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session, selectinload

from claimbridge.access.engagements import refusal
from claimbridge.access.permissions import Permission
from claimbridge.access.policy import Allowed, decide
from claimbridge.access.principal import Principal, actor_of
from claimbridge.audit.record import AuditedDenial, Event, record
from claimbridge.crypto.keyring import Keyring
from claimbridge.crypto.sealing import FieldSealer
from claimbridge.errors import AccessDenied, Conflict, NotFound
from claimbridge.phi.records import (
    ClaimRecord,
    CoverageRecord,
    PatientRecord,
    ServiceLineRecord,
    read_coverage,
    read_patient,
    read_patient_account,
)
from claimbridge.storage.batches import Batch, BatchFormat
from claimbridge.storage.claims import Claim, ClaimStatus
from claimbridge.storage.clinical import Coverage, Patient
from claimbridge.storage.orgs import Organisation, OrgKind, engaged_practices

__all__ = ["SUBMITTED", "ClaimRelease", "ClaimTally", "ReleasedClaim"]

SUBMITTED = "phi:claims:submitted"
"""The audit action of a submission: one event per outbound 837P, before any PHI leaves."""
_BILLABLE = "billable"
_IN_LIMIT = 900


@dataclass(frozen=True, slots=True)
class ReleasedClaim:
    """One claim taken for an 837P, in the clear: its patient is the subscriber."""

    claim_id: str
    patient: PatientRecord
    coverage: CoverageRecord
    claim: ClaimRecord


@dataclass(frozen=True, slots=True)
class ClaimTally:
    """Counts only, no PHI: what is ready to go, what is held, what an 837P cannot carry."""

    ready: int
    held: int
    not_billable: dict[str, int]


class ClaimRelease:
    def __init__(
        self,
        session: Session,
        keyring: Keyring,
        principal: Principal,
        *,
        practice_id: str,
        now: datetime,
        request_id: str | None = None,
    ) -> None:
        self.session = session
        self.keyring = keyring
        self.principal = principal
        self.practice_id = practice_id
        self.now = now
        self.request_id = request_id
        self._allowed = False

    # -- the policy ----------------------------------------------------------------------

    def authorize(self) -> None:
        """Refuse, audited, anyone who may not submit this practice's claims now."""
        principal = self.principal
        engaged: set[str] = set()
        if principal.organisation_kind is OrgKind.BILLING_COMPANY:
            engaged = engaged_practices(self.session, principal.organisation_id, now=self.now)
        # No break-glass tenants are passed: an emergency grant reads, it never bills.
        decision = decide(
            principal,
            Permission.CLAIM_SUBMIT,
            tenant=self.practice_id,
            reachable=frozenset(engaged),
        )
        if isinstance(decision, Allowed):
            self._allowed = True
            return
        self._record(None, outcome="denied")
        lapsed = (
            refusal(self.session, principal.organisation_id, self.practice_id, now=self.now)
            if decision.hide_existence and principal.organisation_kind is OrgKind.BILLING_COMPANY
            else None
        )
        public = lapsed or (
            NotFound("No such practice.", where="practice")
            if decision.hide_existence
            else AccessDenied(where="permission")
        )
        raise AuditedDenial(public)

    def _require(self) -> None:
        if not self._allowed:
            raise AccessDenied(where="permission", detail="ClaimRelease used before authorize()")

    # -- which claims ----------------------------------------------------------------------

    def tally(self, *, billing_npi: str) -> ClaimTally:
        """Ready claims that may go (``ready``), held ones, and ready ones an 837P cannot carry."""
        self._require()
        reason = _reason(billing_npi)
        rows = self.session.execute(
            select(reason, func.count())
            .select_from(Claim)
            .outerjoin(Coverage, Coverage.id == Claim.coverage_id)
            .outerjoin(Batch, Batch.id == Claim.batch_id)
            .where(Claim.practice_id == self.practice_id, Claim.status == ClaimStatus.READY.value)
            .group_by(reason)
        ).all()
        counts = {str(name): int(count) for name, count in rows}
        held = self.session.scalar(
            select(func.count())
            .select_from(Claim)
            .where(Claim.practice_id == self.practice_id, Claim.status == ClaimStatus.FLAGGED.value)
        )
        return ClaimTally(
            ready=counts.pop(_BILLABLE, 0),
            held=int(held or 0),
            not_billable=dict(sorted(counts.items())),
        )

    def take(self, *, billing_npi: str, limit: int) -> list[str]:
        """Ids of up to ``limit`` billable ready claims, oldest first, locked until commit.

        On PostgreSQL the rows are locked (``FOR UPDATE SKIP LOCKED``), so a
        submission running alongside takes others; SQLite runs one writer at
        a time. ``mark_submitted`` checks again that every one was still ready.
        """
        self._require()
        query = (
            select(Claim.id)
            .join(Coverage, Coverage.id == Claim.coverage_id)
            .outerjoin(Batch, Batch.id == Claim.batch_id)
            .where(
                Claim.practice_id == self.practice_id,
                Claim.status == ClaimStatus.READY.value,
                _reason(billing_npi) == _BILLABLE,
            )
            .order_by(Claim.received_at, Claim.service_from, Claim.id)
            .limit(limit)
            .with_for_update(of=Claim, skip_locked=True)
        )
        return list(self.session.scalars(query))

    # -- the disclosure ----------------------------------------------------------------------

    def release(self, claim_ids: Sequence[str], *, batch_id: str | None) -> list[ReleasedClaim]:
        """Record the submission, then unseal the claims taken, in the order given."""
        self._require()
        self._record(batch_id, outcome="success")
        if not claim_ids:
            return []
        sealer = FieldSealer(self.keyring, self.session, self.practice_id)
        claims = self._rows(Claim, claim_ids, options=(selectinload(Claim.lines),))
        patients = self._rows(Patient, {c.patient_id for c in claims.values()})
        coverages = self._rows(Coverage, {c.coverage_id or "" for c in claims.values()})
        released = []
        for claim_id in claim_ids:
            row = claims[claim_id]
            released.append(
                ReleasedClaim(
                    claim_id=row.id,
                    patient=read_patient(sealer, patients[row.patient_id]),
                    coverage=read_coverage(sealer, coverages[row.coverage_id or ""]),
                    claim=_claim_record(sealer, row),
                )
            )
        return released

    def mark_submitted(self, claim_ids: Sequence[str]) -> None:
        """Set the claims ``submitted``; refuse (the caller rolls back) if one is not ready."""
        self._require()
        changed = 0
        ordered = sorted(claim_ids)
        for start in range(0, len(ordered), _IN_LIMIT):
            result = self.session.execute(
                update(Claim)
                .where(
                    Claim.id.in_(ordered[start : start + _IN_LIMIT]),
                    Claim.practice_id == self.practice_id,
                    Claim.status == ClaimStatus.READY.value,
                )
                .values(status=ClaimStatus.SUBMITTED.value, submitted_at=self.now)
            )
            changed += int(getattr(result, "rowcount", 0) or 0)
        if changed != len(ordered):
            raise Conflict(
                "Some of these claims changed while they were being sent; nothing was sent.",
                where="claims",
            )

    # -- helpers ----------------------------------------------------------------------------

    def _rows(self, model: Any, ids: Any, *, options: tuple[Any, ...] = ()) -> dict[str, Any]:
        wanted = sorted(set(ids))
        found: dict[str, Any] = {}
        for start in range(0, len(wanted), _IN_LIMIT):
            query = select(model).where(
                model.id.in_(wanted[start : start + _IN_LIMIT]),
                model.practice_id == self.practice_id,
            )
            found.update((row.id, row) for row in self.session.scalars(query.options(*options)))
        return found

    def _record(self, batch_id: str | None, *, outcome: str) -> None:
        record(
            self.session,
            Event(
                action=SUBMITTED,
                outcome=outcome,
                resource_type="batch",
                resource_id=batch_id,
                tenant_id=self._tenant(),
                purpose="payment",
                request_id=self.request_id,
                actor=actor_of(self.principal),
            ),
            now=self.now,
        )

    def _tenant(self) -> str | None:
        """The practice, when it is one: its privacy officer sees attempts on its claims too."""
        if len(self.practice_id) != 36:
            return None
        org = self.session.get(Organisation, self.practice_id)
        return org.id if org is not None and org.kind == OrgKind.PRACTICE.value else None


def _reason(billing_npi: str) -> Any:
    """Why a ready claim cannot travel in this practice's 837P, or ``billable``."""
    return case(
        (Claim.coverage_id.is_(None), "no_coverage"),
        (Coverage.relationship_code != "self", "dependent_coverage"),
        (Batch.format == BatchFormat.X12_837I.value, "institutional"),
        (Claim.billing_npi != billing_npi, "other_billing_npi"),
        else_=_BILLABLE,
    )


def _claim_record(sealer: FieldSealer, row: Claim) -> ClaimRecord:
    return ClaimRecord(
        billing_npi=row.billing_npi,
        rendering_npi=row.rendering_npi,
        referring_npi=row.referring_npi,
        taxonomy=row.taxonomy,
        rendering_name=(row.rendering_family, row.rendering_given or "")
        if row.rendering_family
        else None,
        place_of_service=row.place_of_service,
        diagnoses=tuple(row.diagnoses),
        lines=tuple(
            ServiceLineRecord(
                line_number=line.line_number,
                procedure_code=line.procedure_code,
                modifiers=tuple(line.modifiers),
                units=line.units,
                charge_cents=line.charge_cents,
                service_date=line.service_date,
                diagnosis_pointers=tuple(line.diagnosis_pointers),
                ndc=line.ndc,
            )
            for line in row.lines
        ),
        patient_account=read_patient_account(sealer, row),
        frequency_code=row.frequency_code,
    )
