"""Loading the demo into an instance: organisations, users, an engagement, patients.

All of it lands in one transaction or none of it does. A second run on a
data directory that already holds the demo changes nothing and reports
the same logins (they are derived from the seed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from claimbridge.access.passwords import hash_password, verify_password
from claimbridge.crypto.files import SealedFiles
from claimbridge.crypto.keyring import Keyring
from claimbridge.crypto.sealing import FieldSealer
from claimbridge.demo.accounts import (
    KEYSTONE,
    LAKESIDE,
    ORGS,
    RIVERSIDE,
    SUMMIT,
    USERS,
    demo_password,
    demo_totp_secret,
)
from claimbridge.demo.batch837 import batchable, practice_837p
from claimbridge.demo.generate import (
    DemoClaim,
    DemoCoverage,
    DemoEncounter,
    DemoPatient,
    DemoPractice,
    DemoProvider,
    generate_practice,
)
from claimbridge.demo.integrity import held_by_the_scrub
from claimbridge.demo.vendors import engage_demo_vendors
from claimbridge.phi.records import (
    Address,
    ClaimRecord,
    CoverageRecord,
    EncounterRecord,
    PatientRecord,
    ServiceLineRecord,
    claim_row,
    coverage_row,
    encounter_row,
    patient_row,
)
from claimbridge.storage.auth import Credential
from claimbridge.storage.orgs import Organisation, User, UserRole
from claimbridge.types import new_id

Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``: called as patients are written."""

BATCH_DAYS = 14
"""The engaged practice's claims of its last two weeks arrive as an 837P batch instead."""


@dataclass(frozen=True, slots=True)
class DemoLogin:
    email: str
    password: str
    roles: tuple[str, ...]
    organisation: str
    totp_secret: str
    """Base32 TOTP secret (RFC 6238) already enrolled: add it to an authenticator app."""


@dataclass(frozen=True, slots=True)
class DemoSummary:
    already_loaded: bool
    seed: int
    organisations: tuple[str, ...]
    practices: dict[str, int]
    patients: int
    coverages: int
    encounters: int
    claims: int
    service_lines: int
    logins: tuple[DemoLogin, ...]
    passwords_match_seed: bool
    batch_claims: int = 0
    """Of ``claims``, those held back to arrive through the exchange (``batch``)."""
    batch: bytes | None = field(default=None, repr=False)
    """The held-back claims as the engaged practice's 837P, for the caller to ingest."""
    engagements: dict[str, str] = field(default_factory=dict)
    """Billing company name → its engagement id with the engaged practice."""


def load_demo(
    session: Session,
    keyring: Keyring,
    files: SealedFiles,
    *,
    seed: int,
    patients: int,
    now: datetime,
    progress: Progress | None = None,
) -> DemoSummary:
    logins = tuple(
        DemoLogin(
            u.email,
            demo_password(seed, u.email),
            tuple(r.value for r in u.roles),
            u.organisation,
            demo_totp_secret(seed, u.email),
        )
        for u in USERS
    )
    existing = session.scalars(select(Organisation).where(Organisation.name == RIVERSIDE)).first()
    if existing is not None:
        return _already_loaded(session, seed, logins)
    orgs = _organisations(session, keyring, now=now)
    _users(session, keyring, orgs, logins, now=now)
    engaged = engage_demo_vendors(session, files, now=now)
    period_end = (now - timedelta(days=1)).date()
    period_start = period_end - timedelta(days=365)
    counts: dict[str, int] = {}
    totals = [0, 0, 0, 0, 0]
    batch: bytes | None = None
    batch_claims: tuple[DemoClaim, ...] = ()
    for name, share in ((RIVERSIDE, patients), (LAKESIDE, max(1, patients // 5))):
        practice = generate_practice(
            seed=seed,
            patients=share,
            practice_key=name.split()[0].lower(),
            start=period_start,
            end=period_end,
        )
        _billing_identity(orgs[name], practice)
        held: tuple[DemoClaim, ...] = ()
        if name == RIVERSIDE:
            held = _recent(practice, since=period_end - timedelta(days=BATCH_DAYS))
            if held:
                sent = held + held_by_the_scrub(practice, held)
                batch = practice_837p(
                    practice, sent, control_number=seed % 999_999_999 + 1, now=now
                )
                batch_claims = sent
        written = _write_practice(
            FieldSealer(keyring, session, orgs[name].id),
            practice,
            now=now,
            progress=progress,
            stage=name,
            skip={claim.key for claim in held},
            attested=name == RIVERSIDE,
        )
        written[3] += len(batch_claims) if name == RIVERSIDE else 0
        written[4] += sum(len(claim.lines) for claim in batch_claims) if name == RIVERSIDE else 0
        counts[name] = share
        totals = [a + b for a, b in zip(totals, written, strict=True)]
    session.flush()
    return DemoSummary(
        already_loaded=False,
        seed=seed,
        organisations=tuple(org.name for org in ORGS),
        practices=counts,
        patients=totals[0],
        coverages=totals[1],
        encounters=totals[2],
        claims=totals[3],
        service_lines=totals[4],
        logins=logins,
        passwords_match_seed=True,
        batch_claims=len(batch_claims),
        batch=batch,
        engagements={SUMMIT: engaged.approved, KEYSTONE: engaged.rejected},
    )


def _recent(practice: DemoPractice, *, since: date) -> tuple[DemoClaim, ...]:
    return tuple(
        claim
        for claim in practice.claims
        if min(line.date_of_service for line in claim.lines) > since and batchable(practice, claim)
    )


def _organisations(session: Session, keyring: Keyring, *, now: datetime) -> dict[str, Organisation]:
    orgs = {
        org.name: Organisation(name=org.name, kind=org.kind.value, created_at=now) for org in ORGS
    }
    session.add_all(orgs.values())
    session.flush()
    for org in orgs.values():
        keyring.ensure_tenant(session, org.id)
    return orgs


def _billing_identity(org: Organisation, practice: DemoPractice) -> None:
    """What the billing provider loop of the practice's outbound 837Ps names."""
    org.npi = practice.group_npi
    org.tax_id = practice.tax_id
    org.address_line = practice.address.line
    org.address_city = practice.address.city
    org.address_state = practice.address.state
    org.address_postal_code = practice.address.postal_code


def _users(
    session: Session,
    keyring: Keyring,
    orgs: dict[str, Organisation],
    logins: tuple[DemoLogin, ...],
    *,
    now: datetime,
) -> None:
    for spec, login in zip(USERS, logins, strict=True):
        user = User(
            id=new_id(),
            organisation_id=orgs[spec.organisation].id,
            email=spec.email,
            display_name=spec.display_name,
            password_hash=hash_password(login.password),
            created_at=now,
        )
        user.roles.extend(UserRole(role=role.value) for role in spec.roles)
        session.add(user)
        session.flush()
        sealer = FieldSealer(keyring, session, user.organisation_id)
        session.add(
            Credential(
                user_id=user.id,
                totp_secret=sealer.seal("credentials", "totp_secret", user.id, login.totp_secret),
                totp_confirmed_at=now,
                recovery_code_hashes=[],
                failed_count=0,
            )
        )


def _write_practice(
    sealer: FieldSealer,
    practice: DemoPractice,
    *,
    now: datetime,
    progress: Progress | None,
    stage: str,
    skip: set[str] | frozenset[str] = frozenset(),
    attested: bool = False,
) -> list[int]:
    # Rows refer to each other only by id (no ORM relationships), so each
    # table is flushed before the tables that point at it.
    patient_ids = _write_patients(sealer, practice.patients, now=now)
    coverage_ids = _write_coverages(sealer, practice.coverages, patient_ids, now=now)
    encounter_ids = _write_encounters(
        sealer, practice.encounters, patient_ids, now=now, attested=attested
    )
    claims = [claim for claim in practice.claims if claim.key not in skip]
    providers = {provider.npi: provider for provider in practice.providers}
    total = len(claims)
    lines = 0
    for done, claim in enumerate(claims, start=1):
        priority = claim.coverage_priority
        coverage_id = coverage_ids.get((claim.patient_key, priority)) if priority else None
        sealer.session.add(
            claim_row(
                sealer,
                _claim_record(claim, providers.get(claim.rendering_npi)),
                patient_id=patient_ids[claim.patient_key],
                coverage_id=coverage_id,
                encounter_id=encounter_ids[claim.encounter_key],
                now=now,
            )
        )
        lines += len(claim.lines)
        if progress is not None and (done % 200 == 0 or done == total):
            progress(stage, done, total)
    sealer.session.flush()
    return [len(practice.patients), len(practice.coverages), len(practice.encounters), total, lines]


def _write_patients(
    sealer: FieldSealer, patients: tuple[DemoPatient, ...], *, now: datetime
) -> dict[str, str]:
    ids = {}
    for patient in patients:
        row = patient_row(sealer, _patient_record(patient), now=now)
        sealer.session.add(row)
        ids[patient.key] = row.id
    sealer.session.flush()
    return ids


def _write_coverages(
    sealer: FieldSealer,
    coverages: tuple[DemoCoverage, ...],
    patient_ids: dict[str, str],
    *,
    now: datetime,
) -> dict[tuple[str, int], str]:
    ids = {}
    for coverage in coverages:
        record = CoverageRecord(
            payer_name=coverage.payer_name,
            payer_id=coverage.payer_id,
            member_id=coverage.member_id,
            priority=coverage.priority,
            relationship=coverage.relationship,
            group_number=coverage.group_number,
            effective_from=coverage.effective_from,
        )
        row = coverage_row(sealer, patient_ids[coverage.patient_key], record, now=now)
        sealer.session.add(row)
        ids[(coverage.patient_key, coverage.priority)] = row.id
    sealer.session.flush()
    return ids


def _write_encounters(
    sealer: FieldSealer,
    encounters: tuple[DemoEncounter, ...],
    patient_ids: dict[str, str],
    *,
    now: datetime,
    attested: bool,
) -> dict[str, str]:
    """The encounters; ``attested``: the practice's own log, which claims are checked against."""
    ids = {}
    for encounter in encounters:
        record = EncounterRecord(
            rendering_npi=encounter.provider_npi,
            date_of_service=encounter.date_of_service,
            place_of_service=encounter.place_of_service,
            documentation=encounter.documentation,
            source="attestation" if attested else "demo",
        )
        row = encounter_row(sealer, patient_ids[encounter.patient_key], record, now=now)
        sealer.session.add(row)
        ids[encounter.key] = row.id
    sealer.session.flush()
    return ids


def _patient_record(patient: DemoPatient) -> PatientRecord:
    return PatientRecord(
        mrn=patient.mrn,
        given_name=patient.given_name,
        family_name=patient.family_name,
        birth_date=patient.birth_date,
        sex=patient.sex,
        address=Address(patient.address_line, patient.city, patient.state, patient.postal_code),
        phone=patient.phone,
        ssn=patient.ssn,
        deceased_on=patient.deceased_on,
    )


def _claim_record(claim: DemoClaim, provider: DemoProvider | None = None) -> ClaimRecord:
    return ClaimRecord(
        billing_npi=claim.billing_npi,
        rendering_npi=claim.rendering_npi,
        taxonomy=provider.taxonomy_code if provider else None,
        rendering_name=(provider.family_name.upper(), provider.given_name.upper())
        if provider
        else None,
        place_of_service=claim.place_of_service,
        frequency_code=claim.frequency_code,
        diagnoses=claim.diagnoses,
        patient_account=claim.patient_account,
        lines=tuple(
            ServiceLineRecord(
                line_number=line.line_number,
                procedure_code=line.procedure_code,
                modifiers=line.modifiers,
                units=line.units,
                charge_cents=line.charge_cents,
                service_date=line.date_of_service,
                diagnosis_pointers=line.diagnosis_pointers,
            )
            for line in claim.lines
        ),
    )


def _already_loaded(session: Session, seed: int, logins: tuple[DemoLogin, ...]) -> DemoSummary:
    first = session.scalars(select(User).where(User.email == logins[0].email)).first()
    matches = first is not None and verify_password(first.password_hash, logins[0].password)
    return DemoSummary(
        already_loaded=True,
        seed=seed,
        organisations=tuple(org.name for org in ORGS),
        practices={},
        patients=0,
        coverages=0,
        encounters=0,
        claims=0,
        service_lines=0,
        logins=logins,
        passwords_match_seed=matches,
    )
