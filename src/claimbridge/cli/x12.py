"""``claimbridge x12``: read, check and generate X12 5010 files.

``parse`` prints what a file holds (one JSON record per claim or claim
payment with ``--json``, a table of its transaction sets without);
``validate`` prints a 999-style report and exits 65 when any set is
rejected, and ``--ack`` writes our 999 for the file; ``generate`` writes a
synthetic, valid 837P or 835 of any size. ``-`` reads standard input.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, BinaryIO

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from claimbridge.cli import x12_report
from claimbridge.cli.errors import EX_DATAERR, reported
from claimbridge.cli.output import JsonOption, console, print_json
from claimbridge.clock import SystemClock
from claimbridge.errors import InputError, NotFound
from claimbridge.formats.x12 import Outcome, Reading, acknowledge, read_transactions, write_999
from claimbridge.formats.x12.reader import Handler
from claimbridge.formats.x12.synthetic import CREATED_ON, write_synthetic
from claimbridge.formats.x12.x835 import remittances
from claimbridge.formats.x12.x837i import claims_837
from claimbridge.formats.x12.x999 import acknowledgments

app = typer.Typer(
    help="Read, check and generate X12 5010 files (837P, 837I, 835, 999).", no_args_is_help=True
)

FileArgument = Annotated[
    str, typer.Argument(metavar="FILE", help="The X12 file to read; - for standard input.")
]
HANDLERS: dict[str, Handler[object]] = {
    "837": claims_837,
    "835": remittances,
    "999": acknowledgments,
}
# Generated files carry the date their claims were made on, so one seed gives
# the same bytes on every run and machine.
GENERATED_AT = datetime.combine(CREATED_ON, time(12, 0))


class Kind(StrEnum):
    PROFESSIONAL = "837p"
    REMITTANCE = "835"


@app.command("parse")
def parse(file: FileArgument, json: JsonOption = False) -> None:
    """Print each claim or claim payment (JSON Lines with --json), or a summary of the sets."""
    with reported(as_json=json), _opened(file) as source:
        reading = read_transactions(source, handlers=HANDLERS)
        if json:
            for record in reading:
                for line in x12_report.json_records(record):
                    print_json(line, one_line=True)
        else:
            tallies = x12_report.tally(reading)
            console.print(_sets_table(reading, tallies))
        reading.raise_for_errors()


@app.command("validate")
def validate(
    file: FileArgument,
    json: JsonOption = False,
    ack: Annotated[
        Path | None,
        typer.Option("--ack", metavar="FILE999", help="Also write our 999 for the file here."),
    ] = None,
) -> None:
    """Check envelopes, guides and balances; report each set as a 999 would (65: rejected)."""
    rejected = False
    with reported(as_json=json), _opened(file) as source:
        reading = read_transactions(source, handlers=HANDLERS)
        for _ in reading:
            pass
        report = x12_report.validation_report(reading)
        rejected = report["outcome"] != "accepted"
        if ack is not None:
            _write_ack(reading, ack)
        if json:
            print_json(report)
        else:
            _show_report(report)
    if rejected:
        raise typer.Exit(EX_DATAERR)


@app.command("generate")
def generate(
    kind: Annotated[Kind, typer.Option("--kind", help="837p (claims) or 835 (remittances).")],
    claims: Annotated[int, typer.Option("--claims", min=1, help="How many claims.")],
    seed: Annotated[int, typer.Option("--seed", min=0, help="The same seed, the same file.")] = 1,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write here instead of to standard output.")
    ] = None,
) -> None:
    """Write a synthetic, valid, realistic 837P or 835 (claims paid) of any size."""
    with reported(as_json=False):
        if out is None:
            _generate_to_stdout(kind, claims, seed)
            return
        with _replacing(out) as sink, _progress(claims) as advance:
            size = write_synthetic(
                kind.value, claims, seed=seed, out=sink, now=GENERATED_AT, progress=advance
            )
        Console(stderr=True, highlight=False).print(
            f"[bold green]ok[/bold green]: {claims} claims, {size:,} bytes of {kind.value} "
            f"written to {escape(str(out))}",
            soft_wrap=True,
        )


# -- input and output ----------------------------------------------------------------


@contextmanager
def _opened(file: str) -> Iterator[BinaryIO]:
    if file == "-":
        yield sys.stdin.buffer
        return
    try:
        stream = Path(file).open("rb")  # noqa: SIM115 - closed below, after the reading
    except FileNotFoundError:
        raise NotFound("The X12 file does not exist.", where=file) from None
    except OSError:
        raise InputError("The X12 file cannot be read.", where=file) from None
    with stream:
        yield stream


@contextmanager
def _replacing(path: Path) -> Iterator[BinaryIO]:
    """A file that replaces ``path`` only when complete; nothing is left behind on failure."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with temporary.open("wb") as sink:
            yield sink
        temporary.replace(path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _generate_to_stdout(kind: Kind, claims: int, seed: int) -> None:
    try:
        write_synthetic(kind.value, claims, seed=seed, out=sys.stdout.buffer, now=GENERATED_AT)
        sys.stdout.buffer.flush()
    except BrokenPipeError:
        # The reader stopped early (``| head``): not an error. Python would
        # complain flushing stdout at exit, so point it at /dev/null first.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(0)


@contextmanager
def _progress(total: int) -> Iterator[x12_report.Advance]:
    columns = (
        TextColumn("generating"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("claims", total=total)
        yield lambda done: progress.update(task, completed=done)


def _write_ack(reading: Reading[object], path: Path) -> None:
    received = reading.interchanges[0] if reading.interchanges else None
    data = write_999(
        acknowledge(reading),
        sender=(received.receiver if received else "") or "CLAIMBRIDGE",
        receiver=(received.sender if received else "") or "UNKNOWN",
        interchange_control_number=1,
        group_control_number=1,
        now=SystemClock().now(),
    )
    path.write_bytes(data)


# -- showing -----------------------------------------------------------------------------

_MOST_ROWS = 50
_STYLE = {
    Outcome.ACCEPTED: "green",
    Outcome.ACCEPTED_WITH_ERRORS: "yellow",
    Outcome.PARTIALLY_ACCEPTED: "yellow",
}


def _sets_table(reading: Reading[object], tallies: list[x12_report.Tally]) -> Table:
    table = Table(title="Transaction sets")
    for heading in ("Set", "Kind", "Guide", "Outcome"):
        table.add_column(heading, no_wrap=True)
    for heading in ("Records", "Lines", "Charged", "Paid"):
        table.add_column(heading, justify="right", no_wrap=True)
    total = x12_report.Tally()
    pairs = list(zip(reading.results, tallies, strict=False))
    for number, (result, tally) in enumerate(pairs, start=1):
        total.merge(tally)
        if number > _MOST_ROWS:
            continue
        style = _STYLE.get(result.outcome, "red")
        table.add_row(
            escape(result.control_number),
            escape(result.set_id),
            escape(result.guide),
            f"[{style}]{x12_report.OUTCOME_NAMES[result.outcome]}[/{style}]",
            *_amounts(tally),
        )
    if len(pairs) > _MOST_ROWS:
        table.add_row(f"… {len(pairs) - _MOST_ROWS} more", "", "", "", "", "", "", "")
    table.add_section()
    table.add_row(f"{len(pairs)} sets", "", "", "", *_amounts(total), style="bold")
    return table


def _amounts(tally: x12_report.Tally) -> tuple[str, str, str, str]:
    paid = "" if tally.paid is None else str(tally.paid)
    return str(tally.records), str(tally.lines), str(tally.charged), paid


def _show_report(report: dict[str, object]) -> None:
    for line in x12_report.report_lines(report):
        console.print(line, soft_wrap=True, highlight=False)
