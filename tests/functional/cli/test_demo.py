"""``claimbridge demo``: the one command that shows the whole system, on both databases."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from claimbridge.access.passwords import verify_password
from claimbridge.cli.main import app
from claimbridge.clock import SystemClock
from claimbridge.config import load_settings
from claimbridge.crypto.sealing import FieldSealer
from claimbridge.instance.keys import open_keyring
from claimbridge.phi.records import read_patient
from claimbridge.storage.claims import Claim, ServiceLine
from claimbridge.storage.clinical import Patient
from claimbridge.storage.db import make_engine, make_sessionmaker
from claimbridge.storage.orgs import Engagement, Organisation, Role, User
from tests.functional.demo_instances import DemoInstances

runner = CliRunner()
PATIENTS = 40


@dataclass(frozen=True)
class FirstRun:
    data_dir: Path
    summary: dict  # type: ignore[type-arg]
    """What the first ``demo`` printed."""


@pytest.fixture
def first_run(
    backend: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    demo_instances: DemoInstances,
) -> FirstRun:
    """``demo`` run once per backend on a directory that did not exist; each test gets a copy.

    The run is exactly ``_demo`` on a fresh directory (``init`` makes everything,
    the root key at its default cost); copying what it left lets each test look
    at it, or run ``demo`` again on it, without loading the demo again.
    """
    instance = demo_instances.copy(
        backend,
        tmp_path / "data",
        request,
        demo=["--patients", str(PATIENTS), "--json"],
        cheap_secrets=False,
    )
    if instance.database_url is not None:
        monkeypatch.setenv("CLAIMBRIDGE_DATABASE_URL", instance.database_url)
    return FirstRun(instance.data_dir, json.loads(instance.output))


def _demo(data_dir: Path, *extra: str) -> dict:  # type: ignore[type-arg]
    result = runner.invoke(
        app, ["demo", "--data-dir", str(data_dir), "--patients", str(PATIENTS), "--json", *extra]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.output)  # type: ignore[no-any-return]


def test_demo_on_a_fresh_directory_creates_everything_and_prints_logins(
    first_run: FirstRun,
) -> None:
    summary, data_dir = first_run.summary, first_run.data_dir
    assert summary["already_loaded"] is False
    assert summary["practices"] == {
        "Riverside Family Medicine": PATIENTS,
        "Lakeside Family Practice": PATIENTS // 5,
    }
    assert summary["patients"] == PATIENTS + PATIENTS // 5
    assert summary["claims"] >= summary["patients"] > 0
    roles = {role for login in summary["logins"] for role in login["roles"]}
    assert roles == {role.value for role in Role}, "a user for every role of DESIGN.md"
    for login in summary["logins"]:
        assert len(login["password"]) >= 12

    settings = load_settings(data_dir)
    engine = make_engine(settings.effective_database_url)
    with make_sessionmaker(engine)() as session:
        for login in summary["logins"]:
            user = session.scalars(select(User).where(User.email == login["email"])).one()
            # At the default cost (RFC 9106's second option: 64 MiB, 3 passes, 4 lanes):
            # the other tests' demos hash at the least cost (see ``demo_instances``).
            assert user.password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
            assert verify_password(user.password_hash, login["password"])
        names = {o.id: o.name for o in session.scalars(select(Organisation))}
        engagements = {
            (names[e.practice_id], names[e.billing_company_id]): e
            for e in session.scalars(select(Engagement))
        }
        assert set(engagements) == {
            ("Riverside Family Medicine", "Summit Billing Partners"),
            ("Riverside Family Medicine", "Keystone Claims Services"),
        }
        # Summit passed its assessment and signed the BAA; Keystone was rejected.
        summit = engagements["Riverside Family Medicine", "Summit Billing Partners"]
        assert summit.status == "active" and summit.active_until is not None
        keystone = engagements["Riverside Family Medicine", "Keystone Claims Services"]
        assert keystone.status != "active" and keystone.active_until is None
        assert keystone.lapse_condition == "assessment_not_approved"
        assert summary["engagements"] == {
            "Summit Billing Partners": summit.id,
            "Keystone Claims Services": keystone.id,
        }
        lines = session.scalar(select(func.count()).select_from(ServiceLine))
        assert lines == summary["service_lines"]
        codes = set(session.scalars(select(ServiceLine.procedure_code)))
        assert codes & {"99213", "99214"}, "established E/M visits dominate"
        totals = session.execute(
            select(Claim.total_charge_cents, func.sum(ServiceLine.charge_cents))
            .join(ServiceLine, ServiceLine.claim_id == Claim.id)
            .group_by(Claim.id, Claim.total_charge_cents)
        ).all()
        assert all(total == sum_of_lines for total, sum_of_lines in totals)
    engine.dispose()


def test_demo_patients_are_sealed_and_open_with_the_instance_keys(first_run: FirstRun) -> None:
    settings = load_settings(first_run.data_dir)
    engine = make_engine(settings.effective_database_url)
    keyring = open_keyring(settings, clock=SystemClock())
    with make_sessionmaker(engine)() as session:
        riverside = session.scalars(
            select(Organisation).where(Organisation.name == "Riverside Family Medicine")
        ).one()
        rows = session.scalars(select(Patient).where(Patient.practice_id == riverside.id)).all()
        sealer = FieldSealer(keyring, session, riverside.id)
        records = [read_patient(sealer, r) for r in rows]
        # The blind index of each decrypted MRN is the one stored beside it.
        assert [r.mrn_index for r in rows] == [sealer.index("patients.mrn", p.mrn) for p in records]
    engine.dispose()
    assert len(rows) == PATIENTS
    assert all(len(p.mrn or "") == 8 and p.family_name and p.birth_date for p in records)
    assert all(r.family_name[0] == 0x01 for r in rows), "envelope version 1 ciphertext"
    raw = b"".join(r.family_name for r in rows)
    assert not any(p.family_name.encode() in raw for p in records)


def test_demo_twice_changes_nothing_and_shows_the_same_logins(first_run: FirstRun) -> None:
    first, data_dir = first_run.summary, first_run.data_dir
    second = _demo(data_dir)
    assert second["already_loaded"] is True
    assert second["passwords_match_seed"] is True
    assert second["logins"] == first["logins"]
    settings = load_settings(data_dir)
    engine = make_engine(settings.effective_database_url)
    with make_sessionmaker(engine)() as session:
        assert session.scalar(select(func.count()).select_from(Patient)) == first["patients"]
    engine.dispose()


def test_demo_with_another_seed_on_a_loaded_directory_says_so(first_run: FirstRun) -> None:
    summary = _demo(first_run.data_dir, "--seed", "7")
    assert summary["already_loaded"] is True
    assert summary["passwords_match_seed"] is False


def test_demo_is_refused_in_production(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLAIMBRIDGE_ENVIRONMENT", "production")
    result = runner.invoke(app, ["demo", "--data-dir", str(tmp_path / "d"), "--json"])
    assert result.exit_code != 0
    assert "production" in result.output.lower() or "development" in result.output.lower()
