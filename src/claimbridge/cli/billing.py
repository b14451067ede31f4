"""``claimbridge claims submit``: a practice's ready claims out in an 837P, on this machine.

Whoever holds the data directory acts as a biller of the billing company
the practice is actively engaged with (``--company`` names it when there
are several), audited as the data directory's holder (``data-dir``). The
engagement gate still applies: with no active engagement nothing is sent.
Only ``ready`` claims leave; flagged ones stay held, and the summary says
how many. The 837P is stored as an outbound batch (fetch it again with
``GET /api/v1/batches/{id}/content``) and written to ``--out``, a file
only its owner may read.

Exit codes: 0 sent (or nothing ready), 65 the practice lacks its billing
identity, 66 no such practice or no engaged billing company, 77 refused.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from sqlalchemy.orm import Session

from claimbridge.access.principal import Principal
from claimbridge.audit.record import unit_of_work
from claimbridge.billing.outbound import DEFAULT_LIMIT, MAX_LIMIT, Outbound, outbound_837p
from claimbridge.cli.common import opened
from claimbridge.cli.errors import reported
from claimbridge.cli.output import DataDirOption, JsonOption, console, print_json
from claimbridge.clock import SystemClock
from claimbridge.datadir import DEFAULT_DATA_DIR, write_private_file
from claimbridge.errors import NotFound, ValidationFailed
from claimbridge.exchange.service import DATA_DIR_AUTH, recipients_of
from claimbridge.storage.orgs import OrgKind, Role, find_organisation

app = typer.Typer(help="Claims out: 837P submissions of ready claims.", no_args_is_help=True)


@app.command("submit")
def submit(
    org: Annotated[str, typer.Option("--org", help="The practice (name or id).")],
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the 837P here (mode 0600).")
    ] = None,
    company: Annotated[
        str | None,
        typer.Option("--company", help="The engaged billing company, when there are several."),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=MAX_LIMIT, help="Claims at most.")
    ] = DEFAULT_LIMIT,
    json: JsonOption = False,
) -> None:
    """Send the practice's ready claims in one 837P; flagged claims stay held."""
    with reported(as_json=json), opened(data_dir) as inst:
        files = inst.files
        now = SystemClock().now()

        def work(session: Session) -> Outbound:
            practice = find_organisation(session, org)
            if practice.kind != OrgKind.PRACTICE.value:
                raise ValidationFailed("--org names the practice whose claims go.", where="--org")
            principal = data_dir_biller(session, practice.id, company, now=now)
            return outbound_837p(
                session,
                inst.keyring,
                files,
                principal,
                practice_id=practice.id,
                now=now,
                limit=limit,
            )

        outbound = unit_of_work(inst.sessions, work)
        if out is not None and outbound.batch_id is not None:
            write_private_file(out, outbound.content)
    _report(outbound, out=out, json=json)


def data_dir_biller(
    session: Session, practice_id: str, company: str | None, *, now: datetime
) -> Principal:
    """A biller of the billing company engaged by the practice, acting through the data
    directory; the policy still checks the engagement."""
    engaged = recipients_of(session, practice_id, now=now)
    chosen = [c for c in engaged if company in (None, c["id"], c["name"])]
    if company is not None and not chosen:
        raise NotFound(
            f"No billing company {company!r} with an active engagement with this practice.",
            where="--company",
        )
    if not chosen:
        raise NotFound(
            "No billing company has an active engagement with this practice.", where="--org"
        )
    if len(chosen) > 1:
        names = ", ".join(c["name"] for c in chosen)
        raise ValidationFailed(
            f"Several billing companies are engaged ({names}); name one with --company.",
            where="--company",
        )
    org = find_organisation(session, chosen[0]["id"])
    return Principal(
        user_id=None,
        organisation_id=org.id,
        organisation_kind=OrgKind.BILLING_COMPANY,
        roles=frozenset({Role.BILLER}),
        auth_method=DATA_DIR_AUTH,
        mfa=True,
    )


def _report(outbound: Outbound, *, out: Path | None, json: bool) -> None:
    if json:
        print_json({**outbound.to_json(), "out": str(out) if out and outbound.batch_id else None})
        return
    held = f"{outbound.claims_held:,} held by open findings"
    if outbound.batch_id is None:
        console.print(f"nothing ready to send; {held}")
    else:
        where = f" to {escape(str(out))}" if out else ""
        console.print(
            f"sent {len(outbound.claim_ids):,} claims in batch {outbound.batch_id}{where}; "
            f"{held}; {outbound.claims_remaining:,} ready claims remain"
        )
    for reason, count in outbound.not_billable.items():
        console.print(f"  {count:,} ready but not billable in an 837P: {reason.replace('_', ' ')}")
