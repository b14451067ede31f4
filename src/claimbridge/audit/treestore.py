"""The Merkle tree as stored: subtree roots from the node table, leaves from the events.

A proof over a log of n events needs O(log n) subtree roots. Reading every
leaf to compute them is O(n); instead, whenever the checkpointer appends
events to the tree it stores the root of each perfect subtree of at least
``STORED_FROM_LEAVES`` leaves it completes. A proof then reads a few dozen
node rows, plus at most ``STORED_FROM_LEAVES`` leaves at each ragged edge.

A retention purge stores the compact range at the purge point as nodes
too, so proofs for the events that remain can still name the roots of the
subtrees whose leaves are gone.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from claimbridge.audit.merkle import (
    CompactRange,
    LeafHashes,
    ProofUnavailable,
    consistency_path,
    inclusion_path,
    largest_power_of_two_below,
    leaf_hash,
    node_hash,
)
from claimbridge.storage.audit import add_tree_nodes, event_hashes_between, first_seq, tree_node

STORED_FROM_LEVEL = 8
STORED_FROM_LEAVES = 1 << STORED_FROM_LEVEL
"""Subtrees of 256 leaves and more are stored: about one row per 128 events."""


class StoredSubtrees:
    """``merkle.Subtrees`` over the database: node rows where stored, leaves elsewhere."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.first_kept = (first_seq(session) or 1) - 1
        """Leaf index of the oldest event not purged."""
        self._blocks: dict[int, list[bytes]] = {}

    def subtree_root(self, lo: int, hi: int) -> bytes:
        n = hi - lo
        perfect = n & (n - 1) == 0 and lo % n == 0
        if perfect and (n >= STORED_FROM_LEAVES or lo < self.first_kept):
            stored = tree_node(self.session, n.bit_length() - 1, lo // n)
            if stored is not None:
                return stored
        if lo >= self.first_kept and n <= STORED_FROM_LEAVES:
            return self._from_leaves(lo, hi)
        if n == 1:
            raise ProofUnavailable(detail=f"event {lo + 1} was purged")
        k = largest_power_of_two_below(n)
        return node_hash(self.subtree_root(lo, lo + k), self.subtree_root(lo + k, hi))

    def _from_leaves(self, lo: int, hi: int) -> bytes:
        # A small subtree of the RFC 9162 split always lies inside one aligned
        # block of STORED_FROM_LEAVES leaves: read each block once per proof.
        # (After a purge a block may start with purged leaves: it is read from
        # the first kept one, and ``lo`` is never below that.)
        block = lo // STORED_FROM_LEAVES
        start = max(block * STORED_FROM_LEAVES, self.first_kept)
        if block not in self._blocks:
            end = (block + 1) * STORED_FROM_LEAVES
            self._blocks[block] = [
                leaf_hash(h) for h in event_hashes_between(self.session, start, end)
            ]
        hashes = self._blocks[block]
        if len(hashes) < hi - start:
            raise ProofUnavailable(detail=f"the log holds fewer than {hi} events")
        return LeafHashes(hashes).subtree_root(lo - start, hi - start)


def stored_inclusion_path(session: Session, seq: int, tree_size: int) -> list[bytes]:
    """The audit path of event ``seq`` in the tree of the first ``tree_size`` events."""
    return inclusion_path(seq - 1, tree_size, StoredSubtrees(session))


def stored_consistency_path(session: Session, old_size: int, new_size: int) -> list[bytes]:
    return consistency_path(old_size, new_size, StoredSubtrees(session))


def extend_tree(session: Session, tree: CompactRange, event_hashes: Iterable[bytes]) -> None:
    """Append events to ``tree``, storing each large subtree it completes."""
    nodes: list[tuple[int, int, bytes]] = []

    def keep(level: int, index: int, root: bytes) -> None:
        if level >= STORED_FROM_LEVEL:
            nodes.append((level, index, root))

    for event_hash in event_hashes:
        tree.append_hash_reporting(leaf_hash(event_hash), keep)
        if len(nodes) >= 500:
            add_tree_nodes(session, nodes)
            nodes.clear()
    add_tree_nodes(session, nodes)


def store_frontier(session: Session, tree: CompactRange) -> None:
    """Store the perfect subtrees the compact range is made of, whatever their size."""
    nodes, start = [], 0
    for root in tree.frontier:
        level = _frontier_level(tree.size, start)
        nodes.append((level, start >> level, root))
        start += 1 << level
    add_tree_nodes(session, nodes)


def _frontier_level(size: int, start: int) -> int:
    """The level of the next frontier subtree after ``start`` leaves: the highest
    set bit of what remains."""
    return (size - start).bit_length() - 1
