"""Shared test inputs for the X12 tests: the conformance folder and small documents."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[4]
CONFORMANCE = REPO_ROOT / "tests" / "vectors" / "conformance"
"""A verbatim copy of the team's shared conformance folder (third-party files, each
source's licence beside its data, provenance in SOURCES.md), kept in the repository so
a fresh clone tests against it wherever it is checked out."""

ISA = (
    "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       "
    "*240102*0304*^*00501*000000001*0*P*:~"
)

PAYMENT_835 = [
    "BPR*I*140.00*C*ACH*CCP*01*999999992*DA*123456*1512345678**01*999988880*DA*98765*20240105",
    "TRN*1*12345*1512345678",
    "N1*PR*PAYER A",
    "N3*1 MAIN ST",
    "N4*CITY*NY*10001",
    "N1*PE*CLINIC*XX*1234567893",
    "LX*1",
    "CLP*PC1*1*150.00*100.00*20.00*12*PAYERCLAIM1",
    "NM1*QC*1*DOE*JANE****MI*M1",
    "SVC*HC:99213:25*150.00*100.00**1",
    "DTM*472*20240101",
    "CAS*PR*1*20.00",
    "CAS*CO*45*30.00",
    "AMT*B6*120.00",
    "CLP*PC2*1*50.00*40.00**12*PAYERCLAIM2",
    "CAS*CO*45*10.00",
    "NM1*QC*1*ROE*RICHARD****MI*M2",
]


def document(
    *bodies: list[str],
    set_id: str = "835",
    guide: str = "005010X221A1",
    functional_id: str = "HP",
    isa: str = ISA,
    se_counts: list[int] | None = None,
) -> bytes:
    """A one-group interchange with a set per body, envelopes correct unless told."""
    segments = [isa.removesuffix("~"), f"GS*{functional_id}*S*R*20240102*0304*1*X*{guide}"]
    for number, body in enumerate(bodies, start=1):
        control = f"{number:04d}"
        count = len(body) + 2 if se_counts is None else se_counts[number - 1]
        segments += [f"ST*{set_id}*{control}*{guide}", *body, f"SE*{count}*{control}"]
    segments += [f"GE*{len(bodies)}*1", "IEA*1*000000001"]
    return ("~".join(segments) + "~").encode()
