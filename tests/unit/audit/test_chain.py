"""The hash chain: every edit, deletion, insertion, repeat and reordering is named where it is."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claimbridge.audit.canonical import encode_event
from claimbridge.audit.chain import (
    DOMAIN,
    GENESIS,
    GENESIS_HASH,
    ChainBroken,
    ChainedEvent,
    ChainHead,
    hash_event,
    link,
    verify_chain,
)
from claimbridge.errors import ClaimbridgeError
from tests.unit.audit.logs import chain_of, event_fields, head_of, make_log

LOG_SIZE = 100
LOG = make_log(LOG_SIZE)
HEADS = [GENESIS, *(head_of(LOG[: i + 1]) for i in range(LOG_SIZE))]
"""HEADS[k] is the head after event seq k."""


def _broken_at(events: list[ChainedEvent], *, since: ChainHead = GENESIS) -> int:
    with pytest.raises(ChainBroken) as caught:
        verify_chain(events, since=since)
    assert caught.value.where == f"event {caught.value.seq}"
    return caught.value.seq


def _replace(events: list[ChainedEvent], seq: int, event: ChainedEvent) -> list[ChainedEvent]:
    return [*events[: seq - 1], event, *events[seq:]]


def _flips(value: bytes) -> Iterator[bytes]:
    mutated = bytearray(value)
    for i in range(len(value)):
        for bit in range(8):
            mutated[i] ^= 1 << bit
            yield bytes(mutated)
            mutated[i] ^= 1 << bit


# --- Clean logs -----------------------------------------------------------------------


def test_clean_log_verifies_to_its_last_event() -> None:
    assert verify_chain(LOG) == HEADS[LOG_SIZE]


def test_empty_log_verifies_to_the_genesis() -> None:
    assert verify_chain([]) == GENESIS
    assert verify_chain([], since=HEADS[40]) == HEADS[40]


def test_first_event_links_to_32_zero_bytes() -> None:
    assert LOG[0].prev_hash == GENESIS_HASH == bytes(32)


def test_event_hash_is_domain_prev_and_canonical_bytes() -> None:
    # IMPORTANT: the frozen chain rule, computed independently of chain.py.
    event = LOG[4]
    expected = hashlib.sha256(b"claimbridge/audit/v1\x00" + event.prev_hash + event.canonical)
    assert DOMAIN == b"claimbridge/audit/v1\x00"
    assert event.event_hash == expected.digest() == hash_event(event.prev_hash, event.canonical)


def test_verification_resumes_from_an_earlier_head() -> None:
    assert verify_chain(LOG[60:], since=HEADS[60]) == HEADS[LOG_SIZE]


def test_resuming_from_a_wrong_head_is_refused_at_the_first_event() -> None:
    assert _broken_at(LOG[60:], since=HEADS[59]) == 60
    assert _broken_at(LOG[60:], since=ChainHead(seq=60, event_hash=HEADS[59].event_hash)) == 61


def test_link_refuses_bytes_that_carry_another_seq() -> None:
    with pytest.raises(ChainBroken):
        link(HEADS[3], encode_event(event_fields(5)))


def test_chain_broken_is_a_claimbridge_error_with_a_safe_message() -> None:
    with pytest.raises(ChainBroken) as caught:
        verify_chain(LOG[1:])
    error = caught.value
    assert isinstance(error, ClaimbridgeError)
    assert error.to_dict() == {
        "code": "audit_chain_broken",
        "message": "The audit log has been altered.",
        "where": "event 1",
    }


# --- The mutation suite ---------------------------------------------------------------


def test_every_bit_flip_in_every_event_is_caught_at_that_event() -> None:
    # Each mutated event k is checked from the true head after event k - 1
    # up to event k + 1. That is the very loop a full verification runs at
    # k (the prefix before it is unchanged and verifies to HEADS[k - 1]),
    # at a hundredth of the cost; the test below runs full verifications.
    flips, missed = 0, []
    for event in LOG:
        k, fields = event.seq, dataclasses.asdict(event)
        after, since = LOG[k : k + 1], HEADS[k - 1]
        for field in ("canonical", "prev_hash", "event_hash"):
            for mutated in _flips(fields[field]):
                bad = ChainedEvent(**{**fields, field: mutated})
                flips += 1
                # try/except rather than pytest.raises: this runs 370,000 times.
                try:
                    verify_chain([bad, *after], since=since)
                except ChainBroken as error:
                    if error.seq != k:
                        missed.append((k, field, error.seq))
                else:
                    missed.append((k, field, None))
        for bit in range(20):
            bad = dataclasses.replace(event, seq=k ^ (1 << bit))
            assert _broken_at([bad, *after], since=since) == k
    assert missed == []
    assert flips == 8 * sum(len(e.canonical) + 64 for e in LOG)


@pytest.mark.parametrize("k", [1, 2, 37, 64, 99, 100])
@pytest.mark.parametrize("field", ["canonical", "prev_hash", "event_hash"])
def test_a_flip_is_named_by_a_full_verification_too(k: int, field: str) -> None:
    event = LOG[k - 1]
    value = getattr(event, field)
    for position in (0, len(value) // 2, len(value) - 1):
        mutated = bytearray(value)
        mutated[position] ^= 0x01
        bad = dataclasses.replace(event, **{field: bytes(mutated)})
        assert _broken_at(_replace(LOG, k, bad)) == k


@pytest.mark.parametrize("k", [1, 50, 100])
def test_edited_field_is_caught_at_the_event(k: int) -> None:
    edited = dataclasses.replace(
        LOG[k - 1], canonical=encode_event(event_fields(k, action="phi:patient:export"))
    )
    assert _broken_at(_replace(LOG, k, edited)) == k


@pytest.mark.parametrize("k", [1, 50, 99])
def test_edited_field_with_recomputed_hash_is_caught_at_the_next_event(k: int) -> None:
    canonical = encode_event(event_fields(k, outcome="success", purpose="treatment"))
    edited = ChainedEvent(
        seq=k,
        canonical=canonical,
        prev_hash=LOG[k - 1].prev_hash,
        event_hash=hash_event(LOG[k - 1].prev_hash, canonical),
    )
    assert _broken_at(_replace(LOG, k, edited)) == k + 1


def test_edit_with_the_rest_of_the_chain_recomputed_passes_the_chain_alone() -> None:
    # The chain cannot see a rewrite of everything after the edit: that is
    # what signed checkpoints are for (test_checkpoints.py catches it).
    rewritten = [*LOG[:49], *chain_of([event_fields(50, purpose="treatment")], since=HEADS[49])]
    rewritten += chain_of([event_fields(s) for s in range(51, 101)], since=head_of(rewritten))
    assert verify_chain(rewritten).seq == LOG_SIZE
    assert verify_chain(rewritten) != HEADS[LOG_SIZE]


@pytest.mark.parametrize("k", [1, 2, 50, 99])
def test_deleted_event_is_caught_where_it_was(k: int) -> None:
    assert _broken_at([*LOG[: k - 1], *LOG[k:]]) == k


@pytest.mark.parametrize("k", [1, 50, 99])
def test_deleted_event_with_renumbered_successors_is_caught(k: int) -> None:
    # The later rows renumbered to close the gap, their hashes left alone.
    renumbered = [dataclasses.replace(e, seq=e.seq - 1) for e in LOG[k:]]
    assert _broken_at([*LOG[: k - 1], *renumbered]) == k


@pytest.mark.parametrize("k", [1, 50, 99])
def test_deleted_event_with_re_encoded_successors_is_caught(k: int) -> None:
    # The later rows renumbered and re-encoded, their stored hashes kept.
    moved = [
        dataclasses.replace(e, seq=e.seq - 1, canonical=encode_event(event_fields(e.seq - 1)))
        for e in LOG[k:]
    ]
    assert _broken_at([*LOG[: k - 1], *moved]) == k


@pytest.mark.parametrize("k", [1, 50, 99])
def test_deleted_event_with_the_rest_relinked_is_caught_by_the_seqs_it_records(k: int) -> None:
    # Event k removed, the later rows renumbered and their hashes recomputed
    # over their unchanged bytes: every link holds, but event k + 1's bytes
    # still say k + 1 where k is due.
    head, relinked = HEADS[k - 1], []
    for event in LOG[k:]:
        moved = ChainedEvent(
            seq=head.seq + 1,
            canonical=event.canonical,
            prev_hash=head.event_hash,
            event_hash=hash_event(head.event_hash, event.canonical),
        )
        relinked.append(moved)
        head = head_of([moved])
    assert _broken_at([*LOG[: k - 1], *relinked]) == k


@pytest.mark.parametrize("k", [1, 50, 100])
def test_inserted_event_is_caught_after_it(k: int) -> None:
    # A well-formed event slipped in at position k, linked to its predecessor.
    forged = chain_of([event_fields(k, action="auth:login:succeeded")], since=HEADS[k - 1])[0]
    assert _broken_at([*LOG[: k - 1], forged, *LOG[k - 1 :]]) == k + 1


@pytest.mark.parametrize("k", [1, 50])
def test_inserted_event_with_renumbered_successors_is_caught(k: int) -> None:
    forged = chain_of([event_fields(k, action="auth:login:succeeded")], since=HEADS[k - 1])[0]
    shifted = [dataclasses.replace(e, seq=e.seq + 1) for e in LOG[k - 1 :]]
    assert _broken_at([*LOG[: k - 1], forged, *shifted]) == k + 1


@pytest.mark.parametrize("k", [1, 50, 100])
def test_duplicated_event_is_caught_at_the_copy(k: int) -> None:
    assert _broken_at([*LOG[:k], LOG[k - 1], *LOG[k:]]) == k + 1


@pytest.mark.parametrize(("i", "j"), [(1, 2), (10, 11), (10, 90), (99, 100)])
def test_reordered_events_are_caught_at_the_first_moved(i: int, j: int) -> None:
    swapped = list(LOG)
    swapped[i - 1], swapped[j - 1] = swapped[j - 1], swapped[i - 1]
    assert _broken_at(swapped) == i


def test_swapped_seqs_with_swapped_positions_are_caught() -> None:
    # Rows 10 and 11 swap places and seq numbers: the bytes still say otherwise.
    swapped = list(LOG)
    swapped[9] = dataclasses.replace(LOG[10], seq=10)
    swapped[10] = dataclasses.replace(LOG[9], seq=11)
    assert _broken_at(swapped) == 10


def test_truncated_tail_passes_the_chain_alone() -> None:
    # Cutting the tail leaves a valid shorter chain; a saved checkpoint
    # catches it (test_checkpoints.py).
    assert verify_chain(LOG[:90]) == HEADS[90]


# --- No false alarms ------------------------------------------------------------------

field_values = st.one_of(
    st.none(),
    st.text(max_size=40),
    st.integers(-(2**53) + 1, 2**53 - 1),
    st.lists(st.text(max_size=10), max_size=3),
)


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.dictionaries(
            st.sampled_from(["action", "purpose", "resource_id", "actor_roles", "count"]),
            field_values,
        ),
        max_size=40,
    ),
    st.data(),
)
def test_clean_logs_always_verify(extra: list[dict[str, object]], data: st.DataObject) -> None:
    events = chain_of([{**event_fields(i + 1), **fields} for i, fields in enumerate(extra)])
    head = verify_chain(events)
    assert head == head_of(events)
    split = data.draw(st.integers(0, len(events)), label="split")
    resumed = verify_chain(events[split:], since=verify_chain(events[:split]))
    assert resumed == head
