"""``claimbridge init``: create a data directory, idempotently.

Steps: the private folder, the config file, the blob and log folders, the
TLS certificate, the root key, and the database at the schema head.

Each step checks before it acts, so a second run on a finished directory
changes nothing (``InitReport.created`` is empty) and a run after a crash
finishes what the first began. A directory others can read is refused
before anything is written into it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from claimbridge.clock import Clock
from claimbridge.config import CONFIG_TEMPLATE, Settings
from claimbridge.crypto.tls import certificate_fingerprint, self_signed_certificate
from claimbridge.datadir import (
    DataDir,
    make_private_dir,
    require_private,
    write_private_file,
)
from claimbridge.errors import ConfigError
from claimbridge.instance.auditkey import audit_key_file, create_audit_key
from claimbridge.instance.keys import create_root_key, open_keyring
from claimbridge.storage import migrate
from claimbridge.storage.blobs import BlobStore
from claimbridge.storage.db import is_sqlite, make_engine, prepare_sqlite_file


@dataclass(frozen=True, slots=True)
class InitReport:
    data_dir: Path
    database: str
    created: tuple[str, ...]
    schema_revision: tuple[str, ...]
    tls_cert: Path
    tls_fingerprint: str
    root_key: str
    generated_passphrase_file: Path | None


@dataclass
class _Steps:
    created: list[str] = field(default_factory=list)

    def did(self, what: str) -> None:
        self.created.append(what)


def init_instance(settings: Settings, *, clock: Clock) -> InitReport:
    paths = settings.paths
    steps = _Steps()
    if paths.exists():
        require_private(paths.root)
    else:
        make_private_dir(paths.root)
        steps.did(f"directory {paths.root}")
    _write_config(paths, steps)
    _make_blob_store(paths, steps)
    _make_tls(settings, paths, steps, clock=clock)
    created_key = create_root_key(settings)
    if created_key is not None:
        steps.did(f"root key {created_key.where}")
    with open_keyring(settings, clock=clock) as keyring:
        if create_audit_key(settings, keyring.providers):
            steps.did(f"audit signing key {audit_key_file(settings)}")
    revision = _migrate(settings, paths, steps)
    require_private(paths.root)
    return InitReport(
        data_dir=paths.root.resolve(),
        database=_describe_database(settings),
        created=tuple(steps.created),
        schema_revision=revision,
        tls_cert=settings.tls_cert,
        tls_fingerprint=certificate_fingerprint(settings.tls_cert.read_bytes()),
        root_key=(
            f"pkcs11:{settings.pkcs11_token_label}/{settings.pkcs11_key_label}"
            if settings.key_provider == "pkcs11"
            else str(settings.root_key_file)
        ),
        generated_passphrase_file=(
            created_key.generated_passphrase_file if created_key is not None else None
        ),
    )


def _write_config(paths: DataDir, steps: _Steps) -> None:
    if not paths.config_file.exists():
        write_private_file(paths.config_file, CONFIG_TEMPLATE.encode())
        steps.did(f"config {paths.config_file}")


def _make_blob_store(paths: DataDir, steps: _Steps) -> None:
    for folder in (paths.blobs, paths.logs):
        if not folder.exists():
            make_private_dir(folder)
            steps.did(f"folder {folder}")
    BlobStore(paths.blobs)


def _make_tls(settings: Settings, paths: DataDir, steps: _Steps, *, clock: Clock) -> None:
    if settings.uses_operator_tls:
        for given in (settings.tls_cert, settings.tls_key):
            if not given.is_file():
                raise ConfigError(f"TLS file {given} does not exist.", where=str(given))
        return
    if paths.tls_cert.exists() and paths.tls_key.exists():
        return
    make_private_dir(paths.tls)
    pair = self_signed_certificate(now=clock.now())
    write_private_file(paths.tls_key, pair.key_pem)
    write_private_file(paths.tls_cert, pair.cert_pem)
    steps.did(f"self-signed TLS certificate {paths.tls_cert}")


def _migrate(settings: Settings, paths: DataDir, steps: _Steps) -> tuple[str, ...]:
    url = settings.effective_database_url
    if is_sqlite(url) and prepare_sqlite_file(paths.database_file):
        steps.did(f"SQLite database {paths.database_file}")
    engine = make_engine(url)
    try:
        before = migrate.current(engine)
        migrate.upgrade(engine)
        after = migrate.current(engine)
    finally:
        engine.dispose()
    if before != after:
        steps.did(f"schema at revision {', '.join(after)}")
    return after


def _describe_database(settings: Settings) -> str:
    url = settings.effective_database_url
    if is_sqlite(url):
        return f"SQLite {settings.paths.database_file.resolve()}"
    return "PostgreSQL " + url.split("@")[-1]
