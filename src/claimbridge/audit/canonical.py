"""The canonical encoding of an audit event: the exact bytes the hash chain covers.

An event's fields become one line of JSON, version 1::

    {"action":"phi:patient:read","actor_roles":["biller"],...,"seq":42,"v":1}

- keys sorted, ``"v": 1`` added; keys are ASCII ``snake_case`` names;
- no whitespace outside strings (``,`` and ``:`` separators);
- UTF-8, with non-ASCII characters written as themselves, not ``\\uXXXX``;
  only ``"``, ``\\`` and control characters are escaped (``\\n``, ``\\t``,
  ``\\r``, ``\\b``, ``\\f``, else ``\\u00xx`` in lower-case hex); strings are
  not Unicode-normalised: what was recorded is what is hashed;
- values are strings, integers (within +-(2**53 - 1), so any JSON reader
  gets them exactly), ``null``, lists of those, and instants: a timezone-
  aware ``datetime`` becomes an RFC 3339 UTC string with microseconds and
  ``Z`` (``2025-01-02T03:04:05.000006Z``);
- nothing else: no floats (their text form is not unique), no booleans,
  no nested objects, no bytes. Refused values raise ``UnencodableValue``
  naming the field; nothing is coerced.

For this value set the encoding is the JSON Canonicalization Scheme of RFC
8785, so a practice can re-create the bytes in any language.

Every event carries its sequence number as the integer field ``seq``, so
the hash of an event commits to its position in the log (see
``carries_seq``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import cast

from claimbridge.errors import ClaimbridgeError

# IMPORTANT: frozen format. Every stored event hash, every Merkle root and
# every signed checkpoint a practice has saved was computed over bytes made
# by this encoding. Changing any rule here (key order, separators, escaping,
# the timestamp form, the version field) makes every existing log fail
# verification. A different encoding needs a new VERSION, and verifiers
# that keep reading version 1.
VERSION = 1
VERSION_KEY = "v"
SEQ_KEY = "seq"

MAX_SAFE_INTEGER = 2**53 - 1
"""The largest integer every JSON reader holds exactly (I-JSON, RFC 7493)."""

_KEY = re.compile(r"[a-z][a-z0-9_]{0,63}")
_GOOD_KEYS: set[str] = set()
_GOOD_KEYS_LIMIT = 256  # Field names are few; the bound keeps a caller's mistake from growing it.
# One encoder, built once: json.dumps with options builds a new one per call.
_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


class UnencodableValue(ClaimbridgeError):
    """A field holds a value the canonical encoding refuses (a bug in the caller)."""

    code = "audit_unencodable_value"
    public_message = "An audit event could not be encoded."


def encode_event(fields: Mapping[str, object]) -> bytes:
    """The canonical version-1 bytes of an event's ``fields``.

    ``fields`` must hold ``seq``, a positive integer, and must not hold
    ``v``, which the encoding adds.
    """
    document: dict[str, object] = {}
    for key, value in fields.items():
        _check_key(key)
        document[key] = _canonical_value(value, key)
    _check_seq(document)
    document[VERSION_KEY] = VERSION
    text = _ENCODER.encode(document)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        # A lone surrogate (from a bad decode upstream) has no UTF-8 form.
        raise UnencodableValue(detail="a string is not valid Unicode") from exc


def encode_instant(instant: datetime) -> str:
    """RFC 3339 in UTC with microseconds and ``Z``; a naive datetime is refused."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise UnencodableValue(detail="naive datetime: the instant is ambiguous")
    try:
        utc = instant.astimezone(UTC).replace(tzinfo=None)
    except OverflowError:
        raise UnencodableValue(detail="the instant is outside years 1 to 9999 in UTC") from None
    return utc.isoformat(timespec="microseconds") + "Z"


def carries_seq(canonical: bytes, seq: int) -> bool:
    """Whether ``canonical`` is an encoding whose top-level ``seq`` is ``seq``.

    A byte search, not a parse, so verifying a million events stays cheap.
    It is exact for this encoding: inside a JSON string every ``"`` is
    escaped as ``\\"``, so ``,"seq":`` or a leading ``{"seq":`` can only be
    the structural key (there are no nested objects), and the ``,`` after
    the digits (``"v"`` always sorts after ``"seq"``) stops ``seq`` 1 from
    matching 12.
    """
    marker = b'"seq":%d,' % seq
    return canonical.startswith(b"{" + marker) or (b"," + marker) in canonical


def _check_key(key: object) -> None:
    if key in _GOOD_KEYS:
        return
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise UnencodableValue(detail="a field name is not a lower-case ASCII identifier")
    if key == VERSION_KEY:
        raise UnencodableValue(where=key, detail="'v' is reserved for the encoding version")
    if len(_GOOD_KEYS) < _GOOD_KEYS_LIMIT:
        _GOOD_KEYS.add(key)


def _check_seq(document: Mapping[str, object]) -> None:
    seq = document.get(SEQ_KEY)
    if not isinstance(seq, int) or seq < 1:
        raise UnencodableValue(where=SEQ_KEY, detail="seq must be a positive integer")


def _canonical_value(value: object, key: str) -> object:
    # Exact types first: most fields are plain strings, None or ints, and a
    # verifier re-encodes every stored event.
    kind = type(value)
    if kind is str or value is None:
        return value
    if kind is int:
        return _check_int(cast(int, value), key)
    return _canonical_other(value, key)


def _canonical_other(value: object, key: str) -> object:
    # bool is a subclass of int: refuse it first, or True would pass as 1.
    if isinstance(value, bool):
        raise UnencodableValue(where=key, detail="booleans are not part of the encoding")
    if isinstance(value, int):
        return _check_int(int(value), key)  # An IntEnum encodes as its value.
    if isinstance(value, str):
        # json writes a str subclass (a StrEnum) as its characters, never its repr.
        return value
    if isinstance(value, datetime):
        try:
            return encode_instant(value)
        except UnencodableValue as exc:
            raise UnencodableValue(where=key, detail=exc.detail) from None
    if isinstance(value, list | tuple):
        return [_canonical_value(item, key) for item in value]
    raise UnencodableValue(
        where=key, detail=f"{type(value).__name__} values are not part of the encoding"
    )


def _check_int(value: int, key: str) -> int:
    if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
        raise UnencodableValue(where=key, detail="integer outside +-(2**53 - 1)")
    return value
