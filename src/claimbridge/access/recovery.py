"""One-time recovery codes: the way back in when the TOTP device is lost.

A set is ten codes of ten characters, written ``xxxxx-xxxxx``, drawn by the
operating system's CSPRNG from 31 characters that cannot be mistaken for
each other (no ``0``/``o``, ``1``/``i``/``l``): about 49.5 bits each. The
codes are shown once; only their hashes are stored, and a code is removed
from the stored set when it is used, so it works once.

Hashing: argon2id with its own, lighter parameters than passwords'
(``passwords.py`` uses argon2-cffi's defaults, 64 MiB and 3 passes, about
0.2 s a hash). A login with a recovery code may try every stored hash, so
ten of those would take seconds. These codes are random, not chosen by a
person, so they need far less stretching: with OWASP's minimum argon2id
configuration (19 MiB, 2 passes, 1 lane, about 25 ms) a leaked table still
costs an attacker around 2^48 memory-hard hashes per code. A fast keyed hash
(HMAC with a server key) would be quicker still but needs a key this pure
module cannot hold; argon2id needs none. Each hash names its parameters, so
they can be raised later without invalidating stored codes.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from claimbridge.access.totp import InvalidCode

# InvalidCode is defined with TOTP and raised here too; exported so that
# callers can name it as ``recovery.InvalidCode``.
__all__ = [
    "ALPHABET",
    "CODE_LENGTH",
    "DEFAULT_COUNT",
    "InvalidCode",
    "new_recovery_codes",
    "use_recovery_code",
]

ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
CODE_LENGTH = 10
GROUP = 5
DEFAULT_COUNT = 10
MAX_COUNT = 100

# OWASP Password Storage Cheat Sheet, argon2id minimum: m=19 MiB, t=2, p=1.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


def new_recovery_codes(n: int = DEFAULT_COUNT) -> tuple[list[str], list[str]]:
    """``n`` fresh codes to show the user once, and the hashes to store in their place."""
    if not 1 <= n <= MAX_COUNT:
        raise ValueError(f"n must be between 1 and {MAX_COUNT}")
    raw: set[str] = set()
    while len(raw) < n:
        raw.add("".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH)))
    codes = sorted(raw)
    shown = [f"{code[:GROUP]}-{code[GROUP:]}" for code in codes]
    return shown, [_hasher.hash(code) for code in codes]


def use_recovery_code(code: str, stored_hashes: Sequence[str]) -> list[str]:
    """The stored hashes without the one ``code`` matches; store them in place of the old.

    Case, dashes and spaces do not matter ("ABCDE FGHJK" is "abcde-fghjk").
    Raises ``InvalidCode`` when the code is malformed or matches no stored hash,
    which includes a code that was already used.
    """
    candidate = _normalise(code)
    for index, stored in enumerate(stored_hashes):
        if _matches(stored, candidate):
            return [*stored_hashes[:index], *stored_hashes[index + 1 :]]
    raise InvalidCode(detail="no stored recovery code matches")


def _normalise(code: str) -> str:
    # Refuse long input before any work; the format of a code is no secret.
    if len(code) > 4 * CODE_LENGTH:
        raise InvalidCode(detail="recovery code input too long")
    candidate = "".join(code.replace("-", " ").split()).lower()
    if len(candidate) != CODE_LENGTH or not set(candidate) <= set(ALPHABET):
        raise InvalidCode(detail="not a recovery code")
    return candidate


def _matches(stored: str, candidate: str) -> bool:
    try:
        return _hasher.verify(stored, candidate)
    except (VerificationError, InvalidHashError):
        return False
