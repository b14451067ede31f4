"""From a professional claim as read (837P, CSV or FHIR) to the rows intake writes.

Every format reader yields ``ProfessionalClaim`` records; this is the one
place that decides which of their fields claimbridge keeps and where. A
claim that lacks what the store needs (a birth date to match the patient
by, an NPI, a service date) is refused with the reason, and the batch with
it; nothing is guessed.
"""

from __future__ import annotations

from datetime import date

from claimbridge.errors import ValidationFailed
from claimbridge.formats.x12.records837 import Party
from claimbridge.formats.x12.x837p import ProfessionalClaim, ServiceLine
from claimbridge.phi.intake import IntakeClaim
from claimbridge.phi.records import (
    Address,
    ClaimRecord,
    CoverageRecord,
    PatientRecord,
    ServiceLineRecord,
)

__all__ = ["to_intake"]

# PAT01, the patient's relationship to the subscriber (005010X222A1 2000C).
_RELATIONSHIPS = {"01": "spouse", "19": "child", "20": "employee", "39": "organ_donor"}
_MAX_PROCEDURE = 5


def to_intake(claim: ProfessionalClaim, where: str) -> IntakeClaim:
    """The intake rows for ``claim``; ``where`` names it in errors (no PHI)."""
    subscriber = claim.subscriber
    person = claim.patient.person if claim.patient is not None else subscriber.person
    patient = _patient(claim, person, where)
    relationship = "self"
    if claim.patient is not None:
        relationship = _RELATIONSHIPS.get(claim.patient.relationship, "other")
    coverage = None
    if subscriber.person.identifier:
        coverage = CoverageRecord(
            payer_name=subscriber.payer.name[:200],
            payer_id=(subscriber.payer.identifier or subscriber.payer.name)[:80],
            member_id=subscriber.person.identifier,
            priority=_priority(subscriber.responsibility),
            relationship=relationship,
            group_number=subscriber.group_number or None,
        )
    billing = claim.billing_provider.provider
    if billing.id_kind != "npi" or not billing.identifier:
        raise ValidationFailed("The billing provider has no NPI.", where=f"{where} billing NPI")
    rendering = next((p for p in claim.providers if p.role == "rendering_provider"), None)
    lines = tuple(_line(claim, line, f"{where} line {line.number}") for line in claim.lines)
    return IntakeClaim(
        patient=patient,
        coverage=coverage,
        claim=ClaimRecord(
            billing_npi=billing.identifier,
            rendering_npi=rendering.identifier if rendering and rendering.identifier else None,
            place_of_service=claim.place_of_service,
            frequency_code=claim.frequency or "1",
            diagnoses=tuple(code.code for code in claim.diagnoses),
            patient_account=claim.claim_id,
            lines=lines,
        ),
    )


def _patient(claim: ProfessionalClaim, person: Party, where: str) -> PatientRecord:
    if person.birth_date is None:
        raise ValidationFailed(
            "The patient's birth date (DMG02) is required to match the patient.",
            where=f"{where} patient",
        )
    if not person.name:
        raise ValidationFailed("The patient's last name is required.", where=f"{where} patient")
    mrn = next((r.value for r in claim.references if r.qualifier == "EA"), None)
    address = None
    if person.address is not None:
        a = person.address
        street = a.street if not a.street2 else f"{a.street}, {a.street2}"
        address = Address(street, a.city, a.state, a.postal_code)
    return PatientRecord(
        mrn=mrn,
        given_name=person.first_name,
        family_name=person.name,
        birth_date=person.birth_date,
        sex=person.gender or None,
        address=address,
    )


def _line(claim: ProfessionalClaim, line: ServiceLine, where: str) -> ServiceLineRecord:
    if len(line.procedure) > _MAX_PROCEDURE:
        raise ValidationFailed(
            "A procedure code is at most 5 characters (CPT or HCPCS).", where=where
        )
    served = _service_date(claim, line)
    if served is None:
        raise ValidationFailed("A service line needs its date of service.", where=where)
    return ServiceLineRecord(
        line_number=line.number,
        procedure_code=line.procedure,
        modifiers=line.modifiers,
        units=line.units,
        charge_cents=line.charge.cents,
        service_date=served,
        diagnosis_pointers=line.diagnosis_pointers,
        ndc=line.drug.ndc if line.drug is not None else None,
    )


def _service_date(claim: ProfessionalClaim, line: ServiceLine) -> date | None:
    if line.service_date is not None:
        return line.service_date.first
    for event in claim.dates:
        if event.kind == "service" and event.period is not None:
            return event.period.first
    return None


def _priority(responsibility: str) -> int:
    # SBR01: P primary, S secondary, T tertiary, then A-H for payers 4 to 11.
    order = "PST" + "ABCDEFGH"
    return order.index(responsibility) + 1 if responsibility in order else 1
