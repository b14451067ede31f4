"""Synthetic, valid, realistic 837P claims and 835 remittances, for demos and benchmarks.

``synthetic_claims(count, seed=...)`` yields professional claims
(005010X222A1) and ``synthetic_remittances(count, seed=...)`` remittances
(005010X221A1) paying that many claims; both are a function of the seed
alone. Everything is invented: names come from short lists, identifiers are
drawn at random (NPIs carry their Luhn check digit), and the code sets are
real (ICD-10-CM diagnoses, CPT/HCPCS procedures and modifiers, claim
adjustment reason codes) from small fixed lists. Claims balance (CLM02 is
the sum of the SV102 line charges); remittances balance as the 835 guide
requires (CLP03 − CAS = CLP04, SVC02 − CAS = SVC03, BPR02 = Σ CLP04 − Σ PLB).

``write_synthetic(kind, count, seed=..., out=..., now=...)`` streams an
interchange to a binary file holding at most one transaction set's records
at a time, so a file of any size is written in bounded memory. Reading it
back with ``read_837p`` or ``read_835`` gives the same records, accepted
without errors.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import BinaryIO

from claimbridge.formats.x12 import synthetic835
from claimbridge.formats.x12.records835 import Remittance
from claimbridge.formats.x12.records837 import (
    Address,
    BillingProvider,
    EventDate,
    HealthCode,
    Party,
    Patient,
    Reference,
    Submission,
    Subscriber,
)
from claimbridge.formats.x12.synthetic_data import (
    CITIES,
    EXTRA_PROCEDURES,
    FEMALE_NAMES,
    ICD10CM,
    MALE_NAMES,
    NEW_VISITS,
    ORGANIZATIONS,
    PAYERS,
    RETURN_VISITS,
    SAME_DAY_PROCEDURES,
    STREETS,
    SURNAMES,
    TAXONOMIES,
    npi,
)
from claimbridge.formats.x12.write835 import remittance_sets
from claimbridge.formats.x12.write837p import professional_sets
from claimbridge.formats.x12.writer import iter_interchange
from claimbridge.formats.x12.x837p import ProfessionalClaim, ServiceLine
from claimbridge.types import Money, ServicePeriod

__all__ = ["KINDS", "synthetic_claims", "synthetic_remittances", "write_synthetic"]

KINDS = ("837p", "835")
CREATED_ON = date(2025, 1, 15)
SENDER = "CLAIMBRIDGE"
RECEIVER = "SYNTHPAYER"
_CLAIMS_PER_SET = 2000
_PROGRESS_EVERY = 1000


def synthetic_claims(count: int, *, seed: int) -> Iterator[ProfessionalClaim]:
    """``count`` professional claims, the same ones for the same seed."""
    rng = random.Random(seed)  # noqa: S311 - synthetic test data, not a secret
    submission = _submission(rng)
    providers = [_billing_provider(rng) for _ in range(12)]
    billing = rng.choice(providers)
    subscriber, patient = _insured(rng)
    for number in range(1, count + 1):
        if rng.random() < 0.1:
            billing = rng.choice(providers)
        if rng.random() < 0.7:
            subscriber, patient = _insured(rng)
        yield _claim(
            rng,
            claim_id=f"{seed % 100_000:05d}{number:09d}",
            submission=submission,
            billing=billing,
            insured=(subscriber, patient),
        )


def synthetic_remittances(count: int, *, seed: int) -> Iterator[Remittance]:
    """Remittances paying ``count`` claims in all (up to 50 claims each), balanced."""
    return synthetic835.remittances(synthetic_claims(count, seed=seed), seed=seed)


def write_synthetic(
    kind: str,
    count: int,
    *,
    seed: int,
    out: BinaryIO,
    now: datetime,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write an interchange of ``count`` synthetic claims (837P) or claim payments (835).

    ``progress`` is told how many claims are done every thousand claims and
    at the end. Returns the number of bytes written.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    if count < 0:
        raise ValueError("count must not be negative")
    claims = _counted(synthetic_claims(count, seed=seed), progress)
    if kind == "837p":
        sets = professional_sets(claims, claims_per_set=_CLAIMS_PER_SET)
        functional_id = "HC"
    else:
        sets = remittance_sets(synthetic835.remittances(claims, seed=seed))
        functional_id = "HP"
    written = 0
    for chunk in iter_interchange(
        sets,
        sender=SENDER if kind == "837p" else RECEIVER,
        receiver=RECEIVER if kind == "837p" else SENDER,
        interchange_control_number=seed % 999_999_999 + 1,
        group_control_number=1,
        functional_id=functional_id,
        now=now,
    ):
        out.write(chunk)
        written += len(chunk)
    if progress is not None:
        progress(count)
    return written


def _counted(
    claims: Iterator[ProfessionalClaim], progress: Callable[[int], None] | None
) -> Iterator[ProfessionalClaim]:
    for done, claim in enumerate(claims, start=1):
        yield claim
        if progress is not None and done % _PROGRESS_EVERY == 0:
            progress(done)


# -- the parties -----------------------------------------------------------------


def _address(rng: random.Random) -> Address:
    city, state, zip_prefix = rng.choice(CITIES)
    street = f"{rng.randint(1, 9899)} {rng.choice(STREETS)}"
    return Address(street, "", city, state, f"{zip_prefix}{rng.randint(0, 99):02d}")


def _submission(rng: random.Random) -> Submission:
    submitter = Party(
        "submitter",
        "CLAIMBRIDGE BILLING SERVICE",
        id_kind="etin",
        identifier="CB" + _digits(rng, 7),
    )
    receiver = Party("receiver", "SYNTHETIC CLEARINGHOUSE", id_kind="etin", identifier=RECEIVER)
    return Submission(f"B{_digits(rng, 8)}", CREATED_ON, "1200", submitter, receiver)


def _billing_provider(rng: random.Random) -> BillingProvider:
    provider = Party(
        "billing_provider",
        f"{rng.choice(ORGANIZATIONS)} {rng.choice(('CLINIC', 'MEDICAL GROUP', 'FAMILY PRACTICE'))}",
        id_kind="npi",
        identifier=npi(rng),
        address=_address(rng),
        references=(Reference("EI", _digits(rng, 9)),),
        taxonomy="261QP2300X",
    )
    return BillingProvider(provider)


def _person(rng: random.Random, role: str, *, age: tuple[int, int], member: str = "") -> Party:
    gender = rng.choice("FM")
    first = rng.choice(FEMALE_NAMES if gender == "F" else MALE_NAMES)
    born = CREATED_ON - timedelta(days=rng.randint(age[0] * 365, age[1] * 365))
    return Party(
        role,
        rng.choice(SURNAMES),
        first_name=first,
        is_person=True,
        id_kind="member_id" if member else "",
        identifier=member,
        address=_address(rng),
        birth_date=born,
        gender=gender,
    )


def _insured(rng: random.Random) -> tuple[Subscriber, Patient | None]:
    name, payer_id, filing = rng.choice(PAYERS)
    payer = Party("payer", name, id_kind="payer_id", identifier=payer_id)
    member = rng.choice("ABHJKMW") + _digits(rng, 9)
    person = _person(rng, "subscriber", age=(22, 80), member=member)
    dependent = rng.random() < 0.25
    subscriber = Subscriber(
        person,
        payer,
        "P",
        relationship="" if dependent else "18",
        group_number=f"GRP{_digits(rng, 5)}" if filing != "MB" else "",
        claim_filing=filing,
    )
    if not dependent:
        return subscriber, None
    return subscriber, Patient(_person(rng, "patient", age=(1, 20)), "19")


# -- the claim and its lines -------------------------------------------------------


def _claim(
    rng: random.Random,
    *,
    claim_id: str,
    submission: Submission,
    billing: BillingProvider,
    insured: tuple[Subscriber, Patient | None],
) -> ProfessionalClaim:
    subscriber, patient = insured
    day = CREATED_ON - timedelta(days=rng.randint(2, 60))
    codes = rng.sample(ICD10CM, rng.randint(1, 4))
    diagnoses = tuple(
        HealthCode("ABK" if index == 0 else "ABF", code) for index, code in enumerate(codes)
    )
    place = rng.choice(("11", "11", "11", "11", "22", "02"))
    lines = _lines(rng, day, len(diagnoses))
    rendering = _person(rng, "rendering_provider", age=(30, 65))
    rendering = Party(
        "rendering_provider",
        rendering.name,
        first_name=rendering.first_name,
        is_person=True,
        id_kind="npi",
        identifier=npi(rng),
        taxonomy=rng.choice(TAXONOMIES),
    )
    dates: tuple[EventDate, ...] = ()
    if rng.random() < 0.3:
        dates = (EventDate("onset", ServicePeriod.on(day - timedelta(days=rng.randint(1, 30)))),)
    references: tuple[Reference, ...] = ()
    if rng.random() < 0.1:
        references = (Reference("G1", f"PA{_digits(rng, 8)}"),)
    return ProfessionalClaim(
        claim_id=claim_id,
        total_charge=Money(sum(line.charge.cents for line in lines)),
        place_of_service=place,
        frequency="1",
        submission=submission,
        billing_provider=billing,
        subscriber=subscriber,
        patient=patient,
        lines=lines,
        diagnoses=diagnoses,
        assignment="A",
        benefits_assigned="Y",
        release_of_information="Y",
        dates=dates,
        references=references,
        providers=(rendering,),
    )


def _lines(rng: random.Random, day: date, diagnoses: int) -> tuple[ServiceLine, ...]:
    visits = NEW_VISITS if rng.random() < 0.3 else RETURN_VISITS
    visit, visit_fee = rng.choice(visits)
    extras = rng.sample(
        EXTRA_PROCEDURES, rng.choices((0, 1, 2, 3, 4, 5), (30, 25, 20, 12, 8, 5))[0]
    )
    modifiers = ("25",) if any(code in SAME_DAY_PROCEDURES for code, *_ in extras) else ()
    period = ServicePeriod.on(day)
    lines = [
        ServiceLine(
            1,
            visit,
            Money(visit_fee),
            Decimal(1),
            modifiers=modifiers,
            diagnosis_pointers=tuple(range(1, min(diagnoses, 4) + 1)),
            service_date=period,
        )
    ]
    for number, (code, fee, code_modifiers, most_units) in enumerate(extras, start=2):
        units = rng.randint(1, most_units)
        lines.append(
            ServiceLine(
                number,
                code,
                Money(fee * units),
                Decimal(units),
                modifiers=code_modifiers,
                diagnosis_pointers=(rng.randint(1, diagnoses),),
                service_date=period,
            )
        )
    return tuple(lines)


def _digits(rng: random.Random, count: int) -> str:
    return f"{rng.randrange(10**count):0{count}d}"
