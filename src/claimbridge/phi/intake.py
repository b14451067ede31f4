"""Intake: the one way PHI from a batch is written.

``Intake`` is the write side of the gateway. It (1) asks the policy whether
the principal may upload for the practice (``exchange:batch:upload``), (2)
writes one audit event for the batch in the caller's transaction, failing
closed, and (3) seals every PHI field into its row. Nothing is committed
here: the exchange commits the batch row, its claims and the receipt in
one transaction, or none of it.

Patients are matched, not duplicated: first by the blind index of the
medical record number where the batch carries one, then by the blind index
of family name, given name and birth date. Coverages are matched by the
blind index of the member id and the payer id. Neither the database nor
this code ever compares the clear values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from claimbridge.access.permissions import Permission
from claimbridge.access.policy import Allowed, decide
from claimbridge.access.principal import Principal, actor_of
from claimbridge.audit.record import AuditedDenial, Event, record
from claimbridge.crypto.keyring import Keyring
from claimbridge.crypto.sealing import FieldSealer
from claimbridge.errors import ClaimbridgeError, NotFound
from claimbridge.phi.records import (
    ClaimRecord,
    CoverageRecord,
    PatientRecord,
    claim_row,
    coverage_row,
    patient_row,
)
from claimbridge.storage.clinical import Coverage, Patient

__all__ = ["FLUSH_EVERY", "Intake", "IntakeClaim"]

FLUSH_EVERY = 500
"""Claims held before their rows go to the database, so memory stays flat."""


@dataclass(frozen=True, slots=True)
class IntakeClaim:
    """One claim of a batch, in the clear, as the exchange mapped it."""

    patient: PatientRecord
    coverage: CoverageRecord | None
    claim: ClaimRecord


class Intake:
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
        self.principal = principal
        self.practice_id = practice_id
        self.now = now
        self.request_id = request_id
        self.sealer = FieldSealer(keyring, session, practice_id)
        self._patients: dict[str, str] = {}
        self._coverages: dict[tuple[str, str, str], str] = {}
        # Rows wait here and go in table order (patients, coverages, claims):
        # they refer to each other by id only, with no ORM relationships.
        self._pending: tuple[list[object], list[object], list[object]] = ([], [], [])
        self.patients_created = 0
        self.patients_matched = 0

    def authorize(self, batch_id: str) -> None:
        """Refuse (audited) a principal who may not upload for this practice.

        Only the practice's own people upload its PHI; a billing company
        never sends a practice's data in.
        """
        decision = decide(self.principal, Permission.BATCH_UPLOAD, tenant=self.practice_id)
        if not isinstance(decision, Allowed) or decision.via_break_glass:
            self._audit("phi:batch:ingest", batch_id, outcome="denied")
            error: ClaimbridgeError = NotFound(
                "No such practice for this sender.", where="manifest.sender"
            )
            raise AuditedDenial(error)

    def record_batch(self, batch_id: str, *, action: str = "phi:batch:ingest") -> None:
        """The batch's audit event: who brought whose PHI in, in this transaction."""
        self._audit(action, batch_id, outcome="success")

    def add(self, item: IntakeClaim, *, batch_id: str) -> None:
        patient_id = self._patient(item.patient)
        coverage_id = self._coverage(patient_id, item.coverage) if item.coverage else None
        self._pending[2].append(
            claim_row(
                self.sealer,
                item.claim,
                patient_id=patient_id,
                coverage_id=coverage_id,
                encounter_id=None,
                now=self.now,
                batch_id=batch_id,
            )
        )
        if len(self._pending[2]) >= FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        """Send the waiting rows to the database (not committed)."""
        for rows in self._pending:
            if rows:
                self.session.add_all(rows)
                self.session.flush()
                rows.clear()

    # -- matching -----------------------------------------------------------------

    def _patient(self, patient: PatientRecord) -> str:
        sealer = self.sealer
        keys = []
        if patient.mrn:
            keys.append(("mrn", sealer.index("patients.mrn", patient.mrn)))
        keys.append(
            (
                "name_dob",
                sealer.name_dob_index(patient.family_name, patient.given_name, patient.birth_date),
            )
        )
        for kind, index in keys:
            cached = self._patients.get(f"{kind}:{index}")
            if cached is not None:
                return cached
        for kind, index in keys:
            column = Patient.mrn_index if kind == "mrn" else Patient.name_dob_index
            found = self.session.scalars(
                select(Patient.id)
                .where(Patient.practice_id == self.practice_id, column == index)
                .order_by(Patient.created_at, Patient.id)
                .limit(1)
            ).first()
            if found is not None:
                self.patients_matched += 1
                return self._remember(keys, found)
        row = patient_row(sealer, patient, now=self.now)
        self._pending[0].append(row)
        self.patients_created += 1
        return self._remember(keys, row.id)

    def _remember(self, keys: list[tuple[str, str | None]], patient_id: str) -> str:
        for kind, index in keys:
            self._patients[f"{kind}:{index}"] = patient_id
        return patient_id

    def _coverage(self, patient_id: str, coverage: CoverageRecord) -> str:
        member_index = self.sealer.index("coverages.member_id", coverage.member_id) or ""
        key = (patient_id, coverage.payer_id, member_index)
        cached = self._coverages.get(key)
        if cached is not None:
            return cached
        found = self.session.scalars(
            select(Coverage.id)
            .where(
                Coverage.practice_id == self.practice_id,
                Coverage.patient_id == patient_id,
                Coverage.payer_id == coverage.payer_id,
                Coverage.member_id_index == member_index,
            )
            .limit(1)
        ).first()
        if found is None:
            row = coverage_row(self.sealer, patient_id, coverage, now=self.now)
            self._pending[1].append(row)
            found = row.id
        self._coverages[key] = found
        return found

    def _audit(self, action: str, batch_id: str, *, outcome: str) -> None:
        record(
            self.session,
            Event(
                action=action,
                outcome=outcome,
                resource_type="batch",
                resource_id=batch_id,
                tenant_id=self.practice_id,
                purpose="operations",
                request_id=self.request_id,
                actor=actor_of(self.principal),
            ),
            now=self.now,
        )
