"""Released claims as a payer reads them: 837P records, ASC X12 005010X222A1.

``professional_claim`` turns one claim the gateway released
(``phi/outbound.py``) into the ``ProfessionalClaim`` that
``formats.x12.write837p`` writes: the practice as billing provider
(2010AA: name, NPI, street address, employer id), the patient as the
subscriber (2010BA) with the payer (2010BB), the claim (2300) and its
lines (2400). The submitter (1000A) is the billing company sending it.

The rendering provider (2310B: name, NPI, taxonomy) goes in when it is not
the billing provider and its name came with the claim. What the store does
not keep is left out rather than guessed: the referring provider's name
(2310A needs one beside the NPI) and a line's drug quantity (2410). A dependent's claim never gets
here: the subscriber is not kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from claimbridge.errors import NotFound, ValidationFailed
from claimbridge.formats.x12.records837 import (
    Address,
    BillingProvider,
    HealthCode,
    Party,
    Reference,
    Submission,
    Subscriber,
)
from claimbridge.formats.x12.x837p import ProfessionalClaim, ServiceLine
from claimbridge.phi.outbound import ReleasedClaim
from claimbridge.phi.records import ClaimRecord, CoverageRecord, PatientRecord
from claimbridge.storage.orgs import Organisation, OrgKind
from claimbridge.types import Money, ServicePeriod

__all__ = [
    "BillingIdentity",
    "billing_identity",
    "billing_provider",
    "professional_claim",
    "submission",
]

# SBR01, the payer's place in the order of payers, by coverage priority.
_RESPONSIBILITY = {1: "P", 2: "S", 3: "T"}


@dataclass(frozen=True, slots=True)
class BillingIdentity:
    """The practice as the billing provider loop names it."""

    name: str
    npi: str
    tax_id: str
    line: str
    city: str
    state: str
    postal_code: str


def billing_identity(session: Session, practice_id: str) -> BillingIdentity:
    """The practice's billing identity, or a refusal naming what it lacks."""
    org = session.get(Organisation, practice_id)
    if org is None or org.kind != OrgKind.PRACTICE.value:  # pragma: no cover - authorized first
        raise NotFound("No such practice.", where="practice")
    given = {
        "NPI": org.npi,
        "tax id": org.tax_id,
        "address line": org.address_line,
        "city": org.address_city,
        "state": org.address_state,
        "postal code": org.address_postal_code,
    }
    missing = [name for name, value in given.items() if not (value or "").strip()]
    if missing:
        raise ValidationFailed(
            f"The practice lacks what an 837P's billing provider needs: {', '.join(missing)}.",
            where="practice",
        )
    return BillingIdentity(
        name=org.name,
        npi=org.npi or "",
        tax_id=(org.tax_id or "").replace("-", ""),
        line=org.address_line or "",
        city=org.address_city or "",
        state=org.address_state or "",
        postal_code=org.address_postal_code or "",
    )


def billing_provider(identity: BillingIdentity) -> BillingProvider:
    return BillingProvider(
        Party(
            "billing_provider",
            identity.name.upper(),
            id_kind="npi",
            identifier=identity.npi,
            address=Address(identity.line, "", identity.city, identity.state, identity.postal_code),
            references=(Reference("EI", identity.tax_id),),
        )
    )


def submission(*, reference: str, submitter: Party, receiver: Party, now: datetime) -> Submission:
    """The BHT and 1000A/B loops: ``reference`` ties the file to its outbound batch."""
    return Submission(
        reference=reference,
        created_on=now.date(),
        created_time=now.strftime("%H%M"),
        submitter=submitter,
        receiver=receiver,
    )


def professional_claim(
    released: ReleasedClaim, *, submission: Submission, billing: BillingProvider
) -> ProfessionalClaim:
    """One claim, its patient the subscriber; CLM01 is the practice's account number."""
    claim = released.claim
    references = [Reference("D9", released.claim_id)]
    if released.patient.mrn:
        references.append(Reference("EA", released.patient.mrn))
    return ProfessionalClaim(
        claim_id=claim.patient_account or released.claim_id,
        total_charge=Money(claim.total_charge_cents),
        place_of_service=claim.place_of_service,
        frequency=claim.frequency_code,
        submission=submission,
        billing_provider=billing,
        subscriber=_subscriber(released.patient, released.coverage),
        patient=None,
        lines=tuple(
            ServiceLine(
                line.line_number,
                line.procedure_code,
                Money(line.charge_cents),
                Decimal(line.units),
                modifiers=line.modifiers,
                diagnosis_pointers=line.diagnosis_pointers,
                service_date=ServicePeriod.on(line.service_date),
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
        references=tuple(references),
        providers=_rendering(claim),
    )


def _rendering(claim: ClaimRecord) -> tuple[Party, ...]:
    if not claim.rendering_npi or claim.rendering_npi == claim.billing_npi:
        return ()
    if claim.rendering_name is None:
        return ()
    family, given = claim.rendering_name
    return (
        Party(
            "rendering_provider",
            family,
            first_name=given,
            is_person=True,
            id_kind="npi",
            identifier=claim.rendering_npi,
            taxonomy=claim.taxonomy or "",
        ),
    )


def _subscriber(patient: PatientRecord, coverage: CoverageRecord) -> Subscriber:
    address = None
    if patient.address is not None:
        a = patient.address
        address = Address(a.line, "", a.city, a.state, a.postal_code)
    person = Party(
        "subscriber",
        patient.family_name.upper(),
        first_name=patient.given_name.upper(),
        is_person=True,
        id_kind="member_id",
        identifier=coverage.member_id,
        address=address,
        birth_date=patient.birth_date,
        gender=patient.sex or "",
    )
    payer = Party(
        "payer", coverage.payer_name.upper(), id_kind="payer_id", identifier=coverage.payer_id
    )
    return Subscriber(
        person,
        payer,
        _RESPONSIBILITY.get(coverage.priority, "P"),
        relationship="18",
        group_number=coverage.group_number or "",
        claim_filing="MB" if "MEDICARE" in coverage.payer_name.upper() else "CI",
    )
