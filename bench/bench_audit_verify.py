"""How fast a practice verifies the audit log, against raw SHA-256 on the same bytes.

    uv run python bench/bench_audit_verify.py [events]

Builds a log of 1,000,000 synthetic events in memory (canonical encodings
of about 300 bytes, linked into a hash chain, with a signed checkpoint over
their Merkle root), then prints, each the best of several interleaved runs:

1. raw ``hashlib.sha256(canonical).digest()`` over every event's bytes:
   the least any verifier that reads each event once can do;
2. ``verify_chain``: the hash chain alone;
3. ``verify_log``: chain and Merkle tree, checked against the signed
   checkpoint (what ``claimbridge audit verify`` will run);

in events/s, with the time for the whole log and the ratio to raw
hashing. The aim is to verify 1,000,000 events (chain and tree) in under
10 s. Building the log (encoding each event with ``encode_event``) is
timed and printed separately: re-encoding stored rows costs that much on
top when verifying from the database.
"""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from claimbridge.audit.canonical import encode_event
from claimbridge.audit.chain import GENESIS, ChainedEvent, ChainHead, hash_event, verify_chain
from claimbridge.audit.checkpoints import Checkpoint, sign_checkpoint, verify_log
from claimbridge.audit.merkle import CompactRange
from claimbridge.crypto.signing import SigningKey

EVENTS = 1_000_000
ROUNDS = 3
AIM_SECONDS = 10.0
T0 = datetime(2025, 1, 1, tzinfo=UTC)


def best(rounds: int, *runs: Callable[[], float]) -> list[float]:
    """Run each timing function ``rounds`` times, interleaved; keep each one's fastest."""
    fastest = [float("inf")] * len(runs)
    for _ in range(rounds):
        for i, run in enumerate(runs):
            fastest[i] = min(fastest[i], run())
    return fastest


def fields(seq: int) -> dict[str, object]:
    """A synthetic event of the storage shape, about 300 bytes once encoded; no PHI."""
    return {
        "seq": seq,
        "occurred_at": T0 + timedelta(microseconds=seq * 1_234),
        "actor_user_id": f"10000000-0000-4000-8000-{seq % 997:012d}",
        "action": "phi:patient:read",
        "resource_type": "patient",
        "resource_id": f"30000000-0000-4000-8000-{seq:012d}",
        "tenant_id": "40000000-0000-4000-8000-000000000001",
        "purpose": "payment",
        "outcome": "success",
    }


def build_log(count: int) -> tuple[list[ChainedEvent], float]:
    """``count`` linked events, and the seconds spent encoding them."""
    start = time.perf_counter()
    encoded = [encode_event(fields(seq)) for seq in range(1, count + 1)]
    encode_s = time.perf_counter() - start
    events, prev = [], GENESIS.event_hash
    for seq, canonical in enumerate(encoded, start=1):
        event_hash = hash_event(prev, canonical)
        events.append(ChainedEvent(seq, canonical, prev, event_hash))
        prev = event_hash
    return events, encode_s


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else EVENTS
    print(f"building {count:,} events ...", flush=True)
    events, encode_s = build_log(count)
    canonicals = [event.canonical for event in events]
    sizes = [len(c) for c in canonicals]
    total_bytes = sum(sizes)

    tree = CompactRange()
    for event in events:
        tree.append(event.event_hash)
    key = SigningKey.generate()
    checkpoint = sign_checkpoint(
        Checkpoint(
            tree_size=count, root_hash=tree.root(), issued_at=T0, log_id="bench.claimbridge/audit"
        ),
        key,
    )
    head = ChainHead(seq=count, event_hash=events[-1].event_hash)

    def raw() -> float:
        sha256 = hashlib.sha256
        start = time.perf_counter()
        for canonical in canonicals:
            sha256(canonical).digest()
        return time.perf_counter() - start

    def chain() -> float:
        start = time.perf_counter()
        verified = verify_chain(events)
        elapsed = time.perf_counter() - start
        assert verified == head
        return elapsed

    def chain_and_tree() -> float:
        start = time.perf_counter()
        state = verify_log(events, checkpoint, key.public_key_bytes())
        elapsed = time.perf_counter() - start
        assert state.head == head
        return elapsed

    raw_s, chain_s, log_s = best(ROUNDS, raw, chain, chain_and_tree)
    rate = count / log_s
    print(
        f"audit verification, {count:,} events of {min(sizes)}-{max(sizes)} bytes "
        f"(mean {total_bytes / count:.0f}), best of {ROUNDS}"
    )
    print(f"  raw hashlib.sha256 of each event   {count / raw_s:>12,.0f} events/s  {raw_s:6.2f} s")
    print(
        f"  verify_chain (chain only)          {count / chain_s:>12,.0f} events/s  {chain_s:6.2f} s"
    )
    print(f"  verify_log (chain + Merkle tree)   {rate:>12,.0f} events/s  {log_s:6.2f} s")
    print(f"  ratio verify_log / raw             {raw_s / log_s:>12.2f}")
    print(f"  ratio verify_chain / raw           {raw_s / chain_s:>12.2f}")
    projected = log_s * EVENTS / count
    verdict = "met" if projected < AIM_SECONDS else "MISSED"
    print(
        f"  1,000,000 events, chain + tree     {projected:>12.2f} s   "
        f"(aim < {AIM_SECONDS:.0f} s: {verdict})"
    )
    encode_rate = count / encode_s
    print(f"  for reference: encode_event        {encode_rate:>12,.0f} events/s  {encode_s:6.2f} s")
    print(f"  raw SHA-256 throughput             {total_bytes / raw_s / 1e6:>12,.0f} MB/s")


if __name__ == "__main__":
    main()
