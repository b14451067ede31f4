"""Audit events as lines for a SIEM: JSON Lines, and syslog messages of RFC 5424.

One event is always exactly one line, whatever its fields hold. Values such
as a source address, a resource id or a request id can come from a client,
and a client who could put a line break into the log could forge the next
event (log injection, CWE-117). So:

- a JSON line is pure ASCII: ``json`` escapes ``"``, ``\\`` and C0 controls,
  ``ensure_ascii`` escapes every non-ASCII character (C1 controls, U+2028
  and U+2029 among them) as ``\\uXXXX``, and DEL is escaped here;
- a syslog line escapes ``"``, ``\\`` and ``]`` in a PARAM-VALUE as RFC 5424
  §6.3.3 requires, and writes every control or invisible format character
  (``CONTROL`` below) as ``\\xNN`` (up to U+00FF) or ``\\uNNNN``; header
  fields keep to PRINTUSASCII, with RFC 5424's maximum lengths.

A reader that follows RFC 5424 alone sees ``\\x0a`` as those four visible
characters; ``\\xNN`` and ``\\uNNNN`` are unambiguous, because a backslash in
the original value is itself written ``\\\\``.

Syslog choices:

- facility ``authpriv`` (10): security and authorisation messages that
  syslog daemons route to a file only root reads (``/var/log/secure``,
  ``auth.log``), which is where an access trail belongs;
- severity by outcome: ``denied`` is a warning (4), ``failure`` a notice (5),
  ``success`` informational (6), anything else a warning;
- the structured-data id is ``claimbridge@32473``. 32473 is the private
  enterprise number IANA reserves for documentation (RFC 5612); an operator
  with an enterprise number of its own passes ``sd_id``.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from claimbridge.audit.canonical import UnencodableValue, encode_instant

FACILITY_AUTHPRIV = 10
SEVERITY_WARNING = 4
SEVERITY_NOTICE = 5
SEVERITY_INFORMATIONAL = 6
SEVERITY_OF_OUTCOME = {
    "denied": SEVERITY_WARNING,
    "failure": SEVERITY_NOTICE,
    "success": SEVERITY_INFORMATIONAL,
}

SYSLOG_VERSION = 1
APP_NAME = "claimbridge"
DOCUMENTATION_PEN = 32473
"""The example enterprise number of RFC 5612, for documentation; see ``sd_id``."""
SD_ID = f"claimbridge@{DOCUMENTATION_PEN}"
NILVALUE = "-"

HOSTNAME_MAX = 255
APP_NAME_MAX = 48
PROCID_MAX = 128
MSGID_MAX = 32
SD_NAME_MAX = 32

CONTROL = (
    "\x00-\x1f\x7f-\x9f"  # C0, DEL, C1 (NEL U+0085 among them)
    "\u00ad\u061c\u180e"  # soft hyphen, Arabic letter mark, Mongolian vowel separator
    "\u200b-\u200f"  # zero-width characters, left-to-right and right-to-left marks
    "\u2028-\u202e"  # line and paragraph separators, bidirectional embeddings
    "\u2060-\u206f"  # word joiner, invisible operators, bidirectional isolates
    "\ud800-\udfff"  # lone surrogates (no UTF-8 form)
    "\ufeff\ufff9-\ufffb"  # byte order mark, interlinear annotation
)
"""Characters never written raw: line breaks, and the invisible ones that
reorder or hide text in a viewer ("Trojan Source", CVE-2021-42574)."""

_PARAM_VALUE_UNSAFE = re.compile(f'["\\\\\\]{CONTROL}]')
_MSG_UNSAFE = re.compile("[^\x20-\x7e]")
# PRINTUSASCII except '=', ']', '"' and space, 1 to 32 of them (RFC 5424 §6.3.2-3).
_SD_NAME = re.compile(rf"[!#-<>-\\^-~]{{1,{SD_NAME_MAX}}}")
_NOT_PRINTUSASCII = re.compile("[^\x21-\x7e]")
_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True)


@dataclass(frozen=True, slots=True)
class ExportedEvent:
    """One stored event as exported: its fields (``record.event_fields``) and chain hashes."""

    fields: Mapping[str, object]
    event_hash: bytes
    prev_hash: bytes


def to_json_line(event: ExportedEvent) -> str:
    """The event as one line of JSON (no newline): sorted keys, hashes in hex, pure ASCII."""
    document = {key: _json_value(value, key) for key, value in event.fields.items()}
    document["event_hash"] = event.event_hash.hex()
    document["prev_hash"] = event.prev_hash.hex()
    # ensure_ascii leaves DEL raw; outside strings the line holds no DEL to confuse.
    return _JSON.encode(document).replace("\x7f", "\\u007f")


def to_syslog_line(
    event: ExportedEvent,
    *,
    hostname: str | None,
    app_name: str = APP_NAME,
    procid: str | None = None,
    sd_id: str = SD_ID,
) -> str:
    """The event as one RFC 5424 message (no newline).

    ``<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD-ID name="value" ...] MSG``;
    MSGID is the action (cut to 32 characters; the whole one is in the SD).
    """
    fields = event.fields
    action = str(fields.get("action") or "")
    header = " ".join(
        (
            f"<{priority(str(fields.get('outcome')))}>{SYSLOG_VERSION}",
            _timestamp(fields.get("occurred_at")),
            header_field(hostname, HOSTNAME_MAX),
            header_field(app_name, APP_NAME_MAX),
            header_field(procid, PROCID_MAX),
            header_field(action, MSGID_MAX),
        )
    )
    return f"{header} {structured_data(event, sd_id=sd_id)} {_message(fields)}"


def priority(outcome: str) -> int:
    """PRI: facility times 8 plus the severity of ``outcome``."""
    return FACILITY_AUTHPRIV * 8 + SEVERITY_OF_OUTCOME.get(outcome, SEVERITY_WARNING)


def header_field(value: str | None, limit: int) -> str:
    """A header field: PRINTUSASCII only (others become ``_``), at most ``limit``, else ``-``."""
    if not value:
        return NILVALUE
    return _NOT_PRINTUSASCII.sub("_", value)[:limit]


def structured_data(event: ExportedEvent, *, sd_id: str = SD_ID) -> str:
    """One SD-ELEMENT holding every field that has a value, names sorted.

    ``occurred_at`` is the header's TIMESTAMP; absent (``None``) fields are
    left out rather than written as ``-``, which a real value could be.
    """
    params: dict[str, object] = {**event.fields}
    params.pop("occurred_at", None)
    params["event_hash"] = event.event_hash.hex()
    params["prev_hash"] = event.prev_hash.hex()
    parts = [_sd_name(sd_id)]
    for name in sorted(params):
        text = _param_text(params[name], name)
        if text is not None:
            parts.append(f'{_sd_name(name)}="{escape_param_value(text)}"')
    return "[" + " ".join(parts) + "]"


def escape_param_value(text: str) -> str:
    """``"``, ``\\`` and ``]`` backslash-escaped (§6.3.3); controls as ``\\xNN``/``\\uNNNN``."""
    return _PARAM_VALUE_UNSAFE.sub(_escape_one, text)


def _escape_one(match: re.Match[str]) -> str:
    char = match.group()
    if char in '"\\]':
        return "\\" + char
    return _code_point(char)


def _code_point(char: str) -> str:
    point = ord(char)
    return f"\\x{point:02x}" if point <= 0xFF else f"\\u{point:04x}"


def _message(fields: Mapping[str, object]) -> str:
    # MSG stays ASCII, so it needs no BOM (RFC 5424 §6.4); the SD has the details.
    text = f"{fields.get('action')} {fields.get('outcome')}"
    return _MSG_UNSAFE.sub(lambda match: _code_point(match.group()), text.replace("\\", "\\\\"))


def _timestamp(value: object) -> str:
    if not isinstance(value, datetime):
        return NILVALUE
    return encode_instant(value)  # RFC 3339, UTC, six fractional digits: RFC 5424 §6.2.3


@functools.lru_cache(maxsize=256)  # Names are few; checking each once keeps exports fast.
def _sd_name(name: str) -> str:
    if not _SD_NAME.fullmatch(name):
        raise UnencodableValue(where=name[:SD_NAME_MAX], detail="not an RFC 5424 SD-NAME")
    return name


def _param_text(value: object, key: str) -> str | None:
    if value is None or type(value) is str:
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, datetime):
        return encode_instant(value)
    if isinstance(value, list | tuple):
        # Roles are identifiers (``access/roles.py``), so a comma cannot be part of one.
        return ",".join(str(_param_text(item, key)) for item in value)
    raise UnencodableValue(where=key, detail=f"{type(value).__name__} values are not exported")


def _json_value(value: object, key: str) -> object:
    # Exact types first: nearly every field is a plain string or None.
    if value is None or type(value) is str:
        return value
    if isinstance(value, datetime):
        return encode_instant(value)
    if isinstance(value, str | int):
        return value
    if isinstance(value, list | tuple):
        return [_json_value(item, key) for item in value]
    raise UnencodableValue(where=key, detail=f"{type(value).__name__} values are not exported")
