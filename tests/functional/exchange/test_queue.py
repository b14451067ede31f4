"""Large batches: stored and signed for at once, ingested by the worker, crash or not."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from claimbridge.errors import NotFound
from claimbridge.exchange.batches import DEFAULT_LEASE, MAX_ATTEMPTS, RETRY_AFTER
from claimbridge.exchange.receipts import read_receipt
from claimbridge.exchange.worker import BatchWorker
from claimbridge.storage.audit import AuditEvent
from claimbridge.storage.batches import Batch
from tests.functional.exchange.conftest import ExchangeWorld
from tests.functional.exchange.samples import generated_837p


def _queue(w: ExchangeWorld, content: bytes, manifest: str | None = None):  # type: ignore[no-untyped-def]
    return w.service.receive(
        w.staff(w.riverside),
        manifest or w.manifest(content),
        io.BytesIO(content),
        queue_from=0,
    )


def test_a_queued_batch_is_durable_at_once_and_ingested_by_the_worker(
    exchange_world: ExchangeWorld,
) -> None:
    w = exchange_world
    content = generated_837p(30, seed=61)

    first = _queue(w, content)

    assert first.status == "processing"
    first.receipt.verify_with(w.server_key.public_key_bytes())
    assert w.claims_of(w.riverside) == 0
    with w.sessions() as session:
        batch = session.get(Batch, first.receipt.document["batch_id"])
        assert batch is not None
        assert batch.status == "received"
    # Sent again while it waits: the same processing receipt, nothing new.
    again = _queue(w, content)
    assert again.duplicate
    assert again.receipt.document == first.receipt.document

    done = BatchWorker(w.service).run_until_idle()

    assert done == [first.receipt.document["batch_id"]]
    assert w.claims_of(w.riverside) == 30
    with w.sessions() as session:
        batch = session.get(Batch, done[0])
        assert batch is not None
        assert batch.status == "ingested"
        final = read_receipt(batch.receipt or "")
        actions = session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.resource_id == done[0])
            .order_by(AuditEvent.seq)
        ).all()
    final.verify_with(w.server_key.public_key_bytes())
    assert final.document["status"] == "accepted"
    assert final.document["claims"]["stored"] == 30
    assert actions == ["phi:batch:received", "phi:batch:ingest"]


def test_a_failed_attempt_is_retried_after_a_pause(exchange_world: ExchangeWorld) -> None:
    w = exchange_world
    queued = _queue(w, generated_837p(5, seed=62))
    batch_id = queued.receipt.document["batch_id"]
    # An attempt fails (here the blob is briefly out of reach, as on a storage hiccup).
    (blob,) = w.blob_files()
    aside = blob.with_name("aside")
    blob.rename(aside)
    with pytest.raises(NotFound):
        w.service.process_next()
    aside.rename(blob)
    assert w.service.process_next() is None, "it waits before the next attempt"

    w.clock.advance(RETRY_AFTER + timedelta(seconds=1))

    assert w.service.process_next() == batch_id
    assert w.claims_of(w.riverside) == 5
    with w.sessions() as session:
        batch = session.get(Batch, batch_id)
        assert batch is not None
        assert batch.attempts == 1


def test_a_worker_that_dies_leaves_the_batch_to_the_next_after_its_lease(
    exchange_world: ExchangeWorld,
) -> None:
    w = exchange_world
    queued = _queue(w, generated_837p(5, seed=65))
    batch_id = queued.receipt.document["batch_id"]
    # A worker leased the batch and was killed: its lease stands, no failure was recorded.
    with w.sessions.begin() as session:
        batch = session.get(Batch, batch_id)
        assert batch is not None
        batch.lease_until = w.clock.now() + DEFAULT_LEASE
    assert w.service.process_next() is None, "leased: no other worker takes it"

    w.clock.advance(DEFAULT_LEASE + timedelta(seconds=1))

    assert w.service.process_next() == batch_id
    assert w.claims_of(w.riverside) == 5
    with w.sessions() as session:
        batch = session.get(Batch, batch_id)
        assert batch is not None
        assert batch.attempts == 0, "a dead worker's attempt is not a failure"


def test_a_batch_that_keeps_failing_is_rejected_with_the_reason(
    exchange_world: ExchangeWorld,
) -> None:
    w = exchange_world
    queued = _queue(w, generated_837p(5, seed=63))
    batch_id = queued.receipt.document["batch_id"]
    (blob,) = w.blob_files()
    blob.unlink()  # every attempt fails
    for _ in range(MAX_ATTEMPTS):
        with pytest.raises(NotFound):
            w.service.process_next()
        w.clock.advance(RETRY_AFTER + timedelta(seconds=1))

    assert w.service.process_next() == batch_id

    with w.sessions() as session:
        batch = session.get(Batch, batch_id)
        assert batch is not None
        document = read_receipt(batch.receipt or "").document
    assert document["status"] == "rejected"
    assert document["errors"][0]["code"] == "processing_failed"
    assert w.claims_of(w.riverside) == 0


def test_a_queued_interchange_received_before_is_rejected_naming_the_first(
    exchange_world: ExchangeWorld,
) -> None:
    w = exchange_world
    content = generated_837p(4, seed=64)
    first = w.send(content)
    # The same interchange, other bytes: only the worker can tell, after reading it.
    queued = _queue(w, content.replace(b"~", b"~\n"))
    assert queued.status == "processing"

    BatchWorker(w.service).run_until_idle()

    with w.sessions() as session:
        batch = session.get(Batch, queued.receipt.document["batch_id"])
        assert batch is not None
        document = read_receipt(batch.receipt or "").document
    assert document["status"] == "rejected"
    assert document["errors"][0]["code"] == "duplicate_interchange"
    assert first.receipt.document["batch_id"] in document["errors"][0]["message"]
    assert w.claims_of(w.riverside) == 4
