"""A practice's PHI in the clear, all of it, for the practice itself; and proof it is gone.

``PracticeRecords`` reads every record the server keeps for one practice
(patients, coverages, encounters, claims, service lines, findings with
their decisions, batches and their stored files), a chunk of rows at a
time, so memory stays flat for a practice of any size. It is how a
return package is made (``vendors/returns.py``): the caller authorises
and audits the export (an engagement's end is the practice admin's act,
``vendors:package:exported``); this module only unseals.

``probe`` is the other direction: after a practice's keys are shredded,
it tries to unseal a sample of its sealed fields and stored files and
reports, for each, whether decryption failed, as the evidence a
certificate of destruction carries. It never returns a plaintext value:
a probe that decrypts says only ``decrypted``.

Rows come out in id order (random UUIDs), the way keyset pagination reads
them; values are JSON-ready (dates and instants as ISO 8601 text, units as
decimal text, amounts in integer cents).
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from typing import Any, BinaryIO, cast

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from claimbridge.crypto.errors import DecryptionFailed
from claimbridge.crypto.files import SealedFiles
from claimbridge.crypto.keyring import Keyring
from claimbridge.crypto.sealing import FieldSealer
from claimbridge.errors import ClaimbridgeError
from claimbridge.phi.records import (
    read_coverage,
    read_encounter,
    read_patient,
    read_patient_account,
)
from claimbridge.storage.base import Base
from claimbridge.storage.batches import Batch
from claimbridge.storage.claims import Claim, ServiceLine
from claimbridge.storage.clinical import Coverage, Encounter, Patient
from claimbridge.storage.integrity import FindingRow

__all__ = ["TABLES", "PracticeRecords", "Probe", "ProbeOutcome", "probe"]

TABLES = (
    "patients",
    "coverages",
    "encounters",
    "claims",
    "service_lines",
    "findings",
    "batches",
)
"""The tables that hold a practice's PHI (or point at its stored files), in export order."""

_MODELS: dict[str, type[Base]] = {
    "patients": Patient,
    "coverages": Coverage,
    "encounters": Encounter,
    "claims": Claim,
    "service_lines": ServiceLine,
    "findings": FindingRow,
    "batches": Batch,
}
CHUNK = 500


class PracticeRecords:
    """Every record of one practice, unsealed, read a chunk at a time."""

    def __init__(
        self,
        session: Session,
        keyring: Keyring,
        files: SealedFiles,
        practice_id: str,
        *,
        chunk: int = CHUNK,
    ) -> None:
        self.session = session
        self.files = files
        self.keyring = keyring
        self.practice_id = practice_id
        self.chunk = chunk
        self._sealer = FieldSealer(keyring, session, practice_id)

    def counts(self) -> dict[str, int]:
        """Rows per table (``TABLES``) the practice has now."""
        return {name: self._count(model) for name, model in _MODELS.items()}

    def _count(self, model: type[Any]) -> int:
        query = select(func.count()).select_from(model).where(model.practice_id == self.practice_id)
        return int(self.session.scalar(query) or 0)

    def file_bytes(self) -> int:
        """The size of every stored batch file of the practice, for a progress bar."""
        query = select(func.coalesce(func.sum(Batch.size_bytes), 0)).where(
            Batch.practice_id == self.practice_id, Batch.blob_key.is_not(None)
        )
        return int(self.session.scalar(query) or 0)

    def rows(self, table: str) -> Iterator[dict[str, Any]]:
        """The records of ``table`` (one of ``TABLES``) in the clear, in id order."""
        shape = getattr(self, f"_{table}")
        for chunk in self._chunks(_MODELS[table]):
            for row in chunk:
                yield shape(row)

    def _chunks(self, model: type[Any]) -> Iterator[list[Any]]:
        # Keyset pagination by id, and the identity map emptied between
        # chunks: a practice of a million claims reads like one of ten.
        last = ""
        while True:
            rows = list(
                self.session.scalars(
                    select(model)
                    .where(model.practice_id == self.practice_id, model.id > last)
                    .order_by(model.id)
                    .limit(self.chunk)
                )
            )
            if not rows:
                return
            yield rows
            last = rows[-1].id
            self.session.expunge_all()

    def content(self, blob_key: str) -> AbstractContextManager[BinaryIO]:
        """The plaintext of one of the practice's stored files, as a stream to pull from."""
        key = self.keyring.key_for(self.session, self.practice_id)(self.files.data_key_id(blob_key))
        return self.files.reader(self.practice_id, blob_key, key)  # type: ignore[return-value]

    # -- one record each ---------------------------------------------------------------

    def _patients(self, row: Patient) -> dict[str, Any]:
        record = read_patient(self._sealer, row)
        address = record.address
        return {
            "id": row.id,
            "mrn": record.mrn,
            "given_name": record.given_name,
            "family_name": record.family_name,
            "birth_date": _text(record.birth_date),
            "sex": record.sex,
            "address": (
                {
                    "line": address.line,
                    "city": address.city,
                    "state": address.state,
                    "postal_code": address.postal_code,
                }
                if address
                else None
            ),
            "phone": record.phone,
            "ssn": record.ssn,
            "deceased_on": _text(record.deceased_on),
            "created_at": _text(row.created_at),
        }

    def _coverages(self, row: Coverage) -> dict[str, Any]:
        record = read_coverage(self._sealer, row)
        return {
            "id": row.id,
            "patient_id": row.patient_id,
            "payer_name": record.payer_name,
            "payer_id": record.payer_id,
            "priority": record.priority,
            "relationship": record.relationship,
            "member_id": record.member_id,
            "group_number": record.group_number,
            "effective_from": _text(record.effective_from),
            "effective_through": _text(record.effective_through),
            "created_at": _text(row.created_at),
        }

    def _encounters(self, row: Encounter) -> dict[str, Any]:
        record = read_encounter(self._sealer, row)
        return {
            "id": row.id,
            "patient_id": row.patient_id,
            "rendering_npi": record.rendering_npi,
            "date_of_service": _text(record.date_of_service),
            "place_of_service": record.place_of_service,
            "documentation": record.documentation,
            "source": record.source,
            "attested_at": _text(row.attested_at),
            "created_at": _text(row.created_at),
        }

    def _claims(self, row: Claim) -> dict[str, Any]:
        return {
            "id": row.id,
            "patient_id": row.patient_id,
            "coverage_id": row.coverage_id,
            "encounter_id": row.encounter_id,
            "batch_id": row.batch_id,
            "patient_account": read_patient_account(self._sealer, row),
            "billing_npi": row.billing_npi,
            "rendering_npi": row.rendering_npi,
            "rendering_family": row.rendering_family,
            "rendering_given": row.rendering_given,
            "referring_npi": row.referring_npi,
            "taxonomy": row.taxonomy,
            "place_of_service": row.place_of_service,
            "frequency_code": row.frequency_code,
            "diagnoses": list(row.diagnoses),
            "total_charge_cents": row.total_charge_cents,
            "service_from": _text(row.service_from),
            "service_through": _text(row.service_through),
            "status": row.status,
            "received_at": _text(row.received_at),
            "submitted_at": _text(row.submitted_at),
            "created_at": _text(row.created_at),
        }

    def _service_lines(self, row: ServiceLine) -> dict[str, Any]:
        return {
            "id": row.id,
            "claim_id": row.claim_id,
            "line_number": row.line_number,
            "procedure_code": row.procedure_code,
            "modifiers": list(row.modifiers),
            "units": str(row.units),
            "charge_cents": row.charge_cents,
            "service_date": _text(row.service_date),
            "diagnosis_pointers": list(row.diagnosis_pointers),
            "ndc": row.ndc,
            "place_of_service": row.place_of_service,
        }

    def _findings(self, row: FindingRow) -> dict[str, Any]:
        return {
            "id": row.id,
            "batch_id": row.batch_id,
            "claim_id": row.claim_id,
            "line_number": row.line_number,
            "provider_npi": row.provider_npi,
            "rule": row.rule,
            "severity": row.severity,
            "codes": list(row.codes),
            "message": row.message,
            "remedy": row.remedy,
            "facts": dict(row.facts),
            "status": row.status,
            "reason": self._sealer.unseal("findings", "reason", row.id, row.reason),
            "decided_by": row.decided_by,
            "decided_at": _text(row.decided_at),
            "created_at": _text(row.created_at),
        }

    def _batches(self, row: Batch) -> dict[str, Any]:
        return {
            "id": row.id,
            "direction": row.direction,
            "format": row.format,
            "status": row.status,
            "recipient_id": row.recipient_id,
            "sender_user_id": row.sender_user_id,
            "in_reply_to": row.in_reply_to,
            "content_sha256": row.content_sha256,
            "size_bytes": row.size_bytes,
            "received_at": _text(row.received_at),
            "accepted_count": row.accepted_count,
            "rejected_count": row.rejected_count,
            "interchange_control": row.interchange_control,
            "manifest_id": row.manifest_id,
            "manifest": _json_or_none(row.manifest),
            "receipt": _json_or_none(row.receipt),
            "blob_key": row.blob_key,
        }


# -- probing after a shred -----------------------------------------------------------------


class ProbeOutcome(enum.StrEnum):
    DECRYPTION_FAILED = "decryption_failed"
    """What a shred must leave: the key is gone, the ciphertext is noise."""
    DECRYPTED = "decrypted"
    """The value still opens: the shred did not take."""
    MISSING = "missing"
    """A stored file no longer in the blob store (nothing to decrypt)."""


@dataclass(frozen=True, slots=True)
class Probe:
    """One attempt to decrypt one sealed value or stored file; ids only, never content."""

    kind: str  # "field", "file" or "index_key"
    table: str
    column: str
    row_id: str
    outcome: ProbeOutcome

    def to_json(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "table": self.table,
            "column": self.column,
            "row_id": self.row_id,
            "outcome": self.outcome.value,
        }


_FIELD_SAMPLES: tuple[tuple[type[Any], str, tuple[str, ...]], ...] = (
    (Patient, "patients", ("given_name", "family_name", "birth_date", "ssn")),
    (Coverage, "coverages", ("member_id",)),
    (Encounter, "encounters", ("documentation",)),
    (Claim, "claims", ("patient_account",)),
    (FindingRow, "findings", ("reason",)),
)


def probe(
    session: Session,
    keyring: Keyring,
    files: SealedFiles,
    practice_id: str,
    *,
    samples: int = 3,
) -> list[Probe]:
    """Try to decrypt ``samples`` rows of each sealed table, stored files and the index key."""
    sealer = FieldSealer(keyring, session, practice_id)
    found: list[Probe] = []
    for model, table, columns in _FIELD_SAMPLES:
        for row in _sample(session, model, practice_id, columns, samples):
            for column in columns:
                blob = getattr(row, column)
                if blob is not None:
                    unseal = partial(sealer.unseal, table, column, row.id, blob)
                    found.append(Probe("field", table, column, row.id, _attempt(unseal)))
    batches = session.scalars(
        select(Batch)
        .where(Batch.practice_id == practice_id, Batch.blob_key.is_not(None))
        .order_by(Batch.id)
        .limit(samples)
    ).all()
    sink = cast(BinaryIO, _Discard())
    for batch in batches:
        read = partial(files.read_into, session, practice_id, batch.blob_key or "", sink)
        found.append(Probe("file", "batches", "blob_key", batch.id, _attempt(read)))
    index_key = partial(keyring.index_key, session, practice_id)
    found.append(Probe("index_key", "data_keys", "wrapped", practice_id, _attempt(index_key)))
    return found


def _sample(
    session: Session, model: type[Any], practice_id: str, columns: tuple[str, ...], limit: int
) -> list[Any]:
    present = [getattr(model, column).is_not(None) for column in columns[:1]]
    return list(
        session.scalars(
            select(model)
            .where(model.practice_id == practice_id, *present)
            .order_by(model.id)
            .limit(limit)
        )
    )


def _attempt(decrypt: Callable[[], object]) -> ProbeOutcome:
    try:
        decrypt()
    except DecryptionFailed:
        return ProbeOutcome.DECRYPTION_FAILED
    except ClaimbridgeError:
        # The blob store has no such file (``NotFound``) or refuses its name.
        return ProbeOutcome.MISSING
    return ProbeOutcome.DECRYPTED


class _Discard:
    """A sink for a probe's plaintext, should a file still decrypt: it is never kept."""

    def write(self, data: bytes) -> int:
        return len(data)


def _text(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _json_or_none(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text
