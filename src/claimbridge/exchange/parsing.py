"""Reading a batch's content: format sniffing, the readers, and what they found.

``sniff`` looks at the first bytes before anything is parsed, so a file
that is not what its manifest declares (a ZIP sent as CSV, JSON sent as
X12, anything binary) is refused at once; archives are never expanded.

``ClaimSource`` walks the content with the reader of its format and yields
each claim mapped for intake, with a place name that carries no PHI
("claim 17"). Afterwards ``problems`` lists everything wrong with a
location, ``rejected`` says whether anything was bad enough to refuse the
batch, and for X12 ``acknowledgments`` gives the 999 to send back.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, BinaryIO

from claimbridge.errors import ClaimbridgeError
from claimbridge.exchange.errors import FormatMismatch
from claimbridge.exchange.mapping import to_intake
from claimbridge.exchange.receipts import Problem
from claimbridge.formats.csv import read_charges
from claimbridge.formats.fhir import read_bundle
from claimbridge.formats.x12 import (
    Outcome,
    X12Error,
    acknowledge,
    read_837i,
    read_837p,
    write_999,
)
from claimbridge.formats.x12.reader import Reading
from claimbridge.phi.intake import IntakeClaim

__all__ = ["SNIFF_BYTES", "ClaimSource", "guess_format", "sniff"]

SNIFF_BYTES = 4096
_BOM = b"\xef\xbb\xbf"
_ARCHIVES = {
    b"PK\x03\x04": "a ZIP archive",
    b"\x1f\x8b": "a gzip file",
    b"7z\xbc\xaf": "a 7-Zip archive",
    b"Rar!": "a RAR archive",
    b"%PDF": "a PDF document",
}


def guess_format(head: bytes) -> str:
    """The format from a file's first bytes: ISA is X12, ``{`` a FHIR Bundle, else CSV."""
    text = head.removeprefix(_BOM).lstrip()
    if text.startswith(b"ISA"):
        return "x12-837i" if b"X223" in head else "x12-837p"
    if text.startswith(b"{"):
        return "fhir-r4"
    return "csv"


def sniff(head: bytes, declared: str) -> None:
    """Refuse content whose first bytes say it is not ``declared``."""
    for magic, name in _ARCHIVES.items():
        if head.startswith(magic):
            raise FormatMismatch(
                f"The content is {name}; send the {declared} file itself (archives are not "
                "expanded).",
                where="content",
            )
    if b"\x00" in head:
        raise FormatMismatch("The content is binary, not text.", where="content")
    text = head.removeprefix(_BOM).lstrip()
    if not text:
        raise FormatMismatch("The content is empty.", where="content")
    if declared.startswith("x12-"):
        if not text.startswith(b"ISA"):
            raise FormatMismatch("X12 content begins with an ISA header.", where="content byte 0")
    elif declared == "fhir-r4":
        if not text.startswith(b"{") or b'"resourceType"' not in head:
            raise FormatMismatch(
                "FHIR content is a JSON object with a resourceType.", where="content byte 0"
            )
    elif declared == "csv":
        if text.startswith((b"ISA", b"{", b"[", b"<")):
            raise FormatMismatch(
                "The content looks like X12, JSON or XML, not CSV.", where="content byte 0"
            )
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            # A multi-byte character cut by the sniff window is not an error.
            if exc.start < len(head) - 3:
                raise FormatMismatch(
                    "CSV content must be UTF-8 text.", where=f"content byte {exc.start}"
                ) from exc


@dataclass
class ClaimSource:
    """The claims of one batch's content, read in one pass."""

    format: str
    stream: BinaryIO
    found: int = 0
    mapped: int = 0
    problems: list[Problem] = field(default_factory=list)
    rejected: bool = False
    left_out: int = 0
    """Problems the reader counted but did not keep (it keeps the first thousand)."""
    interchange: str | None = None
    _reading: Reading[Any] | None = None

    def __iter__(self) -> Iterator[IntakeClaim]:
        if self.format == "x12-837p":
            yield from self._x12(read_837p(self.stream))
        elif self.format == "x12-837i":
            yield from self._x12(read_837i(self.stream))
        elif self.format == "csv":
            charges = read_charges(self.stream)
            yield from self._records(charges)
            self.found = charges.claims_accepted + charges.claims_rejected
            self._errors(charges.errors, left_out=charges.error_count - len(charges.errors))
            self.rejected = self.rejected or not charges.accepted
        elif self.format == "fhir-r4":
            bundle = read_bundle(self.stream)
            yield from self._records(bundle)
            self.found = max(self.found, len(bundle.results))
            self._errors(bundle.errors)
            self.rejected = self.rejected or not bundle.accepted
        else:
            raise FormatMismatch(
                f"Batches in {self.format} are not read by this server yet.", where="format"
            )

    def _records(self, records: Iterable[Any]) -> Iterator[IntakeClaim]:
        """Claims of a CSV or FHIR reading (which yields only the claims it accepted)."""
        try:
            for claim in records:
                self.found += 1
                item = self._map(claim, f"claim {self.found}")
                if item is not None:
                    yield item
        except ClaimbridgeError as unreadable:  # the file as a whole cannot be read
            self._problem(unreadable, unreadable.where or "content")
            self.rejected = True

    def _errors(self, errors: Iterable[ClaimbridgeError], *, left_out: int = 0) -> None:
        for error in errors:
            self._problem(error, error.where or "content")
        self.left_out += left_out

    def _x12(self, reading: Reading[Any]) -> Iterator[IntakeClaim]:
        self._reading = reading
        try:
            for claim in reading:
                self.found += 1
                item = self._map(claim, f"claim {self.found}")
                if item is not None:
                    yield item
        except X12Error as raised:  # an interchange that cannot be read at all
            self._problem(raised, raised.where or "content")
        for error in reading.errors:
            self._problem(error, error.where or "interchange")
        self.rejected = self.rejected or _x12_rejected(reading)
        if reading.interchanges:
            first = reading.interchanges[0]
            self.interchange = f"{first.sender_qualifier}:{first.sender}:{first.control_number}"

    def _map(self, claim: Any, where: str) -> IntakeClaim | None:
        try:
            item = to_intake(claim, where)
        except ClaimbridgeError as error:
            self._problem(error, error.where or where)
            self.rejected = True
            return None
        self.mapped += 1
        return item

    def _problem(self, error: ClaimbridgeError, where: str) -> None:
        self.problems.append(Problem(where=where, message=error.message, code=error.code))

    def acknowledgment_999(self, *, control_number: int, now: datetime) -> str | None:
        """Our 999 for X12 content, or ``None`` for other formats or an unreadable header."""
        reading = self._reading
        if reading is None or not reading.interchanges:
            return None
        first = reading.interchanges[0]
        ack = write_999(
            acknowledge(reading),
            sender=first.receiver,
            receiver=first.sender,
            interchange_control_number=control_number,
            group_control_number=control_number,
            now=now,
        )
        return ack.decode("ascii", errors="replace")


def _x12_rejected(reading: Reading[Any]) -> bool:
    if reading.stray or not reading.interchanges:
        return True
    for interchange in reading.interchanges:
        if interchange.outcome is Outcome.REJECTED:
            return True
        for group in interchange.groups:
            if group.outcome is Outcome.REJECTED:
                return True
            if not all(result.accepted for result in group.sets):
                return True
    return False
