"""The Merkle tree over the audit log (RFC 9162 section 2.1, as RFC 6962 before it).

::

    MTH({})      = SHA-256()                                  the empty tree
    leaf hash    = SHA-256(0x00 || leaf)
    node hash    = SHA-256(0x01 || left || right)
    MTH(D[n])    = node(MTH(D[0:k]), MTH(D[k:n]))             k the largest power of two < n

The leaves of the audit log's tree are the events' chain hashes
(``chain.hash_event``), in seq order: leaf ``i`` is event ``seq = i + 1``.
Taking the 32-byte event hash, rather than the canonical bytes, keeps the
tree cheap to build, and it still commits to everything: the event hash
covers the event's bytes and, through ``prev_hash``, every event before it.
To check that an event is in a signed tree, a practice recomputes its
event hash, then ``leaf_hash`` of that, and verifies the inclusion proof.

The functions here take raw leaves (``root``, the proof makers) or a leaf
hash (``verify_inclusion``), exactly as RFC 9162 does, so that the
Certificate Transparency test vectors check this code byte for byte.

Proof makers hold all leaves and cost O(n) hashes; they serve tests and
small logs. ``CompactRange`` keeps only the O(log n) roots of the perfect
subtrees that make up a tree (its right "frontier"), so a verifier can
stream a million events, append each in O(log n) (amortised O(1)) and
read the root at any size it passes, without holding the leaves.

Verification raises ``ProofInvalid`` and never returns a bool.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from claimbridge.errors import ClaimbridgeError, NotFound, ValidationFailed

# IMPORTANT: frozen format (RFC 9162 section 2.1.1). The prefixes keep a
# leaf from ever being read as an interior node (the second-preimage attack
# on Merkle trees); changing them, or the split rule, changes every root a
# practice has saved in a signed checkpoint, and no other RFC 6962 tool
# would agree with our proofs.
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

_sha256 = hashlib.sha256


class ProofInvalid(ClaimbridgeError):
    """An inclusion or consistency proof does not prove what it claims."""

    code = "audit_proof_invalid"
    public_message = "The audit log proof does not verify."


class ProofUnavailable(NotFound):
    """No proof can be made: the tree is not that large, or its leaves were purged."""

    code = "audit_proof_unavailable"
    public_message = "No such proof can be made from this log."


def leaf_hash(leaf: bytes) -> bytes:
    return _sha256(LEAF_PREFIX + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return _sha256(NODE_PREFIX + left + right).digest()


def root(leaves: Sequence[bytes]) -> bytes:
    """MTH of ``leaves`` (raw leaf inputs)."""
    tree = CompactRange()
    tree.extend(leaves)
    return tree.root()


class Subtrees(Protocol):
    """Where a proof maker reads subtree roots: leaves in memory, or a stored tree."""

    def subtree_root(self, lo: int, hi: int) -> bytes:
        """MTH of leaves ``[lo, hi)``, ``lo < hi``."""
        ...


class LeafHashes:
    """Subtree roots computed from every leaf hash, held in memory: O(n) per proof."""

    __slots__ = ("_hashes",)

    def __init__(self, hashes: Sequence[bytes]) -> None:
        self._hashes = hashes

    def subtree_root(self, lo: int, hi: int) -> bytes:
        if hi - lo == 1:
            return self._hashes[lo]
        k = largest_power_of_two_below(hi - lo)
        return node_hash(self.subtree_root(lo, lo + k), self.subtree_root(lo + k, hi))


def inclusion_proof(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PATH(index, leaves) of RFC 9162 section 2.1.3.1: the audit path of leaf ``index``."""
    return inclusion_path(index, len(leaves), LeafHashes([leaf_hash(leaf) for leaf in leaves]))


def inclusion_path(index: int, size: int, subtrees: Subtrees) -> list[bytes]:
    """PATH(index, D[size]) read from ``subtrees``."""
    if not 0 <= index < size:
        raise ValidationFailed(where="index", detail="no leaf at that index")
    return _path(index, subtrees, 0, size)


def consistency_proof(old_size: int, new_size: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PROOF(old_size, leaves[:new_size]) of RFC 9162 section 2.1.4.1.

    Empty when ``old_size`` is 0 or equals ``new_size``: nothing to prove.
    """
    if not 0 <= old_size <= new_size <= len(leaves):
        raise ValidationFailed(where="size", detail="need 0 <= old_size <= new_size <= leaves")
    hashes = LeafHashes([leaf_hash(leaf) for leaf in leaves[:new_size]])
    return consistency_path(old_size, new_size, hashes)


def consistency_path(old_size: int, new_size: int, subtrees: Subtrees) -> list[bytes]:
    """PROOF(old_size, D[new_size]) read from ``subtrees``."""
    if not 0 <= old_size <= new_size:
        raise ValidationFailed(where="size", detail="need 0 <= old_size <= new_size")
    if old_size in (0, new_size):
        return []
    return _subproof(old_size, subtrees, 0, new_size, complete=True)


def verify_inclusion(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``tree_size`` with ``root``.

    RFC 9162 section 2.1.3.2, step by step. Raises ``ProofInvalid``.
    """
    _check_hashes([leaf_hash, root, *proof])
    if not 0 <= index < tree_size:
        raise ProofInvalid(detail="index outside the tree")
    fn, sn, r = index, tree_size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            raise ProofInvalid(detail="proof longer than the path")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofInvalid(detail="proof shorter than the path")
    if r != root:
        raise ProofInvalid(detail="proof leads to another root")


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree of ``new_size`` with ``new_root`` extends ``old_root``'s.

    RFC 9162 section 2.1.4.2 for ``0 < old_size < new_size``; the edge cases
    the RFC leaves out are settled as a verifier must: equal sizes need equal
    roots and an empty proof, and an empty old tree needs the empty root and
    an empty proof. Raises ``ProofInvalid``.
    """
    _check_hashes([old_root, new_root, *proof])
    if not 0 <= old_size <= new_size:
        raise ProofInvalid(detail="the new tree is smaller than the old one")
    if old_size in (0, new_size):
        _verify_trivial_consistency(old_size, new_size, old_root, new_root, proof)
        return
    if not proof:
        raise ProofInvalid(detail="empty consistency proof")
    path = list(proof)
    if (old_size & (old_size - 1)) == 0:  # an exact power of two
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofInvalid(detail="proof longer than the path")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofInvalid(detail="proof shorter than the path")
    if fr != old_root or sr != new_root:
        raise ProofInvalid(detail="proof leads to other roots")


SubtreeCompleted = Callable[[int, int, bytes], None]
"""``(level, index, root)``: the subtree of leaves ``[index << level, (index + 1) << level)``."""


class CompactRange:
    """The compact range [0, size) of a Merkle tree: append leaves, read the root.

    Holds the roots of the perfect subtrees the first ``size`` leaves split
    into, largest (leftmost) first: one per set bit of ``size``, so at most
    64. ``frontier`` and ``from_frontier`` save and restore it, so a
    verifier can resume where it stopped.
    """

    __slots__ = ("_hashes", "_size")

    def __init__(self) -> None:
        self._size = 0
        self._hashes: list[bytes] = []

    @classmethod
    def from_frontier(cls, size: int, frontier: Sequence[bytes]) -> CompactRange:
        if size < 0 or len(frontier) != size.bit_count():
            raise ValidationFailed(where="frontier", detail="one hash per set bit of size")
        _check_hashes(frontier, error=ValidationFailed)
        tree = cls()
        tree._size, tree._hashes = size, list(frontier)
        return tree

    @property
    def size(self) -> int:
        return self._size

    @property
    def frontier(self) -> tuple[bytes, ...]:
        return tuple(self._hashes)

    def copy(self) -> CompactRange:
        return CompactRange.from_frontier(self._size, self._hashes)

    def append(self, leaf: bytes) -> None:
        """Add a raw leaf."""
        self.append_hash(_sha256(LEAF_PREFIX + leaf).digest())

    def append_hash(self, leaf_hash: bytes) -> None:
        """Add a leaf by its leaf hash: merge equal-sized subtrees, as binary addition carries."""
        hashes, size, h = self._hashes, self._size, leaf_hash
        while size & 1:
            h = _sha256(NODE_PREFIX + hashes.pop() + h).digest()
            size >>= 1
        hashes.append(h)
        self._size += 1

    def append_hash_reporting(self, leaf_hash: bytes, completed: SubtreeCompleted) -> None:
        """``append_hash``, calling ``completed(level, index, root)`` for each perfect
        subtree of ``2**level`` leaves (level >= 1) the new leaf completes."""
        hashes, size, h, level = self._hashes, self._size, leaf_hash, 0
        while size & 1:
            h = _sha256(NODE_PREFIX + hashes.pop() + h).digest()
            size >>= 1
            level += 1
            completed(level, self._size >> level, h)
        hashes.append(h)
        self._size += 1

    def extend(self, leaves: Iterable[bytes]) -> None:
        for leaf in leaves:
            self.append(leaf)

    def root(self) -> bytes:
        """MTH of the leaves so far: the subtree roots folded from the right."""
        if not self._hashes:
            return EMPTY_ROOT
        r = self._hashes[-1]
        for h in reversed(self._hashes[:-1]):
            r = node_hash(h, r)
        return r


def _verify_trivial_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    if proof:
        raise ProofInvalid(detail="a trivial consistency proof must be empty")
    if old_size == 0 and old_root != EMPTY_ROOT:
        raise ProofInvalid(detail="an empty tree has the empty root")
    if old_size == new_size and old_root != new_root:
        raise ProofInvalid(detail="two trees of one size with different roots")


def _check_hashes(hashes: Sequence[bytes], *, error: type[ClaimbridgeError] = ProofInvalid) -> None:
    if any(not isinstance(h, bytes) or len(h) != HASH_SIZE for h in hashes):
        raise error(detail="a hash is not 32 bytes")


def largest_power_of_two_below(n: int) -> int:
    """The largest power of two less than ``n`` (``n >= 2``): where RFC 9162 splits a tree."""
    return 1 << ((n - 1).bit_length() - 1)


def _path(m: int, subtrees: Subtrees, lo: int, hi: int) -> list[bytes]:
    if hi - lo == 1:
        return []
    k = largest_power_of_two_below(hi - lo)
    if m < k:
        return [*_path(m, subtrees, lo, lo + k), subtrees.subtree_root(lo + k, hi)]
    return [*_path(m - k, subtrees, lo + k, hi), subtrees.subtree_root(lo, lo + k)]


def _subproof(m: int, subtrees: Subtrees, lo: int, hi: int, *, complete: bool) -> list[bytes]:
    n = hi - lo
    if m == n:
        return [] if complete else [subtrees.subtree_root(lo, hi)]
    k = largest_power_of_two_below(n)
    if m <= k:
        return [
            *_subproof(m, subtrees, lo, lo + k, complete=complete),
            subtrees.subtree_root(lo + k, hi),
        ]
    return [
        *_subproof(m - k, subtrees, lo + k, hi, complete=False),
        subtrees.subtree_root(lo, lo + k),
    ]
