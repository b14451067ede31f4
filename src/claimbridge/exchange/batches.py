"""Receiving a batch: verify, store encrypted, read, ingest atomically, sign a receipt.

The path of one batch, and why each step is where it is:

1. **Checks, one short transaction.** The manifest's fields, the sender
   (the caller's own organisation), the engagement gate for the named
   recipient, and the signature against the sender's registered keys.
   A batch already here (same manifest id, same content hash) is answered
   with its original receipt, marked duplicate, before anything else. The
   caller's right to upload for the practice is checked and audited (a
   refusal is committed). The practice's blob data key is fetched here and
   committed, so nothing below holds a database lock while bytes stream.
2. **Content, no transaction.** The bytes stream into an encrypted blob
   (never plaintext on disk, never whole in memory) while being hashed,
   counted against the size limit and the manifest's size, and their
   first bytes sniffed against the declared format. A mismatch deletes
   the blob and refuses the batch.
3. **Validation pass, no transaction.** The blob is decrypted as a stream
   and read through; problems are collected with their locations. The
   X12 interchange's control number is a third duplicate key.
4. **Ingest, one transaction.** The batch row, every claim (patients
   matched by blind index), the audit event and the signed receipt are
   written and committed together. A rejected batch commits its row and
   receipt only: nothing of its content is ingested. A crash anywhere
   before the commit leaves no row, and the orphan blob can never be read
   (nothing records it); the client's retry then starts afresh.

The receipt is returned only after that commit: a receipt in hand means the
batch is durable.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import json
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, BinaryIO

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from claimbridge.access.engagements import refusal
from claimbridge.access.principal import Principal
from claimbridge.audit.record import unit_of_work
from claimbridge.clock import Clock
from claimbridge.crypto.envelope import DataKey
from claimbridge.crypto.files import SealedFile, SealedFiles
from claimbridge.crypto.keyring import Keyring
from claimbridge.crypto.signing import SigningKey
from claimbridge.errors import NotFound, PayloadTooLarge
from claimbridge.exchange.documents import SignedDocument
from claimbridge.exchange.errors import ContentMismatch, ManifestInvalid, NoEngagement
from claimbridge.exchange.manifest import Manifest, read_manifest
from claimbridge.exchange.orgkeys import check_signed_by
from claimbridge.exchange.parsing import SNIFF_BYTES, ClaimSource, sniff
from claimbridge.exchange.receipts import (
    Problem,
    Receipt,
    problems_within,
    read_receipt,
    sign_receipt,
)
from claimbridge.integrity.service import DEFAULT_SCRUB, BatchScrub, ScrubSettings
from claimbridge.phi.intake import Intake
from claimbridge.storage.batches import Batch, BatchFormat, BatchStatus
from claimbridge.storage.claims import ClaimStatus
from claimbridge.storage.orgs import Organisation, OrgKind, Role, engaged_practices
from claimbridge.types import new_id

__all__ = [
    "DEFAULT_LEASE",
    "MAX_ATTEMPTS",
    "RETRY_AFTER",
    "BatchService",
    "Delivery",
    "worker_principal",
]

DEFAULT_LEASE = timedelta(seconds=60)
"""How long a worker holds a queued batch unless it renews the lease (it does, while
reading); a worker that dies leaves the batch to the next one after this."""
RETRY_AFTER = timedelta(seconds=30)
"""After a failed attempt, the batch waits this long before it is tried again."""
MAX_ATTEMPTS = 5
"""A queued batch whose reading fails (raises) this often is rejected, with the reason.
A worker killed mid-way has not failed: its attempt does not count."""
_RENEW_EVERY_CLAIMS = 1000
WORKER_AUTH = "exchange-worker"


@dataclass(frozen=True, slots=True)
class Delivery:
    """What the sender gets back: the signed receipt, and whether it is a resend's."""

    receipt: SignedDocument
    duplicate: bool

    @property
    def status(self) -> str:
        return str(self.receipt.document["status"])

    def to_json(self) -> dict[str, Any]:
        return {"duplicate": self.duplicate, "receipt": self.receipt.to_json()}


class _Intake:
    """A reader that hashes, counts, limits and keeps the head of what streams through."""

    def __init__(self, src: BinaryIO, *, limit: int, declared: int) -> None:
        self._src = src
        self._limit = limit
        self._declared = declared
        self.size = 0
        self.head = b""
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        chunk = self._src.read(size)
        self.size += len(chunk)
        if self.size > self._limit:
            raise PayloadTooLarge(
                f"The batch is larger than this server accepts ({self._limit} bytes).",
                where="content",
            )
        if self.size > self._declared:
            raise ContentMismatch(
                "The content is longer than the size its manifest signed for.", where="content"
            )
        if len(self.head) < SNIFF_BYTES:
            self.head += chunk[: SNIFF_BYTES - len(self.head)]
        self.digest.update(chunk)
        return chunk


class _Arrival:
    """One batch on its way in: what came with it, and what was made of it so far."""

    def __init__(
        self,
        principal: Principal,
        manifest: Manifest,
        signed: SignedDocument,
        batch_id: str,
        request_id: str | None,
    ) -> None:
        self.principal = principal
        self.manifest = manifest
        self.signed = signed
        self.batch_id = batch_id
        self.request_id = request_id
        self._key: DataKey | None = None
        self._stored: SealedFile | None = None

    @property
    def key(self) -> DataKey:
        assert self._key is not None  # noqa: S101 - set by the checks, before any use
        return self._key

    @key.setter
    def key(self, key: DataKey) -> None:
        self._key = key

    @property
    def stored(self) -> SealedFile:
        assert self._stored is not None  # noqa: S101 - set once the content is stored
        return self._stored

    @stored.setter
    def stored(self, stored: SealedFile) -> None:
        self._stored = stored


class BatchService:
    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        keyring: Keyring,
        files: SealedFiles,
        server_key: SigningKey,
        clock: Clock,
        max_bytes: int,
        lease: timedelta = DEFAULT_LEASE,
        scrubbing: ScrubSettings = DEFAULT_SCRUB,
    ) -> None:
        self.lease = lease
        self.scrubbing = scrubbing
        self.sessions = sessions
        self.keyring = keyring
        self.files = files
        self.server_key = server_key
        self.clock = clock
        self.max_bytes = max_bytes

    # -- receiving --------------------------------------------------------------------

    def receive(
        self,
        principal: Principal,
        manifest_raw: bytes | str,
        content: BinaryIO,
        *,
        request_id: str | None = None,
        queue_from: int | None = None,
    ) -> Delivery:
        """Take one batch in; its receipt once it is durable.

        A batch of ``queue_from`` bytes or more is only stored here, its row
        committed as ``received`` with a receipt saying ``processing``; a
        worker (``worker.py``) reads and ingests it and replaces the receipt
        with the final one. Smaller batches (and all, without ``queue_from``)
        are read and ingested before this returns.
        """
        manifest, signed = read_manifest(manifest_raw)
        arrival = _Arrival(principal, manifest, signed, new_id(), request_id)
        duplicate = unit_of_work(self.sessions, lambda session: self._check(session, arrival))
        if duplicate is not None:
            return duplicate
        self._store(arrival, content)
        try:
            if queue_from is not None and arrival.stored.size_bytes >= queue_from:
                return unit_of_work(self.sessions, lambda session: self._enqueue(session, arrival))
            source = self._read_through(arrival)
            return unit_of_work(
                self.sessions, lambda session: self._ingest(session, arrival, source)
            )
        except BaseException:
            with contextlib.suppress(OSError):
                self._drop_unless_recorded(arrival.stored.blob_key)
            raise

    # -- the queue ----------------------------------------------------------------------

    def _enqueue(self, session: Session, arrival: _Arrival) -> Delivery:
        existing = self._existing(session, arrival.manifest.sender, arrival.manifest)
        if existing is not None:
            self.files.store.delete(arrival.stored.blob_key)
            return self._duplicate(existing)
        now = self.clock.now()
        batch = self._new_row(arrival, now, interchange=None)
        receipt = sign_receipt(_receipt(arrival, None, 0, now), self.server_key)
        batch.receipt = json.dumps(receipt.to_json(), sort_keys=True)
        session.add(batch)
        self._intake(session, arrival).record_batch(arrival.batch_id, action="phi:batch:received")
        try:
            session.flush()
        except IntegrityError:
            session.rollback()
            self.files.store.delete(arrival.stored.blob_key)
            existing = self._existing(session, arrival.manifest.sender, arrival.manifest)
            if existing is None:
                raise
            return self._duplicate(existing)
        return Delivery(receipt, duplicate=False)

    def process_next(self) -> str | None:
        """Read and ingest the oldest queued batch no other worker holds; its id, or None.

        The batch is leased in a short transaction of its own (``FOR UPDATE
        SKIP LOCKED`` on PostgreSQL, so workers on several machines share the
        queue; SQLite has one writer at a time anyway), read through with no
        transaction open (renewing the lease as it goes), then ingested in one
        transaction, during which the row itself is locked. A worker that dies
        leaves the lease to run out and the next takes the batch; a worker
        that fails records the failure and the batch is tried again later.
        """
        taken = unit_of_work(self.sessions, self._lease)
        if taken is None:
            return None
        arrival, failures = taken
        if failures >= MAX_ATTEMPTS:
            unit_of_work(self.sessions, lambda session: self._give_up(session, arrival))
            return arrival.batch_id
        try:
            with self.sessions() as session:  # a short read, apart from the lease
                key_id = self.files.data_key_id(arrival.stored.blob_key)
                arrival.key = self.keyring.key_for(session, arrival.manifest.sender)(key_id)
            source = self._read_through(arrival, renew=True)
            unit_of_work(self.sessions, lambda session: self._ingest(session, arrival, source))
        except Exception:
            unit_of_work(self.sessions, lambda session: self._failed(session, arrival.batch_id))
            raise
        return arrival.batch_id

    def _lease(self, session: Session) -> tuple[_Arrival, int] | None:
        now = self.clock.now()
        batch = session.scalars(
            select(Batch)
            .where(
                Batch.status == BatchStatus.RECEIVED.value,
                Batch.direction == "inbound",
                or_(Batch.lease_until.is_(None), Batch.lease_until < now),
            )
            .order_by(Batch.received_at, Batch.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        ).first()
        if batch is None:
            return None
        batch.lease_until = now + self.lease
        manifest, signed = read_manifest(batch.manifest or "")
        principal = worker_principal(batch.practice_id)
        arrival = _Arrival(principal, manifest, signed, batch.id, None)
        arrival.stored = SealedFile(
            blob_key=batch.blob_key or "",
            size_bytes=batch.size_bytes,
            sha256=batch.content_sha256,
        )
        return arrival, batch.attempts

    def _renew(self, batch_id: str) -> None:
        def renew(session: Session) -> None:
            session.execute(
                update(Batch)
                .where(Batch.id == batch_id, Batch.status == BatchStatus.RECEIVED.value)
                .values(lease_until=self.clock.now() + self.lease)
            )

        unit_of_work(self.sessions, renew)

    def _failed(self, session: Session, batch_id: str) -> None:
        session.execute(
            update(Batch)
            .where(Batch.id == batch_id, Batch.status == BatchStatus.RECEIVED.value)
            .values(attempts=Batch.attempts + 1, lease_until=self.clock.now() + RETRY_AFTER)
        )

    def _give_up(self, session: Session, arrival: _Arrival) -> None:
        batch = session.get(Batch, arrival.batch_id, with_for_update=True)
        if batch is None or batch.status != BatchStatus.RECEIVED.value:
            return
        now = self.clock.now()
        checked = ClaimSource(arrival.manifest.format, io.BytesIO())
        checked.rejected = True
        checked.problems.append(
            Problem(
                where="batch",
                message=f"The batch could not be read: {MAX_ATTEMPTS} attempts failed.",
                code="processing_failed",
            )
        )
        self._finish(session, arrival, batch, checked, stored_claims=0, now=now)

    def _check(self, session: Session, arrival: _Arrival) -> Delivery | None:
        manifest = arrival.manifest
        practice = manifest.sender
        if arrival.principal.organisation_id != practice:
            raise ManifestInvalid(
                "The manifest names another organisation as its sender.",
                where="manifest.sender",
            )
        self._intake(session, arrival).authorize(arrival.batch_id)
        existing = self._existing(session, practice, manifest)
        if existing is not None:
            return self._duplicate(existing)
        check_signed_by(session, practice, arrival.signed, signed_at=manifest.created_at)
        manifest.check_fresh(self.clock.now())
        if manifest.recipient is not None:
            self._gate(session, practice, manifest.recipient)
        arrival.key = self.keyring.blob_key(session, practice)
        return None

    def _gate(self, session: Session, practice: str, recipient: str) -> None:
        company = session.get(Organisation, recipient)
        if company is None or company.kind != OrgKind.BILLING_COMPANY.value:
            raise NotFound("No such billing company.", where="manifest.recipient")
        now = self.clock.now()
        if practice not in engaged_practices(session, recipient, now=now):
            lapsed = refusal(session, recipient, practice, now=now)
            # The practice is one side of the engagement: it may know why it is shut.
            raise NoEngagement(
                f"{NoEngagement.public_message} ({lapsed.reason})" if lapsed else None,
                where="manifest.recipient",
            )

    def _store(self, arrival: _Arrival, content: BinaryIO) -> None:
        manifest = arrival.manifest
        limited = _Intake(content, limit=self.max_bytes, declared=manifest.size)
        stored = self.files.write(manifest.sender, arrival.key, limited)  # type: ignore[arg-type]
        try:
            _check_content(manifest, stored)
            sniff(limited.head, manifest.format)
        except BaseException:
            self.files.store.delete(stored.blob_key)
            raise
        arrival.stored = stored

    def _read_through(self, arrival: _Arrival, *, renew: bool = False) -> ClaimSource:
        """Read the whole content once, outside any transaction; nothing is written.

        A worker (``renew``) renews its lease on the batch every third of the
        lease while it reads, so a long read is not taken for a dead worker.
        """
        renew_at = time.monotonic() + self.lease.total_seconds() / 3
        with self._content(arrival) as stream:
            source = ClaimSource(arrival.manifest.format, stream)
            for count, _ in enumerate(source, start=1):
                if renew and count % _RENEW_EVERY_CLAIMS == 0 and time.monotonic() > renew_at:
                    self._renew(arrival.batch_id)
                    renew_at = time.monotonic() + self.lease.total_seconds() / 3
        return source

    def _content(self, arrival: _Arrival) -> contextlib.AbstractContextManager[BinaryIO]:
        reader = self.files.reader(arrival.manifest.sender, arrival.stored.blob_key, arrival.key)
        return reader  # type: ignore[return-value]

    def _ingest(self, session: Session, arrival: _Arrival, checked: ClaimSource) -> Delivery:
        """Write the batch's row, its claims, its event and its receipt, in this transaction."""
        manifest, stored, batch_id = arrival.manifest, arrival.stored, arrival.batch_id
        practice = manifest.sender
        queued = session.get(Batch, batch_id, with_for_update=True)
        if queued is not None and queued.status != BatchStatus.RECEIVED.value:
            return self._duplicate(queued)  # another worker finished it meanwhile
        existing = self._existing(
            session, practice, manifest, interchange=checked.interchange, other_than=batch_id
        )
        now = self.clock.now()
        if existing is not None:
            if queued is None:
                self.files.store.delete(stored.blob_key)
                return self._duplicate(existing)
            # Queued, and its interchange came in before as another batch.
            checked.rejected = True
            checked.problems.insert(0, _already_received(existing))
            return self._finish(session, arrival, queued, checked, stored_claims=0, now=now)
        try:
            batch = queued or self._new_row(arrival, now, interchange=checked.interchange)
            if queued is None:
                session.add(batch)
            elif checked.interchange:
                batch.interchange_control = checked.interchange[:40]
            session.flush()
            stored_claims = 0
            integrity: dict[str, Any] | None = None
            if not checked.rejected:
                intake = self._intake(session, arrival)
                scrubbing = BatchScrub(
                    practice_id=practice, batch_id=batch_id, now=now, settings=self.scrubbing
                )
                intake.written = scrubbing.add
                intake.claim_status = ClaimStatus.READY.value  # the scrub flags what it holds
                with self._content(arrival) as stream:
                    for item in ClaimSource(manifest.format, stream):
                        intake.add(item, batch_id=batch_id)
                        stored_claims += 1
                intake.flush()
                integrity = scrubbing.finish(session, self.keyring)
            return self._finish(
                session, arrival, batch, checked, stored_claims, now=now, integrity=integrity
            )
        except IntegrityError:
            if queued is not None:
                raise
            # Another upload of the same batch won the race: answer with its receipt.
            session.rollback()
            self.files.store.delete(stored.blob_key)
            existing = self._existing(session, practice, manifest, interchange=checked.interchange)
            if existing is None:
                raise
            return self._duplicate(existing)

    def _finish(
        self,
        session: Session,
        arrival: _Arrival,
        batch: Batch,
        checked: ClaimSource,
        stored_claims: int,
        *,
        now: datetime,
        integrity: dict[str, Any] | None = None,
    ) -> Delivery:
        acknowledgment = checked.acknowledgment_999(
            control_number=_control_number(arrival.batch_id), now=now
        )
        extra: dict[str, Any] = {}
        if integrity is not None:
            extra["integrity"] = integrity
        if acknowledgment is not None:
            extra["acknowledgment_batch_id"] = self._issue_999(
                session, arrival, acknowledgment, now=now
            )
        receipt = sign_receipt(
            _receipt(
                arrival, checked, stored_claims, now, acknowledgment=acknowledgment, extra=extra
            ),
            self.server_key,
        )
        batch.status = (BatchStatus.REJECTED if checked.rejected else BatchStatus.INGESTED).value
        batch.accepted_count = stored_claims
        batch.rejected_count = checked.found - stored_claims
        batch.receipt = json.dumps(receipt.to_json(), sort_keys=True)
        batch.lease_until = None
        self._intake(session, arrival).record_batch(
            arrival.batch_id,
            action="phi:batch:rejected" if checked.rejected else "phi:batch:ingest",
        )
        session.flush()
        return Delivery(receipt, duplicate=False)

    def _issue_999(
        self, session: Session, arrival: _Arrival, acknowledgment: str, *, now: datetime
    ) -> str:
        """Our 999, stored encrypted as an outbound batch in reply to this one; its id."""
        content = acknowledgment.encode("ascii", errors="replace")
        stored = self.files.write(arrival.manifest.sender, arrival.key, io.BytesIO(content))
        outbound = Batch(
            id=new_id(),
            practice_id=arrival.manifest.sender,
            recipient_id=None,
            sender_user_id=None,
            format=BatchFormat.X12_999.value,
            content_sha256=stored.sha256,
            size_bytes=stored.size_bytes,
            blob_key=stored.blob_key,
            status=BatchStatus.ISSUED.value,
            received_at=now,
            in_reply_to=arrival.batch_id,
            direction="outbound",
        )
        session.add(outbound)
        return outbound.id

    def _new_row(self, arrival: _Arrival, now: datetime, *, interchange: str | None) -> Batch:
        manifest, stored = arrival.manifest, arrival.stored
        return Batch(
            id=arrival.batch_id,
            practice_id=manifest.sender,
            recipient_id=manifest.recipient,
            sender_user_id=arrival.principal.user_id,
            format=manifest.format,
            content_sha256=manifest.content_sha256,
            size_bytes=stored.size_bytes,
            blob_key=stored.blob_key,
            status=BatchStatus.RECEIVED.value,
            received_at=now,
            manifest_id=manifest.manifest_id,
            manifest=json.dumps(arrival.signed.to_json(), sort_keys=True),
            interchange_control=interchange[:40] if interchange else None,
        )

    # -- helpers ----------------------------------------------------------------------

    def _intake(self, session: Session, arrival: _Arrival) -> Intake:
        return Intake(
            session,
            self.keyring,
            arrival.principal,
            practice_id=arrival.manifest.sender,
            now=self.clock.now(),
            request_id=arrival.request_id,
        )

    @staticmethod
    def _existing(
        session: Session,
        practice: str,
        manifest: Manifest,
        *,
        interchange: str | None = None,
        other_than: str | None = None,
    ) -> Batch | None:
        keys = [
            Batch.manifest_id == manifest.manifest_id,
            Batch.content_sha256 == manifest.content_sha256,
        ]
        if interchange:
            keys.append(Batch.interchange_control == interchange[:40])
        query = select(Batch).where(Batch.practice_id == practice, or_(*keys))
        if other_than is not None:
            query = query.where(Batch.id != other_than)
        return session.scalars(query.limit(1)).first()

    @staticmethod
    def _duplicate(batch: Batch) -> Delivery:
        if batch.receipt is None:  # pragma: no cover - every committed batch has its receipt
            raise NotFound("The batch has no receipt.", where="batch")
        return Delivery(read_receipt(batch.receipt), duplicate=True)

    def _drop_unless_recorded(self, blob_key: str) -> None:
        with self.sessions() as session:
            recorded = session.scalars(select(Batch.id).where(Batch.blob_key == blob_key)).first()
        if recorded is None:
            self.files.store.delete(blob_key)


def _already_received(existing: Batch) -> Problem:
    return Problem(
        where="interchange",
        message=(
            "This interchange (ISA sender and control number) was received before, as batch "
            f"{existing.id}; it is not taken in twice."
        ),
        code="duplicate_interchange",
    )


def worker_principal(practice_id: str) -> Principal:
    """Who the audit log names for a queued batch's ingest: the exchange's own worker."""
    return Principal(
        user_id=None,
        organisation_id=practice_id,
        organisation_kind=OrgKind.PRACTICE,
        roles=frozenset({Role.PRACTICE_STAFF}),
        auth_method=WORKER_AUTH,
        mfa=True,
    )


def _check_content(manifest: Manifest, stored: SealedFile) -> None:
    if stored.size_bytes != manifest.size or stored.sha256 != manifest.content_sha256:
        raise ContentMismatch(
            "The content's SHA-256 or size differs from its signed manifest: it was changed "
            "after signing, or cut short.",
            where="content",
        )


def _receipt(
    arrival: _Arrival,
    checked: ClaimSource | None,
    stored_claims: int,
    now: datetime,
    *,
    acknowledgment: str | None = None,
    extra: dict[str, Any] | None = None,
) -> Receipt:
    manifest = arrival.manifest
    processing = Receipt(
        batch_id=arrival.batch_id,
        manifest_id=manifest.manifest_id,
        content_sha256=manifest.content_sha256,
        size=arrival.stored.size_bytes,
        format=manifest.format,
        sender=manifest.sender,
        recipient=manifest.recipient,
        received_at=now,
        status="processing",
    )
    if checked is None:  # stored and queued: a worker reads it next
        return processing
    problems, left_out = problems_within(checked.problems, left_out=checked.left_out)
    return dataclasses.replace(
        processing,
        status="rejected" if checked.rejected else "accepted",
        claims_found=checked.found,
        claims_valid=checked.mapped,
        claims_rejected=checked.found - checked.mapped,
        claims_stored=stored_claims,
        problems=problems,
        problems_left_out=left_out,
        acknowledgment_999=acknowledgment,
        extra=extra or {},
    )


def _control_number(batch_id: str) -> int:
    """A 9-digit ISA13/GS06 for our 999, derived from the batch id (unique enough per batch)."""
    return int(hashlib.sha256(batch_id.encode()).hexdigest(), 16) % 999_999_999 + 1


def receipt_time(receipt: SignedDocument) -> datetime:
    return datetime.fromisoformat(str(receipt.document["received_at"]).replace("Z", "+00:00"))
