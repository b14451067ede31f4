"""The server's audit signing key: Ed25519, wrapped by the root key in ``keys/audit.key``.

It signs the audit log's checkpoints; its public key is what a practice
keeps to check them without trusting the server. The seed is stored
wrapped by the root key provider (with its own context), never in the
clear; a root-key rotation re-wraps it.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

from claimbridge.config import Settings
from claimbridge.crypto.errors import KeyFileError
from claimbridge.crypto.keyring import ProviderSet
from claimbridge.crypto.signing import SigningKey
from claimbridge.datadir import write_private_file

FORMAT = "claimbridge-audit-key"
# IMPORTANT: bound into the wrapped seed; changing it strands the key.
CONTEXT = b"claimbridge/audit-signing-key/v1\x00"


def audit_key_file(settings: Settings) -> Path:
    return settings.paths.keys / "audit.key"


def create_audit_key(settings: Settings, providers: ProviderSet) -> bool:
    """Make the audit signing key if there is none; whether one was made."""
    path = audit_key_file(settings)
    if path.exists():
        return False
    path.parent.mkdir(mode=0o700, exist_ok=True)
    _write(path, SigningKey.generate(), providers)
    return True


def open_audit_key(settings: Settings, providers: ProviderSet) -> SigningKey:
    path = audit_key_file(settings)
    try:
        document = json.loads(path.read_text())
        wrapped = base64.b64decode(document["wrapped"], validate=True)
        provider = providers.get(str(document["provider_id"]))
    except (OSError, ValueError, KeyError, TypeError):
        raise KeyFileError(
            f"The audit key {path} is missing or damaged.", where=str(path)
        ) from None
    return SigningKey.from_seed(provider.unwrap(wrapped, context=CONTEXT))


def rewrap_audit_key(settings: Settings, providers: ProviderSet) -> None:
    """Wrap the audit key under the primary root key (part of a root-key rotation)."""
    path = audit_key_file(settings)
    if path.exists():
        _write(path, open_audit_key(settings, providers), providers)


def _write(path: Path, key: SigningKey, providers: ProviderSet) -> None:
    primary = providers.primary
    document = {
        "format": FORMAT,
        "version": 1,
        "provider_id": primary.provider_id,
        "public_key": key.public_key_bytes().hex(),
        "wrapped": base64.b64encode(primary.wrap(key.seed_bytes(), context=CONTEXT)).decode(),
    }
    write_private_file(path, (json.dumps(document, indent=2) + "\n").encode())
