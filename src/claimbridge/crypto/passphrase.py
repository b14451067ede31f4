"""Files sealed with a passphrase: for what leaves the server for good (a return package).

Everything else on the server is sealed under the key hierarchy
(``keyring.py``), which stays behind. A file handed to an organisation to
keep, such as the return package of an ended engagement, must open
without the server: it is sealed under a key stretched from a passphrase
the recipient chose, with scrypt (RFC 7914), then streamed through the
segmented AES-256-GCM of ``streams.py``, so memory stays flat for any
size and truncation, reordering or any flipped bit is detected.

Byte format, version 1::

    header (40 bytes)
        0    4   magic, b"CBPW"
        4    1   version, 0x01
        5    1   log2 of the scrypt cost n
        6    1   scrypt r
        7    1   scrypt p
        8    32  salt, random per file
    body
        the ``streams.py`` version 1 stream of the plaintext, under the
        scrypt output as its key, with associated data
        "claimbridge/passphrase/v1" 0x00 || header

The header is the body's associated data, so a file whose cost or salt
was altered does not decrypt. A wrong passphrase and a damaged file fail
alike, with ``DecryptionFailed``: AES-GCM cannot tell them apart.

IMPORTANT: this format is frozen. Every package a practice keeps is in
it, and the practice may open it years later; a new layout needs a new
version byte, and the reader must keep reading version 1.

A reader refuses costs outside ``MIN_SCRYPT_N``..``MAX_SCRYPT_N`` (and r,
p beyond small bounds), so a crafted header can neither make the
passphrase cheap to guess nor exhaust the reader's memory.
"""

from __future__ import annotations

import os
import struct
from typing import BinaryIO

from claimbridge.crypto import _primitives
from claimbridge.crypto.envelope import KEY_ID_SIZE, DataKey
from claimbridge.crypto.errors import DecryptionFailed
from claimbridge.crypto.streams import decrypt_stream, decrypt_to_path, encrypt_stream
from claimbridge.errors import ValidationFailed

__all__ = [
    "DEFAULT_SCRYPT_N",
    "HEADER_SIZE",
    "MAGIC",
    "MIN_PASSPHRASE",
    "MIN_SCRYPT_N",
    "check_passphrase",
    "decrypt_with_passphrase",
    "decrypt_with_passphrase_to_path",
    "encrypt_with_passphrase",
]

MAGIC = b"CBPW"
VERSION = 0x01
DEFAULT_SCRYPT_N = 2**17
"""128 MiB and about half a second per derivation with r = 8: once per file."""
MIN_SCRYPT_N = 2**14
MAX_SCRYPT_N = 2**20
_SCRYPT_R = 8
_SCRYPT_P = 1
_MAX_R = 16
_MAX_P = 4
_SALT_SIZE = 32
_HEADER = struct.Struct(">4sBBBB32s")
HEADER_SIZE = _HEADER.size  # 40
_AAD_LABEL = b"claimbridge/passphrase/v1\x00"
MIN_PASSPHRASE = 12
"""Characters a passphrase needs at least; scrypt slows guessing, it cannot fix a short one."""
MAX_PASSPHRASE = 1024


def check_passphrase(passphrase: str) -> bytes:
    """The passphrase as UTF-8, or ``ValidationFailed`` if it is too short or too long."""
    if not isinstance(passphrase, str) or not MIN_PASSPHRASE <= len(passphrase) <= MAX_PASSPHRASE:
        raise ValidationFailed(
            f"The passphrase needs {MIN_PASSPHRASE} to {MAX_PASSPHRASE} characters.",
            where="passphrase",
        )
    return passphrase.encode("utf-8")


def encrypt_with_passphrase(
    src: BinaryIO, dst: BinaryIO, passphrase: str, *, scrypt_n: int = DEFAULT_SCRYPT_N
) -> int:
    """Seal everything ``src`` yields into ``dst`` under ``passphrase``; the plaintext size."""
    secret = check_passphrase(passphrase)
    if not _cost_valid(scrypt_n, _SCRYPT_R, _SCRYPT_P):
        raise ValueError(f"scrypt n must be a power of two in {MIN_SCRYPT_N}..{MAX_SCRYPT_N}")
    salt = _primitives.random_bytes(_SALT_SIZE)
    header = _HEADER.pack(MAGIC, VERSION, scrypt_n.bit_length() - 1, _SCRYPT_R, _SCRYPT_P, salt)
    key = _derive(secret, header)
    dst.write(header)
    return encrypt_stream(src, dst, key=key, associated_data=_AAD_LABEL + header)


def decrypt_with_passphrase(src: BinaryIO, dst: BinaryIO, passphrase: str) -> int:
    """Decrypt ``src`` into ``dst``; the plaintext size.

    As with ``streams.decrypt_stream``, what ``dst`` received is untrusted
    until this returns: prefer ``decrypt_with_passphrase_to_path``.
    """
    header, key = _open(src, passphrase)
    return decrypt_stream(src, dst, key=key, associated_data=_AAD_LABEL + header)


def decrypt_with_passphrase_to_path(
    src: BinaryIO, path: str | os.PathLike[str], passphrase: str
) -> int:
    """Decrypt ``src`` to ``path``, which appears only once all of it verified."""
    header, key = _open(src, passphrase)
    return decrypt_to_path(src, path, key=key, associated_data=_AAD_LABEL + header)


def _open(src: BinaryIO, passphrase: str) -> tuple[bytes, DataKey]:
    secret = passphrase.encode("utf-8")
    header = src.read(HEADER_SIZE)
    if len(header) != HEADER_SIZE:
        raise DecryptionFailed(detail="shorter than a passphrase header")
    magic, version, log_n, r, p, _ = _HEADER.unpack(header)
    if magic != MAGIC or version != VERSION:
        raise DecryptionFailed(detail="not a version 1 passphrase file")
    if log_n >= 63 or not _cost_valid(1 << log_n, r, p):
        raise DecryptionFailed(detail="scrypt cost out of bounds")
    return header, _derive(secret, header)


def _derive(secret: bytes, header: bytes) -> DataKey:
    _, _, log_n, r, p, salt = _HEADER.unpack(header)
    derived = _primitives.scrypt(secret, salt=salt, n=1 << log_n, r=r, p=p)
    # The stream format takes a DataKey; its id is never written anywhere.
    return DataKey(key_id=bytes(KEY_ID_SIZE), secret=derived, kek_version=0)


def _cost_valid(n: int, r: int, p: int) -> bool:
    power_of_two = n > 0 and n & (n - 1) == 0
    return (
        power_of_two and MIN_SCRYPT_N <= n <= MAX_SCRYPT_N and 1 <= r <= _MAX_R and 1 <= p <= _MAX_P
    )
