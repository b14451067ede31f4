"""Read 835 health care claim payment/advice (005010X221A1), with balancing.

Each 835 transaction set becomes one ``Remittance``: the payment (BPR,
TRN), payer (loop 1000A) and payee (1000B), the claims paid (loop 2100,
CLP) with their service lines (2110, SVC), and provider-level adjustments
(PLB). A set is held in memory while it is read; sets stream one by one.

Balancing, as the guide requires (TR3 section 1.10.2):

* a service line: SVC02 charge − Σ its CAS = SVC03 paid;
* a claim: CLP03 charge − Σ claim CAS − Σ service CAS = CLP04 paid;
* the payment: BPR02 = Σ CLP04 − Σ PLB amounts.

A set that does not balance is rejected (``BalanceMismatch``, every
imbalance collected) but its ``Remittance`` is still yielded, so a caller
can show what was wrong; ``Reading.results`` says it was rejected.
The base guide 005010X221 is read and flagged; another guide is refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from claimbridge.formats.x12.errors import (
    BalanceMismatch,
    GuideErrata,
    GuideUnsupported,
    Position,
    UnexpectedSegment,
)
from claimbridge.formats.x12.reader import Reading, TransactionContext, read_transactions
from claimbridge.formats.x12.records835 import ClaimPayment, Remittance
from claimbridge.formats.x12.segments835 import BalancePositions, RemittanceBuilder
from claimbridge.types import Money

__all__ = ["GUIDE_835", "check_balance", "read_835", "remittances"]

GUIDE_835 = "005010X221A1"
_ERRATA = frozenset({"005010X221"})


def read_835(source: bytes | BinaryIO) -> Reading[Remittance]:
    """Read 835 remittances, one per transaction set, balancing each."""
    return read_transactions(source, handlers={"835": remittances})


def remittances(context: TransactionContext, body: Iterator[list[str]]) -> Iterator[Remittance]:
    """The handler for ST01 = 835."""
    _check_guide(context)
    builder = RemittanceBuilder(context)
    for segment in body:
        if not builder.take(segment):
            context.reject(
                UnexpectedSegment(
                    "A segment appears where the 835 guide does not allow it.",
                    position=context.position(),
                )
            )
    remittance = builder.finish()
    for error in check_balance(remittance, positions=builder.positions):
        context.reject(error)
    yield remittance


def _check_guide(context: TransactionContext) -> None:
    guide = context.guide
    if guide == GUIDE_835:
        return
    where = context.position()
    if not guide.startswith("005010X221") and guide.startswith(("00501", "00401", "00402")):
        raise GuideUnsupported(
            "This 835 uses an implementation guide other than 005010X221A1.", position=where
        )
    context.note(
        GuideErrata(
            "The 835 does not name 005010X221A1 as its guide; read as 005010X221A1.",
            position=where,
        )
    )


def check_balance(
    remittance: Remittance, *, positions: BalancePositions | None = None
) -> list[BalanceMismatch]:
    """Every imbalance in a remittance: service lines, claims, the payment."""
    positions = positions or BalancePositions()
    errors: list[BalanceMismatch] = []
    for index, claim in enumerate(remittance.claims):
        claim_at = positions.claims[index] if index < len(positions.claims) else None
        lines_at = positions.services[index] if index < len(positions.services) else []
        errors.extend(_check_claim(claim, index + 1, claim_at, lines_at))
    paid = sum((claim.paid for claim in remittance.claims), Money(0))
    adjusted = sum((plb.amount for plb in remittance.provider_adjustments), Money(0))
    if paid - adjusted != remittance.payment.amount:
        errors.append(
            BalanceMismatch(
                f"BPR02 is {remittance.payment.amount}; the claims paid {paid} and the "
                f"provider adjustments total {adjusted}, which gives {paid - adjusted}.",
                position=_at(positions.payment, 2),
            )
        )
    return errors


def _check_claim(
    claim: ClaimPayment, number: int, claim_at: Position | None, lines_at: list[Position]
) -> list[BalanceMismatch]:
    errors: list[BalanceMismatch] = []
    service_adjustments = Money(0)
    for index, service in enumerate(claim.services):
        adjusted = sum((cas.amount for cas in service.adjustments), Money(0))
        service_adjustments += adjusted
        if service.charge - adjusted != service.paid:
            errors.append(
                BalanceMismatch(
                    f"Claim {number}, service line {index + 1}: charge {service.charge} less "
                    f"adjustments {adjusted} is not the {service.paid} paid.",
                    position=_at(lines_at[index] if index < len(lines_at) else None, 3),
                )
            )
    adjusted = sum((cas.amount for cas in claim.adjustments), Money(0)) + service_adjustments
    if claim.charge - adjusted != claim.paid:
        errors.append(
            BalanceMismatch(
                f"Claim {number}: charge {claim.charge} less adjustments {adjusted} "
                f"is not the {claim.paid} paid.",
                position=_at(claim_at, 4),
            )
        )
    return errors


def _at(position: Position | None, element: int) -> Position | None:
    if position is None:
        return None
    return Position(position.segment_number, position.segment_id, element, None, position.offset)
