"""Synthetic 835 remittances (005010X221A1) paying synthetic 837P claims.

``remittances(claims, seed=...)`` adjudicates each claim the way a payer
would: a contractual write-off (CAS CO-45) down to an allowed amount, the
patient's copay, deductible or coinsurance (PR-3, PR-1, PR-2), now and then
a denied line (CO-97 bundled, CO-50 not medically necessary) with a remark
code. Claims are paid in batches of up to 50 per payer and payee, one
remittance per batch, sometimes with a provider-level adjustment (PLB: an
overpayment recovered or interest paid). Every amount balances as the
guide requires: SVC02 − CAS = SVC03, CLP03 − CAS = CLP04 and
BPR02 = Σ CLP04 − Σ PLB.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from datetime import date, timedelta

from claimbridge.formats.x12 import records837
from claimbridge.formats.x12.records835 import (
    Address,
    Adjustment,
    Amount,
    ClaimPayment,
    Contact,
    DateOf,
    Name,
    Party,
    Payment,
    Procedure,
    ProviderAdjustment,
    Reference,
    Remark,
    Remittance,
    ServicePayment,
    Trace,
)
from claimbridge.formats.x12.synthetic_data import REMARKS

# IMPORTANT: a private helper of the 835 writer, the only way to write one
# set's body without building the whole interchange; see the lead's notes.
from claimbridge.formats.x12.x837p import ProfessionalClaim, ServiceLine
from claimbridge.types import Money

CLAIMS_PER_REMITTANCE = 50
# SBR09 claim filing indicator (837) -> CLP06 claim filing indicator (835).
_FILING = {"BL": "12", "CI": "15", "HM": "HM", "MB": "MB", "MC": "MC", "12": "12"}


def remittances(claims: Iterable[ProfessionalClaim], *, seed: int) -> Iterator[Remittance]:
    """Remittances paying ``claims``: one per payer and payee, up to 50 claims each."""
    rng = random.Random(seed ^ 0x835)  # noqa: S311 - synthetic test data, not a secret
    open_batches: dict[tuple[str, str], list[ProfessionalClaim]] = {}
    for claim in claims:
        key = (claim.payer.identifier, claim.billing_provider.provider.identifier)
        batch = open_batches.setdefault(key, [])
        batch.append(claim)
        if len(batch) >= CLAIMS_PER_REMITTANCE:
            yield _remittance(rng, open_batches.pop(key))
    for batch in open_batches.values():
        yield _remittance(rng, batch)


def _remittance(rng: random.Random, claims: list[ProfessionalClaim]) -> Remittance:
    paid_on = claims[0].submission.created_on + timedelta(days=rng.randint(10, 30))
    payments = tuple(_claim_payment(rng, claim, paid_on) for claim in claims)
    total = Money(sum(payment.paid.cents for payment in payments))
    plb = _provider_adjustments(rng, claims[0], payments, total, paid_on)
    amount = total - Money(sum(adjustment.amount.cents for adjustment in plb))
    return Remittance(
        control_number="",
        payment=_payment(rng, amount, paid_on),
        trace=Trace("1", _digits(rng, 10), "1" + _digits(rng, 9)),
        payer=_payer(rng, claims[0].payer),
        payee=_payee(claims[0].billing_provider.provider),
        claims=payments,
        provider_adjustments=plb,
        dates=(DateOf("405", paid_on - timedelta(days=1)),),
    )


def _payment(rng: random.Random, amount: Money, paid_on: date) -> Payment:
    if amount.cents == 0:
        return Payment("H", amount, "C", "NON", paid_on)
    account = ("01", "9" * 8 + "2", "DA", _digits(rng, 8))
    details = ("CCP", *account, "1" + _digits(rng, 9), "", "01", "9" * 8 + "4", "DA", "12345")
    return Payment("I", amount, "C", "ACH", paid_on, details)


def _payer(rng: random.Random, payer: records837.Party) -> Party:
    contact = Contact("BL", "PROVIDER SERVICES", (("TE", "800555" + _digits(rng, 4)),))
    address = Address(("PO BOX " + _digits(rng, 4),), "SPRINGFIELD", "IL", "62701")
    references = (Reference("2U", payer.identifier),)
    return Party("PR", payer.name, address=address, references=references, contacts=(contact,))


def _payee(provider: records837.Party) -> Party:
    given = provider.address
    address = None
    if given is not None:
        address = Address((given.street,), given.city, given.state, given.postal_code)
    references = tuple(
        Reference("TJ", ref.value) for ref in provider.references if ref.qualifier == "EI"
    )
    return Party("PE", provider.name, "XX", provider.identifier, address, references)


def _claim_payment(rng: random.Random, claim: ProfessionalClaim, paid_on: date) -> ClaimPayment:
    denied = rng.random() < 0.05
    rate = rng.choice((55, 60, 65, 70, 75, 80, 85))
    copay = rng.choice((0, 0, 1500, 2000, 2500, 4000))
    services: list[ServicePayment] = []
    for line in claim.lines:
        deny = denied or (line.number > 1 and rng.random() < 0.06)
        service = _denied(rng, line) if deny else _paid(rng, line, rate, copay)
        copay = 0 if not deny else copay
        services.append(service)
    paid = Money(sum(service.paid.cents for service in services))
    responsibility = sum(
        adjustment.amount.cents
        for service in services
        for adjustment in service.adjustments
        if adjustment.group == "PR"
    )
    return ClaimPayment(
        patient_control_number=claim.claim_id,
        status="4" if paid.cents == 0 else "1",
        charge=claim.total_charge,
        paid=paid,
        patient_responsibility=Money(responsibility),
        filing_indicator=_FILING.get(claim.subscriber.claim_filing, "ZZ"),
        payer_claim_number=_digits(rng, 14),
        facility_type=claim.place_of_service,
        frequency=claim.frequency,
        names=_names(claim),
        dates=(DateOf("050", claim.submission.created_on + timedelta(days=2)),),
        services=tuple(services),
    )


def _names(claim: ProfessionalClaim) -> tuple[Name, ...]:
    insured = claim.subscriber.person
    patient = insured if claim.patient is None else claim.patient.person
    names = [Name("QC", True, patient.name, patient.first_name, "", "", "MI", insured.identifier)]
    if claim.patient is not None:
        names.append(
            Name("IL", True, insured.name, insured.first_name, "", "", "MI", insured.identifier)
        )
    return tuple(names)


def _paid(rng: random.Random, line: ServiceLine, rate: int, copay: int) -> ServicePayment:
    charge = line.charge.cents
    allowed = charge * rate // 100
    adjustments = [Adjustment("CO", "45", Money(charge - allowed))]
    patient = min(copay, allowed)
    if patient:
        adjustments.append(Adjustment("PR", "3", Money(patient)))
    elif rng.random() < 0.2:
        patient = allowed * 20 // 100
        adjustments.append(Adjustment("PR", "2", Money(patient)))
    return ServicePayment(
        procedure=Procedure("HC", line.procedure, line.modifiers),
        charge=line.charge,
        paid=Money(allowed - patient),
        units=line.units,
        dates=_service_dates(line),
        adjustments=tuple(adjustments),
        amounts=(Amount("B6", Money(allowed)),),
    )


def _denied(rng: random.Random, line: ServiceLine) -> ServicePayment:
    reason = rng.choice(("97", "50"))
    return ServicePayment(
        procedure=Procedure("HC", line.procedure, line.modifiers),
        charge=line.charge,
        paid=Money(0),
        units=line.units,
        dates=_service_dates(line),
        adjustments=(Adjustment("CO", reason, line.charge),),
        remarks=(Remark("HE", rng.choice(REMARKS)),),
    )


def _service_dates(line: ServiceLine) -> tuple[DateOf, ...]:
    return () if line.service_date is None else (DateOf("472", line.service_date.first),)


def _provider_adjustments(
    rng: random.Random,
    claim: ProfessionalClaim,
    payments: tuple[ClaimPayment, ...],
    total: Money,
    paid_on: date,
) -> tuple[ProviderAdjustment, ...]:
    draw = rng.random()
    provider = claim.billing_provider.provider.identifier
    year_end = date(paid_on.year, 12, 31)
    if draw < 0.08 and total.cents >= 400:
        recovered = Money(rng.randint(100, total.cents // 4))
        reference = payments[0].payer_claim_number
        return (ProviderAdjustment(provider, year_end, "WO", reference, recovered),)
    if draw < 0.12:
        interest = Money(-rng.randint(1, 500))
        return (ProviderAdjustment(provider, year_end, "L6", "", interest),)
    return ()


def _digits(rng: random.Random, count: int) -> str:
    return f"{rng.randrange(10**count):0{count}d}"
