"""SQLite as the embedded default is configured for durability."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from claimbridge.storage.db import make_engine, prepare_sqlite_file


def test_sqlite_runs_wal_full_sync_with_foreign_keys_and_busy_timeout(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'c.db'}")
    with engine.connect() as connection:
        pragma = lambda name: connection.execute(text(f"PRAGMA {name}")).scalar()  # noqa: E731
        assert pragma("journal_mode") == "wal"
        assert pragma("synchronous") == 2  # FULL
        assert pragma("foreign_keys") == 1
        assert pragma("busy_timeout") == 30_000
    engine.dispose()


def test_sqlite_transactions_take_the_write_lock_up_front(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'c.db'}")
    with engine.begin() as connection:
        # Inside BEGIN IMMEDIATE a second connection cannot start writing.
        other = make_engine(f"sqlite:///{tmp_path / 'c.db'}", connect_args={"timeout": 0})
        raw = other.raw_connection()
        try:
            raw.execute("PRAGMA busy_timeout=0")
            try:
                raw.execute("BEGIN IMMEDIATE")
                locked = False
            except Exception:  # noqa: BLE001 - sqlite3.OperationalError "database is locked"
                locked = True
        finally:
            raw.close()
            other.dispose()
        connection.execute(text("SELECT 1"))
    assert locked
    engine.dispose()


def test_database_file_is_created_private(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    assert prepare_sqlite_file(path) is True
    assert path.stat().st_mode & 0o777 == 0o600
    assert prepare_sqlite_file(path) is False
