"""Synthetic, deterministic demo data for one primary-care practice.

``generate_practice`` builds a practice with providers, patients, coverages,
encounters and professional claims (the content of an 837P, 005010X222A1)
that look like what a small family-medicine group sends to its billing
company. It is pure: no database, no clock, no global random state. The same
arguments give the same practice for a given Faker version (the lock file
pins it).

No real person can appear. Names and street addresses come from Faker's
lists; SSNs come from the 9xx area, which the SSA never issues, with a group
number outside the ranges used for ITINs; phone numbers come from the
555-0100 to 555-0199 block reserved for fiction. NPIs, MBIs and member ids
are random and well formed; they may by chance equal a real one, which is
why demo claims must never leave the demo.

Figures marked "approximate" are rounded from public sources named beside
them; they are meant to give the scrubber and the KPIs realistic shapes, not
to be cited.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import random
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Literal, TypeAlias, TypeVar

from faker import Faker

from claimbridge.errors import ValidationFailed
from claimbridge.types import ICD10CM, NPI, Modifier, PlaceOfService, ProcedureCode, check_digit

__all__ = [
    "DemoAddress",
    "DemoClaim",
    "DemoCoverage",
    "DemoEncounter",
    "DemoPatient",
    "DemoPractice",
    "DemoProvider",
    "DemoServiceLine",
    "generate_practice",
]

Sex: TypeAlias = Literal["F", "M", "U"]
Relationship: TypeAlias = Literal["self", "spouse", "child"]
VisitKind: TypeAlias = Literal["problem", "preventive", "telehealth", "nurse"]
_PayerKind: TypeAlias = Literal["medicare", "medicaid", "chip", "commercial"]
_T = TypeVar("_T")


# --- The values handed back -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DemoAddress:
    line: str
    city: str
    state: str
    # Nine digits (ZIP+4): the 837P billing provider address requires them.
    postal_code: str


@dataclass(frozen=True, slots=True)
class DemoProvider:
    npi: str
    given_name: str
    family_name: str
    specialty: str
    taxonomy_code: str


@dataclass(frozen=True, slots=True)
class DemoPatient:
    key: str
    mrn: str
    given_name: str
    family_name: str
    birth_date: date
    sex: Sex
    address_line: str
    city: str
    state: str
    postal_code: str
    phone: str
    ssn: str | None
    deceased_on: date | None


@dataclass(frozen=True, slots=True)
class DemoCoverage:
    patient_key: str
    payer_name: str
    payer_id: str
    member_id: str
    group_number: str | None
    relationship: Relationship
    priority: int
    effective_from: date


@dataclass(frozen=True, slots=True)
class DemoEncounter:
    key: str
    patient_key: str
    provider_npi: str
    date_of_service: date
    place_of_service: str
    visit_kind: VisitKind
    documentation: str
    is_new_patient: bool


@dataclass(frozen=True, slots=True)
class DemoServiceLine:
    line_number: int
    procedure_code: str
    modifiers: tuple[str, ...]
    units: int
    charge_cents: int
    date_of_service: date
    diagnosis_pointers: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class DemoClaim:
    key: str
    patient_key: str
    encounter_key: str
    coverage_priority: int | None
    billing_npi: str
    rendering_npi: str
    place_of_service: str
    frequency_code: str
    diagnoses: tuple[str, ...]
    lines: tuple[DemoServiceLine, ...]
    total_charge_cents: int
    patient_account: str

    def __post_init__(self) -> None:
        # CLM02 must equal the sum of SV102; a demo claim that broke this
        # would teach the scrubber and the KPIs the wrong thing.
        if self.total_charge_cents != sum(line.charge_cents for line in self.lines):
            raise ValidationFailed("Claim total differs from the sum of its lines.", where="CLM02")


@dataclass(frozen=True, slots=True)
class DemoPractice:
    key: str
    name: str
    group_npi: str
    tax_id: str
    address: DemoAddress
    providers: tuple[DemoProvider, ...]
    patients: tuple[DemoPatient, ...]
    coverages: tuple[DemoCoverage, ...]
    encounters: tuple[DemoEncounter, ...]
    claims: tuple[DemoClaim, ...]


# --- Codes, checked by the shared types once ----------------------------------------


@functools.cache
def _diagnosis(dotted: str) -> str:
    # Tables below are written dotted, as people read them; claims carry the
    # canonical undotted form that ICD10CM (and X12) use.
    return str(ICD10CM.parse(dotted))


@functools.cache
def _procedure(code: str) -> str:
    return str(ProcedureCode.parse(code))


@functools.cache
def _modifier(code: str) -> str:
    return str(Modifier.parse(code))


@functools.cache
def _place(code: str) -> str:
    return str(PlaceOfService.parse(code))


# --- Tables ---------------------------------------------------------------------

# NUCC Health Care Provider Taxonomy codes. Pediatricians see patients up to
# 18, internists from 18; family physicians see everyone.
_SPECIALTIES: tuple[tuple[str, str, int, int], ...] = (
    ("Family Medicine", "207Q00000X", 0, 200),
    ("Internal Medicine", "207R00000X", 18, 200),
    ("Pediatrics", "208000000X", 0, 18),
    ("Family Medicine", "207Q00000X", 0, 200),
)

# Age bands of a family-medicine panel, approximate (NAMCS office-visit age
# mix, family and general practice): (youngest, oldest, weight).
_AGE_BANDS: tuple[tuple[int, int, int], ...] = (
    (0, 4, 6),
    (5, 17, 12),
    (18, 44, 30),
    (45, 64, 30),
    (65, 79, 16),
    (80, 95, 6),
)

# Chronic conditions and their prevalence among children, adults under 65
# and adults 65 and over; approximate (CDC/NHANES orders of magnitude).
# F32.A, M54.50 and R05.9 below took effect with ICD-10-CM FY2022
# (2021-10-01), so demo periods should start after that.
_CHRONIC: tuple[tuple[str, str, tuple[float, float, float]], ...] = (
    ("I10", "hypertension", (0.0, 0.25, 0.60)),
    ("E78.5", "hyperlipidemia", (0.0, 0.20, 0.45)),
    ("E11.9", "type 2 diabetes", (0.0, 0.09, 0.25)),
    ("E66.9", "obesity", (0.08, 0.25, 0.20)),
    ("F41.1", "generalized anxiety disorder", (0.03, 0.10, 0.06)),
    ("F32.A", "depression", (0.02, 0.08, 0.06)),
    ("J45.909", "asthma", (0.08, 0.07, 0.05)),
    ("K21.9", "reflux", (0.01, 0.10, 0.15)),
    ("E03.9", "hypothyroidism", (0.0, 0.05, 0.12)),
)
_CHRONIC_NAMES = {code: name for code, name, _ in _CHRONIC}


@dataclass(frozen=True, slots=True)
class _Acute:
    code: str
    min_age: int
    max_age: int
    weight: int
    # A same-day injection some clinicians give for it: (chance, drug key).
    injection: tuple[float, str] | None = None


# Acute reasons for a visit and how often a primary-care office sees them,
# approximate (NAMCS principal reasons for visit).
_ACUTE: tuple[_Acute, ...] = (
    _Acute("J06.9", 0, 200, 30),
    _Acute("R05.9", 0, 200, 15),
    _Acute("J02.9", 3, 200, 10),
    _Acute("H66.90", 0, 12, 10),
    _Acute("J01.90", 5, 200, 8),
    _Acute("N39.0", 5, 200, 5, (0.08, "ceftriaxone")),
    _Acute("M54.50", 18, 200, 12, (0.35, "ketorolac")),
    _Acute("R51.9", 12, 200, 5, (0.25, "ketorolac")),
    _Acute("J30.2", 12, 200, 6, (0.30, "triamcinolone")),
    _Acute("J18.9", 18, 200, 4, (0.40, "ceftriaxone")),
)

# What the note says for each acute reason: complaint, office finding, plan.
_ACUTE_NOTES: dict[str, tuple[str, str, str]] = {
    "J06.9": (
        "nasal congestion and sore throat",
        "Oropharynx mildly erythematous; lungs clear.",
        "Supportive care advised.",
    ),
    "R05.9": (
        "a dry cough",
        "Lungs clear to auscultation; no distress.",
        "Supportive care; return if fever develops.",
    ),
    "J02.9": (
        "a sore throat",
        "Tonsils erythematous without exudate; rapid strep negative.",
        "Supportive care advised.",
    ),
    "H66.90": (
        "ear pain and fever",
        "Right tympanic membrane bulging and erythematous.",
        "Amoxicillin prescribed.",
    ),
    "J01.90": (
        "facial pressure and congestion",
        "Maxillary sinus tenderness; afebrile.",
        "Nasal steroid started.",
    ),
    "N39.0": (
        "dysuria and urinary frequency",
        "Mild suprapubic tenderness; no flank tenderness.",
        "Antibiotic prescribed; urine culture sent.",
    ),
    "M54.50": (
        "low back pain after lifting",
        "Paraspinal tenderness; neurologic exam normal.",
        "Stretching and activity as tolerated.",
    ),
    "R51.9": (
        "a headache",
        "Neurologic exam normal.",
        "Hydration and analgesics advised.",
    ),
    "J30.2": (
        "sneezing and itchy eyes",
        "Pale, boggy nasal mucosa.",
        "Antihistamine advised.",
    ),
    "J18.9": (
        "fever and a productive cough",
        "Crackles at the right base; oxygen saturation 95%.",
        "Oral antibiotic started; recheck in 2 days.",
    ),
}


@dataclass(frozen=True, slots=True)
class _Drug:
    code: str
    units: int
    sentence: str
    min_age: int


# HCPCS J-codes bill per dose unit: J1885 per 15 mg, J3301 per 10 mg,
# J0696 per 250 mg; the units below give the usual adult doses.
_DRUGS = {
    "ketorolac": _Drug("J1885", 2, "Ketorolac 30 mg IM given; tolerated well.", 18),
    "triamcinolone": _Drug("J3301", 4, "Triamcinolone 40 mg IM given; tolerated well.", 12),
    "ceftriaxone": _Drug("J0696", 4, "Ceftriaxone 1 g IM given; no reaction.", 0),
}

# Labs a clinician orders when following each condition: (code, chance).
_FOLLOW_UP_LABS: dict[str, tuple[tuple[str, float], ...]] = {
    "E11.9": (("83036", 0.70), ("80053", 0.20)),
    "E78.5": (("80061", 0.35),),
    "I10": (("80053", 0.25),),
    "E03.9": (("84443", 0.50),),
    "N39.0": (("81002", 0.90),),
}
# Tests drawn from a vein; urinalysis (81002) is not, so it gets no 36415.
_BLOOD_TESTS = frozenset({"80053", "80061", "85025", "83036", "84443"})

# Evaluation and management levels, approximate, from the CMS Medicare Part B
# national summary for family practice (2021-2023, after the office E/M
# documentation changes moved volume from 99213 to 99214).
_NEW_EM = (("99202", 4), ("99203", 40), ("99204", 47), ("99205", 9))
_ESTABLISHED_EM = (("99211", 2), ("99212", 6), ("99213", 44), ("99214", 42), ("99215", 6))
_OFFICE_EM = frozenset(code for code, _ in _NEW_EM + _ESTABLISHED_EM)

# Preventive medicine codes by the age they start at: new, established.
_PREVENTIVE = (
    (65, "99387", "99397"),
    (40, "99386", "99396"),
    (18, "99385", "99395"),
    (12, "99384", "99394"),
    (5, "99383", "99393"),
    (1, "99382", "99392"),
    (0, "99381", "99391"),
)

_PREVENTIVE_CODES = frozenset(
    {
        *(code for _, new, established in _PREVENTIVE for code in (new, established)),
        "G0438",
        "G0439",
    }
)
_INJECTIONS = frozenset({"96372"})
_FLU_VACCINES = frozenset({"90662", "90686"})
_VACCINE_NAMES = {
    "90662": "influenza",
    "90686": "influenza",
    "90715": "Tdap",
    "90732": "pneumococcal",
}

# Same-day services that NCCI pairs with the office E/M codes, so the E/M
# needs modifier 25 to be paid as a significant, separately identifiable one.
_NEEDS_MODIFIER_25 = _PREVENTIVE_CODES | _INJECTIONS | {"90471", "90472", "G0008", "G0009"}

# Charges in cents, the practice's own fee schedule: approximate, about twice
# the 2024 Medicare physician fee schedule, as practice charge masters often are.
_FEES = {
    **{"99202": 11_000, "99203": 16_500, "99204": 25_000, "99205": 32_000},
    **{"99211": 4_500, "99212": 9_000, "99213": 13_500, "99214": 19_500, "99215": 26_500},
    **{"99381": 22_000, "99382": 23_000, "99383": 23_000, "99384": 25_000},
    **{"99385": 25_000, "99386": 28_000, "99387": 30_000},
    **{"99391": 19_000, "99392": 20_000, "99393": 20_000, "99394": 21_500},
    **{"99395": 22_000, "99396": 24_000, "99397": 26_000},
    **{"G0438": 34_000, "G0439": 23_000},
    **{"36415": 1_500, "80053": 4_500, "80061": 5_500, "85025": 3_000},
    **{"83036": 4_000, "84443": 6_000, "81002": 1_500},
    **{"96372": 4_500, "J1885": 600, "J3301": 500, "J0696": 1_500},
    **{"90471": 3_500, "90472": 2_500, "G0008": 3_500, "G0009": 3_500},
    **{"90686": 4_500, "90662": 8_500, "90715": 6_500, "90732": 14_000},
}


@dataclass(frozen=True, slots=True)
class _Payer:
    name: str
    payer_id: str
    kind: _PayerKind
    # Member id shape: N a digit, P a digit 1-9, A a letter, C a letter or
    # digit; any other character stands for itself.
    member_pattern: str
    group_pattern: str | None = None


@dataclass(frozen=True, slots=True)
class _Region:
    state: str
    area_codes: tuple[str, ...]
    medicare: _Payer
    medicaid: _Payer
    chip: _Payer
    blues: _Payer


# The Medicare Beneficiary Identifier, per the CMS "MBI format" note:
# position 1 is 1-9, 2/5/8/9 letters, 3/6 letters or digits, the rest digits;
# letters exclude S, L, O, I, B and Z.
_MBI_PATTERN = "PACNACNAANN"
_MBI_LETTERS = "ACDEFGHJKMNPQRTUVWXY"

# Payer ids are shaped like clearinghouse payer ids; the Medicare ids are the
# MAC contractor numbers for Part B in each state. The others are approximate
# and differ between clearinghouses; member id shapes are approximate too.
_REGIONS: tuple[_Region, ...] = (
    _Region(
        "TX",
        ("512", "737", "254"),
        _Payer("Medicare Part B Texas (Novitas JH)", "04412", "medicare", _MBI_PATTERN),
        _Payer("Texas Medicaid", "TXMCD", "medicaid", "NNNNNNNNN"),
        _Payer("Texas CHIP", "TXCHP", "chip", "NNNNNNNNN"),
        _Payer("Blue Cross Blue Shield of Texas", "84980", "commercial", "AAANNNNNNNNN", "NNNNNN"),
    ),
    _Region(
        "PA",
        ("412", "724", "814"),
        _Payer("Medicare Part B Pennsylvania (Novitas JL)", "12502", "medicare", _MBI_PATTERN),
        _Payer("Pennsylvania Medical Assistance", "PAMCD", "medicaid", "NNNNNNNNNN"),
        _Payer("Pennsylvania CHIP", "PACHP", "chip", "NNNNNNNNNN"),
        _Payer("Highmark Blue Cross Blue Shield", "54771", "commercial", "AAANNNNNNNNN", "NNNNNNN"),
    ),
    _Region(
        "OH",
        ("614", "740", "937"),
        _Payer("Medicare Part B Ohio (CGS J15)", "15202", "medicare", _MBI_PATTERN),
        _Payer("Ohio Medicaid", "OHMCD", "medicaid", "NNNNNNNNNNNN"),
        # Ohio runs CHIP as an expansion of Medicaid: same payer, same ids.
        _Payer("Ohio Medicaid CHIP", "OHMCD", "chip", "NNNNNNNNNNNN"),
        _Payer(
            "Anthem Blue Cross Blue Shield Ohio", "00834", "commercial", "AAANNNNNNNNN", "NNNNNN"
        ),
    ),
)

# National commercial payers with their common clearinghouse ids and a share
# of commercial lives, approximate (the regional Blues plan joins them).
_COMMERCIAL: tuple[tuple[_Payer, int], ...] = (
    (_Payer("UnitedHealthcare", "87726", "commercial", "NNNNNNNNN", "NNNNNN"), 28),
    (_Payer("Aetna", "60054", "commercial", "WNNNNNNNNN", "NNNNNNN"), 15),
    (_Payer("Cigna", "62308", "commercial", "UNNNNNNNNNN", "NNNNNNN"), 12),
    (_Payer("Humana", "61101", "commercial", "HNNNNNNNN", "NNNNNN"), 8),
)
_BLUES_WEIGHT = 37

# EIN prefixes the IRS does not assign, so a demo tax id names no business.
_UNASSIGNED_EIN_PREFIXES = ("07", "08", "09", "17", "18", "19", "28", "29", "49", "69", "70")

_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,15}")
_MAX_PATIENTS = 99_999  # keys carry five digits
_MAX_DIAGNOSES = 4  # what one service line can point at (SV107)
_MAX_SENTENCES = 3  # a documentation excerpt, not a whole note
_STABLE = ("Doing well on current medications.", "Symptoms stable since last visit.")


# --- Small helpers ----------------------------------------------------------------


def _mixed_seed(seed: int, practice_key: str) -> int:
    # sha256 rather than hash(): str hashes change with every interpreter run.
    digest = hashlib.sha256(f"{seed}\x1f{practice_key}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def _weighted(rng: random.Random, choices: Sequence[tuple[_T, float]]) -> _T:
    values = [value for value, _ in choices]
    weights = [weight for _, weight in choices]
    return rng.choices(values, weights)[0]


def _age(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


_PATTERN_POOLS = {
    "N": "0123456789",
    "P": "123456789",
    "A": _MBI_LETTERS,
    "C": "0123456789" + _MBI_LETTERS,
}


def _fill(rng: random.Random, pattern: str) -> str:
    pools = _PATTERN_POOLS
    return "".join(rng.choice(pools[char]) if char in pools else char for char in pattern)


def _listed(words: Iterable[str]) -> str:
    *rest, last = words
    return f"{', '.join(rest)} and {last}" if rest else last


def _weekdays(start: date, end: date) -> list[date]:
    days = (start + timedelta(days=offset) for offset in range((end - start).days + 1))
    return [day for day in days if day.weekday() < 5]


def _new_npi(rng: random.Random, taken: set[str]) -> str:
    # NPIs start with 1 or 2; the set is only tested for membership, so its
    # order (which varies between runs) never reaches the output.
    while True:
        nine = rng.choice("12") + f"{rng.randrange(10**8):08d}"
        number = str(NPI(nine + check_digit(nine)))
        if number not in taken:
            taken.add(number)
            return number


def _check_arguments(patients: int, practice_key: str, start: date, end: date) -> None:
    if not _KEY.fullmatch(practice_key):
        raise ValidationFailed(
            "A practice key is 1-16 letters, digits, '-' or '_'.", where="practice_key"
        )
    if not 0 <= patients <= _MAX_PATIENTS:
        raise ValidationFailed(f"patients must be 0 to {_MAX_PATIENTS}.", where="patients")
    if end < start:
        raise ValidationFailed("The period ends before it starts.", where="end")
    if patients and not _weekdays(start, end):
        raise ValidationFailed("The period has no weekday to see patients on.", where="end")


# --- Practice and people ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Place:
    city: str
    state: str
    postal_code: str


def _local_places(fake: Faker, state: str) -> tuple[_Place, ...]:
    # Most patients live in a handful of towns around the practice.
    return tuple(
        _Place(str(fake.city()), state, str(fake.postcode_in_state(state))) for _ in range(6)
    )


def _make_providers(
    rng: random.Random, fake: Faker, patients: int, taken: set[str]
) -> tuple[DemoProvider, ...]:
    # About one clinician per 300 active patients in the period, at least
    # one of each specialty.
    count = max(3, min(12, -(-patients // 300)))
    specialties = itertools.islice(itertools.cycle(_SPECIALTIES), count)
    return tuple(
        DemoProvider(
            npi=_new_npi(rng, taken),
            given_name=str(fake.first_name()),
            family_name=str(fake.last_name()),
            specialty=specialty,
            taxonomy_code=taxonomy,
        )
        for specialty, taxonomy, _, _ in specialties
    )


def _birth_date(rng: random.Random, start: date) -> date:
    low, high = _weighted(rng, [((low, high), weight) for low, high, weight in _AGE_BANDS])
    age = rng.randint(low, high)
    return start - timedelta(days=age * 365 + rng.randint(age // 4, age // 4 + 364))


# Sex as recorded at registration; "U" (unknown) is rare.
_SEXES: tuple[tuple[Sex, float], ...] = (("F", 52.0), ("M", 47.5), ("U", 0.5))


def _sex(rng: random.Random) -> Sex:
    return _weighted(rng, _SEXES)


def _given_name(fake: Faker, sex: Sex) -> str:
    if sex == "F":
        return str(fake.first_name_female())
    if sex == "M":
        return str(fake.first_name_male())
    return str(fake.first_name_nonbinary())


def _ssn(rng: random.Random) -> str | None:
    # About one patient in five has an SSN on file. The 9xx area is never
    # issued as an SSN, and groups 10-49 are outside the ITIN ranges
    # (50-65, 70-88, 90-92, 94-99), so no generated number belongs to anyone.
    if rng.random() >= 0.20:
        return None
    return f"9{rng.randint(0, 99):02d}-{rng.randint(10, 49)}-{rng.randint(1, 9999):04d}"


def _chronic_conditions(rng: random.Random, age: int, sex: Sex) -> tuple[str, ...]:
    band = 0 if age < 18 else 1 if age < 65 else 2
    found: list[str] = []
    for code, _, prevalence in _CHRONIC:
        # Hypothyroidism is several times commoner in women.
        factor = 1.6 if code == "E03.9" and sex == "F" else 1.0
        if rng.random() < prevalence[band] * factor:
            found.append(code)
    return tuple(found)


# --- Coverage --------------------------------------------------------------------


# Primary payer by age, approximate (KFF/Census health-insurance coverage
# tables) for a practice that takes all payers; None is self-pay, about 3%.
# Medicare under 65 is disability or ESRD entitlement.
_PayerMix: TypeAlias = tuple[tuple[_PayerKind | None, float], ...]
_SENIOR_MIX: _PayerMix = (("medicare", 88), ("commercial", 9), (None, 3))
_CHILD_MIX: _PayerMix = (("medicaid", 42), ("chip", 8), ("commercial", 47), (None, 3))
_ADULT_MIX: _PayerMix = (("medicaid", 15), ("medicare", 2), ("commercial", 80), (None, 3))


def _primary_kind(rng: random.Random, age: int) -> _PayerKind | None:
    if age >= 65:
        return _weighted(rng, _SENIOR_MIX)
    return _weighted(rng, _CHILD_MIX if age < 19 else _ADULT_MIX)


def _commercial_payer(rng: random.Random, region: _Region, unlike: _Payer | None) -> _Payer:
    choices = [*_COMMERCIAL, (region.blues, _BLUES_WEIGHT)]
    return _weighted(rng, [(payer, weight) for payer, weight in choices if payer != unlike])


def _payer(rng: random.Random, region: _Region, kind: _PayerKind) -> _Payer:
    if kind == "commercial":
        return _commercial_payer(rng, region, None)
    return {"medicare": region.medicare, "medicaid": region.medicaid, "chip": region.chip}[kind]


def _relationship(rng: random.Random, payer: _Payer, age: int) -> Relationship:
    # Public programmes enrol each person as their own subscriber.
    if payer.kind != "commercial":
        return "self"
    if age < 19 or (age < 26 and rng.random() < 0.45):
        return "child"
    return "spouse" if rng.random() < 0.20 else "self"


def _effective_from(rng: random.Random, payer: _Payer, birth: date, start: date) -> date:
    if payer.kind == "medicare" and _age(birth, start) >= 65:
        # Part B starts on the first of the month of the 65th birthday.
        return date(birth.year + 65, birth.month, 1)
    months_back = rng.randint(0, 96)
    month_index = start.year * 12 + start.month - 1 - months_back
    first_of_month = date(month_index // 12, month_index % 12 + 1, 1)
    return max(first_of_month, birth)


def _coverage(
    rng: random.Random,
    patient: DemoPatient,
    payer: _Payer,
    *,
    priority: int,
    relationship: Relationship,
    start: date,
) -> DemoCoverage:
    return DemoCoverage(
        patient_key=patient.key,
        payer_name=payer.name,
        payer_id=payer.payer_id,
        member_id=_fill(rng, payer.member_pattern),
        group_number=_fill(rng, payer.group_pattern) if payer.group_pattern else None,
        relationship=relationship,
        priority=priority,
        effective_from=_effective_from(rng, payer, patient.birth_date, start),
    )


def _secondary_payer(rng: random.Random, region: _Region, primary: _Payer) -> _Payer | None:
    # About one patient in ten has a second payer: Medicare beneficiaries
    # with Medicaid (dual eligible) or a supplement, and workers also covered
    # on a spouse's plan. Medicaid pays last, so it is never primary to one.
    if primary.kind == "medicare" and rng.random() < 0.20:
        if rng.random() < 0.40:
            return region.medicaid
        return _commercial_payer(rng, region, None)
    if primary.kind == "commercial" and rng.random() < 0.09:
        return _commercial_payer(rng, region, primary)
    return None


def _coverages(
    rng: random.Random, region: _Region, patient: DemoPatient, start: date
) -> tuple[tuple[DemoCoverage, ...], _PayerKind | None]:
    age = _age(patient.birth_date, start)
    kind = _primary_kind(rng, age)
    if kind is None:
        return (), None
    primary = _payer(rng, region, kind)
    found = [
        _coverage(
            rng,
            patient,
            primary,
            priority=1,
            relationship=_relationship(rng, primary, age),
            start=start,
        )
    ]
    secondary = _secondary_payer(rng, region, primary)
    if secondary is not None:
        relationship: Relationship = "self"
        if secondary.kind == "commercial" and primary.kind == "commercial":
            relationship = "child" if age < 19 else "spouse"
        found.append(
            _coverage(rng, patient, secondary, priority=2, relationship=relationship, start=start)
        )
    return tuple(found), kind


# --- Planning one visit -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _PlannedLine:
    code: str
    units: int
    modifiers: tuple[str, ...]
    diagnoses: tuple[str, ...]


@dataclass(slots=True)
class _Visit:
    """A claim and its note while one visit is planned; mutable only meanwhile."""

    diagnoses: list[str] = field(default_factory=list)
    lines: list[_PlannedLine] = field(default_factory=list)
    notes: list[tuple[str, bool]] = field(default_factory=list)

    def diagnose(self, code: str) -> str:
        """Add a diagnosis if there is room; return the one a line should point at."""
        if code not in self.diagnoses and len(self.diagnoses) < _MAX_DIAGNOSES:
            self.diagnoses.append(code)
        return code if code in self.diagnoses else self.diagnoses[0]

    def can_point(self, code: str) -> bool:
        return code in self.diagnoses or len(self.diagnoses) < _MAX_DIAGNOSES

    def bill(self, code: str, *, for_: Sequence[str], units: int = 1) -> None:
        if any(line.code == code for line in self.lines):
            return
        pointed = tuple(dict.fromkeys(self.diagnose(dx) for dx in for_))
        self.lines.append(_PlannedLine(code, units, (), pointed))

    def note(self, text: str, *, optional: bool = False) -> None:
        self.notes.append((text, optional))

    def has(self, codes: frozenset[str]) -> bool:
        return any(line.code in codes for line in self.lines)

    def add_modifier(self, codes: frozenset[str], modifier: str) -> None:
        self.lines = [
            _PlannedLine(line.code, line.units, (*line.modifiers, modifier), line.diagnoses)
            if line.code in codes
            else line
            for line in self.lines
        ]

    def documentation(self) -> str:
        # Notes that document a billed service always stay, so a coder can
        # support every line; colour is dropped past three sentences.
        room = _MAX_SENTENCES - sum(1 for _, optional in self.notes if not optional)
        kept: list[str] = []
        for text, optional in self.notes:
            if optional:
                if room <= 0:
                    continue
                room -= 1
            kept.append(text)
        return " ".join(kept)


@dataclass(frozen=True, slots=True)
class _Context:
    """What planning a visit needs to know about the patient on that day."""

    on: date
    age: int
    sex: Sex
    chronic: tuple[str, ...]
    medicare: bool
    is_new: bool
    office: bool
    flu_due: bool
    first_awv: bool


def _is_flu_season(on: date) -> bool:
    # CDC: vaccinate from September through the end of March.
    return on.month >= 9 or on.month <= 3


def _flu_season(on: date) -> int:
    return on.year if on.month >= 8 else on.year - 1


def _flu_vaccine(ctx: _Context) -> str:
    # ACIP prefers a high-dose influenza vaccine from age 65.
    return "90662" if ctx.age >= 65 else "90686"


def _vaccines(rng: random.Random, ctx: _Context, *, preventive: bool) -> list[str]:
    """The vaccine products given at a visit, following ACIP age rules."""
    chosen: list[str] = []
    if ctx.flu_due and rng.random() < (0.50 if preventive else 0.10):
        chosen.append(_flu_vaccine(ctx))
    if not preventive:
        return chosen
    # Tdap is a Part D drug for Medicare patients, never billed to Part B.
    adolescent = 11 <= ctx.age <= 12 and rng.random() < 0.70
    if not ctx.medicare and (adolescent or (ctx.age >= 19 and rng.random() < 0.08)):
        chosen.append("90715")
    if ctx.age >= 65 and rng.random() < 0.15:
        chosen.append("90732")
    return chosen


def _bill_vaccines(visit: _Visit, ctx: _Context, products: Sequence[str]) -> None:
    for index, product in enumerate(products):
        if ctx.medicare:
            # Medicare pays influenza and pneumococcal administration under
            # its own HCPCS codes instead of 90471/90472.
            admin = "G0009" if product == "90732" else "G0008"
        else:
            admin = "90471" if index == 0 else "90472"
        visit.bill(admin, for_=("Z23",))
        visit.bill(product, for_=("Z23",))
    if products:
        given = ", ".join(_VACCINE_NAMES[code] for code in products)
        visit.note(f"Vaccine given IM, left deltoid ({given}); no immediate reaction.")


def _bill_labs(rng: random.Random, visit: _Visit, addressed: Sequence[str]) -> None:
    for dx in addressed:
        for code, chance in _FOLLOW_UP_LABS.get(dx, ()):
            if rng.random() < chance:
                visit.bill(code, for_=(dx,))
    _bill_venipuncture(visit)


def _bill_venipuncture(visit: _Visit) -> None:
    blood = [line for line in visit.lines if line.code in _BLOOD_TESTS]
    if blood:
        visit.bill("36415", for_=blood[0].diagnoses)


def _acute_reason(rng: random.Random, ctx: _Context) -> _Acute:
    def weight(acute: _Acute) -> float:
        # Urinary tract infections are several times commoner in women.
        return acute.weight * (3 if acute.code == "N39.0" and ctx.sex == "F" else 1)

    fitting = [a for a in _ACUTE if a.min_age <= ctx.age <= a.max_age]
    return _weighted(rng, [(acute, weight(acute)) for acute in fitting])


def _plan_follow_up(rng: random.Random, ctx: _Context, visit: _Visit, *, em: str) -> list[str]:
    addressed = rng.sample(ctx.chronic, k=rng.randint(1, min(3, len(ctx.chronic))))
    visit.bill(em, for_=addressed)
    visit.note(f"Follow-up of {_listed(_CHRONIC_NAMES[code] for code in addressed)}.")
    pressure = f"{rng.randint(118, 152)}/{rng.randint(70, 94)}"
    if "I10" not in addressed:
        visit.note(rng.choice(_STABLE), optional=True)
    elif not ctx.office:
        visit.note(f"Home BP readings around {pressure}.", optional=True)
    else:
        visit.note(f"BP {pressure}; exam unremarkable.", optional=True)
    return addressed


def _bill_injection(rng: random.Random, ctx: _Context, visit: _Visit, acute: _Acute) -> bool:
    if acute.injection is None or not ctx.office:
        return False
    chance, name = acute.injection
    drug = _DRUGS[name]
    if ctx.age < drug.min_age or rng.random() >= chance:
        return False
    visit.bill("96372", for_=(acute.code,))
    visit.bill(drug.code, for_=(acute.code,), units=drug.units)
    visit.note(drug.sentence)
    return True


def _plan_acute(rng: random.Random, ctx: _Context, visit: _Visit, *, em: str) -> list[str]:
    acute = _acute_reason(rng, ctx)
    complaint, finding, plan = _ACUTE_NOTES[acute.code]
    addressed = [acute.code]
    if ctx.chronic and rng.random() < 0.30:
        addressed.append(rng.choice(ctx.chronic))
    visit.bill(em, for_=addressed)
    days = rng.randint(1, 7)
    visit.note(f"Reports {complaint} for {days} day{'s' if days > 1 else ''}.")
    visit.note(finding if ctx.office else "Appears well on video; no distress.", optional=True)
    # NCCI bars 96372 with 99211, so a nurse-level visit gets no injection.
    if em == "99211" or not _bill_injection(rng, ctx, visit, acute):
        visit.note(plan, optional=True)
    return addressed


def _plan_problem(rng: random.Random, ctx: _Context, visit: _Visit) -> None:
    em = _weighted(rng, _NEW_EM if ctx.is_new else _ESTABLISHED_EM)
    if ctx.chronic and rng.random() < 0.55:
        addressed = _plan_follow_up(rng, ctx, visit, em=em)
    else:
        addressed = _plan_acute(rng, ctx, visit, em=em)
    if not ctx.office:
        return
    # A vaccine rides along only when no injection was given, which keeps
    # the note within three sentences that still document every line.
    if em != "99211" and not visit.has(_INJECTIONS):
        _bill_vaccines(visit, ctx, _vaccines(rng, ctx, preventive=False))
    _bill_labs(rng, visit, addressed)


def _preventive_code(ctx: _Context) -> str:
    if ctx.medicare:
        # Medicare covers the annual wellness visit, not 99387/99397; the
        # initial one (G0438) is once in a lifetime.
        return "G0438" if ctx.first_awv else "G0439"
    return next(
        new if ctx.is_new else established
        for youngest, new, established in _PREVENTIVE
        if ctx.age >= youngest
    )


def _preventive_diagnosis(rng: random.Random, ctx: _Context) -> str:
    abnormal = bool(ctx.chronic) and rng.random() < 0.40
    if ctx.age < 18:
        return "Z00.121" if abnormal else "Z00.129"
    return "Z00.01" if abnormal else "Z00.00"


def _preventive_labs(rng: random.Random, ctx: _Context, visit: _Visit, exam: str) -> None:
    if ctx.age < 18:
        return
    if rng.random() < 0.45:
        visit.bill("80053", for_=(exam,))
    if rng.random() < 0.35:
        visit.bill("85025", for_=(exam,))
    if ctx.age >= 20 and rng.random() < 0.35:
        visit.bill("80061", for_=("E78.5",) if "E78.5" in ctx.chronic else (exam,))
    # A disease-monitoring test is billed only when its diagnosis fits on
    # the claim; pointing it at the exam code would not support it.
    if "E11.9" in ctx.chronic and visit.can_point("E11.9"):
        visit.bill("83036", for_=("E11.9",))
    if "E03.9" in ctx.chronic and visit.can_point("E03.9") and rng.random() < 0.50:
        visit.bill("84443", for_=("E03.9",))
    _bill_venipuncture(visit)


def _plan_preventive(rng: random.Random, ctx: _Context, visit: _Visit) -> None:
    exam = _preventive_diagnosis(rng, ctx)
    visit.diagnose(exam)
    vaccines = _vaccines(rng, ctx, preventive=True)
    if vaccines:
        visit.diagnose("Z23")
    visit.bill(_preventive_code(ctx), for_=(exam,))
    visit.note("Annual preventive visit; history, exam and age-appropriate counseling done.")
    # An established patient's chronic problem managed at the same visit is
    # billed as its own E/M with modifier 25 (CPT preventive medicine notes).
    if ctx.chronic and not ctx.is_new and rng.random() < 0.30:
        addressed = rng.sample(ctx.chronic, k=min(2, len(ctx.chronic)))
        visit.bill(_weighted(rng, _ESTABLISHED_EM[1:]), for_=addressed)
        visit.note(f"Also managed {_listed(_CHRONIC_NAMES[code] for code in addressed)}.")
    _bill_vaccines(visit, ctx, vaccines)
    _preventive_labs(rng, ctx, visit, exam)


def _plan_nurse(rng: random.Random, ctx: _Context, visit: _Visit) -> bool:
    """Plan a nurse visit if one makes sense for this patient today."""
    if ctx.flu_due and rng.random() < 0.50:
        visit.diagnose("Z23")
        visit.note("Nurse visit for influenza vaccine.")
        _bill_vaccines(visit, ctx, [_flu_vaccine(ctx)])
        return True
    if "I10" in ctx.chronic:
        visit.bill("99211", for_=("I10",))
        pressure = f"{rng.randint(118, 146)}/{rng.randint(70, 90)}"
        visit.note(f"Nurse visit for blood pressure check; BP {pressure}, no symptoms.")
        return True
    return False


def _finish_modifiers(visit: _Visit, *, telehealth: bool) -> None:
    if visit.has(_NEEDS_MODIFIER_25) and visit.has(_OFFICE_EM):
        visit.add_modifier(_OFFICE_EM, "25")
    if telehealth:
        # Many commercial payers, and Medicare from 2024, want modifier 95 on
        # a synchronous audio-video visit.
        visit.add_modifier(_OFFICE_EM, "95")


# --- Encounters and claims --------------------------------------------------------


@dataclass(slots=True)
class _History:
    """What earlier visits in the period decide about later ones."""

    flu_seasons: set[int] = field(default_factory=set)
    preventive_years: set[int] = field(default_factory=set)
    had_awv: bool = False


@dataclass(frozen=True, slots=True)
class _Patient:
    """A patient with what the generator knows but does not hand back."""

    record: DemoPatient
    chronic: tuple[str, ...]
    primary: _PayerKind | None
    primary_care: DemoProvider
    new_in_period: bool


@dataclass(frozen=True, slots=True)
class _Planned:
    ctx: _Context
    kind: VisitKind
    place: str
    visit: _Visit


def _choose_kind(rng: random.Random, ctx: _Context, history: _History) -> VisitKind:
    # Approximate shares of primary-care visits (NAMCS visit types).
    if ctx.is_new:
        return "preventive" if rng.random() < 0.30 else "problem"
    draw = rng.random()
    if draw < 0.15 and ctx.on.year not in history.preventive_years:
        return "preventive"
    if draw < 0.25:
        return "nurse"
    if draw < 0.33:
        return "telehealth"
    return "problem"


def _telehealth_place(rng: random.Random, visit: _Visit) -> str:
    # Place of service 10 (the patient at home) exists from 2022; 02 is
    # telehealth received anywhere else.
    place = "10" if rng.random() < 0.70 else "02"
    where = "at home" if place == "10" else "away from home"
    visit.note(f"Video visit with the patient {where}; consent documented.")
    return place


def _plan(rng: random.Random, ctx: _Context, kind: VisitKind) -> _Planned:
    visit = _Visit()
    if kind == "nurse" and _plan_nurse(rng, ctx, visit):
        return _Planned(ctx, kind, "11", visit)
    if kind == "preventive":
        _plan_preventive(rng, ctx, visit)
        _finish_modifiers(visit, telehealth=False)
        return _Planned(ctx, kind, "11", visit)
    if kind == "telehealth":
        place = _telehealth_place(rng, visit)
        remote = replace(ctx, office=False)
        _plan_problem(rng, remote, visit)
        _finish_modifiers(visit, telehealth=True)
        return _Planned(remote, kind, place, visit)
    _plan_problem(rng, ctx, visit)
    _finish_modifiers(visit, telehealth=False)
    return _Planned(ctx, "problem", "11", visit)


def _remember(history: _History, planned: _Planned) -> None:
    codes = {line.code for line in planned.visit.lines}
    if codes & _FLU_VACCINES:
        history.flu_seasons.add(_flu_season(planned.ctx.on))
    if planned.kind == "preventive":
        history.preventive_years.add(planned.ctx.on.year)
    if "G0438" in codes:
        history.had_awv = True


def _context(patient: _Patient, history: _History, on: date, *, is_new: bool) -> _Context:
    age = _age(patient.record.birth_date, on)
    return _Context(
        on=on,
        age=age,
        sex=patient.record.sex,
        chronic=patient.chronic,
        medicare=patient.primary == "medicare",
        is_new=is_new,
        office=True,
        flu_due=_is_flu_season(on) and _flu_season(on) not in history.flu_seasons,
        # Only a beneficiary in the first years of Medicare can still be due
        # the initial wellness visit.
        first_awv=not history.had_awv and age < 67,
    )


def _service_lines(visit: _Visit, on: date) -> tuple[DemoServiceLine, ...]:
    return tuple(
        DemoServiceLine(
            line_number=number,
            procedure_code=_procedure(line.code),
            modifiers=tuple(_modifier(code) for code in line.modifiers),
            units=line.units,
            charge_cents=_FEES[line.code] * line.units,
            date_of_service=on,
            diagnosis_pointers=tuple(visit.diagnoses.index(dx) + 1 for dx in line.diagnoses),
        )
        for number, line in enumerate(visit.lines, start=1)
    )


@dataclass(frozen=True, slots=True)
class _Setting:
    """What every claim of the practice shares."""

    practice_key: str
    group_npi: str
    providers: tuple[DemoProvider, ...]


def _sees_age(provider: DemoProvider, age: int) -> bool:
    return any(
        specialty == provider.specialty and youngest <= age <= oldest
        for specialty, _, youngest, oldest in _SPECIALTIES
    )


def _rendering(rng: random.Random, setting: _Setting, patient: _Patient, age: int) -> DemoProvider:
    # Patients mostly see their own clinician; otherwise whoever is free
    # among those who see patients of that age.
    if rng.random() < 0.85 and _sees_age(patient.primary_care, age):
        return patient.primary_care
    return rng.choice([p for p in setting.providers if _sees_age(p, age)])


def _records(
    rng: random.Random, setting: _Setting, patient: _Patient, planned: _Planned, *, number: int
) -> tuple[DemoEncounter, DemoClaim]:
    on = planned.ctx.on
    rendering = _rendering(rng, setting, patient, planned.ctx.age)
    key = f"{setting.practice_key}-E{number:06d}"
    lines = _service_lines(planned.visit, on)
    encounter = DemoEncounter(
        key=key,
        patient_key=patient.record.key,
        provider_npi=rendering.npi,
        date_of_service=on,
        place_of_service=_place(planned.place),
        visit_kind=planned.kind,
        documentation=planned.visit.documentation(),
        is_new_patient=planned.ctx.is_new,
    )
    claim = DemoClaim(
        key=f"{setting.practice_key}-C{number:06d}",
        patient_key=patient.record.key,
        encounter_key=key,
        # Claims go to the primary payer first; self-pay patients have none.
        coverage_priority=None if patient.primary is None else 1,
        billing_npi=setting.group_npi,
        rendering_npi=rendering.npi,
        place_of_service=encounter.place_of_service,
        frequency_code="1",
        diagnoses=tuple(_diagnosis(dx) for dx in planned.visit.diagnoses),
        lines=lines,
        total_charge_cents=sum(line.charge_cents for line in lines),
        # The patient control number (CLM01): the MRN and a visit number.
        patient_account=f"{patient.record.mrn}-{number:06d}",
    )
    return encounter, claim


def _visit_count(rng: random.Random, patient: _Patient, available: int) -> int:
    # Visits per patient in the period, approximate (MEPS office-based visit
    # counts); people with chronic conditions come more often.
    weights = (15, 20, 22, 18, 14, 11) if patient.chronic else (30, 25, 18, 12, 9, 6)
    return min(available, _weighted(rng, list(zip(range(1, 7), weights, strict=True))))


def _encounters(
    rng: random.Random,
    setting: _Setting,
    patient: _Patient,
    weekdays: list[date],
    numbers: Iterator[int],
) -> list[tuple[DemoEncounter, DemoClaim]]:
    days = sorted(rng.sample(weekdays, _visit_count(rng, patient, len(weekdays))))
    history = _History()
    found = []
    for index, on in enumerate(days):
        ctx = _context(patient, history, on, is_new=patient.new_in_period and index == 0)
        planned = _plan(rng, ctx, _choose_kind(rng, ctx, history))
        _remember(history, planned)
        found.append(_records(rng, setting, patient, planned, number=next(numbers)))
    return found


# --- Patients -------------------------------------------------------------------


def _deceased_on(rng: random.Random, age: int, last_visit: date, end: date) -> date | None:
    # About 0.5% of a panel dies in a year, mostly the old (approximate, from
    # CDC age-specific death rates). The death follows the last visit.
    if rng.random() >= (0.02 if age >= 65 else 0.001):
        return None
    return last_visit + timedelta(days=rng.randint(0, (end - last_visit).days))


def _primary_care(
    rng: random.Random, providers: tuple[DemoProvider, ...], age: int
) -> DemoProvider:
    fitting = [p for p in providers if _sees_age(p, age)]
    # Parents of young children mostly choose a pediatrician when one is there.
    weights = [3 if age < 18 and p.specialty == "Pediatrics" else 1 for p in fitting]
    return rng.choices(fitting, weights)[0]


@dataclass(frozen=True, slots=True)
class _Generator:
    """The seeded sources and the practice-wide facts every patient draws on."""

    rng: random.Random
    fake: Faker
    region: _Region
    places: tuple[_Place, ...]
    setting: _Setting
    start: date
    end: date
    weekdays: list[date]


def _place_of_residence(gen: _Generator) -> _Place:
    if gen.rng.random() < 0.92:
        return gen.rng.choice(gen.places)
    state = str(
        gen.fake.state_abbr(include_territories=False, include_freely_associated_states=False)
    )
    return _Place(str(gen.fake.city()), state, str(gen.fake.postcode_in_state(state)))


def _person(gen: _Generator, number: int, mrn: int) -> DemoPatient:
    rng, fake = gen.rng, gen.fake
    sex = _sex(rng)
    home = _place_of_residence(gen)
    return DemoPatient(
        key=f"{gen.setting.practice_key}-P{number:05d}",
        mrn=f"{mrn:08d}",
        given_name=_given_name(fake, sex),
        family_name=str(fake.last_name()),
        birth_date=_birth_date(rng, gen.start),
        sex=sex,
        address_line=str(fake.street_address()),
        city=home.city,
        state=home.state,
        postal_code=home.postal_code,
        # 555-0100 to 555-0199 is reserved for fiction in every area code.
        phone=f"{rng.choice(gen.region.area_codes)}-555-01{rng.randint(0, 99):02d}",
        ssn=_ssn(rng),
        deceased_on=None,
    )


@dataclass(frozen=True, slots=True)
class _PatientRecords:
    patient: DemoPatient
    coverages: tuple[DemoCoverage, ...]
    visits: list[tuple[DemoEncounter, DemoClaim]]


def _patient_records(
    gen: _Generator, number: int, mrn: int, numbers: Iterator[int]
) -> _PatientRecords:
    rng = gen.rng
    person = _person(gen, number, mrn)
    age = _age(person.birth_date, gen.start)
    coverages, primary = _coverages(rng, gen.region, person, gen.start)
    patient = _Patient(
        record=person,
        chronic=_chronic_conditions(rng, age, person.sex),
        primary=primary,
        primary_care=_primary_care(rng, gen.setting.providers, age),
        # Approximate: one patient in seven is new to the practice.
        new_in_period=rng.random() < 0.15,
    )
    visits = _encounters(rng, gen.setting, patient, gen.weekdays, numbers)
    deceased = _deceased_on(rng, age, visits[-1][0].date_of_service, gen.end)
    if deceased is not None:
        person = replace(person, deceased_on=deceased)
    return _PatientRecords(person, coverages, visits)


# --- The practice ---------------------------------------------------------------


def _practice_address(gen: _Generator) -> DemoAddress:
    home = gen.places[0]
    return DemoAddress(
        line=str(gen.fake.street_address()),
        city=home.city,
        state=home.state,
        postal_code=f"{home.postal_code}{gen.rng.randint(1, 9999):04d}",
    )


def _generator(seed: int, practice_key: str, patients: int, start: date, end: date) -> _Generator:
    mixed = _mixed_seed(seed, practice_key)
    # Reproducible on purpose: demo data must come out the same every run,
    # and nothing here is a secret.
    rng = random.Random(mixed)  # noqa: S311
    fake = Faker("en_US")
    fake.seed_instance(mixed)
    region = rng.choice(_REGIONS)
    taken: set[str] = set()
    group_npi = _new_npi(rng, taken)
    providers = _make_providers(rng, fake, patients, taken)
    return _Generator(
        rng=rng,
        fake=fake,
        region=region,
        places=_local_places(fake, region.state),
        setting=_Setting(practice_key, group_npi, providers),
        start=start,
        end=end,
        weekdays=_weekdays(start, end),
    )


def generate_practice(
    *, seed: int, patients: int, practice_key: str, start: date, end: date
) -> DemoPractice:
    """A synthetic practice with ``patients`` patients seen between ``start`` and ``end``.

    The same arguments always give the same practice; a different
    ``practice_key`` with the same seed gives different people.
    """
    _check_arguments(patients, practice_key, start, end)
    gen = _generator(seed, practice_key, patients, start, end)
    rng, fake = gen.rng, gen.fake
    name = f"{fake.last_name()} {rng.choice(('Family Medicine', 'Primary Care'))}"
    address = _practice_address(gen)
    tax_id = f"{rng.choice(_UNASSIGNED_EIN_PREFIXES)}-{rng.randint(0, 9_999_999):07d}"
    numbers = itertools.count(1)
    # MRNs are unique eight-digit numbers; sampling a range builds no list.
    mrns = rng.sample(range(10_000_000, 100_000_000), patients)
    records = [
        _patient_records(gen, number, mrn, numbers) for number, mrn in enumerate(mrns, start=1)
    ]
    return DemoPractice(
        key=practice_key,
        name=name,
        group_npi=gen.setting.group_npi,
        tax_id=tax_id,
        address=address,
        providers=gen.setting.providers,
        patients=tuple(r.patient for r in records),
        coverages=tuple(c for r in records for c in r.coverages),
        encounters=tuple(e for r in records for e, _ in r.visits),
        claims=tuple(c for r in records for _, c in r.visits),
    )
