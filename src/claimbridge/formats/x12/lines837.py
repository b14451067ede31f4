"""Service lines of an 837 claim, as both guides have them (005010X222A1, 005010X223A2).

``LineReader`` reads loop 2400 and what it holds: ``LX`` opens a line, the
guide's service segment (``SV1``, ``SV2``) fills it, the drug loop (2410:
``LIN``, ``CTP``) and line adjudication (2430: ``SVD``) follow; line dates,
references, notes and providers are read by ``loops837.ClaimReader`` into
the same line.

A line being read is a list shaped like its record's fields, whose last
seven are the same in both guides (``SERVICE_DATE`` ... ``ADJUDICATIONS``);
ending the line turns its lists into tuples and builds the record in one
call, which is the cheapest way Python has to build a record of twenty
fields.
"""

from __future__ import annotations

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

__all__ = [
    "ADJUDICATIONS",
    "DATES",
    "DRUG",
    "NOTES",
    "PROVIDERS",
    "REFERENCES",
    "SERVICE_DATE",
    "LineReader",
]

# The fields every line record ends with, as indexes from the end.
SERVICE_DATE, DATES, REFERENCES, NOTES, DRUG, PROVIDERS, ADJUDICATIONS = range(-7, 0)

# LX01 as it nearly always is: a line number within the guide's 50 lines.
_LINE_NUMBERS = {str(number): number for number in range(1, 100)}


class LineReader(HierarchyReader):
    """Reads the service lines of the claim being read (``claim``)."""

    line_template: ClassVar[list[Any]] = []
    max_lines: ClassVar[int] = 50
    service_id: ClassVar[str] = ""

    def __init__(self, context: TransactionContext) -> None:
        super().__init__(context)
        # The guide's empty line, as an attribute of this reader: found faster there.
        self.line_template = type(self).line_template
        self.claim: ClaimDraft | None = None
        self.line: list[Any] | None = None
        self.line_served = False

    def new_line(self, *fields: Any) -> Any:
        raise NotImplementedError

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
        line = self.line_template.copy()
        try:
            line[0] = _LINE_NUMBERS[number]
        except KeyError:
            if not number.isdigit():
                raise self.invalid("LX01 must be the line number.", 1) from None
            line[0] = int(number)
        self.line = line
        self.party = None
        self.line_served = False
        self.loop = IN_LINE

    def end_line(self, line: list[Any]) -> Any:
        if not self.line_served:
            raise self.absent("A service line (LX) has no service segment (SV1, SV2).")
        # Dates, references and notes are tuples already; the loops below a
        # line (the last three fields) are drafts until now.
        if line[DRUG] is not None or line[PROVIDERS] or line[ADJUDICATIONS]:
            if line[DRUG] is not None:
                line[DRUG] = self.freeze_drug(line[DRUG])
            if line[PROVIDERS]:
                line[PROVIDERS] = self.freeze_parties(line[PROVIDERS])
            if line[ADJUDICATIONS]:
                line[ADJUDICATIONS] = tuple(draft.freeze() for draft in line[ADJUDICATIONS])
        return self.new_line(*line)

    def on_lin(self, segment: list[str]) -> None:
        line = self.line
        if line is None or line[DRUG] is not None or self.loop == IN_ADJUDICATION:
            raise self.unexpected("LIN (drug identification) belongs once to a service line.")
        self.party = None
        ndc = segment[3] if len(segment) > 3 else ""
        if not ndc:
            raise self.missing("LIN03 (National Drug Code) is required.", 3)
        line[DRUG] = DrugDraft(ndc)
        self.loop = IN_DRUG

    def on_ctp(self, segment: list[str]) -> None:
        line = self.line
        if self.loop != IN_DRUG or line is None or line[DRUG].drug is not None:
            raise self.unexpected("CTP belongs right after LIN.")
        e = segment + PAD
        quantity = values837.decimal(e[4])
        if quantity is None:
            raise self.invalid("CTP04 (drug quantity) must be a number.", 4)
        draft = line[DRUG]
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
        adjudications = line[ADJUDICATIONS] or []
        if len(adjudications) >= MAX_REPEATS:
            raise self.too_many("line adjudications (SVD)")
        adjudications.append(AdjudicationDraft(fields))
        line[ADJUDICATIONS] = adjudications
        self.loop = IN_ADJUDICATION

    @staticmethod
    def freeze_parties(drafts: list[PartyDraft]) -> tuple[Party, ...]:
        return tuple(map(PartyDraft.freeze, drafts))
