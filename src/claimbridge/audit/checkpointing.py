"""Issuing signed checkpoints over the stored log, and checking them.

A checkpoint signs (log id, tree size, Merkle root, time) with the
server's audit key. A practice that saves checkpoints off the server can
later show that the log it is shown extends them: nothing rewritten,
truncated or rolled back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from claimbridge.audit.anchors import Anchor, verify_anchor
from claimbridge.audit.checkpoints import (
    Checkpoint,
    CheckpointForged,
    LogRewritten,
    LogTruncated,
    SignedCheckpoint,
    format_checkpoint,
    parse_checkpoint,
    sign_checkpoint,
    verify_checkpoint,
)
from claimbridge.audit.merkle import CompactRange
from claimbridge.audit.treestore import extend_tree
from claimbridge.crypto.signing import SigningKey
from claimbridge.errors import ValidationFailed
from claimbridge.storage.audit import (
    AuditCheckpoint,
    checkpoint_at,
    checkpoint_below,
    event_hashes_after,
    first_unsigned_time,
    last_event,
    latest_checkpoint,
    latest_purge,
)
from claimbridge.storage.db import lock_for_append

LOG_ID = "claimbridge/audit"


@dataclass(frozen=True, slots=True)
class CheckpointSchedule:
    """Sign a checkpoint once ``every_events`` events are unsigned, or once the
    oldest unsigned event is ``every_seconds`` old (whichever comes first)."""

    every_events: int
    every_seconds: int


def issue_checkpoint(session: Session, key: SigningKey, *, now: datetime) -> SignedCheckpoint:
    """Sign the log as it stands (a no-op returning the last one if nothing was added)."""
    lock_for_append(session, "audit")
    last = last_event(session)
    return _sign_at(session, key, last[0] if last else 0, now=now)


def issue_checkpoint_at(
    session: Session, key: SigningKey, tree_size: int, *, now: datetime
) -> SignedCheckpoint:
    """Sign the tree of the first ``tree_size`` events (for a purge's anchor)."""
    lock_for_append(session, "audit")
    return _sign_at(session, key, tree_size, now=now)


def checkpoint_if_due(
    session: Session, key: SigningKey, schedule: CheckpointSchedule, *, now: datetime
) -> SignedCheckpoint | None:
    """Issue a checkpoint when ``schedule`` says one is due; else ``None``."""
    previous = latest_checkpoint(session)
    signed_size = previous.tree_size if previous is not None else 0
    last = last_event(session)
    size = last[0] if last else 0
    if size <= signed_size:
        return None
    oldest = first_unsigned_time(session, signed_size)
    overdue = oldest is not None and now - oldest >= timedelta(seconds=schedule.every_seconds)
    if size - signed_size < schedule.every_events and not overdue:
        return None
    return issue_checkpoint(session, key, now=now)


def _sign_at(session: Session, key: SigningKey, size: int, *, now: datetime) -> SignedCheckpoint:
    existing = checkpoint_at(session, size)
    if existing is not None:
        return parse_checkpoint(existing.signed)
    tree = _tree_below(session, size)
    extend_tree(session, tree, event_hashes_after(session, tree.size, until=size))
    if tree.size != size:
        raise LogTruncated(where=f"event {tree.size + 1}", detail=f"no tree of {size} events")
    signed = sign_checkpoint(
        Checkpoint(tree_size=size, root_hash=tree.root(), issued_at=now, log_id=LOG_ID), key
    )
    session.add(
        AuditCheckpoint(
            tree_size=size,
            root_hash=tree.root(),
            issued_at=now,
            signed=format_checkpoint(signed),
            frontier=[h.hex() for h in tree.frontier],
        )
    )
    session.flush()
    return signed


def _tree_below(session: Session, size: int) -> CompactRange:
    """The compact range of the largest stored tree not above ``size`` to build from."""
    start = checkpoint_below(session, size)
    purge = latest_purge(session)
    if start is not None and (purge is None or start.tree_size >= purge.through_seq):
        return CompactRange.from_frontier(
            start.tree_size, [bytes.fromhex(h) for h in start.frontier]
        )
    if purge is not None:
        return CompactRange.from_frontier(
            purge.through_seq, [bytes.fromhex(h) for h in purge.frontier]
        )
    return CompactRange()


def check_stored_checkpoints(session: Session, public_key: bytes) -> int:
    """Every stored checkpoint is signed by ``public_key`` and matches the events.

    After a retention purge the tree is rebuilt from the purge's anchor,
    which a checkpoint at exactly its size must sign; checkpoints older
    than the anchor are checked for their signature only. Raises
    ``CheckpointForged``, ``LogRewritten`` or ``LogTruncated`` naming the
    checkpoint; returns how many were checked.
    """
    rows = session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size)).all()
    tree = anchor_tree(session)
    hashes = iter(event_hashes_after(session, tree.size))
    for row in rows:
        trusted = _trusted(row, public_key)
        if trusted.tree_size < tree.size:
            continue
        while tree.size < trusted.tree_size:
            event_hash = next(hashes, None)
            if event_hash is None:
                raise LogTruncated(
                    where=f"event {tree.size + 1}",
                    detail=f"checkpoint at {trusted.tree_size} covers more than the log holds",
                )
            tree.append(event_hash)
        if tree.root() != trusted.root_hash:
            raise LogRewritten(
                where=f"checkpoint {trusted.tree_size}",
                detail="the events no longer hash to the signed root",
            )
        if row.frontier != [h.hex() for h in tree.frontier]:
            # The next checkpoint is built from this frontier: a wrong one
            # would have the server sign a wrong root later.
            raise LogRewritten(
                where=f"checkpoint {trusted.tree_size}", detail="the stored frontier was changed"
            )
    _require_signed_anchor(session, rows, public_key)
    return len(rows)


def _trusted(row: AuditCheckpoint, public_key: bytes) -> Checkpoint:
    """The row's checkpoint, if signed by ``public_key`` and stored as signed."""
    where = f"checkpoint {row.tree_size}"
    try:
        trusted = verify_checkpoint(parse_checkpoint(row.signed), public_key)
    except CheckpointForged as error:
        raise CheckpointForged(error.message, where=where, detail=error.detail) from None
    if trusted.tree_size != row.tree_size or trusted.root_hash != row.root_hash:
        raise CheckpointForged(where=where, detail="the row disagrees with its signed text")
    return trusted


def anchor_tree(session: Session) -> CompactRange:
    """Where the stored log's tree starts: empty, or the last purge's compact range."""
    purge = latest_purge(session)
    if purge is None:
        return CompactRange()
    try:
        frontier = [bytes.fromhex(h) for h in purge.frontier]
        return CompactRange.from_frontier(purge.through_seq, frontier)
    except (ValueError, TypeError, ValidationFailed):
        raise LogRewritten(
            where=f"purge anchor {purge.through_seq}", detail="the anchor's frontier is damaged"
        ) from None


def _require_signed_anchor(
    session: Session, rows: Sequence[AuditCheckpoint], public_key: bytes
) -> None:
    purge = latest_purge(session)
    if purge is None:
        return
    if purge.through_seq not in {row.tree_size for row in rows}:
        raise LogTruncated(
            where=f"events 1..{purge.through_seq}",
            detail="events were removed without a signed checkpoint at the purge point",
        )
    anchor = Anchor(
        through_seq=purge.through_seq,
        head_hash=purge.head_hash,
        frontier=tuple(purge.frontier),
        cutoff=purge.cutoff,
        purged_at=purge.purged_at,
    )
    verify_anchor(anchor, purge.signature, public_key)
