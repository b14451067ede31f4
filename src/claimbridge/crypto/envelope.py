"""Field encryption: one PHI value in, one self-describing blob out.

``seal`` encrypts a value with AES-256-GCM under a ``DataKey`` and binds it
to where it lives (tenant, table, column, row); ``unseal`` reverses it and
fails with the one ``DecryptionFailed`` if anything does not match. A
ciphertext copied to another row, column, table or tenant does not
decrypt (DESIGN.md, security invariant 1).

Byte format, version 1::

    offset  size  field
    0       1     version, 0x01
    1       16    data key id (random, not secret)
    17      4     KEK version, u32 big-endian: the key-encryption key that
                  wrapped the data key when this value was sealed
    21      12    nonce, random
    33      n+16  AES-256-GCM ciphertext of the n-byte plaintext, then the tag

    associated data = bytes 0..20 (the header)
                    || u32be(len(tenant)) || tenant
                    || u32be(len(table))  || table
                    || u32be(len(column)) || column
                    || u32be(len(row_id)) || row_id      (each UTF-8)

IMPORTANT: this format is frozen. Every PHI column of every database holds
it; changing a field, its order, its width or the associated-data encoding
makes every stored value undecryptable. A new layout needs a new version
byte, and ``unseal`` must keep reading version 1 for as long as such rows
exist. The length prefixes make the context encoding injective, so
("ab", "c") and ("a", "bc") never share associated data.

Nonces are random. With 96-bit random nonces the chance of a collision
stays below 2^-32 only for up to 2^32 encryptions under one key (NIST SP
800-38D, 8.3). Each ``DataKey`` therefore counts its encryptions and
refuses past a limit (2^31 by default, well inside that bound): ``seal``
raises ``KeyExhausted`` and the caller rolls a fresh data key. The count
lives in memory; whoever persists data keys persists ``encryptions`` too
and passes it back when the key is loaded again.
"""

from __future__ import annotations

import itertools
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NoReturn

from claimbridge.crypto import _primitives
from claimbridge.crypto.errors import DecryptionFailed, KeyExhausted
from claimbridge.errors import NotFound

_random_bytes = _primitives.random_bytes

VERSION = 0x01
KEY_ID_SIZE = 16
SECRET_SIZE = _primitives.AES_KEY_SIZE
NONCE_SIZE = _primitives.GCM_NONCE_SIZE
DEFAULT_ENCRYPTION_LIMIT = 2**31
"""Encryptions allowed under one data key; half the 2^32 random-nonce bound."""

_HEADER = struct.Struct(">B16sI")
_HEADER_SIZE = _HEADER.size  # 21
_NONCE_END = _HEADER_SIZE + NONCE_SIZE  # 33
_MIN_BLOB_SIZE = _NONCE_END + _primitives.GCM_TAG_SIZE  # 49
_U32 = struct.Struct(">I")
_MAX_U32 = 2**32 - 1


def _encode_part(value: str) -> bytes:
    data = value.encode("utf-8")
    return _U32.pack(len(data)) + data


@dataclass(frozen=True, slots=True)
class FieldContext:
    """Where a sealed value lives; bound into its associated data.

    The encoding is computed once, when the context is made, so sealing a
    value costs no string work beyond the header.
    """

    tenant: str
    table: str
    column: str
    row_id: str
    encoded: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        parts = (self.tenant, self.table, self.column, self.row_id)
        if not all(isinstance(part, str) and part for part in parts):
            raise ValueError("FieldContext needs non-empty tenant, table, column and row_id")
        object.__setattr__(self, "encoded", b"".join(_encode_part(part) for part in parts))


class DataKey:
    """A 256-bit data key with its id, its KEK version and a use counter.

    The secret never shows in ``repr`` and the object cannot be pickled or
    copied, so it does not leak into logs, caches or task queues by
    accident. Equality is identity: two ``DataKey`` objects are never
    compared by their secrets.
    """

    __slots__ = (
        "_aead",
        "_header",
        "_kek_version",
        "_key_id",
        "_limit",
        "_next_use",
        "_secret",
        "_uses",
    )

    def __init__(
        self,
        *,
        key_id: bytes,
        secret: bytes,
        kek_version: int,
        encryption_limit: int = DEFAULT_ENCRYPTION_LIMIT,
        encryptions: int = 0,
    ) -> None:
        if len(key_id) != KEY_ID_SIZE:
            raise ValueError("a data key id is 16 bytes")
        if len(secret) != SECRET_SIZE:
            raise ValueError("a data key secret is 32 bytes")
        if not 0 <= kek_version <= _MAX_U32:
            raise ValueError("a KEK version is an unsigned 32-bit integer")
        if not 0 < encryption_limit <= DEFAULT_ENCRYPTION_LIMIT:
            raise ValueError("the encryption limit must be in 1..2**31")
        if encryptions < 0:
            raise ValueError("the encryption count cannot be negative")
        self._key_id = bytes(key_id)
        self._secret = bytes(secret)
        self._kek_version = kek_version
        self._limit = encryption_limit
        # next() on an itertools.count is one atomic step: under the GIL
        # because it runs no Python code, and in free-threaded builds since
        # CPython gh-117657. So no two threads ever get the same use number,
        # and the limit holds without a lock on the hot path.
        self._uses = itertools.count(encryptions)
        self._next_use = self._uses.__next__
        self._aead = _primitives.AEAD(self._secret)
        # The header is the same for every value sealed under this key.
        self._header = _HEADER.pack(VERSION, self._key_id, kek_version)

    @classmethod
    def generate(
        cls, *, kek_version: int, encryption_limit: int = DEFAULT_ENCRYPTION_LIMIT
    ) -> DataKey:
        """A fresh key with a random id and a random secret."""
        return cls(
            key_id=_primitives.random_bytes(KEY_ID_SIZE),
            secret=_primitives.random_bytes(SECRET_SIZE),
            kek_version=kek_version,
            encryption_limit=encryption_limit,
        )

    def __repr__(self) -> str:
        return f"DataKey(key_id={self._key_id.hex()}, kek_version={self._kek_version})"

    def __reduce__(self) -> NoReturn:
        raise TypeError("a DataKey cannot be pickled or copied; wrap it with a KeyProvider")

    @property
    def key_id(self) -> bytes:
        return self._key_id

    @property
    def kek_version(self) -> int:
        return self._kek_version

    @property
    def encryptions(self) -> int:
        """How many encryptions this key has done (or was loaded with)."""
        # Read the counter without advancing it: its repr is "count(N)".
        return min(int(repr(self._uses)[len("count(") : -1]), self._limit)

    @property
    def encryption_limit(self) -> int:
        return self._limit

    def secret_bytes(self) -> bytes:
        """The raw secret, for wrapping under a KEK and nothing else."""
        return self._secret

    def _count_encryption(self) -> None:
        if self._next_use() >= self._limit:
            self._refuse_encryption()

    def _refuse_encryption(self) -> NoReturn:
        raise KeyExhausted(detail=f"data key {self._key_id.hex()} reached its limit")


def seal(plaintext: bytes, *, key: DataKey, context: FieldContext) -> bytes:
    """Encrypt ``plaintext`` for the place ``context`` names.

    Raises ``KeyExhausted`` once ``key`` has done its allowed encryptions.
    """
    # This is the hot path of every PHI write: it reads the key's private
    # attributes directly and repeats the lines of _seal_with_nonce rather
    # than pay for more calls (a test holds the two equal).
    if key._next_use() >= key._limit:
        key._refuse_encryption()
    nonce = _random_bytes(NONCE_SIZE)
    header = key._header
    return header + nonce + key._aead.encrypt(nonce, plaintext, header + context.encoded)


def _seal_with_nonce(plaintext: bytes, key: DataKey, context: FieldContext, nonce: bytes) -> bytes:
    # Private so that no caller chooses a nonce; tests use it for
    # known-answer vectors.
    if len(nonce) != NONCE_SIZE:
        raise ValueError("the envelope nonce is 12 bytes")
    key._count_encryption()
    header = key._header
    return header + nonce + key._aead.encrypt(nonce, plaintext, header + context.encoded)


def unseal(blob: bytes, *, key_for: Callable[[bytes], DataKey], context: FieldContext) -> bytes:
    """Decrypt a value sealed for ``context``.

    ``key_for`` maps a 16-byte key id to its ``DataKey``; for an id it does
    not know it raises ``LookupError`` (``KeyError``) or ``NotFound``. Any
    failure at all, from a short blob to a tag mismatch, raises the one
    ``DecryptionFailed``.
    """
    if len(blob) < _MIN_BLOB_SIZE:
        raise DecryptionFailed(detail="blob shorter than the minimum")
    if blob[0] != VERSION:
        raise DecryptionFailed(detail="unknown envelope version")
    try:
        key = key_for(blob[1:17])
    except (LookupError, NotFound):
        raise DecryptionFailed(detail="unknown data key") from None
    # The key id and KEK version are part of the associated data, so a
    # key_for that hands back the wrong key fails the tag check like any
    # other mismatch; the KEK version may legitimately differ from the
    # key's current one after its data key was re-wrapped.
    try:
        return key._aead.decrypt_raw(
            blob[_HEADER_SIZE:_NONCE_END],
            blob[_NONCE_END:],
            blob[:_HEADER_SIZE] + context.encoded,
        )
    except _primitives.TagMismatch:
        raise DecryptionFailed(detail="authentication tag mismatch") from None


def sealed_key_id(blob: bytes) -> bytes:
    """The data key id a blob names, without decrypting it.

    For re-encryption jobs that look for values under a retiring key. The
    id is authenticated only when the blob is unsealed.
    """
    if len(blob) < _MIN_BLOB_SIZE or blob[0] != VERSION:
        raise DecryptionFailed(detail="not a version 1 envelope")
    return blob[1:17]
