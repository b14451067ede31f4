"""Opening an existing instance: the checks every command makes first."""

from __future__ import annotations

from sqlalchemy import Engine

from claimbridge.config import Settings
from claimbridge.datadir import require_private
from claimbridge.errors import ConfigError
from claimbridge.storage import migrate
from claimbridge.storage.db import make_engine


def require_initialised(settings: Settings) -> None:
    paths = settings.paths
    if not paths.exists() or not paths.config_file.exists():
        raise ConfigError(
            f"{paths.root} is not a claimbridge data directory; run "
            f"`claimbridge init --data-dir {paths.root}` first.",
            where=str(paths.root),
        )
    require_private(paths.root)


def open_database(settings: Settings, *, upgrade: bool) -> Engine:
    """An engine on the instance's database, at the schema head.

    ``serve`` upgrades (one head, forward only); other commands refuse a
    database that is behind instead of changing it under a running server.
    """
    engine = make_engine(
        settings.effective_database_url, lock_timeout_ms=settings.database_lock_timeout_ms
    )
    try:
        if upgrade:
            migrate.upgrade(engine)
        migrate.require_head(engine)
    except BaseException:
        engine.dispose()
        raise
    return engine
