"""Engines for tests that watch the database while another process writes to it.

claimbridge's own engine begins every SQLite transaction IMMEDIATE (it
takes the write lock at once), so a test that looks in while a server or a
job writes would queue behind them. These engines begin SQLite
transactions DEFERRED: a read takes no write lock.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event


def reading_engine(url: str) -> Engine:
    """A plain engine for ``url``; on SQLite its transactions begin DEFERRED."""
    engine = create_engine(url)
    if not url.startswith("sqlite"):
        return engine

    @event.listens_for(engine, "connect")
    def _manual(dbapi_connection: Any, _record: object) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")

    return engine
