"""Claim items: one FHIR ``Claim.item`` in, one 837P ``ServiceLine`` out.

An item is read as the 837P ``SV1`` line it stands for: ``productOrService``
a CPT (``http://www.ama-assn.org/go/cpt``) or HCPCS Level II code,
``modifier`` up to four modifiers, ``quantity`` the units (one when
absent), ``net`` the line charge (or ``unitPrice`` times ``quantity`` times
``factor`` when there is no ``net``), ``servicedDate`` or ``servicedPeriod``
the date of service, ``locationCodeableConcept`` the CMS place of service,
``diagnosisSequence`` up to four pointers into the claim's diagnoses,
``careTeamSequence`` the providers of the line, ``encounter`` the
encounters that document it (each must be an Encounter of the claim's
patient in the Bundle).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Context, Decimal, DecimalException, Inexact, InvalidOperation, Overflow

from claimbridge.errors import ValidationFailed
from claimbridge.formats.fhir.elements import Element, checked, code_in, parse_day
from claimbridge.formats.fhir.errors import CodeSystemUnsupported, ElementInvalid, ElementMissing
from claimbridge.formats.fhir.resolve import BundleIndex, Located
from claimbridge.formats.x12.records837 import Party
from claimbridge.formats.x12.x837p import ServiceLine
from claimbridge.types import Modifier, Money, PlaceOfService, ProcedureCode, ServicePeriod

__all__ = [
    "CPT_SYSTEM",
    "HCPCS_SYSTEMS",
    "LineContext",
    "is_place_of_service_system",
    "money",
    "read_line",
]

CPT_SYSTEM = "http://www.ama-assn.org/go/cpt"
HCPCS_SYSTEMS = (
    "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
    "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
)
_PROCEDURE_SYSTEMS = (CPT_SYSTEM, *HCPCS_SYSTEMS)
# The CMS place-of-service code set, as terminology.hl7.org names it, in any
# of the spellings in use (http or https, any case, with or without .html).
_POS_SYSTEM = "www.cms.gov/medicare/coding/place-of-service-codes/place_of_service_code_set"

_MAX_MODIFIERS = 4
_MAX_POINTERS = 4
# SV104 holds at most 15 digits; a line never bills ten million units.
_MAX_UNITS = Decimal(10_000_000)
_UNIT_PLACES = 4
_MINUTES = frozenset({"min", "minutes"})
_EXACT = Context(prec=60, traps=[Inexact, Overflow, InvalidOperation])


@dataclass(frozen=True, slots=True)
class LineContext:
    """What a line needs from its claim.

    ``diagnoses`` maps a diagnosis ``sequence`` to its 1-based position in
    the claim's diagnosis list; ``care_team`` a care team ``sequence`` to
    the party it names when its role is one the 837P carries, else None;
    ``claim_providers`` are the parties named on the claim already. ``use``
    checks the structure of a resource the line draws on.
    """

    diagnoses: Mapping[int, int]
    care_team: Mapping[int, Party | None]
    claim_providers: tuple[Party, ...]
    patient: Located
    claim: Located
    index: BundleIndex
    use: Callable[[Located], None]


def read_line(item: Element, number: int, context: LineContext) -> ServiceLine:
    """The service line ``item`` stands for; ``number`` counts lines from 1."""
    procedure, modifiers = _procedure(item)
    units, unit_kind = _units(item)
    for reference in item.objects("encounter"):
        _check_encounter(reference, context)
    return ServiceLine(
        number=number,
        procedure=procedure,
        charge=_charge(item, units),
        units=units,
        unit_kind=unit_kind,
        modifiers=modifiers,
        place_of_service=_place_of_service(item),
        diagnosis_pointers=_pointers(item, context.diagnoses),
        service_date=_service_date(item),
        providers=_line_providers(item, context),
    )


def money(amount: Element) -> Money:
    """A FHIR ``Money``: a value in whole cents of US dollars, never negative here."""
    currency = amount.string("currency")
    if currency and currency != "USD":
        raise amount.invalid("currency", "Amounts must be in US dollars (USD).")
    value = amount.decimal("value")
    if value is None:
        raise amount.missing("value", "The amount has no value.")
    return _cents(value, amount.at("value"))


def _cents(value: Decimal, path: str) -> Money:
    try:
        cents = Money.from_decimal(value, where=path)
    except ValidationFailed:
        raise ElementInvalid(
            "An amount must be whole cents with at most 16 digits before the point.", path=path
        ) from None
    if cents.cents < 0:
        raise ElementInvalid("An amount must not be negative.", path=path)
    return cents


def is_place_of_service_system(system: str) -> bool:
    text = system.lower().removesuffix(".html").removesuffix("/")
    return text.split("://", 1)[-1] == _POS_SYSTEM


def _procedure(item: Element) -> tuple[str, tuple[str, ...]]:
    concept = item.need("productOrService", "The item needs a CPT or HCPCS productOrService.")
    found = code_in(concept, _PROCEDURE_SYSTEMS)
    if found is None:
        raise CodeSystemUnsupported(
            f"The item needs a coding with system {CPT_SYSTEM} or a HCPCS system.",
            path=concept.at("coding"),
        )
    code, where = found
    procedure = checked(
        ProcedureCode.parse,
        code,
        path=where,
        message="The code is not a CPT or HCPCS Level II code.",
    ).code
    modifiers = tuple(_modifier(concept) for concept in item.objects("modifier"))
    if len(modifiers) > _MAX_MODIFIERS:
        raise item.invalid("modifier", "An 837P line carries at most four modifiers.")
    return procedure, modifiers


def _modifier(concept: Element) -> str:
    found = code_in(concept, _PROCEDURE_SYSTEMS)
    if found is None:
        raise CodeSystemUnsupported(
            "A modifier needs a coding with the CPT or a HCPCS system.", path=concept.at("coding")
        )
    code, where = found
    message = "A modifier is two letters or digits."
    return checked(Modifier.parse, code, path=where, message=message).code


def _units(item: Element) -> tuple[Decimal, str]:
    quantity = item.object("quantity")
    if quantity is None:
        return Decimal(1), "units"
    value = quantity.decimal("value")
    if value is None:
        raise quantity.missing("value", "The quantity has no value.")
    if not 0 < value < _MAX_UNITS or value != round(value, _UNIT_PLACES):
        raise quantity.invalid(
            "value",
            "The quantity must be more than zero, below ten million, "
            "with at most four decimal places.",
        )
    kind = "minutes" if quantity.string("code") in _MINUTES else "units"
    return value, kind


def _charge(item: Element, units: Decimal) -> Money:
    net = item.object("net")
    if net is not None:
        return money(net)
    price = item.object("unitPrice")
    if price is None:
        raise item.missing("net", "The item needs a net amount (or a unitPrice).")
    factor = item.decimal("factor")
    try:
        # Exact or refused: a product that would need rounding is no charge.
        total = _EXACT.multiply(
            _EXACT.multiply(money(price).to_decimal(), units),
            Decimal(1) if factor is None else factor,
        )
    except DecimalException:
        raise item.invalid("factor", "unitPrice times quantity and factor is no amount.") from None
    return _cents(total, item.at("unitPrice"))


def _place_of_service(item: Element) -> str:
    concept = item.object("locationCodeableConcept")
    if concept is None:
        return ""
    for coding in concept.objects("coding"):
        if is_place_of_service_system(coding.string("system")):
            code = coding.string("code", required="The coding has no code.")
            message = "The place of service is not a code of the CMS code set."
            return checked(PlaceOfService.parse, code, path=coding.at("code"), message=message).code
    raise CodeSystemUnsupported(
        "The location needs a coding from the CMS place-of-service code set.",
        path=concept.at("coding"),
    )


def _pointers(item: Element, diagnoses: Mapping[int, int]) -> tuple[int, ...]:
    sequences = item.integers("diagnosisSequence")
    if len(sequences) > _MAX_POINTERS:
        raise item.invalid("diagnosisSequence", "An 837P line points to at most four diagnoses.")
    pointers = []
    for index, sequence in enumerate(sequences):
        if sequence not in diagnoses:
            raise ElementInvalid(
                "The diagnosis sequence matches no Claim.diagnosis.",
                path=f"{item.at('diagnosisSequence')}[{index}]",
            )
        pointers.append(diagnoses[sequence])
    return tuple(pointers)


def _service_date(item: Element) -> ServicePeriod:
    day = item.day("servicedDate")
    if day is not None:
        return ServicePeriod.on(day)
    period = item.object("servicedPeriod")
    if period is None:
        raise ElementMissing(
            "The item needs a servicedDate or a servicedPeriod.", path=item.at("servicedDate")
        )
    start = period.string("start", required="The service period needs a start.")
    first = parse_day(start, period.at("start"))
    end = period.string("end")
    last = parse_day(end, period.at("end")) if end else first
    if last < first:
        raise period.invalid("end", "The service period ends before it starts.")
    return ServicePeriod(first, last)


def _line_providers(item: Element, context: LineContext) -> tuple[Party, ...]:
    providers: list[Party] = []
    for index, sequence in enumerate(item.integers("careTeamSequence")):
        if sequence not in context.care_team:
            raise ElementInvalid(
                "The care team sequence matches no Claim.careTeam.",
                path=f"{item.at('careTeamSequence')}[{index}]",
            )
        party = context.care_team[sequence]
        if party is not None and party not in context.claim_providers and party not in providers:
            providers.append(party)
    return tuple(providers)


def _check_encounter(reference: Element, context: LineContext) -> None:
    encounter = context.index.resolve(reference, allowed=("Encounter",), within=context.claim)
    context.use(encounter)
    subject = encounter.element.object("subject")
    if subject is None:
        return
    found = context.index.resolve(subject, allowed=("Patient",), within=encounter)
    if found.resource is not context.patient.resource:
        raise ElementInvalid(
            "The encounter is of another patient than the claim.", path=subject.at("reference")
        )
