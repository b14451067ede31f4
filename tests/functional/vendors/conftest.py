"""Two practices and two billing companies on one database (each backend), with a fixed clock.

``vendor_world.open_engagement`` writes an engagement straight into its
tables (BAA signed, assessment approved) and runs the gate, for tests of
what happens *after* the workflow; the workflow's own tests go through
``vendors/``. ``open_vendor_world`` makes a world for a module to share, and
``own_database`` a database for a module to keep to itself.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from claimbridge.access.engagements import refresh
from claimbridge.access.principal import Principal
from claimbridge.clock import FixedClock
from claimbridge.crypto.files import SealedFiles
from claimbridge.crypto.keyring import Keyring
from claimbridge.crypto.providers.local import MIN_SCRYPT_N, LocalKeyProvider
from claimbridge.storage import migrate
from claimbridge.storage.blobs import BlobStore
from claimbridge.storage.db import make_engine
from claimbridge.storage.orgs import (
    Engagement,
    EngagementStatus,
    Organisation,
    OrgKind,
    Role,
    User,
    UserRole,
)
from claimbridge.storage.vendors import (
    Assessment,
    AssessmentStatus,
    BusinessAssociateAgreement,
)
from claimbridge.vendors.questionnaires import latest
from tests.conftest import empty_database_url

NOW = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)


_KIND_OF_ROLE = {
    Role.PRACTICE_ADMIN: OrgKind.PRACTICE,
    Role.PRACTICE_STAFF: OrgKind.PRACTICE,
    Role.PRIVACY_OFFICER: OrgKind.PRACTICE,
    Role.VENDOR_ADMIN: OrgKind.BILLING_COMPANY,
    Role.BILLER: OrgKind.BILLING_COMPANY,
    Role.CODER: OrgKind.BILLING_COMPANY,
}


@dataclass
class VendorWorld:
    sessions: sessionmaker[Session]
    keyring: Keyring
    files: SealedFiles
    clock: FixedClock
    blobs: Path
    riverside: str  # practice
    lakeside: str  # practice
    summit: str  # billing company
    northwind: str  # billing company
    users: dict[tuple[str, Role], str]

    def principal(self, org: str, role: Role) -> Principal:
        """A signed-in user (with MFA) of ``org`` holding ``role``; one user per pair."""
        return Principal(
            user_id=self.users[(org, role)],
            organisation_id=org,
            organisation_kind=_KIND_OF_ROLE[role],
            roles=frozenset({role}),
            auth_method="password+totp",
            mfa=True,
        )

    def open_engagement(
        self,
        practice: str,
        vendor: str,
        *,
        baa_expires: date | None = None,
        approved_at: datetime | None = None,
    ) -> str:
        """An engagement with a signed BAA and an approved assessment, through the gate."""
        now = self.clock.now()
        with self.sessions.begin() as session:
            engagement = Engagement(
                practice_id=practice,
                billing_company_id=vendor,
                status=EngagementStatus.ASSESSING.value,
                created_at=now - timedelta(days=40),
            )
            session.add(engagement)
            session.flush()
            session.add(
                Assessment(
                    engagement_id=engagement.id,
                    questionnaire_version=latest().version,
                    status=AssessmentStatus.APPROVED.value,
                    created_at=now - timedelta(days=35),
                    submitted_at=now - timedelta(days=33),
                    decided_at=approved_at or now - timedelta(days=31),
                    rating="low",
                )
            )
            session.add(
                BusinessAssociateAgreement(
                    engagement_id=engagement.id,
                    version="2026-1",
                    practice_signatory="Dana Whitfield, Practice Administrator",
                    vendor_signatory="Sam Ortega, Chief Executive",
                    signed_on=(now - timedelta(days=30)).date(),
                    effective_on=(now - timedelta(days=30)).date(),
                    expires_on=baa_expires,
                    breach_notice_days=30,
                    subcontractor_flow_down=True,
                    on_termination="return_or_destroy",
                    blob_key="0" * 64,
                    sha256="0" * 64,
                    size=0,
                    media_type="application/pdf",
                    signed_at=now - timedelta(days=30),
                )
            )
            engagement.baa_signed_at = now - timedelta(days=30)
            refresh(session, engagement, now=now)
            return engagement.id


@contextmanager
def own_database(request: pytest.FixtureRequest, folder: Path) -> Iterator[Engine]:
    """A new migrated database of the backend ``request.param`` names, for one module.

    For a module-scoped ``engine`` in place of the run's shared one, where a
    test's work reaches every row of a table (the watcher sweeps every
    engagement): on the shared database, that is every row the run's earlier
    tests left, and the work grows with the run.
    """
    engine = make_engine(empty_database_url(str(request.param), folder, request))
    try:
        migrate.upgrade(engine)
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def vendor_world(engine: Engine, tmp_path: Path) -> Iterator[VendorWorld]:
    with open_vendor_world(engine, tmp_path) as world:
        yield world


@contextmanager
def open_vendor_world(engine: Engine, folder: Path) -> Iterator[VendorWorld]:
    """A new world on ``engine``, its root key and blobs in ``folder``.

    ``vendor_world`` gives each test one; a module whose tests only read what
    one world holds may share one (``scope="module"``) and build it once.
    """
    clock = FixedClock(NOW)
    provider = LocalKeyProvider.create(
        folder / "root.key", "correct horse battery staple", scrypt_n=MIN_SCRYPT_N
    )
    keyring = Keyring(provider, clock=clock)
    sessions = sessionmaker(engine, expire_on_commit=False)
    tag = secrets.token_hex(3)
    users: dict[tuple[str, Role], str] = {}
    with sessions.begin() as session:
        orgs = {
            name: Organisation(name=f"{name} {tag}", kind=kind.value, created_at=NOW)
            for name, kind in (
                ("riverside", OrgKind.PRACTICE),
                ("lakeside", OrgKind.PRACTICE),
                ("summit", OrgKind.BILLING_COMPANY),
                ("northwind", OrgKind.BILLING_COMPANY),
            )
        }
        session.add_all(orgs.values())
        session.flush()
        for name, org in orgs.items():
            keyring.ensure_tenant(session, org.id)
            for role, kind in _KIND_OF_ROLE.items():
                if kind.value != org.kind:
                    continue
                user = User(
                    organisation_id=org.id,
                    email=f"{role.value}.{tag}@{name}.example",
                    display_name=f"{role.value} of {name}",
                    created_at=NOW,
                )
                session.add(user)
                session.flush()
                session.add(UserRole(user_id=user.id, role=role.value))
                users[(org.id, role)] = user.id
        ids = {name: org.id for name, org in orgs.items()}
    blobs = folder / "blobs"
    try:
        yield VendorWorld(
            sessions=sessions,
            keyring=keyring,
            files=SealedFiles(BlobStore(blobs), keyring),
            clock=clock,
            blobs=blobs,
            users=users,
            **ids,
        )
    finally:
        keyring.close()
