"""``claimbridge demo``: fill an instance with synthetic, deterministic demo data."""

from __future__ import annotations

import dataclasses
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from claimbridge.cli.common import (
    DataDirOption,
    JsonOption,
    ask_passphrase,
    console,
    print_json,
    settings_for,
)
from claimbridge.cli.errors import reported
from claimbridge.clock import SystemClock
from claimbridge.datadir import DEFAULT_DATA_DIR
from claimbridge.demo.load import DemoSummary, load_demo
from claimbridge.errors import ConfigError
from claimbridge.instance.keys import open_keyring
from claimbridge.instance.open import open_database, require_initialised
from claimbridge.instance.setup import init_instance
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
                    seed=seed,
                    patients=patients,
                    now=clock.now(),
                    progress=advance,
                )
        finally:
            engine.dispose()
            keyring.close()
        if json:
            print_json(dataclasses.asdict(summary))
        else:
            show(summary)


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
