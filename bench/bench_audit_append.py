"""How many audited appends per second the audit log takes, on SQLite and PostgreSQL.

    uv run python bench/bench_audit_append.py [appends]

An audited append is one committed transaction that calls
``claimbridge.audit.record.record`` with a realistic PHI-read event (actor
with user, organisation, roles, authentication method and address; patient
resource and tenant; a 64-hex keyed patient reference; purpose; request
id). Each backend gets a fresh database made with claimbridge's own engine
settings (``storage.db.make_engine``: WAL and ``synchronous=FULL`` on
SQLite) and migrated to head; a PostgreSQL scratch database on
127.0.0.1:5432 is dropped afterwards (``CLAIMBRIDGE_BENCH_POSTGRES_URL``
names another admin URL). On each, ``appends`` events (default 2,000) are
written by:

1. one writer;
2. 8 writers in 8 processes (spawn), each with its own engine, so the GIL
   hides no contention;
3. 8 writers as threads sharing one engine (one server process).

Throughput is committed appends over the wall time from the common start
to the last writer's end; latency is per transaction, lock waits included.
Afterwards the whole log is verified (``audit.verify.verify_stored_log``):
one chain, seq 1..N with no gap or fork, holding every committed event.

The aim is at least 2,000 audited appends/s on SQLite. Two figures are
printed beside it, to read it by: ``record()`` alone, many events in one
transaction (the audit's own cost per access, which shares the access's
commit), and the durable-commit floor of this disk (the standard
library's ``sqlite3`` committing empty-ish transactions with WAL and
``synchronous=FULL``): no design that commits each access durably goes
faster than that.
"""

from __future__ import annotations

import hashlib
import hmac
import multiprocessing
import os
import secrets
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from claimbridge.audit.record import Actor, Event, record
from claimbridge.audit.verify import Verified, verify_stored_log
from claimbridge.storage import migrate
from claimbridge.storage.db import make_engine, make_sessionmaker

APPENDS = 2_000
WRITERS = 8
AIM = 2_000.0
POSTGRES_ADMIN_URL = os.environ.get(
    "CLAIMBRIDGE_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
INDEX_KEY = hashlib.sha256(b"bench: stands in for a tenant's audit.patient index key").digest()
BILLING_COMPANY = "20000000-0000-4000-8000-000000000001"
PRACTICES = tuple(f"40000000-0000-4000-8000-00000000000{n}" for n in range(1, 4))


# -- the event -------------------------------------------------------------------


def phi_read(writer: int, n: int) -> Event:
    """The event the PHI gateway writes when a biller opens a patient: no PHI values."""
    patient_id = str(uuid.UUID(int=(writer << 64) | n))
    return Event(
        action="phi:patient:read",
        resource_type="patient",
        resource_id=patient_id,
        tenant_id=PRACTICES[n % len(PRACTICES)],
        patient_ref=hmac.new(INDEX_KEY, patient_id.encode(), hashlib.sha256).hexdigest(),
        purpose="payment",
        request_id=uuid.uuid4().hex,
        actor=Actor(
            user_id=f"10000000-0000-4000-8000-{writer:012d}",
            organisation_id=BILLING_COMPANY,
            roles=("biller",),
            auth_method="password+totp",
            source_address=f"203.0.113.{10 + writer}",
        ),
    )


def append(sessions: sessionmaker[Session], writer: int, n: int) -> float:
    """One audited append, committed; its latency in seconds."""
    start = time.monotonic()
    with sessions.begin() as session:
        record(session, phi_read(writer, n), now=datetime.now(UTC))
    return time.monotonic() - start


@dataclass(frozen=True, slots=True)
class Stint:
    """What one writer did: its timed window, each append's latency, failures, commits."""

    start: float
    end: float
    latencies: list[float]
    failed: int
    committed: int


def write(sessions: sessionmaker[Session], writer: int, count: int, ready: Any) -> Stint:
    """Warm up with one append, wait for the others (``ready``), then append ``count``."""
    append(sessions, writer, 0)
    ready.wait()
    latencies, failed = [], 0
    start = time.monotonic()  # CLOCK_MONOTONIC: comparable across processes
    for n in range(1, count + 1):
        try:
            latencies.append(append(sessions, writer, n))
        except Exception:  # noqa: BLE001 - a failed append is counted, not fatal
            failed += 1
    return Stint(start, time.monotonic(), latencies, failed, committed=1 + len(latencies))


# -- runs ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Run:
    backend: str
    shape: str
    stints: list[Stint]

    @property
    def appends(self) -> int:
        return sum(len(s.latencies) for s in self.stints)

    @property
    def seconds(self) -> float:
        return max(s.end for s in self.stints) - min(s.start for s in self.stints)

    @property
    def rate(self) -> float:
        return self.appends / self.seconds

    def latency_ms(self, quantile: int) -> float:
        latencies = [x for s in self.stints for x in s.latencies]
        return statistics.quantiles(latencies, n=100)[quantile - 1] * 1e3


class _NoWait:
    def wait(self) -> None:
        return None


def one_writer(url: str, count: int) -> list[Stint]:
    engine = make_engine(url)
    try:
        return [write(make_sessionmaker(engine), 0, count, _NoWait())]
    finally:
        engine.dispose()


def _process_writer(url: str, writer: int, count: int, ready: Any, results: Any) -> None:
    engine = make_engine(url)
    try:
        results.put(write(make_sessionmaker(engine), writer, count, ready))
    finally:
        engine.dispose()


def process_writers(url: str, count: int, writers: int) -> list[Stint]:
    context = multiprocessing.get_context("spawn")
    ready, results = context.Barrier(writers), context.Queue()
    shares = _split(count, writers)
    procs = [
        context.Process(target=_process_writer, args=(url, w, shares[w], ready, results))
        for w in range(writers)
    ]
    for proc in procs:
        proc.start()
    stints = [results.get() for _ in procs]
    for proc in procs:
        proc.join()
        if proc.exitcode != 0:
            raise RuntimeError(f"writer process exited with {proc.exitcode}")
    return stints


def thread_writers(url: str, count: int, writers: int) -> list[Stint]:
    engine = make_engine(url, pool_size=writers)
    sessions, ready = make_sessionmaker(engine), threading.Barrier(writers)
    shares, stints = _split(count, writers), []

    def run(writer: int) -> None:
        stints.append(write(sessions, writer, shares[writer], ready))

    threads = [threading.Thread(target=run, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    engine.dispose()
    if len(stints) != writers:
        raise RuntimeError("a writer thread died")
    return stints


def _split(count: int, parts: int) -> list[int]:
    return [count // parts + (1 if i < count % parts else 0) for i in range(parts)]


def verify(url: str) -> Verified:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return verify_stored_log(session)
    finally:
        engine.dispose()


# -- databases -------------------------------------------------------------------


@contextmanager
def sqlite_database(workdir: Path, name: str = "audit.db") -> Iterator[str]:
    url = f"sqlite:///{workdir / name}"
    _migrate(url)
    yield url


@contextmanager
def postgres_database() -> Iterator[str]:
    admin = make_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"claimbridge_bench_{secrets.token_hex(6)}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(POSTGRES_ADMIN_URL).set(database=name)
        _migrate(url.render_as_string(hide_password=False))
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def postgres_unavailable() -> str | None:
    try:
        engine = make_engine(POSTGRES_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure means "not here"
        return f"{make_url(POSTGRES_ADMIN_URL).render_as_string()}: {type(exc).__name__}"
    return None


def _migrate(url: str) -> None:
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()


def bench_backend(backend: str, url: str, count: int) -> tuple[list[Run], Verified, int]:
    shapes: list[tuple[str, Callable[[], list[Stint]]]] = [
        ("1 writer", lambda: one_writer(url, count)),
        (f"{WRITERS} processes", lambda: process_writers(url, count, WRITERS)),
        (f"{WRITERS} threads", lambda: thread_writers(url, count, WRITERS)),
    ]
    runs = []
    for shape, go in shapes:
        print(f"  {backend}: {shape} ...", flush=True)
        runs.append(Run(backend, shape, go()))
    committed = sum(s.committed for run in runs for s in run.stints)
    return runs, verify(url), committed


# -- report ----------------------------------------------------------------------


def print_runs(runs: list[Run]) -> None:
    print()
    print("audited appends (one committed transaction each: record() + commit)")
    print(
        f"  {'backend':<11}{'writers':<13}{'appends':>8}{'seconds':>9}"
        f"{'appends/s':>11}{'p50 ms':>8}{'p99 ms':>8}{'failed':>8}"
    )
    for run in runs:
        failed = sum(s.failed for s in run.stints)
        print(
            f"  {run.backend:<11}{run.shape:<13}{run.appends:>8,}{run.seconds:>9.2f}"
            f"{run.rate:>11,.0f}{run.latency_ms(50):>8.2f}{run.latency_ms(99):>8.2f}{failed:>8}"
        )


def print_verified(backend: str, verified: Verified, committed: int) -> bool:
    whole = verified.events == committed
    print(
        f"  {backend}: verify_stored_log: {verified.events:,} events, one unbroken chain "
        f"(seq 1..{verified.events:,}, no gap, no fork), head {verified.head_hash[:16]}...; "
        f"{committed:,} appends committed: {'all in the log' if whole else 'MISMATCH'}"
    )
    return whole


# -- below the aim: where the time goes ----------------------------------------------


def in_transaction_rate(url: str, count: int) -> float:
    """``record()`` alone: ``count`` events in one transaction (what audit adds to an access)."""
    engine = make_engine(url)
    try:
        sessions = make_sessionmaker(engine)
        began = time.perf_counter()
        with sessions.begin() as session:
            for n in range(count):
                record(session, phi_read(0, n), now=datetime.now(UTC))
        return count / (time.perf_counter() - began)
    finally:
        engine.dispose()


def fsync_floor(workdir: Path, count: int) -> float:
    """Empty write transactions per second on this disk with SQLite WAL + synchronous=FULL:
    the most any design that commits each access durably can reach here."""
    connection = sqlite3.connect(workdir / "floor.db", isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
        connection.execute("CREATE TABLE t (n INTEGER)")
        began = time.perf_counter()
        for n in range(count):
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("INSERT INTO t VALUES (?)", (n,))
            connection.execute("COMMIT")
        return count / (time.perf_counter() - began)
    finally:
        connection.close()


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else APPENDS
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start", flush=True)
    runs: list[Run] = []
    checks: list[tuple[str, Verified, int]] = []
    with tempfile.TemporaryDirectory(prefix="cb-bench-") as tmp:
        workdir = Path(tmp)
        with sqlite_database(workdir) as url:
            sqlite_runs, verified, committed = bench_backend("sqlite", url, count)
        runs += sqlite_runs
        checks.append(("sqlite", verified, committed))
        reason = postgres_unavailable()
        if reason is None:
            with postgres_database() as url:
                pg_runs, verified, committed = bench_backend("postgresql", url, count)
            runs += pg_runs
            checks.append(("postgresql", verified, committed))
        print_runs(runs)
        if reason is not None:
            print(f"  postgresql: skipped, {reason}")
        print()
        printed = [print_verified(*check) for check in checks]  # every line, not the first bad
        whole = all(printed)
        single = sqlite_runs[0].rate
        verdict = "met" if single >= AIM else "MISSED"
        print(f"  aim: >= {AIM:,.0f} audited appends/s on SQLite: {single:,.0f}/s, {verdict}")
        with sqlite_database(workdir, "inside.db") as url:
            inside = in_transaction_rate(url, count)
        floor = fsync_floor(workdir, count)
        print(f"  record() inside one transaction (SQLite):  {inside:>9,.0f} appends/s")
        print(
            f"  durable commits/s on this disk (sqlite3, FULL): {floor:>6,.0f}  (the ceiling above)"
        )
    print(f"load average {os.getloadavg()[0]:.2f} at the end (other work skews every figure)")
    return 0 if whole else 1


if __name__ == "__main__":
    sys.exit(main())
