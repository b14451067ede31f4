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
    f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
)


def is_sqlite(url_or_engine: str | Engine) -> bool:
    url = url_or_engine if isinstance(url_or_engine, str) else str(url_or_engine.url)
    return url.startswith("sqlite")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url`` with the settings claimbridge relies on."""
    if is_sqlite(url):
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _configure_sqlite)
        event.listen(engine, "begin", _begin_immediate)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _configure_sqlite(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    # Let SQLAlchemy issue BEGIN itself (see _begin_immediate); pysqlite's own
    # transaction handling would start transactions late and defer locks.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        for pragma in _SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()


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
