"""Signed purge anchors: the server's signed word that a retention purge happened.

A purge deletes the oldest events and leaves an anchor (the chain hash of
the last purged event and the Merkle compact range there) that the rest
of the log verifies from. Someone who can write the database could
insert an anchor of their own and delete events behind it; so the anchor
is signed with the audit key, like a checkpoint, and a verifier refuses
an anchor whose signature does not verify.

The signed bytes, version 1, are a domain label and one line of
canonical JSON (``canonical.encode_fields``)::

    b"claimbridge/audit/purge/v1\\x00" ||
    {"cutoff":"...Z","frontier":["hex",...],"head_hash":"hex",
     "purged_at":"...Z","through_seq":3000}
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from claimbridge.audit.canonical import encode_instant
from claimbridge.audit.checkpoints import LogTruncated
from claimbridge.crypto.errors import SignatureInvalid
from claimbridge.crypto.signing import SigningKey, verify

# IMPORTANT: frozen format; stored anchors are verified over exactly these bytes.
SIGNATURE_DOMAIN = b"claimbridge/audit/purge/v1\x00"


@dataclass(frozen=True, slots=True)
class Anchor:
    """Where the log verifies from after a purge of events ``1..through_seq``."""

    through_seq: int
    head_hash: bytes
    frontier: tuple[str, ...]
    cutoff: datetime
    purged_at: datetime

    def encode(self) -> bytes:
        body = {
            "cutoff": encode_instant(self.cutoff),
            "frontier": list(self.frontier),
            "head_hash": self.head_hash.hex(),
            "purged_at": encode_instant(self.purged_at),
            "through_seq": self.through_seq,
        }
        return SIGNATURE_DOMAIN + json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def sign_anchor(anchor: Anchor, key: SigningKey) -> bytes:
    return key.sign(anchor.encode())


def verify_anchor(anchor: Anchor, signature: bytes, public_key: bytes) -> None:
    """Raise ``LogTruncated`` naming the purged range unless the audit key signed ``anchor``."""
    try:
        verify(public_key, anchor.encode(), signature)
    except (SignatureInvalid, ValueError):
        raise LogTruncated(
            where=f"events 1..{anchor.through_seq}",
            detail="events were removed behind a purge anchor the audit key did not sign",
        ) from None
