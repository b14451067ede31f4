"""Crash safety of batch ingest: the server SIGKILLed at random points, on SQLite and PostgreSQL.

What this proves, for an 837P of 1,200 claims that the server queues for
its worker: a receipt the sender holds names a batch the server still
has, readable, after any crash; a final receipt means all 1,200 claims
are stored; no batch is ever stored in part; and a sender who retries
after crashes ends with exactly one batch for its content, named by
every receipt it was given.

How. The demo (Riverside engaged with Summit Billing; Riverside's
batch-signing key in the data directory) is a private copy of the one
loaded once per backend for other tests too (``demo_instances``). A real ``claimbridge serve``
process runs on it. The client is the HTTP API as ``claimbridge send``
uses it: a signed upload (``POST /api/v1/batches``), then, for a batch
answered "processing", polling its receipt until the final one. A first
send, not killed, must be answered "processing" (queued for the worker)
and then accepted; a second, of new content, after a restart, measures
the milestones a client sees for a batch whose every line the scrub finds
a duplicate, ingested by a worker that has just started, as in every
trial: the upload answered, and the final receipt after the worker took
the batch. Each of the 14 trials then sends, and SIGKILLs the server at
a point drawn from those milestones: some during the upload, most in the
worker's processing (the validation pass and the ingest transaction),
some around and just after the commit. An upload is timed
from the start of the send; the processing from the moment the worker
took the batch, which is when the upload is answered for a batch the
server did not have, and when the server starts for one it holds already
(the test lets the killed worker's lease run out before the restart, so
the new worker takes the batch at once). So every kill drawn in the
processing lands in the worker's work, not in a wait for it. The points
are stratified, so every run covers the whole life of a batch, and
shuffled. After each kill the database is read in one snapshot, the
server restarts on the same port (its worker takes up whatever was left),
and:

- every inbound batch row is final (ingested or rejected) with a signed
  receipt naming it, holding exactly the claims the receipt counts (for
  ours, 1,200 claims and every service line of the file), one audit
  event of its ingest and one 999 in reply; or it is not final yet
  ("processing") and holds no claim, no ingest event, no 999;
- no claim, ingest event or 999 names a batch that is not there; no
  patient or coverage made during the trials is left without a claim;
- no content is stored twice;
- each batch row seen for the first time is downloaded as Summit's
  biller, and its SHA-256 is the one the sender signed.

The client's retry is the next trial's send of the oldest batch it has
no final receipt for (killed in its turn); a trial drawn in the upload
stretch sends content the server does not have (a batch whose earlier
upload was killed, or new content), so that its kill lands in a real
upload. New content is the same claims under another interchange control
number. At the end every batch still pending is finished without a kill,
``claimbridge send`` is run once more for every content (each must get
its final receipt back, marked duplicate), every batch is downloaded
again, every receipt the client ever got verifies with the server's key
and names the one batch of its content, each final receipt accepts all
1,200 claims, and the audit chain verifies.

Cost: one server restart a trial, so start-up matters. The processes are
forked from one interpreter that has already imported claimbridge
(``tests.functional.prefork``; they run ``claimbridge serve`` and
``claimbridge send`` exactly as the command line does), and the root key
file uses the smallest scrypt cost; a restart then takes 0.2 s on SQLite
and 0.4 s on PostgreSQL instead of about 3.5 s. The lease is 1 s, the
least the server accepts, so a killed worker's batch is free again soon.
What is left is mostly the server's own work up to each kill point, so
the batch is no larger than the crash windows need: the server queues
uploads from 256 KiB here (the default is 1 MiB; where the line lies is
not what this test is about, and every send checks it was queued).
``CLAIMBRIDGE_CRASH_SEED`` replays a run's kill points; every failure
message gives the seed and the trials so far.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import secrets
import signal
import ssl
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from claimbridge.cli.main import app as cli
from claimbridge.config import load_settings
from claimbridge.datadir import DataDir
from claimbridge.exchange.clientkeys import client_key_path, read_client_key
from claimbridge.exchange.manifest import make_manifest
from claimbridge.exchange.receipts import read_receipt
from claimbridge.formats.x12.synthetic import write_synthetic
from claimbridge.phi.intake import FLUSH_EVERY
from claimbridge.storage.audit import AuditEvent
from claimbridge.storage.batches import Batch, BatchStatus
from claimbridge.storage.claims import Claim, ServiceLine
from claimbridge.storage.clinical import Coverage, Patient
from claimbridge.storage.db import make_engine
from claimbridge.storage.orgs import Organisation
from tests.functional.api.worlds import RIVERSIDE, SUMMIT
from tests.functional.demo_instances import DemoInstances
from tests.functional.prefork import Prefork
from tests.functional.sqlite_reads import reading_engine

CLAIMS = 1_200
"""About 520 KB: queued (see ``QUEUE_FROM``), seconds to ingest, so kill points land in every
stretch, and more than two of the ingest's flushes (``FLUSH_EVERY``, 500 claims) and the
worker's lease renewal (every 1,000 claims read), so a crash between any two of them is
tried. The same claims are sent again under new control numbers, so from the second batch
on the scrub finds every line a duplicate."""
QUEUE_FROM = 256 * 1024
"""Uploads this large or larger are queued for the server's worker."""
SEED = int(os.environ.get("CLAIMBRIDGE_CRASH_SEED") or secrets.randbits(32))
KILLS = {"upload": 3, "processing": 8, "commit": 3}
"""Trials per stretch of a batch's life: 14 in all. Each kill drawn in the processing or
around the commit lands in the worker's work (see ``Trial``), so none is spent on a
worker that has not started yet."""
AROUND_COMMIT = 0.25
"""Seconds either side of the moment the final receipt was first seen."""
POLL_SECONDS = 0.05
LEASE_SECONDS = 1
"""How long a killed worker holds its batch: the least the server accepts."""
STAFF = "staff@riverside.example"
BILLER = "biller@summit-billing.example"
FINAL = {BatchStatus.INGESTED.value, BatchStatus.REJECTED.value}


# -- the batches ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Content:
    """One batch's bytes on disk, and what a complete ingest of it holds."""

    number: int
    file: Path
    sha256: str
    service_lines: int


@pytest.fixture(scope="module")
def claims_837p(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    out = tmp_path_factory.mktemp("crash") / "claims.837"
    with out.open("wb") as stream:
        write_synthetic("837p", CLAIMS, seed=7007, out=stream, now=datetime(2026, 3, 1, tzinfo=UTC))
    assert out.stat().st_size >= QUEUE_FROM, "the batch must be large enough to be queued"
    assert CLAIMS > 2 * FLUSH_EVERY, "the ingest must flush more than once"
    return out.read_bytes()


def with_control_number(x12: bytes, number: int) -> bytes:
    """The same claims under another interchange control number (ISA13 and IEA02)."""
    terminator = x12[105:106]  # the ISA segment has a fixed length
    isa = x12[:105].split(b"*")
    isa[13] = b"%09d" % number
    trailer_at = x12.rindex(b"IEA*")
    iea, rest = x12[trailer_at:].split(terminator, 1)
    fields = iea.split(b"*")
    fields[2] = b"%09d" % number
    return b"*".join(isa) + x12[105:trailer_at] + b"*".join(fields) + terminator + rest


def make_content(x12: bytes, number: int, folder: Path) -> Content:
    data = with_control_number(x12, number)
    file = folder / f"batch-{number}.837"
    file.write_bytes(data)
    return Content(
        number=number,
        file=file,
        sha256=hashlib.sha256(data).hexdigest(),
        service_lines=data.count(data[105:106] + b"SV1*"),
    )


# -- the instance, its server and its client -------------------------------------------------


@pytest.fixture(scope="module")
def prefork(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prefork]:
    forks = Prefork(stderr=tmp_path_factory.mktemp("prefork") / "stderr")
    yield forks
    forks.close()


@dataclass
class Instance:
    """A demo data directory, the server on it, and what the test acts as."""

    data_dir: Path
    database_url: str
    env: dict[str, str | None]
    logins: dict[str, dict[str, Any]]
    forks: Prefork
    logs: Path
    port: int = 0
    server_pid: int = 0
    tokens: dict[str, str] = field(default_factory=dict)
    public_key: bytes = b""
    practice: str = ""
    recipient: str = ""
    starts: list[float] = field(default_factory=list)
    started_at: float = 0.0
    """When the server last said it was listening (its worker starts then)."""
    runs: int = 0

    @property
    def cert(self) -> Path:
        return DataDir(self.data_dir).tls_cert

    @property
    def url(self) -> str:
        return f"https://localhost:{self.port}"

    def _files(self, what: str) -> tuple[Path, Path]:
        self.runs += 1
        out, err = (self.logs / f"{self.runs:03d}-{what}.{kind}" for kind in ("out", "err"))
        out.touch()
        return out, err

    def start_server(self) -> None:
        """``claimbridge serve``, on the port it had before (a free one the first time)."""
        began = time.monotonic()
        out, err = self._files("serve")
        argv = ["serve", "--data-dir", str(self.data_dir), "--port", str(self.port), "--json"]
        pid = self.forks.start(argv, env=self.env, stdout=out, stderr=err)
        while not out.read_bytes().endswith(b"\n"):
            assert self.forks.poll(pid) is None, f"the server ended at start: {_tail(err)}"
            assert time.monotonic() - began < 60, f"the server did not start: {_tail(err)}"
            time.sleep(0.01)  # waiting for another process, not for time to pass
        self.started_at = time.monotonic()
        self.port = int(json.loads(out.read_text().splitlines()[0])["url"].rsplit(":", 1)[1])
        self.server_pid = pid
        self.starts.append(self.started_at - began)

    def kill_server(self) -> None:
        os.kill(self.server_pid, signal.SIGKILL)
        ended = self.forks.wait(self.server_pid, timeout=30)
        assert ended.killed_by == signal.SIGKILL, f"the server had ended by itself: {ended}"

    def http(self) -> httpx.Client:
        context = ssl.create_default_context(cafile=str(self.cert))
        return httpx.Client(base_url=self.url, verify=context, timeout=60)

    def sign_in(self) -> None:
        with self.http() as client:
            for email in (STAFF, BILLER):
                login = self.logins[email]
                first = client.post(
                    "/api/v1/auth/login", json={"email": email, "password": login["password"]}
                )
                assert first.status_code == 200, first.text
                code = pyotp.TOTP(login["totp_secret"]).now()
                second = client.post(
                    "/api/v1/auth/mfa", json={"challenge": first.json()["challenge"], "code": code}
                )
                assert second.status_code == 200, second.text
                self.tokens[email] = str(second.json()["token"])
            key = client.get("/api/v1/audit/public-key")
            self.public_key = bytes.fromhex(key.json()["public_key"])

    def headers(self, email: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[email]}"}

    def manifest_header(self, content: Content) -> str:
        key = read_client_key(client_key_path(self.data_dir, self.practice)).key
        with content.file.open("rb") as stream:
            _, signed = make_manifest(
                stream,
                format="x12-837p",
                sender=self.practice,
                recipient=self.recipient,
                key=key,
                now=datetime.now(UTC),
            )
        return base64.urlsafe_b64encode(signed.dumps().encode()).decode().rstrip("=")

    def download_sha256(self, batch_id: str) -> str:
        """The batch's content as Summit's biller fetches it, hashed."""
        digest = hashlib.sha256()
        with (
            self.http() as client,
            client.stream(
                "GET", f"/api/v1/batches/{batch_id}/content", headers=self.headers(BILLER)
            ) as got,
        ):
            assert got.status_code == 200, got.read()
            for chunk in got.iter_bytes():
                digest.update(chunk)
        return digest.hexdigest()

    def send_with_cli(self, content: Content, *, wait_seconds: int) -> dict[str, Any]:
        """``claimbridge send --json``: what it printed."""
        out, err = self._files("send")
        argv = [
            *("send", str(content.file), "--server", self.url, "--token", self.tokens[STAFF]),
            *("--ca", str(self.cert), "--data-dir", str(self.data_dir)),
            *("--wait-seconds", str(wait_seconds), "--json"),
        ]
        pid = self.forks.start(argv, env=self.env, stdout=out, stderr=err)
        self.forks.wait(pid, timeout=wait_seconds + 120)
        text = out.read_text()
        assert text.strip(), f"send printed nothing: {_tail(err)}"
        answer: dict[str, Any] = json.loads(text)
        return answer


def _tail(path: Path) -> str:
    return path.read_text(errors="replace")[-3000:] if path.exists() else "(no output)"


class Sender(threading.Thread):
    """One try at sending a batch: the signed upload, then its receipt polled until final.

    It records every receipt it is given and stops at the first error
    (the server gone), at the final receipt, or after ``give_up_after`` seconds.
    """

    def __init__(self, instance: Instance, content: Content, *, give_up_after: float) -> None:
        super().__init__(daemon=True)
        self.give_up_after = give_up_after
        self.instance = instance
        self.content = content
        self.manifest = instance.manifest_header(content)
        self.receipts: list[dict[str, Any]] = []
        self.answered = threading.Event()
        self.answered_at: float | None = None
        self.final_at: float | None = None
        self.failure: str | None = None
        self.unexpected: list[str] = []
        self.began = 0.0

    @property
    def final(self) -> dict[str, Any] | None:
        if self.receipts and self.receipts[-1]["document"]["status"] != "processing":
            return self.receipts[-1]
        return None

    def start(self) -> None:
        self.began = time.monotonic()
        super().start()

    def run(self) -> None:
        try:
            with self.instance.http() as client:
                self._send(client)
        except httpx.HTTPError as error:
            self.failure = type(error).__name__
        finally:
            self.answered.set()

    def upload_answered(self) -> float:
        """When the upload was answered (or failed), on the monotonic clock."""
        self.answered.wait(timeout=60)
        return self.began + (self.answered_at or time.monotonic() - self.began)

    def _send(self, client: httpx.Client) -> None:
        headers = {**self.instance.headers(STAFF), "Claimbridge-Manifest": self.manifest}
        answer = client.post(
            "/api/v1/batches", content=self.content.file.read_bytes(), headers=headers
        )
        self.answered_at = time.monotonic() - self.began
        self.answered.set()
        if not self._take(answer, "upload"):
            return
        batch_id = self.receipts[-1]["document"]["batch_id"]
        while self.final is None and time.monotonic() - self.began < self.give_up_after:
            time.sleep(POLL_SECONDS)  # a client polling, as `claimbridge send` does
            polled = client.get(
                f"/api/v1/batches/{batch_id}/receipt", headers=self.instance.headers(STAFF)
            )
            if not self._take(polled, "poll", receipt_only=True):
                return
        if self.final is not None:
            self.final_at = time.monotonic() - self.began

    def _take(self, response: httpx.Response, what: str, *, receipt_only: bool = False) -> bool:
        if response.status_code not in (200, 201, 202):
            self.unexpected.append(f"{what}: {response.status_code} {response.text[:300]}")
            return False
        body = response.json()
        self.receipts.append(body if receipt_only else body["receipt"])
        return True


# -- the instance per backend --------------------------------------------------------------


@pytest.fixture
def instance(
    backend: str,
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    prefork: Prefork,
    demo_instances: DemoInstances,
) -> Iterator[Instance]:
    """A copy of the demo on ``backend``, its server running, signed in.

    The demo is the one other tests use too (``running_world(patients=4)``), loaded once
    per backend. Its root key has the smallest scrypt cost: the key file is opened at
    every restart, and what the test is about happens after the key is open.
    """
    root = tmp_path_factory.mktemp(f"crash-{backend}")
    copy = demo_instances.copy(backend, root / "data", request, demo=["--patients", "4", "--json"])
    env = {
        "CLAIMBRIDGE_DATABASE_URL": copy.database_url,
        "CLAIMBRIDGE_KEY_PASSPHRASE": None,  # the demo's, beside its root key
        "CLAIMBRIDGE_INGEST_LEASE_SECONDS": str(LEASE_SECONDS),
        "CLAIMBRIDGE_INGEST_QUEUE_FROM_BYTES": str(QUEUE_FROM),
    }
    logs = root / "logs"
    logs.mkdir()
    made = Instance(
        data_dir=copy.data_dir,
        database_url=load_settings(
            copy.data_dir, database_url=copy.database_url
        ).effective_database_url,
        env=env,
        logins={login["email"]: login for login in json.loads(copy.output)["logins"]},
        forks=prefork,
        logs=logs,
    )
    with _snapshot(made.database_url) as session:
        orgs = {org.name: org.id for org in session.scalars(select(Organisation))}
    made.practice, made.recipient = orgs[RIVERSIDE], orgs[SUMMIT]
    made.start_server()
    made.sign_in()
    try:
        yield made
    finally:
        if made.forks.poll(made.server_pid) is None:
            made.kill_server()


# -- what the database must show -------------------------------------------------------------


def _snapshot_engine(url: str) -> Engine:
    """An engine whose transactions each read one consistent snapshot, taking no write lock.

    The server's own engine starts SQLite transactions with BEGIN IMMEDIATE,
    which would queue this reader behind the worker's ingest.
    """
    if not url.startswith("sqlite"):
        return make_engine(url, isolation_level="REPEATABLE READ")
    return reading_engine(url)


class _snapshot:  # noqa: N801 - used like a function
    def __init__(self, url: str) -> None:
        self.engine = _snapshot_engine(url)
        self.session = Session(self.engine)

    def __enter__(self) -> Session:
        return self.session

    def __exit__(self, *exc: object) -> None:
        self.session.close()
        self.engine.dispose()


@dataclass(frozen=True)
class State:
    """Our batches as one snapshot of the database holds them, and what is wrong in it."""

    rows: dict[str, list[Batch]]  # content hash -> rows
    problems: list[str]
    leased_until: datetime | None = None
    """The latest lease a worker holds on a batch not final yet."""

    def of(self, content: Content) -> list[Batch]:
        return self.rows.get(content.sha256, [])

    def wait_out_leases(self) -> None:
        """Until no worker holds a batch, so the next server's worker takes it when it starts."""
        if self.leased_until is not None:
            left = (self.leased_until - datetime.now(UTC)).total_seconds()
            time.sleep(max(0.0, left) + 0.05)  # waiting for the lease to end, a server deadline


def read_state(instance: Instance, contents: list[Content], baseline: dict[str, set[str]]) -> State:
    with _snapshot(instance.database_url) as session:
        rows = session.scalars(select(Batch)).all()
        problems = _batch_problems(session, rows, instance.public_key, contents)
        problems += _orphan_problems(session, baseline)
    ours: dict[str, list[Batch]] = {}
    for row in rows:
        if row.direction == "inbound" and row.content_sha256 in {c.sha256 for c in contents}:
            ours.setdefault(row.content_sha256, []).append(row)
    problems += [
        f"content {sha[:12]} is stored {len(found)} times: {[row.id for row in found]}"
        for sha, found in ours.items()
        if len(found) > 1
    ]
    leases = [
        _aware(row.lease_until)
        for row in rows
        if row.status == BatchStatus.RECEIVED.value and row.lease_until is not None
    ]
    return State(ours, problems, max(leases, default=None))


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive UTC times; PostgreSQL aware ones."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _counts(session: Session, query: Any) -> dict[str, int]:
    return {str(key): int(n) for key, n in session.execute(query).all()}


def _events(session: Session, action: str) -> dict[str, int]:
    return _counts(
        session,
        select(AuditEvent.resource_id, func.count(AuditEvent.seq))
        .where(AuditEvent.action == action, AuditEvent.outcome == "success")
        .group_by(AuditEvent.resource_id),
    )


def _batch_problems(
    session: Session, rows: Sequence[Batch], public_key: bytes, contents: list[Content]
) -> list[str]:
    claims = _counts(
        session,
        select(Claim.batch_id, func.count(Claim.id))
        .where(Claim.batch_id.is_not(None))
        .group_by(Claim.batch_id),
    )
    lines = _counts(
        session,
        select(Claim.batch_id, func.count(ServiceLine.id))
        .join(ServiceLine, ServiceLine.claim_id == Claim.id)
        .where(Claim.batch_id.is_not(None))
        .group_by(Claim.batch_id),
    )
    ingested = _events(session, "phi:batch:ingest")
    rejected = _events(session, "phi:batch:rejected")
    replies: dict[str, int] = {}
    for row in rows:
        if row.direction == "outbound" and row.in_reply_to is not None:
            replies[row.in_reply_to] = replies.get(row.in_reply_to, 0) + 1
    expected_lines = {content.sha256: content.service_lines for content in contents}
    problems: list[str] = []
    inbound = [row for row in rows if row.direction == "inbound"]
    for row in inbound:
        found = _Found(
            claims.get(row.id, 0),
            lines.get(row.id, 0),
            ingested.get(row.id, 0) + rejected.get(row.id, 0),
            replies.get(row.id, 0),
        )
        problems += _row_problems(row, public_key, found, expected_lines.get(row.content_sha256))
    ids = {row.id for row in inbound}
    for what, named in (("claims", claims), ("ingest events", ingested), ("999s", replies)):
        problems += [
            f"{n} {what} name batch {bid}, which is not there"
            for bid, n in named.items()
            if bid not in ids
        ]
    return problems


@dataclass(frozen=True)
class _Found:
    claims: int
    lines: int
    events: int
    replies: int


def _row_problems(
    row: Batch, public_key: bytes, found: _Found, expected_lines: int | None
) -> list[str]:
    where = f"batch {row.id} ({row.status})"
    if row.receipt is None:
        return [f"{where}: no receipt"]
    signed = read_receipt(row.receipt)
    signed.verify_with(public_key)
    document = signed.document
    problems = []
    if (document["batch_id"], document["content_sha256"]) != (row.id, row.content_sha256):
        problems.append(f"{where}: its receipt names another batch or content")
    says = {"processing": BatchStatus.RECEIVED.value, "accepted": BatchStatus.INGESTED.value}
    if says.get(document["status"], document["status"]) != row.status:
        problems.append(f"{where}: its receipt says {document['status']}")
    if row.status not in FINAL:
        if (found.claims, found.events, found.replies) != (0, 0, 0):
            problems.append(f"{where}: not final, yet it has {found}")
        return problems
    stored = int(document["claims"]["stored"])
    if not found.claims == stored == row.accepted_count:
        problems.append(
            f"{where}: {found.claims} claims stored, receipt says {stored}, "
            f"row says {row.accepted_count}"
        )
    ingested = row.status == BatchStatus.INGESTED.value
    if expected_lines is not None and ingested and found.lines != expected_lines:
        problems.append(f"{where}: {found.lines} service lines, not {expected_lines}")
    if found.events != 1:
        problems.append(f"{where}: {found.events} audit events of its ingest, not 1")
    # An X12 batch that was read has its 999, made in the same transaction.
    read_x12 = ingested and row.format.startswith("x12")
    if found.replies > 1 or (read_x12 and found.replies != 1):
        problems.append(f"{where}: {found.replies} 999s in reply")
    return problems


def _orphan_problems(session: Session, baseline: dict[str, set[str]]) -> list[str]:
    # NOT IN over a subquery, not NOT EXISTS: claims.coverage_id has no index,
    # and a correlated scan per coverage takes seconds once there are 100,000 claims.
    patients = session.scalar(
        select(func.count(Patient.id)).where(
            Patient.id.not_in(baseline["patients"]),
            Patient.id.not_in(select(Claim.patient_id)),
        )
    )
    coverages = session.scalar(
        select(func.count(Coverage.id)).where(
            Coverage.id.not_in(baseline["coverages"]),
            Coverage.id.not_in(select(Claim.coverage_id).where(Claim.coverage_id.is_not(None))),
        )
    )
    return [
        f"{n} {what} made during the trials have no claim"
        for what, n in (("patients", patients), ("coverages", coverages))
        if n
    ]


def read_baseline(instance: Instance) -> dict[str, set[str]]:
    with _snapshot(instance.database_url) as session:
        return {
            "patients": set(session.scalars(select(Patient.id))),
            "coverages": set(session.scalars(select(Coverage.id))),
        }


# -- the trials ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Milestones:
    """When, in one whole send that was not killed, the client saw each answer."""

    answered: float  # the upload's answer (the "processing" receipt), from the send's start
    final: float  # the final receipt, from the upload's answer: when the worker took the batch


def kill_points(rng: random.Random, seen: Milestones) -> list[tuple[str, float]]:
    """Points in each stretch of a batch's life, each stretch cut in equal slices, shuffled.

    An upload point counts from the start of the send; the others from the moment the
    worker took the batch (see ``Trial``).
    """
    stretches = {
        "upload": (0.0, seen.answered),
        "processing": (0.0, seen.final),
        "commit": (max(0.0, seen.final - AROUND_COMMIT), seen.final + AROUND_COMMIT),
    }
    points = []
    for name, (start, end) in stretches.items():
        width = (end - start) / KILLS[name]
        points += [(name, start + (i + rng.random()) * width) for i in range(KILLS[name])]
    rng.shuffle(points)
    return points


@dataclass
class Story:
    """What happened, trial by trial, for the failure messages."""

    backend: str
    lines: list[str] = field(default_factory=list)

    def add(self, line: str) -> None:
        self.lines.append(line)

    def __str__(self) -> str:
        return "\n".join([f"seed {SEED} (CLAIMBRIDGE_CRASH_SEED), {self.backend}", *self.lines])


def client_saw(sender: Sender) -> str:
    statuses = [receipt["document"]["status"] for receipt in sender.receipts]
    seen = " -> ".join(dict.fromkeys(statuses)) or "no receipt"
    return f"{seen}{f', then {sender.failure}' if sender.failure else ''}"


@dataclass(frozen=True)
class Trial:
    """One send, and where its kill point counts from."""

    stretch: str
    held: bool
    """Whether the server holds the batch already (a row not final yet, or final)."""

    def origin(self, instance: Instance, sender: Sender) -> float:
        """The moment (monotonic) the kill point counts from.

        An upload's from the start of the send. Otherwise, when the worker took the
        batch: the server's start, for a batch it held before (no lease was left on it,
        so its worker took it at once), or the upload's answer, for one it did not have
        (the upload wakes the worker).
        """
        if self.stretch == "upload":
            return sender.began
        return instance.started_at if self.held else sender.upload_answered()


def kill_during(instance: Instance, sender: Sender, deadline: float) -> None:
    """Let the sender run until ``deadline`` (monotonic; or its final receipt), then SIGKILL."""
    sender.join(timeout=max(0.0, deadline - time.monotonic()))
    instance.kill_server()
    sender.join(timeout=60)
    assert not sender.is_alive(), "the client still waits for a server that is gone"


def test_sigkill_at_random_points_loses_no_receipted_batch_and_stores_none_in_part(
    instance: Instance, backend: str, claims_837p: bytes, tmp_path: Path
) -> None:
    story = Story(backend)
    rng = random.Random(SEED)  # kill points, not secrets
    first_number = 700_000_000 + rng.randrange(1_000_000)
    contents: list[Content] = []
    pending: list[Content] = []  # sent, and no final receipt in the client's hands yet
    receipts: list[tuple[Content, dict[str, Any]]] = []
    baseline = read_baseline(instance)
    downloaded: set[str] = set()

    def new_content() -> Content:
        contents.append(make_content(claims_837p, first_number + len(contents), tmp_path))
        pending.append(contents[-1])
        return contents[-1]

    def send(content: Content, *, give_up_after: float) -> Sender:
        sender = Sender(instance, content, give_up_after=give_up_after)
        sender.start()
        return sender

    def settle(sender: Sender) -> None:
        assert not sender.unexpected, f"{sender.unexpected}\n{story}"
        receipts.extend((sender.content, receipt) for receipt in sender.receipts)
        if sender.final is not None and sender.content in pending:
            pending.remove(sender.content)

    def check_state(after: str) -> State:
        state = read_state(instance, contents, baseline)
        assert not state.problems, f"after {after}:\n" + "\n".join(state.problems) + f"\n{story}"
        return state

    def check_downloads(state: State) -> None:
        for content in contents:
            for row in state.of(content):
                if row.id not in downloaded:
                    got = instance.download_sha256(row.id)
                    assert got == content.sha256, f"batch {row.id}: other content\n{story}"
                    downloaded.add(row.id)

    def check(after: str) -> State:
        state = check_state(after)
        check_downloads(state)
        return state

    def whole_send(what: str) -> Milestones:
        sender = send(new_content(), give_up_after=300)
        sender.join()
        settle(sender)
        assert sender.final is not None and sender.answered_at and sender.final_at, client_saw(
            sender
        )
        assert sender.receipts[0]["document"]["status"] == "processing", "not queued"
        seen = Milestones(sender.answered_at, sender.final_at - sender.answered_at)
        story.add(f"{what}: answered at {seen.answered:.2f} s, final {seen.final:.2f} s later")
        return seen

    # Two whole sends, not killed: they must work, and the second, whose lines the scrub
    # finds duplicates of the first's, on a server just started, as in every trial, gives
    # the milestones.
    whole_send("a whole send")
    instance.kill_server()
    instance.start_server()
    seen = whole_send("a whole send of the same claims again, after a restart")
    state = check("the whole sends")
    patience = (seen.answered + seen.final) * 3 + 60  # ample for one ingest after a restart

    for number, (stretch, point) in enumerate(kill_points(rng, seen), start=1):
        # The client retries what is pending, the oldest first; an upload is killed only
        # on content the server does not have, and the rest preferably on a batch it
        # holds, as its worker then takes that one at the start.
        held = [content for content in pending if state.of(content)]
        new = [content for content in pending if not state.of(content)]
        if stretch == "upload":
            content = new[0] if new else new_content()
        else:
            content = (held or new or [new_content()])[0]
        trial = Trial(stretch, held=bool(state.of(content)))
        before = ", ".join(row.status for row in state.of(content)) or "nothing"
        sender = send(content, give_up_after=patience)
        kill_during(instance, sender, trial.origin(instance, sender) + point)
        settle(sender)
        state = check_state(f"trial {number}")
        state.wait_out_leases()
        instance.start_server()
        check_downloads(state)
        after = ", ".join(row.status for row in state.of(content)) or "nothing"
        story.add(
            f"trial {number}: batch {content.number} ({before} before), SIGKILL at {point:.2f} s "
            f"({stretch}); client: {client_saw(sender)}; {after} after"
        )

    # The client's last retries, not killed; then `claimbridge send` again for every batch.
    for content in list(pending):
        last = send(content, give_up_after=patience)
        last.join()
        settle(last)
        assert last.final is not None, (
            f"batch {content.number} never became final after the restart; the client "
            f"saw: {client_saw(last)}\n{_stuck(instance, content)}\n{story}"
        )
    for content in contents:
        answer = instance.send_with_cli(content, wait_seconds=int(patience))
        assert answer.get("duplicate") is True, f"{answer}\n{story}"
        receipts.append((content, answer["receipt"]))
    state = check("the last retries")
    downloaded.clear()
    check("the last retries (every batch read again)")
    for content, receipt in receipts:
        signed = read_receipt(receipt)
        signed.verify_with(instance.public_key)
        assert signed.document["batch_id"] == state.of(content)[0].id, f"{signed}\n{story}"
    for content in contents:
        (row,) = state.of(content)
        final = read_receipt(row.receipt or "").document
        assert (final["status"], final["claims"]["stored"]) == ("accepted", CLAIMS), (
            f"batch {content.number} ended {final['status']} with {final['claims']} "
            f"and errors {final.get('errors')}\n{story}"
        )
    verified = CliRunner().invoke(
        cli, ["audit", "verify", "--data-dir", str(instance.data_dir), "--json"], env=instance.env
    )
    assert verified.exit_code == 0, f"{verified.output}\n{story}"
    starts = sorted(instance.starts)
    print(  # the figures, shown with -s
        f"\n{story}\n{len(contents)} batches; server starts: {len(starts)}, "
        f"median {starts[len(starts) // 2]:.2f} s, max {starts[-1]:.2f} s"
    )


def _stuck(instance: Instance, content: Content) -> str:
    """Why a batch is still processing, from its row (for the failure message)."""
    with _snapshot(instance.database_url) as session:
        row = session.scalars(select(Batch).where(Batch.content_sha256 == content.sha256)).first()
        if row is None:
            return "no batch row"
        return (
            f"batch {row.id}: status {row.status}, lease_until {row.lease_until}, "
            f"attempts {row.attempts} (now {datetime.now(UTC):%H:%M:%S} UTC)"
        )
