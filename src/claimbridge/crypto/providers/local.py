"""The embedded key provider: a root key in a passphrase-protected file.

``LocalKeyProvider.create`` makes a random 256-bit root key and seals it in
a key file; ``LocalKeyProvider.open`` unlocks it with the passphrase. The
passphrase is stretched with scrypt (RFC 7914; n = 2^17, r = 8, p = 1 by
default: 128 MiB and a few hundred milliseconds per guess) into a key that
encrypts the root key with AES-256-GCM.

Key file, version 1 (JSON, UTF-8)::

    {
      "format": "claimbridge-key-file",
      "version": 1,
      "key_id": "<32 hex digits, random, not secret>",
      "kdf": {"name": "scrypt", "n": 131072, "r": 8, "p": 1, "salt": "<base64, 32 bytes>"},
      "cipher": {"name": "aes-256-gcm", "nonce": "<base64, 12 bytes>",
                 "ciphertext": "<base64, 32-byte root key + 16-byte tag>"}
    }

    associated data = "claimbridge/key-file/v1" || 0x00 || key_id (16)
                      || u64be(n) || u32be(r) || u32be(p) || salt (32)

so lowering the scrypt cost or swapping the salt or key id in the file
makes it fail to unlock rather than weaken it.

Wrapped key, version 1::

    0x01 || nonce (12) || AES-256-GCM(root key, nonce, key, aad)
    aad = "claimbridge/local-wrap/v1" || 0x00 || key_id (16) || context

IMPORTANT: both formats are frozen. The key file is the only copy of the
root key and every tenant's key-encryption keys are wrapped in the second
format; a change to either makes an installation's data unreadable. New
layouts take a new version, and the reader keeps reading version 1.

The file must be private to its owner: ``create`` writes it with mode 0600
(through a temporary file and a hard link, so it appears complete or not
at all, and never replaces an existing key file), and ``open`` refuses a
file that its group or others may read or write. Errors name the path,
never the passphrase.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
import stat
import struct
import tempfile
import unicodedata
from pathlib import Path
from typing import NoReturn

from claimbridge.crypto import _primitives
from claimbridge.crypto.errors import DecryptionFailed, KeyFileError

FILE_FORMAT = "claimbridge-key-file"
FILE_VERSION = 1
WRAP_VERSION = 0x01

DEFAULT_SCRYPT_N = 2**17
DEFAULT_SCRYPT_R = 8
DEFAULT_SCRYPT_P = 1
MIN_SCRYPT_N = 2**14
"""The lowest cost ``create`` writes or ``open`` accepts (16 MiB with r = 8)."""

_MAX_SCRYPT_N = 2**22
_MAX_SCRYPT_R = 32
_MAX_SCRYPT_P = 16
_MAX_SCRYPT_MEMORY = 2 * 1024**3  # 128 * n * r bytes; a damaged file must not exhaust memory
_MAX_FILE_SIZE = 64 * 1024
_KEY_ID_SIZE = 16
_SALT_SIZE = 32
_ROOT_KEY_SIZE = _primitives.AES_KEY_SIZE
_NONCE_SIZE = _primitives.GCM_NONCE_SIZE
_MIN_WRAPPED_KEY = 16
_MAX_WRAPPED_KEY = 64
_FILE_AAD_LABEL = b"claimbridge/key-file/v1\x00"
_WRAP_AAD_LABEL = b"claimbridge/local-wrap/v1\x00"
_KDF_PARAMS = struct.Struct(">QII")


class LocalKeyProvider:
    """A ``KeyProvider`` whose root key is unlocked from a key file.

    Make one with ``create`` or ``open``; the root key stays inside this
    object and never shows in its ``repr``.
    """

    __slots__ = ("_aead", "_kdf", "_key_id", "_path")

    def __init__(
        self, *, path: Path, key_id: bytes, root: _primitives.AEAD, kdf: tuple[int, int, int]
    ) -> None:
        self._path = path
        self._key_id = key_id
        self._aead = root
        self._kdf = kdf

    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str],
        passphrase: str,
        *,
        scrypt_n: int = DEFAULT_SCRYPT_N,
        scrypt_r: int = DEFAULT_SCRYPT_R,
        scrypt_p: int = DEFAULT_SCRYPT_P,
    ) -> LocalKeyProvider:
        """Make a new root key and write it to a new key file at ``path``.

        Refuses (``KeyFileError``) if ``path`` exists. Tests pass a lower
        ``scrypt_n`` (at least ``MIN_SCRYPT_N``) to run fast.
        """
        target = Path(path)
        if not _kdf_params_valid(scrypt_n, scrypt_r, scrypt_p):
            raise ValueError(
                f"scrypt needs n a power of two in {MIN_SCRYPT_N}..{_MAX_SCRYPT_N}, "
                f"r in 1..{_MAX_SCRYPT_R} and p in 1..{_MAX_SCRYPT_P}"
            )
        secret = _passphrase_bytes(passphrase, target)
        if target.exists():
            raise KeyFileError(f"The key file {target} already exists; refusing to overwrite it.")
        if not target.parent.is_dir():
            raise KeyFileError(f"The folder for the key file {target} does not exist.")
        key_id = _primitives.random_bytes(_KEY_ID_SIZE)
        root_key = _primitives.random_bytes(_ROOT_KEY_SIZE)
        kdf = (scrypt_n, scrypt_r, scrypt_p)
        document = _key_file_document(key_id, root_key, secret, kdf)
        _write_new_private_file(target, (json.dumps(document, indent=2) + "\n").encode())
        return cls(path=target, key_id=key_id, root=_primitives.AEAD(root_key), kdf=kdf)

    @classmethod
    def open(cls, path: str | os.PathLike[str], passphrase: str) -> LocalKeyProvider:
        """Unlock the key file at ``path``.

        ``KeyFileError`` if it is missing, not private to its owner (any
        of ``mode & 0o077``), damaged, or the passphrase is wrong.
        """
        target = Path(path)
        raw = _read_private_file(target)
        key_id, (n, r, p), salt, nonce, ciphertext = _parse_key_file(target, raw)
        secret = _passphrase_bytes(passphrase, target)
        file_key = _primitives.scrypt(secret, salt=salt, n=n, r=r, p=p)
        try:
            root_key = _primitives.AEAD(file_key).decrypt(
                nonce, ciphertext, _file_aad(key_id, n, r, p, salt)
            )
        except DecryptionFailed:
            # One message for both causes: GCM cannot tell them apart, and
            # it is the truth either way.
            raise KeyFileError(
                f"The key file {target} could not be unlocked: "
                "the passphrase is wrong or the file was altered."
            ) from None
        return cls(path=target, key_id=key_id, root=_primitives.AEAD(root_key), kdf=(n, r, p))

    def __repr__(self) -> str:
        return f"LocalKeyProvider(provider_id={self.provider_id!r}, path={str(self._path)!r})"

    def __reduce__(self) -> NoReturn:
        raise TypeError("a LocalKeyProvider cannot be pickled or copied")

    @property
    def provider_id(self) -> str:
        return f"local:{self._key_id.hex()}"

    def wrap(self, key: bytes, *, context: bytes) -> bytes:
        """``key`` (16 to 64 bytes) encrypted under the root key, bound to ``context``."""
        if not _MIN_WRAPPED_KEY <= len(key) <= _MAX_WRAPPED_KEY:
            raise ValueError("wrap takes key material of 16 to 64 bytes")
        nonce = _primitives.random_bytes(_NONCE_SIZE)
        sealed = self._aead.encrypt(nonce, bytes(key), self._wrap_aad(context))
        return bytes([WRAP_VERSION]) + nonce + sealed

    def unwrap(self, wrapped: bytes, *, context: bytes) -> bytes:
        """The key ``wrap`` was given; ``DecryptionFailed`` on any mismatch."""
        body = 1 + _NONCE_SIZE
        if len(wrapped) < body + _primitives.GCM_TAG_SIZE or wrapped[0] != WRAP_VERSION:
            raise DecryptionFailed(detail="not a version 1 local wrap")
        return self._aead.decrypt(wrapped[1:body], wrapped[body:], self._wrap_aad(context))

    def describe(self) -> dict[str, object]:
        n, r, p = self._kdf
        return {
            "provider": "local",
            "provider_id": self.provider_id,
            "path": str(self._path),
            "kdf": "scrypt",
            "scrypt_n": n,
            "scrypt_r": r,
            "scrypt_p": p,
            "cipher": "aes-256-gcm",
        }

    def _wrap_aad(self, context: bytes) -> bytes:
        return _WRAP_AAD_LABEL + self._key_id + bytes(context)


def _passphrase_bytes(passphrase: str, path: Path) -> bytes:
    if not passphrase:
        raise KeyFileError(f"The key file {path} needs a non-empty passphrase.")
    # NFC, so the same passphrase typed on systems that compose accents
    # differently unlocks the same file.
    return unicodedata.normalize("NFC", passphrase).encode("utf-8")


def _kdf_params_valid(n: object, r: object, p: object) -> bool:
    if not (type(n) is int and type(r) is int and type(p) is int):
        return False
    return (
        MIN_SCRYPT_N <= n <= _MAX_SCRYPT_N
        and n & (n - 1) == 0
        and 1 <= r <= _MAX_SCRYPT_R
        and 1 <= p <= _MAX_SCRYPT_P
        and 128 * n * r <= _MAX_SCRYPT_MEMORY
    )


def _key_file_document(
    key_id: bytes, root_key: bytes, secret: bytes, kdf: tuple[int, int, int]
) -> dict[str, object]:
    """The version 1 key file sealing ``root_key`` under the passphrase ``secret``."""
    n, r, p = kdf
    salt = _primitives.random_bytes(_SALT_SIZE)
    nonce = _primitives.random_bytes(_NONCE_SIZE)
    file_key = _primitives.scrypt(secret, salt=salt, n=n, r=r, p=p)
    sealed = _primitives.AEAD(file_key).encrypt(nonce, root_key, _file_aad(key_id, n, r, p, salt))
    return {
        "format": FILE_FORMAT,
        "version": FILE_VERSION,
        "key_id": key_id.hex(),
        "kdf": {"name": "scrypt", "n": n, "r": r, "p": p, "salt": _b64(salt)},
        "cipher": {"name": "aes-256-gcm", "nonce": _b64(nonce), "ciphertext": _b64(sealed)},
    }


def _file_aad(key_id: bytes, n: int, r: int, p: int, salt: bytes) -> bytes:
    return _FILE_AAD_LABEL + key_id + _KDF_PARAMS.pack(n, r, p) + salt


def _read_private_file(path: Path) -> bytes:
    try:
        # O_NONBLOCK: a FIFO planted at the path must not hang the open.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise KeyFileError(f"The key file {path} does not exist.") from None
    except OSError as error:
        raise KeyFileError(f"The key file {path} cannot be read.", detail=error.strerror) from None
    try:
        # Check the file we opened, not the name: a swap between a stat()
        # and an open() cannot slip an exposed file past the check.
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise KeyFileError(f"The key file {path} is not a regular file.")
        if info.st_mode & 0o077:
            mode = stat.S_IMODE(info.st_mode)
            raise KeyFileError(
                f"The key file {path} is readable or writable by other users "
                f"(mode {mode:04o}); make it private with `chmod 600 {path}`."
            )
        with os.fdopen(os.dup(fd), "rb") as file:
            raw = file.read(_MAX_FILE_SIZE + 1)
    finally:
        os.close(fd)
    if len(raw) > _MAX_FILE_SIZE:
        _damaged(path, "larger than any key file")
    return raw


def _parse_key_file(
    path: Path, raw: bytes
) -> tuple[bytes, tuple[int, int, int], bytes, bytes, bytes]:
    """key id, (n, r, p), salt, nonce, ciphertext; ``KeyFileError`` if malformed."""
    try:
        document = json.loads(raw)
        if (document["format"], document["version"]) != (FILE_FORMAT, FILE_VERSION):
            _damaged(path, "not a version 1 claimbridge key file")
        kdf, cipher = document["kdf"], document["cipher"]
        if kdf["name"] != "scrypt" or cipher["name"] != "aes-256-gcm":
            _damaged(path, "unknown algorithm")
        key_id = bytes.fromhex(document["key_id"])
        params = (kdf["n"], kdf["r"], kdf["p"])
        salt, nonce = _unb64(kdf["salt"]), _unb64(cipher["nonce"])
        ciphertext = _unb64(cipher["ciphertext"])
    except (ValueError, KeyError, TypeError, binascii.Error) as error:
        # json.JSONDecodeError and UnicodeDecodeError are ValueErrors too.
        _damaged(path, type(error).__name__)
    if not _kdf_params_valid(*params):
        _damaged(path, "scrypt parameters out of range")
    sizes = (len(key_id), len(salt), len(nonce), len(ciphertext))
    if sizes != (_KEY_ID_SIZE, _SALT_SIZE, _NONCE_SIZE, _ROOT_KEY_SIZE + _primitives.GCM_TAG_SIZE):
        _damaged(path, "field sizes")
    return key_id, params, salt, nonce, ciphertext


def _damaged(path: Path, why: str) -> NoReturn:
    raise KeyFileError(
        f"The key file {path} is damaged or is not a claimbridge key file.", detail=why
    )


def _write_new_private_file(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file at ``path`` with mode 0600, all or nothing.

    The bytes go to a temporary file in the same folder (``mkstemp``
    creates it 0600), reach the disk, and are then hard-linked to ``path``:
    unlike a rename, a link fails if ``path`` appeared meanwhile, so an
    existing key file, the only copy of a root key, is never replaced.
    """
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            raise KeyFileError(
                f"The key file {path} already exists; refusing to overwrite it."
            ) from None
        except OSError as error:
            raise KeyFileError(
                f"The key file {path} could not be written.", detail=error.strerror
            ) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    # Make the new directory entry durable too, or a crash could lose the
    # only copy of the root key after create() returned.
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: object) -> bytes:
    if not isinstance(text, str):
        raise TypeError("expected base64 text")
    return base64.b64decode(text.encode("ascii"), validate=True)
