"""The claim-level cells of a row: checked together, then made into 837P records.

A claim's first row says who the patient and the subscriber are, who pays
(loops 2000B, 2010BA, 2010BB, 2000C, 2010CA), who bills (2010AA), who
referred (2310A), where the service was given (CLM05-1) and why (HI).
``claim_checks`` refuses what no single cell shows wrong: subscriber
columns missing for a dependant, or differing from the patient's when the
patient is the subscriber; half an address; diagnoses with gaps.
``claim_parts`` then builds the records; every value it reads has passed
its column's parser.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Final, Literal, TypeAlias

from claimbridge.formats.csv.errors import CellInvalid, CellMissing, CsvError
from claimbridge.formats.csv.template import MAX_DIAGNOSES
from claimbridge.formats.x12.records837 import (
    Address,
    BillingProvider,
    HealthCode,
    Party,
    Patient,
    Reference,
    Subscriber,
)

__all__ = [
    "INVALID",
    "PRIMARY",
    "SELF",
    "ClaimParts",
    "Values",
    "claim_checks",
    "claim_parts",
    "in_order",
    "rendering_provider",
    "same",
]


class _Invalid(Enum):
    INVALID = "invalid"


# A cell that was refused (and reported); its claim is rejected.
INVALID: Final = _Invalid.INVALID
Values: TypeAlias = dict[str, object]

SELF = "18"  # SBR02: the subscriber is the patient.
PRIMARY = "P"  # SBR01: the payer is the primary payer.
_PERSON_FIELDS = ("last_name", "first_name", "birth_date")
_ADDRESS = ("patient_address", "patient_city", "patient_state", "patient_postal_code")


@dataclass(frozen=True, slots=True)
class ClaimParts:
    """What the claim-level columns say, as the records a ``ProfessionalClaim`` holds."""

    subscriber: Subscriber
    patient: Patient | None
    billing: BillingProvider
    place_of_service: str
    diagnoses: tuple[HealthCode, ...]
    references: tuple[Reference, ...]
    providers: tuple[Party, ...]


def in_order(values: Values, prefix: str, count: int) -> list[str]:
    """Columns ``prefix2`` .. ``prefix<count>`` filled while the one before is empty."""
    return [
        f"{prefix}{n}"
        for n in range(2, count + 1)
        if values.get(f"{prefix}{n}") is not None and values.get(f"{prefix}{n - 1}") is None
    ]


def claim_checks(values: Values, *, row: int) -> list[CsvError]:
    """What is wrong with the claim-level cells taken together."""
    problems = _subscriber_problems(values, row=row)
    if any(values.get(column) is not None for column in _ADDRESS):
        problems.extend(
            CellMissing(
                "required with the rest of the patient's address "
                "(street, city, state and ZIP code go together).",
                row=row,
                column=column,
            )
            for column in _ADDRESS
            if values.get(column) is None
        )
    problems.extend(
        CellInvalid(
            "filled while the diagnosis before it is empty; fill from diagnosis_1 on.",
            row=row,
            column=column,
        )
        for column in in_order(values, "diagnosis_", MAX_DIAGNOSES)
    )
    return problems


def _subscriber_problems(values: Values, *, row: int) -> list[CsvError]:
    """Subscriber columns: required for a dependant, the patient's own when self."""
    relationship = values.get("relationship") or SELF
    if relationship is INVALID:
        return []
    problems: list[CsvError] = []
    for field in _PERSON_FIELDS:
        column = f"subscriber_{field}"
        given = values.get(column)
        if relationship != SELF:
            if given is None:
                problems.append(
                    CellMissing("required when relationship is not self.", row=row, column=column)
                )
            continue
        patient = values.get(f"patient_{field}")
        if given not in (None, INVALID) and patient is not INVALID and not same(given, patient):
            problems.append(
                CellInvalid(
                    "differs from the patient's, but relationship is self "
                    "(the patient is the subscriber); leave it empty.",
                    row=row,
                    column=column,
                )
            )
    return problems


def claim_parts(values: Values) -> ClaimParts:
    """The records the claim-level cells make; ``values`` passed ``claim_checks``."""
    text = _Text(values)
    address = None
    if text("patient_address"):
        address = Address(
            text("patient_address"),
            "",
            text("patient_city"),
            text("patient_state"),
            text("patient_postal_code"),
        )
    member = text("member_id")
    payer = Party("payer", text("payer_name"), id_kind="payer_id", identifier=text("payer_id"))
    relationship = text("relationship") or SELF
    patient_person = _person(values, "patient", address=address, gender=text("patient_sex"))
    if relationship == SELF:
        subscriber = Subscriber(
            _with_member(patient_person, "subscriber", member),
            payer,
            PRIMARY,
            relationship=SELF,
            group_number=text("group_number"),
        )
        patient = None
    else:
        subscriber = Subscriber(
            _with_member(_person(values, "subscriber"), "subscriber", member),
            payer,
            PRIMARY,
            group_number=text("group_number"),
        )
        patient = Patient(patient_person, relationship)
    tax_id = text("billing_tax_id")
    billing = Party(
        "billing_provider",
        text("billing_name"),
        id_kind="npi",
        identifier=text("billing_npi"),
        references=(Reference("EI", tax_id),) if tax_id else (),
    )
    codes = [text(f"diagnosis_{n}") for n in range(1, MAX_DIAGNOSES + 1)]
    account = text("patient_account")
    referring = text("referring_npi")
    return ClaimParts(
        subscriber=subscriber,
        patient=patient,
        billing=BillingProvider(billing),
        place_of_service=text("place_of_service"),
        diagnoses=tuple(
            HealthCode("ABK" if n == 0 else "ABF", code) for n, code in enumerate(codes) if code
        ),
        references=(Reference("EA", account),) if account else (),
        providers=(_provider("referring_provider", referring),) if referring else (),
    )


def rendering_provider(npi: str) -> Party:
    """The rendering provider (loop 2310B or 2420A), known by NPI alone."""
    return _provider("rendering_provider", npi)


def _provider(role: str, npi: str) -> Party:
    # The template carries the NPI only; a name comes from the practice's
    # provider directory when the claim is billed.
    return Party(role, "", is_person=True, id_kind="npi", identifier=npi)


class _Text:
    """A cell's text value, or ``""`` when it is empty or not text."""

    __slots__ = ("values",)

    def __init__(self, values: Values) -> None:
        self.values = values

    def __call__(self, column: str) -> str:
        value = self.values.get(column)
        return value if isinstance(value, str) else ""


def _person(
    values: Values,
    prefix: Literal["patient", "subscriber"],
    *,
    address: Address | None = None,
    gender: str = "",
) -> Party:
    text = _Text(values)
    birth = values.get(f"{prefix}_birth_date")
    return Party(
        prefix,
        text(f"{prefix}_last_name"),
        first_name=text(f"{prefix}_first_name"),
        is_person=True,
        address=address,
        birth_date=birth if isinstance(birth, date) else None,
        gender=gender,
    )


def _with_member(person: Party, role: str, member: str) -> Party:
    return Party(
        role,
        person.name,
        first_name=person.first_name,
        is_person=True,
        id_kind="member_id",
        identifier=member,
        address=person.address,
        birth_date=person.birth_date,
        gender=person.gender,
    )


def same(value: object, other: object) -> bool:
    """Equal values; text equal whatever its letter case ("SMITH" and "Smith")."""
    if isinstance(value, str) and isinstance(other, str):
        return value.casefold() == other.casefold()
    return value == other
