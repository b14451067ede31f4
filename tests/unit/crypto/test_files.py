"""Sealed blobs: constant-memory encryption of stored files, bound to tenant and name."""

from __future__ import annotations

import hashlib
import io
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from claimbridge.crypto.errors import DecryptionFailed
from claimbridge.crypto.files import SealedFiles
from claimbridge.crypto.keyring import Keyring
from claimbridge.storage.blobs import BlobStore
from claimbridge.storage.orgs import Organisation

NOW = datetime(2026, 3, 2, tzinfo=UTC)
CONTENT = b"ISA*00*          *00*          *ZZ*RIVERSIDE      *" * 5000  # ~250 KB, 4 segments


@pytest.fixture
def files(tmp_path: Path, keyring: Keyring) -> SealedFiles:
    return SealedFiles(BlobStore(tmp_path / "blobs"), keyring)


def _tenant(session: Session, files: SealedFiles, name: str) -> str:
    org = Organisation(name=name, kind="practice", created_at=NOW)
    session.add(org)
    session.flush()
    files.keyring.ensure_tenant(session, org.id)
    return org.id


def test_round_trip_with_size_and_plaintext_hash(session: Session, files: SealedFiles) -> None:
    tenant = _tenant(session, files, "A")
    sealed = files.put(session, tenant, io.BytesIO(CONTENT))
    assert sealed.size_bytes == len(CONTENT)
    assert sealed.sha256 == hashlib.sha256(CONTENT).hexdigest()
    out = io.BytesIO()
    assert files.read_into(session, tenant, sealed.blob_key, out) == len(CONTENT)
    assert out.getvalue() == CONTENT


def test_the_file_on_disk_holds_no_plaintext(session: Session, files: SealedFiles) -> None:
    tenant = _tenant(session, files, "A")
    sealed = files.put(session, tenant, io.BytesIO(CONTENT))
    raw = files.store.open(sealed.blob_key).read_bytes()
    assert raw.startswith(b"CBB1")
    assert b"RIVERSIDE" not in raw and b"ISA*" not in raw
    assert os.stat(files.store.open(sealed.blob_key)).st_mode & 0o077 == 0


def test_another_tenant_cannot_read_it(session: Session, files: SealedFiles) -> None:
    a, b = _tenant(session, files, "A"), _tenant(session, files, "B")
    sealed = files.put(session, a, io.BytesIO(CONTENT))
    with pytest.raises(DecryptionFailed):
        files.read_into(session, b, sealed.blob_key, io.BytesIO())


def test_a_blob_copied_under_another_name_does_not_decrypt(
    session: Session, files: SealedFiles
) -> None:
    tenant = _tenant(session, files, "A")
    first = files.put(session, tenant, io.BytesIO(CONTENT))
    second = files.put(session, tenant, io.BytesIO(b"other content"))
    files.store.open(second.blob_key).write_bytes(files.store.open(first.blob_key).read_bytes())
    with pytest.raises(DecryptionFailed):
        files.read_into(session, tenant, second.blob_key, io.BytesIO())


@pytest.mark.parametrize("position", [0, 5, 20, 30, 70, 65_600, -1])
def test_any_flipped_byte_is_detected(session: Session, files: SealedFiles, position: int) -> None:
    tenant = _tenant(session, files, "A")
    sealed = files.put(session, tenant, io.BytesIO(CONTENT))
    path = files.store.open(sealed.blob_key)
    data = bytearray(path.read_bytes())
    data[position] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(DecryptionFailed):
        files.read_into(session, tenant, sealed.blob_key, io.BytesIO())


def test_a_truncated_blob_is_detected(session: Session, files: SealedFiles) -> None:
    tenant = _tenant(session, files, "A")
    sealed = files.put(session, tenant, io.BytesIO(CONTENT))
    path = files.store.open(sealed.blob_key)
    path.write_bytes(path.read_bytes()[: 20 + 40 + 65_552])
    with pytest.raises(DecryptionFailed):
        files.read_into(session, tenant, sealed.blob_key, io.BytesIO())


def test_shredding_the_tenant_makes_its_blobs_unreadable(
    session: Session, files: SealedFiles
) -> None:
    tenant = _tenant(session, files, "A")
    sealed = files.put(session, tenant, io.BytesIO(CONTENT))
    files.keyring.shred(session, tenant)
    with pytest.raises(DecryptionFailed):
        files.read_into(session, tenant, sealed.blob_key, io.BytesIO())
