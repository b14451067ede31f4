"""From a claim as read (837P, CSV or FHIR; 837I) to the rows intake writes.

The professional readers yield ``ProfessionalClaim`` records and the 837I
reader ``InstitutionalClaim``; this is the one place that decides which of
their fields claimbridge keeps and where. For an institutional claim the
facility type code (CLM05-1) takes the place of the place of service, each
line's HCPCS code (or, where it has none, its revenue code) the procedure,
and the attending (else rendering) provider the rendering NPI; its lines
carry no diagnosis pointers. A claim that lacks what the store needs (a
birth date to match the patient by, an NPI, a service date) is refused with
the reason, and the batch with it; nothing is guessed.
"""

from __future__ import annotations

from datetime import date

from claimbridge.errors import ValidationFailed
from claimbridge.formats.x12.records837 import EventDate, Party, Reference, Subscriber
from claimbridge.formats.x12.records837 import Patient as InsuredPatient
from claimbridge.formats.x12.x837i import InstitutionalClaim, InstitutionalServiceLine
from claimbridge.formats.x12.x837p import DIAGNOSIS_QUALIFIERS, ProfessionalClaim, ServiceLine
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
_PRIORITIES = {"P": 1, "S": 2, **dict.fromkeys("TABCDEFGH", 3)}


def to_intake(claim: ProfessionalClaim | InstitutionalClaim, where: str) -> IntakeClaim:
    """The intake rows for ``claim``; ``where`` names it in errors (no PHI)."""
    if isinstance(claim, InstitutionalClaim):
        place = claim.facility_type
        diagnoses = tuple(c.code for c in claim.codes if c.qualifier in DIAGNOSIS_QUALIFIERS)
        roles: tuple[str, ...] = ("attending_provider", "rendering_provider")
    else:
        place = claim.place_of_service
        diagnoses = tuple(code.code for code in claim.diagnoses)
        roles = ("rendering_provider",)
    billing = claim.billing_provider.provider
    if billing.id_kind != "npi" or not billing.identifier:
        raise ValidationFailed("The billing provider has no NPI.", where=f"{where} billing NPI")
    rendering = next(
        (p for role in roles for p in claim.providers if p.role == role and p.identifier), None
    )
    referring = next((p for p in claim.providers if p.role == "referring_provider" and p.npi), None)
    performer = rendering or billing
    lines = tuple(_line(claim.dates, line, f"{where} line {line.number}") for line in claim.lines)
    return IntakeClaim(
        patient=_patient(claim.subscriber, claim.patient, claim.references, where),
        coverage=_coverage(claim.subscriber, claim.patient),
        claim=ClaimRecord(
            billing_npi=billing.identifier,
            rendering_npi=rendering.identifier if rendering else None,
            place_of_service=place,
            frequency_code=claim.frequency or "1",
            diagnoses=diagnoses,
            patient_account=claim.claim_id,
            lines=lines,
            referring_npi=referring.npi if referring else None,
            taxonomy=(performer.taxonomy or billing.taxonomy)[:10] or None,
            rendering_name=(performer.name, performer.first_name) if performer.is_person else None,
        ),
    )


def _coverage(subscriber: Subscriber, patient: InsuredPatient | None) -> CoverageRecord | None:
    if not subscriber.person.identifier:
        return None
    relationship = "self"
    if patient is not None:
        relationship = _RELATIONSHIPS.get(patient.relationship, "other")
    return CoverageRecord(
        payer_name=subscriber.payer.name[:200],
        payer_id=(subscriber.payer.identifier or subscriber.payer.name)[:80],
        member_id=subscriber.person.identifier,
        priority=_priority(subscriber.responsibility),
        relationship=relationship,
        group_number=subscriber.group_number or None,
    )


def _patient(
    subscriber: Subscriber,
    insured: InsuredPatient | None,
    references: tuple[Reference, ...],
    where: str,
) -> PatientRecord:
    person: Party = insured.person if insured is not None else subscriber.person
    if person.birth_date is None:
        raise ValidationFailed(
            "The patient's birth date (DMG02) is required to match the patient.",
            where=f"{where} patient",
        )
    if not person.name:
        raise ValidationFailed("The patient's last name is required.", where=f"{where} patient")
    mrn = next((r.value for r in references if r.qualifier == "EA"), None)
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


def _line(
    dates: tuple[EventDate, ...], line: ServiceLine | InstitutionalServiceLine, where: str
) -> ServiceLineRecord:
    if isinstance(line, InstitutionalServiceLine):
        procedure = line.procedure or line.revenue_code
        pointers: tuple[int, ...] = ()
    else:
        procedure, pointers = line.procedure, line.diagnosis_pointers
    if len(procedure) > _MAX_PROCEDURE:
        raise ValidationFailed(
            "A procedure code is at most 5 characters (CPT or HCPCS).", where=where
        )
    served = _service_date(dates, line)
    if served is None:
        raise ValidationFailed("A service line needs its date of service.", where=where)
    return ServiceLineRecord(
        line_number=line.number,
        procedure_code=procedure,
        modifiers=line.modifiers,
        units=line.units,
        charge_cents=line.charge.cents,
        service_date=served,
        diagnosis_pointers=pointers,
        ndc=line.drug.ndc if line.drug is not None else None,
    )


def _service_date(
    dates: tuple[EventDate, ...], line: ServiceLine | InstitutionalServiceLine
) -> date | None:
    if line.service_date is not None:
        return line.service_date.first
    for kind in ("service", "statement"):
        for event in dates:
            if event.kind == kind and event.period is not None:
                return event.period.first
    return None


def _priority(responsibility: str) -> int:
    """SBR01 as the store keeps it: 1 primary, 2 secondary, 3 tertiary or later.

    SBR01 also names payers 4 to 11 (A to H); the coverages table counts to 3.
    """
    return _PRIORITIES.get(responsibility, 1)
