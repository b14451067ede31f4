"""Split an X12 5010 stream into segments, in chunks, with bounded memory.

The separators come from the fixed-width ISA header (X12.5 interchange
control structure): the element separator is its fourth character, the
repetition separator ISA11, the component separator ISA16 and the segment
terminator the character after it (position 106). Every ISA after an IEA
names its own separators, so concatenated interchanges may differ.

What is accepted, and why:

* Encoding: UTF-8 (ASCII is a subset), with a UTF-8 byte-order mark
  skipped. Bytes that are not valid UTF-8 switch the rest of the stream to
  ISO 8859-1, which legacy systems write for the X12 extended character
  set; that decoding never fails. UTF-16 (a NUL among the first bytes, or
  its byte-order mark) is refused with ``EncodingUnsupported``: X12 is a
  byte-oriented syntax and guessing a wide encoding misreads files.
* Line breaks and indentation after a terminator are skipped, and a line
  feed (or carriage return) may itself be the terminator. Empty segments
  are skipped. The last segment may lack its terminator at end of input.
* A segment, or any run of input without a terminator, longer than
  ``max_segment_length`` characters (1 MiB by default) is refused with
  ``SegmentTerminatorMissing``. The pending text is never longer than that
  plus one chunk, so memory stays bounded and refusal is linear in time.

Speed: each chunk is split with one ``str.split`` on the terminator, and
each segment with one ``str.split`` on the element separator, in C. Nothing
is counted per segment: the segment number is the position of a list
iterator, and byte offsets are worked out only when ``position()`` asks.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from itertools import accumulate, repeat
from operator import add, length_hint
from typing import BinaryIO

from claimbridge.formats.x12.errors import (
    EncodingUnsupported,
    NotX12,
    Position,
    SegmentTerminatorMissing,
)
from claimbridge.formats.x12.isa import DEFAULT_SEPARATORS, ISA_LENGTH, Separators, parse_isa

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "DEFAULT_SEPARATORS",
    "ISA_LENGTH",
    "MAX_SEGMENT_LENGTH",
    "Segments",
    "Separators",
    "parse_isa",
    "tokenize",
]

MAX_SEGMENT_LENGTH = 1 << 20
DEFAULT_CHUNK_SIZE = 1 << 16

_WHITESPACE = " \t\r\n"
_LINE_BREAKS = "\r\n"


def tokenize(
    source: bytes | BinaryIO,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    max_segment_length: int = MAX_SEGMENT_LENGTH,
) -> Segments:
    """Segments of an X12 stream; reads and checks the first ISA at once."""
    if isinstance(source, bytes | bytearray | memoryview):
        source = io.BytesIO(source)
    return Segments(source.read, chunk_size=chunk_size, max_segment_length=max_segment_length)


class _Batch:
    """The segments split from one chunk, and what is needed to place them."""

    __slots__ = (
        "ascii",
        "base",
        "element",
        "iterator",
        "offset",
        "parts",
        "remaining",
        "separator_length",
        "starts",
        "text",
    )

    def __init__(
        self,
        parts: list[str],
        *,
        element: str,
        base: int,
        text: str,
        offset: int,
        separator_length: int,
        starts: list[int] | None,
    ) -> None:
        self.parts = parts
        self.element = element
        # Segments are split one at a time, in C, as consumers pull them
        # through the shared ``iterator``; each list is freed as soon as it
        # has been read, which keeps the allocator's memory hot.
        self.remaining = iter(parts)
        self.iterator = map(str.split, self.remaining, repeat(element))
        self.base = base
        self.text = text
        self.offset = offset
        self.separator_length = separator_length
        self.starts = starts
        self.ascii: bool | None = None

    def index(self) -> int:
        """Index in ``parts`` of the segment yielded last (-1 before the first)."""
        # A list iterator knows how many items it has left: the one counter
        # the hot loop needs, kept by C code at no cost.
        return len(self.parts) - length_hint(self.remaining) - 1

    def start(self, index: int) -> int:
        """Character index in ``text`` where segment ``index`` begins."""
        if self.starts is None:
            # Worked out once per batch, and only when a position is asked for.
            step = self.separator_length
            lengths = map(add, map(len, self.parts[:-1]), repeat(step))
            self.starts = list(accumulate(lengths, initial=0))  # in C, no Python loop
        return self.starts[index]


class Segments:
    """An iterator of segments: each a list, the segment id first.

    Elements are raw strings; components and repetitions are not split.
    ``number``, ``offset`` and ``position()`` describe the segment yielded
    last. Iterate once.
    """

    def __init__(
        self,
        read: Callable[[int], bytes],
        *,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        max_segment_length: int = MAX_SEGMENT_LENGTH,
    ) -> None:
        self._read = read
        self._chunk_size = max(chunk_size, ISA_LENGTH)
        self._limit = max_segment_length
        self._latin1 = False
        self._undecoded = b""
        self._eof = False
        self._batch = _Batch(
            [], element="*", base=0, text="", offset=0, separator_length=1, starts=[]
        )
        self._after_iea = False
        self._done = False
        self._text = ""
        self._text_offset = 0
        self._sniff_encoding()
        self.separators = DEFAULT_SEPARATORS
        self._sequence = "~"
        self._isa: list[str] | None = None
        if not self._start_interchange():
            raise NotX12(position=Position(1, "", offset=self._text_offset))
        self._generator = self._generate()

    # -- the public face -----------------------------------------------------

    def __iter__(self) -> Iterator[list[str]]:
        return self._generator

    def __next__(self) -> list[str]:
        return next(self._generator)

    @property
    def number(self) -> int:
        """1-based number of the segment yielded last, counted over the stream."""
        batch = self._batch
        # ``batch.index() + 1``, written out: claims ask for it one by one.
        return batch.base + len(batch.parts) - length_hint(batch.remaining)

    @property
    def offset(self) -> int:
        """Byte offset where the segment yielded last begins."""
        batch = self._batch
        index = max(batch.index(), 0)
        if not batch.parts:
            return batch.offset
        start = batch.start(index)
        if batch.ascii is None:
            # Checked once per batch: in ASCII text a character is a byte.
            batch.ascii = self._latin1 or batch.text.isascii()
        if batch.ascii:
            return batch.offset + start
        return batch.offset + self._byte_length(batch.text[:start])

    def position(self, element: int | None = None, component: int | None = None) -> Position:
        """Where the segment yielded last is, optionally one of its elements."""
        batch = self._batch
        index = batch.index()
        if index < 0:
            return Position(batch.base, "", element, component, batch.offset)
        head = batch.parts[index].split(batch.element, 1)[0]
        segment_id = head if len(head) <= 3 and head.isalnum() else "?"
        return Position(batch.base + index + 1, segment_id, element, component, self.offset)

    # -- reading and decoding ------------------------------------------------

    def _sniff_encoding(self) -> None:
        raw = self._read(self._chunk_size)
        if raw[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in raw[:16]:
            raise EncodingUnsupported(position=Position(1, "", offset=0))
        skipped = 3 if raw[:3] == b"\xef\xbb\xbf" else 0
        self._text_offset = skipped
        self._text = self._decode(raw[skipped:]) if raw else ""
        self._eof = not raw

    def _decode(self, raw: bytes) -> str:
        if self._latin1:
            return raw.decode("latin-1")
        data = self._undecoded + raw if self._undecoded else raw
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.reason == "unexpected end of data" and len(data) - exc.start < 4 and raw:
                # A character split across two chunks: keep its first bytes.
                self._undecoded = data[exc.start :]
                return data[: exc.start].decode("utf-8")
            self._latin1 = True
            self._undecoded = b""
            return data.decode("latin-1")
        self._undecoded = b""
        return text

    def _more(self) -> bool:
        """Append the next chunk to the pending text; False at end of input."""
        if self._eof:
            return False
        raw = self._read(self._chunk_size)
        if not raw:
            self._eof = True
            if self._undecoded:
                self._text += self._undecoded.decode("latin-1")
                self._undecoded = b""
                return True
            return False
        self._text += self._decode(raw)
        return True

    def _byte_length(self, text: str) -> int:
        if self._latin1 or text.isascii():
            return len(text)
        return len(text.encode("utf-8", "surrogatepass"))

    def _consume(self, characters: int) -> None:
        """Drop the first characters of the pending text, keeping the offset."""
        self._text_offset += self._byte_length(self._text[:characters])
        self._text = self._text[characters:]

    def _refuse_unterminated(self, number: int) -> None:
        raise SegmentTerminatorMissing(
            f"No segment terminator within {self._limit} characters; "
            "the input is not X12 or its separators are wrong.",
            position=Position(number, "?"),
        )

    # -- interchange headers -------------------------------------------------

    def _start_interchange(self) -> bool:
        """Read an ISA at the head of the pending text; False if there is none."""
        while len(self._text.lstrip(_WHITESPACE)) < ISA_LENGTH + 2 and self._more():
            if len(self._text) > self._limit:
                break
        text = self._text
        stripped = text.lstrip(_WHITESPACE + "\ufeff")
        if not stripped.startswith("ISA"):
            return False
        self._consume(len(text) - len(stripped))
        number = self._batch.base + len(self._batch.parts) + 1
        separators = parse_isa(self._text, segment_number=number, offset=self._text_offset)
        after = self._text[ISA_LENGTH:]
        suffix = after[: len(after) - len(after.lstrip(_LINE_BREAKS))]
        if not after.strip(_WHITESPACE) and self._eof:
            raise SegmentTerminatorMissing(
                "Nothing follows the ISA header: no segment terminator could be found.",
                position=Position(number, "ISA", offset=self._text_offset),
            )
        if separators.segment in suffix:
            suffix = ""
        self.separators = separators
        self._sequence = separators.segment + suffix
        header = self._text[: ISA_LENGTH - 1]
        self._batch = _Batch(
            [header],
            element=separators.element,
            base=number - 1,
            text=self._text,
            offset=self._text_offset,
            separator_length=1,
            starts=[0],
        )
        self._consume(ISA_LENGTH + len(suffix))
        return True

    # -- the hot loop --------------------------------------------------------

    def _generate(self) -> Iterator[list[str]]:
        while True:
            batch = self._batch
            yield from batch.iterator
            # A consumer may have moved on to a later batch itself (see
            # ``advance``); only when it has not is a new one needed here.
            if self._batch is batch and not self.advance():
                return

    def advance(self) -> bool:
        """Make the next batch current; False at the end of input.

        For consumers that iterate ``batch_iterator()`` directly, which is
        faster than going through this object's generator.
        """
        if self._after_iea:
            self._after_iea = False
            if self._start_interchange():
                return True
        if self._done:
            return False
        final = not self._more()
        self._after_iea = self._split_pending(final=final)
        if final and not self._after_iea and not self._text:
            self._done = True
        return True

    def batch_iterator(self) -> Iterator[list[str]]:
        """The iterator over the current batch of segments; shared, not a copy."""
        return self._batch.iterator

    def _split_pending(self, *, final: bool) -> bool:
        """Make a batch of the complete segments pending; True if it ends with an IEA.

        Only the text up to the end of the first IEA is split: what follows
        may be an interchange with other separators.
        """
        text = self._text
        leading = len(text) - len(text.lstrip(_WHITESPACE))
        if leading:
            self._consume(leading)
            text = self._text
        terminator = self.separators.segment
        sequence = self._sequence
        cut = _end_of_iea(text, "IEA" + self.separators.element, terminator)
        if cut > 0:
            if text.startswith(sequence[1:], cut):
                cut += len(sequence) - 1
            text = text[:cut]
        splitter, parts, rest, starts = _split(text, terminator, sequence)
        base = self._batch.base + len(self._batch.parts)
        if final or cut > 0:
            # The head cut after an IEA, like the end of input, holds no
            # partial segment: whatever is left over is the last segment.
            last = rest.strip(_WHITESPACE).removesuffix(terminator)
            if last:
                if starts is not None:
                    starts.append(len(text) - len(rest.lstrip(_WHITESPACE)))
                parts.append(last)
            rest = ""
        elif len(rest) > self._limit:
            self._refuse_unterminated(base + len(parts) + 1)
        self._batch = _Batch(
            parts,
            element=self.separators.element,
            base=base,
            text=text,
            offset=self._text_offset,
            separator_length=len(splitter),
            starts=starts,
        )
        self._consume(len(text) - len(rest))
        return cut > 0


def _split(
    text: str, terminator: str, sequence: str
) -> tuple[str, list[str], str, list[int] | None]:
    """Split complete segments off ``text``: (splitter, parts, rest, starts).

    ``starts`` is None when the parts lie back to back in ``text``.
    """
    parts = text.split(sequence)
    # The split itself counts the sequences, which the check then needs.
    if _is_clean(text, sequence, len(parts) - 1):
        rest = parts.pop()
        if all(parts):  # no empty segment: faster than ``"" not in parts``
            return sequence, parts, rest, None
    parts = text.split(terminator)
    rest = parts.pop()
    kept, starts = _strip_parts(parts, len(terminator))
    return terminator, kept, rest, starts


def _end_of_iea(text: str, tag: str, terminator: str) -> int:
    """Index just past the terminator of the first IEA segment in ``text``, or -1."""
    start = text.find(tag)
    while start >= 0:
        before = start - 1
        while before >= 0 and text[before] in _WHITESPACE and text[before] != terminator:
            before -= 1
        if before < 0 or text[before] == terminator:
            end = text.find(terminator, start)
            return end + 1 if end >= 0 else -1
        start = text.find(tag, start + 1)
    return -1


def _is_clean(text: str, sequence: str, full: int) -> bool:
    """Whether every terminator in ``text`` is followed by exactly the usual line break.

    Then one split on ``sequence`` gives the segments with no whitespace to
    strip. Each test is a scan in C; absent characters are found by memchr.
    A chunk may end inside a terminator and its line break ("~" now, "\n"
    in the next chunk); that tail is left out of the counts. ``full`` is
    the number of whole sequences in ``text``.
    """
    tail = next(
        (size for size in range(len(sequence) - 1, 0, -1) if text.endswith(sequence[:size])), 0
    )
    partial = sequence[:tail]
    for char in "\r\n\t":
        expected = sequence.count(char)
        if expected == 0:
            if char in text:
                return False
        elif text.count(char) - partial.count(char) != full * expected:
            return False
    if len(sequence) > 1 and text.count(sequence[0]) - partial.count(sequence[0]) != full:
        return False
    # Indentation follows a line break; a single-line file has none.
    return sequence == sequence.strip(_WHITESPACE) or sequence + " " not in text


def _strip_parts(parts: list[str], separator_length: int) -> tuple[list[str], list[int]]:
    """Parts without leading whitespace, empty ones dropped, with their starts."""
    kept: list[str] = []
    starts: list[int] = []
    start = 0
    for part in parts:
        stripped = part.lstrip(_WHITESPACE)
        if stripped:
            kept.append(stripped)
            starts.append(start + len(part) - len(stripped))
        start += len(part) + separator_length
    return kept, starts
