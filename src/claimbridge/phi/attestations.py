"""Encounter attestation: the practice says which visits happened, apart from any claim.

When billing is outsourced, the billing company's claims say what was
billed; the practice's own log says what was done. Claims are checked
against this log (``integrity/rules/provided.py``): a billed service with
no attested encounter is held. Only the practice's people attest
(``integrity:encounter:attest``), never the billing company.

Patients are matched as the intake matches them (blind indexes: MRN, then
name and birth date) and created when new, sealed. An encounter already in
the log (same patient, rendering NPI, date and place) is not added twice,
so a practice may send its whole week again. One audit event records the
attestation, in the same transaction, before anything is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from claimbridge.access.permissions import Permission
from claimbridge.access.policy import Allowed, decide
from claimbridge.access.principal import Principal
from claimbridge.audit.record import AuditedDenial
from claimbridge.crypto.keyring import Keyring
from claimbridge.errors import NotFound, ValidationFailed
from claimbridge.formats.csv.encounters import AttestedEncounter
from claimbridge.phi.events import record_access
from claimbridge.phi.intake import Intake
from claimbridge.phi.records import EncounterRecord, PatientRecord, encounter_row
from claimbridge.storage.clinical import Encounter
from claimbridge.types import new_id

__all__ = ["MAX_ATTESTATION", "Attested", "attest_encounters"]

MAX_ATTESTATION = 100_000
"""Encounters one attestation may carry."""


@dataclass(frozen=True, slots=True)
class Attested:
    attestation_id: str
    received: int
    added: int
    already_attested: int
    patients_matched: int
    patients_created: int

    def to_json(self) -> dict[str, object]:
        return {
            "attestation_id": self.attestation_id,
            "received": self.received,
            "added": self.added,
            "already_attested": self.already_attested,
            "patients_matched": self.patients_matched,
            "patients_created": self.patients_created,
        }


def attest_encounters(
    session: Session,
    keyring: Keyring,
    principal: Principal,
    encounters: Sequence[AttestedEncounter],
    *,
    practice_id: str,
    now: datetime,
    request_id: str | None = None,
) -> Attested:
    """Add ``encounters`` to the practice's log (not committed: the caller's transaction)."""
    attestation_id = new_id()
    audit = _Audit(session, principal, practice_id, attestation_id, now, request_id)
    _authorize(principal, practice_id, audit)
    if len(encounters) > MAX_ATTESTATION:
        raise ValidationFailed(
            f"An attestation carries at most {MAX_ATTESTATION:,} encounters.", where="encounters"
        )
    if any(e.date_of_service > now.date() for e in encounters):
        at = next(i for i, e in enumerate(encounters, 1) if e.date_of_service > now.date())
        raise ValidationFailed(
            "An encounter cannot be attested before its date.", where=f"encounter {at}"
        )
    audit.record("success")
    intake = Intake(session, keyring, principal, practice_id=practice_id, now=now)
    patient_ids = intake.patients([_patient(e) for e in encounters])
    known = _known(session, practice_id, set(patient_ids), encounters)
    added = 0
    for encounter, patient_id in zip(encounters, patient_ids, strict=True):
        key = (
            patient_id,
            encounter.rendering_npi,
            encounter.date_of_service,
            encounter.place_of_service,
        )
        if key in known:
            continue
        known.add(key)
        record_ = EncounterRecord(
            rendering_npi=encounter.rendering_npi,
            date_of_service=encounter.date_of_service,
            place_of_service=encounter.place_of_service,
            source="attestation",
        )
        session.add(encounter_row(intake.sealer, patient_id, record_, now=now))
        added += 1
    session.flush()
    return Attested(
        attestation_id=attestation_id,
        received=len(encounters),
        added=added,
        already_attested=len(encounters) - added,
        patients_matched=intake.patients_matched,
        patients_created=intake.patients_created,
    )


def _patient(encounter: AttestedEncounter) -> PatientRecord:
    return PatientRecord(
        mrn=encounter.mrn,
        given_name=encounter.given_name,
        family_name=encounter.family_name,
        birth_date=encounter.birth_date,
    )


def _known(
    session: Session,
    practice_id: str,
    patient_ids: set[str],
    encounters: Sequence[AttestedEncounter],
) -> set[tuple[str, str, date, str]]:
    if not encounters:
        return set()
    first = min(e.date_of_service for e in encounters)
    last = max(e.date_of_service for e in encounters)
    ordered = sorted(patient_ids)
    known: set[tuple[str, str, date, str]] = set()
    for start in range(0, len(ordered), 900):
        rows = session.execute(
            select(
                Encounter.patient_id,
                Encounter.rendering_npi,
                Encounter.date_of_service,
                Encounter.place_of_service,
            ).where(
                Encounter.practice_id == practice_id,
                Encounter.patient_id.in_(ordered[start : start + 900]),
                Encounter.date_of_service.between(first, last),
            )
        )
        known.update((p, n, d, s) for p, n, d, s in rows)
    return known


def _authorize(principal: Principal, practice_id: str, audit: _Audit) -> None:
    decision = decide(principal, Permission.ENCOUNTER_ATTEST, tenant=practice_id)
    if not isinstance(decision, Allowed) or decision.via_break_glass:
        audit.record("denied")
        raise AuditedDenial(NotFound("No such practice.", where="practice"))


@dataclass(frozen=True, slots=True)
class _Audit:
    session: Session
    principal: Principal
    practice_id: str
    attestation_id: str
    now: datetime
    request_id: str | None

    def record(self, outcome: str) -> None:
        record_access(
            self.session,
            self.principal,
            "phi:encounter:attest",
            resource_type="attestation",
            resource_id=self.attestation_id,
            tenant=self.practice_id,
            now=self.now,
            request_id=self.request_id,
            outcome=outcome,
        )
