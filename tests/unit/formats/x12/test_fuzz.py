"""Fuzzing the X12 readers: only ``X12Error`` ever escapes, and nothing is slow.

Four sources of input, about 10,000 cases in all: arbitrary bytes; arbitrary
bytes after a valid ISA header; mutations of the small conformance files
(bytes flipped, cut, repeated, separators inserted); and well-enveloped
sets made of plausible segments in random order. Every case is read to the
end with the 835, 837P, 837I and 999 readers, acknowledged with a 999 and, for
what was read, written back; each case must finish within a second.
"""

from __future__ import annotations

import gc
import random
import signal
import time
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claimbridge.formats.x12 import X12Error, acknowledge, read_transactions, write_835, write_999
from claimbridge.formats.x12.x835 import remittances
from claimbridge.formats.x12.x837i import claims_837
from claimbridge.formats.x12.x999 import acknowledgments
from tests.unit.formats.x12.samples import CONFORMANCE, ISA, PAYMENT_835, document

NOW = datetime(2024, 1, 2, 3, 4, tzinfo=UTC)
HANDLERS: dict[str, Any] = {"835": remittances, "837": claims_837, "999": acknowledgments}
SMALL_FILES = sorted(
    path.read_bytes()
    for path in CONFORMANCE.rglob("*")
    if path.is_file()
    and path.suffix in {".835", ".837", ".edi", ".txt", ".x12", ".837i"}
    and path.stat().st_size < 4000
    and b"ISA" in path.read_bytes()[:200]
)
FUZZ = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    database=None,
)


class Hung(Exception):
    pass


def _hung(signum: int, frame: object) -> None:
    raise Hung


def exercise(data: bytes) -> None:
    """Read everything, acknowledge it, write back what was read; time it.

    An alarm turns a loop that never ends into a failure instead of a hang.
    """
    previous = signal.signal(signal.SIGALRM, _hung)
    signal.setitimer(signal.ITIMER_REAL, 5)
    try:
        _exercise(data)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _exercise(data: bytes) -> None:
    # CPU time of this process: the bound is the work an input costs, not how
    # busy the machine is with others (wall time failed it under a loaded CI run),
    # nor a collection of garbage earlier tests left (late in a run, one took 1 s):
    # the collector waits until the case is timed.
    gc.disable()
    started = time.process_time()
    try:
        reading = read_transactions(data, handlers=HANDLERS, chunk_size=512)
        records = list(reading)
        reading.errors  # noqa: B018 - the property walks every result
        write_999(
            acknowledge(reading),
            sender="S",
            receiver="R",
            interchange_control_number=1,
            group_control_number=1,
            now=NOW,
        )
        paid = [record for record in records if type(record).__name__ == "Remittance"]
        if paid:
            envelope = {"interchange_control_number": 1, "group_control_number": 1}
            write_835(paid, sender="S", receiver="R", now=NOW, **envelope)
    except X12Error:
        pass
    finally:
        spent = time.process_time() - started
        gc.enable()
    # A guard against super-linear work, not a benchmark: these inputs take milliseconds.
    assert spent < 1.0


@settings(FUZZ, max_examples=2500)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_raise_only_x12_errors(data: bytes) -> None:
    exercise(data)


@settings(FUZZ, max_examples=2500)
@given(st.binary(max_size=600))
def test_arbitrary_bytes_after_a_valid_isa_raise_only_x12_errors(data: bytes) -> None:
    exercise(ISA.encode() + data)


def mutated(seed: int) -> bytes:
    """A small conformance file with one to six random edits.

    Edits come from a seeded generator rather than from one Hypothesis draw
    each, which keeps ten thousand cases cheap to make.
    """
    chance = random.Random(seed)
    data = bytearray(chance.choice(SMALL_FILES))
    for _ in range(chance.randint(1, 6)):
        where = chance.randint(0, max(len(data) - 1, 0))
        action = chance.choice(["flip", "delete", "insert", "repeat", "cut"])
        if action == "flip" and data:
            data[where] = chance.randint(0, 255)
        elif action == "delete":
            del data[where : where + chance.randint(1, 40)]
        elif action == "insert":
            data[where:where] = chance.choice(INSERTS)
        elif action == "repeat":
            data[where:where] = data[where : where + chance.randint(1, 200)]
        else:
            del data[where:]
    return bytes(data)


INSERTS = [b"*", b"~", b":", b"^", b"\n", b"**", b"~~", b"\x00", b"ISA", b"~SE*1*1~", b"~IEA*1*1~"]


@settings(FUZZ, max_examples=3500)
@given(st.integers(0, 2**32))
def test_mutated_conformance_files_raise_only_x12_errors(seed: int) -> None:
    exercise(mutated(seed))


SEGMENT_IDS = [
    "BPR",
    "TRN",
    "N1",
    "N3",
    "N4",
    "REF",
    "DTM",
    "LX",
    "CLP",
    "CAS",
    "NM1",
    "SVC",
    "AMT",
]
SEGMENT_IDS += [
    "PLB",
    "QTY",
    "LQ",
    "PER",
    "MIA",
    "MOA",
    "TS3",
    "HL",
    "CLM",
    "SV1",
    "HI",
    "SBR",
    "BHT",
]
SEGMENT_IDS += ["AK1", "AK2", "IK3", "IK4", "IK5", "AK9", "CTX", "PRV", "DMG", "ZZZ", ""]
VALUES = ["", "1", "PR", "PE", "QC", "CO", "45", "100.00", "-9.5", "1e5", "20240101", "20241301"]
VALUES += ["HC:99213", "HC", ":", "A", "X" * 30, "22", "20", "0", "9" * 21, "ABK:J020", "D8", "RD8"]
KINDS = [
    ("835", "005010X221A1", "HP"),
    ("837", "005010X222A1", "HC"),
    ("999", "005010X231A1", "FA"),
]


def plausible_set(seed: int) -> bytes:
    """An enveloped set of plausible segments in random order (seeded, as above)."""
    chance = random.Random(seed)
    set_id, guide, functional_id = chance.choice(KINDS)
    segments = [
        "*".join([chance.choice(SEGMENT_IDS), *chance.choices(VALUES, k=chance.randint(0, 8))])
        for _ in range(chance.randint(0, 25))
    ]
    if set_id == "835":
        segments = PAYMENT_835[: chance.randint(0, len(PAYMENT_835))] + segments
    return document(segments, set_id=set_id, guide=guide, functional_id=functional_id)


@settings(FUZZ, max_examples=1500)
@given(st.integers(0, 2**32))
def test_plausible_segments_in_any_order_raise_only_x12_errors(seed: int) -> None:
    exercise(plausible_set(seed))
