"""Stored files, sealed: every blob on disk is ciphertext under its tenant's key.

A sealed blob file is::

    offset  size  field
    0       4     magic, b"CBB1"
    4       16    id of the data key (a tenant blob key; see ``keyring.py``)
    20      …     the streaming ciphertext of ``streams.py`` (version 1)

and the stream's associated data is ``"claimbridge/blob/v1" 0x00 tenant 0x00
blob key``, so a file copied under another name, or into another tenant's
folder, does not decrypt.

IMPORTANT: this layout is frozen; every stored blob is in it. A change
needs a new magic and a reader that keeps reading ``CBB1``.

A blob is written under a temporary name and renamed into place only when
it is complete and synced (``BlobStore.commit``). If the transaction that
recorded it then rolls back, the file is left without a row: it can never
be read (its data key rolled back with the row), and is safe to sweep.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import BinaryIO

from sqlalchemy.orm import Session

from claimbridge.crypto.envelope import KEY_ID_SIZE, DataKey
from claimbridge.crypto.errors import DecryptionFailed
from claimbridge.crypto.keyring import Keyring
from claimbridge.crypto.streams import DecryptingReader, decrypt_stream, encrypt_stream
from claimbridge.storage.blobs import BlobStore

MAGIC = b"CBB1"
_AAD_LABEL = b"claimbridge/blob/v1\x00"


@dataclass(frozen=True, slots=True)
class SealedFile:
    blob_key: str
    size_bytes: int
    sha256: str
    """SHA-256 of the plaintext, computed while it streamed through."""


class _Hashing:
    """A reader that hashes what passes through it."""

    def __init__(self, src: BinaryIO) -> None:
        self._src = src
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        chunk = self._src.read(size)
        self.digest.update(chunk)
        return chunk


def _associated_data(tenant: str, blob_key: str) -> bytes:
    return _AAD_LABEL + tenant.encode() + b"\x00" + blob_key.encode()


class SealedFiles:
    def __init__(self, store: BlobStore, keyring: Keyring) -> None:
        self.store = store
        self.keyring = keyring

    def put(self, session: Session, tenant: str, src: BinaryIO) -> SealedFile:
        """Encrypt ``src`` into a new blob of ``tenant``; constant memory for any size."""
        return self.write(tenant, self.keyring.blob_key(session, tenant), src)

    def write(self, tenant: str, key: DataKey, src: BinaryIO) -> SealedFile:
        """``put`` with a blob key fetched earlier: no database work while ``src`` streams.

        The key's row must be committed before the blob is recorded, or the
        blob can never be read.
        """
        blob_key, partial = self.store.create()
        hashing = _Hashing(src)
        try:
            with partial.open("wb") as out:
                out.write(MAGIC + key.key_id)
                size = encrypt_stream(
                    hashing,  # type: ignore[arg-type]
                    out,
                    key=key,
                    associated_data=_associated_data(tenant, blob_key),
                )
            self.store.commit(blob_key)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        return SealedFile(blob_key=blob_key, size_bytes=size, sha256=hashing.digest.hexdigest())

    @contextmanager
    def reader(self, tenant: str, blob_key: str, key: DataKey) -> Iterator[DecryptingReader]:
        """The plaintext of blob ``blob_key`` as a stream to pull from (see ``DecryptingReader``).

        ``key`` is the blob's data key, looked up beforehand (``data_key_id``
        and ``Keyring.key_for``), so a long read holds no database transaction.
        """
        with self.store.open(blob_key).open("rb") as src:
            if self._key_id_of(src) != key.key_id:
                raise DecryptionFailed(detail="the blob names another data key")
            yield DecryptingReader(
                src,
                key=key,
                associated_data=_associated_data(tenant, blob_key),
            )

    def data_key_id(self, blob_key: str) -> bytes:
        """The id of the data key blob ``blob_key`` was sealed with (from its header)."""
        with self.store.open(blob_key).open("rb") as src:
            return self._key_id_of(src)

    @staticmethod
    def _key_id_of(src: BinaryIO) -> bytes:
        header = src.read(len(MAGIC) + KEY_ID_SIZE)
        if len(header) != len(MAGIC) + KEY_ID_SIZE or not header.startswith(MAGIC):
            raise DecryptionFailed(detail="not a sealed blob")
        return header[len(MAGIC) :]

    def read_into(self, session: Session, tenant: str, blob_key: str, dst: BinaryIO) -> int:
        """Decrypt blob ``blob_key`` of ``tenant`` into ``dst``; returns the plaintext size.

        As with ``decrypt_stream``, what ``dst`` received is untrusted until
        this returns: tampering is found where it is, not before.
        """
        with self.store.open(blob_key).open("rb") as src:
            key = self.keyring.key_for(session, tenant)(self._key_id_of(src))
            return decrypt_stream(
                src, dst, key=key, associated_data=_associated_data(tenant, blob_key)
            )
