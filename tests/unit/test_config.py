"""Settings: precedence of flags, environment and file; production refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from claimbridge.config import check_production, load_settings
from claimbridge.errors import ConfigError


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    root.mkdir(mode=0o700)
    return root


def test_defaults_are_the_embedded_default(data_dir: Path) -> None:
    settings = load_settings(data_dir)
    assert settings.environment == "development"
    assert settings.effective_database_url == f"sqlite:///{(data_dir / 'claimbridge.db').resolve()}"
    assert (settings.host, settings.port) == ("127.0.0.1", 8443)
    assert settings.tls_cert == data_dir / "tls" / "cert.pem"


def test_flag_beats_environment_beats_file(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (data_dir / "claimbridge.toml").write_text("port = 9000\nhost = '::1'\n")
    assert load_settings(data_dir).port == 9000
    monkeypatch.setenv("CLAIMBRIDGE_PORT", "9100")
    assert load_settings(data_dir).port == 9100
    assert load_settings(data_dir, port=9200).port == 9200
    assert load_settings(data_dir).host == "::1"


def test_data_dir_comes_from_the_environment_when_not_given(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (data_dir / "claimbridge.toml").write_text("port = 9300\n")
    monkeypatch.setenv("CLAIMBRIDGE_DATA_DIR", str(data_dir))
    settings = load_settings()
    assert (settings.data_dir, settings.port) == (data_dir, 9300)


def test_unknown_setting_in_file_is_refused_with_its_name(data_dir: Path) -> None:
    (data_dir / "claimbridge.toml").write_text("prot = 9000\n")
    with pytest.raises(ConfigError) as raised:
        load_settings(data_dir)
    assert raised.value.where == "prot"


def test_broken_toml_names_the_file(data_dir: Path) -> None:
    (data_dir / "claimbridge.toml").write_text("port = \n")
    with pytest.raises(ConfigError) as raised:
        load_settings(data_dir)
    assert raised.value.where == str(data_dir / "claimbridge.toml")


def test_only_sqlite_and_postgresql_urls_are_accepted(data_dir: Path) -> None:
    with pytest.raises(ConfigError, match="postgresql\\+psycopg"):
        load_settings(data_dir, database_url="mysql://root@localhost/x")


def test_production_refuses_embedded_defaults(data_dir: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(data_dir, environment="production")
    message = raised.value.message
    assert "self-signed" in message and "PostgreSQL" in message


def test_production_accepts_operator_tls_and_postgresql(data_dir: Path) -> None:
    settings = load_settings(
        data_dir,
        environment="production",
        database_url="postgresql+psycopg://claimbridge@db:5432/claimbridge",
        tls_cert_file=data_dir / "cert.pem",
        tls_key_file=data_dir / "key.pem",
    )
    check_production(settings)
    assert settings.tls_cert == data_dir / "cert.pem"


def test_production_refuses_debug_logging(data_dir: Path) -> None:
    with pytest.raises(ConfigError, match="debug"):
        load_settings(
            data_dir,
            environment="production",
            database_url="postgresql+psycopg://claimbridge@db:5432/claimbridge",
            tls_cert_file=data_dir / "cert.pem",
            tls_key_file=data_dir / "key.pem",
            log_level="debug",
        )
