"""A canary scan: unique markers in every PHI field never reach the disk in the clear.

Markers go in through the same sealing path ingest uses, into a stored
file, and into requests to the running server; then every byte the
instance keeps (the SQLite file and its -wal/-shm, the blob folder, the
logs, or a pg_dump of PostgreSQL) is searched for each marker as UTF-8,
UTF-16, base64, hex and lower case.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import shutil
import signal
import sqlite3
import ssl
import subprocess
import sys
from datetime import date
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from claimbridge.cli.main import app
from claimbridge.clock import SystemClock
from claimbridge.config import load_settings
from claimbridge.crypto.files import SealedFiles
from claimbridge.crypto.sealing import FieldSealer
from claimbridge.instance.keys import open_keyring
from claimbridge.phi.records import (
    Address,
    CoverageRecord,
    EncounterRecord,
    PatientRecord,
    coverage_row,
    encounter_row,
    patient_row,
    read_patient,
    seal_patient_account,
)
from claimbridge.storage.blobs import BlobStore
from claimbridge.storage.claims import Claim
from claimbridge.storage.clinical import Patient
from claimbridge.storage.db import make_engine, make_sessionmaker
from claimbridge.storage.orgs import Organisation
from claimbridge.types import new_id

runner = CliRunner()

MARKERS = {
    "mrn": "QZXMRN41592653",
    "given_name": "Qzxgivenmarker",
    "family_name": "Qzxfamilymarker",
    "address_line": "9 Qzxstreetmarker Road",
    "city": "Qzxcitymarker",
    "phone": "555-0199-QZX7",
    "ssn": "912-34-5678",
    "member_id": "QZXMEMBER9918",
    "group_number": "QZXGROUP7731",
    "documentation": "Qzxnotemarker: patient reports a cough",
    "patient_account": "QZXACCT55120",
}
BIRTH_DATE = date(1903, 7, 19)  # an improbable date, as a marker of its own
DECEASED_ON = date(1999, 12, 30)


def _forms(marker: str) -> set[bytes]:
    raw = marker.encode()
    forms = {raw, marker.lower().encode(), raw.hex().encode(), raw.hex().upper().encode()}
    forms |= {marker.encode("utf-16-le"), marker.encode("utf-16-be")}
    # base64 of the marker at each of the three offsets it can have in a
    # longer encoded text: only the 4-character groups made of marker bytes
    # alone, which are the same whatever surrounds it.
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + raw)
        start, end = -(-offset // 3) * 4, (offset + len(raw)) // 3 * 4
        forms.add(encoded[start:end])
    return {f for f in forms if len(f) >= 8}


def _all_markers() -> dict[str, set[bytes]]:
    found = {name: _forms(value) for name, value in MARKERS.items()}
    found["birth_date"] = _forms(BIRTH_DATE.isoformat()) | {b"19030719"}
    found["deceased_on"] = _forms(DECEASED_ON.isoformat()) | {b"19991230"}
    return found


def _scan(blob: bytes, where: str) -> list[str]:
    return [
        f"{name} in {where}"
        for name, forms in _all_markers().items()
        if any(form in blob for form in forms)
    ]


@pytest.fixture
def instance(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Path:
    if backend == "postgresql":
        url = request.getfixturevalue("make_postgres_database")()
        monkeypatch.setenv("CLAIMBRIDGE_DATABASE_URL", url)
    data_dir = tmp_path / "data"
    result = runner.invoke(app, ["demo", "--data-dir", str(data_dir), "--patients", "20"])
    assert result.exit_code == 0, result.output
    return data_dir


def _write_markers(data_dir: Path) -> None:
    settings = load_settings(data_dir)
    engine = make_engine(settings.effective_database_url)
    keyring = open_keyring(settings, clock=SystemClock())
    now = SystemClock().now()
    with make_sessionmaker(engine).begin() as session:
        org = session.scalars(
            select(Organisation).where(Organisation.name == "Riverside Family Medicine")
        ).one()
        sealer = FieldSealer(keyring, session, org.id)
        patient = patient_row(
            sealer,
            PatientRecord(
                mrn=MARKERS["mrn"],
                given_name=MARKERS["given_name"],
                family_name=MARKERS["family_name"],
                birth_date=BIRTH_DATE,
                sex="F",
                address=Address(MARKERS["address_line"], MARKERS["city"], "TX", "78701"),
                phone=MARKERS["phone"],
                ssn=MARKERS["ssn"],
                deceased_on=DECEASED_ON,
            ),
            now=now,
        )
        session.add(patient)
        session.flush()
        coverage = coverage_row(
            sealer,
            patient.id,
            CoverageRecord(
                payer_name="Aetna",
                payer_id="60054",
                member_id=MARKERS["member_id"],
                group_number=MARKERS["group_number"],
            ),
            now=now,
        )
        encounter = encounter_row(
            sealer,
            patient.id,
            EncounterRecord(
                rendering_npi="1245319599",
                date_of_service=date(2026, 3, 2),
                place_of_service="11",
                documentation=MARKERS["documentation"],
            ),
            now=now,
        )
        session.add_all([coverage, encounter])
        session.flush()
        claim = Claim(
            id=new_id(),
            practice_id=org.id,
            patient_id=patient.id,
            coverage_id=coverage.id,
            encounter_id=encounter.id,
            billing_npi="1245319599",
            place_of_service="11",
            diagnoses=["J069"],
            total_charge_cents=13_500,
            service_from=date(2026, 3, 2),
            service_through=date(2026, 3, 2),
            received_at=now,
            created_at=now,
        )
        seal_patient_account(sealer, claim, MARKERS["patient_account"])
        session.add(claim)
        # A stored file (as an uploaded batch would be) carrying every marker.
        upload = "\n".join(f"{k},{v}" for k, v in MARKERS.items()).encode()
        SealedFiles(BlobStore(settings.paths.blobs), keyring).put(
            session, org.id, io.BytesIO(upload)
        )
    with make_sessionmaker(engine)() as session:
        row = session.scalars(select(Patient).where(Patient.practice_id == org.id)).all()
        names = {read_patient(FieldSealer(keyring, session, org.id), r).family_name for r in row}
    assert MARKERS["family_name"] in names, "the markers went in and decrypt"
    engine.dispose()


def _poke_the_server(data_dir: Path) -> None:
    """Requests that carry markers in the path, the query and the body."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "claimbridge",
            "serve",
            "--data-dir",
            str(data_dir),
            "--port",
            "0",
            "--json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "CLAIMBRIDGE_LOG_LEVEL": "debug"},
    )
    try:
        assert process.stdout is not None
        url = json.loads(process.stdout.readline())["url"].replace("127.0.0.1", "localhost")
        context = ssl.create_default_context(cafile=str(data_dir / "tls" / "cert.pem"))
        with httpx.Client(base_url=url, verify=context) as client:
            client.get(f"/api/v1/patients/{MARKERS['family_name']}", params={"q": MARKERS["ssn"]})
            client.post("/api/v1/health", json={"name": MARKERS["given_name"]})
            client.get("/api/v1/health", headers={"X-Patient": MARKERS["member_id"]})
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=15)
    assert not _scan(stderr, "server stderr")


def test_no_marker_reaches_any_file_in_the_clear(instance: Path, backend: str) -> None:
    settings = load_settings(instance)
    # An open connection keeps SQLite's -wal and -shm files (and what the
    # writes put in them) on disk for the scan.
    holder = (
        contextlib.closing(sqlite3.connect(settings.paths.database_file))
        if backend == "sqlite"
        else contextlib.nullcontext()
    )
    with holder as held:
        if held is not None:
            held.execute("SELECT count(*) FROM organisations").fetchone()
        _write_markers(instance)
        _poke_the_server(instance)
        files = [p for p in instance.rglob("*") if p.is_file()]
        if backend == "sqlite":
            wal = instance / "claimbridge.db-wal"
            assert wal in files and wal.stat().st_size > 0
        leaks = _scan_files(instance, files)
    assert any(p.parent.name == "logs" for p in files), "the server wrote its log"
    assert any(p.is_relative_to(instance / "blobs") for p in files), "a blob was stored"
    if backend == "postgresql":
        url = make_url(settings.effective_database_url)
        dump = subprocess.run(
            [
                shutil.which("pg_dump") or "pg_dump",
                "-h",
                url.host or "127.0.0.1",
                "-p",
                str(url.port or 5432),
                "-U",
                url.username or "postgres",
                "--no-owner",
                url.database or "",
            ],
            capture_output=True,
            check=True,
        ).stdout
        assert b"CREATE TABLE public.patients" in dump
        leaks += _scan(dump, "pg_dump")
    assert leaks == []


def _scan_files(root: Path, files: list[Path]) -> list[str]:
    leaks = []
    for path in files:
        leaks += _scan(path.read_bytes(), str(path.relative_to(root)))
    return leaks


def test_the_scan_finds_a_marker_written_in_the_clear() -> None:
    # The control: the scan does find each marker in each form, including
    # inside a longer base64 text at any offset.
    for name, value in MARKERS.items():
        for form in _forms(value):
            assert _scan(b"..." + form + b"...", "control") != [], (name, form)
        for prefix in (b"", b"a", b"ab", b"abc", b"abcd"):
            document = base64.b64encode(prefix + b"{" + value.encode() + b"}")
            assert _scan(document, "control") != [], (name, prefix)
