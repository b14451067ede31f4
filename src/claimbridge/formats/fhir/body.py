"""The body of a FHIR JSON upload: read within a size bound, checked, parsed.

JSON cannot be parsed as a stream with the standard library, so the body is
read whole, but never more than ``max_bytes`` plus one: a stream that goes
on is refused as soon as it passes the limit, before it fills memory. The
text must be UTF-8 (RFC 8259 and the FHIR JSON format; a leading byte-order
mark is tolerated), one JSON value, with arrays and objects nested at most
``max_depth`` deep. Numbers with a fraction or exponent become ``Decimal``,
never ``float``, so amounts stay exact; ``NaN`` and ``Infinity`` are refused.

The nesting bound is checked before parsing, on the bytes, in a few C
passes (``check_depth``) that cost a small fraction of the parse itself.
Without it a body of a million ``[`` would reach the parser's recursion
limit, and a merely deep one would reach the validation and mapping code.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from itertools import accumulate
from typing import Any, BinaryIO

from claimbridge.formats.fhir.errors import BundleTooLarge, NestingTooDeep, NotJSON, NotUTF8

__all__ = ["DEFAULT_MAX_BYTES", "DEFAULT_MAX_DEPTH", "load_json", "read_body"]

DEFAULT_MAX_BYTES = 100 * 1024 * 1024
# A Bundle entry's resource with a contained resource, a nested extension and
# a coding sits about 15 deep; questionnaires nest further. 64 leaves room.
DEFAULT_MAX_DEPTH = 64

_CHUNK = 1024 * 1024
_BOM = b"\xef\xbb\xbf"
_WHERE = "Bundle"

# What is left of the body once its strings are taken out: quotes and brackets.
_NOT_STRUCTURE = bytes(byte for byte in range(256) if byte not in b'"[]{}')
_QUOTED = re.compile(rb'"[^"]*"')
_STEP = [0] * 256  # a quote left over (unterminated string) counts nothing
_STEP[ord("[")] = _STEP[ord("{")] = 1
_STEP[ord("]")] = _STEP[ord("}")] = -1


def read_body(source: BinaryIO | bytes, *, max_bytes: int) -> bytes:
    """The whole body, refusing it once it is larger than ``max_bytes``."""
    if max_bytes < 0:
        raise ValueError("max_bytes must not be negative")
    if isinstance(source, bytes | bytearray | memoryview):
        if len(source) > max_bytes:
            raise _too_large(max_bytes)
        return bytes(source)
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = source.read(min(_CHUNK, max_bytes + 1 - total))
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if total > max_bytes:
            raise _too_large(max_bytes)
        chunks.append(chunk)


def _too_large(max_bytes: int) -> BundleTooLarge:
    return BundleTooLarge(f"The body is larger than the limit of {max_bytes} bytes.", path=_WHERE)


def load_json(data: bytes, *, max_depth: int) -> Any:
    """Parse one JSON value from UTF-8 ``data``, nested at most ``max_depth`` deep."""
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotUTF8(
            f"The body is not UTF-8 text (byte {exc.start} cannot be decoded).", path=_WHERE
        ) from None
    check_depth(data, max_depth=max_depth)
    try:
        return json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        # The decoder's messages are fixed phrases ("Expecting value"); they
        # never carry the text they stopped at.
        raise NotJSON(
            f"The body is not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.",
            path=_WHERE,
        ) from None
    except (ValueError, RecursionError):
        # ValueError: an integer of more digits than Python converts (4,300).
        raise NotJSON("The body is not JSON this reader accepts.", path=_WHERE) from None


def check_depth(data: bytes, *, max_depth: int) -> None:
    """Refuse ``data`` when its arrays and objects nest more than ``max_depth`` deep.

    Brackets inside strings do not count, so strings are taken out first,
    in C passes over the bytes: escaped backslashes and quotes go, leaving
    every remaining quote a string's edge; only quotes and brackets are
    kept; adjacent quotes go in pairs (empty strings, or the seam between
    two strings with nothing between them), which keeps quotes alternating
    open and close; what is still quoted (a string with a bracket in it) is
    cut out. The running depth of what is left is summed with ``accumulate``.
    """
    plain = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    structure = plain.translate(None, _NOT_STRUCTURE).replace(b'""', b"")
    if b'"' in structure:
        structure = _QUOTED.sub(b"", structure)
    deepest = max(accumulate(map(_STEP.__getitem__, structure)), default=0)
    if deepest > max_depth:
        raise NestingTooDeep(
            f"Arrays and objects nest {deepest} deep; at most {max_depth} is accepted.",
            path=_WHERE,
        )


def _refuse_constant(name: str) -> Any:
    raise NotJSON(f"JSON has no {name}; FHIR numbers must be finite.", path=_WHERE)
