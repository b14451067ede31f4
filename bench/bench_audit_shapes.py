"""Two shapes for a totally ordered audit log, measured side by side.

    uv run python bench/bench_audit_shapes.py [appends]

A. Chain at write time (today): each access is one transaction calling
   ``audit.record.record`` (append lock, read the head, insert the event).
B. Queue and sequencer (Trillian's shape), prototyped here only: each access
   transaction inserts one ``audit_queue`` row, with no global lock; one
   sequencer process loops: in one transaction it takes the append lock,
   reads up to K queued rows oldest first, chains them onto the head as
   ``record()`` does (``record.event_fields``, ``canonical.encode_event``,
   ``chain.link``), inserts them into ``audit_events``, deletes them from the
   queue and commits; after a short batch it sleeps ``POLL`` seconds.

On a fresh SQLite file and a PostgreSQL scratch database (127.0.0.1:5432,
dropped after), A and B (K = 100, 1000) each run ``appends`` accesses
(default 2,000) with 1 and 8 writer processes (fork). The window is an
access's commit (seen by its writer) to the commit of the batch that
chained it (seen by the sequencer; both CLOCK_MONOTONIC). Afterwards
``verify_stored_log`` must find one unbroken chain holding every committed
access exactly once, and the queue must be empty.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, insert, text
from sqlalchemy.orm import Session, sessionmaker

from bench_audit_append import phi_read, postgres_database, postgres_unavailable, sqlite_database
from claimbridge.audit.canonical import encode_event
from claimbridge.audit.chain import GENESIS, ChainHead, link
from claimbridge.audit.record import Event, event_fields, record
from claimbridge.audit.verify import Verified, verify_stored_log
from claimbridge.storage.audit import AuditEvent, last_event
from claimbridge.storage.db import lock_for_append, make_engine, make_sessionmaker
from claimbridge.types import new_id

APPENDS = 2_000
WRITERS = (1, 8)
BATCHES = (100, 1000)
POLL = 0.01
TIMEOUT = 1800  # a writer that dies never reports: fail, not hang
COLUMNS = (
    *("event_id", "occurred_at", "actor_user_id", "actor_org_id", "actor_roles", "auth_method"),
    *("source_address", "action", "resource_type", "resource_id", "tenant_id", "patient_ref"),
    *("purpose", "outcome", "request_id", "enqueued_at"),
)
_ENQUEUE = text(  # the column names are constants, not input
    f"INSERT INTO audit_queue ({', '.join(COLUMNS)}) VALUES ({', '.join(':' + c for c in COLUMNS)})"  # noqa: S608
)
_TAKE = text(f"SELECT id, {', '.join(COLUMNS)} FROM audit_queue ORDER BY id LIMIT :k")  # noqa: S608
_DONE = text("DELETE FROM audit_queue WHERE id IN :ids").bindparams(
    bindparam("ids", expanding=True)
)
_APPEND = insert(AuditEvent)


def create_queue(url: str) -> None:
    """The queue table; ``occurred_at`` is RFC 3339 text, so it reads back the same instant."""
    postgres = url.startswith("postgresql")
    key = "BIGSERIAL PRIMARY KEY" if postgres else "INTEGER PRIMARY KEY"
    real = "DOUBLE PRECISION" if postgres else "REAL"
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(f"""CREATE TABLE audit_queue (
                id {key}, event_id VARCHAR(36) NOT NULL, occurred_at VARCHAR(40) NOT NULL,
                actor_user_id VARCHAR(36), actor_org_id VARCHAR(36), actor_roles TEXT NOT NULL,
                auth_method VARCHAR(30), source_address VARCHAR(64), action VARCHAR(100) NOT NULL,
                resource_type VARCHAR(50), resource_id VARCHAR(100), tenant_id VARCHAR(36),
                patient_ref VARCHAR(64), purpose VARCHAR(30), outcome VARCHAR(10) NOT NULL,
                request_id VARCHAR(64), enqueued_at {real} NOT NULL)""")
        )
    engine.dispose()


# -- the two shapes of an access -----------------------------------------------------


def queue_row(event: Event, now: datetime) -> dict[str, object]:
    """The queue row for ``event``: ``record()``'s fields bar ``seq`` and the chain."""
    actor, own = event.actor, ("action", "resource_type", "resource_id", "tenant_id")
    own += ("patient_ref", "purpose", "outcome", "request_id")
    return {
        **{name: getattr(event, name) for name in own},
        **{"event_id": new_id(), "occurred_at": now.isoformat(), "enqueued_at": time.time()},
        **{"actor_user_id": actor.user_id, "actor_org_id": actor.organisation_id},
        **{"actor_roles": json.dumps(list(actor.roles)), "auth_method": actor.auth_method},
        "source_address": actor.source_address,
    }


def access_chained(sessions: sessionmaker[Session], event: Event) -> None:
    with sessions.begin() as session:
        record(session, event, now=datetime.now(UTC))


def access_queued(sessions: sessionmaker[Session], event: Event) -> None:
    with sessions.begin() as session:
        session.execute(_ENQUEUE, queue_row(event, datetime.now(UTC)))


ACCESSES: dict[str, Callable[[sessionmaker[Session], Event], None]] = {
    "A": access_chained,
    "B": access_queued,
}


def integrate(sessions: sessionmaker[Session], k: int) -> list[str]:
    """One sequencer batch: chain up to ``k`` queued events; their request ids."""
    with sessions.begin() as session:
        lock_for_append(session, "audit")
        rows = session.execute(_TAKE, {"k": k}).mappings().all()
        if not rows:
            return []
        last = last_event(session)
        head = ChainHead(last[0], last[1] or GENESIS.event_hash) if last else GENESIS
        events = []
        for row in rows:
            # event_fields reads attributes only: a namespace costs less than an ORM object
            fields = event_fields(SimpleNamespace(**_event_values(row, head.seq + 1)))
            chained = link(head, encode_event(fields))
            head = ChainHead(chained.seq, chained.event_hash)
            events.append(
                {**fields, "prev_hash": chained.prev_hash, "event_hash": chained.event_hash}
            )
        session.connection().execute(_APPEND, events)
        session.execute(_DONE, {"ids": [row["id"] for row in rows]})
    return [row["request_id"] for row in rows]


def _event_values(row: Any, seq: int) -> dict[str, object]:
    values = {c: row[c] for c in COLUMNS if c not in ("event_id", "enqueued_at")}
    return {
        **values,
        "seq": seq,
        "id": row["event_id"],
        "occurred_at": datetime.fromisoformat(row["occurred_at"]),
        "actor_roles": json.loads(row["actor_roles"]),
    }


# -- processes -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Stint:
    start: float
    end: float
    done: list[tuple[str, float, float]]  # request id, latency, commit time
    warmup: str
    failed: int


@dataclass(frozen=True, slots=True)
class Sequenced:
    integrated: list[tuple[str, float]]  # request id, commit time of its batch
    busy: float
    batches: int


def _writer(url: str, *, shape: str, writer: int, count: int, ready: Any, out: Any) -> None:
    engine = make_engine(url)
    sessions, access = make_sessionmaker(engine), ACCESSES[shape]
    warmup = phi_read(writer, 0)
    access(sessions, warmup)
    ready.wait()
    done, failed, start = [], 0, time.monotonic()
    for n in range(1, count + 1):
        event, began = phi_read(writer, n), time.monotonic()
        try:
            access(sessions, event)
        except Exception:  # noqa: BLE001 - a failed access is counted, not fatal
            failed += 1
            continue
        committed = time.monotonic()
        done.append((event.request_id or "", committed - began, committed))
    out.put(Stint(start, time.monotonic(), done, warmup.request_id or "", failed))
    engine.dispose()


def _sequencer(url: str, k: int, stop: Any, out: Any) -> None:
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    integrated: list[tuple[str, float]] = []
    busy, batches = 0.0, 0
    while True:
        stopping = stop.is_set()  # set only once every writer has committed
        began = time.monotonic()
        ids = integrate(sessions, k)
        ended = time.monotonic()
        if ids:
            busy, batches = busy + ended - began, batches + 1
            integrated += [(i, ended) for i in ids]
        elif stopping:
            break
        if len(ids) < k:
            time.sleep(POLL)
    out.put(Sequenced(integrated, busy, batches))
    engine.dispose()


@dataclass(frozen=True, slots=True)
class Run:
    backend: str
    shape: str
    writers: int
    k: int | None
    stints: list[Stint]
    sequenced: Sequenced | None

    def committed(self) -> set[str]:
        return {s.warmup for s in self.stints} | {d[0] for s in self.stints for d in s.done}

    def row(self) -> str:
        done = [d for s in self.stints for d in s.done]
        seconds = max(s.end for s in self.stints) - min(s.start for s in self.stints)
        latency = statistics.quantiles([d[1] for d in done], n=100)
        failed = sum(s.failed for s in self.stints)
        line = (
            f"  {self.backend:<11}{self.shape:<3}{self.writers:>3}{self.k or '-':>6}"
            f"{len(done) / seconds:>10,.0f}{latency[49] * 1e3:>8.1f}{latency[98] * 1e3:>8.1f}"
            f"{failed:>7}"
        )
        if self.sequenced is None:
            return line
        seq = self.sequenced
        chained = dict(seq.integrated)
        window = sorted(chained[d[0]] - d[2] for d in done)
        q = statistics.quantiles(window, n=100)
        return line + (
            f"{len(seq.integrated) / seq.busy:>10,.0f}{len(seq.integrated) / seq.batches:>7.0f}"
            f"{q[49] * 1e3:>9.1f}{q[98] * 1e3:>8.1f}{window[-1] * 1e3:>8.1f}"
        )


def run(backend: str, url: str, *, shape: str, writers: int, k: int | None, count: int) -> Run:
    print(f"  {backend}: {shape}, {writers} writer(s), K={k or '-'} ...", flush=True)
    context = multiprocessing.get_context("fork")  # cheap to start on a busy box
    ready, out, stop, seq_out = context.Barrier(writers), context.Queue(), context.Event(), None
    sequencer = None
    if k is not None:
        seq_out = context.Queue()
        sequencer = context.Process(target=_sequencer, args=(url, k, stop, seq_out))
        sequencer.start()
    shares = [count // writers + (1 if i < count % writers else 0) for i in range(writers)]
    procs = [
        context.Process(
            target=_writer,
            args=(url,),
            kwargs={"shape": shape, "writer": w, "count": shares[w], "ready": ready, "out": out},
        )
        for w in range(writers)
    ]
    for proc in procs:
        proc.start()
    stints = [out.get(timeout=TIMEOUT) for _ in procs]
    for proc in procs:
        proc.join()
    stop.set()
    sequenced = seq_out.get(timeout=TIMEOUT) if seq_out is not None else None
    if sequencer is not None:
        sequencer.join()
    return Run(backend, shape, writers, k, stints, sequenced)


def drain(url: str, k: int, count: int) -> tuple[float, set[str]]:
    """The sequencer's capacity: events/s chaining a full queue of ``count`` events."""
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    events = [phi_read(90, n) for n in range(count)]
    with sessions.begin() as session:
        session.execute(_ENQUEUE, [queue_row(e, datetime.now(UTC)) for e in events])
    began, integrated = time.perf_counter(), 0
    while batch := integrate(sessions, k):
        integrated += len(batch)
    rate = integrated / (time.perf_counter() - began)
    engine.dispose()
    return rate, {e.request_id or "" for e in events}


def check(url: str, committed: set[str]) -> tuple[Verified, bool, int]:
    """The whole log verified; is every committed access in it exactly once, queue empty?"""
    engine = make_engine(url)
    with Session(engine) as session:
        verified = verify_stored_log(session)
        logged = set(session.scalars(text("SELECT request_id FROM audit_events")))
        queued = session.scalar(text("SELECT count(*) FROM audit_queue")) or 0
    engine.dispose()
    return verified, verified.events == len(committed) and logged == committed, queued


def bench_backend(backend: str, url: str, count: int) -> tuple[list[Run], list[str], bool]:
    create_queue(url)
    runs = [run(backend, url, shape="A", writers=w, k=None, count=count) for w in WRITERS]
    runs += [
        run(backend, url, shape="B", writers=w, k=k, count=count) for w in WRITERS for k in BATCHES
    ]
    committed = set().union(*(r.committed() for r in runs))
    notes = []
    for k in BATCHES:
        rate, ids = drain(url, k, count)
        committed |= ids
        notes.append(
            f"  {backend}: sequencer draining {count:,} queued events, K={k}: {rate:,.0f}/s"
        )
    verified, whole, queued = check(url, committed)
    notes.append(
        f"  {backend}: verify_stored_log: {verified.events:,} events, one unbroken chain, "
        f"head {verified.head_hash[:16]}...; {len(committed):,} committed accesses: "
        f"{'each in the log once' if whole else 'MISMATCH'}; {queued} left in the queue"
    )
    return runs, notes, whole and queued == 0


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else APPENDS
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start", flush=True)
    runs, notes, ok = [], [], True
    with tempfile.TemporaryDirectory(prefix="cb-shapes-") as tmp:
        databases: list[tuple[str, Any]] = [("sqlite", lambda: sqlite_database(Path(tmp)))]
        reason = postgres_unavailable()
        if reason is None:
            databases.append(("postgresql", postgres_database))
        for backend, database in databases:
            with database() as url:
                backend_runs, backend_notes, whole = bench_backend(backend, url, count)
            runs, notes, ok = runs + backend_runs, notes + backend_notes, ok and whole
    if reason is not None:
        notes.append(f"  postgresql: skipped, {reason}")
    print("\nA = record() in each access; B = queue row in each access + sequencer (K per batch)")
    print(
        f"  {'backend':<11}{'sh':<3}{'wr':>3}{'K':>6}{'access/s':>10}{'p50 ms':>8}{'p99 ms':>8}"
        f"{'failed':>7}{'seq ev/s':>10}{'batch':>7}{'win p50':>9}{'p99':>8}{'max ms':>8}"
    )
    for r in runs:
        print(r.row())
    print("  seq ev/s: events per second of the sequencer's own transaction time, during the run")
    print("  window: an access's commit to the commit of the batch that chained its event")
    print("\n".join(notes))
    print(f"load average {os.getloadavg()[0]:.2f} at the end (other work skews every figure)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
