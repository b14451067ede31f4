"""``claimbridge db grant-app-role``: the server's own PostgreSQL role cannot change the log."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError
from typer.testing import CliRunner

from claimbridge.audit.record import Actor, Event, record
from claimbridge.cli.main import app
from claimbridge.storage.audit import AuditEvent
from claimbridge.storage.db import make_engine, make_sessionmaker

runner = CliRunner()
READER = Actor(user_id=None, organisation_id=None, roles=("biller",), auth_method="api-token")


@pytest.fixture
def instance(
    tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Path, str, str]]:
    """An initialised instance on a fresh PostgreSQL database, and a login role for the app."""
    url = str(request.getfixturevalue("make_postgres_database")())
    monkeypatch.setenv("CLAIMBRIDGE_DATABASE_URL", url)
    root = tmp_path / "data"
    assert runner.invoke(app, ["init", "--data-dir", str(root)]).exit_code == 0
    role = f"cb_app_{secrets.token_hex(4)}"
    owner = make_engine(url, isolation_level="AUTOCOMMIT")
    with owner.connect() as connection:
        connection.execute(text(f"CREATE ROLE {role} LOGIN"))
    try:
        yield root, url, role
    finally:
        with owner.connect() as connection:
            connection.execute(text(f"DROP OWNED BY {role}"))
            connection.execute(text(f"DROP ROLE {role}"))
        owner.dispose()


def _as(url: str, role: str) -> Engine:
    return make_engine(make_url(url).set(username=role).render_as_string(hide_password=False))


def test_the_app_role_appends_but_cannot_change_the_log(instance: tuple[Path, str, str]) -> None:
    root, url, role = instance
    result = runner.invoke(app, ["db", "grant-app-role", role, "--data-dir", str(root), "--json"])
    assert result.exit_code == 0, result.output
    assert "audit_events" in json.loads(result.output)["append_only"]
    engine = _as(url, role)
    try:
        sessions = make_sessionmaker(engine)
        with sessions.begin() as session:
            record(session, Event(action="phi:patient:read", actor=READER), now=datetime.now(UTC))
            assert session.scalar(select(func.count()).select_from(AuditEvent)) == 2
            session.execute(text("UPDATE organisations SET name = name"))  # ordinary tables: yes
        for statement in (
            "UPDATE audit_events SET outcome = 'denied'",
            "DELETE FROM audit_events",
            "TRUNCATE audit_events",
            "DELETE FROM audit_checkpoints",
            "UPDATE audit_tree_nodes SET hash = hash",
            "INSERT INTO alembic_version VALUES ('x')",
        ):
            with pytest.raises(ProgrammingError, match="permission denied"):
                with sessions.begin() as session:
                    session.execute(text(statement))
    finally:
        engine.dispose()
    owner = make_engine(url)
    try:
        with make_sessionmaker(owner)() as session:
            granted = session.scalars(
                select(AuditEvent.resource_id).where(
                    AuditEvent.action == "storage:app-role:granted"
                )
            ).all()
        assert granted == [role]
    finally:
        owner.dispose()


def test_an_unknown_role_is_refused_by_name(instance: tuple[Path, str, str]) -> None:
    root, _url, _role = instance
    result = runner.invoke(
        app, ["db", "grant-app-role", "no_such_role", "--data-dir", str(root), "--json"]
    )
    assert result.exit_code != 0
    assert json.loads(result.output)["error"]["where"] == "role"


def test_sqlite_has_no_roles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLAIMBRIDGE_DATABASE_URL", raising=False)
    root = tmp_path / "data"
    assert runner.invoke(app, ["init", "--data-dir", str(root)]).exit_code == 0
    result = runner.invoke(app, ["db", "grant-app-role", "app", "--data-dir", str(root), "--json"])
    assert result.exit_code != 0
    assert json.loads(result.output)["error"]["where"] == "database_url"
