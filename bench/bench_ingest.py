"""End-to-end ingest throughput of an 837P batch, beside parse-only, on SQLite and PostgreSQL.

    uv run python bench/bench_ingest.py [--claims 10000,100000] [--backends sqlite,postgresql]

For each size, writes one synthetic 005010X222A1 interchange
(``bench/x12/generate.py``) into a folder of its own under ``bench/.data/``,
removed at the end. Then, for each size and backend, one fresh process
(so its peak memory is its own):

1. migrates a fresh database (SQLite: a file in the run's folder, with
   claimbridge's own settings, WAL and ``synchronous=FULL``; PostgreSQL: a
   scratch database created on 127.0.0.1:5432 and dropped afterwards,
   ``CLAIMBRIDGE_BENCH_POSTGRES_URL`` names another admin URL) and builds
   an exchange world on it (``bench/exchange_world.py``): a practice
   engaged with a billing company, its signing key registered, a keyring
   and an encrypted blob store; the practice signs a manifest for the file;
2. times parse-only: ``read_837p`` from ``claimbridge.formats.x12`` over
   the file, every claim yielded;
3. times end to end: ``BatchService.receive`` with the file streamed from
   disk. That is what a sender waits for before its receipt: the manifest
   and signature checks and the engagement gate, streaming the content
   into an encrypted blob while hashing it, a validation pass over the
   decrypted blob, then one transaction that parses the blob again, maps
   each claim, matches patients by blind index, seals every PHI field,
   inserts the rows, writes the audit event and signs the receipt (999
   included), and the commit;
4. checks the outcome: the receipt verifies with the server's key, says
   ``accepted`` with every claim stored, and the database holds them.

Each database is fresh because the service matches patients by blind index
and refuses a second batch with the same ISA13 control number.

Throughput is claims over wall seconds; ``e2e/parse`` is the ratio of
the two rates. The machine may be shared, so the end-to-end claims per
CPU second of the measuring process is shown too, and the load average
at the start and end: on SQLite all the work is in that process, so the
CPU figure is what the wall figure would be on an idle machine, less the
disk's commit waits (on PostgreSQL the server's share of the work is not
in it).

Memory: the resident set after imports and setup is the baseline; the
peak is ``ru_maxrss`` of the measuring process (both phases), and the
growth is peak minus baseline. Where ``/proc/self/clear_refs`` lets the
peak be reset, each phase's own peak growth is shown too (``VmHWM``).
Where the service's private steps are found (``_store``,
``_read_through``, ``_ingest``), end-to-end time is split among them.

The aim (issue 7): at least 2,000 claims/s end to end on SQLite, with
memory flat as files grow.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import re
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from claimbridge.exchange.receipts import read_receipt
from claimbridge.formats.x12 import read_837p
from claimbridge.storage import migrate
from claimbridge.storage.audit import AuditEvent
from claimbridge.storage.claims import Claim
from claimbridge.storage.clinical import Patient
from claimbridge.storage.db import make_engine
from exchange_world import build_world
from x12.generate import write_837p

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
AIM = 2_000.0
DEFAULT_MAX_BYTES = 100 * 1024 * 1024
"""The server's default batch size limit (``config.max_batch_bytes``)."""
POSTGRES_ADMIN_URL = os.environ.get(
    "CLAIMBRIDGE_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PHASES = (("_store", "store"), ("_read_through", "validate"), ("_ingest", "ingest"))


# -- the measuring process -----------------------------------------------------------


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        found = re.search(rf"^{field}:\s+(\d+) kB", status.read(), re.MULTILINE)
    return int(found.group(1)) if found else 0


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
    except OSError:
        return False
    return True


def _max_rss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def _time_phases(service: object) -> dict[str, float]:
    """Wrap the service's steps, where found, to add up the wall time each takes."""
    spent: dict[str, float] = {}
    for attribute, name in PHASES:
        step = getattr(service, attribute, None)
        if not callable(step):
            continue

        def timed(
            *args: Any, _step: Callable[..., Any] = step, _name: str = name, **kwargs: Any
        ) -> Any:
            started = time.perf_counter()
            try:
                return _step(*args, **kwargs)
            finally:
                spent[_name] = spent.get(_name, 0.0) + time.perf_counter() - started

        setattr(service, attribute, timed)
    return spent


def parse_only(path: Path) -> tuple[int, float, float]:
    """Claims read, wall and CPU seconds of ``read_837p`` over the file."""
    claims = 0
    started, cpu = time.perf_counter(), time.process_time()
    with path.open("rb") as stream:
        reading = read_837p(stream)
        for _ in reading:
            claims += 1
    if reading.errors:
        raise SystemExit(f"the generated file does not read cleanly: {reading.errors[0]}")
    return claims, time.perf_counter() - started, time.process_time() - cpu


def measure(path: Path, url: str, folder: Path) -> dict[str, object]:
    """One run in this process: setup, parse-only, end to end, checks."""
    engine = make_engine(url)
    migrate.upgrade(engine)
    size = path.stat().st_size
    world = build_world(engine, folder, max_bytes=max(DEFAULT_MAX_BYTES, size + 1))
    manifest = world.manifest(path)
    spent = _time_phases(world.service)
    gc.collect()
    baseline = _status_kib("VmRSS")

    exact = _reset_peak()
    claims, parse_seconds, parse_cpu = parse_only(path)
    parse_peak = _status_kib("VmHWM") if exact else None

    exact = exact and _reset_peak()
    started, cpu = time.perf_counter(), time.process_time()
    delivery = world.send(path, manifest)
    e2e_seconds, e2e_cpu = time.perf_counter() - started, time.process_time() - cpu
    e2e_peak = _status_kib("VmHWM") if exact else None
    max_rss = _max_rss_kib()

    stored = check(world, delivery.receipt.dumps(), claims)
    world.close()
    engine.dispose()
    return {
        "claims": claims,
        "bytes": size,
        "parse_seconds": parse_seconds,
        "parse_cpu": parse_cpu,
        "e2e_seconds": e2e_seconds,
        "e2e_cpu": e2e_cpu,
        "phases": spent,
        "baseline_mb": baseline / 1024,
        "peak_mb": max_rss / 1024,
        "growth_mb": max(max_rss - baseline, 0) / 1024,
        "parse_growth_mb": None if parse_peak is None else max(parse_peak - baseline, 0) / 1024,
        "e2e_growth_mb": None if e2e_peak is None else max(e2e_peak - baseline, 0) / 1024,
        **stored,
    }


def check(world: Any, receipt_json: str, claims: int) -> dict[str, object]:
    """Refuse to report a figure for a run that did not store the whole batch."""
    receipt = read_receipt(receipt_json)
    receipt.verify_with(world.server_key.public_key_bytes())
    document = receipt.document
    counted = document["claims"]
    if document["status"] != "accepted" or counted["stored"] != claims:
        raise SystemExit(f"the batch was not stored whole: {document['status']}, {counted}")
    with world.sessions() as session:
        rows = session.scalar(select(func.count()).select_from(Claim))
        patients = session.scalar(select(func.count()).select_from(Patient))
        events = session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.resource_id == document["batch_id"])
        )
    if rows != claims or events != 1:
        raise SystemExit(f"the database holds {rows} claims and {events} batch events")
    return {"patients": patients, "receipt_bytes": len(receipt_json)}


def child_main(args: argparse.Namespace) -> None:
    result = measure(Path(args.measure), args.url, Path(args.folder))
    print(json.dumps(result))


# -- the conducting process ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Row:
    claims: int
    backend: str
    result: dict[str, Any] | None
    failure: str | None = None

    def rate(self, seconds_key: str) -> float:
        assert self.result is not None
        return int(self.result["claims"]) / float(self.result[seconds_key])

    @property
    def growth_mb(self) -> float:
        assert self.result is not None
        return float(self.result["growth_mb"])


@contextlib.contextmanager
def database(backend: str, folder: Path) -> Iterator[str]:
    """A fresh, empty database's URL; a PostgreSQL one is dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'claimbridge.db'}"
        return
    admin = make_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"claimbridge_bench_{secrets.token_hex(6)}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run_one(path: Path, backend: str, folder: Path, *, timeout: float) -> dict[str, Any] | str:
    """The result of one measuring process, or why it has none."""
    folder.mkdir()
    with database(backend, folder) as url:
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--measure",
            str(path),
            "--url",
            url,
            "--folder",
            str(folder),
        ]
        try:
            done = subprocess.run(  # noqa: S603 - this very script, in measuring mode
                command, capture_output=True, text=True, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired:
            return f"did not finish within {timeout:.0f} s"
    shutil.rmtree(folder)
    if done.returncode != 0:
        tail = " | ".join(done.stderr.strip().splitlines()[-3:])
        return f"exit code {done.returncode}: {tail}"
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def generate(claims: int, folder: Path, *, seed: int) -> Path:
    path = folder / f"claims-{claims}.837"
    started = time.perf_counter()
    with path.open("wb") as out:
        summary = write_837p(out, claims=claims, seed=seed)
    print(
        f"generated {summary.claims:,} claims, {summary.lines:,} service lines, "
        f"{summary.bytes / 1e6:,.1f} MB in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    return path


def _mb(value: object) -> str:
    return "-" if value is None else f"{float(str(value)):,.0f}"


def table(rows: list[Row]) -> str:
    head = (
        "claims",
        "backend",
        "MB",
        "parse-only/s",
        "end-to-end/s",
        "e2e/parse",
        "e2e per CPU s",
        "e2e s",
        "store/validate/ingest s",
        "peak RSS MB",
        "growth MB",
        "parse/e2e growth MB",
    )
    lines = [head]
    for row in rows:
        r = row.result
        if r is None:
            continue
        parse, e2e = row.rate("parse_seconds"), row.rate("e2e_seconds")
        phases = r["phases"]
        split = "/".join(f"{phases[name]:.1f}" for _, name in PHASES if name in phases)
        lines.append(
            (
                f"{row.claims:,}",
                row.backend,
                f"{int(r['bytes']) / 1e6:,.1f}",
                f"{parse:,.0f}",
                f"{e2e:,.0f}",
                f"{e2e / parse:.3f}",
                f"{row.rate('e2e_cpu'):,.0f}",
                f"{float(r['e2e_seconds']):,.1f}",
                split or "-",
                _mb(r["peak_mb"]),
                _mb(r["growth_mb"]),
                f"{_mb(r['parse_growth_mb'])}/{_mb(r['e2e_growth_mb'])}",
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    out = []
    for n, line in enumerate(lines):
        cells = [
            cell.rjust(widths[i]) if i != 1 else cell.ljust(widths[i])
            for i, cell in enumerate(line)
        ]
        out.append("  ".join(cells).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    out.extend(
        f"{row.claims:,} claims on {row.backend}: FAILED, {row.failure}"
        for row in rows
        if row.result is None
    )
    return "\n".join(out)


def summary(row: Row) -> str:
    if row.result is None:
        return f"FAILED: {row.failure}"
    return (
        f"parse-only {row.rate('parse_seconds'):,.0f} claims/s, end to end "
        f"{row.rate('e2e_seconds'):,.0f} claims/s ({float(row.result['e2e_seconds']):,.1f} s), "
        f"peak RSS {float(row.result['peak_mb']):,.0f} MB"
    )


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} CPUs"


def verdict(rows: list[Row]) -> list[str]:
    notes = []
    sqlite = [row for row in rows if row.backend == "sqlite" and row.result is not None]
    for row in sqlite:
        rate = row.rate("e2e_seconds")
        met = "met" if rate >= AIM else "NOT met"
        notes.append(
            f"SQLite, {row.claims:,} claims: {rate:,.0f} claims/s end to end; aim {AIM:,.0f}: {met}"
        )
    for backend in sorted({row.backend for row in rows}):
        done = sorted(
            (row for row in rows if row.backend == backend and row.result is not None),
            key=lambda row: row.claims,
        )
        if len(done) > 1:
            small, large = done[0], done[-1]
            notes.append(
                f"{backend}: peak growth {small.growth_mb:,.0f} MB at {small.claims:,} claims, "
                f"{large.growth_mb:,.0f} MB at {large.claims:,} "
                f"({large.claims / small.claims:g}x the claims)"
            )
    return notes


def conduct(args: argparse.Namespace) -> None:
    sizes = [int(n.replace("_", "")) for n in args.claims.split(",")]
    backends = args.backends.split(",")
    DATA.mkdir(exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="ingest-", dir=DATA))
    rows: list[Row] = []
    print(f"at the start: {_load()}", flush=True)
    try:
        for claims in sizes:
            path = generate(claims, folder, seed=args.seed)
            for backend in backends:
                print(f"{claims:,} claims on {backend}: measuring ...", flush=True)
                outcome = run_one(
                    path, backend, folder / f"{backend}-{claims}", timeout=args.timeout
                )
                row = (
                    Row(claims, backend, None, outcome)
                    if isinstance(outcome, str)
                    else Row(claims, backend, outcome)
                )
                rows.append(row)
                print(f"  {summary(row)}", flush=True)
            path.unlink()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        with contextlib.suppress(OSError):
            DATA.rmdir()  # only if nothing else lives there
    print(f"at the end: {_load()}")
    print()
    print("End-to-end ingest of a synthetic 837P (BatchService.receive), one process per run")
    print(table(rows))
    for note in verdict(rows):
        print(note)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", default="10000,100000", help="comma-separated sizes")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per run")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        child_main(args)
    else:
        conduct(args)


if __name__ == "__main__":
    main()
