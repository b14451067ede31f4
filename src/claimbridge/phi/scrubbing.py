"""What the integrity rules read of the PHI tables, and the claim status they set.

Codes, dates of service, NPIs and ids only: nothing here unseals a name or
an identifier (dates of death are read through ``intake.recorded_deaths``).
The scrub runs inside a batch's audited ingest, or for a practice's own
claims; these reads are part of that processing, not disclosures.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import String, cast, func, or_, select, update
from sqlalchemy.orm import Session

from claimbridge.storage.claims import Claim, ClaimStatus, ServiceLine
from claimbridge.storage.clinical import Encounter

__all__ = [
    "Span",
    "billed_lines",
    "em_counts",
    "encounter_visits",
    "first_attested",
    "set_claim_status",
]

Span = tuple[date, date]
Visit = tuple[str, str, date]
BilledLine = tuple[str, str, date, str, tuple[str, ...], str]
_IN_LIMIT = 900


def _slices(values: Iterable[str]) -> Iterable[list[str]]:
    ordered = sorted(set(values))
    for start in range(0, len(ordered), _IN_LIMIT):
        yield ordered[start : start + _IN_LIMIT]


def first_attested(session: Session, practice_id: str) -> date | None:
    """The earliest date of service the practice attested an encounter for."""
    return session.scalar(
        select(func.min(Encounter.date_of_service)).where(
            Encounter.practice_id == practice_id, Encounter.source == "attestation"
        )
    )


def encounter_visits(
    session: Session, practice_id: str, patient_ids: Iterable[str], span: Span
) -> set[Visit]:
    """(patient, rendering NPI, date) of every encounter of these patients in ``span``."""
    visits: set[Visit] = set()
    for part in _slices(patient_ids):
        rows = session.execute(
            select(Encounter.patient_id, Encounter.rendering_npi, Encounter.date_of_service).where(
                Encounter.practice_id == practice_id,
                Encounter.patient_id.in_(part),
                Encounter.date_of_service.between(*span),
            )
        )
        visits.update((patient, npi, served) for patient, npi, served in rows)
    return visits


def billed_lines(
    session: Session, practice_id: str, batch_id: str, patient_ids: Iterable[str], span: Span
) -> Iterable[BilledLine]:
    """Lines of other batches for these patients in ``span``: (patient, provider, date, code,
    modifiers, claim id), one per distinct service however often it was billed (the first
    claim's id); replacements, voids and void claims left out."""
    provider = func.coalesce(Claim.rendering_npi, Claim.billing_npi)
    modifiers = cast(ServiceLine.modifiers, String)  # JSON has no equality on PostgreSQL
    for part in _slices(patient_ids):
        rows = session.execute(
            select(
                Claim.patient_id,
                provider,
                ServiceLine.service_date,
                ServiceLine.procedure_code,
                modifiers,
                func.min(Claim.id),
            )
            .join(ServiceLine, ServiceLine.claim_id == Claim.id)
            .where(
                Claim.practice_id == practice_id,
                Claim.patient_id.in_(part),
                _other_batch(batch_id),
                Claim.frequency_code.not_in(("7", "8")),
                Claim.status != ClaimStatus.VOID.value,
                ServiceLine.service_date.between(*span),
            )
            .group_by(
                Claim.patient_id,
                provider,
                ServiceLine.service_date,
                ServiceLine.procedure_code,
                modifiers,
            )
        )
        for patient, npi, served, code, listed, claim_id in rows:
            yield patient, npi, served, code, tuple(json.loads(listed or "[]")), claim_id


def em_counts(
    session: Session,
    practice_id: str,
    batch_id: str,
    *,
    providers: Iterable[str],
    codes: tuple[str, ...],
    span: Span,
) -> dict[str, dict[str, int]]:
    """Per provider NPI: how many lines of each of ``codes`` other batches billed in ``span``.

    The lines are found by the (practice, code, date) index of ``service_lines``
    and counted per provider in one grouped query; the providers asked for are
    picked from the answer (a provider filter on the expression would defeat
    the index).
    """
    wanted = set(providers)
    provider = func.coalesce(Claim.rendering_npi, Claim.billing_npi)
    rows = session.execute(
        select(provider, ServiceLine.procedure_code, func.count())
        .join(Claim, ServiceLine.claim_id == Claim.id)
        .where(
            ServiceLine.practice_id == practice_id,
            ServiceLine.procedure_code.in_(codes),
            ServiceLine.service_date.between(*span),
            _other_batch(batch_id),
            Claim.frequency_code != "8",
        )
        .group_by(provider, ServiceLine.procedure_code)
    )
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for npi, code, count in rows:
        if npi in wanted:
            counts[npi][code] = int(count)
    return dict(counts)


def set_claim_status(
    session: Session,
    claim_ids: Iterable[str],
    status: ClaimStatus,
    *,
    only_from: ClaimStatus | None = None,
) -> None:
    """Set the status of ``claim_ids`` (those now in ``only_from``, if given)."""
    for part in _slices(claim_ids):
        query = update(Claim).where(Claim.id.in_(part))
        if only_from is not None:
            query = query.where(Claim.status == only_from.value)
        session.execute(query.values(status=status.value))


def _other_batch(batch_id: str) -> Any:
    return or_(Claim.batch_id.is_(None), Claim.batch_id != batch_id)
