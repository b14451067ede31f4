"""``claimbridge engagements`` on a loaded instance: list, show, notices, check, and the BAA.

Each test runs on its own copy of the demo (SQLite and PostgreSQL), into which it
adds a practice and a billing company of its own whose assessment is approved but
whose BAA is not yet recorded. The commands use the real clock.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from claimbridge.access.engagements import refresh
from claimbridge.cli.main import app
from claimbridge.clock import SystemClock
from claimbridge.config import load_settings
from claimbridge.instance.keys import open_keyring
from claimbridge.storage.audit import AuditEvent
from claimbridge.storage.db import make_engine, make_sessionmaker
from claimbridge.storage.orgs import Engagement, EngagementStatus, Organisation, OrgKind
from claimbridge.storage.vendors import (
    Assessment,
    AssessmentStatus,
    BusinessAssociateAgreement,
)
from claimbridge.vendors.questionnaires import latest
from tests.functional.demo_instances import DemoInstances
from tests.functional.prefork import Ended, Prefork
from tests.functional.vendors.gatekit import PDF

runner = CliRunner()


@dataclass(frozen=True)
class Instance:
    data_dir: Path
    url: str
    practice: str
    vendor: str
    engagement: str

    def run(self, *args: str | Path) -> tuple[int, Any]:
        result = runner.invoke(
            app, ["engagements", *map(str, args), "--data-dir", str(self.data_dir), "--json"]
        )
        return result.exit_code, json.loads(result.stdout) if result.stdout.strip() else None

    def actions(self, resource_id: str) -> list[tuple[str, str]]:
        engine = make_engine(self.url)
        try:
            with make_sessionmaker(engine)() as session:
                rows = session.scalars(
                    select(AuditEvent)
                    .where(AuditEvent.resource_id == resource_id)
                    .order_by(AuditEvent.seq)
                )
                return [(row.action, row.outcome) for row in rows]
        finally:
            engine.dispose()


@pytest.fixture
def instance(
    backend: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    demo_instances: DemoInstances,
) -> Instance:
    copy = demo_instances.copy(
        backend, tmp_path / "data", request, demo=["--patients", "4", "--json"]
    )
    if copy.database_url is not None:
        monkeypatch.setenv("CLAIMBRIDGE_DATABASE_URL", copy.database_url)
    settings = load_settings(copy.data_dir)
    now = SystemClock().now()
    tag = secrets.token_hex(3)
    engine = make_engine(settings.effective_database_url)
    keyring = open_keyring(settings, clock=SystemClock())
    try:
        with make_sessionmaker(engine).begin() as session:
            practice = Organisation(
                name=f"Cedar Clinic {tag}", kind=OrgKind.PRACTICE.value, created_at=now
            )
            vendor = Organisation(
                name=f"Harbor Billing {tag}", kind=OrgKind.BILLING_COMPANY.value, created_at=now
            )
            session.add_all([practice, vendor])
            session.flush()
            for org in (practice, vendor):
                keyring.ensure_tenant(session, org.id)
            engagement = Engagement(
                practice_id=practice.id,
                billing_company_id=vendor.id,
                status=EngagementStatus.ASSESSING.value,
                created_at=now - timedelta(days=20),
            )
            session.add(engagement)
            session.flush()
            session.add(
                Assessment(
                    engagement_id=engagement.id,
                    questionnaire_version=latest().version,
                    status=AssessmentStatus.APPROVED.value,
                    created_at=now - timedelta(days=15),
                    submitted_at=now - timedelta(days=12),
                    decided_at=now - timedelta(days=10),
                    rating="low",
                )
            )
            refresh(session, engagement, now=now)
            ids = (practice.name, vendor.name, engagement.id)
    finally:
        keyring.close()
        engine.dispose()
    return Instance(copy.data_dir, settings.effective_database_url, *ids)


def _record(instance: Instance, document: Path, *extra: str) -> tuple[int, Any]:
    today = SystemClock().now().date()
    options = {
        "--file": str(document),
        "--version": "2026-1",
        "--practice-signatory": "Mara Lind, Owner",
        "--vendor-signatory": "Theo Park, President",
        "--signed-on": today.isoformat(),
        "--effective-on": today.isoformat(),
        "--breach-notice-days": "15",
        "--on-termination": "return",
    }
    for option in extra:
        name, _, value = option.partition("=")
        options[name] = value
    flat = [part for pair in options.items() for part in pair if part != ""]
    return instance.run("baa", "record", instance.engagement, *flat)


def test_recording_the_baa_opens_the_engagement_and_show_says_so(
    instance: Instance, tmp_path: Path
) -> None:
    document = tmp_path / "baa.pdf"
    document.write_bytes(PDF)
    expires = (SystemClock().now().date() + timedelta(days=5)).isoformat()

    code, closed = instance.run("show", instance.engagement)
    assert code == 0, closed
    assert closed["standing"]["failure"]["condition"] == "no_baa"
    assert closed["active"] is False

    code, recorded = _record(instance, document, f"--expires-on={expires}")
    assert code == 0, recorded
    assert recorded["terms"] == {
        "breach_notice_days": 15,
        "subcontractor_flow_down": True,
        "on_termination": "return",
    }
    assert recorded["document"]["media_type"] == "application/pdf"

    code, shown = instance.run("show", instance.engagement)
    assert code == 0, shown
    assert (shown["status"], shown["active"], shown["standing"]["ok"]) == ("active", True, True)
    assert shown["baa"]["id"] == recorded["id"]
    assert shown["standing"]["deadlines"][0]["condition"] == "baa_expired"
    assert shown["assessment"]["rating"] == "low"
    assert ("vendors:baa:signed", "success") in instance.actions(recorded["id"])
    assert ("vendors:engagement:activated", "success") in instance.actions(instance.engagement)

    code, listed = instance.run("list", "--org", instance.practice)
    assert code == 0, listed
    assert [(row["id"], row["active"]) for row in listed["items"]] == [(instance.engagement, True)]
    code, everything = instance.run("list")
    assert instance.engagement in {row["id"] for row in everything["items"]}

    # The watcher's one sweep: the BAA expires in five days, so the 7-day reminder is due.
    code, swept = instance.run("check")
    assert code == 0, swept
    mine = [r for r in swept["reminders"] if r["engagement_id"] == instance.engagement]
    assert [(r["condition"], r["lead_days"]) for r in mine] == [("baa_expired", 7)]
    code, again = instance.run("check")
    assert [r for r in again["reminders"] if r["engagement_id"] == instance.engagement] == []
    assert ("vendors:engagement:reminded", "success") in instance.actions(instance.engagement)

    code, listed_notices = instance.run("notices", instance.engagement)
    assert code == 0, listed_notices
    kinds = [(n["kind"], n["condition"], n["lead_days"]) for n in listed_notices["items"]]
    assert kinds == [("reminder", "baa_expired", 7), ("restored", "all", None)]
    assert all(n["delivered_at"] for n in listed_notices["items"])


def test_the_baa_document_downloads_as_recorded(instance: Instance, tmp_path: Path) -> None:
    document = tmp_path / "baa.pdf"
    document.write_bytes(PDF)
    code, recorded = _record(instance, document, "--no-flow-down=")
    assert code == 0, recorded
    assert recorded["terms"]["subcontractor_flow_down"] is False

    out = tmp_path / "copy.pdf"
    code, written = instance.run("baa", "download", instance.engagement, "--out", out)
    assert code == 0, written
    assert out.read_bytes() == PDF
    assert written["sha256"] == recorded["document"]["sha256"]
    assert ("vendors:baa:downloaded", "success") in instance.actions(recorded["id"])

    code, shown = instance.run("baa", "show", instance.engagement)
    assert (code, shown["current"]["id"], shown["superseded"]) == (0, recorded["id"], [])


def test_wrong_terms_exit_65_naming_the_field(instance: Instance, tmp_path: Path) -> None:
    document = tmp_path / "baa.pdf"
    document.write_bytes(PDF)
    today = SystemClock().now().date()
    yesterday = (today - timedelta(days=1)).isoformat()

    code, refused = _record(instance, document, f"--effective-on={yesterday}")
    assert (code, refused["error"]["where"]) == (65, "effective_on")
    code, refused = _record(instance, document, "--breach-notice-days=90")
    assert (code, refused["error"]["where"]) == (65, "breach_notice_days")
    code, refused = _record(instance, document, "--on-termination=keep")
    assert (code, refused["error"]["where"]) == (65, "on_termination")
    text = tmp_path / "baa.txt"
    text.write_text("not a pdf")
    code, refused = _record(instance, text)
    assert (code, refused["error"]["where"]) == (65, "document")
    code, refused = _record(instance, tmp_path / "missing.pdf")
    assert (code, refused["error"]["where"]) == (66, "--file")

    code, shown = instance.run("show", instance.engagement)
    assert (shown["baa"], shown["status"]) == (None, "assessing")


def test_an_unknown_engagement_or_organisation_exits_66(instance: Instance) -> None:
    code, refused = instance.run("show", "00000000-0000-0000-0000-000000000000")
    assert (code, refused["error"]["code"]) == (66, "not_found")
    code, refused = instance.run("notices", "no-such-engagement")
    assert code == 66
    code, refused = instance.run("list", "--org", "No Such Clinic")
    assert (code, refused["error"]["where"]) == (66, "org")


def _lapse_an_hour_ago(instance: Instance) -> None:
    """The engagement was open until an hour ago, when its BAA expired; nothing noticed."""
    now = SystemClock().now()
    engine = make_engine(instance.url)
    try:
        with make_sessionmaker(engine).begin() as session:
            engagement = session.get(Engagement, instance.engagement)
            assert engagement is not None
            session.add(
                BusinessAssociateAgreement(
                    engagement_id=engagement.id,
                    version="2025-1",
                    practice_signatory="Mara Lind, Owner",
                    vendor_signatory="Theo Park, President",
                    signed_on=(now - timedelta(days=400)).date(),
                    effective_on=(now - timedelta(days=400)).date(),
                    expires_on=(now - timedelta(days=1)).date(),
                    breach_notice_days=30,
                    subcontractor_flow_down=True,
                    on_termination="return",
                    blob_key="0" * 64,
                    sha256="0" * 64,
                    size=0,
                    media_type="application/pdf",
                    signed_at=now - timedelta(days=400),
                )
            )
            engagement.status = EngagementStatus.ACTIVE.value
            engagement.active_until = now - timedelta(hours=1)
    finally:
        engine.dispose()


@pytest.fixture(scope="module", autouse=True)
def forks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prefork]:
    """``claimbridge serve`` as a process of its own, forked from one interpreter for both
    backends, so the seconds of imports before the command starts are paid once.

    Started with the module's first test (``autouse``): the forking process imports
    while the tests before the serve tests run.
    """
    prefork = Prefork(stderr=tmp_path_factory.mktemp("prefork") / "stderr")
    yield prefork
    prefork.close()


@dataclass
class Served:
    """``claimbridge serve`` forked by ``forks``: its output files, and how it ended."""

    forks: Prefork
    pid: int
    stdout: Path
    stderr: Path
    ended: Ended | None = None

    def running(self) -> bool:
        if self.ended is None:
            self.ended = self.forks.poll(self.pid)
        return self.ended is None

    def first_line(self) -> str:
        """The first line written to stdout, once it is there."""
        deadline = time.monotonic() + 60
        while b"\n" not in (out := self.stdout.read_bytes() if self.stdout.exists() else b""):
            assert self.running(), self.output()
            assert time.monotonic() < deadline, "serve never printed its address"
            time.sleep(0.01)  # waiting for another process, not for time to pass
        return out.split(b"\n", 1)[0].decode()

    def output(self) -> str:
        """What it wrote so far, for a failure's message."""
        return "".join(p.read_text()[-3000:] for p in (self.stdout, self.stderr) if p.exists())

    def stop(self) -> Ended:
        """SIGTERM, as an init system stops it; how it ended."""
        if self.running():
            with contextlib.suppress(ProcessLookupError):  # it may end meanwhile
                os.kill(self.pid, signal.SIGTERM)
            self.ended = self.forks.wait(self.pid, timeout=30)
        assert self.ended is not None
        return self.ended


def test_serve_runs_the_watcher_which_records_a_lapse_nobody_asked_about(
    instance: Instance, forks: Prefork, tmp_path: Path
) -> None:
    _lapse_an_hour_ago(instance)
    stdout, stderr = tmp_path / "serve.out", tmp_path / "serve.err"
    # The forking process began before this test set its database: say it.
    env = {"CLAIMBRIDGE_DATABASE_URL": os.environ.get("CLAIMBRIDGE_DATABASE_URL")}
    argv = ["serve", "--data-dir", str(instance.data_dir), "--port", "0", "--json"]
    served = Served(forks, forks.start(argv, env=env, stdout=stdout, stderr=stderr), stdout, stderr)
    try:
        assert json.loads(served.first_line())["url"].startswith("https://")
        deadline = time.monotonic() + 30
        while ("vendors:engagement:lapsed", "denied") not in instance.actions(instance.engagement):
            assert served.running(), served.output()
            assert time.monotonic() < deadline, "the watcher did not sweep"
            time.sleep(0.05)
    finally:
        ended = served.stop()
    assert b"Traceback" not in stderr.read_bytes()
    # uvicorn stops gracefully, then re-raises the SIGTERM it caught.
    assert ended.killed_by == signal.SIGTERM or ended.status == 0, ended
    code, shown = instance.run("show", instance.engagement)
    assert code == 0, shown
    assert (shown["status"], shown["lapse"]["condition"]) == ("suspended", "baa_expired")
    assert [n["kind"] for n in shown["notices"]][:1] == ["lapsed"]


def test_serve_refuses_a_webhook_without_its_secret(
    instance: Instance, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLAIMBRIDGE_NOTIFY_WEBHOOK_URL", "https://hooks.example.org/claimbridge")
    result = runner.invoke(app, ["serve", "--data-dir", str(instance.data_dir), "--json"])
    assert result.exit_code == 78, result.output
    assert json.loads(result.stdout)["error"]["where"] == "notify_webhook_secret_file"
