"""The key hierarchy: root key → tenant KEK versions → data keys.

::

    KeyProvider (root key; never leaves the provider)
      └─ wraps tenant_keks.wrapped      one row per tenant and version
           └─ wraps data_keys.wrapped   field keys, blob keys, the index key
                └─ seals PHI columns and stored files

Each process seals with data keys of its own: the first write for a tenant
creates one, in the writer's own transaction, so the key row commits or
rolls back with the data it sealed, and its use counter (the nonce budget
of ``envelope.DataKey``) never needs to be shared between processes.

Every tenant also has one blind-index key, created with its first KEK and
never replaced (replacing it would orphan every stored index). Its id is
derived from the tenant id, so two processes racing to create it collide
on the primary key instead of making two.

Unwrapped keys are cached in memory for ``cache_seconds`` (default 30), so
a KEK shredded or retired by another process stops working there within
that time; in the process that shredded it, at once.
"""

from __future__ import annotations

import hashlib
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from claimbridge.clock import Clock
from claimbridge.crypto import _primitives
from claimbridge.crypto.envelope import KEY_ID_SIZE, SECRET_SIZE, DataKey
from claimbridge.crypto.errors import DecryptionFailed, KeyExhausted
from claimbridge.crypto.providers import KeyProvider
from claimbridge.errors import Conflict, NotFound
from claimbridge.storage.keys import DataKeyPurpose, DataKeyRow, KekState, TenantKek

_NONCE = _primitives.GCM_NONCE_SIZE
_U32 = struct.Struct(">I")

# IMPORTANT: the wrapping contexts are bound into every wrapped key as
# associated data; changing them makes every stored key unwrappable.
_KEK_CONTEXT = b"claimbridge/kek/v1\x00"
_DATA_KEY_CONTEXT = b"claimbridge/data-key/v1\x00"
_INDEX_KEY_ID = b"claimbridge/index-key-id/v1\x00"


def _kek_context(tenant: str, version: int) -> bytes:
    return _KEK_CONTEXT + tenant.encode() + b"\x00" + _U32.pack(version)


def _data_key_context(tenant: str, key_id: bytes, purpose: str) -> bytes:
    return _DATA_KEY_CONTEXT + tenant.encode() + b"\x00" + key_id + purpose.encode()


def index_key_id(tenant: str) -> bytes:
    return hashlib.sha256(_INDEX_KEY_ID + tenant.encode()).digest()[:KEY_ID_SIZE]


def _wrap(kek: _primitives.AEAD, secret: bytes, context: bytes) -> bytes:
    nonce = _primitives.random_bytes(_NONCE)
    return nonce + kek.encrypt(nonce, secret, context)


def _unwrap(kek: _primitives.AEAD, wrapped: bytes, context: bytes) -> bytes:
    if len(wrapped) != _NONCE + SECRET_SIZE + _primitives.GCM_TAG_SIZE:
        raise DecryptionFailed(detail="wrapped data key has the wrong length")
    return kek.decrypt(wrapped[:_NONCE], wrapped[_NONCE:], context)


class ProviderSet:
    """The root keys a keyring can use: one to wrap with, others still to unwrap with.

    During a root-key rotation, KEKs are re-wrapped from the old root to the
    new one; until that finishes both must be at hand. ``reload`` lets a
    long-running process pick up a rotation another process started: on a
    KEK wrapped by a provider it does not know, it reloads once and looks
    again.
    """

    def __init__(
        self,
        primary: KeyProvider,
        *others: KeyProvider,
        reload: Callable[[], ProviderSet] | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._reload = reload
        self._set(primary, others)

    def _set(self, primary: KeyProvider, others: tuple[KeyProvider, ...]) -> None:
        self.primary = primary
        self._by_id = {p.provider_id: p for p in (*others, primary)}

    def get(self, provider_id: str) -> KeyProvider:
        with self._lock:
            found = self._by_id.get(provider_id)
            if found is None and self._reload is not None:
                fresh = self._reload()
                self._set(fresh.primary, tuple(fresh._by_id.values()))
                found = self._by_id.get(provider_id)
        if found is None:
            raise DecryptionFailed(detail=f"no root key {provider_id} available")
        return found

    @property
    def provider_ids(self) -> tuple[str, ...]:
        return tuple(self._by_id)

    def close(self) -> None:
        """Release what the providers hold (an HSM session and login)."""
        for provider in self._by_id.values():
            close = getattr(provider, "close", None)
            if callable(close):
                close()


@dataclass(frozen=True, slots=True)
class KekStatus:
    """What ``keys status`` shows: names and ages, never key material."""

    organisation_id: str
    version: int
    state: str
    provider_id: str
    created_at: datetime
    retired_at: datetime | None
    data_keys: int


class _Cache:
    """Unwrapped keys with an expiry, shared by the threads of one process."""

    def __init__(self, clock: Clock, ttl: timedelta) -> None:
        self._clock = clock
        self._ttl = ttl
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, ...], tuple[datetime, object]] = {}

    def get(self, key: tuple[str, ...]) -> object | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] <= self._clock.now():
                del self._entries[key]
                return None
            return entry[1]

    def put(self, key: tuple[str, ...], value: object) -> None:
        with self._lock:
            self._entries[key] = (self._clock.now() + self._ttl, value)

    def drop_tenant(self, tenant: str) -> None:
        with self._lock:
            for key in [k for k in self._entries if k[1] == tenant]:
                del self._entries[key]


class Keyring:
    def __init__(
        self, providers: KeyProvider | ProviderSet, *, clock: Clock, cache_seconds: float = 30
    ) -> None:
        self.providers = providers if isinstance(providers, ProviderSet) else ProviderSet(providers)
        self._clock = clock
        self._cache = _Cache(clock, timedelta(seconds=cache_seconds))
        self._writing: dict[tuple[str, str], DataKey] = {}
        self._writing_lock = threading.Lock()

    def close(self) -> None:
        self.providers.close()

    def __enter__(self) -> Keyring:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- tenants ---------------------------------------------------------

    def ensure_tenant(self, session: Session, tenant: str) -> None:
        """Give ``tenant`` its first KEK and its index key, if it has none."""
        if self._newest_kek(session, tenant) is not None:
            return
        kek_secret = _primitives.random_bytes(SECRET_SIZE)
        try:
            with session.begin_nested():
                session.add(self._kek_row(tenant, 1, kek_secret))
                index_secret = _primitives.random_bytes(SECRET_SIZE)
                key_id = index_key_id(tenant)
                session.add(
                    DataKeyRow(
                        key_id=key_id.hex(),
                        organisation_id=tenant,
                        purpose=DataKeyPurpose.INDEX.value,
                        kek_version=1,
                        wrapped=_wrap(
                            _primitives.AEAD(kek_secret),
                            index_secret,
                            _data_key_context(tenant, key_id, DataKeyPurpose.INDEX.value),
                        ),
                        created_at=self._clock.now(),
                    )
                )
        except IntegrityError:
            # Another process created them first; theirs stand.
            return

    def _kek_row(self, tenant: str, version: int, secret: bytes) -> TenantKek:
        return TenantKek(
            organisation_id=tenant,
            version=version,
            wrapped=self.providers.primary.wrap(secret, context=_kek_context(tenant, version)),
            provider_id=self.providers.primary.provider_id,
            state=KekState.ACTIVE.value,
            created_at=self._clock.now(),
        )

    def _newest_kek(self, session: Session, tenant: str) -> TenantKek | None:
        return session.scalars(
            select(TenantKek)
            .where(TenantKek.organisation_id == tenant)
            .order_by(TenantKek.version.desc())
            .limit(1)
        ).first()

    def _kek(self, session: Session, tenant: str, version: int) -> _primitives.AEAD:
        cached = self._cache.get(("kek", tenant, str(version)))
        if isinstance(cached, _primitives.AEAD):
            return cached
        row = session.scalars(
            select(TenantKek).where(
                TenantKek.organisation_id == tenant, TenantKek.version == version
            )
        ).first()
        if row is None or row.wrapped is None:
            # Shredded, retired or never made: indistinguishable on purpose.
            raise DecryptionFailed(detail=f"no live KEK v{version} for tenant")
        provider = self.providers.get(row.provider_id)
        aead = _primitives.AEAD(provider.unwrap(row.wrapped, context=_kek_context(tenant, version)))
        self._cache.put(("kek", tenant, str(version)), aead)
        return aead

    # -- data keys -------------------------------------------------------

    def field_key(self, session: Session, tenant: str) -> DataKey:
        """This process's data key for sealing ``tenant``'s fields."""
        return self._writing_key(session, tenant, DataKeyPurpose.FIELD)

    def blob_key(self, session: Session, tenant: str) -> DataKey:
        """This process's data key for ``tenant``'s stored files."""
        return self._writing_key(session, tenant, DataKeyPurpose.BLOB)

    def _writing_key(self, session: Session, tenant: str, purpose: DataKeyPurpose) -> DataKey:
        slot = (tenant, purpose.value)
        with self._writing_lock:
            key = self._writing.get(slot)
        usable = key is not None and key.encryptions < key.encryption_limit
        if usable and key is not None and self._still_committed(session, tenant, key):
            return key
        return self._new_data_key(session, tenant, purpose)

    def _still_committed(self, session: Session, tenant: str, key: DataKey) -> bool:
        # A key made in a transaction that rolled back must not seal again:
        # its row is gone, so nothing it sealed could ever be read. The look-up
        # is answered from the session's identity map after the first time.
        return session.get(DataKeyRow, key.key_id.hex()) is not None

    def _active_kek_locked(self, session: Session, tenant: str) -> TenantKek:
        """The active KEK, share-locked until this transaction ends.

        The lock makes a rotation or a shred wait for a data key being
        wrapped right now, so that key is committed (and then re-wrapped or
        shredded) before its KEK can be retired. If a rotation commits while
        we wait, the row we waited for is no longer active: look again.
        """
        for _ in range(3):
            row = session.scalars(
                select(TenantKek)
                .where(
                    TenantKek.organisation_id == tenant, TenantKek.state == KekState.ACTIVE.value
                )
                .with_for_update(read=True)
            ).first()
            if row is not None:
                return row
        raise NotFound(detail="tenant has no active KEK (never set up, or shredded)")

    def _new_data_key(self, session: Session, tenant: str, purpose: DataKeyPurpose) -> DataKey:
        newest = self._active_kek_locked(session, tenant)
        key = DataKey.generate(kek_version=newest.version)
        session.add(
            DataKeyRow(
                key_id=key.key_id.hex(),
                organisation_id=tenant,
                purpose=purpose.value,
                kek_version=newest.version,
                wrapped=_wrap(
                    self._kek(session, tenant, newest.version),
                    key.secret_bytes(),
                    _data_key_context(tenant, key.key_id, purpose.value),
                ),
                created_at=self._clock.now(),
            )
        )
        session.flush()
        with self._writing_lock:
            self._writing[(tenant, purpose.value)] = key
        return key

    def index_key(self, session: Session, tenant: str) -> bytes:
        """``tenant``'s blind-index key (the same for the tenant's whole life)."""
        return self._load(session, tenant, index_key_id(tenant)).secret_bytes()

    def key_for(self, session: Session, tenant: str) -> Callable[[bytes], DataKey]:
        """The look-up ``envelope.unseal`` needs, confined to ``tenant``'s keys."""
        return lambda key_id: self._load(session, tenant, key_id)

    def _load(self, session: Session, tenant: str, key_id: bytes) -> DataKey:
        cached = self._cache.get(("data", tenant, key_id.hex()))
        if isinstance(cached, DataKey):
            return cached
        with self._writing_lock:
            writing = next((k for k in self._writing.values() if k.key_id == key_id), None)
        row = session.get(DataKeyRow, key_id.hex())
        if row is None or row.organisation_id != tenant:
            raise DecryptionFailed(detail="unknown data key for tenant")
        if writing is not None:
            self._cache.put(("data", tenant, key_id.hex()), writing)
            return writing
        try:
            secret = self._unwrap_row(session, tenant, row)
        except DecryptionFailed:
            # A re-wrap may have moved this key to a newer KEK and retired the
            # old one between our two reads: read the row again, once.
            session.refresh(row)
            secret = self._unwrap_row(session, tenant, row)
        # Loaded for reading: it never seals again in this process.
        key = DataKey(key_id=key_id, secret=secret, kek_version=row.kek_version)
        self._cache.put(("data", tenant, key_id.hex()), key)
        return key

    def _unwrap_row(self, session: Session, tenant: str, row: DataKeyRow) -> bytes:
        key_id = bytes.fromhex(row.key_id)
        return _unwrap(
            self._kek(session, tenant, row.kek_version),
            row.wrapped,
            _data_key_context(tenant, key_id, row.purpose),
        )

    # -- rotation and shredding -------------------------------------------

    def rotate(self, session: Session, tenant: str) -> int:
        """Add a KEK version for new writes; older ones drain until re-wrapped."""
        newest = self._newest_kek(session, tenant)
        if newest is None or newest.state != KekState.ACTIVE.value:
            raise Conflict("This organisation has no active key to rotate.")
        version = newest.version + 1
        session.execute(
            update(TenantKek)
            .where(TenantKek.organisation_id == tenant, TenantKek.state == KekState.ACTIVE.value)
            .values(state=KekState.DRAINING.value)
        )
        session.add(self._kek_row(tenant, version, _primitives.random_bytes(SECRET_SIZE)))
        session.flush()
        with self._writing_lock:
            for slot in [s for s in self._writing if s[0] == tenant]:
                del self._writing[slot]
        return version

    def rewrap_some(self, session: Session, tenant: str, *, limit: int = 200) -> int:
        """Re-wrap up to ``limit`` data keys onto the newest KEK; 0 when done.

        Each call is one short transaction of the caller's, so a crash loses
        at most one batch of work, which the next call redoes: a data key is
        either still under its old KEK or already under the new one.
        """
        newest = self._newest_kek(session, tenant)
        if newest is None or newest.state != KekState.ACTIVE.value:
            raise Conflict("This organisation has no active key to re-wrap onto.")
        rows = session.scalars(
            select(DataKeyRow)
            .where(DataKeyRow.organisation_id == tenant, DataKeyRow.kek_version < newest.version)
            .limit(limit)
        ).all()
        target = self._kek(session, tenant, newest.version)
        for row in rows:
            key_id = bytes.fromhex(row.key_id)
            context = _data_key_context(tenant, key_id, row.purpose)
            secret = _unwrap(self._kek(session, tenant, row.kek_version), row.wrapped, context)
            row.wrapped = _wrap(target, secret, context)
            row.kek_version = newest.version
        if not rows:
            self._retire_drained(session, tenant, below=newest.version)
        session.flush()
        return len(rows)

    def _retire_drained(self, session: Session, tenant: str, *, below: int) -> None:
        session.execute(
            update(TenantKek)
            .where(
                TenantKek.organisation_id == tenant,
                TenantKek.version < below,
                TenantKek.state == KekState.DRAINING.value,
            )
            .values(state=KekState.RETIRED.value, wrapped=None, retired_at=self._clock.now())
        )
        self._cache.drop_tenant(tenant)

    def shred(self, session: Session, tenant: str) -> int:
        """Destroy every KEK of ``tenant``: all its data becomes unreadable. Returns versions."""
        rows = session.scalars(
            select(TenantKek).where(
                TenantKek.organisation_id == tenant, TenantKek.wrapped.is_not(None)
            )
        ).all()
        for row in rows:
            row.wrapped = None
            row.state = KekState.DESTROYED.value
            row.retired_at = self._clock.now()
        session.flush()
        self._cache.drop_tenant(tenant)
        with self._writing_lock:
            for slot in [s for s in self._writing if s[0] == tenant]:
                del self._writing[slot]
        return len(rows)

    def rewrap_keks_some(self, session: Session, *, limit: int = 100) -> int:
        """Re-wrap up to ``limit`` KEKs onto the primary root key; 0 when none are left.

        The second half of a root-key rotation. Each KEK is either still
        under the old root or already under the new one, so a crash between
        calls loses nothing and the next call carries on.
        """
        primary = self.providers.primary
        rows = session.scalars(
            select(TenantKek)
            .where(TenantKek.wrapped.is_not(None), TenantKek.provider_id != primary.provider_id)
            .limit(limit)
        ).all()
        for row in rows:
            if row.wrapped is None:  # pragma: no cover - excluded by the query
                continue
            context = _kek_context(row.organisation_id, row.version)
            secret = self.providers.get(row.provider_id).unwrap(row.wrapped, context=context)
            row.wrapped = primary.wrap(secret, context=context)
            row.provider_id = primary.provider_id
        session.flush()
        return len(rows)

    def status(self, session: Session) -> list[KekStatus]:
        counts = {
            (org, version): count
            for org, version, count in session.execute(
                select(DataKeyRow.organisation_id, DataKeyRow.kek_version, func.count()).group_by(
                    DataKeyRow.organisation_id, DataKeyRow.kek_version
                )
            )
        }
        rows = session.scalars(
            select(TenantKek).order_by(TenantKek.organisation_id, TenantKek.version)
        ).all()
        return [
            KekStatus(
                organisation_id=row.organisation_id,
                version=row.version,
                state=row.state,
                provider_id=row.provider_id,
                created_at=row.created_at,
                retired_at=row.retired_at,
                data_keys=counts.get((row.organisation_id, row.version), 0),
            )
            for row in rows
        ]


__all__ = ["KekStatus", "KeyExhausted", "Keyring", "ProviderSet", "index_key_id"]
