"""The audit tables: events, signed checkpoints, stored tree nodes, retention purges.

Events carry no PHI values: the patient reference is a keyed HMAC. The
chain columns (``prev_hash``, ``event_hash``) are filled by ``audit/``.
Database triggers refuse UPDATE on events, and DELETE except of events a
recorded purge covers (``AuditPurge``): the retention path is the only
way out of the log, and it leaves a signed anchor behind.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    func,
    insert,
    select,
)
from sqlalchemy.engine import Row
from sqlalchemy.orm import Mapped, Session, mapped_column

from claimbridge.storage.base import Base, BigInt


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        CheckConstraint("outcome IN ('success', 'denied', 'failure')", name="outcome"),
        Index("ix_audit_events_tenant_time", "tenant_id", "occurred_at"),
        Index("ix_audit_events_patient_ref", "patient_ref"),
    )

    # The sequence number is the log's total order; it is a position in a
    # public log, not an identifier of anything a user owns.
    seq: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=False)
    id: Mapped[str] = mapped_column(String(36), unique=True)
    occurred_at: Mapped[datetime]
    actor_user_id: Mapped[str | None] = mapped_column(String(36))
    actor_org_id: Mapped[str | None] = mapped_column(String(36))
    actor_roles: Mapped[list[str]] = mapped_column(JSON)
    auth_method: Mapped[str | None] = mapped_column(String(30))
    source_address: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(100), index=True)
    resource_type: Mapped[str | None] = mapped_column(String(50))
    resource_id: Mapped[str | None] = mapped_column(String(100))
    tenant_id: Mapped[str | None] = mapped_column(String(36))
    patient_ref: Mapped[str | None] = mapped_column(String(64))
    purpose: Mapped[str | None] = mapped_column(String(30))
    outcome: Mapped[str] = mapped_column(String(10))
    request_id: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    event_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))


_LAST_EVENT = select(AuditEvent.seq, AuditEvent.event_hash).order_by(AuditEvent.seq.desc()).limit(1)
_INSERT_EVENT = insert(AuditEvent)


def last_event(session: Session) -> tuple[int, bytes | None] | None:
    """(seq, event_hash) of the newest event, or ``None`` for an empty log.

    Call under ``db.lock_for_append(session, "audit")`` so no other writer
    takes the same next number.
    """
    row = session.connection().execute(_LAST_EVENT).first()
    return (int(row[0]), row[1]) if row is not None else None


def insert_event(session: Session, values: dict[str, object]) -> None:
    """Write one event row (Core, in the session's transaction)."""
    session.connection().execute(_INSERT_EVENT, values)


def events_in_order(session: Session, *, batch: int = 5000) -> Iterator[Row[Any]]:
    """Every event by sequence number, as plain rows read in batches (memory stays flat).

    Each batch starts at the last seq already read (``>=``) and skips that
    one row, so a second row with the same seq (possible only if someone
    dropped the primary key) is still yielded for the chain check to name.
    """
    columns = AuditEvent.__table__.columns
    after = -1
    while True:
        rows = session.execute(
            select(*columns).where(AuditEvent.seq >= after).order_by(AuditEvent.seq).limit(batch)
        ).all()
        if rows and rows[0].seq == after:
            rows = rows[1:]
        if not rows:
            return
        yield from rows
        after = rows[-1].seq


class AuditCheckpoint(Base):
    """A signed statement of the log's Merkle root at one size, kept for proofs.

    ``frontier`` is the compact range at that size, so the next checkpoint
    only reads the events after it.
    """

    __tablename__ = "audit_checkpoints"

    tree_size: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    issued_at: Mapped[datetime]
    signed: Mapped[str] = mapped_column(String(2000))
    frontier: Mapped[list[str]] = mapped_column(JSON)


def latest_checkpoint(session: Session) -> AuditCheckpoint | None:
    return session.scalars(
        select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size.desc()).limit(1)
    ).first()


def event_hashes_after(
    session: Session, seq: int, *, until: int | None = None, batch: int = 10_000
) -> Iterator[bytes]:
    """The stored event hashes after ``seq`` (up to ``until``, if given), in order."""
    after = seq
    while True:
        query = select(AuditEvent.seq, AuditEvent.event_hash).where(AuditEvent.seq > after)
        if until is not None:
            query = query.where(AuditEvent.seq <= until)
        rows = session.execute(query.order_by(AuditEvent.seq).limit(batch)).all()
        if not rows:
            return
        for row in rows:
            yield row[1] or b""
        after = rows[-1][0]


class AuditTreeNode(Base):
    """The root of one perfect subtree of the Merkle tree: ``2**level`` leaves from
    ``index << level``. Kept for large subtrees (and at purge boundaries), so a proof
    reads O(log n) rows instead of every leaf."""

    __tablename__ = "audit_tree_nodes"

    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    index: Mapped[int] = mapped_column("idx", BigInt, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditPurge(Base):
    """A retention purge: events up to ``through_seq`` were deleted.

    What remains verifies from here: ``head_hash`` is the chain hash of event
    ``through_seq`` and ``frontier`` the Merkle compact range at that size,
    whose root a signed checkpoint at ``through_seq`` states. The delete
    trigger lets only events a purge row covers go.
    """

    __tablename__ = "audit_purges"

    through_seq: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=False)
    head_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    frontier: Mapped[list[str]] = mapped_column(JSON)
    cutoff: Mapped[datetime]
    purged_at: Mapped[datetime]
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))
    """The audit key's Ed25519 signature of the anchor (``audit/anchors.py``)."""


def latest_purge(session: Session) -> AuditPurge | None:
    return session.scalars(
        select(AuditPurge).order_by(AuditPurge.through_seq.desc()).limit(1)
    ).first()


def event_hashes_between(session: Session, lo: int, hi: int) -> list[bytes]:
    """Chain hashes of events ``lo < seq <= hi`` (leaves ``[lo, hi)``), in order."""
    rows = session.execute(
        select(AuditEvent.event_hash)
        .where(AuditEvent.seq > lo, AuditEvent.seq <= hi)
        .order_by(AuditEvent.seq)
    ).all()
    return [row[0] or b"" for row in rows]


def tree_node(session: Session, level: int, index: int) -> bytes | None:
    row = session.get(AuditTreeNode, (level, index))
    return row.hash if row is not None else None


def add_tree_nodes(session: Session, nodes: list[tuple[int, int, bytes]]) -> None:
    """Store subtree roots, skipping any already stored (a retried checkpoint)."""
    for level, index, hash_ in nodes:
        if session.get(AuditTreeNode, (level, index)) is None:
            session.add(AuditTreeNode(level=level, index=index, hash=hash_))
    session.flush()


def last_seq_before(session: Session, cutoff: datetime) -> int:
    """The highest seq such that it and every event before it occurred before ``cutoff``."""
    first_newer = session.scalar(
        select(func.min(AuditEvent.seq)).where(AuditEvent.occurred_at >= cutoff)
    )
    if first_newer is not None:
        return int(first_newer) - 1
    return int(session.scalar(select(func.max(AuditEvent.seq))) or 0)


def first_seq(session: Session) -> int | None:
    value = session.scalar(select(func.min(AuditEvent.seq)))
    return int(value) if value is not None else None


def checkpoint_at(session: Session, tree_size: int) -> AuditCheckpoint | None:
    return session.get(AuditCheckpoint, tree_size)


def checkpoint_below(session: Session, tree_size: int) -> AuditCheckpoint | None:
    """The largest stored checkpoint not above ``tree_size``."""
    return session.scalars(
        select(AuditCheckpoint)
        .where(AuditCheckpoint.tree_size <= tree_size)
        .order_by(AuditCheckpoint.tree_size.desc())
        .limit(1)
    ).first()


def first_unsigned_time(session: Session, signed_size: int) -> datetime | None:
    """When the first event after the last signed one happened."""
    return session.scalar(select(AuditEvent.occurred_at).where(AuditEvent.seq == signed_size + 1))


def count_events(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(AuditEvent)) or 0)
