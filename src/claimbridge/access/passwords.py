"""Password hashing with argon2id (RFC 9106), through argon2-cffi.

The parameters are argon2-cffi's defaults, which follow RFC 9106's second
recommended option (64 MiB, 3 passes, 4 lanes). A stored hash names its own
parameters, so raising them later only needs ``needs_rehash`` at login.
"""

from __future__ import annotations

import unicodedata

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

# Hash even for an unknown user, so timing does not reveal which accounts
# exist: verifying against this costs what verifying a real hash costs.
_DUMMY_HASH = _hasher.hash("claimbridge-no-such-user-placeholder")


def _normal(password: str) -> str:
    # NIST SP 800-63B 5.1.1.2: the same password typed on two devices (a
    # composed or a decomposed accent) must match.
    return unicodedata.normalize("NFKC", password)


def hash_password(password: str) -> str:
    return _hasher.hash(_normal(password))


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; always does the full work, even with no hash."""
    try:
        matched = _hasher.verify(stored_hash or _DUMMY_HASH, _normal(password))
    except (VerificationError, InvalidHashError):
        return False
    return matched and stored_hash is not None


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)
