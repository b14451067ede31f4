"""The mutation suite at the stored-log level: an attacker with the database, on both backends.

Once per backend a template database is built holding 10,500 events,
written with exactly the fields, canonical bytes and chain hashes
``audit.record.record`` gives them (bulk-inserted, as ``record`` would take
seconds), and signed checkpoints at every 1,000 events up to 10,000 (so
events 10,001..10,500 are not signed yet). Each mutation works on a copy
(SQLite: the file; PostgreSQL: ``CREATE DATABASE ... TEMPLATE``), drops the
append-only triggers first, as anyone who owns the database can, alters
rows with SQL, and then ``verify_stored_log`` must refuse the log and
name the place: the event (``event N``) or the checkpoint
(``checkpoint N``) where it stops fitting.

Cases (all on SQLite; on PostgreSQL those not marked ``SQLITE_ONLY``):
16 mutations of the 10,500-event log, a rollback checked against the
practice's saved checkpoint, every column of 12 events of a 100-event
log changed by one bit (18 columns x
12 events = 216 flips, each rolled back before the next), and clean logs of 1, 2,
255, 256, 257, 1,023, 1,024, 1,025 and 10,500 events verifying.

What no verifier of the stored log can see, by design: events cut from
the unsigned tail (after the last checkpoint) leave a shorter but valid
log; ``test_cutting_only_unsigned_events_leaves_a_valid_shorter_log``
pins that window down.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import secrets
import shutil
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete, event, insert, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from claimbridge.audit.canonical import encode_event
from claimbridge.audit.chain import GENESIS, ChainBroken, ChainHead, link
from claimbridge.audit.checkpointing import issue_checkpoint, issue_checkpoint_at
from claimbridge.audit.checkpoints import (
    CheckpointForged,
    LogRewritten,
    LogTruncated,
    format_checkpoint,
    parse_checkpoint,
    sign_checkpoint,
    verify_saved,
)
from claimbridge.audit.merkle import CompactRange, ProofInvalid
from claimbridge.audit.proofs import ConsistencyProof, verify_consistency_proof
from claimbridge.audit.record import event_fields
from claimbridge.audit.treestore import stored_consistency_path
from claimbridge.audit.verify import Verified, verify_stored_log
from claimbridge.crypto.signing import SigningKey
from claimbridge.errors import ClaimbridgeError
from claimbridge.storage import migrate
from claimbridge.storage.audit import AuditCheckpoint, AuditEvent, AuditPurge
from claimbridge.storage.db import make_engine, make_sessionmaker
from tests.conftest import BACKENDS, drop_databases

KEY = SigningKey.from_seed(hashlib.sha256(b"claimbridge audit mutation suite").digest())
OTHER_KEY = SigningKey.from_seed(hashlib.sha256(b"someone else's key").digest())
PUBLIC_KEY = KEY.public_key_bytes()
T0 = datetime(2026, 1, 1, tzinfo=UTC)
EVENTS = 10_500
EVERY = 1_000
SIGNED = 10_000
"""The size of the last checkpoint in the template."""
FLIP_LOG = 100
FLIPPED = (0, 1, 2, 9, 31, 49, 50, 63, 64, 77, 98, 99)
CLEAN_SIZES = (1, 2, 255, 256, 257, 1_023, 1_024, 1_025)


# --- Events as record() writes them ---------------------------------------------------


def fields(seq: int, **changes: object) -> dict[str, Any]:
    """The columns ``record`` fills for an event at ``seq`` (every one set, none PHI)."""
    values: dict[str, Any] = {
        "seq": seq,
        "id": str(uuid.UUID(bytes=hashlib.sha256(b"id %d" % seq).digest()[:16], version=4)),
        "occurred_at": T0 + timedelta(seconds=seq, microseconds=seq % 997),
        "actor_user_id": f"10000000-0000-4000-8000-{seq % 7:012d}",
        "actor_org_id": "20000000-0000-4000-8000-000000000001",
        "actor_roles": ["biller"] if seq % 2 else ["practice_staff", "privacy_officer"],
        "auth_method": "password+totp",
        "source_address": f"192.0.2.{seq % 250 + 1}",
        "action": "phi:patient:read" if seq % 3 else "phi:claim:export",
        "resource_type": "patient",
        "resource_id": f"30000000-0000-4000-8000-{seq:012d}",
        "tenant_id": "40000000-0000-4000-8000-000000000001",
        "patient_ref": hashlib.sha256(b"patient %d" % (seq % 40)).hexdigest(),
        "purpose": "payment" if seq % 11 else "break-glass",
        "outcome": "success" if seq % 5 else "denied",
        "request_id": f"req-{seq:08d}",
    }
    values.update(changes)
    return values


def chained(
    field_sets: list[dict[str, Any]], *, since: ChainHead = GENESIS
) -> list[dict[str, Any]]:
    """The rows ``record`` would insert for ``field_sets``, linked after ``since``."""
    rows, head = [], since
    for values in field_sets:
        event = link(head, encode_event(values))
        rows.append({**values, "prev_hash": event.prev_hash, "event_hash": event.event_hash})
        head = ChainHead(event.seq, event.event_hash)
    return rows


@functools.cache
def template_rows() -> tuple[dict[str, Any], ...]:
    return tuple(chained([fields(seq) for seq in range(1, EVENTS + 1)]))


def head_at(rows: Sequence[dict[str, Any]], seq: int) -> ChainHead:
    return ChainHead(seq, rows[seq - 1]["event_hash"]) if seq else GENESIS


# --- Databases and their copies -------------------------------------------------------


@dataclass(frozen=True)
class Store:
    """A database built once, and a maker of throw-away copies of it to attack."""

    backend: str
    url: str
    make_copy: Callable[[], str]


@contextmanager
def attacked(store: Store) -> Iterator[Engine]:
    """A copy of ``store`` with its append-only guard dropped, as the database's owner could."""
    engine = make_engine(store.make_copy())
    if store.backend == "sqlite":
        # A CHECK constraint lives in SQLite's table definition; its owner switches it off.
        event.listen(engine, "connect", _ignore_checks)
    with engine.begin() as connection:
        if store.backend == "sqlite":
            connection.execute(text("DROP TRIGGER audit_events_no_update"))
            connection.execute(text("DROP TRIGGER audit_events_no_delete"))
        else:
            connection.execute(text("DROP TRIGGER audit_events_append_only ON audit_events"))
            connection.execute(
                text("ALTER TABLE audit_events DROP CONSTRAINT ck_audit_events_outcome")
            )
    try:
        yield engine
    finally:
        engine.dispose()


def _ignore_checks(dbapi_connection: Any, _record: object) -> None:
    dbapi_connection.execute("PRAGMA ignore_check_constraints = ON")


def _copier(backend: str, url: str, tmp: Path, request: pytest.FixtureRequest) -> Callable[[], str]:
    if backend == "sqlite":
        source = make_url(url).database
        assert source is not None

        def copy_file() -> str:
            target = tmp / f"copy-{secrets.token_hex(4)}.db"
            shutil.copyfile(source, target)
            return f"sqlite:///{target}"

        return copy_file
    admin = make_engine(request.getfixturevalue("postgres_server"), isolation_level="AUTOCOMMIT")
    request.addfinalizer(admin.dispose)
    copies: list[str] = []
    request.addfinalizer(lambda: drop_databases(admin, copies))
    original = make_url(url)

    def copy_database() -> str:
        name = f"{original.database}_{secrets.token_hex(4)}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{original.database}"'))
        copies.append(name)
        return original.set(database=name).render_as_string(hide_password=False)

    return copy_database


def build_store(
    backend: str,
    request: pytest.FixtureRequest,
    tmp: Path,
    *,
    rows: Sequence[dict[str, Any]],
    checkpoints: Sequence[int],
) -> Store:
    """A migrated database holding ``rows`` and a signed checkpoint at each size given."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp / f'store-{secrets.token_hex(4)}.db'}"
    else:
        url = request.getfixturevalue("make_postgres_database")()
    engine = make_engine(url)
    migrate.upgrade(engine)
    with make_sessionmaker(engine).begin() as session:
        for start in range(0, len(rows), 2_000):
            session.connection().execute(insert(AuditEvent), list(rows[start : start + 2_000]))
        for size in checkpoints:
            issue_checkpoint_at(session, KEY, size, now=T0 + timedelta(days=size))
    # No connection left open: SQLite folds its WAL into the file, PostgreSQL can copy it.
    engine.dispose()
    return Store(backend=backend, url=url, make_copy=_copier(backend, url, tmp, request))


@pytest.fixture(scope="module", params=BACKENDS, ids=BACKENDS)
def db_backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql":
        request.getfixturevalue("postgres_server")
    return str(request.param)


@pytest.fixture(scope="module")
def template(
    db_backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Store:
    return build_store(
        db_backend,
        request,
        tmp_path_factory.mktemp("audit-template"),
        rows=template_rows(),
        checkpoints=range(EVERY, SIGNED + 1, EVERY),
    )


SQLITE_ONLY = pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)
"""For mutations whose SQL and verification path are the same on both databases: the
representative ones (an edit, a deletion, a rewritten chain, a duplicate, a rollback, a
forged purge) run on PostgreSQL too; the rest on SQLite only, to keep the suite short."""


def refused(engine: Engine, error: type[ClaimbridgeError]) -> ClaimbridgeError:
    """What ``verify_stored_log`` raises for the log in ``engine`` (it must raise ``error``)."""
    with make_sessionmaker(engine).begin() as session, pytest.raises(error) as caught:
        verify_stored_log(session, public_key=PUBLIC_KEY)
    return caught.value


def verified(engine: Engine) -> Verified:
    with make_sessionmaker(engine).begin() as session:
        return verify_stored_log(session, public_key=PUBLIC_KEY)


def run(engine: Engine, *statements: str, **params: object) -> None:
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement), params)


def renumber_from(engine: Engine, seq: int, *, by: int) -> None:
    """Shift events ``seq`` onwards by ``by``, in two steps so the primary key never collides."""
    run(
        engine,
        "UPDATE audit_events SET seq = -seq WHERE seq >= :seq",
        "UPDATE audit_events SET seq = :by - seq WHERE seq < 0",
        seq=seq,
        by=by,
    )


def rechain_from(engine: Engine, seq: int) -> None:
    """Recompute every chain hash from event ``seq`` on: no key is needed for that."""
    with make_sessionmaker(engine).begin() as session:
        before = session.get(AuditEvent, seq - 1)
        head = ChainHead(seq - 1, before.event_hash or b"") if before else GENESIS
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.seq >= seq).order_by(AuditEvent.seq)
        ).all()
        for row in rows:
            linked = link(head, encode_event(event_fields(row)))
            row.prev_hash, row.event_hash = linked.prev_hash, linked.event_hash
            head = ChainHead(linked.seq, linked.event_hash)


def checkpoint_text(engine: Engine, size: int) -> str:
    with make_sessionmaker(engine)() as session:
        return session.scalars(
            select(AuditCheckpoint.signed).where(AuditCheckpoint.tree_size == size)
        ).one()


def set_checkpoint_text(engine: Engine, size: int, signed: str) -> None:
    with engine.begin() as connection:
        connection.execute(
            update(AuditCheckpoint).where(AuditCheckpoint.tree_size == size).values(signed=signed)
        )


def insert_rows(engine: Engine, rows: Sequence[dict[str, Any]]) -> None:
    with engine.begin() as connection:
        connection.execute(insert(AuditEvent), list(rows))


# --- No false alarms ------------------------------------------------------------------


def test_the_clean_template_verifies(template: Store) -> None:
    engine = make_engine(template.url)
    try:
        result = verified(engine)
    finally:
        engine.dispose()
    assert result.events == EVENTS and result.checkpoints == SIGNED // EVERY
    assert result.head_hash == template_rows()[-1]["event_hash"].hex()


@SQLITE_ONLY
def test_clean_logs_of_awkward_sizes_verify(
    db_backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """Sizes around the powers of two where the Merkle tree changes shape, each signed."""
    store = build_store(db_backend, request, tmp_path, rows=(), checkpoints=())
    engine = make_engine(store.url)
    rows = template_rows()
    try:
        size = 0
        for target in CLEAN_SIZES:
            insert_rows(engine, rows[size:target])
            size = target
            with make_sessionmaker(engine).begin() as session:
                issue_checkpoint(session, KEY, now=T0 + timedelta(days=size))
            result = verified(engine)
            assert (result.events, result.checkpoints) == (size, CLEAN_SIZES.index(size) + 1)
            assert result.head_hash == rows[size - 1]["event_hash"].hex()
    finally:
        engine.dispose()


# --- Edits, deletions, insertions, duplicates, reorderings ----------------------------


def test_a_field_edited_without_its_hash_is_named(template: Store) -> None:
    with attacked(template) as engine:
        run(engine, "UPDATE audit_events SET outcome = 'success' WHERE seq = 1235")
        error = refused(engine, ChainBroken)
    assert error.where == "event 1235"


@SQLITE_ONLY
def test_a_field_edited_with_its_own_hash_recomputed_is_named_at_the_next_event(
    template: Store,
) -> None:
    seq = 2_345
    edited = fields(seq, purpose="treatment", patient_ref=hashlib.sha256(b"other").hexdigest())
    [row] = chained([edited], since=head_at(template_rows(), seq - 1))
    with attacked(template) as engine:
        with engine.begin() as connection:
            connection.execute(update(AuditEvent).where(AuditEvent.seq == seq).values(row))
        error = refused(engine, ChainBroken)
    # Event 2,345 now fits on its own; event 2,346 no longer links to it.
    assert error.where == f"event {seq + 1}"


def test_an_edit_with_the_whole_chain_recomputed_is_caught_by_the_signed_checkpoint(
    template: Store,
) -> None:
    with attacked(template) as engine:
        run(engine, "UPDATE audit_events SET purpose = 'treatment' WHERE seq = 9876")
        rechain_from(engine, 9_876)
        error = refused(engine, LogRewritten)
    assert error.where == "checkpoint 10000"


def test_a_deleted_event_is_named(template: Store) -> None:
    with attacked(template) as engine:
        run(engine, "DELETE FROM audit_events WHERE seq = 3456")
        error = refused(engine, ChainBroken)
    assert error.where == "event 3456"


@SQLITE_ONLY
def test_an_event_inserted_in_the_middle_is_named_where_the_log_stops_fitting(
    template: Store,
) -> None:
    seq = 777
    [forged] = chained(
        [fields(seq, id=str(uuid.uuid4()), action="phi:patient:update")],
        since=head_at(template_rows(), seq - 1),
    )
    with attacked(template) as engine:
        renumber_from(engine, seq, by=1)
        insert_rows(engine, [forged])
        error = refused(engine, ChainBroken)
    # The inserted event links to event 776 and carries seq 777: it fits. The
    # event after it, formerly 777, now reads as 778 and links elsewhere.
    assert error.where == f"event {seq + 1}"


@pytest.mark.parametrize("seq", [4_321, 5_000], ids=["inside-a-read-batch", "at-a-read-batch-end"])
def test_a_duplicated_event_is_named_at_the_copy(template: Store, seq: int) -> None:
    """An exact copy of a row, seq and all; the owner first removes the primary key."""
    with attacked(template) as engine:
        if template.backend == "sqlite":
            # SQLite keeps keys in the table definition: its owner rebuilds the table without.
            run(
                engine,
                "ALTER TABLE audit_events RENAME TO audit_events_old",
                "CREATE TABLE audit_events AS SELECT * FROM audit_events_old",
                "DROP TABLE audit_events_old",
            )
        else:
            run(engine, "ALTER TABLE audit_events DROP CONSTRAINT pk_audit_events")
            run(engine, "ALTER TABLE audit_events DROP CONSTRAINT uq_audit_events_id")
        insert_rows(engine, [template_rows()[seq - 1]])
        with engine.connect() as connection:
            copies = connection.execute(
                text("SELECT count(*) FROM audit_events WHERE seq = :seq"), {"seq": seq}
            )
            assert copies.scalar_one() == 2
        error = refused(engine, ChainBroken)
    assert error.where == f"event {seq + 1}"


@SQLITE_ONLY
@pytest.mark.parametrize(("i", "j"), [(1_500, 1_501), (100, 4_000)], ids=["adjacent", "apart"])
def test_two_swapped_events_are_named_at_the_first(template: Store, i: int, j: int) -> None:
    with attacked(template) as engine:
        run(
            engine,
            "UPDATE audit_events SET seq = -1 WHERE seq = :i",
            "UPDATE audit_events SET seq = :i WHERE seq = :j",
            "UPDATE audit_events SET seq = :j WHERE seq = -1",
            i=i,
            j=j,
        )
        error = refused(engine, ChainBroken)
    assert error.where == f"event {i}"


# --- Truncation and rollback ----------------------------------------------------------


@SQLITE_ONLY
@pytest.mark.parametrize("kept", [9_999, 4_321], ids=["into-the-last-checkpoint", "deep"])
def test_a_truncated_tail_is_named_at_the_first_missing_signed_event(
    template: Store, kept: int
) -> None:
    with attacked(template) as engine:
        run(engine, "DELETE FROM audit_events WHERE seq > :kept", kept=kept)
        error = refused(engine, LogTruncated)
    assert error.where == f"event {kept + 1}"


@SQLITE_ONLY
def test_cutting_only_unsigned_events_leaves_a_valid_shorter_log(template: Store) -> None:
    """The window the design accepts: what no checkpoint signs yet, only the chain holds."""
    with attacked(template) as engine:
        run(engine, "DELETE FROM audit_events WHERE seq > 10200")
        assert verified(engine).events == 10_200


def roll_back(engine: Engine, to: int) -> None:
    """Cut events, checkpoints and stored subtrees back to the log of ``to`` events."""
    run(
        engine,
        "DELETE FROM audit_events WHERE seq > :to",
        "DELETE FROM audit_checkpoints WHERE tree_size > :to",
        "DELETE FROM audit_tree_nodes WHERE (idx + 1) * (1 << level) > :to",
        to=to,
    )


def test_a_rolled_back_log_is_caught_by_the_practices_saved_checkpoint(template: Store) -> None:
    """Checkpoints and events after 7,000 removed: the stored log alone is consistent,
    but the checkpoint at 10,000 the practice saved proves it was longer."""
    with attacked(template) as engine:
        saved = parse_checkpoint(checkpoint_text(engine, SIGNED))
        roll_back(engine, 7_000)
        assert (verified(engine).events, verified(engine).checkpoints) == (7_000, 7)
        latest = parse_checkpoint(checkpoint_text(engine, 7_000))
        with pytest.raises(LogTruncated) as caught:
            verify_saved(saved, latest, [], PUBLIC_KEY)
        assert caught.value.where == "event 7001"
        # The server, key and all, grows another history to 10,500 and signs it.
        other = chained(
            [fields(seq, outcome="success") for seq in range(7_001, EVENTS + 1)],
            since=head_at(template_rows(), 7_000),
        )
        insert_rows(engine, other)
        with make_sessionmaker(engine).begin() as session:
            issue_checkpoint_at(session, KEY, SIGNED, now=T0 + timedelta(days=99_999))
            forked = issue_checkpoint(session, KEY, now=T0 + timedelta(days=99_999))
            path = stored_consistency_path(session, SIGNED, EVENTS)
        regrown = parse_checkpoint(checkpoint_text(engine, SIGNED))
        assert verified(engine).events == EVENTS  # consistent with itself again
    with pytest.raises(LogRewritten) as rewritten:
        verify_saved(saved, regrown, [], PUBLIC_KEY)
    assert rewritten.value.where == f"size {SIGNED}"
    with pytest.raises(ProofInvalid) as inconsistent:
        verify_consistency_proof(
            ConsistencyProof(old=saved, new=forked, path=tuple(path)), PUBLIC_KEY
        )
    assert inconsistent.value.where == f"sizes {SIGNED}..{EVENTS}"


# --- Checkpoints ----------------------------------------------------------------------


def _flip_signature_bit(signed: str) -> str:
    parsed = parse_checkpoint(signed)
    signature = bytearray(parsed.signature)
    signature[17] ^= 0x04
    return format_checkpoint(
        type(parsed)(checkpoint=parsed.checkpoint, key_id=parsed.key_id, signature=bytes(signature))
    )


def _signed_by_another_key(signed: str) -> str:
    return format_checkpoint(sign_checkpoint(parse_checkpoint(signed).checkpoint, OTHER_KEY))


def _root_replaced(signed: str) -> str:
    lines = signed.split("\n")
    root = bytearray(base64.b64decode(lines[2]))
    root[0] ^= 0x01
    lines[2] = base64.b64encode(bytes(root)).decode("ascii")
    return "\n".join(lines)


@SQLITE_ONLY
@pytest.mark.parametrize(
    "forge",
    [_flip_signature_bit, _signed_by_another_key, _root_replaced],
    ids=["signature-bit-flipped", "another-key", "root-changed"],
)
def test_a_forged_checkpoint_row_is_named(template: Store, forge: Callable[[str], str]) -> None:
    with attacked(template) as engine:
        set_checkpoint_text(engine, 5_000, forge(checkpoint_text(engine, 5_000)))
        error = refused(engine, CheckpointForged)
    assert error.where == "checkpoint 5000"


@SQLITE_ONLY
@pytest.mark.parametrize("column", ["root_hash", "frontier"])
def test_a_checkpoint_rows_own_root_or_frontier_changed_is_named(
    template: Store, column: str
) -> None:
    """The columns beside the signed text: the next checkpoint is built from ``frontier``."""
    value: object = bytes(32) if column == "root_hash" else [bytes(32).hex()] * 3
    with attacked(template) as engine:
        with engine.begin() as connection:
            connection.execute(
                update(AuditCheckpoint)
                .where(AuditCheckpoint.tree_size == 3_000)
                .values({column: value})
            )
        error = refused(engine, CheckpointForged if column == "root_hash" else LogRewritten)
    assert error.where == "checkpoint 3000"


# --- Purges ---------------------------------------------------------------------------


@pytest.mark.parametrize("through", [3_500, 3_000], ids=["between-checkpoints", "at-a-checkpoint"])
def test_events_deleted_behind_a_forged_purge_row_are_named(template: Store, through: int) -> None:
    """The owner inserts a purge row (with a correct anchor) to get past the delete guard.

    No ``audit:log:purged`` event records such a purge, and the events went
    long before any retention period.
    """
    rows = template_rows()
    with attacked(template) as engine:
        with make_sessionmaker(engine).begin() as session:
            tree = CompactRange()
            tree.extend(row["event_hash"] for row in rows[:through])
            session.add(
                AuditPurge(
                    through_seq=through,
                    head_hash=rows[through - 1]["event_hash"],
                    frontier=[h.hex() for h in tree.frontier],
                    cutoff=T0 + timedelta(seconds=through + 1),
                    purged_at=T0 + timedelta(days=1),
                    signature=OTHER_KEY.sign(b"not the audit key's anchor"),
                )
            )
            session.flush()
            session.execute(delete(AuditEvent).where(AuditEvent.seq <= through))
        error = refused(engine, LogTruncated)
    assert error.where == f"events 1..{through}"


# --- Every column of every event, one bit at a time -----------------------------------


def _flip_text(value: str, seq: int) -> str:
    # Bits 0-4 keep a printable ASCII character printable (and never NUL).
    at = seq % len(value)
    return value[:at] + chr(ord(value[at]) ^ (1 << seq % 5)) + value[at + 1 :]


def _flip_bytes(value: bytes, seq: int) -> bytes:
    bit = seq * 37 % (8 * len(value))
    flipped = bytearray(value)
    flipped[bit // 8] ^= 1 << bit % 8
    return bytes(flipped)


def one_bit_changes(row: dict[str, Any]) -> Iterator[tuple[str, object]]:
    """One changed value per stored column of ``row``, each one bit away from the original."""
    seq = row["seq"]
    for column, value in row.items():
        if column == "seq":
            yield column, seq ^ 1 << 7  # renumbered out of the log's range: 1..100 -> 129..228
        elif column == "occurred_at":
            yield column, value.replace(microsecond=value.microsecond ^ 1 << seq % 16)
        elif column == "actor_roles":
            yield column, [_flip_text(value[0], seq), *value[1:]]
        elif isinstance(value, bytes):
            yield column, _flip_bytes(value, seq)
        else:
            assert isinstance(value, str), column
            yield column, _flip_text(value, seq)


@SQLITE_ONLY
def test_every_stored_column_of_every_event_flipped_by_one_bit_is_named(
    db_backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """18 columns of 12 of the 100 events (first, last and spread between), one bit each:
    each flip applied alone, verified, and rolled back. (Every single-bit flip of every
    event of a 100-event log, about 370,000, runs in memory in tests/unit/audit.)"""
    rows = chained([fields(seq) for seq in range(1, FLIP_LOG + 1)])
    store = build_store(db_backend, request, tmp_path, rows=rows, checkpoints=[50, FLIP_LOG])
    flips, missed = 0, []
    with attacked(store) as engine, Session(engine) as session:
        for row in [rows[i] for i in FLIPPED]:
            for column, value in one_bit_changes(row):
                session.execute(
                    update(AuditEvent).where(AuditEvent.seq == row["seq"]).values({column: value})
                )
                flips += 1
                try:
                    verify_stored_log(session, public_key=PUBLIC_KEY)
                except ChainBroken as error:
                    if error.where != f"event {row['seq']}":
                        missed.append((row["seq"], column, error.where))
                else:
                    missed.append((row["seq"], column, None))
                session.rollback()
        assert verify_stored_log(session, public_key=PUBLIC_KEY).events == FLIP_LOG
    assert flips == len(FLIPPED) * len(rows[0])
    assert missed == []
