"""Alembic, driven from code: upgrade to head, and check that we are there.

``init`` and ``serve`` call ``upgrade``; the server refuses to run on a
schema that is not at the head (``require_head``), because code and
tables that disagree corrupt data quietly.
"""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from claimbridge.errors import SchemaOutOfDate

MIGRATIONS = Path(__file__).with_name("migrations")

# What Alembic says at INFO each time it looks at a database, upgrade or
# not: noise on the server's stderr and in its log. "Running upgrade ..."
# and everything else it says still gets through.
_BOILERPLATE = frozenset({"Context impl %s.", "Will assume %s DDL."})


def _not_boilerplate(record: logging.LogRecord) -> bool:
    return record.msg not in _BOILERPLATE


logging.getLogger("alembic.runtime.migration").addFilter(_not_boilerplate)


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    command.downgrade(alembic_config(engine), revision)


def heads() -> tuple[str, ...]:
    return tuple(ScriptDirectory.from_config(alembic_config_for_scripts()).get_heads())


def alembic_config_for_scripts() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def current(engine: Engine) -> tuple[str, ...]:
    with engine.connect() as connection:
        return tuple(MigrationContext.configure(connection).get_current_heads())


def require_head(engine: Engine) -> None:
    if set(current(engine)) != set(heads()):
        raise SchemaOutOfDate(
            detail=f"database at {current(engine)}, code expects {heads()}",
        )
