"""The instance's root key: creating it at ``init``, unlocking it for every command.

With ``key_provider = "local"`` the root key is a key file, and its
passphrase comes from ``CLAIMBRIDGE_KEY_PASSPHRASE``; failing that, in
development only, from ``keys/passphrase`` that ``init`` generated for the
demo; failing that, from a prompt when a person is at the terminal. There
is never a fallback to running without the key: no key, no start.

With ``key_provider = "pkcs11"`` the root key is a non-extractable AES key
in an HSM, reached with the PIN in ``CLAIMBRIDGE_PKCS11_PIN``.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from claimbridge.clock import Clock
from claimbridge.config import Settings
from claimbridge.crypto.errors import RootKeyMissing
from claimbridge.crypto.keyring import Keyring, ProviderSet
from claimbridge.crypto.providers.local import LocalKeyProvider
from claimbridge.crypto.providers.pkcs11 import PKCS11KeyProvider
from claimbridge.datadir import make_private_dir, write_private_file
from claimbridge.errors import ConfigError

Prompt = Callable[[str], str]


@dataclass(frozen=True, slots=True)
class CreatedKey:
    where: str
    generated_passphrase_file: Path | None


def create_root_key(settings: Settings) -> CreatedKey | None:
    """Create the root key if there is none; ``None`` when it exists."""
    if settings.key_provider == "pkcs11":
        return _create_token_key(settings)
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
    return CreatedKey(where=str(key_file), generated_passphrase_file=passphrase_file)


def next_root_key_file(settings: Settings) -> Path:
    """Where the new root key waits while a root-key rotation is under way."""
    return settings.root_key_file.with_name(settings.root_key_file.name + ".next")


def _token_settings(settings: Settings) -> tuple[Path, str, str]:
    if settings.pkcs11_module is None or not settings.pkcs11_token_label:
        raise ConfigError(
            "key_provider = pkcs11 needs pkcs11_module and pkcs11_token_label.",
            where="pkcs11_module",
        )
    if settings.pkcs11_pin is None:
        raise ConfigError(
            "Set CLAIMBRIDGE_PKCS11_PIN to reach the PKCS#11 token.", where="pkcs11_pin"
        )
    return (
        settings.pkcs11_module,
        settings.pkcs11_token_label,
        settings.pkcs11_pin.get_secret_value(),
    )


def _create_token_key(settings: Settings) -> CreatedKey | None:
    module, token, pin = _token_settings(settings)
    try:
        PKCS11KeyProvider.open(
            module, token_label=token, pin=pin, key_label=settings.pkcs11_key_label
        ).close()
    except RootKeyMissing:
        PKCS11KeyProvider.create_key(
            module, token_label=token, pin=pin, key_label=settings.pkcs11_key_label
        ).close()
        return CreatedKey(
            where=f"pkcs11:{token}/{settings.pkcs11_key_label}", generated_passphrase_file=None
        )
    return None


def _open_token_providers(settings: Settings) -> ProviderSet:
    module, token, pin = _token_settings(settings)
    labels = (settings.pkcs11_key_label, *settings.pkcs11_previous_key_labels)
    providers = [
        PKCS11KeyProvider.open(module, token_label=token, pin=pin, key_label=label)
        for label in labels
    ]
    return ProviderSet(*providers)


def open_providers(settings: Settings, *, prompt: Prompt | None = None) -> ProviderSet:
    """The root key, plus the next one if a root-key rotation is under way.

    With a PKCS#11 token, the primary key is ``pkcs11_key_label``; keys named
    in ``pkcs11_previous_key_labels`` still unwrap until re-wrapped.
    """
    if settings.key_provider == "pkcs11":
        return _open_token_providers(settings)
    passphrase = _passphrase(settings, prompt)
    current, upcoming = settings.root_key_file, next_root_key_file(settings)
    if upcoming.exists() and not current.exists():
        # A rotation finished all but its last rename: finish it.
        upcoming.rename(current)
    providers = [LocalKeyProvider.open(current, passphrase)]
    if upcoming.exists():
        providers.insert(0, LocalKeyProvider.open(upcoming, passphrase))

    def reload() -> ProviderSet:
        return open_providers(settings, prompt=lambda _question: passphrase)

    return ProviderSet(*providers, reload=reload)


def open_keyring(settings: Settings, *, clock: Clock, prompt: Prompt | None = None) -> Keyring:
    return Keyring(open_providers(settings, prompt=prompt), clock=clock)


def begin_root_rotation(settings: Settings, *, prompt: Prompt | None = None) -> Path | None:
    """Create the next root key (same passphrase); new KEKs wrap under it from now on.

    With a PKCS#11 token the operator makes the new key in the HSM and names
    it in the settings (the old label moves to ``pkcs11_previous_key_labels``);
    rotation then only re-wraps.
    """
    if settings.key_provider == "pkcs11":
        return None
    upcoming = next_root_key_file(settings)
    if not upcoming.exists():
        LocalKeyProvider.create(upcoming, _passphrase(settings, prompt))
    return upcoming


def finish_root_rotation(settings: Settings) -> None:
    """Retire the old root key file once no KEK is wrapped by it.

    Deleting it is what makes the rotation count: backups taken before hold
    KEKs wrapped by the old root, which no longer exists anywhere.
    """
    if settings.key_provider == "pkcs11":
        return
    upcoming = next_root_key_file(settings)
    if upcoming.exists():
        settings.root_key_file.unlink(missing_ok=True)
        upcoming.rename(settings.root_key_file)


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
