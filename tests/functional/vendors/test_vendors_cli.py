"""``claimbridge vendors`` on a copy of the demo, on SQLite and PostgreSQL.

Lakeside (a demo practice with no billing company) assesses a billing
company it has not engaged yet, start to finish, the way its admin and the
company's admin would from the server's console.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from claimbridge.cli.main import app
from claimbridge.config import load_settings
from claimbridge.demo.accounts import LAKESIDE, RIVERSIDE
from claimbridge.storage.audit import AuditEvent
from claimbridge.storage.db import make_engine, make_sessionmaker
from claimbridge.storage.orgs import Organisation
from claimbridge.vendors.questionnaires import latest
from tests.functional.demo_instances import DemoInstances
from tests.functional.vendors.flows import good_answers

runner = CliRunner()


@pytest.fixture
def data_dir(
    backend: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    demo_instances: DemoInstances,
) -> Path:
    instance = demo_instances.copy(
        backend, tmp_path / "data", request, demo=["--patients", "4", "--json"]
    )
    if instance.database_url is not None:
        monkeypatch.setenv("CLAIMBRIDGE_DATABASE_URL", instance.database_url)
    return instance.data_dir


def run(data_dir: Path, *args: str) -> tuple[int, Any]:
    result = runner.invoke(app, ["vendors", *args, "--data-dir", str(data_dir), "--json"])
    try:
        return result.exit_code, json.loads(result.output)
    except ValueError:
        raise AssertionError(result.output) from None


def plain(data_dir: Path, *args: str) -> str:
    result = runner.invoke(app, ["vendors", *args, "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    return result.output


def actions(data_dir: Path, tenant: str) -> list[str]:
    engine = make_engine(load_settings(data_dir).effective_database_url)
    try:
        with make_sessionmaker(engine)() as session:
            org = session.scalars(select(Organisation.id).where(Organisation.name == tenant)).one()
            return list(
                session.scalars(
                    select(AuditEvent.action)
                    .where(AuditEvent.tenant_id == org, AuditEvent.action.startswith("vendors:"))
                    .order_by(AuditEvent.seq)
                )
            )
    finally:
        engine.dispose()


def test_a_practice_assesses_a_billing_company_from_the_console(
    data_dir: Path, tmp_path: Path
) -> None:
    today = datetime.now(UTC).date()
    code, listed = run(data_dir, "list", "--org", LAKESIDE)
    assert code == 0, listed
    company = next(item for item in listed["items"] if item["engagement"] is None)["name"]

    code, invited = run(data_dir, "invite", company, "--org", LAKESIDE)
    assert code == 0, invited
    assessment = invited["assessment_id"]
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({"answers": good_answers(today), "comments": {}}))
    code, saved = run(data_dir, "answer", assessment, "--file", str(answers))
    assert code == 0, saved
    assert saved["answered"] == saved["questions"]
    document = tmp_path / "report.pdf"
    document.write_bytes(b"%PDF-1.7 the evidence")
    for question in latest().questions():
        rule = question.evidence
        if rule is None or not rule.required:
            continue
        expiry = ["--expires", str(today + timedelta(days=200))] if rule.expires else []
        code, stored = run(
            data_dir,
            "evidence",
            "add",
            assessment,
            question.id,
            str(document),
            "--issued",
            str(today - timedelta(days=3)),
            *expiry,
        )
        assert code == 0, stored
        assert stored["media_type"] == "application/pdf"
    code, submitted = run(data_dir, "submit", assessment)
    assert (code, submitted["status"], submitted["rating"]) == (0, "submitted", "low")
    code, frozen = run(data_dir, "answer", assessment, "--file", str(answers))
    assert code == 1 and frozen["error"]["code"] == "conflict"

    due = str(today + timedelta(days=14))
    code, item = run(data_dir, "review", assessment, "TECH-01", "--remediate", "--due", due)
    assert (code, item["critical"], item["due_on"]) == (0, True, due)
    code, _ = run(data_dir, "review", assessment, "ENC-01", "--accept", "--note", "TLS 1.3")
    assert code == 0
    code, reported = run(
        data_dir, "resolve", assessment, "TECH-01", "--resolution", "Shared logins removed."
    )
    assert code == 0, reported
    code, closed = run(data_dir, "close", assessment, "TECH-01")
    assert (code, closed["open"]) == (0, False)
    code, decided = run(data_dir, "approve", assessment, "--note", "Controls are sound.")
    assert code == 0, decided
    assert decided["status"] == "approved"
    assert decided["engagement"]["lapse_condition"] == "no_baa"  # no BAA yet: still shut

    code, shown = run(data_dir, "show", assessment)
    assert code == 0 and shown["score"]["rating"] == "low"
    evidence_id = next(
        q["evidence"][0]["id"] for s in shown["sections"] for q in s["questions"] if q["evidence"]
    )
    out = tmp_path / "back.pdf"
    code, _ = run(data_dir, "evidence", "get", assessment, evidence_id, "--out", str(out))
    assert code == 0 and out.read_bytes() == b"%PDF-1.7 the evidence"
    assert out.stat().st_mode & 0o077 == 0
    code, compared = run(data_dir, "compare", "--org", LAKESIDE)
    assert code == 0
    assert [c["company"]["name"] for c in compared["candidates"]] == [company]
    assert compared["candidates"][0]["baa"]["status"] == "none"
    assert company in plain(data_dir, "compare", "--org", LAKESIDE)
    assert "Technical safeguards" in plain(data_dir, "show", assessment)

    trail = actions(data_dir, LAKESIDE)
    assert trail[0] == "vendors:engagement:invited"
    for action in (
        "vendors:assessment:answered",
        "vendors:evidence:uploaded",
        "vendors:assessment:submitted",
        "vendors:assessment:reviewed",
        "vendors:remediation:reported",
        "vendors:remediation:resolved",
        "vendors:assessment:approved",
        "vendors:evidence:downloaded",
        "vendors:vendor:compared",
    ):
        assert action in trail


def test_console_mistakes_get_clear_errors(data_dir: Path, tmp_path: Path) -> None:
    today = datetime.now(UTC).date()
    code, refused = run(data_dir, "invite", RIVERSIDE, "--org", LAKESIDE)
    assert (code, refused["error"]["where"]) == (65, "billing_company")

    code, listed = run(data_dir, "list", "--org", LAKESIDE)
    company = next(item for item in listed["items"] if item["engagement"] is None)["name"]
    code, invited = run(data_dir, "invite", company, "--org", LAKESIDE)
    assessment = invited["assessment_id"]
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({"ENC-01": "tls9"}))
    code, wrong = run(data_dir, "answer", assessment, "--file", str(answers))
    assert (code, wrong["error"]["where"]) == (65, "answers.ENC-01")
    document = tmp_path / "cert.pdf"
    document.write_bytes(b"%PDF-1.7")
    code, backwards = run(
        data_dir,
        "evidence",
        "add",
        assessment,
        "CERT-01",
        str(document),
        "--issued",
        str(today),
        "--expires",
        str(today - timedelta(days=1)),
    )
    assert (code, backwards["error"]["where"]) == (65, "expires_on")
    code, two = run(data_dir, "review", assessment, "TECH-01", "--accept", "--reject")
    assert code == 65 and two["error"]["where"] == "--accept"
    code, unknown = run(data_dir, "show", "00000000-0000-0000-0000-000000000000")
    assert code == 66 and unknown["error"]["code"] == "not_found"


def test_the_questionnaire_prints_with_its_evidence_rules() -> None:
    result = runner.invoke(app, ["vendors", "questionnaire"])

    assert result.exit_code == 0, result.output
    printed = " ".join(result.output.split())
    assert "CERT-01" in printed and "certificate: SOC 2 report" in printed
    shown = json.loads(runner.invoke(app, ["vendors", "questionnaire", "--json"]).output)
    assert shown["version"] == latest().version
    refused = runner.invoke(app, ["vendors", "questionnaire", "--version", "nope", "--json"])
    assert refused.exit_code == 65
