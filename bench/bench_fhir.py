"""Throughput of the FHIR R4 Bundle reader on a generated Bundle of 10,000 claims.

    uv run python bench/bench_fhir.py [--claims 10000] [--rounds 2] [--seed 7]

Builds a synthetic ``collection`` Bundle (``formats/fhir/synthetic``: each
claim with its Patient, Coverage and Encounter, one in five patients a
dependent, 1 to 4 items a claim; about 4.2 KB of JSON a claim), then prints:

1. parse only: reading the body and ``json.loads`` with the nesting check,
   in MB/s and claims/s;
2. ``read_bundle``: parse, the FHIR R4 structure check of every resource a
   claim uses (``fhir.resources``), references, mapping to 837P records,
   in claims/s: the figure that counts;
3. for comparison only, the same with the structure check switched off
   (it is not an option of the reader), and the share of the time the check
   takes.

Each figure is the best of ``--rounds`` interleaved runs, to damp noise from
other work on the machine.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from claimbridge.formats.fhir import bundle as bundle_module
from claimbridge.formats.fhir import read_bundle
from claimbridge.formats.fhir.body import DEFAULT_MAX_DEPTH, load_json, read_body
from claimbridge.formats.fhir.synthetic import synthetic_bundle


def timed(run: Callable[[], int]) -> Callable[[], tuple[float, int]]:
    def measure() -> tuple[float, int]:
        started = time.perf_counter()
        count = run()
        return time.perf_counter() - started, count

    return measure


@contextmanager
def structure_check_off() -> Iterator[None]:
    namespace = vars(bundle_module)
    original = namespace["check_resource"]
    namespace["check_resource"] = lambda resource, path: []
    try:
        yield
    finally:
        namespace["check_resource"] = original


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    claims: int = args.claims

    data = json.dumps(synthetic_bundle(claims, seed=args.seed)).encode()
    megabytes = len(data) / 1e6
    print(f"bundle: {claims:,} claims, {megabytes:.1f} MB of JSON")

    def parse() -> int:
        load_json(read_body(data, max_bytes=len(data)), max_depth=DEFAULT_MAX_DEPTH)
        return claims

    def read() -> int:
        reading = read_bundle(data, max_bytes=len(data))
        count = sum(1 for _ in reading)
        if count != claims or not reading.accepted:
            raise SystemExit(f"the synthetic Bundle did not read cleanly: {reading.errors[:3]}")
        return count

    def read_unchecked() -> int:
        with structure_check_off():
            return read()

    runs = [timed(parse), timed(read), timed(read_unchecked)]
    best = [float("inf")] * len(runs)
    for _ in range(args.rounds):
        for index, run in enumerate(runs):
            best[index] = min(best[index], run()[0])
    parsed, checked, unchecked = best
    print(
        f"parse only (size bound, UTF-8, nesting check, json.loads): {parsed:6.2f} s  "
        f"{megabytes / parsed:6.1f} MB/s  {claims / parsed:8,.0f} claims/s"
    )
    print(
        f"read_bundle (parse, R4 structure check, references, mapping): {checked:6.2f} s  "
        f"{claims / checked:8,.0f} claims/s"
    )
    print(
        f"  for comparison, without the structure check: {unchecked:6.2f} s  "
        f"{claims / unchecked:8,.0f} claims/s; the check takes "
        f"{(checked - unchecked) / checked:.0%} of read_bundle"
    )


if __name__ == "__main__":
    main()
