"""Recovery codes: shown once, stored hashed, each good for exactly one sign-in."""

from __future__ import annotations

import re
from functools import cache

import pytest
from argon2 import PasswordHasher
from hypothesis import given, settings
from hypothesis import strategies as st

from claimbridge.access import recovery
from claimbridge.access.recovery import (
    ALPHABET,
    InvalidCode,
    new_recovery_codes,
    use_recovery_code,
)
from claimbridge.errors import Unauthenticated

CODE_FORMAT = re.compile(rf"[{ALPHABET}]{{5}}-[{ALPHABET}]{{5}}")
RECOVERY_PARAMETERS = "$argon2id$v=19$m=19456,t=2,p=1$"
"""OWASP's argon2id minimum, the cost ``recovery`` hashes codes at (about 25 ms a hash)."""
CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
"""argon2id at the least cost argon2 allows (1 pass over 8 KiB)."""


@cache
def one_set() -> tuple[list[str], list[str]]:
    """A set made once per run: argon2id makes every hash cost tens of milliseconds."""
    return new_recovery_codes()


@cache
def cheap_set() -> tuple[list[str], list[str]]:
    """A set as ``new_recovery_codes`` makes it, but hashed at argon2id's least cost.

    For the tests that check a code against many hashes (a wrong or used code
    is tried against every one). A stored hash names its own parameters and
    is verified at them, so ``use_recovery_code`` runs the same code on these
    in well under a millisecond a hash. The real parameters are asserted on
    ``one_set``, and the tests left on it verify codes at that cost.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(recovery, "_hasher", CHEAP)
        return new_recovery_codes()


def test_a_set_is_ten_grouped_codes_and_ten_hashes() -> None:
    shown, stored = one_set()
    assert len(shown) == len(stored) == 10
    assert all(CODE_FORMAT.fullmatch(code) for code in shown)
    assert len(set(shown)) == 10


def test_alphabet_has_no_characters_that_look_alike() -> None:
    assert not set("01ilo") & set(ALPHABET)
    assert len(set(ALPHABET)) == len(ALPHABET) == 31


def test_count_can_be_chosen() -> None:
    shown, stored = new_recovery_codes(1)
    assert len(shown) == len(stored) == 1


@pytest.mark.parametrize("n", [0, -1, 101])
def test_count_out_of_range_is_a_programming_error(n: int) -> None:
    with pytest.raises(ValueError, match="between"):
        new_recovery_codes(n)


def test_hashes_are_salted_argon2id_and_do_not_contain_the_codes() -> None:
    shown, stored = one_set()
    assert all(hashed.startswith(RECOVERY_PARAMETERS) for hashed in stored)
    assert len(set(stored)) == len(stored)
    everything = "\n".join(stored)
    for code in shown:
        for form in (code, code.replace("-", "")):
            assert form not in everything
            assert form.upper() not in everything


def test_each_code_works_once_and_never_twice() -> None:
    shown, stored = cheap_set()
    remaining = list(stored)
    for used, code in enumerate(shown, start=1):
        remaining = use_recovery_code(code, remaining)
        assert len(remaining) == len(stored) - used
        with pytest.raises(InvalidCode):
            use_recovery_code(code, remaining)
    assert remaining == []


def test_using_a_code_removes_only_its_hash_and_keeps_the_order() -> None:
    shown, stored = one_set()
    remaining = use_recovery_code(shown[3], stored)
    assert remaining == stored[:3] + stored[4:]


def test_stored_hashes_given_are_not_changed() -> None:
    shown, stored = one_set()
    before = list(stored)
    use_recovery_code(shown[0], stored)
    assert stored == before


def test_code_is_normalised_for_case_dashes_and_spaces() -> None:
    shown, stored = cheap_set()
    code = shown[5]
    for variant in (
        code.upper(),
        code.replace("-", ""),
        f" {code[:5]} {code[6:]} ",
        "-".join(code),
    ):
        assert use_recovery_code(variant, stored) == stored[:5] + stored[6:]


@settings(max_examples=25, deadline=None)
@given(
    upper=st.lists(st.booleans(), min_size=10, max_size=10),
    separators=st.lists(st.sampled_from(["", "", "-", " ", "\t"]), min_size=11, max_size=11),
)
def test_any_casing_and_spacing_of_a_code_is_accepted(
    upper: list[bool], separators: list[str]
) -> None:
    shown, stored = cheap_set()
    bare = shown[0].replace("-", "")
    letters = [char.upper() if up else char for char, up in zip(bare, upper, strict=True)]
    typed = "".join(sep + char for sep, char in zip(separators, [*letters, ""], strict=True))
    assert use_recovery_code(typed, stored) == stored[1:]


def test_wrong_code_is_invalid_and_says_nothing_more() -> None:
    _, stored = cheap_set()
    with pytest.raises(InvalidCode) as caught:
        use_recovery_code("22222-22222", stored)
    assert isinstance(caught.value, Unauthenticated)
    assert caught.value.message == "The code is not valid."


def test_code_of_another_set_is_invalid() -> None:
    other, _ = new_recovery_codes(1)
    _, stored = cheap_set()
    with pytest.raises(InvalidCode):
        use_recovery_code(other[0], stored)


@pytest.mark.parametrize(
    "code",
    ["", "abcde", "abcde-fghjkm", "abcde-fghj0", "abcdl-fghjk", "abcde_fghjk", "x" * 10_000],
)
def test_malformed_codes_are_invalid(code: str) -> None:
    _, stored = one_set()
    with pytest.raises(InvalidCode):
        use_recovery_code(code, stored)


def test_no_codes_left_means_invalid() -> None:
    shown, _ = one_set()
    with pytest.raises(InvalidCode):
        use_recovery_code(shown[0], [])


def test_a_corrupt_stored_hash_is_skipped_not_fatal() -> None:
    shown, stored = one_set()
    assert use_recovery_code(shown[0], ["not a hash", stored[0]]) == ["not a hash"]
