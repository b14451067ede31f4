"""Verifying the stored log: recompute every event's canonical bytes and chain hash.

Names the first event that does not fit (``ChainBroken``), reading the log
in sequence order in batches, so memory stays flat however long it is.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy.orm import Session

from claimbridge.audit.canonical import encode_event
from claimbridge.audit.chain import (
    GENESIS,
    GENESIS_HASH,
    ChainBroken,
    ChainedEvent,
    ChainHead,
    verify_chain,
)
from claimbridge.audit.checkpointing import check_stored_checkpoints
from claimbridge.audit.record import event_fields
from claimbridge.storage.audit import count_events, events_in_order, latest_purge


@dataclass(frozen=True, slots=True)
class Verified:
    events: int
    head_hash: str
    checkpoints: int


def verify_stored_log(session: Session, *, public_key: bytes | None = None) -> Verified:
    """The chain, and with the audit public key every stored checkpoint too."""
    start = _chain_anchor(session)
    head: ChainHead = verify_chain(_chained(session), since=start)
    stored = count_events(session)
    if stored != head.seq - start.seq:
        # Rows the ordered read did not visit: two rows with one seq.
        raise ChainBroken(head.seq, detail=f"{stored} rows for {head.seq - start.seq} events")
    checked = check_stored_checkpoints(session, public_key) if public_key is not None else 0
    return Verified(events=head.seq, head_hash=head.event_hash.hex(), checkpoints=checked)


def _chain_anchor(session: Session) -> ChainHead:
    """Where the stored chain starts: the genesis, or the last purge's anchor."""
    purge = latest_purge(session)
    return ChainHead(purge.through_seq, purge.head_hash) if purge is not None else GENESIS


def _chained(session: Session) -> Iterator[ChainedEvent]:
    for row in events_in_order(session):
        yield ChainedEvent(
            seq=row.seq,
            canonical=encode_event(event_fields(row)),
            prev_hash=row.prev_hash or GENESIS_HASH,
            event_hash=row.event_hash or b"",
        )
