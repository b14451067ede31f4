"""``claimbridge keys``: the key hierarchy, seen and managed by the operator."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from claimbridge.cli.common import ask_passphrase, opened
from claimbridge.cli.errors import reported
from claimbridge.cli.output import DataDirOption, JsonOption, console, print_json
from claimbridge.clock import SystemClock
from claimbridge.datadir import DEFAULT_DATA_DIR
from claimbridge.errors import Conflict
from claimbridge.instance import keyops
from claimbridge.instance.keys import open_keyring

app = typer.Typer(help="Inspect, rotate, re-wrap and shred encryption keys.", no_args_is_help=True)

OrgOption = Annotated[str, typer.Option("--org", help="Organisation id or exact name.")]


@app.command("status")
def status(data_dir: DataDirOption = DEFAULT_DATA_DIR, json: JsonOption = False) -> None:
    """Key ids, versions, states, ages and provider: never key material."""
    with reported(as_json=json), opened(data_dir) as inst, inst.sessions() as session:
        report = keyops.key_status(session, inst.keyring)
        if json:
            print_json(
                {
                    "primary_provider": report.primary_provider,
                    "providers": list(report.providers),
                    "keks": [
                        {"organisation": name, **dataclasses.asdict(kek)}
                        for name, kek in report.tenants
                    ],
                }
            )
            return
        console.print(f"root key: {escape(report.primary_provider)}")
        table = Table("organisation", "KEK", "state", "data keys", "created", "retired")
        for name, kek in report.tenants:
            table.add_row(
                escape(name),
                f"v{kek.version}",
                kek.state,
                str(kek.data_keys),
                kek.created_at.isoformat(timespec="seconds"),
                kek.retired_at.isoformat(timespec="seconds") if kek.retired_at else "",
            )
        console.print(table)


@app.command("rotate")
def rotate(
    org: OrgOption, data_dir: DataDirOption = DEFAULT_DATA_DIR, json: JsonOption = False
) -> None:
    """Add a KEK version for new writes; run `keys rewrap` to move existing data keys."""
    with reported(as_json=json), opened(data_dir) as inst, inst.sessions.begin() as session:
        version = keyops.rotate_tenant_key(session, inst.keyring, org, now=SystemClock().now())
    _say(
        json,
        {"organisation": org, "new_version": version},
        f"New KEK v{version} for {org}; now run `claimbridge keys rewrap --org {org!r}`.",
    )


@app.command("rewrap")
def rewrap(
    org: OrgOption,
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    batch: Annotated[int, typer.Option(min=1, max=10_000, help="Keys per transaction.")] = 200,
    json: JsonOption = False,
) -> None:
    """Re-wrap every data key onto the newest KEK, then retire the old versions (resumable)."""
    with reported(as_json=json), opened(data_dir) as inst, _spinner(json) as show:
        done = keyops.rewrap_tenant_keys(
            inst.sessions, inst.keyring, org, clock=SystemClock(), progress=show, batch=batch
        )
    _say(
        json,
        {"organisation": org, "rewrapped": done},
        f"Re-wrapped {done} data keys; older KEK versions of {org} are retired.",
    )


@app.command("shred")
def shred(
    org: OrgOption,
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask; for scripts.")] = False,
    json: JsonOption = False,
) -> None:
    """Destroy an organisation's keys: all its data becomes unreadable, for ever."""
    with reported(as_json=json), opened(data_dir) as inst:
        if not yes and not typer.confirm(
            f"Destroy every key of {org}? All of its data becomes unreadable; "
            "this cannot be undone",
            default=False,
        ):
            raise Conflict("Nothing was shredded.", where="confirmation")
        with inst.sessions.begin() as session:
            versions = keyops.shred_tenant_keys(session, inst.keyring, org, now=SystemClock().now())
    _say(
        json,
        {"organisation": org, "destroyed_versions": versions},
        f"Destroyed {versions} KEK version(s) of {org}; its data can no longer be decrypted.",
    )


@app.command("rotate-root")
def rotate_root(data_dir: DataDirOption = DEFAULT_DATA_DIR, json: JsonOption = False) -> None:
    """Make a new root key, re-wrap every KEK under it, destroy the old root (resumable)."""
    with reported(as_json=json), opened(data_dir) as inst, _spinner(json) as show:
        done = keyops.rotate_root_key(
            inst.settings,
            inst.sessions,
            lambda: open_keyring(inst.settings, clock=SystemClock(), prompt=ask_passphrase),
            clock=SystemClock(),
            progress=show,
        )
    _say(json, {"rewrapped_keks": done}, f"New root key in place; {done} KEKs re-wrapped.")


@contextmanager
def _spinner(quiet: bool) -> Iterator[keyops.Progress | None]:
    if quiet:
        yield None
        return
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("re-wrapping keys", total=None)
        yield lambda done: bar.update(task, description=f"re-wrapped {done} keys")


def _say(as_json: bool, data: dict[str, object], message: str) -> None:
    if as_json:
        print_json(data)
    else:
        console.print(escape(message))
