"""``claimbridge audit export`` on a demo instance, on both databases."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner, Result

from claimbridge.audit.record import LOCAL_OPERATOR, Actor, Event, record
from claimbridge.audit.verify import verify_stored_log
from claimbridge.cli.main import app as main_app
from claimbridge.clock import SystemClock
from claimbridge.config import Settings, load_settings
from claimbridge.crypto.sealing import FieldSealer
from claimbridge.instance.keys import open_keyring
from claimbridge.storage.audit import AuditEvent
from claimbridge.storage.clinical import Patient
from claimbridge.storage.db import make_engine, make_sessionmaker
from tests.conftest import BACKENDS
from tests.functional.demo_instances import DemoInstances

runner = CliRunner()

T0 = (datetime.now(UTC) - timedelta(days=1)).replace(microsecond=0)
ALICE = Actor(
    user_id="a1ice000-0000-4000-8000-000000000001",
    organisation_id=None,
    roles=("biller",),
    auth_method="password+totp",
    source_address="192.0.2.1",
)
BOB = Actor(
    user_id="b0b00000-0000-4000-8000-000000000002",
    organisation_id=None,
    roles=("privacy_officer",),
    auth_method="password+totp",
    source_address="192.0.2.2\r\n<86>1 forged",
)
HOSTILE_REQUEST = 'r1\n<86>1 - - - - - [x@32473 outcome="success"]\u2028\x1b[31m'


@dataclass(frozen=True, slots=True)
class Instance:
    root: Path
    env: dict[str, str]
    settings: Settings
    seqs: list[int]
    """The sequence numbers of the scripted events below, in order."""
    patients: tuple[str, str]
    refs: tuple[str, str]


# (minutes after T0, actor, action, patient index or None, outcome)
SCRIPT: list[tuple[int, Actor, str, int | None, str]] = [
    (0, ALICE, "phi:patient:read", 0, "success"),
    (1, ALICE, "phi:patient:list", None, "success"),
    (2, BOB, "phi:patient:read", 1, "denied"),
    (3, BOB, "phi:claim:read", 0, "success"),
    (4, ALICE, "phi:patient:update", 0, "success"),
    (5, LOCAL_OPERATOR, "crypto:key:rotated", None, "success"),
]


@pytest.fixture(scope="module", params=BACKENDS, ids=BACKENDS)
def instance(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    demo_instances: DemoInstances,
) -> Instance:
    # The demo's root key is made cheap to open: every export opens it.
    made = demo_instances.copy(
        request.param, tmp_path_factory.mktemp("export") / "data", request, demo=["--patients", "2"]
    )
    root = made.data_dir
    env: dict[str, str] = {}
    if made.database_url is not None:
        env["CLAIMBRIDGE_DATABASE_URL"] = made.database_url
    settings = load_settings(root, database_url=env.get("CLAIMBRIDGE_DATABASE_URL"))
    with _engine(settings) as engine, make_sessionmaker(engine).begin() as session:
        patients = tuple(session.scalars(select(Patient).order_by(Patient.id).limit(2)).all())
        with open_keyring(settings, clock=SystemClock()) as keyring:
            refs = [
                FieldSealer(keyring, session, p.practice_id).index("audit.patient", p.id)
                for p in patients
            ]
        seqs = [_write(session, step, patients, refs) for step in SCRIPT]
    return Instance(
        root=root,
        env=env,
        settings=settings,
        seqs=seqs,
        patients=(patients[0].id, patients[1].id),
        refs=(str(refs[0]), str(refs[1])),
    )


Step = tuple[int, Actor, str, int | None, str]


def _write(
    session: Session, step: Step, patients: Sequence[Patient], refs: Sequence[str | None]
) -> int:
    minutes, actor, action, patient, outcome = step
    event = Event(
        action=action,
        outcome=outcome,
        resource_type="patient",
        resource_id=patients[patient].id if patient is not None else None,
        tenant_id=patients[patient].practice_id if patient is not None else None,
        patient_ref=refs[patient] if patient is not None else None,
        purpose="payment",
        request_id=HOSTILE_REQUEST if actor is BOB else f"req-{minutes}",
        actor=actor,
    )
    return record(session, event, now=T0 + timedelta(minutes=minutes)).seq


@contextmanager
def _engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings.effective_database_url)
    try:
        yield engine
    finally:
        engine.dispose()


def _export(instance: Instance, *args: str) -> Result:
    return runner.invoke(
        main_app, ["audit", "export", "--data-dir", str(instance.root), *args], env=instance.env
    )


def _lines(result: Result) -> list[dict[str, object]]:
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def _seqs(result: Result) -> list[int]:
    return [int(str(line["seq"])) for line in _lines(result)]


def _picked(instance: Instance, *indexes: int) -> list[int]:
    return [instance.seqs[i] for i in indexes]


def _events(instance: Instance, action: str) -> list[AuditEvent]:
    with _engine(instance.settings) as engine, make_sessionmaker(engine)() as session:
        return list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)
            )
        )


def test_action_filter_gives_exactly_the_matching_events(instance: Instance) -> None:
    assert _seqs(_export(instance, "--action", "phi:patient:read")) == _picked(instance, 0, 2)
    assert _seqs(_export(instance, "--action", "phi:patient:*")) == _picked(instance, 0, 1, 2, 4)
    assert _seqs(_export(instance, "--action", "crypto:")) == _picked(instance, 5)


def test_time_filter_is_since_inclusive_until_exclusive(instance: Instance) -> None:
    since = (T0 + timedelta(minutes=1)).isoformat()
    until = (T0 + timedelta(minutes=4)).strftime("%Y-%m-%dT%H:%M:%S")  # no offset: UTC
    found = _seqs(_export(instance, "--since", since, "--until", until))
    assert found == _picked(instance, 1, 2, 3)


def test_actor_filter_to_a_private_file(instance: Instance, tmp_path: Path) -> None:
    out = tmp_path / "bob.jsonl"
    result = _export(instance, "--actor", str(BOB.user_id), "--output", str(out), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["events"] == 2
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["seq"] for line in lines] == _picked(instance, 2, 3)
    assert lines[0]["request_id"] == HOSTILE_REQUEST
    assert lines[0]["source_address"] == BOB.source_address
    assert list(tmp_path.iterdir()) == [out]  # no temporary file left behind


def test_patient_filter_uses_the_keyed_reference(instance: Instance) -> None:
    result = _export(instance, "--patient", instance.patients[0], "--action", "phi:")
    lines = _lines(result)
    assert [line["seq"] for line in lines] == _picked(instance, 0, 3, 4)
    assert {line["patient_ref"] for line in lines} == {instance.refs[0]}
    # The export is in that patient's trail, by reference only.
    recorded = _events(instance, "audit:log:exported")[-1]
    assert recorded.patient_ref == instance.refs[0]
    assert instance.patients[0] not in (recorded.resource_id or "")
    again = _seqs(_export(instance, "--patient", instance.patients[0], "--action", "audit:*"))
    assert recorded.seq in again


def test_syslog_writes_one_rfc_5424_line_per_event(instance: Instance) -> None:
    window = ["--since", T0.isoformat(), "--until", (T0 + timedelta(hours=1)).isoformat()]
    result = _export(instance, "--format", "syslog", *window)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == len(SCRIPT)
    assert all(line.startswith(("<84>1 ", "<86>1 ")) for line in lines)
    denied = lines[2]
    assert denied.startswith("<84>1 ") and " phi:patient:read [claimbridge@32473 " in denied
    assert f'seq="{instance.seqs[2]}"' in denied
    assert (
        'request_id="r1\\x0a<86>1 - - - - - [x@32473 outcome=\\"success\\"\\]\\u2028\\x1b[31m"'
        in denied
    )
    assert 'source_address="192.0.2.2\\x0d\\x0a<86>1 forged"' in denied


def test_each_export_is_audited_and_the_log_still_verifies(instance: Instance) -> None:
    before = len(_events(instance, "audit:log:exported"))
    assert (
        _export(instance, "--action", "phi:patient:read", "--since", T0.isoformat()).exit_code == 0
    )
    exported = _events(instance, "audit:log:exported")
    assert len(exported) == before + 1
    event = exported[-1]
    assert event.actor_roles == ["operator"] and event.auth_method == "local-data-dir"
    assert event.resource_id == f"f=jsonl;s={T0.strftime('%Y%m%dT%H%M%S')}Z;x=phi:patient:read"
    with _engine(instance.settings) as engine, make_sessionmaker(engine)() as session:
        verified = verify_stored_log(session)
    assert verified.events == event.seq


@pytest.mark.parametrize(
    ("args", "code", "where"),
    [
        (["--patient", "00000000-0000-4000-8000-000000000000"], 66, "--patient"),
        (["--since", "yesterday"], 65, "--since"),
        (["--since", "2026-03-02", "--until", "2026-03-01"], 65, "--until"),
        (["--action", "phi*:read"], 65, "--action"),
        (["--action", "phi:" + "x" * 95], 65, "--action"),
        (["--output", "/nonexistent/dir/out.jsonl"], 65, "--output"),
    ],
)
def test_a_refused_export_writes_nothing_and_records_nothing(
    instance: Instance, args: list[str], code: int, where: str
) -> None:
    before = len(_events(instance, "audit:log:exported"))
    result = _export(instance, *args, "--json")
    assert result.exit_code == code
    assert json.loads(result.stdout)["error"]["where"] == where
    assert len(_events(instance, "audit:log:exported")) == before


@pytest.fixture
def audit_store_down(instance: Instance) -> Iterator[None]:
    """An injected write error: the audit table refuses every new event."""
    sqlite = instance.settings.effective_database_url.startswith("sqlite")
    with _engine(instance.settings) as engine:
        with engine.begin() as connection:
            if sqlite:
                connection.execute(
                    text(
                        "CREATE TRIGGER audit_down BEFORE INSERT ON audit_events "
                        "BEGIN SELECT RAISE(ABORT, 'audit store down'); END"
                    )
                )
            else:
                connection.execute(
                    text(
                        "CREATE FUNCTION audit_down() RETURNS trigger LANGUAGE plpgsql AS "
                        "$$ BEGIN RAISE EXCEPTION 'audit store down'; END $$"
                    )
                )
                connection.execute(
                    text(
                        "CREATE TRIGGER audit_down BEFORE INSERT ON audit_events "
                        "FOR EACH ROW EXECUTE FUNCTION audit_down()"
                    )
                )
        yield
        with engine.begin() as connection:
            if sqlite:
                connection.execute(text("DROP TRIGGER audit_down"))
            else:
                connection.execute(text("DROP TRIGGER audit_down ON audit_events"))
                connection.execute(text("DROP FUNCTION audit_down()"))


@pytest.mark.usefixtures("audit_store_down")
def test_export_fails_closed_when_its_event_cannot_be_written(
    instance: Instance, tmp_path: Path
) -> None:
    to_stdout = _export(instance)
    assert to_stdout.exit_code != 0
    assert '"seq"' not in to_stdout.stdout
    out = tmp_path / "all.jsonl"
    to_file = _export(instance, "--output", str(out))
    assert to_file.exit_code != 0
    assert list(tmp_path.iterdir()) == []
