"""Streaming file encryption: segmented AES-256-GCM in constant memory.

For stored files (uploaded batches, exports, blobs) that are too large to
seal as one value. The construction follows Tink's AES-GCM-HKDF streaming
AEAD and age's STREAM (Hoang, Reyhanitabar, Rogaway, Vizár, "Online
authenticated-encryption and its nonce-reuse misuse-resistance", 2015):
a fresh key per file, fixed-size segments each sealed on its own, and a
nonce that carries the segment's index and whether it is the last.

Byte format, version 1::

    header (40 bytes)
        0    1   version, 0x01
        1    32  salt, random per file
        33   7   nonce prefix, random per file
    segments, in order
        each: AES-256-GCM(file key, nonce, plaintext segment, aad = header)
        every segment but the last holds exactly 65536 plaintext bytes
        (65552 bytes on disk); the last holds 0..65536 and is empty only
        when the whole file is

    file key = HKDF-SHA256(ikm = data key secret, salt = salt,
                           info = "claimbridge/stream/v1" || 0x00 || associated_data)
    nonce    = nonce prefix (7) || u32be(segment index) || last flag (0x01 last, else 0x00)

IMPORTANT: this format is frozen. Every encrypted file in every blob store
is in it; changing the header, the segment size, the derivation or the
nonce layout makes them all undecryptable. A new layout needs a new
version byte, and the reader must keep reading version 1.

What the construction detects, each as ``DecryptionFailed``: a flipped bit
anywhere (tag); segments reordered, dropped or duplicated (the index is in
the nonce); a file cut at a segment boundary (the new final segment was
sealed without the last flag); data appended (the real final segment is
then read as not-last); segments spliced in from another file or another
key (the file key and nonce prefix differ); a swapped header (the salt
picks the key, and the header is every segment's associated data); the
wrong ``associated_data`` (it is in the key derivation).

IMPORTANT: ``decrypt_stream`` writes each segment's plaintext as soon as
that segment verifies, so a truncated or tampered file is only detected
when the damage is reached, after earlier segments were written. Treat
what ``dst`` received as untrusted until ``decrypt_stream`` returns, and
discard it if it raises. ``decrypt_to_path`` does that for you: it writes a
temporary file beside the target and renames it into place only on
success.

The file key is derived per file from a 256-bit random salt, so a data key
can encrypt any number of files without its own nonce budget (the one
``envelope.DataKey`` counts) being touched.
"""

from __future__ import annotations

import contextlib
import io
import os
import struct
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from claimbridge.crypto import _primitives
from claimbridge.crypto.envelope import DataKey
from claimbridge.crypto.errors import DecryptionFailed
from claimbridge.errors import PayloadTooLarge

VERSION = 0x01
SEGMENT_SIZE = 64 * 1024
"""Plaintext bytes in every segment but the last."""

_SALT_SIZE = 32
_NONCE_PREFIX_SIZE = 7
_HEADER = struct.Struct(">B32s7s")
HEADER_SIZE = _HEADER.size  # 40
_CIPHER_SEGMENT_SIZE = SEGMENT_SIZE + _primitives.GCM_TAG_SIZE
_INFO_LABEL = b"claimbridge/stream/v1\x00"
_MAX_SEGMENTS = 2**32
"""The segment index is a u32: at most 256 TiB in one file."""


def encrypt_stream(src: BinaryIO, dst: BinaryIO, *, key: DataKey, associated_data: bytes) -> int:
    """Encrypt everything ``src`` yields into ``dst``; return the plaintext size.

    ``associated_data`` binds the file to its place (for example the
    tenant and blob id); the same bytes must be given to decrypt it.
    """
    salt = _primitives.random_bytes(_SALT_SIZE)
    prefix = _primitives.random_bytes(_NONCE_PREFIX_SIZE)
    header = _HEADER.pack(VERSION, salt, prefix)
    aead = _file_cipher(key, salt, associated_data)
    dst.write(header)
    total = 0
    segment = _read_up_to(src, SEGMENT_SIZE)
    index = 0
    while True:
        if index >= _MAX_SEGMENTS:
            raise PayloadTooLarge(detail="stream longer than 2**32 segments")
        # Read one segment ahead: only the next read tells whether this
        # segment is the last, and the last must carry the flag.
        following = _read_up_to(src, SEGMENT_SIZE) if len(segment) == SEGMENT_SIZE else b""
        last = not following
        dst.write(aead.encrypt(_nonce(prefix, index, last=last), segment, header))
        total += len(segment)
        if last:
            return total
        segment = following
        index += 1


def decrypt_stream(src: BinaryIO, dst: BinaryIO, *, key: DataKey, associated_data: bytes) -> int:
    """Decrypt ``src`` into ``dst`` segment by segment; return the plaintext size.

    IMPORTANT: ``dst`` receives plaintext before the end of the file is
    verified. Until this function returns, treat what was written as
    untrusted; if it raises ``DecryptionFailed``, throw it away. Prefer
    ``decrypt_to_path`` when the output is a file.
    """
    total = 0
    for plaintext in _plaintext_segments(src, key, associated_data):
        dst.write(plaintext)
        total += len(plaintext)
    return total


class DecryptingReader(io.BufferedIOBase):
    """A read-only stream of the plaintext of ``src``, decrypted a segment at a time.

    For readers that pull (parsers, ``io.TextIOWrapper``): ``read(n)``
    returns verified plaintext only, but, as with ``decrypt_stream``,
    tampering further on is found only when reading reaches it, so whatever
    was built from the earlier bytes must be thrown away if a read raises
    ``DecryptionFailed``.
    """

    def __init__(self, src: BinaryIO, *, key: DataKey, associated_data: bytes) -> None:
        super().__init__()
        self._segments = _plaintext_segments(src, key, associated_data)
        self._buffer = b""
        self._position = 0

    def readable(self) -> bool:
        return True

    def read1(self, size: int = -1) -> bytes:
        return self.read(SEGMENT_SIZE if size is None or size < 0 else min(size, SEGMENT_SIZE))

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            parts = [self._buffer[self._position :], *self._segments]
            self._buffer, self._position = b"", 0
            return b"".join(parts)
        while len(self._buffer) - self._position < size:
            segment = next(self._segments, None)
            if segment is None:
                break
            self._buffer = self._buffer[self._position :] + segment
            self._position = 0
        chunk = self._buffer[self._position : self._position + size]
        self._position += len(chunk)
        return chunk


def _plaintext_segments(src: BinaryIO, key: DataKey, associated_data: bytes) -> Iterator[bytes]:
    header = _read_up_to(src, HEADER_SIZE)
    if len(header) != HEADER_SIZE or header[0] != VERSION:
        raise DecryptionFailed(detail="missing or unknown stream header")
    _, salt, prefix = _HEADER.unpack(header)
    aead = _file_cipher(key, salt, associated_data)
    segment = _read_up_to(src, _CIPHER_SEGMENT_SIZE)
    index = 0
    while True:
        if index >= _MAX_SEGMENTS:
            raise DecryptionFailed(detail="stream longer than 2**32 segments")
        following = (
            _read_up_to(src, _CIPHER_SEGMENT_SIZE) if len(segment) == _CIPHER_SEGMENT_SIZE else b""
        )
        last = not following
        plaintext = aead.decrypt(_nonce(prefix, index, last=last), segment, header)
        if last and not plaintext and index > 0:
            # Only an empty file ends in an empty segment; anything else
            # was not written by encrypt_stream.
            raise DecryptionFailed(detail="empty final segment")
        yield plaintext
        if last:
            return
        segment = following
        index += 1


def decrypt_to_path(
    src: BinaryIO, path: str | os.PathLike[str], *, key: DataKey, associated_data: bytes
) -> int:
    """Decrypt ``src`` to the file at ``path``, which appears only if all of it verifies.

    The plaintext goes to a temporary file (mode 0600) in the same folder,
    is flushed to disk, and is renamed over ``path`` only after the last
    segment verified; on any failure the temporary file is removed and
    ``path`` is left as it was. Returns the plaintext size.
    """
    target = Path(path)
    fd, temporary = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".partial"
    )
    renamed = False
    try:
        with os.fdopen(fd, "wb") as out:
            total = decrypt_stream(src, out, key=key, associated_data=associated_data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
        renamed = True
    finally:
        if not renamed:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
    return total


def _file_cipher(key: DataKey, salt: bytes, associated_data: bytes) -> _primitives.AEAD:
    file_key = _primitives.hkdf_sha256(
        key.secret_bytes(), salt=salt, info=_INFO_LABEL + bytes(associated_data)
    )
    return _primitives.AEAD(file_key)


def _nonce(prefix: bytes, index: int, *, last: bool) -> bytes:
    return prefix + index.to_bytes(4, "big") + (b"\x01" if last else b"\x00")


def _read_up_to(src: BinaryIO, size: int) -> bytes:
    """Exactly ``size`` bytes, or fewer only at the end of the stream.

    A single ``read`` may return less than asked (pipes, sockets, raw
    files), which would shift segment boundaries; keep reading.
    """
    data = src.read(size)
    if len(data) == size or not data:
        return data
    parts = [data]
    missing = size - len(data)
    while missing:
        more = src.read(missing)
        if not more:
            break
        parts.append(more)
        missing -= len(more)
    return b"".join(parts)
