"""What every request handler can reach: settings, database, clock, keys."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from claimbridge.access.authn import SessionPolicy
from claimbridge.clock import Clock
from claimbridge.config import Settings
from claimbridge.crypto.files import SealedFiles
from claimbridge.crypto.keyring import Keyring
from claimbridge.crypto.signing import SigningKey
from claimbridge.exchange.batches import BatchService
from claimbridge.exchange.worker import BatchWorker
from claimbridge.storage.blobs import BlobStore


@dataclass(frozen=True, slots=True)
class AppContext:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Clock
    keyring: Keyring
    session_policy: SessionPolicy
    trust_client_certificate: Callable[[str], None] | None = None
    """Makes the TLS layer accept a newly registered client certificate (mutual TLS)."""
    audit_key: SigningKey | None = None
    """Signs audit checkpoints on demand; ``None`` where the server holds no such key."""
    batches: BatchService | None = None
    """Receives batches and signs their receipts (with ``audit_key``, the server's key)."""
    worker: BatchWorker | None = None
    """Ingests queued batches; ``None`` where uploads are all ingested before answering."""

    @property
    def files(self) -> SealedFiles:
        """The blob store, sealing under the tenants' keys."""
        return SealedFiles(BlobStore(self.settings.paths.blobs), self.keyring)


def app_context(request: Request) -> AppContext:
    """FastAPI dependency: the context ``create_app`` stored on the app."""
    ctx: AppContext = request.app.state.context
    return ctx
