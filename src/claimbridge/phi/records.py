"""PHI records in the clear, and how they map to sealed rows.

The dataclasses here are what the gateway hands out (after projection)
and takes in; the ``*_row`` functions seal them into table rows and the
``read_*`` functions unseal rows back. Nothing outside ``phi/`` calls
these directly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

from claimbridge.crypto.sealing import FieldSealer
from claimbridge.storage.claims import Claim, ServiceLine
from claimbridge.storage.clinical import Coverage, Encounter, Patient
from claimbridge.types import new_id

Row = dict[str, Any]
"""A table row as column values, for bulk inserts (one ``INSERT`` executed with a list)."""


@dataclass(frozen=True, slots=True)
class Address:
    line: str
    city: str
    state: str
    postal_code: str


@dataclass(frozen=True, slots=True)
class PatientRecord:
    mrn: str | None
    given_name: str
    family_name: str
    birth_date: date
    sex: str | None = None
    address: Address | None = None
    phone: str | None = None
    ssn: str | None = None
    deceased_on: date | None = None


@dataclass(frozen=True, slots=True)
class CoverageRecord:
    payer_name: str
    payer_id: str
    member_id: str
    priority: int = 1
    relationship: str = "self"
    group_number: str | None = None
    effective_from: date | None = None
    effective_through: date | None = None


@dataclass(frozen=True, slots=True)
class EncounterRecord:
    rendering_npi: str
    date_of_service: date
    place_of_service: str
    documentation: str | None = None
    source: str = "ehr"


def patient_values(sealer: FieldSealer, record: PatientRecord, *, now: datetime) -> Row:
    """The sealed ``patients`` row for ``record``, as column values (for bulk inserts)."""
    row_id = new_id()

    def sealed(column: str, value: str | None) -> bytes | None:
        return sealer.seal("patients", column, row_id, value)

    address = json.dumps(_address_dict(record.address)) if record.address else None
    return {
        "id": row_id,
        "practice_id": sealer.tenant,
        "mrn_index": sealer.index("patients.mrn", record.mrn),
        "name_dob_index": sealer.name_dob_index(
            record.family_name, record.given_name, record.birth_date
        ),
        "mrn": sealed("mrn", record.mrn),
        "given_name": sealed("given_name", record.given_name),
        "family_name": sealed("family_name", record.family_name),
        "birth_date": sealer.seal_date("patients", "birth_date", row_id, record.birth_date),
        "sex": sealed("sex", record.sex),
        "address": sealed("address", address),
        "phone": sealed("phone", record.phone),
        "ssn": sealed("ssn", record.ssn),
        "deceased_on": sealer.seal_date("patients", "deceased_on", row_id, record.deceased_on),
        "created_at": now,
    }


def patient_row(sealer: FieldSealer, record: PatientRecord, *, now: datetime) -> Patient:
    return Patient(**patient_values(sealer, record, now=now))


def read_patient(sealer: FieldSealer, row: Patient) -> PatientRecord:
    def clear(column: str) -> str | None:
        return sealer.unseal("patients", column, row.id, getattr(row, column))

    address = clear("address")
    # birth_date is NOT NULL, so it always unseals to a date.
    birth_date = cast(date, sealer.unseal_date("patients", "birth_date", row.id, row.birth_date))
    return PatientRecord(
        mrn=clear("mrn"),
        given_name=clear("given_name") or "",
        family_name=clear("family_name") or "",
        birth_date=birth_date,
        sex=clear("sex"),
        address=Address(**json.loads(address)) if address else None,
        phone=clear("phone"),
        ssn=clear("ssn"),
        deceased_on=sealer.unseal_date("patients", "deceased_on", row.id, row.deceased_on),
    )


def coverage_values(
    sealer: FieldSealer, patient_id: str, record: CoverageRecord, *, now: datetime
) -> Row:
    """The sealed ``coverages`` row for ``record``, as column values (for bulk inserts)."""
    row_id = new_id()
    return {
        "id": row_id,
        "practice_id": sealer.tenant,
        "patient_id": patient_id,
        "payer_name": record.payer_name,
        "payer_id": record.payer_id,
        "priority": record.priority,
        "relationship_code": record.relationship,
        "member_id_index": sealer.index("coverages.member_id", record.member_id),
        "member_id": sealer.seal("coverages", "member_id", row_id, record.member_id),
        "group_number": sealer.seal("coverages", "group_number", row_id, record.group_number),
        "effective_from": record.effective_from,
        "effective_through": record.effective_through,
        "created_at": now,
    }


def coverage_row(
    sealer: FieldSealer, patient_id: str, record: CoverageRecord, *, now: datetime
) -> Coverage:
    return Coverage(**coverage_values(sealer, patient_id, record, now=now))


def read_coverage(sealer: FieldSealer, row: Coverage) -> CoverageRecord:
    return CoverageRecord(
        payer_name=row.payer_name,
        payer_id=row.payer_id,
        member_id=sealer.unseal("coverages", "member_id", row.id, row.member_id) or "",
        priority=row.priority,
        relationship=row.relationship_code,
        group_number=sealer.unseal("coverages", "group_number", row.id, row.group_number),
        effective_from=row.effective_from,
        effective_through=row.effective_through,
    )


def encounter_row(
    sealer: FieldSealer, patient_id: str, record: EncounterRecord, *, now: datetime
) -> Encounter:
    row_id = new_id()
    return Encounter(
        id=row_id,
        practice_id=sealer.tenant,
        patient_id=patient_id,
        rendering_npi=record.rendering_npi,
        date_of_service=record.date_of_service,
        place_of_service=record.place_of_service,
        documentation=sealer.seal("encounters", "documentation", row_id, record.documentation),
        source=record.source,
        attested_at=now if record.source == "attestation" else None,
        created_at=now,
    )


def read_encounter(sealer: FieldSealer, row: Encounter) -> EncounterRecord:
    return EncounterRecord(
        rendering_npi=row.rendering_npi,
        date_of_service=row.date_of_service,
        place_of_service=row.place_of_service,
        documentation=sealer.unseal("encounters", "documentation", row.id, row.documentation),
        source=row.source,
    )


@dataclass(frozen=True, slots=True)
class ServiceLineRecord:
    line_number: int
    procedure_code: str
    modifiers: tuple[str, ...]
    units: Decimal | int
    charge_cents: int
    service_date: date
    diagnosis_pointers: tuple[int, ...]
    ndc: str | None = None


@dataclass(frozen=True, slots=True)
class ClaimRecord:
    billing_npi: str
    rendering_npi: str | None
    place_of_service: str
    diagnoses: tuple[str, ...]
    lines: tuple[ServiceLineRecord, ...]
    patient_account: str | None = None
    frequency_code: str = "1"
    referring_npi: str | None = None
    taxonomy: str | None = None
    rendering_name: tuple[str, str] | None = None
    """The rendering provider's family and given name (NM1*82): for the outbound 837P's
    rendering provider loop and the exclusion list's people without an NPI."""

    @property
    def total_charge_cents(self) -> int:
        return sum(line.charge_cents for line in self.lines)


def claim_values(
    sealer: FieldSealer,
    record: ClaimRecord,
    *,
    patient_id: str,
    coverage_id: str | None,
    encounter_id: str | None,
    now: datetime,
    batch_id: str | None = None,
    status: str = "received",
) -> tuple[Row, list[Row]]:
    """The sealed ``claims`` row and its ``service_lines`` rows, as column values."""
    claim_id = new_id()  # the sealed account number is bound to the row id
    dates = [line.service_date for line in record.lines]
    account = sealer.seal("claims", "patient_account", claim_id, record.patient_account)
    claim: Row = {
        "id": claim_id,
        "practice_id": sealer.tenant,
        "patient_id": patient_id,
        "coverage_id": coverage_id,
        "encounter_id": encounter_id,
        "batch_id": batch_id,
        "patient_account": account,
        "billing_npi": record.billing_npi,
        "rendering_npi": record.rendering_npi,
        "referring_npi": record.referring_npi,
        "taxonomy": record.taxonomy,
        "rendering_family": record.rendering_name[0][:60] if record.rendering_name else None,
        "rendering_given": record.rendering_name[1][:35] if record.rendering_name else None,
        "place_of_service": record.place_of_service,
        "frequency_code": record.frequency_code,
        "diagnoses": list(record.diagnoses),
        "total_charge_cents": record.total_charge_cents,
        "service_from": min(dates),
        "service_through": max(dates),
        "status": status,
        "received_at": now,
        "created_at": now,
    }
    lines: list[Row] = [
        {
            "id": new_id(),
            "claim_id": claim_id,
            "practice_id": sealer.tenant,
            "line_number": line.line_number,
            "procedure_code": line.procedure_code,
            "modifiers": list(line.modifiers),
            "units": Decimal(line.units),
            "charge_cents": line.charge_cents,
            "service_date": line.service_date,
            "diagnosis_pointers": list(line.diagnosis_pointers),
            "ndc": line.ndc,
        }
        for line in record.lines
    ]
    return claim, lines


def claim_row(
    sealer: FieldSealer,
    record: ClaimRecord,
    *,
    patient_id: str,
    coverage_id: str | None,
    encounter_id: str | None,
    now: datetime,
    batch_id: str | None = None,
) -> Claim:
    claim, lines = claim_values(
        sealer,
        record,
        patient_id=patient_id,
        coverage_id=coverage_id,
        encounter_id=encounter_id,
        now=now,
        batch_id=batch_id,
    )
    row = Claim(**claim)
    row.lines = [ServiceLine(**line) for line in lines]
    return row


def seal_patient_account(sealer: FieldSealer, claim: Claim, account: str | None) -> None:
    """CLM01, the patient's account number, identifies a person: sealed to its claim row."""
    claim.patient_account = sealer.seal("claims", "patient_account", claim.id, account)


def read_patient_account(sealer: FieldSealer, claim: Claim) -> str | None:
    return sealer.unseal("claims", "patient_account", claim.id, claim.patient_account)


def _address_dict(address: Address) -> dict[str, str]:
    return {
        "line": address.line,
        "city": address.city,
        "state": address.state,
        "postal_code": address.postal_code,
    }


__all__ = [
    "Address",
    "ClaimRecord",
    "CoverageRecord",
    "EncounterRecord",
    "PatientRecord",
    "ServiceLineRecord",
]
