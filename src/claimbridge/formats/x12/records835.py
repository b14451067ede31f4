"""Records of an 835 health care claim payment/advice (005010X221A1).

X12 names stop here: ``CLP04`` is ``ClaimPayment.paid``, ``BPR02`` is
``Payment.amount``, a ``CAS`` triple is an ``Adjustment``. Segments the
records do not model (MIA, MOA, TS3, TS2, CUR, RDM …) are kept as they came,
in ``other``, so that writing a remittance back loses nothing it carried.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TypeAlias

from claimbridge.types import Money

__all__ = [
    "Address",
    "Adjustment",
    "Amount",
    "ClaimPayment",
    "Contact",
    "DateOf",
    "Name",
    "Party",
    "Payment",
    "Procedure",
    "ProviderAdjustment",
    "Quantity",
    "RawSegment",
    "Reference",
    "Remark",
    "Remittance",
    "ServicePayment",
    "Trace",
]

# A segment kept as read: its id, then each element as text, or as a tuple
# of components when it is a composite.
RawSegment: TypeAlias = tuple[str | tuple[str, ...], ...]


@dataclass(frozen=True, slots=True)
class Reference:
    """REF: an identifier and what kind it is (REF01 qualifier)."""

    qualifier: str
    value: str


@dataclass(frozen=True, slots=True)
class DateOf:
    """DTM: a date and what it is the date of (DTM01 qualifier: 232 claim start …)."""

    qualifier: str
    day: date


@dataclass(frozen=True, slots=True)
class Amount:
    """AMT: a supplemental amount (AU coverage, B6 allowed …)."""

    qualifier: str
    amount: Money


@dataclass(frozen=True, slots=True)
class Quantity:
    """QTY: a supplemental quantity (CA covered days …)."""

    qualifier: str
    value: Decimal


@dataclass(frozen=True, slots=True)
class Remark:
    """LQ: a remittance advice remark code (HE) or NCPDP reject code (RX)."""

    qualifier: str
    code: str


@dataclass(frozen=True, slots=True)
class Adjustment:
    """One CAS triple: group (CO, PR, OA, PI, CR), reason (CARC), amount, quantity."""

    group: str
    reason: str
    amount: Money
    quantity: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Address:
    lines: tuple[str, ...] = ()
    city: str = ""
    state: str = ""
    postal_code: str = ""
    country: str = ""


@dataclass(frozen=True, slots=True)
class Contact:
    """PER: a contact function (CX, BL, IC) and its numbers as (qualifier, number)."""

    function: str
    name: str = ""
    channels: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Name:
    """NM1: a person or organisation in a role (QC patient, IL insured, 82 rendering …)."""

    role: str
    is_person: bool
    last_or_organization: str = ""
    first: str = ""
    middle: str = ""
    suffix: str = ""
    id_qualifier: str = ""
    identifier: str = ""


@dataclass(frozen=True, slots=True)
class Party:
    """N1 loop: the payer (PR) or the payee (PE)."""

    role: str
    name: str
    id_qualifier: str = ""
    identifier: str = ""
    address: Address | None = None
    references: tuple[Reference, ...] = ()
    contacts: tuple[Contact, ...] = ()
    other: tuple[RawSegment, ...] = ()


@dataclass(frozen=True, slots=True)
class Trace:
    """TRN: the check or EFT trace number that ties the money to this advice."""

    kind: str
    number: str
    originator: str = ""
    originator_supplement: str = ""


@dataclass(frozen=True, slots=True)
class Payment:
    """BPR: how much was paid, how, and when.

    ``details`` keeps BPR05–BPR15 (format and bank account details) as read.
    """

    handling: str
    amount: Money
    credit_or_debit: str
    method: str
    payment_date: date | None
    details: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Procedure:
    """SVC01/SVC06: a procedure code with its qualifier (HC, NU …) and modifiers."""

    qualifier: str
    code: str
    modifiers: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True, slots=True)
class ServicePayment:
    """Loop 2110, SVC: one service line's charge, payment and adjustments."""

    procedure: Procedure
    charge: Money
    paid: Money
    revenue_code: str = ""
    units: Decimal | None = None
    original_procedure: Procedure | None = None
    original_units: Decimal | None = None
    dates: tuple[DateOf, ...] = ()
    adjustments: tuple[Adjustment, ...] = ()
    references: tuple[Reference, ...] = ()
    amounts: tuple[Amount, ...] = ()
    quantities: tuple[Quantity, ...] = ()
    remarks: tuple[Remark, ...] = ()


@dataclass(frozen=True, slots=True)
class ClaimPayment:
    """Loop 2100, CLP: how one claim was paid."""

    patient_control_number: str
    status: str
    charge: Money
    paid: Money
    patient_responsibility: Money | None = None
    filing_indicator: str = ""
    payer_claim_number: str = ""
    facility_type: str = ""
    frequency: str = ""
    drg: str = ""
    drg_weight: Decimal | None = None
    discharge_fraction: Decimal | None = None
    header_number: str = ""
    adjustments: tuple[Adjustment, ...] = ()
    names: tuple[Name, ...] = ()
    references: tuple[Reference, ...] = ()
    dates: tuple[DateOf, ...] = ()
    contacts: tuple[Contact, ...] = ()
    amounts: tuple[Amount, ...] = ()
    quantities: tuple[Quantity, ...] = ()
    services: tuple[ServicePayment, ...] = ()
    other: tuple[RawSegment, ...] = ()

    def name(self, role: str) -> Name | None:
        """The first NM1 in a role: ``QC`` patient, ``IL`` insured, ``82`` rendering."""
        return next((name for name in self.names if name.role == role), None)


@dataclass(frozen=True, slots=True)
class ProviderAdjustment:
    """One PLB adjustment: positive amounts reduce the payment, negative ones add."""

    provider_identifier: str
    fiscal_period_end: date
    reason: str
    reference: str
    amount: Money


@dataclass(frozen=True, slots=True)
class Remittance:
    """One 835 transaction set: a payment and the claims it pays.

    ``control_number`` (ST02) belongs to the envelope it came in: a writer
    numbers sets afresh, so it takes no part in equality.
    """

    control_number: str = field(compare=False)
    payment: Payment
    trace: Trace | None
    payer: Party
    payee: Party
    claims: tuple[ClaimPayment, ...] = ()
    provider_adjustments: tuple[ProviderAdjustment, ...] = ()
    references: tuple[Reference, ...] = ()
    dates: tuple[DateOf, ...] = ()
    other: tuple[RawSegment, ...] = ()
    header_other: tuple[tuple[str, tuple[RawSegment, ...]], ...] = ()
