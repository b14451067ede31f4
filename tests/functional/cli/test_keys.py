"""``claimbridge keys``: rotation, re-wrapping and shredding as an operator runs them."""

from __future__ import annotations

import json
import os
import random
import secrets
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from claimbridge.cli.main import app
from claimbridge.clock import SystemClock
from claimbridge.config import load_settings
from claimbridge.crypto.errors import DecryptionFailed
from claimbridge.crypto.keyring import Keyring
from claimbridge.crypto.providers.pkcs11 import PKCS11KeyProvider
from claimbridge.crypto.sealing import FieldSealer
from claimbridge.instance.keys import open_keyring
from claimbridge.phi.records import read_patient
from claimbridge.storage.audit import AuditEvent
from claimbridge.storage.clinical import Patient
from claimbridge.storage.db import make_engine, make_sessionmaker
from claimbridge.storage.keys import DataKeyRow, TenantKek
from claimbridge.storage.orgs import Organisation
from tests.functional.demo_instances import DemoInstances
from tests.functional.prefork import Prefork
from tests.functional.sqlite_reads import reading_engine
from tests.softhsm import SoftHSMToken

runner = CliRunner()
LOAD = "tests.functional.cli.rotation_load:main"
RIVERSIDE = "Riverside Family Medicine"
LAKESIDE = "Lakeside Family Practice"


@pytest.fixture
def data_dir(
    backend: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    demo_instances: DemoInstances,
) -> Path:
    """The demo with 30 patients, loaded once per backend; each test gets its own copy."""
    instance = demo_instances.copy(
        backend, tmp_path / "data", request, demo=["--patients", "30", "--json"]
    )
    if instance.database_url is not None:
        monkeypatch.setenv("CLAIMBRIDGE_DATABASE_URL", instance.database_url)
    return instance.data_dir


def _keys(data_dir: Path, *args: str) -> dict:  # type: ignore[type-arg]
    result = runner.invoke(app, ["keys", *args, "--data-dir", str(data_dir), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)  # type: ignore[no-any-return]


def _readable(data_dir: Path) -> dict[str, tuple[int, int]]:
    """Per organisation name: (patients that decrypt, patients in all), with fresh keys."""
    settings = load_settings(data_dir)
    engine = make_engine(settings.effective_database_url)
    result: dict[str, tuple[int, int]] = {}
    with (
        open_keyring(settings, clock=SystemClock()) as keyring,
        make_sessionmaker(engine)() as session,
    ):
        for org in session.scalars(select(Organisation)):
            rows = session.scalars(select(Patient).where(Patient.practice_id == org.id)).all()
            good = 0
            for row in rows:
                try:
                    read_patient(FieldSealer(keyring, session, org.id), row)
                    good += 1
                except DecryptionFailed:
                    pass
            if rows:
                result[org.name] = (good, len(rows))
    engine.dispose()
    return result


def _actions(data_dir: Path) -> list[str]:
    settings = load_settings(data_dir)
    engine = make_engine(settings.effective_database_url)
    with make_sessionmaker(engine)() as session:
        actions = list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))
    engine.dispose()
    return actions


def test_status_shows_versions_and_never_key_material(data_dir: Path) -> None:
    status = _keys(data_dir, "status")
    assert status["primary_provider"].startswith("local:")
    names = {kek["organisation"] for kek in status["keks"]}
    assert {RIVERSIDE, LAKESIDE, "Summit Billing Partners"} <= names
    text = json.dumps(status)
    assert "wrapped" not in text and "secret" not in text


def test_rotate_then_rewrap_retires_the_old_version_and_keeps_data_readable(data_dir: Path) -> None:
    assert _keys(data_dir, "rotate", "--org", RIVERSIDE)["new_version"] == 2
    assert _keys(data_dir, "rewrap", "--org", RIVERSIDE)["rewrapped"] >= 2
    states = {
        (k["version"], k["state"])
        for k in _keys(data_dir, "status")["keks"]
        if k["organisation"] == RIVERSIDE
    }
    assert states == {(1, "retired"), (2, "active")}
    readable = _readable(data_dir)
    assert readable[RIVERSIDE] == (30, 30)
    assert "crypto:kek:rotated" in _actions(data_dir)
    assert "crypto:data-keys:rewrapped" in _actions(data_dir)


def test_shred_leaves_none_of_that_organisation_readable_and_all_of_the_others(
    data_dir: Path,
) -> None:
    _keys(data_dir, "shred", "--org", LAKESIDE, "--yes")
    readable = _readable(data_dir)
    assert readable[LAKESIDE] == (0, 6)
    assert readable[RIVERSIDE] == (30, 30)
    assert "crypto:kek:shredded" in _actions(data_dir)


def test_shred_asks_first_and_does_nothing_when_refused(data_dir: Path) -> None:
    result = runner.invoke(
        app, ["keys", "shred", "--org", LAKESIDE, "--data-dir", str(data_dir)], input="n\n"
    )
    assert result.exit_code != 0
    assert _readable(data_dir)[LAKESIDE] == (6, 6)


def test_unknown_organisation_is_a_clear_error(data_dir: Path) -> None:
    result = runner.invoke(
        app, ["keys", "rotate", "--org", "Nowhere Clinic", "--data-dir", str(data_dir), "--json"]
    )
    assert result.exit_code == 66
    assert json.loads(result.output)["error"]["where"] == "org"


def test_root_key_rotation_rewraps_every_kek_and_destroys_the_old_root(data_dir: Path) -> None:
    before = _keys(data_dir, "status")["primary_provider"]
    old_root = (data_dir / "keys" / "root.key").read_bytes()
    moved = _keys(data_dir, "rotate-root")["rewrapped_keks"]
    status = _keys(data_dir, "status")
    assert moved == len(status["keks"])
    assert status["primary_provider"] != before
    live = [k for k in status["keks"] if k["state"] in {"active", "draining"}]
    assert {k["provider_id"] for k in live} == {status["primary_provider"]}
    assert (data_dir / "keys" / "root.key").read_bytes() != old_root
    assert not (data_dir / "keys" / "root.key.next").exists()
    assert _readable(data_dir)[RIVERSIDE] == (30, 30)


@pytest.fixture(scope="module", autouse=True)
def prefork(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prefork]:
    """The forking process, started with the module's first test (``autouse``), so that it
    imports claimbridge while the tests before the rotation test run."""
    forks = Prefork(stderr=tmp_path_factory.mktemp("prefork") / "stderr")
    yield forks
    forks.close()


REWRAPPED_KEYS = 60
"""Data keys to move at each rotation, one a transaction, besides those the writer makes:
enough that every kill lands with work done and work left."""


def test_rotation_killed_at_random_points_under_load_loses_nothing(
    data_dir: Path, tmp_path: Path, prefork: Prefork
) -> None:
    """Two rotations, each re-wrap SIGKILLed up to three times, beside a writer and a reader.

    Every process is forked from one interpreter that has already imported
    claimbridge (``tests.functional.prefork``), so starting one costs
    milliseconds, not seconds of imports: each ``keys rewrap`` is the command
    as an operator runs it, in a process of its own. The writer and the
    reader (``rotation_load.py``) run from before the first rotation until
    after the last re-wrap has finished.
    """
    settings = load_settings(data_dir)
    engine = make_engine(settings.effective_database_url)
    with make_sessionmaker(engine)() as session:
        org_id = session.scalars(
            select(Organisation.id).where(Organisation.name == RIVERSIDE)
        ).one()
    engine.dispose()
    _make_data_keys(data_dir, org_id, count=REWRAPPED_KEYS)
    # The forking process began before this test set its database: say it.
    env = {"CLAIMBRIDGE_DATABASE_URL": os.environ.get("CLAIMBRIDGE_DATABASE_URL")}
    writes, reads, stop = tmp_path / "writes.txt", tmp_path / "reads.txt", tmp_path / "stop"
    load = [
        prefork.start(
            [mode, str(data_dir), org_id, str(stop), str(out)],
            env=env,
            stdout=tmp_path / f"{mode}.out",
            stderr=tmp_path / f"{mode}.err",
            function=LOAD,
        )
        for mode, out in (("write", writes), ("read", reads))
    ]
    try:
        _wait_for_load(prefork, load, writes, reads)
        with _Progress(settings.effective_database_url, org_id) as progress:
            kills = _rotate_twice_killing_rewraps(data_dir, tmp_path, prefork, env, progress)
    finally:
        stop.touch()
    for pid, mode in zip(load, ("write", "read"), strict=True):
        ended = prefork.wait(pid, timeout=60)
        assert ended.status == 0, (tmp_path / f"{mode}.err").read_text()[-3000:]
    written = writes.read_text().split()
    reads_line = reads.read_text()
    assert "failures=0" in reads_line, reads_line
    assert _reads(reads) > 0
    assert len(written) > 0
    readable = _readable(data_dir)
    assert readable[RIVERSIDE] == (30 + len(written), 30 + len(written))
    assert kills >= 1, "no rewrap was killed: the test did not test resuming"
    print(f"SIGKILLs during rewrap: {kills}; rows written under rotation: {len(written)}")


def _rotate_twice_killing_rewraps(
    data_dir: Path,
    tmp_path: Path,
    forks: Prefork,
    env: dict[str, str | None],
    progress: _Progress,
) -> int:
    """Rotate, then re-wrap until done, SIGKILLing the first three tries part-way; twice."""
    rng = random.Random(7)
    kills = 0
    rewrap = ["keys", "rewrap", "--org", RIVERSIDE, "--batch", "1", "--data-dir", str(data_dir)]
    # Debug logging puts an unexpected error's traceback on stderr, kept so a
    # failure below says what went wrong.
    env = {**env, "CLAIMBRIDGE_LOG_LEVEL": "debug"}
    for _ in range(2):  # two rotations, each killed up to three times mid-way
        assert _keys(data_dir, "rotate", "--org", RIVERSIDE)["new_version"] >= 2
        for attempt in range(8):
            total = progress.keys_left()
            out, err = (tmp_path / f"rewrap-{kills}-{attempt}.{kind}" for kind in ("out", "err"))
            pid = forks.start([*rewrap, "--json"], env=env, stdout=out, stderr=err)
            # Kill it once a random part of the work is done; the last
            # attempt runs to the end: resuming must finish the job.
            if (
                attempt < 3
                and total > 1
                and progress.wait_until_left(rng.randint(1, total - 1), forks, pid)
            ):
                os.kill(pid, signal.SIGKILL)
            ended = forks.wait(pid, timeout=120)
            if ended.killed_by == signal.SIGKILL:
                kills += 1
                continue
            code = os.waitstatus_to_exitcode(ended.status)
            # 75 is "busy, run it again" (SQLite's lock under load): an
            # operator reruns the resumable job, and so does the test.
            assert code in (0, 75), err.read_text()[-3000:]
            if code == 0:
                break
        else:
            pytest.fail("rewrap never finished")
    return kills


def _wait_for_load(forks: Prefork, load: list[int], writes: Path, reads: Path) -> None:
    """Until the writer has committed a row and the reader has decrypted one."""
    deadline = time.monotonic() + 60
    while not (_text(writes) and _text(reads).startswith("reads=") and _reads(reads) > 0):
        assert all(forks.poll(pid) is None for pid in load), "a load process ended early"
        assert time.monotonic() < deadline, "the load never started"
        time.sleep(0.01)  # waiting for other processes, not for time to pass


def _text(path: Path) -> str:
    return path.read_text() if path.exists() else ""


def _reads(path: Path) -> int:
    """The reader's count of patients decrypted, from its "reads=N failures=M" line."""
    return int(path.read_text().split()[0].split("=")[1])


class _Progress:
    """Data keys of one organisation not yet under its newest KEK, read as the job goes.

    One connection for all the reads, each in a transaction of its own that
    takes no write lock, so watching does not slow the job it watches.
    """

    def __init__(self, url: str, org_id: str) -> None:
        self.org_id = org_id
        self.engine = reading_engine(url)

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.engine.dispose()

    def keys_left(self) -> int:
        newest = (
            select(func.max(TenantKek.version))
            .where(TenantKek.organisation_id == self.org_id)
            .scalar_subquery()
        )
        with self.engine.connect() as connection:
            left = connection.scalar(
                select(func.count())
                .select_from(DataKeyRow)
                .where(DataKeyRow.organisation_id == self.org_id, DataKeyRow.kek_version < newest)
            )
        return int(left or 0)

    def wait_until_left(self, target: int, forks: Prefork, pid: int) -> bool:
        """Poll until at most ``target`` keys are left; False if the process ended first."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and forks.poll(pid) is None:
            if self.keys_left() <= target:
                return forks.poll(pid) is None
            time.sleep(0.01)  # a look every 10 ms; a re-wrapped key takes longer
        return False


def _make_data_keys(data_dir: Path, org_id: str, *, count: int) -> None:
    """Many data keys to re-wrap, as many restarted writer processes would leave."""
    settings = load_settings(data_dir)
    engine = make_engine(settings.effective_database_url)
    providers = open_keyring(settings, clock=SystemClock()).providers
    with make_sessionmaker(engine).begin() as session:
        for _ in range(count):
            Keyring(providers, clock=SystemClock()).field_key(session, org_id)
    engine.dispose()


def test_the_key_lifecycle_with_the_root_key_in_an_hsm(
    backend: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    softhsm: SoftHSMToken,
) -> None:
    if backend == "postgresql":
        monkeypatch.setenv(
            "CLAIMBRIDGE_DATABASE_URL", request.getfixturevalue("make_postgres_database")()
        )
    label = f"root-{secrets.token_hex(4)}"
    monkeypatch.setenv("CLAIMBRIDGE_KEY_PROVIDER", "pkcs11")
    monkeypatch.setenv("CLAIMBRIDGE_PKCS11_MODULE", softhsm.module_path)
    monkeypatch.setenv("CLAIMBRIDGE_PKCS11_TOKEN_LABEL", softhsm.token_label)
    monkeypatch.setenv("CLAIMBRIDGE_PKCS11_KEY_LABEL", label)
    monkeypatch.setenv("CLAIMBRIDGE_PKCS11_PIN", softhsm.pin)
    data_dir = tmp_path / "data"
    result = runner.invoke(app, ["demo", "--data-dir", str(data_dir), "--patients", "10", "--json"])
    assert result.exit_code == 0, result.output
    assert not (data_dir / "keys" / "root.key").exists(), "no key file beside an HSM"
    status = _keys(data_dir, "status")
    assert status["primary_provider"] == f"pkcs11:{softhsm.token_label}/{label}"
    _keys(data_dir, "rotate", "--org", RIVERSIDE)
    _keys(data_dir, "rewrap", "--org", RIVERSIDE)
    _keys(data_dir, "shred", "--org", LAKESIDE, "--yes")
    readable = _readable(data_dir)
    assert readable[RIVERSIDE] == (10, 10)
    assert readable[LAKESIDE][0] == 0

    # A new root key made in the HSM, the old one kept as "previous" until
    # every KEK is re-wrapped under the new one.
    new_label = f"root-{secrets.token_hex(4)}"
    PKCS11KeyProvider.create_key(
        softhsm.module_path, token_label=softhsm.token_label, pin=softhsm.pin, key_label=new_label
    ).close()
    monkeypatch.setenv("CLAIMBRIDGE_PKCS11_KEY_LABEL", new_label)
    monkeypatch.setenv("CLAIMBRIDGE_PKCS11_PREVIOUS_KEY_LABELS", json.dumps([label]))
    assert _keys(data_dir, "rotate-root")["rewrapped_keks"] >= 4
    monkeypatch.delenv("CLAIMBRIDGE_PKCS11_PREVIOUS_KEY_LABELS")
    live = [k for k in _keys(data_dir, "status")["keks"] if k["state"] in {"active", "draining"}]
    assert {k["provider_id"] for k in live} == {f"pkcs11:{softhsm.token_label}/{new_label}"}
    assert _readable(data_dir)[RIVERSIDE] == (10, 10)


def test_a_wrong_hsm_pin_stops_the_command_without_showing_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, softhsm: SoftHSMToken
) -> None:
    monkeypatch.setenv("CLAIMBRIDGE_KEY_PROVIDER", "pkcs11")
    monkeypatch.setenv("CLAIMBRIDGE_PKCS11_MODULE", softhsm.module_path)
    monkeypatch.setenv("CLAIMBRIDGE_PKCS11_TOKEN_LABEL", softhsm.token_label)
    monkeypatch.setenv("CLAIMBRIDGE_PKCS11_PIN", "000000-wrong")
    result = runner.invoke(app, ["init", "--data-dir", str(tmp_path / "d"), "--json"])
    assert result.exit_code == 78
    assert json.loads(result.output)["error"]["code"] == "token_error"
    assert "000000-wrong" not in result.output
