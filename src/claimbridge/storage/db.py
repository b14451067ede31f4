"""Engines and sessions: the one place where SQLite and PostgreSQL differ.

SQLite (the embedded default) runs in WAL mode with ``synchronous=FULL``, so
a transaction that has been acknowledged survives a power cut; foreign keys
are switched on (SQLite leaves them off by default) and writers wait for
each other through a busy timeout instead of failing at once.

PostgreSQL (production) is reached through psycopg 3.
"""

from __future__ import annotations

import os
import sqlite3
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 30_000

_SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
)


def is_sqlite(url_or_engine: str | Engine) -> bool:
    url = url_or_engine if isinstance(url_or_engine, str) else str(url_or_engine.url)
    return url.startswith("sqlite")


def make_engine(
    url: str, *, lock_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS, **kwargs: Any
) -> Engine:
    """An engine for ``url`` with the settings claimbridge relies on.

    ``lock_timeout_ms`` bounds how long a statement waits for a lock another
    transaction holds (SQLite's busy timeout, PostgreSQL's ``lock_timeout``);
    then it fails, and a request answers 503 rather than hanging.
    """
    if is_sqlite(url):
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_configurer(lock_timeout_ms))
        event.listen(engine, "begin", _begin_immediate)
    else:
        connect_args = {
            "options": f"-c lock_timeout={int(lock_timeout_ms)}",
            **kwargs.pop("connect_args", {}),
        }
        engine = create_engine(url, pool_pre_ping=True, connect_args=connect_args, **kwargs)
    event.listen(engine, "handle_error", _drop_read_only_connections)
    return engine


def _drop_read_only_connections(context: Any) -> None:
    # A connection opened while the database was read-only (a failover in
    # progress, a full disk, an immutable file) stays read-only after the
    # store recovers. Treating that error as a disconnect makes the pool
    # replace the connection, so the service resumes by itself.
    error = context.original_exception
    sqlstate = getattr(error, "sqlstate", None)
    if sqlstate == "25006" or "readonly database" in str(error):
        context.is_disconnect = True


def _sqlite_configurer(busy_timeout_ms: int) -> Any:
    pragmas = (*_SQLITE_PRAGMAS, f"PRAGMA busy_timeout={int(busy_timeout_ms)}")

    def configure(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        # Let SQLAlchemy issue BEGIN itself (see _begin_immediate); pysqlite's
        # own transaction handling would start transactions late and defer locks.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            for pragma in pragmas:
                cursor.execute(pragma)
        finally:
            cursor.close()

    return configure


def _begin_immediate(connection: Any) -> None:
    # BEGIN IMMEDIATE takes the write lock up front, so two writers queue on
    # the busy timeout instead of one failing with "database is locked" when
    # it upgrades a read transaction halfway through.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work commits together or not at all."""
    with sessions.begin() as session:
        yield session


def prepare_sqlite_file(path: Path) -> bool:
    """Create the database file 0600 before SQLite does, so it never exists world-readable.

    SQLite gives its ``-wal`` and ``-shm`` files the mode of the database
    file, so they inherit 0600 too. Returns whether the file was created.
    """
    if path.exists():
        return False
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    os.close(fd)
    return True


def lock_for_append(session: Session, name: str) -> None:
    """Serialise appends to one log (``name``) until the transaction ends.

    SQLite needs nothing: every transaction is ``BEGIN IMMEDIATE``, so only
    one writer runs at a time. PostgreSQL takes a transaction-scoped
    advisory lock, released by commit or rollback.
    """
    if session.get_bind().dialect.name == "postgresql":
        key = zlib.crc32(name.encode())
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
