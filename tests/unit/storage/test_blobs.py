from __future__ import annotations

import stat
from pathlib import Path

import pytest

from claimbridge.errors import NotFound, ValidationFailed
from claimbridge.storage.blobs import BlobStore


def test_blob_is_invisible_until_committed(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "blobs")
    key, partial = store.create()
    partial.write_bytes(b"ciphertext")
    with pytest.raises(NotFound):
        store.open(key)
    path = store.commit(key)
    assert store.open(key) == path
    assert path.read_bytes() == b"ciphertext"
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize("key", ["../../etc/passwd", "/etc/passwd", "x" * 36, ""])
def test_keys_cannot_walk_out_of_the_folder(tmp_path: Path, key: str) -> None:
    store = BlobStore(tmp_path / "blobs")
    with pytest.raises(ValidationFailed):
        store.open(key)


def test_delete_removes_the_blob(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "blobs")
    key, partial = store.create()
    partial.write_bytes(b"x")
    store.commit(key)
    store.delete(key)
    with pytest.raises(NotFound):
        store.open(key)
