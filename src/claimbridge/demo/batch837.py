"""The demo practice's recent claims as the 837P its practice-management system would export.

The demo loads most of a practice's claims directly, but its most recent
ones arrive the way real ones do: as an 837P batch, signed by the practice
and taken in through the exchange (``claimbridge demo`` runs the ingest).
The patients in it are the practice's own, so ingest matches them (by the
medical record number in REF*EA, then by name and birth date) instead of
creating new ones.

Only claims a payer can be billed for go in a batch: those with the
patient's own coverage (a dependent's claim needs the subscriber, whom the
demo does not invent); the rest are loaded directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from claimbridge.demo.generate import DemoClaim, DemoCoverage, DemoPatient, DemoPractice
from claimbridge.formats.x12.records837 import (
    Address,
    BillingProvider,
    HealthCode,
    Party,
    Reference,
    Submission,
    Subscriber,
)
from claimbridge.formats.x12.write837p import write_837p
from claimbridge.formats.x12.x837p import ProfessionalClaim, ServiceLine
from claimbridge.types import Money, ServicePeriod

__all__ = ["batchable", "practice_837p"]

SUBMITTER_ID = "CLAIMBRIDGEDEMO"
RECEIVER_ID = "CLAIMBRIDGE"


def batchable(practice: DemoPractice, claim: DemoClaim) -> bool:
    """Whether ``claim`` can travel in an 837P the demo writes (own coverage)."""
    coverage = _coverage_of(practice, claim)
    return coverage is not None and coverage.relationship == "self"


def practice_837p(
    practice: DemoPractice,
    claims: Sequence[DemoClaim],
    *,
    control_number: int,
    now: datetime,
) -> bytes:
    """An 837P interchange of ``claims`` (each ``batchable``), as the practice would send it."""
    patients = {patient.key: patient for patient in practice.patients}
    providers = {provider.npi: provider for provider in practice.providers}
    submission = Submission(
        reference=f"DEMO{control_number:09d}",
        created_on=now.date(),
        created_time=now.strftime("%H%M"),
        submitter=Party(
            "submitter", practice.name.upper(), id_kind="etin", identifier=SUBMITTER_ID
        ),
        receiver=Party("receiver", "CLAIMBRIDGE", id_kind="etin", identifier=RECEIVER_ID),
    )
    a = practice.address
    billing = BillingProvider(
        Party(
            "billing_provider",
            practice.name.upper(),
            id_kind="npi",
            identifier=practice.group_npi,
            address=Address(a.line, "", a.city, a.state, a.postal_code),
            references=(Reference("EI", practice.tax_id.replace("-", "")),),
        )
    )
    records = []
    for claim in claims:
        coverage = _coverage_of(practice, claim)
        if coverage is None or coverage.relationship != "self":
            raise ValueError("only claims under the patient's own coverage go in a batch")
        patient = patients[claim.patient_key]
        provider = providers[claim.rendering_npi]
        rendering = Party(
            "rendering_provider",
            provider.family_name.upper(),
            first_name=provider.given_name.upper(),
            is_person=True,
            id_kind="npi",
            identifier=provider.npi,
            taxonomy=provider.taxonomy_code,
        )
        records.append(
            ProfessionalClaim(
                claim_id=claim.patient_account,
                total_charge=Money(claim.total_charge_cents),
                place_of_service=claim.place_of_service,
                frequency=claim.frequency_code,
                submission=submission,
                billing_provider=billing,
                subscriber=_subscriber(patient, coverage),
                patient=None,
                lines=tuple(
                    ServiceLine(
                        line.line_number,
                        line.procedure_code,
                        Money(line.charge_cents),
                        Decimal(line.units),
                        modifiers=line.modifiers,
                        diagnosis_pointers=line.diagnosis_pointers,
                        service_date=ServicePeriod.on(line.date_of_service),
                    )
                    for line in claim.lines
                ),
                diagnoses=tuple(
                    HealthCode("ABK" if index == 0 else "ABF", code)
                    for index, code in enumerate(claim.diagnoses)
                ),
                assignment="A",
                benefits_assigned="Y",
                release_of_information="Y",
                references=(Reference("EA", patient.mrn),),
                providers=(rendering,),
            )
        )
    return write_837p(
        records,
        sender=SUBMITTER_ID,
        receiver=RECEIVER_ID,
        interchange_control_number=control_number,
        group_control_number=control_number,
        now=now,
    )


def _coverage_of(practice: DemoPractice, claim: DemoClaim) -> DemoCoverage | None:
    if claim.coverage_priority is None:
        return None
    for coverage in practice.coverages:
        if (
            coverage.patient_key == claim.patient_key
            and coverage.priority == claim.coverage_priority
        ):
            return coverage
    return None


def _subscriber(patient: DemoPatient, coverage: DemoCoverage) -> Subscriber:
    person = Party(
        "subscriber",
        patient.family_name.upper(),
        first_name=patient.given_name.upper(),
        is_person=True,
        id_kind="member_id",
        identifier=coverage.member_id,
        address=Address(patient.address_line, "", patient.city, patient.state, patient.postal_code),
        birth_date=patient.birth_date,
        gender=patient.sex,
    )
    payer = Party(
        "payer", coverage.payer_name.upper(), id_kind="payer_id", identifier=coverage.payer_id
    )
    return Subscriber(
        person,
        payer,
        "P",
        relationship="18",
        group_number=coverage.group_number or "",
        claim_filing="MB" if "MEDICARE" in coverage.payer_name.upper() else "CI",
    )
