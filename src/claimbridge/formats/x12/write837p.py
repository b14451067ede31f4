"""Write professional claims as an X12 837P interchange (005010X222A1).

``write_837p(claims, ...)`` is what a biller sends to a payer or a
clearinghouse. Claims are written in the order given; consecutive claims
that share a submission share a transaction set (at most
``claims_per_set``, 5,000 by the guide's advice), and consecutive claims
that share a billing provider, subscriber or patient share that HL loop.
HL ids count from 1 in each set, each HL names its parent, and HL04 says
whether children follow. ``write_interchange`` adds ST/SE with the segment
count, GS/GE and ISA/IEA with their control numbers.

Reading the result with ``read_837p`` gives back equal records:
``read_837p(write_837p(claims))`` yields ``claims``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from claimbridge.formats.x12.errors import ElementInvalid
from claimbridge.formats.x12.lexer import DEFAULT_SEPARATORS, Separators
from claimbridge.formats.x12.parties837 import (
    adjustment_segments,
    event_date_segment,
    health_code_element,
    party_segments,
    role_codes,
)
from claimbridge.formats.x12.records837 import OtherPayer, Patient, Submission, Subscriber
from claimbridge.formats.x12.values837 import format_decimal
from claimbridge.formats.x12.writer import Element, OutgoingSet, SegmentOut, write_interchange
from claimbridge.formats.x12.x837p import (
    CLAIM_ROLES,
    GUIDE,
    LINE_ROLES,
    OTHER_PAYER_ROLES,
    UNIT_KINDS,
    ProfessionalClaim,
    ServiceLine,
)

__all__ = ["professional_sets", "write_837p"]

_CLAIM_CODES = role_codes(CLAIM_ROLES)
_OTHER_PAYER_CODES = role_codes(OTHER_PAYER_ROLES)
_LINE_CODES = role_codes(LINE_ROLES)
_UNIT_CODES = {kind: code for code, kind in UNIT_KINDS.items()}
_HI_PER_SEGMENT = 12
_CAS_PER_SEGMENT = 6


def write_837p(
    claims: Iterable[ProfessionalClaim],
    *,
    sender: str,
    receiver: str,
    interchange_control_number: int,
    group_control_number: int,
    now: datetime,
    separators: Separators = DEFAULT_SEPARATORS,
    usage: str = "P",
    claims_per_set: int = 5000,
) -> bytes:
    """An 837P interchange holding ``claims``, as bytes."""
    return write_interchange(
        professional_sets(claims, claims_per_set=claims_per_set),
        sender=sender,
        receiver=receiver,
        interchange_control_number=interchange_control_number,
        group_control_number=group_control_number,
        functional_id="HC",
        now=now,
        separators=separators,
        usage=usage,
    )


def professional_sets(
    claims: Iterable[ProfessionalClaim], *, claims_per_set: int = 5000
) -> Iterator[OutgoingSet]:
    """One ``OutgoingSet`` per run of claims with the same submission."""
    if claims_per_set < 1:
        raise ValueError("claims_per_set must be at least 1")
    batch: list[ProfessionalClaim] = []
    for claim in claims:
        if batch and (len(batch) >= claims_per_set or claim.submission != batch[0].submission):
            yield OutgoingSet("837", GUIDE, _SetWriter(batch).segments())
            batch = []
        batch.append(claim)
    if batch:
        yield OutgoingSet("837", GUIDE, _SetWriter(batch).segments())


class _SetWriter:
    """The body of one 837P set: header, then HL loops and claims in order."""

    def __init__(self, claims: list[ProfessionalClaim]) -> None:
        self.claims = claims
        self.hl = 0
        self.billing_hl = 0
        self.subscriber_hl = 0

    def segments(self) -> Iterator[SegmentOut]:
        yield from _header(self.claims[0].submission)
        previous: ProfessionalClaim | None = None
        for claim in self.claims:
            yield from self.hierarchy(claim, previous)
            yield from _claim(claim)
            previous = claim

    def next_hl(self) -> str:
        self.hl += 1
        return str(self.hl)

    def hierarchy(
        self, claim: ProfessionalClaim, previous: ProfessionalClaim | None
    ) -> Iterator[SegmentOut]:
        new_billing = previous is None or claim.billing_provider != previous.billing_provider
        if new_billing:
            self.billing_hl = self.hl + 1
            yield ["HL", self.next_hl(), "", "20", "1"]
            billing = claim.billing_provider
            yield from party_segments(billing.provider, "85", taxonomy_first=True)
            if billing.pay_to is not None:
                yield from party_segments(billing.pay_to, "87")
            if billing.pay_to_plan is not None:
                yield from party_segments(billing.pay_to_plan, "PE")
        new_subscriber = (
            new_billing
            or previous is None
            or claim.subscriber != previous.subscriber
            or (claim.patient is None) != (previous.patient is None)
        )
        if new_subscriber:
            self.subscriber_hl = self.hl + 1
            children = "0" if claim.patient is None else "1"
            yield ["HL", self.next_hl(), str(self.billing_hl), "22", children]
            yield from _subscriber(claim.subscriber)
        patient = claim.patient
        if patient is not None and (
            new_subscriber or previous is None or patient != previous.patient
        ):
            yield ["HL", self.next_hl(), str(self.subscriber_hl), "23", "0"]
            yield from _patient(patient)


def _header(submission: Submission) -> Iterator[SegmentOut]:
    created = submission.created_on
    yield [
        "BHT",
        "0019",
        submission.purpose,
        submission.reference,
        f"{created.year:04d}{created.month:02d}{created.day:02d}",
        submission.created_time,
        submission.claim_type,
    ]
    yield from party_segments(submission.submitter, "41")
    yield from party_segments(submission.receiver, "40")


def _subscriber(subscriber: Subscriber) -> Iterator[SegmentOut]:
    yield [
        "SBR",
        subscriber.responsibility,
        subscriber.relationship,
        subscriber.group_number,
        subscriber.group_name,
        subscriber.insurance_type,
        "",
        "",
        "",
        subscriber.claim_filing,
    ]
    yield from party_segments(subscriber.person, "IL")
    yield from party_segments(subscriber.payer, "PR")


def _patient(patient: Patient) -> Iterator[SegmentOut]:
    yield ["PAT", patient.relationship]
    yield from party_segments(patient.person, "QC")


def _claim(claim: ProfessionalClaim) -> Iterator[SegmentOut]:
    yield _clm(claim)
    for event in claim.dates:
        yield event_date_segment(event)
    if claim.patient_paid is not None:
        yield ["AMT", "F5", str(claim.patient_paid)]
    for reference in claim.references:
        yield ["REF", reference.qualifier, reference.value]
    for note in claim.notes:
        yield ["NTE", note.topic, note.text]
    for codes in (claim.diagnoses, claim.other_codes):
        for start in range(0, len(codes), _HI_PER_SEGMENT):
            chunk = codes[start : start + _HI_PER_SEGMENT]
            yield ["HI", *(health_code_element(code) for code in chunk)]
    for provider in claim.providers:
        yield from party_segments(provider, _code(_CLAIM_CODES, provider.role))
    for other in claim.other_payers:
        yield from _other_payer(other)
    for line in claim.lines:
        yield from _line(line)


def _clm(claim: ProfessionalClaim) -> SegmentOut:
    causes: Element = ""
    if claim.related_causes or claim.accident_state or claim.accident_country:
        padded = (*claim.related_causes, "", "", "")[:3]
        causes = (*padded, claim.accident_state, claim.accident_country)
    return [
        "CLM",
        claim.claim_id,
        str(claim.total_charge),
        "",
        "",
        (claim.place_of_service, "B", claim.frequency),
        "Y" if claim.provider_signature else "N",
        claim.assignment,
        claim.benefits_assigned,
        claim.release_of_information,
        claim.patient_signature_source,
        causes,
        claim.special_program,
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        claim.delay_reason,
    ]


def _other_payer(other: OtherPayer) -> Iterator[SegmentOut]:
    yield [
        "SBR",
        other.responsibility,
        other.relationship,
        other.group_number,
        other.group_name,
        other.insurance_type,
        "",
        "",
        "",
        other.claim_filing,
    ]
    yield from adjustment_segments(other.adjustments, per_segment=_CAS_PER_SEGMENT)
    for qualifier, amount in (
        ("D", other.paid),
        ("A8", other.non_covered),
        ("EAF", other.remaining_patient_liability),
    ):
        if amount is not None:
            yield ["AMT", qualifier, str(amount)]
    if other.benefits_assigned or other.patient_signature_source or other.release_of_information:
        yield [
            "OI",
            "",
            "",
            other.benefits_assigned,
            other.patient_signature_source,
            "",
            other.release_of_information,
        ]
    yield from party_segments(other.subscriber, "IL")
    yield from party_segments(other.payer, "PR", adjudicated_on=other.adjudicated_on)
    for provider in other.providers:
        yield from party_segments(provider, _code(_OTHER_PAYER_CODES, provider.role))


def _line(line: ServiceLine) -> Iterator[SegmentOut]:
    yield ["LX", str(line.number)]
    yield _sv1(line)
    if line.service_date is not None:
        yield event_date_segment(None, period=line.service_date, code="472")
    for event in line.dates:
        yield event_date_segment(event)
    for reference in line.references:
        yield ["REF", reference.qualifier, reference.value]
    for note in line.notes:
        yield ["NTE", note.topic, note.text]
    drug = line.drug
    if drug is not None:
        yield ["LIN", "", "N4", drug.ndc]
        yield ["CTP", "", "", "", format_decimal(drug.quantity), drug.unit]
        if drug.prescription:
            yield ["REF", "XZ", drug.prescription]
    for provider in line.providers:
        yield from party_segments(provider, _code(_LINE_CODES, provider.role))
    for adjudication in line.adjudications:
        yield [
            "SVD",
            adjudication.payer_id,
            str(adjudication.paid),
            _procedure(
                adjudication.code_system,
                adjudication.procedure,
                adjudication.modifiers,
                adjudication.description,
            ),
            "",
            format_decimal(adjudication.paid_units),
            "" if adjudication.bundled_line is None else str(adjudication.bundled_line),
        ]
        yield from adjustment_segments(adjudication.adjustments, per_segment=_CAS_PER_SEGMENT)
        if adjudication.adjudicated_on is not None:
            day = adjudication.adjudicated_on
            yield ["DTP", "573", "D8", f"{day.year:04d}{day.month:02d}{day.day:02d}"]
        if adjudication.remaining_patient_liability is not None:
            yield ["AMT", "EAF", str(adjudication.remaining_patient_liability)]


def _sv1(line: ServiceLine) -> SegmentOut:
    return [
        "SV1",
        _procedure(line.code_system, line.procedure, line.modifiers, line.description),
        str(line.charge),
        _UNIT_CODES.get(line.unit_kind, line.unit_kind),
        format_decimal(line.units),
        line.place_of_service,
        "",
        tuple(str(pointer) for pointer in line.diagnosis_pointers),
        "",
        "Y" if line.emergency else "",
        "",
        "Y" if line.epsdt else "",
        "Y" if line.family_planning else "",
    ]


def _procedure(
    system: str, procedure: str, modifiers: tuple[str, ...], description: str
) -> tuple[str, ...]:
    if description:
        return (system, procedure, *(*modifiers, "", "", "", "")[:4], description)
    return (system, procedure, *modifiers)


def _code(codes: dict[str, str], role: str) -> str:
    code = codes.get(role)
    if code is None:
        raise ElementInvalid("A party's role has no place in this loop of an 837P (NM101).")
    return code
