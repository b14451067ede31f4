"""``claimbridge audit``: check the audit log."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Annotated

import typer

from claimbridge.audit.checkpointing import issue_checkpoint
from claimbridge.audit.checkpoints import format_checkpoint
from claimbridge.audit.record import LOCAL_OPERATOR, Event, record
from claimbridge.audit.retention import purge_before
from claimbridge.audit.verify import verify_stored_log
from claimbridge.cli import audit_export, audit_proofs
from claimbridge.cli.common import ask_passphrase, settings_for
from claimbridge.cli.errors import reported
from claimbridge.cli.output import DataDirOption, JsonOption, console, print_json
from claimbridge.clock import SystemClock
from claimbridge.datadir import DEFAULT_DATA_DIR
from claimbridge.instance.auditkey import open_audit_key
from claimbridge.instance.keys import open_keyring
from claimbridge.instance.open import open_database, require_initialised
from claimbridge.storage.db import make_sessionmaker

app = typer.Typer(
    help="The tamper-evident audit log: verify, sign, prove, export.", no_args_is_help=True
)
app.add_typer(audit_proofs.proof_app, name="proof")
app.command("verify-proof")(audit_proofs.verify_proof)
app.command("disclosures")(audit_proofs.disclosures)
app.command("export")(audit_export.export)


@app.command("verify")
def verify(data_dir: DataDirOption = DEFAULT_DATA_DIR, json: JsonOption = False) -> None:
    """Recompute every event's hash chain; name the first altered, missing or extra event."""
    with reported(as_json=json):
        settings = settings_for(data_dir)
        require_initialised(settings)
        engine = open_database(settings, upgrade=False)
        try:
            with open_keyring(settings, clock=SystemClock(), prompt=ask_passphrase) as keyring:
                public_key = open_audit_key(settings, keyring.providers).public_key_bytes()
            with make_sessionmaker(engine)() as session:
                result = verify_stored_log(session, public_key=public_key)
        finally:
            engine.dispose()
        if json:
            print_json({"ok": True, **dataclasses.asdict(result)})
        else:
            console.print(
                f"[bold green]ok[/bold green]: {result.events} events chain unbroken, "
                f"{result.checkpoints} signed checkpoints match; head {result.head_hash}",
                soft_wrap=True,
            )


@app.command("checkpoint")
def checkpoint(data_dir: DataDirOption = DEFAULT_DATA_DIR, json: JsonOption = False) -> None:
    """Sign the log as it stands now; print the checkpoint for a practice to keep."""
    with reported(as_json=json):
        settings = settings_for(data_dir)
        require_initialised(settings)
        engine = open_database(settings, upgrade=False)
        try:
            with open_keyring(settings, clock=SystemClock(), prompt=ask_passphrase) as keyring:
                key = open_audit_key(settings, keyring.providers)
            with make_sessionmaker(engine).begin() as session:
                now = SystemClock().now()
                record(
                    session,
                    Event(
                        action="audit:checkpoint:issued",
                        resource_type="audit_log",
                        purpose="operations",
                        actor=LOCAL_OPERATOR,
                    ),
                    now=now,
                )
                signed = issue_checkpoint(session, key, now=now)
        finally:
            engine.dispose()
        text = format_checkpoint(signed)
        if json:
            print_json({"tree_size": signed.checkpoint.tree_size, "checkpoint": text})
        else:
            print(text, end="")


@app.command("public-key")
def public_key(data_dir: DataDirOption = DEFAULT_DATA_DIR, json: JsonOption = False) -> None:
    """The audit signing key's public half (hex): what a practice verifies checkpoints with."""
    with reported(as_json=json):
        settings = settings_for(data_dir)
        require_initialised(settings)
        with open_keyring(settings, clock=SystemClock(), prompt=ask_passphrase) as keyring:
            key = open_audit_key(settings, keyring.providers).public_key_bytes().hex()
        if json:
            print_json({"public_key": key})
        else:
            print(key)


@app.command("purge")
def purge(
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    older_than_days: Annotated[
        int | None,
        typer.Option(min=1, help="Retention in days (default: audit_retention_days, 6 years)."),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    json: JsonOption = False,
) -> None:
    """Delete events older than the retention period; signed, audited, the rest verifiable."""
    with reported(as_json=json):
        settings = settings_for(data_dir)
        require_initialised(settings)
        days = older_than_days or settings.audit_retention_days
        if not yes and not typer.confirm(f"Delete audit events older than {days} days?"):
            raise typer.Exit(1)
        engine = open_database(settings, upgrade=False)
        try:
            with open_keyring(settings, clock=SystemClock(), prompt=ask_passphrase) as keyring:
                key = open_audit_key(settings, keyring.providers)
            with make_sessionmaker(engine).begin() as session:
                done = purge_before(
                    session,
                    key,
                    retention=timedelta(days=days),
                    now=SystemClock().now(),
                    actor=LOCAL_OPERATOR,
                )
        finally:
            engine.dispose()
        if json:
            print_json(dataclasses.asdict(done))
        else:
            console.print(
                f"purged {done.events} events (through {done.through_seq}) older than "
                f"{done.cutoff.isoformat()}",
                soft_wrap=True,
            )
