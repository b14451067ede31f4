"""What the rules consult besides the claims: reference tables, the encounter log, history.

Everything here is optional: a rule whose table is missing does not run,
and the report says so (``scrub FILE`` without ``--ncci`` runs no PTP
edits). The tables are read through small protocols so the same rules run
on tables loaded from CMS's files (the ``scrub`` command, the benchmark)
and on the versions the server keeps (``integrity/service.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from claimbridge.formats.cms import Exclusion, MueEdit, PtpEdit
from claimbridge.integrity.peers import PeerDistributions

__all__ = [
    "DiagnosisCodes",
    "DuplicateKey",
    "EncounterLog",
    "ExclusionTable",
    "MueTable",
    "PtpTable",
    "ScrubContext",
    "duplicate_key",
]

DuplicateKey = tuple[str, str, date, str, tuple[str, ...]]
"""Patient, provider NPI, date of service, procedure code and sorted modifiers."""


def duplicate_key(
    patient: str, provider: str, served: date, code: str, modifiers: tuple[str, ...]
) -> DuplicateKey:
    return (patient, provider, served, code, tuple(sorted(modifiers)))


class PtpTable(Protocol):
    """NCCI procedure-to-procedure edits, looked up by (column 1, column 2)."""

    @property
    def label(self) -> str: ...

    def edits(self, column1: str, column2: str) -> tuple[PtpEdit, ...]: ...


class MueTable(Protocol):
    @property
    def label(self) -> str: ...

    def get(self, code: str) -> MueEdit | None: ...


class ExclusionTable(Protocol):
    """The OIG LEIE: by NPI, and by name for the excluded people listed without one."""

    @property
    def label(self) -> str: ...

    def by_npi(self, npi: str) -> tuple[Exclusion, ...]: ...

    def by_name(self, family: str, given: str) -> tuple[Exclusion, ...]: ...


class DiagnosisCodes(Protocol):
    """An ICD-10-CM release: which codes exist and which are billable (leaf) codes."""

    @property
    def label(self) -> str: ...

    def exists(self, code: str) -> bool: ...

    def billable(self, code: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class EncounterLog:
    """The encounters the practice attested: the source of truth for services provided.

    ``visits`` holds (patient, rendering NPI, date of service). Lines dated
    before ``since`` (the first day the practice attested) are not checked:
    a practice that starts attesting does not condemn its past claims.
    """

    since: date
    visits: frozenset[tuple[str, str, date]]

    def covers(self, served: date) -> bool:
        return served >= self.since

    def attested(self, patient: str, npi: str, served: date) -> bool:
        return (patient, npi, served) in self.visits


@dataclass(frozen=True, slots=True)
class ScrubContext:
    """``today`` is the scrub's date (future services, timely filing); tables are optional.

    ``history`` maps the duplicate keys of lines billed before (other
    batches) to the claim that billed them. ``em_history`` holds, per
    (rendering NPI, period label), the E/M codes already billed and their
    counts, so the upcoding test sees a provider's whole period, not one batch.
    ``peers`` are the E/M level mixes the upcoding test compares against (None: the
    rule uses the shipped ones).
    """

    today: date
    ptp: PtpTable | None = None
    mue: MueTable | None = None
    exclusions: ExclusionTable | None = None
    diagnoses: DiagnosisCodes | None = None
    encounters: EncounterLog | None = None
    history: Mapping[DuplicateKey, str] = field(default_factory=dict)
    em_history: Mapping[tuple[str, str], Mapping[str, int]] = field(default_factory=dict)
    timely_filing_days: int = 365
    peers: PeerDistributions | None = None
