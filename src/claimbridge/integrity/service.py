"""Scrubbing an ingested batch, in the ingest's transaction.

The exchange hands every claim the intake wrote to ``BatchScrub.add``
(with its stored claim id and patient id); ``finish`` then gathers what
the rules consult besides the batch, runs every rule, stores the findings
and sets each claim ``flagged`` or ``ready``, and returns the summary the
signed receipt carries. What is consulted:

* the reference table versions in effect today, only the rows the batch
  can meet (``references.tables_for``);
* the practice's encounter log, once the practice has attested encounters
  (``phi/attestations.py``): every encounter row of the batch's patients
  in the batch's dates;
* history: the lines the practice billed before for the same patients and
  dates (duplicates), and per rendering provider and quarter the E/M codes
  already billed (upcoding sees the provider's quarter, not one batch);
* recorded dates of death of the batch's patients (sealed; unsealed here
  for the date rule only, inside the batch's audited ingest).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from claimbridge.crypto.keyring import Keyring
from claimbridge.integrity.context import DuplicateKey, EncounterLog, ScrubContext, duplicate_key
from claimbridge.integrity.engine import ScrubReport, scrub
from claimbridge.integrity.findings import store_findings
from claimbridge.integrity.model import Finding, ProviderName, ScrubClaim, ScrubLine, Severity
from claimbridge.integrity.peers import PeerDistributions, default_peers
from claimbridge.integrity.references import tables_for
from claimbridge.integrity.rules import default_rules
from claimbridge.integrity.rules.upcoding import period_of
from claimbridge.integrity.tables.icd10cm import ICD10CMRelease
from claimbridge.phi.intake import IntakeClaim, recorded_deaths
from claimbridge.phi.scrubbing import (
    Span,
    billed_lines,
    em_counts,
    encounter_visits,
    first_attested,
)

__all__ = ["DEFAULT_SCRUB", "MAX_LISTED", "BatchScrub", "ScrubSettings", "scrub_claim"]

MAX_LISTED = 1000
"""Findings a receipt lists; the rest are counted, and all are stored."""
EM_CODES = ("99202", "99203", "99204", "99205", "99211", "99212", "99213", "99214", "99215")


def scrub_claim(
    item: IntakeClaim, *, ref: str, patient: str, received: date | None = None
) -> ScrubClaim:
    """The rules' view of one claim of a batch."""
    record = item.claim
    name = record.rendering_name
    return ScrubClaim(
        ref=ref,
        patient=patient,
        billing_npi=record.billing_npi,
        rendering_npi=record.rendering_npi,
        referring_npi=record.referring_npi,
        rendering_name=ProviderName(*name) if name else None,
        taxonomy=record.taxonomy or "",
        diagnoses=record.diagnoses,
        frequency=record.frequency_code,
        born=item.patient.birth_date,
        died=item.patient.deceased_on,
        received=received,
        lines=tuple(
            ScrubLine(
                number=line.line_number,
                code=line.procedure_code,
                modifiers=line.modifiers,
                units=line.units,  # type: ignore[arg-type]  # Decimal or int: both compare
                service_date=line.service_date,
                diagnosis_pointers=line.diagnosis_pointers,
            )
            for line in record.lines
        ),
    )


@dataclass(frozen=True, slots=True)
class ScrubSettings:
    """What the server's configuration decides: the E/M peers (None: the shipped ones)
    and the filing limit."""

    peers: PeerDistributions | None = None
    timely_filing_days: int = 365


DEFAULT_SCRUB = ScrubSettings()


@dataclass(slots=True)
class BatchScrub:
    practice_id: str
    batch_id: str
    now: datetime
    settings: ScrubSettings = DEFAULT_SCRUB
    claims: list[ScrubClaim] = field(default_factory=list)
    positions: dict[str, int] = field(default_factory=dict)

    def add(self, item: IntakeClaim, claim_id: str, patient_id: str) -> None:
        self.positions[claim_id] = len(self.claims) + 1
        self.claims.append(
            scrub_claim(item, ref=claim_id, patient=patient_id, received=self.now.date())
        )

    def finish(self, session: Session, keyring: Keyring) -> dict[str, Any]:
        """Run the rules, store the findings, set the claims' status; the receipt's summary."""
        today = self.now.date()
        claims = self._with_deaths(session, keyring)
        tables = tables_for(session, claims, on=today)
        context = ScrubContext(
            today=today,
            ptp=tables.ptp,
            mue=tables.mue,
            exclusions=tables.exclusions,
            diagnoses=ICD10CMRelease(),
            encounters=_encounter_log(session, self.practice_id, claims),
            history=_history(session, self.practice_id, self.batch_id, claims),
            em_history=_em_history(session, self.practice_id, self.batch_id, claims),
            peers=self.settings.peers or default_peers(),
            timely_filing_days=self.settings.timely_filing_days,
        )
        report = scrub(claims, context, default_rules())
        store_findings(
            session,
            report.findings,
            practice_id=self.practice_id,
            batch_id=self.batch_id,
            claim_ids=self.positions,
            now=self.now,
        )
        return summary(
            report,
            self.positions,
            tables={
                "ncci-ptp": tables.ptp.label if tables.ptp is not None else None,
                "ncci-mue": tables.mue.label if tables.mue is not None else None,
                "oig-leie": tables.exclusions.label if tables.exclusions is not None else None,
                "icd-10-cm": context.diagnoses.label if context.diagnoses is not None else None,
            },
        )

    def _with_deaths(self, session: Session, keyring: Keyring) -> list[ScrubClaim]:
        deaths = recorded_deaths(
            session, keyring, self.practice_id, {claim.patient for claim in self.claims}
        )
        if not deaths:
            return self.claims
        return [
            _replace_died(claim, deaths[claim.patient]) if claim.patient in deaths else claim
            for claim in self.claims
        ]


def _replace_died(claim: ScrubClaim, died: date) -> ScrubClaim:
    return replace(claim, died=claim.died or died)


def summary(
    report: ScrubReport, positions: dict[str, int], *, tables: dict[str, str | None]
) -> dict[str, Any]:
    """What the receipt says of the scrub: counts, tables used, and the findings (bounded)."""
    severities = Counter(finding.severity.value for finding in report.findings)
    blocked = report.blocked_claims
    return {
        "rules_run": report.rules_run,
        "rules_not_run": report.rules_skipped,
        "tables": tables,
        "claims_flagged": len(blocked),
        "claims_ready": report.claims - len(blocked),
        "findings_block": severities.get(Severity.BLOCK.value, 0),
        "findings_warn": severities.get(Severity.WARN.value, 0),
        "findings_by_rule": report.counts(),
        "findings": [_listed(f, positions) for f in report.findings[:MAX_LISTED]],
        "findings_left_out": max(0, len(report.findings) - MAX_LISTED),
    }


def _listed(finding: Finding, positions: dict[str, int]) -> dict[str, Any]:
    shown = finding.to_json()
    shown["claim_index"] = positions.get(finding.claim or "")
    return shown


# -- what the rules consult besides the batch --------------------------------------------


def _span(claims: list[ScrubClaim]) -> Span | None:
    dates = [line.service_date for claim in claims for line in claim.lines]
    return (min(dates), max(dates)) if dates else None


def _encounter_log(
    session: Session, practice_id: str, claims: list[ScrubClaim]
) -> EncounterLog | None:
    since = first_attested(session, practice_id)
    span = _span(claims)
    if since is None or span is None:
        return None
    visits = encounter_visits(session, practice_id, (c.patient for c in claims), span)
    return EncounterLog(since=since, visits=frozenset(visits))


def _history(
    session: Session, practice_id: str, batch_id: str, claims: list[ScrubClaim]
) -> dict[DuplicateKey, str]:
    """Lines billed in earlier batches for these patients and dates, by duplicate key."""
    span = _span(claims)
    if span is None:
        return {}
    found: dict[DuplicateKey, str] = {}
    patients = (claim.patient for claim in claims)
    for patient, npi, served, code, modifiers, claim_id in billed_lines(
        session, practice_id, batch_id, patients, span
    ):
        found.setdefault(duplicate_key(patient, npi, served, code, modifiers), claim_id)
    return found


def _em_history(
    session: Session, practice_id: str, batch_id: str, claims: list[ScrubClaim]
) -> dict[tuple[str, str], dict[str, int]]:
    """Per (provider NPI, quarter): the E/M codes billed in earlier batches, counted."""
    quarters: dict[str, Span] = {}
    providers: set[str] = set()
    for claim in claims:
        for line in claim.lines:
            if line.code in EM_CODES:
                providers.add(claim.provider)
                label = period_of(line.service_date)
                quarters[label] = _quarter_span(line.service_date)
    history: dict[tuple[str, str], dict[str, int]] = {}
    for label, span in quarters.items():
        counted = em_counts(
            session, practice_id, batch_id, providers=providers, codes=EM_CODES, span=span
        )
        for npi, codes in counted.items():
            history[(npi, label)] = codes
    return history


def _quarter_span(day: date) -> Span:
    index = (day.month - 1) // 3
    first = date(day.year, index * 3 + 1, 1)
    after = date(day.year + 1, 1, 1) if index == 3 else date(day.year, index * 3 + 4, 1)
    return first, date.fromordinal(after.toordinal() - 1)
