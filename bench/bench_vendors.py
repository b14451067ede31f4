"""Vendor risk: the engagement gate per request, the watcher's sweep, and offboarding at scale.

    uv run python bench/bench_vendors.py [--patients 2000] [--engagements 200] [--calls 2000]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test] [--tracemalloc]

One data directory in a temporary folder, removed at the end: SQLite by
default; with ``--database-url`` (an admin URL of a PostgreSQL server) a
scratch database of its own is created on that server and dropped
afterwards. ``claimbridge demo --patients N`` fills it, in a process of
its own, as a user would: Riverside Family Medicine with N patients, its
claims, its batch in through the exchange, and its two engagements
(Summit Billing Partners active, Keystone Claims Services rejected).

1. **The gate on the request path.** ``--engagements`` more engagements,
   between practices and billing companies of their own, are written
   straight into the tables (an approved assessment and a signed BAA, then
   the gate run on each), as ``tests/functional/vendors/conftest.py``'s
   ``open_engagement`` does: each billing company engaged with 20
   practices. One in ten has a BAA that expires two days on, one in ten
   one that expires twenty days on; the rest none. Timed call by call,
   after a warm-up, ``--calls`` calls each, median and 95th percentile,
   and the SQL statements one call sends:
   ``storage.orgs.engaged_practices`` (what every list, batch and PHI read
   of a billing company asks: ``status = 'active' AND active_until >
   now``), ``access.engagements.standing`` over the engagements in turn
   (every condition checked: what a refusal, a sweep and each workflow
   step run), and ``access.engagements.refusal`` for an engagement whose
   BAA has expired (five days on, before any sweep: the lapse is found on
   the request path, and the 403 names why).
2. **The watcher.** ``vendors.watch.sweep`` five days on, in its own
   transaction, committed: the BAAs that expired lapse (status, notice,
   audit event) and the ones expiring within 30 days get a reminder. Then a
   second sweep at the same moment, with nothing left to do.
3. **Offboarding** Riverside, as ``claimbridge engagements terminate`` and
   ``confirm-receipt`` do it: terminate Riverside and Summit; export the
   return package (wall and CPU seconds, records/s, package size, and the
   resident set's growth during the export: ``VmHWM`` after resetting it,
   else ``ru_maxrss``; ``--tracemalloc`` adds Python's own peak, and slows
   the export); download it; terminate Riverside and Keystone (it never
   held PHI, but a live engagement holds the shred); confirm receipt and
   shred (``confirm_and_shred``: the KEKs destroyed, the probes, the signed
   certificate, the blob files deleted); verify the certificate offline
   (median of 200 calls); and ``unpack`` the package, every file checked
   against its manifest, the record counts against the export's.

The machine may be shared: the load average at the start and end is
printed, and CPU seconds beside the wall seconds of the long steps.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import hashlib
import json
import math
import os
import re
import resource
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import event, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from claimbridge.access.engagements import refresh, refusal, standing
from claimbridge.access.principal import Principal
from claimbridge.audit.record import unit_of_work
from claimbridge.clock import SystemClock
from claimbridge.config import Settings, load_settings
from claimbridge.crypto.files import SealedFiles
from claimbridge.crypto.keyring import Keyring
from claimbridge.crypto.passphrase import DEFAULT_SCRYPT_N
from claimbridge.demo.accounts import KEYSTONE, RIVERSIDE, SUMMIT
from claimbridge.instance.auditkey import open_audit_key
from claimbridge.instance.keys import open_keyring
from claimbridge.instance.open import open_database
from claimbridge.storage.blobs import BlobStore
from claimbridge.storage.db import make_engine, make_sessionmaker
from claimbridge.storage.orgs import (
    Engagement,
    EngagementStatus,
    Organisation,
    OrgKind,
    engaged_practices,
)
from claimbridge.storage.vendors import (
    Assessment,
    AssessmentStatus,
    BusinessAssociateAgreement,
    Termination,
)
from claimbridge.vendors.destruction import verify_certificate
from claimbridge.vendors.offboarding import (
    Offboarding,
    TerminationState,
    TerminationView,
    certificate_of,
    confirm_and_shred,
    export_return_package,
    open_return_package,
    terminate,
)
from claimbridge.vendors.parties import local_admin
from claimbridge.vendors.questionnaires import latest
from claimbridge.vendors.returns import unpack
from claimbridge.vendors.watch import sweep

console = Console(stderr=True)
PRACTICES_PER_COMPANY = 20
WARM_UP = 50
VERIFY_CALLS = 200
LATER = timedelta(days=5)
"""When the lapse is looked for and the watcher sweeps: after the short BAAs expired."""
PASSPHRASE = "bench: a throwaway package passphrase"  # noqa: S105 - synthetic
READ = 1 << 20
SCRYPT_R = 8
"""The scrypt block size ``crypto/passphrase.py`` seals packages with."""


# -- time and memory ----------------------------------------------------------------------


def status_mb(field: str) -> float:
    """A field of /proc/self/status (VmRSS, VmHWM) in MB; 0 where there is none."""
    try:
        with open("/proc/self/status") as status:
            found = re.search(rf"^{field}:\s+(\d+) kB", status.read(), re.MULTILINE)
    except OSError:
        return 0.0
    return int(found.group(1)) / 1024 if found else 0.0


def reset_peak() -> bool:
    """Reset VmHWM to the current resident set, so the next step's peak is its own."""
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
    except OSError:
        return False
    return True


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


@contextlib.contextmanager
def timed(what: str) -> Iterator[list[float]]:
    """Wall and CPU seconds of the block, into the list it yields; a spinner meanwhile."""
    spent: list[float] = []
    wall, cpu = time.perf_counter(), time.process_time()
    with console.status(what):
        yield spent
    spent.extend((time.perf_counter() - wall, time.process_time() - cpu))


def per_call(call: Callable[[int], object], calls: int) -> list[float]:
    """Microseconds of each of ``calls`` calls (``call(n)`` for the n-th), after a warm-up."""
    for number in range(min(WARM_UP, calls)):
        call(number)
    spent = []
    for number in range(calls):
        start = time.perf_counter_ns()
        call(number)
        spent.append((time.perf_counter_ns() - start) / 1000)
    return spent


def quantile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


def statements(session: Session, call: Callable[[], object]) -> int:
    """How many SQL statements one ``call`` sends."""
    sent = [0]

    def count(*_: object) -> None:
        sent[0] += 1

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return sent[0]


def print_calls(what: str, spent: Sequence[float], sent: int) -> None:
    print(
        f"  {what:<50} median {statistics.median(spent):8.1f} µs   "
        f"p95 {quantile(spent, 0.95):8.1f} µs   {sent} statements   ({len(spent):,} calls)"
    )


def scrypt_cost() -> str:
    """What deriving the package's key costs alone: the fixed part of export and unpack."""
    memory = 128 * DEFAULT_SCRYPT_N * SCRYPT_R
    start = time.perf_counter()
    hashlib.scrypt(
        PASSPHRASE.encode(), salt=bytes(16), n=DEFAULT_SCRYPT_N, r=SCRYPT_R, p=1, maxmem=2 * memory
    )
    spent = time.perf_counter() - start
    cost = f"n = 2^{DEFAULT_SCRYPT_N.bit_length() - 1}, r = {SCRYPT_R}"
    return f"{spent:.2f} s and {memory / 2**20:,.0f} MiB ({cost})"


def load_average() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


# -- the data directory ---------------------------------------------------------------------


@contextlib.contextmanager
def scratch_database(admin_url: str | None) -> Iterator[str | None]:
    """``None`` for the data directory's SQLite; else a fresh PostgreSQL database, then dropped."""
    if admin_url is None:
        yield None
        return
    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"claimbridge_bench_vendors_{secrets.token_hex(6)}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def load_demo_data(data_dir: Path, url: str | None, patients: int, seed: int) -> dict[str, Any]:
    """``claimbridge demo`` into ``data_dir``, in its own process; its JSON summary."""
    env = dict(os.environ)
    if url is not None:
        env["CLAIMBRIDGE_DATABASE_URL"] = url
    command = [sys.executable, "-m", "claimbridge", "demo", "--data-dir", str(data_dir)]
    command += ["--patients", str(patients), "--seed", str(seed), "--json"]
    with timed(f"claimbridge demo --patients {patients:,}") as spent:
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"claimbridge demo failed (exit {done.returncode})")
    summary: dict[str, Any] = json.loads(done.stdout)
    batch = summary.get("batch") or {}
    print(
        f"demo loaded in {spent[0]:.1f} s (its own process): {summary['patients']:,} patients, "
        f"{summary['encounters']:,} encounters, {summary['claims']:,} claims with "
        f"{summary['service_lines']:,} lines; {summary['batch_claims']:,} of them in through "
        f"the exchange (receipt {batch.get('status', '-')})"
    )
    return summary


@dataclass
class Opened:
    settings: Settings
    sessions: sessionmaker[Session]
    keyring: Keyring

    @property
    def files(self) -> SealedFiles:
        return SealedFiles(BlobStore(self.settings.paths.blobs), self.keyring)


@contextlib.contextmanager
def opened(data_dir: Path, url: str | None) -> Iterator[Opened]:
    """The data directory as ``claimbridge`` commands open it (the demo's passphrase file)."""
    settings = load_settings(data_dir, database_url=url)
    with open_keyring(settings, clock=SystemClock()) as keyring:
        engine = open_database(settings, upgrade=False)
        try:
            yield Opened(settings, make_sessionmaker(engine), keyring)
        finally:
            engine.dispose()


# -- 1. the gate ----------------------------------------------------------------------------


@dataclass
class GateWorld:
    companies: list[str]
    engagements: list[str]
    lapsing: list[tuple[str, str]]
    """(billing company, practice) of the engagements whose BAA expires before ``LATER``."""


def baa_expiry(number: int, now: datetime) -> date | None:
    """One engagement in ten lapses before ``LATER``, one in ten is reminded of it; most never."""
    if number % 10 == 0:
        return (now + timedelta(days=2)).date()
    if number % 10 == 1:
        return (now + timedelta(days=20)).date()
    return None


def build_gate_world(sessions: sessionmaker[Session], count: int, now: datetime) -> GateWorld:
    """``count`` engagements, each opened as ``open_engagement`` opens it, in one transaction."""
    companies = max(1, math.ceil(count / PRACTICES_PER_COMPANY))
    practices = math.ceil(count / companies)
    tag = secrets.token_hex(3)
    columns = (
        TextColumn("engagements"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,}"),
    )
    with Progress(*columns, console=console, transient=True) as bar, sessions.begin() as session:
        task = bar.add_task("engagements", total=count)
        orgs = [
            Organisation(
                name=f"Bench Billing {tag} {n:04d}",
                kind=OrgKind.BILLING_COMPANY.value,
                created_at=now,
            )
            for n in range(companies)
        ] + [
            Organisation(
                name=f"Bench Practice {tag} {n:04d}", kind=OrgKind.PRACTICE.value, created_at=now
            )
            for n in range(practices)
        ]
        session.add_all(orgs)
        session.flush()
        company_ids = [org.id for org in orgs[:companies]]
        practice_ids = [org.id for org in orgs[companies:]]
        world = GateWorld(company_ids, [], [])
        for number in range(count):
            company, practice = company_ids[number % companies], practice_ids[number // companies]
            expires = baa_expiry(number, now)
            world.engagements.append(open_engagement(session, practice, company, expires, now))
            if expires is not None and expires < (now + LATER).date():
                world.lapsing.append((company, practice))
            bar.advance(task)
    return world


def open_engagement(
    session: Session, practice: str, company: str, baa_expires: date | None, now: datetime
) -> str:
    engagement = Engagement(
        practice_id=practice,
        billing_company_id=company,
        status=EngagementStatus.ASSESSING.value,
        created_at=now - timedelta(days=40),
    )
    session.add(engagement)
    session.flush()
    session.add(
        Assessment(
            engagement_id=engagement.id,
            questionnaire_version=latest().version,
            status=AssessmentStatus.APPROVED.value,
            created_at=now - timedelta(days=35),
            submitted_at=now - timedelta(days=33),
            decided_at=now - timedelta(days=31),
            rating="low",
        )
    )
    session.add(
        BusinessAssociateAgreement(
            engagement_id=engagement.id,
            version="2026-1",
            practice_signatory="Dana Whitfield, Practice Administrator",
            vendor_signatory="Sam Ortega, Chief Executive",
            signed_on=(now - timedelta(days=30)).date(),
            effective_on=(now - timedelta(days=30)).date(),
            expires_on=baa_expires,
            breach_notice_days=30,
            subcontractor_flow_down=True,
            on_termination="return_or_destroy",
            blob_key="0" * 64,
            sha256="0" * 64,
            size=0,
            media_type="application/pdf",
            signed_at=now - timedelta(days=30),
        )
    )
    engagement.baa_signed_at = now - timedelta(days=30)
    refresh(session, engagement, now=now)
    return engagement.id


def gate(sessions: sessionmaker[Session], world: GateWorld, calls: int, now: datetime) -> None:
    later = now + LATER
    with sessions() as session:
        active = session.scalar(
            select(func.count())
            .select_from(Engagement)
            .where(
                Engagement.id.in_(world.engagements),
                Engagement.status == EngagementStatus.ACTIVE.value,
            )
        )
        sizes = [len(engaged_practices(session, c, now=now)) for c in world.companies]
        print(
            f"{len(world.engagements):,} engagements ({active:,} active) between "
            f"{len(world.companies):,} billing companies and their practices "
            f"({min(sizes)}-{max(sizes)} each); {len(world.lapsing)} BAAs expire before "
            f"{later.date()}"
        )
        companies = world.companies
        with console.status("engaged_practices"):
            spent = per_call(
                lambda n: engaged_practices(session, companies[n % len(companies)], now=now), calls
            )
        sent = statements(session, lambda: engaged_practices(session, companies[0], now=now))
        print_calls("storage.orgs.engaged_practices (per call)", spent, sent)
        rows = session.scalars(select(Engagement).where(Engagement.id.in_(world.engagements))).all()
        with console.status("standing"):
            spent = per_call(lambda n: standing(session, rows[n % len(rows)], now=now), calls)
        sent = statements(session, lambda: standing(session, rows[0], now=now))
        print_calls("access.engagements.standing (per engagement)", spent, sent)
        lapsed = world.lapsing
        found = refusal(session, *lapsed[0], now=later)
        assert found is not None, "the lapsed engagement was not refused"
        with console.status("refusal"):
            spent = per_call(lambda n: refusal(session, *lapsed[n % len(lapsed)], now=later), calls)
        sent = statements(session, lambda: refusal(session, *lapsed[0], now=later))
        print_calls(f"access.engagements.refusal (lapsed: {found.where})", spent, sent)
        session.rollback()


# -- 2. the watcher -------------------------------------------------------------------------


def watcher(sessions: sessionmaker[Session], settings: Settings, now: datetime) -> None:
    later = now + LATER
    for which in ("first", "second"):
        with timed(f"{which} sweep") as spent, sessions.begin() as session:
            done = sweep(session, now=later, settings=settings)
        print(
            f"  {which} sweep at {later.date()}: {spent[0] * 1000:8.1f} ms "
            f"({spent[1] * 1000:.1f} ms CPU): {done.checked:,} engagements checked, "
            f"{len(done.changes):,} changed ({len(done.lapsed):,} lapsed), "
            f"{len(done.reminders):,} reminders"
        )


# -- 3. offboarding -------------------------------------------------------------------------


def engagement_between(sessions: sessionmaker[Session], practice: str, company: str) -> str:
    with sessions() as session:
        found = session.scalar(
            select(Engagement.id)
            .join(Organisation, Organisation.id == Engagement.practice_id)
            .where(
                Organisation.name == practice,
                Engagement.billing_company_id.in_(
                    select(Organisation.id).where(Organisation.name == company)
                ),
            )
        )
    if found is None:
        raise SystemExit(f"the demo has no engagement between {practice} and {company}")
    return found


def ended(
    sessions: sessionmaker[Session], principal: Principal, engagement: str
) -> TerminationView:
    return unit_of_work(
        sessions,
        lambda session: terminate(
            session, principal, engagement, reason="bench", now=SystemClock().now()
        ),
    )


@contextlib.contextmanager
def export_bar() -> Iterator[Callable[[int, int], None]]:
    bar = Progress(
        TextColumn("return package"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("records and files"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    with bar:
        task = bar.add_task("package", total=None)

        def advance(done: int, total: int) -> None:
            if done == total or done % 1000 == 0:
                bar.update(task, completed=done, total=total)

        yield advance


def exported(
    inst: Opened, principal: Principal, engagement: str, *, heap: bool
) -> tuple[TerminationView, dict[str, int]]:
    parts = Offboarding(keyring=inst.keyring, files=inst.files)
    gc.collect()
    before, exact = status_mb("VmRSS"), reset_peak()
    rss_before = max_rss_mb()
    if heap:
        tracemalloc.start()
    wall, cpu = time.perf_counter(), time.process_time()
    with export_bar() as progress:
        view = export_return_package(
            inst.sessions,
            parts,
            principal,
            engagement,
            passphrase=PASSPHRASE,
            now=SystemClock().now(),
            progress=progress,
        )
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    python_peak = tracemalloc.get_traced_memory()[1] / 2**20 if heap else 0.0
    if heap:
        tracemalloc.stop()
    with inst.sessions() as session:
        termination = session.get(Termination, engagement)
        assert termination is not None
        assert termination.manifest is not None
        counts: dict[str, int] = json.loads(termination.manifest)["records"]
    records = sum(counts.values())
    size = (view.package_size or 0) / 1e6
    print(
        f"  export_return_package: {wall:6.2f} s ({cpu:.2f} s CPU): {records:,} records "
        f"({records / wall:,.0f} records/s), package {size:,.2f} MB ({size / wall:.2f} MB/s)"
    )
    print("    records: " + ", ".join(f"{table} {n:,}" for table, n in counts.items()))
    if exact:
        peak = status_mb("VmHWM")
        memory = f"resident {before:,.0f} MB before, peak {peak:,.0f} MB (+{peak - before:,.1f} MB)"
    else:
        memory = f"ru_maxrss growth {max_rss_mb() - rss_before:,.1f} MB"
    if heap:
        memory += f"; Python heap peak (tracemalloc) {python_peak:,.1f} MB"
    print(f"    memory during the export: {memory}")
    print(f"    of which the passphrase's scrypt: {scrypt_cost()}")
    return view, counts


def downloaded(inst: Opened, principal: Principal, engagement: str, out: Path) -> None:
    parts = Offboarding(keyring=inst.keyring, files=inst.files)
    with timed("download") as spent:
        download = unit_of_work(
            inst.sessions,
            lambda session: open_return_package(
                session, parts, principal, engagement, now=SystemClock().now()
            ),
        )
        with (
            parts.files.reader(download.practice_id, download.blob_key, download.key) as src,
            out.open("wb") as written,
        ):
            while chunk := src.read(READ):
                written.write(chunk)
    size = out.stat().st_size / 1e6
    print(
        f"  open_return_package and read it out: {spent[0] * 1000:8.1f} ms "
        f"({size / spent[0]:,.0f} MB/s)"
    )


def offboarding(inst: Opened, folder: Path, *, heap: bool) -> bool:
    summit = engagement_between(inst.sessions, RIVERSIDE, SUMMIT)
    keystone = engagement_between(inst.sessions, RIVERSIDE, KEYSTONE)
    principal = unit_of_work(inst.sessions, lambda session: local_admin(session, RIVERSIDE))
    with timed("terminate") as spent:
        view = ended(inst.sessions, principal, summit)
    print(f"  terminate {RIVERSIDE} ⇄ {SUMMIT}: {spent[0] * 1000:8.1f} ms ({view.state})")
    view, counts = exported(inst, principal, summit, heap=heap)
    package = folder / "return-package.bin"
    downloaded(inst, principal, summit, package)
    with timed("terminate") as spent:
        other = ended(inst.sessions, principal, keystone)
    print(f"  terminate {RIVERSIDE} ⇄ {KEYSTONE}: {spent[0] * 1000:8.1f} ms ({other.state})")
    server_key = open_audit_key(inst.settings, inst.keyring.providers)
    parts = Offboarding(keyring=inst.keyring, files=inst.files, server_key=server_key)
    blobs = sum(1 for p in inst.settings.paths.blobs.rglob("*") if p.is_file())
    with timed("confirm receipt and shred") as spent:
        view = confirm_and_shred(inst.sessions, parts, principal, summit, now=SystemClock().now())
    left = sum(1 for p in inst.settings.paths.blobs.rglob("*") if p.is_file())
    print(
        f"  confirm_and_shred: {spent[0]:6.2f} s ({spent[1]:.2f} s CPU): {view.state}; "
        f"files in the blob store {blobs} -> {left}"
    )
    if view.state is not TerminationState.SHREDDED:
        print(f"  NOT shredded: {view.explanation}")
        return False
    raw = unit_of_work(
        inst.sessions,
        lambda session: certificate_of(session, principal, summit, now=SystemClock().now()),
    )
    public_key = server_key.public_key_bytes()
    document = verify_certificate(raw, public_key)
    spent_us = per_call(lambda _: verify_certificate(raw, public_key), VERIFY_CALLS)
    destroyed = document["destroyed"]
    probes = document["evidence"]["probes"]
    print(
        f"  verify_certificate: {statistics.median(spent_us) / 1000:8.2f} ms median "
        f"({VERIFY_CALLS} calls); certificate {len(raw):,} bytes, "
        f"{sum(destroyed['records'].values()):,} records and {destroyed['files']['count']} "
        f"files destroyed, {len(probes)} probes (all failed: {document['evidence']['all_failed']})"
    )
    out = folder / "unpacked"
    gc.collect()
    before, exact = status_mb("VmRSS"), reset_peak()
    with timed("unpack") as spent, package.open("rb") as src:
        unpacked = unpack(src, PASSPHRASE, out)
    peak = status_mb("VmHWM") if exact else max_rss_mb()
    same = unpacked.records == counts
    print(
        f"  unpack: {spent[0]:6.2f} s ({spent[1]:.2f} s CPU): {unpacked.files} files, "
        f"{unpacked.bytes / 1e6:,.2f} MB checked against the manifest; records as exported: "
        f"{same}; resident peak +{peak - before:,.1f} MB"
    )
    return same


# -- main -----------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--patients", type=int, default=2_000, help="Riverside's patients")
    parser.add_argument("--engagements", type=int, default=200, help="engagements for the gate")
    parser.add_argument("--calls", type=int, default=2_000, help="timed calls per gate function")
    parser.add_argument("--seed", type=int, default=2026, help="the demo's seed")
    parser.add_argument(
        "--database-url", help="a PostgreSQL admin URL: a scratch database is made on its server"
    )
    parser.add_argument(
        "--tracemalloc", action="store_true", help="trace the export's Python heap (slower)"
    )
    args = parser.parse_args(argv)
    for name in [name for name in os.environ if name.startswith("CLAIMBRIDGE_")]:
        # The scratch data directory's own settings only (its demo passphrase file, …).
        del os.environ[name]
    if args.engagements < 1 or args.patients < 1 or args.calls < 1:
        parser.error("--patients, --engagements and --calls must be at least 1")
    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(f"load average at the start: {load_average()}; backend {backend}")
    with (
        tempfile.TemporaryDirectory(prefix="vendors-bench-") as name,
        scratch_database(args.database_url) as url,
    ):
        folder = Path(name)
        data_dir = folder / "data"
        load_demo_data(data_dir, url, args.patients, args.seed)
        with opened(data_dir, url) as inst:
            now = SystemClock().now()
            with timed(f"{args.engagements:,} engagements") as spent:
                world = build_gate_world(inst.sessions, args.engagements, now)
            print(f"== 1. the gate on the request path (engagements made in {spent[0]:.1f} s)")
            gate(inst.sessions, world, args.calls, now)
            print(f"== 2. the watcher ({args.engagements:,} engagements and the demo's)")
            watcher(inst.sessions, inst.settings, now)
            print(f"== 3. offboarding {RIVERSIDE} ({args.patients:,} patients)")
            complete = offboarding(inst, folder, heap=args.tracemalloc)
        shutil.rmtree(data_dir, ignore_errors=True)
    print(f"load average at the end: {load_average()}")
    return 0 if complete else 1


if __name__ == "__main__":
    sys.exit(main())
