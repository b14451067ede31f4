"""``claimbridge integrity``: reference tables, findings and the encounter log, on this machine.

* ``tables load KIND FILE --effective DATE``: an NCCI PTP or MUE table or the
  OIG LEIE, as published, becomes a version the server scrubs with from that
  date (the operator's task; audited as the data directory's holder).
* ``tables list``: the versions, which one is in effect.
* ``findings list|show``: a practice's findings (``--org``), by batch or status.
* ``findings override|resolve ID --reason TEXT``: decide one, for the practice
  (audited as the data directory's holder acting as the practice's admin;
  people use ``POST /api/v1/findings/{id}/decision`` with their own sign-in).
* ``encounters attest FILE --org``: add the practice's encounter log (CSV,
  ``docs/integrity.md``) that claims are checked against.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from claimbridge.access.principal import Principal
from claimbridge.audit.record import LOCAL_OPERATOR
from claimbridge.cli.common import opened
from claimbridge.cli.errors import reported
from claimbridge.cli.output import DataDirOption, JsonOption, console, print_json
from claimbridge.clock import SystemClock
from claimbridge.datadir import DEFAULT_DATA_DIR
from claimbridge.errors import NotFound, ValidationFailed
from claimbridge.exchange.service import data_dir_principal
from claimbridge.formats.csv import CsvError
from claimbridge.formats.csv.encounters import read_encounters
from claimbridge.integrity.findings import FindingAccess
from claimbridge.integrity.references import in_effect, list_references, load_reference
from claimbridge.phi.attestations import attest_encounters
from claimbridge.storage.integrity import TableKind
from claimbridge.storage.orgs import Role

app = typer.Typer(
    help="Claim integrity: reference tables, findings, encounters.", no_args_is_help=True
)
tables_app = typer.Typer(help="NCCI and LEIE reference table versions.", no_args_is_help=True)
findings_app = typer.Typer(help="What the scrub found, and decisions on it.", no_args_is_help=True)
encounters_app = typer.Typer(help="The practice's attested encounter log.", no_args_is_help=True)
app.add_typer(tables_app, name="tables")
app.add_typer(findings_app, name="findings")
app.add_typer(encounters_app, name="encounters")

OrgOption = Annotated[str, typer.Option("--org", help="The practice (name or id).")]
_KINDS = {"ptp": TableKind.PTP, "mue": TableKind.MUE, "leie": TableKind.LEIE}


@tables_app.command("load")
def load(
    kind: Annotated[str, typer.Argument(help="ptp, mue or leie.")],
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="The file as CMS or the OIG publish it.")
    ],
    effective: Annotated[
        datetime,
        typer.Option("--effective", formats=["%Y-%m-%d"], help="The day the version takes effect."),
    ],
    label: Annotated[
        str | None, typer.Option("--label", help="A name (default: the file's).")
    ] = None,
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    json: JsonOption = False,
) -> None:
    """Load a reference table version; the same file twice is found, not stored again."""
    with reported(as_json=json):
        table_kind = _KINDS.get(kind.lower())
        if table_kind is None:
            raise ValidationFailed("The kind is ptp, mue or leie.", where="KIND")
        if not file.is_file():
            raise NotFound(f"No file at {file}.", where=str(file))
        with opened(data_dir) as inst, _rows_progress(quiet=json) as advance:
            version, loaded = load_reference(
                inst.sessions,
                table_kind,
                file,
                effective_from=effective.date(),
                now=SystemClock().now(),
                actor=LOCAL_OPERATOR,
                label=label,
                progress=advance,
            )
        shown = _version_json(version)
        if json:
            print_json({**shown, "loaded": loaded})
        else:
            verb = "loaded" if loaded else "already loaded"
            console.print(
                f"{verb}: {escape(version.label)} ({version.kind}, {version.row_count:,} rows), "
                f"in effect from {version.effective_from}"
            )


@tables_app.command("list")
def list_tables(data_dir: DataDirOption = DEFAULT_DATA_DIR, json: JsonOption = False) -> None:
    """Every version, and which is in effect today."""
    with reported(as_json=json), opened(data_dir) as inst, inst.sessions() as session:
        today = SystemClock().now().date()
        current = {
            kind: (found.id if (found := in_effect(session, kind, today)) else None)
            for kind in TableKind
        }
        rows = [
            {**_version_json(v), "in_effect": current[TableKind(v.kind)] == v.id}
            for v in list_references(session)
        ]
    if json:
        print_json({"tables": rows})
        return
    table = Table("kind", "label", "quarter", "effective", "rows", "status", "in effect")
    for row in rows:
        table.add_row(
            row["kind"],
            escape(row["label"]),
            row["quarter"],
            row["effective_from"],
            f"{row['row_count']:,}",
            row["status"],
            "yes" if row["in_effect"] else "",
        )
    console.print(table)


@findings_app.command("list")
def list_findings(
    org: OrgOption,
    batch: Annotated[str | None, typer.Option("--batch", help="Only this batch's.")] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="open, overridden or resolved.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=500)] = 100,
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    json: JsonOption = False,
) -> None:
    """A practice's findings, oldest first."""
    with reported(as_json=json), opened(data_dir) as inst, inst.sessions.begin() as session:
        access = FindingAccess(
            session, data_dir_principal(session, org), inst.keyring, now=SystemClock().now()
        )
        page = access.list(batch_id=batch, status=status, limit=limit)
    if json:
        print_json(page)
        return
    for item in page["items"]:
        _print_finding(item)
    console.print(f"{len(page['items'])} of {page['total']} findings")


@findings_app.command("show")
def show_finding(
    finding_id: Annotated[str, typer.Argument(metavar="ID")],
    org: OrgOption,
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    json: JsonOption = False,
) -> None:
    """One finding, with the reason given for its decision."""
    with reported(as_json=json), opened(data_dir) as inst, inst.sessions.begin() as session:
        access = FindingAccess(
            session, data_dir_principal(session, org), inst.keyring, now=SystemClock().now()
        )
        item = access.get(finding_id)
    if json:
        print_json(item)
    else:
        _print_finding(item)
        if item.get("reason"):
            console.print(f"  reason: {escape(item['reason'])}", soft_wrap=True)


def _decide(status: str) -> Any:
    def command(
        finding_id: Annotated[str, typer.Argument(metavar="ID")],
        org: OrgOption,
        reason: Annotated[
            str, typer.Option("--reason", help="Why (kept, sealed, with the audit trail).")
        ],
        data_dir: DataDirOption = DEFAULT_DATA_DIR,
        json: JsonOption = False,
    ) -> None:
        with reported(as_json=json), opened(data_dir) as inst, inst.sessions.begin() as session:
            principal = _as_admin(data_dir_principal(session, org))
            access = FindingAccess(session, principal, inst.keyring, now=SystemClock().now())
            item = access.decide(finding_id, status=status, reason=reason)
        if json:
            print_json(item)
        else:
            console.print(f"finding {escape(finding_id)} {item['status']}")

    command.__doc__ = {
        "overridden": "Accept a finding as billed, with the reason (the claim may go).",
        "resolved": "Mark a finding resolved: the claim was corrected or voided, or it was wrong.",
    }[status]
    return command


findings_app.command("override")(_decide("overridden"))
findings_app.command("resolve")(_decide("resolved"))


@encounters_app.command("attest")
def attest(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="The encounter log (CSV).")],
    org: OrgOption,
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    json: JsonOption = False,
) -> None:
    """Add the practice's encounters: billed services are checked against them."""
    with reported(as_json=json):
        if not file.is_file():
            raise NotFound(f"No file at {file}.", where=str(file))
        with file.open("rb") as stream:
            try:
                encounters = list(read_encounters(stream))
            except CsvError as error:
                raise ValidationFailed(error.message, where=f"{file.name} {error.where}") from error
        with opened(data_dir) as inst, inst.sessions.begin() as session:
            principal = data_dir_principal(session, org)
            result = attest_encounters(
                session,
                inst.keyring,
                principal,
                encounters,
                practice_id=principal.organisation_id,
                now=SystemClock().now(),
            )
    if json:
        print_json(result.to_json())
    else:
        console.print(
            f"{result.added:,} encounters attested ({result.already_attested:,} already in the log)"
        )


# -- helpers -------------------------------------------------------------------------------


def _as_admin(principal: Principal) -> Principal:
    """The data directory's holder may decide for the practice, as its admin would."""
    return replace(principal, roles=frozenset({Role.PRACTICE_ADMIN}))


def _version_json(version: Any) -> dict[str, Any]:
    return {
        "id": version.id,
        "kind": version.kind,
        "label": version.label,
        "quarter": version.quarter,
        "effective_from": version.effective_from.isoformat(),
        "sha256": version.sha256,
        "row_count": version.row_count,
        "status": version.status,
        "loaded_at": version.loaded_at.isoformat(),
    }


def _print_finding(item: dict[str, Any]) -> None:
    colour = "red" if item["severity"] == "block" else "yellow"
    place = f"claim {item['claim_id']}" if item["claim_id"] else f"provider {item['provider']}"
    if item["line"] is not None:
        place += f" line {item['line']}"
    console.print(
        f"[{colour}]{item['severity']}[/{colour}] {item['id']} {item['status']} {escape(place)} "
        f"[bold]{escape(item['rule'])}[/bold]: {escape(item['message'])} {escape(item['remedy'])}",
        soft_wrap=True,
    )


class _rows_progress:  # noqa: N801 - used as a context manager
    def __init__(self, *, quiet: bool) -> None:
        self.progress = Progress(
            TextColumn("loading"),
            BarColumn(),
            TextColumn("{task.completed:,} rows"),
            TimeElapsedColumn(),
            console=console,
            disable=quiet,
            transient=True,
        )

    def __enter__(self) -> Any:
        self.progress.__enter__()
        task = self.progress.add_task("rows", total=None)
        return lambda n: self.progress.advance(task, n)

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(None, None, None)
