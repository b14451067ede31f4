"""Return packages: built in flat memory; unpacked only if every file matches its manifest."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import tracemalloc
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, cast

import pytest

from claimbridge.crypto.envelope import DataKey
from claimbridge.crypto.files import SealedFiles
from claimbridge.crypto.keyring import Keyring
from claimbridge.crypto.passphrase import MIN_SCRYPT_N, encrypt_with_passphrase
from claimbridge.errors import InputError
from claimbridge.phi.exports import TABLES, PracticeRecords
from claimbridge.storage.blobs import BlobStore
from claimbridge.vendors.returns import (
    FORMAT,
    PackageDamaged,
    PackageUnreadable,
    build_package,
    unpack,
)

PASSPHRASE = "a long passphrase the practice keeps"
RECORDS = b'{"id":"p-1"}\n{"id":"p-2"}\n'
ORIGINAL = b"ISA*00*...~"


def entry(path: str, content: bytes, records: int | None = None) -> dict[str, object]:
    found: dict[str, object] = {
        "path": path,
        "sha256": hashlib.sha256(content).hexdigest(),
        "size": len(content),
    }
    if records is not None:
        found["records"] = records
    return found


def package(
    members: dict[str, bytes], listed: list[dict[str, object]], passphrase: str = PASSPHRASE
) -> io.BytesIO:
    plain = io.BytesIO()
    with zipfile.ZipFile(plain, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
        manifest = {"format": FORMAT, "records": {"patients": 2}, "files": listed, "missing": []}
        archive.writestr("manifest.json", json.dumps(manifest))
    sealed = io.BytesIO()
    plain.seek(0)
    encrypt_with_passphrase(plain, sealed, passphrase, scrypt_n=MIN_SCRYPT_N)
    sealed.seek(0)
    return sealed


def good() -> io.BytesIO:
    return package(
        {"records/patients.jsonl": RECORDS, "files/inbound/b-1.x12": ORIGINAL},
        [entry("records/patients.jsonl", RECORDS, 2), entry("files/inbound/b-1.x12", ORIGINAL)],
    )


def test_a_package_unpacks_and_every_file_is_checked(tmp_path: Path) -> None:
    unpacked = unpack(good(), PASSPHRASE, tmp_path / "out")

    assert (unpacked.files, unpacked.bytes, unpacked.records) == (
        2,
        len(RECORDS) + len(ORIGINAL),
        {"patients": 2},
    )
    assert (tmp_path / "out" / "files" / "inbound" / "b-1.x12").read_bytes() == ORIGINAL
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["format"] == FORMAT
    assert not (tmp_path / "out" / ".package.zip").exists()


def test_a_wrong_passphrase_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(PackageUnreadable):
        unpack(good(), "another passphrase entirely", tmp_path / "out")

    assert list((tmp_path / "out").iterdir()) == []


def test_a_file_that_disagrees_with_the_manifest_is_refused_and_removed(tmp_path: Path) -> None:
    sealed = package(
        {"records/patients.jsonl": RECORDS},
        [entry("records/patients.jsonl", RECORDS, 3)],  # three records claimed, two there
    )

    with pytest.raises(PackageDamaged) as refused:
        unpack(sealed, PASSPHRASE, tmp_path / "out")

    assert refused.value.where == "records/patients.jsonl"
    assert not (tmp_path / "out" / "records" / "patients.jsonl").exists()


@pytest.mark.parametrize(
    ("members", "listed"),
    [
        ({"records/patients.jsonl": RECORDS, "extra.txt": b"x"}, ["records/patients.jsonl"]),
        ({"records/patients.jsonl": RECORDS}, ["records/patients.jsonl", "files/inbound/b"]),
        ({"../escape.jsonl": RECORDS}, ["../escape.jsonl"]),
        ({"/etc/passwd": RECORDS}, ["/etc/passwd"]),
    ],
)
def test_files_not_listed_missing_or_named_outside_are_refused(
    tmp_path: Path, members: dict[str, bytes], listed: list[str]
) -> None:
    sealed = package(members, [entry(path, members.get(path, b"")) for path in listed])

    with pytest.raises(PackageDamaged):
        unpack(sealed, PASSPHRASE, tmp_path / "out")

    assert not (tmp_path / "escape.jsonl").exists()


def test_the_folder_must_be_empty(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "kept.txt").write_text("mine")

    with pytest.raises(InputError):
        unpack(good(), PASSPHRASE, tmp_path / "out")


# -- building: memory stays flat -------------------------------------------------------------


class _ManyRecords:
    """Stands in for ``phi.exports.PracticeRecords``: many records and one large file."""

    practice_id = "p-1"

    def __init__(self, rows: int, file_size: int) -> None:
        self._rows = rows
        self._file_size = file_size

    def counts(self) -> dict[str, int]:
        return {table: (self._rows if table == "patients" else 0) for table in TABLES} | {
            "batches": 1
        }

    def rows(self, table: str) -> Iterator[dict[str, Any]]:
        if table == "patients":
            for number in range(self._rows):
                yield {"id": f"p-{number:08d}", "given_name": "Alma", "note": "x" * 200}
        elif table == "batches":
            yield {"id": "b-1", "direction": "inbound", "format": "csv", "blob_key": "blob-1"}

    def content(self, blob_key: str) -> Any:
        assert blob_key == "blob-1"
        return contextlib.nullcontext(_Repeating(self._file_size))


class _Repeating:
    def __init__(self, size: int) -> None:
        self._left = size

    def read(self, size: int = -1) -> bytes:
        size = self._left if size < 0 else min(size, self._left)
        self._left -= size
        return os.urandom(size)  # incompressible, so the archive is as large as the input


def test_a_large_practice_is_packaged_in_flat_memory(tmp_path: Path) -> None:
    # About 5 MB of records and a 12 MB file, each several times the bound below:
    # holding either whole, or one table's records, would break it.
    rows, file_size = 20_000, 12 * 1024 * 1024
    files = SealedFiles(BlobStore(tmp_path / "blobs"), cast(Keyring, None))
    key = DataKey.generate(kek_version=1)
    tracemalloc.start()
    try:
        built = build_package(
            cast(PracticeRecords, _ManyRecords(rows, file_size)),
            {"engagement": {"id": "e-1"}},
            passphrase=PASSPHRASE,
            files=files,
            key=key,
            now=datetime(2026, 3, 2, tzinfo=UTC),
            scrypt_n=MIN_SCRYPT_N,
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert built.stored.size_bytes > file_size
    assert peak < 2 * 1024 * 1024, f"peak {peak:,} bytes"  # about 0.7 MB, whatever the size
    with files.reader("p-1", built.stored.blob_key, key) as sealed:
        unpacked = unpack(cast(BinaryIO, sealed), PASSPHRASE, tmp_path / "out")
    assert unpacked.records["patients"] == rows
    assert (tmp_path / "out" / "files" / "inbound" / "b-1.csv").stat().st_size == file_size
