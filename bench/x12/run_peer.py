"""Time one reader over one 837P file, once, and print the result as JSON.

    PYTHON bench/x12/run_peer.py CONTESTANT FILE

Run by ``bench/bench_x12.py`` with the Python of the contestant's own virtual
environment, so this file imports nothing but the standard library and the
contestant's package. The clock starts after the imports (which are not what
is being compared) and stops when every claim has been reached through the
contestant's own model. The last line printed is a JSON object: ``claims``,
``seconds`` (wall clock), ``cpu_seconds`` (this process's CPU time, steadier
on a shared machine), ``peak_rss_mb`` (the process's ``ru_maxrss``) and
``note``.
"""

from __future__ import annotations

import collections
import collections.abc
import importlib
import io
import json
import resource
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

CHUNK = 1 << 20

# Each contestant's package exists only in its own environment, so each adapter
# imports its library inside the function (PRELOAD below loads it before the clock).


def _segments(path: str) -> Iterator[list[str]]:
    """Plain Python: stream the file in 1 MiB chunks, split segments, then elements."""
    with open(path, "rb") as stream:
        head = stream.read(106).decode("latin-1")
        element, terminator = head[3], head[105]
        stream.seek(0)
        rest = ""
        while chunk := stream.read(CHUNK):
            parts = (rest + chunk.decode("latin-1")).split(terminator)
            rest = parts.pop()
            for part in parts:
                yield part.strip().split(element)
        if rest.strip():
            yield rest.strip().split(element)


def split_segments(path: str) -> tuple[int, str]:
    claims = 0
    for fields in _segments(path):
        if fields[0] == "CLM":
            claims += 1
    return claims, ""


def _claim_records(path: str) -> Iterator[tuple[list[str], ...]]:
    """Plain Python: one tuple of segments per claim (CLM up to the next HL, CLM or SE)."""
    record: list[list[str]] = []
    for fields in _segments(path):
        tag = fields[0]
        if tag == "CLM":
            if record:
                yield tuple(record)
            record = [fields]
        elif tag in {"HL", "SE"}:
            if record:
                yield tuple(record)
            record = []
        elif record:
            record.append(fields)
    if record:
        yield tuple(record)


def group_claims(path: str) -> tuple[int, str]:
    return sum(1 for _ in _claim_records(path)), ""


def claimbridge(path: str) -> tuple[int, str]:
    from claimbridge.formats.x12 import read_837p  # noqa: PLC0415

    with open(path, "rb") as stream:
        reading = read_837p(stream)
        claims = sum(1 for _ in reading)
    errors = list(reading.errors)
    if errors:
        return claims, f"{len(errors)} errors, the first: {errors[0]}"
    return claims, "accepted"


def linuxforhealth(path: str) -> tuple[int, str]:
    from linuxforhealth.x12.io import X12ModelReader  # noqa: PLC0415

    claims = 0
    with X12ModelReader(path) as reader:
        for model in reader.models():
            # LinuxForHealth 0.57 has no claim accessor: walk both branches of the hierarchy.
            for provider in model.loop_2000a:
                for subscriber in provider.loop_2000b:
                    claims += len(subscriber.loop_2300 or ())
                    for patient in subscriber.loop_2000c or ():
                        claims += len(patient.loop_2300 or ())
    return claims, ""


def x12sdk(path: str) -> tuple[int, str]:
    from x12sdk.io import X12ModelReader  # noqa: PLC0415

    claims = 0
    with X12ModelReader(path) as reader:
        for model in reader.models():
            claims += sum(1 for _ in model.claims())
    return claims, ""


def pyx12(path: str) -> tuple[int, str]:
    """pyx12's validating walk of the guide's map, as its x12valid tool runs it (with a 999)."""
    import pyx12.params  # noqa: PLC0415
    import pyx12.x12n_document  # noqa: PLC0415

    claims = 0

    def count(segment: Any, *_: Any) -> None:
        nonlocal claims
        if segment.get_seg_id() == "CLM":
            claims += 1

    ack = io.StringIO()
    valid = pyx12.x12n_document.x12n_document(
        pyx12.params.params(), path, ack, None, callback=count
    )
    return claims, "valid" if valid else "pyx12 found errors"


def badx12(path: str) -> tuple[int, str]:
    from badx12 import Parser  # noqa: PLC0415

    document = Parser().parse_document(path)
    claims = sum(
        1
        for group in document.interchange.groups
        for transaction in group.transaction_sets
        for segment in transaction.body
        if segment.fields[0].content == "CLM"
    )
    return claims, ""


CONTESTANTS: dict[str, Callable[[str], tuple[int, str]]] = {
    "split": split_segments,
    "group": group_claims,
    "claimbridge": claimbridge,
    "linuxforhealth": linuxforhealth,
    "x12sdk": x12sdk,
    "pyx12": pyx12,
    "badx12": badx12,
}


# Imported before the clock starts: loading a library is not parsing a file.
PRELOAD: dict[str, tuple[str, ...]] = {
    "claimbridge": ("claimbridge.formats.x12",),
    "linuxforhealth": (
        "linuxforhealth.x12.io",
        "linuxforhealth.x12.v5010.x12_837_005010X222A2.parsing",
        "linuxforhealth.x12.v5010.x12_837_005010X222A2.transaction_set",
    ),
    "x12sdk": (
        "x12sdk.io",
        "x12sdk.v5010.x12_837_005010X222A2.parsing",
        "x12sdk.v5010.x12_837_005010X222A2.transaction_set",
    ),
    "pyx12": ("pyx12.params", "pyx12.x12n_document"),
    "badx12": ("badx12",),
}


def _restore_collections_aliases() -> None:
    """badx12 0.2.2 pins click 7.0, which imports ``collections.Iterable`` (gone in 3.10)."""
    for name in ("Iterable", "Mapping", "MutableMapping", "Sequence"):
        if not hasattr(collections, name):
            setattr(collections, name, getattr(collections.abc, name))


def main() -> None:
    name, path = sys.argv[1], sys.argv[2]
    run = CONTESTANTS[name]
    if name == "badx12":
        _restore_collections_aliases()
    for module in PRELOAD.get(name, ()):
        importlib.import_module(module)
    started, cpu_started = time.perf_counter(), time.process_time()
    claims, note = run(path)
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {
        "claims": claims,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "peak_rss_mb": peak,
        "note": note,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
