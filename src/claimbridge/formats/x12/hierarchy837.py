"""The header and HL hierarchy of an 837 transaction set (005010X222A1, 005010X223A2).

``HierarchyReader`` reads what comes before the claims: the ``BHT``, the
submitter (1000A) and receiver (1000B), then the HL hierarchy of billing
provider (2000A), subscriber (2000B) and patient (2000C) with their name
loops (``NM1`` and the ``N3``, ``N4``, ``REF``, ``PER``, ``PRV``, ``DMG``
that follow one). ``loops837.ClaimReader`` builds the claims on top of it.

The hierarchy is checked as it arrives: HL01 counts 1, 2, 3 ... in order;
a billing provider has no parent, a subscriber's parent is the billing
provider loop it follows, a patient's parent the subscriber loop it
follows. A parent that comes later, or the HL itself, is refused, so a
cycle cannot be expressed and the depth is three at most. Only counters
and the open loops are kept, so memory does not grow with the number of
HL segments. Each loop is frozen into its record once, when its first
child or claim begins, and shared by every claim under it.
"""

from __future__ import annotations

from typing import NoReturn

from claimbridge.formats.x12 import values837
from claimbridge.formats.x12.drafts837 import PAD, PartyDraft
from claimbridge.formats.x12.errors import (
    ElementInvalid,
    ElementMissing,
    HierarchyInvalid,
    MissingSegment,
    Position,
    UnexpectedSegment,
    UnrecognizedSegment,
    X12Error,
)
from claimbridge.formats.x12.reader import TransactionContext
from claimbridge.formats.x12.records837 import (
    BillingProvider,
    Patient,
    Submission,
    Subscriber,
    new_billing_provider,
    new_patient,
    new_subscriber,
)
from claimbridge.types import Money

__all__ = [
    "IN_ADJUDICATION",
    "IN_BILLING",
    "IN_CLAIM",
    "IN_DRUG",
    "IN_HEADER",
    "IN_LINE",
    "IN_OTHER_PAYER",
    "IN_PATIENT",
    "IN_SUBSCRIBER",
    "MAX_REPEATS",
    "HierarchyReader",
]


# Where in the transaction set the reader is; later loops have larger numbers.
IN_HEADER, IN_BILLING, IN_SUBSCRIBER, IN_PATIENT, IN_CLAIM = range(5)
IN_OTHER_PAYER, IN_LINE, IN_DRUG, IN_ADJUDICATION = range(5, 9)


# The most repeats of a segment kept in one loop (REF, DTP, NTE, CAS ...);
# the guide allows far fewer of each.
MAX_REPEATS = 50

# The name loops each level may carry: NM101 to the party's role.
_HEADER_ROLES = {"41": "submitter", "40": "receiver"}
_BILLING_ROLES = {"85": "billing_provider", "87": "pay_to", "PE": "pay_to_plan"}
_SUBSCRIBER_ROLES = {"IL": "subscriber", "PR": "payer"}
_PATIENT_ROLES = {"QC": "patient"}


class HierarchyReader:
    """Reads the header and hierarchy of one 837 set; errors carry their position."""

    def __init__(self, context: TransactionContext) -> None:
        # Readers keep fewer than 30 attributes: past that CPython 3.11 gives
        # an instance its own dict instead of the class's shared keys, and
        # every ``self.`` lookup on the hot path slows (3% of a read,
        # measured). Error paths reach what they need through ``context``.
        self.context = context
        self.segments = context.segments
        self.separator = context.separators.component
        self.loop = IN_HEADER
        self.hl_count = 0
        self.billing_hl = ""
        self.subscriber_hl = ""
        self.bht: list[str] | None = None
        self.header: list[PartyDraft] = []
        self.submission: Submission | None = None
        self.billing_parties: list[PartyDraft] = []
        self.billing_taxonomy = ""
        self.billing: BillingProvider | None = None
        self.subscriber_sbr: list[str] | None = None
        self.subscriber_parties: list[PartyDraft] = []
        self.subscriber: Subscriber | None = None
        self.patient_pat: list[str] | None = None
        self.patient_parties: list[PartyDraft] = []
        self.patient: Patient | None = None
        self.party: PartyDraft | None = None

    # -- errors at the segment read last -------------------------------------------

    def position(self, element: int | None = None, component: int | None = None) -> Position:
        return self.segments.position(element, component)

    def flag(self, error: X12Error) -> None:
        """An error that rejects the set once it has been read."""
        self.context.reject(error)

    def note(self, error: X12Error) -> None:
        """A finding that does not reject the set."""
        self.context.note(error)

    def invalid(self, message: str, element: int, component: int | None = None) -> ElementInvalid:
        return ElementInvalid(message, position=self.position(element, component))

    def missing(self, message: str, element: int, component: int | None = None) -> ElementMissing:
        return ElementMissing(message, position=self.position(element, component))

    def unexpected(self, message: str) -> UnexpectedSegment:
        return UnexpectedSegment(message, position=self.position())

    def too_many(self, what: str) -> UnexpectedSegment:
        """A loop repeats a segment more often than the guide allows (IK304 5).

        Every list a reader keeps is bounded this way, so a hostile file
        cannot grow one claim without limit or make a check quadratic.
        """
        return UnexpectedSegment(
            f"More {what} than the guide allows in one loop.",
            position=self.position(),
            segment_code="5",
        )

    def absent(self, message: str) -> MissingSegment:
        return MissingSegment(message, position=self.position())

    def money(self, text: str, element: int, component: int | None = None) -> Money:
        # ``get``, not a subscript in ``try``: claim totals (CLM02) are often
        # new, and a caught KeyError costs far more than a method call.
        value = values837.monies.get(text)
        if value is not None:
            return value
        value = values837.money(text)
        if value is None:
            if not text:
                raise self.missing("A required amount is empty.", element, component)
            raise ElementInvalid(
                "An amount must be a plain decimal with at most two places, such as 123.45.",
                position=self.position(element, component),
                element_code="6",
            )
        return value

    def on_unknown(self, segment: list[str]) -> NoReturn:
        segment_id = segment[0]
        if 2 <= len(segment_id) <= 3 and segment_id.isalnum() and segment_id.isupper():
            raise self.unexpected("This segment is not part of the 837 implementation guide.")
        raise UnrecognizedSegment(position=self.position())

    # -- header ----------------------------------------------------------------------

    def on_bht(self, segment: list[str]) -> None:
        if self.loop != IN_HEADER or self.bht is not None or self.header:
            raise self.unexpected("BHT appears once, first in the transaction set.")
        self.bht = segment + PAD

    def freeze_submission(self) -> Submission:
        bht = self.bht
        if bht is None:
            raise self.absent("The beginning of the transaction set (BHT) is missing.")
        roles = {draft.role: draft.freeze() for draft in self.header}
        for role, code in (("submitter", "41"), ("receiver", "40")):
            if role not in roles:
                raise self.absent(f"The {role} name (NM1*{code}) is missing.")
        created_on = values837.day(bht[4])
        if created_on is None:
            raise ElementInvalid(
                "BHT04 must be a real date, CCYYMMDD.", position=self.position(), element_code="8"
            )
        return Submission(
            bht[3], created_on, bht[5], roles["submitter"], roles["receiver"], bht[2], bht[6]
        )

    # -- the HL hierarchy ------------------------------------------------------------

    def on_hl(self, segment: list[str]) -> None:
        e = segment if len(segment) > 3 else segment + PAD
        if not e[1]:
            raise self.missing("HL01 (hierarchical id) is required.", 1)
        if e[1] != str(self.hl_count + 1):
            raise HierarchyInvalid(
                "HL01 must number the HL segments 1, 2, 3 ... in order.",
                position=self.position(1),
            )
        self.hl_count += 1
        self.party = None
        level = e[3]
        if level == "20":
            self.start_billing(e)
        elif level == "22":
            self.start_subscriber(e)
        elif level == "23":
            self.start_patient(e)
        elif not level:
            raise self.missing("HL03 (hierarchical level) is required.", 3)
        else:
            raise HierarchyInvalid(
                "HL03 must be 20 (billing provider), 22 (subscriber) or 23 (patient).",
                position=self.position(3),
            )

    def check_parent(self, e: list[str], expected: str, what: str) -> None:
        parent = e[2]
        if parent and parent == expected:
            return
        if parent == e[1]:
            reason = "an HL cannot be its own parent"
        elif parent.isdigit() and int(parent) > int(e[1]):
            reason = "its parent comes after it, which would make a cycle"
        elif not parent:
            reason = "HL02 (parent id) is missing"
        else:
            reason = f"its parent must be the {what} loop it follows"
        raise HierarchyInvalid(f"HL02 is not valid: {reason}.", position=self.position(2))

    def start_billing(self, e: list[str]) -> None:
        if e[2]:
            raise HierarchyInvalid(
                "A billing provider HL (level 20) has no parent; HL02 must be empty.",
                position=self.position(2),
            )
        if self.submission is None:
            self.submission = self.freeze_submission()
        self.billing_hl = e[1]
        self.subscriber_hl = ""
        self.billing_parties = []
        self.billing_taxonomy = ""
        self.billing = None
        self.subscriber = None
        self.patient = None
        self.loop = IN_BILLING

    def start_subscriber(self, e: list[str]) -> None:
        self.check_parent(e, self.billing_hl, "billing provider (level 20)")
        if self.billing is None:
            self.billing = self.freeze_billing()
        self.subscriber_hl = e[1]
        self.subscriber_sbr = None
        self.subscriber_parties = []
        self.subscriber = None
        self.patient = None
        self.loop = IN_SUBSCRIBER

    def start_patient(self, e: list[str]) -> None:
        self.check_parent(e, self.subscriber_hl, "subscriber (level 22)")
        if self.subscriber is None:
            self.subscriber = self.freeze_subscriber()
        self.patient_pat = None
        self.patient_parties = []
        self.patient = None
        self.loop = IN_PATIENT

    def freeze_billing(self) -> BillingProvider:
        roles = {draft.role: draft for draft in self.billing_parties}
        provider = roles.get("billing_provider")
        if provider is None:
            raise self.absent("The billing provider name loop (2010AA, NM1*85) is missing.")
        self.require_address(provider, "billing provider (2010AA)")
        pay_to = roles.get("pay_to")
        if pay_to is not None:
            self.require_address(pay_to, "pay-to address (2010AB)")
        plan = roles.get("pay_to_plan")
        return new_billing_provider(
            provider.freeze(),
            pay_to.freeze() if pay_to is not None else None,
            plan.freeze() if plan is not None else None,
        )

    def require_address(self, draft: PartyDraft, what: str) -> None:
        for segment, present in (("N3", draft.street), ("N4", draft.city_line)):
            if present is None:
                raise self.absent(f"The {what} loop has no {segment} address segment.")

    def freeze_subscriber(self) -> Subscriber:
        sbr = self.subscriber_sbr
        if sbr is None:
            raise self.absent("The subscriber loop (2000B) has no SBR segment.")
        parties = self.subscriber_parties
        if len(parties) == 2 and parties[0].role == "subscriber" and parties[1].role == "payer":
            subscriber, payer = parties[0].freeze(), parties[1].freeze()
        else:
            roles = {draft.role: draft.freeze() for draft in parties}
            for role, code, loop in (("subscriber", "IL", "2010BA"), ("payer", "PR", "2010BB")):
                if role not in roles:
                    raise self.absent(f"The {role} name loop ({loop}, NM1*{code}) is missing.")
            subscriber, payer = roles["subscriber"], roles["payer"]
        return new_subscriber(subscriber, payer, sbr[1], sbr[2], sbr[3], sbr[4], sbr[5], sbr[9])

    def freeze_patient(self) -> Patient:
        if self.patient_pat is None:
            raise self.absent("The patient loop (2000C) has no PAT segment.")
        if not self.patient_parties:
            raise self.absent("The patient loop (2000C) has no name (NM1*QC, 2010CA).")
        return new_patient(self.patient_parties[0].freeze(), self.patient_pat[1])

    def freeze_open_levels(self) -> None:
        """Freeze (and so check) the hierarchy levels a claim or the set's end closes."""
        loop = self.loop
        if loop == IN_BILLING and self.billing is None:
            self.billing = self.freeze_billing()
        elif loop == IN_SUBSCRIBER and self.subscriber is None:
            self.subscriber = self.freeze_subscriber()
        elif loop == IN_PATIENT and self.patient is None:
            self.patient = self.freeze_patient()

    def on_subscriber_sbr(self, e: list[str]) -> bool:
        """Take an SBR as the subscriber's (2000B); False if it opens an other payer."""
        if self.loop != IN_SUBSCRIBER:
            return False
        if self.subscriber_sbr is not None or self.subscriber_parties:
            raise self.unexpected("SBR comes once, first in the subscriber loop.")
        self.subscriber_sbr = e
        return True

    def on_pat(self, segment: list[str]) -> None:
        if self.loop == IN_PATIENT and self.patient_pat is None and not self.patient_parties:
            self.patient_pat = segment + PAD
        elif self.loop != IN_SUBSCRIBER or self.subscriber_parties:
            raise self.unexpected("PAT comes at the start of a patient or subscriber loop.")

    # -- name loops ---------------------------------------------------------------------

    def level_roles(self) -> tuple[dict[str, str], list[PartyDraft]]:
        """NM101 to role for the header or hierarchy level being read, and its name loops."""
        loop = self.loop
        if loop == IN_BILLING:
            return _BILLING_ROLES, self.billing_parties
        if loop == IN_SUBSCRIBER:
            return _SUBSCRIBER_ROLES, self.subscriber_parties
        if loop == IN_PATIENT:
            return _PATIENT_ROLES, self.patient_parties
        return _HEADER_ROLES, self.header

    def on_n3(self, segment: list[str]) -> None:
        party = self.party
        if party is None or party.street is not None or party.city_line is not None:
            raise self.unexpected("N3 belongs right after a name (NM1), before N4.")
        party.street = segment  # padded when frozen

    def on_n4(self, segment: list[str]) -> None:
        party = self.party
        if party is None or party.city_line is not None:
            raise self.unexpected("N4 belongs right after a name (NM1) and its N3.")
        party.city_line = segment

    def on_per(self, segment: list[str]) -> None:
        if self.party is None:
            raise self.unexpected("PER belongs to a name loop (NM1).")
        if len(self.party.contacts) >= 3:
            raise self.too_many("contacts (PER)")
        self.party.add_contact(segment + PAD)

    def on_dmg(self, segment: list[str]) -> None:
        party = self.party
        if party is None:
            if self.loop == IN_OTHER_PAYER:
                return  # A 4010 habit some 5010 senders keep; the guide has no place for it.
            raise self.unexpected("DMG belongs to a subscriber or patient name loop.")
        e = segment if len(segment) > 3 else segment + PAD
        if e[2]:
            party.birth_date = values837.day(e[2])
            if party.birth_date is None or e[1] != "D8":
                raise ElementInvalid(
                    "DMG02 must be a real date, CCYYMMDD.",
                    position=self.position(2),
                    element_code="8",
                )
        party.gender = e[3]

    def on_prv(self, segment: list[str]) -> None:
        taxonomy = segment[3] if len(segment) > 3 else ""
        if self.party is not None:
            self.party.taxonomy = taxonomy
        elif self.loop == IN_BILLING and not self.billing_parties:
            self.billing_taxonomy = taxonomy
        else:
            raise self.unexpected("PRV belongs to a provider's name loop.")

    def party_reference(self, party: PartyDraft, qualifier: str, value: str) -> None:
        if len(party.references) >= MAX_REPEATS:
            raise self.too_many("REF segments")
        if not party.add_reference(qualifier, value):
            raise self.unexpected("A name loop repeats a REF qualifier.")
