"""Options every command shares, and how commands print."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from claimbridge.clock import SystemClock
from claimbridge.config import Settings, load_settings
from claimbridge.crypto.files import SealedFiles
from claimbridge.crypto.keyring import Keyring
from claimbridge.errors import ConfigError
from claimbridge.instance.keys import open_keyring
from claimbridge.instance.open import open_database, require_initialised
from claimbridge.storage.blobs import BlobStore
from claimbridge.storage.db import make_sessionmaker

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


def settings_for(data_dir: Path, **overrides: Any) -> Settings:
    given = {name: value for name, value in overrides.items() if value is not None}
    return load_settings(data_dir, **given)


def print_json(value: Any, *, one_line: bool = False) -> None:
    """JSON on stdout; ``one_line`` for streams a program reads line by line."""
    text = json.dumps(value, default=str) if one_line else json.dumps(value, indent=2, default=str)
    print(text, flush=True)


def private_umask() -> None:
    """Files this process creates are ours alone unless a mode says otherwise."""
    os.umask(0o077)


def ask_passphrase(question: str) -> str:
    """Prompt for the root key's passphrase, only when a person is at the terminal."""
    if not sys.stdin.isatty():
        raise ConfigError(
            "The root key is locked: set CLAIMBRIDGE_KEY_PASSPHRASE.", where="key_passphrase"
        )
    return str(typer.prompt(question, hide_input=True))


@dataclass
class Instance:
    """An opened data directory: its settings, database and keyring."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    keyring: Keyring

    @property
    def files(self) -> SealedFiles:
        """The blob store, sealing under the tenants' keys."""
        return SealedFiles(BlobStore(self.settings.paths.blobs), self.keyring)


@contextmanager
def opened(data_dir: Path) -> Iterator[Instance]:
    """The data directory opened for a command (the keyring asks for its passphrase)."""
    settings = settings_for(data_dir)
    require_initialised(settings)
    with open_keyring(settings, clock=SystemClock(), prompt=ask_passphrase) as keyring:
        engine = open_database(settings, upgrade=False)
        try:
            yield Instance(settings, engine, make_sessionmaker(engine), keyring)
        finally:
            engine.dispose()
