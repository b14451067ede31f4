"""Read speed of the CMS and OIG table readers on synthetic tables of 2,000,000 rows.

    uv run python bench/bench_cms_tables.py [--rows 2000000] [--mue-codes 15000] [--seed 7]

Writes, to a temporary folder, synthetic tables in the published layouts
(``formats/cms/synthetic`` and ``write``): the NCCI PTP table as CMS's
tab-delimited ``.TXT`` and as the CSV variant, an MUE CSV and an LEIE CSV
of ``--rows`` rows each (the MUE file repeats its 220,000 synthetic codes
to reach that size; the reader does not care), and an MUE table of the
real size, ``--mue-codes`` codes. Then prints, per file, the write time
and the read time of the reader going through every row from an open
file, in rows/s, and at the end the process's peak resident memory: the
readers stream, so it stays flat however large the files are.
"""

from __future__ import annotations

import argparse
import itertools
import resource
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from claimbridge.formats.cms import (
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
from claimbridge.formats.cms.synthetic import CODE_SPACE


def repeated_mue(rows: int, seed: int) -> Iterator[object]:
    cycle = itertools.cycle(list(synthetic_mue_edits(min(rows, CODE_SPACE), seed=seed)))
    return itertools.islice(cycle, rows)


def measure(
    folder: Path,
    name: str,
    rows: int,
    write: Callable[[BinaryIO], int],
    read: Callable[[BinaryIO], Iterable[object]],
) -> None:
    path = folder / name
    started = time.perf_counter()
    with path.open("wb") as out:
        written = write(out)
    wrote = time.perf_counter() - started
    started = time.perf_counter()
    with path.open("rb") as stream:
        count = sum(1 for _ in read(stream))
    took = time.perf_counter() - started
    if count != rows or written != rows:
        raise SystemExit(f"{name}: wrote {written:,} and read {count:,} rows, not {rows:,}")
    megabytes = path.stat().st_size / 1e6
    print(
        f"{name:<22} {rows:>10,} rows {megabytes:7.1f} MB   "
        f"write {wrote:6.2f} s ({rows / wrote:>9,.0f} rows/s)   "
        f"read {took:6.2f} s ({rows / took:>9,.0f} rows/s, {megabytes / took:5.1f} MB/s)"
    )
    path.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--mue-codes", type=int, default=15_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rows: int = args.rows
    seed: int = args.seed

    with tempfile.TemporaryDirectory(prefix="cms-bench-") as name:
        folder = Path(name)
        measure(
            folder,
            "PTP .TXT (tab)",
            rows,
            lambda out: write_ptp(synthetic_ptp_edits(rows, seed=seed), out),
            read_ptp,
        )
        measure(
            folder,
            "PTP CSV",
            rows,
            lambda out: write_ptp(synthetic_ptp_edits(rows, seed=seed), out, delimiter=","),
            read_ptp,
        )
        measure(
            folder,
            "MUE CSV (real size)",
            args.mue_codes,
            lambda out: write_mue(synthetic_mue_edits(args.mue_codes, seed=seed), out),
            read_mue,
        )
        measure(
            folder,
            "MUE CSV",
            rows,
            lambda out: write_mue(repeated_mue(rows, seed), out),  # type: ignore[arg-type]
            read_mue,
        )
        measure(
            folder,
            "LEIE CSV (YYYYMMDD)",
            rows,
            lambda out: write_leie(synthetic_exclusions(rows, seed=seed), out),
            read_leie,
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory of the process: {peak:,.0f} MB")


if __name__ == "__main__":
    main()
