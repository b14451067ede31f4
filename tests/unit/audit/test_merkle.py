"""The RFC 9162 Merkle tree: the CT/Trillian vectors, proofs of any shape, mutations refused."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claimbridge.audit import merkle
from claimbridge.audit.merkle import (
    EMPTY_ROOT,
    CompactRange,
    ProofInvalid,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)
from claimbridge.errors import ValidationFailed

# The RFC 6962 vectors of Certificate Transparency and Trillian, as kept in
# transparency-dev/merkle (testonly/constants.go, proof/verify_test.go); the
# JSON file names its source. Every value is recomputed below, not trusted.
VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parent / "rfc6962_vectors.json").read_text(encoding="utf-8")
)
LEAVES = [bytes.fromhex(leaf) for leaf in VECTORS["leaves"]]
ROOTS = [bytes.fromhex(r) for r in VECTORS["roots_by_size"]]
NODES = [[bytes.fromhex(h) for h in level] for level in VECTORS["node_hashes_by_level"]]
SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")


def _hexes(values: Sequence[str]) -> list[bytes]:
    return [bytes.fromhex(v) for v in values]


def _inclusion_cases() -> list[tuple[int, int, list[bytes]]]:
    return [(v["index"], v["tree_size"], _hexes(v["proof"])) for v in VECTORS["inclusion_proofs"]]


def _consistency_cases() -> list[tuple[int, int, list[bytes]]]:
    return [
        (v["old_size"], v["new_size"], _hexes(v["proof"])) for v in VECTORS["consistency_proofs"]
    ]


def _refused(check: Callable[[], None]) -> bool:
    try:
        check()
    except ProofInvalid:
        return True
    return False


# --- The published vectors, each recomputed -------------------------------------------


def test_root_of_eight_vector_leaves_is_the_published_one() -> None:
    assert root(LEAVES).hex() == (
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
    )


@pytest.mark.parametrize("size", range(9))
def test_root_of_every_prefix_matches_the_vector(size: int) -> None:
    assert root(LEAVES[:size]) == ROOTS[size]


def test_empty_tree_root_is_sha256_of_nothing() -> None:
    assert root([]) == EMPTY_ROOT == ROOTS[0]


def test_leaf_and_node_hashes_match_the_vector_node_table() -> None:
    assert [leaf_hash(leaf) for leaf in LEAVES] == NODES[0]
    for level in range(1, len(NODES)):
        below = NODES[level - 1]
        computed = [node_hash(below[2 * i], below[2 * i + 1]) for i in range(len(below) // 2)]
        assert computed == NODES[level]


def test_leaf_and_node_prefixes_differ() -> None:
    # The second-preimage defence: a leaf made of two hashes is not their node.
    left, right = NODES[0][0], NODES[0][1]
    assert leaf_hash(left + right) != node_hash(left, right)


@pytest.mark.parametrize(("index", "size", "proof"), _inclusion_cases())
def test_inclusion_proof_matches_the_vector(index: int, size: int, proof: list[bytes]) -> None:
    assert inclusion_proof(index, LEAVES[:size]) == proof
    verify_inclusion(leaf_hash(LEAVES[index]), index, size, proof, ROOTS[size])


@pytest.mark.parametrize(("old", "new", "proof"), _consistency_cases())
def test_consistency_proof_matches_the_vector(old: int, new: int, proof: list[bytes]) -> None:
    assert consistency_proof(old, new, LEAVES) == proof
    verify_consistency(old, new, ROOTS[old], ROOTS[new], proof)


def _inclusion_probes(
    index: int, size: int, proof: list[bytes], root_hash: bytes, leaf: bytes
) -> dict[str, tuple[int, int, list[bytes], bytes, bytes]]:
    """The corruptions transparency-dev/merkle's verify_test.go tries on each vector."""
    probes = {
        "index - 1": (index - 1, size, proof, root_hash, leaf),
        "index + 1": (index + 1, size, proof, root_hash, leaf),
        "index ^ 2": (index ^ 2, size, proof, root_hash, leaf),
        "size * 2": (index, size * 2, proof, root_hash, leaf),
        "size // 2": (index, size // 2, proof, root_hash, leaf),
        "wrong leaf": (index, size, proof, root_hash, leaf_hash(b"WrongLeaf")),
        "empty root": (index, size, proof, EMPTY_ROOT, leaf),
        "random root": (index, size, proof, SOME_HASH, leaf),
        "trailing garbage": (index, size, [*proof, b""], root_hash, leaf),
        "trailing root": (index, size, [*proof, root_hash], root_hash, leaf),
        "preceding garbage": (index, size, [b"", *proof], root_hash, leaf),
        "preceding root": (index, size, [root_hash, *proof], root_hash, leaf),
    }
    for i in range(len(proof)):
        flipped = list(proof)
        flipped[i] = bytes([flipped[i][0] ^ 8]) + flipped[i][1:]
        probes[f"proof[{i}] bit 3"] = (index, size, flipped, root_hash, leaf)
    if proof:
        probes["removed component"] = (index, size, proof[:-1], root_hash, leaf)
    if len(proof) > 1:
        probes["inserted component"] = (
            index,
            size,
            [proof[0], SOME_HASH, *proof[1:]],
            root_hash,
            leaf,
        )
    return probes


@pytest.mark.parametrize(("index", "size", "proof"), _inclusion_cases())
def test_corrupted_vector_inclusion_proofs_are_refused(
    index: int, size: int, proof: list[bytes]
) -> None:
    probes = _inclusion_probes(index, size, proof, ROOTS[size], leaf_hash(LEAVES[index]))
    accepted = [
        name
        for name, (i, n, p, r, leaf) in probes.items()
        if not _refused(lambda i=i, n=n, p=p, r=r, leaf=leaf: verify_inclusion(leaf, i, n, p, r))
    ]
    assert accepted == []


@pytest.mark.parametrize(("old", "new", "proof"), [c for c in _consistency_cases() if c[2]])
def test_corrupted_vector_consistency_proofs_are_refused(
    old: int, new: int, proof: list[bytes]
) -> None:
    r1, r2 = ROOTS[old], ROOTS[new]
    probes: dict[str, tuple[int, int, bytes, bytes, list[bytes]]] = {
        "old - 1": (old - 1, new, r1, r2, proof),
        "old + 1": (old + 1, new, r1, r2, proof),
        "old ^ 2": (old ^ 2, new, r1, r2, proof),
        "new * 2": (old, new * 2, r1, r2, proof),
        "new // 2": (old, new // 2, r1, r2, proof),
        "wrong old root": (old, new, SOME_HASH, r2, proof),
        "wrong new root": (old, new, r1, SOME_HASH, proof),
        "swapped roots": (old, new, r2, r1, proof),
        "empty proof": (old, new, r1, r2, []),
        "trailing garbage": (old, new, r1, r2, [*proof, b""]),
        "trailing old root": (old, new, r1, r2, [*proof, r1]),
        "trailing new root": (old, new, r1, r2, [*proof, r2]),
        "preceding garbage": (old, new, r1, r2, [b"", *proof]),
        "preceding old root": (old, new, r1, r2, [r1, *proof]),
        "preceding new root": (old, new, r1, r2, [r2, *proof]),
        "preceding proof[0]": (old, new, r1, r2, [proof[0], *proof]),
        "truncated proof": (old, new, r1, r2, proof[:-1]),
    }
    for i in range(len(proof)):
        flipped = list(proof)
        flipped[i] = bytes([flipped[i][0] ^ 16]) + flipped[i][1:]
        probes[f"proof[{i}] bit 4"] = (old, new, r1, r2, flipped)
    accepted = [
        name
        for name, (m, n, a, b, p) in probes.items()
        if not _refused(lambda m=m, n=n, a=a, b=b, p=p: verify_consistency(m, n, a, b, p))
    ]
    assert accepted == []


def test_compact_range_frontiers_match_the_vector_compact_trees() -> None:
    tree = CompactRange()
    for size, expected in enumerate(VECTORS["compact_trees_by_size"]):
        assert tree.size == size
        assert tree.frontier == tuple(NODES[level][i] for level, i in expected)
        assert tree.root() == ROOTS[size]
        if size < len(LEAVES):
            tree.append(LEAVES[size])


# --- Edge cases RFC 9162 leaves to the verifier --------------------------------------


def test_single_leaf_tree_root_is_its_leaf_hash_and_its_proof_is_empty() -> None:
    h = leaf_hash(b"data")
    verify_inclusion(h, 0, 1, [], h)
    with pytest.raises(ProofInvalid):
        verify_inclusion(h, 0, 1, [], EMPTY_ROOT)
    with pytest.raises(ProofInvalid):
        verify_inclusion(b"", 0, 1, [], h)


@pytest.mark.parametrize(("index", "size"), [(0, 0), (1, 0), (1, 1), (2, 1), (-1, 1)])
def test_inclusion_outside_the_tree_is_refused(index: int, size: int) -> None:
    with pytest.raises(ProofInvalid):
        verify_inclusion(SOME_HASH, index, size, [], SOME_HASH)


def test_a_proof_with_a_node_too_many_is_refused_for_its_length() -> None:
    # Defence in depth (RFC 9162 step "if sn is 0, fail"): the extra node is
    # refused for the path's length before its hash is even compared.
    proof = inclusion_proof(5, LEAVES)
    with pytest.raises(ProofInvalid) as caught:
        verify_inclusion(leaf_hash(LEAVES[5]), 5, 8, [*proof, SOME_HASH], ROOTS[8])
    assert caught.value.detail == "proof longer than the path"
    old_proof = consistency_proof(6, 8, LEAVES)
    with pytest.raises(ProofInvalid) as caught:
        verify_consistency(6, 8, ROOTS[6], ROOTS[8], [*old_proof, SOME_HASH])
    assert caught.value.detail == "proof longer than the path"


def test_trivial_consistency_is_accepted_only_with_matching_roots_and_no_proof() -> None:
    verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    verify_consistency(0, 5, EMPTY_ROOT, ROOTS[5], [])
    verify_consistency(3, 3, ROOTS[3], ROOTS[3], [])
    refused = [
        (0, 5, SOME_HASH, ROOTS[5], []),  # an empty tree has the empty root
        (3, 3, ROOTS[3], ROOTS[4], []),  # one size, two roots: a fork
        (3, 3, ROOTS[3], ROOTS[3], [EMPTY_ROOT]),  # a proof where none is due
        (0, 5, EMPTY_ROOT, ROOTS[5], [EMPTY_ROOT]),
        (4, 3, ROOTS[4], ROOTS[3], []),  # time travel to the past
        (2, 1, ROOTS[2], ROOTS[1], []),
        (1, 2, ROOTS[1], ROOTS[2], []),  # a real extension with no proof
        (-1, 2, ROOTS[1], ROOTS[2], []),
    ]
    for m, n, a, b, p in refused:
        with pytest.raises(ProofInvalid):
            verify_consistency(m, n, a, b, p)


def test_proof_makers_refuse_impossible_requests() -> None:
    with pytest.raises(ValidationFailed):
        inclusion_proof(8, LEAVES)
    with pytest.raises(ValidationFailed):
        inclusion_proof(-1, LEAVES)
    with pytest.raises(ValidationFailed):
        consistency_proof(5, 4, LEAVES)
    with pytest.raises(ValidationFailed):
        consistency_proof(2, 9, LEAVES)
    assert consistency_proof(0, 8, LEAVES) == []
    assert consistency_proof(8, 8, LEAVES) == []


def test_tree_size_is_bound_by_the_signed_checkpoint_not_by_the_proof() -> None:
    # RFC 9162's verifier reads only the shape of the path, so a proof for
    # leaf 0 of 3 also passes as a proof for leaf 0 of 4 against the same
    # root: both paths go "sibling right, sibling right". No tree of 4
    # leaves has that root, which is why checkpoints sign size and root
    # together and verifiers take the size from the signed checkpoint.
    proof = inclusion_proof(0, LEAVES[:3])
    verify_inclusion(leaf_hash(LEAVES[0]), 0, 4, proof, ROOTS[3])
    assert _sides(0, 3) == _sides(0, 4)


# --- CompactRange ---------------------------------------------------------------------


def test_compact_range_resumes_from_its_frontier() -> None:
    tree = CompactRange()
    tree.extend(LEAVES[:5])
    resumed = CompactRange.from_frontier(tree.size, tree.frontier)
    resumed.extend(LEAVES[5:])
    assert resumed.root() == ROOTS[8]
    assert tree.root() == ROOTS[5]  # the original is untouched


def test_compact_range_copy_is_independent() -> None:
    tree = CompactRange()
    tree.extend(LEAVES[:3])
    copy = tree.copy()
    copy.append(LEAVES[3])
    assert (tree.root(), copy.root()) == (ROOTS[3], ROOTS[4])


@pytest.mark.parametrize(
    ("size", "frontier"),
    [(3, [SOME_HASH]), (2, [SOME_HASH, SOME_HASH]), (-1, []), (1, [b"short"]), (0, [SOME_HASH])],
)
def test_compact_range_refuses_a_frontier_that_does_not_fit_its_size(
    size: int, frontier: list[bytes]
) -> None:
    with pytest.raises(ValidationFailed):
        CompactRange.from_frontier(size, frontier)


@given(st.lists(st.binary(max_size=8), max_size=300))
def test_compact_range_root_equals_the_recursive_root_at_every_size(leaves: list[bytes]) -> None:
    tree = CompactRange()
    for size in range(len(leaves) + 1):
        assert tree.root() == _reference_root(leaves[:size])
        assert len(tree.frontier) == size.bit_count()
        if size < len(leaves):
            tree.append(leaves[size])


# --- Properties over random trees -----------------------------------------------------

# Distinct leaves: with two equal leaves, the proof for one is a true proof
# for the other, and "wrong index" would not be a mutation at all.
distinct_leaves = st.lists(st.binary(min_size=1, max_size=6), min_size=1, max_size=48, unique=True)


@settings(max_examples=60, deadline=None)
@given(distinct_leaves)
def test_every_inclusion_proof_of_every_index_verifies(leaves: list[bytes]) -> None:
    size, root_hash = len(leaves), root(leaves)
    for index in range(size):
        verify_inclusion(
            leaf_hash(leaves[index]), index, size, inclusion_proof(index, leaves), root_hash
        )


@settings(max_examples=60, deadline=None)
@given(distinct_leaves, st.data())
def test_every_consistency_proof_between_sizes_verifies(
    leaves: list[bytes], data: st.DataObject
) -> None:
    new = data.draw(st.integers(0, len(leaves)), label="new")
    old = data.draw(st.integers(0, new), label="old")
    proof = consistency_proof(old, new, leaves)
    verify_consistency(old, new, root(leaves[:old]), root(leaves[:new]), proof)


@settings(max_examples=200, deadline=None)
@given(distinct_leaves, st.data())
def test_any_mutation_of_an_inclusion_proof_is_refused(
    leaves: list[bytes], data: st.DataObject
) -> None:
    size, root_hash = len(leaves), root(leaves)
    index = data.draw(st.integers(0, size - 1), label="index")
    leaf, proof = leaf_hash(leaves[index]), inclusion_proof(index, leaves)

    for mutated in _proof_mutations(proof, data):
        with pytest.raises(ProofInvalid):
            verify_inclusion(leaf, index, size, mutated, root_hash)
    with pytest.raises(ProofInvalid):
        verify_inclusion(_flip_a_bit(leaf, data), index, size, proof, root_hash)
    with pytest.raises(ProofInvalid):
        verify_inclusion(leaf, index, size, proof, _flip_a_bit(root_hash, data))
    for other in range(size + 2):
        if other != index:
            with pytest.raises(ProofInvalid):
                verify_inclusion(leaf, other, size, proof, root_hash)
    # A wrong size is refused unless its path has exactly the same shape,
    # which the proof cannot tell apart (see the test above).
    for wrong in range(max(index, 1), 2 * size + 2):
        if wrong != size and _sides(index, wrong) != _sides(index, size):
            with pytest.raises(ProofInvalid):
                verify_inclusion(leaf, index, wrong, proof, root_hash)


@settings(max_examples=200, deadline=None)
@given(distinct_leaves, st.data())
def test_any_mutation_of_a_consistency_proof_is_refused(
    leaves: list[bytes], data: st.DataObject
) -> None:
    if len(leaves) < 2:
        return
    new = data.draw(st.integers(2, len(leaves)), label="new")
    old = data.draw(st.integers(1, new - 1), label="old")
    proof = consistency_proof(old, new, leaves)
    r1, r2 = root(leaves[:old]), root(leaves[:new])

    for mutated in _proof_mutations(proof, data):
        with pytest.raises(ProofInvalid):
            verify_consistency(old, new, r1, r2, mutated)
    for a, b in [(_flip_a_bit(r1, data), r2), (r1, _flip_a_bit(r2, data)), (r2, r1)]:
        with pytest.raises(ProofInvalid):
            verify_consistency(old, new, a, b, proof)
    # Wrong sizes whose proof would have another length can never pass;
    # those of the same length are caught by the hashes (the vector test
    # above pins the CT corruptions, size ^ 2 and friends, for that case).
    for m, n in _neighbouring_sizes(old, new):
        if _consistency_length(m, n) != len(proof):
            with pytest.raises(ProofInvalid):
                verify_consistency(m, n, r1, r2, proof)


# --- Helpers --------------------------------------------------------------------------


def _reference_root(leaves: Sequence[bytes]) -> bytes:
    """MTH straight from RFC 9162's recursive definition."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaf_hash(leaves[0])
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(_reference_root(leaves[:k]), _reference_root(leaves[k:]))


def _sides(index: int, size: int) -> list[str]:
    """Bottom-up, which side each sibling on the path of ``index`` lies (RFC 9162 PATH)."""
    if size <= 1:
        return []
    k = 1
    while k * 2 < size:
        k *= 2
    if index < k:
        return [*_sides(index, k), "right"]
    return [*_sides(index - k, size - k), "left"]


def _consistency_length(old: int, new: int) -> int:
    return len(merkle.consistency_proof(old, new, [b""] * new))


def _neighbouring_sizes(old: int, new: int) -> list[tuple[int, int]]:
    candidates = {
        (old - 1, new),
        (old + 1, new),
        (old ^ 2, new),
        (old, new - 1),
        (old, new + 1),
        (old, new * 2),
        (old, new // 2),
    }
    return [(m, n) for m, n in sorted(candidates) if 0 < m < n and (m, n) != (old, new)]


def _flip_a_bit(value: bytes, data: st.DataObject) -> bytes:
    bit = data.draw(st.integers(0, len(value) * 8 - 1), label="bit")
    mutated = bytearray(value)
    mutated[bit // 8] ^= 1 << (bit % 8)
    return bytes(mutated)


def _proof_mutations(proof: list[bytes], data: st.DataObject) -> list[list[bytes]]:
    """A flipped bit in each node, a node added at each end and in the middle, one removed."""
    extra = data.draw(st.binary(min_size=32, max_size=32), label="extra node")
    mutations = [[*proof, extra], [extra, *proof]]
    for i in range(len(proof)):
        flipped = list(proof)
        flipped[i] = _flip_a_bit(proof[i], data)
        mutations.append(flipped)
        mutations.append(proof[:i] + proof[i + 1 :])
        mutations.append([*proof[:i], extra, *proof[i:]])
        if i + 1 < len(proof) and proof[i] != proof[i + 1]:
            swapped = list(proof)
            swapped[i], swapped[i + 1] = swapped[i + 1], swapped[i]
            mutations.append(swapped)
    return mutations
