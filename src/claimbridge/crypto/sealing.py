"""Sealing and unsealing PHI columns for one tenant.

Every PHI column of every table goes through ``FieldSealer``: a value is
sealed under the tenant's field key and bound to (tenant, table, column,
row id), so a ciphertext moved anywhere else does not decrypt. Blind
indexes for exact-match look-ups use the tenant's index key, one purpose
per column, so equal values in two columns do not match.

Values are text; dates travel as ISO 8601 (``YYYY-MM-DD``).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from claimbridge.crypto.blind import blind_index, normalise_name
from claimbridge.crypto.envelope import DataKey, FieldContext, seal, unseal
from claimbridge.crypto.keyring import Keyring


class FieldSealer:
    def __init__(self, keyring: Keyring, session: Session, tenant: str) -> None:
        self._keyring = keyring
        self.session = session
        self.tenant = tenant
        self._key: DataKey | None = None
        self._index_key: bytes | None = None

    def seal(self, table: str, column: str, row_id: str, value: str | None) -> bytes | None:
        if value is None:
            return None
        if self._key is None or self._key.encryptions >= self._key.encryption_limit:
            self._key = self._keyring.field_key(self.session, self.tenant)
        context = FieldContext(tenant=self.tenant, table=table, column=column, row_id=row_id)
        return seal(value.encode("utf-8"), key=self._key, context=context)

    def seal_date(self, table: str, column: str, row_id: str, value: date | None) -> bytes | None:
        return self.seal(table, column, row_id, value.isoformat() if value else None)

    def unseal(self, table: str, column: str, row_id: str, blob: bytes | None) -> str | None:
        if blob is None:
            return None
        context = FieldContext(tenant=self.tenant, table=table, column=column, row_id=row_id)
        key_for = self._keyring.key_for(self.session, self.tenant)
        return unseal(blob, key_for=key_for, context=context).decode("utf-8")

    def unseal_date(self, table: str, column: str, row_id: str, blob: bytes | None) -> date | None:
        text = self.unseal(table, column, row_id, blob)
        return date.fromisoformat(text) if text else None

    def index(self, purpose: str, value: str | None) -> str | None:
        if value is None:
            return None
        if self._index_key is None:
            self._index_key = self._keyring.index_key(self.session, self.tenant)
        return blind_index(value, key=self._index_key, purpose=purpose)

    def name_dob_index(self, family_name: str, given_name: str, birth_date: date) -> str | None:
        value = f"{normalise_name(family_name)}\x00{normalise_name(given_name)}\x00{birth_date}"
        return self.index("patients.name_dob", value)
