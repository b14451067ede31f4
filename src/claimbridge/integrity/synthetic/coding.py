"""Coding violations and their decoys: PTP pairs, units over the MUE, duplicates, bad codes.

Each kind bills what a coder got wrong (or, as a decoy, what looks wrong
and is allowed) and labels the line a correct scrub reports. Lines are
numbered as billed: an E/M visit first unless the kind has none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from claimbridge.formats.cms import MueEdit
from claimbridge.integrity.synthetic.builder import Builder, Kind, Planned, Service, decoy
from claimbridge.integrity.synthetic.world import BILLABLE, fresh_npi

UNKNOWN_DIAGNOSES = ("I109", "R6999", "E1199", "Q9991")
HEADER_DIAGNOSES = ("E11", "J06", "M545", "I25")
BAD_CODES = ("W1234", "1234A", "992134")
BAD_MODIFIERS = ("5", "XYZ", "2-")


def _across_claims(b: Builder, first: Service, second: Service, rule: str, kind: str) -> None:
    """``first`` on a claim, ``second`` on another of its patient, provider and date: labelled."""
    b.label(rule, kind, b.again(b.visit((first,)), (second,)), 1)


# --- unbundling: an E/M visit, column 1 on line 2, column 2 on line 3 ---------------


def _ptp(pair: int | str, first: tuple[str, ...], second: tuple[str, ...]) -> Kind:
    def make(b: Builder) -> None:
        edit = b.rng.choice(b.tables.pairs[pair])
        b.visit(((edit.column1, first, 1), (edit.column2, second, 1)))

    return make


def _ptp_found(kind: str, pair: int, first: tuple[str, ...], second: tuple[str, ...]) -> Kind:
    def make(b: Builder) -> None:
        _ptp(pair, first, second)(b)
        b.label("ncci-ptp", kind, b.claims[-1], 3)

    return make


def _ptp_two_claims(b: Builder) -> None:
    edit = b.rng.choice(b.tables.pairs[0])
    first, second = (edit.column1, (), 1), (edit.column2, (), 1)
    _across_claims(b, first, second, "ncci-ptp", "indicator 0, across two claims")


# --- units --------------------------------------------------------------------------


def _mue_edit(b: Builder, mai: int, most: int = 20) -> MueEdit:
    return b.rng.choice([edit for edit in b.tables.by_mai[mai] if edit.max_units <= most])


def _mue_over(mai: int) -> Kind:
    def make(b: Builder) -> None:
        edit = _mue_edit(b, mai)
        claim = b.visit(((edit.code, (), edit.max_units + b.rng.randint(1, 3)),))
        b.label("mue-line" if mai == 1 else "mue-day", f"MAI {mai}: a line over", claim, 2)

    return make


def _mue_sides(b: Builder) -> None:
    edit = _mue_edit(b, 3)
    claim = b.visit(((edit.code, ("RT",), edit.max_units), (edit.code, ("LT",), 1)))
    b.label("mue-day", "MAI 3: two lines of a day over", claim, 3)


def _mue_two_claims(b: Builder) -> None:
    edit = _mue_edit(b, 2)
    first, second = (edit.code, ("LT",), edit.max_units), (edit.code, ("RT",), 1)
    _across_claims(b, first, second, "mue-day", "MAI 2: two claims of a day over")


def _mue_at_limit(b: Builder) -> None:
    edit = _mue_edit(b, b.rng.choice((2, 3)), most=30)
    b.visit(((edit.code, (), edit.max_units),))


def _mue_line_sides(b: Builder) -> None:
    edit = _mue_edit(b, 1)
    b.visit(((edit.code, ("RT",), edit.max_units), (edit.code, ("LT",), edit.max_units)))


# --- duplicates ---------------------------------------------------------------------


def _twice(b: Builder) -> Service:
    return (b.rng.choice(b.tables.twice).code, (), 1)


def _duplicate_claims(b: Builder) -> None:
    service = _twice(b)
    _across_claims(b, service, service, "duplicate", "a second claim, same service")


def _duplicate_line(b: Builder) -> None:
    service = _twice(b)
    b.label("duplicate", "a line repeated in one claim", b.visit((service, service)), 3)


def _duplicate_history(b: Builder) -> None:
    claim = b.visit((_twice(b),))
    b.billed_before(claim, claim.lines[1])
    b.label("duplicate", "billed in an earlier batch", claim, 2)


def _replacement(b: Builder) -> None:
    claim = b.visit((_twice(b),), frequency="7")
    for line in claim.lines:
        b.billed_before(claim, line)


def _repeat_76(b: Builder) -> None:
    code, _, units = _twice(b)
    b.visit(((code, (), units), (code, ("76",), units)))


# --- code validity ------------------------------------------------------------------


def _diagnosis(kind: str, codes: Sequence[str]) -> Kind:
    def make(b: Builder) -> None:
        diagnoses = (b.rng.choice(BILLABLE), b.rng.choice(codes))
        b.label("code-diagnosis", kind, b.visit(b.services(1), diagnoses=diagnoses))

    return make


def _bad_npi(b: Builder) -> None:
    valid = fresh_npi(b.rng, b.taken)
    npi = valid[:9] + str((int(valid[9]) + 1) % 10)
    claim = b.visit(b.services(1), referring_npi=npi)
    b.flag("code-npi", "referring NPI fails its check digit", claim, npi)


def _bad_pointer(b: Builder) -> None:
    diagnoses = tuple(b.rng.sample(BILLABLE, 2))
    claim = b.visit(b.services(1), diagnoses=diagnoses, pointers={2: (1, 3)})
    b.label("code-pointer", "pointer past the diagnoses", claim, 2)


def _bad_shape(b: Builder) -> None:
    claim = b.visit(((b.rng.choice(BAD_CODES), (), 1),))
    b.label("code-procedure", "procedure code shape", claim, 2)


def _bad_modifier(b: Builder) -> None:
    code, _, units = b.services(1)[0]
    claim = b.visit(((code, (b.rng.choice(BAD_MODIFIERS),), units),))
    b.label("code-procedure", "modifier shape", claim, 2)


def _dotted(b: Builder) -> None:
    b.visit(b.services(1), diagnoses=("E11.9", "I10"))


def _four_pointers(b: Builder) -> None:
    diagnoses = tuple(b.rng.sample(BILLABLE, 4))
    b.visit(b.services(1), diagnoses=diagnoses, pointers={2: (1, 2, 3, 4)})


# --- the kinds of each family -------------------------------------------------------

INJECTED: Mapping[str, tuple[Planned, ...]] = {
    "ncci": (
        (_ptp_found("indicator 0, one claim", 0, (), ()), 1),
        (_ptp_two_claims, 2),
        (_ptp_found("indicator 0, modifier 59 does not bypass", 0, (), ("59",)), 1),
        (_ptp_found("indicator 1 without a modifier", 1, (), ()), 1),
        (_ptp_found("indicator 1, RT on both lines", 1, ("RT",), ("RT",)), 1),
    ),
    "mue": (
        (_mue_over(1), 1),
        (_mue_over(2), 1),
        (_mue_over(3), 1),
        (_mue_sides, 1),
        (_mue_two_claims, 2),
    ),
    "duplicate": ((_duplicate_claims, 2), (_duplicate_line, 1), (_duplicate_history, 1)),
    "codes": (
        (_diagnosis("diagnosis not in ICD-10-CM", UNKNOWN_DIAGNOSES), 1),
        (_diagnosis("diagnosis a category, not billable", HEADER_DIAGNOSES), 1),
        (_bad_npi, 1),
        (_bad_pointer, 1),
        (_bad_shape, 1),
        (_bad_modifier, 1),
    ),
}
DECOYS: Mapping[str, tuple[Planned, ...]] = {
    "ncci": (
        (decoy("ncci: indicator 1, 59 on column 2", _ptp(1, (), ("59",))), 1),
        (decoy("ncci: indicator 1, XS on column 1", _ptp(1, ("XS",), ())), 1),
        (decoy("ncci: indicator 1, RT and LT", _ptp(1, ("RT",), ("LT",))), 1),
        (decoy("ncci: indicator 9", _ptp(9, (), ())), 1),
        (decoy("ncci: edit deleted before the service", _ptp("deleted", (), ())), 1),
    ),
    "mue": (
        (decoy("mue: units at the limit", _mue_at_limit), 1),
        (decoy("mue: MAI 1, two lines each within", _mue_line_sides), 1),
    ),
    "duplicate": (
        (decoy("duplicate: a replacement (frequency 7)", _replacement), 1),
        (decoy("duplicate: a repeat with modifier 76", _repeat_76), 1),
    ),
    "codes": (
        (decoy("codes: dotted ICD-10-CM codes", _dotted), 1),
        (decoy("codes: four pointers", _four_pointers), 1),
    ),
}
