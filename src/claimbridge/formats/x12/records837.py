"""Records shared by the 837 readers and writer (005010X222A1, 005010X223A2).

These are the border where X12 names become plain English: an ``NM1`` loop
is a ``Party``, ``SBR`` and its ``NM1*IL``/``NM1*PR`` loops a
``Subscriber``, ``CAS`` an ``Adjustment``. Codes that are industry code
sets in their own right (place of service, CARC reason codes, ICD-10,
HCPCS, taxonomy) stay codes; the fields holding them say what they are.

Every record is a frozen, slotted dataclass, so a claim can be shared,
hashed and compared (``parse(write(x)) == x``). Records higher in the
hierarchy (the submission, the billing provider, the subscriber) are one
object shared by every claim under them: reading a file with a thousand
claims per subscriber does not copy the subscriber a thousand times.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal

from claimbridge.formats.x12.construct import fast_constructor
from claimbridge.formats.x12.records835 import Adjustment
from claimbridge.types import Money, ServicePeriod

__all__ = [
    "Address",
    "Adjustment",
    "Contact",
    "ContactNumber",
    "Drug",
    "EventDate",
    "HealthCode",
    "LineAdjudication",
    "Note",
    "OtherPayer",
    "Party",
    "Patient",
    "Reference",
    "Submission",
    "Subscriber",
    "new_address",
    "new_billing_provider",
    "new_drug",
    "new_event_date",
    "new_health_code",
    "new_line_adjudication",
    "new_note",
    "new_other_payer",
    "new_party",
    "new_patient",
    "new_reference",
    "new_subscriber",
    "reference_value",
]


@dataclass(frozen=True, slots=True)
class Address:
    """A postal address (``N3`` and ``N4``)."""

    street: str
    street2: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""
    country: str = ""


@dataclass(frozen=True, slots=True)
class Reference:
    """A secondary identifier (``REF``): what it is (``qualifier``) and its value.

    Common qualifiers: ``EI`` employer id (tax id), ``SY`` social security
    number, ``G2`` payer-assigned provider number, ``G1`` prior
    authorization, ``9F`` referral, ``F8`` payer claim control number,
    ``EA`` medical record number, ``6R`` line item control number.
    """

    qualifier: str
    value: str


@dataclass(frozen=True, slots=True)
class ContactNumber:
    """One way to reach a contact: ``kind`` is phone, fax, email, extension or the code."""

    kind: str
    value: str


@dataclass(frozen=True, slots=True)
class Contact:
    """A named contact (``PER``) with up to three numbers."""

    name: str
    numbers: tuple[ContactNumber, ...] = ()


@dataclass(frozen=True, slots=True)
class Party:
    """A person or organisation named in an ``NM1`` loop, with what the loop says of it.

    ``role`` is what the party is to the claim in plain English
    (``billing_provider``, ``subscriber``, ``payer``, ``rendering_provider``,
    ...). ``id_kind`` names the identifier (``npi``, ``member_id``,
    ``payer_id``, ``etin``, ``ein``, ``ssn`` ...). ``taxonomy`` comes from
    ``PRV``; ``birth_date`` and ``gender`` from ``DMG``.
    """

    role: str
    name: str
    first_name: str = ""
    middle_name: str = ""
    suffix: str = ""
    is_person: bool = False
    id_kind: str = ""
    identifier: str = ""
    address: Address | None = None
    references: tuple[Reference, ...] = ()
    contacts: tuple[Contact, ...] = ()
    taxonomy: str = ""
    birth_date: date | None = None
    gender: str = ""

    @property
    def npi(self) -> str | None:
        """The National Provider Identifier, when the party is identified by one."""
        return self.identifier if self.id_kind == "npi" else None

    @property
    def tax_id(self) -> str | None:
        """The employer id or social security number the party reports for tax."""
        return reference_value(self.references, "EI") or reference_value(self.references, "SY")


def reference_value(references: tuple[Reference, ...], qualifier: str) -> str | None:
    """The value of the first reference with ``qualifier``, if any."""
    for reference in references:
        if reference.qualifier == qualifier:
            return reference.value
    return None


@dataclass(frozen=True, slots=True)
class Submission:
    """Who sent the transaction set to whom, and when (``BHT``, loops 1000A and 1000B).

    ``purpose`` is ``00`` (original) or ``18`` (reissue); ``claim_type`` is
    ``CH`` (claims), ``RP`` (encounters, reporting only) or ``31``
    (subrogation demand). ``created_time`` is ``HHMM``, ``HHMMSS`` or
    ``HHMMSSDD`` as sent.
    """

    reference: str
    created_on: date
    created_time: str
    submitter: Party
    receiver: Party
    purpose: str = "00"
    claim_type: str = "CH"


@dataclass(frozen=True, slots=True)
class BillingProvider:
    """The billing provider loop (2000A) with its pay-to address and pay-to plan."""

    provider: Party
    pay_to: Party | None = None
    pay_to_plan: Party | None = None


@dataclass(frozen=True, slots=True)
class Subscriber:
    """The insured person (2000B) with the payer the claim is sent to (2010BB).

    ``responsibility`` is the payer's place in the order of payers: ``P``
    primary, ``S`` secondary, ``T`` tertiary (``SBR01``). ``relationship``
    is ``18`` when the subscriber is the patient. ``claim_filing`` is the
    claim filing indicator (``CI`` commercial, ``MB`` Medicare Part B ...).
    """

    person: Party
    payer: Party
    responsibility: str
    relationship: str = ""
    group_number: str = ""
    group_name: str = ""
    insurance_type: str = ""
    claim_filing: str = ""


@dataclass(frozen=True, slots=True)
class Patient:
    """The patient when not the subscriber (2000C): ``relationship`` to the subscriber."""

    person: Party
    relationship: str


@dataclass(frozen=True, slots=True)
class EventDate:
    """A dated event on a claim or line (``DTP``).

    ``kind`` names the event in plain English (``onset``, ``accident``,
    ``admission``, ``service`` ...) or keeps the code when it has no name
    here. A day or a range of days is a ``period``; an event with a time
    of day has ``time`` as well; a time alone (discharge hour) has no period.
    """

    kind: str
    period: ServicePeriod | None
    time: time | None = None


@dataclass(frozen=True, slots=True)
class Note:
    """Free text (``NTE``): ``topic`` is the note reference code (``ADD``, ``DCP``, ``TPO`` ...)."""

    topic: str
    text: str


@dataclass(frozen=True, slots=True)
class HealthCode:
    """One code of an ``HI`` list: a diagnosis, procedure, condition, occurrence or value.

    ``qualifier`` says which list the code belongs to (``ABK`` principal
    ICD-10-CM diagnosis, ``ABF`` other diagnosis, ``BBR`` principal
    ICD-10-PCS procedure, ``BH`` occurrence, ``BE`` value ...). Occurrences
    and procedures carry a ``period``; value codes an ``amount``;
    institutional diagnoses may say whether they were ``present_on_admission``.
    """

    qualifier: str
    code: str
    period: ServicePeriod | None = None
    amount: Decimal | None = None
    present_on_admission: str = ""


@dataclass(frozen=True, slots=True)
class Drug:
    """The drug a line supplied (loop 2410): National Drug Code and quantity."""

    ndc: str
    quantity: Decimal
    unit: str
    prescription: str = ""


@dataclass(frozen=True, slots=True)
class LineAdjudication:
    """How an earlier payer adjudicated a line (loop 2430: ``SVD``, ``CAS``, ``DTP``)."""

    payer_id: str
    paid: Money
    procedure: str
    paid_units: Decimal
    code_system: str = "HC"
    modifiers: tuple[str, ...] = ()
    description: str = ""
    bundled_line: int | None = None
    adjustments: tuple[Adjustment, ...] = ()
    adjudicated_on: date | None = None
    remaining_patient_liability: Money | None = None


@dataclass(frozen=True, slots=True)
class OtherPayer:
    """Another payer of the claim and what it decided (loops 2320 and 2330A-G)."""

    responsibility: str
    subscriber: Party
    payer: Party
    relationship: str = ""
    group_number: str = ""
    group_name: str = ""
    insurance_type: str = ""
    claim_filing: str = ""
    adjustments: tuple[Adjustment, ...] = ()
    paid: Money | None = None
    non_covered: Money | None = None
    remaining_patient_liability: Money | None = None
    benefits_assigned: str = ""
    patient_signature_source: str = ""
    release_of_information: str = ""
    adjudicated_on: date | None = None
    providers: tuple[Party, ...] = ()


# Positional constructors that skip the frozen __setattr__ (see ``construct``);
# the readers build these records per claim, line or loop.
new_address = fast_constructor(Address)
new_billing_provider = fast_constructor(BillingProvider)
new_drug = fast_constructor(Drug)
new_event_date = fast_constructor(EventDate)
new_health_code = fast_constructor(HealthCode)
new_line_adjudication = fast_constructor(LineAdjudication)
new_note = fast_constructor(Note)
new_other_payer = fast_constructor(OtherPayer)
new_party = fast_constructor(Party)
new_patient = fast_constructor(Patient)
new_reference = fast_constructor(Reference)
new_subscriber = fast_constructor(Subscriber)
