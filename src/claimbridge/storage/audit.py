"""The audit event table.

Events carry no PHI values: the patient reference is a keyed HMAC. The
chain columns (``prev_hash``, ``event_hash``) are filled by ``audit/``;
the append-only triggers and the Merkle tree come with it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Index, LargeBinary, String, select
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


def last_event(session: Session) -> tuple[int, bytes | None] | None:
    """(seq, event_hash) of the newest event, or ``None`` for an empty log.

    Call under ``db.lock_for_append(session, "audit")`` so no other writer
    takes the same next number.
    """
    row = session.execute(
        select(AuditEvent.seq, AuditEvent.event_hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    return (int(row[0]), row[1]) if row is not None else None


def events_in_order(session: Session, *, batch: int = 5000) -> Iterator[AuditEvent]:
    """Every event by sequence number, read in batches so memory stays flat."""
    after = 0
    while True:
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.seq > after).order_by(AuditEvent.seq).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        after = rows[-1].seq
        session.expunge_all()


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


def event_hashes_after(session: Session, seq: int, *, batch: int = 10_000) -> Iterator[bytes]:
    """The stored event hashes after ``seq``, in order."""
    after = seq
    while True:
        rows = session.execute(
            select(AuditEvent.seq, AuditEvent.event_hash)
            .where(AuditEvent.seq > after)
            .order_by(AuditEvent.seq)
            .limit(batch)
        ).all()
        if not rows:
            return
        for row in rows:
            yield row[1] or b""
        after = rows[-1][0]
