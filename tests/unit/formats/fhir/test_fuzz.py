"""Fuzzing the FHIR reader: only ``FhirError`` ever escapes, nothing is slow, nothing is quoted.

Four sources of input: arbitrary bytes; arbitrary JSON; the example Bundle's
bytes flipped, cut and spliced; and the example Bundle changed as JSON (an
element dropped, retyped, nulled, duplicated, or a string replaced by a
sentinel that looks like PHI). Each case is read to the end; each must
finish within a second; the results must account for every Claim entry;
and no error may repeat the sentinel.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claimbridge.formats.fhir import FhirError, read_bundle
from tests.unit.formats.fhir.samples import EXAMPLE, encode, example

SENTINEL = "Zyxw Sentinel 1999-12-31 W8675309"
EXAMPLE_BYTES = EXAMPLE.read_bytes()
FUZZ = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
    max_examples=150,
)

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(["Bundle", "Claim", "Patient", "urn:uuid:x", "Patient/patient-leo", "#p"]),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


class Hung(Exception):
    pass


def _hung(signum: int, frame: object) -> None:
    raise Hung


def exercise(data: bytes) -> None:
    """Read everything; only FhirError may escape; an alarm turns a hang into a failure."""
    previous = signal.signal(signal.SIGALRM, _hung)
    signal.setitimer(signal.ITIMER_REAL, 5)
    # CPU time of this process: the bound is the work an input costs, not how
    # busy the machine is with others (wall time failed it under a loaded CI run).
    started = time.process_time()
    try:
        reading = read_bundle(data)
        try:
            claims = list(reading)
        except FhirError as error:
            _check_quiet([error])
            return
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert time.process_time() - started < 1.0
    accepted = [result for result in reading.results if result.accepted]
    assert len(claims) == len(accepted)
    assert all(result.errors for result in reading.results if not result.accepted)
    _check_quiet(reading.errors)
    for claim in claims:
        assert claim.total_charge == claim.line_charges


def _check_quiet(errors: list[FhirError]) -> None:
    for error in errors:
        assert isinstance(error, FhirError)
        assert error.path.startswith("Bundle")
        assert "Sentinel" not in str(error)


@FUZZ
@given(st.binary(max_size=3000))
def test_arbitrary_bytes_raise_only_fhir_errors(data: bytes) -> None:
    exercise(data)


@FUZZ
@given(JSON_VALUES)
def test_arbitrary_json_raises_only_fhir_errors(value: Any) -> None:
    exercise(json.dumps(value).encode())


@FUZZ
@given(JSON_VALUES)
def test_arbitrary_json_in_a_bundle_raises_only_fhir_errors(value: Any) -> None:
    exercise(encode({"resourceType": "Bundle", "type": "collection", "entry": [value]}))


@FUZZ
@given(st.data())
def test_mutated_example_bytes_raise_only_fhir_errors(data: st.DataObject) -> None:
    raw = bytearray(EXAMPLE_BYTES)
    for _ in range(data.draw(st.integers(1, 4))):
        if not raw:
            break
        at = data.draw(st.integers(0, len(raw) - 1))
        action = data.draw(st.sampled_from(["flip", "cut", "insert", "truncate"]))
        if action == "flip":
            raw[at] = data.draw(st.sampled_from(b'{}[]",:0 \\\xff'))
        elif action == "cut":
            del raw[at : at + data.draw(st.integers(1, 200))]
        elif action == "insert":
            raw[at:at] = data.draw(st.binary(min_size=1, max_size=20))
        else:
            del raw[at:]
    exercise(bytes(raw))


ACTIONS = st.sampled_from(["drop", "null", "sentinel", "retype", "duplicate"])


@FUZZ
@given(st.data())
def test_mutated_example_bundles_raise_only_fhir_errors(data: st.DataObject) -> None:
    bundle = example()
    for _ in range(data.draw(st.integers(1, 5))):
        places = list(_places(bundle))
        if not places:
            break
        # An index rather than sampled_from(places): the same choice, without
        # building a strategy over every place of the Bundle at each edit.
        container, key = places[data.draw(st.integers(0, len(places) - 1))]
        _mutate(container, key, data.draw(ACTIONS), data)
    exercise(encode(bundle))


def _places(value: Any) -> Iterator[tuple[Any, Any]]:
    """Every (container, key) in a JSON value, the root's members included."""
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, child in list(items):
        yield value, key
        if isinstance(child, dict | list):
            yield from _places(child)


def _mutate(container: Any, key: Any, action: str, data: st.DataObject) -> None:
    if action == "drop":
        del container[key]
    elif action == "null":
        container[key] = None
    elif action == "sentinel":
        container[key] = SENTINEL
    elif action == "retype":
        container[key] = data.draw(JSON_VALUES)
    elif isinstance(container, list):
        container.insert(key, json.loads(json.dumps(container[key])))
    else:
        container[key] = [container[key], container[key]]


def test_sentinel_in_every_string_is_never_quoted() -> None:
    """Every string of the example replaced in turn by the sentinel: no error repeats it."""
    bundle = example()
    for container, key in list(_places(bundle)):
        original = container[key]
        if not isinstance(original, str):
            continue
        container[key] = SENTINEL
        exercise(encode(bundle))
        container[key] = original
