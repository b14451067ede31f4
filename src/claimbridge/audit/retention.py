"""Retention: purging events older than the retention period, verifiably.

HIPAA asks for six years of audit records (45 CFR 164.316(b)(2)); after
that, keeping them only adds risk. A purge deletes the oldest events,
all of them older than the cutoff, and leaves the rest verifiable:

1. a signed checkpoint is issued at exactly the last purged event, so the
   tree the purged events made is signed before they go;
2. an ``AuditPurge`` row records that size, the chain hash of the last
   purged event and the Merkle compact range there, signed with the audit
   key (``anchors.py``): the anchor the rest of the log verifies from
   (the delete trigger lets only events a purge row covers go, and a
   verifier refuses an anchor the audit key did not sign);
3. the subtree roots of that compact range are stored, so inclusion and
   consistency proofs for the events that remain still work;
4. the events go, and the purge itself is appended as an event.

All in one transaction: a purge happens whole or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from claimbridge.audit.anchors import Anchor, sign_anchor
from claimbridge.audit.checkpointing import issue_checkpoint_at
from claimbridge.audit.merkle import CompactRange
from claimbridge.audit.record import Actor, Event, record
from claimbridge.audit.treestore import store_frontier
from claimbridge.crypto.signing import SigningKey
from claimbridge.errors import ValidationFailed
from claimbridge.storage.audit import (
    AuditEvent,
    AuditPurge,
    checkpoint_at,
    event_hashes_between,
    first_seq,
    last_seq_before,
)
from claimbridge.storage.db import lock_for_append


@dataclass(frozen=True, slots=True)
class Purged:
    through_seq: int
    events: int
    cutoff: datetime


def purge_before(
    session: Session,
    key: SigningKey,
    *,
    retention: timedelta,
    now: datetime,
    actor: Actor,
) -> Purged:
    """Delete every event older than ``now - retention``; audited, the rest verifiable."""
    if retention < timedelta(days=1):
        raise ValidationFailed("The retention period must be at least a day.", where="retention")
    lock_for_append(session, "audit")
    cutoff = now - retention
    start = (first_seq(session) or 1) - 1
    through = last_seq_before(session, cutoff)
    if through <= start:
        return Purged(through_seq=start, events=0, cutoff=cutoff)
    issue_checkpoint_at(session, key, through, now=now)
    anchor = checkpoint_at(session, through)
    if anchor is None:  # pragma: no cover - issued just above
        raise ValidationFailed(where="audit_checkpoints", detail="the anchor was not stored")
    tree = CompactRange.from_frontier(through, [bytes.fromhex(h) for h in anchor.frontier])
    store_frontier(session, tree)
    signed = Anchor(
        through_seq=through,
        head_hash=event_hashes_between(session, through - 1, through)[0],
        frontier=tuple(anchor.frontier),
        cutoff=cutoff,
        purged_at=now,
    )
    session.add(
        AuditPurge(
            through_seq=through,
            head_hash=signed.head_hash,
            frontier=list(signed.frontier),
            cutoff=cutoff,
            purged_at=now,
            signature=sign_anchor(signed, key),
        )
    )
    session.flush()
    session.execute(delete(AuditEvent).where(AuditEvent.seq <= through))
    record(
        session,
        Event(
            action="audit:log:purged",
            resource_type="audit_log",
            resource_id=f"{start + 1}..{through}",
            purpose="operations",
            actor=actor,
        ),
        now=now,
    )
    return Purged(through_seq=through, events=through - start, cutoff=cutoff)
