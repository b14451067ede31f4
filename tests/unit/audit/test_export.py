"""JSON Lines and RFC 5424 syslog export: one event, one line, values intact."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claimbridge.audit.canonical import UnencodableValue
from claimbridge.audit.export import (
    APP_NAME_MAX,
    HOSTNAME_MAX,
    MSGID_MAX,
    SD_ID,
    ExportedEvent,
    escape_param_value,
    header_field,
    priority,
    to_json_line,
    to_syslog_line,
)
from tests.unit.audit.logs import event_fields

EVENT_HASH = bytes(range(32))
PREV_HASH = bytes(32)
INJECTIONS = ("\n", "\r", "]", '"', "\x1b[31m", "\u2028")
HOSTILE = (
    'x\nseq=9 evil\r\n<86>1 - - - - - [claimbridge@32473 outcome="success"] ok\\'
    '\u2028\u2029\x85\x00\x7f\x9b\u202e\ufeff\x1b[31m"]'
)


def _event(**changes: object) -> ExportedEvent:
    return ExportedEvent(
        fields=event_fields(7, **changes), event_hash=EVENT_HASH, prev_hash=PREV_HASH
    )


# -- a small RFC 5424 reader, written from the RFC's ABNF (section 6) -----------

_HEADER = re.compile(
    r"<(?P<pri>\d{1,3})>1 (?P<timestamp>\S+) (?P<hostname>\S+) (?P<app>\S+) "
    r"(?P<procid>\S+) (?P<msgid>\S+) "
)
_UNESCAPE = re.compile(r'\\(["\\\]]|x[0-9a-f]{2}|u[0-9a-f]{4})')


def _unescape(value: str) -> str:
    def one(match: re.Match[str]) -> str:
        token = match.group(1)
        return token if len(token) == 1 else chr(int(token[1:], 16))

    return _UNESCAPE.sub(one, value)


def parse_syslog(line: str) -> tuple[dict[str, str], str, dict[str, str], str]:
    """(header, SD-ID, params, MSG) of one message with one SD-ELEMENT."""
    header = _HEADER.match(line)
    assert header is not None, line
    rest = line[header.end() :]
    assert rest.startswith("[")
    sd_id, _, rest = rest[1:].partition(" ")
    params: dict[str, str] = {}
    while not rest.startswith("]"):
        name, _, rest = rest.partition('="')
        raw, rest = _param_value(rest)
        assert name not in params
        params[name] = _unescape(raw)
        rest = rest.removeprefix(" ")
    assert rest[:2] == "] "
    return header.groupdict(), sd_id, params, rest[2:]


def _param_value(text: str) -> tuple[str, str]:
    """The raw value up to its closing quote, and what follows the quote."""
    index = 0
    while text[index] != '"':
        index += 2 if text[index] == "\\" else 1
    return text[:index], text[index + 1 :]


def _strings(fields: dict[str, object]) -> dict[str, str]:
    """The fields as text, the way the syslog SD carries them (None left out)."""
    out: dict[str, str] = {}
    for key, value in fields.items():
        if value is None or key == "occurred_at":
            continue
        out[key] = ",".join(value) if isinstance(value, list) else str(value)
    return out


def _one_line(text: str) -> bool:
    return len(text.splitlines()) == 1 and "\n" not in text


# -- JSON Lines ---------------------------------------------------------------


def test_json_line_holds_every_field_sorted_with_utc_time_and_hashes() -> None:
    event = _event(
        occurred_at=datetime(2026, 3, 2, 9, 30, 1, 5, tzinfo=timezone(timedelta(hours=-5)))
    )
    line = to_json_line(event)
    document = json.loads(line)
    assert list(document) == sorted(document)
    assert document["occurred_at"] == "2026-03-02T14:30:01.000005Z"
    assert document["event_hash"] == EVENT_HASH.hex() and document["prev_hash"] == "00" * 32
    assert document["seq"] == 7 and document["actor_roles"] == ["biller"]
    assert line.isascii() and _one_line(line)


def test_json_line_keeps_absent_fields_as_null() -> None:
    assert json.loads(to_json_line(_event(patient_ref=None)))["patient_ref"] is None


def test_json_line_escapes_line_separators_and_controls() -> None:
    line = to_json_line(_event(resource_id=HOSTILE))
    assert _one_line(line) and line.isascii()
    assert "\x7f" not in line and "\\u2028" in line and "\\u007f" in line
    assert json.loads(line)["resource_id"] == HOSTILE


def test_json_line_refuses_a_naive_time() -> None:
    with pytest.raises(UnencodableValue):
        to_json_line(_event(occurred_at=datetime(2026, 3, 2, 14, 30)))  # noqa: DTZ001


# -- syslog ---------------------------------------------------------------------


def test_syslog_line_has_the_rfc_5424_shape() -> None:
    line = to_syslog_line(_event(), hostname="billing.example", procid="4242")
    header, sd_id, params, message = parse_syslog(line)
    assert header == {
        "pri": "86",  # authpriv (10) * 8 + informational (6): event 7 succeeded
        "timestamp": "2025-01-02T03:04:12.000013Z",
        "hostname": "billing.example",
        "app": "claimbridge",
        "procid": "4242",
        "msgid": "phi:patient:read",
    }
    assert sd_id == SD_ID == "claimbridge@32473"
    assert params == {
        **_strings(event_fields(7)),
        "event_hash": EVENT_HASH.hex(),
        "prev_hash": PREV_HASH.hex(),
    }
    assert message == "phi:patient:read success"


@pytest.mark.parametrize(
    ("outcome", "pri"), [("success", 86), ("failure", 85), ("denied", 84), ("odd", 84)]
)
def test_severity_follows_the_outcome(outcome: str, pri: int) -> None:
    assert priority(outcome) == pri
    line = to_syslog_line(_event(outcome=outcome), hostname="h")
    assert line.startswith(f"<{pri}>1 ")


def test_empty_header_fields_are_the_nil_value() -> None:
    header, *_ = parse_syslog(to_syslog_line(_event(action=""), hostname=None, procid=""))
    assert (header["hostname"], header["procid"], header["msgid"]) == ("-", "-", "-")


def test_header_fields_keep_to_printable_ascii_and_their_lengths() -> None:
    assert header_field("a b\tc\u00e9\n", 255) == "a_b_c__"
    assert len(header_field("h" * 300, HOSTNAME_MAX)) == 255
    assert len(header_field("a" * 60, APP_NAME_MAX)) == 48
    long_action = "integrity:finding:" + "overridden" * 5
    header, _, params, _ = parse_syslog(to_syslog_line(_event(action=long_action), hostname="h"))
    assert header["msgid"] == long_action[:MSGID_MAX]
    assert params["action"] == long_action


def test_absent_fields_are_left_out_of_the_structured_data() -> None:
    _, _, params, _ = parse_syslog(to_syslog_line(_event(patient_ref=None), hostname="h"))
    assert "patient_ref" not in params


def test_a_custom_enterprise_number_can_replace_the_documentation_one() -> None:
    _, sd_id, _, _ = parse_syslog(to_syslog_line(_event(), hostname="h", sd_id="cb@99999"))
    assert sd_id == "cb@99999"
    with pytest.raises(UnencodableValue):
        to_syslog_line(_event(), hostname="h", sd_id="bad id")


def test_syslog_refuses_values_the_log_never_holds() -> None:
    with pytest.raises(UnencodableValue):
        to_syslog_line(_event(resource_id=1.5), hostname="h")
    with pytest.raises(UnencodableValue):
        to_json_line(_event(resource_id={"nested": 1}))


# -- log injection ----------------------------------------------------------------


def test_injected_line_breaks_and_delimiters_stay_inside_one_event() -> None:
    hostile = {
        "source_address": "192.0.2.1" + "".join(INJECTIONS),
        "resource_id": 'r1"] [claimbridge@32473 outcome="success"]\n<86>1 forged',
        "request_id": "req\r\n" + HOSTILE,
        "action": "phi:patient:read\nforged",
    }
    event = _event(**hostile)
    syslog = to_syslog_line(event, hostname="h")
    jsonl = to_json_line(event)
    for line in (syslog, jsonl):
        assert _one_line(line)
        assert not any(char in line for char in INJECTIONS if char not in '"]')
    header, _, params, message = parse_syslog(syslog)
    assert {key: params[key] for key in hostile} == hostile
    assert header["msgid"] == "phi:patient:read_forged"
    assert _one_line(message) and message.isascii()
    assert {key: json.loads(jsonl)[key] for key in hostile} == hostile


def test_a_literal_backslash_escape_is_not_taken_for_an_escaped_control() -> None:
    value = "\\x0a and \\u2028 written by hand"
    _, _, params, _ = parse_syslog(to_syslog_line(_event(resource_id=value), hostname="h"))
    assert params["resource_id"] == value


text_fields = st.fixed_dictionaries(
    {
        name: st.one_of(st.none(), st.text(max_size=40))
        for name in ("source_address", "resource_id", "request_id", "tenant_id", "purpose")
    }
)


@settings(max_examples=300, deadline=None)
@given(text_fields, st.text(max_size=30), st.text(max_size=20))
def test_any_text_exports_as_one_line_that_reads_back(
    changes: dict[str, str | None], action: str, hostname: str
) -> None:
    event = _event(**changes, action=action)
    jsonl = to_json_line(event)
    syslog = to_syslog_line(event, hostname=hostname)
    assert _one_line(jsonl) and _one_line(syslog)
    header, _, params, _ = parse_syslog(syslog)
    assert params == {
        **_strings(event_fields(7, **changes, action=action)),
        "event_hash": EVENT_HASH.hex(),
        "prev_hash": PREV_HASH.hex(),
    }
    assert len(header["hostname"]) <= HOSTNAME_MAX
    assert json.loads(jsonl) | {"occurred_at": None} == {
        **event_fields(7, **changes, action=action),
        "occurred_at": None,
        "event_hash": EVENT_HASH.hex(),
        "prev_hash": PREV_HASH.hex(),
    }


# Naive bounds are how hypothesis takes them; a day's margin keeps UTC inside years 1-9999.
EARLIEST, LATEST = datetime(1, 1, 2), datetime(9999, 12, 30)  # noqa: DTZ001


@given(st.datetimes(min_value=EARLIEST, max_value=LATEST, timezones=st.just(UTC)))
def test_any_instant_is_written_as_rfc_3339_utc(instant: datetime) -> None:
    header, *_ = parse_syslog(to_syslog_line(_event(occurred_at=instant), hostname="h"))
    assert datetime.fromisoformat(header["timestamp"]) == instant
    assert header["timestamp"].endswith("Z")


def test_param_values_escape_quote_backslash_and_bracket_as_rfc_5424_says() -> None:
    assert escape_param_value('a"b\\c]d') == 'a\\"b\\\\c\\]d'
    assert escape_param_value("\x00\x1f\x7f\x85\u2028\u2029") == (
        "\\x00\\x1f\\x7f\\x85\\u2028\\u2029"
    )
    assert escape_param_value("caf\u00e9 \u4e2d") == "caf\u00e9 \u4e2d"  # UTF-8 is allowed
