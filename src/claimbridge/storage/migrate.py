"""Alembic, driven from code: upgrade to head, and check that we are there.

``init`` and ``serve`` call ``upgrade``; the server refuses to run on a
schema that is not at the head (``require_head``), because code and
tables that disagree corrupt data quietly.

Every command that opens a data directory makes that check, so it does
without Alembic, whose import costs more than the rest of the check: the
head is read from the migration scripts' ``revision`` and
``down_revision`` lines, and the database's revision from Alembic's
version table. Alembic is imported only to change the schema.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

from claimbridge.errors import SchemaOutOfDate

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version"

# What Alembic says at INFO each time it looks at a database, upgrade or
# not: noise on the server's stderr and in its log. "Running upgrade ..."
# and everything else it says still gets through.
_BOILERPLATE = frozenset({"Context impl %s.", "Will assume %s DDL."})

# The lines Alembic's script template writes (script.py.mako).
_REVISION = re.compile(r"^revision: str = \"(\w+)\"$", re.MULTILINE)
_DOWN_REVISION = re.compile(r"^down_revision: .* = (.+)$", re.MULTILINE)


def _not_boilerplate(record: logging.LogRecord) -> bool:
    return record.msg not in _BOILERPLATE


logging.getLogger("alembic.runtime.migration").addFilter(_not_boilerplate)


def alembic_config(engine: Engine | None = None) -> Config:
    from alembic.config import Config  # noqa: PLC0415 - only to change the schema

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command  # noqa: PLC0415 - only to change the schema

    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command  # noqa: PLC0415 - only to change the schema

    command.downgrade(alembic_config(engine), revision)


def heads() -> tuple[str, ...]:
    """The revisions no migration script builds on, read from the scripts' text."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (MIGRATIONS / "versions").glob("*.py"):
        source = script.read_text(encoding="utf-8")
        revision = _REVISION.search(source)
        down = _DOWN_REVISION.search(source)
        if revision is None or down is None:  # a script not written from the template
            raise RuntimeError(f"{script.name}: no revision or down_revision line")
        revisions.add(revision.group(1))
        # None, one revision, or a tuple of them (a merge).
        parents.update(re.findall(r"\"(\w+)\"", down.group(1)))
    return tuple(sorted(revisions - parents))


def current(engine: Engine) -> tuple[str, ...]:
    """The revisions the database is at; none for a database Alembic never touched."""
    with engine.connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return ()
        rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))  # noqa: S608
        return tuple(sorted(rows.scalars()))


def require_head(engine: Engine) -> None:
    at, expected = current(engine), heads()
    if set(at) != set(expected):
        raise SchemaOutOfDate(detail=f"database at {at}, code expects {expected}")
