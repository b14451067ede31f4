"""``claimbridge signing-key``: an organisation's batch-signing keys.

``create`` makes a new Ed25519 key file on this machine (the private half
never leaves it) and prints the public half; ``create-held`` makes a key the
server holds for the organisation, sealed under the organisation's own key
(for ``ingest`` without a key file, and the upload page); ``register`` records a public
key for an organisation in the data directory's database (the operator's
way; a practice admin uses ``POST /api/v1/signing-keys``), retiring the
older keys after an overlap; ``list`` shows them.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from claimbridge.audit.record import LOCAL_OPERATOR
from claimbridge.cli.common import ask_passphrase, settings_for
from claimbridge.cli.errors import reported
from claimbridge.cli.output import DataDirOption, JsonOption, console, print_json
from claimbridge.clock import SystemClock
from claimbridge.crypto.signing import SigningKey
from claimbridge.datadir import DEFAULT_DATA_DIR
from claimbridge.exchange.clientkeys import client_key_path, write_client_key
from claimbridge.exchange.documents import key_id_of
from claimbridge.exchange.orgkeys import (
    create_held_key,
    list_keys,
    parse_public_key,
    register_key,
)
from claimbridge.instance.keys import open_keyring
from claimbridge.instance.open import open_database, require_initialised
from claimbridge.storage.db import make_sessionmaker
from claimbridge.storage.orgs import find_organisation

app = typer.Typer(help="Organisations' batch-signing keys.", no_args_is_help=True)

OrgOption = Annotated[str, typer.Option("--org", help="The organisation (name or id).")]


@app.command("create")
def create(
    organisation_id: Annotated[
        str, typer.Option("--org-id", help="The organisation's id, written into the key file.")
    ],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Where to write the key (default: --data-dir's clients/)."),
    ] = None,
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    json: JsonOption = False,
) -> None:
    """Make a new batch-signing key file (mode 0600) and print its public key to register."""
    with reported(as_json=json):
        path = out or client_key_path(data_dir, organisation_id)
        key = SigningKey.generate()
        write_client_key(path, key, organisation_id)
        public = key.public_key_bytes()
        if json:
            print_json({"file": str(path), "public_key": public.hex(), "key_id": key_id_of(public)})
        else:
            console.print(f"wrote {path} (keep it private; it never needs to leave this machine)")
            console.print(f"public key to register: {public.hex()}", soft_wrap=True)


@app.command("create-held")
def create_held(
    org: OrgOption,
    overlap_days: Annotated[
        int, typer.Option(min=0, max=90, help="Days older keys stay valid.")
    ] = 7,
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    json: JsonOption = False,
) -> None:
    """Make a key the server holds for the organisation, sealed under its key; older ones retire."""
    with reported(as_json=json):
        settings = settings_for(data_dir)
        require_initialised(settings)
        clock = SystemClock()
        with open_keyring(settings, clock=clock, prompt=ask_passphrase) as keyring:
            engine = open_database(settings, upgrade=False)
            try:
                with make_sessionmaker(engine).begin() as session:
                    organisation = find_organisation(session, org)
                    key = create_held_key(
                        session,
                        keyring,
                        organisation.id,
                        now=clock.now(),
                        actor=LOCAL_OPERATOR,
                        overlap=timedelta(days=overlap_days),
                    )
            finally:
                engine.dispose()
        if json:
            print_json(key.to_json())
        else:
            console.print(f"the server now holds key {key.key_id} for {organisation.name}")


@app.command("register")
def register(
    org: OrgOption,
    public_key: Annotated[str, typer.Option("--public-key", help="64 hex digits.")],
    overlap_days: Annotated[
        int, typer.Option(min=0, max=90, help="Days older keys stay valid.")
    ] = 7,
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    json: JsonOption = False,
) -> None:
    """Register a public key for an organisation; its older keys retire after the overlap."""
    with reported(as_json=json):
        settings = settings_for(data_dir)
        require_initialised(settings)
        engine = open_database(settings, upgrade=False)
        try:
            with make_sessionmaker(engine).begin() as session:
                organisation = find_organisation(session, org)
                key = register_key(
                    session,
                    organisation.id,
                    parse_public_key(public_key),
                    now=SystemClock().now(),
                    actor=LOCAL_OPERATOR,
                    overlap=timedelta(days=overlap_days),
                )
        finally:
            engine.dispose()
        if json:
            print_json(key.to_json())
        else:
            console.print(f"registered key {key.key_id} for {organisation.name}")


@app.command("list")
def list_(
    org: OrgOption, data_dir: DataDirOption = DEFAULT_DATA_DIR, json: JsonOption = False
) -> None:
    """An organisation's batch-signing keys, current and retired."""
    with reported(as_json=json):
        settings = settings_for(data_dir)
        require_initialised(settings)
        engine = open_database(settings, upgrade=False)
        try:
            with make_sessionmaker(engine)() as session:
                organisation = find_organisation(session, org)
                keys = list_keys(session, organisation.id)
        finally:
            engine.dispose()
        if json:
            print_json({"organisation_id": organisation.id, "items": [k.to_json() for k in keys]})
            return
        table = Table("key id", "held by", "registered", "retired", "valid until")
        for k in keys:
            table.add_row(
                k.key_id,
                "server" if k.held_by_server else "organisation",
                k.created_at.isoformat(timespec="seconds"),
                k.retired_at.isoformat(timespec="seconds") if k.retired_at else "",
                k.valid_until.isoformat(timespec="seconds") if k.valid_until else "current",
            )
        console.print(table)
