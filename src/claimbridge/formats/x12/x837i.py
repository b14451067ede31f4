"""Read institutional claims: the 837I, ASC X12 005010X223A2.

``read_837i(source)`` streams one ``InstitutionalClaim`` per ``CLM``, with
its context (submission, billing provider, subscriber with the payer,
patient) like ``read_837p``. The institutional claim adds the type of bill
(CLM05), the admission (``CL1``, ``DTP*435``), the statement period
(``DTP*434``) and the code lists of ``HI``: principal, admitting, other
and external-cause diagnoses, reasons for visit, principal and other
procedures, occurrences and occurrence spans, values and conditions, each
a ``HealthCode`` with its qualifier, date, amount and present-on-admission
indicator. Lines are ``SV2``: revenue code, optional procedure, charge,
units or days, rate and non-covered charge.

Refused and flagged as ``read_837p`` does; the claim total (CLM02) is
checked against the sum of the line charges (SV203), and a later errata
(005010X223A3) or the base guide (005010X223) is read and flagged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, BinaryIO

from claimbridge.formats.x12 import values837
from claimbridge.formats.x12.construct import draft_constructor, fast_constructor
from claimbridge.formats.x12.drafts837 import PAD
from claimbridge.formats.x12.errors import BalanceMismatch, MissingSegment, Position
from claimbridge.formats.x12.guides837 import INSTITUTIONAL, accept_guide
from claimbridge.formats.x12.hierarchy837 import IN_CLAIM, IN_LINE
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
from claimbridge.formats.x12.x837p import ProfessionalClaim, professional_claims
from claimbridge.types import Money, ServicePeriod

__all__ = [
    "GUIDE",
    "InstitutionalClaim",
    "InstitutionalServiceLine",
    "claims_837",
    "institutional_claims",
    "read_837",
    "read_837i",
]

GUIDE = INSTITUTIONAL

_CLAIM_ROLES = {
    "71": "attending_provider",
    "72": "operating_provider",
    "ZZ": "other_operating_provider",
    "82": "rendering_provider",
    "77": "service_facility",
    "DN": "referring_provider",
}
_OTHER_PAYER_ROLES = {"IL": "subscriber", "PR": "payer", "85": "billing_provider", **_CLAIM_ROLES}
_LINE_ROLES = {
    "72": "operating_provider",
    "ZZ": "other_operating_provider",
    "82": "rendering_provider",
    "DN": "referring_provider",
}
_SKIPPED = frozenset({"CUR", "PWK", "CN1", "K3", "CRC", "HCP", "MIA", "MOA", "QTY"})
_UNIT_KINDS = {"UN": "units", "DA": "days"}


def _codes(codes: tuple[HealthCode, ...], *qualifiers: str) -> tuple[HealthCode, ...]:
    return tuple(code for code in codes if code.qualifier in qualifiers)


def _role(parties: tuple[Party, ...], role: str) -> Party | None:
    for party in parties:
        if party.role == role:
            return party
    return None


@dataclass(frozen=True, slots=True)
class InstitutionalServiceLine:
    """One institutional service line (loop 2400, ``SV2``).

    ``revenue_code`` is the NUBC revenue code; ``procedure`` (HCPCS, with
    ``code_system`` ``HC``) may be empty. ``unit_kind`` is ``units`` or ``days``.
    """

    number: int
    revenue_code: str
    charge: Money
    units: Decimal
    unit_kind: str = "units"
    procedure: str = ""
    code_system: str = ""
    modifiers: tuple[str, ...] = ()
    description: str = ""
    rate: Money | None = None
    non_covered: Money | None = None
    service_date: ServicePeriod | None = None
    dates: tuple[EventDate, ...] = ()
    references: tuple[Reference, ...] = ()
    notes: tuple[Note, ...] = ()
    drug: Drug | None = None
    providers: tuple[Party, ...] = ()
    adjudications: tuple[LineAdjudication, ...] = ()


@dataclass(frozen=True, slots=True)
class InstitutionalClaim:
    """An institutional claim (loop 2300) with its lines and the loops above it.

    ``facility_type`` and ``frequency`` make the type of bill (CLM05-1 and
    CLM05-3); ``admission_type``, ``admission_source`` and
    ``patient_status`` come from ``CL1``. ``codes`` holds every ``HI``
    code in order; the properties pick the lists out by qualifier.
    """

    claim_id: str
    total_charge: Money
    facility_type: str
    frequency: str
    submission: Submission
    billing_provider: BillingProvider
    subscriber: Subscriber
    patient: Patient | None
    lines: tuple[InstitutionalServiceLine, ...]
    codes: tuple[HealthCode, ...] = ()
    provider_signature: bool = True
    assignment: str = ""
    benefits_assigned: str = ""
    release_of_information: str = ""
    delay_reason: str = ""
    admission_type: str = ""
    admission_source: str = ""
    patient_status: str = ""
    dates: tuple[EventDate, ...] = ()
    references: tuple[Reference, ...] = ()
    notes: tuple[Note, ...] = ()
    patient_paid: Money | None = None
    patient_estimated_due: Money | None = None
    providers: tuple[Party, ...] = ()
    other_payers: tuple[OtherPayer, ...] = ()

    @property
    def type_of_bill(self) -> str:
        return self.facility_type + self.frequency

    @property
    def payer(self) -> Party:
        return self.subscriber.payer

    @property
    def statement_period(self) -> ServicePeriod | None:
        for event in self.dates:
            if event.kind == "statement":
                return event.period
        return None

    @property
    def principal_diagnosis(self) -> HealthCode | None:
        found = _codes(self.codes, "ABK", "BK")
        return found[0] if found else None

    @property
    def admitting_diagnosis(self) -> HealthCode | None:
        found = _codes(self.codes, "ABJ", "BJ")
        return found[0] if found else None

    @property
    def other_diagnoses(self) -> tuple[HealthCode, ...]:
        return _codes(self.codes, "ABF", "BF")

    @property
    def principal_procedure(self) -> HealthCode | None:
        found = _codes(self.codes, "BBR", "BR", "CAH")
        return found[0] if found else None

    @property
    def other_procedures(self) -> tuple[HealthCode, ...]:
        return _codes(self.codes, "BBQ", "BQ")

    @property
    def occurrences(self) -> tuple[HealthCode, ...]:
        return _codes(self.codes, "BH")

    @property
    def occurrence_spans(self) -> tuple[HealthCode, ...]:
        return _codes(self.codes, "BI")

    @property
    def value_codes(self) -> tuple[HealthCode, ...]:
        return _codes(self.codes, "BE")

    @property
    def condition_codes(self) -> tuple[HealthCode, ...]:
        return _codes(self.codes, "BG")

    @property
    def attending_provider(self) -> Party | None:
        return _role(self.providers, "attending_provider")

    @property
    def medical_record_number(self) -> str | None:
        return reference_value(self.references, "EA")


_LINE_DRAFT = draft_constructor(InstitutionalServiceLine)
new_institutional_claim = fast_constructor(InstitutionalClaim)


class InstitutionalReader(ClaimReader[InstitutionalClaim]):
    """The 837I loops: CLM with the type of bill, CL1, HI code lists, SV2 lines."""

    claim_roles = _CLAIM_ROLES
    other_payer_roles = _OTHER_PAYER_ROLES
    line_roles = _LINE_ROLES
    skipped = _SKIPPED
    service_id = "SV2"
    max_lines = 999
    line_record = InstitutionalServiceLine
    line_draft = staticmethod(_LINE_DRAFT)

    def segment_handlers(self) -> dict[str, Callable[[list[str]], Any]]:
        handlers = super().segment_handlers()
        handlers["CL1"] = self.on_cl1
        return handlers

    def start_claim(self, e: list[str]) -> ClaimDraft:
        if not e[5]:
            raise self.missing("CLM05 (facility type and frequency) is required.", 5)
        facility = e[5].split(self.separator)
        fields = (
            e[1],
            self.money(e[2], 2),
            facility[0],
            facility[2] if len(facility) > 2 else "",
            e[6] != "N",
            e[7],
            e[8],
            e[9],
            e[20],
        )
        return ClaimDraft(fields, self.segments.number)

    def on_cl1(self, segment: list[str]) -> None:
        claim = self.claim
        if claim is None or self.loop != IN_CLAIM or self.party is not None or claim.values:
            raise self.unexpected("CL1 comes once in a claim, before its name loops.")
        e = segment + PAD
        claim.values = (e[1], e[2], e[3])

    def on_service(self, segment: list[str]) -> None:
        line = self.line
        if line is None or line.charge is not None or self.loop != IN_LINE:
            raise self.unexpected("SV2 belongs right after LX, once per service line.")
        e = segment + PAD
        if not e[1]:
            raise self.missing("SV201 (revenue code) is required.", 1)
        units = values837.decimal(e[5])
        if units is None:
            raise self.invalid("SV205 (units) must be a number.", 5)
        line.revenue_code = e[1]
        line.charge = self.money(e[3], 3)
        line.units = units
        line.unit_kind = _UNIT_KINDS.get(e[4], e[4])
        if e[2]:
            parts = e[2].split(self.separator) + PAD
            if not parts[1]:
                self.flag(self.missing("SV202 needs the code system and the procedure code.", 2, 2))
            line.procedure = parts[1]
            line.code_system = parts[0]
            line.modifiers = tuple(modifier for modifier in parts[2:6] if modifier)
            line.description = parts[6]
        line.rate = self.money(e[6], 6) if e[6] else None
        line.non_covered = self.money(e[7], 7) if e[7] else None

    def build_claim(self, draft: ClaimDraft) -> InstitutionalClaim:
        h, admission = draft.fields, draft.values or ("", "", "")
        claim: InstitutionalClaim = new_institutional_claim(
            h[0], h[1], h[2], h[3], self.submission, self.billing, self.subscriber, self.patient,
            tuple(draft.lines), tuple(draft.codes), h[4], h[5], h[6], h[7], h[8],
            admission[0], admission[1], admission[2], draft.dates,
            tuple(draft.references), draft.notes, draft.patient_paid,
            draft.patient_estimate, self.freeze_parties(draft.parties),
            self.freeze_other_payers(draft) if draft.other_payers else (),
        )  # fmt: skip
        self.check_claim(claim, draft.number)
        return claim

    def check_claim(self, claim: InstitutionalClaim, number: int) -> None:
        if not claim.lines:
            raise self.absent("A claim (CLM) has no service line (LX, SV2).")
        if claim.principal_diagnosis is None:
            self.flag(
                MissingSegment(
                    "The claim has no principal diagnosis (HI ABK or BK).",
                    position=Position(number, "CLM"),
                )
            )
        if claim.total_charge.cents != sum(line.charge.cents for line in claim.lines):
            self.flag(
                BalanceMismatch(
                    "The claim total (CLM02) is not the sum of its line charges (SV203).",
                    position=Position(number, "CLM", 2),
                )
            )


def institutional_claims(
    context: TransactionContext, body: Iterator[list[str]]
) -> Iterator[InstitutionalClaim]:
    """The envelope driver's handler for 837I transaction sets."""
    accept_guide(context, guide=GUIDE)
    return InstitutionalReader(context).read(body)


def read_837i(source: bytes | BinaryIO) -> Reading[InstitutionalClaim]:
    """Stream the institutional claims of an X12 837I interchange.

    Iterate the result for one ``InstitutionalClaim`` per claim; afterwards
    ``.results`` says, per transaction set, whether it was accepted and why not.
    """
    return read_transactions(source, handlers={"837": institutional_claims})


def claims_837(
    context: TransactionContext, body: Iterator[list[str]]
) -> Iterator[ProfessionalClaim | InstitutionalClaim]:
    """A handler for 837 sets of either kind: the guide (ST03) says which."""
    if context.guide.startswith(INSTITUTIONAL[:10]):
        return institutional_claims(context, body)
    return professional_claims(context, body)


def read_837(source: bytes | BinaryIO) -> Reading[ProfessionalClaim | InstitutionalClaim]:
    """Stream the claims of an 837 interchange whose sets may be 837P or 837I."""
    return read_transactions(source, handlers={"837": claims_837})
