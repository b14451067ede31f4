"""The claim loops both 837 guides share (005010X222A1, 005010X223A2).

``ClaimReader`` walks the body of one 837 transaction set and yields one
record per claim (``CLM``, loop 2300). On top of the header and hierarchy
(``hierarchy837``) it reads the claim's dates, references, notes, codes
(``HI``) and providers (2310), other payers (2320 with 2330A-G), and the
dates, references, notes, providers (2420) and adjustments of service lines
(``lines837`` reads the rest of a line). The professional and institutional
readers add their claim and service segments (``SV1``, ``SV2``, ``CL1``)
and build their own records.

Speed: the reader walks the lexer's batches itself (``SetBody.batches``)
and stops at the set's SE, so no generator stands between lexer and
reader; each segment costs one dict lookup on its id and one call (which
measured faster than calling the line segments by name); values come
through the caches of ``values837``, and a line's repeated segments are
gathered in tuples, ready for its record.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, ClassVar, Generic, TypeVar

from claimbridge.formats.x12 import values837
from claimbridge.formats.x12.drafts837 import (
    PAD,
    ClaimDraft,
    OtherPayerDraft,
    PartyDraft,
)
from claimbridge.formats.x12.errors import ElementInvalid
from claimbridge.formats.x12.hierarchy837 import (
    IN_ADJUDICATION,
    IN_BILLING,
    IN_CLAIM,
    IN_DRUG,
    IN_LINE,
    IN_OTHER_PAYER,
    IN_SUBSCRIBER,
    MAX_REPEATS,
)
from claimbridge.formats.x12.lines837 import LineReader
from claimbridge.formats.x12.reader import SetBody, TransactionContext
from claimbridge.formats.x12.records837 import (
    Adjustment,
    EventDate,
    HealthCode,
    OtherPayer,
    Reference,
    new_event_date,
    new_health_code,
    new_note,
    new_reference,
)
from claimbridge.formats.x12.values837 import periods as _periods
from claimbridge.types import Money, ServicePeriod

__all__ = ["DATE_KINDS", "ClaimDraft", "ClaimReader"]

Claim = TypeVar("Claim")

# What the envelope segments' handler returns: the set ends there.
_END: Any = object()
_ENVELOPE = ("SE", "ST", "GE", "GS", "IEA", "ISA")


def _ends_set(segment: list[str]) -> Any:
    return _END


# DTP01, the event a date is for.
DATE_KINDS = {
    "472": "service",
    "431": "onset",
    "454": "initial_treatment",
    "304": "last_seen",
    "453": "acute_manifestation",
    "439": "accident",
    "484": "last_menstrual_period",
    "455": "last_xray",
    "471": "prescription",
    "314": "disability",
    "360": "disability_start",
    "361": "disability_end",
    "297": "last_worked",
    "296": "return_to_work",
    "435": "admission",
    "096": "discharge",
    "090": "assumed_care",
    "091": "relinquished_care",
    "444": "first_contact",
    "050": "repricer_received",
    "434": "statement",
    "573": "adjudication",
    "607": "certification_revision",
    "463": "begin_therapy",
    "461": "last_certification",
    "738": "hemoglobin_test",
    "739": "serum_creatinine_test",
    "011": "shipped",
}


class ClaimReader(LineReader, Generic[Claim]):
    """Reads one 837 transaction set body; subclasses add the guide's own segments."""

    claim_roles: ClassVar[dict[str, str]] = {}
    other_payer_roles: ClassVar[dict[str, str]] = {}
    line_roles: ClassVar[dict[str, str]] = {}
    skipped: ClassVar[frozenset[str]] = frozenset()
    # The HI qualifiers of the codes service lines point to (counted in ``diagnosis_count``).
    diagnosis_qualifiers: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, context: TransactionContext) -> None:
        super().__init__(context)
        self.pending: list[str] | None = None
        # Diagnosis and other codes by their HI composite ("ABK:J45909"): they repeat.
        self.health_codes: dict[str, HealthCode] = values837.composite_cache("HI", self.separator)
        self.handlers = self.segment_handlers()

    def segment_handlers(self) -> dict[str, Callable[[list[str]], Any]]:
        handlers: dict[str, Callable[[list[str]], Any]] = {
            "REF": self.on_ref, "DTP": self.on_dtp, "LX": self.on_lx, "NM1": self.on_nm1,
            "N3": self.on_n3, "N4": self.on_n4, "HL": self.on_claim_hl, "CLM": self.on_clm,
            "HI": self.on_hi, "SBR": self.on_sbr, "DMG": self.on_dmg, "PER": self.on_per,
            "PRV": self.on_prv, "NTE": self.on_nte, "AMT": self.on_amt, "CAS": self.on_cas,
            "OI": self.on_oi, "SVD": self.on_svd, "LIN": self.on_lin, "CTP": self.on_ctp,
            "PAT": self.on_pat, "BHT": self.on_bht,
        }  # fmt: skip
        if self.service_id:
            handlers[self.service_id] = self.on_service
        for segment_id in self.skipped:
            handlers[segment_id] = self.on_skipped
        return handlers

    # -- the walk -------------------------------------------------------------------------

    def read(self, body: Iterator[list[str]]) -> Iterator[Claim]:
        if isinstance(body, SetBody):
            # The driver's body: walk the lexer's batches, stopping at SE.
            for handler in _ENVELOPE:
                self.handlers[handler] = _ends_set
            yield from self.claims(body.batches(), body.stop)
        else:
            yield from self.claims((body,), None)
        if self.claim is not None:
            yield self.end_claim()
        self.freeze_open_levels()
        if self.hl_count == 0:
            raise self.absent("The transaction set has no HL segment: no billing provider.")

    def claims(
        self,
        batches: Iterable[Iterator[list[str]]],
        stop: Callable[[list[str]], None] | None,
    ) -> Iterator[Claim]:
        # One dict lookup and one call per segment: the handler returns a
        # finished claim, the end of the set, or (nearly always) None.
        handlers = self.handlers
        segment: list[str] = []
        try:
            for batch in batches:
                for segment in batch:
                    finished = handlers[segment[0]](segment)
                    if finished is not None:
                        if finished is _END and stop is not None:
                            stop(segment)
                            return
                        yield finished
                        self.open_pending()
        except KeyError:
            # A segment id with no handler: refused (which ends the set).
            # The ``try`` is around the loop, not each lookup, to cost nothing.
            if segment[0] in handlers:
                raise
            self.on_unknown(segment)

    # -- for subclasses -----------------------------------------------------------------

    def start_claim(self, e: list[str]) -> ClaimDraft:
        raise NotImplementedError

    def build_claim(self, draft: ClaimDraft) -> Claim:
        raise NotImplementedError

    # -- claims -------------------------------------------------------------------------

    def on_claim_hl(self, segment: list[str]) -> Claim | None:
        """An HL ends the claim being read, if any, then opens its level."""
        if self.claim is None:
            self.on_hl(segment)
            return None
        self.pending = segment
        return self.end_claim()

    def on_clm(self, segment: list[str]) -> Claim | None:
        """A CLM ends the claim being read, if any, then opens the next."""
        if self.claim is None:
            self.open_claim(segment)
            return None
        self.pending = segment
        return self.end_claim()

    def open_pending(self) -> None:
        """Read the HL or CLM that ended a claim, once that claim is out.

        A claim is yielded before the segment after it is checked, so an
        error in that segment rejects the set without losing the claim.
        """
        segment, self.pending = self.pending, None
        if segment is not None:
            if segment[0] == "HL":
                self.on_hl(segment)
            else:
                self.open_claim(segment)

    def open_claim(self, segment: list[str]) -> None:
        loop = self.loop
        if loop < IN_SUBSCRIBER:
            raise self.unexpected("A claim (CLM) must follow a subscriber or patient loop.")
        if loop < IN_CLAIM:
            self.freeze_open_levels()
        self.party = None
        e = segment + PAD
        if not e[1]:
            raise self.missing("CLM01 (patient control number) is required.", 1)
        self.claim = self.start_claim(e)
        self.loop = IN_CLAIM

    def end_claim(self) -> Claim:
        claim = self.claim
        assert claim is not None  # noqa: S101 - called only with a claim open
        self.party = None
        if self.line is not None:
            claim.lines.append(self.end_line(self.line))
            self.line = None
        self.claim = None
        return self.build_claim(claim)

    def on_hi(self, segment: list[str]) -> None:
        claim = self.claim
        if self.loop != IN_CLAIM or claim is None or self.party is not None:
            raise self.unexpected("HI belongs to the claim (2300), before its name loops.")
        codes = claim.codes
        health_codes = self.health_codes
        diagnoses = self.diagnosis_qualifiers
        if len(codes) >= 12 * MAX_REPEATS:
            raise self.too_many("HI segments")
        for index in range(1, len(segment)):
            element = segment[index]
            if element:
                code = health_codes.get(element) or self.health_code(element, index)
                if code is not None:
                    codes.append(code)
                    if code.qualifier in diagnoses:
                        claim.diagnosis_count += 1

    def health_code(self, element: str, index: int) -> HealthCode | None:
        """One HI composite; ``None`` (flagged) when it lacks its qualifier or code."""
        parts = element.split(self.separator)
        if len(parts) < 2 or not parts[0] or not parts[1]:
            self.flag(self.missing("An HI code needs its qualifier and the code.", index, 2))
            return None
        if len(parts) == 2:
            code = new_health_code(parts[0], parts[1])
            values837.remember(self.health_codes, element, code)
            return code
        return self.dated_health_code(parts, index)

    def dated_health_code(self, parts: list[str], element: int) -> HealthCode:
        parts = parts + PAD
        period = None
        if parts[2]:
            period = values837.period(parts[2], parts[3])
            if period is None:
                raise ElementInvalid(
                    "An HI date must be D8 or RD8 and a real date.",
                    position=self.position(element, 4),
                    element_code="8",
                )
        amount = None
        if parts[4]:
            amount = values837.decimal(parts[4])
            if amount is None:
                raise self.invalid("An HI amount must be a number.", element, 5)
        return new_health_code(parts[0], parts[1], period, amount, parts[8])

    # -- name loops in claims ----------------------------------------------------------

    def on_nm1(self, segment: list[str]) -> None:
        n = len(segment)
        # Parties read NM101 to NM109; most NM1s with an identifier have them all.
        e = segment if n > 9 else segment + PAD[: 10 - n]
        code = e[1]
        if not code:
            raise self.missing("NM101 (entity identifier code) is required.", 1)
        if not e[2]:
            raise self.missing("NM102 (entity type qualifier) is required.", 2)
        loop = self.loop
        if loop < IN_CLAIM:
            roles, owner = self.level_roles()
        else:
            claim = self.claim
            assert claim is not None  # noqa: S101 - claim loops are entered only after CLM
            if loop == IN_CLAIM:
                roles, owner = self.claim_roles, claim.parties
            elif loop == IN_OTHER_PAYER:
                roles, owner = self.other_payer_roles, claim.other_payers[-1].parties
            else:
                line = self.line
                assert line is not None  # noqa: S101 - line loops are entered only after LX
                roles = self.line_roles
                owner = line.providers or []
                line.providers = owner
                self.loop = IN_LINE
        role = roles.get(code)
        if role is None:
            raise self.invalid("NM101 names a party this loop does not have.", 1)
        for draft in owner:
            if draft.role == role:
                raise self.unexpected("This name loop appears more than once.")
        # The billing provider's taxonomy (PRV, 2000A) comes before its name.
        taxonomy = (
            self.billing_taxonomy if loop == IN_BILLING and role == "billing_provider" else ""
        )
        self.party = party = PartyDraft(role, e, taxonomy)
        owner.append(party)

    # -- segments whose owner depends on the loop ----------------------------------------

    def on_ref(self, segment: list[str]) -> None:
        if len(segment) < 3 or not segment[1]:
            raise self.missing("REF01 and REF02 (qualifier and value) are required.", 1)
        line = self.line
        if line is not None and self.loop == IN_LINE and self.party is None:
            # A line's repeats are kept as tuples (at most MAX_REPEATS long),
            # so ending the line has nothing to convert.
            references = line.references
            if not references:  # the usual one, the line control number (REF*6R)
                line.references = (new_reference(segment[1], segment[2]),)
                return
            if len(references) >= MAX_REPEATS:
                raise self.too_many("REF segments")
            line.references = (*references, new_reference(segment[1], segment[2]))
        else:
            self.other_reference(segment[1], segment[2])

    def other_reference(self, qualifier: str, value: str) -> None:
        party, loop, line = self.party, self.loop, self.line
        if party is not None:
            self.party_reference(party, qualifier, value)
        elif loop == IN_CLAIM and self.claim is not None:
            self.claim_reference(self.claim.references, qualifier, value)
        elif loop == IN_DRUG and line is not None:
            line.drug.prescription = value
        else:
            raise self.unexpected("REF is not allowed here.")

    def claim_reference(self, references: list[Reference], qualifier: str, value: str) -> None:
        if len(references) >= MAX_REPEATS:
            raise self.too_many("REF segments")
        for reference in references:
            if reference.qualifier == qualifier:
                raise self.unexpected("The claim repeats a REF qualifier.")
        references.append(new_reference(qualifier, value))

    def on_dtp(self, segment: list[str]) -> None:
        line = self.line
        if line is not None and self.loop == IN_LINE and self.party is None:
            if len(segment) == 4 and segment[1] == "472":
                try:
                    line.service_date = _periods[segment[2] + segment[3]]
                except KeyError:
                    line.service_date = self.period(segment[2], segment[3])
            else:
                dates = line.dates
                if len(dates) >= MAX_REPEATS:
                    raise self.too_many("DTP segments")
                line.dates = (*dates, self.event_date(segment + PAD))
            return
        self.other_dtp(segment if len(segment) > 3 else segment + PAD)

    def other_dtp(self, e: list[str]) -> None:
        loop, claim, party, line = self.loop, self.claim, self.party, self.line
        if loop == IN_CLAIM and claim is not None and party is None:
            if len(claim.dates) >= MAX_REPEATS:
                raise self.too_many("DTP segments")
            claim.dates += (self.event_date(e),)
        elif loop == IN_OTHER_PAYER and claim is not None and party and party.role == "payer":
            claim.other_payers[-1].adjudicated_on = self.period(e[2], e[3]).first
        elif loop == IN_ADJUDICATION and line is not None:
            line.adjudications[-1].adjudicated_on = self.period(e[2], e[3]).first
        else:
            raise self.unexpected("DTP is not allowed here.")

    def period(self, qualifier: str, text: str) -> ServicePeriod:
        value = values837.period(qualifier, text)
        if value is None:
            raise ElementInvalid(
                "A date must be D8 (CCYYMMDD) or RD8 (CCYYMMDD-CCYYMMDD) and a real date.",
                position=self.position(3),
                element_code="8",
            )
        return value

    def event_date(self, e: list[str]) -> EventDate:
        kind = DATE_KINDS.get(e[1], e[1])
        qualifier, text = e[2], e[3]
        if qualifier in ("D8", "RD8"):
            return new_event_date(kind, self.period(qualifier, text))
        if qualifier == "DT" and len(text) == 12:
            day = values837.period("D8", text[:8])
            moment = values837.time_of_day(text[8:])
            if day is not None and moment is not None:
                return new_event_date(kind, day, moment)
        elif qualifier == "TM":
            moment = values837.time_of_day(text)
            if moment is not None:
                return new_event_date(kind, None, moment)
        raise ElementInvalid(
            "A date must be D8, RD8, DT (CCYYMMDDHHMM) or TM (HHMM).",
            position=self.position(3),
            element_code="8",
        )

    def on_nte(self, segment: list[str]) -> None:
        e = segment + PAD
        note = new_note(e[1], e[2])
        line = self.line
        if self.loop >= IN_LINE and line is not None and self.party is None:
            notes = line.notes
            if len(notes) >= MAX_REPEATS:
                raise self.too_many("NTE segments")
            line.notes = (*notes, note)
        elif self.loop == IN_CLAIM and self.claim is not None and self.party is None:
            if len(self.claim.notes) >= MAX_REPEATS:
                raise self.too_many("NTE segments")
            self.claim.notes += (note,)
        else:
            raise self.unexpected("NTE is not allowed here.")

    def on_amt(self, segment: list[str]) -> None:
        e = segment + PAD
        amount = self.money(e[2], 2)
        qualifier, loop, claim, line = e[1], self.loop, self.claim, self.line
        if loop == IN_CLAIM and claim is not None and qualifier in ("F5", "F3"):
            if qualifier == "F5":
                claim.patient_paid = amount
            else:
                claim.patient_estimate = amount
        elif loop == IN_OTHER_PAYER and claim is not None and self.party is None:
            self.other_payer_amount(claim.other_payers[-1], qualifier, amount)
        elif loop == IN_ADJUDICATION and line is not None and qualifier == "EAF":
            line.adjudications[-1].remaining = amount
        elif loop != IN_LINE:
            raise self.unexpected("AMT is not allowed here.")

    def other_payer_amount(self, other: OtherPayerDraft, qualifier: str, amount: Money) -> None:
        if qualifier == "D":
            other.paid = amount
        elif qualifier == "A8":
            other.non_covered = amount
        elif qualifier == "EAF":
            other.remaining = amount
        else:
            self.note(self.invalid("AMT01 is not a qualifier the other-payer loop uses.", 1))

    # -- other payers (2320, 2330) ------------------------------------------------------

    def on_sbr(self, segment: list[str]) -> None:
        e = segment if len(segment) > 9 else segment + PAD  # SBR01-SBR09
        if not e[1]:
            raise self.missing("SBR01 (payer responsibility sequence) is required.", 1)
        if self.on_subscriber_sbr(e):
            return
        claim = self.claim
        if claim is None or self.line is not None:
            raise self.unexpected("SBR is not allowed here.")
        self.party = None
        if len(claim.other_payers) >= 10:
            raise self.too_many("other payers (SBR)")
        claim.other_payers += (OtherPayerDraft(e),)
        self.loop = IN_OTHER_PAYER

    def on_cas(self, segment: list[str]) -> None:
        e = segment + PAD
        loop, claim, line = self.loop, self.claim, self.line
        if loop == IN_OTHER_PAYER and claim is not None and self.party is None:
            target = claim.other_payers[-1].adjustments
        elif loop == IN_ADJUDICATION and line is not None:
            target = line.adjudications[-1].adjustments
        else:
            raise self.unexpected("CAS belongs to an other-payer or line adjudication loop.")
        if not e[1] or not e[2]:
            raise self.missing("CAS01 and CAS02 (group and reason) are required.", 1 if e[1] else 2)
        if len(target) >= 2 * MAX_REPEATS:
            raise self.too_many("CAS segments")
        for index in range(2, 19, 3):
            if not e[index]:
                break
            quantity = None
            if e[index + 2]:
                quantity = values837.decimal(e[index + 2])
                if quantity is None:
                    raise self.invalid("A CAS quantity must be a number.", index + 2)
            amount = self.money(e[index + 1], index + 1)
            target.append(Adjustment(e[1], e[index], amount, quantity))

    def on_oi(self, segment: list[str]) -> None:
        if self.loop != IN_OTHER_PAYER or self.claim is None or self.party is not None:
            raise self.unexpected("OI belongs to an other-payer loop (2320).")
        self.claim.other_payers[-1].info = segment + PAD

    def freeze_other_payers(self, claim: ClaimDraft) -> tuple[OtherPayer, ...]:
        frozen = []
        for other in claim.other_payers:
            roles = {draft.role: draft.freeze() for draft in other.parties}
            subscriber = roles.pop("subscriber", None)
            payer = roles.pop("payer", None)
            if subscriber is None or payer is None:
                raise self.absent(
                    "An other-payer loop (2320) needs its subscriber (2330A) and payer (2330B)."
                )
            frozen.append(other.freeze(subscriber, payer, tuple(roles.values())))
        return tuple(frozen)

    def on_skipped(self, segment: list[str]) -> None:
        """A segment the guide allows that no record holds (PWK, CN1, K3 ...)."""
