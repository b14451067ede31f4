"""``claimbridge engagements terminate … unpack … verify-certificate`` on the demo.

The demo's Riverside ends its engagement with Summit Billing from the
server's console: the package is made and downloaded, opens offline with
the passphrase (and not without), receipt is confirmed; the shred waits
while Riverside's engagement with Keystone is open, and runs once that
one is ended too; the certificate verifies with nothing but the server's
public key. On SQLite and PostgreSQL, each on its own copy of the demo.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from claimbridge.cli import offboarding as offboarding_command
from claimbridge.cli.main import app
from claimbridge.config import load_settings
from claimbridge.crypto.passphrase import MIN_SCRYPT_N
from claimbridge.demo.accounts import KEYSTONE, RIVERSIDE, SUMMIT
from claimbridge.storage.claims import Claim
from claimbridge.storage.clinical import Patient
from claimbridge.storage.db import make_engine, make_sessionmaker
from claimbridge.storage.orgs import Engagement, Organisation
from tests.functional.demo_instances import DemoInstances

runner = CliRunner()


@pytest.fixture(autouse=True)
def _packages_sealed_cheaply(monkeypatch: pytest.MonkeyPatch) -> None:
    """``terminate`` seals the return package at scrypt's least cost, not the default.

    The default (n = 2^17, 128 MiB) takes about half a second each time the
    package is sealed or opened, three times here; the package records its
    cost, and ``unpack`` derives the key at whatever cost that is. Nothing
    here is about the cost: the API's offboarding test seals at the default,
    and the format's own tests check the cost bounds.
    """
    monkeypatch.setattr(
        offboarding_command,
        "export_return_package",
        functools.partial(offboarding_command.export_return_package, scrypt_n=MIN_SCRYPT_N),
    )


@dataclass(frozen=True)
class Demo:
    data_dir: Path
    engagement: str
    other: str
    """Riverside's engagement with Keystone, whose assessment was rejected: never opened."""
    patients: int
    claims: int


@pytest.fixture
def demo(
    backend: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    demo_instances: DemoInstances,
) -> Demo:
    instance = demo_instances.copy(
        backend, tmp_path / "data", request, demo=["--patients", "4", "--json"]
    )
    overrides: dict[str, Any] = {}
    if instance.database_url is not None:
        monkeypatch.setenv("CLAIMBRIDGE_DATABASE_URL", instance.database_url)
        overrides["database_url"] = instance.database_url
    settings = load_settings(instance.data_dir, **overrides)
    engine = make_engine(settings.effective_database_url)
    try:
        with make_sessionmaker(engine)() as session:
            names = {o.name: o.id for o in session.scalars(select(Organisation))}
            engagement, other = (
                session.scalars(
                    select(Engagement.id).where(
                        Engagement.practice_id == names[RIVERSIDE],
                        Engagement.billing_company_id == names[company],
                    )
                ).one()
                for company in (SUMMIT, KEYSTONE)
            )
            patients = session.scalar(
                select(func.count())
                .select_from(Patient)
                .where(Patient.practice_id == names[RIVERSIDE])
            )
            claims = session.scalar(
                select(func.count()).select_from(Claim).where(Claim.practice_id == names[RIVERSIDE])
            )
    finally:
        engine.dispose()
    return Demo(instance.data_dir, engagement, other, int(patients or 0), int(claims or 0))


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def engagements(demo: Demo, *args: str) -> tuple[int, Any]:
    code, output = run("engagements", *args, "--data-dir", str(demo.data_dir), "--json")
    return code, json.loads(output)


def test_terminate_package_unpack_confirm_and_verify(demo: Demo, tmp_path: Path) -> None:
    secret = tmp_path / "passphrase.txt"
    secret.write_text("riverside keeps this passphrase\n")

    # At a terminal: the export draws its progress bar.
    code, output = run(
        "engagements", "terminate", demo.engagement, "--org", RIVERSIDE,
        "--reason", "Moving in-house.", "--passphrase-file", str(secret),
        "--data-dir", str(demo.data_dir),
    )  # fmt: skip
    assert code == 0, output
    assert f"terminated {demo.engagement}" in output and "return package:" in output

    code, shown = engagements(demo, "show", demo.engagement)
    assert code == 0, shown
    ended = shown["termination"]
    assert ended["state"] == "awaiting_receipt" and ended["package"]["sha256"]
    code, again = engagements(
        demo, "terminate", demo.engagement, "--org", RIVERSIDE, "--reason", "Again.",
        "--passphrase-file", str(secret),
    )  # fmt: skip
    assert code != 0 and again["error"]["code"] == "conflict"

    package = tmp_path / "riverside.cbpw"
    code, got = engagements(demo, "package", demo.engagement, "--out", str(package))
    assert code == 0, got
    assert hashlib.sha256(package.read_bytes()).hexdigest() == ended["package"]["sha256"]
    assert package.stat().st_mode & 0o077 == 0

    code, output = run(
        "engagements", "unpack", str(package), "--passphrase-file", str(secret),
        "--out", str(tmp_path / "returned"), "--json",
    )  # fmt: skip
    assert code == 0, output
    unpacked = json.loads(output)
    assert unpacked["records"]["patients"] == demo.patients > 0
    assert unpacked["records"]["claims"] == demo.claims > 0
    assert unpacked["engagement"]["id"] == demo.engagement
    lines = (tmp_path / "returned" / "records" / "claims.jsonl").read_text().splitlines()
    assert len(lines) == demo.claims

    wrong = tmp_path / "wrong.txt"
    wrong.write_text("not the passphrase we chose")
    code, output = run(
        "engagements", "unpack", str(package), "--passphrase-file", str(wrong),
        "--out", str(tmp_path / "nope"), "--json",
    )  # fmt: skip
    assert code == 65 and json.loads(output)["error"]["code"] == "package_unreadable"

    code, early = engagements(demo, "shred", demo.engagement)
    assert code != 0 and early["error"]["code"] == "conflict"  # receipt not confirmed yet

    code, held = engagements(demo, "confirm-receipt", demo.engagement)
    assert code == 0, held
    # Riverside's engagement with Keystone is still open (assessment rejected, not
    # ended): the same keys would go with it, so the shred waits and says why.
    assert held["state"] == "shred_held" and held["held_by"] == [demo.other]
    code, closed = engagements(
        demo, "terminate", demo.other, "--org", RIVERSIDE, "--reason", "Assessment failed.",
        "--passphrase-file", str(secret),
    )  # fmt: skip
    assert code == 0 and closed["state"] == "closed"  # no BAA, no PHI: nothing to return

    code, shredded = engagements(demo, "shred", demo.engagement)
    assert code == 0, shredded
    assert shredded["state"] == "shredded" and shredded["certificate"]

    certificate = tmp_path / "certificate.json"
    code, written = engagements(demo, "certificate", demo.engagement, "--out", str(certificate))
    assert code == 0, written
    code, raw = run("engagements", "certificate", demo.engagement, "--data-dir", str(demo.data_dir))
    assert code == 0 and raw.encode() == certificate.read_bytes()
    code, key = run("audit", "public-key", "--data-dir", str(demo.data_dir))
    assert code == 0

    # Offline: no data directory, no database, nothing but the file and the key.
    code, output = run(
        "engagements", "verify-certificate", str(certificate), "--public-key", key.strip(),
        "--json",
    )  # fmt: skip
    assert code == 0, output
    document = json.loads(output)["certificate"]
    assert document["engagement"]["id"] == demo.engagement
    assert document["destroyed"]["records"]["patients"] == demo.patients
    assert {p["outcome"] for p in document["evidence"]["probes"]} == {"decryption_failed"}

    tampered = tmp_path / "tampered.json"
    body = certificate.read_bytes()
    at = body.index(b'"patients":') + len(b'"patients":')
    tampered.write_bytes(body[:at] + b"9" + body[at:])
    code, output = run(
        "engagements", "verify-certificate", str(tampered), "--public-key", key.strip(), "--json"
    )
    assert code != 0 and json.loads(output)["error"]["code"] == "certificate_invalid"
