"""Ed25519 recipes: sign, verify, refuse."""

from __future__ import annotations

import copy
import pickle

import pytest

from claimbridge.crypto.errors import SignatureInvalid
from claimbridge.crypto.signing import PUBLIC_KEY_SIZE, SIGNATURE_SIZE, SigningKey, verify

MESSAGE = b"claimbridge/receipt/v1\x00batch-0001"


def test_signature_verifies() -> None:
    key = SigningKey.generate()
    signature = key.sign(MESSAGE)
    assert len(signature) == SIGNATURE_SIZE
    assert len(key.public_key_bytes()) == PUBLIC_KEY_SIZE
    verify(key.public_key_bytes(), MESSAGE, signature)


def test_signatures_are_deterministic() -> None:
    key = SigningKey.generate()
    assert key.sign(MESSAGE) == key.sign(MESSAGE)


def test_other_message_is_refused() -> None:
    key = SigningKey.generate()
    with pytest.raises(SignatureInvalid):
        verify(key.public_key_bytes(), MESSAGE + b"!", key.sign(MESSAGE))


def test_other_key_is_refused() -> None:
    signer, other = SigningKey.generate(), SigningKey.generate()
    with pytest.raises(SignatureInvalid):
        verify(other.public_key_bytes(), MESSAGE, signer.sign(MESSAGE))


def test_every_flipped_bit_of_the_signature_is_refused() -> None:
    key = SigningKey.generate()
    signature = key.sign(MESSAGE)
    for bit in range(len(signature) * 8):
        tampered = bytearray(signature)
        tampered[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(SignatureInvalid):
            verify(key.public_key_bytes(), MESSAGE, bytes(tampered))


@pytest.mark.parametrize(
    ("public_key", "signature"),
    [
        (bytes(31), bytes(64)),
        (bytes(33), bytes(64)),
        (bytes(32), bytes(63)),
        (bytes(32), bytes(64)),
        (b"", b""),
    ],
)
def test_malformed_input_is_refused_the_same_way(public_key: bytes, signature: bytes) -> None:
    with pytest.raises(SignatureInvalid) as caught:
        verify(public_key, MESSAGE, signature)
    assert str(caught.value) == "The signature is not valid."


def test_repr_shows_only_the_public_key() -> None:
    key = SigningKey.generate()
    assert repr(key) == f"SigningKey(public_key={key.public_key_bytes().hex()})"


def test_signing_key_cannot_be_pickled_or_copied() -> None:
    key = SigningKey.generate()
    with pytest.raises(TypeError):
        pickle.dumps(key)
    with pytest.raises(TypeError):
        copy.deepcopy(key)
