"""``claimbridge scrub FILE``: check a claim file before it leaves, like a clearinghouse scrubber.

Standalone: no data directory, no server. The file is read with the
exchange's readers (837P, 837I, the CSV charge template or a FHIR R4
Bundle; the format is sniffed unless ``--format`` says it) and every rule
runs whose table was given: ``--ncci`` (NCCI PTP, practitioner), ``--mue``
(NCCI MUE, practitioner), ``--leie`` (the OIG's UPDATED.csv, and monthly
files after it), ``--peers`` (an E/M peer distribution replacing the
default). Rules without their table are named as not run, never passed.
Duplicates and the 24-hour day are checked within the file; the encounter
log and history are the server's (``claimbridge ingest``/``send``).

Findings name the claim by its place in the file (``claim 3``) and the
line by its number; nothing of the patient is printed.

Exit codes: 0 no blocking finding (warnings may be listed), 1 at least one
blocking finding, 65 the file or a table could not be read (or a claim in
it was refused), 78 configuration.
"""

from __future__ import annotations

import hashlib
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from claimbridge.cli.errors import EX_DATAERR, EX_FAILURE, reported
from claimbridge.cli.output import JsonOption, console, print_json
from claimbridge.clock import SystemClock
from claimbridge.errors import NotFound, ValidationFailed
from claimbridge.exchange.manifest import FORMATS
from claimbridge.exchange.parsing import SNIFF_BYTES, ClaimSource, guess_format
from claimbridge.formats.cms import CmsError
from claimbridge.integrity.context import ScrubContext
from claimbridge.integrity.engine import ScrubReport, scrub
from claimbridge.integrity.model import ScrubClaim, Severity
from claimbridge.integrity.peers import default_peers, load_peers
from claimbridge.integrity.rules import default_rules
from claimbridge.integrity.service import scrub_claim
from claimbridge.integrity.tables.icd10cm import ICD10CMRelease
from claimbridge.integrity.tables.leie import load_leie
from claimbridge.integrity.tables.ncci import load_mue, load_ptp
from claimbridge.phi.intake import IntakeClaim


def scrub_command(
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="The claims: 837P, 837I, CSV or FHIR.")
    ],
    ncci: Annotated[
        Path | None,
        typer.Option("--ncci", help="NCCI PTP table (practitioner), as CMS publishes it."),
    ] = None,
    mue: Annotated[
        Path | None,
        typer.Option("--mue", help="NCCI MUE table (practitioner), as CMS publishes it."),
    ] = None,
    leie: Annotated[
        list[Path] | None,
        typer.Option("--leie", help="OIG LEIE: UPDATED.csv, then any monthly files (repeat)."),
    ] = None,
    peers: Annotated[
        Path | None, typer.Option("--peers", help="E/M peer distribution (JSON) to use instead.")
    ] = None,
    format: Annotated[  # noqa: A002 - the option's name
        str | None, typer.Option("--format", help=f"One of {', '.join(FORMATS)}.")
    ] = None,
    on: Annotated[
        datetime | None,
        typer.Option("--date", formats=["%Y-%m-%d"], help="Scrub as of this day (default: today)."),
    ] = None,
    timely_filing_days: Annotated[
        int, typer.Option("--timely-filing-days", min=1, help="The payer's filing limit.")
    ] = 365,
    json: JsonOption = False,
) -> None:
    """Scrub a claim file: NCCI, MUE, duplicates, dates, upcoding, exclusions, code validity."""
    with reported(as_json=json):
        today = on.date() if on is not None else SystemClock().now().date()
        context = _context(ncci, mue, leie or [], peers, today, timely_filing_days, quiet=json)
        source, claims = _read(file, format)
        report = _run(claims, context, quiet=json)
        if json:
            print_json(_document(file, report, source))
        else:
            _print(report, source)
        if source.rejected:  # a claim refused, or the file unreadable (notes alone pass)
            sys.exit(EX_DATAERR)
        if any(f.severity is Severity.BLOCK for f in report.findings):
            sys.exit(EX_FAILURE)


def _context(
    ncci: Path | None,
    mue: Path | None,
    leie: list[Path],
    peers: Path | None,
    today: date,
    timely_filing_days: int,
    *,
    quiet: bool,
) -> ScrubContext:
    with console.status("loading tables", spinner="dots") if not quiet else _nothing():
        try:
            return ScrubContext(
                today=today,
                ptp=load_ptp(_existing(ncci)) if ncci else None,
                mue=load_mue(_existing(mue)) if mue else None,
                exclusions=load_leie(*(_existing(p) for p in leie)) if leie else None,
                diagnoses=ICD10CMRelease().load(),
                peers=load_peers(_existing(peers)) if peers else default_peers(),
                timely_filing_days=timely_filing_days,
            )
        except CmsError as error:
            raise ValidationFailed(str(error), where=error.where) from error


def _read(file: Path, declared: str | None) -> tuple[ClaimSource, list[ScrubClaim]]:
    stream = _existing(file).open("rb")
    with stream:
        fmt = declared or guess_format(stream.read(SNIFF_BYTES))
        stream.seek(0)
        source = ClaimSource(fmt, stream)
        claims = [
            scrub_claim(item, ref=f"claim {source.found}", patient=_patient_key(item))
            for item in source
        ]
    return source, claims


def _run(claims: list[ScrubClaim], context: ScrubContext, *, quiet: bool) -> ScrubReport:
    total = sum(len(claim.lines) for claim in claims)
    with Progress(
        TextColumn("scrubbing"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,} lines"),
        TimeElapsedColumn(),
        console=console,
        disable=quiet or total < 10_000,
        transient=True,
    ) as progress:
        task = progress.add_task("scrub", total=total)
        return scrub(claims, context, default_rules(), progress=lambda n: progress.advance(task, n))


def _patient_key(item: IntakeClaim) -> str:
    """Groups one patient's services in the file; a hash, never printed."""
    p = item.patient
    text = f"{p.mrn or ''}|{p.family_name.upper()}|{p.given_name.upper()}|{p.birth_date}"
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _existing(path: Path) -> Path:
    if not path.is_file():
        raise NotFound(f"No file at {path}.", where=str(path))
    return path


class _nothing:  # noqa: N801 - a stand-in context manager
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _document(file: Path, report: ScrubReport, source: ClaimSource) -> dict[str, Any]:
    return {
        "file": str(file),
        "claims": report.claims,
        "lines": report.lines,
        "claims_refused": source.found - source.mapped,
        "errors": [p.to_document() for p in source.problems],
        "rules_run": report.rules_run,
        "rules_not_run": report.rules_skipped,
        "claims_blocked": len(report.blocked_claims),
        "findings_by_rule": report.counts(),
        "findings": [finding.to_json() for finding in report.findings],
    }


def _print(report: ScrubReport, source: ClaimSource) -> None:
    for problem in source.problems[:20]:
        console.print(
            f"[red]error[/red] at {escape(problem.where)}: {escape(problem.message)}",
            soft_wrap=True,
        )
    for finding in report.findings:
        colour = "red" if finding.severity is Severity.BLOCK else "yellow"
        place = finding.claim or f"provider {finding.provider}"
        if finding.line is not None:
            place += f" line {finding.line}"
        console.print(
            f"[{colour}]{finding.severity.value}[/{colour}] {escape(place)} "
            f"[bold]{escape(finding.rule)}[/bold]: {escape(finding.explanation)}",
            soft_wrap=True,
        )
    blocked = len(report.blocked_claims)
    console.print(
        f"{report.claims:,} claims, {report.lines:,} lines: {len(report.findings):,} findings, "
        f"{blocked:,} claims held"
    )
    if report.rules_skipped:
        console.print(
            "not run (no table given): " + escape(", ".join(report.rules_skipped)),
            soft_wrap=True,
        )
