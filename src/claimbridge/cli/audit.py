"""``claimbridge audit``: check the audit log."""

from __future__ import annotations

import dataclasses

import typer

from claimbridge.audit.verify import verify_stored_log
from claimbridge.cli.common import DataDirOption, JsonOption, console, print_json, settings_for
from claimbridge.cli.errors import reported
from claimbridge.datadir import DEFAULT_DATA_DIR
from claimbridge.instance.open import open_database, require_initialised
from claimbridge.storage.db import make_sessionmaker

app = typer.Typer(help="Verify the tamper-evident audit log.", no_args_is_help=True)


@app.command("verify")
def verify(data_dir: DataDirOption = DEFAULT_DATA_DIR, json: JsonOption = False) -> None:
    """Recompute every event's hash chain; name the first altered, missing or extra event."""
    with reported(as_json=json):
        settings = settings_for(data_dir)
        require_initialised(settings)
        engine = open_database(settings, upgrade=False)
        try:
            with make_sessionmaker(engine)() as session:
                result = verify_stored_log(session)
        finally:
            engine.dispose()
        if json:
            print_json({"ok": True, **dataclasses.asdict(result)})
        else:
            console.print(
                f"[bold green]ok[/bold green]: {result.events} events chain unbroken; "
                f"head {result.head_hash}",
                soft_wrap=True,
            )
