"""Read the CSV charge template into professional claims.

``read_charges(source)`` streams a practice's charge export: one row per
service line, the rows of a claim next to one another, the claim's own
columns repeated on each of its rows. Iterating the ``ChargeReading`` it
returns yields one ``ProfessionalClaim`` per claim, the same record the
837P reader yields (``claimbridge.formats.x12.x837p``), so ingest has one
path for both. A claim is yielded as soon as its rows end, so memory stays
flat however many rows the file has; only the set of claim ids seen grows
(tens of bytes a claim), to refuse a claim whose rows are not contiguous.

Row errors (an empty required cell, a malformed date, an NPI failing its
check digit, a claim-level cell differing between the claim's rows ...)
reject the claim they belong to, whole; the other claims are still read.
After iteration ``errors`` holds them in file order, each with its row and
column, and ``raise_for_errors()`` raises the first. A file that cannot be
read at all (not UTF-8, binary, a bad header, a row past the bounds) raises
a ``CsvUnreadable`` from the iteration at once.

What a CSV does not say and a ``ProfessionalClaim`` holds comes from
``submission`` (by default ``UNKNOWN_SUBMISSION``: no reference, sender or
receiver, created on ``date.min``; the ingest service passes the batch's
own) and from the defaults named in ``rows``. ``docs/csv-charges.md``
documents the template, its errors and its mapping to the 837P.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import BinaryIO

from claimbridge.formats.csv.errors import ClaimNotContiguous, CsvError, HeaderMissing, NoRows
from claimbridge.formats.csv.layout import Layout
from claimbridge.formats.csv.rows import ClaimRows
from claimbridge.formats.csv.source import read_rows
from claimbridge.formats.csv.template import read_header
from claimbridge.formats.x12.records837 import Party, Submission
from claimbridge.formats.x12.x837p import ProfessionalClaim

__all__ = ["MAX_ERRORS", "UNKNOWN_SUBMISSION", "ChargeReading", "read_charges"]

# Errors kept for the caller; past this many only ``error_count`` grows, so a
# file whose every row is wrong still reads in bounded memory.
MAX_ERRORS = 1000

UNKNOWN_SUBMISSION = Submission(
    reference="",
    created_on=date.min,
    created_time="",
    submitter=Party("submitter", ""),
    receiver=Party("receiver", ""),
)


class ChargeReading:
    """Claims streamed from a CSV charge file, and the row errors found on the way.

    Iterate it once. Afterwards ``errors`` (the first ``max_errors``, in file
    order), ``error_count``, ``rows``, ``claims_accepted`` and
    ``claims_rejected`` say what was read; ``accepted`` is true when the
    whole file was read without an error.
    """

    def __init__(
        self,
        source: bytes | BinaryIO,
        *,
        submission: Submission = UNKNOWN_SUBMISSION,
        max_errors: int = MAX_ERRORS,
    ) -> None:
        self._source = source
        self._submission = submission
        self._max_errors = max_errors
        self._started = False
        self.finished = False
        self.errors: list[CsvError] = []
        self.error_count = 0
        self.rows = 0
        self.claims_accepted = 0
        self.claims_rejected = 0

    def __iter__(self) -> Iterator[ProfessionalClaim]:
        if self._started:
            raise RuntimeError("a ChargeReading can be iterated only once")
        self._started = True
        return self._run()

    @property
    def accepted(self) -> bool:
        """True when the whole file was read and no row had an error."""
        return self.finished and self.error_count == 0

    def raise_for_errors(self) -> None:
        """Raise the first row error, if any."""
        if self.errors:
            raise self.errors[0]

    def _report(self, error: CsvError) -> None:
        self.error_count += 1
        if len(self.errors) < self._max_errors:
            self.errors.append(error)

    def _run(self) -> Iterator[ProfessionalClaim]:
        rows = read_rows(self._source)
        first = next(rows, None)
        if first is None:
            raise HeaderMissing("the file is empty; the first row must be the header.", row=1)
        layout = Layout.of(read_header(first[1]))
        at = layout.claim_id
        seen: set[str] = set()
        claim: ClaimRows | None = None
        for number, row in rows:
            if not any(cell.strip() for cell in row):
                continue  # A blank row, or one of only commas: nothing to read.
            self.rows += 1
            claim_id = row[at].strip() if len(row) > at else ""
            # A row without a claim id stays with the claim above it, which
            # is then rejected: better than dropping a line from it.
            if claim is None or (claim_id and claim_id != claim.claim_id):
                if claim is not None:
                    yield from self._finish(claim)
                claim = ClaimRows(claim_id, layout=layout, report=self._report)
                if claim_id in seen:
                    claim.refuse(
                        ClaimNotContiguous(
                            "this claim id appeared earlier, before another claim; "
                            "a claim's rows must follow one another.",
                            row=number,
                            column="claim_id",
                        )
                    )
                seen.add(claim_id)
            claim.add(number, row)
        if claim is not None:
            yield from self._finish(claim)
        if not self.rows:
            raise NoRows()
        self.finished = True

    def _finish(self, claim: ClaimRows) -> Iterator[ProfessionalClaim]:
        built = claim.build(self._submission)
        if built is None:
            self.claims_rejected += 1
            return
        self.claims_accepted += 1
        yield built


def read_charges(
    source: bytes | BinaryIO,
    *,
    submission: Submission = UNKNOWN_SUBMISSION,
    max_errors: int = MAX_ERRORS,
) -> ChargeReading:
    """Stream the professional claims of a CSV charge file (see the module docstring)."""
    return ChargeReading(source, submission=submission, max_errors=max_errors)
