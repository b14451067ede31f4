"""The blob folder: files under random names, mode 0600.

This module only places bytes; what goes in is already ciphertext (the
streaming envelope of ``crypto/streams.py``, added by the encryption
issue). Names are random ids, so a listing of the folder reveals nothing
about what is inside.
"""

from __future__ import annotations

import os
from pathlib import Path

from claimbridge.datadir import make_private_dir
from claimbridge.errors import NotFound, ValidationFailed
from claimbridge.types import new_id


class BlobStore:
    def __init__(self, root: Path) -> None:
        make_private_dir(root)
        self.root = root

    def _path(self, key: str) -> Path:
        # Keys are our own ids; anything else (../, absolute paths) is refused
        # so a key taken from a request cannot walk out of the folder.
        if len(key) != 36 or not all(c in "0123456789abcdef-" for c in key):
            raise ValidationFailed("Not a blob key.", where="blob_key")
        return self.root / key[:2] / key

    def create(self) -> tuple[str, Path]:
        """A new key and an empty 0600 temporary file to write its content to.

        The file is made here, with its mode, so no umask can leave a blob
        readable by others.
        """
        key = new_id()
        path = self._path(key)
        make_private_dir(path.parent)
        partial = path.with_name(f".{key}.partial")
        os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600))
        return key, partial

    def commit(self, key: str) -> Path:
        """Make a fully written blob visible and durable (fsync, rename, fsync the folder).

        The folder is synced after the rename, so a power cut cannot lose a
        blob whose database row is committed after this returns.
        """
        path = self._path(key)
        partial = path.with_name(f".{key}.partial")
        with partial.open("rb") as written:
            os.fsync(written.fileno())
        partial.replace(path)
        folder = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
        return path

    def open(self, key: str) -> Path:
        path = self._path(key)
        if not path.is_file():
            raise NotFound(where="blob_key")
        return path

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)
