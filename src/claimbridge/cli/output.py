"""The options every command shares, and how commands print.

Light on purpose: a command that only reads files (``claimbridge x12``)
imports this and not the database and key modules of ``common``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

DataDirOption = Annotated[
    Path,
    typer.Option(
        "--data-dir",
        envvar="CLAIMBRIDGE_DATA_DIR",
        help="The instance's data directory.",
        show_default=True,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]

console = Console(highlight=False)


def print_json(value: Any, *, one_line: bool = False) -> None:
    """JSON on stdout; ``one_line`` for streams a program reads line by line."""
    text = json.dumps(value, default=str) if one_line else json.dumps(value, indent=2, default=str)
    print(text, flush=True)


def private_umask() -> None:
    """Files this process creates are ours alone unless a mode says otherwise."""
    os.umask(0o077)
