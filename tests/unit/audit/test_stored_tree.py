"""The stored Merkle tree: proofs from node rows, scheduled checkpoints, retention purges.

Each test gets a fresh migrated database of each backend, since purges
and checkpoints act on the whole log. The migrations run once per backend,
into a template no test touches; each test gets a copy of it (the SQLite
file copied, on PostgreSQL ``CREATE DATABASE ... TEMPLATE``), which holds
the same schema, triggers and all, as a database migrated afresh.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, event, func, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from claimbridge.audit.checkpointing import (
    CheckpointSchedule,
    checkpoint_if_due,
    issue_checkpoint,
)
from claimbridge.audit.checkpoints import LogRewritten, LogTruncated, verify_saved
from claimbridge.audit.merkle import (
    CompactRange,
    ProofUnavailable,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    verify_inclusion,
)
from claimbridge.audit.record import LOCAL_OPERATOR, Actor, Event, record
from claimbridge.audit.retention import purge_before
from claimbridge.audit.treestore import (
    stored_consistency_path,
    stored_inclusion_path,
)
from claimbridge.audit.verify import verify_stored_log
from claimbridge.clock import FixedClock
from claimbridge.crypto.signing import SigningKey
from claimbridge.instance.checkpointer import Checkpointer
from claimbridge.storage import migrate
from claimbridge.storage.audit import AuditCheckpoint, AuditEvent, AuditPurge, AuditTreeNode
from claimbridge.storage.db import make_engine, make_sessionmaker
from tests.conftest import empty_database_url

T0 = datetime(2026, 1, 1, tzinfo=UTC)
KEY = SigningKey.from_seed(bytes(range(32)))
READER = Actor(
    user_id="10000000-0000-4000-8000-000000000001",
    organisation_id="20000000-0000-4000-8000-000000000001",
    roles=("biller",),
    auth_method="password+totp",
    source_address="192.0.2.7",
)


@pytest.fixture(scope="module")
def migrated() -> dict[str, str]:
    """Per backend, the URL of this module's migrated template, made when first asked for."""
    return {}


@pytest.fixture
def db(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest, migrated: dict[str, str]
) -> Iterator[Engine]:
    if backend not in migrated:
        folder = request.getfixturevalue("tmp_path_factory").mktemp("template")
        template = make_engine(empty_database_url(backend, folder, request))
        migrate.upgrade(template)
        template.dispose()  # no connection left: SQLite has folded its WAL in
        migrated[backend] = template.url.render_as_string(hide_password=False)
    url = make_url(migrated[backend])
    if backend == "sqlite":
        assert url.database is not None
        copy = tmp_path / "claimbridge.db"
        shutil.copyfile(url.database, copy)
        engine = make_engine(url.set(database=str(copy)).render_as_string(hide_password=False))
    else:
        create = request.getfixturevalue("make_postgres_database")
        engine = make_engine(create(template=url.database))
    yield engine
    engine.dispose()


def append(
    engine: Engine, count: int, *, start: datetime = T0, step: timedelta = timedelta(seconds=1)
) -> None:
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        first = session.scalar(select(func.count()).select_from(AuditEvent)) or 0
        for i in range(count):
            record(
                session,
                Event(action="phi:patient:read", resource_type="patient", actor=READER),
                now=start + step * (first + i),
            )


def hashes(session: Session) -> list[bytes]:
    return [
        h or b"" for h in session.scalars(select(AuditEvent.event_hash).order_by(AuditEvent.seq))
    ]


def test_stored_proofs_equal_the_in_memory_ones(db: Engine) -> None:
    append(db, 600)
    with make_sessionmaker(db).begin() as session:
        issue_checkpoint(session, KEY, now=T0)
    append(db, 77)
    with make_sessionmaker(db).begin() as session:
        issue_checkpoint(session, KEY, now=T0)
        leaves = hashes(session)
        nodes = session.scalar(select(func.count()).select_from(AuditTreeNode))
        # Subtrees of 256 leaves and more in 677 leaves: two of 256, one of 512.
        assert nodes == 3
        picks = random.Random(7)
        for _ in range(25):
            size = picks.randint(1, len(leaves))
            seq = picks.randint(1, size)
            assert stored_inclusion_path(session, seq, size) == inclusion_proof(
                seq - 1, leaves[:size]
            )
            old = picks.randint(0, size)
            assert stored_consistency_path(session, old, size) == consistency_proof(
                old, size, leaves
            )


def test_a_stored_proof_reads_few_rows(db: Engine) -> None:
    append(db, 1024)
    with make_sessionmaker(db).begin() as session:
        issue_checkpoint(session, KEY, now=T0)
        statements: list[str] = []
        connection = session.connection()

        def count(*args: object) -> None:
            statements.append(str(args[2]))

        event.listen(connection, "before_cursor_execute", count)
        path = stored_inclusion_path(session, 1000, 1024)
        event.remove(connection, "before_cursor_execute", count)
        assert len(path) == 10
        # The leaf's own 256-block from the events (one query), the two stored
        # roots above it (512 and 256 leaves), and the first-kept lookup.
        assert len(statements) <= 4


def test_checkpoints_come_when_due_by_count_or_by_age(db: Engine) -> None:
    schedule = CheckpointSchedule(every_events=100, every_seconds=600)
    sessions = make_sessionmaker(db)
    append(db, 99)
    with sessions.begin() as session:
        assert checkpoint_if_due(session, KEY, schedule, now=T0 + timedelta(seconds=120)) is None
    append(db, 1)
    with sessions.begin() as session:
        signed = checkpoint_if_due(session, KEY, schedule, now=T0 + timedelta(seconds=120))
        assert signed is not None and signed.checkpoint.tree_size == 100
    append(db, 3)  # events 101..103, the first at T0 + 100 s
    with sessions.begin() as session:
        assert checkpoint_if_due(session, KEY, schedule, now=T0 + timedelta(seconds=699)) is None
        late = checkpoint_if_due(session, KEY, schedule, now=T0 + timedelta(seconds=700))
        assert late is not None and late.checkpoint.tree_size == 103
        assert checkpoint_if_due(session, KEY, schedule, now=T0 + timedelta(days=9)) is None


def test_the_database_refuses_deleting_events_no_purge_covers(db: Engine) -> None:
    append(db, 5)
    with pytest.raises(DBAPIError, match="append-only"):
        with make_sessionmaker(db).begin() as session:
            session.execute(delete(AuditEvent).where(AuditEvent.seq == 1))
    with pytest.raises(DBAPIError, match="append-only"):
        with make_sessionmaker(db).begin() as session:
            session.execute(update(AuditEvent).where(AuditEvent.seq == 2).values(action="x"))


def purge(engine: Engine, *, now: datetime, days: int) -> int:
    with make_sessionmaker(engine).begin() as session:
        done = purge_before(
            session, KEY, retention=timedelta(days=days), now=now, actor=LOCAL_OPERATOR
        )
    return done.through_seq


def test_a_purge_removes_old_events_and_leaves_the_log_verifiable(db: Engine) -> None:
    day = timedelta(days=1)
    append(db, 600, step=day / 100)  # six days of events, 100 a day
    with make_sessionmaker(db).begin() as session:
        before = issue_checkpoint(session, KEY, now=T0 + 7 * day)
    through = purge(db, now=T0 + 8 * day, days=5)  # keep from T0 + 3 days on
    assert through == 300
    append(db, 10, start=T0 + 8 * day)
    sessions = make_sessionmaker(db)
    with sessions.begin() as session:
        after = issue_checkpoint(session, KEY, now=T0 + 9 * day)
        kept = session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
        assert kept[0].seq == 301 and kept[-1].seq == 611
        assert kept[-11].action == "audit:log:purged" and kept[-11].resource_id == "1..300"
        verified = verify_stored_log(session, public_key=KEY.public_key_bytes())
        assert verified.events == 611 and verified.checkpoints == 3
        # Proofs still work for events that remain, across the purge point.
        for seq in (301, 302, 450, 611):
            path = stored_inclusion_path(session, seq, 611)
            leaf = leaf_hash(session.get(AuditEvent, seq).event_hash)  # type: ignore[union-attr]
            verify_inclusion(leaf, seq - 1, 611, path, after.checkpoint.root_hash)
        proof = stored_consistency_path(session, 600, 611)
        verify_saved(before, after, proof, KEY.public_key_bytes())
        with pytest.raises(ProofUnavailable):
            stored_inclusion_path(session, 5, 611)


def test_a_purge_with_nothing_old_enough_changes_nothing(db: Engine) -> None:
    append(db, 20)
    assert purge(db, now=T0 + timedelta(days=3), days=5) == 0
    with make_sessionmaker(db).begin() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == 20


@pytest.mark.parametrize("frontier_ok", [True, False], ids=["frontier", "no-frontier"])
def test_events_removed_behind_a_forged_purge_row_are_caught(db: Engine, frontier_ok: bool) -> None:
    """Someone with the database inserts a purge row to get past the delete trigger."""
    append(db, 50)
    sessions = make_sessionmaker(db)
    with sessions.begin() as session:
        issue_checkpoint(session, KEY, now=T0)
        tree = CompactRange()
        tree.extend(hashes(session)[:10])
        frontier = [h.hex() for h in tree.frontier] if frontier_ok else []
        session.add(
            AuditPurge(
                through_seq=10,
                head_hash=hashes(session)[9],
                frontier=frontier,
                cutoff=T0,
                purged_at=T0,
                signature=bytes(64),
            )
        )
        session.flush()
        session.execute(delete(AuditEvent).where(AuditEvent.seq <= 10))
    with sessions.begin() as session, pytest.raises((LogTruncated, LogRewritten)) as caught:
        verify_stored_log(session, public_key=KEY.public_key_bytes())
    expected = "events 1..10" if frontier_ok else "purge anchor 10"
    assert caught.value.where == expected


def test_the_anchor_checkpoint_must_exist(db: Engine) -> None:
    day = timedelta(days=1)
    append(db, 40, step=day / 10)
    purge(db, now=T0 + 10 * day, days=7)
    sessions = make_sessionmaker(db)
    with sessions.begin() as session:
        # Only a database owner can drop the anchor; the verifier then says so.
        anchor = session.scalars(
            select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size)
        ).first()
        assert anchor is not None
        session.delete(anchor)
    with sessions.begin() as session, pytest.raises(LogTruncated):
        verify_stored_log(session, public_key=KEY.public_key_bytes())


def test_the_server_checkpointer_signs_when_due_and_survives_a_stop(db: Engine) -> None:
    clock = FixedClock(T0)
    checkpointer = Checkpointer(
        make_sessionmaker(db),
        KEY,
        CheckpointSchedule(every_events=10, every_seconds=60),
        clock=clock,
    )
    append(db, 9)
    assert checkpointer.run_once() is None
    clock.advance(timedelta(seconds=61))
    signed = checkpointer.run_once()
    assert signed is not None and signed.checkpoint.tree_size == 9
    assert checkpointer.run_once() is None  # nothing new since
    checkpointer.start()
    checkpointer.stop()
