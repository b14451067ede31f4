"""Time-based one-time passwords: RFC 6238 TOTP over RFC 4226 HOTP, through pyotp.

The parameters are the ones every authenticator app understands: HMAC-SHA-1,
30-second steps counted from the Unix epoch, 6 digits, and a 160-bit secret
(RFC 4226 section 4 recommends 160 bits).

A code is accepted in the current step and ``window`` steps either side
(RFC 6238 section 5.2 allows one step of clock drift each way), and only once:
``verify_totp`` returns the step that matched and the caller stores it, so a
code seen over a shoulder or replayed from a log cannot be used again, nor
can an older one (RFC 6238 section 5.2: "the verifier MUST NOT accept the
second attempt of the OTP after the successful validation").
"""

from __future__ import annotations

import hmac
import re
from datetime import datetime

import pyotp

from claimbridge.errors import Unauthenticated

STEP_SECONDS = 30
DIGITS = 6
SECRET_LENGTH = 32  # base32 characters: 32 x 5 bits = 160 bits
MAX_WINDOW = 10

# Longer input than any code with spaces is refused before any work is done.
_MAX_CODE_INPUT = 64


class InvalidCode(Unauthenticated):
    """A one-time or recovery code that is wrong, malformed or no longer valid."""

    code = "invalid_code"
    public_message = "The code is not valid."


class CodeReplayed(InvalidCode):
    """A TOTP code (or an older one) that was already used to sign in."""

    code = "code_replayed"
    public_message = "This code has already been used; wait for the next one."


def new_secret() -> str:
    """A fresh 160-bit TOTP secret in base32, from the operating system's CSPRNG."""
    return pyotp.random_base32(length=SECRET_LENGTH)


def provisioning_uri(secret: str, *, account: str, issuer: str = "claimbridge") -> str:
    """The ``otpauth://totp/...`` URI an authenticator app reads from a QR code."""
    return _totp(secret, digits=DIGITS).provisioning_uri(name=account, issuer_name=issuer)


def verify_totp(
    secret: str,
    code: str,
    *,
    now: datetime,
    last_used_step: int | None,
    window: int = 1,
    digits: int = DIGITS,
) -> int:
    """The time step whose code ``code`` is; store it as the next ``last_used_step``.

    Raises ``InvalidCode`` when the code is malformed or matches no step within
    ``window`` of ``now``, and ``CodeReplayed`` when it matches only steps at or
    before ``last_used_step``. Spaces in the code are ignored ("123 456").
    """
    if not 0 <= window <= MAX_WINDOW:
        raise ValueError(f"window must be between 0 and {MAX_WINDOW}")
    _require_aware(now)
    totp = _totp(secret, digits=digits)
    candidate = _normalise(code, digits=digits)
    current = totp.timecode(now)
    matched = [
        step
        for step in range(max(current - window, 0), current + window + 1)
        # Every step is compared, in constant time, whatever matched before.
        if hmac.compare_digest(totp.generate_otp(step).encode(), candidate.encode())
    ]
    if not matched:
        raise InvalidCode(detail="no step in the window matches")
    fresh = [step for step in matched if last_used_step is None or step > last_used_step]
    if not fresh:
        raise CodeReplayed(detail=f"matched step {max(matched)} <= last used {last_used_step}")
    return min(fresh)


def _totp(secret: str, *, digits: int) -> pyotp.TOTP:
    # pyotp refuses secrets that are not base32 or shorter than 112 bits,
    # with ValueError: a stored secret like that is a bug, not a user error.
    return pyotp.TOTP(secret, digits=digits, interval=STEP_SECONDS)


def _normalise(code: str, *, digits: int) -> str:
    if len(code) > _MAX_CODE_INPUT:
        raise InvalidCode(detail="code input too long")
    candidate = "".join(code.split())
    # ASCII digits only: str.isdigit would let "١٢٣٤٥٦" through.
    if not re.fullmatch(rf"[0-9]{{{digits}}}", candidate):
        raise InvalidCode(detail="code is not the expected number of digits")
    return candidate


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
