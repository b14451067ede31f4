"""The return package: a practice's PHI on this server, handed back, sealed with its passphrase.

When an engagement ends, HIPAA's business associate terms (45 CFR
164.504(e)(2)(ii)(J)) want the PHI returned or destroyed; claimbridge does
both, return first. The package is a ZIP archive::

    records/patients.jsonl        one JSON object a line, every record of the table
    records/coverages.jsonl
    records/encounters.jsonl
    records/claims.jsonl
    records/service_lines.jsonl
    records/findings.jsonl        with each decision and its reason
    records/batches.jsonl         every batch in and out: hashes, manifests, receipts
    files/inbound/<batch>.<ext>   each batch's content exactly as received
    files/outbound/<batch>.<ext>  our 999s and the 837Ps billers sent out
    documents/baa-<id>.<ext>      the signed BAA documents, where stored
    manifest.json                 who, when, and each file's SHA-256, size and records

The whole archive is then sealed with the practice's passphrase
(``crypto/passphrase.py``: scrypt, then segmented AES-256-GCM) and stored
in the blob store, sealed once more under the practice's own key, until
the practice has it and the server's copy is shredded with the rest.

Everything streams: records are read a chunk at a time, the archive is
written as it is read (ZIP data descriptors need no sizes in advance), and
the sealed archive goes to an unnamed temporary file (ciphertext only)
before the blob store takes it. Memory stays flat for any practice.

``unpack`` is the practice's side, offline: it decrypts a package with
the passphrase, checks every file against the manifest (SHA-256, size,
record count) and writes them out.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any, BinaryIO, cast

from claimbridge.crypto.envelope import DataKey
from claimbridge.crypto.errors import DecryptionFailed
from claimbridge.crypto.files import SealedFile, SealedFiles
from claimbridge.crypto.passphrase import (
    DEFAULT_SCRYPT_N,
    decrypt_with_passphrase_to_path,
    encrypt_with_passphrase,
)
from claimbridge.errors import ClaimbridgeError, InputError
from claimbridge.phi.exports import TABLES, PracticeRecords

__all__ = [
    "FORMAT",
    "BuiltPackage",
    "PackageDamaged",
    "PackageUnreadable",
    "Progress",
    "Unpacked",
    "build_package",
    "unpack",
]

FORMAT = "claimbridge/return-package/v1"
MANIFEST = "manifest.json"
Progress = Callable[[int, int], None]
"""``progress(done, total)``: records and files written so far, of how many."""

_SPOOL = 64 * 1024
_READ = 64 * 1024
_MAX_MANIFEST = 64 * 1024 * 1024
_SAFE_PATH = re.compile(r"^(records|files/(inbound|outbound)|documents)/[A-Za-z0-9._-]{1,120}$")
_EXTENSIONS = {
    "x12-837p": ".x12",
    "x12-837i": ".x12",
    "x12-999": ".x12",
    "csv": ".csv",
    "fhir-r4": ".json",
}
_MEDIA_EXTENSIONS = {
    "application/pdf": ".pdf",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/tiff": ".tif",
    "text/plain": ".txt",
}


class PackageUnreadable(InputError):
    code = "package_unreadable"
    public_message = "The package does not decrypt with this passphrase, or it was damaged."


class PackageDamaged(InputError):
    code = "package_damaged"
    public_message = "A file of the package does not match its manifest."


@dataclass(frozen=True, slots=True)
class Document:
    """A stored document of the practice to return beside its records (a signed BAA)."""

    name: str
    blob_key: str
    media_type: str


@dataclass(frozen=True, slots=True)
class BuiltPackage:
    stored: SealedFile
    """The sealed package in the blob store; its ``sha256`` is of what the practice downloads."""
    manifest: dict[str, Any]


def build_package(
    records: PracticeRecords,
    about: Mapping[str, Any],
    *,
    passphrase: str,
    files: SealedFiles,
    key: DataKey,
    documents: tuple[Document, ...] = (),
    now: datetime,
    progress: Progress | None = None,
    scrypt_n: int = DEFAULT_SCRYPT_N,
) -> BuiltPackage:
    """Write the practice's return package to the blob store; nothing is committed here.

    ``about`` heads the manifest (engagement, practice, billing company,
    assessments, BAAs). ``key`` is the practice's blob key, committed
    beforehand: the stored package is sealed under it.
    """
    archive = _Archive(records, about, documents, now=now, progress=progress)
    scratch = files.store.root
    with tempfile.TemporaryFile(dir=scratch) as sealed:
        plaintext = cast(BinaryIO, _Pull(archive.chunks()))
        encrypt_with_passphrase(plaintext, sealed, passphrase, scrypt_n=scrypt_n)
        sealed.seek(0)
        stored = files.write(records.practice_id, key, sealed)
    return BuiltPackage(stored=stored, manifest=archive.manifest)


class _Spool:
    """Where the ZIP writer puts its bytes until the archive's reader takes them."""

    def __init__(self) -> None:
        # One growing buffer, not a list of writes: the ZIP writer makes a
        # write per record, most of them empty while deflate fills its window.
        self._buffer = bytearray()

    @property
    def size(self) -> int:
        return len(self._buffer)

    def write(self, data: bytes) -> int:
        self._buffer += data
        return len(data)

    def flush(self) -> None:
        return None

    def close(self) -> None:
        return None

    def drain(self) -> bytes:
        data = bytes(self._buffer)
        self._buffer.clear()
        return data


class _Pull:
    """A readable stream over an iterator of byte chunks."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = b""

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        if size < 0:
            size = len(self._buffer)
        out, self._buffer = self._buffer[:size], self._buffer[size:]
        return out


class _HashingMember:
    """An archive member being written, hashed and measured as it goes."""

    def __init__(self, member: IO[bytes]) -> None:
        self._member = member
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self._member.write(data)
        self.digest.update(data)
        self.size += len(data)


@dataclass
class _Archive:
    records: PracticeRecords
    about: Mapping[str, Any]
    documents: tuple[Document, ...]
    now: datetime
    progress: Progress | None
    manifest: dict[str, Any] = field(default_factory=dict)
    _spool: _Spool = field(default_factory=_Spool)
    _entries: list[dict[str, Any]] = field(default_factory=list)
    _missing: list[dict[str, str]] = field(default_factory=list)
    _stored: list[tuple[str, str, str]] = field(default_factory=list)
    """(path in the archive, blob key, batch id) of each stored batch file."""
    _done: int = 0
    _total: int = 0

    def chunks(self) -> Iterator[bytes]:
        """The archive's bytes, some 64 KiB at a time, as they are written."""
        counts = self.records.counts()
        self._total = sum(counts.values()) + counts["batches"] + len(self.documents)
        with zipfile.ZipFile(self._spool, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for table in TABLES:
                yield from self._records(archive, table)
            for path, blob_key, batch_id in self._stored:
                yield from self._file(archive, path, blob_key, batch_id)
            for document in self.documents:
                extension = _MEDIA_EXTENSIONS.get(document.media_type, "")
                path = f"documents/{document.name}{extension}"
                yield from self._file(archive, path, document.blob_key, document.name)
            self.manifest = {
                "format": FORMAT,
                **self.about,
                "created_at": self.now.isoformat(),
                "records": {table: counts[table] for table in TABLES},
                "files": self._entries,
                "missing": self._missing,
            }
            archive.writestr(self._info(MANIFEST), _canonical(self.manifest) + b"\n")
        if self.progress is not None:
            self.progress(self._total, self._total)
        yield self._spool.drain()

    def _info(self, path: str) -> zipfile.ZipInfo:
        moment = self.now.timetuple()[:6]
        info = zipfile.ZipInfo(path, date_time=(max(moment[0], 1980), *moment[1:]))
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o600 << 16
        return info

    def _records(self, archive: zipfile.ZipFile, table: str) -> Iterator[bytes]:
        path = f"records/{table}.jsonl"
        count = 0
        with archive.open(self._info(path), "w", force_zip64=True) as raw:
            member = _HashingMember(raw)
            for found in self.records.rows(table):
                record = self._batch(found) if table == "batches" else found
                member.write(_canonical(record) + b"\n")
                count += 1
                self._advance()
                if self._spool.size >= _SPOOL:
                    yield self._spool.drain()
        self._entries.append(_entry(path, member, records=count))

    def _batch(self, record: dict[str, Any]) -> dict[str, Any]:
        """A batch's row as exported: our blob key gives way to the file's place in the package."""
        blob_key = record.pop("blob_key")
        if blob_key is None:
            return {**record, "file": None}
        folder = "outbound" if record["direction"] == "outbound" else "inbound"
        path = f"files/{folder}/{record['id']}{_EXTENSIONS.get(record['format'], '')}"
        self._stored.append((path, blob_key, record["id"]))
        return {**record, "file": path}

    def _file(
        self, archive: zipfile.ZipFile, path: str, blob_key: str, owner: str
    ) -> Iterator[bytes]:
        try:
            reader = self.records.content(blob_key)
        except (ClaimbridgeError, OSError) as error:
            # Gone from the blob store, or unreadable: say so in the manifest
            # rather than withhold the rest of the practice's data.
            code = error.code if isinstance(error, ClaimbridgeError) else "unreadable"
            self._missing.append({"path": path, "of": owner, "reason": code})
            self._advance()
            return
        with reader as stream, archive.open(self._info(path), "w", force_zip64=True) as raw:
            member = _HashingMember(raw)
            while chunk := stream.read(_READ):
                member.write(chunk)
                if self._spool.size >= _SPOOL:
                    yield self._spool.drain()
        self._entries.append(_entry(path, member, records=None))
        self._advance()

    def _advance(self) -> None:
        self._done += 1
        if self.progress is not None:
            self.progress(min(self._done, self._total), self._total)


def _entry(path: str, member: _HashingMember, *, records: int | None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "path": path,
        "sha256": member.digest.hexdigest(),
        "size": member.size,
    }
    if records is not None:
        entry["records"] = records
    return entry


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


# -- the practice's side: opening a package offline ------------------------------------------


@dataclass(frozen=True, slots=True)
class Unpacked:
    out: Path
    manifest: dict[str, Any]
    files: int
    bytes: int
    records: dict[str, int]


def unpack(src: BinaryIO, passphrase: str, out: Path) -> Unpacked:
    """Decrypt a return package into the folder ``out``, checking each file against the manifest.

    ``out`` must be empty or not exist. Nothing is written unless the
    whole package authenticates under ``passphrase``; a file that then
    disagrees with the manifest is removed and ``PackageDamaged`` names it.
    """
    _empty_folder(out)
    archive_path = out / ".package.zip"
    try:
        try:
            decrypt_with_passphrase_to_path(src, archive_path, passphrase)
        except DecryptionFailed:
            raise PackageUnreadable() from None
        with zipfile.ZipFile(archive_path) as archive:
            manifest = _manifest(archive)
            total = _extract(archive, manifest, out)
        (out / MANIFEST).write_bytes(_canonical(manifest) + b"\n")
    finally:
        with contextlib.suppress(FileNotFoundError):
            archive_path.unlink()
    listed = manifest.get("files", [])
    return Unpacked(
        out=out,
        manifest=manifest,
        files=len(listed),
        bytes=total,
        records={str(k): int(v) for k, v in dict(manifest.get("records", {})).items()},
    )


def _empty_folder(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError(f"{out} must be an empty folder, or not exist yet.", where=str(out))
    out.mkdir(mode=0o700, parents=True, exist_ok=True)


def _manifest(archive: zipfile.ZipFile) -> dict[str, Any]:
    try:
        info = archive.getinfo(MANIFEST)
    except KeyError:
        raise PackageDamaged("The package has no manifest.", where=MANIFEST) from None
    if info.file_size > _MAX_MANIFEST:
        raise PackageDamaged("The manifest is implausibly large.", where=MANIFEST)
    try:
        manifest = json.loads(archive.read(info))
    except ValueError:
        raise PackageDamaged("The manifest is not JSON.", where=MANIFEST) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise PackageDamaged(f"Not a {FORMAT} manifest.", where=MANIFEST)
    return manifest


def _extract(archive: zipfile.ZipFile, manifest: dict[str, Any], out: Path) -> int:
    listed = manifest.get("files")
    if not isinstance(listed, list):
        raise PackageDamaged("The manifest lists no files.", where=f"{MANIFEST}.files")
    names = {name for name in archive.namelist() if name != MANIFEST}
    paths = [str(entry.get("path")) for entry in listed if isinstance(entry, dict)]
    if len(paths) != len(listed) or names != set(paths) or len(set(paths)) != len(paths):
        raise PackageDamaged(
            "The package's files are not the ones its manifest lists.", where=MANIFEST
        )
    total = 0
    for entry in listed:
        total += _extract_one(archive, entry, out)
    return total


def _extract_one(archive: zipfile.ZipFile, entry: dict[str, Any], out: Path) -> int:
    path = str(entry["path"])
    if not _SAFE_PATH.match(path):
        raise PackageDamaged("A file name in the package is not one we write.", where=path)
    target = out / path
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    digest, size, lines = hashlib.sha256(), 0, 0
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as written, archive.open(path) as member:
        while chunk := member.read(_READ):
            written.write(chunk)
            digest.update(chunk)
            size += len(chunk)
            lines += chunk.count(b"\n")
    expected = (entry.get("sha256"), entry.get("size"), entry.get("records", lines))
    if (digest.hexdigest(), size, lines) != expected:
        target.unlink()
        raise PackageDamaged(f"{path} does not match the manifest.", where=path)
    return size
