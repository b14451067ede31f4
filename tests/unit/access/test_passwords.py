"""Password verification: an unknown user costs a login what a known one does."""

from __future__ import annotations

from argon2 import extract_parameters

from claimbridge.access import passwords
from claimbridge.access.passwords import hash_password, verify_password


def test_an_unknown_user_is_verified_at_the_cost_of_a_real_hash() -> None:
    # A login for an account that does not exist is checked against a
    # stand-in hash; it must take the same argon2 work as a real account's,
    # or the response time tells an attacker which accounts exist.
    real = hash_password("correct horse battery staple")
    stand_in = passwords._unmatchable_hash()

    assert extract_parameters(stand_in) == extract_parameters(real)
    assert not verify_password(None, "correct horse battery staple")
    assert not verify_password(None, "")


def test_the_right_password_matches_and_a_wrong_one_does_not() -> None:
    stored = hash_password("Tr0ub4dor&3 but longer")

    assert verify_password(stored, "Tr0ub4dor&3 but longer")
    assert not verify_password(stored, "Tr0ub4dor&3 but longer ")
    assert not verify_password("not a hash at all", "anything")


def test_a_password_typed_with_composed_or_decomposed_accents_matches() -> None:
    stored = hash_password("caf\u00e9 au lait, s'il vous pla\u00eet")

    assert verify_password(stored, "cafe\u0301 au lait, s'il vous plai\u0302t")
