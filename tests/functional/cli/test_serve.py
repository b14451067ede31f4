"""``claimbridge serve`` as a process: HTTPS up, refusals clear, clean shutdown."""

from __future__ import annotations

import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from claimbridge.cli.errors import EX_CONFIG
from claimbridge.cli.main import app

runner = CliRunner()
CLAIMBRIDGE = [sys.executable, "-m", "claimbridge"]


@pytest.fixture(scope="module")
def initialised(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``claimbridge init`` run once for the module (its root key at the default cost)."""
    root = tmp_path_factory.mktemp("serve") / "data"
    assert runner.invoke(app, ["init", "--data-dir", str(root)]).exit_code == 0
    return root


@pytest.fixture
def data_dir(initialised: Path, tmp_path: Path) -> Path:
    """A private copy of what ``init`` left, file modes and all, for the test to damage."""
    root = tmp_path / "data"
    shutil.copytree(initialised, root, symlinks=True)
    return root


def test_serve_runs_https_and_stops_cleanly_on_sigterm(data_dir: Path) -> None:
    process = subprocess.Popen(
        [*CLAIMBRIDGE, "serve", "--data-dir", str(data_dir), "--port", "0", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "CLAIMBRIDGE_LOG_LEVEL": "info"},
    )
    try:
        assert process.stdout is not None
        started = json.loads(process.stdout.readline())
        assert started["url"].startswith("https://127.0.0.1:")
        context = ssl.create_default_context(cafile=str(data_dir / "tls" / "cert.pem"))
        url = started["url"].replace("127.0.0.1", "localhost")
        response = httpx.get(f"{url}/api/v1/health", verify=context, timeout=10)
        assert response.json() == {"status": "ok", "database": "ok"}
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=15)
    # uvicorn shuts down gracefully, then re-raises the signal it caught, so
    # the exit status says "ended by SIGTERM" as for any well-behaved daemon.
    assert process.returncode in (0, -signal.SIGTERM)
    assert b"Application shutdown complete" in stderr
    assert b"Traceback" not in stderr


def test_serve_refuses_a_directory_that_was_never_initialised(tmp_path: Path) -> None:
    result = runner.invoke(app, ["serve", "--data-dir", str(tmp_path / "nothing"), "--json"])
    assert result.exit_code == EX_CONFIG
    assert "claimbridge init" in json.loads(result.output)["error"]["message"]


def test_serve_refuses_a_data_directory_others_can_read(data_dir: Path) -> None:
    data_dir.chmod(0o755)
    result = runner.invoke(app, ["serve", "--data-dir", str(data_dir), "--json"])
    assert result.exit_code == EX_CONFIG
    assert json.loads(result.output)["error"]["code"] == "insecure_data_dir"


def test_production_refuses_the_embedded_defaults(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLAIMBRIDGE_ENVIRONMENT", "production")
    result = runner.invoke(app, ["serve", "--data-dir", str(data_dir), "--json"])
    assert result.exit_code == EX_CONFIG
    message = json.loads(result.output)["error"]["message"]
    assert "self-signed" in message and "PostgreSQL" in message


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        ("remove", "does not exist"),
        ("corrupt", "damaged"),
        ("wrong-passphrase", "could not be unlocked"),
    ],
)
def test_serve_refuses_to_start_without_its_root_key(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, damage: str, expected: str
) -> None:
    key_file = data_dir / "keys" / "root.key"
    if damage == "remove":
        key_file.unlink()
    elif damage == "corrupt":
        key_file.write_bytes(key_file.read_bytes()[:-40] + b"}")
    else:
        monkeypatch.setenv("CLAIMBRIDGE_KEY_PASSPHRASE", "not the passphrase at all")
    result = runner.invoke(app, ["serve", "--data-dir", str(data_dir), "--port", "0", "--json"])
    assert result.exit_code == EX_CONFIG
    error = json.loads(result.output)["error"]
    assert error["code"] == "key_file_error"
    assert expected in error["message"]
    assert "not the passphrase" not in result.output
