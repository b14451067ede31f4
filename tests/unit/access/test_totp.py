"""TOTP: RFC 6238 answers, a one-step window either way, and every code usable once."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from claimbridge.access.totp import (
    STEP_SECONDS,
    CodeReplayed,
    InvalidCode,
    new_secret,
    provisioning_uri,
    verify_totp,
)
from claimbridge.errors import Unauthenticated

# RFC 6238 Appendix B: the SHA-1 seed is the ASCII string "12345678901234567890".
RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()
RFC_SHA1_VECTORS = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
NOW = datetime(2026, 11, 26, 12, 0, 10, tzinfo=UTC)
STEP = int(NOW.timestamp()) // STEP_SECONDS


def code_at(step: int, secret: str = SECRET) -> str:
    return pyotp.TOTP(secret).generate_otp(step)


def verify(code: str, *, last_used_step: int | None = None, **options: int) -> int:
    return verify_totp(SECRET, code, now=NOW, last_used_step=last_used_step, **options)


# -- known answers -------------------------------------------------------------


@pytest.mark.parametrize(("unix_time", "expected"), RFC_SHA1_VECTORS)
def test_rfc6238_sha1_vectors_through_pyotp(unix_time: int, expected: str) -> None:
    assert pyotp.TOTP(RFC_SECRET, digits=8).at(unix_time) == expected


@pytest.mark.parametrize(("unix_time", "expected"), RFC_SHA1_VECTORS)
def test_rfc6238_sha1_vectors_verify(unix_time: int, expected: str) -> None:
    now = datetime.fromtimestamp(unix_time, UTC)
    step = verify_totp(RFC_SECRET, expected, now=now, last_used_step=None, window=0, digits=8)
    assert step == unix_time // 30


# -- secrets and enrolment ---------------------------------------------------------


def test_new_secret_is_160_bits_of_base32() -> None:
    secret = new_secret()
    assert len(secret) == 32
    assert len(base64.b32decode(secret)) == 20


def test_new_secrets_differ() -> None:
    assert len({new_secret() for _ in range(50)}) == 50


def test_provisioning_uri_carries_secret_account_and_issuer() -> None:
    uri = provisioning_uri(SECRET, account="ada@example.org")
    parsed = urlparse(uri)
    query = parse_qs(parsed.query)
    assert (parsed.scheme, parsed.netloc) == ("otpauth", "totp")
    assert query["secret"] == [SECRET]
    assert query["issuer"] == ["claimbridge"]
    assert "ada%40example.org" in parsed.path
    again = pyotp.parse_uri(uri)
    assert isinstance(again, pyotp.TOTP)
    assert again.now() == pyotp.TOTP(SECRET).now()


def test_provisioning_uri_takes_another_issuer() -> None:
    uri = provisioning_uri(SECRET, account="ada@example.org", issuer="Practice Billing")
    assert parse_qs(urlparse(uri).query)["issuer"] == ["Practice Billing"]


# -- the window --------------------------------------------------------------------


def test_current_code_is_accepted_and_its_step_returned() -> None:
    assert verify(code_at(STEP)) == STEP


@pytest.mark.parametrize("offset", [-1, 1])
def test_one_step_either_side_is_accepted(offset: int) -> None:
    assert verify(code_at(STEP + offset)) == STEP + offset


@pytest.mark.parametrize("offset", [-3, -2, 2, 3])
def test_two_or_more_steps_away_are_refused(offset: int) -> None:
    code = code_at(STEP + offset)
    assert code not in {code_at(STEP + near) for near in (-1, 0, 1)}
    with pytest.raises(InvalidCode):
        verify(code)


def test_window_zero_accepts_only_the_current_step() -> None:
    assert verify(code_at(STEP), window=0) == STEP
    with pytest.raises(InvalidCode):
        verify(code_at(STEP + 1), window=0)


def test_wider_window_accepts_further_steps() -> None:
    assert verify(code_at(STEP - 2), window=2) == STEP - 2


@given(
    seconds=st.integers(min_value=0, max_value=4_000_000_000),
    offset=st.integers(min_value=-1, max_value=1),
)
def test_any_code_within_one_step_is_accepted(seconds: int, offset: int) -> None:
    now = datetime.fromtimestamp(seconds, UTC)
    target = max(seconds // STEP_SECONDS + offset, 0)
    step = verify_totp(SECRET, code_at(target), now=now, last_used_step=None)
    assert abs(step - seconds // STEP_SECONDS) <= 1
    assert code_at(step) == code_at(target)


@given(
    seconds=st.integers(min_value=0, max_value=4_000_000_000),
    offset=st.sampled_from([-50, -5, -2, 2, 5, 50]),
)
def test_any_code_further_than_one_step_is_refused(seconds: int, offset: int) -> None:
    current = seconds // STEP_SECONDS
    assume(current + offset >= 0)
    code = code_at(current + offset)
    assume(code not in {code_at(step) for step in range(max(current - 1, 0), current + 2)})
    with pytest.raises(InvalidCode):
        verify_totp(SECRET, code, now=datetime.fromtimestamp(seconds, UTC), last_used_step=None)


def test_now_in_another_timezone_is_the_same_instant() -> None:
    elsewhere = NOW.astimezone(timezone(timedelta(hours=-5)))
    step = verify_totp(SECRET, code_at(STEP), now=elsewhere, last_used_step=None)
    assert step == STEP


# -- once only ---------------------------------------------------------------------


def test_same_code_cannot_be_used_twice() -> None:
    code = code_at(STEP)
    used = verify(code)
    with pytest.raises(CodeReplayed):
        verify(code, last_used_step=used)


def test_same_step_is_refused_later_in_its_window() -> None:
    used = verify(code_at(STEP))
    later = NOW + timedelta(seconds=STEP_SECONDS)
    with pytest.raises(CodeReplayed):
        verify_totp(SECRET, code_at(STEP), now=later, last_used_step=used)


def test_older_step_is_refused_after_a_newer_one_was_used() -> None:
    used = verify(code_at(STEP))
    with pytest.raises(CodeReplayed):
        verify(code_at(STEP - 1), last_used_step=used)


def test_next_step_is_accepted_after_the_current_one_was_used() -> None:
    used = verify(code_at(STEP))
    assert verify(code_at(STEP + 1), last_used_step=used) == STEP + 1


def test_replay_is_an_invalid_code_that_says_so_safely() -> None:
    with pytest.raises(InvalidCode) as caught:
        verify(code_at(STEP), last_used_step=STEP)
    assert isinstance(caught.value, CodeReplayed)
    assert isinstance(caught.value, Unauthenticated)
    assert caught.value.code == "code_replayed"
    assert code_at(STEP) not in caught.value.message


# -- input ---------------------------------------------------------------------


@pytest.mark.parametrize("spaced", ["{} {}", " {}{} ", "{}\t{}"])
def test_spaces_in_the_code_are_ignored(spaced: str) -> None:
    code = code_at(STEP)
    assert verify(spaced.format(code[:3], code[3:])) == STEP


@pytest.mark.parametrize(
    "code",
    ["", "12345", "1234567", "abcdef", "12345a", "١٢٣٤٥٦", "123-456", "1" * 10_000],
)
def test_malformed_codes_are_invalid(code: str) -> None:
    with pytest.raises(InvalidCode) as caught:
        verify(code)
    assert caught.value.message == "The code is not valid."
    assert caught.value.code == "invalid_code"


def test_wrong_code_is_invalid() -> None:
    window = {code_at(STEP + near) for near in (-1, 0, 1)}
    wrong = next(f"{n:06d}" for n in range(1_000_000) if f"{n:06d}" not in window)
    with pytest.raises(InvalidCode):
        verify(wrong)


def test_code_for_another_secret_is_invalid() -> None:
    other = "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU"
    assert code_at(STEP, other) not in {code_at(STEP + near) for near in (-1, 0, 1)}
    with pytest.raises(InvalidCode):
        verify(code_at(STEP, other))


def test_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        verify_totp(SECRET, code_at(STEP), now=NOW.replace(tzinfo=None), last_used_step=None)


@pytest.mark.parametrize("window", [-1, 11])
def test_window_out_of_range_is_a_programming_error(window: int) -> None:
    with pytest.raises(ValueError, match="window"):
        verify(code_at(STEP), window=window)


@pytest.mark.parametrize("secret", ["not base32!", "JBSWY3DP"])
def test_bad_or_short_secret_is_a_programming_error(secret: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - binascii.Error or pyotp's length check
        verify_totp(secret, "123456", now=NOW, last_used_step=None)
