"""The demo world behind a real TLS server, shared by the API functional tests.

Riverside (engaged Summit Billing), Lakeside (in-house), an operator and an
auditor, a user for every role, loaded by ``claimbridge demo`` into a fresh
data directory on SQLite or PostgreSQL, then served over HTTPS with a
``FixedClock``. Every sign-in goes the way a person's does: password, then
a TOTP code.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pyotp
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, func, select

from claimbridge.api.app import create_app
from claimbridge.api.server import build_server, listen, trust_client_certificate
from claimbridge.clock import FixedClock
from claimbridge.config import Settings, load_settings
from claimbridge.instance.auditkey import open_audit_key
from claimbridge.instance.keys import open_keyring
from claimbridge.storage.audit import AuditEvent
from claimbridge.storage.claims import Claim
from claimbridge.storage.clinical import Patient
from claimbridge.storage.db import SQLITE_BUSY_TIMEOUT_MS, make_engine, make_sessionmaker
from claimbridge.storage.orgs import Organisation
from tests.functional.demo_instances import DemoInstances

RIVERSIDE = "Riverside Family Medicine"
LAKESIDE = "Lakeside Family Practice"
SUMMIT = "Summit Billing Partners"


@dataclass
class World:
    base_url: str
    cert: Path
    clock: FixedClock
    logins: dict[str, dict]  # type: ignore[type-arg]
    orgs: dict[str, str]  # name -> id
    patient_of: dict[str, str]  # org name -> a patient id
    claim_of: dict[str, str]  # org name -> a claim id
    url: str  # database URL
    app: FastAPI
    engine: Engine  # the server's own engine
    settings: Settings
    data_dir: Path

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url, verify=ssl.create_default_context(cafile=str(self.cert))
        )

    def code(self, email: str) -> str:
        secret = self.logins[email]["totp_secret"]
        return pyotp.TOTP(secret).at(self.clock.now())

    def sign_in(self, email: str) -> str:
        """A bearer token for ``email``; moves the clock a step so codes are fresh."""
        self.clock.advance(timedelta(seconds=30))
        with self.client() as client:
            first = client.post(
                "/api/v1/auth/login",
                json={"email": email, "password": self.logins[email]["password"]},
            )
            assert first.status_code == 200, first.text
            second = client.post(
                "/api/v1/auth/mfa",
                json={"challenge": first.json()["challenge"], "code": self.code(email)},
            )
            assert second.status_code == 200, second.text
            return str(second.json()["token"])

    def last_seq(self) -> int:
        """The newest audit event's sequence number, read on a connection of its own."""
        engine = make_engine(self.url)
        try:
            with make_sessionmaker(engine)() as session:
                return int(session.scalar(select(func.max(AuditEvent.seq))) or 0)
        finally:
            engine.dispose()


def database_url_for(backend: str, request: pytest.FixtureRequest) -> str | None:
    """``None`` for SQLite (the data directory's own file), else a fresh PostgreSQL database."""
    if backend == "postgresql":
        return str(request.getfixturevalue("make_postgres_database")())
    return None


@contextmanager
def running_world(
    backend: str,
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    *,
    patients: int = 12,
    lock_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS,
    queue_from: int | None = None,
) -> Iterator[World]:
    """Load the demo into a fresh instance and serve it over TLS until the block ends.

    With ``queue_from``, uploads that large are queued and an ingest worker
    runs beside the server, as under ``claimbridge serve``.
    """
    # The demo is loaded once per backend and size; each world serves its own copy.
    demo_instances: DemoInstances = request.getfixturevalue("demo_instances")
    instance = demo_instances.copy(
        backend,
        tmp_path_factory.mktemp("world") / "data",
        request,
        demo=["--patients", str(patients), "--json"],
    )
    data_dir, env_url = instance.data_dir, instance.database_url
    logins = {login["email"]: login for login in json.loads(instance.output)["logins"]}
    overrides: dict[str, object] = {"database_url": env_url} if env_url else {}
    if queue_from is not None:
        overrides["ingest_queue_from_bytes"] = queue_from
    settings = load_settings(data_dir, **overrides)
    engine = make_engine(settings.effective_database_url, lock_timeout_ms=lock_timeout_ms)
    with make_sessionmaker(engine)() as session:
        orgs = {o.name: o.id for o in session.scalars(select(Organisation))}
        patient_of = {
            name: str(
                session.scalars(select(Patient.id).where(Patient.practice_id == orgs[name])).first()
            )
            for name in (RIVERSIDE, LAKESIDE)
        }
        claim_of = {
            name: str(
                # One the demo wrote with its encounter (the coder's view shows its
                # documentation); ingested claims have none.
                session.scalars(
                    select(Claim.id)
                    .where(Claim.practice_id == orgs[name], Claim.encounter_id.is_not(None))
                    .order_by(Claim.created_at, Claim.id)
                ).first()
            )
            for name in (RIVERSIDE, LAKESIDE)
        }
    clock = FixedClock(datetime.now(UTC))
    keyring = open_keyring(settings, clock=clock)
    app = create_app(
        settings,
        engine=engine,
        keyring=keyring,
        clock=clock,
        trust_client_certificate=lambda pem: trust_client_certificate(server.config.ssl, pem),
        audit_key=open_audit_key(settings, keyring.providers),
        ingest_worker=queue_from is not None,
    )
    worker = app.state.context.worker
    if worker is not None:
        worker.start()
    server = build_server(
        app,
        certfile=str(settings.tls_cert),
        keyfile=str(settings.tls_key),
        log_level="warning",
    )
    sock = listen("127.0.0.1", 0)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        yield World(
            base_url=f"https://localhost:{sock.getsockname()[1]}",
            cert=settings.tls_cert,
            clock=clock,
            logins=logins,
            orgs=orgs,
            patient_of=patient_of,
            claim_of=claim_of,
            url=settings.effective_database_url,
            app=app,
            engine=engine,
            settings=settings,
            data_dir=data_dir,
        )
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        if worker is not None:
            worker.stop()
        sock.close()
        keyring.close()
        engine.dispose()
