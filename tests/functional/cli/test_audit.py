"""``claimbridge audit verify`` and the append-only guard, on both databases."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from claimbridge.audit.canonical import encode_event
from claimbridge.audit.chain import ChainHead, link
from claimbridge.audit.record import event_fields
from claimbridge.cli.main import app
from claimbridge.config import load_settings
from claimbridge.storage.audit import AuditEvent
from claimbridge.storage.db import make_engine, make_sessionmaker
from tests.functional.demo_instances import DemoInstances

runner = CliRunner()


@pytest.fixture
def data_dir(
    backend: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    demo_instances: DemoInstances,
) -> Path:
    """The demo, then each org's KEK rotated and its data keys re-wrapped: 4 audit events.

    Loaded once per backend; each test gets its own copy to verify or tamper with.
    """
    instance = demo_instances.copy(
        backend,
        tmp_path / "data",
        request,
        demo=["--patients", "5"],
        then=[
            ["keys", command, "--org", org]
            for org in ("Riverside Family Medicine", "Lakeside Family Practice")
            for command in ("rotate", "rewrap")
        ],
    )
    if instance.database_url is not None:
        monkeypatch.setenv("CLAIMBRIDGE_DATABASE_URL", instance.database_url)
    return instance.data_dir


def _verify(data_dir: Path) -> tuple[int, dict]:  # type: ignore[type-arg]
    result = runner.invoke(app, ["audit", "verify", "--data-dir", str(data_dir), "--json"])
    return result.exit_code, json.loads(result.output)


def _engine(data_dir: Path):  # type: ignore[no-untyped-def]
    return make_engine(load_settings(data_dir).effective_database_url)


def test_a_clean_log_verifies(data_dir: Path) -> None:
    code, report = _verify(data_dir)
    assert code == 0
    # The demo's four key events, its signing key's registration, its two reference
    # tables' loads and its batch's ingest (8), and its two vendor assessments: Summit's
    # invitation, answers, six documents, submission, seven reviews, approval, BAA and
    # activation (19), Keystone's invitation, answers, submission, review and rejection (5).
    assert report["ok"] is True and report["events"] == 32 and report["checkpoints"] == 0


def test_the_database_refuses_to_edit_or_delete_events(data_dir: Path) -> None:
    engine = _engine(data_dir)
    for statement in (
        "UPDATE audit_events SET outcome = 'denied' WHERE seq = 1",
        "DELETE FROM audit_events WHERE seq = 2",
    ):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement))
    engine.dispose()
    assert _verify(data_dir)[0] == 0


def _tamper(data_dir: Path, statement: str) -> None:
    """What an attacker with the database itself could do: drop the guard, then edit."""
    engine = _engine(data_dir)
    sqlite = engine.dialect.name == "sqlite"
    with engine.begin() as connection:
        if sqlite:
            connection.execute(text("DROP TRIGGER audit_events_no_update"))
            connection.execute(text("DROP TRIGGER audit_events_no_delete"))
        else:
            connection.execute(text("DROP TRIGGER audit_events_append_only ON audit_events"))
        connection.execute(text(statement))
    engine.dispose()


@pytest.mark.parametrize(
    ("statement", "first_bad"),
    [
        ("UPDATE audit_events SET outcome = 'denied' WHERE seq = 2", 2),
        ("UPDATE audit_events SET resource_id = 'someone-else' WHERE seq = 3", 3),
        ("DELETE FROM audit_events WHERE seq = 2", 2),
        ("DELETE FROM audit_events WHERE seq = 1", 1),
    ],
)
def test_verify_names_the_first_altered_or_missing_event(
    data_dir: Path, statement: str, first_bad: int
) -> None:
    _tamper(data_dir, statement)
    code, report = _verify(data_dir)
    assert code != 0
    assert report["error"]["code"] == "audit_chain_broken"
    assert report["error"]["where"] == f"event {first_bad}"


def test_events_are_chained_as_they_are_written(data_dir: Path) -> None:
    engine = _engine(data_dir)
    with make_sessionmaker(engine)() as session:
        rows = session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
    engine.dispose()
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
    assert rows[0].prev_hash == bytes(32)
    assert all(b.prev_hash == a.event_hash for a, b in itertools.pairwise(rows))


def test_a_signed_checkpoint_catches_a_log_rewritten_hashes_and_all(data_dir: Path) -> None:
    result = runner.invoke(app, ["audit", "checkpoint", "--data-dir", str(data_dir), "--json"])
    assert result.exit_code == 0, result.output
    saved = json.loads(result.output)
    # The demo's 32 events (see above), and the checkpoint's own event, which it covers.
    assert saved["tree_size"] == 33 and saved["checkpoint"].startswith("claimbridge/audit\n33\n")
    key = runner.invoke(app, ["audit", "public-key", "--data-dir", str(data_dir), "--json"])
    assert len(json.loads(key.output)["public_key"]) == 64
    code, report = _verify(data_dir)
    assert (code, report["checkpoints"]) == (0, 1)
    # Rewrite event 3 and recompute every hash after it: the chain alone is
    # consistent again, but the signed root no longer matches.
    _tamper(data_dir, "UPDATE audit_events SET outcome = 'denied' WHERE seq = 3")
    engine = _engine(data_dir)
    with make_sessionmaker(engine).begin() as session:
        rows = session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
        head = ChainHead(0, bytes(32))
        for row in rows:
            linked = link(head, encode_event(event_fields(row)))
            row.prev_hash, row.event_hash = linked.prev_hash, linked.event_hash
            head = ChainHead(row.seq, linked.event_hash)
    engine.dispose()
    code, report = _verify(data_dir)
    assert code != 0
    assert report["error"]["where"] == "checkpoint 33"
