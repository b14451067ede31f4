"""One FHIR Claim in, one 837P ``ProfessionalClaim`` out, or the reasons it cannot be.

A Claim is read when it is ``active``, its ``use`` is ``claim`` and its
``type`` is ``professional`` (``http://terminology.hl7.org/CodeSystem/claim-type``);
any other Claim is rejected with the reason, never skipped in silence.

What becomes what (``docs/fhir.md`` has the whole table):

* ``identifier[0].value`` (else ``id``): the claim id, CLM01, 38 characters at most;
* ``patient``, ``insurance[focal]``: the subscriber, payer and patient (``coverage``);
* ``provider``: the billing provider, with its NPI (``parties``);
* ``careTeam``: rendering, referring, supervising and primary care providers
  by role (``claimcareteamrole`` or CARIN ``C4BBClaimCareTeamRole`` codes,
  ``CARE_TEAM_ROLES``); members in other roles are resolved but not carried;
* ``diagnosis``: ICD-10-CM codes in ``sequence`` order, at most 12, the
  first the principal diagnosis;
* ``item``: the service lines (``lines``), at most 50; the first item with a
  place of service gives the claim's, and lines repeat it only where it differs;
* ``total``: must equal the sum of the line charges;
* the patient's identifier of type ``MR``: the medical record number, ``REF*EA``;
  the focal insurance's ``preAuthRef``: the prior authorization, ``REF*G1``.

Each resource the claim draws on is checked against its FHIR R4 model
first (``use``); a claim whose resources are unsound is rejected with those
faults alone, not with whatever reading them further would add.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date

from claimbridge.formats.fhir.coverage import read_insurance
from claimbridge.formats.fhir.elements import Element, checked, code_in
from claimbridge.formats.fhir.errors import (
    CodeSystemUnsupported,
    ElementInvalid,
    ElementMissing,
    FhirError,
    TotalMismatch,
)
from claimbridge.formats.fhir.lines import LineContext, money, read_line
from claimbridge.formats.fhir.parties import identifier_typed, provider_party
from claimbridge.formats.fhir.resolve import BundleIndex, Located
from claimbridge.formats.x12.records837 import (
    BillingProvider,
    HealthCode,
    Party,
    Reference,
    Submission,
)
from claimbridge.formats.x12.x837p import ProfessionalClaim, ServiceLine
from claimbridge.types import ICD10CM, Money

__all__ = [
    "C4BB_CARE_TEAM_ROLE_SYSTEM",
    "CARE_TEAM_ROLES",
    "CARE_TEAM_ROLE_SYSTEM",
    "ICD10CM_SYSTEM",
    "ClaimBuilder",
]

ICD10CM_SYSTEM = "http://hl7.org/fhir/sid/icd-10-cm"
CLAIM_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/claim-type"
CARE_TEAM_ROLE_SYSTEM = "http://terminology.hl7.org/CodeSystem/claimcareteamrole"
C4BB_CARE_TEAM_ROLE_SYSTEM = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBClaimCareTeamRole"
# Care team roles as the 837P's provider roles, each code as its system
# defines it. The base R4 code set knows only primary (care provider),
# assist, supervisor and other; US exports name rendering and referring
# providers with the CARIN Blue Button codes.
CARE_TEAM_ROLES = {
    (CARE_TEAM_ROLE_SYSTEM, "primary"): "primary_care_provider",
    (CARE_TEAM_ROLE_SYSTEM, "supervisor"): "supervising_provider",
    (C4BB_CARE_TEAM_ROLE_SYSTEM, "rendering"): "rendering_provider",
    (C4BB_CARE_TEAM_ROLE_SYSTEM, "performing"): "rendering_provider",
    (C4BB_CARE_TEAM_ROLE_SYSTEM, "referring"): "referring_provider",
    (C4BB_CARE_TEAM_ROLE_SYSTEM, "supervisor"): "supervising_provider",
    (C4BB_CARE_TEAM_ROLE_SYSTEM, "primary"): "primary_care_provider",
}
_MAX_CLAIM_ID = 38  # CLM01
_MAX_DIAGNOSES = 12  # HI, and what SV107 pointers can reach
_MAX_LINES = 50  # LX


class _Rejected(Exception):
    """The claim cannot be read; its errors are in the builder already."""


class ClaimBuilder:
    """Reads one Claim entry; ``build()`` gives the claim or ``None`` and ``errors``."""

    def __init__(
        self,
        claim: Located,
        *,
        index: BundleIndex,
        check: Callable[[Located], list[FhirError]],
        submission: Callable[[date], Submission],
    ) -> None:
        self.claim = claim
        self.index = index
        self.errors: list[FhirError] = []
        self._check = check
        self._submission = submission

    def build(self) -> ProfessionalClaim | None:
        try:
            claim = self._build()
        except _Rejected:
            return None
        except FhirError as exc:
            self.errors.append(exc)
            return None
        return None if self.errors else claim

    def use(self, located: Located) -> None:
        """Check ``located`` against its model; its faults reject the claim."""
        errors = self._check(located)
        if errors:
            self.errors.extend(errors)
            raise _Rejected

    def _build(self) -> ProfessionalClaim:
        self.use(self.claim)
        claim = self.claim.element
        _check_kind(claim)
        claim_id = _claim_id(claim)
        created = claim.need_day("created", "The claim's creation date is required.")
        reference = claim.need("patient", "The claim needs a patient.")
        patient = self.index.resolve(reference, allowed=("Patient",), within=self.claim)
        self.use(patient)
        insured = read_insurance(self.claim, patient, index=self.index, use=self.use)
        billing = self._provider(
            claim.need("provider", "The claim needs a billing provider."), "billing_provider"
        )
        care_team, providers = self._care_team(claim)
        diagnoses, positions = _diagnoses(claim)
        context = LineContext(
            diagnoses=positions,
            care_team=care_team,
            claim_providers=providers,
            patient=patient,
            claim=self.claim,
            index=self.index,
            use=self.use,
        )
        lines, place = _place_lines(claim, self._lines(claim, context))
        total = claim.object("total")
        charge = sum(line.charge.cents for line in lines)
        if total is not None and money(total).cents != charge:
            raise TotalMismatch("Claim.total is not the sum of the item nets.", path=total.path)
        return ProfessionalClaim(
            claim_id=claim_id,
            total_charge=Money(charge),
            place_of_service=place,
            frequency="1",
            submission=self._submission(created),
            billing_provider=BillingProvider(billing),
            subscriber=insured.subscriber,
            patient=insured.patient,
            lines=lines,
            diagnoses=diagnoses,
            references=_references(patient, insured.prior_authorization),
            providers=providers,
        )

    def _care_team(self, claim: Element) -> tuple[dict[int, Party | None], tuple[Party, ...]]:
        team: dict[int, Party | None] = {}
        providers: list[Party] = []
        for member in claim.objects("careTeam"):
            sequence = member.integer("sequence")
            if sequence is None or sequence in team:
                raise member.invalid("sequence", "Each care team member needs its own sequence.")
            reference = member.need("provider", "The care team member has no provider.")
            role = _care_team_role(member)
            if not role:
                allowed = ("Practitioner", "Organization", "PractitionerRole")
                self.index.resolve(reference, allowed=allowed, within=self.claim)
                team[sequence] = None
                continue
            party = self._provider(reference, role)
            team[sequence] = party
            if all(known.role != role for known in providers):
                providers.append(party)
        return team, tuple(providers)

    def _provider(self, reference: Element, role: str) -> Party:
        return provider_party(
            reference, role=role, index=self.index, within=self.claim, use=self.use
        )

    def _lines(self, claim: Element, context: LineContext) -> list[ServiceLine]:
        items = claim.objects("item")
        if not items:
            raise claim.missing("item", "The claim needs at least one item (service line).")
        if len(items) > _MAX_LINES:
            raise ElementInvalid(
                "An 837P claim carries at most 50 service lines.",
                path=f"{claim.at('item')}[{_MAX_LINES}]",
            )
        lines = []
        for number, item in enumerate(items, 1):
            try:
                lines.append(read_line(item, number, context))
            except FhirError as exc:
                self.errors.append(exc)
        if self.errors:
            raise _Rejected
        return lines


def _check_kind(claim: Element) -> None:
    if claim.string("status") != "active":
        raise claim.invalid("status", "Only an active claim is billed.")
    if claim.string("use") != "claim":
        raise claim.invalid("use", "Only claims are read, not preauthorizations or estimates.")
    found = code_in(claim.object("type"), (CLAIM_TYPE_SYSTEM,))
    if found is None or found[0] != "professional":
        raise claim.invalid("type", "Only professional claims are read.")


def _claim_id(claim: Element) -> str:
    identifiers = claim.objects("identifier")
    if identifiers:
        claim_id = identifiers[0].string("value", required="The claim identifier has no value.")
        where = identifiers[0].at("value")
    else:
        claim_id = claim.string("id", required="The claim needs an identifier or an id.")
        where = claim.at("id")
    if len(claim_id) > _MAX_CLAIM_ID:
        raise ElementInvalid("A claim id is at most 38 characters in an 837P.", path=where)
    return claim_id


def _diagnoses(claim: Element) -> tuple[tuple[HealthCode, ...], dict[int, int]]:
    found: list[tuple[int, str, Element]] = []
    for diagnosis in claim.objects("diagnosis"):
        sequence = diagnosis.integer("sequence")
        if sequence is None or sequence < 1:
            raise diagnosis.invalid("sequence", "A diagnosis needs a sequence of 1 or more.")
        found.append((sequence, _icd10cm(diagnosis), diagnosis))
    if not found:
        raise claim.missing("diagnosis", "A professional claim needs an ICD-10-CM diagnosis.")
    if len(found) > _MAX_DIAGNOSES:
        raise ElementInvalid(
            "An 837P claim carries at most 12 diagnoses.",
            path=f"{claim.at('diagnosis')}[{_MAX_DIAGNOSES}]",
        )
    found.sort(key=lambda entry: entry[0])
    positions: dict[int, int] = {}
    codes = []
    for position, (sequence, code, diagnosis) in enumerate(found, 1):
        if sequence in positions:
            raise diagnosis.invalid("sequence", "Two diagnoses share a sequence.")
        positions[sequence] = position
        codes.append(HealthCode("ABK" if position == 1 else "ABF", code))
    return tuple(codes), positions


def _icd10cm(diagnosis: Element) -> str:
    concept = diagnosis.object("diagnosisCodeableConcept")
    if concept is None:
        raise ElementMissing(
            "A diagnosis needs a diagnosisCodeableConcept with an ICD-10-CM coding; "
            "a diagnosisReference is not read.",
            path=diagnosis.at("diagnosisCodeableConcept"),
        )
    found = code_in(concept, (ICD10CM_SYSTEM,))
    if found is None:
        raise CodeSystemUnsupported(
            f"The diagnosis needs a coding with system {ICD10CM_SYSTEM}.",
            path=concept.at("coding"),
        )
    code, where = found
    message = "The code is not an ICD-10-CM code."
    return checked(ICD10CM.parse, code, path=where, message=message).code


def _care_team_role(member: Element) -> str:
    concept = member.object("role")
    if concept is None:
        return ""
    for coding in concept.objects("coding"):
        role = CARE_TEAM_ROLES.get((coding.string("system"), coding.string("code")))
        if role:
            return role
    return ""


def _place_lines(claim: Element, lines: list[ServiceLine]) -> tuple[tuple[ServiceLine, ...], str]:
    place = next((line.place_of_service for line in lines if line.place_of_service), "")
    if not place:
        raise ElementMissing(
            "The first item needs a locationCodeableConcept with a CMS place of service.",
            path=f"{claim.at('item')}[0].locationCodeableConcept",
        )
    return (
        tuple(
            replace(line, place_of_service="") if line.place_of_service == place else line
            for line in lines
        ),
        place,
    )


def _references(patient: Located, prior_authorization: str) -> tuple[Reference, ...]:
    references = []
    record = identifier_typed(patient.element, "MR")
    if record is not None:
        references.append(Reference("EA", record[0]))
    if prior_authorization:
        references.append(Reference("G1", prior_authorization))
    return tuple(references)
