"""Mutable drafts of 837 loops while their segments arrive (005010X222A1, 005010X223A2).

A loop's segments come one at a time; a draft gathers them and ``freeze``
turns it into the frozen record once the loop has ended. Drafts hold the
raw elements they were given and translate X12 codes to plain English
only when frozen, so a loop costs one record construction, not one per
segment.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from claimbridge.formats.x12.records837 import (
    Adjustment,
    Contact,
    ContactNumber,
    Drug,
    EventDate,
    HealthCode,
    LineAdjudication,
    Note,
    OtherPayer,
    Party,
    Reference,
    new_address,
    new_line_adjudication,
    new_other_payer,
    new_party,
    new_reference,
)
from claimbridge.types import Money

__all__ = [
    "ID_KINDS",
    "ID_QUALIFIERS",
    "NUMBER_KINDS",
    "NUMBER_QUALIFIERS",
    "PAD",
    "AdjudicationDraft",
    "ClaimDraft",
    "DrugDraft",
    "OtherPayerDraft",
    "PartyDraft",
]

# Elements past the end of a segment are empty: ``(segment + PAD)[n]`` reads
# element n of any segment without a length check.
PAD = [""] * 24

# NM108, the kind of identifier in NM109.
ID_KINDS = {
    "XX": "npi",
    "46": "etin",
    "MI": "member_id",
    "PI": "payer_id",
    "XV": "plan_id",
    "24": "ein",
    "34": "ssn",
    "II": "health_id",
    "FI": "tax_id",
}
ID_QUALIFIERS = {kind: code for code, kind in ID_KINDS.items()}

# PER03/05/07, the kind of communication number.
NUMBER_KINDS = {"TE": "phone", "FX": "fax", "EM": "email", "EX": "extension", "UR": "url"}
NUMBER_QUALIFIERS = {kind: code for code, kind in NUMBER_KINDS.items()}


_SHARED_LIMIT = 4096
_VARIANTS = 4
_shared: dict[str, tuple[tuple[Any, Party], ...]] = {}
_PEOPLE = frozenset({"subscriber", "patient"})


class PartyDraft:
    """An ``NM1`` loop being read: the name segment and what follows it."""

    __slots__ = (
        "birth_date",
        "city_line",
        "contacts",
        "gender",
        "name",
        "references",
        "role",
        "street",
        "taxonomy",
    )

    def __init__(self, role: str, name: list[str], taxonomy: str = "") -> None:
        self.role = role
        self.name = name
        self.street: list[str] | None = None
        self.city_line: list[str] | None = None
        # Tuples, as the record holds them: most loops have none.
        self.references: tuple[Reference, ...] = ()
        self.contacts: tuple[Contact, ...] = ()
        self.taxonomy = taxonomy
        self.birth_date: date | None = None
        self.gender = ""

    def add_reference(self, qualifier: str, value: str) -> bool:
        """Add a ``REF``; ``False`` if the loop already has one with that qualifier."""
        for reference in self.references:
            if reference.qualifier == qualifier:
                return False
        self.references += (new_reference(qualifier, value),)
        return True

    def add_contact(self, element: list[str]) -> None:
        numbers = tuple(
            ContactNumber(NUMBER_KINDS.get(element[i], element[i]), element[i + 1])
            for i in (3, 5, 7)
            if element[i] or element[i + 1]
        )
        self.contacts += (Contact(element[2], numbers),)

    def freeze(self) -> Party:
        if self.references or self.contacts or self.birth_date is not None or self.gender:
            return self.freeze_all()
        # Providers and payers named on claim after claim (rendering,
        # referring, facility, payer) are the same few parties: one frozen
        # record serves them all. A subscriber's or patient's address is
        # their own, so only their bare names are worth keeping.
        street, city, role = self.street, self.city_line, self.role
        if (street is not None or city is not None) and role in _PEOPLE:
            return self.freeze_all()
        # Keyed on the identifier (NM109), whose text hashes quickly. A party
        # is kept only once its identifier comes again: one named a single
        # time costs a key, not a record. A hit must match every element the
        # record is made of; an identifier may come in a few forms (a payer
        # with and without its address), each kept.
        e = self.name
        key = e[9]
        variants = _shared.get(key)
        if variants is None:
            if len(_shared) >= _SHARED_LIMIT:
                _shared.clear()
            _shared[key] = ()
            return self.freeze_all()
        probe = (role, e, street, city, self.taxonomy)
        for entry in variants:
            if entry[0] == probe:
                shared: Party = entry[1]
                return shared
        party = self.freeze_all()
        if len(variants) < _VARIANTS:
            _shared[key] = (*variants, (probe, party))
        return party

    def freeze_all(self) -> Party:
        e = self.name
        address = None
        street, city = self.street, self.city_line
        if street is not None or city is not None:
            street = PAD if street is None else street + PAD
            city = PAD if city is None else city + PAD
            address = new_address(street[1], street[2], city[1], city[2], city[3], city[4])
        return new_party(
            self.role,
            e[3],
            e[4],
            e[5],
            e[7],
            e[2] == "1",
            ID_KINDS.get(e[8], e[8]),
            e[9],
            address,
            self.references,
            self.contacts,
            self.taxonomy,
            self.birth_date,
            self.gender,
        )


class AdjudicationDraft:
    """A line adjudication (2430) being read: ``SVD`` then ``CAS``, ``DTP``, ``AMT``."""

    __slots__ = ("adjudicated_on", "adjustments", "fields", "remaining")

    def __init__(self, fields: LineAdjudication) -> None:
        self.fields = fields
        self.adjustments: list[Adjustment] = []
        self.adjudicated_on: date | None = None
        self.remaining: Money | None = None

    def freeze(self) -> LineAdjudication:
        f = self.fields
        return new_line_adjudication(
            f.payer_id,
            f.paid,
            f.procedure,
            f.paid_units,
            f.code_system,
            f.modifiers,
            f.description,
            f.bundled_line,
            tuple(self.adjustments),
            self.adjudicated_on,
            self.remaining,
        )


class DrugDraft:
    """A drug identification loop (2410) being read: ``LIN``, ``CTP``, ``REF``."""

    __slots__ = ("drug", "ndc", "prescription")

    def __init__(self, ndc: str) -> None:
        self.ndc = ndc
        self.drug: Drug | None = None
        self.prescription = ""


class OtherPayerDraft:
    """Another payer's loop (2320 with 2330A-G) being read."""

    __slots__ = (
        "adjudicated_on",
        "adjustments",
        "info",
        "non_covered",
        "paid",
        "parties",
        "remaining",
        "sbr",
    )

    def __init__(self, sbr: list[str]) -> None:
        self.sbr = sbr
        self.adjustments: list[Adjustment] = []
        self.paid: Money | None = None
        self.non_covered: Money | None = None
        self.remaining: Money | None = None
        self.info = PAD
        self.parties: list[PartyDraft] = []
        self.adjudicated_on: date | None = None

    def freeze(self, subscriber: Party, payer: Party, providers: tuple[Party, ...]) -> OtherPayer:
        s, i = self.sbr, self.info
        return new_other_payer(
            s[1],
            subscriber,
            payer,
            s[2],
            s[3],
            s[4],
            s[5],
            s[9],
            tuple(self.adjustments),
            self.paid,
            self.non_covered,
            self.remaining,
            i[3],
            i[4],
            i[6],
            self.adjudicated_on,
            providers,
        )


class ClaimDraft:
    """A claim (2300) being read; ``fields`` holds what the guide's reader took from CLM."""

    __slots__ = (
        "codes",
        "dates",
        "diagnosis_count",
        "fields",
        "line_cents",
        "lines",
        "notes",
        "number",
        "other_payers",
        "parties",
        "patient_estimate",
        "patient_paid",
        "references",
        "values",
    )

    def __init__(self, fields: tuple[Any, ...], number: int) -> None:
        self.fields = fields
        self.number = number
        self.diagnosis_count = 0
        self.codes: list[HealthCode] = []
        self.references: list[Reference] = []
        self.parties: list[PartyDraft] = []
        # What most claims lack starts as an empty tuple, as the record holds it.
        self.dates: tuple[EventDate, ...] = ()
        self.notes: tuple[Note, ...] = ()
        self.other_payers: tuple[OtherPayerDraft, ...] = ()
        self.lines: list[Any] = []
        # The sum of the line charges read so far (SV102), for the CLM02 balance.
        self.line_cents = 0
        self.patient_paid: Money | None = None
        self.patient_estimate: Money | None = None
        self.values: tuple[Any, ...] = ()
