"""A small exchange world, on SQLite and PostgreSQL: two practices, two billing companies.

Riverside is engaged with Summit (active, BAA signed, assessment valid);
Northwind Billing has no engagement. Riverside's signing key is registered;
Lakeside, another practice, has its own. Services are called directly,
the way the API and CLI call them.
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from claimbridge.access.principal import Principal
from claimbridge.audit.record import LOCAL_OPERATOR
from claimbridge.clock import FixedClock
from claimbridge.crypto.files import SealedFiles
from claimbridge.crypto.keyring import Keyring
from claimbridge.crypto.providers.local import MIN_SCRYPT_N, LocalKeyProvider
from claimbridge.crypto.signing import SigningKey
from claimbridge.exchange.batches import BatchService, Delivery
from claimbridge.exchange.manifest import make_manifest
from claimbridge.exchange.orgkeys import register_key
from claimbridge.storage.batches import Batch
from claimbridge.storage.blobs import BlobStore
from claimbridge.storage.claims import Claim
from claimbridge.storage.clinical import Patient
from claimbridge.storage.orgs import Engagement, EngagementStatus, Organisation, OrgKind, Role

NOW = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)
MAX_BYTES = 2 * 1024 * 1024


@dataclass
class ExchangeWorld:
    sessions: sessionmaker[Session]
    service: BatchService
    clock: FixedClock
    server_key: SigningKey
    blobs: Path
    riverside: str
    lakeside: str
    summit: str
    northwind: str
    keys: dict[str, SigningKey]

    def staff(self, org: str) -> Principal:
        return Principal(
            user_id=None,
            organisation_id=org,
            organisation_kind=OrgKind.PRACTICE,
            roles=frozenset({Role.PRACTICE_STAFF}),
            auth_method="api-token",
            mfa=True,
        )

    def biller(self) -> Principal:
        return Principal(
            user_id=None,
            organisation_id=self.summit,
            organisation_kind=OrgKind.BILLING_COMPANY,
            roles=frozenset({Role.BILLER}),
            auth_method="api-token",
            mfa=True,
        )

    def manifest(
        self,
        content: bytes,
        *,
        sender: str | None = None,
        key: SigningKey | None = None,
        recipient: str | None = "summit",
        format: str = "x12-837p",  # noqa: A002
        at: datetime | None = None,
    ) -> str:
        sender = sender or self.riverside
        to = {"summit": self.summit, "northwind": self.northwind, None: None}.get(
            recipient, recipient
        )
        _, signed = make_manifest(
            io.BytesIO(content),
            format=format,
            sender=sender,
            recipient=to,
            key=key or self.keys[sender],
            now=at or self.clock.now(),
        )
        return signed.dumps()

    def send(self, content: bytes, manifest: str | None = None, **kwargs: object) -> Delivery:
        principal = kwargs.pop("principal", None) or self.staff(self.riverside)
        manifest = manifest or self.manifest(content, **kwargs)  # type: ignore[arg-type]
        return self.service.receive(principal, manifest, io.BytesIO(content))  # type: ignore[arg-type]

    def count(self, model: type, **where: object) -> int:
        with self.sessions() as session:
            query = select(func.count()).select_from(model)
            for name, value in where.items():
                query = query.where(getattr(model, name) == value)
            return int(session.scalar(query) or 0)

    def blob_files(self) -> list[Path]:
        return sorted(p for p in self.blobs.rglob("*") if p.is_file())

    def claims_of(self, practice: str) -> int:
        return self.count(Claim, practice_id=practice)

    def patients_of(self, practice: str) -> int:
        return self.count(Patient, practice_id=practice)

    def batches_of(self, practice: str) -> int:
        """Batches the practice sent (not our 999s in reply)."""
        return self.count(Batch, practice_id=practice, direction="inbound")


@pytest.fixture
def exchange_world(engine: Engine, tmp_path: Path) -> Iterator[ExchangeWorld]:
    clock = FixedClock(NOW)
    provider = LocalKeyProvider.create(
        tmp_path / "root.key", "correct horse battery staple", scrypt_n=MIN_SCRYPT_N
    )
    keyring = Keyring(provider, clock=clock)
    sessions = sessionmaker(engine, expire_on_commit=False)
    tag = secrets.token_hex(3)
    keys: dict[str, SigningKey] = {}
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
        for org in orgs.values():
            keyring.ensure_tenant(session, org.id)
        session.add(
            Engagement(
                practice_id=orgs["riverside"].id,
                billing_company_id=orgs["summit"].id,
                status=EngagementStatus.ACTIVE.value,
                baa_signed_at=NOW - timedelta(days=30),
                active_until=NOW + timedelta(days=300),
                created_at=NOW - timedelta(days=40),
            )
        )
        for name in ("riverside", "lakeside"):
            key = SigningKey.generate()
            keys[orgs[name].id] = key
            register_key(
                session, orgs[name].id, key.public_key_bytes(), now=NOW, actor=LOCAL_OPERATOR
            )
        ids = {name: org.id for name, org in orgs.items()}
    server_key = SigningKey.generate()
    blobs = tmp_path / "blobs"
    service = BatchService(
        sessions=sessions,
        keyring=keyring,
        files=SealedFiles(BlobStore(blobs), keyring),
        server_key=server_key,
        clock=clock,
        max_bytes=MAX_BYTES,
    )
    yield ExchangeWorld(
        sessions=sessions,
        service=service,
        clock=clock,
        server_key=server_key,
        blobs=blobs,
        keys=keys,
        **ids,
    )
    keyring.close()


Sender = Callable[..., Delivery]
