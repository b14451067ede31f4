"""``claimbridge keys``: rotation, re-wrapping and shredding as an operator runs them."""

from __future__ import annotations

import json
import os
import random
import secrets
import signal
import subprocess
import sys
import time
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
from tests.softhsm import SoftHSMToken

runner = CliRunner()
CLAIMBRIDGE = [sys.executable, "-m", "claimbridge"]
LOAD = str(Path(__file__).with_name("rotation_load.py"))
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


def test_rotation_killed_at_random_points_under_load_loses_nothing(
    data_dir: Path, tmp_path: Path
) -> None:
    settings = load_settings(data_dir)
    engine = make_engine(settings.effective_database_url)
    with make_sessionmaker(engine)() as session:
        org_id = session.scalars(
            select(Organisation.id).where(Organisation.name == RIVERSIDE)
        ).one()
    engine.dispose()
    _make_data_keys(data_dir, org_id, count=400)
    env = {**os.environ}
    writes, reads = tmp_path / "writes.txt", tmp_path / "reads.txt"
    load = [
        subprocess.Popen(
            [sys.executable, LOAD, mode, str(data_dir), org_id, "12", str(out)], env=env
        )
        for mode, out in (("write", writes), ("read", reads))
    ]
    rng = random.Random(7)
    kills = 0
    rewrap_command = [
        *CLAIMBRIDGE,
        "keys",
        "rewrap",
        "--org",
        RIVERSIDE,
        "--batch",
        "1",
        "--data-dir",
        str(data_dir),
        "--json",
    ]
    time.sleep(1.0)
    for _ in range(2):  # two rotations, each killed up to three times mid-way
        assert _keys(data_dir, "rotate", "--org", RIVERSIDE)["new_version"] >= 2
        for attempt in range(8):
            total = _keys_left(data_dir, org_id)
            # Debug logging puts an unexpected error's traceback on stderr,
            # kept so a failure below says what went wrong.
            stderr = tmp_path / f"rewrap-{kills}-{attempt}.err"
            with stderr.open("w") as errors:
                rewrap = subprocess.Popen(
                    rewrap_command,
                    env={**env, "CLAIMBRIDGE_LOG_LEVEL": "debug"},
                    stdout=subprocess.DEVNULL,
                    stderr=errors,
                )
            # Kill it once a random part of the work is done; the last
            # attempt runs to the end: resuming must finish the job.
            if (
                attempt < 3
                and total > 1
                and _wait_until_left(data_dir, org_id, rng.randint(1, total - 1), rewrap)
            ):
                rewrap.send_signal(signal.SIGKILL)
                rewrap.wait()
                kills += 1
                continue
            # 75 is "busy, run it again" (SQLite's lock under load): an
            # operator reruns the resumable job, and so does the test.
            assert rewrap.wait(timeout=120) in (0, 75), stderr.read_text()[-3000:]
            if rewrap.returncode == 0:
                break
        else:
            pytest.fail("rewrap never finished")
    for process in load:
        assert process.wait(timeout=60) == 0
    written = writes.read_text().split()
    reads_line = reads.read_text()
    assert "failures=0" in reads_line, reads_line
    assert int(reads_line.split()[0].split("=")[1]) > 0
    assert len(written) > 0
    readable = _readable(data_dir)
    assert readable[RIVERSIDE] == (30 + len(written), 30 + len(written))
    assert kills >= 1, "no rewrap was killed: the test did not test resuming"
    print(f"SIGKILLs during rewrap: {kills}; rows written under rotation: {len(written)}")


def _keys_left(data_dir: Path, org_id: str) -> int:
    """Data keys of ``org_id`` not yet under its newest KEK."""
    settings = load_settings(data_dir)
    engine = make_engine(settings.effective_database_url)
    with make_sessionmaker(engine)() as session:
        newest = session.scalar(
            select(func.max(TenantKek.version)).where(TenantKek.organisation_id == org_id)
        )
        left = session.scalar(
            select(func.count())
            .select_from(DataKeyRow)
            .where(DataKeyRow.organisation_id == org_id, DataKeyRow.kek_version < newest)
        )
    engine.dispose()
    return int(left or 0)


def _wait_until_left(
    data_dir: Path, org_id: str, target: int, process: subprocess.Popen[bytes]
) -> bool:
    """Poll until at most ``target`` keys are left; False if the process ended first."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if _keys_left(data_dir, org_id) <= target:
            return process.poll() is None
        time.sleep(0.005)
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
