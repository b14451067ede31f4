"""What commands that open a data directory share: settings, the passphrase prompt, ``opened``.

The options and printing every command shares are in ``output``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
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


def settings_for(data_dir: Path, **overrides: Any) -> Settings:
    given = {name: value for name, value in overrides.items() if value is not None}
    return load_settings(data_dir, **given)


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
