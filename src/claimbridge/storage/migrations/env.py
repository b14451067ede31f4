"""Alembic environment: runs migrations on the engine ``storage/migrate.py`` hands in.

For ``alembic revision --autogenerate`` from a checkout, ``alembic.ini`` at
the repository root points here and the URL comes from
``CLAIMBRIDGE_DATABASE_URL`` (default: a scratch SQLite file).
"""

from __future__ import annotations

import os
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection

from claimbridge.storage.base import UTCDateTime
from claimbridge.storage.db import is_sqlite, make_engine
from claimbridge.storage.models import Base

target_metadata = Base.metadata


def _render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    # Migrations are frozen history: write plain SQLAlchemy types into them,
    # never our own classes, which may change after the migration is written.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table.
        render_as_batch=is_sqlite(str(connection.engine.url)),
        compare_type=True,
        compare_server_default=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = context.config.attributes.get("engine")
    if engine is None:
        url = os.environ.get("CLAIMBRIDGE_DATABASE_URL", "sqlite:///./alembic-scratch.db")
        engine = make_engine(url)
    with engine.connect() as connection:
        _run(connection)


if context.is_offline_mode():
    raise SystemExit("claimbridge migrations run online only")
run_migrations_online()
