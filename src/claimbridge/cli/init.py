"""``claimbridge init``: create or complete a data directory."""

from __future__ import annotations

import dataclasses

from rich.markup import escape

from claimbridge.cli.common import settings_for
from claimbridge.cli.errors import reported
from claimbridge.cli.output import DataDirOption, JsonOption, console, print_json
from claimbridge.clock import SystemClock
from claimbridge.datadir import DEFAULT_DATA_DIR
from claimbridge.instance.setup import InitReport, init_instance


def init(data_dir: DataDirOption = DEFAULT_DATA_DIR, json: JsonOption = False) -> None:
    """Create the data directory: config, database at the schema head, blob folder, TLS."""
    with reported(as_json=json):
        report = init_instance(settings_for(data_dir), clock=SystemClock())
        if json:
            print_json(dataclasses.asdict(report))
        else:
            show(report)


def show(report: InitReport) -> None:
    if report.created:
        console.print(f"[bold green]Initialised[/bold green] {escape(str(report.data_dir))}")
        for what in report.created:
            console.print(f"  created {escape(what)}")
    else:
        console.print(f"{escape(str(report.data_dir))} is up to date; nothing to do.")
    console.print(f"  database: {escape(report.database)}")
    console.print(f"  TLS certificate: {escape(str(report.tls_cert))}")
    console.print(f"  SHA-256 fingerprint: {report.tls_fingerprint}", soft_wrap=True)
    console.print(f"  root key: {escape(report.root_key)}")
    if report.generated_passphrase_file is not None:
        where = escape(str(report.generated_passphrase_file))
        console.print(
            "[bold yellow]WARNING:[/bold yellow] a passphrase for the root key was generated "
            f"and written to [bold]{where}[/bold], next to the key it unlocks. That is fine "
            "for a demo and nothing more: move it to a password manager, set "
            "CLAIMBRIDGE_KEY_PASSPHRASE from there, and delete the file.",
            soft_wrap=True,
        )
