"""Shared fixtures: the database backends every storage test runs on.

``db_url`` is parametrised over SQLite and PostgreSQL. The PostgreSQL side
creates a fresh database for the run on the server at 127.0.0.1:5432
(``CLAIMBRIDGE_TEST_POSTGRES_URL`` overrides it) and drops it afterwards.
Where no server answers, those cases skip with the reason shown, except
under ``CI=true``, where a missing PostgreSQL fails the run.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from claimbridge.clock import FixedClock
from claimbridge.crypto.keyring import Keyring
from claimbridge.crypto.providers import KeyProvider
from claimbridge.crypto.providers.local import MIN_SCRYPT_N, LocalKeyProvider
from claimbridge.crypto.providers.pkcs11 import PKCS11KeyProvider
from claimbridge.storage import migrate
from claimbridge.storage.db import make_engine
from tests.softhsm import SoftHSMToken, softhsm_token

POSTGRES_ADMIN_URL = os.environ.get(
    "CLAIMBRIDGE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
BACKENDS = ("sqlite", "postgresql")


def _postgres_unavailable() -> str | None:
    try:
        engine = make_engine(POSTGRES_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure means "not here"
        where = make_url(POSTGRES_ADMIN_URL).render_as_string()
        return f"PostgreSQL at {where} unreachable: {type(exc).__name__}"
    return None


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """An admin URL on a PostgreSQL server that answers (or skip/fail)."""
    reason = _postgres_unavailable()
    if reason:
        if IN_CI:
            pytest.fail(f"CI=true requires PostgreSQL: {reason}")
        pytest.skip(reason)
    return POSTGRES_ADMIN_URL


@pytest.fixture(scope="session")
def make_postgres_database(postgres_server: str) -> Iterator[object]:
    """A factory of fresh PostgreSQL databases, all dropped at the end.

    ``create()`` makes an empty one; ``create(template=name)`` a copy of the
    database ``name``, which no one may be connected to.
    """
    admin = make_engine(postgres_server, isolation_level="AUTOCOMMIT")
    created: list[str] = []

    def create(template: str | None = None) -> str:
        name = f"claimbridge_test_{secrets.token_hex(6)}"
        copy = f' TEMPLATE "{template}"' if template else ""
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"{copy}'))
        created.append(name)
        return make_url(postgres_server).set(database=name).render_as_string(hide_password=False)

    yield create
    drop_databases(admin, created)
    admin.dispose()


def drop_databases(admin: Engine, names: Iterable[str]) -> None:
    """``DROP DATABASE`` each of ``names``, several at a time.

    PostgreSQL makes every ``DROP DATABASE`` wait for a checkpoint; dropped
    side by side, they share checkpoints instead of queueing one each.
    """

    def drop(name: str) -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(drop, names))


def empty_database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'claimbridge.db'}"
    factory = request.getfixturevalue("make_postgres_database")
    return factory()  # type: ignore[operator, no-any-return]


@pytest.fixture(params=BACKENDS, ids=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql":
        request.getfixturevalue("postgres_server")
    return str(request.param)


@pytest.fixture
def empty_db_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A fresh, empty database of each backend, for migration tests."""
    return empty_database_url(backend, tmp_path, request)


@pytest.fixture(scope="session", params=BACKENDS, ids=BACKENDS)
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """One migrated database per backend for the whole run."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'claimbridge.db'}"
    else:
        url = request.getfixturevalue("make_postgres_database")()
    engine = make_engine(url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session whose work is rolled back when the test ends.

    The test's own commits become savepoints inside one outer transaction.
    """
    with engine.connect() as connection:
        outer = connection.begin()
        db = Session(bind=connection, join_transaction_mode="create_savepoint")
        try:
            yield db
        finally:
            db.close()
            outer.rollback()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 3, 2, 14, 30, tzinfo=UTC))


@pytest.fixture(scope="session")
def softhsm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SoftHSMToken]:
    """The run's SoftHSM2 token: module path, token label and user PIN.

    One token for the whole run, because SoftHSM2 reads its configuration
    and finds its tokens only when the module is first loaded in the process
    (see ``tests.softhsm``). Tests keep apart by giving each root key its own
    label.
    """
    with softhsm_token(tmp_path_factory.mktemp("softhsm")) as token:
        yield token


KEY_PROVIDERS = ("local", "pkcs11")


def root_key(request: pytest.FixtureRequest, folder: Path) -> Iterator[KeyProvider]:
    """A new root key in the provider ``request.param`` names: a file in ``folder``, or SoftHSM2."""
    if request.param == "local":
        yield LocalKeyProvider.create(
            folder / "root.key", "correct horse battery staple", scrypt_n=MIN_SCRYPT_N
        )
        return
    token: SoftHSMToken = request.getfixturevalue("softhsm")
    provider = PKCS11KeyProvider.create_key(
        token.module_path,
        token_label=token.token_label,
        pin=token.pin,
        key_label=f"root-{secrets.token_hex(6)}",
    )
    try:
        yield provider
    finally:
        provider.close()


@pytest.fixture(params=KEY_PROVIDERS, ids=KEY_PROVIDERS)
def key_provider(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[KeyProvider]:
    """A fresh root key in each provider: a local key file, and a key in SoftHSM2."""
    yield from root_key(request, tmp_path)


@pytest.fixture
def keyring(key_provider: KeyProvider) -> Keyring:
    return Keyring(key_provider, clock=FixedClock(datetime(2026, 3, 2, 14, 30, tzinfo=UTC)))
