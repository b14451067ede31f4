"""Blind indexes: equal in, equal out; nothing else carries over."""

from __future__ import annotations

import hashlib
import hmac
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from claimbridge.crypto.blind import blind_index, normalise_name

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))


def test_same_value_gives_same_index() -> None:
    first = blind_index("123-45-6789", key=KEY, purpose="patients.ssn")
    assert first == blind_index("123-45-6789", key=KEY, purpose="patients.ssn")
    assert len(first) == 32
    assert int(first, 16) >= 0


def test_different_values_give_different_indexes() -> None:
    assert blind_index("123-45-6789", key=KEY, purpose="patients.ssn") != blind_index(
        "123-45-6780", key=KEY, purpose="patients.ssn"
    )


def test_purpose_separates_columns() -> None:
    assert blind_index("Smith", key=KEY, purpose="patients.last_name") != blind_index(
        "Smith", key=KEY, purpose="providers.last_name"
    )


def test_key_separates_tenants() -> None:
    assert blind_index("Smith", key=KEY, purpose="p") != blind_index(
        "Smith", key=OTHER_KEY, purpose="p"
    )


def test_purpose_and_value_cannot_be_shifted_into_each_other() -> None:
    assert blind_index("c", key=KEY, purpose="ab") != blind_index("bc", key=KEY, purpose="a")


def test_index_matches_the_documented_encoding() -> None:
    # IMPORTANT: stored indexes depend on this; see the module docstring.
    purpose, value = b"patients.last_name", b"Smith"
    message = struct.pack(">I", len(purpose)) + purpose + struct.pack(">I", len(value)) + value
    expected = hmac.new(KEY, message, hashlib.sha256).digest()[:16].hex()
    assert blind_index("Smith", key=KEY, purpose="patients.last_name") == expected


def test_value_is_compared_in_nfkc_form() -> None:
    composed, decomposed = "Jos\u00e9", "Jose\u0301"
    assert blind_index(composed, key=KEY, purpose="p") == blind_index(
        decomposed, key=KEY, purpose="p"
    )


def test_case_and_spacing_matter_unless_normalised() -> None:
    assert blind_index("SMITH", key=KEY, purpose="p") != blind_index("smith", key=KEY, purpose="p")
    assert blind_index(normalise_name("  SMITH "), key=KEY, purpose="p") == blind_index(
        normalise_name("smith"), key=KEY, purpose="p"
    )


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("  Mary   Ann\tSMITH ", "mary ann smith"),
        ("O\u2019Brien", "o\u2019brien"),
        ("Stra\u00dfe", "strasse"),
        ("\uff2a\uff2f\uff28\uff2e", "john"),  # full-width letters
        ("Jose\u0301", "jos\u00e9"),
        ("Anne\u00a0Marie", "anne marie"),  # no-break space
        ("", ""),
    ],
)
def test_normalise_name(raw: str, normalised: str) -> None:
    assert normalise_name(raw) == normalised


@given(st.text(max_size=40))
def test_normalise_name_is_idempotent(name: str) -> None:
    once = normalise_name(name)
    assert normalise_name(once) == once


def test_short_key_is_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        blind_index("x", key=bytes(16), purpose="p")


def test_empty_purpose_is_refused() -> None:
    with pytest.raises(ValueError, match="purpose"):
        blind_index("x", key=KEY, purpose="")
