"""Claims for the claim- and day-level rule tests: synthetic providers, patients as opaque keys.

NPIs here are made with the CMS check digit, so the NPI rule passes them;
the patient keys are odd tokens a test can look for in a message to be sure
a finding never shows one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal

from claimbridge.integrity.context import ScrubContext
from claimbridge.integrity.engine import Rule, scrub
from claimbridge.integrity.model import Finding, ProviderName, ScrubClaim, ScrubLine
from claimbridge.types import check_digit


def valid_npi(nine: str) -> str:
    return nine + check_digit(nine)


BILLING = valid_npi("198765432")
RENDERING = valid_npi("123456789")
REFERRING = valid_npi("155544433")
PATIENT = "patient-key-Qv7"
SERVED = date(2026, 3, 2)
TODAY = date(2026, 3, 10)


def line(
    number: int = 1,
    code: str = "99213",
    *,
    modifiers: tuple[str, ...] = (),
    units: int | str = 1,
    served: date = SERVED,
    pointers: tuple[int, ...] = (1,),
) -> ScrubLine:
    return ScrubLine(number, code, modifiers, Decimal(units), served, pointers)


def claim(
    *lines: ScrubLine,
    ref: str = "claim 1",
    patient: str = PATIENT,
    billing: str = BILLING,
    rendering: str | None = RENDERING,
    referring: str | None = None,
    rendering_name: ProviderName | None = None,
    diagnoses: tuple[str, ...] = ("E1165",),
    frequency: str = "1",
    born: date | None = None,
    died: date | None = None,
    received: date | None = None,
) -> ScrubClaim:
    return ScrubClaim(
        ref=ref,
        patient=patient,
        billing_npi=billing,
        lines=lines or (line(),),
        rendering_npi=rendering,
        referring_npi=referring,
        rendering_name=rendering_name,
        diagnoses=diagnoses,
        frequency=frequency,
        born=born,
        died=died,
        received=received,
    )


def run(
    rules: Sequence[Rule], claims: Iterable[ScrubClaim], scrub_context: ScrubContext
) -> list[Finding]:
    """The findings of ``rules`` through the engine, so day and provider-day grouping is real."""
    return scrub(list(claims), scrub_context, rules).findings
