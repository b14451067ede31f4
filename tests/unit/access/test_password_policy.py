"""The password policy refuses guessable passwords, says why, and never repeats them."""

from __future__ import annotations

import gzip
import hashlib
import string
import unicodedata
from importlib.resources import files

import pytest
from hypothesis import given
from hypothesis import strategies as st

from claimbridge.access.password_policy import (
    MAX_LENGTH,
    MIN_LENGTH,
    Weakness,
    WeakPassword,
    check_password,
)
from claimbridge.errors import ValidationFailed

LIST_SHA256 = "3c1baed62596de36860824eb3f436d5932d37ca8b06e59df78f5a44ec175afe4"

MESSAGES = {
    Weakness.TOO_SHORT: "The password must be at least 12 characters long.",
    Weakness.TOO_LONG: "The password must be at most 256 characters long.",
    Weakness.CONTAINS_EMAIL: "The password must not contain your email address.",
    Weakness.CONTAINS_NAME: "The password must not contain your name.",
    Weakness.CONTAINS_SERVICE_NAME: "The password must not contain the name of this service.",
    Weakness.COMMON: "The password is a commonly used password, or a small variation of one.",
    Weakness.PREDICTABLE: "The password is made of repeated or sequential characters.",
}

GOOD_PASSPHRASES = [
    "purple tractor sings quietly at dawn",
    "Marmalade-Oxbow-Quarry-Tinsel",
    "kX9#mQ2vL!pR",
    "sunshine84027593",  # a listed word, but with eight random digits
    "адмирал шёл по заливу",
    "😀 emoji are fine 😀 too",
]


def refusal(password: str, **context: str) -> Weakness:
    with pytest.raises(WeakPassword) as caught:
        check_password(password, **context)
    return caught.value.weakness


def shipped_list() -> list[str]:
    data = (files("claimbridge.access") / "data" / "common-passwords.txt.gz").read_bytes()
    return gzip.decompress(data).decode("utf-8").splitlines()


# -- length ----------------------------------------------------------------


def test_weak_password_is_a_validation_failure_about_the_password() -> None:
    with pytest.raises(ValidationFailed) as caught:
        check_password("short")
    assert caught.value.code == "weak_password"
    assert caught.value.where == "password"
    assert caught.value.message == MESSAGES[Weakness.TOO_SHORT]


def test_eleven_characters_are_too_short_and_twelve_are_enough() -> None:
    assert refusal("vq7#Lm2pX9z") == Weakness.TOO_SHORT
    check_password("vq7#Lm2pX9zT")


def test_length_counts_code_points_after_nfkc() -> None:
    # "e" + combining acute composes to one "é": twelve code points in, six out.
    assert refusal("e\u0301" * 6) == Weakness.TOO_SHORT
    # A ligature expands under NFKC: "ﬃ" is three letters.
    check_password("\ufb03" * 2 + "vq7#Lm2p")


def test_longest_password_is_accepted_and_one_more_is_refused() -> None:
    word = "Marmalade-Oxbow-Quarry-Tinsel "
    longest = (word * 9)[:MAX_LENGTH]
    check_password(longest[:-1] + "!")
    assert refusal(longest + "!") == Weakness.TOO_LONG


def test_huge_input_is_refused_as_too_long() -> None:
    assert refusal("x" * 1_000_000) == Weakness.TOO_LONG


def test_no_composition_rules() -> None:
    for password in ["all lower case words here", "ALL UPPER CASE WORDS HERE", "1648203957362019"]:
        check_password(password)


@pytest.mark.parametrize("password", GOOD_PASSPHRASES)
def test_long_random_passphrases_are_accepted(password: str) -> None:
    check_password(password, email="ada.lovelace@example.org", display_name="Ada Lovelace")


# -- the common list ---------------------------------------------------------


def test_shipped_list_is_the_documented_file() -> None:
    data = (files("claimbridge.access") / "data" / "common-passwords.txt.gz").read_bytes()
    assert hashlib.sha256(data).hexdigest() == LIST_SHA256
    assert len(shipped_list()) >= 10_000


def test_sources_note_names_the_list_and_its_license() -> None:
    note = (files("claimbridge.access") / "data" / "SOURCES.md").read_text(encoding="utf-8")
    assert LIST_SHA256 in note
    assert "BSD-3-Clause" in note
    assert "Django 5.2.19" in note


@pytest.mark.parametrize(
    "password", ["password1234", "PASSWORD1234", "PassWord1234", " password1234 ", "TempPassword"]
)
def test_listed_passwords_are_refused_in_any_case(password: str) -> None:
    assert refusal(password) == Weakness.COMMON


def test_every_listed_password_long_enough_to_pass_length_is_refused() -> None:
    long_enough = [entry for entry in shipped_list() if MIN_LENGTH <= len(entry) <= MAX_LENGTH]
    assert len(long_enough) > 100
    for entry in long_enough:
        with pytest.raises(WeakPassword):
            check_password(entry.upper())


def test_full_width_form_of_a_listed_password_is_refused() -> None:
    assert refusal("ｐａｓｓｗｏｒｄ１２３４") == Weakness.COMMON


@pytest.mark.parametrize(
    "password",
    [
        "Password2024!",  # listed word, short suffix
        "!!dragon123456",  # listed word, sequential and repeated affixes
        "monkeymonkey",  # a listed word twice
        "1234iloveyou",  # listed word behind a sequence
        "Sunshine!!!!!!!!",  # listed word, long repeated suffix
    ],
)
def test_small_variations_of_listed_passwords_are_refused(password: str) -> None:
    assert refusal(password) == Weakness.COMMON


# -- repeated and sequential characters ----------------------------------------


@pytest.mark.parametrize(
    "password",
    [
        "aaaaaaaaaaaa",
        "############",
        "abababababab",
        "abcabcabcabc",
        "123456789012",
        "7890123456789",
        "abcdefghijklmnop",
        "zyxwvutsrqpo",
        "qwertyuiopasdf",
        "mnbvcxzlkjhgf",
        "aaaaaa111111",
        "abc123456789",
        "x12345678901",
        "1111222233334444555566667777",
    ],
)
def test_repeated_and_sequential_characters_are_refused(password: str) -> None:
    assert refusal(password) == Weakness.PREDICTABLE


@given(
    char=st.characters(codec="utf-8"),
    length=st.integers(min_value=MIN_LENGTH, max_value=MAX_LENGTH),
)
def test_any_single_character_repeated_is_refused(char: str, length: int) -> None:
    with pytest.raises(WeakPassword):
        check_password(char * length)


@given(
    order=st.sampled_from([string.digits, string.ascii_lowercase]),
    start=st.integers(min_value=0, max_value=25),
    length=st.integers(min_value=MIN_LENGTH, max_value=60),
    backwards=st.booleans(),
)
def test_any_run_along_digits_or_alphabet_is_refused(
    order: str, start: int, length: int, backwards: bool
) -> None:
    cycle = order * (length // len(order) + 3)
    run = cycle[start : start + length]
    assert refusal(run[::-1] if backwards else run) == Weakness.PREDICTABLE


# -- context-specific words ------------------------------------------------------


def test_password_containing_email_local_part_is_refused() -> None:
    email = "jdoe.billing@example.org"
    assert refusal("my jdoe.billing secret", email=email) == Weakness.CONTAINS_EMAIL
    assert refusal("JDOEBILLING-forever-x", email=email) == Weakness.CONTAINS_EMAIL
    assert refusal("billing is my whole life", email=email) == Weakness.CONTAINS_EMAIL


def test_email_domain_is_not_a_personal_word() -> None:
    check_password("example marmalade oxbow", email="jdoe@example.org")


def test_password_containing_display_name_is_refused() -> None:
    name = "Ada Lovelace"
    assert refusal("ada lovelace rules!", display_name=name) == Weakness.CONTAINS_NAME
    assert refusal("Ada-Lovelace!!!!", display_name=name) == Weakness.CONTAINS_NAME
    assert refusal("my friend lovelace", display_name=name) == Weakness.CONTAINS_NAME


def test_short_name_parts_alone_do_not_refuse() -> None:
    # "Ada" is shorter than four letters: refusing every password with "ada"
    # in it ("adamant") would refuse far more than names.
    check_password("adamant marmalade oxbow", display_name="Ada Lovelace")


def test_name_is_compared_in_nfkc_case_folded_form() -> None:
    assert refusal("müller forever and ever", display_name="MÜLLER") == Weakness.CONTAINS_NAME
    assert refusal("strasse maple oxbow", display_name="Straße") == Weakness.CONTAINS_NAME


def test_context_is_checked_only_when_given() -> None:
    check_password("lovelace marmalade oxbow")


def test_service_name_is_refused() -> None:
    assert refusal("My ClaimBridge login 42") == Weakness.CONTAINS_SERVICE_NAME


# Combining marks are left out: one right after the local part would compose
# with its last letter ("e" + U+0301 is "é"), and then it is not contained.
UNMARKED = st.text(st.characters(exclude_categories=("Mn", "Mc", "Me", "Cs")), max_size=20)


@given(
    local=st.text(alphabet=string.ascii_lowercase, min_size=4, max_size=20),
    before=UNMARKED,
    after=UNMARKED,
)
def test_any_password_containing_the_local_part_is_refused(
    local: str, before: str, after: str
) -> None:
    password = before + local.upper() + after
    if len(unicodedata.normalize("NFKC", password)) >= MIN_LENGTH:
        assert refusal(password, email=f"{local}@example.org") == Weakness.CONTAINS_EMAIL


# -- messages ------------------------------------------------------------------


@given(password=st.text(max_size=300))
def test_refusal_message_is_a_fixed_text_never_the_password(password: str) -> None:
    try:
        check_password(password, email="ada@example.org", display_name="Ada Lovelace")
    except WeakPassword as refused:
        caught = refused
    else:
        return
    assert caught.message == MESSAGES[caught.weakness]
    assert caught.to_dict()["message"] == MESSAGES[caught.weakness]
    assert caught.where == "password"
