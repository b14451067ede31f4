"""Claims per second of claimbridge's 837P reader beside the Python peers.

    uv run python bench/bench_x12.py [claims] [--rounds N] [--seed S] [--only KEY,...]

Builds one synthetic 005010X222A1 interchange (``bench/x12/generate.py``,
10,000 claims by default, into a folder of its own under ``bench/.data/``,
removed at the end), then times on that same
file, in one run:

- claimbridge: ``sum(1 for _ in read_837p(stream))`` from
  ``claimbridge.formats.x12``, envelope and balancing checks on;
- LinuxForHealth x12 0.57.0: ``X12ModelReader(path).models()``, each claim
  reached through the 2000A/2000B/2000C loops of its pydantic models;
- x12sdk 2.2.0: ``X12ModelReader(path).models()`` and each model's
  ``claims()``;
- pyx12 4.0.0: ``x12n_document``, the validating walk of the guide's map
  that its ``x12valid`` tool runs, writing its 999 to memory;
- badx12 0.2.2, for reference: ``Parser().parse_document(path)`` (envelopes
  and generic segments; it has no 837 model);
- two plain-Python baselines: the file streamed in 1 MiB chunks and split
  into segments and elements, and the same grouped into one record per claim.

Each peer runs in its own virtual environment under ``bench/.venvs/``, made
on demand with ``uv venv`` and ``uv pip install`` at a pinned version. Every
round of every contestant is a fresh subprocess; rounds are interleaved so
drift on a shared machine falls on all alike, and each contestant's fastest
round counts. Import time is not counted. A peer that fails to install, to
parse, or to find every claim is reported as such.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from x12.generate import Summary, write_837p
from x12.peers import (
    BASELINES,
    BENCH,
    CLAIMBRIDGE,
    PEERS,
    Contestant,
    ContestantFailed,
    Round,
    python_for,
    run_round,
)

DATA = BENCH / ".data"
ISSUE_GOAL_RATE = 25_000
ISSUE_GOAL_RATIO = 35


@dataclass
class Standing:
    contestant: Contestant
    python: str = ""
    best: Round | None = None
    failure: str = ""

    @property
    def rate(self) -> float:
        return self.best.claims / self.best.seconds if self.best and not self.failure else 0.0

    @property
    def cpu_rate(self) -> float:
        if not self.best or self.failure:
            return 0.0
        return self.best.claims / max(self.best.cpu_seconds, 1e-9)


def build_file(folder: Path, claims: int, seed: int) -> tuple[Path, Summary]:
    path = folder / f"837p-{claims}-seed{seed}.x12"
    started = time.perf_counter()
    with path.open("wb") as out:
        summary = write_837p(out, claims=claims, seed=seed)
    elapsed = time.perf_counter() - started
    print(f"generated {path} in {elapsed:.1f} s", file=sys.stderr)
    return path, summary


def prepare(contestant: Contestant) -> Standing:
    standing = Standing(contestant)
    if contestant.is_peer:
        print(f"preparing {contestant.label} ...", file=sys.stderr)
    try:
        standing.python = python_for(contestant)
    except ContestantFailed as exc:
        standing.failure = str(exc)
    return standing


def race(standings: list[Standing], path: Path, *, claims: int, rounds: int) -> None:
    timeout = 120 + claims / 5  # a reader slower than 5 claims/s has failed
    for number in range(1, rounds + 1):
        for standing in standings:
            if standing.failure:
                continue
            label = standing.contestant.label
            print(f"round {number}/{rounds}: {label:36}", end=" ", file=sys.stderr, flush=True)
            try:
                result = run_round(standing.contestant, standing.python, path, timeout=timeout)
            except ContestantFailed as exc:
                standing.failure = str(exc)
                print("failed", file=sys.stderr)
                continue
            print(f"{result.claims / result.seconds:>10,.0f} claims/s", file=sys.stderr)
            if result.claims != claims:
                said = f" ({result.note})" if result.note else ""
                standing.failure = f"read {result.claims:,} claims of {claims:,}{said}"
                continue
            if standing.best is None or result.seconds < standing.best.seconds:
                standing.best = result


def report(standings: list[Standing], summary: Summary, *, seed: int, rounds: int) -> None:
    print(
        f"\n837P (005010X222A1), seed {seed}: {summary.claims:,} claims, {summary.lines:,} "
        f"service lines, {summary.segments:,} segments, {summary.sets} transaction sets, "
        f"{summary.bytes / 1e6:.1f} MB; best of {rounds} rounds, each a fresh process\n"
    )
    ours = next(s for s in standings if s.contestant is CLAIMBRIDGE)
    print(
        f"{'':36} {'claims/s':>10} {'best s':>9} {'claims/CPU s':>13} {'peak RSS':>9} "
        f"{'claimbridge ×':>14}"
    )
    for standing in standings:
        label = standing.contestant.label
        if standing.failure:
            print(f"{label:36} FAILED: {standing.failure}")
            continue
        assert standing.best is not None
        ratio = f"{ours.rate / standing.rate:.2f}" if ours.rate else "-"
        note = f"  ({standing.best.note})" if standing.best.note else ""
        print(
            f"{label:36} {standing.rate:>10,.0f} {standing.best.seconds:>9.3f} "
            f"{standing.cpu_rate:>13,.0f} {standing.best.peak_rss_mb:>6.0f} MB {ratio:>14}{note}"
        )
    peers = [s for s in standings if s.contestant.is_peer and not s.contestant.extra]
    ranked = sorted((s for s in peers if not s.failure), key=lambda s: s.rate, reverse=True)
    print()
    if ours.failure:
        print("claimbridge did not run: no ratio.")
    elif ranked:
        fastest = ranked[0]
        print(
            f"claimbridge: {ours.rate:,.0f} claims/s (goal {ISSUE_GOAL_RATE:,}); "
            f"{ours.rate / fastest.rate:.1f}× the fastest peer, {fastest.contestant.label} "
            f"(goal {ISSUE_GOAL_RATIO}×); by CPU time "
            f"{ours.cpu_rate / max(s.cpu_rate for s in ranked):.1f}×"
        )
        for baseline in (s for s in standings if s.contestant in BASELINES and not s.failure):
            print(f"claimbridge / {baseline.contestant.label}: {ours.rate / baseline.rate:.2f}")
    else:
        print("no peer parsed the file: no ratio to the fastest peer.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("claims", nargs="?", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", help="comma-separated contestant keys, e.g. claimbridge,pyx12")
    args = parser.parse_args()
    everyone = [*BASELINES, CLAIMBRIDGE, *PEERS]
    if args.only:
        keys = set(args.only.split(","))
        everyone = [c for c in everyone if c.key in keys or c is CLAIMBRIDGE]
    standings = [prepare(c) for c in everyone]
    DATA.mkdir(exist_ok=True)
    # A folder of this run's own, so runs side by side never read each other's half-written file.
    with tempfile.TemporaryDirectory(dir=DATA) as folder:
        path, summary = build_file(Path(folder), args.claims, args.seed)
        race(standings, path, claims=summary.claims, rounds=args.rounds)
    report(standings, summary, seed=args.seed, rounds=args.rounds)


if __name__ == "__main__":
    main()
