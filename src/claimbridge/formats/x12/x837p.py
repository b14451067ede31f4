"""Read professional claims: the 837P, ASC X12 005010X222A1.

``read_837p(source)`` streams one ``ProfessionalClaim`` per ``CLM``, each
carrying its context (submission, billing provider, subscriber with the
payer, patient), so a consumer can handle claims one at a time however
large the file. ``professional_claims`` is the transaction-set handler the
envelope driver calls.

Checked while reading, and refused (the set is rejected and reading it
stops; claims already yielded stay yielded): the HL hierarchy (see
``hierarchy837``), required loops and elements, amounts, quantities and
dates, segments the guide does not allow where they are, and loops that
repeat a segment far beyond the guide's maximum (so one claim's memory is
bounded whatever the input).
Checked and flagged (the claim is still read; the set is rejected, as a
payer would reject it): the claim total (CLM02) against the sum of its line charges
(SV102), diagnosis pointers (SV107) that point past the claim's diagnosis
codes and a claim without diagnoses (HI). Noted (the set is accepted with
errors): a later errata of the guide (005010X222A2) or the base guide
(005010X222).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import BinaryIO

from claimbridge.formats.x12 import values837
from claimbridge.formats.x12.construct import draft_constructor, fast_constructor
from claimbridge.formats.x12.drafts837 import PAD
from claimbridge.formats.x12.errors import (
    BalanceMismatch,
    ElementInvalid,
    MissingSegment,
    Position,
)
from claimbridge.formats.x12.guides837 import accept_guide
from claimbridge.formats.x12.hierarchy837 import IN_LINE
from claimbridge.formats.x12.loops837 import ClaimDraft, ClaimReader
from claimbridge.formats.x12.reader import Reading, TransactionContext, read_transactions
from claimbridge.formats.x12.records837 import (
    BillingProvider,
    Drug,
    EventDate,
    HealthCode,
    LineAdjudication,
    Note,
    OtherPayer,
    Party,
    Patient,
    Reference,
    Submission,
    Subscriber,
    reference_value,
)
from claimbridge.formats.x12.values837 import decimals, monies
from claimbridge.types import Money, ServicePeriod

__all__ = [
    "CLAIM_ROLES",
    "DIAGNOSIS_QUALIFIERS",
    "GUIDE",
    "LINE_ROLES",
    "OTHER_PAYER_ROLES",
    "UNIT_KINDS",
    "ProfessionalClaim",
    "ServiceLine",
    "professional_claims",
    "read_837p",
]

GUIDE = "005010X222A1"

# HI qualifiers of the diagnosis list that SV107 pointers count into:
# ICD-10-CM principal and other, and their ICD-9-CM forerunners.
DIAGNOSIS_QUALIFIERS = frozenset({"ABK", "ABF", "BK", "BF"})

# SV103, what SV104 counts.
UNIT_KINDS = {"UN": "units", "MJ": "minutes"}

CLAIM_ROLES = {
    "DN": "referring_provider",
    "P3": "primary_care_provider",
    "82": "rendering_provider",
    "77": "service_facility",
    "DQ": "supervising_provider",
    "PW": "ambulance_pickup",
    "45": "ambulance_dropoff",
}
OTHER_PAYER_ROLES = {
    "IL": "subscriber",
    "PR": "payer",
    "DN": "referring_provider",
    "P3": "primary_care_provider",
    "82": "rendering_provider",
    "77": "service_facility",
    "DQ": "supervising_provider",
    "85": "billing_provider",
}
LINE_ROLES = {
    "82": "rendering_provider",
    "QB": "purchased_service_provider",
    "77": "service_facility",
    "DQ": "supervising_provider",
    "DK": "ordering_provider",
    "DN": "referring_provider",
    "P3": "primary_care_provider",
    "PW": "ambulance_pickup",
    "45": "ambulance_dropoff",
}
# Segments the guide allows that no record here holds.
_SKIPPED = frozenset(
    {
        "CUR",
        "PWK",
        "CN1",
        "K3",
        "CR1",
        "CR2",
        "CRC",
        "HCP",
        "MOA",
        "SV5",
        "CR3",
        "QTY",
        "MEA",
        "PS1",
        "LQ",
        "FRM",
    }
)


def _role(parties: tuple[Party, ...], role: str) -> Party | None:
    for party in parties:
        if party.role == role:
            return party
    return None


@dataclass(frozen=True, slots=True)
class ServiceLine:
    """One professional service line (loop 2400, ``SV1``).

    ``code_system`` is ``HC`` for HCPCS/CPT codes. ``diagnosis_pointers``
    are 1-based positions in the claim's ``diagnoses``. ``unit_kind`` is
    ``units`` or ``minutes`` (anesthesia).
    """

    number: int
    procedure: str
    charge: Money
    units: Decimal
    unit_kind: str = "units"
    code_system: str = "HC"
    modifiers: tuple[str, ...] = ()
    description: str = ""
    place_of_service: str = ""
    diagnosis_pointers: tuple[int, ...] = ()
    emergency: bool = False
    epsdt: bool = False
    family_planning: bool = False
    service_date: ServicePeriod | None = None
    dates: tuple[EventDate, ...] = ()
    references: tuple[Reference, ...] = ()
    notes: tuple[Note, ...] = ()
    drug: Drug | None = None
    providers: tuple[Party, ...] = ()
    adjudications: tuple[LineAdjudication, ...] = ()

    @property
    def rendering_provider(self) -> Party | None:
        return _role(self.providers, "rendering_provider")

    @property
    def control_number(self) -> str | None:
        """The line item control number the sender assigned (``REF*6R``)."""
        return reference_value(self.references, "6R")


@dataclass(frozen=True, slots=True)
class ProfessionalClaim:
    """A professional claim (loop 2300) with its lines and the loops above it.

    ``place_of_service`` and ``frequency`` come from CLM05 (``1`` original,
    ``7`` replacement, ``8`` void). ``patient`` is ``None`` when the
    subscriber is the patient. ``diagnoses`` are the diagnosis codes in
    the order the lines point into; ``other_codes`` the remaining ``HI``
    lists (anesthesia procedures, condition codes).
    """

    claim_id: str
    total_charge: Money
    place_of_service: str
    frequency: str
    submission: Submission
    billing_provider: BillingProvider
    subscriber: Subscriber
    patient: Patient | None
    lines: tuple[ServiceLine, ...]
    diagnoses: tuple[HealthCode, ...] = ()
    other_codes: tuple[HealthCode, ...] = ()
    provider_signature: bool = True
    assignment: str = ""
    benefits_assigned: str = ""
    release_of_information: str = ""
    patient_signature_source: str = ""
    related_causes: tuple[str, ...] = ()
    accident_state: str = ""
    accident_country: str = ""
    special_program: str = ""
    delay_reason: str = ""
    dates: tuple[EventDate, ...] = ()
    references: tuple[Reference, ...] = ()
    notes: tuple[Note, ...] = ()
    patient_paid: Money | None = None
    providers: tuple[Party, ...] = ()
    other_payers: tuple[OtherPayer, ...] = ()

    @property
    def payer(self) -> Party:
        return self.subscriber.payer

    @property
    def rendering_provider(self) -> Party | None:
        return _role(self.providers, "rendering_provider")

    @property
    def referring_provider(self) -> Party | None:
        return _role(self.providers, "referring_provider")

    @property
    def service_facility(self) -> Party | None:
        return _role(self.providers, "service_facility")

    @property
    def prior_authorization(self) -> str | None:
        return reference_value(self.references, "G1")

    @property
    def payer_claim_number(self) -> str | None:
        return reference_value(self.references, "F8")

    @property
    def line_charges(self) -> Money:
        return Money(sum(line.charge.cents for line in self.lines))


_LINE_DRAFT = draft_constructor(ServiceLine)
new_professional_claim = fast_constructor(ProfessionalClaim)


class ProfessionalReader(ClaimReader[ProfessionalClaim]):
    """The 837P loops: CLM with CLM05 place of service, HI diagnoses, SV1 lines."""

    claim_roles = CLAIM_ROLES
    other_payer_roles = OTHER_PAYER_ROLES
    line_roles = LINE_ROLES
    skipped = _SKIPPED
    diagnosis_qualifiers = DIAGNOSIS_QUALIFIERS
    service_id = "SV1"
    line_record = ServiceLine
    line_draft = staticmethod(_LINE_DRAFT)

    def __init__(self, context: TransactionContext) -> None:
        super().__init__(context)
        separator = self.separator
        self.procedures: dict[str, tuple[str, str, tuple[str, ...], str]] = (
            values837.composite_cache("SV101", separator)
        )
        self.pointer_cache: dict[str, tuple[tuple[int, ...], int]] = values837.composite_cache(
            "SV107", separator
        )

    def start_claim(self, e: list[str]) -> ClaimDraft:
        if not e[5]:
            raise self.missing("CLM05 (place of service and frequency) is required.", 5)
        facility = e[5].split(self.separator)
        causes = e[11].split(self.separator) + PAD if e[11] else PAD
        fields = (
            e[1],
            self.money(e[2], 2),
            facility[0],
            facility[2] if len(facility) > 2 else "",
            e[6] != "N",
            e[7],
            e[8],
            e[9],
            e[10],
            tuple(filter(None, causes[:3])),
            causes[3],
            causes[4],
            e[12],
            e[20],
        )
        return ClaimDraft(fields, self.segments.number)

    def on_service(self, segment: list[str]) -> None:
        line = self.line
        if line is None or line.charge is not None or self.loop != IN_LINE:
            raise self.unexpected("SV1 belongs right after LX, once per service line.")
        n = len(segment)
        e = segment if n > 7 else segment + PAD[: 8 - n]
        try:
            procedure = self.procedures[e[1]]
        except KeyError:
            procedure = self.procedure(e[1])
        try:
            units = decimals[e[4]]
        except KeyError:
            units = self.units(e[4])
        try:
            charge = monies[e[2]]
        except KeyError:
            charge = self.money(e[2], 2)
        try:
            pointers, highest = self.pointer_cache[e[7]]
        except KeyError:
            pointers, highest = self.pointers(e[7])
        line.procedure = procedure[1]
        line.charge = charge
        line.units = units
        if e[3] != "UN":
            line.unit_kind = UNIT_KINDS.get(e[3], e[3])
        line.code_system = procedure[0]
        line.modifiers = procedure[2]
        line.description = procedure[3]
        line.place_of_service = e[5]
        line.diagnosis_pointers = pointers
        claim = self.claim
        if claim is not None:
            claim.line_cents += charge.cents
            if highest > claim.diagnosis_count:
                self.pointer_past_diagnoses()
        if n > 9:
            e = segment + PAD[: 13 - n]
            line.emergency = e[9] == "Y"
            line.epsdt = e[11] == "Y"
            line.family_planning = e[12] == "Y"

    def units(self, text: str) -> Decimal:
        """SV104: the units or minutes, a number."""
        units = values837.decimal(text)
        if units is None:
            raise self.invalid("SV104 (units) must be a number.", 4)
        return units

    def procedure(self, text: str) -> tuple[str, str, tuple[str, ...], str]:
        """SV101: code system, procedure code, modifiers and description."""
        parts = text.split(self.separator)
        if len(parts) < 2 or not parts[1]:
            raise self.missing("SV101 needs the code system and the procedure code.", 1, 2)
        modifiers = tuple(modifier for modifier in parts[2:6] if modifier)
        procedure = (parts[0], parts[1], modifiers, parts[6] if len(parts) > 6 else "")
        values837.remember(self.procedures, text, procedure)
        return procedure

    def pointers(self, text: str) -> tuple[tuple[int, ...], int]:
        """SV107: the diagnosis pointers, 1 to 12, in ascending order of use; and the highest."""
        parts = text.split(self.separator)
        if not all(part.isdigit() and 0 < int(part) <= 12 for part in parts if part):
            raise self.invalid("SV107 diagnosis pointers must be numbers 1 to 12.", 7)
        pointers = tuple(int(part) for part in parts if part)
        if not pointers:
            self.flag(self.missing("SV107-1 (first diagnosis pointer) is required.", 7, 1))
            return pointers, 0
        read = pointers, max(pointers)
        values837.remember(self.pointer_cache, text, read)
        return read

    def pointer_past_diagnoses(self) -> None:
        self.flag(
            ElementInvalid(
                "A diagnosis pointer (SV107) points past the claim's diagnosis codes (HI).",
                position=self.position(7),
            )
        )

    def build_claim(self, draft: ClaimDraft) -> ProfessionalClaim:
        h = draft.fields
        codes = draft.codes
        other: tuple[HealthCode, ...] = ()
        if len(codes) == draft.diagnosis_count:
            diagnoses = tuple(codes)
        else:
            diagnoses = tuple(c for c in codes if c.qualifier in DIAGNOSIS_QUALIFIERS)
            other = tuple(c for c in codes if c.qualifier not in DIAGNOSIS_QUALIFIERS)
        claim: ProfessionalClaim = new_professional_claim(
            h[0], h[1], h[2], h[3], self.submission, self.billing, self.subscriber, self.patient,
            tuple(draft.lines), diagnoses, other, h[4], h[5], h[6], h[7], h[8], h[9], h[10],
            h[11], h[12], h[13], draft.dates, tuple(draft.references),
            draft.notes, draft.patient_paid, self.freeze_parties(draft.parties),
            self.freeze_other_payers(draft) if draft.other_payers else (),
        )  # fmt: skip
        self.check_claim(claim, draft.number, draft.line_cents)
        return claim

    def check_claim(self, claim: ProfessionalClaim, number: int, line_cents: int) -> None:
        if not claim.lines:
            raise self.absent("A claim (CLM) has no service line (LX, SV1).")
        if not claim.diagnoses:
            self.flag(
                MissingSegment(
                    "The claim has no diagnosis codes (HI).", position=Position(number, "CLM")
                )
            )
        if claim.total_charge.cents != line_cents:
            self.flag(
                BalanceMismatch(
                    "The claim total (CLM02) is not the sum of its line charges (SV102).",
                    position=Position(number, "CLM", 2),
                )
            )


def professional_claims(
    context: TransactionContext, body: Iterator[list[str]]
) -> Iterator[ProfessionalClaim]:
    """The envelope driver's handler for 837P transaction sets."""
    accept_guide(context, guide=GUIDE)
    return ProfessionalReader(context).read(body)


def read_837p(source: bytes | BinaryIO) -> Reading[ProfessionalClaim]:
    """Stream the professional claims of an X12 837P interchange.

    Iterate the result for one ``ProfessionalClaim`` per claim; afterwards
    ``.results`` says, per transaction set, whether it was accepted and why not.
    """
    return read_transactions(source, handlers={"837": professional_claims})
