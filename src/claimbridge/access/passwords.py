"""Password hashing with argon2id (RFC 9106), through argon2-cffi.

The parameters are argon2-cffi's defaults, which follow RFC 9106's second
recommended option (64 MiB, 3 passes, 4 lanes). A stored hash names its own
parameters, so raising them later only needs ``needs_rehash`` at login.
"""

from __future__ import annotations

import base64
import unicodedata

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def _unmatchable_hash() -> str:
    """A well-formed hash, at the hasher's own cost, that no password matches.

    An unknown user's login is verified against it, so timing does not
    reveal which accounts exist: verifying against it costs what verifying
    a real hash costs. Its digest is all zero bytes (a password would match
    with probability 2^-256). Written out rather than hashed, it costs
    nothing to make; hashing a placeholder at import took 0.13 s of every
    command's start.
    """
    h = _hasher
    salt = _unpadded(b"claimbridge-none")
    digest = _unpadded(bytes(h.hash_len))
    return f"$argon2id$v=19$m={h.memory_cost},t={h.time_cost},p={h.parallelism}${salt}${digest}"


def _unpadded(raw: bytes) -> str:
    # The PHC string format's base64: no padding.
    return base64.b64encode(raw).decode("ascii").rstrip("=")


def _normal(password: str) -> str:
    # NIST SP 800-63B 5.1.1.2: the same password typed on two devices (a
    # composed or a decomposed accent) must match.
    return unicodedata.normalize("NFKC", password)


def hash_password(password: str) -> str:
    return _hasher.hash(_normal(password))


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; always does the full work, even with no hash."""
    try:
        matched = _hasher.verify(stored_hash or _unmatchable_hash(), _normal(password))
    except (VerificationError, InvalidHashError):
        return False
    return matched and stored_hash is not None


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)
