"""Proof bundles under mutation: what ``claimbridge audit verify-proof`` checks.

A 10,000-event log in memory, a signed checkpoint over all of it and an
older one over its first 6,000 events. Inclusion bundles for 41 events
(the first, the last, every power of two and its neighbours, 12 picked
with a fixed seed) and consistency bundles for 40 size pairs; every clean
bundle verifies, before and after a dump/load round trip. Then every
mutation is refused with the right exception, and ``where`` names the
place where the module gives one:

- every bit of every path node, of ``prev_hash``, of the checkpoint text's
  signature and root (of 4 inclusion and 4 consistency bundles: about
  30,000 flips), and of every byte of the canonical bytes of 3 events;
- path nodes added, removed, duplicated, reordered; wrong ``seq`` (+-1,
  another); a checkpoint of another size; old and new swapped; a saved
  checkpoint that disagrees with the bundle's;
- malformed JSON, hex and lengths (``ProofMalformed`` naming the field).
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import json
import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from claimbridge.audit.checkpoints import (
    Checkpoint,
    CheckpointForged,
    LogRewritten,
    LogTruncated,
    SignedCheckpoint,
    format_checkpoint,
    sign_checkpoint,
)
from claimbridge.audit.merkle import (
    LeafHashes,
    ProofInvalid,
    consistency_path,
    consistency_proof,
    inclusion_path,
    inclusion_proof,
    leaf_hash,
    root,
)
from claimbridge.audit.proofs import (
    ConsistencyProof,
    InclusionProof,
    ProofMalformed,
    dump_proof,
    load_proof,
    verify_consistency_proof,
    verify_inclusion_proof,
)
from claimbridge.crypto.signing import SigningKey
from claimbridge.errors import ClaimbridgeError
from tests.unit.audit.logs import make_log

KEY = SigningKey.from_seed(bytes(range(32, 64)))
OTHER_KEY = SigningKey.from_seed(bytes(range(64, 96)))
PUBLIC_KEY = KEY.public_key_bytes()
LOG_ID = "claimbridge/audit"
ISSUED = datetime(2026, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
SIZE = 10_000
OLD_SIZE = 6_000
LOG = make_log(SIZE)
LEAVES = [event.event_hash for event in LOG]
PICKS = random.Random(20261127)
HASHES = LeafHashes([leaf_hash(leaf) for leaf in LEAVES])
"""The leaf hashes once: ``merkle.inclusion_proof`` recomputes them on every call."""


def signed_at(
    size: int, *, key: SigningKey = KEY, leaves: list[bytes] | None = None
) -> SignedCheckpoint:
    if key is KEY and leaves is None:
        return _signed(size)
    checkpoint = Checkpoint(
        tree_size=size,
        root_hash=root((LEAVES if leaves is None else leaves)[:size]),
        issued_at=ISSUED + timedelta(seconds=size),
        log_id=LOG_ID,
    )
    return sign_checkpoint(checkpoint, key)


@functools.cache
def _signed(size: int) -> SignedCheckpoint:
    return signed_at(size, key=KEY, leaves=LEAVES)


NEW = signed_at(SIZE)
OLD = signed_at(OLD_SIZE)


def inclusion(seq: int, checkpoint: SignedCheckpoint = NEW) -> InclusionProof:
    event = LOG[seq - 1]
    size = checkpoint.checkpoint.tree_size
    return InclusionProof(
        checkpoint=checkpoint,
        seq=seq,
        canonical=event.canonical,
        prev_hash=event.prev_hash,
        path=tuple(inclusion_path(seq - 1, size, HASHES)),
    )


def consistency(old: int, new: int) -> ConsistencyProof:
    return ConsistencyProof(
        old=signed_at(old), new=signed_at(new), path=tuple(consistency_path(old, new, HASHES))
    )


POWERS = sorted(
    {p + d for p in (2**k for k in range(14)) for d in (-1, 0, 1)} & set(range(1, SIZE + 1))
)
INCLUSION_SEQS = sorted({1, SIZE, *POWERS, *PICKS.sample(range(1, SIZE + 1), 12)})
SIZE_PAIRS = sorted(
    {(1, 2), (1, SIZE), (OLD_SIZE, SIZE), (SIZE - 1, SIZE), (4096, 8192), (4095, 4097), (255, 257)}
    | {(1023, 1025), (1024, 1025), (2, 9999), (7, 8)}
    | {(1 << k, (1 << k) + 1) for k in range(12)}
    | {tuple(sorted(PICKS.sample(range(1, SIZE + 1), 2))) for _ in range(21)}
)


def flips(value: bytes) -> Iterator[bytes]:
    mutated = bytearray(value)
    for bit in range(len(value) * 8):
        mutated[bit // 8] ^= 1 << bit % 8
        yield bytes(mutated)
        mutated[bit // 8] ^= 1 << bit % 8


def refuses(
    check: Callable[[], object], error: type[ClaimbridgeError], where: str | None = None
) -> None:
    with pytest.raises(error) as caught:
        check()
    if where is not None:
        assert caught.value.where == where


# --- No false alarms ------------------------------------------------------------------


def test_every_clean_inclusion_bundle_verifies_before_and_after_a_round_trip() -> None:
    assert len(INCLUSION_SEQS) >= 40
    for seq in INCLUSION_SEQS:
        proof = inclusion(seq)
        loaded = load_proof(dump_proof(proof))
        assert loaded == proof
        for bundle in (proof, loaded):
            assert isinstance(bundle, InclusionProof)
            proved = verify_inclusion_proof(bundle, PUBLIC_KEY, saved=NEW)
            assert (proved.seq, proved.event_hash) == (seq, LEAVES[seq - 1])
            assert proved.event["seq"] == seq
    assert verify_inclusion_proof(inclusion(5_999, OLD), PUBLIC_KEY, saved=OLD).seq == 5_999
    for seq in (1, 4_097, SIZE):  # the bundles' paths are merkle's own proofs
        assert inclusion(seq).path == tuple(inclusion_proof(seq - 1, LEAVES))
    assert consistency(OLD_SIZE, SIZE).path == tuple(consistency_proof(OLD_SIZE, SIZE, LEAVES))


def test_every_clean_consistency_bundle_verifies_before_and_after_a_round_trip() -> None:
    assert len(SIZE_PAIRS) >= 40
    for old, new in SIZE_PAIRS:
        proof = consistency(old, new)
        loaded = load_proof(dump_proof(proof))
        assert loaded == proof
        for bundle in (proof, loaded):
            assert isinstance(bundle, ConsistencyProof)
            checked = verify_consistency_proof(bundle, PUBLIC_KEY, saved=signed_at(old))
            assert checked == signed_at(new).checkpoint


# --- Inclusion: bits ------------------------------------------------------------------


FLIPPED_SEQS = (4_097, SIZE)
SHAPED_SEQS = (1, 4_097, 7_777, SIZE)


@pytest.mark.parametrize("seq", FLIPPED_SEQS)
def test_every_bit_flip_of_every_path_node_and_of_prev_hash_is_refused(seq: int) -> None:
    proof, missed, count = inclusion(seq), [], 0
    for i, node in enumerate(proof.path):
        for mutated in flips(node):
            path = (*proof.path[:i], mutated, *proof.path[i + 1 :])
            missed += _missed(dataclasses.replace(proof, path=path), f"path[{i}]")
            count += 1
    for mutated in flips(proof.prev_hash):
        missed += _missed(dataclasses.replace(proof, prev_hash=mutated), "prev_hash")
        count += 1
    assert count == 256 * (len(proof.path) + 1)
    assert missed == []


def _missed(proof: InclusionProof, what: str) -> list[str]:
    try:
        verify_inclusion_proof(proof, PUBLIC_KEY)
    except ProofInvalid as error:
        return [] if error.where == f"event {proof.seq}" else [f"{what}: {error.where}"]
    return [what]


@pytest.mark.parametrize("seq", [1, 2_048, SIZE])
def test_one_bit_flipped_in_every_byte_of_the_canonical_event_is_refused(seq: int) -> None:
    proof = inclusion(seq)
    for at in range(len(proof.canonical)):
        canonical = bytearray(proof.canonical)
        canonical[at] ^= 1 << at % 8
        with pytest.raises(ProofInvalid) as caught:
            verify_inclusion_proof(
                dataclasses.replace(proof, canonical=bytes(canonical)), PUBLIC_KEY
            )
        # A flip inside the seq digits is caught before hashing, as the wrong seq.
        assert caught.value.where in {f"event {seq}", "canonical"}


def checkpoint_text_flips(signed: SignedCheckpoint) -> Iterator[str]:
    """Every one-bit change of the root and of the signature blob, in the saved text."""
    text = format_checkpoint(signed)
    lines = text.split("\n")
    for line_number in (2, 5):
        prefix, _, blob = lines[line_number].rpartition(" ")
        for mutated in flips(base64.b64decode(blob)):
            changed = f"{prefix} {base64.b64encode(mutated).decode()}".lstrip()
            yield "\n".join([*lines[:line_number], changed, *lines[line_number + 1 :]])
    for at in range(len(text)):  # and one bit of every character of the text
        char = chr(ord(text[at]) ^ 1 << at % 5)
        yield text[:at] + char + text[at + 1 :]


def _load_and_verify(text: str) -> None:
    proof = load_proof(text)
    assert isinstance(proof, InclusionProof)
    verify_inclusion_proof(proof, PUBLIC_KEY)


def test_every_bit_flip_of_the_checkpoint_text_is_refused() -> None:
    bundle = json.loads(dump_proof(inclusion(4_097)))
    count = 0
    for text in checkpoint_text_flips(NEW):
        count += 1
        with pytest.raises(CheckpointForged):  # CheckpointMalformed is one too
            _load_and_verify(json.dumps({**bundle, "checkpoint": text}))
    assert count > 8 * (32 + 68)


# --- Inclusion: shapes ----------------------------------------------------------------


def path_edits(path: tuple[bytes, ...]) -> Iterator[tuple[str, tuple[bytes, ...]]]:
    yield "node added at the end", (*path, path[0])
    yield "node added at the start", (bytes(32), *path)
    yield "last node removed", path[:-1]
    yield "first node removed", path[1:]
    yield "empty path", ()
    for i in range(len(path)):
        yield f"node {i} repeated", (*path[: i + 1], *path[i:])
    for i in range(len(path) - 1):
        yield f"nodes {i} and {i + 1} swapped", (*path[:i], path[i + 1], path[i], *path[i + 2 :])
    yield "reversed", path[::-1]


@pytest.mark.parametrize("seq", SHAPED_SEQS)
def test_path_nodes_added_removed_repeated_or_reordered_are_refused(seq: int) -> None:
    proof = inclusion(seq)
    for what, path in path_edits(proof.path):
        if path == proof.path:
            continue  # reversing or swapping equal nodes changes nothing
        with pytest.raises(ProofInvalid) as caught:
            verify_inclusion_proof(dataclasses.replace(proof, path=path), PUBLIC_KEY)
        assert caught.value.where == f"event {seq}", what


@pytest.mark.parametrize("seq", [2, 4_097, 7_777, SIZE - 1])
def test_a_wrong_seq_is_refused(seq: int) -> None:
    proof = inclusion(seq)
    for wrong in (seq - 1, seq + 1, seq ^ 0x400):
        # The bundle claims another position for the same event.
        refuses(
            functools.partial(
                verify_inclusion_proof, dataclasses.replace(proof, seq=wrong), PUBLIC_KEY
            ),
            ProofInvalid,
            "canonical",
        )
        # Another event's bytes and link, with this event's path.
        other = dataclasses.replace(inclusion(wrong), path=proof.path)
        refuses(
            functools.partial(verify_inclusion_proof, other, PUBLIC_KEY),
            ProofInvalid,
            f"event {wrong}",
        )


def test_a_seq_beyond_the_tree_is_refused() -> None:
    proof = inclusion(OLD_SIZE, OLD)
    beyond = dataclasses.replace(inclusion(OLD_SIZE + 1), checkpoint=OLD)
    refuses(lambda: verify_inclusion_proof(beyond, PUBLIC_KEY), ProofInvalid, "event 6001")
    assert verify_inclusion_proof(proof, PUBLIC_KEY).seq == OLD_SIZE


@pytest.mark.parametrize("seq", [1, 4_097, 5_999])
def test_a_checkpoint_of_another_size_is_refused(seq: int) -> None:
    for other in (OLD, signed_at(SIZE - 1), signed_at(SIZE + 0 - 2)):
        moved = dataclasses.replace(inclusion(seq), checkpoint=other)
        refuses(
            functools.partial(verify_inclusion_proof, moved, PUBLIC_KEY),
            ProofInvalid,
            f"event {seq}",
        )


def test_an_inclusion_bundle_against_a_saved_checkpoint_that_disagrees_is_refused() -> None:
    proof = inclusion(4_097)
    refuses(
        lambda: verify_inclusion_proof(proof, PUBLIC_KEY, saved=OLD), ProofInvalid, "checkpoint"
    )
    forked = [*LEAVES[:5_000], *(bytes([1]) * 32 for _ in range(SIZE - 5_000))]
    rewritten = signed_at(SIZE, leaves=forked)
    refuses(
        lambda: verify_inclusion_proof(proof, PUBLIC_KEY, saved=rewritten),
        LogRewritten,
        "size 10000",
    )


def test_a_bundle_signed_by_another_key_is_refused() -> None:
    proof = dataclasses.replace(inclusion(77), checkpoint=signed_at(SIZE, key=OTHER_KEY))
    refuses(lambda: verify_inclusion_proof(proof, PUBLIC_KEY), CheckpointForged)
    saved_elsewhere = signed_at(SIZE, key=OTHER_KEY)
    refuses(
        lambda: verify_inclusion_proof(inclusion(77), PUBLIC_KEY, saved=saved_elsewhere),
        CheckpointForged,
    )


# --- Consistency ----------------------------------------------------------------------


FLIPPED_PAIRS = ((OLD_SIZE, SIZE), (4_095, 4_097))
SHAPED_PAIRS = ((1, SIZE), (OLD_SIZE, SIZE), (4_096, 8_192), (4_095, 4_097))


@pytest.mark.parametrize(("old", "new"), FLIPPED_PAIRS)
def test_every_bit_flip_and_path_edit_of_a_consistency_bundle_is_refused(
    old: int, new: int
) -> None:
    proof, count = consistency(old, new), 0
    where = f"sizes {old}..{new}"
    mutations = [path for _, path in path_edits(proof.path) if path != proof.path]
    for i, node in enumerate(proof.path):
        mutations += [(*proof.path[:i], m, *proof.path[i + 1 :]) for m in flips(node)]
    missed = []
    for path in mutations:
        count += 1
        try:
            verify_consistency_proof(dataclasses.replace(proof, path=path), PUBLIC_KEY)
        except ProofInvalid as error:
            if error.where != where:
                missed.append(error.where)
        else:
            missed.append(None)
    assert count >= 256 * len(proof.path)
    assert missed == []


@pytest.mark.parametrize(("old", "new"), SHAPED_PAIRS)
def test_swapped_old_and_new_are_refused(old: int, new: int) -> None:
    proof = consistency(old, new)
    swapped = ConsistencyProof(old=proof.new, new=proof.old, path=proof.path)
    refuses(lambda: verify_consistency_proof(swapped, PUBLIC_KEY), LogTruncated, f"event {old + 1}")


@pytest.mark.parametrize(("old", "new"), SHAPED_PAIRS)
def test_a_checkpoint_of_another_size_in_a_consistency_bundle_is_refused(
    old: int, new: int
) -> None:
    proof = consistency(old, new)
    for bundle in (
        dataclasses.replace(proof, old=signed_at(old + 1)),
        dataclasses.replace(proof, new=signed_at(new - 1)),
    ):
        if bundle.old.checkpoint.tree_size == bundle.new.checkpoint.tree_size:
            continue
        refuses(functools.partial(verify_consistency_proof, bundle, PUBLIC_KEY), ProofInvalid)


def test_a_consistency_bundle_against_a_saved_checkpoint_that_disagrees_is_refused() -> None:
    proof = consistency(OLD_SIZE, SIZE)
    refuses(
        lambda: verify_consistency_proof(proof, PUBLIC_KEY, saved=signed_at(5_000)),
        ProofInvalid,
        "old",
    )
    forked = [*LEAVES[:100], *(bytes([2]) * 32 for _ in range(OLD_SIZE - 100))]
    refuses(
        lambda: verify_consistency_proof(
            proof, PUBLIC_KEY, saved=signed_at(OLD_SIZE, leaves=forked)
        ),
        LogRewritten,
        "size 6000",
    )


def test_a_history_rewritten_after_the_saved_checkpoint_cannot_be_proved_consistent() -> None:
    forked = [*LEAVES[:3_000], *(bytes([3]) * 32 for _ in range(SIZE - 3_000))]
    for path in (
        consistency_proof(OLD_SIZE, SIZE, forked),
        consistency_proof(OLD_SIZE, SIZE, LEAVES),
    ):
        bundle = ConsistencyProof(old=OLD, new=signed_at(SIZE, leaves=forked), path=tuple(path))
        refuses(
            functools.partial(verify_consistency_proof, bundle, PUBLIC_KEY, saved=OLD),
            ProofInvalid,
            f"sizes {OLD_SIZE}..{SIZE}",
        )


# --- Malformed bundles ----------------------------------------------------------------


def _inclusion_body() -> dict[str, Any]:
    return json.loads(dump_proof(inclusion(4_097)))  # type: ignore[no-any-return]


def _consistency_body() -> dict[str, Any]:
    return json.loads(dump_proof(consistency(OLD_SIZE, SIZE)))  # type: ignore[no-any-return]


MALFORMED: list[tuple[str, Callable[[dict[str, Any]], object], str]] = [
    ("format", lambda b: {**b, "format": "claimbridge/audit/inclusion/v2"}, "format"),
    ("no format", lambda b: {k: v for k, v in b.items() if k != "format"}, "format"),
    ("seq as text", lambda b: {**b, "seq": "4097"}, "seq"),
    ("seq as bool", lambda b: {**b, "seq": True}, "seq"),
    ("seq zero", lambda b: {**b, "seq": 0}, "seq"),
    ("seq float", lambda b: {**b, "seq": 4097.0}, "seq"),
    ("no canonical", lambda b: {k: v for k, v in b.items() if k != "canonical"}, "canonical"),
    ("canonical object", lambda b: {**b, "canonical": {"seq": 1}}, "canonical"),
    ("prev_hash short", lambda b: {**b, "prev_hash": b["prev_hash"][:-2]}, "prev_hash"),
    ("prev_hash long", lambda b: {**b, "prev_hash": b["prev_hash"] + "00"}, "prev_hash"),
    ("prev_hash not hex", lambda b: {**b, "prev_hash": "zz" + b["prev_hash"][2:]}, "prev_hash"),
    ("prev_hash bytes", lambda b: {**b, "prev_hash": list(range(32))}, "prev_hash"),
    ("path not a list", lambda b: {**b, "path": "".join(b["path"])}, "path"),
    ("path too long", lambda b: {**b, "path": [b["path"][0]] * 65}, "path"),
    ("node short", lambda b: {**b, "path": [*b["path"][:3], b["path"][3][:62]]}, "path[3]"),
    ("node not hex", lambda b: {**b, "path": [b["path"][0][:-1] + "g"]}, "path[0]"),
    ("node null", lambda b: {**b, "path": [*b["path"][:1], None]}, "path[1]"),
    (
        "checkpoint missing",
        lambda b: {k: v for k, v in b.items() if k != "checkpoint"},
        "checkpoint",
    ),
    ("checkpoint number", lambda b: {**b, "checkpoint": 7}, "checkpoint"),
]


@pytest.mark.parametrize(("what", "mangle", "where"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_a_malformed_inclusion_bundle_is_refused_naming_the_field(
    what: str, mangle: Callable[[dict[str, Any]], object], where: str
) -> None:
    text = json.dumps(mangle(_inclusion_body()))
    refuses(lambda: load_proof(text), ProofMalformed, where)


@pytest.mark.parametrize("field", ["old", "new"])
def test_a_malformed_consistency_bundle_is_refused_naming_the_field(field: str) -> None:
    body = _consistency_body()
    refuses(lambda: load_proof(json.dumps({**body, field: None})), ProofMalformed, field)
    refuses(lambda: load_proof(json.dumps({**body, "path": {}})), ProofMalformed, "path")
    garbled = {**body, field: body[field].replace("\n\n", "\n")}
    refuses(lambda: load_proof(json.dumps(garbled)), CheckpointForged)


@pytest.mark.parametrize(
    "text",
    [b"", b"{", b"[]", b"null", b"\xff\xfe", b'{"format": 1}', b"x" * (64 * 1024 + 1)],
    ids=["empty", "truncated", "array", "null", "not-utf8", "format-number", "huge"],
)
def test_text_that_is_not_a_bundle_is_refused(text: bytes) -> None:
    with pytest.raises(ProofMalformed) as caught:
        load_proof(text)
    assert caught.value.where in {"proof", "format"}


def test_a_truncated_bundle_is_refused_at_every_length() -> None:
    text = dump_proof(inclusion(4_097))
    for length in range(0, len(text), 7):
        with pytest.raises((ProofMalformed, CheckpointForged)):
            load_proof(text[:length])
