"""The focal insurance of a claim: Coverage in, the 837P subscriber, payer and patient out.

``Claim.insurance`` names the coverage to adjudicate the claim with
(``focal``: exactly one must be); its ``sequence`` is the payer's place in
the order of payers (1 primary ``P``, 2 secondary ``S``, 3 tertiary ``T``).
From the Coverage: ``beneficiary`` must be the claim's patient;
``subscriber`` (the patient when absent) is the insured person, known by
``subscriberId`` or else an identifier of type ``MB`` (member number);
``relationship`` (subscriber-relationship codes) says who the patient is to
the subscriber; ``payor`` is the payer, an Organization in the Bundle or a
logical reference with an identifier and a display name, known by its payer
id (an identifier of type ``NIIP``, or else its first identifier that is
not an NPI or a tax id); ``class`` of type ``group`` gives the group number
and name. Other insurances of the claim are not read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from claimbridge.formats.fhir.elements import Element, code_in
from claimbridge.formats.fhir.errors import ElementInvalid, ElementMissing
from claimbridge.formats.fhir.parties import (
    EIN_SYSTEM,
    NPI_SYSTEM,
    address_of,
    identifier_typed,
    person_party,
)
from claimbridge.formats.fhir.resolve import BundleIndex, Located
from claimbridge.formats.x12.records837 import Party, Patient, Subscriber

__all__ = ["RELATIONSHIPS", "Insured", "read_insurance"]

RELATIONSHIP_SYSTEM = "http://terminology.hl7.org/CodeSystem/subscriber-relationship"
COVERAGE_CLASS_SYSTEM = "http://terminology.hl7.org/CodeSystem/coverage-class"

# Subscriber-relationship codes as the 837P's individual relationship codes
# (PAT01): 01 spouse, 19 child, 53 life partner, G8 other relationship.
RELATIONSHIPS = {
    "self": "18",
    "spouse": "01",
    "child": "19",
    "common": "53",
    "parent": "G8",
    "injured": "G8",
    "other": "G8",
}
_RESPONSIBILITY = "PST" + "ABCDEFGH"  # SBR01 by insurance sequence 1 to 11


@dataclass(frozen=True, slots=True)
class Insured:
    """The subscriber with the payer, the patient when not the subscriber, and a prior auth."""

    subscriber: Subscriber
    patient: Patient | None
    prior_authorization: str


def read_insurance(
    claim: Located, patient: Located, *, index: BundleIndex, use: Callable[[Located], None]
) -> Insured:
    """The focal insurance of ``claim``, whose patient is ``patient``."""
    insurance = _focal(claim.element)
    reference = insurance.need("coverage", "The insurance needs a coverage.")
    coverage = index.resolve(reference, allowed=("Coverage",), within=claim)
    use(coverage)
    element = coverage.element
    _check_beneficiary(element, coverage, patient, index)
    relationship = _relationship(element)
    subscriber = _subscriber_resource(element, coverage, patient, relationship, index)
    if subscriber is not patient:
        use(subscriber)
    group_number, group_name = _group(element)
    person = person_party(
        subscriber,
        role="subscriber",
        id_kind="member_id",
        identifier=_member_id(element),
        demographics="required" if relationship == "self" else "optional",
    )
    sequence = insurance.integer("sequence") or 1
    record = Subscriber(
        person=person,
        payer=_payer(element, coverage, index, use),
        responsibility=_RESPONSIBILITY[sequence - 1] if 0 < sequence <= 11 else "U",
        relationship="18" if relationship == "self" else "",
        group_number=group_number,
        group_name=group_name,
    )
    dependent = None
    if relationship != "self":
        dependent = Patient(
            person_party(patient, role="patient"), relationship=RELATIONSHIPS[relationship]
        )
    preauth = insurance.strings("preAuthRef")
    return Insured(record, dependent, preauth[0] if preauth else "")


def _focal(claim: Element) -> Element:
    insurances = claim.objects("insurance")
    focal = [insurance for insurance in insurances if insurance.boolean("focal")]
    if len(focal) == 1:
        return focal[0]
    if not insurances:
        raise claim.missing("insurance", "The claim needs an insurance.")
    message = "Exactly one insurance must be focal (the coverage to bill)."
    raise ElementInvalid(message, path=(focal[1] if focal else insurances[0]).at("focal"))


def _check_beneficiary(
    coverage: Element, located: Located, patient: Located, index: BundleIndex
) -> None:
    reference = coverage.need("beneficiary", "The coverage needs a beneficiary.")
    beneficiary = index.resolve(reference, allowed=("Patient",), within=located)
    if beneficiary.resource is not patient.resource:
        raise ElementInvalid(
            "The coverage's beneficiary is not the claim's patient.",
            path=reference.at("reference"),
        )


def _relationship(coverage: Element) -> str:
    concept = coverage.object("relationship")
    if concept is None:
        if coverage.has("subscriber"):
            raise coverage.missing(
                "relationship", "A coverage naming a subscriber needs the relationship to them."
            )
        return "self"
    found = code_in(concept, (RELATIONSHIP_SYSTEM,))
    code = found[0] if found else ""
    if code not in RELATIONSHIPS:
        raise ElementInvalid(
            f"The relationship needs a coding with system {RELATIONSHIP_SYSTEM}.",
            path=concept.at("coding"),
        )
    return code


def _subscriber_resource(
    coverage: Element, located: Located, patient: Located, relationship: str, index: BundleIndex
) -> Located:
    reference = coverage.object("subscriber")
    if reference is None:
        if relationship != "self":
            raise coverage.missing("subscriber", "The subscriber is required unless it is self.")
        return patient
    subscriber = index.resolve(reference, allowed=("Patient", "RelatedPerson"), within=located)
    if (subscriber.resource is patient.resource) != (relationship == "self"):
        raise coverage.invalid(
            "relationship", "The relationship is self exactly when the subscriber is the patient."
        )
    return patient if subscriber.resource is patient.resource else subscriber


def _member_id(coverage: Element) -> str:
    member_id = coverage.string("subscriberId")
    if member_id:
        return member_id
    typed = identifier_typed(coverage, "MB")
    if typed is None:
        raise coverage.missing(
            "subscriberId", "The member id is required (subscriberId or an identifier of type MB)."
        )
    return typed[0]


def _group(coverage: Element) -> tuple[str, str]:
    for entry in coverage.objects("class"):
        found = code_in(entry.object("type"), (COVERAGE_CLASS_SYSTEM,))
        if found and found[0] == "group":
            value = entry.string("value", required="The group class has no value.")
            return value, entry.string("name")
    return "", ""


def _payer(
    coverage: Element, located: Located, index: BundleIndex, use: Callable[[Located], None]
) -> Party:
    payors = coverage.objects("payor")
    if not payors:
        raise coverage.missing("payor", "The coverage needs a payor.")
    reference = payors[0]
    if not reference.has("reference"):
        return _logical_payer(reference)
    organization = index.resolve(reference, allowed=("Organization",), within=located)
    use(organization)
    element = organization.element
    return Party(
        role="payer",
        name=element.string("name", required="The payer's name is required."),
        id_kind="payer_id",
        identifier=_payer_id(element),
        address=address_of(element),
    )


def _logical_payer(reference: Element) -> Party:
    identifier = reference.need(
        "identifier", "The payor needs a reference or an identifier (payer id)."
    )
    return Party(
        role="payer",
        name=reference.string("display", required="A payor given by identifier needs a display."),
        id_kind="payer_id",
        identifier=identifier.string("value", required="The payer id has no value."),
    )


def _payer_id(organization: Element) -> str:
    typed = identifier_typed(organization, "NIIP")
    if typed is not None:
        return typed[0]
    for identifier in organization.objects("identifier"):
        if identifier.string("system") not in (NPI_SYSTEM, EIN_SYSTEM) and identifier.has("value"):
            return identifier.string("value")
    raise ElementMissing(
        "The payer needs an identifier for its payer id.", path=organization.at("identifier")
    )
