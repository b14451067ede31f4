"""The instance's root key: creating it at ``init``, unlocking it for every command.

The passphrase comes from ``CLAIMBRIDGE_KEY_PASSPHRASE``; failing that, in
development only, from ``keys/passphrase`` that ``init`` generated for the
demo; failing that, from a prompt when a person is at the terminal. There
is never a fallback to running without the key: no key, no start.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from claimbridge.clock import Clock
from claimbridge.config import Settings
from claimbridge.crypto.keyring import Keyring
from claimbridge.crypto.providers import KeyProvider
from claimbridge.crypto.providers.local import LocalKeyProvider
from claimbridge.datadir import make_private_dir, write_private_file
from claimbridge.errors import ConfigError

Prompt = Callable[[str], str]


@dataclass(frozen=True, slots=True)
class CreatedKey:
    key_file: Path
    generated_passphrase_file: Path | None


def create_root_key(settings: Settings) -> CreatedKey | None:
    """Create the root key file if there is none; ``None`` when it exists."""
    key_file = settings.root_key_file
    if key_file.exists():
        return None
    make_private_dir(key_file.parent)
    passphrase_file: Path | None = None
    if settings.key_passphrase is not None:
        passphrase = settings.key_passphrase.get_secret_value()
    elif settings.environment == "development":
        passphrase = secrets.token_urlsafe(32)
        passphrase_file = settings.paths.demo_passphrase
        write_private_file(passphrase_file, passphrase.encode())
    else:
        raise ConfigError(
            "Set CLAIMBRIDGE_KEY_PASSPHRASE to create the root key in production.",
            where="key_passphrase",
        )
    LocalKeyProvider.create(key_file, passphrase)
    return CreatedKey(key_file=key_file, generated_passphrase_file=passphrase_file)


def open_key_provider(settings: Settings, *, prompt: Prompt | None = None) -> KeyProvider:
    return LocalKeyProvider.open(settings.root_key_file, _passphrase(settings, prompt))


def open_keyring(settings: Settings, *, clock: Clock, prompt: Prompt | None = None) -> Keyring:
    return Keyring(open_key_provider(settings, prompt=prompt), clock=clock)


def _passphrase(settings: Settings, prompt: Prompt | None) -> str:
    if settings.key_passphrase is not None:
        return settings.key_passphrase.get_secret_value()
    generated = settings.paths.demo_passphrase
    if settings.environment == "development" and generated.is_file():
        return generated.read_text().strip()
    if prompt is not None:
        return prompt(f"Passphrase for {settings.root_key_file}")
    raise ConfigError(
        "The root key is locked: set CLAIMBRIDGE_KEY_PASSPHRASE.", where="key_passphrase"
    )
