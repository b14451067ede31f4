"""Peak memory of claimbridge's 837P reader on a large file and on hostile ones.

    uv run python bench/bench_x12_memory.py [--size 1G] [--seed S] [--cases NAME,...]

Writes each input to a temporary file (streamed, in bounded memory), then
reads it with ``read_837p`` from ``claimbridge.formats.x12`` in a fresh
process (``bench/x12/measure.py``) and prints the time, claims per second and
the growth of the resident set from just before the read to its peak:

- ``large``: a synthetic 837P of ``--size`` bytes (1 GiB by default, about
  1.7 million claims), which the issue asks to read with under 64 MB of
  growth;
- ``no-terminator``: a correct ISA naming ``~``, then 200 MB of segments
  ended by line breaks only, one endless segment;
- ``huge-claim``: one claim of a million segments (250,000 service lines);
- ``deep-hl``: an HL chain a million levels deep.

The three hostile inputs must be refused, in time linear in what was read
and in bounded memory. The child process runs under an address-space limit
(``--limit``, MiB) so an unbounded reader fails there rather than taking the
machine with it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import BinaryIO

from x12.generate import parse_size, write_837p
from x12.hostile import deep_hierarchy, huge_claim, no_terminator

MEASURE = Path(__file__).resolve().parent / "x12" / "measure.py"
AIM_MB = 64


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    title: str
    write: Callable[[BinaryIO], int]
    must_refuse: bool


def cases(size: int, seed: int, no_terminator_size: int) -> list[Case]:
    def large(out: BinaryIO) -> int:
        return write_837p(out, target_bytes=size, seed=seed).bytes

    return [
        Case("large", f"837P of {size / 2**30:.2f} GiB, seed {seed}", large, must_refuse=False),
        Case(
            "no-terminator",
            f"no segment terminator ({no_terminator_size / 1e6:.0f} MB, one segment)",
            partial(no_terminator, size=no_terminator_size),
            must_refuse=True,
        ),
        Case(
            "huge-claim",
            "one claim of a million segments",
            partial(huge_claim, lines=250_000),
            must_refuse=True,
        ),
        Case(
            "deep-hl",
            "HL chain a million levels deep",
            partial(deep_hierarchy, depth=1_000_000),
            must_refuse=True,
        ),
    ]


def measure(path: Path, *, limit_mb: int, timeout: float) -> dict[str, object]:
    try:
        done = subprocess.run(  # noqa: S603 (our own measuring script)
            [sys.executable, str(MEASURE), str(path), str(limit_mb)],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"crashed": f"did not finish within {timeout:.0f} s"}
    if done.returncode != 0:
        tail = " | ".join(done.stderr.strip().splitlines()[-3:])
        return {"crashed": f"exit code {done.returncode}: {tail}"}
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run_case(case: Case, folder: Path, *, limit_mb: int, timeout: float) -> None:
    path = folder / f"{case.name}.x12"
    started = time.perf_counter()
    with path.open("wb") as out:
        size = case.write(out)
    built = time.perf_counter() - started
    print(f"\n{case.title}: {size:,} bytes (written in {built:.0f} s)", flush=True)
    result = measure(path, limit_mb=limit_mb, timeout=timeout)
    path.unlink()
    if "crashed" in result:
        print(f"  FAILED: the reader crashed or hung: {result['crashed']}")
        return
    seconds = float(str(result["seconds"]))
    cpu_seconds = float(str(result["cpu_seconds"]))
    claims = int(str(result["claims"]))
    growth = float(str(result["growth_mb"]))
    outcome = str(result["outcome"])
    print(f"  {outcome}")
    consumed = int(str(result["bytes_read"]))
    rate = ""
    if not case.must_refuse:
        rate = f", {claims / seconds:,.0f} claims/s ({claims / cpu_seconds:,.0f} per CPU second)"
    print(
        f"  {seconds:.2f} s ({cpu_seconds:.2f} s CPU); read {consumed / 1e6:,.1f} of "
        f"{size / 1e6:,.1f} MB ({consumed / 1e6 / seconds:,.1f} MB/s); "
        f"{claims:,} claims yielded{rate}"
    )
    verdict = "met" if growth < AIM_MB else "NOT met"
    exact = "" if result.get("exact_peak") else " (ru_maxrss: an upper bound)"
    print(
        f"  peak RSS growth {growth:.1f} MB{exact}; aim under {AIM_MB} MB: {verdict}; "
        f"RSS before the read {float(str(result['rss_before_mb'])):.1f} MB"
    )
    if case.must_refuse and not result["refused"]:
        print("  NOT REFUSED: this input should have been refused")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=parse_size, default=1 << 30, help="e.g. 1G, 200M")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-terminator-size", type=parse_size, default=200 * 10**6)
    parser.add_argument("--cases", default="large,no-terminator,huge-claim,deep-hl")
    parser.add_argument("--limit", type=int, default=4096, help="child address space, MiB")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per case")
    args = parser.parse_args()
    wanted = args.cases.split(",")
    chosen = [c for c in cases(args.size, args.seed, args.no_terminator_size) if c.name in wanted]
    print(f"claimbridge read_837p, one fresh process per input; aim: growth under {AIM_MB} MB")
    with tempfile.TemporaryDirectory(prefix="claimbridge-x12-memory-") as folder:
        for case in chosen:
            run_case(case, Path(folder), limit_mb=args.limit, timeout=args.timeout)


if __name__ == "__main__":
    main()
