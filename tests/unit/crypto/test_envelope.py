"""Field encryption: round trips, context binding, tampering, key limits."""

from __future__ import annotations

import copy
import pickle
import struct
import threading
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given
from hypothesis import strategies as st

from claimbridge.crypto import envelope
from claimbridge.crypto.envelope import DataKey, FieldContext, seal, sealed_key_id, unseal
from claimbridge.crypto.errors import DecryptionFailed, KeyExhausted
from claimbridge.errors import NotFound

CONTEXT = FieldContext(tenant="tenant-a", table="patients", column="last_name", row_id="row-1")

# A Wycheproof key (tcId 73) as the data key secret, so the ciphertext body
# (GCM's keystream does not depend on the associated data) can be checked
# against the vector's.
VECTOR_SECRET = bytes.fromhex("92ace3e348cd821092cd921aa3546374299ab46209691bc28b8752d17f123c20")
VECTOR_NONCE = bytes.fromhex("00112233445566778899aabb")
VECTOR_PLAINTEXT = bytes.fromhex("00010203040506070809")
VECTOR_CIPHERTEXT_BODY = bytes.fromhex("e27abdd2d2a53d2f136b")

# IMPORTANT: a frozen envelope. If this test fails, stored data would no
# longer decrypt; change the version byte instead of this vector.
GOLDEN_ENVELOPE = bytes.fromhex(
    "01"  # version
    "000102030405060708090a0b0c0d0e0f"  # key id
    "00000007"  # KEK version 7
    "00112233445566778899aabb"  # nonce
    "a614da"  # ciphertext of b"Doe"
    "d80fe9342672bb1dc862c67f29822a93"  # tag
)


def make_key(*, limit: int = envelope.DEFAULT_ENCRYPTION_LIMIT) -> DataKey:
    return DataKey.generate(kek_version=1, encryption_limit=limit)


def vector_key() -> DataKey:
    return DataKey(key_id=bytes(range(16)), secret=VECTOR_SECRET, kek_version=7)


def lookup(*keys: DataKey) -> dict[bytes, DataKey]:
    return {key.key_id: key for key in keys}


NO_KEYS: dict[bytes, DataKey] = {}


@given(plaintext=st.binary(max_size=4096))
def test_unseal_inverts_seal_for_any_bytes(plaintext: bytes) -> None:
    key = make_key()
    blob = seal(plaintext, key=key, context=CONTEXT)
    assert unseal(blob, key_for=lookup(key).__getitem__, context=CONTEXT) == plaintext


@given(
    tenant=st.text(min_size=1, max_size=20),
    table=st.text(min_size=1, max_size=20),
    column=st.text(min_size=1, max_size=20),
    row_id=st.text(min_size=1, max_size=20),
)
def test_round_trip_holds_for_any_context(
    tenant: str, table: str, column: str, row_id: str
) -> None:
    key = make_key()
    context = FieldContext(tenant=tenant, table=table, column=column, row_id=row_id)
    blob = seal(b"123-45-6789", key=key, context=context)
    assert unseal(blob, key_for=lookup(key).__getitem__, context=context) == b"123-45-6789"


def test_seal_matches_the_frozen_golden_envelope() -> None:
    key = vector_key()
    context = FieldContext(tenant="tenant-a", table="patients", column="last_name", row_id="row-1")
    blob = envelope._seal_with_nonce(b"Doe", key, context, VECTOR_NONCE)
    assert blob == GOLDEN_ENVELOPE
    assert unseal(GOLDEN_ENVELOPE, key_for=lookup(key).__getitem__, context=context) == b"Doe"


def test_envelope_layout_matches_the_documented_format() -> None:
    # Rebuild the envelope from the module docstring with the library
    # directly, so the recipe cannot drift from its documentation.
    key = vector_key()
    blob = envelope._seal_with_nonce(VECTOR_PLAINTEXT, key, CONTEXT, VECTOR_NONCE)
    header = b"\x01" + bytes(range(16)) + struct.pack(">I", 7)
    parts = (CONTEXT.tenant, CONTEXT.table, CONTEXT.column, CONTEXT.row_id)
    aad = header + b"".join(struct.pack(">I", len(p.encode())) + p.encode() for p in parts)
    expected = (
        header + VECTOR_NONCE + AESGCM(VECTOR_SECRET).encrypt(VECTOR_NONCE, VECTOR_PLAINTEXT, aad)
    )
    assert blob == expected
    # The ciphertext body is the Wycheproof vector's: same key, nonce, message.
    assert blob[33:-16] == VECTOR_CIPHERTEXT_BODY
    assert len(blob) == 21 + 12 + len(VECTOR_PLAINTEXT) + 16


def test_seal_and_fixed_nonce_path_agree() -> None:
    key = make_key()
    blob = seal(b"value", key=key, context=CONTEXT)
    assert envelope._seal_with_nonce(b"value", key, CONTEXT, blob[21:33]) == blob


def test_fixed_nonce_path_takes_only_96_bit_nonces() -> None:
    with pytest.raises(ValueError, match="12 bytes"):
        envelope._seal_with_nonce(b"x", make_key(), CONTEXT, bytes(8))


def test_sealing_twice_gives_different_blobs() -> None:
    key = make_key()
    first = seal(b"same", key=key, context=CONTEXT)
    second = seal(b"same", key=key, context=CONTEXT)
    assert first != second
    assert first[21:33] != second[21:33]


def test_header_names_key_and_kek_version() -> None:
    key = DataKey.generate(kek_version=42)
    blob = seal(b"x", key=key, context=CONTEXT)
    assert blob[0] == 0x01
    assert sealed_key_id(blob) == key.key_id
    assert struct.unpack(">I", blob[17:21]) == (42,)


@pytest.mark.parametrize(
    "moved",
    [
        FieldContext(tenant="tenant-a", table="patients", column="last_name", row_id="row-2"),
        FieldContext(tenant="tenant-a", table="patients", column="first_name", row_id="row-1"),
        FieldContext(tenant="tenant-a", table="claims", column="last_name", row_id="row-1"),
        FieldContext(tenant="tenant-b", table="patients", column="last_name", row_id="row-1"),
    ],
    ids=["other-row", "other-column", "other-table", "other-tenant"],
)
def test_ciphertext_moved_elsewhere_does_not_decrypt(moved: FieldContext) -> None:
    key = make_key()
    blob = seal(b"Doe", key=key, context=CONTEXT)
    with pytest.raises(DecryptionFailed):
        unseal(blob, key_for=lookup(key).__getitem__, context=moved)


def test_context_encoding_is_unambiguous() -> None:
    a = FieldContext(tenant="ab", table="c", column="d", row_id="e")
    b = FieldContext(tenant="a", table="bc", column="d", row_id="e")
    assert a.encoded != b.encoded
    key = make_key()
    with pytest.raises(DecryptionFailed):
        unseal(seal(b"x", key=key, context=a), key_for=lookup(key).__getitem__, context=b)


def test_flipping_any_single_bit_fails() -> None:
    key = make_key()
    blob = seal(b"Jane Q. Public, 1970-01-01", key=key, context=CONTEXT)
    key_for = lookup(key).get

    def strict(key_id: bytes) -> DataKey:
        found = key_for(key_id)
        if found is None:
            raise KeyError(key_id)
        return found

    for bit in range(len(blob) * 8):
        tampered = bytearray(blob)
        tampered[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(DecryptionFailed):
            unseal(bytes(tampered), key_for=strict, context=CONTEXT)


@pytest.mark.parametrize("length", [0, 1, 20, 48])
def test_short_blob_fails(length: int) -> None:
    key = make_key()
    blob = seal(b"", key=key, context=CONTEXT)
    assert len(blob) == 49
    with pytest.raises(DecryptionFailed):
        unseal(blob[:length], key_for=lookup(key).__getitem__, context=CONTEXT)


def test_empty_plaintext_round_trips() -> None:
    key = make_key()
    blob = seal(b"", key=key, context=CONTEXT)
    assert unseal(blob, key_for=lookup(key).__getitem__, context=CONTEXT) == b""


def test_unknown_version_fails() -> None:
    key = make_key()
    blob = bytearray(seal(b"x", key=key, context=CONTEXT))
    blob[0] = 0x02
    with pytest.raises(DecryptionFailed):
        unseal(bytes(blob), key_for=lookup(key).__getitem__, context=CONTEXT)


def test_unknown_key_fails_as_decryption_failed() -> None:
    key = make_key()
    blob = seal(b"x", key=key, context=CONTEXT)
    with pytest.raises(DecryptionFailed):
        unseal(blob, key_for=NO_KEYS.__getitem__, context=CONTEXT)


def test_key_lookup_raising_not_found_fails_as_decryption_failed() -> None:
    def key_for(key_id: bytes) -> DataKey:
        raise NotFound(detail=key_id.hex())

    blob = seal(b"x", key=make_key(), context=CONTEXT)
    with pytest.raises(DecryptionFailed):
        unseal(blob, key_for=key_for, context=CONTEXT)


def test_wrong_key_returned_by_lookup_fails() -> None:
    right, wrong = make_key(), make_key()
    blob = seal(b"x", key=right, context=CONTEXT)
    with pytest.raises(DecryptionFailed):
        unseal(blob, key_for=lambda _: wrong, context=CONTEXT)


def test_every_failure_reads_the_same() -> None:
    key = make_key()
    blob = seal(b"x", key=key, context=CONTEXT)
    failures = []
    cases: list[tuple[bytes, Callable[[bytes], DataKey]]] = [
        (blob[:10], lookup(key).__getitem__),
        (b"\x09" + blob[1:], lookup(key).__getitem__),
        (blob, NO_KEYS.__getitem__),
        (blob[:-1] + bytes([blob[-1] ^ 1]), lookup(key).__getitem__),
    ]
    for bad, key_for in cases:
        with pytest.raises(DecryptionFailed) as caught:
            unseal(bad, key_for=key_for, context=CONTEXT)
        failures.append((str(caught.value), caught.value.to_dict()))
    assert all(failure == failures[0] for failure in failures)
    assert failures[0][0] == "The data could not be decrypted."


def test_sealed_key_id_refuses_non_envelopes() -> None:
    with pytest.raises(DecryptionFailed):
        sealed_key_id(b"\x02" + bytes(60))
    with pytest.raises(DecryptionFailed):
        sealed_key_id(b"\x01")


def test_value_sealed_under_old_kek_version_still_unseals_after_rewrap() -> None:
    # Rotation re-wraps a data key under a newer KEK: same id and secret,
    # new KEK version. Values sealed before keep naming the old version.
    old = DataKey.generate(kek_version=1)
    blob = seal(b"x", key=old, context=CONTEXT)
    rewrapped = DataKey(key_id=old.key_id, secret=old.secret_bytes(), kek_version=2)
    assert unseal(blob, key_for=lookup(rewrapped).__getitem__, context=CONTEXT) == b"x"


def test_data_key_repr_shows_no_secret() -> None:
    key = DataKey(key_id=bytes(16), secret=b"\xab" * 32, kek_version=3)
    text = repr(key) + str(key)
    assert "ab" * 4 not in text
    assert text.startswith("DataKey(key_id=" + "00" * 16)
    assert "kek_version=3" in text


def test_data_key_cannot_be_pickled_or_copied() -> None:
    key = make_key()
    with pytest.raises(TypeError):
        pickle.dumps(key)
    with pytest.raises(TypeError):
        copy.copy(key)


def test_data_keys_compare_by_identity() -> None:
    key = make_key()
    twin = DataKey(key_id=key.key_id, secret=key.secret_bytes(), kek_version=key.kek_version)
    assert key != twin
    assert key == key  # noqa: PLR0124 - identity is the point


def test_seal_raises_key_exhausted_past_the_limit() -> None:
    key = make_key(limit=3)
    for _ in range(3):
        seal(b"x", key=key, context=CONTEXT)
    assert key.encryptions == 3
    with pytest.raises(KeyExhausted):
        seal(b"x", key=key, context=CONTEXT)
    with pytest.raises(KeyExhausted):
        envelope._seal_with_nonce(b"x", key, CONTEXT, bytes(12))
    assert key.encryptions == 3


def test_exhausted_key_still_decrypts() -> None:
    key = make_key(limit=1)
    blob = seal(b"x", key=key, context=CONTEXT)
    with pytest.raises(KeyExhausted):
        seal(b"y", key=key, context=CONTEXT)
    assert unseal(blob, key_for=lookup(key).__getitem__, context=CONTEXT) == b"x"


def test_encryption_count_resumes_from_a_stored_value() -> None:
    key = DataKey(
        key_id=bytes(16), secret=bytes(32), kek_version=1, encryption_limit=10, encryptions=9
    )
    assert key.encryptions == 9
    seal(b"x", key=key, context=CONTEXT)
    with pytest.raises(KeyExhausted):
        seal(b"x", key=key, context=CONTEXT)


def test_encryption_limit_holds_across_threads() -> None:
    threads_count, per_thread, limit = 8, 250, 1500
    key = make_key(limit=limit)
    sealed: list[int] = []
    refused: list[int] = []
    barrier = threading.Barrier(threads_count)

    def work() -> None:
        barrier.wait()
        done = exhausted = 0
        for _ in range(per_thread):
            try:
                seal(b"x", key=key, context=CONTEXT)
                done += 1
            except KeyExhausted:
                exhausted += 1
        sealed.append(done)
        refused.append(exhausted)

    threads = [threading.Thread(target=work) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(sealed) == limit
    assert sum(refused) == threads_count * per_thread - limit
    assert key.encryptions == limit


def test_default_limit_is_well_inside_the_random_nonce_bound() -> None:
    key = DataKey.generate(kek_version=1)
    assert key.encryption_limit == 2**31
    assert key.encryptions == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"key_id": bytes(15)}, "16 bytes"),
        ({"secret": bytes(16)}, "32 bytes"),
        ({"kek_version": -1}, "unsigned 32-bit"),
        ({"kek_version": 2**32}, "unsigned 32-bit"),
        ({"encryption_limit": 0}, "limit"),
        ({"encryption_limit": 2**31 + 1}, "limit"),
        ({"encryptions": -1}, "negative"),
    ],
)
def test_data_key_rejects_malformed_parts(kwargs: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {"key_id": bytes(16), "secret": bytes(32), "kek_version": 1}
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        DataKey(**arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize("empty", ["tenant", "table", "column", "row_id"])
def test_field_context_rejects_empty_parts(empty: str) -> None:
    parts = {"tenant": "t", "table": "p", "column": "c", "row_id": "r"}
    parts[empty] = ""
    with pytest.raises(ValueError, match="non-empty"):
        FieldContext(**parts)


def test_field_context_is_a_frozen_value() -> None:
    same = FieldContext(tenant="tenant-a", table="patients", column="last_name", row_id="row-1")
    assert same == CONTEXT
    assert hash(same) == hash(CONTEXT)
    with pytest.raises(AttributeError):
        CONTEXT.row_id = "row-2"  # type: ignore[misc]
