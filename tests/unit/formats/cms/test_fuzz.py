"""Fuzzing the table readers: only ``CmsError`` ever escapes, and no case is slow.

For each reader: arbitrary bytes; arbitrary bytes after a valid header;
and a written synthetic table mutated (bytes flipped, inserted or cut,
quotes, tabs, commas and line breaks dropped in). Every case is read to
the end and its error rendered; each must finish within a second.
"""

from __future__ import annotations

import io
import signal
import time
from collections.abc import Callable, Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claimbridge.formats.cms import (
    CmsError,
    read_leie,
    read_mue,
    read_ptp,
    synthetic_exclusions,
    synthetic_mue_edits,
    synthetic_ptp_edits,
    write_leie,
    write_mue,
    write_ptp,
)

FUZZ = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    database=None,
    max_examples=250,
)
Reader = Callable[[bytes], Iterator[object]]


def _written(write: Callable[..., int], records: Iterator[object], **options: str) -> bytes:
    out = io.BytesIO()
    write(records, out, **options)
    return out.getvalue()


def _any_mue(data: bytes) -> Iterator[object]:
    return read_mue(data, services=None)


READERS: dict[str, tuple[Reader, bytes]] = {
    "ptp": (read_ptp, _written(write_ptp, synthetic_ptp_edits(12, pairs_per_code=4))),
    "ptp-csv": (
        read_ptp,
        _written(write_ptp, synthetic_ptp_edits(12, pairs_per_code=4), delimiter=","),
    ),
    "mue": (_any_mue, _written(write_mue, synthetic_mue_edits(12))),
    "leie": (read_leie, _written(write_leie, synthetic_exclusions(6), dates="MM/DD/YY")),
}
HEADERS = {
    "ptp": READERS["ptp"][1].split(b"\r\n9=not applicable", 1)[0],
    "ptp-csv": READERS["ptp-csv"][1].split(b"PTP Edit Rationale\r\n", 1)[0],
    "mue": READERS["mue"][1].split(b"MUE Rationale\r\n", 1)[0],
    "leie": READERS["leie"][1].split(b"\n", 1)[0],
}


class Hung(Exception):
    pass


def _hung(signum: int, frame: object) -> None:
    raise Hung


def exercise(read: Reader, data: bytes) -> None:
    """Read everything, render the error if any; time it."""
    previous = signal.signal(signal.SIGALRM, _hung)
    signal.setitimer(signal.ITIMER_REAL, 5)
    # CPU time of this process: the bound is the work an input costs, not how
    # busy the machine is with others (wall time failed it under a loaded CI run).
    started = time.process_time()
    refused: CmsError | None = None
    try:
        try:
            for _ in read(data):
                pass
        except CmsError as error:
            refused = error
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        assert time.process_time() - started < 1.0
    if refused is not None:
        str(refused)
        assert refused.to_dict()["code"].startswith("cms_")
        assert refused.where is None or refused.where.startswith(("row ", "column "))


@pytest.mark.parametrize("name", sorted(READERS))
@settings(FUZZ)
@given(data=st.binary(max_size=3_000))
def test_arbitrary_bytes(name: str, data: bytes) -> None:
    exercise(READERS[name][0], data)


@pytest.mark.parametrize("name", sorted(READERS))
@settings(FUZZ)
@given(data=st.binary(max_size=3_000))
def test_arbitrary_bytes_after_a_valid_header(name: str, data: bytes) -> None:
    exercise(READERS[name][0], HEADERS[name] + data)


KINDS = st.sampled_from(["flip", "insert", "cut", "mark"])
MARKS = st.sampled_from([b'"', b"\t", b",", b"\r", b"\n", b"*", b"0"])


@st.composite
def mutations(draw: st.DrawFn, original: bytes) -> bytes:
    data = bytearray(original)
    for _ in range(draw(st.integers(min_value=1, max_value=5))):
        at = draw(st.integers(min_value=0, max_value=len(data)))
        kind = draw(KINDS)
        if kind == "flip" and at < len(data):
            data[at] = draw(st.integers(min_value=0, max_value=255))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "cut":
            del data[at : at + draw(st.integers(min_value=1, max_value=120))]
        else:
            data[at:at] = draw(MARKS)
    return bytes(data)


MUTATIONS = {name: mutations(original) for name, (_, original) in READERS.items()}


@pytest.mark.parametrize("name", sorted(READERS))
@settings(FUZZ)
@given(data=st.data())
def test_mutated_tables(name: str, data: st.DataObject) -> None:
    exercise(READERS[name][0], data.draw(MUTATIONS[name]))
