"""837P inputs built to exhaust a reader, for ``bench/bench_x12_memory.py``.

Each writes to a binary stream in bounded memory and returns the bytes written:

- ``no_terminator``: a correct ISA that names ``~`` as the segment
  terminator, then hundreds of megabytes of ordinary 837P content whose
  segments end in line breaks and never in ``~``: one endless segment.
- ``huge_claim``: a well-formed interchange whose one claim has a million
  segments (250,000 service lines of LX, SV1, DTP, REF; the guide allows 50),
  with CLM02 equal to the sum of the lines and SE01 right, so only its size
  is wrong.
- ``deep_hierarchy``: a subscriber, then complete patient loops (2000C)
  each the child of the one before, a million levels deep (the guide allows
  three: billing provider, subscriber, patient), with SE01 right.
"""

from __future__ import annotations

from typing import BinaryIO

from x12.generate import GUIDE, RECEIVER, SENDER

_ISA = (
    f"ISA*00*{'':10}*00*{'':10}*ZZ*{SENDER:15}*ZZ*{RECEIVER:15}*"
    "250115*1200*^*00501*000000901*0*T*:~"
)
_GS = f"GS*HC*{SENDER}*{RECEIVER}*20250115*1200*901*X*{GUIDE}"
_HEAD = (
    f"ST*837*0001*{GUIDE}",
    "BHT*0019*00*HOSTILE1*20250115*1200*CH",
    "NM1*41*2*CLAIMBRIDGE SYNTHETIC SUBMITTER*****46*CBSUB0001",
    "PER*IC*EDI DESK*TE*5555550100",
    "NM1*40*2*CLEARINGHOUSE EXAMPLE*****46*CBRCV0001",
    "HL*1**20*1",
    "NM1*85*2*FAMILY MEDICINE ASSOCIATES*****XX*1234567893",
    "N3*100 MAIN ST",
    "N4*SPRINGFIELD*IL*627010001",
    "REF*EI*123456789",
)
_SUBSCRIBER = (
    "HL*2*1*22*0",
    "SBR*P*18*GRP000001******CI",
    "NM1*IL*1*SMITH*MARY****MI*A000000001",
    "N3*1 OAK AVE",
    "N4*COLUMBUS*OH*43201",
    "DMG*D8*19700101*F",
    "NM1*PR*2*KEYSTONE HEALTH PLAN*****PI*KHP01",
)
_BLOCK = 1 << 20


def _write(out: BinaryIO, segments: list[str] | tuple[str, ...]) -> int:
    data = ("~".join(segments) + "~").encode("ascii")
    out.write(data)
    return len(data)


def _close(out: BinaryIO, set_segments: int) -> int:
    return _write(out, [f"SE*{set_segments + 1}*0001", "GE*1*901", "IEA*1*000000901"])


def no_terminator(out: BinaryIO, *, size: int) -> int:
    """A correct ISA, then ``size`` bytes of 837P segments ended by line breaks, never by ``~``."""
    written = len(_ISA)
    out.write(_ISA.encode("ascii"))
    claim = "\n".join(
        (
            "CLM*PCN000000001*130.00***11:B:1*Y*A*Y*Y",
            "HI*ABK:I10",
            "LX*1",
            "SV1*HC:99213*130.00*UN*1***1",
            "DTP*472*D8*20241203",
        )
    )
    block = "\n".join((_GS, *_HEAD, *_SUBSCRIBER)) + "\n"
    block += "\n".join([claim] * (_BLOCK // len(claim)))
    data = block.encode("ascii")
    while written < size:
        out.write(data)
        written += len(data)
    return written


def huge_claim(out: BinaryIO, *, lines: int = 250_000) -> int:
    """One claim of ``lines`` service lines (four segments each), otherwise correct."""
    written = _write(out, [_ISA[:-1], _GS, *_HEAD, *_SUBSCRIBER])
    set_segments = len(_HEAD) + len(_SUBSCRIBER)
    written += _write(out, [f"CLM*PCN000000001*{lines * 100}.00***11:B:1*Y*A*Y*Y", "HI*ABK:I10"])
    set_segments += 2
    batch = 1_000
    for first in range(1, lines + 1, batch):
        segments = []
        for number in range(first, min(first + batch, lines + 1)):
            segments += (
                f"LX*{number}",
                "SV1*HC:99213*100.00*UN*1***1",
                "DTP*472*D8*20241203",
                f"REF*6R*LN{number:010d}",
            )
        written += _write(out, segments)
        set_segments += len(segments)
    return written + _close(out, set_segments)


def deep_hierarchy(out: BinaryIO, *, depth: int = 1_000_000) -> int:
    """Complete patient loops (2000C), each the child of the one before, ``depth`` levels deep."""
    subscriber = ("HL*2*1*22*1", *_SUBSCRIBER[1:3], *_SUBSCRIBER[6:])
    written = _write(out, [_ISA[:-1], _GS, *_HEAD, *subscriber])
    set_segments = len(_HEAD) + len(subscriber)
    batch = 2_000
    for first in range(3, depth + 1, batch):
        segments = []
        for n in range(first, min(first + batch, depth + 1)):
            segments += (
                f"HL*{n}*{n - 1}*23*1",
                "PAT*19",
                "NM1*QC*1*SMITH*JAMES",
                "N3*1 OAK AVE",
                "N4*COLUMBUS*OH*43201",
                "DMG*D8*20100101*M",
            )
        written += _write(out, segments)
        set_segments += len(segments)
    return written + _close(out, set_segments)
