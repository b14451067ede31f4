"""The rows of one claim becoming one ``ProfessionalClaim``.

``ClaimRows`` takes a claim's rows as they arrive. The first row's
claim-level cells are read into the claim's parties, place of service and
diagnoses (``parties.claim_parts``); every later row must repeat them
(compared as text first, so agreeing rows cost a tuple comparison, and
read only where the text differs, so ``e11.9`` agrees with ``E119``). Each
row's line-level cells become one service line. Every refusal goes to the
reading's ``report`` with its row and column and marks the claim
rejected; ``build`` then gives ``None``. A claim holds at most 50 lines, so
its memory is bounded whatever the file holds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import cast

from claimbridge.formats.csv.cells import CellRefused
from claimbridge.formats.csv.errors import (
    CellInvalid,
    CellMissing,
    ClaimDisagrees,
    CsvError,
    RowLengthMismatch,
    TooManyLines,
)
from claimbridge.formats.csv.layout import HEADS_LIMIT, VALUES_LIMIT, Head, Layout, remember
from claimbridge.formats.csv.parties import (
    INVALID,
    Values,
    claim_checks,
    claim_parts,
    in_order,
    rendering_provider,
    same,
)
from claimbridge.formats.csv.template import (
    COLUMNS_BY_NAME,
    MAX_DIAGNOSES,
    MAX_LINES_PER_CLAIM,
    MAX_MODIFIERS,
    Column,
)
from claimbridge.formats.x12.records837 import Drug, Submission
from claimbridge.formats.x12.x837p import ProfessionalClaim, ServiceLine
from claimbridge.types import Money, ServicePeriod

__all__ = ["DEFAULT_DRUG_UNIT", "ClaimRows", "Report"]

Report = Callable[[CsvError], None]

DEFAULT_DRUG_UNIT = "UN"
# What an 837P claim says that a practice's charge export does not: an
# original claim (CLM05-3 1), the provider's signature on file (CLM06 Y),
# assignment accepted (CLM07 A), benefits assigned (CLM08 Y) and release of
# information signed (CLM09 Y). These are the usual attestations of a
# practice that outsources its billing; docs/csv-charges.md lists them.
FREQUENCY = "1"
ASSIGNMENT = "A"
BENEFITS_ASSIGNED = "Y"
RELEASE_OF_INFORMATION = "Y"
_CLAIM_ID = COLUMNS_BY_NAME["claim_id"]


@dataclass(frozen=True, slots=True)
class _Line:
    procedure: str
    charge: Money
    units: Decimal
    modifiers: tuple[str, ...]
    pointers: tuple[int, ...]
    period: ServicePeriod
    drug: Drug | None
    rendering: str


class ClaimRows:
    """One claim's rows, read as they arrive, and the claim they make."""

    def __init__(self, claim_id: str, *, layout: Layout, report: Report) -> None:
        self.claim_id = claim_id
        self.layout = layout
        self.report = report
        self.refused = 0
        self.rows = 0
        self.first_row = 0
        self.head: Head | None = None
        self.head_text: tuple[str, ...] = ()
        self.head_raw: tuple[str, ...] = ()
        self.lines: list[_Line] = []

    @property
    def rejected(self) -> bool:
        return self.refused > 0

    def refuse(self, error: CsvError) -> None:
        self.refused += 1
        self.report(error)

    def add(self, number: int, row: list[str]) -> None:
        """Read row ``number`` as one more line of this claim."""
        self.rows += 1
        layout = self.layout
        if len(row) < layout.width or any(cell.strip() for cell in row[layout.width :]):
            self.refuse(
                RowLengthMismatch(
                    f"the row has {len(row)} cells; the header has {layout.width} columns.",
                    row=number,
                )
            )
            return
        claim_id = row[layout.claim_id].strip()
        if claim_id and self.rows == 1:
            self._read(number, _CLAIM_ID, claim_id)
        elif not claim_id:
            self.refuse(
                CellMissing(
                    "required; a row without one counts as a line of the claim "
                    "above it, which is then rejected.",
                    row=number,
                    column="claim_id",
                )
            )
        if self.rows > MAX_LINES_PER_CLAIM:
            if self.rows == MAX_LINES_PER_CLAIM + 1:
                self.refuse(
                    TooManyLines(
                        f"the claim's {MAX_LINES_PER_CLAIM + 1}st row: an 837P claim holds "
                        f"at most {MAX_LINES_PER_CLAIM} service lines.",
                        row=number,
                    )
                )
            return
        # Most rows repeat their claim's cells byte for byte: one comparison.
        raw = layout.claim_cells(row)
        if self.head is None:
            self.head_raw = raw
            self._read_head(number, tuple(cell.strip() for cell in raw))
        elif raw != self.head_raw:
            claim_text = tuple(cell.strip() for cell in raw)
            if claim_text != self.head_text:
                self._agree(number, claim_text)
        line = self._read_line(number, row)
        if line is not None:
            self.lines.append(line)

    def build(self, submission: Submission) -> ProfessionalClaim | None:
        """The claim, or ``None`` when any of its rows was refused."""
        parts = self.head.parts if self.head is not None else None
        if self.rejected or parts is None or not self.lines:
            return None
        renderings = {line.rendering for line in self.lines}
        # One rendering provider for every line is the claim's (loop 2310B);
        # otherwise each line names its own (loop 2420A).
        shared = renderings.pop() if len(renderings) == 1 else ""
        lines = tuple(
            ServiceLine(
                number,
                line.procedure,
                line.charge,
                line.units,
                modifiers=line.modifiers,
                diagnosis_pointers=line.pointers,
                service_date=line.period,
                drug=line.drug,
                providers=(rendering_provider(line.rendering),)
                if line.rendering and not shared
                else (),
            )
            for number, line in enumerate(self.lines, start=1)
        )
        providers = parts.providers
        if shared:
            providers = (*providers, rendering_provider(shared))
        return ProfessionalClaim(
            claim_id=self.claim_id,
            total_charge=Money(sum(line.charge.cents for line in lines)),
            place_of_service=parts.place_of_service,
            frequency=FREQUENCY,
            submission=submission,
            billing_provider=parts.billing,
            subscriber=parts.subscriber,
            patient=parts.patient,
            lines=lines,
            diagnoses=parts.diagnoses,
            assignment=ASSIGNMENT,
            benefits_assigned=BENEFITS_ASSIGNED,
            release_of_information=RELEASE_OF_INFORMATION,
            references=parts.references,
            providers=providers,
        )

    # -- cells -------------------------------------------------------------------

    def _read(self, number: int, column: Column, text: str) -> object:
        """The cell's value, ``None`` when empty, ``INVALID`` when refused (and reported)."""
        if not text:
            if column.required:
                self.refuse(CellMissing("required.", row=number, column=column.name))
            return None
        known = self.layout.values.get(column.name)
        if known is not None:
            value = known.get(text)
            if value is not None:
                return value
        try:
            value = column.parse(text)
        except CellRefused as refusal:
            self.refuse(CellInvalid(str(refusal), row=number, column=column.name))
            return INVALID
        if known is not None:
            remember(known, text, value, limit=VALUES_LIMIT)
        return value

    def _invalid(self, number: int, column: str, message: str) -> None:
        self.refuse(CellInvalid(message, row=number, column=column))

    def _read_head(self, number: int, claim_text: tuple[str, ...]) -> None:
        self.head_text, self.first_row = claim_text, number
        heads = self.layout.heads
        head = heads.get(claim_text)
        if head is not None:
            self.head = head
            return
        values = {
            column.name: self._read(number, column, text)
            for (column, _), text in zip(self.layout.claim, claim_text, strict=True)
        }
        problems = claim_checks(values, row=number)
        for problem in problems:
            self.refuse(problem)
        clean = not problems and INVALID not in values.values()
        birth = values.get("patient_birth_date")
        self.head = Head(
            values,
            claim_parts(values) if clean else None,
            birth if isinstance(birth, date) else None,
            sum(1 for n in range(1, MAX_DIAGNOSES + 1) if values.get(f"diagnosis_{n}") is not None),
        )
        if clean:
            remember(heads, claim_text, self.head, limit=HEADS_LIMIT)

    def _agree(self, number: int, claim_text: tuple[str, ...]) -> None:
        head = self.head
        assert head is not None  # noqa: S101 - only called once the head is read
        for (column, _), text, first_text in zip(
            self.layout.claim, claim_text, self.head_text, strict=True
        ):
            if text == first_text:
                continue
            value = self._read(number, column, text)
            first = head.values[column.name]
            if value is INVALID or first is INVALID or (value is None and column.required):
                continue
            if same(value, first):
                continue
            self.refuse(
                ClaimDisagrees(
                    f"differs from the claim's first row (row {self.first_row}); "
                    "claim-level columns repeat the same value on every row of a claim.",
                    row=number,
                    column=column.name,
                )
            )

    def _read_line(self, number: int, row: list[str]) -> _Line | None:
        refused = self.refused
        values = {
            column.name: self._read(number, column, row[index].strip())
            for column, index in self.layout.line
        }
        self._check_line(number, values)
        if self.refused > refused:
            return None
        return _line(values)

    def _check_line(self, number: int, values: Values) -> None:
        for column in in_order(values, "modifier_", MAX_MODIFIERS):
            self._invalid(
                number, column, "filled while an earlier modifier is empty; fill from modifier_1."
            )
        start, end = values.get("service_date"), values.get("service_date_end")
        if isinstance(start, date) and isinstance(end, date) and end < start:
            self._invalid(number, "service_date_end", "before service_date.")
        if values.get("ndc") is None:
            for column in ("ndc_quantity", "ndc_unit"):
                if values.get(column) is not None:
                    self._invalid(number, column, "filled without an ndc.")
        head = self.head
        if head is None:  # pragma: no cover - add() reads the head before any line
            return
        birth = head.birth_date
        if isinstance(start, date) and birth is not None and start < birth:
            self._invalid(number, "service_date", "before the patient's birth date.")
        pointers = values.get("diagnosis_pointers")
        if isinstance(pointers, tuple):
            past = [pointer for pointer in pointers if pointer > head.diagnosis_count]
            if past:
                self._invalid(
                    number,
                    "diagnosis_pointers",
                    f"points at diagnosis_{past[0]}, which is empty for this claim.",
                )


def _line(values: Values) -> _Line:
    """The line a row's cells make; every required cell is there and was read."""
    # The casts hold because the row had no refusal: each required cell was
    # read by its column's parser, and optional ones are None when empty.
    start = cast(date, values["service_date"])
    end = cast(date | None, values.get("service_date_end"))
    units = cast(Decimal, values["units"])
    ndc = cast(str | None, values.get("ndc"))
    drug = None
    if ndc is not None:
        quantity = cast(Decimal | None, values.get("ndc_quantity"))
        drug = Drug(
            ndc,
            units if quantity is None else quantity,
            cast(str | None, values.get("ndc_unit")) or DEFAULT_DRUG_UNIT,
        )
    modifiers = (values.get(f"modifier_{n}") for n in range(1, MAX_MODIFIERS + 1))
    return _Line(
        cast(str, values["procedure_code"]),
        cast(Money, values["charge"]),
        units,
        tuple(cast(str, modifier) for modifier in modifiers if modifier is not None),
        cast(tuple[int, ...], values["diagnosis_pointers"]),
        ServicePeriod(start, start if end is None else end),
        drug,
        cast(str | None, values.get("rendering_npi")) or "",
    )
