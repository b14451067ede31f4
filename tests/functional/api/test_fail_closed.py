"""Audit fails closed: no audit event, no PHI; and the service recovers by itself.

Three faults are made from outside the application, on SQLite and
PostgreSQL, while a real TLS server answers a signed-in practice user who
normally reads patients and claims:

- **locked**: another connection holds a write lock on the audit table
  (SQLite has no table locks: a connection in ``BEGIN EXCLUSIVE`` holds the
  database's one write lock; PostgreSQL: ``LOCK TABLE audit_events IN
  EXCLUSIVE MODE``, which still lets the PHI be read but not the event be
  written). The server's engine waits 300 ms for a lock, as an operator
  would configure it through ``database_lock_timeout_ms``.
- **read-only**: the store refuses every write, whoever asks.
  PostgreSQL: ``ALTER DATABASE ... SET default_transaction_read_only = on``
  and the server's connections dropped, which is what a failover to a
  standby, or a DBA putting a database into read-only mode, does; it is
  lifted with ``RESET`` alone. SQLite: the database and WAL files get the
  ext4 *immutable* attribute (``chattr +i``), which the kernel enforces on
  writes through already-open descriptors and against root too, so the
  server's own open connections see "disk I/O error" and any new one opens
  read-only. ``chmod`` would not do (root ignores it, and open descriptors
  keep their mode); ``PRAGMA query_only`` would need our code to ask for it.
- **write error**: a trigger created from outside refuses every INSERT into
  ``audit_events``.

During each fault every PHI request answers 503 with the one error shape
and no PHI in it; no event is written. When the fault is lifted (from
outside, the server untouched) the same requests answer 200 and each
writes its event, and the log still verifies.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import struct
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.engine import make_url

from claimbridge.audit.verify import verify_stored_log
from claimbridge.storage.audit import AuditEvent
from claimbridge.storage.db import make_engine, make_sessionmaker
from tests.conftest import IN_CI
from tests.functional.api.worlds import RIVERSIDE, World, running_world

LOCK_TIMEOUT_MS = 300
READER = "staff@riverside.example"
PHI_FIELDS = ("mrn", "given_name", "family_name", "phone", "ssn", "patient_account")

FS_IOC_GETFLAGS = 0x80086601
FS_IOC_SETFLAGS = 0x40086602
FS_IMMUTABLE_FL = 0x00000010


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    with running_world(
        request.param, request, tmp_path_factory, patients=6, lock_timeout_ms=LOCK_TIMEOUT_MS
    ) as made:
        yield made


@dataclass(frozen=True)
class Reader:
    headers: dict[str, str]
    paths: tuple[str, ...]
    phi: frozenset[str]
    """Values from the demo data that must never appear in an error."""


@pytest.fixture(scope="module")
def reader(world: World) -> Reader:
    headers = {"Authorization": f"Bearer {world.sign_in(READER)}"}
    paths = (
        "/api/v1/patients",
        f"/api/v1/patients/{world.patient_of[RIVERSIDE]}",
        "/api/v1/claims",
        f"/api/v1/claims/{world.claim_of[RIVERSIDE]}",
    )
    phi: set[str] = set()
    with world.client() as client:
        for path in paths:
            response = client.get(path, headers=headers)
            assert response.status_code == 200, response.text
            body = response.json()
            for item in body.get("items", [body]):
                phi |= {str(item[f]) for f in PHI_FIELDS if item.get(f)}
                phi.add(item["id"])
    assert len(phi) > 10, "the reader sees PHI when nothing is wrong"
    return Reader(headers=headers, paths=paths, phi=frozenset(phi))


# -- the faults, each made and lifted from outside the server ------------------------


def _is_sqlite(world: World) -> bool:
    return world.url.startswith("sqlite")


def _sqlite_path(world: World) -> Path:
    return Path(str(make_url(world.url).database))


def _admin(world: World) -> Engine:
    return make_engine(world.url, isolation_level="AUTOCOMMIT")


@contextmanager
def locked_audit_table(world: World) -> Iterator[None]:
    if _is_sqlite(world):
        holder = sqlite3.connect(_sqlite_path(world), isolation_level=None, timeout=5)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    engine = make_engine(world.url)
    try:
        with engine.connect() as connection:
            held = connection.begin()
            connection.execute(text("LOCK TABLE audit_events IN EXCLUSIVE MODE"))
            try:
                yield
            finally:
                held.rollback()
    finally:
        engine.dispose()


def _set_immutable(path: Path, on: bool) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        (flags,) = struct.unpack("i", fcntl.ioctl(fd, FS_IOC_GETFLAGS, struct.pack("i", 0)))
        flags = flags | FS_IMMUTABLE_FL if on else flags & ~FS_IMMUTABLE_FL
        fcntl.ioctl(fd, FS_IOC_SETFLAGS, struct.pack("i", flags))
    finally:
        os.close(fd)


@contextmanager
def read_only_database(world: World) -> Iterator[None]:
    if _is_sqlite(world):
        database = _sqlite_path(world)
        files = [database, database.with_name(database.name + "-wal")]
        assert all(f.exists() for f in files), "the server's connections keep the WAL open"
        try:
            _set_immutable(files[0], True)
        except OSError as exc:
            reason = f"cannot set the immutable attribute here: {exc}"
            if IN_CI:
                pytest.fail(reason)
            pytest.skip(reason)
        _set_immutable(files[1], True)
        try:
            yield
        finally:
            for f in files:
                _set_immutable(f, False)
        return
    name = make_url(world.url).database
    admin = _admin(world)
    try:
        with admin.connect() as connection:
            connection.execute(
                text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
            )
            # A database setting reaches new sessions only: drop the server's
            # connections as a failover would.
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
            try:
                yield
            finally:
                connection.execute(
                    text(f'ALTER DATABASE "{name}" RESET default_transaction_read_only')
                )
    finally:
        admin.dispose()


SQLITE_FAULT = (
    "CREATE TRIGGER fault_audit_insert BEFORE INSERT ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'injected audit write failure'); END"
)
POSTGRES_FAULT = (
    "CREATE FUNCTION fault_audit_insert() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'injected audit write failure'; END $$",
    "CREATE TRIGGER fault_audit_insert BEFORE INSERT ON audit_events "
    "FOR EACH ROW EXECUTE FUNCTION fault_audit_insert()",
)


@contextmanager
def failing_audit_writes(world: World) -> Iterator[None]:
    if _is_sqlite(world):
        # sqlite3 itself: the project's engine opens every transaction with
        # BEGIN IMMEDIATE, even in autocommit mode.
        outside = sqlite3.connect(_sqlite_path(world), isolation_level=None, timeout=5)
        outside.execute(SQLITE_FAULT)
        try:
            yield
        finally:
            outside.execute("DROP TRIGGER fault_audit_insert")
            outside.close()
        return
    admin = _admin(world)
    try:
        with admin.connect() as connection:
            for statement in POSTGRES_FAULT:
                connection.execute(text(statement))
        yield
        with admin.connect() as connection:
            connection.execute(text("DROP TRIGGER fault_audit_insert ON audit_events"))
            connection.execute(text("DROP FUNCTION fault_audit_insert()"))
    finally:
        admin.dispose()


FAULTS: dict[str, Callable[[World], AbstractContextManager[None]]] = {
    "locked": locked_audit_table,
    "write-error": failing_audit_writes,
    # Last: if the server does not recover from it, the faults after it would fail too.
    "read-only": read_only_database,
}


# -- the test --------------------------------------------------------------------------


def _events(world: World) -> int:
    engine = make_engine(world.url)
    try:
        with make_sessionmaker(engine)() as session:
            return int(session.scalar(select(func.count()).select_from(AuditEvent)) or 0)
    finally:
        engine.dispose()


def _refused_without_phi(response: Any, reader: Reader) -> bool:
    if response.status_code != 503:
        return False
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "where"}
    assert body["error"]["code"] == "storage_unavailable"
    leaked = [value for value in reader.phi if value in response.text]
    assert not leaked, f"PHI in a 503 body: {len(leaked)} values"
    return True


@pytest.mark.parametrize("fault", list(FAULTS))
def test_phi_is_refused_while_the_audit_store_fails_and_served_once_it_recovers(
    world: World, reader: Reader, fault: str
) -> None:
    before = _events(world)
    refused = phi_responses = 0
    with FAULTS[fault](world), world.client() as client:
        for _ in range(2):  # again: a failed request must not wedge the next one
            for path in reader.paths:
                response = client.get(path, headers=reader.headers)
                phi_responses += response.status_code == 200
                refused += _refused_without_phi(response, reader)
    assert (phi_responses, refused) == (0, 2 * len(reader.paths))
    assert _events(world) == before, "a refused request left an event behind"

    with world.client() as client:
        statuses = [client.get(p, headers=reader.headers).status_code for p in reader.paths]
    assert statuses == [200] * len(reader.paths), "the service did not recover by itself"
    assert _events(world) == before + len(reader.paths), "one event per PHI answer"
    engine = make_engine(world.url)
    try:
        with make_sessionmaker(engine)() as session:
            assert verify_stored_log(session).events >= before + len(reader.paths)
    finally:
        engine.dispose()
