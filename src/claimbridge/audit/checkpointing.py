"""Issuing signed checkpoints over the stored log, and checking them.

A checkpoint signs (log id, tree size, Merkle root, time) with the
server's audit key. A practice that saves checkpoints off the server can
later show that the log it is shown extends them: nothing rewritten,
truncated or rolled back.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from claimbridge.audit.checkpoints import (
    Checkpoint,
    LogRewritten,
    LogTruncated,
    SignedCheckpoint,
    format_checkpoint,
    parse_checkpoint,
    sign_checkpoint,
    verify_checkpoint,
)
from claimbridge.audit.merkle import CompactRange
from claimbridge.crypto.signing import SigningKey
from claimbridge.storage.audit import (
    AuditCheckpoint,
    event_hashes_after,
    last_event,
    latest_checkpoint,
)
from claimbridge.storage.db import lock_for_append

LOG_ID = "claimbridge/audit"


def issue_checkpoint(session: Session, key: SigningKey, *, now: datetime) -> SignedCheckpoint:
    """Sign the log as it stands (a no-op returning the last one if nothing was added)."""
    lock_for_append(session, "audit")
    previous = latest_checkpoint(session)
    last = last_event(session)
    size = last[0] if last else 0
    if previous is not None and previous.tree_size == size:
        return parse_checkpoint(previous.signed)
    tree = (
        CompactRange.from_frontier(
            previous.tree_size, [bytes.fromhex(h) for h in previous.frontier]
        )
        if previous is not None
        else CompactRange()
    )
    tree.extend(event_hashes_after(session, tree.size))
    signed = sign_checkpoint(
        Checkpoint(tree_size=tree.size, root_hash=tree.root(), issued_at=now, log_id=LOG_ID), key
    )
    session.add(
        AuditCheckpoint(
            tree_size=tree.size,
            root_hash=tree.root(),
            issued_at=now,
            signed=format_checkpoint(signed),
            frontier=[h.hex() for h in tree.frontier],
        )
    )
    session.flush()
    return signed


def check_stored_checkpoints(session: Session, public_key: bytes) -> int:
    """Every stored checkpoint is signed by ``public_key`` and matches the events.

    Raises ``CheckpointForged``, ``LogRewritten`` or ``LogTruncated``
    naming the checkpoint; returns how many were checked.
    """
    rows = session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size)).all()
    tree = CompactRange()
    hashes = iter(event_hashes_after(session, 0))
    for row in rows:
        trusted = verify_checkpoint(parse_checkpoint(row.signed), public_key)
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
    return len(rows)
