"""Deterministic synthetic 837P interchanges (005010X222A1) for the benchmarks.

    python bench/x12/generate.py --claims 10000 --seed 7 --out claims.837
    python bench/x12/generate.py --size 1G --out big.837

One interchange (ISA/IEA) with one functional group (GS/GE) of 837P
transaction sets. Each set holds at most 5,000 claims, the ceiling the
005010X222A1 front matter recommends for one ST/SE, so a large file carries
many sets. Inside a set: submitter and receiver, then billing providers
(2000A) with their subscribers (2000B), some of whom have a dependent patient
(2000C); each subscriber or patient has one to three claims (2300) with ICD-10
diagnoses (HI), onset dates, prior authorizations, referring, rendering and
service facility providers, other-payer (COB, 2320) loops, and one to six
service lines (2400: SV1 with modifiers, units and diagnosis pointers, a
service date, a line control number, an NDC for drug lines). CLM02 is the sum
of the SV102 charges; SE01, GE01 and IEA01 count what they enclose; control
numbers agree. On average a claim takes about 28 segments and 620 bytes.

Everything is synthetic (invented names, addresses and identifiers; NPIs
carry a valid Luhn check digit) and a function of the seed alone, and the
output is streamed, so a file of any size is written in bounded memory.
Standard library only.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import BinaryIO, TypeVar

T = TypeVar("T")

GUIDE = "005010X222A1"
CLAIMS_PER_SET = 5_000
CREATED = date(2025, 1, 15)
SENDER = "CBSUBMITTER"
RECEIVER = "CBRECEIVER"


def _words(text: str, sep: str | None = None) -> tuple[str, ...]:
    return tuple(text.split(sep))


LAST_NAMES = _words(
    "SMITH JOHNSON WILLIAMS BROWN JONES GARCIA MILLER DAVIS RODRIGUEZ MARTINEZ HERNANDEZ "
    "LOPEZ GONZALEZ WILSON ANDERSON THOMAS TAYLOR MOORE JACKSON MARTIN LEE PEREZ "
    "THOMPSON WHITE HARRIS SANCHEZ CLARK RAMIREZ LEWIS ROBINSON WALKER YOUNG ALLEN KING "
    "WRIGHT SCOTT TORRES NGUYEN HILL FLORES GREEN ADAMS NELSON BAKER HALL RIVERA "
    "CAMPBELL MITCHELL CARTER"
)
FEMALE_NAMES = _words(
    "MARY PATRICIA JENNIFER LINDA ELIZABETH BARBARA SUSAN JESSICA SARAH KAREN LISA NANCY "
    "BETTY SANDRA MARGARET ASHLEY KIMBERLY EMILY DONNA MICHELLE CAROL AMANDA MELISSA"
)
MALE_NAMES = _words(
    "JAMES ROBERT JOHN MICHAEL DAVID WILLIAM RICHARD JOSEPH THOMAS CHARLES CHRISTOPHER "
    "DANIEL MATTHEW ANTHONY MARK DONALD STEVEN PAUL ANDREW JOSHUA KENNETH KEVIN BRIAN"
)
STREETS = _words(
    "MAIN ST|OAK AVE|PINE ST|MAPLE AVE|CEDAR LN|ELM ST|WASHINGTON BLVD|LAKE DR|HILL RD|"
    "PARK AVE|SUNSET BLVD|RIVER RD|CHURCH ST|HIGH ST|MILL RD|SPRING ST|CENTER ST|"
    "FOREST DR",
    sep="|",
)
CITIES = (
    ("SPRINGFIELD", "IL", "627"),
    ("COLUMBUS", "OH", "432"),
    ("AUSTIN", "TX", "787"),
    ("DENVER", "CO", "802"),
    ("PORTLAND", "OR", "972"),
    ("MADISON", "WI", "537"),
    ("RALEIGH", "NC", "276"),
    ("TAMPA", "FL", "336"),
    ("PHOENIX", "AZ", "850"),
    ("ALBANY", "NY", "122"),
    ("RICHMOND", "VA", "232"),
    ("NASHVILLE", "TN", "372"),
    ("BOISE", "ID", "837"),
    ("OMAHA", "NE", "681"),
    ("TRENTON", "NJ", "086"),
    ("SACRAMENTO", "CA", "958"),
    ("LANSING", "MI", "489"),
    ("SALEM", "MA", "019"),
)
# (name, payer id, claim filing indicator code SBR09)
PAYERS = (
    ("KEYSTONE HEALTH PLAN", "KHP01", "CI"),
    ("PRAIRIE MUTUAL INSURANCE", "60991", "CI"),
    ("MEDICARE PART B CARRIER", "04412", "MB"),
    ("STATE MEDICAID PROGRAM", "SMP77", "MC"),
    ("BLUE RIVER BLUE SHIELD", "BRB42", "BL"),
    ("HARBOR HMO", "HHM10", "HM"),
    ("SUMMIT PPO NETWORK", "SPN03", "12"),
    ("LIBERTY EXCLUSIVE PROVIDERS", "LEP88", "14"),
)
PAYER_ADDRESSES = {
    payer_id: (f"PO BOX {1000 + 37 * i}", city, state, f"{prefix}{10 + i:02d}")
    for i, ((_, payer_id, _), (city, state, prefix)) in enumerate(zip(PAYERS, CITIES, strict=False))
}
PRACTICE_NAMES = _words(
    "FAMILY MEDICINE ASSOCIATES|RIVERSIDE PEDIATRICS|NORTHSIDE INTERNAL MEDICINE|"
    "VALLEY ORTHOPEDIC GROUP|LAKESHORE PHYSICAL THERAPY|CITY CARDIOLOGY PARTNERS|"
    "MEADOW DERMATOLOGY|PINE RIDGE PRIMARY CARE|ELM STREET CLINIC|HARBOR MEDICAL GROUP",
    sep="|",
)
FACILITY_NAMES = _words(
    "GENERAL HOSPITAL|COMMUNITY SURGERY CENTER|REGIONAL MEDICAL CENTER|"
    "SAINT LUKE NURSING FACILITY|MERCY EMERGENCY DEPARTMENT",
    sep="|",
)
# (taxonomy of the practice, taxonomy of its clinicians)
TAXONOMIES = (
    ("193200000X", "207Q00000X"),
    ("193400000X", "208000000X"),
    ("193200000X", "207R00000X"),
    ("193400000X", "207X00000X"),
    ("193200000X", "225100000X"),
    ("193400000X", "207RC0000X"),
)
PLACES_OF_SERVICE = ("11",) * 12 + ("22", "22", "02", "12", "23", "31", "19", "81")
FACILITY_PLACES = frozenset({"22", "23", "31", "19"})
DIAGNOSES = _words(
    "E119 I10 E785 J069 M545 M25511 M25562 Z0000 Z23 R0789 J189 N390 K219 F419 F329 "
    "G4700 M1711 E039 R519 L600 B351 Z1231 R059 J45909 E6601 M7918 S83511A S93401A H6690 "
    "R1084"
)
# (procedure code, charge in cents for one unit, modifier choices, most units, NDC)
PROCEDURES: tuple[tuple[str, int, tuple[tuple[str, ...], ...], int, str], ...] = (
    ("99213", 13_000, ((), (), ("25",), ("95",)), 1, ""),
    ("99214", 19_500, ((), (), ("25",)), 1, ""),
    ("99203", 17_000, ((),), 1, ""),
    ("99204", 26_000, ((), ("25",)), 1, ""),
    ("99212", 8_500, ((), ("95",)), 1, ""),
    ("36415", 1_500, ((),), 1, ""),
    ("80053", 4_500, ((), ("90",)), 1, ""),
    ("85025", 3_000, ((),), 1, ""),
    ("81002", 1_200, ((),), 1, ""),
    ("93000", 6_500, ((),), 1, ""),
    ("71046", 11_000, ((), ("26",), ("TC",)), 1, ""),
    ("73030", 9_500, (("RT",), ("LT",)), 1, ""),
    ("97110", 4_500, (("GP",), ("GP", "59")), 4, ""),
    ("97140", 4_200, (("GP",), ("GP", "59")), 3, ""),
    ("90471", 2_800, ((),), 1, ""),
    ("90686", 3_500, ((),), 1, ""),
    ("20610", 21_000, (("RT",), ("LT",), ("50",)), 1, ""),
    ("11721", 6_500, ((), ("Q7",)), 1, ""),
    ("99395", 22_000, ((),), 1, ""),
    ("96372", 4_000, ((), ("59",)), 1, ""),
    ("J1100", 300, ((),), 10, "63323050601"),
    ("J3301", 450, ((),), 4, "00003029305"),
    ("J0696", 1_800, ((),), 4, "60505075104"),
)
LINE_COUNT_WEIGHTS = (16, 17, 17, 17, 17, 16)  # one to six lines; about 3.5 on average


@dataclass(frozen=True, slots=True)
class Summary:
    """What was written: counts a reader of the file must reproduce."""

    claims: int
    lines: int
    sets: int
    segments: int
    bytes: int


@dataclass(frozen=True, slots=True)
class Provider:
    name: str
    npi: str
    taxonomy: str
    clinician_taxonomy: str
    address: tuple[str, str, str, str]
    tax_id: str
    clinicians: tuple[tuple[str, str, str], ...]  # (last, first, npi)
    fee_factor: float
    pay_to: tuple[str, str, str, str] | None


def npi_check_digit(nine: str) -> str:
    """The Luhn check digit of an NPI, computed over the prefix 80840 + nine digits."""
    total = 0
    for i, ch in enumerate(reversed("80840" + nine)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return str((10 - total % 10) % 10)


def money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


@lru_cache(maxsize=4096)
def d8(day: date) -> str:
    return day.strftime("%Y%m%d")


class QuickRandom(random.Random):
    """Mersenne Twister with float-based draws, cheaper than the exact integer ones.

    The bias of ``int(random() * n)`` is far below anything a benchmark file notices.
    """

    def choice(self, seq: Sequence[T]) -> T:
        return seq[int(self.random() * len(seq))]

    def randint(self, a: int, b: int) -> int:
        return a + int(self.random() * (b - a + 1))

    def randrange(self, start: int, stop: int | None = None) -> int:  # type: ignore[override]
        if stop is None:
            start, stop = 0, start
        return start + int(self.random() * (stop - start))


class Synthesizer:
    """Draws the parties and claims of a file from one seeded random stream."""

    def __init__(self, seed: int) -> None:
        # Synthetic test data, not secrets: a seeded Mersenne Twister is the point.
        self.rng = QuickRandom(seed)
        self.member_serial = 0
        self.claim_serial = 0
        self.line_serial = 0
        self.providers = tuple(self.provider(i) for i in range(24))

    def npi(self) -> str:
        nine = str(self.rng.choice("12")) + "".join(self.rng.choices("0123456789", k=8))
        return nine + npi_check_digit(nine)

    def address(self, *, zip9: bool = False) -> tuple[str, str, str, str]:
        rng = self.rng
        city, state, prefix = rng.choice(CITIES)
        postal = prefix + f"{rng.randrange(100):02d}"
        if zip9 or rng.random() < 0.4:
            postal += f"{rng.randrange(1, 10000):04d}"
        return f"{rng.randrange(1, 9999)} {rng.choice(STREETS)}", city, state, postal

    def person(self) -> tuple[str, str, str]:
        sex = self.rng.choice("FM")
        first = self.rng.choice(FEMALE_NAMES if sex == "F" else MALE_NAMES)
        return self.rng.choice(LAST_NAMES), first, sex

    def provider(self, index: int) -> Provider:
        rng = self.rng
        practice, clinician = rng.choice(TAXONOMIES)
        clinicians = tuple(
            (rng.choice(LAST_NAMES), self.person()[1], self.npi()) for _ in range(rng.randint(2, 8))
        )
        return Provider(
            name=f"{rng.choice(PRACTICE_NAMES)} {index + 1}",
            npi=self.npi(),
            taxonomy=practice if rng.random() < 0.7 else clinician,
            clinician_taxonomy=clinician,
            address=self.address(zip9=True),
            tax_id=f"{rng.randrange(10, 99)}{rng.randrange(10**7):07d}",
            clinicians=clinicians,
            fee_factor=rng.uniform(0.9, 1.4),
            pay_to=self.address(zip9=True) if rng.random() < 0.25 else None,
        )

    def member_id(self) -> str:
        self.member_serial += 1
        return f"{self.rng.choice('ABCDHJKMW')}{self.member_serial:09d}"

    def service_date(self) -> date:
        return CREATED - timedelta(days=self.rng.randint(3, 120))


def _fmt_address(address: tuple[str, str, str, str]) -> list[str]:
    street, city, state, postal = address
    return [f"N3*{street}", f"N4*{city}*{state}*{postal}"]


class SetWriter:
    """Appends segments to the open transaction set and keeps the counts."""

    def __init__(self, out: BinaryIO, *, newline: bool) -> None:
        self.out = out
        self.terminator = "~\n" if newline else "~"
        self.set_segments = 0
        self.segments = 0
        self.bytes = 0

    def write(self, segments: list[str]) -> None:
        text = self.terminator.join(segments) + self.terminator
        data = text.encode("ascii")
        self.out.write(data)
        self.bytes += len(data)
        self.set_segments += len(segments)
        self.segments += len(segments)


class ClaimWriter:
    """Turns the synthesizer's draws into the loops of 005010X222A1."""

    def __init__(self, synth: Synthesizer) -> None:
        self.synth = synth

    def billing_provider(self, hl: int, provider: Provider) -> list[str]:
        segs = [
            f"HL*{hl}**20*1",
            f"PRV*BI*PXC*{provider.taxonomy}",
            f"NM1*85*2*{provider.name}*****XX*{provider.npi}",
            *_fmt_address(provider.address),
            f"REF*EI*{provider.tax_id}",
        ]
        if provider.pay_to is not None:
            segs += ["NM1*87*2", *_fmt_address(provider.pay_to)]
        return segs

    def subscriber(
        self, hl: int, parent: int, payer: tuple[str, str, str], *, dependent: bool
    ) -> tuple[list[str], str]:
        """The 2000B loop, and the subscriber's last name for a dependent to share."""
        synth, rng = self.synth, self.synth.rng
        last, first, sex = synth.person()
        relationship = "" if dependent else "18"
        group = f"GRP{rng.randrange(10**6):06d}" if payer[2] in {"CI", "BL", "12", "14"} else ""
        segs = [
            f"HL*{hl}*{parent}*22*{1 if dependent else 0}",
            f"SBR*P*{relationship}*{group}******{payer[2]}",
            f"NM1*IL*1*{last}*{first}*{rng.choice('ABCDEJKLMR')}***MI*{synth.member_id()}",
            *_fmt_address(synth.address()),
        ]
        if not dependent:
            born = date(rng.randint(1938, 2004), rng.randint(1, 12), rng.randint(1, 28))
            segs.append(f"DMG*D8*{d8(born)}*{sex}")
        segs.append(f"NM1*PR*2*{payer[0]}*****PI*{payer[1]}")
        if rng.random() < 0.5:
            segs += _fmt_address(PAYER_ADDRESSES[payer[1]])
        return segs, last

    def patient(self, hl: int, parent: int, subscriber_last: str) -> list[str]:
        synth, rng = self.synth, self.synth.rng
        _, first, sex = synth.person()
        child = rng.random() < 0.7
        born_year = rng.randint(2006, 2022) if child else rng.randint(1945, 2003)
        born = date(born_year, rng.randint(1, 12), rng.randint(1, 28))
        return [
            f"HL*{hl}*{parent}*23*0",
            f"PAT*{'19' if child else '01'}",
            f"NM1*QC*1*{subscriber_last}*{first}",
            *_fmt_address(synth.address()),
            f"DMG*D8*{d8(born)}*{sex}",
        ]

    def claim(self, provider: Provider, payer: tuple[str, str, str]) -> list[str]:
        synth, rng = self.synth, self.synth.rng
        synth.claim_serial += 1
        place = rng.choice(PLACES_OF_SERVICE)
        diagnoses = rng.sample(DIAGNOSES, k=rng.choice((1, 1, 2, 2, 3, 4)))
        seen = synth.service_date()
        lines, total = self.service_lines(provider, diagnoses, seen)
        frequency = "7" if rng.random() < 0.04 else "1"
        segs = [f"CLM*PCN{synth.claim_serial:09d}*{money(total)}***{place}:B:{frequency}*Y*A*Y*Y"]
        if rng.random() < 0.3:
            segs.append(f"DTP*431*D8*{d8(seen - timedelta(days=rng.randint(1, 60)))}")
        if rng.random() < 0.1:
            segs.append(f"AMT*F5*{money(rng.choice((1000, 2000, 2500, 4000)))}")
        if rng.random() < 0.2:
            segs.append(f"REF*G1*PA{rng.randrange(10**8):08d}")
        if frequency == "7":
            segs.append(f"REF*F8*PAYER{rng.randrange(10**10):010d}")
        if rng.random() < 0.5:
            segs.append(f"REF*D9*CH{synth.claim_serial:012d}")
        if rng.random() < 0.4:
            segs.append(f"REF*EA*MR{rng.randrange(10**7):07d}")
        if rng.random() < 0.05:
            segs.append("NTE*ADD*PATIENT SEEN FOR FOLLOW UP")
        codes = [f"ABK:{diagnoses[0]}"] + [f"ABF:{code}" for code in diagnoses[1:]]
        segs.append("HI*" + "*".join(codes))
        segs += self.claim_providers(provider, place)
        if rng.random() < 0.1:
            segs += self.other_payer(payer, total, seen)
        return segs + lines

    def claim_providers(self, provider: Provider, place: str) -> list[str]:
        synth, rng = self.synth, self.synth.rng
        segs = []
        if rng.random() < 0.25:
            last, first, _ = synth.person()
            segs.append(f"NM1*DN*1*{last}*{first}****XX*{synth.npi()}")
        if rng.random() < 0.7:
            last, first, npi = rng.choice(provider.clinicians)
            segs += [
                f"NM1*82*1*{last}*{first}****XX*{npi}",
                f"PRV*PE*PXC*{provider.clinician_taxonomy}",
            ]
        if place in FACILITY_PLACES:
            name = rng.choice(FACILITY_NAMES)
            segs += [f"NM1*77*2*{name}*****XX*{synth.npi()}", *_fmt_address(synth.address())]
        return segs

    def other_payer(self, payer: tuple[str, str, str], total: int, seen: date) -> list[str]:
        synth, rng = self.synth, self.synth.rng
        other = rng.choice([p for p in PAYERS if p != payer])
        last, first, _ = synth.person()
        paid = int(total * rng.uniform(0.2, 0.8))
        return [
            f"SBR*S*18*******{other[2]}",
            f"AMT*D*{money(paid)}",
            "OI***Y***Y",
            f"NM1*IL*1*{last}*{first}****MI*{synth.member_id()}",
            f"NM1*PR*2*{other[0]}*****PI*{other[1]}",
            f"DTP*573*D8*{d8(seen + timedelta(days=rng.randint(1, 3)))}",
        ]

    def service_lines(
        self, provider: Provider, diagnoses: list[str], seen: date
    ) -> tuple[list[str], int]:
        synth, rng = self.synth, self.synth.rng
        count = rng.choices(range(1, 7), weights=LINE_COUNT_WEIGHTS)[0]
        segs: list[str] = []
        total = 0
        for number in range(1, count + 1):
            code, unit_cents, modifier_choices, most_units, ndc = rng.choice(PROCEDURES)
            units = rng.randint(1, most_units)
            charge = round(unit_cents * provider.fee_factor / 100) * 100 * units
            total += charge
            procedure = ":".join(("HC", code, *rng.choice(modifier_choices)))
            pointers = ":".join(str(i + 1) for i in range(min(len(diagnoses), rng.randint(1, 4))))
            synth.line_serial += 1
            segs += [
                f"LX*{number}",
                f"SV1*{procedure}*{money(charge)}*UN*{units}***{pointers}",
                f"DTP*472*D8*{d8(seen)}",
                f"REF*6R*LN{synth.line_serial:010d}",
            ]
            if ndc:
                segs += [f"LIN**N4*{ndc}", f"CTP****{units}*UN"]
        return segs, total


def _envelope_head(control: int) -> list[str]:
    created = CREATED
    return [
        f"ISA*00*{'':10}*00*{'':10}*ZZ*{SENDER:15}*ZZ*{RECEIVER:15}*"
        f"{created:%y%m%d}*1200*^*00501*{control:09d}*0*T*:",
        f"GS*HC*{SENDER}*{RECEIVER}*{d8(created)}*1200*{control % 10**9}*X*{GUIDE}",
    ]


def _set_head(number: int) -> list[str]:
    return [
        f"ST*837*{number:04d}*{GUIDE}",
        f"BHT*0019*00*B{number:07d}*{d8(CREATED)}*1200*CH",
        "NM1*41*2*CLAIMBRIDGE SYNTHETIC SUBMITTER*****46*CBSUB0001",
        "PER*IC*EDI DESK*TE*5555550100",
        "NM1*40*2*CLEARINGHOUSE EXAMPLE*****46*CBRCV0001",
    ]


def write_837p(
    out: BinaryIO,
    *,
    claims: int | None = None,
    target_bytes: int | None = None,
    seed: int = 0,
    claims_per_set: int = CLAIMS_PER_SET,
    newline: bool = False,
) -> Summary:
    """Stream one 837P interchange to ``out``: ``claims`` claims, or at least ``target_bytes``."""
    if (claims is None) == (target_bytes is None):
        raise ValueError("give exactly one of claims and target_bytes")
    synth = Synthesizer(seed)
    writer = SetWriter(out, newline=newline)
    control = 100_000_000 + seed % 800_000_000
    writer.write(_envelope_head(control))

    def room() -> int:
        """How many more claims may be written."""
        if claims is not None:
            return claims - synth.claim_serial
        return claims_per_set if writer.bytes < (target_bytes or 0) else 0

    sets = 0
    while room() > 0:
        sets += 1
        _write_set(writer, synth, number=sets, claims_per_set=claims_per_set, room=room)
    writer.write([f"GE*{sets}*{control % 10**9}", f"IEA*1*{control:09d}"])
    out.flush()
    return Summary(
        claims=synth.claim_serial,
        lines=synth.line_serial,
        sets=sets,
        segments=writer.segments,
        bytes=writer.bytes,
    )


def _write_set(
    writer: SetWriter,
    synth: Synthesizer,
    *,
    number: int,
    claims_per_set: int,
    room: Callable[[], int],
) -> None:
    rng = synth.rng
    claims = ClaimWriter(synth)
    writer.set_segments = 0
    writer.write(_set_head(number))
    last_claim = synth.claim_serial + claims_per_set

    def set_room() -> int:
        return min(room(), last_claim - synth.claim_serial)

    hl = 0
    while set_room() > 0:
        provider = rng.choice(synth.providers)
        hl += 1
        provider_hl = hl
        writer.write(claims.billing_provider(hl, provider))
        for _ in range(rng.randint(10, 120)):
            if (allowed := set_room()) <= 0:
                break
            hl = _write_subscriber(
                writer, claims, provider, parent=provider_hl, hl=hl + 1, allowed=allowed
            )
    writer.write([f"SE*{writer.set_segments + 1}*{number:04d}"])


def _write_subscriber(
    writer: SetWriter,
    claims: ClaimWriter,
    provider: Provider,
    *,
    parent: int,
    hl: int,
    allowed: int,
) -> int:
    """Write one 2000B (and perhaps its 2000C) with its claims; return the last HL number."""
    rng = claims.synth.rng
    payer = rng.choice(PAYERS)
    dependent = rng.random() < 0.3
    segs, last_name = claims.subscriber(hl, parent, payer, dependent=dependent)
    last_hl = hl
    if dependent:
        last_hl = hl + 1
        segs += claims.patient(last_hl, hl, last_name)
    for _ in range(min(allowed, rng.choice((1, 1, 1, 1, 1, 2, 2, 3)))):
        segs += claims.claim(provider, payer)
    writer.write(segs)
    return last_hl


def parse_size(text: str) -> int:
    """``1G``, ``200M``, ``64K`` or a plain number of bytes (binary multiples)."""
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    text = text.strip().upper().removesuffix("B")
    if text and text[-1] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(text)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    amount = parser.add_mutually_exclusive_group()
    amount.add_argument("--claims", type=int, help="number of claims (default 10000)")
    amount.add_argument("--size", type=parse_size, help="at least this many bytes, e.g. 1G")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--claims-per-set", type=int, default=CLAIMS_PER_SET)
    parser.add_argument("--newline", action="store_true", help="a line break after each ~")
    parser.add_argument("--out", help="file to write (default: standard output)")
    args = parser.parse_args(argv)
    claims = args.claims if args.claims is not None or args.size is not None else 10_000
    options = {
        "claims": claims,
        "target_bytes": args.size,
        "seed": args.seed,
        "claims_per_set": args.claims_per_set,
        "newline": args.newline,
    }
    if args.out:
        with open(args.out, "wb") as out:
            summary = write_837p(out, **options)
    else:
        summary = write_837p(sys.stdout.buffer, **options)
    print(summary, file=sys.stderr)


if __name__ == "__main__":
    main()
