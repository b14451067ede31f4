"""How ``claimbridge x12`` shows X12 records and results: JSON records, tallies, 999 reports.

Records become JSON the way ``dataclasses.asdict`` would make them, except
that amounts stay exact decimal strings (``"123.45"``), dates are ISO 8601
and a service period is its first and last day. Reports are shaped like the
999 (005010X231A1) that would answer the file: per interchange, group and
transaction set, an outcome and each error with its position and codes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import date, time
from decimal import Decimal
from enum import Enum
from typing import Any, TypeAlias

from rich.markup import escape

from claimbridge.formats.x12 import (
    Acknowledgment,
    GroupResult,
    InstitutionalClaim,
    InterchangeResult,
    Outcome,
    ProfessionalClaim,
    Reading,
    Remittance,
    SetResult,
    X12Error,
)
from claimbridge.types import Money, ServicePeriod

__all__ = [
    "OUTCOME_NAMES",
    "Advance",
    "Tally",
    "json_records",
    "jsonable",
    "report_lines",
    "tally",
    "validation_report",
]

Advance: TypeAlias = Callable[[int], None]
JSON: TypeAlias = dict[str, Any]

OUTCOME_NAMES = {
    Outcome.ACCEPTED: "accepted",
    Outcome.ACCEPTED_WITH_ERRORS: "accepted_with_errors",
    Outcome.PARTIALLY_ACCEPTED: "partially_accepted",
    Outcome.REJECTED: "rejected",
    Outcome.AUTHENTICATION_FAILED: "authentication_failed",
    Outcome.ASSURANCE_FAILED: "assurance_failed",
    Outcome.UNREADABLE_AFTER_DECRYPTION: "unreadable_after_decryption",
}
_ACCEPTED = (Outcome.ACCEPTED, Outcome.ACCEPTED_WITH_ERRORS)


# -- records as JSON -------------------------------------------------------------------


def jsonable(value: object) -> Any:
    """A record as plain JSON values: dicts, lists, strings, numbers, booleans, null."""
    if value is None or (isinstance(value, (str, bool, int)) and not isinstance(value, Enum)):
        return value
    for kind, convert in _CONVERTERS:
        if isinstance(value, kind):
            return convert(value)
    if is_dataclass(value) and not isinstance(value, type):
        return {slot.name: jsonable(getattr(value, slot.name)) for slot in fields(value)}
    if isinstance(value, (tuple, list)):
        return [jsonable(item) for item in value]
    return str(value)


def _period(period: ServicePeriod) -> JSON:
    return {"first": period.first.isoformat(), "last": period.last.isoformat()}


_CONVERTERS: tuple[tuple[type, Callable[[Any], Any]], ...] = (
    (Enum, lambda value: jsonable(value.value)),
    (Money, str),
    (ServicePeriod, _period),
    (date, date.isoformat),
    (time, time.isoformat),
    (Decimal, str),
)


def json_records(record: object) -> Iterator[JSON]:
    """One JSON record per claim, per claim payment (with its remittance's header) or per 999."""
    if isinstance(record, ProfessionalClaim):
        yield {"record": "professional_claim", **jsonable(record)}
    elif isinstance(record, InstitutionalClaim):
        yield {"record": "institutional_claim", **jsonable(record)}
    elif isinstance(record, Remittance):
        yield from _remittance_records(record)
    elif isinstance(record, Acknowledgment):
        yield {"record": "acknowledgment", **jsonable(record)}
    else:
        yield {"record": type(record).__name__, **jsonable(record)}


def _remittance_records(remittance: Remittance) -> Iterator[JSON]:
    header = {
        "control_number": remittance.control_number,
        "payment": jsonable(remittance.payment),
        "trace": jsonable(remittance.trace),
        "payer": jsonable(remittance.payer),
        "payee": jsonable(remittance.payee),
        "references": jsonable(remittance.references),
        "dates": jsonable(remittance.dates),
    }
    for claim in remittance.claims:
        yield {"record": "claim_payment", "remittance": header, **jsonable(claim)}
    for adjustment in remittance.provider_adjustments:
        yield {"record": "provider_adjustment", "remittance": header, **jsonable(adjustment)}
    if not remittance.claims and not remittance.provider_adjustments:
        yield {"record": "payment", "remittance": header}


# -- what each set held --------------------------------------------------------------------


@dataclass(slots=True)
class Tally:
    """What one transaction set held: records, service lines and amounts."""

    records: int = 0
    lines: int = 0
    charged: Money = field(default_factory=lambda: Money(0))
    paid: Money | None = None

    def add(self, record: object) -> None:
        if isinstance(record, (ProfessionalClaim, InstitutionalClaim)):
            self.records += 1
            self.lines += len(record.lines)
            self.charged += record.total_charge
        elif isinstance(record, Remittance):
            self.records += len(record.claims)
            self.lines += sum(len(claim.services) for claim in record.claims)
            self.charged += Money(sum(claim.charge.cents for claim in record.claims))
            self.paid = (self.paid or Money(0)) + record.payment.amount
        else:
            self.records += 1

    def merge(self, other: Tally) -> None:
        self.records += other.records
        self.lines += other.lines
        self.charged += other.charged
        if other.paid is not None:
            self.paid = (self.paid or Money(0)) + other.paid


def tally(reading: Reading[Any]) -> list[Tally]:
    """Read every record; a ``Tally`` per transaction set, in the order of ``reading.results``."""
    tallies: list[Tally] = []
    for record in reading:
        # A set's result is recorded when the set ends, so the records of the
        # n-th set arrive while n - 1 results are known.
        index = len(reading.results)
        while len(tallies) <= index:
            tallies.append(Tally())
        tallies[index].add(record)
    while len(tallies) < len(reading.results):
        tallies.append(Tally())
    return tallies


# -- the 999-style report ------------------------------------------------------------------


def validation_report(reading: Reading[Any]) -> JSON:
    """Outcome overall and per interchange, group and set, each error located and coded."""
    results = reading.results
    rejected = sum(1 for result in results if result.outcome not in _ACCEPTED)
    refused = bool(reading.stray) or any(
        interchange.outcome is Outcome.REJECTED
        or any(group.outcome not in _ACCEPTED for group in interchange.groups)
        for interchange in reading.interchanges
    )
    if rejected or refused or not reading.interchanges:
        outcome = "rejected"
    else:
        outcome = "accepted_with_errors" if reading.errors else "accepted"
    return {
        "outcome": outcome,
        "sets": {"received": len(results), "accepted": len(results) - rejected},
        "interchanges": [_interchange(interchange) for interchange in reading.interchanges],
        "errors": [_error(error) for error in reading.stray],
    }


def _interchange(interchange: InterchangeResult) -> JSON:
    return {
        "control_number": interchange.control_number,
        "sender": interchange.sender,
        "receiver": interchange.receiver,
        "outcome": OUTCOME_NAMES[interchange.outcome],
        "errors": [_error(error) for error in interchange.errors],
        "groups": [_group(group) for group in interchange.groups],
    }


def _group(group: GroupResult) -> JSON:
    return {
        "functional_id": group.functional_id,
        "control_number": group.control_number,
        "version": group.version,
        "outcome": OUTCOME_NAMES[group.outcome],
        "errors": [_error(error) for error in group.errors],
        "sets": [_set(result) for result in group.sets],
    }


def _set(result: SetResult) -> JSON:
    return {
        "set_id": result.set_id,
        "control_number": result.control_number,
        "guide": result.guide,
        "outcome": OUTCOME_NAMES[result.outcome],
        "first_segment": result.first_segment,
        "segment_count": result.segment_count,
        "errors": [_error(error, result) for error in result.errors],
    }


def _error(error: X12Error, result: SetResult | None = None) -> JSON:
    shaped: JSON = {"code": error.code, "message": error.message, "where": error.where}
    position = error.position
    if position is not None:
        shaped["position"] = {
            "segment_number": position.segment_number,
            "segment_id": position.segment_id,
            "element": position.element,
            "component": position.component,
            "offset": position.offset,
        }
        if result is not None:
            shaped["position"]["segment_in_set"] = result.segment_in_set(position)
    codes = {
        "TA105": error.interchange_code,
        "AK905": error.group_code,
        "IK502": error.set_code,
        "IK304": error.segment_code,
        "IK403": error.element_code,
    }
    shaped["codes"] = {name: code for name, code in codes.items() if code}
    return shaped


def report_lines(report: JSON) -> Iterator[str]:
    """The report as Rich markup lines, one per interchange, group, set and error."""
    for interchange in report["interchanges"]:
        yield (
            f"Interchange {escape(interchange['control_number'])} from "
            f"{escape(interchange['sender'])} to {escape(interchange['receiver'])}: "
            f"{_outcome(interchange['outcome'])}"
        )
        yield from _error_lines(interchange["errors"], "  ")
        for group in interchange["groups"]:
            yield (
                f"  Group {escape(group['functional_id'])} {escape(group['control_number'])} "
                f"({escape(group['version'])}): {_outcome(group['outcome'])}"
            )
            yield from _error_lines(group["errors"], "    ")
            for result in group["sets"]:
                yield (
                    f"    Set {escape(result['set_id'])} {escape(result['control_number'])} "
                    f"({escape(result['guide'])}): {_outcome(result['outcome'])}"
                )
                yield from _error_lines(result["errors"], "      ")
    yield from _error_lines(report["errors"], "")
    yield f"{_summary(report)}: [bold]{_outcome(report['outcome'])}[/bold]"


def _summary(report: JSON) -> str:
    """How many sets were accepted, and which envelopes were rejected though their sets were not."""
    sets = report["sets"]
    parts = [f"{_count(sets['received'], 'transaction set')}, {sets['accepted']} accepted"]
    interchanges = report["interchanges"]
    groups = [group for interchange in interchanges for group in interchange["groups"]]
    for envelopes, name in ((interchanges, "interchange"), (groups, "functional group")):
        rejected = sum(1 for envelope in envelopes if envelope["outcome"] == "rejected")
        if rejected:
            parts.append(f"{rejected} of {_count(len(envelopes), name)} rejected")
    if report["errors"]:
        parts.append(f"{_count(len(report['errors']), 'error')} outside any interchange")
    return "; ".join(parts)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _error_lines(errors: list[JSON], indent: str) -> Iterator[str]:
    for error in errors:
        where = f" (at {escape(error['where'])})" if error["where"] else ""
        codes = " ".join(f"{name} {code}" for name, code in error["codes"].items())
        message = f"[red]{escape(error['code'])}[/red]: {escape(error['message'])}{where}"
        yield f"{indent}{message} [dim]{codes}[/dim]"


def _outcome(name: str) -> str:
    style = {"accepted": "green", "rejected": "red"}.get(name, "yellow")
    return f"[{style}]{name.replace('_', ' ')}[/{style}]"
