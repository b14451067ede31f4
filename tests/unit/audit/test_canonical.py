"""The canonical event encoding: exact bytes, refusals, and the seq it carries."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from enum import IntEnum, StrEnum

import pytest
from hypothesis import given
from hypothesis import strategies as st

from claimbridge.audit.canonical import (
    MAX_SAFE_INTEGER,
    UnencodableValue,
    carries_seq,
    encode_event,
    encode_instant,
)
from claimbridge.errors import ClaimbridgeError
from tests.unit.audit.logs import event_fields

# IMPORTANT: a frozen encoding. If this test fails, every stored event hash
# and every signed checkpoint stops verifying; add a version instead.
GOLDEN_FIELDS: dict[str, object] = {
    "seq": 7,
    "occurred_at": datetime(2025, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
    "action": "phi:patient:read",
    "actor_roles": ["biller", "coder"],
    "resource_id": None,
    "purpose": 'Zahlung \u00fcber "Kasse"\n\t\\ \u2028 \U0001f600 \x7f \x01',
    "tenant_id": "t-1",
}
GOLDEN_BYTES = (
    b'{"action":"phi:patient:read","actor_roles":["biller","coder"],'
    b'"occurred_at":"2025-01-02T03:04:05.000006Z",'
    b'"purpose":"Zahlung \xc3\xbcber \\"Kasse\\"\\n\\t\\\\ '
    b'\xe2\x80\xa8 \xf0\x9f\x98\x80 \x7f \\u0001",'
    b'"resource_id":null,"seq":7,"tenant_id":"t-1","v":1}'
)


def test_encoding_is_frozen() -> None:
    assert encode_event(GOLDEN_FIELDS) == GOLDEN_BYTES


def test_keys_are_sorted_without_whitespace_and_versioned() -> None:
    encoded = encode_event({"seq": 1, "b": "x", "a": 2})
    assert encoded == b'{"a":2,"b":"x","seq":1,"v":1}'


def test_key_order_of_the_input_does_not_matter() -> None:
    fields = event_fields(3)
    assert encode_event(dict(reversed(list(fields.items())))) == encode_event(fields)


def test_instants_become_utc_with_microseconds_and_z() -> None:
    eastern = timezone(timedelta(hours=-5))
    assert encode_instant(datetime(2025, 1, 1, 22, 0, tzinfo=eastern)) == (
        "2025-01-02T03:00:00.000000Z"
    )
    assert encode_instant(datetime(5, 1, 1, tzinfo=UTC)) == "0005-01-01T00:00:00.000000Z"


def test_enum_values_encode_as_their_plain_values() -> None:
    class Outcome(StrEnum):
        SUCCESS = "success"

    class Level(IntEnum):
        HIGH = 3

    encoded = encode_event({"seq": 1, "outcome": Outcome.SUCCESS, "level": Level.HIGH})
    assert encoded == b'{"level":3,"outcome":"success","seq":1,"v":1}'


def test_tuples_encode_as_lists() -> None:
    assert encode_event({"seq": 1, "r": ("a", ("b",))}) == b'{"r":["a",["b"]],"seq":1,"v":1}'


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("n", 1.5),
        ("n", float("nan")),
        ("n", [1, 2.0]),
        ("n", True),
        ("n", [False]),
        ("n", b"bytes"),
        ("n", {"nested": "object"}),
        ("n", {1, 2}),
        ("n", MAX_SAFE_INTEGER + 1),
        ("n", -MAX_SAFE_INTEGER - 1),
        ("n", datetime(2025, 1, 1)),  # noqa: DTZ001 - the naive datetime is the point
        ("n", datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5)))),  # before year 1 in UTC
        ("n", "lone \udc80 surrogate"),
    ],
)
def test_values_outside_the_encoding_are_refused(field: str, value: object) -> None:
    with pytest.raises(UnencodableValue):
        encode_event({"seq": 1, field: value})


def test_refusal_names_the_field_but_not_the_value() -> None:
    with pytest.raises(UnencodableValue) as caught:
        encode_event({"seq": 1, "patient_ref": 3.25})
    assert caught.value.where == "patient_ref"
    assert "3.25" not in str(caught.value)
    assert isinstance(caught.value, ClaimbridgeError)


@pytest.mark.parametrize("key", ["v", "", "Seq", "seq-no", "1st", "a b", "\u00e9t\u00e9", "x" * 65])
def test_reserved_and_irregular_keys_are_refused(key: str) -> None:
    with pytest.raises(UnencodableValue):
        encode_event({"seq": 1, key: "x"})


@pytest.mark.parametrize("fields", [{}, {"seq": 0}, {"seq": -1}, {"seq": "1"}, {"seq": None}])
def test_seq_must_be_a_positive_integer(fields: dict[str, object]) -> None:
    with pytest.raises(UnencodableValue):
        encode_event(fields)


def test_event_fields_of_the_storage_shape_encode() -> None:
    encoded = encode_event(event_fields(42))
    assert 250 <= len(encoded) <= 700
    assert json.loads(encoded)["seq"] == 42


# --- Properties -----------------------------------------------------------------------

keys = st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True).filter(
    lambda k: k not in {"v", "seq"}
)
# Strings rich in the characters that matter to the seq marker and to escaping.
tricky_text = st.text(alphabet=st.sampled_from('seq",:{}[]\\0123456789 \n\x00\u00e9\U0001f600'))
scalars = st.one_of(
    st.none(),
    st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER),
    tricky_text,
    st.text(),
    st.datetimes(timezones=st.just(UTC)),
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4), max_leaves=8)
field_maps = st.dictionaries(keys, values, max_size=8)
seqs = st.integers(1, 10**12)


@given(field_maps, seqs)
def test_encoding_is_json_that_reads_back_to_the_same_values(
    fields: dict[str, object], seq: int
) -> None:
    encoded = encode_event({**fields, "seq": seq})
    decoded = json.loads(encoded.decode("utf-8"))
    assert decoded == {**_as_json(fields), "seq": seq, "v": 1}
    assert json.dumps(decoded, sort_keys=True, separators=(",", ":"), ensure_ascii=False) == (
        encoded.decode("utf-8")
    )


@given(field_maps, seqs, seqs)
def test_an_event_carries_its_own_seq_and_no_other(
    fields: dict[str, object], seq: int, other: int
) -> None:
    # Adversarial field names and strings (",\"seq\":5,") must not fake a seq.
    encoded = encode_event({**fields, "seq": seq})
    assert carries_seq(encoded, seq)
    assert carries_seq(encoded, other) == (other == seq)


@given(tricky_text, seqs)
def test_a_string_spelling_a_seq_key_does_not_fake_one(text: str, seq: int) -> None:
    forged = f',"seq":{seq + 1},{text}'
    encoded = encode_event({"a": forged, "seq": seq, "z": [forged]})
    assert not carries_seq(encoded, seq + 1)


def _as_json(value: object) -> object:
    if isinstance(value, dict):
        return {k: _as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_json(v) for v in value]
    if isinstance(value, datetime):
        return encode_instant(value)
    return value
