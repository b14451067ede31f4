"""Claim integrity: precision and recall per rule family, and the scrub's speed and memory.

    uv run python bench/bench_integrity.py [--quality] [--speed] [--claims 50000]
        [--providers 500] [--lines 1000000] [--pairs 2000000] [--mue-codes 15000]
        [--flat-lines 200000] [--per-rule] [--seed 7]

Both modes by default. Sets come from ``integrity/synthetic/``: clean
claims, violations injected at 1% of claims per family (``Rates``), decoys
that look like violations and are not, and a provider population of
which 20% bill E/M levels shifted up (each visit one level up with
probability 0.4); the others bill their specialty's peer mix, 300 to 1,500
visits a quarter.

``--quality`` scrubs ``--claims`` claims (``--providers`` providers) with every
rule, its tables written in CMS's and OIG's layouts and read back with the
loaders, and prints per family: labels injected, findings, true and false
positives, false negatives, precision and recall; for upcoding, recall
among the shifted providers and the false-positive rate among the honest
ones. A finding counts once per (rule, claim, line, provider). It exits 1
unless every deterministic family (NCCI, MUE, duplicate, excluded, dates,
codes, encounter, hours) has precision and recall of 100%, upcoding recall
is at least 95% and its false-positive rate at most 1% (issue 8).

``--speed`` builds a set of about ``--lines`` lines, writes a PTP table of
``--pairs`` pairs and an MUE table of ``--mue-codes`` codes to temporary files
(``formats.cms.write_ptp``/``write_mue``) and loads them with
``integrity.tables.ncci.load_ptp``/``load_mue``, so reading is measured too;
then scrubs every line with every rule and prints the load time, the scrub
time (wall and CPU), lines/s, microseconds per line, and memory: the
resident set before the scrub, the scrub's own peak (``VmHWM`` after
resetting it) and the process's ``ru_maxrss``. The set's labels are
checked at that size too. The set is made against the first tenth of the
table (its codes take the same lookup paths in the whole table), so to
show the time per line does not grow with the table, the first
``--flat-lines`` lines are scrubbed against that tenth and against the
whole, with every rule and with ``ncci-ptp`` alone: the least CPU time of
three runs each, taken in turn, and the ratio. ``--per-rule`` adds each rule alone.
Aim (issue 8): 1,000,000 lines in under 20 seconds and 2 GB, the time per
line flat as the table grows.

The machine may be shared: the CPU time of this process is printed beside
the wall time, and the load average at the start.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import io
import math
import os
import re
import resource
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from claimbridge.formats.cms import (
    synthetic_mue_edits,
    synthetic_ptp_edits,
    write_leie,
    write_mue,
    write_ptp,
)
from claimbridge.integrity.context import ScrubContext
from claimbridge.integrity.engine import Rule, ScrubReport, scrub
from claimbridge.integrity.model import ScrubClaim
from claimbridge.integrity.peers import default_peers
from claimbridge.integrity.rules import default_rules
from claimbridge.integrity.stats import cohens_h
from claimbridge.integrity.synthetic import (
    Evaluation,
    LabelledSet,
    Rates,
    evaluate,
    labelled_claims,
    shifted_shares,
)
from claimbridge.integrity.tables.icd10cm import ICD10CMRelease
from claimbridge.integrity.tables.leie import load_leie
from claimbridge.integrity.tables.ncci import MueIndex, PtpIndex, load_mue, load_ptp

console = Console(stderr=True)
DETERMINISTIC = ("ncci", "mue", "duplicate", "excluded", "dates", "codes", "encounter", "hours")
UPCODING_RECALL = 0.95
UPCODING_FALSE_POSITIVES = 0.01
AIM_SECONDS = 20.0
AIM_MB = 2048.0
LINES_PER_CLAIM = 1.97  # about what labelled_claims gives at the default rates
REPEATS = 3


# -- memory and time -----------------------------------------------------------------


def status_mb(field: str) -> float:
    """A field of /proc/self/status (VmRSS, VmHWM) in MB; 0 where there is none."""
    try:
        with open("/proc/self/status") as status:
            found = re.search(rf"^{field}:\s+(\d+) kB", status.read(), re.MULTILINE)
    except OSError:
        return 0.0
    return int(found.group(1)) / 1024 if found else 0.0


def reset_peak() -> bool:
    """Reset VmHWM to the current resident set, so the next phase's peak is its own."""
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
    except OSError:
        return False
    return True


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


@contextmanager
def timed(what: str) -> Iterator[list[float]]:
    """Wall and CPU seconds of the block, into the list it yields; a spinner meanwhile."""
    spent: list[float] = []
    wall, cpu = time.perf_counter(), time.process_time()
    with console.status(what):
        yield spent
    spent.extend((time.perf_counter() - wall, time.process_time() - cpu))


def timed_scrub(
    claims: Sequence[ScrubClaim], context: ScrubContext, rules: Sequence[Rule], what: str
) -> tuple[ScrubReport, float, float]:
    """The report, wall and CPU seconds of one scrub, with a progress bar over its lines."""
    total = sum(len(claim.lines) for claim in claims)
    columns = (TextColumn(what), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(what, total=total)
        pending = [0]

        def advance(lines: int) -> None:
            pending[0] += lines
            if pending[0] >= 50_000:
                progress.update(task, advance=pending[0])
                pending[0] = 0

        gc.collect()
        wall, cpu = time.perf_counter(), time.process_time()
        report = scrub(claims, context, rules, progress=advance)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return report, wall, cpu


def generate(seed: int, claims: int, providers: int, ptp_pairs: int = 20_000) -> LabelledSet:
    with timed(f"generating {claims:,} claims") as spent:
        labelled = labelled_claims(seed, claims=claims, providers=providers, ptp_pairs=ptp_pairs)
    print(
        f"labelled set: {len(labelled.claims):,} claims, {labelled.lines:,} lines, "
        f"{len(labelled.labels):,} labels, {sum(labelled.decoys.values()):,} decoys, "
        f"{len(labelled.shifted) + len(labelled.honest):,} providers "
        f"({len(labelled.shifted)} shifted); generated in {spent[0]:.1f} s"
    )
    return labelled


# -- quality -------------------------------------------------------------------------


def through_files(labelled: LabelledSet) -> ScrubContext:
    """The set's tables written in CMS's and OIG's layouts and read back with the loaders."""
    ptp, mue, leie = io.BytesIO(), io.BytesIO(), io.BytesIO()
    write_ptp(labelled.ptp_edits, ptp)
    write_mue(labelled.mue_edits, mue)
    write_leie(labelled.exclusions, leie)
    return dataclasses.replace(
        labelled.context,
        ptp=load_ptp(ptp.getvalue(), label="synthetic PTP"),
        mue=load_mue(mue.getvalue(), label="synthetic MUE"),
        exclusions=load_leie(leie.getvalue(), label="synthetic LEIE"),
    )


def print_scores(evaluation: Evaluation) -> None:
    print(
        f"{'family':<10} {'injected':>9} {'found':>7} {'true +':>7} {'false +':>8} "
        f"{'false -':>8} {'precision':>10} {'recall':>8}"
    )
    for score in evaluation.scores:
        print(
            f"{score.family:<10} {score.injected:>9,} {score.found:>7,} "
            f"{score.true_positives:>7,} {score.false_positives:>8,} "
            f"{score.false_negatives:>8,} {score.precision:>10.2%} {score.recall:>8.2%}"
        )
    upcoding = evaluation.score("upcoding")
    print(
        f"upcoding: {upcoding.true_positives} of {upcoding.injected} shifted providers flagged "
        f"(recall {upcoding.recall:.1%}); {upcoding.false_positives} of "
        f"{upcoding.negatives} honest providers flagged "
        f"(false-positive rate {upcoding.false_positive_rate or 0:.2%})"
    )


def print_misses(evaluation: Evaluation, shown: int = 10) -> None:
    for label in evaluation.missed[:shown]:
        where = f"claim {label.claim} line {label.line}" if label.claim else label.provider
        print(f"  missed {label.rule} ({label.kind}): {where}")
    for finding in evaluation.unexpected[:shown]:
        print(f"  unexpected {finding.rule}: {finding.claim} line {finding.line}: ", end="")
        print(finding.message[:160])


def failures(evaluation: Evaluation) -> list[str]:
    problems = [
        f"{score.family}: precision {score.precision:.2%}, recall {score.recall:.2%}"
        for score in evaluation.scores
        if score.family in DETERMINISTIC and (score.precision < 1 or score.recall < 1)
    ]
    upcoding = evaluation.score("upcoding")
    if upcoding.recall < UPCODING_RECALL:
        problems.append(f"upcoding recall {upcoding.recall:.1%} < {UPCODING_RECALL:.0%}")
    if (upcoding.false_positive_rate or 0) > UPCODING_FALSE_POSITIVES:
        problems.append(
            f"upcoding false positives {upcoding.false_positive_rate:.2%} "
            f"> {UPCODING_FALSE_POSITIVES:.0%}"
        )
    return problems


def effect_size() -> str:
    """The shift's size on the shipped 'all' established mix: top-two share and Cohen's h."""
    shift = Rates().upcoding_shift
    peer = default_peers().mix_for("", "established").shares
    moved = shifted_shares(peer, shift)
    before, after = peer[-2] + peer[-1], moved[-2] + moved[-1]
    return (
        f"shift {shift}: 99214+99215 {before:.0%} -> {after:.1%}, "
        f"Cohen's h {cohens_h(after, before):.2f} (the rule flags h >= 0.2 at p < 0.001)"
    )


def quality(args: argparse.Namespace) -> bool:
    print(f"== quality: {args.claims:,} claims, {args.providers} providers, seed {args.seed}")
    labelled = generate(args.seed, args.claims, args.providers)
    context = through_files(labelled)
    report, wall, _ = timed_scrub(labelled.claims, context, default_rules(), "scrubbing")
    print(
        f"scrubbed in {wall:.1f} s: {len(report.findings):,} findings; rules run: "
        f"{len(report.rules_run)}, skipped: {report.rules_skipped or 'none'}"
    )
    print("decoys, each of which must draw no finding:")
    for kind, count in sorted(labelled.decoys.items()):
        print(f"  {count:>6,}  {kind}")
    print(f"upcoding effect size: {effect_size()}")
    evaluation = evaluate(labelled, report.findings)
    print_scores(evaluation)
    print_misses(evaluation)
    problems = failures(evaluation)
    print("quality: " + ("; ".join(problems) if problems else "every aim met"))
    return not problems


# -- speed ---------------------------------------------------------------------------


def write_tables(folder: Path, seed: int, pairs: int, mue_codes: int) -> tuple[Path, Path]:
    ptp, mue = folder / f"ptp-{pairs}.txt", folder / f"mue-{mue_codes}.csv"
    with timed(f"writing a PTP table of {pairs:,} pairs") as spent, ptp.open("wb") as out:
        write_ptp(synthetic_ptp_edits(pairs, seed=seed), out)
    with mue.open("wb") as out:
        write_mue(synthetic_mue_edits(mue_codes, seed=seed), out)
    print(
        f"tables written in {spent[0]:.1f} s: PTP {ptp.stat().st_size / 1e6:,.0f} MB, "
        f"MUE {mue.stat().st_size / 1e6:,.1f} MB"
    )
    return ptp, mue


def load_tables(ptp: Path, mue: Path, context: ScrubContext) -> ScrubContext:
    with timed("loading the PTP and MUE tables") as spent:
        loaded = dataclasses.replace(context, ptp=load_ptp(ptp), mue=load_mue(mue))
    rows = loaded.ptp.rows if isinstance(loaded.ptp, PtpIndex) else 0
    codes = len(loaded.mue) if isinstance(loaded.mue, MueIndex) else 0
    print(
        f"tables loaded in {spent[0]:.1f} s wall, {spent[1]:.1f} s CPU: PTP {rows:,} rows "
        f"({rows / spent[0]:,.0f} rows/s), MUE {codes:,} codes; "
        f"resident set {status_mb('VmRSS'):,.0f} MB"
    )
    return loaded


def print_speed(lines: int, wall: float, cpu: float) -> None:
    print(
        f"scrub: {lines:,} lines in {wall:.1f} s wall, {cpu:.1f} s CPU: "
        f"{lines / wall:,.0f} lines/s, {wall / lines * 1e6:.1f} µs per line "
        f"({cpu / lines * 1e6:.1f} µs CPU)"
    )


def first_lines(claims: Sequence[ScrubClaim], lines: int) -> tuple[ScrubClaim, ...]:
    taken, count = [], 0
    for claim in claims:
        if count >= lines:
            break
        taken.append(claim)
        count += len(claim.lines)
    return tuple(taken)


def best_of(
    claims: Sequence[ScrubClaim], context: ScrubContext, rules: Sequence[Rule], what: str
) -> tuple[float, int]:
    """The least CPU seconds of ``REPEATS`` scrubs (the machine may be shared), and findings."""
    spent, findings = [], 0
    for _ in range(REPEATS):
        report, _, cpu = timed_scrub(claims, context, rules, what)
        spent.append(cpu)
        findings = len(report.findings)
    return min(spent), findings


def interleaved(
    claims: Sequence[ScrubClaim], contexts: Sequence[ScrubContext], rules: Sequence[Rule], what: str
) -> list[tuple[float, int]]:
    """``best_of`` for each context, their runs taken in turn so a change of load hits all."""
    spent: list[list[float]] = [[] for _ in contexts]
    findings = [0] * len(contexts)
    for _ in range(REPEATS):
        for number, context in enumerate(contexts):
            report, _, cpu = timed_scrub(claims, context, rules, what)
            spent[number].append(cpu)
            findings[number] = len(report.findings)
    return [(min(times), found) for times, found in zip(spent, findings, strict=True)]


def flatness(
    args: argparse.Namespace, folder: Path, labelled: LabelledSet, large: ScrubContext
) -> None:
    claims = first_lines(labelled.claims, args.flat_lines)
    lines = sum(len(claim.lines) for claim in claims)
    small_pairs = small_table(args.pairs)
    ptp, mue = write_tables(folder, args.seed, small_pairs, args.mue_codes)
    small = load_tables(ptp, mue, large)
    ncci = [rule for rule in default_rules() if rule.id == "ncci-ptp"]
    per_line: dict[tuple[str, int], float] = {}
    findings: dict[int, int] = {}
    for name, rules in (("every rule", default_rules()), ("ncci-ptp alone", ncci)):
        results = interleaved(claims, (small, large), rules, name)
        for pairs, (cpu, found) in zip((small_pairs, args.pairs), results, strict=True):
            per_line[(name, pairs)] = cpu / lines * 1e6
            findings.setdefault(pairs, found)
    print(f"CPU time per line as the PTP table grows ({lines:,} lines; least of {REPEATS} runs):")
    for name in ("every rule", "ncci-ptp alone"):
        low, high = per_line[(name, small_pairs)], per_line[(name, args.pairs)]
        print(
            f"  {name:<15} {small_pairs:>10,} pairs {low:6.1f} µs   "
            f"{args.pairs:>10,} pairs {high:6.1f} µs   ratio {high / low:.2f}"
        )
    same = findings[small_pairs] == findings[args.pairs]
    print(f"  findings: {findings[small_pairs]:,} and {findings[args.pairs]:,} (same: {same})")
    if args.per_rule:
        per_rule(claims, large, lines)


def small_table(pairs: int) -> int:
    """The PTP size the set is made against, and the small end of the flatness check."""
    return max(pairs // 10, 20_000)


def per_rule(claims: Sequence[ScrubClaim], context: ScrubContext, lines: int) -> None:
    print(f"each rule alone, CPU per line ({lines:,} lines; with the grouping its scope needs):")
    for rule in default_rules():
        cpu, _ = best_of(claims, context, [rule], rule.id)
        print(f"  {rule.id:<24} {cpu / lines * 1e6:6.1f} µs")


def speed(args: argparse.Namespace) -> None:
    print(f"== speed: about {args.lines:,} lines, PTP {args.pairs:,} pairs, seed {args.seed}")
    with timed("loading the ICD-10-CM release") as spent:
        ICD10CMRelease().load()
    print(f"ICD-10-CM release loaded in {spent[0]:.1f} s")
    baseline = status_mb("VmRSS")
    claims = math.ceil(args.lines / LINES_PER_CLAIM)
    labelled = generate(args.seed, claims, args.providers, small_table(args.pairs))
    print(
        f"resident set: {baseline:,.0f} MB at the start, {status_mb('VmRSS'):,.0f} MB with the set"
    )
    with tempfile.TemporaryDirectory(prefix="integrity-bench-") as name:
        folder = Path(name)
        ptp, mue = write_tables(folder, args.seed, args.pairs, args.mue_codes)
        context = load_tables(ptp, mue, labelled.context)
        before = status_mb("VmRSS")
        exact = reset_peak()
        report, wall, cpu = timed_scrub(labelled.claims, context, default_rules(), "scrubbing")
        peak = status_mb("VmHWM") if exact else max_rss_mb()
        print_speed(labelled.lines, wall, cpu)
        print(
            f"memory: {before:,.0f} MB resident before the scrub (set and tables), "
            f"scrub peak {peak:,.0f} MB (+{peak - before:,.0f} MB), "
            f"process peak (ru_maxrss) {max_rss_mb():,.0f} MB, "
            f"growth from the start {max_rss_mb() - baseline:,.0f} MB"
        )
        evaluation = evaluate(labelled, report.findings)
        bad = [s.family for s in evaluation.scores if s.family in DETERMINISTIC and s.recall < 1]
        bad += [
            s.family for s in evaluation.scores if s.family in DETERMINISTIC and s.precision < 1
        ]
        print(
            f"labels at this size: {len(report.findings):,} findings; deterministic families "
            + (f"short of 100%: {sorted(set(bad))}" if bad else "all at 100% precision and recall")
        )
        met = wall < AIM_SECONDS and max_rss_mb() < AIM_MB
        print(
            f"aim (< {AIM_SECONDS:.0f} s, < {AIM_MB / 1024:.0f} GB): {'met' if met else 'NOT met'}"
        )
        del report, evaluation
        flatness(args, folder, labelled, context)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quality", action="store_true", help="precision and recall per family")
    parser.add_argument("--speed", action="store_true", help="time and memory at scale")
    parser.add_argument("--claims", type=int, default=50_000, help="claims of the quality set")
    parser.add_argument("--providers", type=int, default=500)
    parser.add_argument("--lines", type=int, default=1_000_000, help="lines of the speed set")
    parser.add_argument("--pairs", type=int, default=2_000_000, help="PTP pairs (speed)")
    parser.add_argument("--mue-codes", type=int, default=15_000)
    parser.add_argument("--flat-lines", type=int, default=200_000)
    parser.add_argument("--per-rule", action="store_true", help="time each rule alone (speed)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    both = not (args.quality or args.speed)
    print(f"load average at the start: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    passed = quality(args) if args.quality or both else True
    if args.speed or both:
        speed(args)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
