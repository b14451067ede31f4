"""``claimbridge demo``: fill an instance with synthetic, deterministic demo data."""

from __future__ import annotations

import dataclasses
import io
from typing import Annotated, cast

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import Engine

from claimbridge.cli.common import ask_passphrase, settings_for
from claimbridge.cli.errors import reported
from claimbridge.cli.output import DataDirOption, JsonOption, console, print_json
from claimbridge.clock import SystemClock
from claimbridge.config import Settings
from claimbridge.crypto.files import SealedFiles
from claimbridge.crypto.keyring import Keyring
from claimbridge.datadir import DEFAULT_DATA_DIR
from claimbridge.demo.accounts import KEYSTONE, RIVERSIDE, SUMMIT
from claimbridge.demo.integrity import load_demo_tables
from claimbridge.demo.load import DemoSummary, load_demo
from claimbridge.errors import ConfigError, StorageError
from claimbridge.exchange.clientkeys import read_client_key
from claimbridge.exchange.manifest import make_manifest
from claimbridge.exchange.service import (
    batch_service,
    data_dir_principal,
    resolve_recipient,
    set_up_sender,
)
from claimbridge.instance.auditkey import open_audit_key
from claimbridge.instance.keys import open_keyring
from claimbridge.instance.open import open_database, require_initialised
from claimbridge.instance.setup import init_instance
from claimbridge.storage.blobs import BlobStore
from claimbridge.storage.db import make_sessionmaker


def demo(
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same data.")] = 2026,
    patients: Annotated[
        int, typer.Option(min=1, max=50_000, help="Patients of the engaged practice.")
    ] = 1000,
    json: JsonOption = False,
) -> None:
    """Load synthetic practices, a billing company, users for every role, and patients."""
    with reported(as_json=json):
        settings = settings_for(data_dir)
        if settings.environment != "development":
            raise ConfigError(
                "The demo loads only into a development instance.", where="environment"
            )
        clock = SystemClock()
        if not settings.paths.config_file.exists():
            init_instance(settings, clock=clock)
        require_initialised(settings)
        engine = open_database(settings, upgrade=False)
        keyring = open_keyring(settings, clock=clock, prompt=ask_passphrase)
        batch: dict[str, object] | None = None
        try:
            with _progress(quiet=json) as bar, make_sessionmaker(engine).begin() as session:
                tasks: dict[str, object] = {}

                def advance(stage: str, done: int, total: int) -> None:
                    if bar is None:
                        return
                    if stage not in tasks:
                        tasks[stage] = bar.add_task(f"claims of {stage}", total=total)
                    bar.update(tasks[stage], completed=done)  # type: ignore[arg-type]

                summary = load_demo(
                    session,
                    keyring,
                    SealedFiles(BlobStore(settings.paths.blobs), keyring),
                    seed=seed,
                    patients=patients,
                    now=clock.now(),
                    progress=advance,
                )
            if summary.batch is not None:
                batch = _ingest_batch(settings, engine, keyring, clock, summary)
        finally:
            engine.dispose()
            keyring.close()
        if json:
            print_json({**dataclasses.asdict(summary), "batch": batch})  # bytes replaced
        else:
            show(summary)
            if summary.engagements:
                console.print(
                    f"\n[bold]Engagements[/bold]: {RIVERSIDE} assessed two billing companies. "
                    f"{SUMMIT} was approved and signed the BAA: its engagement is active. "
                    f"{KEYSTONE} was rejected (TLS 1.0, no MFA, PHI unencrypted at rest): its "
                    "biller is refused, and told why. See `claimbridge engagements list` and "
                    f'`claimbridge vendors compare --org "{RIVERSIDE}"`.',
                    soft_wrap=True,
                )
            if batch is not None:
                console.print(
                    f"\n[bold]Exchange[/bold]: {RIVERSIDE}'s batch-signing key is "
                    f"{escape(str(batch['signing_key']))}; its claims of the last two weeks "
                    f"({summary.batch_claims}) came in as a signed 837P batch through the "
                    f"exchange (receipt {batch['status']}, batch {batch['batch_id']}).",
                    soft_wrap=True,
                )
                found = cast(dict[str, int], batch["findings_by_rule"])
                rules = ", ".join(f"{rule} {count}" for rule, count in found.items())
                console.print(
                    f"[bold]Scrub[/bold]: {batch['claims_held']} claims of it held "
                    f"({escape(rules) or 'no findings'}); see `claimbridge integrity findings "
                    f'list --org "{RIVERSIDE}"`.',
                    soft_wrap=True,
                )


def _ingest_batch(
    settings: Settings, engine: Engine, keyring: Keyring, clock: SystemClock, summary: DemoSummary
) -> dict[str, object]:
    """Riverside's signing key on this machine, and its recent claims taken in as a batch."""
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        principal = data_dir_principal(session, RIVERSIDE)
        key_file = set_up_sender(
            session, settings.data_dir, principal.organisation_id, now=clock.now()
        )
        recipient = resolve_recipient(session, principal.organisation_id, None, now=clock.now())
    load_demo_tables(sessions, settings.data_dir / "demo-tables", now=clock.now())
    content = io.BytesIO(summary.batch or b"")
    _, signed = make_manifest(
        content,
        format="x12-837p",
        sender=principal.organisation_id,
        recipient=recipient,
        key=read_client_key(key_file).key,
        now=clock.now(),
    )
    content.seek(0)
    service = batch_service(
        settings,
        sessions=sessions,
        keyring=keyring,
        server_key=open_audit_key(settings, keyring.providers),
        clock=clock,
    )
    delivery = service.receive(principal, signed.dumps(), content)
    stored = delivery.receipt.document["claims"]["stored"]
    if delivery.status != "accepted" or stored != summary.batch_claims:
        raise StorageError(
            "The demo's batch was not taken in whole.",
            detail=f"{delivery.status}: {delivery.receipt.document['errors'][:3]}",
        )
    scrub = delivery.receipt.document.get("integrity", {})
    return {
        "signing_key": str(key_file),
        "batch_id": delivery.receipt.document["batch_id"],
        "status": delivery.status,
        "claims_held": scrub.get("claims_flagged", 0),
        "findings_by_rule": scrub.get("findings_by_rule", {}),
    }


def _progress(*, quiet: bool) -> Progress | _Nothing:
    if quiet:
        return _Nothing()
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


class _Nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def show(summary: DemoSummary) -> None:
    if summary.already_loaded:
        console.print("The demo is already loaded here; nothing was changed.")
        if not summary.passwords_match_seed:
            console.print(
                "[yellow]It was loaded with another --seed, so the passwords below do not "
                "match; run demo with that seed to see them.[/yellow]"
            )
    else:
        console.print(
            f"[bold green]Demo loaded[/bold green]: {summary.patients} patients, "
            f"{summary.coverages} coverages, {summary.encounters} encounters, "
            f"{summary.claims} claims with {summary.service_lines} service lines."
        )
        for practice, count in summary.practices.items():
            console.print(f"  {escape(practice)}: {count} patients")
    console.print("\n[bold]Demo logins[/bold] (synthetic; for this demo data directory only)")
    # One block per login rather than a table: emails and passwords are
    # copied from here and must never be cut to fit a narrow terminal.
    for login in summary.logins:
        console.print(f"  [cyan]{login.email}[/cyan]  {escape(login.password)}", soft_wrap=True)
        console.print(
            f"      {', '.join(login.roles)} at {escape(login.organisation)}; "
            f"TOTP secret {login.totp_secret}",
            soft_wrap=True,
        )
