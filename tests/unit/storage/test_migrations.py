"""The migration history: one head, applies to empty SQLite and PostgreSQL, matches the model."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from claimbridge.errors import SchemaOutOfDate
from claimbridge.storage import migrate
from claimbridge.storage.db import make_engine
from claimbridge.storage.models import Base

EXPECTED_TABLES = {
    "organisations",
    "users",
    "user_roles",
    "engagements",
    "patients",
    "coverages",
    "encounters",
    "claims",
    "service_lines",
    "batches",
    "audit_events",
    "tenant_keks",
    "data_keys",
}


def test_history_has_exactly_one_head() -> None:
    assert len(migrate.heads()) == 1


def test_upgrade_creates_every_table_on_an_empty_database(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    migrate.upgrade(engine)
    tables = set(inspect(engine).get_table_names())
    assert tables >= EXPECTED_TABLES
    assert migrate.current(engine) == migrate.heads()
    engine.dispose()


def test_model_matches_migrations_with_no_autogenerate_difference(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    migrate.upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == []


def test_downgrade_to_base_and_upgrade_again_round_trips(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    migrate.upgrade(engine)
    migrate.downgrade(engine, "base")
    assert not EXPECTED_TABLES & set(inspect(engine).get_table_names())
    migrate.upgrade(engine)
    assert set(inspect(engine).get_table_names()) >= EXPECTED_TABLES
    engine.dispose()


def test_require_head_refuses_a_database_behind_the_code(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    with pytest.raises(SchemaOutOfDate):
        migrate.require_head(engine)
    migrate.upgrade(engine)
    migrate.require_head(engine)
    engine.dispose()
