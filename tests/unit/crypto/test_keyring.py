"""The key hierarchy on both databases and both key providers: tenants, data keys,
rotation, shredding."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from claimbridge.clock import FixedClock
from claimbridge.crypto.envelope import FieldContext, seal, unseal
from claimbridge.crypto.errors import DecryptionFailed
from claimbridge.crypto.keyring import Keyring
from claimbridge.crypto.providers import KeyProvider
from claimbridge.crypto.providers.local import MIN_SCRYPT_N, LocalKeyProvider
from claimbridge.errors import Conflict, NotFound
from claimbridge.storage.keys import DataKeyRow, TenantKek
from claimbridge.storage.orgs import Organisation

NOW = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)


@pytest.fixture
def provider(key_provider: KeyProvider) -> KeyProvider:
    return key_provider


def _tenant(session: Session, keyring: Keyring, name: str) -> str:
    org = Organisation(name=name, kind="practice", created_at=NOW)
    session.add(org)
    session.flush()
    keyring.ensure_tenant(session, org.id)
    return org.id


def _context(tenant: str, row: str = "row-1") -> FieldContext:
    return FieldContext(tenant=tenant, table="patients", column="family_name", row_id=row)


def _seal(
    session: Session, keyring: Keyring, tenant: str, value: bytes, row: str = "row-1"
) -> bytes:
    return seal(value, key=keyring.field_key(session, tenant), context=_context(tenant, row))


def _open(
    session: Session, keyring: Keyring, tenant: str, blob: bytes, row: str = "row-1"
) -> bytes:
    return unseal(blob, key_for=keyring.key_for(session, tenant), context=_context(tenant, row))


def test_ensure_tenant_is_idempotent(session: Session, keyring: Keyring) -> None:
    tenant = _tenant(session, keyring, "A")
    keyring.ensure_tenant(session, tenant)
    keks = session.scalars(select(TenantKek).where(TenantKek.organisation_id == tenant)).all()
    assert [(k.version, k.state) for k in keks] == [(1, "active")]


def test_sealed_values_open_with_a_fresh_keyring(
    session: Session, keyring: Keyring, provider: KeyProvider
) -> None:
    tenant = _tenant(session, keyring, "A")
    blob = _seal(session, keyring, tenant, b"Okafor")
    fresh = Keyring(provider, clock=FixedClock(NOW))
    assert _open(session, fresh, tenant, blob) == b"Okafor"


def test_a_tenant_cannot_open_another_tenants_ciphertext(
    session: Session, keyring: Keyring
) -> None:
    a, b = _tenant(session, keyring, "A"), _tenant(session, keyring, "B")
    blob = _seal(session, keyring, a, b"Okafor")
    with pytest.raises(DecryptionFailed):
        unseal(blob, key_for=keyring.key_for(session, b), context=_context(a))


def test_index_keys_differ_per_tenant_and_stay_the_same(
    session: Session, keyring: Keyring, provider: KeyProvider
) -> None:
    a, b = _tenant(session, keyring, "A"), _tenant(session, keyring, "B")
    assert keyring.index_key(session, a) != keyring.index_key(session, b)
    assert Keyring(provider, clock=FixedClock(NOW)).index_key(session, a) == keyring.index_key(
        session, a
    )


def test_a_data_key_from_a_rolled_back_transaction_is_never_reused(
    session: Session, keyring: Keyring
) -> None:
    tenant = _tenant(session, keyring, "A")
    session.commit()
    nested = session.begin_nested()
    first = keyring.field_key(session, tenant)
    nested.rollback()
    assert session.get(DataKeyRow, first.key_id.hex()) is None
    second = keyring.field_key(session, tenant)
    assert second.key_id != first.key_id


def test_rotation_then_rewrap_keeps_everything_readable_and_retires_the_old_kek(
    session: Session, keyring: Keyring, provider: KeyProvider
) -> None:
    tenant = _tenant(session, keyring, "A")
    before = _seal(session, keyring, tenant, b"before rotation", "r1")
    assert keyring.rotate(session, tenant) == 2
    after = _seal(session, keyring, tenant, b"after rotation", "r2")
    assert _open(session, keyring, tenant, before, "r1") == b"before rotation"
    while keyring.rewrap_some(session, tenant, limit=1):
        pass
    states = dict(
        session.execute(
            select(TenantKek.version, TenantKek.state).where(TenantKek.organisation_id == tenant)
        ).all()
    )
    assert states == {1: "retired", 2: "active"}
    fresh = Keyring(provider, clock=FixedClock(NOW))
    assert _open(session, fresh, tenant, before, "r1") == b"before rotation"
    assert _open(session, fresh, tenant, after, "r2") == b"after rotation"


def test_shredding_one_tenant_leaves_the_others_readable(
    session: Session, keyring: Keyring, provider: KeyProvider
) -> None:
    a, b = _tenant(session, keyring, "A"), _tenant(session, keyring, "B")
    blob_a = _seal(session, keyring, a, b"patient of A")
    blob_b = _seal(session, keyring, b, b"patient of B")
    assert keyring.shred(session, a) == 1
    for ring in (keyring, Keyring(provider, clock=FixedClock(NOW))):
        with pytest.raises(DecryptionFailed):
            _open(session, ring, a, blob_a)
        assert _open(session, ring, b, blob_b) == b"patient of B"
    with pytest.raises(NotFound):
        keyring.field_key(session, a)
    with pytest.raises(Conflict):
        keyring.rotate(session, a)


def test_status_names_versions_but_holds_no_key_material(
    session: Session, keyring: Keyring
) -> None:
    tenant = _tenant(session, keyring, "A")
    _seal(session, keyring, tenant, b"x")
    mine = [s for s in keyring.status(session) if s.organisation_id == tenant]
    assert [(s.version, s.state, s.data_keys) for s in mine] == [(1, "active", 2)]
    assert mine[0].provider_id == keyring.providers.primary.provider_id
    assert not any(isinstance(getattr(mine[0], f), bytes) for f in mine[0].__slots__)


def test_root_key_from_another_file_cannot_unwrap(
    session: Session, keyring: Keyring, tmp_path: Path
) -> None:
    tenant = _tenant(session, keyring, "A")
    blob = _seal(session, keyring, tenant, b"x")
    other = LocalKeyProvider.create(
        tmp_path / "other.key", "another passphrase!", scrypt_n=MIN_SCRYPT_N
    )
    with pytest.raises(DecryptionFailed):
        _open(session, Keyring(other, clock=FixedClock(NOW)), tenant, blob)
