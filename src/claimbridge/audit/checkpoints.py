"""Signed checkpoints: the server's signed word on the size and root of its audit log.

A practice saves a checkpoint now and another later. With nothing but the
server's Ed25519 public key it can then prove that the later log extends
the earlier one, unchanged (``verify_saved``), or check a copy of the
events themselves against a checkpoint (``verify_log``).

The text form, version 1, follows the C2SP tlog-checkpoint "signed note"
layout (https://c2sp.org/tlog-checkpoint): a body of origin, size and
base64 root, a blank line, then a signature line::

    clinic-0001.claimbridge/audit
    8
    XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=
    issued-at 2025-01-02T03:04:05.000006Z

    — claimbridge/audit/checkpoint/v1 AAECAwQF...

- line 1, the log id (the origin): ``[A-Za-z0-9][A-Za-z0-9._:/-]*``, at
  most 255 characters;
- line 2, the tree size in decimal, no leading zeros;
- line 3, the Merkle root (``merkle.py``), standard base64 with padding;
- line 4, an extension line: when the checkpoint was issued, RFC 3339 UTC
  with microseconds and ``Z``;
- every line ends in ``\\n``; the body is ASCII;
- the signature line: an em dash (U+2014), a space, the key name
  ``claimbridge/audit/checkpoint/v1``, a space, and base64 of a 4-byte key
  id followed by the 64-byte Ed25519 signature. The key id is, as in C2SP,
  ``SHA-256(key name || "\\n" || 0x01 || public key)[:4]``: it tells which
  key signed (after a rotation) but proves nothing by itself.

Unlike a C2SP note, the signature is over a domain label and the body,
``b"claimbridge/audit/checkpoint/v1\\x00" || body``, so that no signature
made by the same key for a receipt or a certificate can pass for a
checkpoint, or the other way round. Parsing is strict: a text that does
not re-encode to exactly itself is refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from claimbridge.audit.canonical import UnencodableValue, encode_instant
from claimbridge.audit.chain import GENESIS, ChainedEvent, ChainHead, verify_chain
from claimbridge.audit.merkle import (
    HASH_SIZE,
    LEAF_PREFIX,
    CompactRange,
    verify_consistency,
)
from claimbridge.crypto.errors import SignatureInvalid
from claimbridge.crypto.signing import SIGNATURE_SIZE, SigningKey, verify
from claimbridge.errors import ClaimbridgeError, ValidationFailed

# IMPORTANT: frozen format. Practices keep checkpoints in this text form
# and check their signatures over exactly these bytes. Changing the label,
# the key name, the line layout or the encodings makes every saved
# checkpoint unverifiable; a new layout needs a new version label, and
# verifiers that keep reading v1.
SIGNATURE_DOMAIN = b"claimbridge/audit/checkpoint/v1\x00"
KEY_NAME = "claimbridge/audit/checkpoint/v1"
SIGNATURE_MARK = "\u2014 "
ISSUED_AT_PREFIX = "issued-at "
KEY_ID_SIZE = 4
MAX_TREE_SIZE = 2**63 - 1
MAX_TEXT_LENGTH = 1024

_LOG_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,254}")
_SIZE = re.compile(r"0|[1-9][0-9]{0,18}")
_INSTANT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z")


class CheckpointForged(ClaimbridgeError):
    """A checkpoint's signature does not verify under the log's public key."""

    code = "audit_checkpoint_forged"
    public_message = "The audit checkpoint is not authentic."


class CheckpointMalformed(CheckpointForged):
    """A checkpoint cannot be read; a verifier must trust it no more than a forged one."""

    code = "audit_checkpoint_malformed"
    public_message = "The audit checkpoint is not in the expected form."


class LogTruncated(ClaimbridgeError):
    """The log is shorter than a checkpoint the server already signed.

    Events were cut from its tail, or an older state of the log is being
    passed off as the current one (a rollback).
    """

    code = "audit_log_truncated"
    public_message = "The audit log is shorter than a checkpoint it signed."


class LogRewritten(ClaimbridgeError):
    """The events, or a second signed checkpoint, disagree with a signed root."""

    code = "audit_log_rewritten"
    public_message = "The audit log does not match a checkpoint it signed."


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The size and Merkle root of the log ``log_id`` at ``issued_at``."""

    tree_size: int
    root_hash: bytes
    issued_at: datetime
    log_id: str

    def __post_init__(self) -> None:
        if not _LOG_ID.fullmatch(self.log_id):
            raise CheckpointMalformed(where="log_id", detail="not a valid log id")
        if not 0 <= self.tree_size <= MAX_TREE_SIZE:
            raise CheckpointMalformed(where="tree_size", detail="outside 0 .. 2**63 - 1")
        if not isinstance(self.root_hash, bytes) or len(self.root_hash) != HASH_SIZE:
            raise CheckpointMalformed(where="root_hash", detail="not 32 bytes")
        try:
            encode_instant(self.issued_at)
        except UnencodableValue:
            raise CheckpointMalformed(where="issued_at", detail="not an aware instant") from None


@dataclass(frozen=True, slots=True)
class SignedCheckpoint:
    checkpoint: Checkpoint
    key_id: bytes
    signature: bytes


@dataclass(frozen=True, slots=True)
class LogState:
    """How far a verifier got: the chain head and the Merkle frontier at that size.

    The verifier keeps it (it is derived from events it checked) to resume
    with ``verify_log(..., since=state)`` instead of reading the log again.
    """

    head: ChainHead
    frontier: tuple[bytes, ...]

    def __post_init__(self) -> None:
        CompactRange.from_frontier(self.head.seq, self.frontier)  # raises if they disagree

    @property
    def size(self) -> int:
        return self.head.seq

    def root(self) -> bytes:
        return CompactRange.from_frontier(self.size, self.frontier).root()


EMPTY_LOG = LogState(head=GENESIS, frontier=())


def key_id(public_key_bytes: bytes) -> bytes:
    """The C2SP-style 4-byte id of a checkpoint signing key."""
    named = KEY_NAME.encode("ascii") + b"\n\x01" + public_key_bytes
    return hashlib.sha256(named).digest()[:KEY_ID_SIZE]


def encode_body(checkpoint: Checkpoint) -> bytes:
    """The body of the note: the four lines the signature covers."""
    root_b64 = base64.b64encode(checkpoint.root_hash).decode("ascii")
    lines = (
        checkpoint.log_id,
        str(checkpoint.tree_size),
        root_b64,
        ISSUED_AT_PREFIX + encode_instant(checkpoint.issued_at),
    )
    return "".join(f"{line}\n" for line in lines).encode("ascii")


def sign_checkpoint(checkpoint: Checkpoint, key: SigningKey) -> SignedCheckpoint:
    signature = key.sign(SIGNATURE_DOMAIN + encode_body(checkpoint))
    return SignedCheckpoint(
        checkpoint=checkpoint, key_id=key_id(key.public_key_bytes()), signature=signature
    )


def verify_checkpoint(signed: SignedCheckpoint, public_key_bytes: bytes) -> Checkpoint:
    """The checkpoint, if ``public_key_bytes`` signed it; else ``CheckpointForged``."""
    if signed.key_id != key_id(public_key_bytes):
        raise CheckpointForged(detail="signed by another key")
    message = SIGNATURE_DOMAIN + encode_body(signed.checkpoint)
    try:
        verify(public_key_bytes, message, signed.signature)
    except SignatureInvalid:
        raise CheckpointForged(detail="the signature does not verify") from None
    return signed.checkpoint


def format_checkpoint(signed: SignedCheckpoint) -> str:
    """The text a practice saves."""
    body = encode_body(signed.checkpoint).decode("ascii")
    blob = base64.b64encode(signed.key_id + signed.signature).decode("ascii")
    return f"{body}\n{SIGNATURE_MARK}{KEY_NAME} {blob}\n"


def parse_checkpoint(text: str) -> SignedCheckpoint:
    """Read a saved checkpoint, strictly. Does not check the signature."""
    if len(text) > MAX_TEXT_LENGTH:
        raise CheckpointMalformed(detail="longer than any checkpoint")
    lines = text.split("\n")
    # Four body lines, a blank line, the signature line, and "" after its "\n".
    if len(lines) != 7 or lines[4] or lines[6]:
        raise CheckpointMalformed(detail="not four lines, a blank line and a signature line")
    checkpoint = Checkpoint(
        log_id=_parse_log_id(lines[0]),
        tree_size=_parse_size(lines[1]),
        root_hash=_parse_root(lines[2]),
        issued_at=_parse_issued_at(lines[3]),
    )
    key, signature = _parse_signature_line(lines[5])
    signed = SignedCheckpoint(checkpoint=checkpoint, key_id=key, signature=signature)
    if format_checkpoint(signed) != text:
        raise CheckpointMalformed(detail="not in canonical form")
    return signed


def verify_saved(
    old_checkpoint: SignedCheckpoint,
    new_checkpoint: SignedCheckpoint,
    consistency_proof: Sequence[bytes],
    public_key: bytes,
) -> Checkpoint:
    """Prove that the log of ``new_checkpoint`` extends that of ``old_checkpoint``.

    What a practice runs with two checkpoints it saved, the consistency
    proof the server gives between them, and the server's public key:
    both signatures must verify, both must name the same log, the log must
    not have shrunk, and the proof must show the old tree is a prefix of
    the new one. Nothing the server says is trusted beyond what is signed.
    Returns the (verified) new checkpoint.
    """
    old = verify_checkpoint(old_checkpoint, public_key)
    new = verify_checkpoint(new_checkpoint, public_key)
    if old.log_id != new.log_id:
        raise CheckpointForged("The checkpoints belong to different logs.", where="log_id")
    if new.tree_size < old.tree_size:
        raise LogTruncated(
            where=f"event {new.tree_size + 1}",
            detail=f"size {new.tree_size} after a signed size {old.tree_size}",
        )
    if new.tree_size == old.tree_size and new.root_hash != old.root_hash:
        # Two signed heads of one size with different roots: the server
        # signed two different histories, and these two files prove it.
        raise LogRewritten(where=f"size {new.tree_size}", detail="two roots for one size")
    verify_consistency(
        old.tree_size, new.tree_size, old.root_hash, new.root_hash, consistency_proof
    )
    return new


def verify_log(
    events: Iterable[ChainedEvent],
    checkpoint: SignedCheckpoint,
    public_key: bytes,
    *,
    since: LogState = EMPTY_LOG,
) -> LogState:
    """Check ``events`` as one chain whose Merkle root at the checkpoint's size is signed.

    ``since`` resumes from an earlier result instead of the empty log; its
    size must not exceed the checkpoint's. Raises ``CheckpointForged`` for
    a bad signature, ``ChainBroken`` at the first event out of place,
    ``LogTruncated`` if the events end before the checkpoint's size, and
    ``LogRewritten`` if they are a well-formed chain with another root:
    the log was rewritten, hashes and all, since the checkpoint was signed.
    Events after the checkpoint's size are checked as a chain only. Returns
    the state after the last event.
    """
    trusted = verify_checkpoint(checkpoint, public_key)
    if since.size > trusted.tree_size:
        raise ValidationFailed(where="since", detail="the checkpoint is older than the state")
    tree = CompactRange.from_frontier(since.size, since.frontier)
    _check_root(tree, trusted, since)
    head = verify_chain(_merkle_fed(events, tree, trusted, since), since=since.head)
    if head.seq < trusted.tree_size:
        raise LogTruncated(
            where=f"event {head.seq + 1}",
            detail=f"the log ends at {head.seq}; the checkpoint covers {trusted.tree_size}",
        )
    return LogState(head=head, frontier=tree.frontier)


def _merkle_fed(
    events: Iterable[ChainedEvent], tree: CompactRange, trusted: Checkpoint, since: LogState
) -> Iterator[ChainedEvent]:
    """Pass ``events`` through, adding each to ``tree`` once the chain has accepted it.

    The code after ``yield`` runs only when ``verify_chain`` asks for the
    next event, that is after it checked this one, so a broken chain is
    reported as ``ChainBroken`` at its event rather than as a wrong root.
    """
    append, size, sha256 = tree.append_hash, trusted.tree_size, hashlib.sha256
    for event in events:
        yield event
        append(sha256(LEAF_PREFIX + event.event_hash).digest())
        if tree.size == size:
            _check_root(tree, trusted, since)


def _check_root(tree: CompactRange, trusted: Checkpoint, since: LogState) -> None:
    if tree.size == trusted.tree_size and tree.root() != trusted.root_hash:
        # The rewrite lies among the events checked here, or, if none were,
        # anywhere in the history the resumed state stands for.
        first = since.size + 1 if since.size < trusted.tree_size else 1
        raise LogRewritten(
            where=f"events {first}..{trusted.tree_size}",
            detail="the events' Merkle root is not the signed root",
        )


def _parse_log_id(line: str) -> str:
    if not _LOG_ID.fullmatch(line):
        raise CheckpointMalformed(where="line 1", detail="not a valid log id")
    return line


def _parse_size(line: str) -> int:
    if not _SIZE.fullmatch(line) or int(line) > MAX_TREE_SIZE:
        raise CheckpointMalformed(where="line 2", detail="not a tree size")
    return int(line)


def _parse_root(line: str) -> bytes:
    root = _strict_b64(line, where="line 3")
    if len(root) != HASH_SIZE:
        raise CheckpointMalformed(where="line 3", detail="the root is not 32 bytes")
    return root


def _parse_issued_at(line: str) -> datetime:
    instant = line.removeprefix(ISSUED_AT_PREFIX)
    if instant == line or not _INSTANT.fullmatch(instant):
        raise CheckpointMalformed(where="line 4", detail="not an issued-at line")
    try:
        return datetime.fromisoformat(instant[:-1]).replace(tzinfo=UTC)
    except ValueError:
        raise CheckpointMalformed(where="line 4", detail="not a real instant") from None


def _parse_signature_line(line: str) -> tuple[bytes, bytes]:
    prefix = f"{SIGNATURE_MARK}{KEY_NAME} "
    if not line.startswith(prefix):
        raise CheckpointMalformed(where="line 6", detail="not a v1 signature line")
    blob = _strict_b64(line.removeprefix(prefix), where="line 6")
    if len(blob) != KEY_ID_SIZE + SIGNATURE_SIZE:
        raise CheckpointMalformed(where="line 6", detail="not a key id and a signature")
    return blob[:KEY_ID_SIZE], blob[KEY_ID_SIZE:]


def _strict_b64(text: str, *, where: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error):
        raise CheckpointMalformed(where=where, detail="not base64") from None
