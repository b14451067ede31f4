"""Streaming encryption: round trips at segment edges and every attack on order."""

from __future__ import annotations

import io
import os
import random
import stat
import struct
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from hypothesis import given, settings
from hypothesis import strategies as st

from claimbridge.crypto import _primitives, streams
from claimbridge.crypto.envelope import DataKey
from claimbridge.crypto.errors import DecryptionFailed
from claimbridge.crypto.streams import (
    HEADER_SIZE,
    SEGMENT_SIZE,
    decrypt_stream,
    decrypt_to_path,
    encrypt_stream,
)
from claimbridge.errors import PayloadTooLarge

AD = b"tenant-a/blob/0001"
CIPHER_SEGMENT = SEGMENT_SIZE + 16


@pytest.fixture(scope="module")
def key() -> DataKey:
    return DataKey.generate(kek_version=1)


def encrypt(plaintext: bytes, key: DataKey, ad: bytes = AD) -> bytes:
    out = io.BytesIO()
    assert encrypt_stream(io.BytesIO(plaintext), out, key=key, associated_data=ad) == len(plaintext)
    return out.getvalue()


def decrypt(ciphertext: bytes, key: DataKey, ad: bytes = AD) -> bytes:
    out = io.BytesIO()
    size = decrypt_stream(io.BytesIO(ciphertext), out, key=key, associated_data=ad)
    assert size == len(out.getvalue())
    return out.getvalue()


def segments(ciphertext: bytes) -> list[bytes]:
    body = ciphertext[HEADER_SIZE:]
    return [body[i : i + CIPHER_SEGMENT] for i in range(0, len(body), CIPHER_SEGMENT)]


SIZES = [
    0,
    1,
    SEGMENT_SIZE - 1,
    SEGMENT_SIZE,
    SEGMENT_SIZE + 1,
    2 * SEGMENT_SIZE + 1,
    3 * SEGMENT_SIZE - 1,
    3 * SEGMENT_SIZE,
]


@pytest.mark.parametrize("size", SIZES)
def test_round_trip_around_segment_boundaries(size: int, key: DataKey) -> None:
    plaintext = os.urandom(size)
    ciphertext = encrypt(plaintext, key)
    full, rest = divmod(size, SEGMENT_SIZE)
    expected_segments = max(1, full + (1 if rest else 0))
    assert len(ciphertext) == HEADER_SIZE + size + 16 * expected_segments
    assert decrypt(ciphertext, key) == plaintext


def test_empty_file_is_a_header_and_one_empty_final_segment(key: DataKey) -> None:
    ciphertext = encrypt(b"", key)
    assert len(ciphertext) == HEADER_SIZE + 16
    assert decrypt(ciphertext, key) == b""


def test_layout_matches_the_documented_format(
    key: DataKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Rebuild the stream from the module docstring with the library
    # directly, so the recipe cannot drift from its documentation.
    salt, prefix = bytes(range(32)), b"\xa0\xa1\xa2\xa3\xa4\xa5\xa6"
    draws = iter([salt, prefix])
    monkeypatch.setattr(_primitives, "random_bytes", lambda size: next(draws))
    plaintext = os.urandom(SEGMENT_SIZE + 5)
    ciphertext = encrypt(plaintext, key)
    header = b"\x01" + salt + prefix
    file_key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=salt, info=b"claimbridge/stream/v1\x00" + AD
    ).derive(key.secret_bytes())
    aes = AESGCM(file_key)
    first = aes.encrypt(prefix + struct.pack(">I", 0) + b"\x00", plaintext[:SEGMENT_SIZE], header)
    last = aes.encrypt(prefix + struct.pack(">I", 1) + b"\x01", plaintext[SEGMENT_SIZE:], header)
    assert ciphertext == header + first + last


def test_two_encryptions_of_one_file_differ(key: DataKey) -> None:
    assert encrypt(b"same", key) != encrypt(b"same", key)


def test_short_reads_do_not_shift_segment_boundaries(key: DataKey) -> None:
    class Trickle(io.RawIOBase):
        """A source that hands out at most 1000 bytes a read, like a pipe."""

        def __init__(self, data: bytes) -> None:
            self._data = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            return self._data.read(min(size, 1000) if size >= 0 else 1000)

    plaintext = os.urandom(2 * SEGMENT_SIZE + 7)
    out = io.BytesIO()
    encrypt_stream(Trickle(plaintext), out, key=key, associated_data=AD)  # type: ignore[arg-type]
    ciphertext = out.getvalue()
    assert ciphertext[HEADER_SIZE:] != b""
    back = io.BytesIO()
    decrypt_stream(Trickle(ciphertext), back, key=key, associated_data=AD)  # type: ignore[arg-type]
    assert back.getvalue() == plaintext


@pytest.mark.parametrize("size", [SEGMENT_SIZE, 2 * SEGMENT_SIZE, 2 * SEGMENT_SIZE + 9])
def test_dropping_the_final_segment_is_detected(size: int, key: DataKey) -> None:
    ciphertext = encrypt(os.urandom(size), key)
    truncated = ciphertext[:HEADER_SIZE] + b"".join(segments(ciphertext)[:-1])
    with pytest.raises(DecryptionFailed):
        decrypt(truncated, key)


@pytest.mark.parametrize("cut", [0, 1, HEADER_SIZE - 1, HEADER_SIZE, HEADER_SIZE + 15])
def test_cutting_into_the_header_or_first_tag_is_detected(cut: int, key: DataKey) -> None:
    ciphertext = encrypt(b"", key)
    with pytest.raises(DecryptionFailed):
        decrypt(ciphertext[:cut], key)


def test_truncation_inside_a_segment_is_detected(key: DataKey) -> None:
    ciphertext = encrypt(os.urandom(2 * SEGMENT_SIZE), key)
    for cut in (len(ciphertext) - 1, len(ciphertext) - 17, HEADER_SIZE + CIPHER_SEGMENT + 100):
        with pytest.raises(DecryptionFailed):
            decrypt(ciphertext[:cut], key)


def test_reordered_segments_are_detected(key: DataKey) -> None:
    ciphertext = encrypt(os.urandom(3 * SEGMENT_SIZE), key)
    first, second, third = segments(ciphertext)
    for order in ((second, first, third), (first, third, second), (first, first, third)):
        with pytest.raises(DecryptionFailed):
            decrypt(ciphertext[:HEADER_SIZE] + b"".join(order), key)


def test_segment_spliced_from_another_file_is_detected(key: DataKey) -> None:
    plaintext = os.urandom(2 * SEGMENT_SIZE + 3)
    mine, theirs = encrypt(plaintext, key), encrypt(plaintext, key)
    spliced = mine[:HEADER_SIZE] + segments(theirs)[0] + b"".join(segments(mine)[1:])
    with pytest.raises(DecryptionFailed):
        decrypt(spliced, key)
    swapped_header = theirs[:HEADER_SIZE] + mine[HEADER_SIZE:]
    with pytest.raises(DecryptionFailed):
        decrypt(swapped_header, key)


@pytest.mark.parametrize("size", [0, 10, SEGMENT_SIZE, SEGMENT_SIZE + 10])
def test_appended_data_is_detected(size: int, key: DataKey) -> None:
    ciphertext = encrypt(os.urandom(size), key)
    last = segments(ciphertext)[-1]
    for extra in (b"\x00", os.urandom(16), last, os.urandom(CIPHER_SEGMENT)):
        with pytest.raises(DecryptionFailed):
            decrypt(ciphertext + extra, key)


def test_flipping_any_bit_of_a_small_stream_fails(key: DataKey) -> None:
    ciphertext = encrypt(b"claim 0001: 99213 x1", key)
    for bit in range(len(ciphertext) * 8):
        tampered = bytearray(ciphertext)
        tampered[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(DecryptionFailed):
            decrypt(bytes(tampered), key)


def test_bit_flips_in_a_multi_segment_stream_fail(key: DataKey) -> None:
    ciphertext = encrypt(os.urandom(2 * SEGMENT_SIZE + 100), key)
    positions = [0, 1, 33, 39, HEADER_SIZE, HEADER_SIZE + CIPHER_SEGMENT - 1]
    positions += [HEADER_SIZE + CIPHER_SEGMENT + 5, len(ciphertext) - 17, len(ciphertext) - 1]
    for position in positions:
        tampered = bytearray(ciphertext)
        tampered[position] ^= 0x80
        with pytest.raises(DecryptionFailed):
            decrypt(bytes(tampered), key)


def test_wrong_associated_data_or_key_fails(key: DataKey) -> None:
    ciphertext = encrypt(b"x" * 100, key)
    with pytest.raises(DecryptionFailed):
        decrypt(ciphertext, key, ad=b"tenant-b/blob/0001")
    with pytest.raises(DecryptionFailed):
        decrypt(ciphertext, DataKey.generate(kek_version=1))


def test_unknown_version_fails(key: DataKey) -> None:
    ciphertext = bytearray(encrypt(b"x", key))
    ciphertext[0] = 0x02
    with pytest.raises(DecryptionFailed):
        decrypt(bytes(ciphertext), key)


def test_empty_final_segment_after_data_is_refused(key: DataKey) -> None:
    # encrypt_stream never writes this shape; build it with the file key.
    salt, prefix = os.urandom(32), os.urandom(7)
    header = b"\x01" + salt + prefix
    aead = streams._file_cipher(key, salt, AD)
    full = aead.encrypt(prefix + struct.pack(">I", 0) + b"\x00", bytes(SEGMENT_SIZE), header)
    empty_last = aead.encrypt(prefix + struct.pack(">I", 1) + b"\x01", b"", header)
    with pytest.raises(DecryptionFailed):
        decrypt(header + full + empty_last, key)


def test_segment_counter_limit(key: DataKey, monkeypatch: pytest.MonkeyPatch) -> None:
    ciphertext = encrypt(os.urandom(2 * SEGMENT_SIZE + 1), key)
    monkeypatch.setattr(streams, "_MAX_SEGMENTS", 2)
    with pytest.raises(PayloadTooLarge):
        encrypt(os.urandom(2 * SEGMENT_SIZE + 1), key)
    with pytest.raises(DecryptionFailed):
        decrypt(ciphertext, key)


def test_decrypt_to_path_writes_a_private_file_on_success(tmp_path: Path, key: DataKey) -> None:
    plaintext = os.urandom(SEGMENT_SIZE + 1)
    target = tmp_path / "batch.x12"
    size = decrypt_to_path(io.BytesIO(encrypt(plaintext, key)), target, key=key, associated_data=AD)
    assert size == len(plaintext)
    assert target.read_bytes() == plaintext
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(tmp_path.iterdir()) == [target]


def test_decrypt_to_path_leaves_nothing_when_tampered(tmp_path: Path, key: DataKey) -> None:
    ciphertext = encrypt(os.urandom(3 * SEGMENT_SIZE), key)
    truncated = ciphertext[: HEADER_SIZE + 2 * CIPHER_SEGMENT]
    target = tmp_path / "batch.x12"
    with pytest.raises(DecryptionFailed):
        decrypt_to_path(io.BytesIO(truncated), target, key=key, associated_data=AD)
    assert list(tmp_path.iterdir()) == []


def test_decrypt_to_path_keeps_the_old_file_when_tampered(tmp_path: Path, key: DataKey) -> None:
    target = tmp_path / "batch.x12"
    target.write_bytes(b"previous")
    with pytest.raises(DecryptionFailed):
        decrypt_to_path(io.BytesIO(b"garbage"), target, key=key, associated_data=AD)
    assert target.read_bytes() == b"previous"
    assert sorted(tmp_path.iterdir()) == [target]


@settings(max_examples=25, deadline=None)
@given(size=st.integers(min_value=0, max_value=3 * SEGMENT_SIZE + 1), seed=st.integers(0, 2**32))
def test_round_trip_for_any_size(size: int, seed: int) -> None:
    key = DataKey.generate(kek_version=1)
    plaintext = random.Random(seed).randbytes(size)
    assert decrypt(encrypt(plaintext, key), key) == plaintext
