"""``claimbridge init`` as an operator runs it."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from claimbridge.cli.errors import EX_CONFIG
from claimbridge.cli.main import app

runner = CliRunner()


def _init(data_dir: Path, *extra: str) -> tuple[int, str]:
    result = runner.invoke(app, ["init", "--data-dir", str(data_dir), *extra])
    return result.exit_code, result.output


def _snapshot(root: Path) -> dict[str, tuple[int, int, bytes]]:
    files = {}
    for path in sorted(root.rglob("*")):
        info = path.stat()
        content = path.read_bytes() if path.is_file() and path.suffix != ".db" else b""
        files[str(path.relative_to(root))] = (stat.S_IMODE(info.st_mode), info.st_mtime_ns, content)
    return files


def test_init_creates_a_private_data_directory(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    code, output = _init(data_dir, "--json")
    assert code == 0, output
    report = json.loads(output)
    assert report["created"], "a first run creates things"
    expected = {
        "claimbridge.toml",
        "claimbridge.db",
        "blobs",
        "logs",
        "tls",
        "tls/cert.pem",
        "tls/key.pem",
    }
    assert expected <= {str(p.relative_to(data_dir)) for p in data_dir.rglob("*")}
    for path in [data_dir, *data_dir.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), f"{path} is {mode:o}"


def test_init_twice_changes_nothing_the_second_time(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    assert _init(data_dir)[0] == 0
    before = _snapshot(data_dir)
    code, output = _init(data_dir, "--json")
    assert code == 0, output
    assert json.loads(output)["created"] == []
    assert _snapshot(data_dir) == before


def test_init_refuses_a_world_readable_directory(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    data_dir.chmod(0o755)
    code, output = _init(data_dir)
    assert code == EX_CONFIG
    assert "open to other users" in output and "chmod" in output
    assert list(data_dir.iterdir()) == [], "nothing is written into a refused directory"


def test_init_refuses_a_readable_file_inside_the_directory(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    assert _init(data_dir)[0] == 0
    (data_dir / "claimbridge.toml").chmod(0o644)
    code, output = _init(data_dir, "--json")
    assert code == EX_CONFIG
    error = json.loads(output)["error"]
    assert error["code"] == "insecure_data_dir"
    assert error["where"].endswith("claimbridge.toml")


def test_init_repairs_a_missing_certificate(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    assert _init(data_dir)[0] == 0
    (data_dir / "tls" / "cert.pem").unlink()
    code, output = _init(data_dir, "--json")
    assert code == 0
    assert any("TLS certificate" in step for step in json.loads(output)["created"])


def test_init_with_operator_tls_files_that_do_not_exist_fails_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLAIMBRIDGE_TLS_CERT_FILE", str(tmp_path / "nope.pem"))
    monkeypatch.setenv("CLAIMBRIDGE_TLS_KEY_FILE", str(tmp_path / "nope.key"))
    code, output = _init(tmp_path / "data", "--json")
    assert code == EX_CONFIG
    assert json.loads(output)["error"]["where"].endswith("nope.pem")


def test_init_reports_a_bad_config_file_with_its_place(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    assert _init(data_dir)[0] == 0
    (data_dir / "claimbridge.toml").write_text("port = 'eighty'\n")
    code, output = _init(data_dir, "--json")
    assert code == EX_CONFIG
    assert json.loads(output)["error"]["where"] == "port"


def test_init_upgrades_postgresql_when_configured(
    tmp_path: Path,
    make_postgres_database,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    url = make_postgres_database()
    monkeypatch.setenv("CLAIMBRIDGE_DATABASE_URL", url)
    code, output = _init(tmp_path / "data", "--json")
    assert code == 0, output
    report = json.loads(output)
    assert report["database"].startswith("PostgreSQL")
    assert not (tmp_path / "data" / "claimbridge.db").exists()
    assert report["schema_revision"]


def test_umask_does_not_loosen_modes(tmp_path: Path) -> None:
    old = os.umask(0o000)
    try:
        assert _init(tmp_path / "data")[0] == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "data" / "tls" / "key.pem").stat().st_mode) == 0o600
