"""Service lines of an 837 claim, as both guides have them (005010X222A1, 005010X223A2).

``LineReader`` reads loop 2400 and what it holds: ``LX`` opens a line, the
guide's service segment (``SV1``, ``SV2``) fills it, the drug loop (2410:
``LIN``, ``CTP``) and line adjudication (2430: ``SVD``) follow; line dates,
references, notes and providers are read by ``loops837.ClaimReader`` into
the same line.

A line being read is a draft of its record (``construct.draft_constructor``):
the record's very slots, mutable, every field at its default. The fields
both guides share (``service_date`` ... ``adjudications``) are set here and
in ``loops837``; the guide's reader sets the rest. Ending the line freezes
the loops below it and gives the draft the record's class: no record of
twenty fields is built a second time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from claimbridge.formats.x12 import values837
from claimbridge.formats.x12.drafts837 import (
    PAD,
    AdjudicationDraft,
    ClaimDraft,
    DrugDraft,
    PartyDraft,
)
from claimbridge.formats.x12.hierarchy837 import (
    IN_ADJUDICATION,
    IN_DRUG,
    IN_LINE,
    MAX_REPEATS,
    HierarchyReader,
)
from claimbridge.formats.x12.reader import TransactionContext
from claimbridge.formats.x12.records837 import Drug, LineAdjudication, Party, new_drug

__all__ = ["LineReader"]

# The fields every line record ends with, as indexes from the end.
# LX01 as it nearly always is: a line number within the guide's 50 lines.
_LINE_NUMBERS = {str(number): number for number in range(1, 100)}


class LineReader(HierarchyReader):
    """Reads the service lines of the claim being read (``claim``)."""

    # The guide's line record, and its draft's constructor (``construct``),
    # held in a ``staticmethod`` so that it does not bind to the reader.
    line_record: ClassVar[type] = object
    line_draft: ClassVar[Callable[..., Any]] = object
    max_lines: ClassVar[int] = 50
    service_id: ClassVar[str] = ""

    def __init__(self, context: TransactionContext) -> None:
        super().__init__(context)
        self.claim: ClaimDraft | None = None
        self.line: Any = None

    def on_service(self, segment: list[str]) -> None:
        """The guide's service segment (``service_id``: SV1 or SV2)."""
        raise NotImplementedError

    def on_lx(self, segment: list[str]) -> None:
        claim, line = self.claim, self.line
        if claim is None:
            raise self.unexpected("A service line (LX) must be inside a claim.")
        if line is not None:
            lines = claim.lines
            lines.append(self.end_line(line))
            if len(lines) >= self.max_lines:
                raise self.too_many("service lines (LX)")
        number = segment[1] if len(segment) > 1 else ""
        try:
            self.line = self.line_draft(_LINE_NUMBERS[number])
        except KeyError:
            if not number.isdigit():
                raise self.invalid("LX01 must be the line number.", 1) from None
            self.line = self.line_draft(int(number))
        self.party = None
        self.loop = IN_LINE

    def end_line(self, line: Any) -> Any:
        if line.charge is None:  # the service segment sets the charge
            raise self.absent("A service line (LX) has no service segment (SV1, SV2).")
        # Dates, references and notes are tuples already; the loops below a
        # line are drafts until now.
        if line.drug is not None or line.providers or line.adjudications:
            if line.drug is not None:
                line.drug = self.freeze_drug(line.drug)
            if line.providers:
                line.providers = self.freeze_parties(line.providers)
            if line.adjudications:
                line.adjudications = tuple(draft.freeze() for draft in line.adjudications)
        line.__class__ = self.line_record
        return line

    def on_lin(self, segment: list[str]) -> None:
        line = self.line
        if line is None or line.drug is not None or self.loop == IN_ADJUDICATION:
            raise self.unexpected("LIN (drug identification) belongs once to a service line.")
        self.party = None
        ndc = segment[3] if len(segment) > 3 else ""
        if not ndc:
            raise self.missing("LIN03 (National Drug Code) is required.", 3)
        line.drug = DrugDraft(ndc)
        self.loop = IN_DRUG

    def on_ctp(self, segment: list[str]) -> None:
        line = self.line
        if self.loop != IN_DRUG or line is None or line.drug.drug is not None:
            raise self.unexpected("CTP belongs right after LIN.")
        e = segment + PAD
        quantity = values837.decimal(e[4])
        if quantity is None:
            raise self.invalid("CTP04 (drug quantity) must be a number.", 4)
        draft = line.drug
        draft.drug = new_drug(draft.ndc, quantity, e[5].split(self.separator)[0])

    def freeze_drug(self, draft: DrugDraft) -> Drug:
        drug = draft.drug
        if drug is None:
            raise self.absent("A drug identification (LIN) has no quantity (CTP).")
        if not draft.prescription:
            return drug
        return new_drug(drug.ndc, drug.quantity, drug.unit, draft.prescription)

    def on_svd(self, segment: list[str]) -> None:
        line = self.line
        if line is None:
            raise self.unexpected("SVD (line adjudication) belongs to a service line.")
        self.party = None
        e = segment + PAD
        procedure = e[3].split(self.separator) + PAD
        units = values837.decimal(e[5])
        if units is None:
            raise self.invalid("SVD05 (paid units) must be a number.", 5)
        fields = LineAdjudication(
            e[1],
            self.money(e[2], 2),
            procedure[1],
            units,
            procedure[0],
            tuple(modifier for modifier in procedure[2:6] if modifier),
            procedure[6],
            int(e[6]) if e[6].isdigit() else None,
        )
        adjudications = line.adjudications or []
        if len(adjudications) >= MAX_REPEATS:
            raise self.too_many("line adjudications (SVD)")
        adjudications.append(AdjudicationDraft(fields))
        line.adjudications = adjudications
        self.loop = IN_ADJUDICATION

    @staticmethod
    def freeze_parties(drafts: list[PartyDraft]) -> tuple[Party, ...]:
        return tuple(map(PartyDraft.freeze, drafts))
