"""Proof bundles: what the server hands a practice, and how the practice checks them.

A bundle is one JSON object a practice can save and check later with
nothing but the server's audit public key (``claimbridge audit
verify-proof``). Nothing in it is trusted until checked against a signed
checkpoint.

Inclusion (``claimbridge/audit/inclusion/v1``): event ``seq`` is in the
log the checkpoint signs::

    {"format": "claimbridge/audit/inclusion/v1",
     "checkpoint": "<signed checkpoint text>",
     "seq": 42,
     "canonical": "<the event's canonical JSON, as hashed>",
     "prev_hash": "<hex chain hash of event seq - 1>",
     "path": ["<hex>", ...]}

The verifier recomputes the event's chain hash from ``prev_hash`` and the
canonical bytes (which carry ``seq``), its leaf hash, and the audit path
up to the signed root (RFC 9162 section 2.1.3.2).

Consistency (``claimbridge/audit/consistency/v1``): the log at the new
checkpoint extends the log at the old one (RFC 9162 section 2.1.4.2)::

    {"format": "claimbridge/audit/consistency/v1",
     "old": "<signed checkpoint text>", "new": "<signed checkpoint text>",
     "path": ["<hex>", ...]}

A practice passes the checkpoint it saved itself as ``saved``: the bundle's
own old checkpoint (or, for inclusion, its checkpoint) must then be the
same tree, so a server cannot prove consistency with a history it made up.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from claimbridge.audit.canonical import carries_seq
from claimbridge.audit.chain import hash_event
from claimbridge.audit.checkpoints import (
    Checkpoint,
    LogRewritten,
    SignedCheckpoint,
    format_checkpoint,
    parse_checkpoint,
    verify_checkpoint,
    verify_saved,
)
from claimbridge.audit.merkle import HASH_SIZE, ProofInvalid, leaf_hash, verify_inclusion
from claimbridge.errors import ValidationFailed

INCLUSION_FORMAT = "claimbridge/audit/inclusion/v1"
CONSISTENCY_FORMAT = "claimbridge/audit/consistency/v1"
MAX_PATH = 64
MAX_BUNDLE_BYTES = 64 * 1024


class ProofMalformed(ValidationFailed):
    """A proof bundle that is not in the documented form."""

    code = "audit_proof_malformed"
    public_message = "The proof file is not a claimbridge audit proof."


@dataclass(frozen=True, slots=True)
class InclusionProof:
    checkpoint: SignedCheckpoint
    seq: int
    canonical: bytes
    prev_hash: bytes
    path: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class ConsistencyProof:
    old: SignedCheckpoint
    new: SignedCheckpoint
    path: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class ProvedEvent:
    """What a verified inclusion proof establishes."""

    checkpoint: Checkpoint
    seq: int
    event_hash: bytes
    event: dict[str, Any]


Proof = InclusionProof | ConsistencyProof


def dump_proof(proof: Proof) -> str:
    """The bundle as JSON text (sorted keys, one line)."""
    if isinstance(proof, InclusionProof):
        body: dict[str, Any] = {
            "format": INCLUSION_FORMAT,
            "checkpoint": format_checkpoint(proof.checkpoint),
            "seq": proof.seq,
            "canonical": proof.canonical.decode("utf-8"),
            "prev_hash": proof.prev_hash.hex(),
            "path": [h.hex() for h in proof.path],
        }
    else:
        body = {
            "format": CONSISTENCY_FORMAT,
            "old": format_checkpoint(proof.old),
            "new": format_checkpoint(proof.new),
            "path": [h.hex() for h in proof.path],
        }
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def load_proof(text: str | bytes) -> Proof:
    """Read a bundle, strictly; raises ``ProofMalformed`` naming the field."""
    if len(text) > MAX_BUNDLE_BYTES:
        raise ProofMalformed(where="proof", detail="larger than any proof")
    try:
        body = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        raise ProofMalformed(where="proof", detail="not JSON") from None
    if not isinstance(body, dict):
        raise ProofMalformed(where="proof", detail="not a JSON object")
    kind = body.get("format")
    if kind == INCLUSION_FORMAT:
        return _load_inclusion(body)
    if kind == CONSISTENCY_FORMAT:
        return ConsistencyProof(
            old=_checkpoint(body, "old"), new=_checkpoint(body, "new"), path=_path(body)
        )
    raise ProofMalformed(where="format", detail="not a known proof format")


def verify_inclusion_proof(
    proof: InclusionProof, public_key: bytes, *, saved: SignedCheckpoint | None = None
) -> ProvedEvent:
    """Check that the event is leaf ``seq - 1`` of the signed tree; return it."""
    trusted = verify_checkpoint(proof.checkpoint, public_key)
    if saved is not None:
        _same_tree(verify_checkpoint(saved, public_key), trusted, where="checkpoint")
    if not carries_seq(proof.canonical, proof.seq):
        raise ProofInvalid(where="canonical", detail="the event does not carry this seq")
    event_hash = hash_event(proof.prev_hash, proof.canonical)
    try:
        verify_inclusion(
            leaf_hash(event_hash), proof.seq - 1, trusted.tree_size, proof.path, trusted.root_hash
        )
    except ProofInvalid as error:
        raise ProofInvalid(where=f"event {proof.seq}", detail=error.detail) from None
    return ProvedEvent(
        checkpoint=trusted, seq=proof.seq, event_hash=event_hash, event=_event(proof.canonical)
    )


def verify_consistency_proof(
    proof: ConsistencyProof, public_key: bytes, *, saved: SignedCheckpoint | None = None
) -> Checkpoint:
    """Check that the new checkpoint's log extends the old one's; return the new one."""
    old = proof.old
    if saved is not None:
        _same_tree(verify_checkpoint(saved, public_key), proof.old.checkpoint, where="old")
        old = saved
    try:
        return verify_saved(old, proof.new, proof.path, public_key)
    except ProofInvalid as error:
        raise ProofInvalid(
            where=f"sizes {old.checkpoint.tree_size}..{proof.new.checkpoint.tree_size}",
            detail=error.detail,
        ) from None


def _same_tree(saved: Checkpoint, offered: Checkpoint, *, where: str) -> None:
    if saved.log_id != offered.log_id or saved.tree_size != offered.tree_size:
        raise ProofInvalid(where=where, detail="the proof is not about the saved checkpoint")
    if saved.root_hash != offered.root_hash:
        raise LogRewritten(
            where=f"size {saved.tree_size}", detail="the saved checkpoint has another root"
        )


def _load_inclusion(body: dict[str, Any]) -> InclusionProof:
    seq = body.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        raise ProofMalformed(where="seq", detail="not a positive integer")
    canonical = body.get("canonical")
    if not isinstance(canonical, str):
        raise ProofMalformed(where="canonical", detail="not a string")
    return InclusionProof(
        checkpoint=_checkpoint(body, "checkpoint"),
        seq=seq,
        canonical=canonical.encode("utf-8"),
        prev_hash=_hash(body.get("prev_hash"), where="prev_hash"),
        path=_path(body),
    )


def _checkpoint(body: dict[str, Any], name: str) -> SignedCheckpoint:
    text = body.get(name)
    if not isinstance(text, str):
        raise ProofMalformed(where=name, detail="not a checkpoint text")
    return parse_checkpoint(text)


def _path(body: dict[str, Any]) -> tuple[bytes, ...]:
    path = body.get("path")
    if not isinstance(path, list) or len(path) > MAX_PATH:
        raise ProofMalformed(where="path", detail="not a list of at most 64 hashes")
    return tuple(_hash(h, where=f"path[{i}]") for i, h in enumerate(path))


def _hash(value: object, *, where: str) -> bytes:
    if not isinstance(value, str) or len(value) != 2 * HASH_SIZE:
        raise ProofMalformed(where=where, detail="not 64 hex digits")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise ProofMalformed(where=where, detail="not 64 hex digits") from None


def _event(canonical: bytes) -> dict[str, Any]:
    try:
        event = json.loads(canonical)
    except ValueError:
        raise ProofInvalid(where="canonical", detail="not JSON") from None
    if not isinstance(event, dict):
        raise ProofInvalid(where="canonical", detail="not a JSON object")
    return event


def path_hex(path: Sequence[bytes]) -> list[str]:
    return [h.hex() for h in path]
