"""Settings, read from ``CLAIMBRIDGE_*`` variables and the data directory's config file.

Precedence, highest first: values passed in code (command-line flags),
environment variables (``CLAIMBRIDGE_DATABASE_URL`` …), the config file
``claimbridge.toml`` in the data directory, then the defaults below.

The defaults are right for the embedded default on one machine
(``environment = "development"``: SQLite, a self-signed certificate,
loopback only). ``production`` refuses the defaults that are only safe on
a laptop; ``check_production`` says which.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from claimbridge.datadir import DataDir
from claimbridge.errors import ConfigError

Environment = Literal["development", "production"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CLAIMBRIDGE_",
        extra="forbid",
        frozen=True,
    )

    data_dir: Path = Field(default=Path("claimbridge-data"))
    environment: Environment = "development"
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; empty means the SQLite file in the data directory.",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8443, ge=0, le=65535, description="0 picks a free port.")
    tls_cert_file: Path | None = Field(
        default=None, description="PEM certificate chain; empty means the generated one."
    )
    tls_key_file: Path | None = None
    key_provider: Literal["local", "pkcs11"] = Field(
        default="local",
        description="Where the root key lives: a local key file, or a PKCS#11 token (an HSM).",
    )
    key_file: Path | None = Field(
        default=None, description="The root key file; empty means keys/root.key in the data dir."
    )
    key_passphrase: SecretStr | None = Field(
        default=None,
        description="Unlocks the key file. Set CLAIMBRIDGE_KEY_PASSPHRASE; never in the file.",
    )
    pkcs11_module: Path | None = Field(default=None, description="The token's PKCS#11 library.")
    pkcs11_token_label: str | None = None
    pkcs11_key_label: str = "claimbridge-root"
    pkcs11_previous_key_labels: tuple[str, ...] = Field(
        default=(),
        description="Older root keys still wrapping KEKs, kept until `keys rotate-root` is done.",
    )
    pkcs11_pin: SecretStr | None = Field(
        default=None,
        description="The token user's PIN. Set CLAIMBRIDGE_PKCS11_PIN; never in the file.",
    )
    session_idle_minutes: int = Field(default=15, ge=1, le=60)
    session_absolute_hours: int = Field(default=12, ge=1, le=24)
    max_body_bytes: int = Field(default=512 * 1024 * 1024, ge=1024)
    max_batch_bytes: int = Field(default=100 * 1024 * 1024, ge=1024)
    """The largest batch content accepted; enforced while it streams in."""
    ingest_queue_from_bytes: int = Field(default=1024 * 1024, ge=0)
    """Uploads this large or larger are answered "processing" and ingested by the worker."""
    scrub_peers_file: Path | None = None
    """An E/M peer distribution (JSON, the shape of ``integrity/data/em_peers.json``) for
    the upcoding test, in place of the one shipped."""
    scrub_timely_filing_days: int = Field(default=365, ge=1, le=3650)
    """The payers' filing limit the timely-filing rule applies (Medicare: 12 months)."""
    ingest_lease_seconds: int = Field(default=60, ge=1, le=3600)
    """How long a worker holds a queued batch without renewing: a dead worker's batch
    is taken again after this."""
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    database_lock_timeout_ms: int = Field(
        default=30_000,
        ge=1,
        le=600_000,
        description="How long a request waits for a locked table before it fails (503).",
    )
    audit_checkpoint_every_events: int = Field(
        default=1000, ge=1, description="Sign a checkpoint once this many events are unsigned."
    )
    audit_checkpoint_every_seconds: int = Field(
        default=300, ge=1, description="…or once the oldest unsigned event is this old."
    )
    audit_retention_days: int = Field(
        default=6 * 366,
        ge=1,
        description="Audit events older than this may be purged (HIPAA keeps six years).",
    )
    watch_interval_seconds: int = Field(
        default=300,
        ge=1,
        le=86_400,
        description="How often the server checks every engagement's gate, reminds and notifies.",
    )
    reminder_days: tuple[int, ...] = Field(
        default=(30, 7, 1),
        description="Days before a gate condition lapses (a BAA or certificate expiring, a "
        "reassessment or remediation due) at which both sides are reminded.",
    )
    offboarding_shred_after_days: int = Field(
        default=30,
        ge=1,
        le=3650,
        description="After a termination, how long the practice has to confirm it received its "
        "return package before the server crypto-shreds its data anyway.",
    )
    notify_timeout_seconds: float = Field(
        default=10.0, gt=0, le=120, description="How long one notification may take to deliver."
    )
    notify_webhook_url: str | None = Field(
        default=None,
        description="HTTPS URL that receives every engagement notice as signed JSON (no PHI).",
    )
    notify_webhook_secret_file: Path | None = Field(
        default=None,
        description="A file holding the shared secret that signs webhook bodies (HMAC-SHA256).",
    )
    notify_webhook_ca_file: Path | None = Field(
        default=None,
        description="PEM certificates to trust for the webhook instead of the system's (a "
        "private CA).",
    )
    notify_smtp_host: str | None = Field(
        default=None, description="Mail server for engagement notices by e-mail (STARTTLS)."
    )
    notify_smtp_port: int = Field(default=587, ge=1, le=65535)
    notify_smtp_username: str | None = None
    notify_smtp_password_file: Path | None = Field(
        default=None, description="A file holding the mail server password."
    )
    notify_smtp_ca_file: Path | None = Field(
        default=None, description="PEM certificates to trust for the mail server (a private CA)."
    )
    notify_email_from: str | None = Field(
        default=None, description="Sender address of notice e-mails."
    )

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, url: str | None) -> str | None:
        if url and not url.startswith(("sqlite:///", "postgresql+psycopg://")):
            raise ValueError("use sqlite:///PATH or postgresql+psycopg://USER@HOST:PORT/DB")
        return url

    @field_validator("reminder_days")
    @classmethod
    def _reminder_days(cls, days: tuple[int, ...]) -> tuple[int, ...]:
        if any(not 1 <= day <= 365 for day in days):
            raise ValueError("each reminder is 1 to 365 days before its deadline")
        return tuple(sorted(set(days), reverse=True))

    @field_validator("notify_webhook_url")
    @classmethod
    def _https_webhook(cls, url: str | None) -> str | None:
        # Notices name engagements and their failures: never in the clear.
        if url and not url.lower().startswith("https://"):
            raise ValueError("the webhook URL must start with https:// (plain HTTP is refused)")
        return url or None

    @property
    def root_key_file(self) -> Path:
        return self.key_file or self.paths.root_key

    @property
    def paths(self) -> DataDir:
        return DataDir(self.data_dir)

    @property
    def effective_database_url(self) -> str:
        return self.database_url or self.paths.sqlite_url

    @property
    def uses_operator_tls(self) -> bool:
        return self.tls_cert_file is not None

    @property
    def tls_cert(self) -> Path:
        return self.tls_cert_file or self.paths.tls_cert

    @property
    def tls_key(self) -> Path:
        return self.tls_key_file or self.paths.tls_key

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # ``toml_file`` in model_config is set per data directory by _reading.
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))


def _reading(config_file: Path | None) -> type[Settings]:
    """A ``Settings`` class that also reads ``config_file``.

    The config file lives in the data directory, which is itself a setting,
    so the directory is resolved first and the class made for it.
    """
    config = SettingsConfigDict(**{**Settings.model_config, "toml_file": config_file})
    return type("FileSettings", (Settings,), {"model_config": config})


def load_settings(data_dir: Path | None = None, **overrides: Any) -> Settings:
    """Settings for the data directory given (flag), or from ``CLAIMBRIDGE_DATA_DIR``."""
    config_file: Path | None = None
    try:
        if data_dir is None:
            data_dir = _reading(None)().data_dir
        config_file = DataDir(data_dir).config_file
        _refuse_secrets_in_file(config_file)
        settings = _reading(config_file if config_file.is_file() else None)(
            data_dir=data_dir, **overrides
        )
    except ValidationError as exc:
        raise ConfigError(_describe(exc), where=_first_location(exc)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"The config file is not valid TOML: {exc}", where=str(config_file)
        ) from None
    if settings.environment == "production":
        check_production(settings)
    return settings


def _refuse_secrets_in_file(config_file: Path) -> None:
    # A passphrase in the config file would sit beside the key file it
    # unlocks, in every backup of the data directory.
    if not config_file.is_file():
        return
    written = tomllib.loads(config_file.read_text())
    for secret in ("key_passphrase", "pkcs11_pin"):
        if secret in written:
            raise ConfigError(
                f"{secret} may not be written in the config file; "
                f"set CLAIMBRIDGE_{secret.upper()} in the environment instead.",
                where=str(config_file),
            )


def check_production(settings: Settings) -> None:
    """Refuse the defaults that are only safe for a development machine."""
    problems = []
    if not settings.uses_operator_tls:
        problems.append(
            "give tls_cert_file and tls_key_file "
            "(a self-signed certificate is not fit for production)"
        )
    if settings.tls_cert_file is not None and settings.tls_key_file is None:
        problems.append("tls_key_file is required with tls_cert_file")
    if settings.database_url is None or settings.database_url.startswith("sqlite"):
        problems.append("use PostgreSQL (CLAIMBRIDGE_DATABASE_URL=postgresql+psycopg://…)")
    if settings.paths.demo_passphrase.exists():
        problems.append(
            f"remove {settings.paths.demo_passphrase} and give CLAIMBRIDGE_KEY_PASSPHRASE instead"
        )
    if settings.log_level == "debug":
        problems.append("log_level debug is refused in production")
    if problems:
        raise ConfigError(
            "Insecure settings for production: " + "; ".join(problems) + ".",
            where="environment",
        )


def _describe(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        name = ".".join(str(p) for p in error["loc"]) or "settings"
        parts.append(f"{name}: {error['msg']}")
    return "Invalid configuration: " + "; ".join(parts)


def _first_location(exc: ValidationError) -> str | None:
    errors = exc.errors()
    return ".".join(str(p) for p in errors[0]["loc"]) if errors else None


CONFIG_TEMPLATE = """\
# claimbridge configuration. Environment variables CLAIMBRIDGE_<NAME> override
# these values; command-line flags override both.

# "development" allows the embedded defaults (SQLite, a self-signed
# certificate); "production" refuses them.
environment = "development"

# Empty: the SQLite database in this folder. For PostgreSQL:
# database_url = "postgresql+psycopg://claimbridge@db.example.org:5432/claimbridge"

host = "127.0.0.1"
port = 8443

# Empty: the self-signed certificate in tls/ generated by `claimbridge init`.
# tls_cert_file = "/etc/claimbridge/tls/fullchain.pem"
# tls_key_file = "/etc/claimbridge/tls/privkey.pem"

log_level = "info"

# The root key: a key file sealed with a passphrase (scrypt + AES-256-GCM).
# The passphrase comes from CLAIMBRIDGE_KEY_PASSPHRASE (or a prompt); it is
# never read from this file.
key_provider = "local"
# key_file = "/etc/claimbridge/root.key"

# Or a non-extractable AES-256 key inside an HSM, through PKCS#11; the PIN
# comes from CLAIMBRIDGE_PKCS11_PIN.
# key_provider = "pkcs11"
# pkcs11_module = "/usr/lib/softhsm/libsofthsm2.so"
# pkcs11_token_label = "claimbridge"
# pkcs11_key_label = "claimbridge-root"

# Engagements: how often the gate is checked for every engagement, and how
# many days ahead both sides are reminded of an expiry or a due date.
# watch_interval_seconds = 300
# reminder_days = [30, 7, 1]
# After a termination the practice confirms it received its return package;
# without that, its data is crypto-shredded this many days later.
# offboarding_shred_after_days = 30

# Notices (lapses, restorations, reminders) are always kept for the API and
# CLI; they can also go to a webhook (signed JSON, no PHI) and by e-mail to
# both organisations' administrators.
# notify_webhook_url = "https://hooks.example.org/claimbridge"
# notify_webhook_secret_file = "/etc/claimbridge/webhook.secret"
# notify_smtp_host = "mail.example.org"
# notify_smtp_port = 587
# notify_smtp_username = "claimbridge"
# notify_smtp_password_file = "/etc/claimbridge/smtp.password"
# notify_email_from = "claimbridge@example.org"
"""
