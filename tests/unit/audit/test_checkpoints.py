"""Signed checkpoints: the text form, forgeries, and what a practice proves with what it saved."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claimbridge.audit import merkle
from claimbridge.audit.chain import ChainBroken, ChainedEvent, verify_chain
from claimbridge.audit.checkpoints import (
    EMPTY_LOG,
    Checkpoint,
    CheckpointForged,
    CheckpointMalformed,
    LogRewritten,
    LogState,
    LogTruncated,
    SignedCheckpoint,
    encode_body,
    format_checkpoint,
    key_id,
    parse_checkpoint,
    sign_checkpoint,
    verify_checkpoint,
    verify_log,
    verify_saved,
)
from claimbridge.audit.merkle import EMPTY_ROOT, ProofInvalid, consistency_proof
from claimbridge.crypto.signing import SigningKey
from claimbridge.errors import ValidationFailed
from tests.unit.audit.logs import chain_of, event_fields, head_of, make_log

KEY = SigningKey.generate()
PUBLIC_KEY = KEY.public_key_bytes()
OTHER_KEY = SigningKey.generate()
LOG_ID = "clinic-0001.claimbridge.example/audit"
ISSUED = datetime(2025, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)
LOG = make_log(100)
LEAVES = [event.event_hash for event in LOG]


def checkpoint_at(
    size: int, *, leaves: list[bytes] = LEAVES, key: SigningKey = KEY, log_id: str = LOG_ID
) -> SignedCheckpoint:
    cp = Checkpoint(
        tree_size=size,
        root_hash=merkle.root(leaves[:size]),
        issued_at=ISSUED + timedelta(minutes=size),
        log_id=log_id,
    )
    return sign_checkpoint(cp, key)


def rewritten_log(at: int) -> list[ChainedEvent]:
    """LOG with event ``at`` edited and every hash after it recomputed."""
    tail = [event_fields(at, purpose="treatment")]
    tail += [event_fields(seq) for seq in range(at + 1, len(LOG) + 1)]
    return [*LOG[: at - 1], *chain_of(tail, since=head_of(LOG[: at - 1]))]


# --- The format -----------------------------------------------------------------------


def test_body_is_the_documented_four_lines() -> None:
    # IMPORTANT: the frozen v1 body. Saved checkpoints stop verifying if it changes.
    cp = Checkpoint(
        tree_size=8,
        root_hash=bytes.fromhex("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
        issued_at=datetime(2025, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
        log_id="clinic-0001.claimbridge/audit",
    )
    assert encode_body(cp) == (
        b"clinic-0001.claimbridge/audit\n"
        b"8\n"
        b"XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n"
        b"issued-at 2025-01-02T03:04:05.000006Z\n"
    )


def test_text_form_is_body_blank_line_and_one_signature_line() -> None:
    signed = checkpoint_at(100)
    text = format_checkpoint(signed)
    body, signature_line = text.split("\n\n")
    assert body + "\n" == encode_body(signed.checkpoint).decode("ascii")
    mark, name, blob = signature_line.removesuffix("\n").split(" ")
    assert (mark, name) == ("\u2014", "claimbridge/audit/checkpoint/v1")
    assert base64.b64decode(blob) == key_id(PUBLIC_KEY) + signed.signature
    assert len(signed.key_id) == 4


def test_text_form_round_trips() -> None:
    signed = checkpoint_at(37)
    parsed = parse_checkpoint(format_checkpoint(signed))
    assert parsed == signed
    assert verify_checkpoint(parsed, PUBLIC_KEY) == signed.checkpoint


def test_signature_covers_a_domain_label_not_the_bare_body() -> None:
    # A signature over the bare body (what a C2SP note signs) must not pass,
    # nor may a signature this key made for anything else.
    signed = checkpoint_at(10)
    bare = KEY.sign(encode_body(signed.checkpoint))
    with pytest.raises(CheckpointForged):
        verify_checkpoint(dataclasses.replace(signed, signature=bare), PUBLIC_KEY)


@pytest.mark.parametrize(
    "changes",
    [
        {"log_id": ""},
        {"log_id": "has space"},
        {"log_id": "a+b"},
        {"log_id": "x" * 256},
        {"tree_size": -1},
        {"tree_size": 2**63},
        {"root_hash": b"\x00" * 31},
        {"issued_at": datetime(2025, 1, 1)},  # noqa: DTZ001 - naive on purpose
    ],
)
def test_checkpoint_fields_are_validated(changes: dict[str, object]) -> None:
    fields: dict[str, object] = {
        "tree_size": 1,
        "root_hash": bytes(32),
        "issued_at": ISSUED,
        "log_id": LOG_ID,
    }
    with pytest.raises(CheckpointMalformed):
        Checkpoint(**{**fields, **changes})  # type: ignore[arg-type]


def _good_text() -> str:
    return format_checkpoint(checkpoint_at(100))


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t.replace("\n", "\r\n"),
        lambda t: t.replace("\n100\n", "\n0100\n"),
        lambda t: t.replace("\n100\n", "\n+100\n"),
        lambda t: t.replace("\n100\n", "\n1e2\n"),
        lambda t: t.replace("\n\n", "\n"),
        lambda t: t + "\u2014 another-key AAAA\n",
        lambda t: t.removesuffix("\n"),
        lambda t: t.replace("issued-at ", "issued-at  "),
        lambda t: t.replace("issued-at 2025-03-04", "issued-at 2025-02-30"),
        lambda t: t.replace(".890123Z", ".890123+00:00"),
        lambda t: t.replace("issued-at", "issued_at"),
        lambda t: t.replace("\u2014 ", "-- "),
        lambda t: t.replace("checkpoint/v1", "checkpoint/v2"),
        lambda t: t.replace("=", ""),
        lambda t: " " + t,
        lambda t: t + "x" * 1024,
        lambda t: "",
    ],
)
def test_malformed_text_is_refused(mangle: object) -> None:
    assert callable(mangle)
    with pytest.raises(CheckpointMalformed):
        parse_checkpoint(mangle(_good_text()))


def test_non_canonical_base64_is_refused() -> None:
    text = _good_text()
    root_line = text.split("\n")[2]
    # The last character of a 32-byte base64 string carries 2 unused bits.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    last = alphabet.index(root_line[-2])
    sloppy = root_line[:-2] + alphabet[last ^ 1] + "="
    assert base64.b64decode(sloppy) == base64.b64decode(root_line)
    with pytest.raises(CheckpointMalformed):
        parse_checkpoint(text.replace(root_line, sloppy))


# --- Forgeries ------------------------------------------------------------------------


def test_checkpoint_signed_by_another_key_is_forged() -> None:
    with pytest.raises(CheckpointForged):
        verify_checkpoint(checkpoint_at(100, key=OTHER_KEY), PUBLIC_KEY)


def test_another_keys_signature_under_the_right_key_id_is_forged() -> None:
    forged = dataclasses.replace(checkpoint_at(100, key=OTHER_KEY), key_id=key_id(PUBLIC_KEY))
    with pytest.raises(CheckpointForged):
        verify_checkpoint(forged, PUBLIC_KEY)


@pytest.mark.parametrize(
    "changes",
    [
        {"tree_size": 101},
        {"tree_size": 99},
        {"root_hash": merkle.root(LEAVES[:99])},
        {"issued_at": ISSUED + timedelta(days=1)},
        {"log_id": "clinic-0002.claimbridge.example/audit"},
    ],
)
def test_any_change_to_a_signed_checkpoint_is_forged(changes: dict[str, object]) -> None:
    signed = checkpoint_at(100)
    altered = dataclasses.replace(
        signed, checkpoint=dataclasses.replace(signed.checkpoint, **changes)
    )
    with pytest.raises(CheckpointForged):
        verify_checkpoint(altered, PUBLIC_KEY)


def test_every_bit_flip_of_the_signature_or_key_id_is_forged() -> None:
    signed = checkpoint_at(100)
    for field in ("signature", "key_id"):
        value = getattr(signed, field)
        for bit in range(len(value) * 8):
            mutated = bytearray(value)
            mutated[bit // 8] ^= 1 << (bit % 8)
            with pytest.raises(CheckpointForged):
                verify_checkpoint(
                    dataclasses.replace(signed, **{field: bytes(mutated)}), PUBLIC_KEY
                )


def test_every_character_change_of_a_saved_checkpoint_is_refused() -> None:
    text = _good_text()
    for i, char in enumerate(text):
        for replacement in {"0", "A", "z", "/", "\n", " "} - {char}:
            tampered = text[:i] + replacement + text[i + 1 :]
            with pytest.raises(CheckpointForged):  # CheckpointMalformed is one too
                verify_checkpoint(parse_checkpoint(tampered), PUBLIC_KEY)


def test_garbage_public_key_is_refused_as_forged() -> None:
    with pytest.raises(CheckpointForged):
        verify_checkpoint(checkpoint_at(3), b"\x00" * 31)


# --- verify_saved: what a practice proves with two saved checkpoints -----------------


def _saved(size: int) -> SignedCheckpoint:
    # What the practice kept is text; it reads it back before verifying.
    return parse_checkpoint(format_checkpoint(checkpoint_at(size)))


@pytest.mark.parametrize(
    ("old", "new"), [(0, 0), (0, 100), (1, 2), (37, 100), (64, 100), (100, 100)]
)
def test_saved_checkpoints_of_an_honest_log_verify(old: int, new: int) -> None:
    proof = consistency_proof(old, new, LEAVES)
    assert verify_saved(_saved(old), _saved(new), proof, PUBLIC_KEY) == _saved(new).checkpoint


def test_smaller_new_checkpoint_is_a_truncation_or_rollback() -> None:
    with pytest.raises(LogTruncated) as caught:
        verify_saved(_saved(100), _saved(90), [], PUBLIC_KEY)
    assert caught.value.where == "event 91"


def test_rewritten_history_fails_the_consistency_proof() -> None:
    # The server rewrote event 40 and signs the new tree; the proof it can
    # offer from the old checkpoint does not hold.
    forged_leaves = [e.event_hash for e in rewritten_log(40)]
    new = checkpoint_at(100, leaves=forged_leaves)
    for proof in (consistency_proof(50, 100, forged_leaves), consistency_proof(50, 100, LEAVES)):
        with pytest.raises(ProofInvalid):
            verify_saved(_saved(50), new, proof, PUBLIC_KEY)


def test_two_signed_roots_for_one_size_are_a_rewrite() -> None:
    forged_leaves = [e.event_hash for e in rewritten_log(40)]
    with pytest.raises(LogRewritten):
        verify_saved(_saved(100), checkpoint_at(100, leaves=forged_leaves), [], PUBLIC_KEY)


def test_forged_old_or_new_checkpoint_is_refused() -> None:
    proof = consistency_proof(50, 100, LEAVES)
    with pytest.raises(CheckpointForged):
        verify_saved(checkpoint_at(50, key=OTHER_KEY), _saved(100), proof, PUBLIC_KEY)
    with pytest.raises(CheckpointForged):
        verify_saved(_saved(50), checkpoint_at(100, key=OTHER_KEY), proof, PUBLIC_KEY)


def test_checkpoints_of_two_logs_do_not_prove_anything_about_each_other() -> None:
    other_log = checkpoint_at(100, log_id="clinic-0002.claimbridge.example/audit")
    with pytest.raises(CheckpointForged):
        verify_saved(_saved(50), other_log, consistency_proof(50, 100, LEAVES), PUBLIC_KEY)


def test_signed_empty_checkpoint_with_a_non_empty_root_is_refused() -> None:
    bogus = sign_checkpoint(
        Checkpoint(tree_size=0, root_hash=bytes(32), issued_at=ISSUED, log_id=LOG_ID), KEY
    )
    assert bogus.checkpoint.root_hash != EMPTY_ROOT
    with pytest.raises(ProofInvalid):
        verify_saved(bogus, _saved(100), [], PUBLIC_KEY)


def test_mutated_consistency_proofs_between_saved_checkpoints_are_refused() -> None:
    old, new = _saved(37), _saved(100)
    proof = consistency_proof(37, 100, LEAVES)
    mutations = [proof[:-1], [*proof, proof[0]], [proof[0], *proof], proof[::-1], []]
    for i in range(len(proof)):
        for bit in range(256):
            node = bytearray(proof[i])
            node[bit // 8] ^= 1 << (bit % 8)
            mutations.append([*proof[:i], bytes(node), *proof[i + 1 :]])
    for mutated in mutations:
        with pytest.raises(ProofInvalid):
            verify_saved(old, new, mutated, PUBLIC_KEY)


# --- verify_log: the events themselves against a checkpoint ---------------------------


def test_clean_log_verifies_against_its_checkpoint() -> None:
    state = verify_log(LOG, checkpoint_at(100), PUBLIC_KEY)
    assert state.head == head_of(LOG)
    assert state.root() == merkle.root(LEAVES)


def test_log_grown_past_the_checkpoint_verifies() -> None:
    state = verify_log(LOG, checkpoint_at(64), PUBLIC_KEY)
    assert state.size == 100


def test_tail_truncation_is_caught_against_a_saved_checkpoint() -> None:
    saved = _saved(100)
    with pytest.raises(LogTruncated) as caught:
        verify_log(LOG[:90], saved, PUBLIC_KEY)
    assert caught.value.where == "event 91"


def test_whole_chain_recomputed_after_an_edit_is_caught_by_the_signed_root() -> None:
    rewritten = rewritten_log(40)
    assert verify_chain(rewritten).seq == 100  # the chain alone sees nothing
    with pytest.raises(LogRewritten) as caught:
        verify_log(rewritten, _saved(100), PUBLIC_KEY)
    assert caught.value.where == "events 1..100"


def test_rewrite_after_a_resumed_state_is_placed_after_it() -> None:
    state = verify_log(LOG[:30], _saved(30), PUBLIC_KEY)
    with pytest.raises(LogRewritten) as caught:
        verify_log(rewritten_log(40)[30:], _saved(100), PUBLIC_KEY, since=state)
    assert caught.value.where == "events 31..100"


def test_broken_chain_is_reported_at_its_event_not_as_a_wrong_root() -> None:
    edited = list(LOG)
    edited[99] = dataclasses.replace(LOG[99], event_hash=bytes(32))
    with pytest.raises(ChainBroken) as caught:
        verify_log(edited, _saved(100), PUBLIC_KEY)
    assert caught.value.seq == 100


def test_forged_checkpoint_fails_before_any_event_is_read() -> None:
    def events() -> Iterator[ChainedEvent]:
        raise AssertionError("read the events before checking the signature")
        yield LOG[0]

    with pytest.raises(CheckpointForged):
        verify_log(events(), checkpoint_at(100, key=OTHER_KEY), PUBLIC_KEY)


def test_verification_resumes_from_a_saved_state() -> None:
    first = verify_log(LOG[:60], _saved(60), PUBLIC_KEY)
    second = verify_log(LOG[60:], _saved(100), PUBLIC_KEY, since=first)
    assert second == verify_log(LOG, _saved(100), PUBLIC_KEY)


def test_state_already_at_the_checkpoint_size_is_checked_against_its_root() -> None:
    state = verify_log(LOG, _saved(100), PUBLIC_KEY)
    assert verify_log([], _saved(100), PUBLIC_KEY, since=state) == state
    forged_leaves = [e.event_hash for e in rewritten_log(40)]
    with pytest.raises(LogRewritten):
        verify_log([], checkpoint_at(100, leaves=forged_leaves), PUBLIC_KEY, since=state)


def test_state_past_the_checkpoint_is_refused() -> None:
    state = verify_log(LOG, _saved(100), PUBLIC_KEY)
    with pytest.raises(ValidationFailed):
        verify_log([], _saved(50), PUBLIC_KEY, since=state)


def test_log_state_refuses_a_frontier_of_the_wrong_size() -> None:
    state = verify_log(LOG[:3], _saved(3), PUBLIC_KEY)
    with pytest.raises(ValidationFailed):
        LogState(head=state.head, frontier=state.frontier[:1])
    assert EMPTY_LOG.root() == EMPTY_ROOT


@settings(max_examples=25, deadline=None)
@given(
    st.integers(0, 100).flatmap(
        lambda size: st.tuples(st.just(size), st.integers(0, size), st.integers(size, 100))
    )
)
def test_no_false_alarms_on_clean_logs(sizes: tuple[int, int, int]) -> None:
    size, resume_at, log_length = sizes
    saved = _saved(size)
    full = verify_log(LOG[:log_length], saved, PUBLIC_KEY)
    first = verify_log(LOG[:resume_at], _saved(resume_at), PUBLIC_KEY)
    assert verify_log(LOG[resume_at:log_length], saved, PUBLIC_KEY, since=first) == full
    assert verify_saved(
        _saved(resume_at), saved, consistency_proof(resume_at, size, LEAVES), PUBLIC_KEY
    )
