"""Batch-signing key files: the private half an organisation keeps for ``send``.

A key file is a PKCS#8 PEM Ed25519 private key (OpenSSL reads it), preceded
by one line of explanatory text, which RFC 7468 allows before the PEM
block, naming the organisation::

    claimbridge-organisation: 3f0c…
    -----BEGIN PRIVATE KEY-----
    …

It is written 0600 and never leaves the machine; the server only ever
gets the public half. A data directory keeps such files under
``clients/<organisation id>.key``, where ``send`` and ``ingest`` find
them when no key file is named.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from claimbridge.crypto.signing import SigningKey
from claimbridge.datadir import DataDir, make_private_dir
from claimbridge.errors import ConfigError, NotFound
from claimbridge.exchange.documents import key_id_of

__all__ = ["ClientKey", "client_key_path", "read_client_key", "write_client_key"]

_LABEL = "claimbridge-organisation:"


@dataclass(frozen=True)
class ClientKey:
    organisation_id: str | None
    key: SigningKey

    @property
    def key_id(self) -> str:
        return key_id_of(self.key.public_key_bytes())


def client_key_path(data_dir: Path, organisation_id: str) -> Path:
    return DataDir(data_dir).clients / f"{organisation_id}.key"


def write_client_key(path: Path, key: SigningKey, organisation_id: str) -> None:
    """Write ``key`` to a new 0600 file; an existing file is never overwritten."""
    make_private_dir(path.parent)
    text = f"{_LABEL} {organisation_id}\n".encode() + key.private_pem()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        raise ConfigError(f"{path} exists; it is never overwritten.", where=str(path)) from None
    with os.fdopen(fd, "wb") as out:
        out.write(text)


def read_client_key(path: Path) -> ClientKey:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise NotFound(f"No signing key file at {path}.", where=str(path)) from None
    except OSError as exc:
        raise ConfigError(f"{path} cannot be read.", where=str(path)) from exc
    if os.stat(path).st_mode & 0o077:
        raise ConfigError(
            f"{path} is readable by other users; run `chmod 600 {path}`.", where=str(path)
        )
    organisation = None
    first = raw.split(b"\n", 1)[0].decode("utf-8", errors="replace")
    if first.startswith(_LABEL):
        organisation = first.removeprefix(_LABEL).strip() or None
    try:
        key = SigningKey.from_pem(raw)
    except ValueError as exc:
        raise ConfigError(
            f"{path} is not an Ed25519 private key in PEM form.", where=str(path)
        ) from exc
    return ClientKey(organisation, key)
