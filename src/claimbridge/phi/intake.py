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

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import cast

from sqlalchemy import Table, insert, select
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
    Row,
    claim_values,
    coverage_values,
    patient_values,
)
from claimbridge.storage.base import Base
from claimbridge.storage.claims import Claim, ServiceLine
from claimbridge.storage.clinical import Coverage, Patient

__all__ = ["FLUSH_EVERY", "MATCH_CACHE_LIMIT", "Intake", "IntakeClaim", "recorded_deaths"]

FLUSH_EVERY = 500
"""Claims held before their rows go to the database, so memory stays flat."""
MATCH_CACHE_LIMIT = 20_000
"""Blind-index matches remembered within a batch; beyond this the cache is emptied and
later claims are matched against the rows already written, as across batches. A
batch of more distinct patients than this may then, in one rare case, create a patient
it would otherwise have matched: a claim whose MRN was first seen on a claim matched
by name and birth date to a patient stored without that MRN."""


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
        # Rows wait here as column values and go in table order (patients,
        # coverages, claims, service lines), each table in one bulk INSERT:
        # they refer to each other by id only, and nothing reads them back
        # through this session, so the ORM's unit of work has nothing to add.
        self._pending: dict[type[Base], list[Row]] = {
            Patient: [],
            Coverage: [],
            Claim: [],
            ServiceLine: [],
        }
        self._waiting: list[tuple[IntakeClaim, str]] = []
        self.written: Callable[[IntakeClaim, str, str], None] | None = None
        """Told (claim, its row id, its patient's id) as each claim's row is written."""
        self.claim_status = "received"
        """The status claims are written with: ``ready`` when a scrub in the same
        transaction flags those it holds."""
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
        self._waiting.append((item, batch_id))
        if len(self._waiting) >= FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        """Match the waiting claims' patients and coverages, then write their rows (not committed).

        The database is asked once per chunk (``IN`` over the chunk's blind
        indexes), not once per claim. Nothing of this intake reaches the
        database between two flushes, so what a per-claim query would have
        found is what the chunk's query finds.
        """
        waiting, self._waiting = self._waiting, []
        patient_ids = self._match_patients([item.patient for item, _ in waiting])
        coverage_ids = self._match_coverages([item.coverage for item, _ in waiting], patient_ids)
        for (item, batch_id), patient_id, coverage_id in zip(
            waiting, patient_ids, coverage_ids, strict=True
        ):
            claim, lines = claim_values(
                self.sealer,
                item.claim,
                patient_id=patient_id,
                coverage_id=coverage_id,
                encounter_id=None,
                now=self.now,
                batch_id=batch_id,
                status=self.claim_status,
            )
            self._pending[Claim].append(claim)
            self._pending[ServiceLine].extend(lines)
            if self.written is not None:
                self.written(item, claim["id"], patient_id)
        self._write()
        if len(self._patients) + len(self._coverages) > MATCH_CACHE_LIMIT:
            self._patients.clear()
            self._coverages.clear()

    def patients(self, records: list[PatientRecord]) -> list[str]:
        """Each patient's id, matched or created (sealed), in order; rows written, not committed."""
        ids: list[str] = []
        for start in range(0, len(records), FLUSH_EVERY):
            ids.extend(self._match_patients(records[start : start + FLUSH_EVERY]))
            self._write()
        return ids

    def _write(self) -> None:
        for model, rows in self._pending.items():
            if rows:
                self.session.execute(insert(_table(model)), rows)
                rows.clear()

    # -- matching -----------------------------------------------------------------

    def _match_patients(self, patients: list[PatientRecord]) -> list[str]:
        keys = [self._patient_keys(patient) for patient in patients]
        stored = self._stored_patients(keys)
        return [
            self._patient(patient, patient_keys, stored)
            for patient, patient_keys in zip(patients, keys, strict=True)
        ]

    def _match_coverages(
        self, coverages: list[CoverageRecord | None], patient_ids: list[str]
    ) -> list[str | None]:
        keys = [
            None if coverage is None else self._coverage_key(patient_id, coverage)
            for coverage, patient_id in zip(coverages, patient_ids, strict=True)
        ]
        stored = self._stored_coverages(keys)
        return [
            None if coverage is None or key is None else self._coverage(key, coverage, stored)
            for coverage, key in zip(coverages, keys, strict=True)
        ]

    def _patient_keys(self, patient: PatientRecord) -> list[tuple[str, str | None]]:
        sealer = self.sealer
        keys: list[tuple[str, str | None]] = []
        if patient.mrn:
            keys.append(("mrn", sealer.index("patients.mrn", patient.mrn)))
        keys.append(
            (
                "name_dob",
                sealer.name_dob_index(patient.family_name, patient.given_name, patient.birth_date),
            )
        )
        return keys

    def _stored_patients(
        self, keys: list[list[tuple[str, str | None]]]
    ) -> dict[tuple[str, str], str]:
        """The practice's oldest stored patient for each index not already matched."""
        wanted: dict[str, set[str]] = {"mrn": set(), "name_dob": set()}
        for item_keys in keys:
            for kind, index in item_keys:
                if index is not None and f"{kind}:{index}" not in self._patients:
                    wanted[kind].add(index)
        found: dict[tuple[str, str], str] = {}
        for kind, indexes in wanted.items():
            if not indexes:
                continue
            column = Patient.mrn_index if kind == "mrn" else Patient.name_dob_index
            rows = self.session.execute(
                select(column, Patient.id)
                .where(Patient.practice_id == self.practice_id, column.in_(sorted(indexes)))
                .order_by(Patient.created_at, Patient.id)
            )
            for index, patient_id in rows:
                if index is not None:  # it matched one of ``indexes``; None never does
                    found.setdefault((kind, index), patient_id)
        return found

    def _patient(
        self,
        patient: PatientRecord,
        keys: list[tuple[str, str | None]],
        stored: dict[tuple[str, str], str],
    ) -> str:
        for kind, index in keys:
            cached = self._patients.get(f"{kind}:{index}")
            if cached is not None:
                return cached
        for kind, index in keys:
            found = stored.get((kind, index)) if index is not None else None
            if found is not None:
                self.patients_matched += 1
                return self._remember(keys, found)
        row = patient_values(self.sealer, patient, now=self.now)
        self._pending[Patient].append(row)
        self.patients_created += 1
        return self._remember(keys, row["id"])

    def _remember(self, keys: list[tuple[str, str | None]], patient_id: str) -> str:
        for kind, index in keys:
            self._patients[f"{kind}:{index}"] = patient_id
        return patient_id

    def _coverage_key(self, patient_id: str, coverage: CoverageRecord) -> tuple[str, str, str]:
        member_index = self.sealer.index("coverages.member_id", coverage.member_id) or ""
        return (patient_id, coverage.payer_id, member_index)

    def _stored_coverages(
        self, wanted: list[tuple[str, str, str] | None]
    ) -> dict[tuple[str, str, str], str]:
        """The practice's stored coverage for each (patient, payer, member) not already matched."""
        keys = {key for key in wanted if key is not None and key not in self._coverages}
        if not keys:
            return {}
        rows = self.session.execute(
            select(Coverage.patient_id, Coverage.payer_id, Coverage.member_id_index, Coverage.id)
            .where(
                Coverage.practice_id == self.practice_id,
                Coverage.member_id_index.in_(sorted({key[2] for key in keys})),
            )
            .order_by(Coverage.created_at, Coverage.id)
        )
        found: dict[tuple[str, str, str], str] = {}
        for patient_id, payer_id, member_index, coverage_id in rows:
            key = (patient_id, payer_id, member_index)
            if key in keys:
                found.setdefault(key, coverage_id)
        return found

    def _coverage(
        self,
        key: tuple[str, str, str],
        coverage: CoverageRecord,
        stored: dict[tuple[str, str, str], str],
    ) -> str:
        cached = self._coverages.get(key)
        if cached is not None:
            return cached
        found = stored.get(key)
        if found is None:
            row = coverage_values(self.sealer, key[0], coverage, now=self.now)
            self._pending[Coverage].append(row)
            found = row["id"]
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


def recorded_deaths(
    session: Session, keyring: Keyring, practice_id: str, patient_ids: set[str]
) -> dict[str, date]:
    """The recorded dates of death of those of ``patient_ids`` who have one, unsealed.

    For the integrity rules during an ingest (a service dated after death),
    inside the batch's audited transaction; the dates go nowhere else.
    """
    sealer = FieldSealer(keyring, session, practice_id)
    ordered = sorted(patient_ids)
    deaths: dict[str, date] = {}
    for start in range(0, len(ordered), 900):
        rows = session.execute(
            select(Patient.id, Patient.deceased_on).where(
                Patient.practice_id == practice_id,
                Patient.id.in_(ordered[start : start + 900]),
                Patient.deceased_on.is_not(None),
            )
        )
        for patient_id, sealed in rows:
            died = sealer.unseal_date("patients", "deceased_on", patient_id, sealed)
            if died is not None:
                deaths[patient_id] = died
    return deaths


def _table(model: type[Base]) -> Table:
    # Core INSERTs, not the ORM's bulk path: the rows are plain column values
    # already, and the ORM's per-row bookkeeping was a fifth of an ingest.
    return cast(Table, model.__table__)  # a declarative model maps exactly one table
