"""``claimbridge engagements``: who may reach whose PHI, why not, and what lapses next.

* ``list [--org ORG]``: the engagements of one organisation (acting as its
  admin), or of the whole server.
* ``show ENGAGEMENT``: its standing now (open, or the condition that
  failed and why), until when, the deadlines ahead, the BAA's terms, the
  latest assessment and the latest notices.
* ``notices ENGAGEMENT``: lapses, restorations and reminders.
* ``check``: one sweep of the watcher (``vendors/watch.py``): every
  engagement's gate, reminders due, notices delivered.
* ``baa record ENGAGEMENT --file BAA.pdf …``: the signed BAA and its terms;
  ``baa show`` and ``baa download`` read them back.

Commands on one engagement act as its practice's admin, audited as the
data directory's holder (people use ``/api/v1/engagements`` with their own
sign-in). ``cli/offboarding.py`` adds the commands that end an engagement
(``terminate``, ``package``, ``shred``, ``certificate`` …).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy.orm import Session

from claimbridge.audit.record import unit_of_work
from claimbridge.cli import offboarding
from claimbridge.cli.common import opened
from claimbridge.cli.errors import reported
from claimbridge.cli.output import DataDirOption, JsonOption, console, print_json
from claimbridge.clock import SystemClock
from claimbridge.datadir import DEFAULT_DATA_DIR
from claimbridge.errors import NotFound
from claimbridge.vendors.agreements import (
    BAATerms,
    baa_json,
    current_baa,
    read_baa_document,
    record_baa,
)
from claimbridge.vendors.notify import notifier_from
from claimbridge.vendors.overview import (
    all_engagements,
    list_engagements,
    list_notices,
    show_engagement,
)
from claimbridge.vendors.parties import local_admin, local_practice_admin
from claimbridge.vendors.watch import Watcher

app = typer.Typer(
    help="Engagements between practices and billing companies: standing, BAAs, notices.",
    no_args_is_help=True,
)
baa_app = typer.Typer(
    help="The engagement's signed business associate agreement.", no_args_is_help=True
)
app.add_typer(baa_app, name="baa")

EngagementArgument = Annotated[str, typer.Argument(metavar="ENGAGEMENT", help="Engagement id.")]


@app.command("list")
def list_command(
    org: Annotated[
        str | None,
        typer.Option("--org", help="Only this practice's or billing company's (name or id)."),
    ] = None,
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    json: JsonOption = False,
) -> None:
    """Engagements, newest first, with whether each is open now."""
    with reported(as_json=json), opened(data_dir) as inst:
        now = SystemClock().now()

        def work(session: Session) -> list[dict[str, Any]]:
            if org is None:
                return all_engagements(session, now=now)
            return list_engagements(session, local_admin(session, org), now=now)

        rows = unit_of_work(inst.sessions, work)
    if json:
        print_json({"items": rows})
        return
    table = Table("id", "practice", "billing company", "status", "open until / lapse")
    for row in rows:
        table.add_row(
            row["id"],
            escape(row["practice"]["name"]),
            escape(row["billing_company"]["name"]),
            row["status"] + ("" if row["active"] or row["status"] != "active" else " (lapsed)"),
            escape(_until_or_lapse(row)),
        )
    console.print(table)


@app.command("show")
def show_command(
    engagement: EngagementArgument,
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    json: JsonOption = False,
) -> None:
    """One engagement: standing, deadlines, BAA terms, assessment, notices."""
    with reported(as_json=json), opened(data_dir) as inst:
        now = SystemClock().now()
        shown = unit_of_work(
            inst.sessions,
            lambda session: show_engagement(
                session, local_practice_admin(session, engagement), engagement, now=now
            ),
        )
    if json:
        print_json(shown)
    else:
        _print_engagement(shown)


@app.command("notices")
def notices_command(
    engagement: EngagementArgument,
    limit: Annotated[int, typer.Option("--limit", min=1, max=500)] = 50,
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    json: JsonOption = False,
) -> None:
    """Lapses, restorations and reminders of one engagement, newest first."""
    with reported(as_json=json), opened(data_dir) as inst:
        now = SystemClock().now()
        items = unit_of_work(
            inst.sessions,
            lambda session: list_notices(
                session,
                local_practice_admin(session, engagement),
                engagement,
                now=now,
                limit=limit,
            ),
        )
    if json:
        print_json({"items": items})
        return
    for item in items:
        _print_notice(item)
    if not items:
        console.print("no notices")


@app.command("check")
def check_command(data_dir: DataDirOption = DEFAULT_DATA_DIR, json: JsonOption = False) -> None:
    """Check every engagement's gate now: record lapses, leave reminders, send notices."""
    with reported(as_json=json), opened(data_dir) as inst:
        clock = SystemClock()
        watcher = Watcher(
            inst.sessions,
            inst.settings,
            clock=clock,
            notifier=notifier_from(inst.settings, clock=clock),
            offboarding=offboarding.offboarding_parts(inst, signing=True),
        )
        found = watcher.run_once()
    if json:
        print_json(found.to_json())
        return
    for change in found.changes:
        why = f": {change.reason}" if change.reason else ""
        colour = "red" if change.became == "suspended" else "green"
        console.print(
            f"[{colour}]{change.became}[/{colour}] {change.engagement_id}{escape(why)}",
            soft_wrap=True,
        )
    for reminder in found.reminders:
        console.print(
            f"[yellow]reminder[/yellow] {reminder.engagement_id} ({reminder.lead_days} days): "
            f"{escape(reminder.message)}",
            soft_wrap=True,
        )
    console.print(
        f"{found.checked} engagements checked, {len(found.lapsed)} lapsed, "
        f"{len(found.reminders)} reminders, {found.delivered} notices delivered"
        + (f", [red]{found.failed} not delivered[/red]" if found.failed else "")
    )


@baa_app.command("record")
def baa_record(
    engagement: EngagementArgument,
    file: Annotated[Path, typer.Option("--file", help="The signed BAA (PDF, or a scan).")],
    version: Annotated[str, typer.Option("--version", help="The agreement's version.")],
    practice_signatory: Annotated[
        str, typer.Option("--practice-signatory", help="Who signed for the practice.")
    ],
    vendor_signatory: Annotated[
        str, typer.Option("--vendor-signatory", help="Who signed for the billing company.")
    ],
    signed_on: Annotated[datetime, typer.Option("--signed-on", formats=["%Y-%m-%d"])],
    effective_on: Annotated[datetime, typer.Option("--effective-on", formats=["%Y-%m-%d"])],
    breach_notice_days: Annotated[
        int,
        typer.Option("--breach-notice-days", help="Days to report a breach (1 to 60)."),
    ],
    on_termination: Annotated[
        str,
        typer.Option("--on-termination", help="return, destroy or return_or_destroy."),
    ],
    flow_down: Annotated[
        bool,
        typer.Option(
            "--flow-down/--no-flow-down", help="Subcontractors are bound by the same terms."
        ),
    ] = True,
    expires_on: Annotated[
        datetime | None, typer.Option("--expires-on", formats=["%Y-%m-%d"])
    ] = None,
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    json: JsonOption = False,
) -> None:
    """Record the signed BAA and its terms; the previous one is superseded."""
    with reported(as_json=json):
        if not file.is_file():
            raise NotFound(f"No file at {file}.", where="--file")
        terms = BAATerms(
            version=version,
            practice_signatory=practice_signatory,
            vendor_signatory=vendor_signatory,
            signed_on=signed_on.date(),
            effective_on=effective_on.date(),
            expires_on=expires_on.date() if expires_on else None,
            breach_notice_days=breach_notice_days,
            subcontractor_flow_down=flow_down,
            on_termination=on_termination,
        )
        with opened(data_dir) as inst, file.open("rb") as document:
            now = SystemClock().now()
            files = inst.files

            def work(session: Session) -> dict[str, Any]:
                row = record_baa(
                    session,
                    files,
                    local_practice_admin(session, engagement),
                    engagement,
                    terms=terms,
                    document=document,
                    now=now,
                )
                return baa_json(row)

            recorded = unit_of_work(inst.sessions, work)
    if json:
        print_json(recorded)
    else:
        console.print(f"BAA {escape(recorded['version'])} recorded ({recorded['id']})")
        _print_baa(recorded)


@baa_app.command("show")
def baa_show(
    engagement: EngagementArgument,
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    json: JsonOption = False,
) -> None:
    """The BAA in force and those it superseded."""
    with reported(as_json=json), opened(data_dir) as inst:
        now = SystemClock().now()
        found = unit_of_work(
            inst.sessions,
            lambda session: current_baa(
                session, local_practice_admin(session, engagement), engagement, now=now
            ),
        )
    if json:
        print_json(found)
        return
    if found["current"] is None:
        console.print("no BAA in force")
    else:
        _print_baa(found["current"])
    for old in found["superseded"]:
        console.print(
            f"  superseded: {escape(old['version'])} (signed {old['signed_on']}, "
            f"superseded {old['superseded_at']})"
        )


@baa_app.command("download")
def baa_download(
    engagement: EngagementArgument,
    out: Annotated[Path, typer.Option("--out", help="Where to write the document.")],
    baa: Annotated[
        str | None, typer.Option("--baa", help="A superseded BAA's id (default: in force).")
    ] = None,
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    json: JsonOption = False,
) -> None:
    """Write the signed BAA document, decrypted, to a file (audited)."""
    with reported(as_json=json), opened(data_dir) as inst:
        now = SystemClock().now()
        files = inst.files
        document = unit_of_work(
            inst.sessions,
            lambda session: read_baa_document(
                session,
                files,
                local_practice_admin(session, engagement),
                engagement,
                now=now,
                baa_id=baa,
            ),
        )
        out.write_bytes(document.content)
    shown = {
        "path": str(out),
        "baa_id": document.baa.id,
        "media_type": document.baa.media_type,
        "size": len(document.content),
        "sha256": document.baa.sha256,
    }
    if json:
        print_json(shown)
    else:
        console.print(f"wrote {escape(str(out))} ({shown['size']:,} bytes, {shown['media_type']})")


# Ending an engagement: terminate, the return package, shredding, the certificate.
offboarding.register(app)


# -- printing -----------------------------------------------------------------------------


def _until_or_lapse(row: dict[str, Any]) -> str:
    if row["lapse"]:
        return f"{row['lapse']['condition']}: {row['lapse']['reason']}"
    return row["active_until"] or ""


def _print_engagement(shown: dict[str, Any]) -> None:
    console.print(
        f"[bold]{escape(shown['practice']['name'])}[/bold] → "
        f"[bold]{escape(shown['billing_company']['name'])}[/bold]  ({shown['id']})"
    )
    standing = shown["standing"]
    if standing["ok"]:
        console.print(f"  [green]open[/green] until {standing['until']} (status {shown['status']})")
    else:
        failure = standing["failure"]
        console.print(
            f"  [red]closed[/red]: {failure['condition']}: {escape(failure['reason'])} "
            f"(status {shown['status']})",
            soft_wrap=True,
        )
    for deadline in standing["deadlines"]:
        console.print(
            f"  next: {deadline['at']} {deadline['condition']}: {escape(deadline['message'])}",
            soft_wrap=True,
        )
    if shown["baa"]:
        _print_baa(shown["baa"])
    else:
        console.print("  BAA: none on record")
    assessment = shown["assessment"]
    if assessment:
        console.print(
            f"  assessment: {assessment['status']}, rating {assessment['rating'] or '-'}, "
            f"decided {assessment['decided_at'] or '-'} (questionnaire "
            f"{assessment['questionnaire_version']})"
        )
    ended = shown.get("termination")
    if ended:
        console.print(
            f"  termination: {ended['state']}: {escape(ended['explanation'])}"
            + (" (certificate of destruction issued)" if ended["certificate"] else ""),
            soft_wrap=True,
        )
    for notice in shown["notices"][:5]:
        _print_notice(notice)


def _print_baa(baa: dict[str, Any]) -> None:
    terms = baa["terms"]
    console.print(
        f"  BAA {escape(baa['version'])}: signed {baa['signed_on']} by "
        f"{escape(baa['practice_signatory'])} and {escape(baa['vendor_signatory'])}; "
        f"effective {baa['effective_on']}, expires {baa['expires_on'] or 'never'}; "
        f"breach notice {terms['breach_notice_days']} days; flow-down "
        f"{'yes' if terms['subcontractor_flow_down'] else 'no'}; on termination "
        f"{terms['on_termination']}; document {baa['document']['media_type']}, "
        f"{baa['document']['size']:,} bytes, SHA-256 {baa['document']['sha256']}",
        soft_wrap=True,
    )


def _print_notice(notice: dict[str, Any]) -> None:
    lead = f" ({notice['lead_days']} days ahead)" if notice["lead_days"] else ""
    sent = "" if notice["delivered_at"] else " [dim](not yet delivered)[/dim]"
    console.print(
        f"  {notice['created_at']} {notice['kind']}{lead}: {escape(notice['message'])}{sent}",
        soft_wrap=True,
    )
