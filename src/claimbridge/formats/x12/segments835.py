"""Segment by segment into a ``Remittance`` (005010X221A1 loops).

The builder keeps the loop it is in (header, 1000A payer, 1000B payee,
2000 header number, 2100 claim, 2110 service) and puts each segment into
the innermost open loop that allows it. It also remembers where each claim
and service line began, so balancing errors can point at their CLP or SVC.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from claimbridge.formats.x12.errors import (
    ElementInvalid,
    ElementMissing,
    MissingSegment,
    Position,
    UnexpectedSegment,
)
from claimbridge.formats.x12.reader import TransactionContext
from claimbridge.formats.x12.records835 import (
    Address,
    ClaimPayment,
    DateOf,
    Party,
    Payment,
    ProviderAdjustment,
    RawSegment,
    Reference,
    Remark,
    Remittance,
    ServicePayment,
    Trace,
)
from claimbridge.formats.x12.values835 import ElementValues

__all__ = ["BalancePositions", "RemittanceBuilder"]

_CLAIM_SEGMENTS = frozenset({"CAS", "NM1", "MIA", "MOA", "REF", "DTM", "PER", "AMT", "QTY"})
_SERVICE_SEGMENTS = frozenset({"DTM", "CAS", "REF", "AMT", "QTY", "LQ"})


@dataclass(slots=True)
class BalancePositions:
    """Where the BPR, each CLP and each SVC were, for balancing errors."""

    payment: Position | None = None
    claims: list[Position] = field(default_factory=list)
    services: list[list[Position]] = field(default_factory=list)


class RemittanceBuilder:
    """Takes the body segments of one 835 set and builds its ``Remittance``."""

    def __init__(self, context: TransactionContext) -> None:
        self.context = context
        self.values = ElementValues(context)
        self.positions = BalancePositions()
        self.payment: Payment | None = None
        self.trace: Trace | None = None
        self.references: list[Reference] = []
        self.dates: list[DateOf] = []
        self.other: list[RawSegment] = []
        self.parties: dict[str, Party] = {}
        self.party: str | None = None
        self.header_number = ""
        self.header_other: list[tuple[str, tuple[RawSegment, ...]]] = []
        self.claims: list[ClaimPayment] = []
        self.claim: dict[str, Any] | None = None
        self.service: dict[str, Any] | None = None
        self.adjustments: list[ProviderAdjustment] = []

    # -- dispatch ----------------------------------------------------------------

    def take(self, segment: list[str]) -> bool:
        """Place one segment; False if it has no place in an 835 here."""
        tag = segment[0]
        if self.payment is None:
            if tag != "BPR":
                raise MissingSegment(
                    "An 835 must begin with BPR.", position=self.context.position()
                )
            self._payment(segment)
            return True
        if self.adjustments and tag != "PLB":
            return False
        if self.service is not None and tag in _SERVICE_SEGMENTS:
            return self._service_segment(segment)
        if self.claim is not None and tag in _CLAIM_SEGMENTS:
            self._close_service()
            return self._claim_segment(segment)
        handler = _TOP_LEVEL.get(tag)
        return handler is not None and handler(self, segment)

    def finish(self) -> Remittance:
        self._close_claim()
        if self.payment is None:
            raise MissingSegment("The 835 has no BPR.", position=self.context.position())
        missing = [role for role in ("PR", "PE") if role not in self.parties]
        if missing:
            loop = "1000A (payer)" if missing[0] == "PR" else "1000B (payee)"
            raise MissingSegment(f"The 835 has no loop {loop}.", position=self.context.position())
        return Remittance(
            control_number=self.context.control_number,
            payment=self.payment,
            trace=self.trace,
            payer=self.parties["PR"],
            payee=self.parties["PE"],
            claims=tuple(self.claims),
            provider_adjustments=tuple(self.adjustments),
            references=tuple(self.references),
            dates=tuple(self.dates),
            other=tuple(self.other),
            header_other=tuple(self.header_other),
        )

    # -- header and parties --------------------------------------------------------

    def _payment(self, segment: list[str]) -> None:
        values = self.values
        self.positions.payment = self.context.position()
        self.payment = Payment(
            handling=values.required(segment, 1),
            amount=values.money(segment, 2),
            credit_or_debit=values.required(segment, 3),
            method=values.required(segment, 4),
            payment_date=self._payment_date(segment),
            details=_trimmed(tuple(values.text(segment, index) for index in range(5, 16))),
        )

    def _payment_date(self, segment: list[str]) -> date | None:
        # A wrong BPR16 rejects the set, but the rest is still worth reading
        # and showing, so it is recorded rather than raised.
        if not self.values.text(segment, 16):
            return None
        try:
            return self.values.day(segment, 16)
        except ElementInvalid as error:
            self.context.reject(error)
            return None

    def _trace(self, segment: list[str]) -> bool:
        values = self.values
        self.trace = Trace(
            kind=values.required(segment, 1),
            number=values.required(segment, 2),
            originator=values.text(segment, 3),
            originator_supplement=values.text(segment, 4),
        )
        return True

    def _header_segment(self, segment: list[str]) -> bool:
        if self.party is not None or self.claims or self.claim is not None:
            return self._party_segment(segment)
        if segment[0] == "REF":
            self.references.append(self.values.reference(segment))
        elif segment[0] == "DTM":
            self.dates.append(self.values.date(segment))
        else:
            self.other.append(self.values.raw(segment))
        return True

    def _party_start(self, segment: list[str]) -> bool:
        values = self.values
        role = values.required(segment, 1)
        if role not in ("PR", "PE") or role in self.parties or self.claims:
            return False
        self.party = role
        self.parties[role] = Party(
            role=role,
            name=values.text(segment, 2),
            id_qualifier=values.text(segment, 3),
            identifier=values.text(segment, 4),
        )
        return True

    def _party_segment(self, segment: list[str]) -> bool:
        if self.party is None or self.claim is not None or self.header_number:
            return False
        party = self.parties[self.party]
        tag = segment[0]
        if tag == "N3":
            address = party.address or Address()
            lines = address.lines + tuple(line for line in segment[1:3] if line)
            party = replace(party, address=replace(address, lines=lines))
        elif tag == "N4":
            values = self.values
            address = replace(
                party.address or Address(),
                city=values.text(segment, 1),
                state=values.text(segment, 2),
                postal_code=values.text(segment, 3),
                country=values.text(segment, 4),
            )
            party = replace(party, address=address)
        elif tag == "REF":
            party = replace(party, references=(*party.references, self.values.reference(segment)))
        elif tag == "PER":
            party = replace(party, contacts=(*party.contacts, self.values.contact(segment)))
        elif tag == "RDM":
            party = replace(party, other=(*party.other, self.values.raw(segment)))
        else:
            return False
        self.parties[self.party] = party
        return True

    def _header_number(self, segment: list[str]) -> bool:
        self._close_claim()
        self.party = None
        self.header_number = self.values.required(segment, 1)
        return True

    def _header_summary(self, segment: list[str]) -> bool:
        if self.claim is not None or not self.header_number:
            return False
        if self.header_other and self.header_other[-1][0] == self.header_number:
            number, kept = self.header_other.pop()
            self.header_other.append((number, (*kept, self.values.raw(segment))))
        else:
            self.header_other.append((self.header_number, (self.values.raw(segment),)))
        return True

    # -- claims and services ---------------------------------------------------------

    def _claim_start(self, segment: list[str]) -> bool:
        self._close_claim()
        values = self.values
        self.party = None
        self.positions.claims.append(self.context.position())
        self.positions.services.append([])
        self.claim = {
            "patient_control_number": values.required(segment, 1),
            "status": values.required(segment, 2),
            "charge": values.money(segment, 3),
            "paid": values.money(segment, 4),
            "patient_responsibility": values.optional_money(segment, 5),
            "filing_indicator": values.text(segment, 6),
            "payer_claim_number": values.text(segment, 7),
            "facility_type": values.text(segment, 8),
            "frequency": values.text(segment, 9),
            "drg": values.text(segment, 11),
            "drg_weight": values.decimal(segment, 12),
            "discharge_fraction": values.decimal(segment, 13),
            "header_number": self.header_number,
            "adjustments": [],
            "names": [],
            "references": [],
            "dates": [],
            "contacts": [],
            "amounts": [],
            "quantities": [],
            "services": [],
            "other": [],
        }
        return True

    def _claim_segment(self, segment: list[str]) -> bool:
        claim = self.claim
        assert claim is not None  # noqa: S101 - take() checked it
        tag = segment[0]
        if tag == "CAS":
            claim["adjustments"].extend(self.values.adjustments(segment))
        elif tag == "NM1":
            claim["names"].append(self.values.name(segment))
        elif tag == "REF":
            claim["references"].append(self.values.reference(segment))
        elif tag == "DTM":
            claim["dates"].append(self.values.date(segment))
        elif tag == "PER":
            claim["contacts"].append(self.values.contact(segment))
        elif tag == "AMT":
            claim["amounts"].append(self.values.amount(segment))
        elif tag == "QTY":
            claim["quantities"].append(self.values.quantity(segment))
        else:
            claim["other"].append(self.values.raw(segment))
        return True

    def _service_start(self, segment: list[str]) -> bool:
        if self.claim is None:
            return False
        self._close_service()
        values = self.values
        self.positions.services[-1].append(self.context.position())
        original = values.text(segment, 6)
        self.service = {
            "procedure": self.values.procedure(segment, 1),
            "charge": values.money(segment, 2),
            "paid": values.money(segment, 3),
            "revenue_code": values.text(segment, 4),
            "units": values.decimal(segment, 5),
            "original_procedure": self.values.procedure(segment, 6) if original else None,
            "original_units": values.decimal(segment, 7),
            "dates": [],
            "adjustments": [],
            "references": [],
            "amounts": [],
            "quantities": [],
            "remarks": [],
        }
        return True

    def _service_segment(self, segment: list[str]) -> bool:
        service = self.service
        assert service is not None  # noqa: S101 - take() checked it
        tag = segment[0]
        if tag == "DTM":
            service["dates"].append(self.values.date(segment))
        elif tag == "CAS":
            service["adjustments"].extend(self.values.adjustments(segment))
        elif tag == "REF":
            service["references"].append(self.values.reference(segment))
        elif tag == "AMT":
            service["amounts"].append(self.values.amount(segment))
        elif tag == "QTY":
            service["quantities"].append(self.values.quantity(segment))
        else:
            values = self.values
            service["remarks"].append(
                Remark(values.required(segment, 1), values.required(segment, 2))
            )
        return True

    def _close_service(self) -> None:
        if self.service is None or self.claim is None:
            return
        self.claim["services"].append(ServicePayment(**_frozen(self.service)))
        self.service = None

    def _close_claim(self) -> None:
        self._close_service()
        if self.claim is None:
            return
        self.claims.append(ClaimPayment(**_frozen(self.claim)))
        self.claim = None

    def _provider_adjustment(self, segment: list[str]) -> bool:
        self._close_claim()
        values = self.values
        provider = values.required(segment, 1)
        period_end = values.day(segment, 2)
        for index in range(3, len(segment) - 1, 2):
            reason = values.components(segment, index)
            if not reason[0]:
                continue
            self.adjustments.append(
                ProviderAdjustment(
                    provider_identifier=provider,
                    fiscal_period_end=period_end,
                    reason=reason[0],
                    reference=reason[1] if len(reason) > 1 else "",
                    amount=values.money(segment, index + 1),
                )
            )
        if not self.adjustments:
            raise ElementMissing("PLB03 is required.", position=self.context.position(3))
        return True


def _trimmed(values: tuple[str, ...]) -> tuple[str, ...]:
    end = len(values)
    while end and not values[end - 1]:
        end -= 1
    return values[:end]


def _frozen(fields: dict[str, Any]) -> dict[str, Any]:
    """Loop fields with the lists collected turned into tuples."""
    return {
        key: tuple(value) if isinstance(value, list) else value for key, value in fields.items()
    }


def _unexpected(builder: RemittanceBuilder, segment: list[str]) -> bool:
    raise UnexpectedSegment("A second BPR appears in one 835.", position=builder.context.position())


_TOP_LEVEL = {
    "BPR": _unexpected,
    "TRN": RemittanceBuilder._trace,
    "CUR": RemittanceBuilder._header_segment,
    "REF": RemittanceBuilder._header_segment,
    "DTM": RemittanceBuilder._header_segment,
    "N1": RemittanceBuilder._party_start,
    "N3": RemittanceBuilder._party_segment,
    "N4": RemittanceBuilder._party_segment,
    "PER": RemittanceBuilder._party_segment,
    "RDM": RemittanceBuilder._party_segment,
    "LX": RemittanceBuilder._header_number,
    "TS3": RemittanceBuilder._header_summary,
    "TS2": RemittanceBuilder._header_summary,
    "CLP": RemittanceBuilder._claim_start,
    "SVC": RemittanceBuilder._service_start,
    "PLB": RemittanceBuilder._provider_adjustment,
}
