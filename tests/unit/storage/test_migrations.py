"""The migration history: one head, applies to empty SQLite and PostgreSQL, matches the model."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from claimbridge.errors import SchemaOutOfDate
from claimbridge.storage import migrate
from claimbridge.storage.db import make_engine
from claimbridge.storage.models import Base
from tests.conftest import empty_database_url

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


def test_the_head_read_from_the_scripts_is_alembics() -> None:
    # Commands check the schema without importing Alembic (see migrate.py).
    scripts = ScriptDirectory.from_config(migrate.alembic_config())
    assert migrate.heads() == tuple(sorted(scripts.get_heads()))


@pytest.fixture(scope="module")
def upgraded_engines() -> Iterator[dict[str, Engine]]:
    engines: dict[str, Engine] = {}
    yield engines
    for engine in engines.values():
        engine.dispose()


@pytest.fixture
def upgraded(
    backend: str,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
    upgraded_engines: dict[str, Engine],
) -> Engine:
    """An empty database of each backend, upgraded to the head once for the two tests below.

    They only read it: which tables it has and which revision it is at, and
    how it compares with the model.
    """
    if backend not in upgraded_engines:
        folder: Path = tmp_path_factory.mktemp("upgraded")
        engine = make_engine(empty_database_url(backend, folder, request))
        assert inspect(engine).get_table_names() == []
        migrate.upgrade(engine)
        upgraded_engines[backend] = engine
    return upgraded_engines[backend]


def test_upgrade_creates_every_table_on_an_empty_database(upgraded: Engine) -> None:
    tables = set(inspect(upgraded).get_table_names())
    assert tables >= EXPECTED_TABLES
    assert migrate.current(upgraded) == migrate.heads()


def test_model_matches_migrations_with_no_autogenerate_difference(upgraded: Engine) -> None:
    with upgraded.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        differences = compare_metadata(context, Base.metadata)
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
    try:
        assert migrate.current(engine) == ()  # never migrated
        with pytest.raises(SchemaOutOfDate):
            migrate.require_head(engine)
        migrate.upgrade(engine)
        migrate.require_head(engine)
        assert migrate.current(engine) == migrate.heads()

        migrate.downgrade(engine, "-1")  # one migration behind
        with engine.connect() as connection:
            alembic_sees = MigrationContext.configure(connection).get_current_heads()
        assert migrate.current(engine) == tuple(alembic_sees) != migrate.heads()
        with pytest.raises(SchemaOutOfDate):
            migrate.require_head(engine)
    finally:
        engine.dispose()


def test_an_upgrade_logs_its_steps_but_not_alembics_boilerplate(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'logged.db'}")
    try:
        with caplog.at_level(logging.INFO, logger="alembic"):
            migrate.upgrade(engine)
            migrate.upgrade(engine)  # at the head already: nothing to say
    finally:
        engine.dispose()

    said = [record.getMessage() for record in caplog.records]
    steps = [message for message in said if message.startswith("Running upgrade")]
    revisions = ScriptDirectory.from_config(migrate.alembic_config())
    assert len(steps) == len(list(revisions.walk_revisions()))
    assert steps[0].startswith("Running upgrade  -> ")
    assert not [m for m in said if m.startswith(("Context impl", "Will assume"))]
