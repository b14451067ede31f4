"""The data directory: where one claimbridge instance keeps everything.

Layout (all under one folder, mode 0700, files 0600)::

    claimbridge.toml   configuration (see ``config.py``)
    claimbridge.db     the SQLite database of the embedded default (+ -wal, -shm)
    blobs/             encrypted blobs (uploaded batches, generated files, evidence)
    keys/root.key      the root key, sealed under a passphrase (local key provider)
    keys/passphrase    development only: the generated passphrase (move it away!)
    tls/cert.pem       the server certificate (self-signed unless the operator gave one)
    tls/key.pem        its private key
    clients/           organisations' batch-signing keys, for ``send`` and ``ingest``
                       run from this machine (the demo puts the demo practice's here)
    logs/              server logs (never PHI)

A directory that other users can read or write would hand them the database
and the keys, so every entry point refuses one (``require_private``).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from claimbridge.errors import InsecureDataDir

DEFAULT_DATA_DIR = Path("claimbridge-data")
DIR_MODE = 0o700
FILE_MODE = 0o600
_OTHERS = stat.S_IRWXG | stat.S_IRWXO


@dataclass(frozen=True, slots=True)
class DataDir:
    root: Path

    @property
    def config_file(self) -> Path:
        return self.root / "claimbridge.toml"

    @property
    def database_file(self) -> Path:
        return self.root / "claimbridge.db"

    @property
    def blobs(self) -> Path:
        return self.root / "blobs"

    @property
    def tls(self) -> Path:
        return self.root / "tls"

    @property
    def tls_cert(self) -> Path:
        return self.tls / "cert.pem"

    @property
    def tls_key(self) -> Path:
        return self.tls / "key.pem"

    @property
    def keys(self) -> Path:
        return self.root / "keys"

    @property
    def root_key(self) -> Path:
        return self.keys / "root.key"

    @property
    def demo_passphrase(self) -> Path:
        return self.keys / "passphrase"

    @property
    def clients(self) -> Path:
        return self.root / "clients"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def sqlite_url(self) -> str:
        return f"sqlite:///{self.database_file.resolve()}"

    def exists(self) -> bool:
        return self.root.is_dir()


def require_private(path: Path) -> None:
    """Raise ``InsecureDataDir`` unless ``path`` is ours and closed to others.

    Checks the directory itself and every entry below it: a database file
    left 0644 inside a 0700 folder is still a leak once the folder is
    copied or its mode loosened.
    """
    for entry in _walk(path):
        try:
            info = entry.lstat()
        except FileNotFoundError:
            # Gone since the walk listed it (SQLite removes its -shm and -wal files as
            # the last connection closes): what is not there cannot leak.
            continue
        if stat.S_ISLNK(info.st_mode):
            raise InsecureDataDir(
                f"{entry} is a symbolic link; the data directory must hold real files only.",
                where=str(entry),
            )
        if info.st_uid != os.getuid():
            raise InsecureDataDir(
                f"{entry} belongs to another user (uid {info.st_uid}).", where=str(entry)
            )
        if info.st_mode & _OTHERS:
            wanted = DIR_MODE if stat.S_ISDIR(info.st_mode) else FILE_MODE
            raise InsecureDataDir(
                f"{entry} is open to other users (mode {stat.S_IMODE(info.st_mode):04o}); "
                f"run `chmod {wanted:o} {entry}` (or `chmod -R go= {path}`) and try again.",
                where=str(entry),
            )


def _walk(path: Path) -> list[Path]:
    entries = [path]
    for dirpath, dirnames, filenames in os.walk(path):
        entries.extend(Path(dirpath) / name for name in (*dirnames, *filenames))
    return entries


def make_private_dir(path: Path) -> None:
    """Create ``path`` (and parents) as 0700 if missing; leave it alone otherwise."""
    if not path.exists():
        path.mkdir(mode=DIR_MODE, parents=True)
        path.chmod(DIR_MODE)  # mkdir's mode is masked by the umask


def write_private_file(path: Path, data: bytes) -> None:
    """Write ``data`` to a new 0600 file atomically (temp file, fsync, rename)."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)  # a leftover from a crash; O_EXCL below needs it gone
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
