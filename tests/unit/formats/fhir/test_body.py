"""The body of an upload: refused when too large, not UTF-8, not JSON or nested too deep."""

from __future__ import annotations

import io

import pytest

from claimbridge.formats.fhir import (
    DEFAULT_MAX_BYTES,
    BundleTooLarge,
    FhirError,
    NestingTooDeep,
    NotJSON,
    NotUTF8,
    read_bundle,
)
from claimbridge.formats.fhir.body import check_depth
from tests.unit.formats.fhir.samples import EXAMPLE, encode, example


class EndlessStream(io.RawIOBase):
    """A body that never ends, counting what the reader takes from it."""

    def __init__(self) -> None:
        self.taken = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        buffer[:] = b" " * len(buffer)
        self.taken += len(buffer)
        return len(buffer)


def _refusal(data: bytes | io.RawIOBase, **options: int) -> FhirError:
    with pytest.raises(FhirError) as raised:
        list(read_bundle(data, **options))  # type: ignore[arg-type]
    return raised.value


def test_default_limit_is_100_mib() -> None:
    assert DEFAULT_MAX_BYTES == 100 * 1024 * 1024


def test_body_over_the_limit_is_refused() -> None:
    data = EXAMPLE.read_bytes()

    error = _refusal(data, max_bytes=len(data) - 1)

    assert isinstance(error, BundleTooLarge)
    assert error.path == "Bundle"
    assert list(read_bundle(data, max_bytes=len(data)))  # exactly at the limit is fine


def test_endless_stream_is_refused_once_past_the_limit() -> None:
    stream = EndlessStream()

    error = _refusal(io.BufferedReader(stream), max_bytes=3_000_000)  # type: ignore[arg-type]

    assert isinstance(error, BundleTooLarge)
    # Reading stops within one buffer of the limit, not at the end of the stream.
    assert stream.taken <= 3_000_000 + 2 * 1024 * 1024


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b'{"resourceType": "Bundle", "id": "caf\xe9"}', id="latin-1"),
        pytest.param('{"resourceType": "Bundle"}'.encode("utf-16"), id="utf-16"),
        pytest.param(b"\xff\xfe\x00", id="garbage"),
    ],
)
def test_body_that_is_not_utf8_is_refused(data: bytes) -> None:
    assert isinstance(_refusal(data), NotUTF8)


def test_byte_order_mark_is_tolerated() -> None:
    assert len(list(read_bundle(b"\xef\xbb\xbf" + EXAMPLE.read_bytes()))) == 2


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"<Bundle xmlns='http://hl7.org/fhir'/>", id="xml"),
        pytest.param(b'{"resourceType": "Bundle",}', id="trailing comma"),
        pytest.param(b'{"resourceType": "Bundle"} {}', id="two documents"),
        pytest.param(b'{"resourceType": "Bundle", "total": NaN}', id="NaN"),
        pytest.param(b'{"resourceType": "Bundle", "total": -Infinity}', id="infinity"),
        pytest.param(
            b'{"resourceType": "Bundle", "total": 1' + b"0" * 5000 + b"}", id="huge integer"
        ),
    ],
)
def test_body_that_is_not_json_is_refused(data: bytes) -> None:
    error = _refusal(data)

    assert isinstance(error, NotJSON)
    assert error.path == "Bundle"


def test_json_error_says_where_without_quoting() -> None:
    error = _refusal(b'{\n  "resourceType": "Bundle",\n  "id": Lopez\n}')

    assert "line 3, column 9" in str(error)
    assert "Lopez" not in str(error)


def test_deep_nesting_is_refused_with_the_depth_found() -> None:
    error = _refusal(b"[" * 100_000 + b"]" * 100_000)

    assert isinstance(error, NestingTooDeep)
    assert "100000 deep; at most 64" in str(error)


def test_nesting_bound_is_the_callers() -> None:
    data = encode(example())

    assert isinstance(_refusal(data, max_depth=8), NestingTooDeep)
    assert len(list(read_bundle(data, max_depth=14))) == 2


@pytest.mark.parametrize(
    ("data", "depth"),
    [
        (b"[[[]]]", 3),
        (b'["[[[[", []]', 2),
        (b'["]]]]]", [[[]]]]', 4),
        (b'["\\"[[[[", 1]', 1),
        (b'["\\\\", [[]]]', 3),
        (b'["\\\\\\"[[", 1]', 1),
        (b'{"a": "{", "b": "}}}", "c": [{}]}', 3),
        (b'""', 0),
    ],
)
def test_brackets_inside_strings_do_not_count(data: bytes, depth: int) -> None:
    check_depth(data, max_depth=depth)
    with pytest.raises(NestingTooDeep):
        check_depth(data, max_depth=depth - 1)
