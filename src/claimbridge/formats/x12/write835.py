"""Write 835 health care claim payment/advice (005010X221A1).

For demonstrations and test data: ``write_835`` turns ``Remittance``
records into an interchange whose segments follow the guide's order, so
``read_835(write_835(remittances))`` gives the same records back. It does
not balance anything for the caller; use ``check_balance`` first when the
amounts are made up.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal

from claimbridge.formats.x12.lexer import DEFAULT_SEPARATORS, Separators
from claimbridge.formats.x12.records835 import (
    Adjustment,
    ClaimPayment,
    Contact,
    Party,
    Procedure,
    ProviderAdjustment,
    Remittance,
    ServicePayment,
)
from claimbridge.formats.x12.writer import Element, OutgoingSet, SegmentOut, write_interchange
from claimbridge.formats.x12.x835 import GUIDE_835

__all__ = ["write_835"]

_CAS_TRIPLES = 6
_PLB_PAIRS = 6


def write_835(
    remittances: Iterable[Remittance],
    *,
    sender: str,
    receiver: str,
    interchange_control_number: int,
    group_control_number: int,
    now: datetime,
    separators: Separators = DEFAULT_SEPARATORS,
    usage: str = "P",
    line_breaks: bool = False,
) -> bytes:
    """An interchange with one 835 set per remittance."""
    sets = remittance_sets(remittances)
    return write_interchange(
        sets,
        sender=sender,
        receiver=receiver,
        interchange_control_number=interchange_control_number,
        group_control_number=group_control_number,
        functional_id="HP",
        now=now,
        separators=separators,
        usage=usage,
        line_breaks=line_breaks,
    )


def remittance_sets(remittances: Iterable[Remittance]) -> Iterator[OutgoingSet]:
    """One 835 transaction set per remittance, for ``writer.iter_interchange`` to stream."""
    for remittance in remittances:
        yield OutgoingSet("835", GUIDE_835, _body(remittance))


def _body(remittance: Remittance) -> Iterator[SegmentOut]:
    payment = remittance.payment
    yield [
        "BPR",
        payment.handling,
        str(payment.amount),
        payment.credit_or_debit,
        payment.method,
        *_padded(payment.details, 11),
        _day(payment.payment_date),
    ]
    trace = remittance.trace
    if trace is not None:
        yield ["TRN", trace.kind, trace.number, trace.originator, trace.originator_supplement]
    yield from (list(raw) for raw in remittance.other)
    yield from (["REF", ref.qualifier, ref.value] for ref in remittance.references)
    yield from (["DTM", dated.qualifier, _day(dated.day)] for dated in remittance.dates)
    yield from _party(remittance.payer)
    yield from _party(remittance.payee)
    yield from _claims(remittance)
    yield from _provider_adjustments(remittance.provider_adjustments)


def _party(party: Party) -> Iterator[SegmentOut]:
    yield ["N1", party.role, party.name, party.id_qualifier, party.identifier]
    address = party.address
    if address is not None:
        for start in range(0, len(address.lines), 2):
            yield ["N3", *address.lines[start : start + 2]]
        if address.city or address.state or address.postal_code or address.country:
            yield ["N4", address.city, address.state, address.postal_code, address.country]
    yield from (["REF", ref.qualifier, ref.value] for ref in party.references)
    yield from (_contact(contact) for contact in party.contacts)
    yield from (list(raw) for raw in party.other)


def _claims(remittance: Remittance) -> Iterator[SegmentOut]:
    summaries = dict(remittance.header_other)
    written: set[str] = set()
    current: str | None = None
    for claim in remittance.claims:
        if claim.header_number != current:
            current = claim.header_number
            if current:
                written.add(current)
                yield ["LX", current]
                yield from (list(raw) for raw in summaries.get(current, ()))
        yield from _claim(claim)
    for number, kept in remittance.header_other:
        if number not in written:
            yield ["LX", number]
            yield from (list(raw) for raw in kept)


def _claim(claim: ClaimPayment) -> Iterator[SegmentOut]:
    yield [
        "CLP",
        claim.patient_control_number,
        claim.status,
        str(claim.charge),
        str(claim.paid),
        "" if claim.patient_responsibility is None else str(claim.patient_responsibility),
        claim.filing_indicator,
        claim.payer_claim_number,
        claim.facility_type,
        claim.frequency,
        "",
        claim.drg,
        _number(claim.drg_weight),
        _number(claim.discharge_fraction),
    ]
    yield from _adjustments(claim.adjustments)
    for name in claim.names:
        yield [
            "NM1",
            name.role,
            "1" if name.is_person else "2",
            name.last_or_organization,
            name.first,
            name.middle,
            "",
            name.suffix,
            name.id_qualifier,
            name.identifier,
        ]
    yield from (list(raw) for raw in claim.other)
    yield from (["REF", ref.qualifier, ref.value] for ref in claim.references)
    yield from (["DTM", dated.qualifier, _day(dated.day)] for dated in claim.dates)
    yield from (_contact(contact) for contact in claim.contacts)
    yield from (["AMT", amount.qualifier, str(amount.amount)] for amount in claim.amounts)
    yield from (["QTY", qty.qualifier, _number(qty.value)] for qty in claim.quantities)
    for service in claim.services:
        yield from _service(service)


def _service(service: ServicePayment) -> Iterator[SegmentOut]:
    original = service.original_procedure
    yield [
        "SVC",
        _procedure(service.procedure),
        str(service.charge),
        str(service.paid),
        service.revenue_code,
        _number(service.units),
        _procedure(original) if original is not None else "",
        _number(service.original_units),
    ]
    yield from (["DTM", dated.qualifier, _day(dated.day)] for dated in service.dates)
    yield from _adjustments(service.adjustments)
    yield from (["REF", ref.qualifier, ref.value] for ref in service.references)
    yield from (["AMT", amount.qualifier, str(amount.amount)] for amount in service.amounts)
    yield from (["QTY", qty.qualifier, _number(qty.value)] for qty in service.quantities)
    yield from (["LQ", remark.qualifier, remark.code] for remark in service.remarks)


def _adjustments(adjustments: tuple[Adjustment, ...]) -> Iterator[SegmentOut]:
    """CAS segments: consecutive adjustments of one group share a segment, six at most."""
    start = 0
    while start < len(adjustments):
        group = adjustments[start].group
        end = start
        while (
            end < len(adjustments)
            and adjustments[end].group == group
            and end - start < _CAS_TRIPLES
        ):
            end += 1
        elements: list[Element] = ["CAS", group]
        for adjustment in adjustments[start:end]:
            elements += [adjustment.reason, str(adjustment.amount), _number(adjustment.quantity)]
        yield elements
        start = end


def _provider_adjustments(adjustments: tuple[ProviderAdjustment, ...]) -> Iterator[SegmentOut]:
    start = 0
    while start < len(adjustments):
        first = adjustments[start]
        key = (first.provider_identifier, first.fiscal_period_end)
        end = start
        while (
            end < len(adjustments)
            and (adjustments[end].provider_identifier, adjustments[end].fiscal_period_end) == key
            and end - start < _PLB_PAIRS
        ):
            end += 1
        elements: list[Element] = ["PLB", first.provider_identifier, _day(first.fiscal_period_end)]
        for adjustment in adjustments[start:end]:
            elements += [(adjustment.reason, adjustment.reference), str(adjustment.amount)]
        yield elements
        start = end


def _procedure(procedure: Procedure) -> tuple[str, ...]:
    modifiers = _padded(procedure.modifiers, 4) if procedure.description else procedure.modifiers
    return (procedure.qualifier, procedure.code, *modifiers, procedure.description)


def _contact(contact: Contact) -> list[Element]:
    elements: list[Element] = ["PER", contact.function, contact.name]
    for qualifier, number in contact.channels:
        elements += [qualifier, number]
    return elements


def _padded(values: tuple[str, ...], length: int) -> tuple[str, ...]:
    return values + ("",) * (length - len(values))


def _day(day: date | None) -> str:
    return "" if day is None else f"{day.year:04d}{day.month:02d}{day.day:02d}"


def _number(value: Decimal | None) -> str:
    return "" if value is None else str(value)
