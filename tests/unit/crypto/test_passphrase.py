"""Passphrase-sealed files: they open with the passphrase, and only with it, untouched."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from claimbridge.crypto.errors import DecryptionFailed
from claimbridge.crypto.passphrase import (
    HEADER_SIZE,
    MAGIC,
    MIN_SCRYPT_N,
    decrypt_with_passphrase,
    decrypt_with_passphrase_to_path,
    encrypt_with_passphrase,
)
from claimbridge.crypto.streams import SEGMENT_SIZE
from claimbridge.errors import ValidationFailed

PASSPHRASE = "correct horse battery staple"


def seal(plaintext: bytes, passphrase: str = PASSPHRASE) -> bytes:
    out = io.BytesIO()
    encrypt_with_passphrase(io.BytesIO(plaintext), out, passphrase, scrypt_n=MIN_SCRYPT_N)
    return out.getvalue()


def opened(sealed: bytes, passphrase: str = PASSPHRASE) -> bytes:
    out = io.BytesIO()
    decrypt_with_passphrase(io.BytesIO(sealed), out, passphrase)
    return out.getvalue()


@pytest.mark.parametrize("size", [0, 1, SEGMENT_SIZE, SEGMENT_SIZE + 1, 3 * SEGMENT_SIZE + 7])
def test_a_sealed_file_opens_with_its_passphrase(size: int) -> None:
    plaintext = os.urandom(size)

    sealed = seal(plaintext)

    assert sealed.startswith(MAGIC)
    assert opened(sealed) == plaintext


def test_a_wrong_passphrase_fails() -> None:
    sealed = seal(b"the practice's records")

    with pytest.raises(DecryptionFailed):
        opened(sealed, "correct horse battery stapler")


def test_the_same_file_seals_differently_each_time() -> None:
    assert seal(b"same") != seal(b"same")


@pytest.mark.parametrize("at", [4, 5, 8, HEADER_SIZE - 1, HEADER_SIZE + 3, -1])
def test_any_changed_byte_fails(at: int) -> None:
    sealed = bytearray(seal(b"x" * 1000))
    sealed[at] ^= 0x01

    with pytest.raises(DecryptionFailed):
        opened(bytes(sealed))


def test_a_cut_file_fails() -> None:
    sealed = seal(os.urandom(2 * SEGMENT_SIZE + 5))

    for cut in (HEADER_SIZE - 1, HEADER_SIZE + 10, len(sealed) - 1):
        with pytest.raises(DecryptionFailed):
            opened(sealed[:cut])


def test_a_header_asking_for_an_absurd_cost_is_refused_before_deriving() -> None:
    sealed = bytearray(seal(b"x"))
    sealed[5] = 40  # n = 2**40: would need terabytes

    with pytest.raises(DecryptionFailed):
        opened(bytes(sealed))


def test_short_passphrases_and_weak_costs_are_refused() -> None:
    with pytest.raises(ValidationFailed):
        seal(b"x", "short")
    with pytest.raises(ValueError, match="power of two"):
        encrypt_with_passphrase(io.BytesIO(b"x"), io.BytesIO(), PASSPHRASE, scrypt_n=1024)


def test_decrypting_to_a_path_leaves_nothing_when_it_fails(tmp_path: Path) -> None:
    sealed = seal(os.urandom(SEGMENT_SIZE + 10))
    target = tmp_path / "out.bin"

    with pytest.raises(DecryptionFailed):
        decrypt_with_passphrase_to_path(io.BytesIO(sealed[:-1]), target, PASSPHRASE)

    assert list(tmp_path.iterdir()) == []
    decrypt_with_passphrase_to_path(io.BytesIO(sealed), target, PASSPHRASE)
    assert target.stat().st_size == SEGMENT_SIZE + 10
