"""The fixed lists synthetic claims and remittances draw from (``synthetic``).

Names, places and organisations are invented; the code sets are real:
ICD-10-CM diagnoses (FY 2025), CPT/HCPCS procedures with 2025-like
charges in cents, provider taxonomy codes, claim filing indicators and
claim adjustment reason codes (CARC). NPIs are random with a valid Luhn
check digit, so they pass the check every NPI must, but name nobody.
"""

from __future__ import annotations

import random

from claimbridge.types import check_digit

__all__ = [
    "CITIES",
    "EXTRA_PROCEDURES",
    "FEMALE_NAMES",
    "ICD10CM",
    "MALE_NAMES",
    "NEW_VISITS",
    "ORGANIZATIONS",
    "PAYERS",
    "REMARKS",
    "RETURN_VISITS",
    "SAME_DAY_PROCEDURES",
    "STREETS",
    "SURNAMES",
    "TAXONOMIES",
    "npi",
]

SURNAMES = (
    "SMITH",
    "JOHNSON",
    "WILLIAMS",
    "BROWN",
    "JONES",
    "GARCIA",
    "MILLER",
    "DAVIS",
    "RODRIGUEZ",
    "MARTINEZ",
    "HERNANDEZ",
    "LOPEZ",
    "GONZALEZ",
    "WILSON",
    "ANDERSON",
    "THOMAS",
    "TAYLOR",
    "MOORE",
    "JACKSON",
    "MARTIN",
    "LEE",
    "PEREZ",
    "THOMPSON",
    "WHITE",
    "HARRIS",
    "SANCHEZ",
    "CLARK",
    "RAMIREZ",
    "LEWIS",
    "ROBINSON",
    "WALKER",
    "YOUNG",
    "ALLEN",
    "KING",
    "WRIGHT",
    "NGUYEN",
)
FEMALE_NAMES = (
    "MARY",
    "PATRICIA",
    "JENNIFER",
    "LINDA",
    "ELIZABETH",
    "BARBARA",
    "SUSAN",
    "JESSICA",
    "SARAH",
    "KAREN",
    "LISA",
    "NANCY",
    "BETTY",
    "SANDRA",
    "MARGARET",
    "ASHLEY",
    "KIMBERLY",
    "EMILY",
    "DONNA",
    "MICHELLE",
    "CAROL",
    "AMANDA",
    "MELISSA",
)
MALE_NAMES = (
    "JAMES",
    "ROBERT",
    "JOHN",
    "MICHAEL",
    "DAVID",
    "WILLIAM",
    "RICHARD",
    "JOSEPH",
    "THOMAS",
    "CHARLES",
    "CHRISTOPHER",
    "DANIEL",
    "MATTHEW",
    "ANTHONY",
    "MARK",
    "DONALD",
    "STEVEN",
    "PAUL",
    "ANDREW",
    "JOSHUA",
    "KENNETH",
    "KEVIN",
    "BRIAN",
)
STREETS = (
    "MAIN ST",
    "OAK AVE",
    "PINE ST",
    "MAPLE AVE",
    "CEDAR LN",
    "ELM ST",
    "LAKE DR",
    "HILL RD",
    "PARK AVE",
    "RIVER RD",
    "CHURCH ST",
    "MILL RD",
)
# City, state and the first three digits of its ZIP codes.
CITIES = (
    ("SPRINGFIELD", "IL", "627"),
    ("COLUMBUS", "OH", "432"),
    ("AUSTIN", "TX", "787"),
    ("DENVER", "CO", "802"),
    ("PORTLAND", "OR", "972"),
    ("MADISON", "WI", "537"),
    ("RALEIGH", "NC", "276"),
    ("TAMPA", "FL", "336"),
    ("ALBANY", "NY", "122"),
)
ORGANIZATIONS = (
    "VALLEY",
    "LAKESIDE",
    "RIVERBEND",
    "NORTHGATE",
    "CEDAR HILL",
    "PINE RIDGE",
    "MEADOWBROOK",
    "HARBOR VIEW",
)
# Payer name, payer id (NM109 of 2010BB) and claim filing indicator (SBR09).
PAYERS = (
    ("BLUE RIVER HEALTH PLAN", "BRHP1", "BL"),
    ("SUMMIT COMMERCIAL INSURANCE", "SCI02", "CI"),
    ("EVERGREEN HMO", "EVHMO", "HM"),
    ("MEDICARE PART B JURISDICTION 99", "99999", "MB"),
    ("STATE MEDICAID PROGRAM", "SMCD9", "MC"),
    ("PRAIRIE PPO", "PPPO7", "12"),
)
ICD10CM = (
    "E119",  # type 2 diabetes mellitus without complications
    "I10",  # essential (primary) hypertension
    "E785",  # hyperlipidemia, unspecified
    "J069",  # acute upper respiratory infection, unspecified
    "M5450",  # low back pain, unspecified
    "Z0000",  # general adult medical examination without abnormal findings
    "Z23",  # encounter for immunization
    "F411",  # generalized anxiety disorder
    "K219",  # gastro-esophageal reflux disease without esophagitis
    "N390",  # urinary tract infection, site not specified
    "J4520",  # mild intermittent asthma, uncomplicated
    "E039",  # hypothyroidism, unspecified
    "R7303",  # prediabetes
    "G4700",  # insomnia, unspecified
    "M25561",  # pain in right knee
    "J029",  # acute pharyngitis, unspecified
)
TAXONOMIES = ("207Q00000X", "207R00000X", "208D00000X", "363LF0000X")
# Office visits (CPT E/M): code and charge in cents.
NEW_VISITS = (("99202", 11000), ("99203", 16500), ("99204", 25000), ("99205", 32000))
RETURN_VISITS = (
    ("99211", 4500),
    ("99212", 8500),
    ("99213", 13500),
    ("99214", 19000),
    ("99215", 26000),
)
# Other services of a visit: code, charge per unit in cents, modifiers, most units.
EXTRA_PROCEDURES = (
    ("36415", 1500, (), 1),  # venipuncture
    ("80053", 4500, (), 1),  # comprehensive metabolic panel
    ("85025", 2800, (), 1),  # complete blood count with differential
    ("83036", 3200, (), 1),  # hemoglobin A1c
    ("80061", 3800, (), 1),  # lipid panel
    ("81002", 1200, (), 1),  # urinalysis, non-automated, without microscopy
    ("87880", 3500, ("QW",), 1),  # rapid strep test, CLIA-waived
    ("93000", 6000, (), 1),  # electrocardiogram with interpretation
    ("96372", 4000, (), 1),  # therapeutic injection, subcutaneous or intramuscular
    ("J3301", 1100, (), 4),  # triamcinolone acetonide, per 10 mg
    ("90471", 2500, (), 1),  # immunization administration
    ("90686", 3000, (), 1),  # influenza vaccine, quadrivalent, preservative free
    ("90715", 5500, (), 1),  # Tdap vaccine
    ("97110", 4500, ("GP",), 3),  # therapeutic exercise, each 15 minutes
)
# Procedures that make an E/M visit on the same day a separate service (modifier 25).
SAME_DAY_PROCEDURES = frozenset({"93000", "96372", "90471"})
# Remittance advice remark codes (LQ*HE) for denied lines.
REMARKS = ("N130", "M15", "N362")


def npi(rng: random.Random, *, kind: str = "1") -> str:
    """A random ten-digit NPI that starts with ``kind`` and passes the check digit."""
    nine = f"{kind}{rng.randrange(10**8):08d}"
    return nine + check_digit(nine)
