"""The ``claimbridge`` console command.

Each command's module is imported when that command runs, or when help
lists the commands: ``claimbridge x12 validate`` does not wait for the
database, web and FHIR stacks that other commands use.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Iterator, Mapping
from typing import Any

import typer
from typer.core import TyperGroup

from claimbridge.cli.output import private_umask

# Command name to "module:attribute", in the order help lists them. The
# attribute is a Typer app (a group of commands) or a command function.
COMMANDS = {
    "init": "claimbridge.cli.init:init",
    "demo": "claimbridge.cli.demo:demo",
    "serve": "claimbridge.cli.serve:serve",
    "send": "claimbridge.cli.exchange:send",
    "ingest": "claimbridge.cli.exchange:ingest",
    "worker": "claimbridge.cli.exchange:worker",
    "scrub": "claimbridge.cli.scrub:scrub_command",
    "receipt": "claimbridge.cli.exchange:receipt_app",
    "signing-key": "claimbridge.cli.signing_keys:app",
    "keys": "claimbridge.cli.keys:app",
    "access": "claimbridge.cli.access:app",
    "audit": "claimbridge.cli.audit:app",
    "db": "claimbridge.cli.database:app",
    "x12": "claimbridge.cli.x12:app",
    "integrity": "claimbridge.cli.integrity:app",
    "claims": "claimbridge.cli.billing:app",
    "engagements": "claimbridge.cli.engagements:app",
    "vendors": "claimbridge.cli.vendors:app",
}


class _Built(Mapping[str, Any]):
    """The commands of ``COMMANDS`` by name, each built when first looked up.

    Every name is there from the start, so typer's "did you mean ...?"
    sees them all without building any.
    """

    def __init__(self) -> None:
        self._built: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in COMMANDS:
            raise KeyError(name)
        if name not in self._built:
            self._built[name] = command(name)
        return self._built[name]

    def __iter__(self) -> Iterator[str]:
        return iter(COMMANDS)

    def __len__(self) -> int:
        return len(COMMANDS)


class _Commands(TyperGroup):
    """The top-level group: a command's module is imported on its first use."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = _Built()  # type: ignore[assignment]

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)


def command(name: str) -> Any:
    """The click command for ``name``, its module imported now."""
    module, attribute = COMMANDS[name].split(":")
    target = getattr(importlib.import_module(module), attribute)
    if isinstance(target, typer.Typer):
        built: Any = typer.main.get_group(target)
    else:
        single = typer.Typer(add_completion=False)
        single.command(name)(target)
        built = typer.main.get_command(single)
    built.name = name
    return built


app = typer.Typer(
    name="claimbridge",
    cls=_Commands,
    help="A secure billing exchange between medical practices and billing companies.",
    no_args_is_help=True,
    add_completion=False,
    # Typer's pretty tracebacks print local variables, which may hold PHI.
    pretty_exceptions_enable=False,
)


@app.callback()
def _main() -> None:
    private_umask()
    # CLAIMBRIDGE_LOG_LEVEL=debug shows the traceback of an unexpected error
    # on stderr (it may then show PHI: for a developer's own machine only).
    level = os.environ.get("CLAIMBRIDGE_LOG_LEVEL", "warning").upper()
    logging.basicConfig(level=getattr(logging, level, logging.WARNING), format="%(message)s")


def main() -> None:
    app()
