"""A small exchange world for the ingest benchmark: one practice, one engaged billing company.

The shape of ``tests/functional/exchange/conftest.py``, built on a migrated
database of the caller's choosing: the practice and the billing company, an
active engagement between them (BAA signed, assessment valid), the
practice's Ed25519 signing key registered, a keyring over a
``LocalKeyProvider`` (scrypt at its minimum cost: the key file is a
throwaway), sealed files over a ``BlobStore`` and a server signing key.
``BatchService`` is then called directly, the way the API and CLI call it.

The clock is the system clock moved back to the day after the generated
files' date (``formats.x12.synthetic.CREATED_ON``): it still runs, since the
service refuses manifests more than a few minutes from its own "now" and a
run of 100,000 claims takes longer than a fixed clock would be honest
about; and the scrub sees the claims filed the day after their services,
as a practice's nightly export is, not two years late (every line past the
filing limit would make the benchmark measure findings, not ingest).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from claimbridge.access.principal import Principal
from claimbridge.audit.record import LOCAL_OPERATOR
from claimbridge.clock import SystemClock
from claimbridge.crypto.files import SealedFiles
from claimbridge.crypto.keyring import Keyring
from claimbridge.crypto.providers.local import MIN_SCRYPT_N, LocalKeyProvider
from claimbridge.crypto.signing import SigningKey
from claimbridge.exchange.batches import BatchService, Delivery
from claimbridge.exchange.manifest import make_manifest
from claimbridge.exchange.orgkeys import register_key
from claimbridge.formats.x12.synthetic import CREATED_ON
from claimbridge.storage.blobs import BlobStore
from claimbridge.storage.db import make_sessionmaker
from claimbridge.storage.orgs import Engagement, EngagementStatus, Organisation, OrgKind, Role

PASSPHRASE = "bench: a throwaway root key"  # noqa: S105 - synthetic, for a scratch key file


@dataclass
class ExchangeWorld:
    sessions: sessionmaker[Session]
    service: BatchService
    keyring: Keyring
    server_key: SigningKey
    practice: str
    billing_company: str
    practice_key: SigningKey

    def staff(self) -> Principal:
        """The practice's uploader, as an API token authenticates it."""
        return Principal(
            user_id=None,
            organisation_id=self.practice,
            organisation_kind=OrgKind.PRACTICE,
            roles=frozenset({Role.PRACTICE_STAFF}),
            auth_method="api-token",
            mfa=True,
        )

    def manifest(self, path: Path) -> str:
        """The practice's signed manifest for the 837P at ``path``, addressed to the company."""
        with path.open("rb") as stream:
            _, signed = make_manifest(
                stream,
                format="x12-837p",
                sender=self.practice,
                recipient=self.billing_company,
                key=self.practice_key,
                now=self.service.clock.now(),
            )
        return signed.dumps()

    def send(self, path: Path, manifest: str) -> Delivery:
        """Receive the file at ``path``, streamed from disk, under ``manifest``."""
        with path.open("rb") as content:
            return self.service.receive(self.staff(), manifest, content)

    def close(self) -> None:
        self.keyring.close()


class FiledNextDay:
    """The system clock, shifted to the day after the synthetic files were made."""

    def __init__(self) -> None:
        filed = datetime.combine(CREATED_ON + timedelta(days=1), time(9, 0), tzinfo=UTC)
        self._shift = SystemClock().now() - filed

    def now(self) -> datetime:
        return SystemClock().now() - self._shift


def build_world(engine: Engine, folder: Path, *, max_bytes: int) -> ExchangeWorld:
    """The world on ``engine`` (already migrated), its key file and blobs under ``folder``."""
    clock = FiledNextDay()
    now = clock.now()
    provider = LocalKeyProvider.create(folder / "root.key", PASSPHRASE, scrypt_n=MIN_SCRYPT_N)
    keyring = Keyring(provider, clock=clock)
    sessions = make_sessionmaker(engine)
    practice_key = SigningKey.generate()
    with sessions.begin() as session:
        practice = Organisation(name="Bench Practice", kind=OrgKind.PRACTICE.value, created_at=now)
        company = Organisation(
            name="Bench Billing", kind=OrgKind.BILLING_COMPANY.value, created_at=now
        )
        session.add_all([practice, company])
        session.flush()
        for org in (practice, company):
            keyring.ensure_tenant(session, org.id)
        session.add(_engagement(practice.id, company.id, now))
        register_key(
            session, practice.id, practice_key.public_key_bytes(), now=now, actor=LOCAL_OPERATOR
        )
        practice_id, company_id = practice.id, company.id
    server_key = SigningKey.generate()
    service = BatchService(
        sessions=sessions,
        keyring=keyring,
        files=SealedFiles(BlobStore(folder / "blobs"), keyring),
        server_key=server_key,
        clock=clock,
        max_bytes=max_bytes,
    )
    return ExchangeWorld(
        sessions=sessions,
        service=service,
        keyring=keyring,
        server_key=server_key,
        practice=practice_id,
        billing_company=company_id,
        practice_key=practice_key,
    )


def _engagement(practice: str, company: str, now: datetime) -> Engagement:
    return Engagement(
        practice_id=practice,
        billing_company_id=company,
        status=EngagementStatus.ACTIVE.value,
        baa_signed_at=now - timedelta(days=30),
        active_until=now + timedelta(days=300),
        created_at=now - timedelta(days=40),
    )
