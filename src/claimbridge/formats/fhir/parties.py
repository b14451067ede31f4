"""People and organisations of a claim: FHIR resources in, 837P ``Party`` records out.

Patient, RelatedPerson and Practitioner become person parties (``HumanName``
family, given and suffix; ``birthDate``; ``gender`` as the X12 ``DMG03``
code F, M or U); Organization becomes an organisation party. Providers are
identified by their NPI (identifier system ``http://hl7.org/fhir/sid/us-npi``,
check digit verified); a PractitionerRole stands for its practitioner, or
its organisation when it names no practitioner, and lends its NPI and
specialty. Taxonomy codes come from the NUCC system; a tax id from the US
EIN system (``urn:oid:2.16.840.1.113883.4.4``) becomes a ``REF*EI``.

Social security numbers and telecom are not read: the billing view needs
neither (minimum necessary), so neither is carried into claimbridge.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Literal, TypeAlias

from claimbridge.formats.fhir.elements import Element, checked, code_in
from claimbridge.formats.fhir.errors import ElementInvalid, ElementMissing
from claimbridge.formats.fhir.resolve import BundleIndex, Located
from claimbridge.formats.x12.records837 import Address, Party, Reference
from claimbridge.types import NPI

__all__ = [
    "EIN_SYSTEM",
    "NPI_SYSTEM",
    "NUCC_SYSTEM",
    "V2_0203",
    "Demographics",
    "address_of",
    "identifier_typed",
    "organization_party",
    "person_party",
    "provider_party",
]

NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
EIN_SYSTEM = "urn:oid:2.16.840.1.113883.4.4"
NUCC_SYSTEM = "http://nucc.org/provider-taxonomy"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"

Demographics: TypeAlias = Literal["required", "optional", "none"]

_GENDERS = {"female": "F", "male": "M", "other": "U", "unknown": "U"}
_PREFERRED_NAME_USES = ("official", "usual", "")
_PROVIDER_TYPES = ("Practitioner", "Organization", "PractitionerRole")


def person_party(
    located: Located,
    *,
    role: str,
    id_kind: str = "",
    identifier: str = "",
    demographics: Demographics = "required",
) -> Party:
    """A Patient, RelatedPerson or Practitioner as a person party.

    ``demographics`` says whether the birth date, gender and address are
    read, and whether the first two must be there: the 837P requires them
    of the patient, and of the subscriber when the subscriber is the
    patient; a provider's are never read.
    """
    resource = located.element
    family, given, suffix = _name(resource)
    birth_date = None
    gender = ""
    if demographics == "required":
        birth_date = resource.need_day("birthDate", "The birth date is required to bill.")
        gender = _gender(resource)
    elif demographics == "optional":
        birth_date = resource.day("birthDate")
        gender = _gender(resource) if resource.has("gender") else ""
    return Party(
        role=role,
        name=family,
        first_name=given[0] if given else "",
        middle_name=given[1] if len(given) > 1 else "",
        suffix=suffix,
        is_person=True,
        id_kind=id_kind,
        identifier=identifier,
        address=None if demographics == "none" else address_of(resource),
        birth_date=birth_date,
        gender=gender,
    )


def organization_party(
    located: Located, *, role: str, id_kind: str = "", identifier: str = ""
) -> Party:
    """An Organization as a party: its name, and the identifier the caller chose."""
    resource = located.element
    return Party(
        role=role,
        name=resource.string("name", required="The organisation's name is required."),
        id_kind=id_kind,
        identifier=identifier,
        address=address_of(resource),
        references=_tax_id(resource),
    )


def provider_party(
    reference: Element,
    *,
    role: str,
    index: BundleIndex,
    within: Located,
    use: Callable[[Located], None],
) -> Party:
    """The provider a reference points at (Practitioner, Organization or PractitionerRole).

    The NPI is required: a provider on a claim is known by it. ``use``
    checks the structure of each resource drawn on.
    """
    located = index.resolve(reference, allowed=_PROVIDER_TYPES, within=within)
    use(located)
    npi = _npi(located.element)
    taxonomy = _taxonomy(located.element)
    if located.kind == "PractitionerRole":
        role_element = located.element
        member = role_element.object("practitioner") or role_element.object("organization")
        if member is None:
            raise role_element.missing(
                "practitioner", "A PractitionerRole needs a practitioner or an organization."
            )
        located = index.resolve(member, allowed=("Practitioner", "Organization"), within=located)
        use(located)
        npi = npi or _npi(located.element)
        taxonomy = taxonomy or _taxonomy(located.element)
    if not npi:
        raise ElementMissing(
            f"The provider needs an identifier with system {NPI_SYSTEM}.",
            path=located.element.at("identifier"),
        )
    if located.kind == "Organization":
        party = organization_party(located, role=role, id_kind="npi", identifier=npi)
    else:
        party = person_party(located, role=role, id_kind="npi", identifier=npi, demographics="none")
        party = replace(
            party, address=address_of(located.element), references=_tax_id(located.element)
        )
    return replace(party, taxonomy=taxonomy)


def identifier_typed(resource: Element, code: str) -> tuple[str, str] | None:
    """The value of the first identifier of v2-0203 type ``code`` (MR, MB, NIIP), with its path."""
    for identifier in resource.objects("identifier"):
        if _type_code(identifier) == code:
            value = identifier.string("value", required="The identifier has no value.")
            return value, identifier.at("value")
    return None


def address_of(resource: Element) -> Address | None:
    """The home (or first current) address of a resource, if it has one."""
    chosen: Element | None = None
    for address in resource.objects("address"):
        use = address.string("use")
        if use == "home" or (chosen is None and use != "old"):
            chosen = address
    if chosen is None:
        return None
    lines = chosen.strings("line")
    return Address(
        street=lines[0] if lines else "",
        street2=lines[1] if len(lines) > 1 else "",
        city=chosen.string("city"),
        state=chosen.string("state"),
        postal_code=chosen.string("postalCode"),
        country=chosen.string("country"),
    )


def _name(resource: Element) -> tuple[str, list[str], str]:
    names = resource.objects("name")
    if not names:
        raise resource.missing("name", "A person's name is required.")
    chosen = min(names, key=_name_rank)
    family = chosen.string("family", required="A person's family name is required.")
    suffixes = chosen.strings("suffix")
    return family, chosen.strings("given"), suffixes[0] if suffixes else ""


def _name_rank(name: Element) -> int:
    use = name.string("use")
    return _PREFERRED_NAME_USES.index(use) if use in _PREFERRED_NAME_USES else 3


def _gender(resource: Element) -> str:
    text = resource.string("gender", required="The administrative gender is required to bill.")
    try:
        return _GENDERS[text]
    except KeyError:
        raise resource.invalid(
            "gender", "The gender must be male, female, other or unknown."
        ) from None


def _npi(resource: Element) -> str:
    for identifier in resource.objects("identifier"):
        if identifier.string("system") == NPI_SYSTEM:
            value = identifier.string("value", required="The NPI identifier has no value.")
            return checked(
                NPI.parse,
                value,
                path=identifier.at("value"),
                message="An NPI is ten digits starting with 1 or 2, the last a check digit.",
            ).number
    return ""


def _taxonomy(resource: Element) -> str:
    for concept in resource.objects("specialty"):
        found = code_in(concept, (NUCC_SYSTEM,))
        if found:
            return found[0]
    for qualification in resource.objects("qualification"):
        found = code_in(qualification.object("code"), (NUCC_SYSTEM,))
        if found:
            return found[0]
    return ""


def _tax_id(resource: Element) -> tuple[Reference, ...]:
    for identifier in resource.objects("identifier"):
        if identifier.string("system") == EIN_SYSTEM:
            value = identifier.string("value", required="The tax id identifier has no value.")
            if not (len(value) == 9 and value.isascii() and value.isdigit()):
                raise ElementInvalid(
                    "A US employer identification number is nine digits.",
                    path=identifier.at("value"),
                )
            return (Reference("EI", value),)
    return ()


def _type_code(identifier: Element) -> str:
    found = code_in(identifier.object("type"), (V2_0203,))
    return found[0] if found else ""
