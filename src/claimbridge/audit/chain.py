"""The hash chain over audit events: each event's hash covers the one before it.

::

    event_hash = SHA-256(b"claimbridge/audit/v1\\x00" || prev_hash || canonical)

``prev_hash`` is the previous event's ``event_hash``, or 32 zero bytes for
the first event (seq 1); ``canonical`` is ``canonical.encode_event`` of the
event's fields, which include its ``seq``. Editing an event changes its
hash; fixing up that hash breaks the next event's link; deleting,
inserting, repeating or reordering events breaks the sequence or a link.
What the chain alone cannot show is a log rewritten from the edit onwards,
hashes and all, or cut short at its tail: signed checkpoints over the
Merkle tree of the event hashes catch those (``checkpoints.py``).

``verify_chain`` raises ``ChainBroken`` naming the first event that does
not fit, and can resume from the head of an earlier verification.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from claimbridge.audit.canonical import carries_seq
from claimbridge.errors import ClaimbridgeError

# IMPORTANT: frozen format. The domain label, the genesis value and the
# order of the hashed parts fix every event hash already stored and every
# Merkle root already signed; changing them makes every existing log fail
# verification. The label keeps an event hash from ever equalling a hash
# made for another purpose over the same bytes.
DOMAIN = b"claimbridge/audit/v1\x00"
HASH_SIZE = 32
GENESIS_HASH = bytes(HASH_SIZE)

_DOMAIN_STATE = hashlib.sha256(DOMAIN)


class ChainBroken(ClaimbridgeError):
    """The events do not form one unbroken chain.

    ``seq`` (and ``where``) name the first position in the log that does not
    fit: the seq of the event due there, whatever the event found there says.
    """

    code = "audit_chain_broken"
    public_message = "The audit log has been altered."

    def __init__(self, seq: int, *, detail: str) -> None:
        super().__init__(where=f"event {seq}", detail=detail)
        self.seq = seq


@dataclass(frozen=True, slots=True)
class ChainedEvent:
    """One event as the chain sees it: its position, its bytes and its two links."""

    seq: int
    canonical: bytes
    prev_hash: bytes
    event_hash: bytes


@dataclass(frozen=True, slots=True)
class ChainHead:
    """The last event verified so far: where the next event must attach."""

    seq: int
    event_hash: bytes


GENESIS = ChainHead(seq=0, event_hash=GENESIS_HASH)
"""The head of an empty log."""


def hash_event(prev_hash: bytes, canonical: bytes) -> bytes:
    """The chain hash of an event with ``canonical`` bytes after ``prev_hash``."""
    digest = _DOMAIN_STATE.copy()
    digest.update(prev_hash)
    digest.update(canonical)
    return digest.digest()


def link(head: ChainHead, canonical: bytes) -> ChainedEvent:
    """The event that follows ``head``: what a writer stores when it appends."""
    seq = head.seq + 1
    if not carries_seq(canonical, seq):
        raise ChainBroken(seq, detail="the canonical bytes do not carry the next seq")
    return ChainedEvent(
        seq=seq,
        canonical=canonical,
        prev_hash=head.event_hash,
        event_hash=hash_event(head.event_hash, canonical),
    )


def verify_chain(events: Iterable[ChainedEvent], *, since: ChainHead = GENESIS) -> ChainHead:
    """Check that ``events`` continue the chain from ``since``; return the new head.

    ``since`` is the genesis for a whole log, or the head returned by an
    earlier verification (kept by the verifier, not taken from the server)
    to check only what came after it. Raises ``ChainBroken`` at the first
    event that is out of sequence, does not carry its own seq, does not
    link to its predecessor, or whose hash does not match its content.
    """
    seq, prev = since.seq, since.event_hash
    # Locals for the loop: this runs once per event over millions of events.
    state, marker = _DOMAIN_STATE, carries_seq
    for event in events:
        seq += 1
        if event.seq != seq:
            # Name the position that breaks (the seq due there), not the
            # number found, which is the very thing that may have been altered.
            raise ChainBroken(seq, detail=_gap(seq, event.seq))
        if not marker(event.canonical, seq):
            raise ChainBroken(seq, detail="the canonical bytes carry another seq")
        # Plain comparisons: hashes in an audit log are public, so timing leaks nothing.
        if event.prev_hash != prev:
            raise ChainBroken(seq, detail="prev_hash does not link to the event before")
        digest = state.copy()
        digest.update(prev)
        digest.update(event.canonical)
        prev = digest.digest()
        if event.event_hash != prev:
            raise ChainBroken(seq, detail="event_hash does not match the event's content")
    return ChainHead(seq=seq, event_hash=prev)


def _gap(expected: int, found: int) -> str:
    if found < expected:
        return f"seq {found} repeats or goes back; expected {expected}"
    return f"seq {found} skips ahead; expected {expected}"
