"""Blind indexes: find rows by an encrypted value without decrypting them.

A sealed column cannot be searched, since every seal of the same value
differs. Beside it we store ``blind_index(value)``: a keyed hash that is
the same for the same value and says nothing else, so
``WHERE ssn_bidx = :bidx`` finds a patient without the database ever
seeing the number.

    index = hex(HMAC-SHA256(key, u32be(len(purpose)) || purpose
                                 || u32be(len(value)) || value)[:16])

with ``purpose`` and ``value`` in UTF-8, ``value`` in Unicode NFKC form.

What it leaks, and what it does not: the index reveals *equality* and
nothing more. Anyone who reads the table learns which rows share a value
and how often each value occurs (frequency analysis: a common surname
stands out), but not the value, as long as the key stays secret. Without
the key, guessing a value and checking it is impossible; with the key, a
low-entropy field (a date of birth, a five-digit ZIP) can be brute-forced,
which is why the key lives with the other keys and never in the database.
Use a different key per tenant so indexes cannot be joined across
tenants, and a different ``purpose`` per column so equal values in two
columns do not match.

Truncating to 128 bits keeps the column small; accidental collisions stay
negligible (about 2^-64 after 2^32 distinct values).

IMPORTANT: the encoding is frozen. Every stored index was computed with
it; a change to the layout, the normalisation or the truncation makes all
of them miss, silently, until every row is re-indexed.
"""

from __future__ import annotations

import struct
import unicodedata

from claimbridge.crypto import _primitives

INDEX_BYTES = 16
MIN_KEY_SIZE = 32
_U32 = struct.Struct(">I")


def blind_index(value: str, *, key: bytes, purpose: str) -> str:
    """The 32-hex-digit blind index of ``value`` for ``purpose`` under ``key``.

    ``value`` is brought to Unicode NFKC first, so the same text typed on
    two systems matches. Anything more (case, spacing, punctuation) is the
    caller's choice per field: pass ``normalise_name(name)`` for names.
    """
    if len(key) < MIN_KEY_SIZE:
        raise ValueError("a blind-index key is at least 32 bytes")
    if not purpose:
        raise ValueError("a blind index needs a purpose, e.g. 'patients.last_name'")
    message = _encode(purpose) + _encode(unicodedata.normalize("NFKC", value))
    return _primitives.hmac_sha256(key, message)[:INDEX_BYTES].hex()


def normalise_name(name: str) -> str:
    """A person's or organisation's name in the form we index.

    NFKC (full-width and compatibility characters become plain ones), then
    case-folded (so "STRASSE", "strasse" and "Straße" agree), then every
    run of whitespace made one space and the ends trimmed.
    """
    folded = unicodedata.normalize("NFKC", name).casefold()
    # casefold can produce text that is no longer NFKC; normalise again.
    return " ".join(unicodedata.normalize("NFKC", folded).split())


def _encode(text: str) -> bytes:
    data = text.encode("utf-8")
    return _U32.pack(len(data)) + data
