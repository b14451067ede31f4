"""Fuzzing the CSV charge reader: only ``CsvError`` ever escapes, and nothing is slow.

Three sources of input, 5,300 cases in all: arbitrary bytes (with and without a valid header
before them); the example file mutated (cells replaced by arbitrary text,
bytes flipped, inserted or cut, rows repeated or swapped, header names
changed); and rows of plausible cells in random columns. Every case is read
to the end, its errors rendered, and what was read written back; each case
must finish within a second.

The edits and the plausible files come from a generator seeded by one
Hypothesis draw, not from a draw each (as in the X12 fuzz tests): a case
there took a few milliseconds of Hypothesis's time to make and well under
one to read. Arbitrary text put into a cell is still drawn from Hypothesis,
which is good at text.
"""

from __future__ import annotations

import csv
import gc
import io
import random
import signal
import time
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claimbridge.formats.csv import COLUMNS, CsvError, read_charges, write_charges
from tests.unit.formats.csv.samples import EXAMPLE

FUZZ = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    database=None,
)
EXAMPLE_BYTES = EXAMPLE.read_bytes()
EXAMPLE_ROWS = list(csv.reader(io.StringIO(EXAMPLE_BYTES.decode(), newline="")))
HEADER_LINE = EXAMPLE_BYTES.split(b"\n", 1)[0] + b"\n"


class Hung(Exception):
    pass


def _hung(signum: int, frame: object) -> None:
    raise Hung


def exercise(data: bytes) -> None:
    """Read everything, render every error, write back what was read; time it."""
    previous = signal.signal(signal.SIGALRM, _hung)
    signal.setitimer(signal.ITIMER_REAL, 5)
    # CPU time of this process: the bound is the work an input costs, not how
    # busy the machine is with others (wall time failed it under a loaded CI run),
    # nor a collection of garbage earlier tests left (late in a run, one took 1 s):
    # the collector waits until the case is timed.
    gc.disable()
    started = time.process_time()
    try:
        reading = read_charges(data)
        try:
            claims = list(reading)
        except CsvError as refused:
            str(refused)
            refused.to_dict()
            return
        for error in reading.errors:
            assert isinstance(error, CsvError)
            assert error.row is not None
            str(error)
        assert reading.accepted == (not reading.errors)
        assert reading.claims_accepted == len(claims)
        write_charges(claims)
    finally:
        spent = time.process_time() - started
        gc.enable()
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        assert spent < 1.0


def encode(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode("utf-8", "surrogatepass")


# Once before any timed case: the first reading pays for lazy imports and caches,
# which a fresh-clone CI run once saw as a case over its one-second bound.
exercise(EXAMPLE_BYTES)


@settings(FUZZ, max_examples=800)
@given(st.binary(max_size=4000))
def test_arbitrary_bytes(data: bytes) -> None:
    exercise(data)


@settings(FUZZ, max_examples=800)
@given(st.binary(max_size=4000))
def test_arbitrary_bytes_after_a_valid_header(data: bytes) -> None:
    exercise(HEADER_LINE + data)


@settings(FUZZ, max_examples=800)
@given(st.text(max_size=2000))
def test_arbitrary_text_after_a_valid_header(text: str) -> None:
    exercise(HEADER_LINE + text.encode("utf-8", "surrogatepass"))


SEEDS = st.integers(0, 2**32)
HEADER_NAMES = [column.name.upper() for column in COLUMNS] + ["extra", ""]


@st.composite
def mutated_rows(draw: st.DrawFn) -> bytes:
    chance = random.Random(draw(SEEDS))
    rows = [list(row) for row in EXAMPLE_ROWS]
    for _ in range(chance.randint(1, 6)):
        kind = chance.choice(["cell", "empty", "drop", "repeat", "swap", "header", "extra"])
        at = chance.randint(0, len(rows) - 1)
        column = chance.randint(0, len(rows[at]) - 1) if rows[at] else 0
        if kind == "cell" and rows[at]:
            rows[at][column] = draw(st.text(max_size=40))
        elif kind == "empty" and rows[at]:
            rows[at][column] = ""
        elif kind == "drop" and rows[at]:
            del rows[at][column]
        elif kind == "repeat":
            rows.insert(at, list(rows[at]))
        elif kind == "swap":
            other = chance.randint(1, len(rows) - 1)
            rows[at], rows[other] = rows[other], rows[at]
        elif kind == "header":
            rows[0][column % len(rows[0])] = chance.choice(HEADER_NAMES)
        elif kind == "extra":
            rows[at].append(draw(st.text(max_size=10)))
    return encode(rows)


@settings(FUZZ, max_examples=1200)
@given(mutated_rows())
def test_mutated_rows_of_the_example(data: bytes) -> None:
    exercise(data)


def a_byte(chance: random.Random) -> int:
    """A NUL a quarter of the time, ASCII half, any byte the rest (Hypothesis leans low too)."""
    pick = chance.random()
    return 0 if pick < 0.25 else chance.randint(0, 127 if pick < 0.75 else 255)


def mutated_bytes(seed: int) -> bytes:
    chance = random.Random(seed)
    data = bytearray(EXAMPLE_BYTES)
    for _ in range(chance.randint(1, 5)):
        # The very start, the header line or anywhere: Hypothesis's draws leaned
        # the same way, towards the small numbers.
        pick = chance.random()
        end = len(data) if pick > 0.5 else min(len(data), len(HEADER_LINE))
        at = 0 if pick < 0.1 else chance.randint(0, end)
        kind = chance.choice(["flip", "insert", "cut", "quote", "newline"])
        if kind == "flip" and at < len(data):
            data[at] = a_byte(chance)
        elif kind == "insert":
            data[at:at] = bytes(a_byte(chance) for _ in range(chance.randint(1, 8)))
        elif kind == "cut":
            del data[at : at + chance.randint(1, 200)]
        else:
            data[at:at] = b'"' if kind == "quote" else chance.choice([b"\r", b"\n", b"\r\n"])
    return bytes(data)


@settings(FUZZ, max_examples=1200)
@given(SEEDS)
def test_mutated_bytes_of_the_example(seed: int) -> None:
    exercise(mutated_bytes(seed))


# Cells that are nearly right: code characters of about the right length.
PLAUSIBLE_TEXT = [
    ("0123456789", 12),
    ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 8),
    ("0123456789-.,: ", 12),
]
PLAUSIBLE_VALUES = ["self", "child", "M", "F", "11", "E11.9", "99213", "1,2", "1", "0", ""]
LAST_DAY = date.max.toordinal()


def plausible(chance: random.Random) -> str:
    kind = chance.randint(0, len(PLAUSIBLE_TEXT) + 1)
    if kind < len(PLAUSIBLE_TEXT):
        alphabet, longest = PLAUSIBLE_TEXT[kind]
        return "".join(chance.choices(alphabet, k=chance.randint(0, longest)))
    if kind == len(PLAUSIBLE_TEXT):
        return chance.choice(PLAUSIBLE_VALUES)
    return str(date.fromordinal(chance.randint(1, LAST_DAY)))


def plausible_file(seed: int) -> bytes:
    chance = random.Random(seed)
    names = [column.name for column in COLUMNS]
    # Mostly a handful of columns, now and then any number up to all of them.
    width = chance.randint(1, len(names)) if chance.random() < 0.25 else chance.randint(1, 8)
    columns = chance.sample(names, width)
    required = [column.name for column in COLUMNS if column.required]
    if chance.random() < 0.5:
        columns = list(dict.fromkeys([*required, *columns]))
    count = chance.randint(1, 6)
    rows = [[plausible(chance) for _ in columns] for _ in range(count)]
    for cells in rows:
        if "claim_id" in columns and chance.random() < 0.5:
            cells[columns.index("claim_id")] = chance.choice(["A", "B"])
    return encode([columns, *rows])


@settings(FUZZ, max_examples=500)
@given(SEEDS)
def test_plausible_cells_in_random_columns(seed: int) -> None:
    exercise(plausible_file(seed))
