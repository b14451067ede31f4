"""Segments of the 837 loops both guides write alike (005010X222A1, 005010X223A2).

A ``Party`` becomes its ``NM1`` with the ``N3``, ``N4``, ``DMG``, ``PRV``,
``REF`` and ``PER`` that follow it; an ``EventDate`` a ``DTP``; a
``HealthCode`` one ``HI`` composite; adjustments ``CAS`` segments. Each
is the inverse of what the reader takes from the same segments, so
reading what is written gives the records back.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from claimbridge.formats.x12.drafts837 import ID_QUALIFIERS, NUMBER_QUALIFIERS
from claimbridge.formats.x12.loops837 import DATE_KINDS
from claimbridge.formats.x12.records837 import Adjustment, EventDate, HealthCode, Party
from claimbridge.formats.x12.values837 import format_decimal
from claimbridge.formats.x12.writer import Element, SegmentOut
from claimbridge.types import ServicePeriod

__all__ = [
    "adjustment_segments",
    "event_date_segment",
    "health_code_element",
    "party_segments",
    "role_codes",
    "x12_date",
]

_DATE_CODES = {kind: code for code, kind in DATE_KINDS.items()}


def role_codes(roles: dict[str, str]) -> dict[str, str]:
    """NM101 codes by role: the inverse of a reader's role table."""
    return {role: code for code, role in roles.items()}


def x12_date(day: date) -> str:
    # Built by hand: strftime's %Y drops leading zeros from years before 1000.
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def _period(period: ServicePeriod) -> tuple[str, str]:
    if period.first == period.last:
        return "D8", x12_date(period.first)
    return "RD8", f"{x12_date(period.first)}-{x12_date(period.last)}"


def party_segments(
    party: Party,
    code: str,
    *,
    taxonomy_first: bool = False,
    adjudicated_on: date | None = None,
) -> Iterator[SegmentOut]:
    """``NM1`` and what follows it; the billing provider's ``PRV`` comes first."""
    if taxonomy_first and party.taxonomy:
        yield ["PRV", "BI", "PXC", party.taxonomy]
    yield [
        "NM1",
        code,
        "1" if party.is_person else "2",
        party.name,
        party.first_name,
        party.middle_name,
        "",
        party.suffix,
        ID_QUALIFIERS.get(party.id_kind, party.id_kind),
        party.identifier,
    ]
    address = party.address
    if address is not None:
        yield ["N3", address.street, address.street2]
        yield ["N4", address.city, address.state, address.postal_code, address.country]
    if party.birth_date is not None or party.gender:
        birth = "" if party.birth_date is None else x12_date(party.birth_date)
        yield ["DMG", "D8" if birth else "", birth, party.gender]
    if adjudicated_on is not None:
        yield ["DTP", "573", "D8", x12_date(adjudicated_on)]
    if party.taxonomy and not taxonomy_first:
        yield ["PRV", "PE", "PXC", party.taxonomy]
    for reference in party.references:
        yield ["REF", reference.qualifier, reference.value]
    for contact in party.contacts:
        numbers: list[str] = []
        for number in contact.numbers[:3]:
            numbers += [NUMBER_QUALIFIERS.get(number.kind, number.kind), number.value]
        yield ["PER", "IC", contact.name, *numbers]


def event_date_segment(
    event: EventDate | None, *, period: ServicePeriod | None = None, code: str = ""
) -> SegmentOut:
    """``DTP`` for an event date, or for a bare ``period`` with DTP01 ``code``."""
    if event is None:
        assert period is not None  # noqa: S101 - the caller gives one or the other
        return ["DTP", code, *_period(period)]
    code = _DATE_CODES.get(event.kind, event.kind)
    moment = event.time
    if moment is None:
        assert event.period is not None  # noqa: S101 - an event has a day or a time
        return ["DTP", code, *_period(event.period)]
    clock = f"{moment.hour:02d}{moment.minute:02d}"
    if moment.second:
        clock += f"{moment.second:02d}"
    if event.period is None:
        return ["DTP", code, "TM", clock]
    return ["DTP", code, "DT", x12_date(event.period.first) + clock]


def health_code_element(code: HealthCode) -> Element:
    """One ``HI`` composite: qualifier, code, and the date, amount or POA it carries."""
    if code.period is None and code.amount is None and not code.present_on_admission:
        return (code.qualifier, code.code)
    qualifier, text = _period(code.period) if code.period is not None else ("", "")
    amount = "" if code.amount is None else format_decimal(code.amount)
    return (
        code.qualifier,
        code.code,
        qualifier,
        text,
        amount,
        "",
        "",
        "",
        code.present_on_admission,
    )


def adjustment_segments(
    adjustments: tuple[Adjustment, ...], *, per_segment: int
) -> Iterator[SegmentOut]:
    """``CAS`` segments: consecutive adjustments of one group share one, six at most."""
    index = 0
    while index < len(adjustments):
        group = adjustments[index].group
        elements: list[str] = ["CAS", group]
        taken = 0
        while index < len(adjustments) and adjustments[index].group == group:
            if taken == per_segment:
                break
            adjustment = adjustments[index]
            quantity = "" if adjustment.quantity is None else format_decimal(adjustment.quantity)
            elements += [adjustment.reason, str(adjustment.amount), quantity]
            taken += 1
            index += 1
        yield elements
